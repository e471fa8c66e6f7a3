//! `sitrep demo`: the complete outage drill. A scripted service on 127.0.0.1 fails for a
//! while and comes back; the real probe engine, on the embedded store, watches it. Customers
//! notice too: their posts appear on a stand-in X API on 127.0.0.1 (the real v2 wire
//! format), which the real X client polls; sitrep classifies them, and their surge opens a
//! suspected incident that the probes then confirm. sitrep answers each of them once in
//! public (the stand-in receives the real client's `POST /2/tweets` replies), posts the
//! vendor's incident updates, hands what needs a person to a person, and follows up after
//! the recovery. The on-call engineer is paged the moment an incident opens (through the
//! console notifier, the texts exactly as SNS would send them); nobody acknowledges within
//! the step's minute, so the page escalates to the secondary, who follows the link in the
//! text to the real acknowledgement route and owns the incident. The public status site
//! (page, APIs, feed, badges) is served on 127.0.0.1 the whole time, its address printed
//! first; the drill reads it as a customer would. The story prints as it happens, then the
//! public timeline and the figures that matter to the people woken by it and to the
//! customers who asked.
//!
//! Minutes are compressed to seconds ([`Pace`]), nothing else changes: same config parser,
//! same thresholds, same store adapter as `sitrep run`. The one exception is the escalation
//! delay: the pager's clock skips the step's minute instead of waiting it out, and the
//! timeline says so.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use shared::clock::{Clock, SystemClock};
use shared::config::Config;
use shared::history::{self, Window};
use shared::incident::{self, Change, human_duration};
use shared::probe::cycle::Prober;
use shared::probe::outcome::Health;
use shared::store::Store;
use shared::store::sqlite::SqliteStore;
use tokio::time::Instant;

use shared::mentions::StoredMention;
use shared::mentions::cycle::MentionCycle;
use shared::mentions::surge::{self, SurgeChange};
use shared::random::{Random, SeededRandom};
use shared::secrets::EnvironmentSecrets;
use shared::social::Platform;
use shared::social::connect::ClientDeps;
use shared::social::transport::{RetryPolicy, Transport};
use shared::store::keys;

use shared::reply::handoff::LogSupport;
use shared::reply::job::JobKind;
use shared::reply::service::{ReplyEvent, Responder};

use shared::notify::console::ConsoleNotifier;
use shared::notify::{Message, MessageKind};
use shared::oncall::paging::{AckLinks, Pager, PagingEvent};
use shared::oncall::token::AckKey;
use shared::status_site::StatusSite;
use shared::status_site::x_webhook::XWebhook;

use crate::CliError;
use crate::flaky::{FlakyService, Mode};
use crate::site_server::SiteServer;
use crate::stream::LocalStream;
use crate::x_timeline::XTimeline;

/// How fast the drill runs: one probe cycle (a minute in production) per tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// A tick a person can follow: the story scrolls at reading speed.
    Watchable,
    /// As fast as the checks allow (their 800 ms timeout bounds a tick): under half a minute.
    Fast,
}

impl Pace {
    /// Time between cycles.
    pub fn cycle(self) -> Duration {
        match self {
            Pace::Watchable => Duration::from_millis(2500),
            Pace::Fast => Duration::from_secs(1),
        }
    }
}

/// How long the status page stays up after a watchable drill, for a look around.
const LINGER: Duration = Duration::from_secs(60);
/// Cycles before the failure is injected.
const HEALTHY_CYCLES: u32 = 3;
/// Cycles the service stays broken.
const BROKEN_CYCLES: u32 = 8;
/// Hard stop, whatever happens.
const MAX_CYCLES: u32 = 30;
/// The drill's X account id on the stand-in API.
const X_ACCOUNT: &str = "42";
/// Customers' posts: cycles after the failure, handle, text.
const CUSTOMERS: [(u32, &str, &str); 6] = [
    (
        0,
        "dev_ana",
        "@acme is the API down? getting 503s on every call",
    ),
    (1, "bo_ops", "@acme api timing out for us too #acmedown"),
    (
        1,
        "carl",
        "no problems here, @acme dashboard loads fine for me",
    ),
    (
        1,
        "lucia_dev",
        "¿Se cayó la API de @acme? Todo devuelve 503 😩",
    ),
    (
        2,
        "dee_sre",
        "@AcmeSupport any ETA? our webhooks stopped arriving",
    ),
    (
        BROKEN_CYCLES + 3,
        "dev_ana",
        "back up, thanks @acme for the quick fix and the updates!",
    ),
];

/// The pager's clock in the drill: the system clock, plus whatever waiting the drill skipped.
#[derive(Debug, Default)]
struct DrillClock {
    skipped_ms: AtomicI64,
}

impl DrillClock {
    fn skip(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.skipped_ms.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for DrillClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + chrono::Duration::milliseconds(self.skipped_ms.load(Ordering::SeqCst))
    }
}

/// How one message went out, in words: "Sam by SMS: \"…\"".
fn describe(message: &Message) -> String {
    match &message.contact {
        shared::oncall::Contact::Sms(number) => {
            format!("{} by SMS to {number}: \"{}\"", message.person, message.sms)
        }
        shared::oncall::Contact::Email(address) => {
            format!(
                "{} by email to {address}: \"{}\"",
                message.person, message.subject
            )
        }
        shared::oncall::Contact::Topic(arn) => {
            format!("{} on topic {arn}: \"{}\"", message.person, message.subject)
        }
    }
}

/// One line of the story: when, who, what.
#[derive(Debug, Clone)]
pub struct Beat {
    /// Time since the drill started.
    pub at: Duration,
    /// Who acts: `vendor`, `probe`, `sitrep`.
    pub actor: &'static str,
    /// What happened.
    pub what: String,
}

/// The drill's story, printed as it grows.
#[derive(Debug)]
pub struct Timeline {
    start: Instant,
    beats: Vec<Beat>,
}

impl Timeline {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            beats: Vec::new(),
        }
    }

    /// Adds a beat now and prints it.
    pub fn beat(&mut self, actor: &'static str, what: impl Into<String>) -> Duration {
        let beat = Beat {
            at: self.start.elapsed(),
            actor,
            what: what.into(),
        };
        println!(
            "  t+{:>5.1}s  {:<7} {}",
            beat.at.as_secs_f64(),
            beat.actor,
            beat.what
        );
        let at = beat.at;
        self.beats.push(beat);
        at
    }

    /// Every beat so far.
    pub fn beats(&self) -> &[Beat] {
        &self.beats
    }

    /// Time since the drill started.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
}

/// What a customer opening the status page learns: the overall status its API gives, and
/// whether the page lists incident `id`'s title.
async fn look_at_status_page(
    browser: &reqwest::Client,
    base: &str,
    id: &str,
) -> Result<(String, bool), CliError> {
    let status: serde_json::Value = browser
        .get(format!("{base}/api/v2/status.json"))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(CliError::other)?
        .json()
        .await
        .map_err(CliError::other)?;
    let said = status["status"]["description"]
        .as_str()
        .unwrap_or("(no status)")
        .to_owned();
    let incident: serde_json::Value = browser
        .get(format!("{base}/api/v1/incidents/{id}"))
        .send()
        .await
        .map_err(CliError::other)?
        .json()
        .await
        .unwrap_or_default();
    let page = browser
        .get(format!("{base}/"))
        .send()
        .await
        .map_err(CliError::other)?
        .text()
        .await
        .map_err(CliError::other)?;
    let listed = incident["title"]
        .as_str()
        .is_some_and(|title| page.contains(title));
    Ok((said, listed))
}

/// What the drill measured: the figures it prints, kept for whoever runs it (the tests).
/// Every duration is counted from the injected failure unless it says otherwise.
#[derive(Debug, Clone, Default)]
pub struct DrillReport {
    /// The incident the probes confirmed.
    pub incident: String,
    /// The status site's address (`http://127.0.0.1:PORT`).
    pub status_url: String,
    /// Failure → incident opened by the probes.
    pub detection: Duration,
    /// Failure → suspected incident opened from customers' reports, if it came first.
    pub suspected: Option<Duration>,
    /// Failure → the first page.
    pub paged: Option<Duration>,
    /// Failure → the first public update posted.
    pub first_update: Option<Duration>,
    /// Failure → someone acknowledged (after the escalation).
    pub acknowledged: Option<Duration>,
    /// Failure → incident resolved.
    pub resolution: Duration,
    /// Fix → incident resolved.
    pub recovery: Duration,
    /// Each customer answered: their handle and the time from their post to sitrep's reply.
    pub first_responses: Vec<(String, Duration)>,
    /// Replies sitrep sent per customer.
    pub replies: BTreeMap<String, usize>,
    /// Follow-ups sitrep sent per customer.
    pub follow_ups: BTreeMap<String, usize>,
    /// Posts sitrep made on X in reply to each post (by post id), as the X API received them.
    pub replies_per_post: BTreeMap<String, usize>,
    /// Public incident updates posted.
    pub public_updates: usize,
    /// Pages sent (first page and escalation).
    pub pages: usize,
    /// What the status page's API said during the outage.
    pub status_during: Option<String>,
    /// Whether the status page listed the open incident during the outage.
    pub page_showed_incident: bool,
    /// What the status page's API said after the recovery.
    pub status_after: Option<String>,
}

impl DrillReport {
    /// The `p`th percentile (0–100, nearest rank) of the customers' time to first response.
    pub fn first_response_percentile(&self, p: f64) -> Option<Duration> {
        let mut times: Vec<Duration> = self.first_responses.iter().map(|(_, t)| *t).collect();
        times.sort();
        let rank = ((p / 100.0) * times.len() as f64).ceil() as usize;
        times.get(rank.clamp(1, times.len().max(1)) - 1).copied()
    }
}

/// The drill's configuration: the same TOML a vendor writes.
pub fn drill_config(health_url: &str, x_base: &str) -> String {
    format!(
        r#"# The outage drill: one component, one HTTP check, production thresholds, one X account.
[service]
name = "Acme Cloud (drill)"
status_url = "https://status.acme.example"

[probe]
region = "local"

[mentions]
surge_authors = 3
surge_window = "10m"

[[accounts]]
id = "acme-x"
platform = "x"
handle = "acme"
user_id = "{X_ACCOUNT}"
base_url = "{x_base}"
credentials = "drill/acme-x"
announce = "auto"

[replies]
mode = "live"

# Sam is on call; if Sam does not acknowledge within a minute, Lee is paged.
[oncall]
policy = "primary"

[[people]]
id = "sam"
name = "Sam"
timezone = "Europe/London"
sms = "+447700900123"

[[people]]
id = "lee"
name = "Lee"
timezone = "America/New_York"
sms = "+12125550199"
email = "lee@acme.example"

[[schedules]]
id = "primary"
name = "Primary"

[[schedules.layers]]
name = "weekly"
timezone = "Europe/London"
start = "2026-01-05 09:00"
rotation = "weekly"
participants = ["sam"]

[[policies]]
id = "primary"
name = "Primary"

[[policies.steps]]
targets = ["schedule:primary"]
delay = "1m"

[[policies.steps]]
targets = ["person:lee"]
delay = "5m"

[[components]]
id = "api"
name = "Public API"
keywords = ["api", "webhooks", "503"]

[[checks]]
id = "api-health"
component = "api"
kind = "http"
url = "{health_url}"
timeout = "800ms"
conditions = ['[STATUS] == 200', '[BODY].status == "ok"', '[RESPONSE_TIME] < 500']
failure_threshold = 3
success_threshold = 2
"#
    )
}

/// Runs the drill at `pace`, prints it, and returns its figures.
pub async fn run(pace: Pace) -> Result<DrillReport, CliError> {
    let cycle_time = pace.cycle();
    let service = FlakyService::start(Mode::Healthy)
        .await
        .map_err(CliError::other)?;
    let x = XTimeline::start(
        X_ACCOUNT,
        chrono::Utc::now() + chrono::Duration::minutes(15),
    )
    .await
    .map_err(CliError::other)?
    .with_account_username("acme");
    let config = Config::parse(&drill_config(&service.health_url(), &x.base_url()))
        .map_err(|e| CliError::Other(format!("the drill's own config is invalid: {e}")))?;
    let directory = std::env::temp_dir().join(format!("sitrep-demo-{}", std::process::id()));
    std::fs::create_dir_all(&directory).map_err(CliError::other)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let sqlite = Arc::new(
        SqliteStore::open(&directory.join("drill.db"), Arc::clone(&clock))
            .map_err(CliError::other)?,
    );
    let store: Arc<dyn Store> = sqlite.clone();
    let mut stream = LocalStream::open(Arc::clone(&sqlite))
        .await
        .map_err(CliError::other)?;
    let check = &config.checks[0];
    let thresholds = (check.failure_threshold, check.success_threshold);
    let config = Arc::new(config);
    let random: Arc<dyn Random> = Arc::new(SeededRandom::from_entropy());
    // Posting needs user context: the drill's account signs with OAuth 1.0a.
    let secrets = Arc::new(EnvironmentSecrets::new().with(
        "drill/acme-x",
        r#"{"consumer_key": "drill", "consumer_secret": "drill", "access_token": "42-drill", "access_token_secret": "drill"}"#,
    ));
    let deps = ClientDeps {
        transport: Transport::new(RetryPolicy::default(), Arc::clone(&random))
            .map_err(CliError::other)?,
        store: Arc::clone(&store),
        clock: Arc::clone(&clock),
        random: Arc::clone(&random),
    };
    let mentions = MentionCycle::new(Arc::clone(&config), secrets.clone(), deps.clone()).await;
    let support = Arc::new(LogSupport::new());
    let responder = Responder::new(
        Arc::clone(&config),
        secrets.clone(),
        deps,
        Arc::clone(&random),
        support.clone(),
    );
    let prober = Prober::new(
        Arc::clone(&config),
        Arc::clone(&store),
        Arc::clone(&clock),
        "local",
    )
    .map_err(CliError::other)?;
    // A fresh link key per drill, as the deployment generates one per stack.
    let key_bytes: Vec<u8> = (0..4)
        .flat_map(|_| random.next_u64().to_le_bytes())
        .collect();
    let drill_clock = Arc::new(DrillClock::default());
    let site = StatusSite::new(
        Arc::clone(&store),
        drill_clock.clone(),
        AckKey::new(&key_bytes).map_err(CliError::other)?,
        XWebhook::new(Arc::clone(&store), Arc::clone(&clock), secrets.clone()),
    );
    let site_server = SiteServer::start(
        Arc::new(site),
        Arc::clone(&config),
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .map_err(CliError::other)?;
    let notifier = ConsoleNotifier::new();
    let pager = Pager::new(
        Arc::clone(&config),
        Arc::clone(&store),
        drill_clock.clone(),
        Arc::new(notifier.clone()),
        Arc::clone(&random),
        Some(AckLinks {
            key: Arc::new(AckKey::new(&key_bytes).map_err(CliError::other)?),
            base: site_server.ack_base(),
        }),
    );
    let browser = reqwest::Client::new();

    println!(
        "sitrep outage drill: a service on {} will fail and recover.",
        service.address()
    );
    println!(
        "One probe cycle every {:.1} s stands in for one per minute; down after {} failed checks, recovered after {} good ones.",
        cycle_time.as_secs_f64(),
        thresholds.0,
        thresholds.1
    );
    let status_url = site_server.url();
    println!("The public status page is live at {status_url}/ (open it and watch).\n");
    let mut story = Timeline::new();
    story.beat(
        "vendor",
        format!("the Public API is healthy at {}", service.health_url()),
    );

    let mut failed_at = None;
    let mut fixed_at = None;
    let mut first_failure = None;
    let mut first_success = None;
    let mut opened = None;
    let mut resolved = None;
    let mut incident_id = None;
    let mut first_report = None;
    let mut suspected = None;
    let mut unread: Vec<(String, String)> = Vec::new();
    let mut responses: Vec<(String, chrono::Duration)> = Vec::new();
    let mut shown_messages = 0usize;
    let (mut first_page, mut escalated, mut acknowledged) = (None, None, None);
    let mut skip_after: Option<u32> = None;
    let mut first_update = None;
    let mut report = DrillReport {
        status_url: status_url.clone(),
        ..DrillReport::default()
    };
    let (mut follow_ups, mut updates, mut handoffs) = (0usize, 0usize, 0usize);
    let mut ticker = tokio::time::interval(cycle_time);
    for cycle in 0..MAX_CYCLES {
        ticker.tick().await;
        if cycle == HEALTHY_CYCLES {
            service.set(Mode::Failing);
            failed_at = Some(story.beat(
                "vendor",
                "the Public API starts answering 503 (injected failure)",
            ));
        }
        if cycle == HEALTHY_CYCLES + BROKEN_CYCLES {
            service.set(Mode::Healthy);
            fixed_at = Some(story.beat("vendor", "the Public API is fixed (injected recovery)"));
        }
        if let Some(failed) = cycle.checked_sub(HEALTHY_CYCLES) {
            for (_, who, text) in CUSTOMERS.iter().filter(|(after, ..)| *after == failed) {
                let id = x.post(who, text, clock.now());
                let at = story.beat("customer", format!("@{who} on X: \"{text}\""));
                first_report.get_or_insert(at);
                unread.push((id, (*who).to_owned()));
            }
        }
        let probed = prober.run_cycle(Instant::now() + cycle_time).await;
        if let Some(error) = probed.errors.first() {
            return Err(CliError::Other(format!(
                "the drill's store failed: {error}"
            )));
        }
        let result = &probed.checks[0];
        if failed_at.is_some() && first_failure.is_none() && result.outcome.health == Health::Down {
            first_failure = Some(story.beat(
                "probe",
                format!(
                    "check failed ({} of {}): {}",
                    1,
                    thresholds.0,
                    result.outcome.reason.as_deref().unwrap_or("")
                ),
            ));
        }
        if fixed_at.is_some() && first_success.is_none() && result.outcome.health == Health::Up {
            first_success =
                Some(story.beat("probe", format!("check passed (1 of {})", thresholds.1)));
        }
        for change in &probed.changes {
            match change {
                Change::Opened(i) => {
                    incident_id = Some(i.id.clone());
                    let verb = if suspected.as_ref().is_some_and(|(id, _)| *id == i.id) {
                        "confirmed by the probes"
                    } else {
                        "opened"
                    };
                    opened = Some(story.beat(
                        "sitrep",
                        format!(
                            "incident {} {verb}: {} ({})",
                            i.id,
                            i.title,
                            i.reason.as_deref().unwrap_or("")
                        ),
                    ));
                }
                Change::Resolved(i) => {
                    resolved = Some(story.beat(
                        "sitrep",
                        format!(
                            "incident {} resolved after {}",
                            i.id,
                            human_duration(chrono::Duration::seconds(
                                i.duration_seconds.unwrap_or(0)
                            ))
                        ),
                    ));
                }
                Change::Status { .. } | Change::Updated(_) => {}
            }
        }
        let heard = mentions.run(Instant::now() + cycle_time).await;
        if let Some(error) = heard.errors.first() {
            return Err(CliError::Other(format!(
                "the drill's mentions poll failed: {error}"
            )));
        }
        for (id, who) in std::mem::take(&mut unread) {
            match store.get(&keys::mention(Platform::X, &id)).await {
                Ok(Some(item)) => {
                    let mention: StoredMention = item.decode().map_err(CliError::other)?;
                    story.beat(
                        "sitrep",
                        format!(
                            "read @{who}: {} about {} ({}, confidence {:.2})",
                            mention.intent,
                            mention
                                .component
                                .as_ref()
                                .map_or("the service", |c| c.as_str()),
                            mention.lang,
                            mention.confidence
                        ),
                    );
                }
                Ok(None) => unread.push((id, who)),
                Err(e) => return Err(CliError::other(e)),
            }
        }
        for change in &heard.surges {
            match change {
                SurgeChange::Opened { incident, authors } => {
                    let at = story.beat(
                        "sitrep",
                        format!(
                            "suspected incident {} opened: {authors} customers reported an outage",
                            incident.id
                        ),
                    );
                    suspected = Some((incident.id.clone(), at));
                }
                SurgeChange::Attached { incident, reports } => {
                    story.beat(
                        "sitrep",
                        format!("{reports} more report(s) attached to incident {incident}"),
                    );
                }
                SurgeChange::Resolved(_) => {}
            }
        }
        x.set_now(clock.now());
        if skip_after == Some(cycle) {
            drill_clock.skip(Duration::from_secs(61));
            story.beat(
                "sitrep",
                "a minute passes with no acknowledgement from Sam (the drill skips the wait)",
            );
        }
        let (answered, paging) = stream
            .deliver(Some(&responder), Some(&pager), Instant::now() + cycle_time)
            .await
            .map_err(CliError::other)?;
        if let Some(error) = paging.errors.first() {
            return Err(CliError::Other(format!(
                "the drill's paging failed: {error}"
            )));
        }
        let sent = notifier.sent();
        for message in sent.iter().skip(shown_messages) {
            let verb = match message.kind {
                MessageKind::Page => "paged",
                MessageKind::Resolved => "told",
                MessageKind::Reply => "answered",
            };
            let at = story.beat("sitrep", format!("{verb} {}", describe(message)));
            if message.kind == MessageKind::Page {
                if first_page.is_none() {
                    first_page = Some(at);
                    skip_after = Some(cycle + 2);
                } else if message.person.as_str() == "lee" && escalated.is_none() {
                    escalated = Some(at);
                }
            }
        }
        shown_messages = sent.len();
        for event in &paging.events {
            if let PagingEvent::Exhausted { incident } = event {
                story.beat(
                    "sitrep",
                    format!("nobody acknowledged {incident}: escalation ran out"),
                );
            }
        }
        // Lee follows the link in the text, as a phone would: GET shows a confirmation
        // (fetching a link acknowledges nothing), POST acknowledges.
        if escalated.is_some() && acknowledged.is_none() {
            let link = sent
                .iter()
                .filter(|m| m.kind == MessageKind::Page && m.person.as_str() == "lee")
                .find_map(|m| {
                    m.sms
                        .split_whitespace()
                        .find(|w| w.starts_with("http"))
                        .map(str::to_owned)
                });
            if let Some(link) = link {
                let shown = browser.get(&link).send().await.map_err(CliError::other)?;
                story.beat(
                    "on-call",
                    format!(
                        "Lee opens the link: HTTP {} asks to confirm",
                        shown.status().as_u16()
                    ),
                );
                let confirmed = browser.post(&link).send().await.map_err(CliError::other)?;
                let status = confirmed.status().as_u16();
                let escalation = match &incident_id {
                    Some(id) => pager.escalation(id).await.map_err(CliError::other)?,
                    None => None,
                };
                let owner = escalation
                    .as_ref()
                    .and_then(|e| e.acknowledged.as_ref())
                    .map_or("nobody".to_owned(), |a| a.by.to_string());
                acknowledged = Some(story.beat(
                    "on-call",
                    format!("Lee confirms: HTTP {status}, incident acknowledged by {owner}; escalation stops"),
                ));
            }
        }
        // A customer opens the status page, once during the outage and once after it.
        if let (Some(id), None) = (&incident_id, &report.status_during) {
            let (said, listed) = look_at_status_page(&browser, &status_url, id).await?;
            story.beat(
                "customer",
                format!(
                    "opens the status page: \"{said}\"{}",
                    if listed {
                        ", incident listed with its timeline"
                    } else {
                        ""
                    }
                ),
            );
            report.status_during = Some(said);
            report.page_showed_incident = listed;
        }
        if let (Some(id), Some(_), None) = (&incident_id, resolved, &report.status_after) {
            let (said, _) = look_at_status_page(&browser, &status_url, id).await?;
            story.beat(
                "customer",
                format!("opens the status page again: \"{said}\""),
            );
            report.status_after = Some(said);
        }
        if let Some(error) = answered.errors.first() {
            return Err(CliError::Other(format!(
                "the drill's replies failed: {error}"
            )));
        }
        for event in &answered.events {
            match event {
                ReplyEvent::Sent {
                    kind,
                    author,
                    text,
                    response_time,
                    ..
                } => {
                    let what = match (kind, author) {
                        (JobKind::Reply, Some(who)) => {
                            if let Some(time) = response_time {
                                responses.push((who.clone(), *time));
                            }
                            *report.replies.entry(who.clone()).or_default() += 1;
                            format!("replied to @{who} on X: \"{text}\"")
                        }
                        (JobKind::FollowUp, Some(who)) => {
                            follow_ups += 1;
                            *report.follow_ups.entry(who.clone()).or_default() += 1;
                            format!("followed up with @{who}: \"{text}\"")
                        }
                        _ => {
                            updates += 1;
                            first_update.get_or_insert(story.elapsed());
                            format!("posted a public update on X: \"{text}\"")
                        }
                    };
                    story.beat("sitrep", what);
                }
                ReplyEvent::HandedOff { reason, summary } => {
                    handoffs += 1;
                    story.beat(
                        "sitrep",
                        format!("handed to a person ({reason}): {summary}"),
                    );
                }
                ReplyEvent::Waiting { until, queued, .. } => {
                    story.beat(
                        "sitrep",
                        format!(
                            "{queued} post(s) wait for the posting budget until {}",
                            until.format("%H:%M:%S")
                        ),
                    );
                }
                ReplyEvent::Failed { detail, .. } => {
                    story.beat("sitrep", format!("a post failed: {detail}"));
                }
                ReplyEvent::Judged { .. } => {}
            }
        }
        let settled = resolved.is_some()
            && acknowledged.is_some()
            && report.status_after.is_some()
            && unread.is_empty()
            && follow_ups >= responses.len()
            && cycle >= HEALTHY_CYCLES + BROKEN_CYCLES + 3;
        if settled {
            break;
        }
    }

    println!();
    let (Some(failed_at), Some(opened), Some(fixed_at), Some(resolved), Some(id)) =
        (failed_at, opened, fixed_at, resolved, incident_id)
    else {
        return Err(CliError::Other(
            "the drill did not complete: the incident was not both opened and resolved".into(),
        ));
    };
    println!("Public timeline of incident {id}, as stored:");
    for entry in incident::timeline(store.as_ref(), &id)
        .await
        .map_err(CliError::other)?
    {
        println!(
            "  {}  [{}] {}",
            entry.at.format("%H:%M:%S%.3f"),
            entry.status,
            entry.message
        );
    }
    let samples = history::samples(
        store.as_ref(),
        &shared::config::ComponentId::parse("api").map_err(CliError::Other)?,
        Window::Day,
        clock.now(),
    )
    .await
    .map_err(CliError::other)?;

    let evidence = surge::evidence(store.as_ref(), &id)
        .await
        .map_err(CliError::other)?;
    println!("\nCustomers' reports attached to it: {}", evidence.len());
    for report in &evidence {
        println!("  {}  @{}: {}", report.url, report.handle, report.excerpt);
    }

    let since_failure = |at: Duration| at.saturating_sub(failed_at);
    report.incident = id.clone();
    report.detection = since_failure(opened);
    report.suspected = suspected.as_ref().map(|(_, at)| since_failure(*at));
    report.paged = first_page.map(since_failure);
    report.first_update = first_update.map(since_failure);
    report.acknowledged = acknowledged.map(since_failure);
    report.resolution = since_failure(resolved);
    report.recovery = resolved.saturating_sub(fixed_at);
    report.first_responses = responses
        .iter()
        .map(|(who, time)| (who.clone(), time.to_std().unwrap_or_default()))
        .collect();
    report.public_updates = updates;
    report.pages = notifier
        .sent()
        .iter()
        .filter(|m| m.kind == MessageKind::Page)
        .count();
    let posted = x.account_posts();
    for post in &posted {
        if let Some(to) = &post.in_reply_to {
            *report.replies_per_post.entry(to.clone()).or_default() += 1;
        }
    }

    println!(
        "\nFigures (each {:.1} s probe cycle stands for one minute in production):",
        cycle_time.as_secs_f64()
    );
    let seconds = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    let maybe = |d: Option<Duration>| d.map_or_else(|| "-".to_owned(), seconds);
    let mut rows = vec![
        vec![
            "failure -> detected (incident opened by the probes)".to_owned(),
            seconds(report.detection),
        ],
        vec![
            "failure -> first failed check".to_owned(),
            seconds(first_failure.unwrap_or(opened).saturating_sub(failed_at)),
        ],
    ];
    if let (Some(first), Some((_, suspected_at))) = (first_report, &suspected) {
        rows.push(vec![
            "first customer report -> suspected incident".to_owned(),
            seconds(suspected_at.saturating_sub(first)),
        ]);
        rows.push(vec![
            "failure -> suspected incident (ahead of the probes)".to_owned(),
            maybe(report.suspected),
        ]);
    }
    rows.extend([
        vec!["failure -> on-call paged".to_owned(), maybe(report.paged)],
        vec![
            "failure -> first public update".to_owned(),
            maybe(report.first_update),
        ],
        vec![
            "failure -> acknowledged (after one escalation)".to_owned(),
            report.acknowledged.map_or_else(
                || "-".to_owned(),
                |d| format!("{} + 1 min skipped", seconds(d)),
            ),
        ],
        vec![
            "time to first response, p50".to_owned(),
            maybe(report.first_response_percentile(50.0)),
        ],
        vec![
            "time to first response, p99".to_owned(),
            maybe(report.first_response_percentile(99.0)),
        ],
        vec![
            "fix -> incident resolved".to_owned(),
            seconds(report.recovery),
        ],
        vec![
            "time to resolution (failure -> resolved)".to_owned(),
            seconds(report.resolution),
        ],
        vec![
            "uptime over the drill".to_owned(),
            samples
                .uptime_percent()
                .map_or("-".into(), |p| format!("{p:.1} %")),
        ],
        vec![
            "customers answered / followed up".to_owned(),
            format!("{} / {follow_ups}", responses.len()),
        ],
        vec![
            "most replies to one customer".to_owned(),
            report
                .replies
                .values()
                .max()
                .copied()
                .unwrap_or(0)
                .to_string(),
        ],
        vec!["public updates posted".to_owned(), updates.to_string()],
        vec!["pages sent".to_owned(), report.pages.to_string()],
        vec!["handed to a person".to_owned(), handoffs.to_string()],
    ]);
    print!("{}", crate::render::table(&["WHAT", "TOOK"], &rows));
    if !report.first_responses.is_empty() {
        println!("\nTime to first response (from the customer's post to sitrep's reply):");
        let rows: Vec<Vec<String>> = report
            .first_responses
            .iter()
            .map(|(who, time)| vec![format!("@{who}"), seconds(*time)])
            .collect();
        print!(
            "{}",
            crate::render::table(&["CUSTOMER", "ANSWERED AFTER"], &rows)
        );
    }
    println!(
        "\nWhat @acme posted on X (as the stand-in API received it): {}",
        posted.len()
    );
    for post in &posted {
        let to = post
            .in_reply_to
            .as_ref()
            .map_or_else(|| "public update".to_owned(), |id| format!("reply to {id}"));
        println!("  {}  ({to}) {}", post.id, post.text);
    }
    println!(
        "\nIn production a cycle is a minute: detection takes about {} min with these thresholds.",
        thresholds.0
    );
    if pace == Pace::Watchable {
        println!(
            "\nThe status page stays up for {} s at {status_url}/ (Ctrl-C to leave now).",
            LINGER.as_secs()
        );
        tokio::select! {
            _ = tokio::time::sleep(LINGER) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    drop(site_server);
    let _ = std::fs::remove_dir_all(&directory);
    Ok(report)
}

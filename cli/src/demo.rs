//! `sitrep demo`: the outage drill. A scripted service on 127.0.0.1 fails for a while and
//! comes back; the real probe engine, on the embedded store, watches it. Customers notice
//! too: their posts appear on a stand-in X API on 127.0.0.1 (the real v2 wire format),
//! which the real X client polls; sitrep classifies them, and their surge opens a suspected
//! incident that the probes then confirm. sitrep answers them in public (the stand-in X API
//! receives the real client's `POST /2/tweets` replies), posts the vendor's incident updates,
//! hands what needs a person to a person, and follows up after the recovery. The on-call
//! engineer is paged the moment an incident opens (through the console notifier, the texts
//! exactly as SNS would send them); nobody acknowledges within the step's minute, so the
//! page escalates to the secondary, who follows the link in the text to the real
//! acknowledgement route on 127.0.0.1 and owns the incident. The story
//! prints as it happens, then the figures that matter to the people woken by it and to the
//! customers who asked.
//!
//! Minutes are compressed to seconds (one cycle a second instead of a minute), nothing else
//! changes: same config parser, same thresholds, same store adapter as `sitrep run`. The one
//! exception is the escalation delay: the pager's clock skips the step's minute instead of
//! waiting it out, and the timeline says so.

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
use shared::oncall::ack_route::AckRoute;
use shared::oncall::paging::{AckLinks, Pager, PagingEvent};
use shared::oncall::token::AckKey;

use crate::CliError;
use crate::ack_server::AckServer;
use crate::flaky::{FlakyService, Mode};
use crate::stream::LocalStream;
use crate::x_timeline::XTimeline;

/// Time between cycles in the drill (a minute in production).
const CYCLE: Duration = Duration::from_secs(1);
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

/// Runs the drill and prints it.
pub async fn run() -> Result<(), CliError> {
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
        secrets,
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
    let route = AckRoute::new(
        Arc::clone(&store),
        AckKey::new(&key_bytes).map_err(CliError::other)?,
        drill_clock.clone(),
        config.service.name.clone(),
    );
    let ack_server = AckServer::start(Arc::new(route), ([127, 0, 0, 1], 0).into())
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
            base: ack_server.base_url(),
        }),
    );
    let browser = reqwest::Client::new();

    println!(
        "sitrep outage drill: a service on {} will fail and recover.",
        service.address()
    );
    println!(
        "One probe cycle per second stands in for one per minute; down after {} failed checks, recovered after {} good ones.\n",
        thresholds.0, thresholds.1
    );
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
    let (mut follow_ups, mut updates, mut handoffs) = (0usize, 0usize, 0usize);
    let mut ticker = tokio::time::interval(CYCLE);
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
        let report = prober.run_cycle(Instant::now() + CYCLE).await;
        if let Some(error) = report.errors.first() {
            return Err(CliError::Other(format!(
                "the drill's store failed: {error}"
            )));
        }
        let result = &report.checks[0];
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
        for change in &report.changes {
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
        let heard = mentions.run(Instant::now() + CYCLE).await;
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
            .deliver(Some(&responder), Some(&pager), Instant::now() + CYCLE)
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
                            format!("replied to @{who} on X: \"{text}\"")
                        }
                        (JobKind::FollowUp, Some(who)) => {
                            follow_ups += 1;
                            format!("followed up with @{who}: \"{text}\"")
                        }
                        _ => {
                            updates += 1;
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
    println!("\nFigures:");
    let seconds = |d: Duration| format!("{:.1} s", d.as_secs_f64());
    let mut rows = vec![
        vec![
            "detection latency (failure -> incident opened)".to_owned(),
            seconds(opened - failed_at),
        ],
        vec![
            "first failed check after the failure".to_owned(),
            seconds(first_failure.unwrap_or(opened) - failed_at),
        ],
        vec![
            "recovery latency (fix -> incident resolved)".to_owned(),
            seconds(resolved - fixed_at),
        ],
        vec![
            "first good check after the fix".to_owned(),
            seconds(first_success.unwrap_or(resolved) - fixed_at),
        ],
        vec!["incident open for".to_owned(), seconds(resolved - opened)],
    ];
    if let (Some(first), Some((_, suspected_at))) = (first_report, &suspected) {
        rows.insert(
            0,
            vec![
                "first customer report -> suspected incident".to_owned(),
                seconds(*suspected_at - first),
            ],
        );
        rows.insert(
            1,
            vec![
                "suspected incident ahead of the probes by".to_owned(),
                seconds(opened.saturating_sub(*suspected_at)),
            ],
        );
    }
    if let Some(paged) = first_page {
        rows.push(vec![
            "failure -> on-call paged".to_owned(),
            seconds(paged.saturating_sub(failed_at)),
        ]);
    }
    if let (Some(paged), Some(owned)) = (first_page, acknowledged) {
        rows.push(vec![
            "first page -> acknowledged (after one escalation)".to_owned(),
            format!("{} + 1 min skipped", seconds(owned.saturating_sub(paged))),
        ]);
    }
    rows.extend(vec![vec![
        "uptime over the drill".to_owned(),
        samples
            .uptime_percent()
            .map_or("-".into(), |p| format!("{p:.1} %")),
    ]]);
    rows.extend(vec![
        vec![
            "customers answered / followed up".to_owned(),
            format!("{} / {follow_ups}", responses.len()),
        ],
        vec!["public updates posted".to_owned(), updates.to_string()],
        vec!["handed to a person".to_owned(), handoffs.to_string()],
    ]);
    print!("{}", crate::render::table(&["WHAT", "TOOK"], &rows));
    if !responses.is_empty() {
        println!("\nTime to first response (from the customer's post to sitrep's reply):");
        let rows: Vec<Vec<String>> = responses
            .iter()
            .map(|(who, time)| {
                vec![
                    format!("@{who}"),
                    format!("{:.1} s", time.num_milliseconds() as f64 / 1000.0),
                ]
            })
            .collect();
        print!(
            "{}",
            crate::render::table(&["CUSTOMER", "ANSWERED AFTER"], &rows)
        );
    }
    let posted = x.account_posts();
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
    let _ = std::fs::remove_dir_all(&directory);
    Ok(())
}

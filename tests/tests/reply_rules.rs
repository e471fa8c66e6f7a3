//! The reply rules on the manual clock, against a Mastodon-format server on loopback and the
//! real Mastodon client: who is answered and with what, exactly once (replays and racing
//! batches on SQLite and on DynamoDB), follow-ups after recovery, public updates, dry runs,
//! handoffs, budgets and rate limits, lost answers, hostile mention text, and a failed write
//! at any step of a reply costing neither its thread marker nor its follow-up.

use std::sync::Arc;
use std::time::Duration;

use chrono::Duration as TimeDelta;
use shared::clock::{Clock, ManualClock};
use shared::config::{AccountId, ComponentId, Config};
use shared::incident::{self, ComponentStatus};
use shared::mentions::StoredMention;
use shared::mentions::classify::Intent;
use shared::random::SeededRandom;
use shared::reply::handoff::LogSupport;
use shared::reply::job::{self, JobState};
use shared::reply::length::LengthRules;
use shared::reply::response::{self, Outcome};
use shared::reply::service::{BatchReport, ReplyEvent, Responder};
use shared::secrets::EnvironmentSecrets;
use shared::social::connect::ClientDeps;
use shared::social::transport::{RetryPolicy, Transport};
use shared::social::{MentionKind, Platform};
use shared::store::{ItemChange, Key, NewItem, Store, keys};
use sitrep_tests::lambda_delivery::FlakyStore;
use sitrep_tests::statuses::{Next, StatusServer};
use sitrep_tests::{dynamo_store, epoch, replies_config_text, responder, sqlite_store};
use tokio::time::Instant;

struct Rig {
    clock: ManualClock,
    store: Arc<dyn Store>,
    support: Arc<LogSupport>,
    server: StatusServer,
    config: Arc<Config>,
    responder: Responder,
}

async fn rig_on(store: Arc<dyn Store>, clock: ManualClock, account: &str, replies: &str) -> Rig {
    let server = StatusServer::start().await;
    let text = replies_config_text(&server.server.base, account, replies);
    let config = Arc::new(Config::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}")));
    let support = Arc::new(LogSupport::new());
    let responder = responder(&config, &store, &clock, &support);
    Rig {
        clock,
        store,
        support,
        server,
        config,
        responder,
    }
}

async fn rig(account: &str, replies: &str) -> Rig {
    let clock = ManualClock::new(epoch());
    rig_on(sqlite_store(&clock), clock, account, replies).await
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(20)
}

impl Rig {
    /// A mention by `author` posted 30 s ago.
    fn mention(
        &self,
        post: &str,
        author: &str,
        intent: Intent,
        component: Option<&str>,
    ) -> StoredMention {
        StoredMention {
            platform: Platform::Mastodon,
            id: post.into(),
            account: AccountId::parse("acme-m").unwrap(),
            url: format!("https://elsewhere.example/@{author}/{post}"),
            author_id: format!("id-{author}"),
            author: format!("{author}@elsewhere.example"),
            text: format!("@acme is the {} down?", component.unwrap_or("service")),
            truncated: false,
            created_at: self.clock.now() - TimeDelta::seconds(30),
            received_at: self.clock.now(),
            kind: MentionKind::Mention,
            in_reply_to: None,
            conversation: None,
            others: Vec::new(),
            intent,
            confidence: 0.95,
            lang: "en".into(),
            component: component.map(|c| ComponentId::parse(c).unwrap()),
        }
    }

    /// Stores `mention` as the poll does, and hands the change to the service.
    async fn arrive(&self, mention: &StoredMention) -> BatchReport {
        let change = self.store_mention(mention).await;
        self.responder.handle(&[change], deadline()).await
    }

    async fn store_mention(&self, mention: &StoredMention) -> ItemChange {
        let key = keys::mention(mention.platform, &mention.id);
        self.store
            .create(NewItem::encode(key.clone(), mention).unwrap())
            .await
            .unwrap();
        let item = self.store.get(&key).await.unwrap().unwrap();
        ItemChange {
            id: format!("seq-{}", mention.id),
            key,
            old: None,
            new: Some(item),
        }
    }

    /// Moves `component` to `status`, returning the incident record's change as the stream
    /// would carry it.
    async fn set_status(&self, component: &str, status: ComponentStatus) -> Option<ItemChange> {
        let component = self
            .config
            .component(&ComponentId::parse(component).unwrap())
            .unwrap()
            .clone();
        let before_state = incident::open_incident(self.store.as_ref(), &component.id)
            .await
            .unwrap();
        let before = match &before_state {
            Some(id) => self.store.get(&keys::incident(id)).await.unwrap(),
            None => None,
        };
        incident::transition(
            self.store.as_ref(),
            &component,
            status,
            Some("probe failed".into()),
            self.clock.now(),
        )
        .await
        .unwrap();
        let id = before_state.or(incident::open_incident(self.store.as_ref(), &component.id)
            .await
            .unwrap())?;
        let after = self.store.get(&keys::incident(&id)).await.unwrap();
        Some(ItemChange {
            id: format!("seq-incident-{}", after.as_ref().map_or(0, |i| i.version)),
            key: keys::incident(&id),
            old: before,
            new: after,
        })
    }

    fn texts(&self) -> Vec<String> {
        self.server.statuses().into_iter().map(|s| s.text).collect()
    }

    async fn outcome(&self, mention: &StoredMention) -> (Outcome, Option<String>) {
        let record = response::load(
            self.store.as_ref(),
            mention.created_at,
            mention.platform,
            &mention.id,
        )
        .await
        .unwrap()
        .expect("a response record");
        (record.outcome, record.reason)
    }
}

#[tokio::test]
async fn an_outage_report_gets_one_reply_with_the_live_incident_status() {
    let rig = rig("", "").await;
    rig.clock.set("2026-11-23T10:02:00Z".parse().unwrap());
    rig.set_status("api", ComponentStatus::Down).await;
    rig.clock.advance(TimeDelta::minutes(3));
    let mention = rig.mention("901", "dana", Intent::OutageReport, Some("api"));
    let report = rig.arrive(&mention).await;
    assert!(
        report.failed.is_empty() && report.errors.is_empty(),
        "{report:?}"
    );
    let statuses = rig.server.statuses();
    assert_eq!(statuses.len(), 1);
    let text = &statuses[0].text;
    assert!(text.starts_with("@dana@elsewhere.example "), "{text}");
    assert!(text.contains("Public API"), "{text}");
    assert!(text.contains("10:02 UTC"), "{text}");
    assert!(text.contains("https://status.acme.example"), "{text}");
    assert!(text.contains('#'), "an incident reference: {text}");
    assert_eq!(statuses[0].in_reply_to.as_deref(), Some("901"));
    assert!(statuses[0].key.is_some(), "posted with an Idempotency-Key");
    assert_eq!(rig.outcome(&mention).await.0, Outcome::Answered);
    let sent = report
        .events
        .iter()
        .find_map(|e| match e {
            ReplyEvent::Sent {
                response_time,
                sla_breached,
                ..
            } => Some((*response_time, *sla_breached)),
            _ => None,
        })
        .expect("a sent event");
    assert_eq!(sent, (Some(TimeDelta::seconds(30)), false));
}

#[tokio::test]
async fn a_replayed_change_and_a_second_report_by_the_same_author_send_nothing_more() {
    let rig = rig("", "").await;
    rig.set_status("api", ComponentStatus::Down).await;
    let first = rig.mention("1", "dana", Intent::OutageReport, Some("api"));
    let change = rig.store_mention(&first).await;
    rig.responder
        .handle(std::slice::from_ref(&change), deadline())
        .await;
    rig.responder
        .handle(std::slice::from_ref(&change), deadline())
        .await;
    let again = rig.mention("2", "dana", Intent::Question, None);
    rig.arrive(&again).await;
    assert_eq!(rig.server.statuses().len(), 1);
    assert_eq!(
        rig.outcome(&again).await,
        (Outcome::Covered, Some("already_answered".into()))
    );
    // Someone else is answered.
    rig.arrive(&rig.mention("3", "eve", Intent::OutageReport, Some("api")))
        .await;
    assert_eq!(rig.server.statuses().len(), 2);
}

async fn racing_batches_post_once(store: Arc<dyn Store>, clock: ManualClock) {
    let rig = rig_on(store, clock, "", "").await;
    rig.set_status("api", ComponentStatus::Down).await;
    let mut changes = Vec::new();
    for (i, author) in ["ann", "bob", "cat", "dan", "eva"].iter().enumerate() {
        let mention = rig.mention(
            &format!("{}", 100 + i),
            author,
            Intent::OutageReport,
            Some("api"),
        );
        changes.push(rig.store_mention(&mention).await);
    }
    let other = responder(&rig.config, &rig.store, &rig.clock, &rig.support);
    let (a, b, c) = tokio::join!(
        rig.responder.handle(&changes, deadline()),
        other.handle(&changes, deadline()),
        rig.responder.handle(&changes[2..], deadline()),
    );
    for report in [&a, &b, &c] {
        assert!(report.failed.is_empty(), "{report:?}");
    }
    // Whatever a racing drain left behind, the next one finishes.
    rig.responder.drain(deadline()).await;
    let statuses = rig.server.statuses();
    let mut answered: Vec<&str> = statuses
        .iter()
        .filter_map(|s| s.in_reply_to.as_deref())
        .collect();
    answered.sort_unstable();
    assert_eq!(
        answered,
        ["100", "101", "102", "103", "104"],
        "one reply each"
    );
    // Resolution: exactly one follow-up each, however many times the change is handled.
    rig.clock.advance(TimeDelta::minutes(20));
    let resolved = rig
        .set_status("api", ComponentStatus::Operational)
        .await
        .unwrap();
    let (x, y) = tokio::join!(
        rig.responder
            .handle(std::slice::from_ref(&resolved), deadline()),
        other.handle(std::slice::from_ref(&resolved), deadline()),
    );
    assert!(x.failed.is_empty() && y.failed.is_empty());
    rig.responder
        .handle(std::slice::from_ref(&resolved), deadline())
        .await;
    rig.responder.drain(deadline()).await;
    let follow_ups: Vec<String> = rig
        .texts()
        .into_iter()
        .filter(|t| t.contains("fixed") || t.contains("working again"))
        .collect();
    assert_eq!(follow_ups.len(), 5, "{follow_ups:#?}");
    assert_eq!(rig.server.statuses().len(), 10);
}

#[tokio::test]
async fn racing_batches_post_once_on_sqlite() {
    let clock = ManualClock::new(epoch());
    racing_batches_post_once(sqlite_store(&clock), clock).await;
}

#[tokio::test]
async fn racing_batches_post_once_on_dynamodb() {
    let clock = ManualClock::new(epoch());
    racing_batches_post_once(dynamo_store(&clock).await, clock).await;
}

#[tokio::test]
async fn mentions_nobody_should_answer_are_left_or_given_to_a_person() {
    let rig = rig(
        "",
        "deny = [\"troll@elsewhere.example\"]\nvip = [\"id-bigco\"]",
    )
    .await;
    let own = StoredMention {
        author: "acme".into(),
        ..rig.mention("1", "acme", Intent::OutageReport, None)
    };
    let repost = StoredMention {
        kind: MentionKind::Repost,
        ..rig.mention("2", "rita", Intent::OutageReport, None)
    };
    let troll = rig.mention("3", "troll", Intent::OutageReport, None);
    let praise = rig.mention("4", "pat", Intent::Praise, None);
    let vip = rig.mention("5", "bigco", Intent::OutageReport, None);
    let unsure = StoredMention {
        confidence: 0.4,
        ..rig.mention("6", "una", Intent::OutageReport, None)
    };
    let stale = StoredMention {
        created_at: rig.clock.now() - TimeDelta::minutes(31),
        ..rig.mention("7", "sam", Intent::OutageReport, None)
    };
    let complaint = rig.mention("8", "carl", Intent::Complaint, None);
    for mention in [
        &own, &repost, &troll, &praise, &vip, &unsure, &stale, &complaint,
    ] {
        let report = rig.arrive(mention).await;
        assert!(report.failed.is_empty(), "{report:?}");
    }
    assert!(rig.server.statuses().is_empty(), "{:?}", rig.texts());
    let expect = [
        (&own, Outcome::Ignored, "own_account"),
        (&repost, Outcome::Ignored, "repost"),
        (&troll, Outcome::Ignored, "denied"),
        (&praise, Outcome::Ignored, "not_asking"),
        (&vip, Outcome::HandedOff, "vip"),
        (&unsure, Outcome::HandedOff, "low_confidence"),
        (&stale, Outcome::HandedOff, "stale"),
        (&complaint, Outcome::HandedOff, "complaint_without_incident"),
    ];
    for (mention, outcome, reason) in expect {
        assert_eq!(
            rig.outcome(mention).await,
            (outcome, Some(reason.into())),
            "{}",
            mention.id
        );
    }
    let handed: Vec<(String, Option<String>)> = rig
        .support
        .handed_off()
        .into_iter()
        .map(|h| (h.reason, h.post_url))
        .collect();
    assert_eq!(handed.len(), 4, "{handed:?}");
    assert_eq!(handed[0], ("vip".into(), Some(vip.url.clone())));
}

#[tokio::test]
async fn all_green_gets_a_reply_that_a_person_is_looking_and_a_handoff_once_per_cooldown() {
    let rig = rig("", "cooldown = \"2h\"").await;
    let first = rig.mention("1", "dana", Intent::Question, Some("login"));
    rig.arrive(&first).await;
    let texts = rig.texts();
    assert_eq!(texts.len(), 1);
    assert!(
        texts[0].contains("Login") && texts[0].contains("our team"),
        "{}",
        texts[0]
    );
    assert_eq!(rig.support.handed_off().len(), 1);
    assert_eq!(rig.support.handed_off()[0].reason, "all_clear");
    rig.clock.advance(TimeDelta::minutes(90));
    rig.arrive(&rig.mention("2", "dana", Intent::Question, Some("login")))
        .await;
    assert_eq!(rig.texts().len(), 1, "within the cooldown");
    rig.clock.advance(TimeDelta::minutes(31));
    rig.arrive(&rig.mention("3", "dana", Intent::Question, Some("login")))
        .await;
    assert_eq!(rig.texts().len(), 2, "after the cooldown");
}

#[tokio::test]
async fn an_early_reporter_told_all_is_well_hears_when_the_incident_they_reported_is_fixed() {
    let rig = rig("", "").await;
    // Dana reports before the probes see anything: the checks are green, so she is told a
    // person is looking.
    let early = rig.mention("1", "dana", Intent::OutageReport, Some("api"));
    rig.arrive(&early).await;
    assert_eq!(rig.texts().len(), 1);
    shared::mentions::surge::record_report(rig.store.as_ref(), &rig.config.mentions, &early)
        .await
        .unwrap();
    // The probes confirm; her report is attached to the incident as evidence.
    rig.clock.advance(TimeDelta::minutes(2));
    let opened = rig.set_status("api", ComponentStatus::Down).await.unwrap();
    rig.responder.handle(&[opened], deadline()).await;
    shared::mentions::surge::evaluate(rig.store.as_ref(), &rig.config, rig.clock.now())
        .await
        .unwrap();
    let incident = incident::open_incident(rig.store.as_ref(), &ComponentId::parse("api").unwrap())
        .await
        .unwrap()
        .unwrap();
    let evidence = shared::mentions::surge::evidence(rig.store.as_ref(), &incident)
        .await
        .unwrap();
    assert_eq!(evidence.len(), 1, "her report is evidence of the incident");
    // The fix: one follow-up to her, however often the change is handled.
    rig.clock.advance(TimeDelta::minutes(20));
    let resolved = rig
        .set_status("api", ComponentStatus::Operational)
        .await
        .unwrap();
    for _ in 0..2 {
        rig.responder
            .handle(std::slice::from_ref(&resolved), deadline())
            .await;
    }
    rig.responder.drain(deadline()).await;
    let to_her: Vec<String> = rig
        .server
        .statuses()
        .into_iter()
        .filter(|s| s.in_reply_to.as_deref() == Some("1"))
        .map(|s| s.text)
        .collect();
    assert_eq!(
        to_her.len(),
        2,
        "the first answer and one follow-up: {to_her:#?}"
    );
    assert!(
        to_her[1].contains("working again") || to_her[1].contains("fixed"),
        "{to_her:#?}"
    );
}

#[tokio::test]
async fn the_situation_follows_what_the_customer_named() {
    let rig = rig("", "").await;
    rig.set_status("api", ComponentStatus::Down).await;
    rig.arrive(&rig.mention("1", "ann", Intent::OutageReport, Some("login")))
        .await;
    let text = &rig.texts()[0];
    assert!(
        text.contains("Login") && text.contains("may be"),
        "an incident elsewhere: {text}"
    );
}

#[tokio::test]
async fn a_thread_sitrep_replied_in_is_not_answered_again() {
    let rig = rig("", "").await;
    rig.set_status("api", ComponentStatus::Down).await;
    rig.arrive(&rig.mention("1", "ann", Intent::OutageReport, Some("api")))
        .await;
    let ours = rig.server.statuses()[0].id.clone();
    let follow_on = StoredMention {
        in_reply_to: Some(ours),
        ..rig.mention("2", "bob", Intent::Question, Some("api"))
    };
    rig.arrive(&follow_on).await;
    assert_eq!(rig.server.statuses().len(), 1);
    assert_eq!(
        rig.outcome(&follow_on).await,
        (Outcome::Covered, Some("thread_answered".into()))
    );
}

#[tokio::test]
async fn a_dry_run_decides_and_records_everything_and_posts_nothing() {
    let rig = rig("announce = \"auto\"", "").await;
    let config = Config::parse(
        &replies_config_text(&rig.server.server.base, "announce = \"auto\"", "")
            .replace("mode = \"live\"", "mode = \"dry-run\""),
    )
    .unwrap();
    let config = Arc::new(config);
    let dry = responder(&config, &rig.store, &rig.clock, &rig.support);
    let opened = rig.set_status("api", ComponentStatus::Down).await.unwrap();
    let report = dry.handle(&[opened], deadline()).await;
    let mention = rig.mention("1", "ann", Intent::OutageReport, Some("api"));
    let change = rig.store_mention(&mention).await;
    let report2 = dry.handle(&[change], deadline()).await;
    assert!(rig.server.statuses().is_empty());
    assert_eq!(rig.server.posts_received(), 0);
    let recorded: Vec<&ReplyEvent> = report
        .events
        .iter()
        .chain(&report2.events)
        .filter(|e| matches!(e, ReplyEvent::Sent { dry_run: true, .. }))
        .collect();
    assert_eq!(recorded.len(), 2, "the update and the reply: {recorded:#?}");
    let (outcome, _) = rig.outcome(&mention).await;
    assert_eq!(outcome, Outcome::Recorded);
    let claim = job::load(
        rig.store.as_ref(),
        &keys::reply_job(
            Platform::Mastodon,
            "id-ann",
            incident::open_incident(rig.store.as_ref(), &ComponentId::parse("api").unwrap())
                .await
                .unwrap()
                .as_deref(),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(matches!(claim.job.state, JobState::Recorded { .. }));
    assert!(
        claim
            .job
            .text
            .unwrap()
            .starts_with("@ann@elsewhere.example")
    );
}

#[tokio::test]
async fn public_updates_go_out_once_per_change_or_as_drafts() {
    let rig = rig("announce = \"auto\"", "").await;
    rig.clock.set("2026-11-23T10:00:00Z".parse().unwrap());
    let opened = rig.set_status("api", ComponentStatus::Down).await.unwrap();
    rig.responder
        .handle(std::slice::from_ref(&opened), deadline())
        .await;
    rig.responder
        .handle(std::slice::from_ref(&opened), deadline())
        .await;
    rig.clock.advance(TimeDelta::minutes(5));
    let changed = rig
        .set_status("api", ComponentStatus::Degraded)
        .await
        .unwrap();
    rig.responder.handle(&[changed], deadline()).await;
    rig.clock.advance(TimeDelta::minutes(37));
    let resolved = rig
        .set_status("api", ComponentStatus::Operational)
        .await
        .unwrap();
    rig.responder.handle(&[resolved], deadline()).await;
    let texts = rig.texts();
    assert_eq!(texts.len(), 3, "{texts:#?}");
    assert!(
        texts[0].contains("Public API") && texts[0].contains("down"),
        "{}",
        texts[0]
    );
    assert!(texts[1].contains("degraded"), "{}", texts[1]);
    assert!(
        texts[2].contains("10:42 UTC") && texts[2].contains("42 min"),
        "{}",
        texts[2]
    );
    assert!(
        rig.server
            .statuses()
            .iter()
            .all(|s| s.in_reply_to.is_none())
    );
    assert!(
        texts.iter().all(|t| !t.contains('@')),
        "updates address nobody"
    );

    let drafts = rig_on(
        sqlite_store(&rig.clock),
        rig.clock.clone(),
        "announce = \"draft\"",
        "",
    )
    .await;
    let opened = drafts
        .set_status("api", ComponentStatus::Down)
        .await
        .unwrap();
    drafts.responder.handle(&[opened], deadline()).await;
    assert!(drafts.server.statuses().is_empty());
    let handed = drafts.support.handed_off();
    assert_eq!(handed.len(), 1);
    assert_eq!(handed[0].reason, "draft");
    assert!(
        handed[0]
            .draft
            .as_deref()
            .unwrap_or_default()
            .contains("Public API")
    );
}

#[tokio::test]
async fn a_rate_limit_holds_replies_in_arrival_order_until_it_resets_and_stale_ones_go_to_a_person()
{
    let rig = rig("", "max_age = \"10m\"").await;
    rig.clock.set("2026-11-23T10:00:00Z".parse().unwrap());
    rig.set_status("api", ComponentStatus::Down).await;
    rig.server
        .then(Next::RateLimited("2026-11-23T10:05:00.000Z".into()));
    let early = rig.mention("1", "ann", Intent::OutageReport, Some("api"));
    let report = rig.arrive(&early).await;
    assert!(
        report
            .events
            .iter()
            .any(|e| matches!(e, ReplyEvent::Waiting { .. } | ReplyEvent::Failed { .. })),
        "{report:#?}"
    );
    rig.clock.advance(TimeDelta::minutes(1));
    let second = rig.mention("2", "bob", Intent::OutageReport, Some("api"));
    let third = StoredMention {
        created_at: rig.clock.now() - TimeDelta::minutes(9),
        ..rig.mention("3", "cat", Intent::OutageReport, Some("api"))
    };
    rig.arrive(&second).await;
    rig.arrive(&third).await;
    assert!(rig.server.statuses().is_empty(), "nothing while paused");
    rig.clock.set("2026-11-23T10:05:01Z".parse().unwrap());
    rig.responder.drain(deadline()).await;
    let order: Vec<String> = rig
        .server
        .statuses()
        .into_iter()
        .filter_map(|s| s.in_reply_to)
        .collect();
    assert_eq!(
        order,
        ["1", "2"],
        "in arrival order; the third became stale while it waited"
    );
    assert_eq!(
        rig.outcome(&third).await,
        (Outcome::HandedOff, Some("stale".into()))
    );
}

#[tokio::test]
async fn a_lost_answer_is_checked_before_the_retry_and_posts_once() {
    let rig = rig("", "").await;
    rig.set_status("api", ComponentStatus::Down).await;
    rig.server.then(Next::TakeAndDrop);
    let mention = rig.mention("1", "ann", Intent::OutageReport, Some("api"));
    rig.arrive(&mention).await;
    rig.responder.drain(deadline()).await;
    rig.responder.drain(deadline()).await;
    let statuses = rig.server.statuses();
    assert_eq!(statuses.len(), 1, "one status, whatever the retries");
    assert!(
        rig.server.posts_received() >= 2,
        "the repeat carried the same key"
    );
    assert_eq!(rig.outcome(&mention).await.0, Outcome::Answered);
}

#[tokio::test]
async fn a_refused_post_goes_to_a_person() {
    let rig = rig("", "").await;
    rig.set_status("api", ComponentStatus::Down).await;
    rig.server.then(Next::Answer(
        422,
        r#"{"error":"Validation failed: Text character limit of 500 exceeded"}"#.into(),
    ));
    let mention = rig.mention("1", "ann", Intent::OutageReport, Some("api"));
    rig.arrive(&mention).await;
    assert!(rig.server.statuses().is_empty());
    let handed = rig.support.handed_off();
    assert_eq!(handed.len(), 1);
    assert_eq!(handed[0].reason, "refused");
    // The draft is the reply a person may post; the refusal is told apart from it.
    let draft = handed[0]
        .draft
        .as_deref()
        .expect("the reply sitrep would have posted");
    assert!(draft.starts_with("@ann@elsewhere.example"), "{draft}");
    assert!(!draft.contains("Validation failed"), "{draft}");
    let problem = handed[0].problem.as_deref().expect("why it was not posted");
    assert!(
        problem.contains("Validation failed: Text character limit of 500 exceeded"),
        "{problem}"
    );
    assert_eq!(
        rig.outcome(&mention).await,
        (Outcome::HandedOff, Some("refused".into()))
    );
}

#[tokio::test]
async fn a_refusal_that_cannot_be_read_is_retried_not_handed_off() {
    let rig = rig("", "").await;
    rig.set_status("api", ComponentStatus::Down).await;
    // A refusal cut short, and a proxy's page: neither is Mastodon saying no.
    rig.server
        .then(Next::Answer(422, r#"{"error":"Validation fa"#.into()));
    rig.server
        .then(Next::Answer(403, "<html>Forbidden</html>".into()));
    let mention = rig.mention("1", "ann", Intent::OutageReport, Some("api"));
    rig.arrive(&mention).await;
    assert!(rig.server.statuses().is_empty());
    for _ in 0..2 {
        rig.clock.advance(TimeDelta::minutes(2));
        rig.responder.drain(deadline()).await;
    }
    assert_eq!(rig.texts().len(), 1, "posted once, after the retries");
    assert!(rig.support.handed_off().is_empty());
    assert_eq!(rig.outcome(&mention).await.0, Outcome::Answered);
}

#[tokio::test]
async fn a_post_answered_with_a_truncated_200_is_not_posted_twice() {
    let rig = rig("", "").await;
    rig.set_status("api", ComponentStatus::Down).await;
    rig.server.then(Next::TakeAndTruncate);
    let mention = rig.mention("1", "ann", Intent::OutageReport, Some("api"));
    let report = rig.arrive(&mention).await;
    assert!(
        report.events.iter().any(|e| matches!(
            e,
            ReplyEvent::Failed { detail, .. } if detail.contains("checked before any retry")
        )),
        "ambiguous, not refused: {report:#?}"
    );
    rig.responder.drain(deadline()).await;
    assert_eq!(rig.texts().len(), 1, "the repeat carried the same key");
    assert!(rig.server.posts_received() >= 2);
    assert!(rig.support.handed_off().is_empty());
    assert_eq!(rig.outcome(&mention).await.0, Outcome::Answered);
}

#[tokio::test]
async fn a_reply_that_waited_past_the_fix_says_it_is_fixed_and_counts_as_followed_up() {
    let rig = rig("", "").await;
    rig.set_status("api", ComponentStatus::Down).await;
    rig.server
        .then(Next::RateLimited("2026-11-23T10:03:00.000Z".into()));
    rig.clock.set("2026-11-23T10:00:00Z".parse().unwrap());
    let mention = rig.mention("1", "ann", Intent::OutageReport, Some("api"));
    rig.arrive(&mention).await;
    rig.clock.set("2026-11-23T10:02:00Z".parse().unwrap());
    let resolved = rig
        .set_status("api", ComponentStatus::Operational)
        .await
        .unwrap();
    rig.responder.handle(&[resolved], deadline()).await;
    rig.clock.set("2026-11-23T10:04:00Z".parse().unwrap());
    rig.responder.drain(deadline()).await;
    let texts = rig.texts();
    assert_eq!(texts.len(), 1, "{texts:#?}");
    assert!(texts[0].contains("10:02 UTC"), "{}", texts[0]);
}

#[tokio::test]
async fn a_slow_first_response_is_a_breach() {
    let rig = rig("", "sla = \"1m\"").await;
    rig.set_status("api", ComponentStatus::Down).await;
    let slow = StoredMention {
        created_at: rig.clock.now() - TimeDelta::minutes(4),
        ..rig.mention("1", "ann", Intent::OutageReport, Some("api"))
    };
    let report = rig.arrive(&slow).await;
    assert!(
        report.events.iter().any(|e| matches!(
            e,
            ReplyEvent::Sent {
                sla_breached: true,
                ..
            }
        )),
        "{report:#?}"
    );
    let summary = response::report(
        rig.store.as_ref(),
        rig.clock.now() - TimeDelta::hours(1),
        rig.clock.now(),
        TimeDelta::minutes(1),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            summary.total.mentions,
            summary.total.answered,
            summary.total.within_sla
        ),
        (1, 1, 0)
    );
    assert_eq!(summary.total.percentile(50.0), Some(240.0));
}

#[tokio::test]
async fn hostile_mention_text_never_reaches_a_reply() {
    let rig = rig("", "").await;
    rig.set_status("api", ComponentStatus::Down).await;
    let hostile = [
        "@acme @everyone @ceo@corp.example https://evil.example/phish {component} {{status}} %s ${x}".to_owned(),
        "\u{202E}@acme down\u{2066}\u{200B}\u{200F}".to_owned(),
        format!("@acme {}", "😀".repeat(2500)),
    ];
    for (i, text) in hostile.iter().enumerate() {
        let mention = StoredMention {
            text: text.clone(),
            author: format!("h{i}\u{202E}x<b>@elsewhere.example"),
            ..rig.mention(
                &format!("{}", 10 + i),
                &format!("h{i}"),
                Intent::OutageReport,
                Some("api"),
            )
        };
        rig.arrive(&mention).await;
    }
    let rules = LengthRules::mastodon(500);
    let texts = rig.texts();
    assert_eq!(texts.len(), 3);
    for text in &texts {
        assert!(rules.fits(text), "{text}");
        for bad in [
            "evil", "everyone", "ceo", "{", "😀", "\u{202E}", "\u{200B}", "<b>", "%s",
        ] {
            assert!(!text.contains(bad), "{bad:?} leaked into {text:?}");
        }
        assert_eq!(
            text.matches('@').count(),
            2,
            "only the author (local@domain): {text}"
        );
    }
}

#[tokio::test]
async fn a_malformed_mention_fails_alone_and_the_others_are_answered() {
    let rig = rig("", "").await;
    rig.set_status("api", ComponentStatus::Down).await;
    let good = rig.mention("1", "ann", Intent::OutageReport, Some("api"));
    let good_change = rig.store_mention(&good).await;
    let bad_key = Key::new("MENTION#mastodon#2", "MENTION");
    let mut bad_attributes = serde_json::Map::new();
    bad_attributes.insert("platform".into(), "mastodon".into());
    rig.store
        .create(NewItem::new(bad_key.clone(), bad_attributes))
        .await
        .unwrap();
    let bad_change = ItemChange {
        id: "seq-bad".into(),
        key: bad_key.clone(),
        old: None,
        new: rig.store.get(&bad_key).await.unwrap(),
    };
    let later = rig.mention("3", "bob", Intent::OutageReport, Some("api"));
    let later_change = rig.store_mention(&later).await;
    let report = rig
        .responder
        .handle(&[good_change, bad_change, later_change], deadline())
        .await;
    assert_eq!(report.failed, ["seq-bad"]);
    assert_eq!(rig.server.statuses().len(), 2);
}

/// A support channel that refuses its first message, as SNS does when it is unreachable.
struct FlakySupport {
    inner: LogSupport,
    failed_once: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl shared::reply::handoff::Support for FlakySupport {
    async fn hand_off(
        &self,
        handoff: &shared::reply::handoff::Handoff,
    ) -> Result<(), shared::reply::handoff::HandoffError> {
        if !self
            .failed_once
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return Err(shared::reply::handoff::HandoffError::Publish {
                topic: "support".into(),
                detail: "unreachable".into(),
            });
        }
        self.inner.hand_off(handoff).await
    }
}

#[tokio::test]
async fn a_handoff_the_topic_refuses_fails_its_change_and_goes_out_once_on_the_retry() {
    let rig = rig("", "vip = [\"id-bigco\"]").await;
    let flaky = Arc::new(FlakySupport {
        inner: LogSupport::new(),
        failed_once: std::sync::atomic::AtomicBool::new(false),
    });
    let random = Arc::new(SeededRandom::new(7));
    let deps = ClientDeps {
        transport: Transport::new(RetryPolicy::default(), random.clone()).unwrap(),
        store: Arc::clone(&rig.store),
        clock: Arc::new(rig.clock.clone()),
        random: random.clone(),
    };
    let responder = Responder::new(
        Arc::clone(&rig.config),
        Arc::new(EnvironmentSecrets::new()),
        deps,
        random,
        flaky.clone(),
    );
    let vip = rig.mention("1", "bigco", Intent::OutageReport, None);
    let change = rig.store_mention(&vip).await;
    let first = responder
        .handle(std::slice::from_ref(&change), deadline())
        .await;
    assert_eq!(
        first.failed,
        std::slice::from_ref(&change.id),
        "retried by the stream"
    );
    assert!(flaky.inner.handed_off().is_empty());
    for _ in 0..2 {
        let again = responder
            .handle(std::slice::from_ref(&change), deadline())
            .await;
        assert!(again.failed.is_empty(), "{again:?}");
    }
    assert_eq!(flaky.inner.handed_off().len(), 1, "published once");
    assert_eq!(
        rig.outcome(&vip).await,
        (Outcome::HandedOff, Some("vip".into()))
    );
}

#[tokio::test]
async fn a_write_failing_around_a_reply_still_closes_its_thread_and_brings_one_follow_up() {
    // Whichever write of the mention's handling and its drain fails (the decision, the
    // claim, the sending lease, the posted state, the thread markers, the follow-up list,
    // the response record), the record is retried and the next drains carry on: the author
    // gets one reply, then one follow-up, and a post in the thread is not answered again.
    for nth in 0..20 {
        let rig = rig("", "").await;
        let faults = Arc::new(FlakyStore::new(Arc::clone(&rig.store)));
        let store: Arc<dyn Store> = faults.clone();
        let responder = responder(&rig.config, &store, &rig.clock, &rig.support);
        rig.set_status("api", ComponentStatus::Down).await;
        let mention = rig.mention("41", "ann", Intent::OutageReport, Some("api"));
        let change = rig.store_mention(&mention).await;
        faults.fail_nth_write(nth);
        let first = responder
            .handle(std::slice::from_ref(&change), deadline())
            .await;
        faults.heal();
        if !first.failed.is_empty() {
            responder
                .handle(std::slice::from_ref(&change), deadline())
                .await;
        }
        // The schedule's next drains, past any sending lease.
        rig.clock.advance(TimeDelta::minutes(2));
        responder.drain(deadline()).await;
        let mut thread = rig.mention("42", "bob", Intent::OutageReport, Some("api"));
        thread.in_reply_to = Some("41".into());
        let change = rig.store_mention(&thread).await;
        responder.handle(&[change], deadline()).await;
        rig.clock.advance(TimeDelta::minutes(5));
        let resolved = rig
            .set_status("api", ComponentStatus::Operational)
            .await
            .expect("the incident resolves");
        responder.handle(&[resolved], deadline()).await;
        let statuses: Vec<(Option<String>, String)> = rig
            .server
            .statuses()
            .into_iter()
            .map(|s| (s.in_reply_to, s.key.unwrap_or_default()))
            .collect();
        assert_eq!(statuses.len(), 2, "write {nth} failed: {statuses:#?}");
        assert!(
            statuses[0].1.starts_with("REPLIED#") && statuses[1].1.starts_with("FOLLOWUP#"),
            "write {nth} failed: {statuses:#?}"
        );
        assert!(
            statuses.iter().all(|(to, _)| to.as_deref() == Some("41")),
            "write {nth} failed: {statuses:#?}"
        );
    }
}

#[tokio::test]
async fn a_handoff_whose_mark_fails_once_is_not_handed_off_again_by_a_late_redelivery() {
    // Whichever write of a complaint's handling fails once, the retry and a redelivery a
    // few minutes later (past the handoff's lease) hand it to a person once in all.
    for nth in 0..8 {
        let rig = rig("", "").await;
        let faults = Arc::new(FlakyStore::new(Arc::clone(&rig.store)));
        let store: Arc<dyn Store> = faults.clone();
        let responder = responder(&rig.config, &store, &rig.clock, &rig.support);
        let complaint = rig.mention("51", "gus", Intent::Complaint, Some("login"));
        let change = rig.store_mention(&complaint).await;
        faults.fail_nth_write(nth);
        let first = responder
            .handle(std::slice::from_ref(&change), deadline())
            .await;
        faults.heal();
        if !first.failed.is_empty() {
            responder
                .handle(std::slice::from_ref(&change), deadline())
                .await;
        }
        rig.clock.advance(TimeDelta::minutes(3));
        responder.handle(&[change], deadline()).await;
        let reasons: Vec<String> = rig
            .support
            .handed_off()
            .into_iter()
            .map(|h| h.reason)
            .collect();
        assert_eq!(
            reasons,
            ["complaint_without_incident"],
            "write {nth} failed"
        );
    }
}

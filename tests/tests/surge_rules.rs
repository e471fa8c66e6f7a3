//! Surge rules on the manual clock: N distinct authors within W minutes open one suspected
//! incident with their posts as evidence; fewer people, one loud person, or reports spread
//! too thin do not; an incident the probes opened takes the reports instead; a quiet surge
//! resolves; racing evaluations open exactly one.

use std::sync::Arc;

use chrono::Duration as TimeDelta;
use shared::clock::{Clock, ManualClock};
use shared::config::{ComponentId, Config};
use shared::incident::{self, ComponentStatus, IncidentPhase};
use shared::mentions::StoredMention;
use shared::mentions::classify::Intent;
use shared::mentions::surge::{self, SurgeChange};
use shared::social::{MentionKind, Platform};
use shared::store::Store;
use sitrep_tests::{dynamo_store, epoch, mentions_config, sqlite_store};

fn config() -> Config {
    mentions_config(
        "https://api.x.com",
        "surge_authors = 3\nsurge_window = \"10m\"\nsurge_quiet = \"30m\"",
    )
}

fn report(author: &str, post: &str, component: Option<&str>, clock: &ManualClock) -> StoredMention {
    StoredMention {
        platform: Platform::X,
        id: post.into(),
        account: shared::config::AccountId::parse("acme-x").unwrap(),
        url: format!("https://x.com/{author}/status/{post}"),
        author_id: format!("id-{author}"),
        author: author.into(),
        text: "@acme is it down?".into(),
        truncated: false,
        created_at: clock.now(),
        received_at: clock.now(),
        kind: MentionKind::Mention,
        in_reply_to: None,
        conversation: Some(post.into()),
        others: Vec::new(),
        intent: Intent::OutageReport,
        confidence: 0.95,
        lang: "en".into(),
        component: component.map(|c| ComponentId::parse(c).unwrap()),
    }
}

async fn record(store: &dyn Store, config: &Config, mention: &StoredMention) {
    surge::record_report(store, &config.mentions, mention)
        .await
        .unwrap();
}

/// One report from each of `authors` about `component`, post ids `<prefix><n>`, with
/// `every` between them on the clock.
async fn wave(
    store: &dyn Store,
    config: &Config,
    clock: &ManualClock,
    authors: &[&str],
    component: Option<&str>,
    prefix: &str,
    every: TimeDelta,
) {
    for (i, author) in authors.iter().enumerate() {
        record(
            store,
            config,
            &report(author, &format!("{prefix}{i}"), component, clock),
        )
        .await;
        clock.advance(every);
    }
}

fn opened(changes: &[SurgeChange]) -> Vec<&shared::incident::Incident> {
    changes
        .iter()
        .filter_map(|c| match c {
            SurgeChange::Opened { incident, .. } => Some(incident),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn n_distinct_authors_within_the_window_open_one_suspected_incident() {
    let clock = ManualClock::new(epoch());
    let store = sqlite_store(&clock);
    let config = config();
    wave(
        store.as_ref(),
        &config,
        &clock,
        &["ana", "bo"],
        Some("api"),
        "",
        TimeDelta::minutes(2),
    )
    .await;
    let below = surge::evaluate(store.as_ref(), &config, clock.now())
        .await
        .unwrap();
    assert!(
        opened(&below).is_empty(),
        "two people are not a surge: {below:?}"
    );

    record(
        store.as_ref(),
        &config,
        &report("cy", "2", Some("api"), &clock),
    )
    .await;
    let changes = surge::evaluate(store.as_ref(), &config, clock.now())
        .await
        .unwrap();
    let incidents = opened(&changes);
    assert_eq!(incidents.len(), 1, "{changes:?}");
    let suspected = incidents[0].clone();
    assert!(suspected.suspected);
    assert_eq!(
        suspected.component.as_ref().map(|c| c.as_str()),
        Some("api")
    );
    assert_eq!(suspected.phase, IncidentPhase::Open);
    assert_eq!(
        suspected.title,
        "Suspected: customers report Public API is down"
    );

    let evidence = surge::evidence(store.as_ref(), &suspected.id)
        .await
        .unwrap();
    assert_eq!(evidence.len(), 3);
    let timeline = incident::timeline(store.as_ref(), &suspected.id)
        .await
        .unwrap();
    assert!(
        timeline[0].message.contains("https://x.com/cy/status/2"),
        "{timeline:?}"
    );
    assert!(
        incident::recent(store.as_ref(), 5)
            .await
            .unwrap()
            .iter()
            .any(|i| i.id == suspected.id)
    );

    // Evaluating again, or after more reports, never opens a second one.
    let again = surge::evaluate(store.as_ref(), &config, clock.now())
        .await
        .unwrap();
    assert!(opened(&again).is_empty(), "{again:?}");
    record(
        store.as_ref(),
        &config,
        &report("dee", "3", Some("api"), &clock),
    )
    .await;
    let more = surge::evaluate(store.as_ref(), &config, clock.now())
        .await
        .unwrap();
    assert_eq!(
        more,
        vec![SurgeChange::Attached {
            incident: suspected.id.clone(),
            reports: 1
        }]
    );
}

#[tokio::test]
async fn one_loud_author_or_reports_spread_past_the_window_are_no_surge() {
    let clock = ManualClock::new(epoch());
    let store = sqlite_store(&clock);
    let config = config();
    for i in 0..6 {
        record(
            store.as_ref(),
            &config,
            &report("loud", &format!("{i}"), Some("api"), &clock),
        )
        .await;
    }
    assert!(
        opened(
            &surge::evaluate(store.as_ref(), &config, clock.now())
                .await
                .unwrap()
        )
        .is_empty()
    );

    wave(
        store.as_ref(),
        &config,
        &clock,
        &["a", "b", "c"],
        Some("login"),
        "s",
        TimeDelta::minutes(6),
    )
    .await;
    // a at 0, b at 6, c at 12 minutes: never three within ten minutes.
    let changes = surge::evaluate(store.as_ref(), &config, clock.now() - TimeDelta::minutes(6))
        .await
        .unwrap();
    assert!(opened(&changes).is_empty(), "{changes:?}");
}

#[tokio::test]
async fn an_incident_the_probes_opened_takes_the_reports_instead() {
    let clock = ManualClock::new(epoch());
    let store = sqlite_store(&clock);
    let config = config();
    let api = config
        .component(&ComponentId::parse("api").unwrap())
        .unwrap();
    let changes = incident::transition(
        store.as_ref(),
        api,
        ComponentStatus::Down,
        Some("503".into()),
        clock.now(),
    )
    .await
    .unwrap();
    let probe_incident = changes
        .iter()
        .find_map(|c| match c {
            incident::Change::Opened(i) => Some(i.id.clone()),
            _ => None,
        })
        .unwrap();
    clock.advance(TimeDelta::minutes(1));
    wave(
        store.as_ref(),
        &config,
        &clock,
        &["ana", "bo", "cy", "dee"],
        Some("api"),
        "",
        TimeDelta::zero(),
    )
    .await;
    // A report naming no component joins the open incident too.
    record(store.as_ref(), &config, &report("eve", "9", None, &clock)).await;
    let changes = surge::evaluate(store.as_ref(), &config, clock.now())
        .await
        .unwrap();
    assert!(
        opened(&changes).is_empty(),
        "no suspected incident beside the probes' one: {changes:?}"
    );
    assert_eq!(
        surge::evidence(store.as_ref(), &probe_incident)
            .await
            .unwrap()
            .len(),
        5
    );
}

#[tokio::test]
async fn reports_naming_no_component_open_a_service_wide_incident_that_resolves_when_quiet() {
    let clock = ManualClock::new(epoch());
    let store = sqlite_store(&clock);
    let config = config();
    record(store.as_ref(), &config, &report("ana", "1", None, &clock)).await;
    record(
        store.as_ref(),
        &config,
        &report("bo", "2", Some("login"), &clock),
    )
    .await;
    record(store.as_ref(), &config, &report("cy", "3", None, &clock)).await;
    let changes = surge::evaluate(store.as_ref(), &config, clock.now())
        .await
        .unwrap();
    let incidents = opened(&changes);
    assert_eq!(incidents.len(), 1, "{changes:?}");
    let service = incidents[0].clone();
    assert_eq!(service.component, None);
    assert_eq!(
        service.title,
        "Suspected: customers report Acme Cloud is down"
    );

    clock.advance(TimeDelta::minutes(29));
    let still = surge::evaluate(store.as_ref(), &config, clock.now())
        .await
        .unwrap();
    assert!(still.is_empty(), "{still:?}");
    clock.advance(TimeDelta::minutes(2));
    let quiet = surge::evaluate(store.as_ref(), &config, clock.now())
        .await
        .unwrap();
    match quiet.as_slice() {
        [SurgeChange::Resolved(resolved)] => {
            assert_eq!(resolved.id, service.id);
            assert_eq!(resolved.phase, IncidentPhase::Resolved);
        }
        other => panic!("expected the quiet incident resolved, got {other:?}"),
    }
    let timeline = incident::timeline(store.as_ref(), &service.id)
        .await
        .unwrap();
    assert!(
        timeline
            .iter()
            .any(|e| e.message.starts_with("No new reports for 30 min")),
        "{timeline:?}"
    );

    // A new wave later is a new incident.
    wave(
        store.as_ref(),
        &config,
        &clock,
        &["x", "y", "z"],
        None,
        "w",
        TimeDelta::zero(),
    )
    .await;
    let wave = surge::evaluate(store.as_ref(), &config, clock.now())
        .await
        .unwrap();
    let next = opened(&wave);
    assert_eq!(next.len(), 1);
    assert_ne!(next[0].id, service.id);
}

#[tokio::test]
async fn racing_evaluations_open_exactly_one_incident_on_dynamodb() {
    let clock = ManualClock::new(epoch());
    let store = dynamo_store(&clock).await;
    let config = Arc::new(config());
    wave(
        store.as_ref(),
        &config,
        &clock,
        &["ana", "bo", "cy"],
        Some("login"),
        "",
        TimeDelta::zero(),
    )
    .await;
    let now = clock.now();
    let runs = (0..4).map(|_| {
        let store = Arc::clone(&store);
        let config = Arc::clone(&config);
        tokio::spawn(async move { surge::evaluate(store.as_ref(), &config, now).await.unwrap() })
    });
    let mut opened_count = 0;
    for run in runs {
        opened_count += opened(&run.await.unwrap()).len();
    }
    assert_eq!(opened_count, 1);
    let incidents = incident::recent(store.as_ref(), 10).await.unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(
        surge::evidence(store.as_ref(), &incidents[0].id)
            .await
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn the_probes_confirm_a_suspected_incident_instead_of_opening_a_second() {
    let clock = ManualClock::new(epoch());
    let store = sqlite_store(&clock);
    let config = config();
    wave(
        store.as_ref(),
        &config,
        &clock,
        &["ana", "bo", "cy"],
        Some("api"),
        "",
        TimeDelta::zero(),
    )
    .await;
    let changes = surge::evaluate(store.as_ref(), &config, clock.now())
        .await
        .unwrap();
    let suspected = opened(&changes)[0].clone();

    clock.advance(TimeDelta::minutes(2));
    let api = config
        .component(&ComponentId::parse("api").unwrap())
        .unwrap();
    let changes = incident::transition(
        store.as_ref(),
        api,
        ComponentStatus::Down,
        Some("503 from /health".into()),
        clock.now(),
    )
    .await
    .unwrap();
    let confirmed = changes
        .iter()
        .find_map(|c| match c {
            incident::Change::Opened(i) => Some(i.clone()),
            _ => None,
        })
        .expect("the probes report their incident");
    assert_eq!(confirmed.id, suspected.id, "the same incident");
    assert!(!confirmed.suspected);
    assert_eq!(confirmed.title, "Public API is down");
    assert_eq!(incident::recent(store.as_ref(), 10).await.unwrap().len(), 1);
    let timeline = incident::timeline(store.as_ref(), &suspected.id)
        .await
        .unwrap();
    assert!(
        timeline
            .last()
            .unwrap()
            .message
            .starts_with("Confirmed by the probes: Public API is down"),
        "{timeline:?}"
    );

    // Quiet reports no longer close it: the probes own it now and resolve it themselves.
    clock.advance(TimeDelta::hours(1));
    let later = surge::evaluate(store.as_ref(), &config, clock.now())
        .await
        .unwrap();
    assert!(later.is_empty(), "{later:?}");
    let changes = incident::transition(
        store.as_ref(),
        api,
        ComponentStatus::Operational,
        None,
        clock.now(),
    )
    .await
    .unwrap();
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, incident::Change::Resolved(i) if i.id == suspected.id))
    );
}

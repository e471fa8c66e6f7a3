//! The escalation engine on the embedded store with a fake clock and the console notifier:
//! who is paged when, escalation after a missed acknowledgement, repeats until exhausted,
//! gaps and undeliverable pages falling through, low urgency waiting for working hours,
//! resolution messages, SMS commands and the watchdog, and a failed write between two
//! people's messages costing neither of them theirs.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use shared::clock::{Clock, ManualClock};
use shared::config::{Config, PersonId};
use shared::incident::{self, ComponentStatus, Incident};
use shared::notify::console::ConsoleNotifier;
use shared::notify::gsm7::gsm7_len;
use shared::notify::{MessageKind, NotifyError, RetryPolicy};
use shared::oncall::Contact;
use shared::oncall::paging::{AckLinks, AckOutcome, AckVia, Pager, PagingEvent, PagingReport};
use shared::oncall::token::AckKey;
use shared::random::SeededRandom;
use shared::store::{ItemChange, Store, keys};
use sitrep_tests::lambda_delivery::FlakyStore;
use sitrep_tests::{epoch, oncall_config_text, sqlite_store};

fn config(extra_component: &str, layer_extra: &str) -> Config {
    let text = oncall_config_text(extra_component, layer_extra);
    Config::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

struct Rig {
    clock: ManualClock,
    store: Arc<dyn Store>,
    notifier: ConsoleNotifier,
    pager: Pager,
    config: Arc<Config>,
}

fn rig_with(config: Config, start: DateTime<Utc>) -> Rig {
    let clock = ManualClock::new(start);
    let store = sqlite_store(&clock);
    let notifier = ConsoleNotifier::new();
    let config = Arc::new(config);
    let key = AckKey::new(&[7u8; 32]).expect("a 32-byte key");
    let pager = Pager::new(
        Arc::clone(&config),
        Arc::clone(&store),
        Arc::new(clock.clone()),
        Arc::new(notifier.clone()),
        Arc::new(SeededRandom::new(5)),
        Some(AckLinks {
            key: Arc::new(key),
            base: "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/ack".into(),
        }),
    )
    .with_retry(RetryPolicy {
        attempts: 1,
        ..RetryPolicy::default()
    });
    Rig {
        clock,
        store,
        notifier,
        pager,
        config,
    }
}

fn rig() -> Rig {
    rig_with(config("", ""), epoch())
}

impl Rig {
    /// Opens an incident on `api` through the probes' own transition, and returns the stream
    /// change of its record.
    async fn open(&self) -> (Incident, ItemChange) {
        let component = self.config.components[0].clone();
        let changes = incident::transition(
            &*self.store,
            &component,
            ComponentStatus::Down,
            Some("HTTP 503".into()),
            self.clock.now(),
        )
        .await
        .unwrap();
        let opened = changes
            .into_iter()
            .find_map(|c| match c {
                incident::Change::Opened(i) => Some(i),
                _ => None,
            })
            .expect("an incident opens");
        let change = self.change_of(&opened.id, "1").await;
        (opened, change)
    }

    async fn change_of(&self, incident: &str, id: &str) -> ItemChange {
        let key = keys::incident(incident);
        let item = self.store.get(&key).await.unwrap();
        ItemChange {
            id: id.into(),
            key,
            old: None,
            new: item,
        }
    }

    async fn after(&self, minutes: i64) -> PagingReport {
        self.clock.advance(Duration::minutes(minutes));
        self.pager.sweep().await
    }

    /// (person, kind) of every message so far.
    fn sent(&self) -> Vec<(String, MessageKind)> {
        self.notifier
            .sent()
            .into_iter()
            .map(|m| (m.person.to_string(), m.kind))
            .collect()
    }
}

fn person(id: &str) -> PersonId {
    PersonId::parse(id).unwrap()
}

fn paged(report: &PagingReport) -> Vec<String> {
    report
        .events
        .iter()
        .filter_map(|e| match e {
            PagingEvent::Paged { person, kind, .. } if *kind == MessageKind::Page => {
                Some(person.to_string())
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn an_opened_incident_pages_step_one_at_once_escalates_and_stops_when_acknowledged() {
    let rig = rig();
    let (incident, change) = rig.open().await;
    let report = rig.pager.handle(&[change]).await;
    assert!(report.failed.is_empty(), "{:?}", report.errors);
    // Bob's week: his SMS and his email, one person paged.
    assert_eq!(paged(&report), ["bob"]);
    let sent = rig.notifier.sent();
    assert_eq!(sent.len(), 2);
    assert!(matches!(sent[0].contact, Contact::Sms(_)));
    assert!(matches!(sent[1].contact, Contact::Email(_)));
    let sms = &sent[0].sms;
    assert!(
        gsm7_len(sms).is_some_and(|n| n <= 160),
        "one segment: {sms}"
    );
    let escalation = rig.pager.escalation(&incident.id).await.unwrap().unwrap();
    assert!(sms.contains(&format!("4 {}", escalation.code)), "{sms}");
    assert!(sms.contains("/ack/"), "{sms}");
    assert!(sms.contains("Public API"), "{sms}");
    // Bob's own zone: 10:00 UTC is 05:00 EST.
    assert!(sms.contains("05:00 EST"), "{sms}");
    assert_eq!(sent[0].incident.as_deref(), Some(incident.id.as_str()));
    assert_eq!(sent[0].component.as_deref(), Some("api"));

    // Nobody else before the step's five minutes are up.
    assert!(paged(&rig.after(4).await).is_empty());
    // Then carol.
    assert_eq!(paged(&rig.after(1).await), ["carol"]);

    // Carol owns it a minute later: escalation stops.
    let mut report = PagingReport::default();
    let outcome = rig
        .pager
        .acknowledge(&incident.id, &person("carol"), AckVia::Sms, &mut report)
        .await
        .unwrap();
    rig.clock.advance(Duration::minutes(1));
    assert_eq!(outcome, AckOutcome::Acknowledged);
    let acknowledged = report
        .events
        .iter()
        .find_map(|e| match e {
            PagingEvent::Acknowledged { since_opened, .. } => Some(*since_opened),
            _ => None,
        })
        .expect("an acknowledgement event");
    assert_eq!(acknowledged, Duration::minutes(5));
    for _ in 0..6 {
        assert!(paged(&rig.after(10).await).is_empty());
    }
    // A second acknowledgement learns who owned it.
    let again = rig
        .pager
        .acknowledge(&incident.id, &person("bob"), AckVia::Link, &mut report)
        .await
        .unwrap();
    assert_eq!(
        again,
        AckOutcome::AlreadyAcknowledged {
            by: person("carol")
        }
    );

    // Resolution tells everyone who was paged, once, even when the record is replayed.
    incident::close(&*rig.store, &incident.id, rig.clock.now())
        .await
        .unwrap();
    let resolved = rig.change_of(&incident.id, "2").await;
    rig.pager.handle(std::slice::from_ref(&resolved)).await;
    rig.pager.handle(&[resolved]).await;
    assert_eq!(
        rig.sent(),
        [
            ("bob".to_owned(), MessageKind::Page),
            ("bob".to_owned(), MessageKind::Page),
            ("carol".to_owned(), MessageKind::Page),
            ("bob".to_owned(), MessageKind::Resolved),
            ("bob".to_owned(), MessageKind::Resolved),
            ("carol".to_owned(), MessageKind::Resolved),
        ]
    );
}

#[tokio::test]
async fn with_no_acknowledgement_the_policy_repeats_then_stops() {
    let rig = rig();
    let (_, change) = rig.open().await;
    let mut timeline = Vec::new();
    let report = rig.pager.handle(&[change]).await;
    timeline.extend(paged(&report).into_iter().map(|p| (0, p)));
    let mut minute = 0;
    let mut exhausted_at = None;
    while minute < 120 {
        let report = rig.after(1).await;
        minute += 1;
        timeline.extend(paged(&report).into_iter().map(|p| (minute, p)));
        if report
            .events
            .iter()
            .any(|e| matches!(e, PagingEvent::Exhausted { .. }))
        {
            exhausted_at = Some(minute);
        }
    }
    // Round 1: bob at once, carol 5 min later; round 2: bob after carol's 10 min, carol 5
    // min after that; then carol's 10 min run out with nobody left to page.
    assert_eq!(
        timeline,
        [
            (0, "bob".to_owned()),
            (5, "carol".to_owned()),
            (15, "bob".to_owned()),
            (20, "carol".to_owned()),
        ]
    );
    assert_eq!(exhausted_at, Some(30));
}

#[tokio::test]
async fn a_replayed_opening_pages_nobody_twice() {
    let rig = rig();
    let (_, change) = rig.open().await;
    for _ in 0..3 {
        let report = rig.pager.handle(std::slice::from_ref(&change)).await;
        assert!(report.failed.is_empty());
    }
    rig.after(1).await;
    rig.pager.handle(&[change]).await;
    assert_eq!(rig.sent().len(), 2, "bob's SMS and email, once each");
}

#[tokio::test]
async fn a_gap_falls_through_to_the_next_step_at_once() {
    // The layer covers only 20:00–22:00 London: at 10:00 UTC nobody is on call.
    let rig = rig_with(
        config("", r#"restrictions = [{ start = "20:00", end = "22:00" }]"#),
        epoch(),
    );
    let (_, change) = rig.open().await;
    let report = rig.pager.handle(&[change]).await;
    assert_eq!(paged(&report), ["carol"]);
    assert!(report.events.iter().any(|e| matches!(
        e,
        PagingEvent::Unreachable { position, .. } if position.step == 0
    )));
}

#[tokio::test]
async fn a_page_that_cannot_be_delivered_escalates_at_once() {
    let rig = rig();
    // Both of bob's contacts refuse.
    rig.notifier
        .fail_next(2, NotifyError::Refused("EndpointDisabled".into()));
    let (_, change) = rig.open().await;
    let report = rig.pager.handle(&[change]).await;
    assert_eq!(paged(&report), ["carol"]);
    assert!(
        report.errors.iter().any(|e| e.contains("bob")),
        "{:?}",
        report.errors
    );
}

#[tokio::test]
async fn low_urgency_waits_for_working_hours_in_the_persons_zone() {
    // Saturday 2026-11-28 15:00 UTC; bob (New York) works Mon–Fri 09:00–17:00.
    let saturday = Utc.with_ymd_and_hms(2026, 11, 28, 15, 0, 0).unwrap();
    let rig = rig_with(config(r#"urgency = "low""#, ""), saturday);
    let (_, change) = rig.open().await;
    let report = rig.pager.handle(&[change]).await;
    assert!(paged(&report).is_empty());
    assert!(rig.sent().is_empty());
    // Sunday: still nothing.
    assert!(paged(&rig.after(24 * 60).await).is_empty());
    // Monday 09:00 New York is 14:00 UTC.
    let monday = Utc.with_ymd_and_hms(2026, 11, 30, 14, 0, 0).unwrap();
    rig.clock.set(monday - Duration::minutes(1));
    assert!(paged(&rig.pager.sweep().await).is_empty());
    rig.clock.set(monday);
    // Bob's week ended Monday 09:00 London, but the step was claimed for him on Saturday.
    assert_eq!(paged(&rig.pager.sweep().await), ["bob"]);
    assert!(paged(&rig.pager.sweep().await).is_empty());
}

/// The on-call config with resolving by text turned on.
fn resolving_by_text() -> Config {
    let text = oncall_config_text("", "")
        .replace("ack_ttl = \"1h\"", "ack_ttl = \"1h\"\nsms_resolve = true");
    Config::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[tokio::test]
async fn a_text_resolves_nothing_unless_the_config_allows_it() {
    let rig = rig();
    let (incident, change) = rig.open().await;
    rig.pager.handle(&[change]).await;
    let code = rig
        .pager
        .escalation(&incident.id)
        .await
        .unwrap()
        .unwrap()
        .code;
    let text = serde_json::json!({
        "originationNumber": "+12125550002",
        "destinationNumber": "+12125550100",
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": format!("6 {code}"),
        "inboundMessageId": "r1",
        "previousPublishedMessageId": "prev"
    })
    .to_string();
    let mut report = PagingReport::default();
    rig.pager.inbound_sms(&text, &mut report).await.unwrap();
    let still = incident::load(&*rig.store, &incident.id)
        .await
        .unwrap()
        .unwrap();
    assert!(still.resolved_at.is_none(), "a text resolved it");
    let answer = rig
        .notifier
        .sent()
        .into_iter()
        .rfind(|m| m.kind == MessageKind::Reply)
        .expect("an answer")
        .sms;
    assert!(answer.contains("resolving by text is off"), "{answer}");
    assert!(gsm7_len(&answer).is_some_and(|n| n <= 160), "{answer}");
}

#[tokio::test]
async fn sms_replies_acknowledge_and_resolve_and_anything_else_gets_help() {
    let rig = rig_with(resolving_by_text(), epoch());
    let (incident, change) = rig.open().await;
    rig.pager.handle(&[change]).await;
    let code = rig
        .pager
        .escalation(&incident.id)
        .await
        .unwrap()
        .unwrap()
        .code;
    let text = |id: &str, from: &str, body: &str| {
        serde_json::json!({
            "originationNumber": from,
            "destinationNumber": "+12125550100",
            "messageKeyword": "KEYWORD_123456789012",
            "messageBody": body,
            "inboundMessageId": id,
            "previousPublishedMessageId": "prev"
        })
        .to_string()
    };
    let answers = |rig: &Rig| -> Vec<String> {
        rig.notifier
            .sent()
            .into_iter()
            .filter(|m| m.kind == MessageKind::Reply)
            .map(|m| m.sms)
            .collect()
    };
    let mut report = PagingReport::default();
    rig.pager
        .inbound_sms(&text("m1", "+1 212 555 0002", "what?"), &mut report)
        .await
        .unwrap();
    let help = &answers(&rig)[0];
    assert!(
        help.to_lowercase().contains("ack"),
        "help, not silence: {help}"
    );

    rig.pager
        .inbound_sms(
            &text("m2", "+12125550002", &format!("ack {code}")),
            &mut report,
        )
        .await
        .unwrap();
    // Replayed delivery of the same text: handled once.
    rig.pager
        .inbound_sms(
            &text("m2", "+12125550002", &format!("ack {code}")),
            &mut report,
        )
        .await
        .unwrap();
    let escalation = rig.pager.escalation(&incident.id).await.unwrap().unwrap();
    let ack = escalation.acknowledged.expect("acknowledged by text");
    assert_eq!((ack.by.as_str(), ack.via), ("bob", AckVia::Sms));
    assert_eq!(answers(&rig).len(), 2);
    assert!(
        answers(&rig)[1].contains("acknowledged"),
        "{:?}",
        answers(&rig)
    );

    // A stranger's text is not answered.
    rig.pager
        .inbound_sms(
            &text("m3", "+15550000000", &format!("6 {code}")),
            &mut report,
        )
        .await
        .unwrap();
    assert_eq!(answers(&rig).len(), 2);
    assert!(
        incident::load(&*rig.store, &incident.id)
            .await
            .unwrap()
            .unwrap()
            .resolved_at
            .is_none()
    );

    // Bob resolves it by text.
    rig.pager
        .inbound_sms(
            &text("m4", "+12125550002", &format!("6 {code}")),
            &mut report,
        )
        .await
        .unwrap();
    let resolved = incident::load(&*rig.store, &incident.id)
        .await
        .unwrap()
        .unwrap();
    assert!(resolved.resolved_at.is_some());
    assert!(answers(&rig)[2].contains("resolved"), "{:?}", answers(&rig));
    // An unknown code gets help, not silence.
    rig.pager
        .inbound_sms(&text("m5", "+12125550002", "ack 999999"), &mut report)
        .await
        .unwrap();
    assert!(answers(&rig)[3].contains("999999"), "{:?}", answers(&rig));
    for answer in answers(&rig) {
        assert!(gsm7_len(&answer).is_some_and(|n| n <= 160), "{answer}");
    }
}

#[tokio::test]
async fn a_watchdog_alarm_pages_the_default_policy_and_its_recovery_resolves() {
    let rig = rig();
    let mut report = PagingReport::default();
    let at = rig.clock.now();
    for _ in 0..2 {
        rig.pager
            .watchdog_alarm(
                "sitrep-ProbeCyclesStopped",
                "No probe cycle completed for 5 minutes",
                "ALARM",
                at,
                &mut report,
            )
            .await
            .unwrap();
    }
    assert_eq!(paged(&report), ["bob"]);
    let page = &rig.notifier.sent()[0];
    assert!(page.sms.contains("No probe cycle"), "{}", page.sms);
    assert_eq!(page.component, None);
    rig.clock.advance(Duration::minutes(3));
    rig.pager
        .watchdog_alarm(
            "sitrep-ProbeCyclesStopped",
            "",
            "OK",
            rig.clock.now(),
            &mut report,
        )
        .await
        .unwrap();
    assert_eq!(
        rig.sent().last().map(|(p, k)| (p.as_str(), *k)),
        Some(("bob", MessageKind::Resolved))
    );
    // No more escalation after the recovery.
    assert!(paged(&rig.after(10).await).is_empty());
}

#[tokio::test]
async fn an_incident_that_opens_again_after_its_resolution_pages_afresh() {
    let rig = rig();
    let (incident, opened) = rig.open().await;
    rig.pager.handle(std::slice::from_ref(&opened)).await;
    assert_eq!(rig.sent().len(), 2);
    rig.clock.advance(Duration::minutes(2));
    incident::close(&*rig.store, &incident.id, rig.clock.now())
        .await
        .unwrap();
    let resolved = rig.change_of(&incident.id, "2").await;
    rig.pager.handle(std::slice::from_ref(&resolved)).await;
    assert_eq!(rig.sent().len(), 4, "bob told by SMS and email");

    // The record opens again (a later version), as when the probes confirm a suspected
    // incident in the moment its surge went quiet.
    let key = keys::incident(&incident.id);
    let item = rig.store.get(&key).await.unwrap().unwrap();
    let mut reopened: Incident = item.decode().unwrap();
    reopened.phase = incident::IncidentPhase::Open;
    reopened.resolved_at = None;
    rig.store
        .update(
            shared::store::NewItem::encode(key, &reopened).unwrap(),
            item.version,
        )
        .await
        .unwrap();
    let again = rig.change_of(&incident.id, "3").await;
    // Replays of the first opening and of the resolution change nothing.
    rig.pager.handle(&[opened.clone(), resolved.clone()]).await;
    assert_eq!(rig.sent().len(), 4);
    let report = rig.pager.handle(std::slice::from_ref(&again)).await;
    assert_eq!(paged(&report), ["bob"]);
    rig.pager.handle(&[again, opened]).await;
    assert_eq!(rig.sent().len(), 6, "paged once more, once");
    let escalation = rig.pager.escalation(&incident.id).await.unwrap().unwrap();
    assert_eq!(escalation.generation, 1);
    // And it escalates again.
    assert_eq!(paged(&rig.after(5).await), ["carol"]);
}

/// A pager over `rig`'s table whose writes fail as `FlakyStore` is told, sharing the rig's
/// clock and notifier.
fn flaky_pager(rig: &Rig) -> (Pager, Arc<FlakyStore>) {
    let faults = Arc::new(FlakyStore::new(Arc::clone(&rig.store)));
    let pager = Pager::new(
        Arc::clone(&rig.config),
        faults.clone(),
        Arc::new(rig.clock.clone()),
        Arc::new(rig.notifier.clone()),
        Arc::new(SeededRandom::new(6)),
        None,
    )
    .with_retry(RetryPolicy {
        attempts: 1,
        ..RetryPolicy::default()
    });
    (pager, faults)
}

#[tokio::test]
async fn a_write_failing_while_the_resolution_is_told_costs_nobody_their_message() {
    // Whichever of the resolution's writes fails (the escalation, its index entry, the
    // notice's claim, a recipient's delivery), the record is retried and everyone paged is
    // told exactly once.
    for nth in 0..8 {
        let rig = rig();
        let (incident, opened) = rig.open().await;
        rig.pager.handle(&[opened]).await;
        assert_eq!(paged(&rig.after(5).await), ["carol"]);
        rig.clock.advance(Duration::minutes(1));
        incident::close(&*rig.store, &incident.id, rig.clock.now())
            .await
            .unwrap();
        let resolved = rig.change_of(&incident.id, "2").await;
        let (pager, faults) = flaky_pager(&rig);
        faults.fail_nth_write(nth);
        let first = pager.handle(std::slice::from_ref(&resolved)).await;
        faults.heal();
        if !first.failed.is_empty() {
            let retry = pager.handle(std::slice::from_ref(&resolved)).await;
            assert!(retry.failed.is_empty(), "write {nth}: {:?}", retry.errors);
        }
        let told: Vec<String> = rig
            .sent()
            .into_iter()
            .filter(|(_, kind)| *kind == MessageKind::Resolved)
            .map(|(person, _)| person)
            .collect();
        assert_eq!(told, ["bob", "bob", "carol"], "write {nth} failed");
    }
}

#[tokio::test]
async fn a_write_failing_while_a_step_pages_two_people_costs_neither_their_page() {
    // Step one pages the schedule's bob and carol together.
    let text = oncall_config_text("", "").replace(
        r#"targets = ["schedule:primary"]"#,
        r#"targets = ["schedule:primary", "person:carol"]"#,
    );
    for nth in 0..10 {
        let rig = rig_with(Config::parse(&text).unwrap(), epoch());
        let (_, opened) = rig.open().await;
        let (pager, faults) = flaky_pager(&rig);
        faults.fail_nth_write(nth);
        let first = pager.handle(std::slice::from_ref(&opened)).await;
        faults.heal();
        if !first.failed.is_empty() {
            let retry = pager.handle(std::slice::from_ref(&opened)).await;
            assert!(retry.failed.is_empty(), "write {nth}: {:?}", retry.errors);
        }
        let paged: Vec<String> = rig
            .sent()
            .into_iter()
            .filter(|(_, kind)| *kind == MessageKind::Page)
            .map(|(person, _)| person)
            .collect();
        assert_eq!(paged, ["bob", "bob", "carol"], "write {nth} failed");
    }
}

#[tokio::test]
async fn someone_paged_whose_delivery_was_not_recorded_is_still_told_of_the_resolution() {
    // Whichever write of the opening fails (the one recording bob's page among them, which
    // leaves him marked sending), the record is retried and bob, paged once, hears that the
    // incident is resolved.
    for nth in 0..10 {
        let rig = rig();
        let (incident, opened) = rig.open().await;
        let (pager, faults) = flaky_pager(&rig);
        faults.fail_nth_write(nth);
        let first = pager.handle(std::slice::from_ref(&opened)).await;
        faults.heal();
        if !first.failed.is_empty() {
            let retry = pager.handle(std::slice::from_ref(&opened)).await;
            assert!(retry.failed.is_empty(), "write {nth}: {:?}", retry.errors);
        }
        rig.clock.advance(Duration::minutes(2));
        incident::close(&*rig.store, &incident.id, rig.clock.now())
            .await
            .unwrap();
        let resolved = rig.change_of(&incident.id, "2").await;
        let report = pager.handle(&[resolved]).await;
        assert!(report.failed.is_empty(), "write {nth}: {:?}", report.errors);
        assert_eq!(
            rig.sent(),
            [
                ("bob".to_owned(), MessageKind::Page),
                ("bob".to_owned(), MessageKind::Page),
                ("bob".to_owned(), MessageKind::Resolved),
                ("bob".to_owned(), MessageKind::Resolved),
            ],
            "write {nth} failed"
        );
    }
}

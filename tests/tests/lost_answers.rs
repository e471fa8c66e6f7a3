//! "Applied, then failed": every conditional write of a flow, one at a time, is applied by the
//! store and its answer lost (see [`Loss`]): the SDK's retry answers instead; or the caller
//! gets an error and the store's read-back finds the write; or the read-back fails too and
//! the event is delivered again. For every one the flow must end as the clean run does: one
//! page per step and person, one acknowledgement, one answer to each text, one reply per
//! post, one follow-up per author, one handoff per post, nothing lost. The one exception is
//! spelled out where it is asserted: a page marked as being sent whose store then cannot be
//! read at all is never sent twice, so it may not be sent once.
//!
//! The writes are counted in a clean run first, and each is then made to lose its answer in
//! a run of its own; a run whose chosen write never came would prove nothing, so that fails
//! the test too.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Duration as TimeDelta;
use shared::clock::{Clock, ManualClock};
use shared::config::{AccountId, ComponentId, Config};
use shared::incident::{self, ComponentStatus};
use shared::mentions::StoredMention;
use shared::mentions::classify::Intent;
use shared::notify::MessageKind;
use shared::notify::console::ConsoleNotifier;
use shared::oncall::ack_route::{AckRequest, AckRoute};
use shared::oncall::paging::{AckLinks, Pager, PagingReport};
use shared::oncall::token::AckKey;
use shared::random::SeededRandom;
use shared::reply::handoff::LogSupport;
use shared::reply::service::Responder;
use shared::social::{MentionKind, Platform};
use shared::store::{ItemChange, NewItem, Query, Store, keys};
use sitrep_tests::lost_answers::{Loss, LostAnswers, Write};
use sitrep_tests::statuses::StatusServer;
use sitrep_tests::{
    dynamo_store, epoch, oncall_config_text, replies_config_text, responder, sqlite_store,
};
use tokio::time::Instant;

/// How often a failed event is delivered again before the test gives up on it.
const DELIVERIES: usize = 5;

/// A fresh store for one run.
#[derive(Clone, Copy, Debug)]
enum Adapter {
    Sqlite,
    Dynamo,
}

impl Adapter {
    /// The losses tried at every write. How an answer lost for good is handled is the same
    /// code on both adapters (the port's read-back and the callers' recovery), so DynamoDB,
    /// where moto makes every run slow, proves what only it can: that a retry of the very
    /// request recognises the item it wrote.
    fn losses(self) -> &'static [Loss] {
        match self {
            Adapter::Sqlite => &[Loss::Retried, Loss::Failed, Loss::Unconfirmed],
            Adapter::Dynamo => &[Loss::Retried],
        }
    }

    async fn store(self, clock: &ManualClock) -> Arc<dyn Store> {
        match self {
            Adapter::Sqlite => sqlite_store(clock),
            Adapter::Dynamo => dynamo_store(clock).await,
        }
    }
}

/// How the paged person acknowledges.
#[derive(Clone, Copy, Debug)]
enum AckBy {
    Link,
    Text,
}

/// What a paging run did, to compare with the clean run.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PagingTally {
    /// Pages and resolution notices per (person, kind).
    messages: BTreeMap<(String, String), usize>,
    /// Answers to the acknowledging text, when the test chose to acknowledge by text.
    texts_answered: usize,
    /// Who owns the incident at the end.
    acknowledged_by: Option<String>,
}

/// The incident's record as the stream carries it.
async fn incident_change(
    store: &dyn Store,
    id: &str,
    before: Option<shared::store::Item>,
) -> ItemChange {
    let key = keys::incident(id);
    let new = store.get(&key).await.unwrap();
    ItemChange {
        id: format!("seq-{}", new.as_ref().map_or(0, |i| i.version)),
        key,
        old: before,
        new,
    }
}

/// Delivers a batch to the pager until it reports no failure (the stream's retries).
async fn deliver_to_pager(pager: &Pager, clock: &ManualClock, change: &ItemChange) {
    for _ in 0..DELIVERIES {
        let report = pager.handle(std::slice::from_ref(change)).await;
        if report.failed.is_empty() {
            return;
        }
        // The retry comes later; leases held by the failed delivery run out meanwhile.
        clock.advance(TimeDelta::seconds(61));
    }
    panic!("the pager never took {}", change.key);
}

/// Runs the schedule until a sweep ends without errors.
async fn sweep(pager: &Pager, clock: &ManualClock) {
    for _ in 0..DELIVERIES {
        if pager.sweep().await.errors.is_empty() {
            return;
        }
        clock.advance(TimeDelta::seconds(61));
    }
    panic!("every sweep failed");
}

/// The acknowledgement link's token in the last page sent to `person`, if any (a page whose
/// token could not be stored goes out without a link).
fn token_sent_to(notifier: &ConsoleNotifier, person: &str) -> Option<String> {
    let sms = notifier
        .sent()
        .into_iter()
        .rev()
        .find(|m| m.kind == MessageKind::Page && m.person.as_str() == person)?
        .sms;
    let at = sms.find("/ack/")?;
    sms[at + 5..]
        .split(|c: char| c.is_whitespace())
        .next()
        .map(str::to_owned)
}

/// One whole escalation: opened, step 1, step 2, acknowledged, resolved.
async fn paging_run(
    adapter: Adapter,
    ack_by: AckBy,
    loss: Loss,
    target: Option<usize>,
) -> (PagingTally, Vec<Write>, bool) {
    let clock = ManualClock::new(epoch());
    let inner = adapter.store(&clock).await;
    let lost = Arc::new(LostAnswers::new(Arc::clone(&inner), loss, target));
    let store: Arc<dyn Store> = lost.clone();
    let config = Arc::new(Config::parse(&oncall_config_text("", "")).unwrap());
    let notifier = ConsoleNotifier::new();
    let key = Arc::new(AckKey::new(&[9u8; 32]).unwrap());
    let pager = Pager::new(
        Arc::clone(&config),
        Arc::clone(&store),
        Arc::new(clock.clone()),
        Arc::new(notifier.clone()),
        Arc::new(SeededRandom::new(3)),
        Some(AckLinks {
            key: Arc::clone(&key),
            base: "https://status.acme.example/ack".into(),
        }),
    );
    // The probe opens the incident (not under test here).
    let changes = incident::transition(
        &*inner,
        &config.components[0],
        ComponentStatus::Down,
        Some("HTTP 503".into()),
        clock.now(),
    )
    .await
    .unwrap();
    let id = changes
        .iter()
        .find_map(|c| match c {
            incident::Change::Opened(i) => Some(i.id.clone()),
            _ => None,
        })
        .unwrap();
    let opened = incident_change(&*inner, &id, None).await;

    lost.arm();
    deliver_to_pager(&pager, &clock, &opened).await;
    clock.advance(TimeDelta::minutes(6));
    sweep(&pager, &clock).await;

    // Carol, paged at step 2, acknowledges (by text if no page reached her: a page whose
    // store could not be read back after marking it is not sent, and not sent twice).
    let token = token_sent_to(&notifier, "carol");
    let chosen = ack_by;
    let ack_by = match (ack_by, &token) {
        (AckBy::Link, None) => AckBy::Text,
        (other, _) => other,
    };
    match ack_by {
        AckBy::Link => {
            let token = token.expect("carol was paged");
            let route = AckRoute::new(
                Arc::clone(&store),
                (*key).clone(),
                Arc::new(clock.clone()),
                "Acme Cloud",
            );
            let path = format!("/ack/{token}");
            let mut answered = None;
            for _ in 0..DELIVERIES {
                let response = route
                    .respond(&AckRequest {
                        method: "POST",
                        path: &path,
                    })
                    .await;
                if response.status == 200 {
                    answered = Some(response);
                    break;
                }
                assert_eq!(response.status, 503, "only a failure may ask for a retry");
            }
            answered.expect("the link acknowledged");
        }
        AckBy::Text => {
            let code = pager.escalation(&id).await.unwrap().unwrap().code;
            let text = serde_json::json!({
                "originationNumber": "+61255500003",
                "destinationNumber": "+12125550100",
                "messageKeyword": "KEYWORD_123456789012",
                "messageBody": format!("4 {code}"),
                "inboundMessageId": "in-1",
                "previousPublishedMessageId": "prev"
            })
            .to_string();
            let mut done = false;
            for _ in 0..DELIVERIES {
                let mut report = PagingReport::default();
                if pager.inbound_sms(&text, &mut report).await.is_ok() {
                    done = true;
                    break;
                }
                // Asynchronous invocations are retried a minute or more later.
                clock.advance(TimeDelta::seconds(61));
            }
            assert!(done, "the text was never handled");
        }
    }
    clock.advance(TimeDelta::minutes(20));
    sweep(&pager, &clock).await;

    // The probe resolves it; the pager tells everyone paged.
    let before = inner.get(&keys::incident(&id)).await.unwrap();
    incident::transition(
        &*inner,
        &config.components[0],
        ComponentStatus::Operational,
        None,
        clock.now(),
    )
    .await
    .unwrap();
    let resolved = incident_change(&*inner, &id, before).await;
    deliver_to_pager(&pager, &clock, &resolved).await;

    let mut messages = BTreeMap::new();
    let mut texts_answered = 0;
    for message in notifier.sent() {
        if message.kind == MessageKind::Reply {
            if matches!(chosen, AckBy::Text) {
                texts_answered += 1;
            }
            continue;
        }
        *messages
            .entry((message.person.to_string(), format!("{:?}", message.kind)))
            .or_insert(0) += 1;
    }
    let acknowledged_by = pager
        .escalation(&id)
        .await
        .unwrap()
        .and_then(|e| e.acknowledged)
        .map(|a| a.by.to_string());
    (
        PagingTally {
            messages,
            texts_answered,
            acknowledged_by,
        },
        lost.writes(),
        lost.fired(),
    )
}

async fn every_paging_write_survives_a_lost_answer(adapter: Adapter) {
    for ack_by in [AckBy::Link, AckBy::Text] {
        let (clean, writes, _) = paging_run(adapter, ack_by, Loss::Retried, None).await;
        assert_eq!(clean.acknowledged_by.as_deref(), Some("carol"), "{clean:?}");
        let answered = usize::from(matches!(ack_by, AckBy::Text));
        assert_eq!(clean.texts_answered, answered, "{clean:?}");
        assert!(writes.len() > 10, "the flow makes its claims: {writes:?}");
        assert_eq!(
            writes.iter().any(|w| w.key.pk.starts_with("SMSIN#")),
            matches!(ack_by, AckBy::Text),
            "{writes:?}"
        );
        for (target, write) in writes.iter().enumerate() {
            for &loss in adapter.losses() {
                let (tally, _, fired) = paging_run(adapter, ack_by, loss, Some(target)).await;
                assert!(
                    fired,
                    "{ack_by:?} {loss:?}: write {target} ({write}) never came"
                );
                // When the store cannot even be read back after marking a page (or a
                // resolution notice) as being sent, it may or may not have gone out: it is
                // never sent twice, and the escalation goes on regardless. Every other
                // write, and every write whose store answers again, ends as the clean run.
                let marks_sending = write.update && write.key.pk.starts_with("PAGE#");
                if loss == Loss::Unconfirmed && marks_sending {
                    assert_eq!(tally.acknowledged_by, clean.acknowledged_by, "{write}");
                    for (who, count) in &tally.messages {
                        assert!(
                            *count <= clean.messages.get(who).copied().unwrap_or(0),
                            "{adapter:?}, {ack_by:?}: write {target} ({write}): {tally:?}"
                        );
                    }
                } else {
                    assert_eq!(
                        tally, clean,
                        "{adapter:?}, {ack_by:?}: the answer to write {target} ({write}) lost ({loss:?})"
                    );
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_on_sqlite() {
    every_paging_write_survives_a_lost_answer(Adapter::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_on_dynamodb() {
    every_paging_write_survives_a_lost_answer(Adapter::Dynamo).await;
}

/// What a reply run did.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ReplyTally {
    /// Statuses posted, per post they answer (`None`: public updates).
    posts: BTreeMap<Option<String>, usize>,
    /// Handoffs, per post.
    handoffs: BTreeMap<String, usize>,
}

fn mention(clock: &ManualClock, post: &str, author: &str, intent: Intent) -> StoredMention {
    StoredMention {
        platform: Platform::Mastodon,
        id: post.into(),
        account: AccountId::parse("acme-m").unwrap(),
        url: format!("https://elsewhere.example/@{author}/{post}"),
        author_id: format!("id-{author}"),
        author: format!("{author}@elsewhere.example"),
        text: "@acme is the api down?".into(),
        truncated: false,
        created_at: clock.now() - TimeDelta::seconds(30),
        received_at: clock.now(),
        kind: MentionKind::Mention,
        in_reply_to: None,
        conversation: None,
        others: Vec::new(),
        intent,
        confidence: 0.95,
        lang: "en".into(),
        component: Some(ComponentId::parse("api").unwrap()),
    }
}

/// Hands `change` to the service until it reports no failure, draining as the function does.
async fn deliver_to_responder(responder: &Responder, clock: &ManualClock, change: &ItemChange) {
    for _ in 0..DELIVERIES {
        let deadline = Instant::now() + Duration::from_secs(20);
        let report = responder
            .handle(std::slice::from_ref(change), deadline)
            .await;
        eprintln!(
            "HANDLE {} {:?} {:?}",
            change.key, report.errors, report.events
        );
        if report.failed.is_empty() {
            return;
        }
        clock.advance(TimeDelta::seconds(61));
    }
    panic!("the reply service never took {}", change.key);
}

/// Drains the outboxes on the schedule (a minute apart) until nothing is left in them.
async fn drain(responder: &Responder, store: &dyn Store, clock: &ManualClock) {
    for _ in 0..DELIVERIES {
        let deadline = Instant::now() + Duration::from_secs(20);
        responder.drain(deadline).await;
        let waiting = store
            .query(&Query::partition(keys::outbox_partition("acme-m")))
            .await
            .unwrap();
        if waiting.is_empty() {
            return;
        }
        clock.advance(TimeDelta::seconds(61));
    }
}

/// Customers during an outage: two posts of one author, one of another, an all-clear
/// question on the other component; the incident resolves; everyone answered hears so.
async fn reply_run(
    adapter: Adapter,
    loss: Loss,
    target: Option<usize>,
) -> (ReplyTally, Vec<Write>, bool) {
    let clock = ManualClock::new(epoch());
    let inner = adapter.store(&clock).await;
    let lost = Arc::new(LostAnswers::new(Arc::clone(&inner), loss, target));
    let store: Arc<dyn Store> = lost.clone();
    let server = StatusServer::start().await;
    let text = replies_config_text(&server.server.base, "", "");
    let config = Arc::new(Config::parse(&text).unwrap());
    let support = Arc::new(LogSupport::new());
    let responder = responder(&config, &store, &clock, &support);
    let api = config
        .component(&ComponentId::parse("api").unwrap())
        .unwrap()
        .clone();

    incident::transition(
        &*inner,
        &api,
        ComponentStatus::Down,
        Some("HTTP 503".into()),
        clock.now(),
    )
    .await
    .unwrap();
    let id = incident::open_incident(&*inner, &api.id)
        .await
        .unwrap()
        .unwrap();
    let opened = incident_change(&*inner, &id, None).await;
    let mut login_question = mention(&clock, "p4", "dana", Intent::OutageReport);
    login_question.component = Some(ComponentId::parse("login").unwrap());
    let mut unsure = mention(&clock, "p5", "eve", Intent::OutageReport);
    unsure.confidence = 0.3;
    let posts = [
        mention(&clock, "p1", "ann", Intent::OutageReport),
        mention(&clock, "p2", "ann", Intent::OutageReport),
        mention(&clock, "p3", "ben", Intent::OutageReport),
        login_question,
        unsure,
    ];
    let mut arrivals = Vec::new();
    for post in &posts {
        let key = keys::mention(post.platform, &post.id);
        inner
            .create(NewItem::encode(key.clone(), post).unwrap())
            .await
            .unwrap();
        arrivals.push(ItemChange {
            id: format!("seq-{}", post.id),
            key: key.clone(),
            old: None,
            new: inner.get(&key).await.unwrap(),
        });
    }

    lost.arm();
    deliver_to_responder(&responder, &clock, &opened).await;
    for arrival in &arrivals {
        deliver_to_responder(&responder, &clock, arrival).await;
    }
    drain(&responder, &*inner, &clock).await;
    clock.advance(TimeDelta::minutes(10));
    let before = inner.get(&keys::incident(&id)).await.unwrap();
    incident::transition(
        &*inner,
        &api,
        ComponentStatus::Operational,
        None,
        clock.now(),
    )
    .await
    .unwrap();
    let resolved = incident_change(&*inner, &id, before).await;
    deliver_to_responder(&responder, &clock, &resolved).await;
    drain(&responder, &*inner, &clock).await;

    let mut tally = ReplyTally {
        posts: BTreeMap::new(),
        handoffs: BTreeMap::new(),
    };
    for status in server.statuses() {
        *tally.posts.entry(status.in_reply_to).or_insert(0) += 1;
    }
    for handoff in support.handed_off() {
        let post = handoff.post_url.unwrap_or_default();
        *tally.handoffs.entry(post).or_insert(0) += 1;
    }
    (tally, lost.writes(), lost.fired())
}

async fn every_reply_write_survives_a_lost_answer(adapter: Adapter) {
    let (clean, writes, _) = reply_run(adapter, Loss::Retried, None).await;
    // ann's first post, ben's and dana's (about login, told of the API incident) get a reply
    // and a follow-up, ann's second is covered, eve's unsure one goes to a person.
    assert_eq!(clean.posts.get(&Some("p1".into())), Some(&2), "{clean:?}");
    assert_eq!(clean.posts.get(&Some("p3".into())), Some(&2), "{clean:?}");
    assert_eq!(clean.posts.get(&Some("p2".into())), None, "{clean:?}");
    assert_eq!(clean.posts.get(&Some("p4".into())), Some(&2), "{clean:?}");
    assert_eq!(clean.posts.get(&Some("p5".into())), None, "{clean:?}");
    assert_eq!(
        clean.handoffs.get("https://elsewhere.example/@eve/p5"),
        Some(&1),
        "{clean:?}"
    );
    assert!(writes.len() > 10, "{writes:?}");
    for (target, key) in writes.iter().enumerate() {
        for &loss in adapter.losses() {
            let (tally, _, fired) = reply_run(adapter, loss, Some(target)).await;
            assert!(fired, "{loss:?}: write {target} ({key}) never came");
            assert_eq!(
                tally, clean,
                "{adapter:?}: the answer to write {target} ({key}) lost ({loss:?})"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_on_sqlite() {
    every_reply_write_survives_a_lost_answer(Adapter::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_on_dynamodb() {
    every_reply_write_survives_a_lost_answer(Adapter::Dynamo).await;
}

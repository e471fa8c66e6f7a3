//! Bounds that hold whatever a platform answers: a poll ends on a page token it was already
//! given (the same one forever, or a cycle) and reads at most `MAX_PAGES` pages, and no
//! answer body is read past the transport's cap, whether it declares its length or streams
//! without end; over the cap, a read is an error for that call and a post is ambiguous.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use shared::clock::{Clock, ManualClock};
use shared::mentions::classify::Classifier;
use shared::mentions::poll::{AccountReport, MAX_PAGES, Outcome, PollContext, poll_account};
use shared::random::SeededRandom;
use shared::social::bluesky::BlueskyClient;
use shared::social::mastodon::MastodonClient;
use shared::social::transport::{BODY_LIMIT, RetryPolicy, Transport};
use shared::social::x::XClient;
use shared::social::{Attempt, Outgoing, Platform, SocialClient, SocialError};
use shared::store::{NewItem, Store, keys};
use sitrep_tests::replay::{Recorded, ReplayServer, Reply};
use sitrep_tests::{epoch, mentions_config, sqlite_store, x_client};
use tokio::time::Instant;

/// One page of X mentions: one post numbered `n`, and `next` as its next token.
fn x_page(n: usize, next: &str) -> String {
    json!({
        "data": [{"id": (1_860_000_000_000_000_000u64 - n as u64).to_string(),
                  "text": format!("@acme is the api down? {n}"), "author_id": "7",
                  "created_at": "2026-11-23T09:59:00.000Z"}],
        "includes": {"users": [{"id": "7", "username": "dev"}]},
        "meta": {"newest_id": (1_860_000_000_000_000_000u64 - n as u64).to_string(),
                 "result_count": 1, "next_token": next},
    })
    .to_string()
}

/// Polls the X account of [`mentions_config`] at `server` once.
async fn poll_x(server: &ReplayServer, clock: &ManualClock) -> AccountReport {
    let config = mentions_config(&server.base, "");
    let client = x_client(config.accounts[0].base_url.clone(), clock);
    let store = sqlite_store(clock);
    let classifier = Classifier::new(&config.components);
    let context = PollContext {
        store: store.as_ref(),
        clock,
        classifier: &classifier,
        settings: &config.mentions,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    poll_account(context, &config.accounts[0], &client, deadline).await
}

#[tokio::test]
async fn a_poll_ends_on_a_page_token_it_was_given_before() {
    let clock = ManualClock::new(epoch());
    // The same token forever.
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let server = ReplayServer::start(move |_: &Recorded| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        Reply::json(200, x_page(n, "same"))
    })
    .await;
    let report = poll_x(&server, &clock).await;
    assert!(
        matches!(report.outcome, Outcome::CaughtUp),
        "{}",
        report.outcome
    );
    assert_eq!(
        report.pages, 2,
        "the first page, and the one its token named"
    );
    assert_eq!(server.requests().len(), 2);

    // A cycle through three tokens.
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let server = ReplayServer::start(move |request: &Recorded| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        let next = match request.param("pagination_token") {
            None | Some("c") => "a",
            Some("a") => "b",
            Some(_) => "c",
        };
        Reply::json(200, x_page(n, next))
    })
    .await;
    let report = poll_x(&server, &clock).await;
    assert!(
        matches!(report.outcome, Outcome::CaughtUp),
        "{}",
        report.outcome
    );
    let tokens: Vec<Option<String>> = server
        .requests()
        .iter()
        .map(|r| r.param("pagination_token").map(str::to_owned))
        .collect();
    assert_eq!(
        tokens,
        [None, Some("a".into()), Some("b".into()), Some("c".into())]
    );
}

#[tokio::test]
async fn a_poll_reads_at_most_the_page_limit_then_resumes_next_time() {
    let clock = ManualClock::new(epoch());
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    // A new token on every page, forever.
    let server = ReplayServer::start(move |_: &Recorded| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        Reply::json(200, x_page(n, &format!("token-{n}")))
    })
    .await;
    let report = poll_x(&server, &clock).await;
    assert!(
        matches!(report.outcome, Outcome::Deadline),
        "{}",
        report.outcome
    );
    assert_eq!(report.pages, MAX_PAGES);
    assert_eq!(server.requests().len(), MAX_PAGES);
}

/// A transport with quick retries and, when given, a smaller body cap.
fn transport(limit: Option<usize>) -> Transport {
    let transport = Transport::new(
        RetryPolicy {
            attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            timeout: Duration::from_secs(30),
        },
        Arc::new(SeededRandom::new(3)),
    )
    .unwrap();
    match limit {
        Some(limit) => transport.with_body_limit(limit),
        None => transport,
    }
}

/// A body of 64 KiB chunks, `gib` gibibytes in all.
fn endless(gib: u64) -> Reply {
    Reply::Stream {
        chunk: vec![b' '; 64 * 1024],
        times: gib * 16 * 1024,
    }
}

#[tokio::test]
async fn an_endless_answer_is_cut_at_the_cap_and_not_asked_for_again() {
    let server = ReplayServer::start(|_: &Recorded| endless(64)).await;
    let clock = ManualClock::new(epoch());
    let config = mentions_config(&server.base, "");
    let client = XClient::new(
        transport(None),
        config.accounts[0].base_url.clone(),
        "42".into(),
        shared::social::x::XCredentials::Bearer("token".into()),
        Arc::new(clock.clone()),
        Arc::new(SeededRandom::new(5)),
    );
    let started = std::time::Instant::now();
    let error = client.mentions(None, None).await.unwrap_err();
    match &error {
        SocialError::Unavailable { detail, .. } => {
            assert!(
                detail.contains(&format!("{BODY_LIMIT}-byte cap")),
                "{detail}"
            );
        }
        other => panic!("expected unavailable: {other:?}"),
    }
    assert_eq!(
        server.requests().len(),
        1,
        "an answer too large is not asked for again"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "64 GiB were not read: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_declared_length_over_the_cap_is_refused_before_reading() {
    let body = json!({"notifications": [], "padding": "x".repeat(4096)}).to_string();
    let server = ReplayServer::start(move |_: &Recorded| Reply::json(200, body.clone())).await;
    let client = MastodonClient::new(
        transport(Some(1024)),
        server.base.parse().unwrap(),
        "token".into(),
    );
    let error = client.mentions(Some("1"), None).await.unwrap_err();
    assert!(
        matches!(&error, SocialError::Unavailable { detail, .. } if detail.contains("1024-byte cap")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_post_answered_past_the_cap_is_ambiguous_and_sent_once() {
    // Mastodon: retried freely under its idempotency key, but an answer too large is not.
    let server = ReplayServer::start(|_: &Recorded| endless(1)).await;
    let client = MastodonClient::new(
        transport(Some(64 * 1024)),
        server.base.parse().unwrap(),
        "token".into(),
    );
    let post = Outgoing {
        text: "We are looking into it.".into(),
        reply_to: None,
        key: "update-1".into(),
        decided_at: epoch(),
    };
    let error = client.post(&post, Attempt::First).await.unwrap_err();
    assert!(matches!(error, SocialError::Ambiguous { .. }), "{error:?}");
    assert_eq!(server.requests().len(), 1);

    // Bluesky: createRecord is sent at most once, and an answer too large leaves the post
    // in doubt.
    let clock = ManualClock::new(epoch());
    let store = sqlite_store(&clock);
    let issued = clock.now();
    let session = json!({
        "did": "did:plc:acme", "handle": "acme.bsky.social",
        "access_jwt": "a.b.c", "refresh_jwt": "d.e.f",
        "created_at": issued, "refreshed_at": issued,
    });
    store
        .create(NewItem::new(
            keys::session(Platform::Bluesky, "acme"),
            session.as_object().cloned().unwrap(),
        ))
        .await
        .unwrap();
    let server = ReplayServer::start(|_: &Recorded| endless(1)).await;
    let client = BlueskyClient::new(
        transport(Some(64 * 1024)),
        server.base.parse().unwrap(),
        "acme".into(),
        "acme.bsky.social".into(),
        "app-password".into(),
        Arc::clone(&store) as Arc<dyn Store>,
        Arc::new(clock.clone()),
    );
    let error = client.post(&post, Attempt::First).await.unwrap_err();
    assert!(matches!(error, SocialError::Ambiguous { .. }), "{error:?}");
    let creates = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("createRecord"))
        .count();
    assert_eq!(creates, 1);
}

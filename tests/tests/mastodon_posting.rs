//! Posting to Mastodon against a scripted server that keeps `Idempotency-Key`s as Mastodon
//! does (a repeat of a key answers with the status the first request made): the request
//! sent, retries that keep the key, answers lost on the way back, and the refusals.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Url;
use serde_json::{Value, json};
use shared::random::SeededRandom;
use shared::social::mastodon::MastodonClient;
use shared::social::transport::{RetryPolicy, Transport};
use shared::social::{Attempt, Outgoing, Platform, ReplyTo, SocialClient, SocialError};
use sitrep_tests::epoch;
use sitrep_tests::replay::{Recorded, ReplayServer, Reply};

const TOKEN: &str = "zA9-token_for_tests";
const STATUSES: &str = "/api/v1/statuses";
const CUSTOMER_STATUS: &str = "113520000000001080";

fn client(server: &ReplayServer) -> MastodonClient {
    let transport = Transport::new(
        RetryPolicy {
            attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            timeout: Duration::from_secs(2),
        },
        Arc::new(SeededRandom::new(1)),
    )
    .expect("the transport builds");
    let instance = Url::parse(&server.base).expect("the server's base is a URL");
    MastodonClient::new(transport, instance, TOKEN.to_owned())
}

fn reply(text: &str) -> Outgoing {
    Outgoing {
        text: text.to_owned(),
        reply_to: Some(ReplyTo {
            post_id: CUSTOMER_STATUS.into(),
            author_id: "971724".into(),
            exclude: Vec::new(),
        }),
        key: "reply-01JD8Z4K7M".into(),
        decided_at: epoch(),
    }
}

const TEXT: &str = "@dev@other.social Thanks for the report: we're looking into API errors in \
                    eu-west. Updates: https://status.acme.example";

/// A Mastodon server with one account: it makes a status per new idempotency key and
/// answers a repeated key with the status made first, as Mastodon does for an hour.
#[derive(Default)]
struct Instance {
    state: Mutex<InstanceState>,
}

#[derive(Default)]
struct InstanceState {
    /// Statuses made, by idempotency key.
    by_key: HashMap<String, Value>,
    made: u32,
    /// Answers to lose (the connection dropped) after the status is made.
    lose: usize,
    /// Answers for the next requests, before any status is made.
    scripted: Vec<Reply>,
}

impl Instance {
    fn with<T>(&self, f: impl FnOnce(&mut InstanceState) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    fn answer(&self, request: &Recorded) -> Reply {
        let mut state = self.state.lock().unwrap();
        if !state.scripted.is_empty() {
            return state.scripted.remove(0);
        }
        if (request.method.as_str(), request.path.as_str()) != ("POST", STATUSES) {
            return Reply::json(404, r#"{"error":"Record not found"}"#);
        }
        if request.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
            return Reply::json(401, r#"{"error":"The access token is invalid"}"#);
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let Some(text) = body["status"].as_str().map(str::to_owned) else {
            return Reply::json(422, r#"{"error":"Validation failed: Text can't be blank"}"#);
        };
        if text.chars().count() > 500 {
            return Reply::json(
                422,
                r#"{"error":"Validation failed: Text character limit of 500 exceeded"}"#,
            );
        }
        let made = state.made + 1;
        let status = status(made, &text, body["in_reply_to_id"].as_str());
        let status = match request.header("idempotency-key") {
            Some(key) => state
                .by_key
                .entry(key.to_owned())
                .or_insert_with(|| status)
                .clone(),
            None => status,
        };
        if status["id"] == made.to_string().as_str() {
            state.made = made;
        }
        if state.lose > 0 {
            state.lose -= 1;
            return Reply::Drop;
        }
        Reply::json(200, status.to_string())
            .header("X-RateLimit-Limit", "300")
            .header("X-RateLimit-Remaining", (300 - state.made).to_string())
            .header("X-RateLimit-Reset", "2026-11-23T13:00:00.000Z")
    }
}

/// A Status as `POST /api/v1/statuses` returns it.
fn status(n: u32, text: &str, in_reply_to: Option<&str>) -> Value {
    let id = n.to_string();
    json!({
        "id": id,
        "created_at": "2026-11-23T10:00:00.512Z",
        "in_reply_to_id": in_reply_to,
        "in_reply_to_account_id": in_reply_to.map(|_| "971724"),
        "sensitive": false,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": format!("https://mastodon.example/users/acme/statuses/{id}"),
        "url": format!("https://mastodon.example/@acme/{id}"),
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "content": format!("<p>{text}</p>"),
        "reblog": null,
        "application": {"name": "sitrep", "website": null},
        "account": {"id": "14715", "username": "acme", "acct": "acme", "display_name": "Acme Cloud"},
        "media_attachments": [],
        "mentions": [{"id": "971724", "username": "dev", "acct": "dev@other.social",
                      "url": "https://other.social/@dev"}],
        "tags": [],
        "emojis": [],
        "card": null,
        "poll": null
    })
}

async fn start() -> (Arc<Instance>, ReplayServer) {
    let instance = Arc::new(Instance::default());
    let answering = Arc::clone(&instance);
    let server = ReplayServer::start(move |request| answering.answer(request)).await;
    (instance, server)
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

#[tokio::test]
async fn a_reply_is_posted_with_its_idempotency_key_and_the_bearer_token() {
    let (instance, server) = start().await;
    let posted = client(&server)
        .post(&reply(TEXT), Attempt::First)
        .await
        .unwrap();

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, STATUSES);
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(request.header("idempotency-key"), Some("reply-01JD8Z4K7M"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.json(),
        json!({"status": TEXT, "in_reply_to_id": CUSTOMER_STATUS, "visibility": "public"})
    );

    assert_eq!(posted.id, "1");
    assert_eq!(posted.url, "https://mastodon.example/@acme/1");
    assert!(!posted.recovered);
    let limit = posted.rate_limit.expect("the headers are read");
    assert_eq!((limit.limit, limit.remaining), (300, 299));
    assert_eq!(limit.reset, time("2026-11-23T13:00:00Z"));
    assert_eq!(instance.with(|s| s.made), 1);
}

#[tokio::test]
async fn a_public_update_names_no_status_to_answer() {
    let (_, server) = start().await;
    let update = Outgoing {
        reply_to: None,
        key: "update-inc-42-1".into(),
        ..reply("Resolved: API errors in eu-west. https://status.acme.example")
    };
    client(&server).post(&update, Attempt::First).await.unwrap();
    let body = server.requests()[0].json();
    assert_eq!(
        body,
        json!({"status": "Resolved: API errors in eu-west. https://status.acme.example",
               "visibility": "public"})
    );
    assert_eq!(
        server.requests()[0].header("idempotency-key"),
        Some("update-inc-42-1")
    );
}

#[tokio::test]
async fn a_lost_answer_is_sent_again_with_the_same_key_and_gets_the_first_status() {
    let (instance, server) = start().await;
    instance.with(|s| s.lose = 1);
    let posted = client(&server)
        .post(&reply(TEXT), Attempt::First)
        .await
        .unwrap();
    assert_eq!(posted.id, "1", "the status the first request made");
    assert_eq!(instance.with(|s| s.made), 1, "nothing was posted twice");

    let requests = server.requests();
    assert_eq!(requests.len(), 2, "the transport retried the lost answer");
    assert!(
        requests
            .iter()
            .all(|r| r.header("idempotency-key") == Some("reply-01JD8Z4K7M")
                && r.body == requests[0].body),
        "the retry is the same request with the same key: {requests:#?}"
    );
}

#[tokio::test]
async fn no_answer_at_all_is_ambiguous_and_the_next_attempt_gets_the_first_status() {
    let (instance, server) = start().await;
    instance.with(|s| s.lose = 3);
    let client = client(&server);
    let error = client.post(&reply(TEXT), Attempt::First).await.unwrap_err();
    assert!(
        matches!(
            error,
            SocialError::Ambiguous {
                platform: Platform::Mastodon,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 3, "all the policy's attempts");
    assert_eq!(instance.with(|s| s.made), 1, "the first one went through");

    let posted = client
        .post(&reply(TEXT), Attempt::AfterAmbiguous)
        .await
        .unwrap();
    assert_eq!(posted.id, "1");
    assert_eq!(posted.url, "https://mastodon.example/@acme/1");
    assert_eq!(instance.with(|s| s.made), 1, "still one status");
    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    assert!(
        requests
            .iter()
            .all(|r| r.path == STATUSES && r.header("idempotency-key") == Some("reply-01JD8Z4K7M")),
        "no check first, the same key every time: {requests:#?}"
    );
}

#[tokio::test]
async fn a_gateway_that_keeps_failing_leaves_the_post_ambiguous() {
    let (instance, server) = start().await;
    instance.with(|s| {
        s.scripted = (0..3)
            .map(|_| Reply::json(502, "<html>502 Bad Gateway</html>"))
            .collect();
    });
    let error = client(&server)
        .post(&reply(TEXT), Attempt::First)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SocialError::Ambiguous { detail, .. } if detail.contains("502")),
        "{error:?}"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|r| r.header("idempotency-key") == Some("reply-01JD8Z4K7M"))
    );
}

#[tokio::test]
async fn text_over_the_character_limit_is_rejected_with_mastodons_words() {
    let (instance, server) = start().await;
    let long = reply(&format!("@dev@other.social {}", "x".repeat(500)));
    let error = client(&server)
        .post(&long, Attempt::First)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        SocialError::Rejected {
            platform: Platform::Mastodon,
            status: 422,
            detail: "Validation failed: Text character limit of 500 exceeded".into(),
        }
    );
    assert_eq!(server.requests().len(), 1, "a 422 is not retried");
    assert_eq!(instance.with(|s| s.made), 0);
}

#[tokio::test]
async fn the_posting_limit_is_a_rate_limit_with_its_reset() {
    let (instance, server) = start().await;
    instance.with(|s| {
        s.scripted = vec![
            Reply::json(429, r#"{"error":"Too many requests"}"#)
                .header("X-RateLimit-Limit", "300")
                .header("X-RateLimit-Remaining", "0")
                .header("X-RateLimit-Reset", "2026-11-23T13:00:00.000Z"),
        ];
    });
    let error = client(&server)
        .post(&reply(TEXT), Attempt::First)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        SocialError::RateLimited {
            platform: Platform::Mastodon,
            reset: Some(time("2026-11-23T13:00:00Z")),
            detail: "Too many requests".into(),
        }
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_refused_token_is_unauthorized_and_a_forbidden_post_rejected() {
    let server =
        ReplayServer::start(|_| Reply::json(401, r#"{"error":"The access token is invalid"}"#))
            .await;
    let error = client(&server)
        .post(&reply(TEXT), Attempt::First)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        SocialError::Unauthorized {
            platform: Platform::Mastodon,
            detail: "The access token is invalid".into(),
        }
    );
    assert!(!error.to_string().contains(TOKEN));

    let server = ReplayServer::start(|_| {
        Reply::json(
            403,
            r#"{"error":"This action is not allowed: the token lacks write:statuses"}"#,
        )
    })
    .await;
    let error = client(&server)
        .post(&reply(TEXT), Attempt::First)
        .await
        .unwrap_err();
    assert!(
        matches!(error, SocialError::Rejected { status: 403, .. }),
        "{error:?}"
    );
}

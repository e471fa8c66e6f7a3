//! The Mastodon client against a scripted server speaking Mastodon's documented wire
//! format: the request it sends, paging forward with `min_id` and the `Link` header, first
//! start, the error statuses, and the transport's retries underneath.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Url;
use serde_json::{Value, json};
use shared::random::SeededRandom;
use shared::social::mastodon::{MastodonClient, PAGE_LIMIT};
use shared::social::transport::{RetryPolicy, Transport};
use shared::social::{MentionKind, Paging, Platform, SocialClient, SocialError};
use sitrep_tests::replay::{Recorded, ReplayServer, Reply};

const TOKEN: &str = "zA9-token_for_tests";

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

/// A mention notification as Mastodon sends it; the status id differs from the
/// notification id, as it does on a real server.
fn mention(id: u64) -> Value {
    json!({
        "id": id.to_string(),
        "type": "mention",
        "created_at": "2026-11-23T10:00:01.000Z",
        "group_key": format!("ungrouped-{id}"),
        "account": {"id": "971724", "username": "dev", "acct": "dev@other.social",
                    "display_name": "Dev"},
        "status": {
            "id": format!("1135200000{id:08}"),
            "created_at": "2026-11-23T10:00:00.000Z",
            "in_reply_to_id": null,
            "in_reply_to_account_id": null,
            "sensitive": false,
            "spoiler_text": "",
            "visibility": "public",
            "language": "en",
            "uri": format!("https://other.social/users/dev/statuses/{id}"),
            "url": format!("https://other.social/@dev/{id}"),
            "content": format!(
                "<p><span class=\"h-card\" translate=\"no\"><a href=\"https://mastodon.social/@acme\" \
                 class=\"u-url mention\">@<span>acme</span></a></span> down? #{id}</p>"
            ),
            "account": {"id": "971724", "username": "dev", "acct": "dev@other.social",
                        "display_name": "Dev"},
            "mentions": [{"id": "14715", "username": "acme", "acct": "acme",
                          "url": "https://mastodon.social/@acme"}],
            "tags": [], "emojis": [], "media_attachments": [], "card": null, "poll": null
        }
    })
}

/// A page of mentions with the given ids, newest first as Mastodon orders it.
fn notifications(ids: impl DoubleEndedIterator<Item = u64>) -> String {
    Value::Array(ids.rev().map(mention).collect()).to_string()
}

/// The `Link` header Mastodon sends with a page running from `oldest` to `newest`.
fn link(base: &str, oldest: u64, newest: u64) -> String {
    format!(
        "<{base}/api/v1/notifications?limit=80&max_id={oldest}&types%5B%5D=mention>; rel=\"next\", \
         <{base}/api/v1/notifications?limit=80&min_id={newest}&types%5B%5D=mention>; rel=\"prev\""
    )
}

fn rate_limited(reply: Reply) -> Reply {
    reply
        .header("X-RateLimit-Limit", "300")
        .header("X-RateLimit-Remaining", "297")
        .header("X-RateLimit-Reset", "2026-11-23T10:05:00.123456Z")
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("a valid time")
        .with_timezone(&Utc)
}

fn only(requests: &[Recorded]) -> &Recorded {
    assert_eq!(requests.len(), 1, "{requests:#?}");
    &requests[0]
}

#[tokio::test]
async fn the_request_asks_for_mentions_after_the_cursor_with_the_bearer_token() {
    let server = ReplayServer::start(|_| Reply::json(200, "[]")).await;
    let client = client(&server);
    assert_eq!(client.platform(), Platform::Mastodon);
    assert_eq!(client.paging(), Paging::OldestFirst);
    assert_eq!(client.reach(), None);

    client.mentions(Some("34975000"), None).await.unwrap();
    let requests = server.requests();
    let request = only(&requests);
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/api/v1/notifications");
    assert_eq!(request.params("types[]"), vec!["mention"]);
    assert_eq!(request.param("limit"), Some("80"));
    assert_eq!(request.param("min_id"), Some("34975000"));
    assert_eq!(request.param("since_id"), None);
    assert_eq!(request.param("max_id"), None);
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(
        !format!("{client:?}").contains(TOKEN),
        "the token stays out of debug output"
    );
}

#[tokio::test]
async fn a_poll_pages_forward_with_the_link_header_until_it_catches_up() {
    let server = ReplayServer::start(|request| {
        let base = format!("http://{}", request.header("host").unwrap_or_default());
        match request.param("min_id") {
            Some("1000") => rate_limited(
                Reply::json(200, notifications(1001..=1080))
                    .header("Link", link(&base, 1001, 1080)),
            ),
            Some("1080") => {
                Reply::json(200, notifications(1081..=1085)).header("Link", link(&base, 1081, 1085))
            }
            other => Reply::json(400, format!(r#"{{"error":"unexpected min_id {other:?}"}}"#)),
        }
    })
    .await;
    let client = client(&server);

    let first = client.mentions(Some("1000"), None).await.unwrap();
    assert_eq!(first.mentions.len(), PAGE_LIMIT);
    assert_eq!(first.newest.as_deref(), Some("1080"));
    assert_eq!(first.next_page.as_deref(), Some("1080"));
    let top = &first.mentions[0];
    assert_eq!(top.id, "113520000000001080", "the status id, newest first");
    assert_eq!(top.url, "https://other.social/@dev/1080");
    assert_eq!(top.author.handle, "dev@other.social");
    assert_eq!(top.author.name.as_deref(), Some("Dev"));
    assert_eq!(top.text, "@acme down? #1080");
    assert_eq!(top.lang.as_deref(), Some("en"));
    assert_eq!(top.kind, MentionKind::Mention);
    assert_eq!(first.mentions[79].id, "113520000000001001");
    let limit = first.rate_limit.expect("the rate-limit headers are read");
    assert_eq!((limit.limit, limit.remaining), (300, 297));
    assert_eq!(limit.reset, time("2026-11-23T10:05:00.123456Z"));

    let second = client
        .mentions(Some("1000"), first.next_page.as_deref())
        .await
        .unwrap();
    assert_eq!(second.mentions.len(), 5);
    assert_eq!(second.newest.as_deref(), Some("1085"));
    assert_eq!(second.next_page, None, "a partial page has caught up");
    assert_eq!(second.rate_limit, None);

    let requests = server.requests();
    let min_ids: Vec<_> = requests.iter().map(|r| r.param("min_id")).collect();
    assert_eq!(
        min_ids,
        vec![Some("1000"), Some("1080")],
        "the page wins over since"
    );
    assert!(
        requests
            .iter()
            .all(|r| r.params("types[]") == ["mention"] && r.param("limit") == Some("80")),
        "every page asks for the same thing: {requests:#?}"
    );
}

#[tokio::test]
async fn first_start_reads_only_the_newest_page() {
    let server = ReplayServer::start(|request| {
        let base = format!("http://{}", request.header("host").unwrap_or_default());
        Reply::json(200, notifications(5001..=5080)).header("Link", link(&base, 5001, 5080))
    })
    .await;
    let page = client(&server).mentions(None, None).await.unwrap();
    assert_eq!(page.mentions.len(), PAGE_LIMIT);
    assert_eq!(page.newest.as_deref(), Some("5080"));
    assert_eq!(
        page.next_page, None,
        "history before the first start is not wanted"
    );
    let requests = server.requests();
    let request = only(&requests);
    assert_eq!(request.param("min_id"), None);
    assert_eq!(request.params("types[]"), vec!["mention"]);
}

#[tokio::test]
async fn an_empty_page_moves_nothing() {
    let server = ReplayServer::start(|_| rate_limited(Reply::json(200, "[]"))).await;
    let page = client(&server).mentions(Some("1000"), None).await.unwrap();
    assert!(page.mentions.is_empty());
    assert_eq!(page.newest, None);
    assert_eq!(page.next_page, None);
    assert!(page.rate_limit.is_some());
}

#[tokio::test]
async fn too_many_requests_is_a_rate_limit_with_its_reset() {
    let server = ReplayServer::start(|_| {
        Reply::json(429, r#"{"error":"Too many requests"}"#)
            .header("X-RateLimit-Limit", "300")
            .header("X-RateLimit-Remaining", "0")
            .header("X-RateLimit-Reset", "2026-11-23T10:05:00.123456Z")
    })
    .await;
    let error = client(&server)
        .mentions(Some("1000"), None)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        SocialError::RateLimited {
            platform: Platform::Mastodon,
            reset: Some(time("2026-11-23T10:05:00.123456Z")),
            detail: "Too many requests".into(),
        }
    );
    assert_eq!(server.requests().len(), 1, "a 429 is not retried");
}

#[tokio::test]
async fn a_refused_token_is_unauthorized() {
    let server =
        ReplayServer::start(|_| Reply::json(401, r#"{"error":"The access token is invalid"}"#))
            .await;
    let error = client(&server).mentions(None, None).await.unwrap_err();
    assert_eq!(
        error,
        SocialError::Unauthorized {
            platform: Platform::Mastodon,
            detail: "The access token is invalid".into(),
        }
    );
    assert_eq!(server.requests().len(), 1, "a 401 is not retried");
}

#[tokio::test]
async fn a_server_that_fails_twice_then_answers_is_retried() {
    let calls = AtomicUsize::new(0);
    let server = ReplayServer::start(move |_| {
        if calls.fetch_add(1, Ordering::SeqCst) < 2 {
            Reply::json(503, r#"{"error":"Remote data could not be fetched"}"#)
        } else {
            Reply::json(200, notifications(1001..=1002))
        }
    })
    .await;
    let page = client(&server).mentions(Some("1000"), None).await.unwrap();
    assert_eq!(page.mentions.len(), 2);
    assert_eq!(page.newest.as_deref(), Some("1002"));
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests.iter().all(|r| r.param("min_id") == Some("1000")),
        "each retry is the same request: {requests:#?}"
    );
}

#[tokio::test]
async fn a_server_that_keeps_failing_is_unavailable() {
    let server = ReplayServer::start(|_| Reply::json(503, "<html>upstream down</html>")).await;
    let error = client(&server)
        .mentions(Some("1000"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SocialError::Unavailable { platform: Platform::Mastodon, detail }
            if detail.contains("503")),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 3, "all the policy's attempts");
}

#[tokio::test]
async fn a_dropped_connection_is_retried() {
    let calls = AtomicUsize::new(0);
    let server = ReplayServer::start(move |_| {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::Drop
        } else {
            Reply::json(200, notifications(1001..=1001))
        }
    })
    .await;
    let page = client(&server).mentions(Some("1000"), None).await.unwrap();
    assert_eq!(page.mentions.len(), 1);
    assert_eq!(server.requests().len(), 2);

    let server = ReplayServer::start(|_| Reply::Drop).await;
    let error = client(&server)
        .mentions(Some("1000"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, SocialError::Unavailable { .. }),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_body_that_is_not_an_array_of_notifications_is_malformed() {
    for body in [
        r#"[{"id": "1001", "type": "mention", "#,
        r#"{"notifications": []}"#,
        r#"{"error": "This should have been a 4xx"}"#,
    ] {
        let server = ReplayServer::start(move |_| Reply::json(200, body)).await;
        let error = client(&server)
            .mentions(Some("1000"), None)
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                SocialError::Malformed {
                    platform: Platform::Mastodon,
                    status: 200,
                    ..
                }
            ),
            "{body}: {error:?}"
        );
        assert_eq!(server.requests().len(), 1, "a bad body is not retried");
    }
}

#[tokio::test]
async fn a_notification_of_the_wrong_shape_is_skipped_and_the_page_kept() {
    let body = json!([
        mention(1003),
        {"id": "1002", "type": "mention", "status": {"id": "1"}},
        mention(1001)
    ])
    .to_string();
    let server = ReplayServer::start(move |_| Reply::json(200, body.clone())).await;
    let page = client(&server).mentions(Some("1000"), None).await.unwrap();
    let ids: Vec<_> = page.mentions.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["113520000000001003", "113520000000001001"]);
    assert_eq!(page.newest.as_deref(), Some("1003"));
    assert_eq!(page.partial_errors.len(), 1);
    assert!(
        page.partial_errors[0].starts_with("notification 1002 skipped"),
        "{:?}",
        page.partial_errors
    );
}

#[tokio::test]
async fn notifications_other_than_mentions_are_skipped() {
    let body = json!([
        mention(1006),
        {"id": "1005", "type": "favourite", "created_at": "2026-11-23T10:00:00.000Z",
         "account": {"id": "297420", "username": "haskal", "acct": "haskal@cybre.space"},
         "status": {"id": "103186046267791694"}},
        {"id": "1004", "type": "follow", "created_at": "2026-11-23T10:00:00.000Z",
         "account": {"id": "297421", "username": "new", "acct": "new"}},
        {"id": "1003", "type": "mention", "created_at": "2026-11-23T10:00:00.000Z",
         "account": {"id": "297422", "username": "gone", "acct": "gone"}, "status": null},
        {"id": "1002", "type": "reblog", "created_at": "2026-11-23T10:00:00.000Z",
         "account": {"id": "297423", "username": "fan", "acct": "fan"},
         "status": {"id": "103186046267791695"}},
        mention(1001)
    ])
    .to_string();
    let server = ReplayServer::start(move |_| Reply::json(200, body.clone())).await;
    let page = client(&server).mentions(Some("1000"), None).await.unwrap();
    let ids: Vec<_> = page.mentions.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["113520000000001006", "113520000000001001"]);
    assert_eq!(page.newest.as_deref(), Some("1006"));
    assert_eq!(page.next_page, None);
}

//! Contract tests of the X client against a local server replaying the shapes X's OpenAPI
//! document (and X in practice) sends: the request sitrep makes, pages with partial errors,
//! both 429 bodies with their reset header, usage-capped, malformed and empty answers, and
//! retries on 5xx and dropped connections.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use shared::clock::ManualClock;
use shared::random::SeededRandom;
use shared::social::transport::{RetryPolicy, Transport};
use shared::social::x::oauth1::OAuth1Credentials;
use shared::social::x::{XClient, XCredentials};
use shared::social::{MentionKind, Paging, SocialClient, SocialError};
use sitrep_tests::epoch;
use sitrep_tests::replay::{Recorded, ReplayServer, Reply};

const PAGE: &str = include_str!("../../shared/tests/fixtures/x-mentions-page.json");

fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        timeout: Duration::from_secs(2),
    }
}

fn client(server: &ReplayServer, credentials: XCredentials) -> XClient {
    let random = Arc::new(SeededRandom::new(1));
    XClient::new(
        Transport::new(quick_retries(), random.clone()).unwrap(),
        server.base.parse().unwrap(),
        "2244994945".into(),
        credentials,
        Arc::new(ManualClock::new(epoch())),
        random,
    )
}

fn bearer() -> XCredentials {
    XCredentials::Bearer("app-token".into())
}

fn rate_headers(reply: Reply, remaining: u32) -> Reply {
    reply
        .header("x-rate-limit-limit", "450")
        .header("x-rate-limit-remaining", remaining.to_string())
        .header("x-rate-limit-reset", "1795430000")
}

#[tokio::test]
async fn the_request_asks_for_what_a_mention_needs_with_the_bearer_token() {
    let server = ReplayServer::start(|_| rate_headers(Reply::json(200, PAGE), 449)).await;
    let x = client(&server, bearer());
    assert_eq!(x.paging(), Paging::NewestFirst);
    assert_eq!(x.reach(), Some(800));
    x.mentions(Some("1859000000000000000"), Some("tok"))
        .await
        .unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/2/users/2244994945/mentions");
    assert_eq!(request.header("authorization"), Some("Bearer app-token"));
    assert_eq!(request.param("since_id"), Some("1859000000000000000"));
    assert_eq!(request.param("pagination_token"), Some("tok"));
    assert_eq!(request.param("max_results"), Some("100"));
    let fields = request.param("tweet.fields").unwrap();
    for field in [
        "author_id",
        "created_at",
        "conversation_id",
        "lang",
        "referenced_tweets",
    ] {
        assert!(fields.contains(field), "{field} missing from {fields}");
    }
    assert_eq!(
        request.param("expansions"),
        Some("author_id,referenced_tweets.id")
    );
    assert!(request.param("user.fields").unwrap().contains("username"));
}

#[tokio::test]
async fn a_first_poll_sends_no_since_id_and_no_token() {
    let server = ReplayServer::start(|_| Reply::json(200, PAGE)).await;
    client(&server, bearer())
        .mentions(None, None)
        .await
        .unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.param("since_id"), None);
    assert_eq!(request.param("pagination_token"), None);
}

#[tokio::test]
async fn a_page_with_partial_errors_keeps_its_mentions_and_rate_limit() {
    let server = ReplayServer::start(|_| rate_headers(Reply::json(200, PAGE), 12)).await;
    let page = client(&server, bearer())
        .mentions(None, None)
        .await
        .unwrap();
    assert_eq!(page.mentions.len(), 2);
    let first = &page.mentions[0];
    assert_eq!(first.author.handle, "dev");
    assert_eq!(first.url, "https://x.com/dev/status/1860000000000000002");
    assert_eq!(first.kind, MentionKind::Mention);
    assert_eq!(
        first.created_at,
        Utc.with_ymd_and_hms(2026, 11, 23, 10, 2, 11).unwrap()
    );
    assert_eq!(page.mentions[1].kind, MentionKind::Reply);
    assert_eq!(page.newest.as_deref(), Some("1860000000000000002"));
    assert_eq!(
        page.next_page.as_deref(),
        Some("7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i")
    );
    assert_eq!(page.partial_errors.len(), 1);
    assert!(page.partial_errors[0].contains("Not Found Error"));
    let limit = page.rate_limit.unwrap();
    assert_eq!((limit.limit, limit.remaining), (450, 12));
    assert_eq!(limit.reset.timestamp(), 1_795_430_000);
}

#[tokio::test]
async fn an_empty_timeline_is_an_empty_page() {
    let server = ReplayServer::start(|_| Reply::json(200, r#"{"meta":{"result_count":0}}"#)).await;
    let page = client(&server, bearer())
        .mentions(Some("1"), None)
        .await
        .unwrap();
    assert!(page.mentions.is_empty());
    assert_eq!(page.newest, None);
    assert_eq!(page.next_page, None);
}

#[tokio::test]
async fn both_429_bodies_are_rate_limits_until_the_reset_header() {
    for body in [
        r#"{"errors":[{"code":88,"message":"Rate limit exceeded"}]}"#,
        r#"{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}"#,
    ] {
        let server = ReplayServer::start(move |_| rate_headers(Reply::json(429, body), 0)).await;
        let error = client(&server, bearer())
            .mentions(None, None)
            .await
            .unwrap_err();
        match error {
            SocialError::RateLimited { reset, .. } => {
                assert_eq!(reset.map(|r| r.timestamp()), Some(1_795_430_000));
            }
            other => panic!("expected a rate limit, got {other:?}"),
        }
        assert_eq!(server.requests().len(), 1, "a 429 is not retried blindly");
    }
}

#[tokio::test]
async fn usage_capped_is_its_own_error() {
    let body = r#"{"title":"UsageCapExceeded","detail":"Usage cap exceeded: Monthly product cap","type":"https://api.x.com/2/problems/usage-capped","period":"Monthly","scope":"Product"}"#;
    let server = ReplayServer::start(move |_| {
        Reply::json(429, body).header("content-type", "application/problem+json")
    })
    .await;
    let error = client(&server, bearer())
        .mentions(None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, SocialError::UsageCapped { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn problem_json_refusals_are_typed() {
    let unauthorized =
        r#"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#;
    let server = ReplayServer::start(move |_| {
        Reply::json(401, unauthorized).header("content-type", "application/problem+json")
    })
    .await;
    let error = client(&server, bearer())
        .mentions(None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, SocialError::Unauthorized { .. }),
        "{error:?}"
    );

    let invalid = r#"{"errors":[{"parameters":{"pagination_token":["x"]},"message":"The `pagination_token` query parameter value [x] is not valid"}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.x.com/2/problems/invalid-request"}"#;
    let server = ReplayServer::start(move |_| Reply::json(400, invalid)).await;
    let error = client(&server, bearer())
        .mentions(None, Some("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, SocialError::Rejected { status: 400, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn malformed_bodies_are_errors_for_that_poll() {
    for body in ["{", "[]", "{\"data\": 5}", "<html>oops</html>"] {
        let server = ReplayServer::start(move |_| Reply::json(200, body)).await;
        let error = client(&server, bearer())
            .mentions(None, None)
            .await
            .unwrap_err();
        assert!(
            matches!(error, SocialError::Malformed { status: 200, .. }),
            "{body}: {error:?}"
        );
    }
}

#[tokio::test]
async fn server_errors_and_dropped_connections_are_retried_with_backoff() {
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let server = ReplayServer::start(move |_: &Recorded| {
        match seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
            0 => Reply::Drop,
            1 => Reply::json(503, "upstream connect error"),
            _ => Reply::json(200, PAGE),
        }
    })
    .await;
    let page = client(&server, bearer())
        .mentions(None, None)
        .await
        .unwrap();
    assert_eq!(page.mentions.len(), 2);
    assert_eq!(server.requests().len(), 3, "dropped, failed, answered");

    let server =
        ReplayServer::start(|_| Reply::json(503, r#"{"title":"Service Unavailable"}"#)).await;
    let error = client(&server, bearer())
        .mentions(None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, SocialError::Unavailable { .. }),
        "{error:?}"
    );
    assert_eq!(
        server.requests().len(),
        3,
        "three attempts, then it gives up"
    );
}

#[tokio::test]
async fn user_context_signs_every_attempt_with_oauth_1a() {
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let server = ReplayServer::start(move |_| {
        if seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Reply::json(502, "bad gateway")
        } else {
            Reply::json(200, PAGE)
        }
    })
    .await;
    let credentials = XCredentials::OAuth1(OAuth1Credentials {
        consumer_key: "consumer".into(),
        consumer_secret: "consumer-secret".into(),
        access_token: "token".into(),
        access_token_secret: "token-secret".into(),
    });
    client(&server, credentials)
        .mentions(Some("5"), None)
        .await
        .unwrap();
    let requests = server.requests();
    let headers: Vec<&str> = requests
        .iter()
        .map(|r| r.header("authorization").unwrap())
        .collect();
    for header in &headers {
        assert!(header.starts_with("OAuth "), "{header}");
        assert!(header.contains("oauth_consumer_key=\"consumer\""));
        assert!(header.contains("oauth_token=\"token\""));
        assert!(header.contains(&format!("oauth_timestamp=\"{}\"", epoch().timestamp())));
        assert!(!header.contains("secret"), "secrets never travel: {header}");
    }
    let nonce = |h: &str| {
        h.split("oauth_nonce=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_ne!(
        nonce(headers[0]),
        nonce(headers[1]),
        "a retry gets a new nonce"
    );
}

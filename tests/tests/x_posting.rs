//! Contract tests of posting as the X account against a local server replaying the shapes
//! X's OpenAPI document (`POST /2/tweets`, `GET /2/users/{id}/tweets`) and X in practice
//! send: the exact request and its OAuth 1.0a signature, the refusals (duplicate content, a
//! reply X does not permit, the rate limit), the answers that leave a post in doubt (a 5xx,
//! a lost or unreadable answer) sent only once, the search for an earlier attempt before
//! posting again, and the other accounts a mention names.

use std::sync::Arc;
use std::time::Duration;

use shared::clock::ManualClock;
use shared::random::SeededRandom;
use shared::social::transport::{RetryPolicy, Transport};
use shared::social::x::oauth1::{self, OAuth1Credentials};
use shared::social::x::{XClient, XCredentials};
use shared::social::{Attempt, Outgoing, Posted, ReplyTo, SocialClient, SocialError};
use sitrep_tests::epoch;
use sitrep_tests::replay::{Recorded, ReplayServer, Reply};

/// The account sitrep posts as.
const OWN_ID: &str = "2244994945";

/// The customer's post being answered, and its author.
const CUSTOMER_POST: &str = "1860000000000000002";
const CUSTOMER: &str = "783214";

/// `CreatePostsResponse` for a created reply.
const CREATED: &str = r#"{"data":{"edit_history_tweet_ids":["1860000000000000100"],"id":"1860000000000000100","text":"@dev We are looking into API errors. Updates: https://t.co/Zx9aBcD3eF"}}"#;

const DUPLICATE: &str = r#"{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}"#;

const NOT_SUMMONED: &str = r#"{"detail":"Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.","type":"about:blank","title":"Forbidden","status":403}"#;

/// `GET /2/users/{id}/tweets` with nothing since the start time.
const NO_POSTS: &str = r#"{"meta":{"result_count":0}}"#;

fn quick_retries(timeout: Duration) -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        timeout,
    }
}

fn client_at(base: &str, credentials: XCredentials, timeout: Duration) -> XClient {
    let random = Arc::new(SeededRandom::new(1));
    XClient::new(
        Transport::new(quick_retries(timeout), random.clone()).unwrap(),
        base.parse().unwrap(),
        OWN_ID.into(),
        credentials,
        Arc::new(ManualClock::new(epoch())),
        random,
    )
}

fn client(server: &ReplayServer) -> XClient {
    client_at(&server.base, user_context(), Duration::from_secs(2))
}

fn user_context() -> XCredentials {
    XCredentials::OAuth1(OAuth1Credentials {
        consumer_key: "consumer".into(),
        consumer_secret: "consumer-secret".into(),
        access_token: "token".into(),
        access_token_secret: "token-secret".into(),
    })
}

/// A reply to the customer's post that names `exclude` as accounts to keep out.
fn reply(exclude: &[&str]) -> Outgoing {
    Outgoing {
        text: "@dev We are looking into API errors. Updates: https://status.acme.example/i/42"
            .into(),
        reply_to: Some(ReplyTo {
            post_id: CUSTOMER_POST.into(),
            author_id: CUSTOMER.into(),
            exclude: exclude.iter().map(|id| (*id).to_owned()).collect(),
        }),
        key: "reply-1860000000000000002".into(),
        decided_at: epoch(),
    }
}

fn update() -> Outgoing {
    Outgoing {
        text: "Investigating elevated API error rates. Updates: https://status.acme.example/i/42"
            .into(),
        reply_to: None,
        key: "update-42-investigating".into(),
        decided_at: epoch(),
    }
}

fn posting_limits(reply: Reply, remaining: u32) -> Reply {
    reply
        .header("x-rate-limit-limit", "100")
        .header("x-rate-limit-remaining", remaining.to_string())
        .header("x-rate-limit-reset", "1795430000")
}

fn posts(server: &ReplayServer) -> Vec<Recorded> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect()
}

fn lookups(server: &ReplayServer) -> Vec<Recorded> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect()
}

/// Answers the account's timeline with `timeline` and a post with `created`.
async fn x_server(timeline: &'static str, created: Reply) -> ReplayServer {
    ReplayServer::start(move |request: &Recorded| {
        if request.method == "GET" && request.path == format!("/2/users/{OWN_ID}/tweets") {
            Reply::json(200, timeline)
        } else if request.method == "POST" && request.path == "/2/tweets" {
            created.clone()
        } else {
            Reply::json(
                404,
                r#"{"title":"Not Found","type":"about:blank","status":404}"#,
            )
        }
    })
    .await
}

/// The `name="value"` pairs of an OAuth header, values decoded.
fn oauth_params(header: &str) -> Vec<(String, String)> {
    let decode = |text: &str| {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    header
        .strip_prefix("OAuth ")
        .expect("an OAuth header")
        .split(", ")
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap();
            (name.to_owned(), decode(value.trim_matches('"')))
        })
        .collect()
}

#[tokio::test]
async fn a_reply_is_one_signed_post_with_its_exact_body() {
    let server = x_server(NO_POSTS, posting_limits(Reply::json(201, CREATED), 99)).await;
    // The author and the account itself are already the conversation; the rest stay out.
    let outgoing = reply(&["1001", CUSTOMER, OWN_ID, "1002", "1001"]);
    let posted = client(&server)
        .post(&outgoing, Attempt::First)
        .await
        .unwrap();

    assert_eq!(posted.id, "1860000000000000100");
    assert_eq!(posted.url, "https://x.com/i/web/status/1860000000000000100");
    assert!(!posted.recovered);
    let limit = posted.rate_limit.unwrap();
    assert_eq!((limit.limit, limit.remaining), (100, 99));
    assert_eq!(limit.reset.timestamp(), 1_795_430_000);

    let requests = server.requests();
    assert_eq!(requests.len(), 1, "a first attempt looks nothing up");
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/2/tweets");
    assert!(request.query.is_empty(), "{:?}", request.query);
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.json(),
        serde_json::json!({
            "text": "@dev We are looking into API errors. Updates: https://status.acme.example/i/42",
            "reply": {
                "in_reply_to_tweet_id": CUSTOMER_POST,
                "exclude_reply_user_ids": ["1001", "1002"]
            }
        })
    );

    // Signed for user context over the method, the URL and the oauth_* parameters only: a
    // JSON body is not part of an OAuth 1.0a signature.
    let header = request.header("authorization").unwrap();
    assert!(!header.contains("secret"), "secrets never travel: {header}");
    let params = oauth_params(header);
    let value = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{name} missing from {header}"))
    };
    assert_eq!(value("oauth_consumer_key"), "consumer");
    assert_eq!(value("oauth_token"), "token");
    assert_eq!(value("oauth_timestamp"), epoch().timestamp().to_string());
    let signed: Vec<(&str, &str)> = params
        .iter()
        .filter(|(n, _)| n != "oauth_signature")
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let expected = oauth1::sign(
        "POST",
        &format!("{}/2/tweets", server.base),
        signed.into_iter(),
        "consumer-secret",
        "token-secret",
    );
    assert_eq!(value("oauth_signature"), expected);
}

#[tokio::test]
async fn an_update_has_no_reply_and_a_reply_without_others_no_exclusions() {
    let server = x_server(NO_POSTS, Reply::json(201, CREATED)).await;
    let x = client(&server);
    x.post(&update(), Attempt::First).await.unwrap();
    x.post(&reply(&[CUSTOMER, OWN_ID]), Attempt::First)
        .await
        .unwrap();
    let requests = posts(&server);
    assert_eq!(
        requests[0].json(),
        serde_json::json!({"text": update().text})
    );
    assert_eq!(
        requests[1].json(),
        serde_json::json!({
            "text": reply(&[]).text,
            "reply": {"in_reply_to_tweet_id": CUSTOMER_POST}
        })
    );
}

#[tokio::test]
async fn a_bearer_token_cannot_post_and_nothing_is_sent() {
    let server = x_server(NO_POSTS, Reply::json(201, CREATED)).await;
    let x = client_at(
        &server.base,
        XCredentials::Bearer("app-token".into()),
        Duration::from_secs(2),
    );
    for attempt in [Attempt::First, Attempt::AfterAmbiguous] {
        let error = x.post(&reply(&[]), attempt).await.unwrap_err();
        match &error {
            SocialError::Unauthorized { detail, .. } => {
                assert!(detail.contains("user context"), "{detail}");
            }
            other => panic!("expected Unauthorized, got {other:?}"),
        }
    }
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

#[tokio::test]
async fn duplicate_content_is_its_own_refusal() {
    let server = x_server(
        NO_POSTS,
        Reply::json(403, DUPLICATE).header("content-type", "application/problem+json"),
    )
    .await;
    let error = client(&server)
        .post(&update(), Attempt::First)
        .await
        .unwrap_err();
    match &error {
        SocialError::Duplicate { detail, .. } => assert!(detail.contains("duplicate content")),
        other => panic!("expected Duplicate, got {other:?}"),
    }
    assert_eq!(posts(&server).len(), 1);
}

#[tokio::test]
async fn a_reply_x_does_not_permit_is_rejected_in_x_words() {
    let server = x_server(
        NO_POSTS,
        Reply::json(403, NOT_SUMMONED).header("content-type", "application/problem+json"),
    )
    .await;
    let error = client(&server)
        .post(&reply(&[]), Attempt::First)
        .await
        .unwrap_err();
    match &error {
        SocialError::Rejected { status, detail, .. } => {
            assert_eq!(*status, 403);
            assert!(detail.contains("not been mentioned"), "{detail}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_eq!(posts(&server).len(), 1, "a refusal is not retried");
}

#[tokio::test]
async fn other_refusals_are_typed() {
    let unauthorized =
        r#"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#;
    let server = x_server(NO_POSTS, Reply::json(401, unauthorized)).await;
    let error = client(&server)
        .post(&update(), Attempt::First)
        .await
        .unwrap_err();
    assert!(
        matches!(error, SocialError::Unauthorized { .. }),
        "{error:?}"
    );

    let invalid = r#"{"errors":[{"parameters":{"reply.in_reply_to_tweet_id":["x"]},"message":"The `reply.in_reply_to_tweet_id` field value [x] does not match ^[0-9]{1,19}$"}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.x.com/2/problems/invalid-request"}"#;
    let server = x_server(NO_POSTS, Reply::json(400, invalid)).await;
    let error = client(&server)
        .post(&reply(&[]), Attempt::First)
        .await
        .unwrap_err();
    assert!(
        matches!(error, SocialError::Rejected { status: 400, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_rate_limited_post_says_when_to_try_again() {
    for body in [
        r#"{"errors":[{"code":88,"message":"Rate limit exceeded"}]}"#,
        r#"{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}"#,
    ] {
        let server = x_server(NO_POSTS, posting_limits(Reply::json(429, body), 0)).await;
        let error = client(&server)
            .post(&reply(&[]), Attempt::First)
            .await
            .unwrap_err();
        match error {
            SocialError::RateLimited { reset, .. } => {
                assert_eq!(reset.map(|r| r.timestamp()), Some(1_795_430_000));
            }
            other => panic!("expected a rate limit, got {other:?}"),
        }
        assert_eq!(posts(&server).len(), 1);
    }
    // The reset header alone still says when.
    let server = x_server(
        NO_POSTS,
        Reply::json(429, r#"{"title":"Too Many Requests","status":429}"#)
            .header("x-rate-limit-reset", "1795430000"),
    )
    .await;
    let error = client(&server)
        .post(&update(), Attempt::First)
        .await
        .unwrap_err();
    assert!(
        matches!(error, SocialError::RateLimited { reset: Some(r), .. } if r.timestamp() == 1_795_430_000),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_server_error_after_sending_is_ambiguous_and_never_repeated() {
    for (status, body) in [
        (
            503,
            r#"{"title":"Service Unavailable","type":"about:blank","status":503}"#,
        ),
        (
            500,
            r#"{"title":"Internal Server Error","type":"about:blank","status":500}"#,
        ),
        (502, "<html><body>Bad Gateway</body></html>"),
        (504, "upstream request timeout"),
    ] {
        let server = x_server(NO_POSTS, Reply::json(status, body)).await;
        let error = client(&server)
            .post(&reply(&[]), Attempt::First)
            .await
            .unwrap_err();
        assert!(
            matches!(error, SocialError::Ambiguous { .. }),
            "{status}: {error:?}"
        );
        assert_eq!(posts(&server).len(), 1, "{status}: X may have posted");
    }
}

#[tokio::test]
async fn a_lost_answer_is_ambiguous_and_never_repeated() {
    let server = x_server(NO_POSTS, Reply::Drop).await;
    let error = client(&server)
        .post(&reply(&[]), Attempt::First)
        .await
        .unwrap_err();
    assert!(matches!(error, SocialError::Ambiguous { .. }), "{error:?}");
    assert_eq!(posts(&server).len(), 1, "the request went out once");
}

#[tokio::test]
async fn a_timeout_is_ambiguous_and_never_repeated() {
    let server = x_server(NO_POSTS, Reply::Stall(Duration::from_secs(2))).await;
    let x = client_at(&server.base, user_context(), Duration::from_millis(300));
    let error = x.post(&update(), Attempt::First).await.unwrap_err();
    match &error {
        SocialError::Ambiguous { detail, .. } => assert!(detail.contains("timed out"), "{detail}"),
        other => panic!("expected Ambiguous, got {other:?}"),
    }
    assert_eq!(posts(&server).len(), 1);
}

#[tokio::test]
async fn an_unreadable_success_is_ambiguous() {
    for body in ["{}", "<html>Created</html>", r#"{"data":{"text":"no id"}}"#] {
        let server = x_server(NO_POSTS, Reply::json(201, body)).await;
        let error = client(&server)
            .post(&update(), Attempt::First)
            .await
            .unwrap_err();
        assert!(
            matches!(error, SocialError::Ambiguous { .. }),
            "{body}: {error:?}"
        );
    }
}

#[tokio::test]
async fn data_beside_errors_is_the_created_post() {
    let body = r#"{"data":{"id":"1860000000000000101","text":"Investigating elevated API error rates. Updates: https://t.co/Zx9aBcD3eF"},"errors":[{"title":"Not Found Error","detail":"Could not find user with ids: [1001].","type":"https://api.x.com/2/problems/resource-not-found","resource_type":"user","parameter":"exclude_reply_user_ids","value":"1001"}]}"#;
    let server = x_server(NO_POSTS, Reply::json(201, body)).await;
    let posted = client(&server)
        .post(&update(), Attempt::First)
        .await
        .unwrap();
    assert_eq!(posted.id, "1860000000000000101");
}

#[tokio::test]
async fn a_server_that_cannot_be_reached_is_unavailable_not_ambiguous() {
    // A port that was free a moment ago: the connection is refused, nothing was sent.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let error = client_at(&base, user_context(), Duration::from_secs(2))
        .post(&update(), Attempt::First)
        .await
        .unwrap_err();
    assert!(
        matches!(error, SocialError::Unavailable { .. }),
        "{error:?}"
    );
}

/// The account's own posts since a minute before the decision, as `GET /2/users/{id}/tweets`
/// answers with `tweet.fields=referenced_tweets,created_at,text`: an unrelated reply, the
/// earlier attempt at the reply to the customer's post, and an older update.
const TIMELINE_WITH_REPLY: &str = r#"{
  "data": [
    {"id": "1860000000000000110", "text": "@someone Thanks, fixed now.",
     "created_at": "2026-11-23T10:00:09.000Z",
     "edit_history_tweet_ids": ["1860000000000000110"],
     "referenced_tweets": [{"type": "replied_to", "id": "1860000000000000050"}]},
    {"id": "1860000000000000100",
     "text": "@dev We are looking into API errors. Updates: https://t.co/Zx9aBcD3eF",
     "created_at": "2026-11-23T10:00:01.000Z",
     "edit_history_tweet_ids": ["1860000000000000100"],
     "referenced_tweets": [{"type": "replied_to", "id": "1860000000000000002"}]},
    {"id": "1860000000000000090",
     "text": "Investigating elevated API error rates. Updates: https://t.co/Q1w2E3r4T5",
     "created_at": "2026-11-23T09:59:30.000Z",
     "edit_history_tweet_ids": ["1860000000000000090"]}
  ],
  "meta": {"result_count": 3, "newest_id": "1860000000000000110",
           "oldest_id": "1860000000000000090"}
}"#;

fn assert_recovered(posted: &Posted, id: &str) {
    assert!(posted.recovered, "{posted:?}");
    assert_eq!(posted.id, id);
    assert_eq!(posted.url, format!("https://x.com/i/web/status/{id}"));
}

#[tokio::test]
async fn after_an_ambiguous_failure_the_earlier_reply_is_found_and_not_posted_again() {
    let server = x_server(TIMELINE_WITH_REPLY, Reply::json(201, CREATED)).await;
    let posted = client(&server)
        .post(&reply(&["1001"]), Attempt::AfterAmbiguous)
        .await
        .unwrap();
    assert_recovered(&posted, "1860000000000000100");
    assert!(posts(&server).is_empty(), "{:?}", posts(&server));

    let lookups = lookups(&server);
    assert_eq!(lookups.len(), 1);
    let lookup = &lookups[0];
    assert_eq!(lookup.path, format!("/2/users/{OWN_ID}/tweets"));
    assert_eq!(lookup.param("start_time"), Some("2026-11-23T09:59:00Z"));
    assert_eq!(lookup.param("max_results"), Some("100"));
    assert_eq!(
        lookup.param("tweet.fields"),
        Some("referenced_tweets,created_at,text")
    );
    assert_eq!(
        lookup.param("exclude"),
        None,
        "replies are what it looks for"
    );
    assert!(
        lookup
            .header("authorization")
            .is_some_and(|h| h.starts_with("OAuth ")),
        "{:?}",
        lookup.header("authorization")
    );
}

#[tokio::test]
async fn after_an_ambiguous_failure_an_earlier_update_is_found_by_its_text() {
    let server = x_server(TIMELINE_WITH_REPLY, Reply::json(201, CREATED)).await;
    let posted = client(&server)
        .post(&update(), Attempt::AfterAmbiguous)
        .await
        .unwrap();
    assert_recovered(&posted, "1860000000000000090");
    assert!(posts(&server).is_empty());
}

#[tokio::test]
async fn after_an_ambiguous_failure_with_nothing_found_it_posts_once() {
    // Only an unrelated reply since the decision: the earlier attempt never reached X.
    let timeline = r#"{
      "data": [
        {"id": "1860000000000000110", "text": "@someone Thanks, fixed now.",
         "created_at": "2026-11-23T10:00:09.000Z",
         "edit_history_tweet_ids": ["1860000000000000110"],
         "referenced_tweets": [{"type": "replied_to", "id": "1860000000000000050"}]}
      ],
      "meta": {"result_count": 1, "newest_id": "1860000000000000110",
               "oldest_id": "1860000000000000110"}
    }"#;
    for timeline in [timeline, NO_POSTS] {
        let server = x_server(timeline, Reply::json(201, CREATED)).await;
        let posted = client(&server)
            .post(&reply(&[]), Attempt::AfterAmbiguous)
            .await
            .unwrap();
        assert!(!posted.recovered);
        assert_eq!(posted.id, "1860000000000000100");
        let methods: Vec<String> = server.requests().into_iter().map(|r| r.method).collect();
        assert_eq!(methods, ["GET", "POST"], "look, then post once");
    }
}

#[tokio::test]
async fn the_search_for_an_earlier_attempt_reads_on_to_the_next_page() {
    let first = r#"{
      "data": [
        {"id": "1860000000000000110", "text": "@someone Thanks, fixed now.",
         "edit_history_tweet_ids": ["1860000000000000110"],
         "referenced_tweets": [{"type": "replied_to", "id": "1860000000000000050"}]}
      ],
      "meta": {"result_count": 1, "newest_id": "1860000000000000110",
               "oldest_id": "1860000000000000110", "next_token": "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i"}
    }"#;
    let server = ReplayServer::start(move |request: &Recorded| {
        match (request.method.as_str(), request.param("pagination_token")) {
            ("GET", None) => Reply::json(200, first),
            ("GET", Some(_)) => Reply::json(200, TIMELINE_WITH_REPLY),
            _ => Reply::json(201, CREATED),
        }
    })
    .await;
    let posted = client(&server)
        .post(&reply(&[]), Attempt::AfterAmbiguous)
        .await
        .unwrap();
    assert_recovered(&posted, "1860000000000000100");
    let lookups = lookups(&server);
    assert_eq!(lookups.len(), 2);
    assert_eq!(
        lookups[1].param("pagination_token"),
        Some("7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i")
    );
    assert_eq!(lookups[1].param("start_time"), Some("2026-11-23T09:59:00Z"));
    assert!(posts(&server).is_empty());
}

#[tokio::test]
async fn a_failed_search_posts_nothing_and_says_why() {
    let limited = r#"{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}"#;
    let server = ReplayServer::start(move |request: &Recorded| {
        if request.method == "GET" {
            Reply::json(429, limited).header("x-rate-limit-reset", "1795430000")
        } else {
            Reply::json(201, CREATED)
        }
    })
    .await;
    let error = client(&server)
        .post(&reply(&[]), Attempt::AfterAmbiguous)
        .await
        .unwrap_err();
    // The earlier attempt may still have posted: the post stays ambiguous, to be checked
    // again, rather than read as certainly not posted (which would let it be sent again).
    assert!(
        matches!(&error, SocialError::Ambiguous { detail, .. } if detail.contains("rate limit")),
        "{error:?}"
    );
    assert!(posts(&server).is_empty());

    // A read may be retried: a failing timeline is tried again, then reported, not posted.
    let server = ReplayServer::start(|request: &Recorded| {
        if request.method == "GET" {
            Reply::json(503, r#"{"title":"Service Unavailable","status":503}"#)
        } else {
            Reply::json(201, CREATED)
        }
    })
    .await;
    let error = client(&server)
        .post(&reply(&[]), Attempt::AfterAmbiguous)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SocialError::Ambiguous { detail, .. } if detail.contains("unavailable")),
        "{error:?}"
    );
    assert_eq!(lookups(&server).len(), 3);
    assert!(posts(&server).is_empty());

    // So is a timeline page that cannot be read (cut short, or not a page).
    for body in [r#"{"data":[{"id":"1860000000000000100","te"#, "[]"] {
        let server = ReplayServer::start(move |request: &Recorded| {
            if request.method == "GET" {
                Reply::json(200, body)
            } else {
                Reply::json(201, CREATED)
            }
        })
        .await;
        let error = client(&server)
            .post(&reply(&[]), Attempt::AfterAmbiguous)
            .await
            .unwrap_err();
        assert!(
            matches!(error, SocialError::Ambiguous { .. }),
            "{body}: {error:?}"
        );
        assert!(posts(&server).is_empty());
    }
}

#[tokio::test]
async fn an_answer_cut_off_mid_body_or_of_an_unknown_status_is_ambiguous_after_one_post() {
    for created in [Reply::cut_off(201, CREATED, 40), Reply::json(304, "")] {
        let server = x_server(NO_POSTS, created).await;
        let error = client(&server)
            .post(&reply(&[]), Attempt::First)
            .await
            .unwrap_err();
        assert!(matches!(error, SocialError::Ambiguous { .. }), "{error:?}");
        assert_eq!(posts(&server).len(), 1, "never sent twice");
    }
}

#[tokio::test]
async fn a_refusal_x_did_not_word_is_malformed_and_certain() {
    // A 4xx is X's no, so nothing was posted; but a body that is not X's does not say why,
    // so the post is tried again later rather than given up.
    for body in ["<html>Forbidden</html>", r#"{"detail":"You are not allo"#] {
        let server = x_server(NO_POSTS, Reply::json(403, body)).await;
        let error = client(&server)
            .post(&reply(&[]), Attempt::First)
            .await
            .unwrap_err();
        assert!(
            matches!(error, SocialError::Malformed { status: 403, .. }),
            "{body}: {error:?}"
        );
    }
}

#[tokio::test]
async fn a_duplicate_after_an_ambiguous_failure_is_the_earlier_post_once_it_shows() {
    // The timeline lags: empty at first, then showing the post the lost attempt made.
    let looked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = Arc::clone(&looked);
    let server = ReplayServer::start(move |request: &Recorded| {
        if request.method == "GET" {
            match seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                0 => Reply::json(200, NO_POSTS),
                _ => Reply::json(200, TIMELINE_WITH_REPLY),
            }
        } else {
            Reply::json(403, DUPLICATE)
        }
    })
    .await;
    let posted = client(&server)
        .post(&update(), Attempt::AfterAmbiguous)
        .await
        .unwrap();
    assert_recovered(&posted, "1860000000000000090");
    let methods: Vec<String> = server.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(methods, ["GET", "POST", "GET"]);

    // Still nowhere to be seen: the refusal stands.
    let server = x_server(NO_POSTS, Reply::json(403, DUPLICATE)).await;
    let error = client(&server)
        .post(&update(), Attempt::AfterAmbiguous)
        .await
        .unwrap_err();
    assert!(matches!(error, SocialError::Duplicate { .. }), "{error:?}");
}

#[tokio::test]
async fn a_mention_carries_the_other_accounts_it_names() {
    let page = r#"{
      "data": [
        {"id": "1860000000000000003", "text": "@acme @jane @bob_ops @dev @ghost is the API down again?",
         "author_id": "783214", "created_at": "2026-11-23T10:03:00.000Z",
         "conversation_id": "1860000000000000003", "lang": "en",
         "edit_history_tweet_ids": ["1860000000000000003"],
         "entities": {"mentions": [
           {"start": 0, "end": 5, "username": "acme", "id": "2244994945"},
           {"start": 6, "end": 11, "username": "jane", "id": "1001"},
           {"start": 12, "end": 20, "username": "bob_ops", "id": "1002"},
           {"start": 21, "end": 25, "username": "dev", "id": "783214"},
           {"start": 26, "end": 32, "username": "ghost"}]}},
        {"id": "1860000000000000002", "text": "@acme is the API down?",
         "author_id": "1003", "created_at": "2026-11-23T10:02:00.000Z",
         "edit_history_tweet_ids": ["1860000000000000002"],
         "entities": {"mentions": [
           {"start": 0, "end": 5, "username": "acme", "id": "2244994945"}]}}
      ],
      "includes": {"users": [{"id": "783214", "name": "Dev", "username": "dev"},
                             {"id": "1003", "name": "Sam", "username": "sam"}]},
      "meta": {"result_count": 2, "newest_id": "1860000000000000003",
               "oldest_id": "1860000000000000002"}
    }"#;
    let server = ReplayServer::start(move |_| Reply::json(200, page)).await;
    let page = client(&server).mentions(None, None).await.unwrap();
    assert_eq!(page.mentions[0].others, ["1001", "1002"]);
    assert!(page.mentions[1].others.is_empty());
    let fields = server.requests()[0]
        .param("tweet.fields")
        .unwrap()
        .to_owned();
    assert!(fields.split(',').any(|f| f == "entities"), "{fields}");
}

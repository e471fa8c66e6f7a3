//! Posting to Bluesky against a scripted PDS: the createRecord request (record key, record,
//! link facets in UTF-8 byte offsets), replies built from getPosts, and exactly-once posting
//! without an idempotency key: a lost or timed-out answer is ambiguous after one
//! createRecord, and the next attempt reads the record key back before posting again.
//!
//! The fake PDS keeps records by record key and, like the reference PDS, answers a create
//! at a key that is taken with `500 InternalServerError` unless told otherwise.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use shared::clock::{Clock, ManualClock};
use shared::random::SeededRandom;
use shared::social::bluesky::{BlueskyClient, record_key};
use shared::social::transport::{RetryPolicy, Transport};
use shared::social::{Attempt, Outgoing, Platform, ReplyTo, SocialClient, SocialError};
use shared::store::{NewItem, Store, keys};
use sitrep_tests::replay::{Recorded, ReplayServer, Reply};
use sitrep_tests::{epoch, sqlite_store};

const ACCOUNT: &str = "acme";
const HANDLE: &str = "acme.bsky.social";
const DID: &str = "did:plc:acmeacmeacmeacmeacme00";
const CAROL: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";

const CREATE: &str = "/xrpc/com.atproto.repo.createRecord";
const GET_RECORD: &str = "/xrpc/com.atproto.repo.getRecord";
const GET_POSTS: &str = "/xrpc/app.bsky.feed.getPosts";
const REFRESH: &str = "/xrpc/com.atproto.server.refreshSession";

/// Multi-byte text before the link: the facet must count bytes, not characters.
const TEXT: &str = "Störung in eu-west — 🔧 we're on it: https://status.acme.example/i/42.";

fn xrpc_error(status: u16, error: &str, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": error, "message": message}).to_string(),
    )
}

fn write_limits(reply: Reply) -> Reply {
    reply
        .header("ratelimit-limit", "5000")
        .header("ratelimit-remaining", "4997")
        .header("ratelimit-reset", "1795433600")
        .header("ratelimit-policy", "5000;w=3600")
}

/// A PDS with one account, its records by key, and the posts getPosts can show.
#[derive(Default)]
struct Pds {
    state: Mutex<PdsState>,
}

#[derive(Default)]
struct PdsState {
    issued: u32,
    access: String,
    refresh: String,
    /// The current access token is answered with `ExpiredToken` until the next refresh.
    expired: bool,
    /// The account's posts, by record key.
    records: BTreeMap<String, Value>,
    /// What a create at a taken key answers; the reference PDS's 500 when `None`.
    taken: Option<Reply>,
    /// Answers for the next creates, which then create nothing.
    scripted: VecDeque<Reply>,
    /// Creates whose answer is lost (the connection dropped) after the record is stored.
    lose: usize,
    /// How long a create's answer is held (then dropped) after the record is stored.
    hold: Option<Duration>,
    /// Post views getPosts shows, by URI.
    posts: HashMap<String, Value>,
}

impl Pds {
    fn with<T>(&self, f: impl FnOnce(&mut PdsState) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    fn issue(state: &mut PdsState) {
        state.issued += 1;
        state.access = format!("eyJhY2Nlc3Mi.access-{}.sig", state.issued);
        state.refresh = format!("eyJyZWZyZXNoIi.refresh-{}.sig", state.issued);
        state.expired = false;
    }

    fn answer(&self, request: &Recorded) -> Reply {
        let state = &mut *self.state.lock().unwrap();
        let bearer = request
            .header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "));
        if request.path == REFRESH {
            if bearer != Some(state.refresh.as_str()) {
                return xrpc_error(400, "ExpiredToken", "Token has been revoked");
            }
            Self::issue(state);
            return Reply::json(
                200,
                json!({"did": DID, "handle": HANDLE, "accessJwt": state.access,
                       "refreshJwt": state.refresh})
                .to_string(),
            );
        }
        if bearer != Some(state.access.as_str()) || state.expired {
            return xrpc_error(400, "ExpiredToken", "Token has expired");
        }
        match (request.method.as_str(), request.path.as_str()) {
            ("POST", CREATE) => {
                if let Some(reply) = state.scripted.pop_front() {
                    return reply;
                }
                let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
                let Some(rkey) = body["rkey"].as_str().map(str::to_owned) else {
                    return xrpc_error(400, "InvalidRequest", "sitrep always sends an rkey");
                };
                if body["repo"] != DID || body["collection"] != "app.bsky.feed.post" {
                    return xrpc_error(400, "InvalidRequest", "wrong repo or collection");
                }
                if state.records.contains_key(&rkey) {
                    return state.taken.clone().unwrap_or_else(|| {
                        xrpc_error(500, "InternalServerError", "Internal Server Error")
                    });
                }
                state.records.insert(rkey.clone(), body["record"].clone());
                if state.lose > 0 {
                    state.lose -= 1;
                    return Reply::Drop;
                }
                if let Some(hold) = state.hold {
                    // Past the client's timeout: the post is made, the answer never comes.
                    return Reply::Stall(hold);
                }
                write_limits(Reply::json(
                    200,
                    json!({
                        "uri": post_uri(&rkey),
                        "cid": format!("bafyreid{rkey}"),
                        "commit": {"cid": "bafyreicommit", "rev": rkey},
                        "validationStatus": "valid",
                    })
                    .to_string(),
                ))
            }
            ("GET", GET_RECORD) => {
                let rkey = request.param("rkey").unwrap_or_default();
                let ours = request.param("repo") == Some(DID)
                    && request.param("collection") == Some("app.bsky.feed.post");
                match state.records.get(rkey).filter(|_| ours) {
                    Some(record) => Reply::json(
                        200,
                        json!({"uri": post_uri(rkey), "cid": format!("bafyreid{rkey}"),
                               "value": record})
                        .to_string(),
                    ),
                    None => xrpc_error(
                        400,
                        "RecordNotFound",
                        &format!("Could not locate record: {}", post_uri(rkey)),
                    ),
                }
            }
            ("GET", GET_POSTS) => {
                let posts: Vec<&Value> = request
                    .params("uris")
                    .iter()
                    .filter_map(|uri| state.posts.get(*uri))
                    .collect();
                Reply::json(200, json!({"posts": posts}).to_string())
            }
            _ => xrpc_error(404, "MethodNotImplemented", "Method Not Implemented"),
        }
    }
}

fn post_uri(rkey: &str) -> String {
    format!("at://{DID}/app.bsky.feed.post/{rkey}")
}

/// A post view as getPosts returns it (`app.bsky.feed.defs#postView`).
fn post_view(uri: &str, cid: &str, reply: Option<Value>) -> Value {
    let mut record = json!({
        "$type": "app.bsky.feed.post",
        "text": format!("@{HANDLE} is eu-west down?"),
        "facets": [{"index": {"byteStart": 0, "byteEnd": 17},
                    "features": [{"$type": "app.bsky.richtext.facet#mention", "did": DID}]}],
        "langs": ["en"],
        "createdAt": "2026-11-23T09:59:00.000Z",
    });
    if let Some(reply) = reply {
        record["reply"] = reply;
    }
    json!({
        "uri": uri,
        "cid": cid,
        "author": {"did": CAROL, "handle": "carol.example.com", "displayName": "Carol",
                   "labels": [], "createdAt": "2024-01-01T00:00:00.000Z"},
        "record": record,
        "replyCount": 0,
        "repostCount": 0,
        "likeCount": 0,
        "quoteCount": 0,
        "indexedAt": "2026-11-23T09:59:00.250Z",
        "viewer": {"threadMuted": false, "embeddingDisabled": false},
        "labels": [],
    })
}

struct Setup {
    pds: Arc<Pds>,
    server: ReplayServer,
    clock: ManualClock,
    store: Arc<dyn Store>,
}

impl Setup {
    /// A PDS, and a session in the store as an earlier invocation left it.
    async fn new() -> Self {
        let clock = ManualClock::new(epoch());
        let store = sqlite_store(&clock);
        let pds = Arc::new(Pds::default());
        let answering = Arc::clone(&pds);
        let server = ReplayServer::start(move |request| answering.answer(request)).await;
        let setup = Self {
            pds,
            server,
            clock,
            store,
        };
        setup.seed_session().await;
        setup
    }

    async fn seed_session(&self) {
        let (access, refresh) = self.pds.with(|s| {
            Pds::issue(s);
            (s.access.clone(), s.refresh.clone())
        });
        let issued = self.clock.now();
        let attributes = json!({
            "did": DID,
            "handle": HANDLE,
            "access_jwt": access,
            "refresh_jwt": refresh,
            "created_at": issued,
            "refreshed_at": issued,
        });
        let item = NewItem::new(
            keys::session(Platform::Bluesky, ACCOUNT),
            attributes.as_object().cloned().unwrap(),
        );
        self.store.create(item).await.unwrap();
    }

    fn client(&self) -> BlueskyClient {
        self.client_timing_out_after(Duration::from_secs(2))
    }

    fn client_timing_out_after(&self, timeout: Duration) -> BlueskyClient {
        client_at(&self.server.base, self, timeout)
    }

    fn calls(&self, path: &str) -> Vec<Recorded> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// The methods called so far, in order.
    fn trail(&self) -> Vec<String> {
        self.server
            .requests()
            .iter()
            .map(|r| r.path.rsplit('.').next().unwrap_or_default().to_owned())
            .collect()
    }

    fn records(&self) -> BTreeMap<String, Value> {
        self.pds.with(|s| s.records.clone())
    }
}

fn client_at(base: &str, setup: &Setup, timeout: Duration) -> BlueskyClient {
    let policy = RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        timeout,
    };
    let transport = Transport::new(policy, Arc::new(SeededRandom::new(11))).unwrap();
    BlueskyClient::new(
        transport,
        reqwest::Url::parse(base).unwrap(),
        ACCOUNT.into(),
        HANDLE.into(),
        "abcd-efgh-ijkl-mnop".into(),
        Arc::clone(&setup.store),
        Arc::new(setup.clock.clone()),
    )
}

fn bearer(request: &Recorded) -> Option<&str> {
    request
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn update(text: &str) -> Outgoing {
    Outgoing {
        text: text.to_owned(),
        reply_to: None,
        key: "update-inc-42-1".into(),
        decided_at: at("2026-11-23T10:00:00.123456Z"),
    }
}

fn reply_to(parent: &str, text: &str) -> Outgoing {
    Outgoing {
        reply_to: Some(ReplyTo {
            post_id: parent.to_owned(),
            author_id: CAROL.into(),
            exclude: Vec::new(),
        }),
        key: "reply-01JD8Z4K7M".into(),
        ..update(text)
    }
}

fn ambiguous(error: &SocialError) -> bool {
    matches!(
        error,
        SocialError::Ambiguous {
            platform: Platform::Bluesky,
            ..
        }
    )
}

#[tokio::test]
async fn a_post_is_created_under_its_own_record_key_with_byte_offset_link_facets() {
    let setup = Setup::new().await;
    let post = update(TEXT);
    let rkey = record_key(&post);
    let posted = setup.client().post(&post, Attempt::First).await.unwrap();

    assert_eq!(
        setup.trail(),
        ["createRecord"],
        "a first attempt checks nothing"
    );
    let request = &setup.calls(CREATE)[0];
    assert_eq!(request.method, "POST");
    assert_eq!(bearer(request), Some("eyJhY2Nlc3Mi.access-1.sig"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    // "Störung in eu-west — 🔧 we're on it: " is 36 characters and 42 bytes; the closing
    // full stop is not part of the link.
    assert_eq!(
        request.json(),
        json!({
            "repo": DID,
            "collection": "app.bsky.feed.post",
            "rkey": rkey,
            "record": {
                "$type": "app.bsky.feed.post",
                "text": TEXT,
                "createdAt": "2026-11-23T10:00:00.123Z",
                "facets": [{
                    "index": {"byteStart": 42, "byteEnd": 74},
                    "features": [{"$type": "app.bsky.richtext.facet#link",
                                  "uri": "https://status.acme.example/i/42"}],
                }],
            },
        })
    );
    assert_eq!(
        &TEXT.as_bytes()[42..74],
        b"https://status.acme.example/i/42"
    );
    assert_eq!(rkey.len(), 13);

    assert_eq!(posted.id, post_uri(&rkey));
    assert_eq!(
        posted.url,
        format!("https://bsky.app/profile/{DID}/post/{rkey}")
    );
    assert!(!posted.recovered);
    let limit = posted.rate_limit.expect("the write budget is read");
    assert_eq!((limit.limit, limit.remaining), (5000, 4997));
    assert_eq!(limit.reset.timestamp(), 1_795_433_600);
    assert_eq!(setup.records().len(), 1);
}

#[tokio::test]
async fn a_reply_takes_its_parent_and_root_from_get_posts() {
    let setup = Setup::new().await;
    let root = format!("at://{CAROL}/app.bsky.feed.post/3lbq2v6hqkc2a");
    let parent = format!("at://{CAROL}/app.bsky.feed.post/3lbq2wzzzzz2a");
    let starter = format!("at://{CAROL}/app.bsky.feed.post/3lbq3aaaaaa2a");
    setup.pds.with(|s| {
        s.posts.insert(
            parent.clone(),
            post_view(
                &parent,
                "bafyreiparent",
                Some(json!({"root": {"uri": root, "cid": "bafyreiroot"},
                            "parent": {"uri": root, "cid": "bafyreiroot"}})),
            ),
        );
        s.posts
            .insert(starter.clone(), post_view(&starter, "bafyreistarter", None));
    });
    let client = setup.client();

    client
        .post(
            &reply_to(&parent, "@carol.example.com fixed"),
            Attempt::First,
        )
        .await
        .unwrap();
    let lookup = &setup.calls(GET_POSTS)[0];
    assert_eq!(lookup.method, "GET");
    assert_eq!(lookup.params("uris"), [parent.as_str()]);
    assert_eq!(bearer(lookup), Some("eyJhY2Nlc3Mi.access-1.sig"));
    let record = &setup.calls(CREATE)[0].json()["record"];
    assert_eq!(
        record["reply"],
        json!({"root": {"uri": root, "cid": "bafyreiroot"},
               "parent": {"uri": parent, "cid": "bafyreiparent"}})
    );
    assert_eq!(record.get("facets"), None, "no links, no facets");

    // A post that starts its thread is its own root.
    let mut other = reply_to(&starter, "@carol.example.com looking into it");
    other.key = "reply-01JD8Z9QQQ".into();
    client.post(&other, Attempt::First).await.unwrap();
    let record = &setup.calls(CREATE)[1].json()["record"];
    let starter_ref = json!({"uri": starter, "cid": "bafyreistarter"});
    assert_eq!(
        record["reply"],
        json!({"root": starter_ref, "parent": starter_ref})
    );
    assert_eq!(
        setup.trail(),
        ["getPosts", "createRecord", "getPosts", "createRecord"]
    );
}

#[tokio::test]
async fn answering_a_post_that_is_gone_is_rejected_without_a_create() {
    let setup = Setup::new().await;
    let gone = format!("at://{CAROL}/app.bsky.feed.post/3lbq2v6hqkc2a");
    let error = setup
        .client()
        .post(&reply_to(&gone, "@carol.example.com hi"), Attempt::First)
        .await
        .unwrap_err();
    assert!(
        matches!(error, SocialError::Rejected { status: 404, .. }),
        "{error:?}"
    );
    assert_eq!(setup.trail(), ["getPosts"]);
}

#[tokio::test]
async fn a_lost_answer_is_ambiguous_after_exactly_one_create_and_the_check_finds_the_post() {
    let setup = Setup::new().await;
    setup.pds.with(|s| s.lose = 1);
    let post = update(TEXT);
    let rkey = record_key(&post);
    let client = setup.client();

    let error = client.post(&post, Attempt::First).await.unwrap_err();
    assert!(ambiguous(&error), "{error:?}");
    assert_eq!(
        setup.calls(CREATE).len(),
        1,
        "a request that went out is never repeated blindly"
    );
    assert_eq!(setup.records().len(), 1, "the post was made");

    let posted = client.post(&post, Attempt::AfterAmbiguous).await.unwrap();
    assert!(posted.recovered);
    assert_eq!(posted.id, post_uri(&rkey));
    assert_eq!(
        posted.url,
        format!("https://bsky.app/profile/{DID}/post/{rkey}")
    );
    assert_eq!(
        setup.trail(),
        ["createRecord", "getRecord"],
        "no second create"
    );
    let check = &setup.calls(GET_RECORD)[0];
    assert_eq!(check.param("repo"), Some(DID));
    assert_eq!(check.param("collection"), Some("app.bsky.feed.post"));
    assert_eq!(check.param("rkey"), Some(rkey.as_str()));
    assert_eq!(setup.records().len(), 1);
}

#[tokio::test]
async fn a_timed_out_answer_is_ambiguous_after_exactly_one_create() {
    let setup = Setup::new().await;
    setup
        .pds
        .with(|s| s.hold = Some(Duration::from_millis(900)));
    let client = setup.client_timing_out_after(Duration::from_millis(300));
    let error = client
        .post(&update(TEXT), Attempt::First)
        .await
        .unwrap_err();
    assert!(ambiguous(&error), "{error:?}");
    assert!(error.to_string().contains("timed out"), "{error}");
    assert_eq!(setup.calls(CREATE).len(), 1);
    assert_eq!(setup.records().len(), 1);
}

#[tokio::test]
async fn after_an_ambiguous_failure_that_posted_nothing_the_post_is_made_once() {
    let setup = Setup::new().await;
    let post = update(TEXT);
    let rkey = record_key(&post);
    let posted = setup
        .client()
        .post(&post, Attempt::AfterAmbiguous)
        .await
        .unwrap();
    assert!(!posted.recovered, "made by this call");
    assert_eq!(posted.id, post_uri(&rkey));
    assert_eq!(setup.trail(), ["getRecord", "createRecord"]);
    assert_eq!(
        setup.calls(CREATE)[0].json()["rkey"],
        rkey.as_str(),
        "the key the earlier attempt used"
    );
    assert_eq!(setup.records().len(), 1);
}

#[tokio::test]
async fn a_repeat_at_a_taken_key_fails_instead_of_posting_twice() {
    // The reference PDS answers 500: ambiguous, and the check then finds the post.
    let setup = Setup::new().await;
    let post = update(TEXT);
    let client = setup.client();
    let first = client.post(&post, Attempt::First).await.unwrap();
    let error = client.post(&post, Attempt::First).await.unwrap_err();
    assert!(ambiguous(&error), "{error:?}");
    let found = client.post(&post, Attempt::AfterAmbiguous).await.unwrap();
    assert!(found.recovered);
    assert_eq!(found.id, first.id);
    assert_eq!(setup.records().len(), 1);
    assert_eq!(setup.trail(), ["createRecord", "createRecord", "getRecord"]);

    // A PDS that says the record exists: the post is read back at once.
    let setup = Setup::new().await;
    setup.pds.with(|s| {
        s.taken = Some(xrpc_error(
            400,
            "InvalidRequest",
            "Record already exists at this record key",
        ))
    });
    let client = setup.client();
    let first = client.post(&post, Attempt::First).await.unwrap();
    let again = client.post(&post, Attempt::First).await.unwrap();
    assert!(again.recovered);
    assert_eq!(again.id, first.id);
    assert_eq!(setup.trail(), ["createRecord", "createRecord", "getRecord"]);
    assert_eq!(setup.records().len(), 1);
}

#[tokio::test]
async fn a_key_held_by_a_different_post_is_rejected_not_recovered() {
    let setup = Setup::new().await;
    let post = update(TEXT);
    setup.pds.with(|s| {
        s.records.insert(
            record_key(&post),
            json!({"$type": "app.bsky.feed.post", "text": "another post",
                   "createdAt": "2026-11-23T10:00:00.123Z"}),
        )
    });
    let error = setup
        .client()
        .post(&post, Attempt::AfterAmbiguous)
        .await
        .unwrap_err();
    assert!(
        matches!(error, SocialError::Rejected { status: 409, .. }),
        "{error:?}"
    );
    assert!(setup.calls(CREATE).is_empty());
}

#[tokio::test]
async fn an_expired_token_is_refreshed_and_the_post_created_once() {
    let setup = Setup::new().await;
    setup.pds.with(|s| s.expired = true);
    let posted = setup
        .client()
        .post(&update(TEXT), Attempt::First)
        .await
        .unwrap();
    assert!(!posted.recovered);
    assert_eq!(
        setup.trail(),
        ["createRecord", "refreshSession", "createRecord"]
    );
    let creates = setup.calls(CREATE);
    assert_eq!(bearer(&creates[0]), Some("eyJhY2Nlc3Mi.access-1.sig"));
    assert_eq!(bearer(&creates[1]), Some("eyJhY2Nlc3Mi.access-2.sig"));
    assert_eq!(creates[0].body, creates[1].body, "the same record and key");
    assert_eq!(
        bearer(&setup.calls(REFRESH)[0]),
        Some("eyJyZWZyZXNoIi.refresh-1.sig")
    );
    assert_eq!(setup.records().len(), 1);
    let stored = setup
        .store
        .get(&keys::session(Platform::Bluesky, ACCOUNT))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.str("access_jwt"), Some("eyJhY2Nlc3Mi.access-2.sig"));
}

#[tokio::test]
async fn the_write_budget_spent_is_a_rate_limit_with_its_reset() {
    let setup = Setup::new().await;
    setup.pds.with(|s| {
        s.scripted.push_back(
            xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded")
                .header("ratelimit-limit", "5000")
                .header("ratelimit-remaining", "0")
                .header("ratelimit-reset", "1795433600")
                .header("ratelimit-policy", "5000;w=3600"),
        )
    });
    let error = setup
        .client()
        .post(&update(TEXT), Attempt::First)
        .await
        .unwrap_err();
    match &error {
        SocialError::RateLimited { reset, detail, .. } => {
            assert_eq!(reset.map(|r| r.timestamp()), Some(1_795_433_600));
            assert!(detail.contains("RateLimitExceeded"), "{detail}");
        }
        other => panic!("expected a rate limit: {other:?}"),
    }
    assert_eq!(setup.calls(CREATE).len(), 1, "a 429 is not retried");
}

#[tokio::test]
async fn a_server_error_is_ambiguous_and_never_retried() {
    let setup = Setup::new().await;
    setup.pds.with(|s| {
        s.scripted
            .push_back(xrpc_error(502, "UpstreamFailure", "upstream failed"))
    });
    let error = setup
        .client()
        .post(&update(TEXT), Attempt::First)
        .await
        .unwrap_err();
    assert!(ambiguous(&error), "{error:?}");
    assert!(error.to_string().contains("502"), "{error}");
    assert_eq!(setup.calls(CREATE).len(), 1);
}

#[tokio::test]
async fn an_invalid_record_is_rejected_with_the_xrpc_error() {
    let setup = Setup::new().await;
    setup.pds.with(|s| {
        s.scripted.push_back(xrpc_error(
            400,
            "InvalidRequest",
            "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes",
        ))
    });
    let error = setup
        .client()
        .post(&update(TEXT), Attempt::First)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        SocialError::Rejected {
            platform: Platform::Bluesky,
            status: 400,
            detail: "createRecord: InvalidRequest: Invalid app.bsky.feed.post record: \
                     Record/text must not be longer than 300 graphemes"
                .into(),
        }
    );
    assert!(setup.calls(REFRESH).is_empty(), "not a token problem");
}

#[tokio::test]
async fn a_pds_that_cannot_be_reached_posted_nothing() {
    let setup = Setup::new().await;
    // A port that was free a moment ago: nothing listens there.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let client = client_at(&closed, &setup, Duration::from_secs(2));
    let error = client
        .post(&update(TEXT), Attempt::First)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            SocialError::Unavailable {
                platform: Platform::Bluesky,
                ..
            }
        ),
        "not ambiguous: the request never left: {error:?}"
    );

    // The check after an ambiguous failure cannot settle anything either: still ambiguous.
    let error = client
        .post(&update(TEXT), Attempt::AfterAmbiguous)
        .await
        .unwrap_err();
    assert!(ambiguous(&error), "{error:?}");
}

//! The Bluesky client against a scripted PDS on 127.0.0.1: the session kept in the store
//! (one login, shared by invocations, refreshed by age or on `ExpiredToken`, a new login
//! only when the refresh is refused), the request it sends, paging with the look-back, and
//! the answers it turns into errors. The refresh race runs on DynamoDB (moto).
//!
//! The fake PDS is stricter than Bluesky unless told otherwise: a used refresh token is
//! refused with `ExpiredToken` at once, and only the newest access token is accepted. The
//! reference PDS accepts a used refresh token again for two hours and keeps every access
//! token valid until it expires; [`PdsState::grace`] turns that on.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use shared::clock::{Clock, ManualClock};
use shared::random::SeededRandom;
use shared::social::bluesky::BlueskyClient;
use shared::social::transport::{RetryPolicy, Transport};
use shared::social::{MentionKind, Page, Platform, SocialClient, SocialError};
use shared::store::{Item, NewItem, Store, keys};
use sitrep_tests::replay::{Recorded, ReplayServer, Reply};
use sitrep_tests::{dynamo_store, epoch, sqlite_store};

const ACCOUNT: &str = "acme";
const HANDLE: &str = "acme.bsky.social";
const DID: &str = "did:plc:acmeacmeacmeacmeacme00";
const APP_PASSWORD: &str = "abcd-efgh-ijkl-mnop";

const CREATE: &str = "/xrpc/com.atproto.server.createSession";
const REFRESH: &str = "/xrpc/com.atproto.server.refreshSession";
const LIST: &str = "/xrpc/app.bsky.notification.listNotifications";

/// A PDS with one account: it issues numbered tokens and serves notification pages.
#[derive(Default)]
struct Pds {
    state: Mutex<PdsState>,
    /// Signalled when a session request arrives, for [`PdsState::gather`].
    arrived: Condvar,
}

#[derive(Default)]
struct PdsState {
    issued: u32,
    /// The one access token accepted now.
    access: Option<String>,
    /// The one refresh token accepted now (they rotate).
    refresh: Option<String>,
    refuse_login: bool,
    refuse_refresh: bool,
    /// Every listing answers `401 ExpiredToken`, whatever the token.
    always_expired: bool,
    /// Bodies by cursor (`""` for the first page).
    pages: HashMap<String, String>,
    /// Answers for the next listings that pass authentication, before the pages.
    scripted: VecDeque<Reply>,
    refreshes_accepted: u32,
    /// Bluesky's leniency: a refresh token just used is accepted again for a while, and
    /// every access token stays valid until it expires (not only the newest).
    grace: bool,
    /// Session requests (logins, refreshes) to hold until this many have arrived, so that
    /// they truly overlap.
    gather: usize,
    arrived: usize,
}

fn xrpc_error(status: u16, error: &str, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": error, "message": message}).to_string(),
    )
}

impl Pds {
    fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn with<T>(&self, f: impl FnOnce(&mut PdsState) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// Issues the next pair of tokens, revoking the previous ones.
    fn issue(state: &mut PdsState) -> (String, String) {
        state.issued += 1;
        let access = format!("eyJhY2Nlc3Mi.access-{}.sig", state.issued);
        let refresh = format!("eyJyZWZyZXNoIi.refresh-{}.sig", state.issued);
        state.access = Some(access.clone());
        state.refresh = Some(refresh.clone());
        (access, refresh)
    }

    fn session_reply(access: &str, refresh: &str, extra: bool) -> Reply {
        let mut body = json!({
            "did": DID,
            "handle": HANDLE,
            "accessJwt": access,
            "refreshJwt": refresh,
        });
        if extra {
            // createSession's output carries more than refreshSession's.
            body["email"] = json!("ops@acme.example");
            body["emailConfirmed"] = json!(true);
            body["active"] = json!(true);
            body["didDoc"] = json!({"@context": ["https://www.w3.org/ns/did/v1"], "id": DID});
        }
        Reply::json(200, body.to_string())
    }

    fn answer(&self, request: &Recorded) -> Reply {
        let bearer = request
            .header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        let mut state = self.state.lock().unwrap();
        if request.method == "POST" {
            state.arrived += 1;
            self.arrived.notify_all();
            (state, _) = self
                .arrived
                .wait_timeout_while(state, Duration::from_secs(2), |s| s.arrived < s.gather)
                .unwrap();
        }
        match (request.method.as_str(), request.path.as_str()) {
            ("POST", CREATE) => {
                let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
                if state.refuse_login
                    || body["identifier"] != HANDLE
                    || body["password"] != APP_PASSWORD
                {
                    return xrpc_error(
                        401,
                        "AuthenticationRequired",
                        "Invalid identifier or password",
                    );
                }
                let (access, refresh) = Self::issue(&mut state);
                Self::session_reply(&access, &refresh, true)
            }
            ("POST", REFRESH) => {
                let spent = bearer.is_none() || bearer != state.refresh;
                let graced = state.grace
                    && bearer
                        .as_deref()
                        .is_some_and(|b| b.starts_with("eyJyZWZyZXNoIi."));
                if state.refuse_refresh || (spent && !graced) {
                    return xrpc_error(400, "ExpiredToken", "Token has been revoked");
                }
                state.refreshes_accepted += 1;
                let (access, refresh) = Self::issue(&mut state);
                Self::session_reply(&access, &refresh, false)
            }
            ("GET", LIST) => {
                if state.always_expired {
                    return xrpc_error(401, "ExpiredToken", "Token has expired");
                }
                let graced = state.grace
                    && bearer
                        .as_deref()
                        .is_some_and(|b| b.starts_with("eyJhY2Nlc3Mi.access-"));
                if !graced && (bearer.is_none() || bearer != state.access) {
                    return xrpc_error(400, "ExpiredToken", "Token has expired");
                }
                if let Some(reply) = state.scripted.pop_front() {
                    return reply;
                }
                let cursor = request.param("cursor").unwrap_or_default();
                match state.pages.get(cursor) {
                    Some(body) => Reply::json(200, body.clone()),
                    None => Reply::json(200, r#"{"notifications": []}"#),
                }
            }
            _ => xrpc_error(404, "MethodNotImplemented", "Method Not Implemented"),
        }
    }
}

struct Setup {
    pds: Arc<Pds>,
    server: ReplayServer,
    clock: ManualClock,
    store: Arc<dyn Store>,
}

impl Setup {
    async fn new() -> Self {
        let clock = ManualClock::new(epoch());
        let store = sqlite_store(&clock);
        Self::on(store, clock).await
    }

    async fn on(store: Arc<dyn Store>, clock: ManualClock) -> Self {
        let pds = Pds::new();
        let answering = Arc::clone(&pds);
        let server = ReplayServer::start(move |request| answering.answer(request)).await;
        Self {
            pds,
            server,
            clock,
            store,
        }
    }

    /// A client as one invocation builds it.
    fn client(&self) -> BlueskyClient {
        let policy = RetryPolicy {
            attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            timeout: Duration::from_secs(2),
        };
        let transport = Transport::new(policy, Arc::new(SeededRandom::new(11))).unwrap();
        BlueskyClient::new(
            transport,
            reqwest::Url::parse(&self.server.base).unwrap(),
            ACCOUNT.into(),
            HANDLE.into(),
            APP_PASSWORD.into(),
            Arc::clone(&self.store),
            Arc::new(self.clock.clone()),
        )
    }

    fn calls(&self, path: &str) -> Vec<Recorded> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// The paths called so far, shortened to their method names.
    fn trail(&self) -> Vec<String> {
        self.server
            .requests()
            .iter()
            .map(|r| r.path.rsplit('.').next().unwrap_or_default().to_owned())
            .collect()
    }

    async fn stored(&self) -> Item {
        self.store
            .get(&keys::session(Platform::Bluesky, ACCOUNT))
            .await
            .unwrap()
            .expect("a session is stored")
    }

    /// Puts a session in the store as an earlier invocation would have, with tokens the
    /// PDS accepts, issued `age` ago.
    async fn seed_session(&self, age: TimeDelta) -> (String, String) {
        let (access, refresh) = self.pds.with(Pds::issue);
        let issued = self.clock.now() - age;
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
        (access, refresh)
    }
}

fn bearer(request: &Recorded) -> Option<&str> {
    request
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
}

fn notification(rkey: &str, reason: &str, created: &str, indexed: &str) -> Value {
    let author = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
    let record = match reason {
        "follow" => json!({"$type": "app.bsky.graph.follow", "subject": DID, "createdAt": created}),
        _ => json!({
            "$type": "app.bsky.feed.post",
            "text": format!("@{HANDLE} is eu-west down? ({rkey})"),
            "facets": [{
                "index": {"byteStart": 0, "byteEnd": 17},
                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": DID}]
            }],
            "langs": ["en"],
            "createdAt": created,
        }),
    };
    json!({
        "uri": format!("at://{author}/app.bsky.feed.post/{rkey}"),
        "cid": format!("bafyrei{rkey}"),
        "author": {"did": author, "handle": "carol.example.com", "displayName": "Carol", "labels": []},
        "reason": reason,
        "record": record,
        "isRead": false,
        "indexedAt": indexed,
        "labels": [],
    })
}

fn page_body(notifications: &[Value], cursor: Option<&str>) -> String {
    let mut body = json!({"notifications": notifications, "priority": false});
    if let Some(cursor) = cursor {
        body["cursor"] = json!(cursor);
    }
    body.to_string()
}

fn one_mention() -> String {
    page_body(
        &[notification(
            "3lbq2v6hqkc2a",
            "mention",
            "2026-11-23T09:59:00.000Z",
            "2026-11-23T09:59:00.250Z",
        )],
        Some("2026-11-23T09:59:00.000Z"),
    )
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

#[tokio::test]
async fn the_first_call_logs_in_once_and_a_new_invocation_reuses_the_stored_session() {
    let setup = Setup::new().await;
    setup.pds.with(|s| {
        s.pages.insert(String::new(), one_mention());
    });

    let first = setup.client();
    let page = first.mentions(None, None).await.unwrap();
    assert_eq!(page.mentions.len(), 1);
    assert_eq!(setup.trail(), ["createSession", "listNotifications"]);
    let login = &setup.calls(CREATE)[0];
    assert_eq!(
        login.json(),
        json!({"identifier": HANDLE, "password": APP_PASSWORD})
    );
    assert_eq!(login.header("authorization"), None);

    let stored = setup.stored().await;
    assert_eq!(stored.str("did"), Some(DID));
    assert_eq!(stored.str("handle"), Some(HANDLE));
    assert_eq!(stored.str("access_jwt"), Some("eyJhY2Nlc3Mi.access-1.sig"));
    assert_eq!(
        stored.str("refresh_jwt"),
        Some("eyJyZWZyZXNoIi.refresh-1.sig")
    );
    assert_eq!(stored.str("created_at"), Some("2026-11-23T10:00:00Z"));
    assert_eq!(stored.str("refreshed_at"), Some("2026-11-23T10:00:00Z"));
    assert_eq!(stored.expires_at, None);

    // More pages of the same invocation neither log in nor read the store again.
    first.mentions(None, None).await.unwrap();
    // A new invocation an hour later: the stored session, no login.
    setup.clock.advance(TimeDelta::minutes(60));
    let second = setup.client();
    second.mentions(None, None).await.unwrap();
    assert_eq!(setup.calls(CREATE).len(), 1, "{:?}", setup.trail());
    let listings = setup.calls(LIST);
    assert_eq!(listings.len(), 3);
    assert!(
        listings
            .iter()
            .all(|r| bearer(r) == Some("eyJhY2Nlc3Mi.access-1.sig"))
    );
    assert!(
        !format!("{second:?}").contains(APP_PASSWORD),
        "Debug shows no password"
    );
}

#[tokio::test]
async fn an_access_token_older_than_ninety_minutes_is_refreshed_before_use() {
    let setup = Setup::new().await;
    let (_, refresh) = setup.seed_session(TimeDelta::minutes(91)).await;
    let client = setup.client();
    client.mentions(None, None).await.unwrap();

    assert_eq!(setup.trail(), ["refreshSession", "listNotifications"]);
    let refreshing = &setup.calls(REFRESH)[0];
    assert_eq!(refreshing.method, "POST");
    assert_eq!(bearer(refreshing), Some(refresh.as_str()));
    assert_eq!(
        bearer(&setup.calls(LIST)[0]),
        Some("eyJhY2Nlc3Mi.access-2.sig"),
        "the listing uses the new access token"
    );
    let stored = setup.stored().await;
    assert_eq!(stored.str("access_jwt"), Some("eyJhY2Nlc3Mi.access-2.sig"));
    assert_eq!(
        stored.str("refresh_jwt"),
        Some("eyJyZWZyZXNoIi.refresh-2.sig")
    );
    assert_eq!(stored.str("refreshed_at"), Some("2026-11-23T10:00:00Z"));
    assert_eq!(
        stored.str("created_at"),
        Some("2026-11-23T08:29:00Z"),
        "the login time is kept"
    );
    assert_eq!(stored.version, 2);

    // Eighty-nine minutes is still young enough.
    setup.clock.advance(TimeDelta::minutes(89));
    client.mentions(None, None).await.unwrap();
    setup.client().mentions(None, None).await.unwrap();
    assert_eq!(setup.calls(REFRESH).len(), 1, "{:?}", setup.trail());
    assert!(setup.calls(CREATE).is_empty());
}

#[tokio::test]
async fn an_expired_token_answer_triggers_one_refresh_and_one_retry() {
    let setup = Setup::new().await;
    let (stale_access, refresh) = setup.seed_session(TimeDelta::minutes(10)).await;
    // The PDS moved on (the token was revoked early): only a refresh helps.
    setup
        .pds
        .with(|s| s.access = Some("eyJhY2Nlc3Mi.someone-else.sig".into()));
    setup.pds.with(|s| {
        s.pages.insert(String::new(), one_mention());
    });

    let page = setup.client().mentions(None, None).await.unwrap();
    assert_eq!(page.mentions.len(), 1);
    assert_eq!(
        setup.trail(),
        ["listNotifications", "refreshSession", "listNotifications"]
    );
    let listings = setup.calls(LIST);
    assert_eq!(bearer(&listings[0]), Some(stale_access.as_str()));
    assert_eq!(bearer(&setup.calls(REFRESH)[0]), Some(refresh.as_str()));
    assert_eq!(bearer(&listings[1]), Some("eyJhY2Nlc3Mi.access-2.sig"));
    assert_eq!(
        setup.stored().await.str("access_jwt"),
        Some("eyJhY2Nlc3Mi.access-2.sig")
    );
}

#[tokio::test]
async fn a_token_refused_again_after_the_refresh_is_unauthorized() {
    let setup = Setup::new().await;
    setup.seed_session(TimeDelta::minutes(10)).await;
    setup.pds.with(|s| s.always_expired = true);

    let error = setup.client().mentions(None, None).await.unwrap_err();
    assert!(
        matches!(
            error,
            SocialError::Unauthorized {
                platform: Platform::Bluesky,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        setup.trail(),
        ["listNotifications", "refreshSession", "listNotifications"],
        "one refresh, one retry, no loop"
    );
}

#[tokio::test]
async fn a_refused_refresh_falls_back_to_one_login() {
    let setup = Setup::new().await;
    setup.seed_session(TimeDelta::minutes(120)).await;
    setup.pds.with(|s| s.refuse_refresh = true);

    setup.client().mentions(None, None).await.unwrap();
    assert_eq!(
        setup.trail(),
        ["refreshSession", "createSession", "listNotifications"]
    );
    assert_eq!(
        bearer(&setup.calls(LIST)[0]),
        Some("eyJhY2Nlc3Mi.access-2.sig")
    );
    let stored = setup.stored().await;
    assert_eq!(
        stored.str("refresh_jwt"),
        Some("eyJyZWZyZXNoIi.refresh-2.sig")
    );
    assert_eq!(stored.str("created_at"), Some("2026-11-23T10:00:00Z"));
    assert_eq!(
        stored.version, 2,
        "the old session was replaced, not duplicated"
    );
}

#[tokio::test]
async fn a_refused_login_is_unauthorized_and_names_no_secret() {
    // First start with a wrong (revoked) app password.
    let setup = Setup::new().await;
    setup.pds.with(|s| s.refuse_login = true);
    let error = setup.client().mentions(None, None).await.unwrap_err();
    assert!(
        matches!(error, SocialError::Unauthorized { .. }),
        "{error:?}"
    );
    assert!(!error.to_string().contains(APP_PASSWORD), "{error}");
    assert!(
        setup
            .store
            .get(&keys::session(Platform::Bluesky, ACCOUNT))
            .await
            .unwrap()
            .is_none(),
        "nothing is stored"
    );
    assert_eq!(
        setup.trail(),
        ["createSession"],
        "one attempt, not a retry loop"
    );

    // A stored session whose refresh is refused, and a login refused too.
    let setup = Setup::new().await;
    let (access, refresh) = setup.seed_session(TimeDelta::minutes(120)).await;
    setup.pds.with(|s| {
        s.refuse_refresh = true;
        s.refuse_login = true;
    });
    let client = setup.client();
    let error = client.mentions(None, None).await.unwrap_err();
    assert!(
        matches!(error, SocialError::Unauthorized { .. }),
        "{error:?}"
    );
    let text = format!("{error} {error:?} {client:?}");
    for secret in [APP_PASSWORD, access.as_str(), refresh.as_str()] {
        assert!(!text.contains(secret), "{text}");
    }
    assert_eq!(setup.trail(), ["refreshSession", "createSession"]);
}

#[tokio::test]
async fn the_request_asks_for_mentions_replies_and_quotes_with_the_bearer_token() {
    let setup = Setup::new().await;
    setup.seed_session(TimeDelta::zero()).await;
    let client = setup.client();
    client
        .mentions(Some("2026-11-23T09:00:00.000Z"), None)
        .await
        .unwrap();
    client
        .mentions(
            Some("2026-11-23T09:00:00.000Z"),
            Some("2026-11-23T08:59:00.000Z"),
        )
        .await
        .unwrap();

    let listings = setup.calls(LIST);
    for request in &listings {
        assert_eq!(request.method, "GET");
        assert_eq!(request.param("limit"), Some("50"));
        assert_eq!(request.params("reasons"), ["mention", "reply", "quote"]);
        assert_eq!(bearer(request), Some("eyJhY2Nlc3Mi.access-1.sig"));
    }
    assert_eq!(listings[0].param("cursor"), None);
    assert_eq!(
        listings[1].param("cursor"),
        Some("2026-11-23T08:59:00.000Z")
    );
}

#[tokio::test]
async fn pages_follow_the_cursor_and_stop_at_the_look_back() {
    let setup = Setup::new().await;
    setup.seed_session(TimeDelta::zero()).await;
    let since = "2026-11-23T09:30:00.000Z";
    setup.pds.with(|s| {
        s.pages.insert(
            String::new(),
            page_body(
                &[
                    notification(
                        "3new",
                        "mention",
                        "2026-11-23T09:58:00.000Z",
                        "2026-11-23T09:58:00.100Z",
                    ),
                    notification(
                        "3fol",
                        "follow",
                        "2026-11-23T09:50:00.000Z",
                        "2026-11-23T09:50:00.100Z",
                    ),
                    notification(
                        "3rep",
                        "reply",
                        "2026-11-23T09:40:00.000Z",
                        "2026-11-23T09:40:00.100Z",
                    ),
                ],
                Some("2026-11-23T09:40:00.000Z"),
            ),
        );
        s.pages.insert(
            "2026-11-23T09:40:00.000Z".into(),
            page_body(
                &[
                    // Back-dated: written "at 09:10" but indexed after the cursor.
                    notification(
                        "3bak",
                        "quote",
                        "2026-11-23T09:10:00.000Z",
                        "2026-11-23T09:35:00.000Z",
                    ),
                    // Within the look-back: read again, harmless.
                    notification(
                        "3old",
                        "mention",
                        "2026-11-23T09:25:00.000Z",
                        "2026-11-23T09:25:00.100Z",
                    ),
                    // Before the look-back: already stored two polls ago.
                    notification(
                        "3gone",
                        "mention",
                        "2026-11-23T09:14:00.000Z",
                        "2026-11-23T09:14:00.100Z",
                    ),
                ],
                Some("2026-11-23T09:14:00.000Z"),
            ),
        );
    });
    let client = setup.client();

    let first = client.mentions(Some(since), None).await.unwrap();
    let rkeys = |page: &Page| -> Vec<String> {
        page.mentions
            .iter()
            .map(|m| m.id.rsplit('/').next().unwrap().to_owned())
            .collect()
    };
    assert_eq!(rkeys(&first), ["3new", "3rep"], "the follow is dropped");
    assert_eq!(first.newest.as_deref(), Some("2026-11-23T09:58:00.100Z"));
    assert_eq!(first.next_page.as_deref(), Some("2026-11-23T09:40:00.000Z"));
    assert_eq!(first.mentions[1].kind, MentionKind::Reply);

    let second = client
        .mentions(Some(since), first.next_page.as_deref())
        .await
        .unwrap();
    assert_eq!(rkeys(&second), ["3bak", "3old"]);
    assert_eq!(second.mentions[0].kind, MentionKind::Quote);
    assert_eq!(second.mentions[0].created_at, at("2026-11-23T09:10:00Z"));
    assert_eq!(
        second.next_page, None,
        "the last item sorts before since minus the look-back"
    );
    assert_eq!(setup.calls(LIST).len(), 2);

    // First start: only the newest page, whatever its cursor says.
    let fresh = client.mentions(None, None).await.unwrap();
    assert_eq!(rkeys(&fresh), ["3new", "3rep"]);
    assert_eq!(fresh.next_page, None);
}

#[tokio::test]
async fn rate_limits_are_read_from_the_headers() {
    let setup = Setup::new().await;
    setup.seed_session(TimeDelta::zero()).await;
    let limited = xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded")
        .header("ratelimit-limit", "3000")
        .header("ratelimit-remaining", "0")
        .header("ratelimit-reset", "1795430000")
        .header("ratelimit-policy", "3000;w=300");
    let ok = Reply::json(200, one_mention())
        .header("ratelimit-limit", "3000")
        .header("ratelimit-remaining", "2999")
        .header("ratelimit-reset", "1795430300")
        .header("ratelimit-policy", "3000;w=300");
    setup.pds.with(|s| s.scripted.extend([limited, ok]));
    let client = setup.client();

    let error = client.mentions(None, None).await.unwrap_err();
    match &error {
        SocialError::RateLimited { reset, detail, .. } => {
            assert_eq!(reset.map(|r| r.timestamp()), Some(1_795_430_000));
            assert!(detail.contains("RateLimitExceeded"), "{detail}");
        }
        other => panic!("expected a rate limit: {other:?}"),
    }
    assert_eq!(setup.calls(LIST).len(), 1, "a 429 is not retried");

    let page = client.mentions(None, None).await.unwrap();
    let limit = page.rate_limit.expect("the headers are read");
    assert_eq!((limit.limit, limit.remaining), (3000, 2999));
    assert_eq!(limit.reset.timestamp(), 1_795_430_300);
}

#[tokio::test]
async fn server_failures_are_retried_then_unavailable() {
    let setup = Setup::new().await;
    setup.seed_session(TimeDelta::zero()).await;
    setup.pds.with(|s| {
        s.pages.insert(String::new(), one_mention());
        s.scripted.extend([
            xrpc_error(503, "InternalServerError", "Service Unavailable"),
            Reply::Drop,
        ]);
    });
    let client = setup.client();
    let page = client.mentions(None, None).await.unwrap();
    assert_eq!(page.mentions.len(), 1);
    assert_eq!(
        setup.calls(LIST).len(),
        3,
        "503, a dropped connection, then 200"
    );

    setup.pds.with(|s| {
        s.scripted
            .extend((0..3).map(|_| xrpc_error(502, "UpstreamFailure", "upstream failed")))
    });
    let error = client.mentions(None, None).await.unwrap_err();
    assert!(
        matches!(&error, SocialError::Unavailable { detail, .. } if detail.contains("502")),
        "{error:?}"
    );
}

#[tokio::test]
async fn other_refusals_are_rejected_with_the_xrpc_error() {
    let setup = Setup::new().await;
    setup.seed_session(TimeDelta::zero()).await;
    setup.pds.with(|s| {
        s.scripted.push_back(xrpc_error(
            400,
            "InvalidRequest",
            "Error: limit must be <= 100",
        ))
    });
    let error = setup.client().mentions(None, None).await.unwrap_err();
    assert_eq!(
        error,
        SocialError::Rejected {
            platform: Platform::Bluesky,
            status: 400,
            detail: "InvalidRequest: Error: limit must be <= 100".into(),
        }
    );
    assert!(setup.calls(REFRESH).is_empty(), "not a token problem");
}

#[tokio::test]
async fn malformed_answers_are_malformed() {
    let setup = Setup::new().await;
    setup.seed_session(TimeDelta::zero()).await;
    let mut headless = notification(
        "3k",
        "mention",
        "2026-11-23T09:00:00Z",
        "2026-11-23T09:00:00Z",
    );
    headless["author"].as_object_mut().unwrap().remove("handle");
    let good = notification(
        "3m",
        "mention",
        "2026-11-23T09:01:00Z",
        "2026-11-23T09:01:00Z",
    );
    setup.pds.with(|s| {
        s.scripted.extend([
            Reply::json(200, r#"{"notifications": [{"uri": "at://"#),
            Reply::json(200, "[]"),
            Reply::json(200, page_body(&[good, headless], None)),
        ])
    });
    let client = setup.client();
    for _ in 0..2 {
        let error = client.mentions(None, None).await.unwrap_err();
        assert!(
            matches!(error, SocialError::Malformed { status: 200, .. }),
            "{error:?}"
        );
    }
    // One notification of the wrong shape is skipped and reported; the page is kept.
    let page = client.mentions(None, None).await.unwrap();
    assert_eq!(page.mentions.len(), 1);
    assert_eq!(
        page.partial_errors,
        ["notification 1 skipped: no author.handle"]
    );
    let error = client.mentions(Some("yesterday"), None).await.unwrap_err();
    assert!(matches!(error, SocialError::State { .. }), "{error:?}");
}

/// Two invocations find the same stale session and refresh it at once. Refresh tokens
/// rotate, so the PDS accepts the first refresh and refuses the second; exactly one result
/// is kept, nobody logs in, and both carry on with the kept tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refreshes_keep_one_session_on_dynamodb() {
    for round in 0..4 {
        let clock = ManualClock::new(epoch());
        let store = dynamo_store(&clock).await;
        let setup = Setup::on(store, clock).await;
        setup.seed_session(TimeDelta::hours(2)).await;
        setup.pds.with(|s| {
            s.pages.insert(String::new(), one_mention());
        });
        let (a, b) = (setup.client(), setup.client());

        let (ra, rb) = tokio::join!(a.mentions(None, None), b.mentions(None, None));
        assert!(ra.is_ok() && rb.is_ok(), "round {round}: {ra:?} {rb:?}");
        let (accepted, current) = setup
            .pds
            .with(|s| (s.refreshes_accepted, s.refresh.clone()));
        assert_eq!(accepted, 1, "round {round}: {:?}", setup.trail());
        assert!(
            setup.calls(CREATE).is_empty(),
            "round {round}: no login: {:?}",
            setup.trail()
        );
        let stored = setup.stored().await;
        assert_eq!(
            stored.str("refresh_jwt"),
            current.as_deref(),
            "round {round}: the accepted refresh is the one kept"
        );
        assert_eq!(stored.version, 2, "round {round}: written once");

        // Both sessions work on: no further refresh or login.
        a.mentions(None, None).await.unwrap();
        b.mentions(None, None).await.unwrap();
        setup.client().mentions(None, None).await.unwrap();
        assert_eq!(setup.pds.with(|s| s.refreshes_accepted), 1);
        assert!(setup.calls(CREATE).is_empty());
        assert!(
            setup
                .calls(LIST)
                .iter()
                .rev()
                .take(3)
                .all(|r| bearer(r) == Some("eyJhY2Nlc3Mi.access-2.sig"))
        );
    }
}

/// Bluesky accepts a refresh token again for a short while after its first use, so two
/// overlapping refreshes can both succeed: the first write wins, and the other invocation
/// drops its own tokens for the stored ones instead of overwriting them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_both_refreshes_succeed_the_first_write_wins() {
    let setup = Setup::new().await;
    setup.seed_session(TimeDelta::hours(2)).await;
    setup.pds.with(|s| {
        s.grace = true;
        s.gather = 2;
    });
    let (a, b) = (setup.client(), setup.client());

    let (ra, rb) = tokio::join!(a.mentions(None, None), b.mentions(None, None));
    assert!(ra.is_ok() && rb.is_ok(), "{ra:?} {rb:?}");
    assert_eq!(
        setup.pds.with(|s| s.refreshes_accepted),
        2,
        "{:?}",
        setup.trail()
    );
    let stored = setup.stored().await;
    assert_eq!(
        stored.version, 2,
        "written once: the loser did not overwrite"
    );
    let kept = stored.str("access_jwt").unwrap();
    let listings = setup.calls(LIST);
    assert_eq!(listings.len(), 2);
    assert!(
        listings.iter().all(|r| bearer(r) == Some(kept)),
        "both use the kept session: {kept} {:?}",
        listings.iter().map(bearer).collect::<Vec<_>>()
    );
    assert!(setup.calls(CREATE).is_empty());
}

/// Two invocations starting at once with no stored session both log in (nothing can stop
/// that without a lock), but only the first session is stored and both go on with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_two_first_starts_log_in_at_once_the_first_stored_session_is_used() {
    let setup = Setup::new().await;
    setup.pds.with(|s| {
        s.grace = true;
        s.gather = 2;
    });
    let (a, b) = (setup.client(), setup.client());

    let (ra, rb) = tokio::join!(a.mentions(None, None), b.mentions(None, None));
    assert!(ra.is_ok() && rb.is_ok(), "{ra:?} {rb:?}");
    assert_eq!(setup.calls(CREATE).len(), 2);
    let stored = setup.stored().await;
    assert_eq!(stored.version, 1, "created once, never overwritten");
    let kept = stored.str("access_jwt").unwrap();
    assert!(
        setup.calls(LIST).iter().all(|r| bearer(r) == Some(kept)),
        "both use the stored session"
    );
}

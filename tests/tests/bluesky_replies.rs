//! The reply service posting to Bluesky through the real client, against a scripted PDS on
//! 127.0.0.1, when an answer cannot be read: what decides whether a reply is retried,
//! checked on the platform first, or handed to a person.
//!
//! - getPosts (read before the reply is made) answers a truncated 200 once: nothing was
//!   posted, so the reply is retried and posted exactly once, never handed off.
//! - createRecord answers a truncated 200 after storing the post: the post may exist, so the
//!   next attempt reads its record key back, finds it, and posts nothing more.
//! - createRecord refuses in Bluesky's words: a person gets the reply as a draft, and the
//!   refusal beside it, never as the draft.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Duration as TimeDelta;
use serde_json::{Value, json};
use shared::clock::{Clock, ManualClock};
use shared::config::{AccountId, ComponentId, Config};
use shared::incident::{self, ComponentStatus};
use shared::mentions::StoredMention;
use shared::mentions::classify::Intent;
use shared::random::SeededRandom;
use shared::reply::handoff::LogSupport;
use shared::reply::job::{self, JobState};
use shared::reply::response::{self, Outcome};
use shared::reply::service::Responder;
use shared::secrets::EnvironmentSecrets;
use shared::social::connect::ClientDeps;
use shared::social::transport::{RetryPolicy, Transport};
use shared::social::{MentionKind, Platform};
use shared::store::{ItemChange, NewItem, Store, keys};
use sitrep_tests::replay::{Recorded, ReplayServer, Reply};
use sitrep_tests::{epoch, sqlite_store};
use tokio::time::Instant;

const ACCOUNT: &str = "acme-b";
const HANDLE: &str = "acme.bsky.social";
const DID: &str = "did:plc:acmeacmeacmeacmeacme00";
const CAROL: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
const ACCESS: &str = "eyJhY2Nlc3Mi.access-1.sig";

const CREATE: &str = "/xrpc/com.atproto.repo.createRecord";
const GET_RECORD: &str = "/xrpc/com.atproto.repo.getRecord";
const GET_POSTS: &str = "/xrpc/app.bsky.feed.getPosts";

fn xrpc_error(status: u16, error: &str, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": error, "message": message}).to_string(),
    )
}

/// What the next call to a method meets instead of the PDS's own answer.
#[derive(Clone)]
enum Script {
    /// This answer, and nothing done.
    Answer(Reply),
    /// The record is stored, and the answer is cut to its first half (a whole HTTP body
    /// that is not JSON).
    StoreAndTruncate,
}

/// A PDS with one account and one customer post to answer.
#[derive(Default)]
struct Pds {
    records: BTreeMap<String, Value>,
    posts: HashMap<String, Value>,
    get_posts: VecDeque<Script>,
    creates: VecDeque<Script>,
}

impl Pds {
    fn answer(&mut self, request: &Recorded) -> Reply {
        if request.header("authorization") != Some(&format!("Bearer {ACCESS}")) {
            return xrpc_error(400, "ExpiredToken", "Token has expired");
        }
        match (request.method.as_str(), request.path.as_str()) {
            ("GET", GET_POSTS) => {
                if let Some(Script::Answer(reply)) = self.get_posts.pop_front() {
                    return reply;
                }
                let posts: Vec<&Value> = request
                    .params("uris")
                    .iter()
                    .filter_map(|uri| self.posts.get(*uri))
                    .collect();
                Reply::json(200, json!({"posts": posts}).to_string())
            }
            ("POST", CREATE) => {
                let script = self.creates.pop_front();
                if let Some(Script::Answer(reply)) = script {
                    return reply;
                }
                let body = request.json();
                let rkey = body["rkey"].as_str().unwrap_or_default().to_owned();
                if self.records.contains_key(&rkey) {
                    return xrpc_error(500, "InternalServerError", "Internal Server Error");
                }
                self.records.insert(rkey.clone(), body["record"].clone());
                let answer = json!({"uri": post_uri(DID, &rkey), "cid": format!("bafyreid{rkey}"),
                                    "commit": {"cid": "bafyreicommit", "rev": rkey},
                                    "validationStatus": "valid"})
                .to_string();
                match script {
                    Some(Script::StoreAndTruncate) => Reply::json(200, &answer[..answer.len() / 2]),
                    _ => Reply::json(200, answer),
                }
            }
            ("GET", GET_RECORD) => {
                let rkey = request.param("rkey").unwrap_or_default();
                match self.records.get(rkey) {
                    Some(record) => Reply::json(
                        200,
                        json!({"uri": post_uri(DID, rkey), "cid": "bafyreid", "value": record})
                            .to_string(),
                    ),
                    None => xrpc_error(400, "RecordNotFound", "Could not locate record"),
                }
            }
            _ => xrpc_error(404, "MethodNotImplemented", "Method Not Implemented"),
        }
    }
}

fn post_uri(did: &str, rkey: &str) -> String {
    format!("at://{did}/app.bsky.feed.post/{rkey}")
}

/// The customer's post as getPosts shows it.
fn post_view(uri: &str) -> Value {
    json!({
        "uri": uri,
        "cid": "bafyreicarol",
        "author": {"did": CAROL, "handle": "carol.example.com", "displayName": "Carol"},
        "record": {"$type": "app.bsky.feed.post", "text": format!("@{HANDLE} is the API down?"),
                   "langs": ["en"], "createdAt": "2026-11-23T09:59:30.000Z"},
        "indexedAt": "2026-11-23T09:59:30.250Z",
    })
}

struct Rig {
    clock: ManualClock,
    store: Arc<dyn Store>,
    pds: Arc<Mutex<Pds>>,
    server: ReplayServer,
    support: Arc<LogSupport>,
    config: Arc<Config>,
    responder: Responder,
}

impl Rig {
    /// A PDS, a session in the store as an earlier invocation left it, and an incident
    /// open on `api`, so that the reply is posted rather than handed off.
    async fn new() -> Self {
        let clock = ManualClock::new(epoch());
        let store = sqlite_store(&clock);
        let pds = Arc::new(Mutex::new(Pds::default()));
        let answering = Arc::clone(&pds);
        let server =
            ReplayServer::start(move |request| answering.lock().unwrap().answer(request)).await;
        let text = format!(
            r#"
[service]
name = "Acme Cloud"
status_url = "https://status.acme.example"

[[components]]
id = "api"
name = "Public API"
keywords = ["api"]

[[accounts]]
id = "{ACCOUNT}"
platform = "bluesky"
handle = "{HANDLE}"
base_url = "{}"
credentials = "sitrep/{ACCOUNT}"

[replies]
mode = "live"
"#,
            server.base
        );
        let config = Arc::new(Config::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}")));
        let random = Arc::new(SeededRandom::new(7));
        let transport = Transport::new(
            RetryPolicy {
                attempts: 2,
                base_delay: Duration::from_millis(5),
                max_delay: Duration::from_millis(10),
                timeout: Duration::from_secs(2),
            },
            random.clone(),
        )
        .unwrap();
        let deps = ClientDeps {
            transport,
            store: Arc::clone(&store),
            clock: Arc::new(clock.clone()),
            random: random.clone(),
        };
        let secrets = EnvironmentSecrets::new().with(
            &format!("sitrep/{ACCOUNT}"),
            &json!({"identifier": HANDLE, "app_password": "abcd-efgh-ijkl-mnop"}).to_string(),
        );
        let support = Arc::new(LogSupport::new());
        let responder = Responder::new(
            Arc::clone(&config),
            Arc::new(secrets),
            deps,
            random,
            support.clone(),
        );
        let rig = Self {
            clock,
            store,
            pds,
            server,
            support,
            config,
            responder,
        };
        rig.seed_session().await;
        rig.open_incident().await;
        rig
    }

    async fn seed_session(&self) {
        let issued = self.clock.now();
        let attributes = json!({
            "did": DID, "handle": HANDLE,
            "access_jwt": ACCESS, "refresh_jwt": "eyJyZWZyZXNoIi.refresh-1.sig",
            "created_at": issued, "refreshed_at": issued,
        });
        let item = NewItem::new(
            keys::session(Platform::Bluesky, ACCOUNT),
            attributes.as_object().cloned().unwrap(),
        );
        self.store.create(item).await.unwrap();
    }

    async fn open_incident(&self) {
        let component = self
            .config
            .component(&ComponentId::parse("api").unwrap())
            .unwrap()
            .clone();
        incident::transition(
            self.store.as_ref(),
            &component,
            ComponentStatus::Down,
            Some("probe failed".into()),
            self.clock.now(),
        )
        .await
        .unwrap();
    }

    fn script(&self, change: impl FnOnce(&mut Pds)) {
        change(&mut self.pds.lock().unwrap());
    }

    /// Carol's mention, stored as the poll stores it and handed to the service.
    async fn mention_arrives(&self) -> StoredMention {
        let uri = post_uri(CAROL, "3lbq2v6hqkc2a");
        self.script(|pds| {
            pds.posts.insert(uri.clone(), post_view(&uri));
        });
        let mention = StoredMention {
            platform: Platform::Bluesky,
            id: uri.clone(),
            account: AccountId::parse(ACCOUNT).unwrap(),
            url: format!("https://bsky.app/profile/{CAROL}/post/3lbq2v6hqkc2a"),
            author_id: CAROL.into(),
            author: "carol.example.com".into(),
            text: format!("@{HANDLE} is the API down?"),
            truncated: false,
            created_at: self.clock.now() - TimeDelta::seconds(30),
            received_at: self.clock.now(),
            kind: MentionKind::Mention,
            in_reply_to: None,
            conversation: None,
            others: Vec::new(),
            intent: Intent::OutageReport,
            confidence: 0.95,
            lang: "en".into(),
            component: Some(ComponentId::parse("api").unwrap()),
        };
        let key = keys::mention(Platform::Bluesky, &mention.id);
        self.store
            .create(NewItem::encode(key.clone(), &mention).unwrap())
            .await
            .unwrap();
        let item = self.store.get(&key).await.unwrap().unwrap();
        let change = ItemChange {
            id: "seq-1".into(),
            key,
            old: None,
            new: Some(item),
        };
        self.responder.handle(&[change], deadline()).await;
        mention
    }

    /// A later drain, after the retry backoff.
    async fn later(&self) {
        self.clock.advance(TimeDelta::minutes(2));
        self.responder.drain(deadline()).await;
    }

    fn calls(&self, path: &str) -> usize {
        self.server
            .requests()
            .iter()
            .filter(|r| r.path == path)
            .count()
    }

    fn records(&self) -> usize {
        self.pds.lock().unwrap().records.len()
    }

    async fn outcome(&self, mention: &StoredMention) -> Outcome {
        response::load(
            self.store.as_ref(),
            mention.created_at,
            mention.platform,
            &mention.id,
        )
        .await
        .unwrap()
        .expect("a response record")
        .outcome
    }

    async fn job_state(&self, mention: &StoredMention) -> JobState {
        let incident =
            incident::open_incident(self.store.as_ref(), &ComponentId::parse("api").unwrap())
                .await
                .unwrap();
        let key = keys::reply_job(Platform::Bluesky, &mention.author_id, incident.as_deref());
        job::load(self.store.as_ref(), &key)
            .await
            .unwrap()
            .expect("the reply's job")
            .job
            .state
    }
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(20)
}

#[tokio::test]
async fn a_truncated_get_posts_answer_is_retried_and_the_reply_posted_once() {
    let rig = Rig::new().await;
    let truncated = r#"{"posts": [{"uri": "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3lbq2v6hqkc2a", "cid": "bafy"#;
    rig.script(|pds| {
        pds.get_posts
            .push_back(Script::Answer(Reply::json(200, truncated)))
    });
    let mention = rig.mention_arrives().await;
    assert_eq!(rig.calls(GET_POSTS), 1);
    assert_eq!(rig.calls(CREATE), 0, "nothing is posted without the thread");
    assert!(
        matches!(
            rig.job_state(&mention).await,
            JobState::Queued {
                not_before: Some(_)
            }
        ),
        "retried after a backoff, not refused"
    );
    assert!(rig.support.handed_off().is_empty());

    rig.later().await;
    assert_eq!(rig.calls(GET_POSTS), 2);
    assert_eq!(rig.calls(CREATE), 1);
    assert_eq!(rig.records(), 1, "posted exactly once");
    assert!(rig.support.handed_off().is_empty(), "never handed off");
    assert!(matches!(
        rig.job_state(&mention).await,
        JobState::Posted { .. }
    ));
    assert_eq!(rig.outcome(&mention).await, Outcome::Answered);

    rig.later().await;
    assert_eq!(rig.calls(CREATE), 1, "and never again");
}

#[tokio::test]
async fn get_posts_cut_off_mid_body_or_of_the_wrong_shape_is_retried_too() {
    // Cut off twice, so that the transport's own retry meets it again.
    let cut_off = Reply::cut_off(
        200,
        json!({"posts": [post_view(&post_uri(CAROL, "3lbq2v6hqkc2a"))]}).to_string(),
        30,
    );
    for answers in [
        vec![cut_off.clone(), cut_off],
        vec![Reply::json(200, r#"{"posts": {}}"#)],
        vec![Reply::json(200, "<html>upstream</html>")],
        vec![Reply::json(404, "<html>Not Found</html>")],
    ] {
        let rig = Rig::new().await;
        rig.script(|pds| {
            pds.get_posts
                .extend(answers.into_iter().map(Script::Answer));
        });
        let mention = rig.mention_arrives().await;
        assert_eq!(rig.calls(CREATE), 0);
        rig.later().await;
        assert_eq!(rig.records(), 1);
        assert!(rig.support.handed_off().is_empty());
        assert_eq!(rig.outcome(&mention).await, Outcome::Answered);
    }
}

#[tokio::test]
async fn a_truncated_create_answer_is_checked_on_the_platform_and_not_posted_again() {
    let rig = Rig::new().await;
    rig.script(|pds| pds.creates.push_back(Script::StoreAndTruncate));
    let mention = rig.mention_arrives().await;
    assert_eq!(rig.calls(CREATE), 1);
    assert_eq!(rig.records(), 1, "the post was made");
    assert!(
        matches!(rig.job_state(&mention).await, JobState::Ambiguous { .. }),
        "the post may exist"
    );
    assert!(rig.support.handed_off().is_empty());

    rig.responder.drain(deadline()).await;
    assert_eq!(rig.calls(GET_RECORD), 1, "the record key is read back");
    assert_eq!(rig.calls(CREATE), 1, "no second create");
    assert_eq!(rig.records(), 1);
    assert!(rig.support.handed_off().is_empty());
    match rig.job_state(&mention).await {
        JobState::Posted { id, .. } => assert!(id.starts_with(&format!("at://{DID}/"))),
        other => panic!("expected posted: {other:?}"),
    }
    assert_eq!(rig.outcome(&mention).await, Outcome::Answered);
}

#[tokio::test]
async fn a_refused_create_goes_to_a_person_with_the_reply_as_the_draft() {
    let rig = Rig::new().await;
    rig.script(|pds| {
        pds.creates.push_back(Script::Answer(xrpc_error(
            400,
            "InvalidRequest",
            "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes",
        )))
    });
    let mention = rig.mention_arrives().await;
    let handed = rig.support.handed_off();
    assert_eq!(handed.len(), 1);
    assert_eq!(handed[0].reason, "refused");
    let draft = handed[0].draft.as_deref().expect("the reply as drafted");
    assert!(!draft.contains("InvalidRequest"), "{draft}");
    assert!(!draft.contains("refused"), "{draft}");
    let problem = handed[0].problem.as_deref().unwrap();
    assert!(problem.contains("300 graphemes"), "{problem}");
    assert_eq!(rig.records(), 0);
    assert_eq!(rig.outcome(&mention).await, Outcome::HandedOff);
}

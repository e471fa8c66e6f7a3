//! The status-api handler's test rig: the function over the embedded store (wrapped to count
//! and fail reads), an outage to show, and API Gateway HTTP API requests built from the
//! documented payload (`fixtures/http-api-request.json`) through lambda_http's own
//! deserializer. Each test file uses part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use flate2::read::GzDecoder;
use lambda_http::http::Response;
use lambda_http::{Body, Request};
use serde_json::{Value, json};
use shared::clock::{Clock, ManualClock};
use shared::config::{Config, PersonId, PolicyId, deployed};
use shared::history;
use shared::incident::{self, ComponentStatus};
use shared::invocation::ConfigSource;
use shared::oncall::Urgency;
use shared::oncall::paging::Escalation;
use shared::oncall::token::{self, AckKey};
use shared::random::SeededRandom;
use shared::secrets::EnvironmentSecrets;
use shared::status_site::StatusSite;
use shared::status_site::x_webhook::XWebhook;
use shared::store::sqlite::SqliteStore;
use shared::store::{Created, Item, Key, NewItem, Query, Store, StoreError, keys};
use status_api::{StatusApi, handle};

pub const INCIDENT: &str = "20261123-100300-api";
pub const CONSUMER_SECRET: &str = "drill-consumer-secret";

pub const CONFIG: &str = r#"
[service]
name = "Acme Cloud"
status_url = "https://status.acme.example"

[[components]]
id = "api"
name = "Public API"

[[components]]
id = "console"
name = "<Console> & \"Dashboard\""

[[checks]]
id = "api-health"
component = "api"
kind = "http"
url = "http://10.0.0.5:8080/internal-health"

[[checks]]
id = "console-health"
component = "console"
kind = "http"
url = "http://10.0.0.6:8080/internal-health"

[[accounts]]
id = "acme-x"
platform = "x"
handle = "acme"
user_id = "42"
credentials = "acme/x"
"#;

pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 10, 0).unwrap()
}

pub fn key() -> AckKey {
    AckKey::from_secret_text("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").unwrap()
}

/// A store that counts the reads made through it and can be made to fail them.
pub struct Counting {
    inner: Arc<dyn Store>,
    /// Reads made so far.
    pub reads: AtomicUsize,
    /// Whether reads fail.
    pub failing: AtomicBool,
}

impl Counting {
    fn read(&self) -> Result<(), StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::Backend("the table is unreachable".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl Store for Counting {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.read()?;
        self.inner.get(key).await
    }
    async fn create_item(&self, item: NewItem) -> Result<Created, StoreError> {
        self.inner.create_item(item).await
    }
    async fn update_item(&self, item: NewItem, expected_version: u64) -> Result<u64, StoreError> {
        self.inner.update_item(item, expected_version).await
    }
    async fn put(&self, item: NewItem) -> Result<u64, StoreError> {
        self.inner.put(item).await
    }
    async fn query(&self, query: &Query) -> Result<Vec<Item>, StoreError> {
        self.read()?;
        self.inner.query(query).await
    }
    async fn increment(
        &self,
        key: &Key,
        deltas: &[(&str, i64)],
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        self.inner.increment(key, deltas, expires_at).await
    }
    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
}

pub struct Rig {
    pub clock: ManualClock,
    pub store: Arc<dyn Store>,
    /// The store under the counting one, for its change feed.
    pub sqlite: Arc<SqliteStore>,
    pub counting: Arc<Counting>,
    pub api: StatusApi,
}

impl Rig {
    pub fn reads(&self) -> usize {
        self.counting.reads.load(Ordering::SeqCst)
    }
}

pub fn rig() -> Rig {
    let clock = ManualClock::new(start());
    let sqlite = Arc::new(SqliteStore::in_memory(Arc::new(clock.clone())).unwrap());
    let counting = Arc::new(Counting {
        inner: sqlite.clone(),
        reads: AtomicUsize::new(0),
        failing: AtomicBool::new(false),
    });
    let store: Arc<dyn Store> = counting.clone();
    let secrets = EnvironmentSecrets::new().with(
        "acme/x",
        &json!({
            "consumer_key": "ck",
            "consumer_secret": CONSUMER_SECRET,
            "access_token": "42-at",
            "access_token_secret": "ats",
        })
        .to_string(),
    );
    let site = StatusSite::new(
        Arc::clone(&store),
        Arc::new(clock.clone()),
        key(),
        XWebhook::new(
            Arc::clone(&store),
            Arc::new(clock.clone()),
            Arc::new(secrets),
        ),
    );
    let api = StatusApi::new(
        site,
        Arc::clone(&store),
        ConfigSource::Table,
        Arc::new(clock.clone()),
    );
    Rig {
        clock,
        store,
        sqlite,
        counting,
        api,
    }
}

/// The rig with the config deployed, the API down since 10:03 (its incident open), the
/// console's incident of two days ago resolved, and a week of uptime samples.
pub async fn outage() -> Rig {
    let rig = rig();
    let now = rig.clock.now();
    deployed::push(&*rig.store, CONFIG, "test", now)
        .await
        .unwrap();
    let config = Config::parse(CONFIG).unwrap();
    let (api, console) = (&config.components[0], &config.components[1]);
    for day in 1..7 {
        for minute in 0..60 {
            let at = now - Duration::days(day) + Duration::minutes(minute);
            history::record(&*rig.store, &api.id, ComponentStatus::Operational, at)
                .await
                .unwrap();
        }
    }
    let two_days_ago = now - Duration::days(2);
    incident::transition(
        &*rig.store,
        console,
        ComponentStatus::Down,
        Some("connect to 10.0.0.6:8080 refused".into()),
        two_days_ago,
    )
    .await
    .unwrap();
    incident::transition(
        &*rig.store,
        console,
        ComponentStatus::Operational,
        None,
        two_days_ago + Duration::minutes(25),
    )
    .await
    .unwrap();
    incident::transition(
        &*rig.store,
        api,
        ComponentStatus::Down,
        Some("GET http://10.0.0.5:8080/internal-health answered 503".into()),
        Utc.with_ymd_and_hms(2026, 11, 23, 10, 3, 0).unwrap(),
    )
    .await
    .unwrap();
    rig
}

/// The fixture, as API Gateway sends it for this method, path (with query) and body.
pub fn request(method: &str, path_and_query: &str, body: Option<(&str, bool)>) -> Request {
    request_with(method, path_and_query, body, &[])
}

pub fn request_with(
    method: &str,
    path_and_query: &str,
    body: Option<(&str, bool)>,
    headers: &[(&str, &str)],
) -> Request {
    let mut payload: Value =
        serde_json::from_str(include_str!("../fixtures/http-api-request.json")).unwrap();
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    payload["rawPath"] = json!(path);
    payload["rawQueryString"] = json!(query);
    payload["requestContext"]["http"]["path"] = json!(path);
    payload["requestContext"]["http"]["method"] = json!(method);
    payload["pathParameters"]["proxy"] = json!(path.trim_start_matches('/'));
    if let Some((text, base64)) = body {
        payload["body"] = json!(text);
        payload["isBase64Encoded"] = json!(base64);
    }
    for (name, value) in headers {
        payload["headers"][*name] = json!(value);
    }
    lambda_http::request::from_str(&payload.to_string())
        .expect("the fixture is an HTTP API request")
}

pub fn header<'a>(response: &'a Response<Body>, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The body as a browser reads it: unzipped when it says it is gzipped.
pub fn text(response: &Response<Body>) -> String {
    let bytes: &[u8] = match response.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    // A HEAD answer keeps GET's headers, gzip included, without the body.
    if header(response, "content-encoding") == Some("gzip") && !bytes.is_empty() {
        let mut unzipped = String::new();
        GzDecoder::new(bytes)
            .read_to_string(&mut unzipped)
            .expect("a gzipped body unzips to UTF-8");
        unzipped
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

pub async fn get(rig: &Rig, path: &str) -> Response<Body> {
    handle(&rig.api, request("GET", path, None)).await.unwrap()
}

pub async fn paging(store: &dyn Store, now: DateTime<Utc>) {
    let escalation = Escalation {
        incident: INCIDENT.into(),
        component: None,
        title: "Public API is down".into(),
        policy: PolicyId::parse("default").unwrap(),
        urgency: Urgency::High,
        code: "1234".into(),
        opened_at: now,
        started_at: now,
        position: None,
        next_at: Some(now + Duration::minutes(5)),
        acknowledged: None,
        resolved_at: None,
        exhausted: false,
        generation: 0,
        resolved_version: None,
    };
    store
        .put(NewItem::encode(keys::escalation(INCIDENT), &escalation).unwrap())
        .await
        .unwrap();
}

pub async fn mint(rig: &Rig) -> String {
    token::mint(
        &*rig.store,
        &key(),
        INCIDENT,
        &PersonId::parse("alice").unwrap(),
        rig.clock.now() + Duration::hours(1),
        &SeededRandom::new(3),
    )
    .await
    .unwrap()
}

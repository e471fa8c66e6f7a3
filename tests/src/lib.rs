//! Support for sitrep's cross-crate tests: the DynamoDB endpoint (moto, started by
//! `scripts/test`), fresh tables, stores on a manual clock, and Lambda's delivery of the
//! table's stream ([`lambda_delivery`]).
#![forbid(unsafe_code)]

pub mod aws_calls;
pub mod iam;
pub mod lambda_delivery;
pub mod lost_answers;
pub mod queues;
pub mod replay;
pub mod statuses;
pub mod stream_events;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{Context, LambdaEvent};

use chrono::{DateTime, TimeZone, Utc};
use shared::clock::ManualClock;
use shared::config::Config;
use shared::random::SeededRandom;
use shared::social::transport::{RetryPolicy, Transport};
use shared::social::x::{XClient, XCredentials};
use shared::store::Store;
use shared::store::dynamodb::DynamoStore;
use shared::store::sqlite::SqliteStore;

/// A fixed, ordinary instant to start manual clocks at.
pub fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
        .single()
        .expect("a valid date")
}

/// A DynamoDB client for the moto server `scripts/test` started.
///
/// Panics when `AWS_ENDPOINT_URL` is unset: these tests must never reach real AWS, and must
/// never pass silently without running.
pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    moto_endpoint();
    aws_sdk_dynamodb::Client::new(&sdk_config().await)
}

/// The functions' SDK configuration with timeouts for moto: it answers one request at a time
/// (`scripts/moto-server.py`), and under the suite's deliberate races a request can wait in
/// its queue longer than a production attempt may take; a write that timed out there would
/// still land, and its retry land again.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let production = shared::aws::TIMEOUTS;
    shared::aws::lambda_sdk_config()
        .await
        .to_builder()
        .timeout_config(
            shared::aws::Timeouts {
                connect: production.connect,
                attempt: Duration::from_secs(60),
                operation: Duration::from_secs(120),
            }
            .config(),
        )
        .build()
}

/// The moto server `scripts/test` started, from `AWS_ENDPOINT_URL`.
///
/// Panics when it is not a loopback address: these tests must never reach real AWS, and
/// must never pass silently without running.
pub fn moto_endpoint() -> String {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127.0.0.1") || endpoint.starts_with("http://localhost"),
        "AWS_ENDPOINT_URL must point at the local moto server (got `{endpoint}`): run scripts/test"
    );
    endpoint
}

/// A new, empty table on moto with sitrep's layout; its name is unique to this process.
pub async fn fresh_table(client: &aws_sdk_dynamodb::Client) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "sitrep-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    DynamoStore::create_table(client, &name)
        .await
        .expect("moto creates the table");
    name
}

/// A DynamoDB store on a fresh moto table, reading time from `clock`.
pub async fn dynamo_store(clock: &ManualClock) -> Arc<dyn Store> {
    let client = dynamodb().await;
    let table = fresh_table(&client).await;
    Arc::new(DynamoStore::new(client, table, Arc::new(clock.clone())))
}

/// A fresh moto table as two stores on `clock`: the first for the test's own setup and
/// checks, the second for the function under test, its calls recorded in `calls`.
pub async fn dynamo_stores(
    clock: &ManualClock,
    calls: &aws_calls::AwsCalls,
) -> (Arc<dyn Store>, Arc<dyn Store>) {
    let client = dynamodb().await;
    let table = fresh_table(&client).await;
    let recorded = calls.dynamodb(&sdk_config().await);
    (
        Arc::new(DynamoStore::new(
            client,
            table.clone(),
            Arc::new(clock.clone()),
        )),
        Arc::new(DynamoStore::new(recorded, table, Arc::new(clock.clone()))),
    )
}

/// An in-memory SQLite store reading time from `clock`.
pub fn sqlite_store(clock: &ManualClock) -> Arc<dyn Store> {
    Arc::new(SqliteStore::in_memory(Arc::new(clock.clone())).expect("sqlite opens"))
}

/// The configuration the cross-crate tests share, as TOML: "Acme Cloud" with one component
/// `api` ("Public API") and one HTTP check `api-health` of `url` with a 2 s timeout.
/// `sections` go before the components (`[probe]`, `[[maintenance]]`); `check_settings`
/// end the check's table (thresholds, conditions).
pub fn api_config_text(url: &str, check_settings: &str, sections: &str) -> String {
    format!(
        r#"
[service]
name = "Acme Cloud"
status_url = "https://status.acme.example"

{sections}

[[components]]
id = "api"
name = "Public API"

[[checks]]
id = "api-health"
component = "api"
kind = "http"
url = "{url}"
timeout = "2s"
{check_settings}
"#
    )
}

/// [`api_config_text`], parsed by the real config parser.
pub fn api_config(url: &str, check_settings: &str, sections: &str) -> Config {
    let text = api_config_text(url, check_settings, sections);
    Config::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The configuration of the mentions tests: "Acme Cloud" with components `api` (keywords
/// "api", "webhooks") and `login` ("login", "sign in"), one X account `acme-x` (handle `acme`,
/// user id 42) at `x_base`, and `mentions` as the body of the `[mentions]` table.
pub fn mentions_config(x_base: &str, mentions: &str) -> Config {
    let text = mentions_config_text(x_base, mentions, "sitrep/acme-x");
    Config::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// An X client for user 42 at `base` with a bearer token, on `clock`: two quick attempts,
/// so a test that expects a failure does not wait out production back-off.
pub fn x_client(base: reqwest::Url, clock: &ManualClock) -> XClient {
    let random = Arc::new(SeededRandom::new(5));
    let transport = Transport::new(
        RetryPolicy {
            attempts: 2,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            timeout: Duration::from_secs(5),
        },
        random.clone(),
    )
    .expect("a transport with a fixed policy builds");
    XClient::new(
        transport,
        base,
        "42".into(),
        XCredentials::Bearer("token".into()),
        Arc::new(clock.clone()),
        random,
    )
}

/// [`mentions_config`] as TOML, its account's credentials in the secret named `secret`.
pub fn mentions_config_text(x_base: &str, mentions: &str, secret: &str) -> String {
    format!(
        r#"
[service]
name = "Acme Cloud"
status_url = "https://status.acme.example"

[mentions]
{mentions}

[[accounts]]
id = "acme-x"
platform = "x"
handle = "acme"
user_id = "42"
base_url = "{x_base}"
credentials = "{secret}"

[[components]]
id = "api"
name = "Public API"
keywords = ["api", "webhooks"]

[[components]]
id = "login"
name = "Login"
keywords = ["login", "sign in"]
"#
    )
}

/// The configuration of the reply tests: "Acme Cloud" with components `api` ("Public API",
/// keyword "api") and `login` ("Login"), one Mastodon account `acme-m` (handle `acme`) at
/// `base` with its credentials in the secret `sitrep/acme-m`, `account` ending its table, and
/// `[replies]` live with `replies` ending it.
pub fn replies_config_text(base: &str, account: &str, replies: &str) -> String {
    format!(
        r#"
[service]
name = "Acme Cloud"
status_url = "https://status.acme.example"

[[components]]
id = "api"
name = "Public API"
keywords = ["api"]

[[components]]
id = "login"
name = "Login"
keywords = ["login"]

[[accounts]]
id = "acme-m"
platform = "mastodon"
handle = "acme"
base_url = "{base}"
credentials = "sitrep/acme-m"
{account}

[replies]
mode = "live"
{replies}
"#
    )
}

/// The real EventBridge "Scheduled Event" JSON as a Lambda event, due in 30 s.
pub fn scheduled_event() -> LambdaEvent<EventBridgeEvent<serde_json::Value>> {
    let payload: EventBridgeEvent<serde_json::Value> =
        serde_json::from_str(include_str!("../fixtures/scheduled-event.json"))
            .expect("the fixture is a scheduled event");
    let mut context = Context::default();
    context.request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef".into();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    context.deadline = now_ms + 30_000;
    LambdaEvent::new(payload, context)
}

/// The on-call configuration of the paging tests: people alice (London), bob (New York, SMS
/// and email) and carol (Sydney); schedule `primary`, a weekly rotation of alice and bob from
/// 2026-11-16 09:00 London (so bob is on call the week of [`epoch`]); policy `default`: the
/// schedule for 5 min, then carol for 10 min, run twice. `extra_component` ends the `api`
/// component's table (`urgency = "low"`); `layer_extra` ends the layer's (restrictions).
pub fn oncall_config_text(extra_component: &str, layer_extra: &str) -> String {
    format!(
        r#"
[service]
name = "Acme Cloud"
status_url = "https://status.acme.example"

[oncall]
policy = "default"
ack_ttl = "1h"

[[people]]
id = "alice"
name = "Alice"
timezone = "Europe/London"
sms = "+447700900001"

[[people]]
id = "bob"
name = "Bob"
timezone = "America/New_York"
sms = "+12125550002"
email = "bob@example.com"

[[people]]
id = "carol"
name = "Carol"
timezone = "Australia/Sydney"
sms = "+61255500003"

[[schedules]]
id = "primary"
name = "Primary"

[[schedules.layers]]
name = "weekly"
timezone = "Europe/London"
start = "2026-11-16 09:00"
rotation = "weekly"
participants = ["alice", "bob"]
{layer_extra}

[[policies]]
id = "default"
name = "Default"
repeat = 1

[[policies.steps]]
targets = ["schedule:primary"]
delay = "5m"

[[policies.steps]]
targets = ["person:carol"]
delay = "10m"

[[components]]
id = "api"
name = "Public API"
{extra_component}
"#
    )
}

/// Declares a module `$adapter` with one test per `$case`: each calls `super::$case(store,
/// clock)` with a fresh store from `$store` (an async constructor taking the clock, such as
/// [`sqlite_store_async`] or [`dynamo_store`]) and a manual clock at [`epoch`]. One list of
/// cases then runs against every store adapter.
#[macro_export]
macro_rules! store_cases {
    ($adapter:ident, $store:path, $($case:ident),+ $(,)?) => {
        mod $adapter {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let clock = shared::clock::ManualClock::new($crate::epoch());
                    let store = $store(&clock).await;
                    super::$case(store, clock).await;
                }
            )+
        }
    };
}

/// [`sqlite_store`] as an async constructor, for [`store_cases`].
pub async fn sqlite_store_async(clock: &ManualClock) -> Arc<dyn Store> {
    sqlite_store(clock)
}

/// The reply service over these ports with a Mastodon account's credentials (`sitrep/acme-m`,
/// as [`replies_config_text`] names them) and quick retries, as the reply tests build it.
pub fn responder(
    config: &Arc<Config>,
    store: &Arc<dyn Store>,
    clock: &ManualClock,
    support: &Arc<shared::reply::handoff::LogSupport>,
) -> shared::reply::service::Responder {
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
    let deps = shared::social::connect::ClientDeps {
        transport,
        store: Arc::clone(store),
        clock: Arc::new(clock.clone()),
        random: random.clone(),
    };
    let secrets = shared::secrets::EnvironmentSecrets::new()
        .with("sitrep/acme-m", r#"{"access_token":"token"}"#);
    shared::reply::service::Responder::new(
        Arc::clone(config),
        Arc::new(secrets),
        deps,
        random,
        support.clone(),
    )
}

//! The status-api handler, fed Lambda Function URL events in the documented payload format
//! 2.0 (`tests/fixtures/function-url-request.json`), against the embedded store: an
//! acknowledgement link's GET confirms, its POST (with a base64 body, as Lambda sends form
//! posts) acknowledges once, headers reach the response, other paths are 404.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use shared::clock::{Clock, ManualClock};
use shared::config::{PersonId, PolicyId, deployed};
use shared::invocation::ConfigSource;
use shared::oncall::Urgency;
use shared::oncall::paging::{AckVia, Escalation};
use shared::oncall::token::{self, AckKey};
use shared::random::SeededRandom;
use shared::store::sqlite::SqliteStore;
use shared::store::{NewItem, Store, keys};
use status_api::{HttpRequest, StatusApi, handle};

const INCIDENT: &str = "20261123-100300-api";

const CONFIG: &str = r#"
[service]
name = "Acme Cloud"
status_url = "https://status.acme.example"

[[components]]
id = "api"
name = "Public API"

[[checks]]
id = "api-health"
component = "api"
kind = "http"
url = "http://127.0.0.1:9/health"
"#;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

fn key() -> AckKey {
    AckKey::from_secret_text("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").unwrap()
}

struct Rig {
    clock: ManualClock,
    store: Arc<dyn Store>,
    api: StatusApi,
}

fn rig() -> Rig {
    let clock = ManualClock::new(start());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory(Arc::new(clock.clone())).unwrap());
    let api = StatusApi::new(
        Arc::clone(&store),
        Arc::new(clock.clone()),
        key(),
        ConfigSource::Table,
    );
    Rig { clock, store, api }
}

/// The fixture with this method, path and body.
fn event(method: &str, path: &str, body: Option<(&str, bool)>) -> LambdaEvent<Value> {
    let mut payload: Value =
        serde_json::from_str(include_str!("fixtures/function-url-request.json")).unwrap();
    payload["rawPath"] = json!(path);
    payload["requestContext"]["http"]["path"] = json!(path);
    payload["requestContext"]["http"]["method"] = json!(method);
    if let Some((text, base64)) = body {
        payload["body"] = json!(text);
        payload["isBase64Encoded"] = json!(base64);
    }
    let mut context = Context::default();
    context.request_id = "9a4cb1b2-3a76-4e5e-8b1a-2c8a7c0d4f11".into();
    LambdaEvent::new(payload, context)
}

async fn paging(store: &dyn Store, now: DateTime<Utc>) {
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

async fn mint(rig: &Rig) -> String {
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

fn header<'a>(
    response: &'a aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlResponse,
    name: &str,
) -> Option<&'a str> {
    response.headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn a_link_confirms_on_get_and_acknowledges_once_on_post() {
    let rig = rig();
    deployed::push(&*rig.store, CONFIG, "test", rig.clock.now())
        .await
        .unwrap();
    paging(&*rig.store, rig.clock.now()).await;
    let token = mint(&rig).await;
    let path = format!("/ack/{INCIDENT}/{token}");

    let page = handle(&rig.api, event("GET", &path, None)).await.unwrap();
    assert_eq!(page.status_code, 200, "{:?}", page.body);
    assert!(!page.is_base64_encoded);
    assert_eq!(
        header(&page, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(header(&page, "cache-control"), Some("no-store"));
    assert_eq!(header(&page, "referrer-policy"), Some("no-referrer"));
    assert_eq!(header(&page, "x-robots-tag"), Some("noindex"));
    assert!(
        header(&page, "content-security-policy")
            .is_some_and(|csp| csp.contains("default-src 'none'"))
    );
    let body = page.body.unwrap_or_default();
    assert!(
        body.contains("Acme Cloud"),
        "titled from the config: {body}"
    );
    assert!(body.contains("<form method=\"post\">"), "{body}");

    let stored = |store: Arc<dyn Store>| async move {
        store
            .get(&keys::escalation(INCIDENT))
            .await
            .unwrap()
            .unwrap()
            .decode::<Escalation>()
            .unwrap()
    };
    assert_eq!(stored(Arc::clone(&rig.store)).await.acknowledged, None);

    // Browsers post the form urlencoded; Lambda hands such bodies over base64-encoded.
    let post = event("POST", &path, Some(("", true)));
    let done = handle(&rig.api, post).await.unwrap();
    assert_eq!(done.status_code, 200, "{:?}", done.body);
    assert!(
        done.body
            .unwrap_or_default()
            .contains("<h1>Acknowledged</h1>")
    );
    let acknowledged = stored(Arc::clone(&rig.store))
        .await
        .acknowledged
        .expect("acknowledged");
    assert_eq!(acknowledged.by.as_str(), "alice");
    assert_eq!(acknowledged.via, AckVia::Link);

    let replay = handle(&rig.api, event("POST", &path, None)).await.unwrap();
    assert_eq!(replay.status_code, 410);
}

#[tokio::test]
async fn without_a_readable_config_links_still_work() {
    let rig = rig();
    let token = mint(&rig).await;
    let page = handle(
        &rig.api,
        event("GET", &format!("/ack/{INCIDENT}/{token}"), None),
    )
    .await
    .unwrap();
    assert_eq!(page.status_code, 200);
    assert!(page.body.unwrap_or_default().contains("sitrep"));
}

#[tokio::test]
async fn other_paths_methods_and_bodies() {
    let rig = rig();
    let token = mint(&rig).await;
    let link = format!("/ack/{INCIDENT}/{token}");

    for path in ["/", "/my/path", "/status.json", "/ack"] {
        let answer = handle(&rig.api, event("GET", path, None)).await.unwrap();
        assert_eq!(answer.status_code, 404, "{path}");
    }
    let put = handle(&rig.api, event("PUT", &link, None)).await.unwrap();
    assert_eq!(put.status_code, 405);
    assert_eq!(header(&put, "allow"), Some("GET, POST"));

    let forged = handle(
        &rig.api,
        event("POST", &format!("/ack/{INCIDENT}/{}", "A".repeat(27)), None),
    )
    .await
    .unwrap();
    assert_eq!(forged.status_code, 403);

    let garbled = handle(
        &rig.api,
        event("POST", &link, Some(("%%%not base64", true))),
    )
    .await
    .unwrap();
    assert_eq!(garbled.status_code, 400);
    // The garbled request did not use the link.
    assert!(
        token::check(&*rig.store, &key(), &token, rig.clock.now())
            .await
            .is_ok()
    );

    let not_http = LambdaEvent::new(json!({"Records": []}), Context::default());
    assert!(handle(&rig.api, not_http).await.is_err());
}

#[test]
fn bodies_are_decoded_when_flagged() {
    let payload: Value =
        serde_json::from_str(include_str!("fixtures/function-url-request.json")).unwrap();
    let mut request: aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest =
        serde_json::from_value(payload).unwrap();
    request.body = Some("Y29uZmlybT0x".into());
    request.is_base64_encoded = true;
    let decoded = HttpRequest::from_function_url(&request).unwrap();
    assert_eq!(
        decoded,
        HttpRequest {
            method: "GET".into(),
            path: "/my/path".into(),
            body: b"confirm=1".to_vec(),
        }
    );
    request.is_base64_encoded = false;
    assert_eq!(
        HttpRequest::from_function_url(&request).unwrap().body,
        b"Y29uZmlybT0x".to_vec()
    );
}

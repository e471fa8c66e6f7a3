//! The status site's router under arbitrary input (proptest): any method, path, query,
//! headers and body get an answer, never a panic, and never a server error other than 503;
//! every answer sends one `Cache-Control` and one `X-Content-Type-Options`.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use serde_json::json;
use shared::clock::{Clock, ManualClock};
use shared::config::{Config, deployed};
use shared::incident::{self, ComponentStatus};
use shared::invocation::ConfigSource;
use shared::oncall::token::AckKey;
use shared::secrets::EnvironmentSecrets;
use shared::status_site::x_webhook::XWebhook;
use shared::status_site::{SiteRequest, StatusSite};
use shared::store::Store;
use shared::store::sqlite::SqliteStore;
use status_api::StatusApi;

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
url = "http://10.0.0.5:8080/health"

[[accounts]]
id = "acme-x"
platform = "x"
handle = "acme"
user_id = "42"
credentials = "acme/x"
"#;

/// The function's answer to one request, on a runtime of its own.
struct Site {
    runtime: tokio::runtime::Runtime,
    api: StatusApi,
}

fn site() -> Site {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 23, 10, 10, 0).unwrap());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory(Arc::new(clock.clone())).unwrap());
    let config = Config::parse(CONFIG).unwrap();
    runtime.block_on(async {
        deployed::push(store.as_ref(), CONFIG, "test", clock.now())
            .await
            .unwrap();
        incident::transition(
            store.as_ref(),
            &config.components[0],
            ComponentStatus::Down,
            None,
            Utc.with_ymd_and_hms(2026, 11, 23, 10, 3, 0).unwrap(),
        )
        .await
        .unwrap();
    });
    let secrets = EnvironmentSecrets::new().with(
        "acme/x",
        &json!({"consumer_key": "ck", "consumer_secret": "cs",
                "access_token": "42-at", "access_token_secret": "ats"})
        .to_string(),
    );
    let clock: Arc<dyn Clock> = Arc::new(clock);
    let site = StatusSite::new(
        Arc::clone(&store),
        Arc::clone(&clock),
        AckKey::new(&[7u8; 32]).unwrap(),
        XWebhook::new(Arc::clone(&store), Arc::clone(&clock), Arc::new(secrets)),
    );
    let api = StatusApi::new(site, store, ConfigSource::Table, clock);
    Site { runtime, api }
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"
        ])
        .prop_map(str::to_owned),
        "[A-Za-z]{1,10}",
    ]
}

fn path() -> impl Strategy<Value = String> {
    let known = prop::sample::select(vec![
        "/",
        "/index.html",
        "/api/v2/summary.json",
        "/api/v2/incidents/unresolved.json",
        "/api/v1/status",
        "/api/v1/components/",
        "/api/v1/incidents/",
        "/api/v1/openapi.json",
        "/feed.atom",
        "/badge.svg",
        "/badge/",
        "/ack/",
        "/ack/20261123-100300-api/",
        "/webhooks/x",
    ]);
    prop_oneof![
        known.clone().prop_map(str::to_owned),
        // A route's prefix with anything after it: ids, tokens, suffixes, escapes.
        (known, "[ -~]{0,40}").prop_map(|(p, tail)| format!("{p}{tail}")),
        "/[ -~]{0,60}",
        "[^\u{0}]{0,30}",
        (1000usize..1100).prop_map(|n| format!("/{}", "a".repeat(n))),
    ]
}

fn request() -> impl Strategy<Value = SiteRequest> {
    (
        method(),
        path(),
        prop_oneof![
            "[ -~]{0,40}",
            "crc_token=[ -~]{0,300}".prop_map(String::from)
        ],
        prop::option::of("[ -~]{0,40}"),
        prop::option::of("sha256=[A-Za-z0-9+/=]{0,50}"),
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..256),
            "[ -~]{0,200}".prop_map(String::into_bytes),
            Just(br#"{"for_user_id": "42", "tweet_create_events": []}"#.to_vec()),
        ],
    )
        .prop_map(|(method, path, query, accept, signature, body)| {
            let mut headers = Vec::new();
            if let Some(accept) = accept {
                headers.push(("accept-encoding".to_owned(), accept));
            }
            if let Some(signature) = signature {
                headers.push(("x-twitter-webhooks-signature".to_owned(), signature));
            }
            SiteRequest {
                method,
                path,
                query,
                headers,
                body,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_request_gets_an_answer_and_no_server_error_but_503(request in request()) {
        let site = site_for_thread();
        let answer = site.runtime.block_on(site.api.respond(&request));
        prop_assert!(
            (200..600).contains(&answer.status),
            "{} for {request:?}", answer.status
        );
        prop_assert!(
            answer.status < 500 || answer.status == 503,
            "{} for {request:?}: {}", answer.status, answer.body_text()
        );
        for name in ["cache-control", "x-content-type-options"] {
            let count = answer
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .count();
            prop_assert_eq!(count, 1, "{} for {:?}", name, request);
        }
    }
}

/// One site per test thread, built once: the cases share it as a crowd shares the function.
fn site_for_thread() -> &'static Site {
    thread_local! {
        static SITE: &'static Site = Box::leak(Box::new(site()));
    }
    SITE.with(|site| *site)
}

//! status-api on DynamoDB and Secrets Manager (moto, started by `scripts/test`), with every
//! AWS call it makes recorded and checked against its role in `infra/template.yaml`: the
//! acknowledgement key read as the function starts, the configuration and the snapshot read
//! for the page, X's secret read for the CRC and a delivery, the writes of pushed mentions
//! and of the suspected incident their surge opens, and the writes of an acknowledgement
//! link. The role allows writes only to the partition keys it names (`dynamodb:LeadingKeys`),
//! so a write to any other item fails here as it would in AWS.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use lambda_http::Request;
use serde_json::{Value, json};
use shared::clock::{Clock, ManualClock};
use shared::config::{PersonId, PolicyId, deployed};
use shared::incident;
use shared::invocation::ConfigSource;
use shared::oncall::Urgency;
use shared::oncall::paging::Escalation;
use shared::oncall::token;
use shared::random::SeededRandom;
use shared::secrets::SecretsManager;
use shared::social::x::webhook::WebhookKey;
use shared::status_site::StatusSite;
use shared::status_site::x_webhook::XWebhook;
use shared::store::{Attributes, NewItem, keys};
use sitrep_tests::aws_calls::AwsCalls;
use sitrep_tests::{dynamo_stores, mentions_config_text};
use status_api::{StatusApi, handle};

const CONSUMER_SECRET: &str = "moto-consumer-secret";
const INCIDENT: &str = "20261123-100300-api";

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 10, 0).unwrap()
}

/// The fixture, as API Gateway sends it, for this method, path and body.
fn request(
    method: &str,
    path_and_query: &str,
    body: Option<&str>,
    signature: Option<&str>,
) -> Request {
    let mut payload: Value =
        serde_json::from_str(include_str!("fixtures/http-api-request.json")).unwrap();
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    payload["rawPath"] = json!(path);
    payload["rawQueryString"] = json!(query);
    payload["requestContext"]["http"]["path"] = json!(path);
    payload["requestContext"]["http"]["method"] = json!(method);
    payload["pathParameters"]["proxy"] = json!(path.trim_start_matches('/'));
    if let Some(body) = body {
        payload["body"] = json!(body);
    }
    if let Some(signature) = signature {
        payload["headers"]["x-twitter-webhooks-signature"] = json!(signature);
    }
    lambda_http::request::from_str(&payload.to_string()).expect("an HTTP API request")
}

/// A v1.1 Tweet object as `tweet_create_events` carries it.
/// X's epoch for snowflake ids, in Unix milliseconds.
const X_EPOCH_MS: i64 = 1_288_834_974_657;

/// A post as X's Account Activity API delivers it, its id a snowflake made at `at` (the
/// webhook checks that a post's id, `created_at` and `timestamp_ms` agree).
fn tweet(sequence: u64, user: &str, text: &str, at: DateTime<Utc>) -> Value {
    let ms = u64::try_from(at.timestamp_millis() - X_EPOCH_MS).unwrap();
    let id = ((ms << 22) | sequence).to_string();
    let id = id.as_str();
    json!({
        "created_at": at.format("%a %b %d %H:%M:%S +0000 %Y").to_string(),
        "id": id.parse::<u64>().unwrap(),
        "id_str": id,
        "text": text,
        "truncated": false,
        "in_reply_to_status_id_str": null,
        "in_reply_to_user_id_str": null,
        "user": {"id": user.parse::<u64>().unwrap(), "id_str": user, "name": user,
                 "screen_name": format!("user{user}")},
        "entities": {"hashtags": [], "urls": [], "symbols": [],
            "user_mentions": [{"screen_name": "acme", "id": 42, "id_str": "42", "indices": [0, 5]}]},
        "timestamp_ms": at.timestamp_millis().to_string()
    })
}

async fn secret(client: &aws_sdk_secretsmanager::Client, name: &str, value: &str) {
    client
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("moto creates the secret");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_of_the_site_links_and_webhook_is_one_its_role_allows() {
    let clock = ManualClock::new(start());
    let calls = AwsCalls::new("StatusApiFunction");
    let (store, api_store) = dynamo_stores(&clock, &calls).await;
    let sdk = sitrep_tests::sdk_config().await;
    let setup_secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let suffix = std::process::id();
    let ack_secret = format!("sitrep/ack-{suffix}");
    let x_secret = format!("sitrep/social/acme-x-{suffix}");
    secret(
        &setup_secrets,
        &ack_secret,
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    )
    .await;
    secret(
        &setup_secrets,
        &x_secret,
        &json!({"consumer_key": "ck", "consumer_secret": CONSUMER_SECRET,
                "access_token": "42-at", "access_token_secret": "ats"})
        .to_string(),
    )
    .await;
    let text = mentions_config_text(
        "https://api.x.example",
        "surge_authors = 3\nsurge_window = \"10m\"",
        &x_secret,
    );
    deployed::push(store.as_ref(), &text, "test", clock.now())
        .await
        .unwrap();

    // As main.rs builds the function.
    let secrets = Arc::new(SecretsManager::new(calls.secrets_manager(&sdk)));
    let key = token::load(secrets.as_ref(), &ack_secret).await.unwrap();
    let clock_arc: Arc<dyn Clock> = Arc::new(clock.clone());
    let site = StatusSite::new(
        Arc::clone(&api_store),
        Arc::clone(&clock_arc),
        key.clone(),
        XWebhook::new(Arc::clone(&api_store), Arc::clone(&clock_arc), secrets),
    );
    let api = StatusApi::new(site, api_store, ConfigSource::Table, clock_arc);
    let status = |response: lambda_http::http::Response<lambda_http::Body>| response.status();

    // The page and the APIs: the configuration, the snapshot.
    for path in ["/", "/api/v2/summary.json", "/badge/api.svg", "/feed.atom"] {
        let answer = handle(&api, request("GET", path, None, None))
            .await
            .unwrap();
        assert_eq!(status(answer), 200, "{path}");
    }

    // X's CRC, then a delivery of three outage reports: stored, and a surge opened.
    let crc = handle(
        &api,
        request(
            "GET",
            "/webhooks/x?crc_token=9b4507b3-9040-4669-9ca3-6b94edb50553",
            None,
            None,
        ),
    )
    .await
    .unwrap();
    assert_eq!(status(crc), 200);
    let now = clock.now();
    let delivery = json!({"for_user_id": "42", "tweet_create_events": [
        tweet(1, "7", "@acme is the api down? getting 503s", now - Duration::minutes(3)),
        tweet(2, "8", "@acme api down for anyone else?", now - Duration::minutes(2)),
        tweet(3, "9", "@acme the api is down again, 503 errors", now - Duration::minutes(1)),
    ]})
    .to_string();
    let signature = WebhookKey::new(CONSUMER_SECRET).signature(delivery.as_bytes());
    let taken = handle(
        &api,
        request("POST", "/webhooks/x", Some(&delivery), Some(&signature)),
    )
    .await
    .unwrap();
    assert_eq!(status(taken), 200);
    let opened = incident::recent(store.as_ref(), 5).await.unwrap();
    assert!(
        opened.iter().any(|i| i.suspected),
        "the surge opened a suspected incident: {opened:?}"
    );
    let suspected = &opened.iter().find(|i| i.suspected).unwrap().id;
    let answer = handle(
        &api,
        request("GET", &format!("/api/v1/incidents/{suspected}"), None, None),
    )
    .await
    .unwrap();
    assert_eq!(status(answer), 200);

    // An acknowledgement link, confirmed then used.
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
    store
        .put(NewItem::new(
            keys::escalation_index(INCIDENT),
            Attributes::new(),
        ))
        .await
        .unwrap();
    let link = token::mint(
        store.as_ref(),
        &key,
        INCIDENT,
        &PersonId::parse("alice").unwrap(),
        now + Duration::hours(1),
        &SeededRandom::new(3),
    )
    .await
    .unwrap();
    let page = handle(&api, request("GET", &format!("/ack/{link}"), None, None))
        .await
        .unwrap();
    assert_eq!(status(page), 200);
    let done = handle(&api, request("POST", &format!("/ack/{link}"), None, None))
        .await
        .unwrap();
    assert_eq!(status(done), 200);
    assert!(
        store
            .get(&keys::escalation_index(INCIDENT))
            .await
            .unwrap()
            .is_none(),
        "acknowledged: the sweep no longer watches it"
    );

    let made: std::collections::BTreeSet<String> =
        calls.seen().iter().map(|c| c.action()).collect();
    for action in [
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "secretsmanager:GetSecretValue",
    ] {
        assert!(made.contains(action), "{action} not made: {made:?}");
    }
    let refused = calls.refused();
    assert!(refused.is_empty(), "{refused:#?}");
}

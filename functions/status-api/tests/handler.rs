//! The status-api handler, fed API Gateway HTTP API requests in the documented payload format
//! 2.0 (`tests/fixtures/http-api-request.json`, through lambda_http's own deserializer),
//! against the embedded store: every route answers with its content type and cache lifetime,
//! HEAD drops the body, unknown components and incidents are 404, wrong methods 405 with
//! `Allow`, oversized and malformed input is refused, an acknowledgement link's GET confirms
//! and its POST acknowledges once, X's webhook answers its CRC and refuses forged deliveries,
//! and what is shown is escaped. A scraper walking ids costs no store reads, and every answer
//! carries exactly one `Cache-Control` and one `X-Content-Type-Options`.

mod rig;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Duration, Utc};
use lambda_http::http::Response;
use lambda_http::{Body, Request};
use rig::*;
use serde_json::{Value, json};
use shared::clock::Clock;
use shared::config::deployed;
use shared::mentions::surge;
use shared::oncall::paging::{AckVia, Escalation};
use shared::social::Platform;
use shared::social::x::webhook::WebhookKey;
use shared::status_site::MAX_BODY;
use shared::store::{Query, Store, keys};
use status_api::handle;

#[tokio::test]
async fn the_page_is_gzipped_for_browsers_that_accept_it_and_plain_for_the_rest() {
    let rig = outage().await;
    // The fixture's headers are a browser's: `accept-encoding: gzip, deflate, br`.
    let zipped = get(&rig, "/").await;
    assert_eq!(zipped.status(), 200);
    assert_eq!(header(&zipped, "content-encoding"), Some("gzip"));
    assert_eq!(header(&zipped, "vary"), Some("Accept-Encoding"));
    let Body::Binary(bytes) = zipped.body() else {
        panic!("a gzipped body must go back to API Gateway as binary (base64)");
    };
    let page = text(&zipped);
    assert!(page.contains("Public API"), "{page}");
    assert!(
        bytes.len() * 3 < page.len(),
        "{} of {}",
        bytes.len(),
        page.len()
    );

    let plain = handle(
        &rig.api,
        request_with("GET", "/", None, &[("accept-encoding", "identity")]),
    )
    .await
    .unwrap();
    assert_eq!(header(&plain, "content-encoding"), None);
    assert_eq!(header(&plain, "vary"), Some("Accept-Encoding"));
    let Body::Text(plain_page) = plain.body() else {
        panic!("an uncompressed page is text");
    };
    assert_eq!(*plain_page, page);
}

#[tokio::test]
async fn every_public_route_answers_with_its_type_and_a_short_cache_lifetime() {
    let rig = outage().await;
    let routes = [
        ("/", "text/html; charset=utf-8"),
        ("/api/v2/summary.json", "application/json"),
        ("/api/v2/status.json", "application/json"),
        ("/api/v2/components.json", "application/json"),
        ("/api/v2/incidents.json", "application/json"),
        ("/api/v2/incidents/unresolved.json", "application/json"),
        ("/api/v2/scheduled-maintenances.json", "application/json"),
        ("/api/v1/status", "application/json"),
        ("/api/v1/components", "application/json"),
        ("/api/v1/components/api", "application/json"),
        ("/api/v1/incidents", "application/json"),
        ("/api/v1/incidents/20261123-100300-api", "application/json"),
        ("/feed.atom", "application/atom+xml; charset=utf-8"),
        ("/badge.svg", "image/svg+xml"),
        ("/badge.json", "application/json"),
        ("/badge/api.svg", "image/svg+xml"),
        ("/badge/api.json", "application/json"),
    ];
    for (path, content_type) in routes {
        let answer = get(&rig, path).await;
        assert_eq!(answer.status(), 200, "{path}: {}", text(&answer));
        assert_eq!(
            header(&answer, "content-type"),
            Some(content_type),
            "{path}"
        );
        assert_eq!(
            header(&answer, "cache-control"),
            Some("public, max-age=30"),
            "{path}"
        );
        assert_eq!(header(&answer, "x-content-type-options"), Some("nosniff"));
        let body = text(&answer);
        assert!(!body.is_empty(), "{path}");
        if content_type == "application/json" {
            serde_json::from_str::<Value>(&body).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
        // The probes' reasons name private hosts: never public.
        assert!(
            !body.contains("10.0.0."),
            "{path} shows a probe reason: {body}"
        );

        let head = handle(&rig.api, request("HEAD", path, None)).await.unwrap();
        assert_eq!(head.status(), 200, "HEAD {path}");
        assert_eq!(text(&head), "", "HEAD {path} has no body");
        assert_eq!(header(&head, "content-type"), Some(content_type));
    }
    let openapi = get(&rig, "/api/v1/openapi.json").await;
    assert_eq!(openapi.status(), 200);
    assert_eq!(
        header(&openapi, "cache-control"),
        Some("public, max-age=3600")
    );
    let document: Value = serde_json::from_str(&text(&openapi)).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
}

#[tokio::test]
async fn what_the_routes_say_about_the_outage() {
    let rig = outage().await;
    let status: Value =
        serde_json::from_str(&text(&get(&rig, "/api/v2/status.json").await)).unwrap();
    assert_eq!(status["status"]["indicator"], "major");
    let summary: Value =
        serde_json::from_str(&text(&get(&rig, "/api/v2/summary.json").await)).unwrap();
    let api = summary["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Public API")
        .expect("the API is listed");
    assert_eq!(api["status"], "major_outage");
    assert_eq!(summary["incidents"].as_array().unwrap().len(), 1);
    assert_eq!(summary["incidents"][0]["name"], "Public API is down");

    let incident: Value = serde_json::from_str(&text(
        &get(&rig, "/api/v1/incidents/20261123-100300-api").await,
    ))
    .unwrap();
    assert_eq!(incident["id"], INCIDENT);

    let page = text(&get(&rig, "/").await);
    assert!(page.contains("Public API is down"), "{page}");
    assert!(
        page.contains("&lt;Console&gt; &amp; &quot;Dashboard&quot;"),
        "escaped name"
    );
    assert!(!page.contains("<Console>"), "unescaped name on the page");
    let badge = text(&get(&rig, "/badge/console.svg").await);
    assert!(!badge.contains("<Console>"), "unescaped name in the badge");

    let feed = text(&get(&rig, "/feed.atom").await);
    assert!(feed.contains("Public API is down"));
    assert!(!feed.contains("<Console>"));
}

#[tokio::test]
async fn unknown_paths_components_and_incidents_are_not_found() {
    let rig = outage().await;
    for path in [
        "/nothing",
        "/badge/nope.svg",
        "/badge/nope.json",
        "/badge/api.png",
        "/badge/..%2F..%2Fetc.svg",
        "/api/v1/components/nope",
        "/api/v1/incidents/20200101-000000-api",
        "/api/v1/components/api/extra",
        "/api/v3/summary.json",
        "/ack",
    ] {
        let answer = get(&rig, path).await;
        assert_eq!(answer.status(), 404, "{path}: {}", text(&answer));
        assert!(text(&answer).len() < 100, "{path}: a short answer");
    }
}

#[tokio::test]
async fn wrong_methods_are_refused_with_what_is_allowed() {
    let rig = outage().await;
    for (method, path, allow) in [
        ("POST", "/", "GET, HEAD"),
        ("DELETE", "/api/v2/summary.json", "GET, HEAD"),
        ("PUT", "/badge/api.svg", "GET, HEAD"),
        ("PATCH", "/feed.atom", "GET, HEAD"),
        ("DELETE", "/webhooks/x", "GET, POST"),
        ("HEAD", "/webhooks/x", "GET, POST"),
        (
            "PUT",
            "/ack/20261123-100300-api/AAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "GET, POST",
        ),
    ] {
        let answer = handle(&rig.api, request(method, path, None)).await.unwrap();
        assert_eq!(answer.status(), 405, "{method} {path}");
        assert_eq!(header(&answer, "allow"), Some(allow), "{method} {path}");
    }
}

#[tokio::test]
async fn oversized_and_malformed_input_is_refused() {
    let rig = outage().await;
    let long_path = format!("/{}", "a".repeat(2000));
    assert_eq!(get(&rig, &long_path).await.status(), 414);

    let huge = "x".repeat(MAX_BODY + 1);
    let answer = handle(
        &rig.api,
        request("POST", "/webhooks/x", Some((&huge, false))),
    )
    .await
    .unwrap();
    assert_eq!(answer.status(), 413);

    // A crc_token that is not valid percent-encoding names no challenge.
    let answer = get(&rig, "/webhooks/x?crc_token=%zz").await;
    assert_eq!(answer.status(), 400, "{}", text(&answer));

    // Binary bytes (API Gateway base64-encodes a body that is not text) without a valid
    // signature are refused before anything reads them.
    let answer = handle(
        &rig.api,
        request("POST", "/webhooks/x", Some(("//79/AAB", true))),
    )
    .await
    .unwrap();
    assert_eq!(answer.status(), 401);

    // What is not an HTTP API request is an error for lambda_http to report, not a panic.
    assert!(lambda_http::request::from_str(r#"{"Records": []}"#).is_err());
    assert!(lambda_http::request::from_str("not json").is_err());
}

#[tokio::test]
async fn x_webhook_answers_its_challenge_and_refuses_unsigned_or_forged_deliveries() {
    let rig = outage().await;
    // Computed independently: base64(HMAC-SHA256("drill-consumer-secret", "challenge-1")).
    let answer = get(&rig, "/webhooks/x?crc_token=challenge-1").await;
    assert_eq!(answer.status(), 200, "{}", text(&answer));
    assert_eq!(header(&answer, "cache-control"), Some("no-store"));
    let body: Value = serde_json::from_str(&text(&answer)).unwrap();
    assert_eq!(
        body["response_token"],
        "sha256=oknG1HQDjBGzaIU4EtKx1qfP6ROC+hbNSIwaJfkz5fI="
    );
    assert_eq!(get(&rig, "/webhooks/x").await.status(), 400);

    let delivery = json!({"for_user_id": "42", "tweet_create_events": []}).to_string();
    // X signs a delivery the way it signs a CRC token: HMAC-SHA256 of the raw body.
    let signature = WebhookKey::new(CONSUMER_SECRET).signature(delivery.as_bytes());
    let unsigned = handle(
        &rig.api,
        request("POST", "/webhooks/x", Some((&delivery, false))),
    )
    .await
    .unwrap();
    assert_eq!(unsigned.status(), 401);
    let forged = handle(
        &rig.api,
        request_with(
            "POST",
            "/webhooks/x",
            Some((&delivery, false)),
            &[(
                "x-twitter-webhooks-signature",
                "sha256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            )],
        ),
    )
    .await
    .unwrap();
    assert_eq!(forged.status(), 401);
    assert!(!text(&forged).contains(CONSUMER_SECRET));
    let signed = handle(
        &rig.api,
        request_with(
            "POST",
            "/webhooks/x",
            Some((&delivery, false)),
            &[("x-twitter-webhooks-signature", &signature)],
        ),
    )
    .await
    .unwrap();
    assert_eq!(signed.status(), 200, "{}", text(&signed));
    assert_eq!(header(&signed, "cache-control"), Some("no-store"));
}

/// X's epoch for snowflake ids, in Unix milliseconds.
const X_EPOCH_MS: i64 = 1_288_834_974_657;

/// A snowflake id made at `at`, as X makes them: the time in the high bits.
fn snowflake(at: DateTime<Utc>, sequence: u64) -> String {
    let ms = u64::try_from(at.timestamp_millis() - X_EPOCH_MS).unwrap();
    ((ms << 22) | sequence).to_string()
}

/// `text` percent-encoded but for RFC 3986's unreserved characters, as curl would send it.
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The smallest delivery X could send: one post by `author` (user id `author_id`) naming
/// `@acme` (user id 42), made at `at`. Every field a careful reader checks is consistent.
fn forged_delivery(author: &str, author_id: &str, at: DateTime<Utc>, sequence: u64) -> String {
    json!({
        "for_user_id": "42",
        "tweet_create_events": [{
            "id_str": snowflake(at, sequence),
            "created_at": at.format("%a %b %d %H:%M:%S +0000 %Y").to_string(),
            "text": "@acme is the api down?",
            "user": {"id_str": author_id, "screen_name": author},
            "entities": {"user_mentions": [{"id_str": "42"}]}
        }]
    })
    .to_string()
}

/// The configuration with surge rules an attacker can reach: three reporters in ten minutes
/// open a suspected incident, which pages.
fn surge_config() -> String {
    format!("{CONFIG}\n[mentions]\nsurge_authors = 3\nsurge_window = \"10m\"\n")
}

#[tokio::test]
async fn a_delivery_signed_through_the_crc_endpoint_is_refused_and_changes_nothing() {
    let rig = rig();
    let config = surge_config();
    deployed::push(&*rig.store, &config, "test", rig.clock.now())
        .await
        .unwrap();
    rig.sqlite.record_changes().await.unwrap();
    let at = rig.clock.now() - Duration::seconds(30);
    let authors = [("mallory", "6661"), ("trudy", "6662"), ("eve", "6663")];
    let deliveries: Vec<String> = authors
        .iter()
        .zip(1..)
        .map(|((author, id), sequence)| forged_delivery(author, id, at, sequence))
        .collect();
    for delivery in &deliveries {
        assert!(delivery.len() < 300, "{} bytes", delivery.len());

        // The attacker asks the CRC endpoint to sign the delivery, as every way it can be
        // written into a query: nothing is signed.
        let mut signatures = Vec::new();
        for query in [
            url_encode(delivery),
            url_encode(&format!(" {delivery}")),
            url_encode(&format!("\n{delivery}")),
            url_encode(delivery).replace("%20", "+"),
        ] {
            let answer = get(&rig, &format!("/webhooks/x?crc_token={query}")).await;
            let body = text(&answer);
            if answer.status() == 200 {
                // What the endpoint answered is the best signature an attacker can get.
                let token: Value = serde_json::from_str(&body).unwrap();
                signatures.push(token["response_token"].as_str().unwrap().to_owned());
            }
            assert_eq!(answer.status(), 400, "a JSON body is no CRC token: {body}");
            assert!(!body.contains("sha256="), "no HMAC is answered: {body}");
            assert!(!body.contains("response_token"), "{body}");
        }
        // And posts the delivery with whatever it got, and with a guess.
        signatures.push("sha256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into());
        for signature in &signatures {
            let answer = handle(
                &rig.api,
                request_with(
                    "POST",
                    "/webhooks/x",
                    Some((delivery, false)),
                    &[("x-twitter-webhooks-signature", signature)],
                ),
            )
            .await
            .unwrap();
            assert!(
                (400..500).contains(&answer.status().as_u16()),
                "{}: {}",
                answer.status(),
                text(&answer)
            );
            assert!(!text(&answer).contains(CONSUMER_SECRET));
        }
    }

    // Nothing at all was written: no mention, so no reply job from its stream record, no
    // report, no surge decision, no incident, no page.
    assert_eq!(rig.sqlite.changes_after(0, 100).await.unwrap(), Vec::new());
    for delivery in &deliveries {
        let parsed: Value = serde_json::from_str(delivery).unwrap();
        let post = parsed["tweet_create_events"][0]["id_str"].as_str().unwrap();
        assert!(
            rig.store
                .get(&keys::mention(Platform::X, post))
                .await
                .unwrap()
                .is_none()
        );
    }
    for (author, _) in authors {
        for incident in [None, Some(INCIDENT)] {
            let job = keys::reply_job(Platform::X, author, incident);
            assert!(rig.store.get(&job).await.unwrap().is_none());
        }
    }
    for scope in ["api", "console", "*"] {
        assert_eq!(surge::suspected(&*rig.store, scope).await.unwrap(), None);
        let reports = rig
            .store
            .query(&Query::partition(keys::reports_partition(scope)))
            .await
            .unwrap();
        assert!(reports.is_empty(), "{scope}: {reports:?}");
    }

    // The same deliveries signed with the app's secret, as X signs them, are taken and do
    // open a suspected (service-wide: no component is named) incident: only the signature
    // stood in the attacker's way.
    let key = WebhookKey::new(CONSUMER_SECRET);
    for delivery in &deliveries {
        let answer = handle(
            &rig.api,
            request_with(
                "POST",
                "/webhooks/x",
                Some((delivery, false)),
                &[(
                    "x-twitter-webhooks-signature",
                    &key.signature(delivery.as_bytes()),
                )],
            ),
        )
        .await
        .unwrap();
        assert_eq!(answer.status(), 200, "{}", text(&answer));
    }
    assert!(surge::suspected(&*rig.store, "*").await.unwrap().is_some());
}

async fn acknowledged_by(store: &dyn Store) -> Option<String> {
    store
        .get(&keys::escalation(INCIDENT))
        .await
        .unwrap()
        .unwrap()
        .decode::<Escalation>()
        .unwrap()
        .acknowledged
        .map(|a| {
            assert_eq!(a.via, AckVia::Link);
            a.by.to_string()
        })
}

#[tokio::test]
async fn a_link_confirms_on_get_and_acknowledges_once_on_post() {
    let rig = outage().await;
    paging(&*rig.store, rig.clock.now()).await;
    let token = mint(&rig).await;
    for path in [format!("/ack/{token}"), format!("/ack/{INCIDENT}/{token}")] {
        let page = get(&rig, &path).await;
        assert_eq!(page.status(), 200, "{}", text(&page));
        assert_eq!(
            header(&page, "content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(header(&page, "cache-control"), Some("no-store"));
        assert_eq!(header(&page, "referrer-policy"), Some("no-referrer"));
        assert_eq!(header(&page, "x-robots-tag"), Some("noindex"));
        let body = text(&page);
        assert!(
            body.contains("Acme Cloud"),
            "titled from the config: {body}"
        );
        assert!(body.contains("<form method=\"post\">"), "{body}");
    }
    assert_eq!(
        acknowledged_by(&*rig.store).await,
        None,
        "GET acknowledges nothing"
    );

    // Browsers post the form urlencoded; API Gateway hands such bodies over base64-encoded.
    let path = format!("/ack/{token}");
    let done = handle(
        &rig.api,
        request("POST", &path, Some(("Y29uZmlybT0x", true))),
    )
    .await
    .unwrap();
    assert_eq!(done.status(), 200, "{}", text(&done));
    assert!(text(&done).contains("<h1>Acknowledged</h1>"));
    assert_eq!(acknowledged_by(&*rig.store).await.as_deref(), Some("alice"));

    // Posted again at once (the first answer never arrived): the same truth, not an error.
    let again = handle(&rig.api, request("POST", &path, None))
        .await
        .unwrap();
    assert_eq!(again.status(), 200, "{}", text(&again));
    assert!(
        text(&again).contains("already acknowledged by you"),
        "{}",
        text(&again)
    );
    rig.clock
        .advance(shared::oncall::token::REPEAT_GRACE + chrono::Duration::seconds(1));
    let replay = handle(&rig.api, request("POST", &path, None))
        .await
        .unwrap();
    assert_eq!(replay.status(), 410);
    let forged = handle(
        &rig.api,
        request("POST", &format!("/ack/{}", "A".repeat(27)), None),
    )
    .await
    .unwrap();
    assert_eq!(forged.status(), 403);
}

#[tokio::test]
async fn without_a_readable_config_links_work_and_the_page_asks_to_retry() {
    let rig = rig();
    let token = mint(&rig).await;
    let page = get(&rig, &format!("/ack/{INCIDENT}/{token}")).await;
    assert_eq!(page.status(), 200);
    assert!(text(&page).contains("sitrep"));

    let status = get(&rig, "/").await;
    assert_eq!(status.status(), 503);
    assert_eq!(header(&status, "retry-after"), Some("30"));
    assert_eq!(header(&status, "cache-control"), Some("no-store"));
}

#[tokio::test]
async fn a_scraper_walking_ids_costs_no_store_reads() {
    let rig = outage().await;
    // The first request reads the configuration; the next ones within its refresh do not.
    assert_eq!(get(&rig, "/badge/api.svg").await.status(), 200);
    let before = rig.reads();
    for n in 0..40 {
        for path in [
            format!("/badge/c{n}.svg"),
            format!("/badge/c{n}.json"),
            format!("/api/v1/components/c{n}"),
            format!("/api/v1/incidents/i{n}"),
            format!("/api/v1/incidents/2026112{}-100300-API", n % 10),
            format!("/api/v1/incidents/2999010{}-000000-api", n % 10),
            format!("/api/v1/incidents/20261123-1003{n:02}"),
            format!("/nothing/{n}"),
        ] {
            let answer = get(&rig, &path).await;
            assert_eq!(answer.status(), 404, "{path}: {}", text(&answer));
            assert_eq!(
                header(&answer, "cache-control"),
                Some("public, max-age=30"),
                "{path}"
            );
        }
        // A link whose token cannot be one is refused before its record is looked up.
        let answer = get(&rig, &format!("/ack/not-a-token-{n}")).await;
        assert_eq!(answer.status(), 400, "{}", text(&answer));
    }
    assert_eq!(rig.reads(), before, "unknown ids read the store");

    // An incident id of the right shape costs one read of its record, never the snapshot.
    let before = rig.reads();
    for n in 0..10 {
        let path = format!("/api/v1/incidents/20261123-0900{n:02}-api");
        assert_eq!(get(&rig, &path).await.status(), 404, "{path}");
    }
    assert_eq!(rig.reads(), before + 10);

    // After the refresh interval the configuration is read again, once.
    rig.clock.advance(Duration::seconds(16));
    let before = rig.reads();
    assert_eq!(get(&rig, "/badge/nope.svg").await.status(), 404);
    assert_eq!(get(&rig, "/badge/nope.json").await.status(), 404);
    assert_eq!(rig.reads(), before + 1);
}

/// Each header of the answer, by lower-case name, with how many times it is sent.
fn header_counts(response: &Response<Body>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for name in response.headers().keys() {
        counts.insert(
            name.as_str().to_owned(),
            response.headers().get_all(name).iter().count(),
        );
    }
    counts
}

#[tokio::test]
async fn every_answer_carries_exactly_one_cache_control_and_one_nosniff() {
    let rig = outage().await;
    paging(&*rig.store, rig.clock.now()).await;
    let token = mint(&rig).await;
    let used = mint(&rig).await;
    // A link spent a while ago (a repetition within minutes answers as the first did).
    let spent = mint(&rig).await;
    shared::oncall::token::redeem(&*rig.store, &key(), &spent, rig.clock.now())
        .await
        .unwrap();
    rig.clock
        .advance(shared::oncall::token::REPEAT_GRACE + Duration::seconds(1));
    let delivery = json!({"for_user_id": "42", "tweet_create_events": []}).to_string();
    let signature = WebhookKey::new(CONSUMER_SECRET).signature(delivery.as_bytes());
    let huge = "x".repeat(MAX_BODY + 1);
    let long_path = format!("/{}", "a".repeat(2000));
    let mut requests: Vec<(String, Request)> = Vec::new();
    let mut add = |label: String, request: Request| requests.push((label, request));
    for path in [
        "/",
        "/index.html",
        "/api/v2/summary.json",
        "/api/v2/status.json",
        "/api/v2/components.json",
        "/api/v2/incidents.json",
        "/api/v2/incidents/unresolved.json",
        "/api/v2/scheduled-maintenances.json",
        "/api/v1/status",
        "/api/v1/components",
        "/api/v1/components/api",
        "/api/v1/components/nope",
        "/api/v1/incidents",
        "/api/v1/incidents/20261123-100300-api",
        "/api/v1/incidents/20261123-100301-api",
        "/api/v1/incidents/nope",
        "/api/v1/openapi.json",
        "/feed.atom",
        "/badge.svg",
        "/badge.json",
        "/badge/api.svg",
        "/badge/api.json",
        "/badge/nope.svg",
        "/badge/nope.json",
        "/nothing",
        long_path.as_str(),
        "/webhooks/x",
        "/webhooks/x?crc_token=challenge-1",
        "/webhooks/x?crc_token=%zz",
        "/ack",
        "/ack/not-a-token",
        "/ack/20261123-100300-api/not-a-token",
    ] {
        for method in ["GET", "HEAD", "POST", "DELETE", "OPTIONS"] {
            add(format!("{method} {path}"), request(method, path, None));
        }
        add(
            format!("GET {path} (identity)"),
            request_with("GET", path, None, &[("accept-encoding", "identity")]),
        );
    }
    add(
        "GET link".into(),
        request("GET", &format!("/ack/{token}"), None),
    );
    add(
        "GET long link".into(),
        request("GET", &format!("/ack/{INCIDENT}/{token}"), None),
    );
    add(
        "GET link of another incident".into(),
        request("GET", &format!("/ack/20261123-100301-api/{token}"), None),
    );
    add(
        "POST link".into(),
        request("POST", &format!("/ack/{used}"), None),
    );
    add(
        "POST used link again".into(),
        request("POST", &format!("/ack/{used}"), None),
    );
    add(
        "POST spent link".into(),
        request("POST", &format!("/ack/{spent}"), None),
    );
    add(
        "POST forged link".into(),
        request("POST", &format!("/ack/{}", "A".repeat(27)), None),
    );
    add(
        "POST oversized".into(),
        request("POST", "/webhooks/x", Some((&huge, false))),
    );
    add(
        "POST unsigned delivery".into(),
        request("POST", "/webhooks/x", Some((&delivery, false))),
    );
    add(
        "POST signed delivery".into(),
        request_with(
            "POST",
            "/webhooks/x",
            Some((&delivery, false)),
            &[("x-twitter-webhooks-signature", &signature)],
        ),
    );
    let mut statuses = std::collections::BTreeSet::new();
    for (label, request) in requests {
        let answer = handle(&rig.api, request).await.unwrap();
        statuses.insert(answer.status().as_u16());
        let counts = header_counts(&answer);
        assert_eq!(counts.get("cache-control"), Some(&1), "{label}: {counts:?}");
        assert_eq!(
            counts.get("x-content-type-options"),
            Some(&1),
            "{label}: {counts:?}"
        );
        assert!(counts.values().all(|&n| n == 1), "{label}: {counts:?}");
    }
    for status in [200, 400, 401, 403, 404, 405, 410, 413, 414] {
        assert!(
            statuses.contains(&status),
            "{status} not covered: {statuses:?}"
        );
    }

    // The store failing: the snapshot and an incident's record cannot be read (503), a link
    // cannot be checked (503).
    rig.counting.failing.store(true, Ordering::SeqCst);
    for path in [
        "/".to_owned(),
        "/badge/api.svg".to_owned(),
        "/api/v1/incidents/20261123-100300-api".to_owned(),
        format!("/ack/{token}"),
    ] {
        let answer = get(&rig, &path).await;
        assert_eq!(answer.status(), 503, "{path}");
        let counts = header_counts(&answer);
        assert_eq!(counts.get("cache-control"), Some(&1), "{path}: {counts:?}");
        assert_eq!(header(&answer, "cache-control"), Some("no-store"), "{path}");
        assert_eq!(counts.get("x-content-type-options"), Some(&1), "{path}");
    }
    // Without any configuration read yet: only links are served, the rest asks to retry.
    let fresh = rig_with_failing_store();
    for path in ["/", "/badge/api.svg", "/nothing", "/webhooks/x"] {
        let answer = get(&fresh, path).await;
        let counts = header_counts(&answer);
        assert_eq!(counts.get("cache-control"), Some(&1), "{path}: {counts:?}");
        assert_eq!(counts.get("x-content-type-options"), Some(&1), "{path}");
    }
}

fn rig_with_failing_store() -> Rig {
    let rig = rig();
    rig.counting.failing.store(true, Ordering::SeqCst);
    rig
}

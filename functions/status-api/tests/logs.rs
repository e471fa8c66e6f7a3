//! What the status-api handler logs, at the most verbose level, through the subscriber the
//! function itself uses (`shared::logging::lambda_subscriber`) writing to a buffer: every
//! route and error path, acknowledgement links (whole, cut, joined in the wrong place,
//! forged, spent), X's webhook (unsigned, forged, signed, garbled, for a stranger) and the
//! public routes with a phone number in the path, query or headers, also with the store
//! failing. No token, body, signature or phone number may appear.
//!
//! In a test binary of its own: tracing caches whether a log line is wanted per call site
//! for the whole process, and tests running beside this one without a subscriber would make
//! it miss lines.

mod rig;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use rig::*;
use serde_json::{Value, json};
use shared::clock::Clock;
use shared::social::x::webhook::WebhookKey;
use status_api::handle;

/// Log lines written through the subscriber, kept for the test to read.
#[derive(Clone, Default)]
struct LogBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'a self) -> LogBuffer {
        self.clone()
    }
}

impl LogBuffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// A v1.1 Tweet object as `tweet_create_events` carries it, by user 7 (`ann`).
fn tweet(sequence: &str, text: &str, at: DateTime<Utc>) -> Value {
    // A snowflake id made at `at`: the webhook checks that id and times agree.
    const X_EPOCH_MS: i64 = 1_288_834_974_657;
    let ms = u64::try_from(at.timestamp_millis() - X_EPOCH_MS).unwrap();
    let id = ((ms << 22) | sequence.parse::<u64>().unwrap()).to_string();
    let id = id.as_str();
    json!({
        "created_at": at.format("%a %b %d %H:%M:%S +0000 %Y").to_string(),
        "id": id.parse::<u64>().unwrap(),
        "id_str": id,
        "text": text,
        "truncated": false,
        "in_reply_to_status_id_str": null,
        "in_reply_to_user_id_str": null,
        "user": {"id": 7, "id_str": "7", "name": "Ann", "screen_name": "ann"},
        "entities": {"hashtags": [], "urls": [], "symbols": [],
            "user_mentions": [{"screen_name": "acme", "id": 42, "id_str": "42", "indices": [0, 5]}]},
        "timestamp_ms": at.timestamp_millis().to_string()
    })
}

#[tokio::test]
async fn no_token_body_signature_or_phone_number_reaches_the_logs_at_any_level() {
    const PHONE: &str = "+447700900123";
    const WORDS: &str = "BODY-WORDS-9f2c";
    for (format, level) in [("JSON", "TRACE"), ("Text", "TRACE"), ("JSON", "DEBUG")] {
        let buffer = LogBuffer::default();
        let settings = shared::logging::lambda_settings(Some(format), Some(level), "info");
        let _guard = tracing::subscriber::set_default(shared::logging::lambda_subscriber(
            &settings,
            buffer.clone(),
        ));
        let rig = outage().await;
        paging(&*rig.store, rig.clock.now()).await;
        let token = mint(&rig).await;
        let spent = mint(&rig).await;
        // A link used a while ago (a repetition within minutes answers as the first did).
        let old = mint(&rig).await;
        shared::oncall::token::redeem(&*rig.store, &key(), &old, rig.clock.now())
            .await
            .unwrap();
        rig.clock
            .advance(shared::oncall::token::REPEAT_GRACE + chrono::Duration::seconds(1));
        let now = rig.clock.now();
        let delivery = json!({"for_user_id": "42", "tweet_create_events": [
            tweet("1001", &format!("@acme the api is down {WORDS} call me {PHONE}"), now),
            tweet("1002", &format!("@acme {WORDS} 503s everywhere"), now),
        ]})
        .to_string();
        let signature = WebhookKey::new(CONSUMER_SECRET).signature(delivery.as_bytes());
        let garbled = format!("{{\"for_user_id\": \"42\", {WORDS} {PHONE}");
        let garbled_signature = WebhookKey::new(CONSUMER_SECRET).signature(garbled.as_bytes());
        let stranger = json!({"for_user_id": "999", "tweet_create_events": [
            tweet("1003", &format!("@acme {WORDS} {PHONE}"), now),
        ]})
        .to_string();
        let stranger_signature = WebhookKey::new(CONSUMER_SECRET).signature(stranger.as_bytes());
        let forged = "sha256=Rm9yZ2VkU2lnbmF0dXJlRm9yZ2VkU2lnbmF0dXJlRm8=";
        let mut requests = vec![
            request("GET", &format!("/ack/{token}"), None),
            request("GET", &format!("/ack/{INCIDENT}/{token}"), None),
            // A link cut or joined in the wrong place: the token where the incident goes.
            request("GET", &format!("/ack/{token}/x"), None),
            request("POST", &format!("/ack/{token}/{token}"), None),
            request("GET", &format!("/ack/x{token}"), None),
            request("PUT", &format!("/ack/{token}"), None),
            request("GET", &format!("/ack/{token}?ref={token}"), None),
            request("POST", &format!("/ack/{spent}"), None),
            request("POST", &format!("/ack/{spent}"), None),
            request("POST", &format!("/ack/{old}"), None),
            request("POST", &format!("/ack/{}", &token[..26]), None),
            request("GET", &format!("/{token}"), None),
            request("GET", &format!("/badge/{PHONE}.svg"), None),
            request("GET", &format!("/api/v1/incidents/{PHONE}"), None),
            request("GET", &format!("/?phone={PHONE}"), None),
            request("GET", &format!("/webhooks/x?crc_token={PHONE}"), None),
            request("POST", "/webhooks/x", Some((&delivery, false))),
            request_with(
                "POST",
                "/webhooks/x",
                Some((&delivery, false)),
                &[("x-twitter-webhooks-signature", forged)],
            ),
            request_with(
                "POST",
                "/webhooks/x",
                Some((&delivery, false)),
                &[("x-twitter-webhooks-signature", &signature)],
            ),
            request_with(
                "POST",
                "/webhooks/x",
                Some((&garbled, false)),
                &[("x-twitter-webhooks-signature", &garbled_signature)],
            ),
            request_with(
                "POST",
                "/webhooks/x",
                Some((&stranger, false)),
                &[("x-twitter-webhooks-signature", &stranger_signature)],
            ),
            request_with(
                "DELETE",
                "/webhooks/x",
                Some((&delivery, false)),
                &[("x-twitter-webhooks-signature", &signature)],
            ),
        ];
        for path in ["/", "/api/v2/summary.json", "/feed.atom", "/badge/api.svg"] {
            requests.push(request_with("GET", path, None, &[("x-caller", PHONE)]));
        }
        let mut statuses = Vec::new();
        for request in requests {
            statuses.push(handle(&rig.api, request).await.unwrap().status().as_u16());
        }
        // The store failing: the errors logged then must not carry them either.
        rig.counting.failing.store(true, Ordering::SeqCst);
        statuses.push(get(&rig, &format!("/ack/{token}")).await.status().as_u16());
        statuses.push(
            handle(
                &rig.api,
                request_with(
                    "POST",
                    "/webhooks/x",
                    Some((&delivery, false)),
                    &[("x-twitter-webhooks-signature", &signature)],
                ),
            )
            .await
            .unwrap()
            .status()
            .as_u16(),
        );
        drop(_guard);

        let logged = buffer.text();
        // The routes ran and were logged: links confirmed and refused, deliveries taken in.
        for status in [200, 400, 401, 403, 404, 405, 410] {
            assert!(statuses.contains(&status), "{status}: {statuses:?}");
        }
        assert!(logged.contains("X webhook delivery taken in"), "{logged}");
        assert!(logged.contains("acknowledgement link refused"), "{logged}");
        assert!(logged.lines().count() > 30, "{logged}");
        for secret in [
            token.as_str(),
            // The first ten characters are the record's key (its nonce).
            &token[..10],
            spent.as_str(),
            &spent[..10],
            WORDS,
            PHONE,
            &PHONE[1..],
            "Rm9yZ2VkU2lnbmF0dXJl",
            signature.trim_start_matches("sha256="),
            garbled_signature.trim_start_matches("sha256="),
            CONSUMER_SECRET,
        ] {
            assert!(
                !logged.contains(secret),
                "{format} {level}: `{secret}` was logged:\n{logged}"
            );
        }
    }
}

//! X's webhook end to end on the embedded store and the manual clock: the CRC answer and the
//! tokens it refuses (a delivery above all: the CRC endpoint must never sign one), the
//! signature check before anything reads a delivery, deliveries stored through the same
//! intake as polling (a post pushed and then polled is stored once, classified the same),
//! replays, malformed posts beside good ones, the deliveries refused whole (for accounts the
//! webhook does not serve, with posts from the future or the past, too large, naming nobody,
//! contradicting themselves), the surge rules after a push, and the cache of the consumer
//! secret.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Duration as TimeDelta, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};
use shared::clock::{Clock, ManualClock};
use shared::config::Config;
use shared::mentions::StoredMention;
use shared::mentions::classify::{Classifier, Intent};
use shared::mentions::poll::{PollContext, poll_account};
use shared::mentions::surge;
use shared::secrets::{EnvironmentSecrets, SecretError, SecretSource};
use shared::social::x::XClient;
use shared::social::x::activity::{MAX_DELIVERY, parse_delivery};
use shared::social::x::webhook::{MAX_CRC_TOKEN, WebhookKey};
use shared::social::{MentionKind, Platform};
use shared::status_site::x_webhook::{KEY_LIFETIME, MAX_AGE, MAX_SKEW, XWebhook};
use shared::status_site::{SiteRequest, SiteResponse};
use shared::store::{Query, Store, keys};
use sitrep_cli::x_timeline::{XTimeline, user_id_of};
use sitrep_tests::{epoch, mentions_config, mentions_config_text, sqlite_store, x_client};
use tokio::time::Instant;

/// The app's consumer secret (API key secret) in the tests' credentials secrets.
const CONSUMER_SECRET: &str = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw";

/// The account's OAuth 1.0a credentials, as `connect` reads them, with the consumer secret.
fn credentials() -> String {
    json!({
        "consumer_key": "xvz1evFS4wEEPTGEFPHBog",
        "consumer_secret": CONSUMER_SECRET,
        "access_token": "42-afaketokenforthetests",
        "access_token_secret": "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"
    })
    .to_string()
}

/// A CRC token of X's shape (the one in X's sample code).
const TOKEN: &str = "9b4507b3-9040-4669-9ca3-6b94edb50553";

/// A delivery's signature, as X computes it: the CRC's HMAC, over the raw body. (The known
/// vector in [`a_signature_computed_elsewhere_is_accepted`] checks it independently.)
fn sign(body: &[u8]) -> String {
    WebhookKey::new(CONSUMER_SECRET).signature(body)
}

/// X's epoch for snowflake ids, in Unix milliseconds.
const X_EPOCH_MS: i64 = 1_288_834_974_657;

/// The id of the `sequence`th post made at `at`: X's ids carry their time, and a delivery
/// whose ids and dates disagree is refused.
fn id_at(at: DateTime<Utc>, sequence: u64) -> String {
    let ms = u64::try_from(at.timestamp_millis() - X_EPOCH_MS).unwrap();
    ((ms << 22) | sequence).to_string()
}

/// `text` percent-encoded but for RFC 3986's unreserved characters.
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

struct Site {
    webhook: XWebhook,
    store: Arc<dyn Store>,
    clock: ManualClock,
    config: Config,
}

impl Site {
    fn new(config: Config, secrets: Arc<dyn SecretSource>) -> Self {
        let clock = ManualClock::new(epoch());
        let store = sqlite_store(&clock);
        let webhook = XWebhook::new(Arc::clone(&store), Arc::new(clock.clone()), secrets);
        Self {
            webhook,
            store,
            clock,
            config,
        }
    }

    /// The mentions tests' configuration (account `acme-x`, user id 42) with `mentions` as
    /// its `[mentions]` table, and the account's secret holding [`credentials`].
    fn with_mentions(mentions: &str) -> Self {
        Self::new(
            mentions_config("https://api.x.com", mentions),
            Arc::new(EnvironmentSecrets::new().with("sitrep/acme-x", &credentials())),
        )
    }

    fn standard() -> Self {
        Self::with_mentions("")
    }

    async fn get(&self, path_and_query: &str) -> SiteResponse {
        self.webhook
            .respond(&self.config, &SiteRequest::new("GET", path_and_query))
            .await
    }

    async fn post(&self, body: &[u8], signature: Option<&str>) -> SiteResponse {
        let mut request = SiteRequest::new("POST", "/webhooks/x");
        request.headers = vec![("content-type".into(), "application/json".into())];
        if let Some(signature) = signature {
            request
                .headers
                .push(("x-twitter-webhooks-signature".into(), signature.into()));
        }
        request.body = body.to_vec();
        self.webhook.respond(&self.config, &request).await
    }

    async fn deliver(&self, delivery: &Value) -> SiteResponse {
        let body = delivery.to_string().into_bytes();
        self.post(&body, Some(&sign(&body))).await
    }

    async fn stored(&self, id: &str) -> Option<StoredMention> {
        stored(self.store.as_ref(), id).await
    }

    /// How many of the posts `ids` are stored (mentions have no listing to count).
    async fn stored_of(&self, ids: &[&str]) -> usize {
        let mut count = 0;
        for id in ids {
            count += usize::from(self.stored(id).await.is_some());
        }
        count
    }
}

async fn stored(store: &dyn Store, id: &str) -> Option<StoredMention> {
    store
        .get(&keys::mention(Platform::X, id))
        .await
        .unwrap()
        .map(|item| item.decode().unwrap())
}

/// A v1.1 Tweet object as `tweet_create_events` carries it: `id` by `handle` (user id from
/// the stand-in timeline's rule), posted at `at`, naming the accounts (`@acme`, user id 42;
/// `@acmesupport`, 43) that `text` names.
fn tweet(id: &str, handle: &str, text: &str, at: DateTime<Utc>) -> Value {
    let user_id = user_id_of(handle);
    let mut mentions = Vec::new();
    for (start, _) in text.match_indices('@') {
        let named: String = text[start + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let id = match named.as_str() {
            "acme" => "42",
            "acmesupport" => "43",
            _ => continue,
        };
        mentions.push(
            json!({"screen_name": named, "id": id.parse::<u64>().unwrap(),
            "id_str": id, "indices": [start, start + 1 + named.len()]}),
        );
    }
    json!({
        "created_at": at.format("%a %b %d %H:%M:%S +0000 %Y").to_string(),
        "id": id.parse::<u64>().unwrap(),
        "id_str": id,
        "text": text,
        "source": "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
        "truncated": false,
        "in_reply_to_status_id": null,
        "in_reply_to_status_id_str": null,
        "in_reply_to_user_id": null,
        "in_reply_to_user_id_str": null,
        "in_reply_to_screen_name": null,
        "user": {"id": user_id.parse::<u64>().unwrap(), "id_str": user_id, "name": handle,
                 "screen_name": handle, "protected": false, "verified": false},
        "is_quote_status": false,
        "entities": {"hashtags": [], "urls": [], "user_mentions": mentions, "symbols": []},
        "favorited": false,
        "retweeted": false,
        "timestamp_ms": at.timestamp_millis().to_string()
    })
}

/// A delivery of `tweets` for the subscribed user `for_user_id`.
fn delivery(for_user_id: &str, tweets: Vec<Value>) -> Value {
    json!({"for_user_id": for_user_id, "user_has_blocked": "false", "tweet_create_events": tweets})
}

/// The CRC request X makes, with [`TOKEN`].
fn crc() -> String {
    format!("/webhooks/x?crc_token={TOKEN}")
}

fn body_json(response: &SiteResponse) -> Value {
    serde_json::from_slice(&response.body).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {} {}",
            response.status,
            response.body_text()
        )
    })
}

/// The documented example delivery for the account: a truncated reply naming a third party,
/// a quote, a repost, the account's own reply, a post without its `user`, and a short post.
const FIXTURE: &str =
    include_str!("../../shared/src/social/x/fixtures/account-activity-tweets.json");

#[tokio::test]
async fn the_crc_answer_is_the_known_vector() {
    let site = Site::standard();
    let response = site
        .get("/webhooks/x?crc_token=OGQ5NGIzZDMtMjFhMC00OTY2LThjYjEtNDc4NzgyNjBhODFm")
        .await;
    assert_eq!(response.status, 200, "{}", response.body_text());
    // base64(HMAC-SHA256(consumer secret, crc_token)), computed with Python's hmac module.
    assert_eq!(
        body_json(&response),
        json!({"response_token": "sha256=FaFL0h5zsIsLsjph/4A6dRE/BTURq4u7SWcF4JVS1Aw="})
    );
    assert_eq!(response.header("Cache-Control"), Some("no-store"));
    assert_eq!(response.header("Content-Type"), Some("application/json"));
}

#[tokio::test]
async fn a_crc_request_without_a_token_of_xs_shape_is_refused_before_the_secret_is_read() {
    let secrets = Arc::new(CountingSecrets::new());
    let site = Site::new(mentions_config("https://api.x.com", ""), secrets.clone());
    let long = "a".repeat(MAX_CRC_TOKEN + 1);
    let delivery = delivery("42", Vec::new()).to_string();
    for query in [
        "/webhooks/x".to_owned(),
        "/webhooks/x?crc_token=".to_owned(),
        "/webhooks/x?other=1".to_owned(),
        "/webhooks/x?crc_token=%zz".to_owned(),
        "/webhooks/x?crc_token=abc".to_owned(),
        format!("/webhooks/x?crc_token={long}"),
        format!("/webhooks/x?crc_token={TOKEN}&crc_token={TOKEN}"),
        format!("/webhooks/x?crc_token={TOKEN}&crc%5Ftoken=other-token"),
        "/webhooks/x?crc_token=two+words-here".to_owned(),
        "/webhooks/x?crc_token=a%3Db%3Dcdefgh".to_owned(),
        format!("/webhooks/x?crc_token={}", url_encode(&delivery)),
        format!(
            "/webhooks/x?crc_token={}",
            url_encode(&format!(" {delivery}"))
        ),
    ] {
        let response = site.get(&query).await;
        assert_eq!(response.status, 400, "{query}");
        assert_eq!(response.body_text(), "Bad crc_token\n");
    }
    assert_eq!(
        secrets.reads.load(Ordering::SeqCst),
        0,
        "no secret read, no HMAC computed"
    );
    let longest = "a".repeat(MAX_CRC_TOKEN);
    let response = site.get(&format!("/webhooks/x?crc_token={longest}")).await;
    assert_eq!(
        response.status, 200,
        "{MAX_CRC_TOKEN} characters are still a token"
    );
    let padded = site
        .get("/webhooks/x?crc_token=q%2B%2Fwq2K9dg1Z%2FvyVM%2FTr3w%3D%3D")
        .await;
    assert_eq!(padded.status, 200, "standard base64, percent-encoded");
}

/// The attack this webhook once fell to, from outside with nothing but HTTP: ask the CRC
/// endpoint to sign a delivery, then post the delivery with that answer as its signature.
#[tokio::test]
async fn a_delivery_cannot_be_signed_through_the_crc_endpoint() {
    let site = Site::with_mentions("surge_authors = 3\nsurge_window = \"10m\"");
    let at = site.clock.now() - TimeDelta::seconds(20);
    let mut ids = Vec::new();
    for (i, author) in ["mallory", "trudy", "eve"].into_iter().enumerate() {
        let id = id_at(at, i as u64 + 1);
        let body = delivery(
            "42",
            vec![tweet(
                &id,
                author,
                "@acme is the api down? getting 503s",
                at,
            )],
        )
        .to_string();
        ids.push(id);
        let mut signatures = vec![
            // A guess, and the CRC answer for the body signed as the CRC endpoint signs.
            "sha256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned(),
        ];
        for written in [
            url_encode(&body),
            url_encode(&format!(" {body}")),
            url_encode(&format!("{body}\n")),
            url_encode(&body).replace("%20", "+"),
            body.clone(),
        ] {
            let response = site.get(&format!("/webhooks/x?crc_token={written}")).await;
            assert_eq!(response.status, 400, "{}", response.body_text());
            assert!(!response.body_text().contains("sha256="));
            if let Ok(answer) = serde_json::from_slice::<Value>(&response.body)
                && let Some(token) = answer["response_token"].as_str()
            {
                signatures.push(token.to_owned());
            }
        }
        for signature in &signatures {
            let response = site.post(body.as_bytes(), Some(signature)).await;
            assert_eq!(response.status, 401, "{}", response.body_text());
        }
    }
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert_eq!(site.stored_of(&ids).await, 0);
    for scope in ["api", "login", "*"] {
        assert_eq!(
            surge::suspected(site.store.as_ref(), scope).await.unwrap(),
            None
        );
        let reports = site
            .store
            .query(&Query::partition(keys::reports_partition(scope)))
            .await
            .unwrap();
        assert!(reports.is_empty(), "{scope}");
    }
}

/// The HMAC answered for a CRC token is the signature of a delivery whose body is the token,
/// so no token answered may be read as a delivery; whatever the query, the endpoint either
/// refuses it or answers for a string that is no delivery.
#[test]
fn whatever_the_crc_endpoint_answers_for_is_no_delivery() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let site = Site::standard();
    let deliveries = (any::<u64>(), "[ -~]{0,40}").prop_map(|(user, text)| {
        json!({"for_user_id": user.to_string(), "tweet_create_events": [{"id_str": "1",
            "text": text, "user": {"id_str": "7", "screen_name": "dev"}}]})
        .to_string()
    });
    let queries = prop_oneof![
        deliveries,
        any::<String>(),
        "[A-Za-z0-9_+/={}\\[\\]\" :,-]{0,140}",
    ];
    proptest!(|(written in queries)| {
        let response = runtime.block_on(
            site.get(&format!("/webhooks/x?crc_token={}", url_encode(&written))),
        );
        prop_assert!(response.status == 200 || response.status == 400);
        if response.status == 200 {
            let read = parse_delivery(written.as_bytes());
            prop_assert!(read.is_err(), "{:?} was signed and reads as {:?}", written, read);
            let brace = written.find('{');
            prop_assert_eq!(brace, None);
        }
    });
}

#[tokio::test]
async fn without_a_consumer_secret_there_is_no_webhook() {
    // An account that only reads, with an app-only bearer token.
    let site = Site::new(
        mentions_config("https://api.x.com", ""),
        Arc::new(EnvironmentSecrets::new().with("sitrep/acme-x", r#"{"bearer_token":"AAAA"}"#)),
    );
    assert_eq!(site.get(&crc()).await.status, 404);
    let body = delivery("42", Vec::new()).to_string().into_bytes();
    assert_eq!(site.post(&body, Some(&sign(&body))).await.status, 404);

    // No secret at all: the same.
    let missing = Site::new(
        mentions_config("https://api.x.com", ""),
        Arc::new(EnvironmentSecrets::new()),
    );
    assert_eq!(missing.get(&crc()).await.status, 404);
}

/// The mentions configuration with a second X account, `acme-support` (user id 43), whose
/// credentials are in `sitrep/acme-support`.
fn two_accounts() -> Config {
    let text = format!(
        "{}\n[[accounts]]\nid = \"acme-support\"\nplatform = \"x\"\nhandle = \"acmesupport\"\n\
         user_id = \"43\"\ncredentials = \"sitrep/acme-support\"\n",
        mentions_config_text("https://api.x.com", "", "sitrep/acme-x")
    );
    Config::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[tokio::test]
async fn accounts_of_one_app_share_the_webhook_and_of_two_apps_are_refused() {
    let same_app =
        json!({"consumer_key": "xvz1evFS4wEEPTGEFPHBog", "consumer_secret": CONSUMER_SECRET,
        "access_token": "43-another", "access_token_secret": "another"})
        .to_string();
    let site = Site::new(
        two_accounts(),
        Arc::new(
            EnvironmentSecrets::new()
                .with("sitrep/acme-x", &credentials())
                .with("sitrep/acme-support", &same_app),
        ),
    );
    assert_eq!(site.get(&crc()).await.status, 200);
    // A delivery for the second account is stored as its mention.
    let id = &id_at(epoch(), 1);
    let response = site
        .deliver(&delivery(
            "43",
            vec![tweet(id, "dev", "@acmesupport is the api down?", epoch())],
        ))
        .await;
    assert_eq!(response.status, 200, "{}", response.body_text());
    assert_eq!(
        site.stored(id).await.unwrap().account.as_str(),
        "acme-support"
    );

    let other_app = json!({"consumer_key": "other", "consumer_secret": "another-apps-secret",
        "access_token": "43-another", "access_token_secret": "another"})
    .to_string();
    let site = Site::new(
        two_accounts(),
        Arc::new(
            EnvironmentSecrets::new()
                .with("sitrep/acme-x", &credentials())
                .with("sitrep/acme-support", &other_app),
        ),
    );
    let crc = site.get(&crc()).await;
    assert_eq!(crc.status, 500);
    assert!(
        crc.body_text().contains("more than one app"),
        "{}",
        crc.body_text()
    );
    assert!(!crc.body_text().contains("another-apps-secret"));
    let body = delivery("42", Vec::new()).to_string().into_bytes();
    assert_eq!(site.post(&body, Some(&sign(&body))).await.status, 500);
}

#[tokio::test]
async fn a_signature_computed_elsewhere_is_accepted() {
    let site = Site::standard();
    let body = br#"{"for_user_id":"42","tweet_create_events":[]}"#;
    // Computed with Python: base64(hmac.new(secret, body, sha256).digest()).
    let response = site
        .post(
            body,
            Some("sha256=1V6Pw6pF9gy0rlGrVUGSjN8Ia3oUJw8wksfAoA42Cqs="),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body_text());
    assert_eq!(
        sign(body),
        "sha256=1V6Pw6pF9gy0rlGrVUGSjN8Ia3oUJw8wksfAoA42Cqs="
    );
}

#[tokio::test]
async fn unsigned_malformed_and_forged_deliveries_are_refused_alike_and_store_nothing() {
    let site = Site::standard();
    let id = &id_at(epoch(), 1);
    let body = delivery(
        "42",
        vec![tweet(id, "dev", "@acme is the api down?", epoch())],
    )
    .to_string()
    .into_bytes();
    let mut altered = body.clone();
    // The same bytes but one: the signature of the original no longer fits.
    let at = altered.iter().position(|b| *b == b'?').unwrap();
    altered[at] = b'!';
    let other_key = WebhookKey::new("not-the-apps-secret").signature(&body);
    let twice = {
        let mut request = SiteRequest::new("POST", "/webhooks/x");
        request.headers = vec![
            ("x-twitter-webhooks-signature".into(), "sha256=AAAA".into()),
            ("X-Twitter-Webhooks-Signature".into(), sign(&body)),
        ];
        request.body = body.clone();
        site.webhook.respond(&site.config, &request).await
    };
    let refusals = [
        twice,
        site.post(&body, None).await,
        site.post(&body, Some("")).await,
        site.post(&body, Some("sha1=abc")).await,
        site.post(&body, Some("sha256=not base64")).await,
        site.post(&body, Some(&other_key)).await,
        site.post(&altered, Some(&sign(&body))).await,
    ];
    for response in &refusals {
        assert_eq!(response.status, 401);
        assert_eq!(response.body_text(), "Signature not valid\n");
        assert_eq!(response.header("Cache-Control"), Some("no-store"));
    }
    assert!(site.stored(id).await.is_none());

    // The same body, signed, is taken.
    assert_eq!(site.post(&body, Some(&sign(&body))).await.status, 200);
    assert!(site.stored(id).await.is_some());
}

#[tokio::test]
async fn a_replayed_delivery_is_answered_200_and_stored_once() {
    let site = Site::standard();
    let id = &id_at(epoch(), 1);
    let delivery = delivery(
        "42",
        vec![tweet(id, "dev", "@acme is the api down?", epoch())],
    );
    let first = site.deliver(&delivery).await;
    assert_eq!(first.status, 200, "{}", first.body_text());
    assert_eq!(body_json(&first)["stored"], 1);
    let before = site.stored(id).await.unwrap();

    site.clock.advance(TimeDelta::minutes(2));
    let replay = site.deliver(&delivery).await;
    assert_eq!(replay.status, 200);
    assert_eq!(body_json(&replay)["stored"], 0);
    assert_eq!(body_json(&replay)["already_stored"], 1);
    assert_eq!(
        site.stored(id).await.unwrap(),
        before,
        "the first arrival stays"
    );
}

#[tokio::test]
async fn a_documented_delivery_stores_its_customers_posts_and_skips_the_rest() {
    let site = Site::standard();
    // A minute after the fixture's last post.
    site.clock
        .set(epoch() + TimeDelta::minutes(5) + TimeDelta::seconds(12));
    let response = site
        .post(FIXTURE.as_bytes(), Some(&sign(FIXTURE.as_bytes())))
        .await;
    assert_eq!(response.status, 200, "{}", response.body_text());
    assert_eq!(
        body_json(&response),
        json!({"stored": 3, "already_stored": 0, "skipped": 2, "malformed": 1})
    );
    // The truncated reply, in full, about the API, naming a third party.
    let reply = site.stored("2124805702022070273").await.unwrap();
    assert_eq!(reply.kind, MentionKind::Reply);
    assert_eq!(reply.intent, Intent::OutageReport);
    assert_eq!(reply.component.as_ref().map(|c| c.as_str()), Some("api"));
    assert!(
        reply
            .text
            .contains("503 & the dashboard shows nothing <at all>"),
        "{}",
        reply.text
    );
    assert!(reply.text.ends_with("08:40."), "{}", reply.text);
    assert_eq!(reply.others, ["1002"]);
    assert_eq!(reply.in_reply_to.as_deref(), Some("2124804649251766279"));
    assert_eq!(reply.author, "dev_jane");
    assert_eq!(reply.received_at, site.clock.now());
    // The quote, and the short post.
    assert_eq!(
        site.stored("2124805823656886274").await.unwrap().kind,
        MentionKind::Quote
    );
    assert!(site.stored("2124806209532854278").await.is_some());
    // The repost, the account's own reply and the unreadable post are not stored.
    let skipped = [
        "2124805928514486275",
        "2124806033372086276",
        "2124806159201206277",
    ];
    assert_eq!(site.stored_of(&skipped).await, 0);
}

#[tokio::test]
async fn one_malformed_post_does_not_cost_the_others() {
    let site = Site::standard();
    let (first, second, third) = (id_at(epoch(), 1), id_at(epoch(), 2), id_at(epoch(), 3));
    let good = [first.as_str(), second.as_str()];
    let mut broken = tweet(&third, "bob", "@acme login broken?", epoch());
    broken["user"] = json!("bob");
    let response = site
        .deliver(&delivery(
            "42",
            vec![
                tweet(good[0], "dev", "@acme is the api down?", epoch()),
                broken,
                json!(17),
                tweet(good[1], "sam", "@acme can't sign in since 10:00", epoch()),
            ],
        ))
        .await;
    assert_eq!(response.status, 200, "{}", response.body_text());
    assert_eq!(body_json(&response)["stored"], 2);
    assert_eq!(body_json(&response)["malformed"], 2);
    assert_eq!(site.stored_of(&good).await, 2);
    assert!(site.stored(&third).await.is_none());
}

/// Posts `body` signed as X signs it and checks it was refused whole: a 4xx that says no more
/// than that, and none of the posts `ids` stored.
async fn assert_refused(site: &Site, body: &[u8], ids: &[&str], what: &str) {
    let response = site.post(body, Some(&sign(body))).await;
    assert_eq!(response.status, 400, "{what}: {}", response.body_text());
    assert_eq!(response.body_text(), "Delivery refused\n", "{what}");
    assert_eq!(response.header("Cache-Control"), Some("no-store"));
    assert_eq!(site.stored_of(ids).await, 0, "{what}");
}

#[tokio::test]
async fn a_delivery_for_an_account_the_webhook_does_not_serve_is_refused() {
    // `acme-support` (user id 43) is configured, but reads with a bearer token only: no
    // consumer secret, so it is not subscribed to this app's webhook.
    let site = Site::new(
        two_accounts(),
        Arc::new(
            EnvironmentSecrets::new()
                .with("sitrep/acme-x", &credentials())
                .with("sitrep/acme-support", r#"{"bearer_token":"AAAA"}"#),
        ),
    );
    let id = id_at(epoch(), 1);
    for (for_user_id, text) in [
        ("2244994945", "@someone is the api down?"),
        ("43", "@acmesupport is the api down?"),
    ] {
        let body = delivery(for_user_id, vec![tweet(&id, "dev", text, epoch())]).to_string();
        assert_refused(&site, body.as_bytes(), &[&id], for_user_id).await;
    }
    // The served account's delivery is taken.
    let body = delivery("42", vec![tweet(&id, "dev", "@acme api down?", epoch())]);
    assert_eq!(site.deliver(&body).await.status, 200);
    assert_eq!(site.stored_of(&[&id]).await, 1);
}

#[tokio::test]
async fn a_post_from_the_future_or_the_past_refuses_its_delivery() {
    let site = Site::standard();
    let now = site.clock.now();
    let good = id_at(now, 1);
    for (what, at) in [
        ("ahead of the clock", now + MAX_SKEW + TimeDelta::seconds(5)),
        ("a year ahead", now + TimeDelta::days(365)),
        (
            "older than X retries",
            now - MAX_AGE - TimeDelta::seconds(5),
        ),
        ("years old", now - TimeDelta::days(3 * 365)),
    ] {
        let late = id_at(at, 2);
        // One bad post refuses the good one beside it too.
        let body = delivery(
            "42",
            vec![
                tweet(&good, "dev", "@acme is the api down?", now),
                tweet(&late, "sam", "@acme is the api down?", at),
            ],
        )
        .to_string();
        assert_refused(&site, body.as_bytes(), &[&good, &late], what).await;
    }
    // Within the bounds, both are taken.
    let early = now - MAX_AGE + TimeDelta::seconds(5);
    let ahead = now + MAX_SKEW - TimeDelta::seconds(5);
    let (old, new) = (id_at(early, 3), id_at(ahead, 4));
    let response = site
        .deliver(&delivery(
            "42",
            vec![
                tweet(&old, "dev", "@acme is the api down?", early),
                tweet(&new, "sam", "@acme is the api down?", ahead),
            ],
        ))
        .await;
    assert_eq!(response.status, 200, "{}", response.body_text());
    assert_eq!(site.stored_of(&[&old, &new]).await, 2);
}

#[tokio::test]
async fn a_date_chrono_reads_but_cannot_add_to_is_not_believed() {
    let site = Site::standard();
    let id = id_at(epoch(), 1);
    // chrono reads it (its weekday is right), and any addition to it overflows.
    let far = "Wed Oct 10 20:19:24 +0000 +262142";
    let read = DateTime::parse_from_str(far, "%a %b %d %H:%M:%S %z %Y").unwrap();
    assert_eq!(read.checked_add_signed(TimeDelta::days(366)), None);
    let mut post = tweet(&id, "dev", "@acme is the api down?", epoch());
    post["created_at"] = json!(far);
    post["timestamp_ms"] = json!("8210298412800000");
    let response = site.deliver(&delivery("42", vec![post])).await;
    assert_eq!(response.status, 200, "{}", response.body_text());
    // Dated by its id instead, and kept for the usual retention.
    assert_eq!(site.stored(&id).await.unwrap().created_at, epoch());

    // With no time to fall back on (an id past 64 bits carries none), it is only skipped.
    let mut dateless = tweet(&id_at(epoch(), 2), "sam", "@acme down?", epoch());
    dateless["created_at"] = json!(far);
    dateless["timestamp_ms"] = Value::Null;
    dateless["id"] = Value::Null;
    dateless["id_str"] = json!("99999999999999999999");
    let response = site.deliver(&delivery("42", vec![dateless])).await;
    assert_eq!(response.status, 200, "{}", response.body_text());
    assert_eq!(body_json(&response)["malformed"], 1);
}

#[tokio::test]
async fn an_oversized_delivery_is_refused_before_the_secret_is_read() {
    let secrets = Arc::new(CountingSecrets::new());
    let site = Site::new(mentions_config("https://api.x.com", ""), secrets.clone());
    let id = id_at(epoch(), 1);
    let mut post = tweet(&id, "dev", "@acme is the api down?", epoch());
    post["padding"] = json!("x".repeat(MAX_DELIVERY));
    let body = delivery("42", vec![post]).to_string().into_bytes();
    let response = site.post(&body, Some(&sign(&body))).await;
    assert_eq!(response.status, 413, "{}", response.body_text());
    assert_eq!(secrets.reads.load(Ordering::SeqCst), 0, "no HMAC computed");
    assert!(site.stored(&id).await.is_none());
}

#[tokio::test]
async fn a_post_that_does_not_address_the_account_refuses_its_delivery() {
    let site = Site::standard();
    let (named, other) = (id_at(epoch(), 1), id_at(epoch(), 2));
    let body = delivery(
        "42",
        vec![
            tweet(&named, "dev", "@acme is the api down?", epoch()),
            tweet(
                &other,
                "sam",
                "@someone is the api down? (about @acme)",
                epoch(),
            ),
        ],
    );
    // The text says `@acme`, but X's entities name nobody: the text alone proves nothing.
    let mut body = body;
    body["tweet_create_events"][1]["entities"]["user_mentions"] = json!([]);
    let body = body.to_string();
    assert_refused(&site, body.as_bytes(), &[&named, &other], "names nobody").await;
}

#[tokio::test]
async fn a_delivery_that_contradicts_itself_is_refused() {
    let site = Site::standard();
    let id = id_at(epoch(), 1);
    let post = tweet(&id, "dev", "@acme is the api down?", epoch());
    let whole = delivery("42", vec![post.clone()]).to_string();

    let twice = whole.replacen(
        r#""for_user_id":"42","#,
        r#""for_user_id":"42","for_user_id":"43","#,
        1,
    );
    assert_ne!(twice, whole);
    assert_refused(&site, twice.as_bytes(), &[&id], "for_user_id twice").await;

    let mut other_id = post.clone();
    other_id["id"] = json!(id.parse::<u64>().unwrap() + 1);
    let mut other_date = post.clone();
    other_date["created_at"] = json!("Mon Nov 23 09:00:00 +0000 2026");
    let mut other_stamp = post.clone();
    other_stamp["timestamp_ms"] = json!("1795424400000");
    let mut other_author = post;
    other_author["user"]["id"] = json!(1);
    for (what, post) in [
        ("id and id_str", other_id),
        ("created_at and the id", other_date),
        ("timestamp_ms and created_at", other_stamp),
        ("user.id and user.id_str", other_author),
    ] {
        let body = delivery("42", vec![post]).to_string();
        assert_refused(&site, body.as_bytes(), &[&id], what).await;
    }
}

#[tokio::test]
async fn a_signed_body_that_is_no_delivery_is_a_bad_request() {
    let site = Site::standard();
    let id = &id_at(epoch(), 1);
    let whole = delivery(
        "42",
        vec![tweet(id, "dev", "@acme is the api down?", epoch())],
    );
    let whole = whole.to_string();
    // Cut short: every post in it is still whole, the delivery is not JSON.
    let cut = &whole[..whole.len() - 2];
    let unaddressed =
        json!({"tweet_create_events": [tweet(id, "dev", "@acme down?", epoch())]}).to_string();
    let spaced = format!(" {whole}");
    for body in [
        &b"not json at all"[..],
        cut.as_bytes(),
        b"[]",
        unaddressed.as_bytes(),
        spaced.as_bytes(),
        b"{\"for_user_id\": \"42\", \"tweet_create_events\": \"none\"}",
    ] {
        assert_refused(&site, body, &[id], &String::from_utf8_lossy(body)).await;
    }
}

#[tokio::test]
async fn events_other_than_posts_are_acknowledged_and_change_nothing() {
    let site = Site::standard();
    let response = site
        .deliver(&json!({
            "for_user_id": "42",
            "favorite_events": [{"id": "a7ba59eab0bfcba386f7acedac279542",
                "created_at": "Mon Nov 23 10:04:12 +0000 2026", "timestamp_ms": 1_795_428_252_000u64,
                "favorited_status": tweet("2124806209532854278", "acme", "Maintenance tonight", epoch()),
                "user": {"id_str": "1001", "screen_name": "dev_jane"}}],
            "follow_events": [{"type": "follow", "created_timestamp": "1795428252000",
                "target": {"id": "42"}, "source": {"id": "1001"}}]
        }))
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(body_json(&response)["stored"], 0);
    assert!(site.stored("2124806209532854278").await.is_none());
}

/// The real X client on the stand-in timeline, polling as the poll cycle does.
struct Poller {
    timeline: XTimeline,
    client: XClient,
    config: Config,
}

impl Poller {
    async fn start(clock: &ManualClock) -> Self {
        let timeline = XTimeline::start("42", epoch() + TimeDelta::minutes(15))
            .await
            .unwrap()
            .with_account_username("acme");
        let config = mentions_config(&timeline.base_url(), "");
        let client = x_client(config.accounts[0].base_url.clone(), clock);
        Self {
            timeline,
            client,
            config,
        }
    }

    async fn poll(
        &self,
        store: &dyn Store,
        clock: &ManualClock,
    ) -> shared::mentions::poll::AccountReport {
        let classifier =
            Classifier::with_lexicon(&self.config.components, &self.config.mentions.lexicon);
        let context = PollContext {
            store,
            clock,
            classifier: &classifier,
            settings: &self.config.mentions,
        };
        poll_account(
            context,
            &self.config.accounts[0],
            &self.client,
            Instant::now() + Duration::from_secs(20),
        )
        .await
    }
}

#[tokio::test]
async fn a_post_pushed_then_polled_is_stored_once_and_classified_as_the_poll_would() {
    let site = Site::standard();
    let poller = Poller::start(&site.clock).await;
    let at = epoch() - TimeDelta::minutes(1);
    let text = "@acme is the api down? every call times out";
    let id = poller.timeline.post("dev", text, at);

    let response = site
        .deliver(&delivery("42", vec![tweet(&id, "dev", text, at)]))
        .await;
    assert_eq!(response.status, 200, "{}", response.body_text());
    let pushed = site.stored(&id).await.unwrap();
    assert_eq!(pushed.intent, Intent::OutageReport);

    site.clock.advance(TimeDelta::seconds(30));
    let report = poller.poll(site.store.as_ref(), &site.clock).await;
    assert_eq!(report.fetched, 1);
    assert_eq!(report.stored, 0, "the push stored it");
    assert_eq!(report.duplicates, 1);
    assert_eq!(
        site.stored(&id).await.unwrap(),
        pushed,
        "the first arrival stays"
    );

    // The same post polled into a store of its own is the same stored mention: same
    // author, link, text, kind and classification.
    let polled_store = sqlite_store(&site.clock);
    site.clock.set(pushed.received_at);
    let report = poller.poll(polled_store.as_ref(), &site.clock).await;
    assert_eq!(report.stored, 1);
    let polled = stored(polled_store.as_ref(), &id).await.unwrap();
    assert_eq!(polled, pushed);
}

#[tokio::test]
async fn a_polled_post_pushed_later_is_not_stored_again() {
    let site = Site::standard();
    let poller = Poller::start(&site.clock).await;
    let at = epoch() - TimeDelta::minutes(1);
    let text = "@acme login is broken for me";
    let id = poller.timeline.post("sam", text, at);
    let report = poller.poll(site.store.as_ref(), &site.clock).await;
    assert_eq!(report.stored, 1);
    let polled = site.stored(&id).await.unwrap();

    site.clock.advance(TimeDelta::seconds(5));
    let response = site
        .deliver(&delivery("42", vec![tweet(&id, "sam", text, at)]))
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(body_json(&response)["already_stored"], 1);
    assert_eq!(site.stored(&id).await.unwrap(), polled);
}

#[tokio::test]
async fn pushed_outage_reports_open_a_suspected_incident_as_polled_ones_would() {
    let site = Site::with_mentions("surge_authors = 3\nsurge_window = \"10m\"");
    let authors = ["dev", "sam", "lars"];
    for (i, author) in authors.iter().enumerate() {
        assert_eq!(
            surge::suspected(site.store.as_ref(), "api").await.unwrap(),
            None
        );
        let id = id_at(site.clock.now(), i as u64 + 1);
        let response = site
            .deliver(&delivery(
                "42",
                vec![tweet(
                    &id,
                    author,
                    "@acme is the api down? getting 503s",
                    site.clock.now(),
                )],
            ))
            .await;
        assert_eq!(response.status, 200, "{}", response.body_text());
        site.clock.advance(TimeDelta::seconds(20));
    }
    let incident = surge::suspected(site.store.as_ref(), "api").await.unwrap();
    assert!(incident.is_some(), "three people reported the API down");
    let evidence = surge::evidence(site.store.as_ref(), incident.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(evidence.len(), 3);

    // Replaying a report opens nothing more and keeps the incident.
    let replay = site
        .deliver(&delivery(
            "42",
            vec![tweet(
                &id_at(epoch(), 1),
                "dev",
                "@acme is the api down? getting 503s",
                epoch(),
            )],
        ))
        .await;
    assert_eq!(replay.status, 200);
    assert_eq!(
        surge::suspected(site.store.as_ref(), "api").await.unwrap(),
        incident
    );
}

/// A secret source that counts its reads and can be made to fail.
struct CountingSecrets {
    inner: EnvironmentSecrets,
    reads: AtomicUsize,
    failing: std::sync::atomic::AtomicBool,
}

impl CountingSecrets {
    /// The account's [`credentials`], nothing read yet.
    fn new() -> Self {
        Self {
            inner: EnvironmentSecrets::new().with("sitrep/acme-x", &credentials()),
            reads: AtomicUsize::new(0),
            failing: false.into(),
        }
    }
}

#[async_trait]
impl SecretSource for CountingSecrets {
    async fn secret(&self, name: &str) -> Result<String, SecretError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        if self.failing.load(Ordering::SeqCst) {
            return Err(SecretError::Unavailable {
                name: name.into(),
                reason: "throttled".into(),
            });
        }
        self.inner.secret(name).await
    }
}

#[tokio::test]
async fn the_consumer_secret_is_read_once_and_again_after_its_lifetime() {
    let secrets = Arc::new(CountingSecrets::new());
    let site = Site::new(mentions_config("https://api.x.com", ""), secrets.clone());
    for _ in 0..3 {
        assert_eq!(site.get(&crc()).await.status, 200);
    }
    let body = delivery("42", Vec::new()).to_string().into_bytes();
    assert_eq!(site.post(&body, Some(&sign(&body))).await.status, 200);
    assert_eq!(secrets.reads.load(Ordering::SeqCst), 1, "cached");

    site.clock.advance(KEY_LIFETIME + TimeDelta::seconds(1));
    assert_eq!(site.get(&crc()).await.status, 200);
    assert_eq!(secrets.reads.load(Ordering::SeqCst), 2, "read again");

    // A secret store that fails leaves the webhook unavailable, not absent.
    secrets.failing.store(true, Ordering::SeqCst);
    site.clock.advance(KEY_LIFETIME + TimeDelta::seconds(1));
    let response = site.get(&crc()).await;
    assert_eq!(response.status, 503);
    assert!(response.header("Retry-After").is_some());
    // A failure is remembered briefly, so a burst of requests is not a burst of reads.
    let reads = secrets.reads.load(Ordering::SeqCst);
    assert_eq!(site.get(&crc()).await.status, 503);
    assert_eq!(secrets.reads.load(Ordering::SeqCst), reads);
    secrets.failing.store(false, Ordering::SeqCst);
    site.clock.advance(TimeDelta::minutes(2));
    assert_eq!(site.get(&crc()).await.status, 200);
}

//! X's webhook end to end on the embedded store and the manual clock: the CRC answer, the
//! signature check before anything reads a delivery, deliveries stored through the same
//! intake as polling (a post pushed and then polled is stored once, classified the same),
//! replays, malformed posts beside good ones, deliveries for accounts sitrep does not watch,
//! the surge rules after a push, and the cache of the consumer secret.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Duration as TimeDelta, Utc};
use serde_json::{Value, json};
use shared::clock::{Clock, ManualClock};
use shared::config::Config;
use shared::mentions::StoredMention;
use shared::mentions::classify::{Classifier, Intent};
use shared::mentions::poll::{PollContext, poll_account};
use shared::mentions::surge;
use shared::secrets::{EnvironmentSecrets, SecretError, SecretSource};
use shared::social::x::XClient;
use shared::social::x::webhook::WebhookKey;
use shared::social::{MentionKind, Platform};
use shared::status_site::x_webhook::{KEY_LIFETIME, XWebhook};
use shared::status_site::{SiteRequest, SiteResponse};
use shared::store::{Store, keys};
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

/// A delivery's signature, as X computes it: the CRC's HMAC, over the raw body. (The known
/// vector in [`a_signature_computed_elsewhere_is_accepted`] checks it independently.)
fn sign(body: &[u8]) -> String {
    WebhookKey::new(CONSUMER_SECRET)
        .crc_response_token(std::str::from_utf8(body).expect("deliveries are UTF-8 JSON"))
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
/// the stand-in timeline's rule), posted at `at`, naming the account when `text` does.
fn tweet(id: &str, handle: &str, text: &str, at: DateTime<Utc>) -> Value {
    let user_id = user_id_of(handle);
    let mut mentions = Vec::new();
    if let Some(start) = text.find("@acme") {
        mentions.push(
            json!({"screen_name": "acme", "name": "Acme Cloud", "id": 42,
            "id_str": "42", "indices": [start, start + 5]}),
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
async fn a_crc_request_without_a_usable_token_is_refused() {
    let site = Site::standard();
    let long = "a".repeat(257);
    for query in [
        "/webhooks/x",
        "/webhooks/x?crc_token=",
        "/webhooks/x?other=1",
        "/webhooks/x?crc_token=%zz",
        &format!("/webhooks/x?crc_token={long}"),
    ] {
        let response = site.get(query).await;
        assert_eq!(response.status, 400, "{query}");
        assert!(!response.body_text().contains(CONSUMER_SECRET));
    }
    let longest = "a".repeat(256);
    let response = site.get(&format!("/webhooks/x?crc_token={longest}")).await;
    assert_eq!(response.status, 200, "256 characters are still a token");
}

#[tokio::test]
async fn without_a_consumer_secret_there_is_no_webhook() {
    // An account that only reads, with an app-only bearer token.
    let site = Site::new(
        mentions_config("https://api.x.com", ""),
        Arc::new(EnvironmentSecrets::new().with("sitrep/acme-x", r#"{"bearer_token":"AAAA"}"#)),
    );
    assert_eq!(site.get("/webhooks/x?crc_token=abc").await.status, 404);
    let body = delivery("42", Vec::new()).to_string().into_bytes();
    assert_eq!(site.post(&body, Some(&sign(&body))).await.status, 404);

    // No secret at all: the same.
    let missing = Site::new(
        mentions_config("https://api.x.com", ""),
        Arc::new(EnvironmentSecrets::new()),
    );
    assert_eq!(missing.get("/webhooks/x?crc_token=abc").await.status, 404);
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
    assert_eq!(site.get("/webhooks/x?crc_token=abc").await.status, 200);
    // A delivery for the second account is stored as its mention.
    let id = "2124806209532854278";
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
    let crc = site.get("/webhooks/x?crc_token=abc").await;
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
    let id = "2124806209532854278";
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
    let other_key = WebhookKey::new("not-the-apps-secret")
        .crc_response_token(std::str::from_utf8(&body).unwrap());
    let refusals = [
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
    let id = "2124806209532854278";
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
    let response = site
        .post(FIXTURE.as_bytes(), Some(&sign(FIXTURE.as_bytes())))
        .await;
    assert_eq!(response.status, 200, "{}", response.body_text());
    assert_eq!(
        body_json(&response),
        json!({"ignored": false, "stored": 3, "already_stored": 0, "skipped": 2, "malformed": 1})
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
    let good = ["2124806209532854278", "2124806209532854279"];
    let mut broken = tweet("2124806209532854280", "bob", "@acme login broken?", epoch());
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
    assert!(site.stored("2124806209532854280").await.is_none());
}

#[tokio::test]
async fn a_delivery_for_an_account_sitrep_does_not_watch_is_acknowledged_and_ignored() {
    let site = Site::standard();
    let id = "2124806209532854278";
    let response = site
        .deliver(&delivery(
            "2244994945",
            vec![tweet(id, "dev", "@someone is the api down?", epoch())],
        ))
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(body_json(&response)["ignored"], true);
    assert_eq!(body_json(&response)["stored"], 0);
    assert!(site.stored(id).await.is_none());
}

#[tokio::test]
async fn a_signed_body_that_is_no_delivery_is_a_bad_request() {
    let site = Site::standard();
    let id = "2124806209532854278";
    let whole = delivery(
        "42",
        vec![tweet(id, "dev", "@acme is the api down?", epoch())],
    );
    let whole = whole.to_string();
    // Cut short: every post in it is still whole, the delivery is not JSON.
    let cut = &whole[..whole.len() - 2];
    let unaddressed =
        json!({"tweet_create_events": [tweet(id, "dev", "@acme down?", epoch())]}).to_string();
    for body in [
        &b"not json at all"[..],
        cut.as_bytes(),
        b"[]",
        unaddressed.as_bytes(),
        b"{\"for_user_id\": \"42\", \"tweet_create_events\": \"none\"}",
    ] {
        let response = site.post(body, Some(&sign(body))).await;
        assert_eq!(response.status, 400, "{}", String::from_utf8_lossy(body));
        assert!(
            !response.body_text().contains("not json"),
            "the body is not echoed"
        );
    }
    assert!(site.stored(id).await.is_none());
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
        let id = (2_124_806_209_532_854_278u64 + i as u64).to_string();
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
                "2124806209532854278",
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
    let secrets = Arc::new(CountingSecrets {
        inner: EnvironmentSecrets::new().with("sitrep/acme-x", &credentials()),
        reads: AtomicUsize::new(0),
        failing: false.into(),
    });
    let site = Site::new(mentions_config("https://api.x.com", ""), secrets.clone());
    for _ in 0..3 {
        assert_eq!(site.get("/webhooks/x?crc_token=abc").await.status, 200);
    }
    let body = delivery("42", Vec::new()).to_string().into_bytes();
    assert_eq!(site.post(&body, Some(&sign(&body))).await.status, 200);
    assert_eq!(secrets.reads.load(Ordering::SeqCst), 1, "cached");

    site.clock.advance(KEY_LIFETIME + TimeDelta::seconds(1));
    assert_eq!(site.get("/webhooks/x?crc_token=abc").await.status, 200);
    assert_eq!(secrets.reads.load(Ordering::SeqCst), 2, "read again");

    // A secret store that fails leaves the webhook unavailable, not absent.
    secrets.failing.store(true, Ordering::SeqCst);
    site.clock.advance(KEY_LIFETIME + TimeDelta::seconds(1));
    let response = site.get("/webhooks/x?crc_token=abc").await;
    assert_eq!(response.status, 503);
    assert!(response.header("Retry-After").is_some());
    // A failure is remembered briefly, so a burst of requests is not a burst of reads.
    let reads = secrets.reads.load(Ordering::SeqCst);
    assert_eq!(site.get("/webhooks/x?crc_token=abc").await.status, 503);
    assert_eq!(secrets.reads.load(Ordering::SeqCst), reads);
    secrets.failing.store(false, Ordering::SeqCst);
    site.clock.advance(TimeDelta::minutes(2));
    assert_eq!(site.get("/webhooks/x?crc_token=abc").await.status, 200);
}

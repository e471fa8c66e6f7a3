//! Acknowledgement links end to end, on both store adapters — SQLite (the embedded store) and
//! DynamoDB (on moto): tokens check without side effects, redeem exactly once (also when
//! redemptions race), expire at their instant, and refuse forgeries, other incidents and
//! records changed behind their back; the HTTP route never acknowledges on GET, acknowledges
//! on POST, and answers every failure with its own status.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use shared::clock::{Clock, ManualClock};
use shared::config::{PersonId, PolicyId};
use shared::incident::{ComponentStatus, Incident, IncidentPhase};
use shared::oncall::Urgency;
use shared::oncall::ack_route::{AckRequest, AckResponse, AckRoute};
use shared::oncall::paging::{AckVia, Escalation};
use shared::oncall::token::{self, AckKey, Grant, TOKEN_LEN, TokenError};
use shared::random::{Random, SeededRandom};
use shared::store::{Created, Item, Key, NewItem, Query, Store, StoreError, keys};
use sitrep_tests::epoch;

const INCIDENT: &str = "20261123-100300-api";

fn key() -> AckKey {
    AckKey::new(b"0123456789abcdef0123456789abcdef-test-key").expect("a long enough key")
}

fn person(id: &str) -> PersonId {
    PersonId::parse(id).expect("a valid person id")
}

/// Random numbers from a fixed list, then from a seed: a nonce collision on demand.
struct Scripted {
    next: Mutex<Vec<u64>>,
    then: SeededRandom,
}

impl Scripted {
    fn new(values: &[u64]) -> Self {
        Self {
            next: Mutex::new(values.iter().rev().copied().collect()),
            then: SeededRandom::new(99),
        }
    }
}

impl Random for Scripted {
    fn next_u64(&self) -> u64 {
        let popped = self.next.lock().unwrap().pop();
        popped.unwrap_or_else(|| self.then.next_u64())
    }
}

async fn mint_for(
    store: &dyn Store,
    incident: &str,
    who: &str,
    expires_at: DateTime<Utc>,
    seed: u64,
) -> String {
    token::mint(
        store,
        &key(),
        incident,
        &person(who),
        expires_at,
        &SeededRandom::new(seed),
    )
    .await
    .expect("minted")
}

// ---------------------------------------------------------------- tokens

async fn a_valid_token_checks_freely_and_redeems_once(store: Arc<dyn Store>, clock: ManualClock) {
    let now = clock.now();
    let expires = now + Duration::minutes(30);
    let token = mint_for(&*store, INCIDENT, "alice", expires, 1).await;
    assert_eq!(token.len(), TOKEN_LEN, "{token}");
    assert!(
        token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "{token}"
    );
    let grant = Grant {
        incident: INCIDENT.into(),
        person: person("alice"),
        expires_at: expires,
    };
    for _ in 0..3 {
        assert_eq!(
            token::check(&*store, &key(), &token, now).await.unwrap(),
            grant
        );
    }
    assert_eq!(
        token::check_for(&*store, &key(), &token, INCIDENT, now)
            .await
            .unwrap(),
        grant
    );
    assert_eq!(
        token::redeem(&*store, &key(), &token, now).await.unwrap(),
        grant
    );
    // Tried again soon (the first answer was lost): the same grant, nothing written.
    let version = store
        .get(&token::record_key(&token).unwrap())
        .await
        .unwrap()
        .map(|item| item.version);
    let soon = now + token::REPEAT_GRACE;
    assert_eq!(
        token::redeem(&*store, &key(), &token, soon).await.unwrap(),
        grant
    );
    assert_eq!(
        store
            .get(&token::record_key(&token).unwrap())
            .await
            .unwrap()
            .map(|item| item.version),
        version,
        "a repetition writes nothing"
    );
    // Later, the link is spent.
    let later = soon + Duration::seconds(1);
    let replayed = token::redeem(&*store, &key(), &token, later).await;
    assert!(matches!(replayed, Err(TokenError::Used)), "{replayed:?}");
    let checked = token::check(&*store, &key(), &token, later).await;
    assert!(matches!(checked, Err(TokenError::Used)), "{checked:?}");

    // The record outlives the link by a day, then the store forgets it.
    let record = token::record_key(&token).unwrap();
    let stored = store.get(&record).await.unwrap().expect("stored");
    assert_eq!(stored.expires_at, Some(expires + Duration::days(1)));
    assert_eq!(stored.attributes.get("used"), Some(&Value::Bool(true)));
}

async fn racing_redemptions_have_one_winner(store: Arc<dyn Store>, clock: ManualClock) {
    let now = clock.now();
    let token = mint_for(&*store, INCIDENT, "alice", now + Duration::hours(1), 2).await;
    let attempts = (0..6).map(|_| {
        let store = Arc::clone(&store);
        let token = token.clone();
        async move { token::redeem(&*store, &key(), &token, now).await }
    });
    let results = futures::future::join_all(attempts).await;
    // Every racer holds the same grant (acknowledging is idempotent), and exactly one of
    // them spent the link: the record was written once.
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let record = store
        .get(&token::record_key(&token).unwrap())
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(record.version, 2, "one redemption wrote `used`");
    let later = now + token::REPEAT_GRACE + Duration::seconds(1);
    assert!(matches!(
        token::redeem(&*store, &key(), &token, later).await,
        Err(TokenError::Used)
    ));
}

async fn expired_tokens_are_refused_and_then_forgotten(store: Arc<dyn Store>, clock: ManualClock) {
    // Sub-second expiries are cut to the second the MAC covers.
    let expires = epoch() + Duration::minutes(10) + Duration::milliseconds(750);
    let whole = epoch() + Duration::minutes(10);
    let token = mint_for(&*store, INCIDENT, "alice", expires, 3).await;
    let just_before = whole - Duration::seconds(1);
    let grant = token::check(&*store, &key(), &token, just_before)
        .await
        .unwrap();
    assert_eq!(grant.expires_at, whole);
    for at in [whole, whole + Duration::hours(3)] {
        let checked = token::check(&*store, &key(), &token, at).await;
        assert!(
            matches!(checked, Err(TokenError::Expired { at }) if at == whole),
            "{checked:?}"
        );
        let redeemed = token::redeem(&*store, &key(), &token, at).await;
        assert!(
            matches!(redeemed, Err(TokenError::Expired { .. })),
            "{redeemed:?}"
        );
    }
    // Refusing it did not use it.
    assert!(
        token::check(&*store, &key(), &token, just_before)
            .await
            .is_ok()
    );
    // A day after expiry the store's TTL has removed the record.
    clock.set(whole + Duration::days(1) + Duration::seconds(1));
    let forgotten = token::check(&*store, &key(), &token, clock.now()).await;
    assert!(
        matches!(forgotten, Err(TokenError::Unknown)),
        "{forgotten:?}"
    );
}

async fn forged_tokens_are_refused(store: Arc<dyn Store>, clock: ManualClock) {
    let now = clock.now();
    let token = mint_for(&*store, INCIDENT, "alice", now + Duration::hours(1), 4).await;

    // Strings of the right length and alphabet that were never minted.
    for made_up in [
        "A".repeat(TOKEN_LEN),
        "abcdefghijklmnopqrstuvwxyzA".to_owned(),
        "_-_-_-_-_-_-_-_-_-_-_-_-_-A".to_owned(),
    ] {
        let checked = token::check(&*store, &key(), &made_up, now).await;
        assert!(matches!(checked, Err(TokenError::Unknown)), "{checked:?}");
    }

    // The real nonce (its 11th character also holds two tag bits) with a made-up tag: the
    // record is found, the MAC does not match.
    let nonce_prefix: String = token.chars().take(11).collect();
    let guessed = format!("{nonce_prefix}{}", "Q".repeat(TOKEN_LEN - 11));
    let checked = token::check(&*store, &key(), &guessed, now).await;
    assert!(matches!(checked, Err(TokenError::Forged)), "{checked:?}");

    // The real token with any one character changed.
    for i in 0..TOKEN_LEN {
        let mut chars: Vec<char> = token.chars().collect();
        chars[i] = if chars[i] == 'B' { 'C' } else { 'B' };
        let changed: String = chars.into_iter().collect();
        let checked = token::check(&*store, &key(), &changed, now).await;
        match i {
            // Characters 11 to 25 are the tag's alone.
            11..=25 => assert!(
                matches!(checked, Err(TokenError::Forged)),
                "{i}: {checked:?}"
            ),
            _ => assert!(
                matches!(
                    checked,
                    Err(TokenError::Forged | TokenError::Unknown | TokenError::Malformed)
                ),
                "{i}: {checked:?}"
            ),
        }
    }

    // Signed with another key: the same record, a different MAC.
    let other_key = AckKey::new(&[0x42; 32]).unwrap();
    let checked = token::check(&*store, &other_key, &token, now).await;
    assert!(matches!(checked, Err(TokenError::Forged)), "{checked:?}");

    // Malformed: wrong length, or not base64url.
    for bad in [
        "",
        "short",
        &format!("{token}A"),
        &format!("{}+", &token[1..]),
    ] {
        let checked = token::check(&*store, &key(), bad, now).await;
        assert!(
            matches!(checked, Err(TokenError::Malformed)),
            "{bad:?}: {checked:?}"
        );
    }

    // None of that used the real token.
    assert!(token::redeem(&*store, &key(), &token, now).await.is_ok());
}

async fn a_token_for_another_incident_is_refused_without_using_it(
    store: Arc<dyn Store>,
    clock: ManualClock,
) {
    let now = clock.now();
    let token = mint_for(&*store, INCIDENT, "alice", now + Duration::hours(1), 5).await;
    let other = "20261123-110000-login";
    let checked = token::check_for(&*store, &key(), &token, other, now).await;
    assert!(
        matches!(checked, Err(TokenError::OtherIncident)),
        "{checked:?}"
    );
    let redeemed = token::redeem_for(&*store, &key(), &token, other, now).await;
    assert!(
        matches!(redeemed, Err(TokenError::OtherIncident)),
        "{redeemed:?}"
    );
    let grant = token::redeem_for(&*store, &key(), &token, INCIDENT, now)
        .await
        .expect("still usable for its own incident");
    assert_eq!(grant.incident, INCIDENT);
}

async fn a_record_changed_behind_the_tokens_back_fails_the_mac(
    store: Arc<dyn Store>,
    clock: ManualClock,
) {
    let now = clock.now();
    let tamperings: [(&str, Value); 3] = [
        ("incident", Value::from("20261123-110000-login")),
        ("person", Value::from("mallory")),
        (
            "valid_until",
            Value::from((now + Duration::days(30)).to_rfc3339()),
        ),
    ];
    for (seed, (field, value)) in (10u64..).zip(tamperings) {
        let token = mint_for(&*store, INCIDENT, "alice", now + Duration::hours(1), seed).await;
        let record = token::record_key(&token).unwrap();
        let mut item = store.get(&record).await.unwrap().expect("stored");
        item.attributes.insert(field.to_owned(), value);
        let mut rewritten = NewItem::new(record.clone(), item.attributes);
        rewritten.expires_at = item.expires_at;
        store.update(rewritten, item.version).await.unwrap();
        let checked = token::check(&*store, &key(), &token, now).await;
        assert!(
            matches!(checked, Err(TokenError::Forged)),
            "{field}: {checked:?}"
        );
        let redeemed = token::redeem(&*store, &key(), &token, now).await;
        assert!(
            matches!(redeemed, Err(TokenError::Forged)),
            "{field}: {redeemed:?}"
        );
    }
}

async fn a_nonce_collision_mints_with_a_fresh_nonce(store: Arc<dyn Store>, clock: ManualClock) {
    let now = clock.now();
    let expires = now + Duration::hours(1);
    let random = Scripted::new(&[7, 7, 8]);
    let first = token::mint(
        &*store,
        &key(),
        INCIDENT,
        &person("alice"),
        expires,
        &random,
    )
    .await
    .unwrap();
    let second = token::mint(&*store, &key(), INCIDENT, &person("bob"), expires, &random)
        .await
        .unwrap();
    assert_ne!(
        token::record_key(&first).unwrap(),
        token::record_key(&second).unwrap()
    );
    assert_eq!(
        token::check(&*store, &key(), &first, now)
            .await
            .unwrap()
            .person,
        person("alice")
    );
    assert_eq!(
        token::check(&*store, &key(), &second, now)
            .await
            .unwrap()
            .person,
        person("bob")
    );
    // A source that never changes fails loudly instead of looping.
    let stuck = Scripted::new(&[7, 7, 7, 7, 7]);
    let failed = token::mint(&*store, &key(), INCIDENT, &person("carol"), expires, &stuck).await;
    assert!(matches!(failed, Err(StoreError::Backend(_))), "{failed:?}");
}

// ---------------------------------------------------------------- the route

fn route(store: &Arc<dyn Store>, clock: &ManualClock) -> AckRoute {
    AckRoute::new(
        Arc::clone(store),
        key(),
        Arc::new(clock.clone()),
        "Acme <Cloud>",
    )
}

async fn request(route: &AckRoute, method: &str, path: &str) -> AckResponse {
    route.respond(&AckRequest { method, path }).await
}

fn path(incident: &str, token: &str) -> String {
    format!("/ack/{incident}/{token}")
}

/// An open incident titled `title` that is paging, as the escalation engine stores it.
async fn paging_incident(store: &dyn Store, id: &str, title: &str, now: DateTime<Utc>) {
    let incident = Incident {
        id: id.into(),
        component: None,
        title: title.into(),
        phase: IncidentPhase::Open,
        status: ComponentStatus::Down,
        reason: None,
        opened_at: now,
        resolved_at: None,
        duration_seconds: None,
        suspected: false,
    };
    store
        .put(NewItem::encode(keys::incident(id), &incident).unwrap())
        .await
        .unwrap();
    let escalation = Escalation {
        incident: id.into(),
        component: None,
        title: title.into(),
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
        .put(NewItem::encode(keys::escalation(id), &escalation).unwrap())
        .await
        .unwrap();
}

async fn escalation(store: &dyn Store, id: &str) -> Escalation {
    store
        .get(&keys::escalation(id))
        .await
        .unwrap()
        .expect("escalation stored")
        .decode()
        .unwrap()
}

fn assert_private(response: &AckResponse) {
    assert_eq!(response.content_type, "text/html; charset=utf-8");
    assert_eq!(response.header("Cache-Control"), Some("no-store"));
    assert_eq!(response.header("Referrer-Policy"), Some("no-referrer"));
    assert_eq!(response.header("X-Robots-Tag"), Some("noindex"));
    let csp = response.header("Content-Security-Policy").unwrap_or("");
    for directive in [
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    for external in ["src=", "href=", "<script", "<link", "http://", "https://"] {
        assert!(
            !response.body.contains(external),
            "no external assets ({external}): {}",
            response.body
        );
    }
}

async fn get_confirms_and_never_acknowledges(store: Arc<dyn Store>, clock: ManualClock) {
    let now = clock.now();
    paging_incident(&*store, INCIDENT, "Public API is <down> & \"out\"", now).await;
    let token = mint_for(&*store, INCIDENT, "alice", now + Duration::hours(1), 20).await;
    let route = route(&store, &clock);
    // Link previewers and scanners fetch more than once.
    for _ in 0..3 {
        let page = request(&route, "GET", &path(INCIDENT, &token)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert_private(&page);
        assert!(
            page.body
                .contains(&format!("Acknowledge incident {INCIDENT} for alice?")),
            "{}",
            page.body
        );
        assert!(
            page.body.contains("<form method=\"post\">"),
            "{}",
            page.body
        );
        assert!(
            page.body
                .contains("Public API is &lt;down&gt; &amp; &quot;out&quot;"),
            "{}",
            page.body
        );
        assert!(page.body.contains("Acme &lt;Cloud&gt;"), "{}", page.body);
        assert!(!page.body.contains("<down>") && !page.body.contains("<Cloud>"));
        assert!(
            !page.body.contains(&token),
            "the page does not repeat the token"
        );
    }
    assert_eq!(escalation(&*store, INCIDENT).await.acknowledged, None);
    assert!(token::check(&*store, &key(), &token, now).await.is_ok());
}

async fn post_acknowledges_once(store: Arc<dyn Store>, clock: ManualClock) {
    let now = clock.now();
    paging_incident(&*store, INCIDENT, "Public API is down", now).await;
    let alice = mint_for(&*store, INCIDENT, "alice", now + Duration::hours(1), 21).await;
    let bob = mint_for(&*store, INCIDENT, "bob", now + Duration::hours(1), 22).await;
    let route = route(&store, &clock);

    let done = request(&route, "POST", &path(INCIDENT, &alice)).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_private(&done);
    assert!(done.body.contains("<h1>Acknowledged</h1>"), "{}", done.body);
    let acknowledged = escalation(&*store, INCIDENT)
        .await
        .acknowledged
        .expect("acknowledged");
    assert_eq!(
        (acknowledged.by, acknowledged.via, acknowledged.at),
        (person("alice"), AckVia::Link, now)
    );

    // Posted again soon (the answer was lost): the same truth, nothing acknowledged twice.
    let again = request(&route, "POST", &path(INCIDENT, &alice)).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(
        again.body.contains("already acknowledged by you"),
        "{}",
        again.body
    );
    assert_eq!(
        escalation(&*store, INCIDENT)
            .await
            .acknowledged
            .map(|a| a.at),
        Some(now),
        "the first acknowledgement stands"
    );
    // Later, the link is spent.
    clock.advance(token::REPEAT_GRACE + Duration::seconds(1));
    let spent = request(&route, "POST", &path(INCIDENT, &alice)).await;
    assert_eq!(spent.status, 410, "{}", spent.body);
    assert!(spent.body.contains("already been used"), "{}", spent.body);

    let late = request(&route, "POST", &path(INCIDENT, &bob)).await;
    assert_eq!(late.status, 200, "{}", late.body);
    assert!(
        late.body.contains("already acknowledged by alice"),
        "{}",
        late.body
    );
}

async fn post_reports_resolved_and_unpaged_incidents(store: Arc<dyn Store>, clock: ManualClock) {
    let now = clock.now();
    paging_incident(&*store, INCIDENT, "Public API is down", now).await;
    let mut resolved = escalation(&*store, INCIDENT).await;
    resolved.resolved_at = Some(now);
    store
        .put(NewItem::encode(keys::escalation(INCIDENT), &resolved).unwrap())
        .await
        .unwrap();
    let route = route(&store, &clock);
    let token = mint_for(&*store, INCIDENT, "alice", now + Duration::hours(1), 23).await;
    let answer = request(&route, "POST", &path(INCIDENT, &token)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains("already resolved"), "{}", answer.body);

    let unpaged = "20261123-120000-login";
    let token = mint_for(&*store, unpaged, "alice", now + Duration::hours(1), 24).await;
    let answer = request(&route, "POST", &path(unpaged, &token)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains("not being paged"), "{}", answer.body);
}

async fn failures_have_their_own_status(store: Arc<dyn Store>, clock: ManualClock) {
    let now = clock.now();
    paging_incident(&*store, INCIDENT, "Public API is down", now).await;
    let token = mint_for(&*store, INCIDENT, "alice", now + Duration::minutes(10), 25).await;
    let route = route(&store, &clock);
    let link = path(INCIDENT, &token);

    for method in ["PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "get"] {
        let answer = request(&route, method, &link).await;
        assert_eq!(answer.status, 405, "{method}");
        assert_eq!(answer.header("Allow"), Some("GET, POST"), "{method}");
        assert_private(&answer);
    }
    for unknown in ["/", "/ack", "/ack/", "/status/x/y"] {
        let answer = request(&route, "GET", unknown).await;
        assert_eq!(answer.status, 404, "{unknown}");
    }
    // The short link a text carries names no incident: the token's record does.
    let short = request(&route, "GET", &format!("/ack/{token}")).await;
    assert_eq!(short.status, 200, "{}", short.body);
    let short_forged = request(
        &route,
        "GET",
        &format!("/ack/{made_up}", made_up = "A".repeat(TOKEN_LEN)),
    )
    .await;
    assert_eq!(short_forged.status, 403, "{}", short_forged.body);
    let malformed = request(&route, "GET", &path(INCIDENT, "not-a-token")).await;
    assert_eq!(malformed.status, 400, "{}", malformed.body);

    let made_up = "A".repeat(TOKEN_LEN);
    for method in ["GET", "POST"] {
        let forged = request(&route, method, &path(INCIDENT, &made_up)).await;
        assert_eq!(forged.status, 403, "{method}: {}", forged.body);
        let other = request(&route, method, &path("20261123-110000-login", &token)).await;
        assert_eq!(other.status, 403, "{method}: {}", other.body);
    }
    assert_eq!(escalation(&*store, INCIDENT).await.acknowledged, None);

    clock.advance(Duration::minutes(10));
    for method in ["GET", "POST"] {
        let expired = request(&route, method, &link).await;
        assert_eq!(expired.status, 410, "{method}: {}", expired.body);
        assert!(expired.body.contains("expired"), "{}", expired.body);
    }
    assert_eq!(
        escalation(&*store, INCIDENT).await.acknowledged,
        None,
        "nothing acknowledged through a refused link"
    );
}

/// A store whose escalation records cannot be read while `failing` is set.
struct FlakyEscalations {
    inner: Arc<dyn Store>,
    failing: AtomicBool,
}

#[async_trait::async_trait]
impl Store for FlakyEscalations {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        if self.failing.load(Ordering::SeqCst) && key == &keys::escalation(INCIDENT) {
            return Err(StoreError::Backend("throttled".into()));
        }
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

async fn a_failed_acknowledgement_gives_the_link_back(store: Arc<dyn Store>, clock: ManualClock) {
    let now = clock.now();
    paging_incident(&*store, INCIDENT, "Public API is down", now).await;
    let token = mint_for(&*store, INCIDENT, "alice", now + Duration::hours(1), 26).await;
    let flaky = Arc::new(FlakyEscalations {
        inner: Arc::clone(&store),
        failing: AtomicBool::new(true),
    });
    let flaky_store: Arc<dyn Store> = flaky.clone();
    let route = route(&flaky_store, &clock);
    let link = path(INCIDENT, &token);

    let failed = request(&route, "POST", &link).await;
    assert_eq!(failed.status, 503, "{}", failed.body);
    assert!(failed.body.contains("Try again"), "{}", failed.body);
    assert!(
        token::check(&*store, &key(), &token, now).await.is_ok(),
        "the link works again"
    );

    flaky.failing.store(false, Ordering::SeqCst);
    let retried = request(&route, "POST", &link).await;
    assert_eq!(retried.status, 200, "{}", retried.body);
    assert_eq!(
        escalation(&*store, INCIDENT)
            .await
            .acknowledged
            .map(|a| a.by),
        Some(person("alice"))
    );
}

// ---------------------------------------------------------------- both adapters

macro_rules! every_case {
    ($adapter:ident, $store:path) => {
        sitrep_tests::store_cases!(
            $adapter,
            $store,
            a_valid_token_checks_freely_and_redeems_once,
            racing_redemptions_have_one_winner,
            expired_tokens_are_refused_and_then_forgotten,
            forged_tokens_are_refused,
            a_token_for_another_incident_is_refused_without_using_it,
            a_record_changed_behind_the_tokens_back_fails_the_mac,
            a_nonce_collision_mints_with_a_fresh_nonce,
            get_confirms_and_never_acknowledges,
            post_acknowledges_once,
            post_reports_resolved_and_unpaged_incidents,
            failures_have_their_own_status,
            a_failed_acknowledgement_gives_the_link_back,
        );
    };
}

every_case!(on_sqlite, sitrep_tests::sqlite_store_async);
every_case!(on_dynamodb, sitrep_tests::dynamo_store);

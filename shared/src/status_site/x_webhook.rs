//! X's webhook (`/webhooks/x`): the CRC challenge and push deliveries of mentions (the
//! Account Activity API), so that a customer's post is stored, classified and answered
//! seconds after it is made instead of at the next poll.
//!
//! Push does not replace polling: the poll still runs every minute and catches anything a
//! delivery missed (X retries a delivery that was not answered 200 only three times in five
//! minutes). Both go through [`crate::mentions::intake`], whose conditional create on
//! `MENTION#x#<post id>` stores a post heard both ways exactly once; the acknowledge function
//! then replies once, from the stored mention's stream record.
//!
//! Decisions, and why:
//! - **One app serves the webhook.** X signs the CRC answer and every delivery with the
//!   consumer secret of the app the webhook is registered to, and the CRC request does not
//!   say which account it is about. The key is therefore the `consumer_secret` in the
//!   credentials secrets of the configured X accounts, which must all name the same app (the
//!   normal case: one vendor, one app, its accounts subscribed to one webhook). Accounts
//!   whose secret holds only a `bearer_token` have no consumer secret and take no part. If
//!   the accounts name different apps, no CRC answer can be chosen: the webhook answers 500
//!   and says so, rather than guess. No X account with a consumer secret: 404.
//! - **Keys are cached** in the instance (Secrets Manager is slow and billed per call) for
//!   [`KEY_LIFETIME`], so a rotated secret is picked up without a cold start; a secret that
//!   could not be read is tried again after [`FAILURE_LIFETIME`].
//! - **CRC** (`GET ?crc_token=…`): 200 `{"response_token": "sha256=…"}`; a missing, empty or
//!   oversized token is 400.
//! - **Deliveries** (`POST`): the `x-twitter-webhooks-signature` header is checked over the
//!   raw body, in constant time, before anything reads the body; missing, malformed and
//!   forged signatures get the same 401 "Signature not valid". A signed body that is not a
//!   delivery is 400. A delivery for a user id that is no configured X account is answered
//!   200 and ignored (logged): X retrying it would not change the configuration. A post X
//!   sent in a shape sitrep cannot read is logged and skipped, the others stored: the poll
//!   fetches it anyway. A store failure is 503, so that X retries and the conditional create
//!   absorbs what was already stored. A replayed delivery stores nothing new and is still 200.
//! - When a delivery carried an outage report, the surge rules run at once, as the poll
//!   cycle runs them after its polls: the same [`surge::evaluate`], whose writes are
//!   idempotent, so a push and a poll evaluating together open one incident.
//! - Nothing secret is logged or answered: not the key, the signature or the body.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use tokio::sync::RwLock;

use super::{SiteRequest, SiteResponse};
use crate::clock::Clock;
use crate::config::{Config, SocialAccount};
use crate::mentions::classify::{Classifier, Intent};
use crate::mentions::intake::{Intake, Taken};
use crate::mentions::surge;
use crate::secrets::{SecretError, SecretSource};
use crate::social::Platform;
use crate::social::x::activity::{self, Delivery};
use crate::social::x::webhook::WebhookKey;
use crate::store::Store;

/// The header X signs deliveries in.
pub const SIGNATURE_HEADER: &str = "x-twitter-webhooks-signature";

/// The longest `crc_token` answered. X's are a few dozen characters; anything far longer is
/// not X, and is not worth an HMAC.
pub const MAX_CRC_TOKEN: usize = 256;

/// How long a consumer secret read from the secret store is used before it is read again.
pub const KEY_LIFETIME: TimeDelta = TimeDelta::minutes(15);

/// How long a secret that could not be read waits before it is tried again: short enough
/// that a fixed secret is picked up soon, long enough that unsigned requests cannot make
/// every call read the secret store.
pub const FAILURE_LIFETIME: TimeDelta = TimeDelta::minutes(1);

/// The time a delivery's surge evaluation may take before the answer goes back to X
/// anyway; the poll cycle evaluates again within the minute.
const SURGE_BUDGET: Duration = Duration::from_secs(2);

/// The message whose HMAC tells two consumer secrets apart without keeping either in a form
/// that could be compared, printed or leaked.
const KEY_IDENTITY: &str = "sitrep: which app signs the X webhook";

/// One app's consumer secret, ready to sign and check.
struct AppKey {
    key: WebhookKey,
    /// The HMAC of [`KEY_IDENTITY`]: equal for equal secrets.
    identity: String,
}

/// What one credentials secret gave the webhook.
#[derive(Clone)]
enum SecretOutcome {
    /// It names an app's consumer secret.
    Key(Arc<AppKey>),
    /// It holds no consumer secret (a bearer token only): no webhook for its accounts.
    NoConsumerSecret,
    /// It could not be read; `transient` when trying again soon may succeed.
    Failed {
        /// Whether the secret store failed (rather than the secret being absent or unusable).
        transient: bool,
    },
}

/// A secret's outcome and when it was read.
#[derive(Clone)]
struct CachedSecret {
    read_at: DateTime<Utc>,
    outcome: SecretOutcome,
}

impl CachedSecret {
    fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        let lifetime = match self.outcome {
            SecretOutcome::Failed { .. } => FAILURE_LIFETIME,
            _ => KEY_LIFETIME,
        };
        now < self.read_at + lifetime
    }
}

/// The fields of an X credentials secret the webhook reads; the rest is the client's.
#[derive(Deserialize)]
struct ConsumerSecret {
    #[serde(default)]
    consumer_secret: Option<String>,
}

/// Why no key can check the webhook's requests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum KeyProblem {
    /// No configured X account has a consumer secret.
    #[error("no configured X account has a consumer secret in its credentials")]
    NotConfigured,
    /// The X accounts name different apps: the CRC answer cannot be chosen.
    #[error("the X accounts {} use different apps' consumer secrets; one app must serve the webhook", .accounts.join(", "))]
    SeveralApps {
        /// The accounts with a consumer secret, in config order.
        accounts: Vec<String>,
    },
    /// The secret store failed for every X account.
    #[error("the X accounts' credentials could not be read")]
    Unavailable,
}

/// The webhook receiver.
pub struct XWebhook {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    secrets: Arc<dyn SecretSource>,
    /// Outcomes by secret name.
    keys: RwLock<HashMap<String, CachedSecret>>,
}

impl std::fmt::Debug for XWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XWebhook").finish_non_exhaustive()
    }
}

/// What a delivery did, as answered to X and logged.
#[derive(Debug, Default)]
struct Tally {
    stored: usize,
    already_stored: usize,
    skipped: usize,
    outage_reports: usize,
}

impl XWebhook {
    /// Deliveries are stored in `store`; the X accounts' consumer secrets come from `secrets`.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        secrets: Arc<dyn SecretSource>,
    ) -> Self {
        Self {
            store,
            clock,
            secrets,
            keys: RwLock::new(HashMap::new()),
        }
    }

    /// Answers a GET (CRC) or POST (delivery).
    pub async fn respond(&self, config: &Config, request: &SiteRequest) -> SiteResponse {
        match request.method.as_str() {
            "GET" => self.challenge(config, request).await,
            "POST" => self.deliver(config, request).await,
            _ => SiteResponse::text(405, "Method not allowed").with("Allow", "GET, POST"),
        }
    }

    /// X's challenge-response check.
    async fn challenge(&self, config: &Config, request: &SiteRequest) -> SiteResponse {
        // Checked before any secret is read: junk costs nothing.
        let Some(token) = request
            .query_param("crc_token")
            .filter(|t| !t.is_empty() && t.len() <= MAX_CRC_TOKEN)
        else {
            return SiteResponse::text(400, "crc_token missing, empty or too long");
        };
        match self.app_key(config).await {
            Ok(app) => SiteResponse::new(200, "application/json", app.key.crc_response(&token))
                .with("Cache-Control", "no-store"),
            Err(problem) => key_problem(&problem),
        }
    }

    /// One signed delivery of account activity.
    async fn deliver(&self, config: &Config, request: &SiteRequest) -> SiteResponse {
        let app = match self.app_key(config).await {
            Ok(app) => app,
            Err(problem) => return key_problem(&problem),
        };
        if let Err(refused) = app
            .key
            .verify(&request.body, request.header(SIGNATURE_HEADER))
        {
            tracing::warn!(reason = %refused, "X webhook delivery refused");
            return SiteResponse::text(401, "Signature not valid");
        }
        let delivery = match activity::parse_delivery(&request.body) {
            Ok(delivery) => delivery,
            Err(error) => {
                tracing::warn!(%error, "a signed X webhook delivery could not be read");
                return SiteResponse::text(400, "Not an Account Activity delivery");
            }
        };
        for bad in &delivery.malformed {
            tracing::warn!(
                index = bad.index,
                id = bad.id.as_deref().unwrap_or(""),
                reason = %bad.reason,
                "a post of an X webhook delivery could not be read; the next poll fetches it"
            );
        }
        if !delivery.ignored.is_empty() {
            tracing::debug!(events = ?delivery.ignored, "X webhook events sitrep does not use");
        }
        let Some(account) = x_accounts(config)
            .find(|a| a.user_id.as_deref() == Some(delivery.for_user_id.as_str()))
        else {
            // A subscription sitrep does not know of: X retrying it would change nothing.
            tracing::warn!(
                for_user_id = %delivery.for_user_id,
                "X webhook delivery for a user id that is no configured X account; ignored"
            );
            return answer(&delivery, &Tally::default(), true);
        };
        let tally = match self.take_in(config, account, &delivery).await {
            Ok(tally) => tally,
            Err(error) => {
                tracing::error!(account = %account.id, %error, "X webhook delivery could not be stored; X retries it");
                return SiteResponse::text(503, "Temporarily unavailable; try again shortly.")
                    .with("Retry-After", "10");
            }
        };
        tracing::info!(
            account = %account.id,
            stored = tally.stored,
            already_stored = tally.already_stored,
            skipped = tally.skipped,
            malformed = delivery.malformed.len(),
            "X webhook delivery taken in"
        );
        if tally.outage_reports > 0 {
            self.settle_surges(config).await;
        }
        answer(&delivery, &tally, false)
    }

    /// Takes in every readable post of `delivery` for `account`, as a poll would.
    async fn take_in(
        &self,
        config: &Config,
        account: &SocialAccount,
        delivery: &Delivery,
    ) -> Result<Tally, crate::store::StoreError> {
        let mut tally = Tally::default();
        if delivery.mentions.is_empty() {
            return Ok(tally);
        }
        // Built per delivery rather than kept: the configuration may change between calls,
        // and one build is far cheaper than the writes that follow.
        let classifier = Classifier::with_lexicon(&config.components, &config.mentions.lexicon);
        let intake = Intake {
            store: self.store.as_ref(),
            classifier: &classifier,
            settings: &config.mentions,
        };
        let now = self.clock.now();
        for mention in &delivery.mentions {
            // A push is live: no horizon, which only trims an account's first poll.
            let taken = intake.take(account, mention, now, None).await?;
            match taken {
                Taken::Stored(intent) => {
                    tally.stored += 1;
                    tally.outage_reports += usize::from(intent == Intent::OutageReport);
                }
                Taken::AlreadyStored(intent) => {
                    tally.already_stored += 1;
                    tally.outage_reports += usize::from(intent == Intent::OutageReport);
                }
                Taken::Own | Taken::Repost | Taken::BeforeHorizon => tally.skipped += 1,
            }
        }
        Ok(tally)
    }

    /// Runs the surge rules now, within [`SURGE_BUDGET`]; a failure is only logged, since
    /// the mentions are stored and the poll cycle runs the rules again within the minute.
    async fn settle_surges(&self, config: &Config) {
        let evaluation = surge::evaluate(self.store.as_ref(), config, self.clock.now());
        match tokio::time::timeout(SURGE_BUDGET, evaluation).await {
            Ok(Ok(changes)) => {
                if !changes.is_empty() {
                    tracing::info!(
                        changes = changes.len(),
                        "surge rules after an X webhook delivery"
                    );
                }
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, "surge rules after an X webhook delivery failed; the poll cycle runs them again");
            }
            Err(_) => {
                tracing::warn!(
                    "surge rules after an X webhook delivery ran out of time; the poll cycle runs them again"
                );
            }
        }
    }

    /// The one app key of the configured X accounts (see the module's decisions).
    async fn app_key(&self, config: &Config) -> Result<Arc<AppKey>, KeyProblem> {
        let mut found: Vec<(&SocialAccount, Arc<AppKey>)> = Vec::new();
        let mut unavailable = false;
        for account in x_accounts(config) {
            match self.secret_outcome(account).await {
                SecretOutcome::Key(app) => found.push((account, app)),
                SecretOutcome::NoConsumerSecret => {}
                SecretOutcome::Failed { transient } => unavailable |= transient,
            }
        }
        let Some((_, first)) = found.first() else {
            return Err(if unavailable {
                KeyProblem::Unavailable
            } else {
                KeyProblem::NotConfigured
            });
        };
        if found.iter().any(|(_, app)| app.identity != first.identity) {
            let problem = KeyProblem::SeveralApps {
                accounts: found.iter().map(|(a, _)| a.id.to_string()).collect(),
            };
            tracing::error!(%problem, "the X webhook cannot answer");
            return Err(problem);
        }
        Ok(Arc::clone(first))
    }

    /// What `account`'s credentials secret gives the webhook, from the cache while fresh.
    async fn secret_outcome(&self, account: &SocialAccount) -> SecretOutcome {
        let name = &account.credentials;
        let now = self.clock.now();
        if let Some(cached) = self.keys.read().await.get(name)
            && cached.is_fresh(now)
        {
            return cached.outcome.clone();
        }
        let outcome = match self.secrets.secret(name).await {
            Ok(text) => match serde_json::from_str::<ConsumerSecret>(&text) {
                Ok(ConsumerSecret {
                    consumer_secret: Some(secret),
                }) if !secret.is_empty() => {
                    let key = WebhookKey::new(&secret);
                    let identity = key.crc_response_token(KEY_IDENTITY);
                    SecretOutcome::Key(Arc::new(AppKey { key, identity }))
                }
                Ok(_) => SecretOutcome::NoConsumerSecret,
                Err(_) => {
                    // Never the text: it is a secret.
                    tracing::warn!(account = %account.id, secret = %name, "the credentials secret is not a JSON object; no X webhook key from it");
                    SecretOutcome::Failed { transient: false }
                }
            },
            Err(error) => {
                tracing::warn!(account = %account.id, %error, "no X webhook key from this account's credentials");
                SecretOutcome::Failed {
                    transient: matches!(error, SecretError::Unavailable { .. }),
                }
            }
        };
        self.keys.write().await.insert(
            name.clone(),
            CachedSecret {
                read_at: now,
                outcome: outcome.clone(),
            },
        );
        outcome
    }
}

/// The configured X accounts, in config order.
fn x_accounts(config: &Config) -> impl Iterator<Item = &SocialAccount> {
    config.accounts.iter().filter(|a| a.platform == Platform::X)
}

/// The answer when no key can check a request.
fn key_problem(problem: &KeyProblem) -> SiteResponse {
    match problem {
        KeyProblem::NotConfigured => SiteResponse::text(404, "No X webhook is configured"),
        KeyProblem::SeveralApps { .. } => SiteResponse::text(
            500,
            "The X webhook is misconfigured: the X accounts use more than one app, and one \
             app must serve the webhook",
        ),
        KeyProblem::Unavailable => {
            SiteResponse::text(503, "Temporarily unavailable; try again shortly.")
                .with("Retry-After", "30")
        }
    }
}

/// The 200 answer to a taken delivery: X reads only the status; the counts help whoever
/// replays a delivery by hand.
fn answer(delivery: &Delivery, tally: &Tally, ignored: bool) -> SiteResponse {
    let body = serde_json::json!({
        "ignored": ignored,
        "stored": tally.stored,
        "already_stored": tally.already_stored,
        "skipped": tally.skipped,
        "malformed": delivery.malformed.len(),
    });
    SiteResponse::json(200, &body).with("Cache-Control", "no-store")
}

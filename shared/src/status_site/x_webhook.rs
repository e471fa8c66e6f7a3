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
//! - **CRC** (`GET ?crc_token=…`): 200 `{"response_token": "sha256=…"}` only for a token of
//!   the shape X sends ([`CrcToken`]); anything else, a missing or repeated `crc_token`
//!   included, is 400 before any secret is read or HMAC computed. The CRC answer is the HMAC
//!   a delivery with the token as its body would be signed with, and a token can never be a
//!   delivery (see [`crate::social::x::webhook`]): the endpoint signs no delivery.
//! - **Deliveries** (`POST`): a body over [`activity::MAX_DELIVERY`] is 413 before any
//!   secret is read. The `x-twitter-webhooks-signature` header (exactly one) is checked over
//!   the raw body, in constant time, before anything reads the body; missing, repeated,
//!   malformed and forged signatures get the same 401 "Signature not valid". A signed
//!   delivery is then refused whole — 400 "Delivery refused", nothing stored, the reason
//!   logged and never answered — when it is not a delivery as X writes one
//!   ([`activity::parse_delivery`]: a repeated key, contradictory fields, a post that does not
//!   address the account), when `for_user_id` is no configured X account served by this
//!   app's webhook, or when a post's time is implausible: more than [`MAX_SKEW`] ahead of the
//!   clock or more than [`MAX_AGE`] behind it. A post X sent in a shape sitrep cannot read is
//!   logged and skipped, the others stored: the poll fetches it anyway. A store failure is
//!   503, so that X retries and the conditional create absorbs what was already stored. A
//!   replayed delivery stores nothing new and is still 200.
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

use super::{SiteRequest, SiteResponse, percent_decode};
use crate::clock::Clock;
use crate::config::{Config, SocialAccount};
use crate::mentions::classify::{Classifier, Intent};
use crate::mentions::intake::{Intake, Taken};
use crate::mentions::surge;
use crate::secrets::{SecretError, SecretSource};
use crate::social::Platform;
use crate::social::x::activity::{self, Delivery};
use crate::social::x::webhook::{CrcToken, WebhookKey};
use crate::store::Store;

/// The header X signs deliveries in.
pub const SIGNATURE_HEADER: &str = "x-twitter-webhooks-signature";

/// How far ahead of the clock a delivered post may be: clocks on both sides are kept by NTP,
/// so seconds apart at worst; minutes leave room without admitting a post from the future.
pub const MAX_SKEW: TimeDelta = TimeDelta::minutes(2);

/// How old a delivered post may be. X delivers within seconds of a post and retries an
/// unanswered delivery only three times over five minutes; three times that window covers
/// X's own delays. Anything older the poll, every minute, has already fetched, so refusing
/// it loses nothing and stops an old or replayed post from reopening a surge.
pub const MAX_AGE: TimeDelta = TimeDelta::minutes(15);

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

/// Why a signed delivery is refused whole. Logged, never answered: the caller learns only
/// that it was refused.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    /// It is not a delivery as X writes one.
    #[error("{0}")]
    Unreadable(#[from] activity::ActivityError),
    /// `for_user_id` is no configured X account served by this app's webhook.
    #[error("the delivery is for a user id that is no X account of this webhook")]
    UnknownAccount,
    /// A post is dated further ahead of the clock than [`MAX_SKEW`].
    #[error("post {index} is dated more than {} s ahead of the clock", MAX_SKEW.num_seconds())]
    FromTheFuture {
        /// Its position in the delivery's readable posts.
        index: usize,
    },
    /// A post is older than [`MAX_AGE`].
    #[error("post {index} is more than {} s old", MAX_AGE.num_seconds())]
    TooOld {
        /// Its position in the delivery's readable posts.
        index: usize,
    },
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
        // Checked before any secret is read or HMAC computed: only a token of X's shape is
        // ever signed, and junk costs nothing.
        let Some(written) = single_query_param(request, "crc_token") else {
            tracing::warn!("X webhook CRC refused: crc_token missing or repeated");
            return SiteResponse::text(400, "Bad crc_token");
        };
        let token = match CrcToken::parse(&written) {
            Ok(token) => token,
            Err(error) => {
                // The reason, never the token: it may be a delivery an attacker wants signed.
                tracing::warn!(reason = %error, "X webhook CRC refused");
                return SiteResponse::text(400, "Bad crc_token");
            }
        };
        match self.app(config).await {
            Ok((app, _)) => SiteResponse::new(200, "application/json", app.key.crc_response(token))
                .with("Cache-Control", "no-store"),
            Err(problem) => key_problem(&problem),
        }
    }

    /// One signed delivery of account activity.
    async fn deliver(&self, config: &Config, request: &SiteRequest) -> SiteResponse {
        // Before any secret is read or HMAC computed: a body no delivery is as large as is
        // not worth either.
        if request.body.len() > activity::MAX_DELIVERY {
            tracing::warn!(
                bytes = request.body.len(),
                "X webhook delivery refused: larger than a delivery"
            );
            return SiteResponse::text(413, "Request body too large");
        }
        let (app, accounts) = match self.app(config).await {
            Ok(found) => found,
            Err(problem) => return key_problem(&problem),
        };
        let mut signatures = request
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(SIGNATURE_HEADER))
            .map(|(_, value)| value.as_str());
        let signature = signatures.next();
        let verified = if signatures.next().is_some() {
            // Two signatures: whichever a reader picked, the other was not checked.
            tracing::warn!("X webhook delivery refused: more than one signature header");
            false
        } else {
            app.key
                .verify(&request.body, signature)
                .inspect_err(|refused| {
                    tracing::warn!(reason = %refused, "X webhook delivery refused");
                })
                .is_ok()
        };
        if !verified {
            return SiteResponse::text(401, "Signature not valid");
        }
        let (delivery, account) = match self.check(&request.body, &accounts) {
            Ok(checked) => checked,
            Err(refusal) => {
                tracing::warn!(reason = %refusal, "a signed X webhook delivery was refused");
                return SiteResponse::text(400, "Delivery refused");
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
        answer(&delivery, &tally)
    }

    /// Reads a signed body and checks it against the `accounts` this webhook serves and
    /// the clock; a refusal refuses the whole delivery.
    fn check<'c>(
        &self,
        body: &[u8],
        accounts: &[&'c SocialAccount],
    ) -> Result<(Delivery, &'c SocialAccount), Refusal> {
        let delivery = activity::parse_delivery(body)?;
        let account = accounts
            .iter()
            .find(|a| a.user_id.as_deref() == Some(delivery.for_user_id.as_str()))
            .ok_or(Refusal::UnknownAccount)?;
        let now = self.clock.now();
        for (index, mention) in delivery.mentions.iter().enumerate() {
            // The parser bounds every time to years where this arithmetic is safe.
            if mention.created_at > now + MAX_SKEW {
                return Err(Refusal::FromTheFuture { index });
            }
            if mention.created_at < now - MAX_AGE {
                return Err(Refusal::TooOld { index });
            }
        }
        Ok((delivery, account))
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

    /// The one app key of the configured X accounts (see the module's decisions), and the
    /// accounts whose credentials name it: the only ones deliveries are taken for.
    async fn app<'c>(
        &self,
        config: &'c Config,
    ) -> Result<(Arc<AppKey>, Vec<&'c SocialAccount>), KeyProblem> {
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
        let key = Arc::clone(first);
        Ok((key, found.into_iter().map(|(account, _)| account).collect()))
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
                    let identity = key.signature(KEY_IDENTITY.as_bytes());
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

/// The value of the query parameter `name`, percent-decoded, when it is there exactly once:
/// of two, a reader might pick either.
fn single_query_param(request: &SiteRequest, name: &str) -> Option<String> {
    let mut matching = request.query.split('&').filter(|pair| {
        let key = pair.split_once('=').map_or(*pair, |(key, _)| key);
        percent_decode(key).as_deref() == Some(name)
    });
    let first = matching.next()?;
    if matching.next().is_some() {
        return None;
    }
    percent_decode(first.split_once('=').map_or("", |(_, value)| value))
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
fn answer(delivery: &Delivery, tally: &Tally) -> SiteResponse {
    let body = serde_json::json!({
        "stored": tally.stored,
        "already_stored": tally.already_stored,
        "skipped": tally.skipped,
        "malformed": delivery.malformed.len(),
    });
    SiteResponse::json(200, &body).with("Cache-Control", "no-store")
}

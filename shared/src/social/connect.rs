//! From a configured account to a working client: read its secret, check the secret has the
//! fields its platform needs, and build the client.
//!
//! The secret is a JSON object:
//! - X: `{"bearer_token": "…"}` (app-only, enough to read mentions), or
//!   `{"consumer_key", "consumer_secret", "access_token", "access_token_secret"}`
//!   (OAuth 1.0a user context, which replying will need).
//! - Mastodon: `{"access_token": "…"}` (scope `read:notifications`).
//! - Bluesky: `{"identifier": "<handle or DID>", "app_password": "…"}`.

use std::sync::Arc;

use serde::Deserialize;

use super::bluesky::BlueskyClient;
use super::mastodon::MastodonClient;
use super::transport::Transport;
use super::x::oauth1::OAuth1Credentials;
use super::x::{XClient, XCredentials};
use super::{Platform, SocialClient};
use crate::clock::Clock;
use crate::config::SocialAccount;
use crate::random::Random;
use crate::secrets::{SecretError, SecretSource};
use crate::store::Store;

/// Why an account's client could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// The secret could not be read.
    #[error("account `{account}`: {source}")]
    Secret {
        /// The configured account.
        account: String,
        /// What went wrong.
        source: SecretError,
    },
    /// The secret does not hold what the platform needs.
    #[error("account `{account}`: secret `{secret}` {reason}")]
    Malformed {
        /// The configured account.
        account: String,
        /// The secret's name.
        secret: String,
        /// What is wrong, and what is expected.
        reason: String,
    },
}

/// What every client shares: HTTP, the store (Bluesky keeps its session there), time and
/// randomness.
#[derive(Clone)]
pub struct ClientDeps {
    /// HTTP with retries.
    pub transport: Transport,
    /// The state store.
    pub store: Arc<dyn Store>,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// The randomness source.
    pub random: Arc<dyn Random>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct XSecret {
    bearer_token: Option<String>,
    consumer_key: Option<String>,
    consumer_secret: Option<String>,
    access_token: Option<String>,
    access_token_secret: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MastodonSecret {
    access_token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BlueskySecret {
    identifier: String,
    app_password: String,
}

const X_FIELDS: &str = "must be a JSON object with `bearer_token`, or with `consumer_key`, `consumer_secret`, `access_token` and `access_token_secret`";
const MASTODON_FIELDS: &str = "must be a JSON object with `access_token`";
const BLUESKY_FIELDS: &str = "must be a JSON object with `identifier` and `app_password`";

/// Builds the client for `account`, reading its credentials from `secrets`.
pub async fn connect(
    account: &SocialAccount,
    secrets: &dyn SecretSource,
    deps: &ClientDeps,
) -> Result<Arc<dyn SocialClient>, ConnectError> {
    let text = secrets
        .secret(&account.credentials)
        .await
        .map_err(|source| ConnectError::Secret {
            account: account.id.to_string(),
            source,
        })?;
    let malformed = |fields: &str| ConnectError::Malformed {
        account: account.id.to_string(),
        secret: account.credentials.clone(),
        // Never the secret's text: the reason names fields only.
        reason: fields.to_owned(),
    };
    Ok(match account.platform {
        Platform::X => {
            let secret: XSecret = serde_json::from_str(&text).map_err(|_| malformed(X_FIELDS))?;
            let credentials = match secret {
                XSecret {
                    bearer_token: Some(token),
                    ..
                } if !token.is_empty() => XCredentials::Bearer(token),
                XSecret {
                    consumer_key: Some(consumer_key),
                    consumer_secret: Some(consumer_secret),
                    access_token: Some(access_token),
                    access_token_secret: Some(access_token_secret),
                    ..
                } => XCredentials::OAuth1(OAuth1Credentials {
                    consumer_key,
                    consumer_secret,
                    access_token,
                    access_token_secret,
                }),
                _ => return Err(malformed(X_FIELDS)),
            };
            Arc::new(XClient::new(
                deps.transport.clone(),
                account.base_url.clone(),
                account.user_id.clone().unwrap_or_default(),
                credentials,
                Arc::clone(&deps.clock),
                Arc::clone(&deps.random),
            ))
        }
        Platform::Mastodon => {
            let secret: MastodonSecret =
                serde_json::from_str(&text).map_err(|_| malformed(MASTODON_FIELDS))?;
            Arc::new(MastodonClient::new(
                deps.transport.clone(),
                account.base_url.clone(),
                secret.access_token,
            ))
        }
        Platform::Bluesky => {
            let secret: BlueskySecret =
                serde_json::from_str(&text).map_err(|_| malformed(BLUESKY_FIELDS))?;
            Arc::new(BlueskyClient::new(
                deps.transport.clone(),
                account.base_url.clone(),
                account.id.to_string(),
                secret.identifier,
                secret.app_password,
                Arc::clone(&deps.store),
                Arc::clone(&deps.clock),
            ))
        }
    })
}

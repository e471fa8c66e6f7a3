//! The deployed configuration: the TOML text kept in the table, so a vendor changes checks
//! with `sitrep config push` instead of rebuilding and redeploying the functions.
//!
//! The item's `version` tells a warm Lambda whether the text changed since it last parsed
//! it, so a cycle costs one small read, not a parse and client setup.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Config, ConfigErrors};
use crate::store::{Attributes, NewItem, Store, StoreError, keys};

/// Why the deployed configuration could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum DeployedConfigError {
    /// Nothing has been pushed yet.
    #[error("no configuration is deployed: run `sitrep config push CONFIG --table TABLE` first")]
    Missing,
    /// The stored text does not validate (pushed by an older sitrep, or edited by hand).
    #[error("the deployed configuration is invalid:\n{0}")]
    Invalid(ConfigErrors),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The deployed TOML text and the item version it was read at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedText {
    /// The TOML source.
    pub text: String,
    /// The item's version; changes with every push.
    pub version: u64,
}

/// Validates `text` and, only if valid, stores it as the deployed configuration.
pub async fn push(
    store: &dyn Store,
    text: &str,
    pushed_by: &str,
    now: DateTime<Utc>,
) -> Result<u64, DeployedConfigError> {
    Config::parse(text).map_err(DeployedConfigError::Invalid)?;
    let mut attributes = Attributes::new();
    attributes.insert("toml".into(), Value::from(text));
    attributes.insert("pushed_by".into(), Value::from(pushed_by));
    attributes.insert("pushed_at".into(), Value::from(now.to_rfc3339()));
    Ok(store.put(NewItem::new(keys::config(), attributes)).await?)
}

/// Reads the deployed TOML text.
pub async fn fetch(store: &dyn Store) -> Result<DeployedText, DeployedConfigError> {
    let item = store
        .get(&keys::config())
        .await?
        .ok_or(DeployedConfigError::Missing)?;
    let text = item
        .str("toml")
        .ok_or_else(|| StoreError::Malformed {
            key: item.key.clone(),
            reason: "the `toml` attribute is missing".into(),
        })?
        .to_owned();
    Ok(DeployedText {
        text,
        version: item.version,
    })
}

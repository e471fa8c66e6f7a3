//! What every scheduled function does per invocation: find its configuration (the deployed
//! item in the table, or a bundled file), rebuild what depends on it only when it changed,
//! and turn Lambda's deadline into an instant the services can race against.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::Mutex;

use crate::config::Config;
use crate::config::deployed::{self, DeployedConfigError};
use crate::store::Store;

/// Where a function reads its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// The `CONFIG`/`CURRENT` item of the table (`sitrep config push`).
    Table,
    /// A TOML file bundled with the function or mounted from a layer.
    File(std::path::PathBuf),
}

impl ConfigSource {
    /// From `SITREP_CONFIG_SOURCE`: `table` (the default) or `file:<path>`.
    pub fn from_setting(value: Option<&str>) -> Result<Self, String> {
        match value.map(str::trim) {
            None | Some("") | Some("table") => Ok(ConfigSource::Table),
            Some(other) => match other.strip_prefix("file:") {
                Some(path) if !path.is_empty() => Ok(ConfigSource::File(path.into())),
                _ => Err(format!(
                    "SITREP_CONFIG_SOURCE must be `table` or `file:<path>`, got `{other}`"
                )),
            },
        }
    }
}

/// A value built from the current configuration, rebuilt only when the configuration's
/// version changes: a warm invocation costs one small read, not a parse and client setup.
pub struct Deployed<T> {
    store: Arc<dyn Store>,
    source: ConfigSource,
    current: Mutex<Option<(u64, Arc<T>)>>,
}

impl<T> Deployed<T> {
    /// Nothing built yet; the first [`Deployed::get`] builds.
    pub fn new(store: Arc<dyn Store>, source: ConfigSource) -> Self {
        Self {
            store,
            source,
            current: Mutex::new(None),
        }
    }

    /// The value for the current configuration, built by `build` if the configuration is new.
    pub async fn get<F, Fut, E>(&self, build: F) -> Result<Arc<T>, BoxError>
    where
        F: FnOnce(Config, u64) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: Into<BoxError>,
    {
        let (text, version) = match &self.source {
            ConfigSource::Table => {
                let deployed = deployed::fetch(self.store.as_ref()).await?;
                (Some(deployed.text), deployed.version)
            }
            ConfigSource::File(_) => (None, 0),
        };
        let mut current = self.current.lock().await;
        if let Some((cached, value)) = current.as_ref()
            && *cached == version
        {
            return Ok(Arc::clone(value));
        }
        let text = match (text, &self.source) {
            (Some(text), _) => text,
            (None, ConfigSource::File(path)) => std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the config file {}: {e}", path.display()))?,
            (None, ConfigSource::Table) => return Err(DeployedConfigError::Missing.into()),
        };
        let config = Config::parse(&text).map_err(DeployedConfigError::Invalid)?;
        let value = Arc::new(build(config, version).await.map_err(Into::into)?);
        *current = Some((version, Arc::clone(&value)));
        Ok(value)
    }
}

/// Any error, boxed, as `lambda_runtime` takes it from a handler.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Turns Lambda's deadline (milliseconds since the epoch) into a monotonic instant.
pub fn deadline_instant(deadline_ms: u64) -> tokio::time::Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    tokio::time::Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

/// What a function that talks to the social platforms builds once per execution environment
/// and lends to every invocation: the store, the clock, the secrets, randomness and HTTP.
pub struct FunctionParts {
    /// The state store.
    pub store: Arc<dyn Store>,
    /// Time.
    pub clock: Arc<dyn crate::clock::Clock>,
    /// Where the accounts' credentials are.
    pub secrets: Arc<dyn crate::secrets::SecretSource>,
    /// Randomness (retry jitter, OAuth nonces, template variants).
    pub random: Arc<dyn crate::random::Random>,
    /// HTTP to the platforms.
    pub transport: crate::social::transport::Transport,
}

impl FunctionParts {
    /// The parts, with platform calls retried by `retry`.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn crate::clock::Clock>,
        secrets: Arc<dyn crate::secrets::SecretSource>,
        random: Arc<dyn crate::random::Random>,
        retry: crate::social::transport::RetryPolicy,
    ) -> Result<Self, BoxError> {
        let transport = crate::social::transport::Transport::new(retry, Arc::clone(&random))?;
        Ok(Self {
            store,
            clock,
            secrets,
            random,
            transport,
        })
    }

    /// What the social clients share, for one service built from these parts.
    pub fn client_deps(&self) -> crate::social::connect::ClientDeps {
        crate::social::connect::ClientDeps {
            transport: self.transport.clone(),
            store: Arc::clone(&self.store),
            clock: Arc::clone(&self.clock),
            random: Arc::clone(&self.random),
        }
    }
}

//! The probe function's handler: one probe cycle per scheduled EventBridge event.
//!
//! The binary (`main.rs`) builds the long-lived parts once per execution environment; this
//! handler runs per invocation. It reads the deployed configuration's version (one small
//! read), rebuilds the prober only when the configuration changed, and runs one cycle that
//! ends before the invocation's deadline.
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use shared::clock::Clock;
use shared::config::Config;
use shared::config::deployed::{self, DeployedConfigError};
use shared::incident::Change;
use shared::probe::cycle::{CycleReport, Prober};
use shared::probe::outcome::Health;
use shared::store::Store;
use tokio::sync::Mutex;

/// Where the function reads its configuration.
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

/// What the function keeps between invocations.
pub struct Probe {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    source: ConfigSource,
    region: String,
    current: Mutex<Option<(u64, Arc<Prober>)>>,
}

impl Probe {
    /// The handler's long-lived state.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        source: ConfigSource,
        region: impl Into<String>,
    ) -> Self {
        Self {
            store,
            clock,
            source,
            region: region.into(),
            current: Mutex::new(None),
        }
    }

    async fn prober(&self) -> Result<Arc<Prober>, Error> {
        let (text, version) = match &self.source {
            ConfigSource::Table => {
                let deployed = deployed::fetch(self.store.as_ref()).await?;
                (Some(deployed.text), deployed.version)
            }
            ConfigSource::File(_) => (None, 0),
        };
        let mut current = self.current.lock().await;
        if let Some((cached, prober)) = current.as_ref()
            && *cached == version
        {
            return Ok(Arc::clone(prober));
        }
        let text = match (text, &self.source) {
            (Some(text), _) => text,
            (None, ConfigSource::File(path)) => std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the config file {}: {e}", path.display()))?,
            (None, ConfigSource::Table) => return Err(DeployedConfigError::Missing.into()),
        };
        let config = Config::parse(&text).map_err(DeployedConfigError::Invalid)?;
        let prober = Arc::new(Prober::new(
            Arc::new(config),
            Arc::clone(&self.store),
            Arc::clone(&self.clock),
            self.region.clone(),
        )?);
        tracing::info!(
            version,
            checks = prober.config().checks.len(),
            "configuration loaded"
        );
        *current = Some((version, Arc::clone(&prober)));
        Ok(prober)
    }
}

/// What one invocation returns (and logs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The region that probed.
    pub region: String,
    /// Checks run.
    pub checks: usize,
    /// Checks whose result this time was down.
    pub failing: usize,
    /// Incidents opened this cycle.
    pub opened: Vec<String>,
    /// Incidents resolved this cycle.
    pub resolved: Vec<String>,
}

impl Summary {
    fn of(report: &CycleReport) -> Self {
        let ids = |want: fn(&Change) -> Option<&str>| {
            report
                .changes
                .iter()
                .filter_map(want)
                .map(str::to_owned)
                .collect()
        };
        Self {
            region: report.region.clone(),
            checks: report.checks.len(),
            failing: report
                .checks
                .iter()
                .filter(|c| c.outcome.health == Health::Down)
                .count(),
            opened: ids(|c| match c {
                Change::Opened(i) => Some(i.id.as_str()),
                _ => None,
            }),
            resolved: ids(|c| match c {
                Change::Resolved(i) => Some(i.id.as_str()),
                _ => None,
            }),
        }
    }
}

/// Turns Lambda's deadline (milliseconds since the epoch) into a monotonic instant.
pub fn deadline_instant(deadline_ms: u64) -> tokio::time::Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    tokio::time::Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

/// Handles one scheduled event: one probe cycle.
pub async fn handle(
    probe: &Probe,
    event: LambdaEvent<EventBridgeEvent<Value>>,
) -> Result<Summary, Error> {
    let (event, context) = event.into_parts();
    tracing::debug!(source = %event.source, detail_type = %event.detail_type, "scheduled event");
    let prober = probe.prober().await?;
    let report = prober.run_cycle(deadline_instant(context.deadline)).await;
    let summary = Summary::of(&report);
    tracing::info!(
        checks = summary.checks,
        failing = summary.failing,
        opened = ?summary.opened,
        resolved = ?summary.resolved,
        "probe cycle finished"
    );
    if !report.errors.is_empty() {
        // The results that were stored stay stored; failing the invocation raises the alarm.
        for error in &report.errors {
            tracing::error!(error = %error, "probe cycle error");
        }
        return Err(format!(
            "{} store error(s) in this cycle; first: {}",
            report.errors.len(),
            report.errors[0]
        )
        .into());
    }
    Ok(summary)
}

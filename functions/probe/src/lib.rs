//! The probe function's handler: one probe cycle per scheduled EventBridge event.
//!
//! The binary (`main.rs`) builds the long-lived parts once per execution environment; this
//! handler runs per invocation. It reads the deployed configuration's version (one small
//! read), rebuilds the prober only when the configuration changed, and runs one cycle that
//! ends before the invocation's deadline.
#![forbid(unsafe_code)]

use std::sync::Arc;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use shared::clock::Clock;
use shared::incident::Change;
use shared::invocation::Deployed;
use shared::probe::cycle::{CycleReport, Prober};
use shared::probe::outcome::Health;
use shared::store::Store;

pub use shared::invocation::{ConfigSource, deadline_instant};

/// What the function keeps between invocations.
pub struct Probe {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    region: String,
    prober: Deployed<Prober>,
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
            prober: Deployed::new(Arc::clone(&store), source),
            store,
            clock,
            region: region.into(),
        }
    }

    async fn prober(&self) -> Result<Arc<Prober>, Error> {
        self.prober
            .get(|config, version| async move {
                let prober = Prober::new(
                    Arc::new(config),
                    Arc::clone(&self.store),
                    Arc::clone(&self.clock),
                    self.region.clone(),
                )?;
                tracing::info!(
                    version,
                    checks = prober.config().checks.len(),
                    "configuration loaded"
                );
                Ok::<_, Error>(prober)
            })
            .await
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
    // The heartbeat the dead-man switch watches: no completed cycle for some minutes pages.
    shared::metrics::emit("ProbeCyclesCompleted", "Count", 1.0, &[], probe.clock.now());
    Ok(summary)
}

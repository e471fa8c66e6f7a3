//! The poll-mentions function's handler: one run of the mentions service per scheduled
//! EventBridge event.
//!
//! The binary (`main.rs`) builds the long-lived parts once per execution environment; this
//! handler runs per invocation. It reads the deployed configuration's version, rebuilds the
//! clients only when the configuration changed, polls every account concurrently and ends
//! before the invocation's deadline with progress saved. A backlog the platform cannot
//! deliver becomes a `MentionsPossiblyMissed` metric (an EMF line on stdout) beside the
//! warning in the log.
#![forbid(unsafe_code)]

use std::sync::Arc;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use shared::invocation::{ConfigSource, Deployed, FunctionParts, deadline_instant};
use shared::mentions::classify::Intent;
use shared::mentions::cycle::{CycleReport, MentionCycle};
use shared::mentions::surge::SurgeChange;
use shared::metrics::emit;

/// What the function keeps between invocations.
pub struct Poller {
    parts: FunctionParts,
    cycle: Deployed<MentionCycle>,
}

impl Poller {
    /// The handler's long-lived state, reading its config from `source`.
    pub fn new(parts: FunctionParts, source: ConfigSource) -> Self {
        Self {
            cycle: Deployed::new(Arc::clone(&parts.store), source),
            parts,
        }
    }

    async fn cycle(&self) -> Result<Arc<MentionCycle>, Error> {
        self.cycle
            .get(|config, version| async move {
                let cycle = MentionCycle::new(
                    Arc::new(config),
                    Arc::clone(&self.parts.secrets),
                    self.parts.client_deps(),
                )
                .await;
                tracing::info!(
                    version,
                    accounts = cycle.config().accounts.len(),
                    "configuration loaded"
                );
                Ok::<_, Error>(cycle)
            })
            .await
    }
}

/// One account's part of the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountSummary {
    /// The configured account.
    pub account: String,
    /// Mentions stored for the first time.
    pub stored: usize,
    /// Mentions already stored.
    pub duplicates: usize,
    /// Newly stored outage reports.
    pub outage_reports: usize,
    /// How the poll ended.
    pub outcome: String,
    /// Mentions that may be missing because the backlog outgrew the platform's reach.
    pub possibly_missed: Option<u64>,
}

/// What one invocation returns (and logs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// One entry per polled account, in config order.
    pub accounts: Vec<AccountSummary>,
    /// Suspected incidents opened.
    pub opened: Vec<String>,
    /// Incidents that received new reports as evidence.
    pub attached: Vec<String>,
    /// Suspected incidents resolved for want of new reports.
    pub resolved: Vec<String>,
}

impl Summary {
    fn of(report: &CycleReport) -> Self {
        let mut summary = Summary {
            accounts: report
                .accounts
                .iter()
                .map(|a| AccountSummary {
                    account: a.account.to_string(),
                    stored: a.stored,
                    duplicates: a.duplicates,
                    outage_reports: a.stored_with(Intent::OutageReport),
                    outcome: a.outcome.to_string(),
                    possibly_missed: a.gap.as_ref().and_then(|g| g.estimated_missing),
                })
                .collect(),
            opened: Vec::new(),
            attached: Vec::new(),
            resolved: Vec::new(),
        };
        for change in &report.surges {
            match change {
                SurgeChange::Opened { incident, .. } => summary.opened.push(incident.id.clone()),
                SurgeChange::Attached { incident, .. } => summary.attached.push(incident.clone()),
                SurgeChange::Resolved(incident) => summary.resolved.push(incident.id.clone()),
            }
        }
        summary
    }
}

/// Handles one scheduled event: one run of the mentions service.
pub async fn handle(
    poller: &Poller,
    event: LambdaEvent<EventBridgeEvent<Value>>,
) -> Result<Summary, Error> {
    let (event, context) = event.into_parts();
    tracing::debug!(source = %event.source, detail_type = %event.detail_type, "scheduled event");
    let cycle = poller.cycle().await?;
    let report = cycle.run(deadline_instant(context.deadline)).await;
    for account in &report.accounts {
        if let Some(gap) = &account.gap {
            let platform = account.platform.to_string();
            let name = account.account.to_string();
            // A gap whose size cannot be estimated still counts: at least one is missing.
            let missing = gap.estimated_missing.unwrap_or(1).max(1);
            emit(
                "MentionsPossiblyMissed",
                "Count",
                missing as f64,
                &[("platform", &platform), ("account", &name)],
                poller.parts.clock.now(),
            );
        }
    }
    let summary = Summary::of(&report);
    tracing::info!(
        accounts = summary.accounts.len(),
        stored = summary.accounts.iter().map(|a| a.stored).sum::<usize>(),
        opened = ?summary.opened,
        resolved = ?summary.resolved,
        "mentions polled"
    );
    if !report.errors.is_empty() {
        // What was stored stays stored and cursors only moved past it; failing the
        // invocation raises the alarm.
        for error in &report.errors {
            tracing::error!(error = %error, "poll-mentions error");
        }
        return Err(format!(
            "{} error(s) in this run; first: {}",
            report.errors.len(),
            report.errors[0]
        )
        .into());
    }
    // The heartbeat the dead-man switch watches: no completed poll for some minutes pages.
    emit(
        "PollCyclesCompleted",
        "Count",
        1.0,
        &[],
        poller.parts.clock.now(),
    );
    Ok(summary)
}

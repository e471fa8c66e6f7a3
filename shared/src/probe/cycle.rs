//! One probe cycle, end to end: run every check concurrently (bounded), judge each result,
//! fold it into this region's damped state, agree across regions, and move components and
//! incidents — all before the deadline the caller gives (the Lambda's, locally a budget).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::hysteresis::{Agreement, CheckState, Thresholds, agree};
use super::outcome::{Health, Outcome, judge};
use super::runner::{Runner, RunnerError, describe, seconds};
use crate::clock::Clock;
use crate::config::{Check, CheckId, CheckKind, Component, ComponentId, Config};
use crate::history;
use crate::incident::{self, Change, ComponentStatus};
use crate::store::{Created, NewItem, Query, Store, StoreError, keys};

/// Time kept back from the deadline for writing state after the probes (at most).
pub const STORE_MARGIN: Duration = Duration::from_secs(3);

/// What one check did this cycle.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The check.
    pub check: CheckId,
    /// Its component.
    pub component: ComponentId,
    /// Its kind.
    pub kind: CheckKind,
    /// What it probed.
    pub target: String,
    /// This result.
    pub outcome: Outcome,
    /// This region's damped status after this result.
    pub local_status: Health,
    /// The status all recently reporting regions agree on.
    pub agreed: Option<Agreement>,
}

/// Where a component stands after the cycle.
#[derive(Debug, Clone)]
pub struct ComponentReport {
    /// The component.
    pub component: ComponentId,
    /// Its name.
    pub name: String,
    /// Its status.
    pub status: ComponentStatus,
    /// Why, when not operational.
    pub reason: Option<String>,
}

/// Everything one cycle did.
#[derive(Debug, Clone)]
pub struct CycleReport {
    /// The region that probed.
    pub region: String,
    /// When the cycle started.
    pub started_at: DateTime<Utc>,
    /// Each check, in config order.
    pub checks: Vec<CheckReport>,
    /// Each component, in config order.
    pub components: Vec<ComponentReport>,
    /// Status changes and incidents opened, updated or resolved.
    pub changes: Vec<Change>,
    /// Store failures; the cycle carried on past them, but the caller should report them.
    pub errors: Vec<String>,
}

/// Runs probe cycles for one configuration; built once, reused every cycle.
///
/// Cloning is cheap (shared handles): each check of a cycle runs as its own task on a clone,
/// so the checks' parsing, judging and encoding spread over every core.
#[derive(Clone)]
pub struct Prober {
    config: Arc<Config>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    runner: Arc<Runner>,
    region: Arc<str>,
}

impl std::fmt::Debug for Prober {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prober")
            .field("region", &self.region)
            .field("checks", &self.config.checks.len())
            .finish_non_exhaustive()
    }
}

impl Prober {
    /// Prepares the probes of `config`; `region` names where they run from.
    pub fn new(
        config: Arc<Config>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        region: impl Into<String>,
    ) -> Result<Self, RunnerError> {
        Ok(Self {
            runner: Arc::new(Runner::new(&config.checks)?),
            config,
            store,
            clock,
            region: region.into().into(),
        })
    }

    /// The configuration this prober runs.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Runs one cycle that ends before `deadline`.
    pub async fn run_cycle(&self, deadline: Instant) -> CycleReport {
        let started_at = self.clock.now();
        // Keep time to store the results: up to STORE_MARGIN, at most a quarter of the budget.
        let budget = deadline.saturating_duration_since(Instant::now());
        let probe_deadline = deadline - STORE_MARGIN.min(budget / 4);
        let concurrency = self.config.probe.concurrency.max(1);

        let permits = Arc::new(Semaphore::new(concurrency));
        let mut tasks = JoinSet::new();
        let mut task_check = HashMap::with_capacity(self.config.checks.len());
        for index in 0..self.config.checks.len() {
            let this = self.clone();
            let permits = Arc::clone(&permits);
            let task = tasks.spawn(async move {
                // Never closed, so acquiring only waits for a free slot.
                let _permit = permits.acquire_owned().await;
                let check = &this.config.checks[index];
                let outcome = this.probe(check, probe_deadline).await;
                this.record(check, outcome).await
            });
            task_check.insert(task.id(), index);
        }
        // One slot per check, in config order; a slot still empty at the deadline is reported.
        let mut slots: Vec<Option<Result<CheckReport, String>>> =
            vec![None; self.config.checks.len()];
        // Probes stop at `probe_deadline` on their own; this bounds the store writes too.
        let finished = tokio::time::timeout_at(deadline, async {
            while let Some(joined) = tasks.join_next_with_id().await {
                let id = match &joined {
                    Ok((id, _)) => *id,
                    Err(error) => error.id(),
                };
                let index = task_check[&id];
                slots[index] = Some(joined.map_or_else(
                    |error| {
                        let check = &self.config.checks[index].id;
                        Err(format!("check {check}: its task failed: {error}"))
                    },
                    |(_, report)| report,
                ));
            }
        })
        .await;
        if finished.is_err() {
            tasks.abort_all();
        }

        let mut errors = Vec::new();
        let mut checks = Vec::with_capacity(slots.len());
        for (slot, check) in slots.into_iter().zip(&self.config.checks) {
            match slot {
                Some(Ok(report)) => checks.push(report),
                Some(Err(error)) => errors.push(error),
                None => errors.push(format!(
                    "check {}: its result was not stored before the cycle's deadline",
                    check.id
                )),
            }
        }

        let now = self.clock.now();
        // Components are independent: settle them all at once (the store batches the
        // writes), keeping the config's order in the report.
        let settled = futures::future::join_all(
            self.config
                .components
                .iter()
                .map(|component| self.settle(component, &checks, now, deadline)),
        )
        .await;
        let mut components = Vec::with_capacity(settled.len());
        let mut changes = Vec::new();
        for (report, mut made, mut failed) in settled {
            components.push(report);
            changes.append(&mut made);
            errors.append(&mut failed);
        }
        for change in &changes {
            log_change(change);
        }
        CycleReport {
            region: self.region.to_string(),
            started_at,
            checks,
            components,
            changes,
            errors,
        }
    }

    /// Moves one component to the status its checks agree on and counts it for uptime.
    async fn settle(
        &self,
        component: &Component,
        checks: &[CheckReport],
        now: DateTime<Utc>,
        deadline: Instant,
    ) -> (ComponentReport, Vec<Change>, Vec<String>) {
        let (status, reason) = self.component_status(&component.id, checks, now);
        let mut changes = Vec::new();
        let mut errors = Vec::new();
        // Cut short like a Lambda timeout would: the next cycle repairs a half-made change.
        let settled = tokio::time::timeout_at(deadline, async {
            match incident::transition(self.store.as_ref(), component, status, reason.clone(), now)
                .await
            {
                Ok(made) => changes = made,
                Err(e) => errors.push(format!("component {}: {e}", component.id)),
            }
            if let Err(e) = history::record(self.store.as_ref(), &component.id, status, now).await {
                errors.push(format!("uptime rollup of {}: {e}", component.id));
            }
        })
        .await;
        if settled.is_err() {
            errors.push(format!(
                "component {}: its status was not stored before the cycle's deadline",
                component.id
            ));
        }
        let report = ComponentReport {
            component: component.id.clone(),
            name: component.name.clone(),
            status,
            reason,
        };
        (report, changes, errors)
    }

    async fn probe(&self, check: &Check, probe_deadline: Instant) -> Outcome {
        let remaining = probe_deadline.saturating_duration_since(Instant::now());
        let budget = check.timeout.min(remaining);
        let at = self.clock.now();
        if budget.is_zero() {
            return Outcome {
                health: Health::Down,
                reason: Some(format!(
                    "timed out: {} was not probed before the cycle's deadline",
                    describe(&check.target)
                )),
                elapsed_ms: 0,
                at,
                region: self.region.to_string(),
            };
        }
        let observation = self.runner.observe_within(check, budget).await;
        let mut outcome = judge(check, &observation, at, &self.region);
        if budget < check.timeout && observation.elapsed >= budget {
            outcome.reason = Some(format!(
                "timed out after {}: the cycle's deadline cut the check short",
                seconds(budget)
            ));
        }
        outcome
    }

    /// Folds the outcome into this region's state and stores the raw result.
    async fn record(&self, check: &Check, outcome: Outcome) -> Result<CheckReport, String> {
        let thresholds = Thresholds {
            failure: check.failure_threshold,
            success: check.success_threshold,
        };
        let store = self.store.as_ref();
        let fail = |e: StoreError| format!("check {}: {e}", check.id);
        let result_key = keys::check_result(&check.id, outcome.at, &self.region);
        let retention = chrono::Duration::from_std(self.config.probe.raw_retention)
            .unwrap_or(chrono::Duration::days(2));
        let raw = NewItem::encode(result_key, &outcome)
            .map_err(fail)?
            .expiring_at(outcome.at + retention);
        store.create(raw).await.map_err(fail)?;

        let own_key = keys::check_state(&check.id, &self.region);
        for _ in 0..8 {
            let items = store
                .query(&Query::prefix(
                    keys::check_partition(&check.id),
                    keys::CHECK_STATE_PREFIX,
                ))
                .await
                .map_err(fail)?;
            let mut states = Vec::with_capacity(items.len());
            let mut own = None;
            for item in &items {
                let state: CheckState = item.decode().map_err(fail)?;
                if item.key == own_key {
                    own = Some((state, item.version));
                } else {
                    states.push(state);
                }
            }
            let next =
                CheckState::advance(own.as_ref().map(|(s, _)| s), outcome.clone(), thresholds);
            let item = NewItem::encode(own_key.clone(), &next).map_err(fail)?;
            let written = match own {
                Some((_, version)) => match store.update(item, version).await {
                    Ok(_) => true,
                    Err(StoreError::Conflict { .. }) => false,
                    Err(e) => return Err(fail(e)),
                },
                None => store.create(item).await.map_err(fail)? == Created::Yes,
            };
            if !written {
                // Another cycle in this region wrote first: fold this result into theirs.
                continue;
            }
            let local_status = next.status;
            states.push(next);
            let freshness = chrono::Duration::from_std(self.config.probe.region_freshness)
                .unwrap_or(chrono::Duration::minutes(5));
            let agreed = agree(
                &states,
                self.config.probe.quorum,
                freshness,
                self.clock.now(),
            );
            return Ok(CheckReport {
                check: check.id.clone(),
                component: check.component.clone(),
                kind: check.target.kind(),
                target: describe(&check.target),
                outcome,
                local_status,
                agreed: Some(agreed),
            });
        }
        Err(format!(
            "check {}: state kept changing under contention",
            check.id
        ))
    }

    fn component_status(
        &self,
        component: &ComponentId,
        checks: &[CheckReport],
        now: DateTime<Utc>,
    ) -> (ComponentStatus, Option<String>) {
        if let Some(window) = self
            .config
            .maintenance
            .iter()
            .find(|w| w.covers(component) && w.active_at(now))
        {
            return (ComponentStatus::Maintenance, Some(window.title.clone()));
        }
        let worst = checks
            .iter()
            .filter(|c| &c.component == component)
            .filter_map(|c| c.agreed.as_ref())
            .max_by_key(|a| a.status);
        match worst {
            Some(agreement) if agreement.status != Health::Up => (
                ComponentStatus::from_health(agreement.status),
                agreement.reason.clone(),
            ),
            _ => (ComponentStatus::Operational, None),
        }
    }
}

fn log_change(change: &Change) {
    match change {
        Change::Status {
            component,
            from,
            to,
            reason,
            ..
        } => tracing::info!(
            component = %component, from = %from, to = %to, reason = reason.as_deref().unwrap_or(""),
            "component status changed"
        ),
        Change::Opened(i) => {
            tracing::warn!(incident = %i.id, component = ?i.component, reason = i.reason.as_deref().unwrap_or(""), "incident opened")
        }
        Change::Updated(i) => {
            tracing::info!(incident = %i.id, status = %i.status, "incident updated")
        }
        Change::Resolved(i) => {
            tracing::info!(incident = %i.id, duration_seconds = i.duration_seconds.unwrap_or(0), "incident resolved")
        }
    }
}

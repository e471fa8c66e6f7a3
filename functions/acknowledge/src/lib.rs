//! The acknowledge function's handler: a batch of DynamoDB stream records (new mentions,
//! incident changes) or a scheduled event (drain the outboxes: replies that waited for a
//! posting budget, retries, follow-ups).
//!
//! Records are decoded one by one: a record that cannot be read, or whose handling fails,
//! is reported in `batchItemFailures` by its sequence number, so Lambda retries from it and
//! the others are not held up or lost. Every step the service takes is idempotent, so the
//! retried records (and any after them) change nothing twice: no second reply, follow-up
//! or handoff. Response metrics leave as EMF lines.
#![forbid(unsafe_code)]

use std::sync::Arc;

use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lambda_runtime::{Error, LambdaEvent};
use serde_json::Value;
use shared::invocation::{ConfigSource, Deployed, FunctionParts, deadline_instant};
use shared::metrics::emit as emit_metric;
use shared::reply::handoff::Support;
use shared::reply::service::{BatchReport, ReplyEvent, Responder};
use shared::store::dynamodb::changes_from_records;

/// Time kept back from the invocation's deadline: one post's worst case (a 10 s timeout).
const DEADLINE_MARGIN: std::time::Duration = std::time::Duration::from_secs(12);

/// What the function keeps between invocations.
pub struct Acknowledger {
    parts: FunctionParts,
    support: Arc<dyn Support>,
    responder: Deployed<Responder>,
}

impl Acknowledger {
    /// The handler's long-lived state: handoffs go to `support`, the config comes from
    /// `source`.
    pub fn new(parts: FunctionParts, support: Arc<dyn Support>, source: ConfigSource) -> Self {
        Self {
            responder: Deployed::new(Arc::clone(&parts.store), source),
            parts,
            support,
        }
    }

    async fn responder(&self) -> Result<Arc<Responder>, Error> {
        self.responder
            .get(|config, version| async move {
                tracing::info!(
                    version,
                    accounts = config.accounts.len(),
                    "configuration loaded"
                );
                Ok::<_, Error>(Responder::new(
                    Arc::new(config),
                    Arc::clone(&self.parts.secrets),
                    self.parts.client_deps(),
                    Arc::clone(&self.parts.random),
                    Arc::clone(&self.support),
                ))
            })
            .await
    }
}

/// Handles one invocation: a stream batch (answered with its batch item failures) or a
/// scheduled event (the outboxes drained; answered with no failures).
pub async fn handle(
    acknowledger: &Acknowledger,
    event: LambdaEvent<Value>,
) -> Result<DynamoDbEventResponse, Error> {
    let (event, context) = event.into_parts();
    // Stop starting posts a little before Lambda's own deadline: a post cut off by the
    // timeout would fail the whole batch, which is safe to retry but noisy.
    let deadline = deadline_instant(context.deadline)
        .checked_sub(DEADLINE_MARGIN)
        .filter(|d| *d > tokio::time::Instant::now())
        .unwrap_or_else(|| deadline_instant(context.deadline));
    let responder = acknowledger.responder().await?;
    let mut response = DynamoDbEventResponse::default();
    let report = match event.get("Records").and_then(Value::as_array) {
        Some(records) => {
            let (changes, unreadable) = changes_from_records(records)?;
            let report = responder.handle(&changes, deadline).await;
            for id in unreadable.into_iter().chain(report.failed.iter().cloned()) {
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = Some(id);
                response.batch_item_failures.push(failure);
            }
            report
        }
        None => responder.drain(deadline).await,
    };
    emit(&report, acknowledger.parts.clock.now());
    tracing::info!(
        events = report.events.len(),
        failed = response.batch_item_failures.len(),
        errors = report.errors.len(),
        "acknowledge run"
    );
    for error in &report.errors {
        tracing::error!(error = %error, "acknowledge error");
    }
    Ok(response)
}

/// The run's response metrics, as EMF lines on stdout.
fn emit(report: &BatchReport, now: chrono::DateTime<chrono::Utc>) {
    let line = |name: &str, unit: &str, value: f64, dimensions: &[(&str, &str)]| {
        emit_metric(name, unit, value, dimensions, now);
    };
    for event in &report.events {
        match event {
            ReplyEvent::Sent {
                kind,
                account,
                dry_run,
                response_time,
                sla_breached,
                ..
            } => {
                let mode = if *dry_run { "dry-run" } else { "live" };
                let dims = [
                    ("kind", kind.as_str()),
                    ("account", account.as_str()),
                    ("mode", mode),
                ];
                line("Posts", "Count", 1.0, &dims);
                if let Some(time) = response_time {
                    line(
                        "TimeToFirstResponse",
                        "Seconds",
                        time.num_milliseconds() as f64 / 1000.0,
                        &[("account", account.as_str())],
                    );
                }
                if *sla_breached {
                    line(
                        "SlaBreaches",
                        "Count",
                        1.0,
                        &[("account", account.as_str())],
                    );
                }
            }
            ReplyEvent::HandedOff { reason, .. } => {
                line("Handoffs", "Count", 1.0, &[("reason", reason.as_str())]);
            }
            ReplyEvent::Waiting {
                account, queued, ..
            } => {
                line(
                    "RepliesWaitingForBudget",
                    "Count",
                    *queued as f64,
                    &[("account", account.as_str())],
                );
            }
            ReplyEvent::Failed { account, .. } => {
                line(
                    "PostFailures",
                    "Count",
                    1.0,
                    &[("account", account.as_str())],
                );
            }
            ReplyEvent::Judged { .. } => {}
        }
    }
}

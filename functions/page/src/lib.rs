//! The page function's handler. One function, four triggers:
//!
//! - a batch of DynamoDB stream records (incident records opened, confirmed or resolved):
//!   paging starts or stops; records that fail are reported in `batchItemFailures`;
//! - a scheduled event (every minute): the escalation sweep;
//! - SNS notifications of inbound texts (two-way SMS): `ack 1234`, `resolve 1234`, help;
//! - SNS notifications of CloudWatch alarms about sitrep itself (the dead-man switch):
//!   the default policy is paged until the alarm clears.
//!
//! Every step is claimed in the table before anything is published, so a replayed record,
//! a redelivered notification or an overlapping sweep pages nobody twice. Paging metrics
//! leave as EMF lines; `SweepsCompleted` is the heartbeat its own watchdog alarm watches.
#![forbid(unsafe_code)]

use std::sync::Arc;

use aws_lambda_events::event::sns::SnsRecord;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lambda_runtime::{Error, LambdaEvent};
use serde_json::Value;
use shared::invocation::{ConfigSource, Deployed, FunctionParts};
use shared::metrics::emit as emit_metric;
use shared::notify::{MessageKind, Notifier};
use shared::oncall::paging::{AckLinks, Pager, PagingEvent, PagingReport};
use shared::oncall::token::AckKey;
use shared::store::dynamodb::changes_from_records;

/// What the function keeps between invocations.
pub struct Paging {
    parts: FunctionParts,
    notifier: Arc<dyn Notifier>,
    key: Arc<AckKey>,
    ack_base: Option<String>,
    pager: Deployed<Pager>,
}

impl Paging {
    /// The handler's long-lived state: messages go through `notifier`, links are signed
    /// with `key` and point at `ack_base` unless the config names its own `ack_url`.
    pub fn new(
        parts: FunctionParts,
        notifier: Arc<dyn Notifier>,
        key: Arc<AckKey>,
        ack_base: Option<String>,
        source: ConfigSource,
    ) -> Self {
        Self {
            pager: Deployed::new(Arc::clone(&parts.store), source),
            parts,
            notifier,
            key,
            ack_base,
        }
    }

    async fn pager(&self) -> Result<Arc<Pager>, Error> {
        self.pager
            .get(|config, version| async move {
                let base = config
                    .oncall
                    .ack_url
                    .as_ref()
                    .map(ToString::to_string)
                    .or_else(|| self.ack_base.clone());
                tracing::info!(
                    version,
                    people = config.oncall.people.len(),
                    policies = config.oncall.policies.len(),
                    links = base.is_some(),
                    "configuration loaded"
                );
                let links = base.map(|base| AckLinks {
                    key: Arc::clone(&self.key),
                    base: ack_base(&base),
                });
                Ok::<_, Error>(Pager::new(
                    Arc::new(config),
                    Arc::clone(&self.parts.store),
                    Arc::clone(&self.parts.clock),
                    Arc::clone(&self.notifier),
                    Arc::clone(&self.parts.random),
                    links,
                ))
            })
            .await
    }
}

/// The link base ending in `/ack`: a bare Function URL gets the route appended.
pub fn ack_base(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    if trimmed.ends_with("/ack") {
        trimmed.to_owned()
    } else {
        format!("{trimmed}/ack")
    }
}

/// Handles one invocation.
pub async fn handle(
    paging: &Paging,
    event: LambdaEvent<Value>,
) -> Result<DynamoDbEventResponse, Error> {
    let (event, _context) = event.into_parts();
    let pager = paging.pager().await?;
    let mut response = DynamoDbEventResponse::default();
    let records = event.get("Records").and_then(Value::as_array);
    let source = records
        .and_then(|r| r.first())
        .and_then(|r| r.get("eventSource").or_else(|| r.get("EventSource")))
        .and_then(Value::as_str);
    let (report, kind) = match (records, source) {
        (Some(records), Some("aws:sns")) => (notifications(&pager, records).await?, "sns"),
        (Some(records), _) => {
            let (changes, unreadable) = changes_from_records(records)?;
            let report = pager.handle(&changes).await;
            for id in unreadable.into_iter().chain(report.failed.iter().cloned()) {
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = Some(id);
                response.batch_item_failures.push(failure);
            }
            (report, "stream")
        }
        (None, _) => (pager.sweep().await, "sweep"),
    };
    emit(&report, kind, paging.parts.clock.now());
    tracing::info!(
        trigger = kind,
        events = report.events.len(),
        failed = response.batch_item_failures.len(),
        errors = report.errors.len(),
        "page run"
    );
    for error in &report.errors {
        tracing::error!(error = %error, "page error");
    }
    Ok(response)
}

/// SNS notifications: inbound texts and watchdog alarms. A failure fails the invocation,
/// so Lambda retries it; handling is idempotent, so the retry repeats nothing.
async fn notifications(pager: &Pager, records: &[Value]) -> Result<PagingReport, Error> {
    let mut report = PagingReport::default();
    for (i, raw) in records.iter().enumerate() {
        let record: SnsRecord = serde_json::from_value(raw.clone())
            .map_err(|e| format!("SNS record {i} cannot be read: {e}"))?;
        let message = record.sns.message.as_str();
        let parsed: Option<Value> = serde_json::from_str(message).ok();
        if let Some(alarm) = parsed.as_ref().filter(|v| v.get("AlarmName").is_some()) {
            // Read field by field: CloudWatch sends `"AlarmDescription": null` for an alarm
            // without one, which a typed payload with a plain string would refuse.
            let text = |name: &str| alarm.get(name).and_then(Value::as_str).unwrap_or("");
            let name = text("AlarmName");
            if name.is_empty() {
                return Err(format!("SNS record {i}: an alarm without a name").into());
            }
            // CloudWatch writes `2026-11-23T10:03:00.123+0000`, which is not RFC 3339.
            let changed = text("StateChangeTime");
            let at = chrono::DateTime::parse_from_str(changed, "%Y-%m-%dT%H:%M:%S%.f%z")
                .or_else(|_| chrono::DateTime::parse_from_rfc3339(changed))
                .map(|t| t.with_timezone(&chrono::Utc))
                .unwrap_or(record.sns.timestamp);
            pager
                .watchdog_alarm(
                    name,
                    text("AlarmDescription"),
                    text("NewStateValue"),
                    at,
                    &mut report,
                )
                .await?;
        } else {
            pager.inbound_sms(message, &mut report).await?;
        }
    }
    Ok(report)
}

/// The run's paging metrics, as EMF lines on stdout.
fn emit(report: &PagingReport, trigger: &str, now: chrono::DateTime<chrono::Utc>) {
    let line = |name: &str, unit: &str, value: f64, dimensions: &[(&str, &str)]| {
        emit_metric(name, unit, value, dimensions, now);
    };
    if trigger == "sweep" {
        line("SweepsCompleted", "Count", 1.0, &[]);
    }
    for event in &report.events {
        match event {
            PagingEvent::Paged {
                kind,
                position,
                since_opened,
                ..
            } => {
                line("Pages", "Count", 1.0, &[("kind", kind.as_str())]);
                let first = position.is_some_and(|p| p.step == 0 && p.round == 0);
                if *kind == MessageKind::Page && first {
                    line(
                        "TimeToPage",
                        "Seconds",
                        since_opened.num_milliseconds() as f64 / 1000.0,
                        &[],
                    );
                }
            }
            PagingEvent::Acknowledged {
                acknowledgement,
                since_opened,
                ..
            } => {
                line(
                    "TimeToAcknowledge",
                    "Seconds",
                    since_opened.num_milliseconds() as f64 / 1000.0,
                    &[("via", acknowledgement.via.as_str())],
                );
            }
            PagingEvent::Unreachable { .. } => line("UnreachableSteps", "Count", 1.0, &[]),
            PagingEvent::Exhausted { .. } => line("EscalationsExhausted", "Count", 1.0, &[]),
            PagingEvent::NotRouted { .. } => line("IncidentsNotRouted", "Count", 1.0, &[]),
            PagingEvent::Deferred { .. } | PagingEvent::TextAnswered { .. } => {}
        }
    }
    if !report.errors.is_empty() {
        line(
            "PageDeliveryFailures",
            "Count",
            report.errors.len() as f64,
            &[],
        );
    }
}

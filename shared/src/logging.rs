//! Logging with `tracing`, following Lambda's conventions.
//!
//! In Lambda, `AWS_LAMBDA_LOG_FORMAT` (`JSON` or `Text`, set by the function's
//! `LoggingConfig`) picks the format and `AWS_LAMBDA_LOG_LEVEL` the level, so operators change
//! both in the template without a rebuild. JSON lines carry the event's fields flat, which
//! CloudWatch Logs Insights can query. Locally, logs are readable text on stderr, leaving
//! stdout to the command's own output.
//!
//! The configured level applies to sitrep's own crates only. Every other crate is held at
//! `info` at most, whatever the level: at `trace` the Lambda runtime logs each raw event
//! (`lambda_runtime::layers::api_response`: "raw JSON event received from Lambda", which for
//! status-api is the whole HTTP request, an acknowledgement link's token and a webhook's body
//! included) and the AWS SDK logs each HTTP request and response it transmits (items with
//! customers' words, phone numbers of the pages it publishes). sitrep's own log lines never
//! carry a token, a body or a phone number, at any level.

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable text.
    Text,
}

/// The resolved logging settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// Output format.
    pub format: LogFormat,
    /// A `tracing` filter directive such as `info`.
    pub filter: String,
}

/// Resolves Lambda's variables: format `JSON`/`Text` (case-insensitive, default text), level
/// `TRACE`…`FATAL` (default `fallback_level`; `FATAL` maps to `error`, the closest level).
pub fn lambda_settings(
    format: Option<&str>,
    level: Option<&str>,
    fallback_level: &str,
) -> LogSettings {
    let format = match format.map(str::to_ascii_uppercase).as_deref() {
        Some("JSON") => LogFormat::Json,
        _ => LogFormat::Text,
    };
    let filter = match level.map(str::to_ascii_uppercase).as_deref() {
        Some("TRACE") => "trace",
        Some("DEBUG") => "debug",
        Some("INFO") => "info",
        Some("WARN") => "warn",
        Some("ERROR") | Some("FATAL") => "error",
        _ => fallback_level,
    }
    .to_owned();
    LogSettings { format, filter }
}

/// sitrep's own crates (by their names in targets), the only ones logged at the configured
/// level when it is more verbose than `info`.
pub const OWN_CRATES: [&str; 7] = [
    "shared",
    "probe",
    "poll_mentions",
    "acknowledge",
    "page",
    "status_api",
    "sitrep_cli",
];

/// The filter directives for `level` (a `tracing` level name): `level` for sitrep's own
/// crates, and for every other crate `level` or `info`, whichever logs less.
pub fn filter_directives(level: &str) -> String {
    let level = match level.to_ascii_lowercase().as_str() {
        known @ ("trace" | "debug" | "info" | "warn" | "error" | "off") => known.to_owned(),
        _ => "info".to_owned(),
    };
    let others = if level == "trace" || level == "debug" {
        "info"
    } else {
        level.as_str()
    };
    let mut directives = others.to_owned();
    for name in OWN_CRATES {
        directives.push_str(&format!(",{name}={level}"));
    }
    directives
}

/// The subscriber a Lambda function logs through with `settings`, writing lines to `writer`.
pub fn lambda_subscriber<W>(settings: &LogSettings, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let filter = EnvFilter::new(filter_directives(&settings.filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(writer);
    // CloudWatch stamps every text line itself; JSON lines carry their own timestamp.
    match settings.format {
        LogFormat::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .finish(),
        ),
        LogFormat::Text => Box::new(builder.without_time().with_target(false).finish()),
    }
}

/// Sets up logging inside a Lambda function from its environment.
pub fn init_lambda() {
    use tracing_subscriber::util::SubscriberInitExt;
    let settings = lambda_settings(
        std::env::var("AWS_LAMBDA_LOG_FORMAT").ok().as_deref(),
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
        "info",
    );
    let _ = lambda_subscriber(&settings, std::io::stdout).try_init();
}

/// Sets up readable logging on stderr for the `sitrep` command; `RUST_LOG` overrides `level`.
pub fn init_local(level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_lambda_variables() {
        assert_eq!(
            lambda_settings(Some("JSON"), Some("DEBUG"), "info"),
            LogSettings {
                format: LogFormat::Json,
                filter: "debug".into()
            }
        );
        assert_eq!(lambda_settings(Some("json"), None, "info").filter, "info");
        assert_eq!(
            lambda_settings(Some("Text"), Some("FATAL"), "info").format,
            LogFormat::Text
        );
        assert_eq!(lambda_settings(None, Some("FATAL"), "info").filter, "error");
        assert_eq!(
            lambda_settings(None, Some("nonsense"), "warn").filter,
            "warn"
        );
    }

    use std::sync::{Arc, Mutex};

    /// Lines written through the subscriber, kept for the test to read.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Buffer {
            self.clone()
        }
    }

    fn logged_at(level: &str, emit: impl FnOnce()) -> String {
        let buffer = Buffer::default();
        let settings = lambda_settings(Some("JSON"), Some(level), "info");
        tracing::subscriber::with_default(lambda_subscriber(&settings, buffer.clone()), emit);
        String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn other_crates_never_log_below_info_whatever_the_level() {
        for level in ["TRACE", "DEBUG", "INFO"] {
            let logged = logged_at(level, || {
                // What lambda_runtime logs at trace for every invocation, and what the SDK's
                // orchestrator logs for every request it transmits.
                tracing::trace!(
                    target: "lambda_runtime::layers::api_response",
                    body = r#"{"rawPath":"/ack/SECRET-TOKEN"}"#,
                    "raw JSON event received from Lambda"
                );
                tracing::debug!(target: "aws_smithy_runtime::client::orchestrator", "SECRET-DEBUG");
                tracing::trace!(target: "hyper::proto", "SECRET-HYPER");
                tracing::info!(target: "lambda_runtime", "runtime info stays");
                tracing::trace!(target: "shared::status_site", "own trace");
                tracing::debug!(target: "status_api", "own debug");
            });
            assert!(!logged.contains("SECRET"), "{level}: {logged}");
            assert!(logged.contains("runtime info stays"), "{level}: {logged}");
            assert_eq!(logged.contains("own trace"), level == "TRACE", "{level}");
            assert_eq!(logged.contains("own debug"), level != "INFO", "{level}");
        }
        let quiet = logged_at("ERROR", || {
            tracing::warn!(target: "lambda_runtime", "runtime warning");
            tracing::warn!(target: "shared", "own warning");
            tracing::error!(target: "lambda_runtime", "runtime error");
        });
        assert!(!quiet.contains("warning"), "{quiet}");
        assert!(quiet.contains("runtime error"), "{quiet}");
    }

    #[test]
    fn directives_name_every_own_crate_at_the_level() {
        assert_eq!(
            filter_directives("trace"),
            "info,shared=trace,probe=trace,poll_mentions=trace,acknowledge=trace,page=trace,status_api=trace,sitrep_cli=trace"
        );
        assert!(filter_directives("warn").starts_with("warn,shared=warn,"));
        assert!(filter_directives("nonsense").starts_with("info,shared=info,"));
    }
}

//! Logging with `tracing`, following Lambda's conventions.
//!
//! In Lambda, `AWS_LAMBDA_LOG_FORMAT` (`JSON` or `Text`, set by the function's
//! `LoggingConfig`) picks the format and `AWS_LAMBDA_LOG_LEVEL` the level, so operators change
//! both in the template without a rebuild. JSON lines carry the event's fields flat, which
//! CloudWatch Logs Insights can query. Locally, logs are readable text on stderr, leaving
//! stdout to the command's own output.

use tracing_subscriber::EnvFilter;

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

/// Sets up logging inside a Lambda function from its environment.
pub fn init_lambda() {
    let settings = lambda_settings(
        std::env::var("AWS_LAMBDA_LOG_FORMAT").ok().as_deref(),
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
        "info",
    );
    let filter = EnvFilter::try_new(&settings.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stdout);
    // CloudWatch stamps every text line itself; JSON lines carry their own timestamp.
    let _ = match settings.format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.without_time().with_target(false).try_init(),
    };
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
}

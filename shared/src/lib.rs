//! sitrep's shared crate: the domain, its ports and their adapters.
//!
//! Every Lambda function under `functions/` and the `sitrep` command are thin adapters over
//! the services here, so the same code runs in AWS and on a laptop:
//!
//! - [`config`]: the typed, validated configuration (TOML, errors with field and line).
//! - [`clock`]: the time port; nothing reads the system clock directly.
//! - [`store`]: the state port with its DynamoDB and embedded (SQLite) adapters.
//! - [`probe`]: health checks, conditions, hysteresis, quorum and the probe cycle.
//! - [`maintenance`]: maintenance windows in named time zones.
//! - [`incident`]: incidents and their public timeline.
//! - [`mentions`]: polling mentions, classifying them, and surges of outage reports.
//! - [`metrics`]: CloudWatch metrics as Embedded Metric Format lines.
//! - [`history`]: daily and hourly rollups and uptime percentages.
//! - [`status_site`]: the public status page, JSON APIs, feed, badges and webhooks.
//! - [`oncall`]: on-call schedules, escalation, acknowledgement links and SMS commands.
//! - [`notify`]: the paging port: SNS (SMS, email, topics) and a console adapter.
//! - [`social`]: the social platforms: one client trait, X, Mastodon and Bluesky clients.
//! - [`secrets`]: the secrets port (Secrets Manager, or the environment locally).
//! - [`random`]: the randomness port (retry jitter).
//! - [`invocation`]: per-invocation plumbing the functions share (config source, deadline).
//! - [`aws`]: the AWS SDK configuration every binary shares.
//! - [`logging`]: `tracing` set up the way Lambda expects.
#![forbid(unsafe_code)]

pub mod aws;
pub mod clock;
pub mod config;
pub mod history;
pub mod incident;
pub mod invocation;
pub mod logging;
pub mod maintenance;
pub mod mentions;
pub mod metrics;
pub mod notify;
pub mod oncall;
pub mod probe;
pub mod random;
pub mod reply;
pub mod secrets;
pub mod social;
pub mod status_site;
pub mod store;

//! `sitrep`: validate a configuration, probe once, run the probe, mentions and reply loop
//! locally, classify posts, report response times, push a configuration to the deployed
//! table, list who is on call, or watch the outage drill. Parses arguments only;
//! the work is in the `sitrep_cli` library and the `shared` crate.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// sitrep: know within a minute that a service is down, and say so.
#[derive(Debug, Parser)]
#[command(name = "sitrep", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a configuration file; prints every error with its field and line.
    Validate {
        /// The TOML configuration.
        config: PathBuf,
    },
    /// Run every check once and print the results as a table.
    Probe {
        /// The TOML configuration.
        config: PathBuf,
        /// Keep state in this SQLite file (default: in memory, so no history).
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// Probe, poll mentions and answer them on a schedule with the embedded store, printing
    /// changes, incidents, replies and handoffs.
    Run {
        /// The TOML configuration.
        config: PathBuf,
        /// The SQLite file that holds state between runs.
        #[arg(long, default_value = "sitrep.db")]
        db: PathBuf,
        /// Time between cycles, e.g. `60s`, `30s`, `5m`.
        #[arg(long, default_value = "60s", value_parser = parse_interval)]
        interval: Duration,
        /// Stop after this many cycles (default: until Ctrl-C).
        #[arg(long)]
        cycles: Option<u64>,
    },
    /// The outage drill on 127.0.0.1: failure, detection, paging and escalation, customers
    /// answered once, public updates, recovery, follow-ups, with the status page served
    /// throughout and the figures at the end.
    Demo {
        /// Compress time further: the whole drill in well under a minute, without the
        /// closing minute of status page.
        #[arg(long)]
        fast: bool,
    },
    /// How sitrep reads a post (intent, language, component), or precision and recall on a
    /// labelled set.
    Classify {
        /// The post's text (omit with --labelled).
        #[arg(required_unless_present = "labelled")]
        text: Option<String>,
        /// A JSON-lines file of labelled posts (`text`, `lang`, `intent`, `component`).
        #[arg(long, conflicts_with = "text")]
        labelled: Option<PathBuf>,
        /// A sitrep config whose components' keywords name components.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Response metrics: time to first response (p50, p90, p99), SLA compliance, replies,
    /// follow-ups and handoffs, per platform and component.
    Report {
        /// How far back, e.g. `7d`, `24h`.
        #[arg(long, default_value = "7d", value_parser = parse_span)]
        since: Duration,
        /// The local runner's SQLite file.
        #[arg(long, default_value = "sitrep.db", conflicts_with = "table")]
        db: PathBuf,
        /// Read the deployed table instead (the stack's `TableName` output).
        #[arg(long)]
        table: Option<String>,
        /// The SLA to measure against (default: the config's `replies.sla`, else 5m).
        #[arg(long, value_parser = parse_span)]
        sla: Option<Duration>,
        /// A config whose `replies.sla` to use.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Who is on call on every schedule, and the shifts of the next days (times in UTC and in
    /// each person's own zone).
    Oncall {
        /// The TOML configuration.
        config: PathBuf,
        /// The instant to look at, RFC 3339 (e.g. `2026-11-23T10:00:00Z`; default: now).
        #[arg(long, value_parser = sitrep_cli::oncall_listing::parse_instant)]
        at: Option<chrono::DateTime<chrono::Utc>>,
        /// How many days of shifts to list (1 to 366).
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=366))]
        days: u32,
    },
    /// Manage the configuration deployed to AWS.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate a configuration and store it in the sitrep table, where the functions read it.
    Push {
        /// The TOML configuration.
        config: PathBuf,
        /// The table (the stack's `TableName` output).
        #[arg(long, env = "SITREP_TABLE")]
        table: String,
    },
}

fn parse_interval(text: &str) -> Result<Duration, String> {
    match shared::config::parse_duration(text)? {
        d if d < Duration::from_secs(1) => Err("the interval must be at least 1s".into()),
        d => Ok(d),
    }
}

fn parse_span(text: &str) -> Result<Duration, String> {
    shared::config::parse_duration(text)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The commands print their own story; logs are for errors unless RUST_LOG asks for more.
    shared::logging::init_local("error");
    let result = match cli.command {
        Command::Validate { config } => sitrep_cli::validate(&config),
        Command::Probe { config, db } => sitrep_cli::probe_once(&config, db.as_deref()).await,
        Command::Run {
            config,
            db,
            interval,
            cycles,
        } => sitrep_cli::run(&config, &db, interval, cycles).await,
        Command::Demo { fast } => {
            let pace = if fast {
                sitrep_cli::demo::Pace::Fast
            } else {
                sitrep_cli::demo::Pace::Watchable
            };
            sitrep_cli::demo::run(pace).await.map(|_| ())
        }
        Command::Classify {
            text,
            labelled,
            config,
        } => match (labelled, text) {
            (Some(labelled), _) => sitrep_cli::evaluate_labelled(&labelled, config.as_deref()),
            (None, Some(text)) => sitrep_cli::classify_text(config.as_deref(), &text),
            (None, None) => Err(sitrep_cli::CliError::Other(
                "give a text to classify, or --labelled FILE".into(),
            )),
        },
        Command::Report {
            since,
            db,
            table,
            sla,
            config,
        } => {
            let source = match table {
                Some(table) => sitrep_cli::ReportSource::Table(table),
                None => sitrep_cli::ReportSource::Local(db),
            };
            sitrep_cli::report(&source, since, sla, config.as_deref()).await
        }
        Command::Oncall { config, at, days } => sitrep_cli::oncall(&config, at, days),
        Command::Config {
            command: ConfigCommand::Push { config, table },
        } => sitrep_cli::push_config(&config, &table).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

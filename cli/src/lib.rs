//! The `sitrep` command's work: each public function is one subcommand.
#![forbid(unsafe_code)]

pub mod demo;
pub mod flaky;
pub mod oncall_listing;
pub mod render;
pub mod site_server;
pub mod stream;
pub mod x_timeline;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use shared::clock::{Clock, SystemClock};
use shared::config::Config;
use shared::mentions::classify::{Classifier, Intent};
use shared::mentions::cycle::MentionCycle;
use shared::mentions::evaluation::{evaluate, parse_labelled};
use shared::probe::cycle::Prober;
use shared::random::{Random, SeededRandom};
use shared::reply::handoff::LogSupport;
use shared::reply::service::Responder;
use shared::secrets::EnvironmentSecrets;
use shared::social::connect::ClientDeps;
use shared::social::transport::{RetryPolicy, Transport};
use shared::store::Store;
use shared::store::sqlite::SqliteStore;

use shared::notify::console::ConsoleNotifier;
use shared::oncall::paging::{AckLinks, Pager};
use shared::oncall::token::AckKey;
use shared::status_site::StatusSite;
use shared::status_site::x_webhook::XWebhook;

use crate::site_server::SiteServer;
use crate::stream::LocalStream;

/// Why a subcommand failed; the message is what the user sees.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The configuration file could not be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The configuration is invalid.
    #[error("{path} is invalid:\n{errors}")]
    Invalid {
        /// The file.
        path: String,
        /// Every error, one per line.
        errors: String,
    },
    /// Anything else, in words.
    #[error("{0}")]
    Other(String),
}

impl CliError {
    fn other(e: impl std::fmt::Display) -> Self {
        CliError::Other(e.to_string())
    }
}

/// Reads and validates a configuration file.
pub fn load_config(path: &Path) -> Result<(String, Config), CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let config = Config::parse(&text).map_err(|errors| CliError::Invalid {
        path: path.display().to_string(),
        errors: errors
            .0
            .iter()
            // `file:line:column: field: message`, the form editors and CI annotate.
            .map(|e| {
                format!(
                    "  {}:{}:{}: {}: {}",
                    path.display(),
                    e.line,
                    e.column,
                    e.field,
                    e.message
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
    })?;
    Ok((text, config))
}

/// `sitrep validate`: exit 0 with a one-line summary, or every error.
pub fn validate(path: &Path) -> Result<(), CliError> {
    let (_, config) = load_config(path)?;
    println!(
        "{} is valid: {} component(s), {} check(s), {} maintenance window(s), {} social account(s), {} on-call people, {} schedule(s), {} escalation {}",
        path.display(),
        config.components.len(),
        config.checks.len(),
        config.maintenance.len(),
        config.accounts.len(),
        config.oncall.people.len(),
        config.oncall.schedules.len(),
        config.oncall.policies.len(),
        if config.oncall.policies.len() == 1 {
            "policy"
        } else {
            "policies"
        }
    );
    Ok(())
}

/// `sitrep oncall`: who every schedule has on call at `at` (default: now) and the shifts of
/// the next `days` days.
pub fn oncall(
    path: &Path,
    at: Option<chrono::DateTime<chrono::Utc>>,
    days: u32,
) -> Result<(), CliError> {
    let (_, config) = load_config(path)?;
    let at = at.unwrap_or_else(|| SystemClock.now());
    print!("{}", oncall_listing::listing(&config.oncall, at, days));
    Ok(())
}

/// The region name for local runs: the config's, else `local`.
fn local_region(config: &Config) -> String {
    config
        .probe
        .region
        .clone()
        .unwrap_or_else(|| "local".into())
}

fn open_store(db: Option<&Path>, clock: Arc<dyn Clock>) -> Result<Arc<dyn Store>, CliError> {
    Ok(match db {
        Some(path) => Arc::new(SqliteStore::open(path, clock).map_err(CliError::other)?),
        None => Arc::new(SqliteStore::in_memory(clock).map_err(CliError::other)?),
    })
}

/// `sitrep probe`: one cycle, printed as a table.
pub async fn probe_once(path: &Path, db: Option<&Path>) -> Result<(), CliError> {
    let (_, config) = load_config(path)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = open_store(db, Arc::clone(&clock))?;
    let region = local_region(&config);
    let budget = config
        .checks
        .iter()
        .map(|c| c.timeout)
        .max()
        .unwrap_or_default()
        + shared::probe::cycle::STORE_MARGIN
        + Duration::from_secs(1);
    let prober = Prober::new(Arc::new(config), store, clock, region).map_err(CliError::other)?;
    let report = prober.run_cycle(tokio::time::Instant::now() + budget).await;
    print!("{}", render::cycle_table(&report));
    if !report.errors.is_empty() {
        return Err(CliError::Other(report.errors.join("\n")));
    }
    Ok(())
}

/// `sitrep run`: the probe loop on the embedded store until Ctrl-C (or `cycles` cycles).
pub async fn run(
    path: &Path,
    db: &Path,
    interval: Duration,
    cycles: Option<u64>,
) -> Result<(), CliError> {
    let (_, config) = load_config(path)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // Kept concrete: on AWS DynamoDB's TTL sweeper removes expired items, here we do.
    let sqlite = Arc::new(SqliteStore::open(db, Arc::clone(&clock)).map_err(CliError::other)?);
    let store: Arc<dyn Store> = sqlite.clone();
    let region = local_region(&config);
    println!(
        "sitrep: probing {} check(s) of {} every {} from region `{region}`; state in {} (Ctrl-C stops)",
        config.checks.len(),
        config.service.name,
        shared::probe::runner::seconds(interval),
        db.display()
    );
    let config = Arc::new(config);
    let mentions = match config.accounts.is_empty() {
        true => None,
        false => {
            println!(
                "sitrep: polling {} social account(s); credentials from SITREP_SECRET_* variables",
                config.accounts.len()
            );
            Some(mention_cycle(Arc::clone(&config), Arc::clone(&store), Arc::clone(&clock)).await?)
        }
    };
    let responder = match config.accounts.is_empty() {
        true => None,
        false => {
            println!(
                "sitrep: replies are {} (`[replies] mode`); handoffs print here",
                match config.replies.mode {
                    shared::config::ReplyMode::Live => "posted",
                    shared::config::ReplyMode::DryRun => "recorded, not posted (dry run)",
                }
            );
            Some(responder(
                Arc::clone(&config),
                Arc::clone(&store),
                Arc::clone(&clock),
            )?)
        }
    };
    let (site, key) =
        local_site(Arc::clone(&config), Arc::clone(&store), Arc::clone(&clock)).await?;
    let paging = match config.oncall.people.is_empty() {
        true => None,
        false => Some(local_pager(
            Arc::clone(&config),
            Arc::clone(&store),
            Arc::clone(&clock),
            &site,
            &key,
        )?),
    };
    let mut stream = match responder.is_some() || paging.is_some() {
        true => Some(
            LocalStream::open(Arc::clone(&sqlite))
                .await
                .map_err(CliError::other)?,
        ),
        false => None,
    };
    let mut shown_pages = 0usize;
    let prober = Prober::new(Arc::clone(&config), store, Arc::clone(&clock), region)
        .map_err(CliError::other)?;
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut done = 0u64;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = tokio::signal::ctrl_c() => break,
        }
        // A cycle must end before the next one starts, exactly as in Lambda.
        let report = prober
            .run_cycle(tokio::time::Instant::now() + interval)
            .await;
        print!("{}", render::cycle_line(&report, clock.now()));
        for error in &report.errors {
            eprintln!("  error: {error}");
        }
        if let Some(mentions) = &mentions {
            let report = mentions.run(tokio::time::Instant::now() + interval).await;
            print!("{}", render::mentions_lines(&report));
            for error in &report.errors {
                eprintln!("  error: {error}");
            }
        }
        if let Some(stream) = &mut stream {
            let pager = paging.as_ref().map(|p| &p.pager);
            match stream
                .deliver(
                    responder.as_ref(),
                    pager,
                    tokio::time::Instant::now() + interval,
                )
                .await
            {
                Ok((replies, pages)) => {
                    print!("{}", render::reply_lines(&replies));
                    for error in replies.errors.iter().chain(&pages.errors) {
                        eprintln!("  error: {error}");
                    }
                }
                Err(error) => eprintln!("  error: reading the change feed: {error}"),
            }
            if let Some(paging) = &paging {
                let sent = paging.notifier.sent();
                for message in sent.iter().skip(shown_pages) {
                    print!("{}", render::page_line(message));
                }
                shown_pages = sent.len();
            }
        }
        if let Err(error) = sqlite.purge_expired().await {
            eprintln!("  error: purging expired results: {error}");
        }
        done += 1;
        if cycles.is_some_and(|n| done >= n) {
            break;
        }
    }
    Ok(())
}

/// The status site on 127.0.0.1 (`SITREP_HTTP_PORT`, or any free port): the status page,
/// its APIs, X's webhook and the pages' acknowledgement links, checked with the returned key.
async fn local_site(
    config: Arc<Config>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
) -> Result<(SiteServer, Vec<u8>), CliError> {
    let random = SeededRandom::from_entropy();
    // A fresh key per run: links from an earlier run stop working, as after a key rotation.
    let key: Vec<u8> = (0..4)
        .flat_map(|_| random.next_u64().to_le_bytes())
        .collect();
    let port = match std::env::var("SITREP_HTTP_PORT") {
        Ok(text) => text.parse::<u16>().map_err(|_| {
            CliError::Other(format!("SITREP_HTTP_PORT is not a port number: {text:?}"))
        })?,
        Err(_) => 0,
    };
    let site = StatusSite::new(
        Arc::clone(&store),
        Arc::clone(&clock),
        AckKey::new(&key).map_err(CliError::other)?,
        XWebhook::new(store, clock, Arc::new(EnvironmentSecrets::new())),
    );
    let server = SiteServer::start(Arc::new(site), config, ([127, 0, 0, 1], port).into())
        .await
        .map_err(CliError::other)?;
    println!("sitrep: status page at {}/", server.url());
    Ok((server, key))
}

/// The local pager: texts and emails print to the console instead of going through SNS,
/// and acknowledgement links point at the local status site.
struct LocalPaging {
    pager: Pager,
    notifier: ConsoleNotifier,
}

fn local_pager(
    config: Arc<Config>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    site: &SiteServer,
    key: &[u8],
) -> Result<LocalPaging, CliError> {
    let notifier = ConsoleNotifier::new();
    println!(
        "sitrep: paging {} people; pages print here, acknowledgement links at {}",
        config.oncall.people.len(),
        site.ack_base()
    );
    let pager = Pager::new(
        config,
        store,
        clock,
        Arc::new(notifier.clone()),
        Arc::new(SeededRandom::from_entropy()),
        Some(AckLinks {
            key: Arc::new(AckKey::new(key).map_err(CliError::other)?),
            base: site.ack_base(),
        }),
    );
    Ok(LocalPaging { pager, notifier })
}

/// What local services' clients share: HTTP with the default retries, the store, the clock
/// and fresh randomness.
fn local_deps(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Result<ClientDeps, CliError> {
    let random: Arc<dyn Random> = Arc::new(SeededRandom::from_entropy());
    Ok(ClientDeps {
        transport: Transport::new(RetryPolicy::default(), Arc::clone(&random))
            .map_err(CliError::other)?,
        store,
        clock,
        random,
    })
}

/// The mentions service for local runs: secrets from `SITREP_SECRET_*` variables.
async fn mention_cycle(
    config: Arc<Config>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
) -> Result<MentionCycle, CliError> {
    let deps = local_deps(store, clock)?;
    Ok(MentionCycle::new(config, Arc::new(EnvironmentSecrets::new()), deps).await)
}

/// The reply service for local runs: secrets from `SITREP_SECRET_*` variables, handoffs
/// to the terminal.
fn responder(
    config: Arc<Config>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
) -> Result<Responder, CliError> {
    let deps = local_deps(store, clock)?;
    let random = Arc::clone(&deps.random);
    Ok(Responder::new(
        config,
        Arc::new(EnvironmentSecrets::new()),
        deps,
        random,
        Arc::new(LogSupport::new()),
    ))
}

/// The classifier with a config's components and extra lexicon, or the bare built-in one.
fn classifier(config: Option<&Path>) -> Result<Classifier, CliError> {
    Ok(match config {
        Some(path) => {
            let (_, config) = load_config(path)?;
            Classifier::with_lexicon(&config.components, &config.mentions.lexicon)
        }
        None => Classifier::new(&[]),
    })
}

/// `sitrep classify TEXT`: how sitrep reads one post, with the components of `config`.
pub fn classify_text(config: Option<&Path>, text: &str) -> Result<(), CliError> {
    let classification = classifier(config)?.classify(text, None);
    println!(
        "intent {} (confidence {:.2}), language {}, component {}",
        classification.intent,
        classification.confidence,
        classification.lang,
        classification
            .component
            .as_ref()
            .map_or("-", |c| c.as_str())
    );
    Ok(())
}

/// `sitrep classify --labelled FILE`: precision and recall per intent on a labelled set,
/// failing when outage reports miss their targets (precision 0.95, recall 0.90).
pub fn evaluate_labelled(labelled: &Path, config: Option<&Path>) -> Result<(), CliError> {
    let text = std::fs::read_to_string(labelled).map_err(|e| CliError::Read {
        path: labelled.display().to_string(),
        reason: e.to_string(),
    })?;
    let set = parse_labelled(&text)
        .map_err(|e| CliError::Other(format!("{}: {e}", labelled.display())))?;
    let evaluation = evaluate(&classifier(config)?, &set);
    print!("{evaluation}");
    let (precision, recall) = (
        evaluation.precision(Intent::OutageReport),
        evaluation.recall(Intent::OutageReport),
    );
    if precision < 0.95 || recall < 0.90 {
        return Err(CliError::Other(format!(
            "outage_report misses its targets: precision {precision:.3} (needs 0.95), recall {recall:.3} (needs 0.90)"
        )));
    }
    Ok(())
}

/// `sitrep config push`: validate, then store the text in the deployed table.
pub async fn push_config(path: &Path, table: &str) -> Result<(), CliError> {
    let (text, config) = load_config(path)?;
    let aws = shared::aws::sdk_config().await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = shared::store::dynamodb::DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        table,
        Arc::clone(&clock),
    );
    let who = std::env::var("USER").unwrap_or_else(|_| "sitrep".into());
    let version = shared::config::deployed::push(&store, &text, &who, clock.now())
        .await
        .map_err(CliError::other)?;
    println!(
        "pushed {} ({} checks) to table {table} as version {version}; the probe picks it up on its next cycle",
        path.display(),
        config.checks.len()
    );
    Ok(())
}

/// Where `sitrep report` reads from.
#[derive(Debug, Clone)]
pub enum ReportSource {
    /// The local runner's SQLite file.
    Local(std::path::PathBuf),
    /// The deployed table.
    Table(String),
}

/// `sitrep report`: time to first response (p50/p90/p99), SLA compliance, replies,
/// follow-ups and handoffs over the last `since`, per platform and component.
pub async fn report(
    source: &ReportSource,
    since: Duration,
    sla: Option<Duration>,
    config: Option<&Path>,
) -> Result<(), CliError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store: Arc<dyn Store> = match source {
        ReportSource::Local(path) => {
            if !path.exists() {
                return Err(CliError::Other(format!(
                    "{} does not exist: `sitrep run` writes it",
                    path.display()
                )));
            }
            Arc::new(SqliteStore::open(path, Arc::clone(&clock)).map_err(CliError::other)?)
        }
        ReportSource::Table(table) => {
            let aws = shared::aws::sdk_config().await;
            Arc::new(shared::store::dynamodb::DynamoStore::new(
                aws_sdk_dynamodb::Client::new(&aws),
                table,
                Arc::clone(&clock),
            ))
        }
    };
    let sla = match (sla, config) {
        (Some(sla), _) => sla,
        (None, Some(path)) => load_config(path)?.1.replies.sla,
        (None, None) => shared::config::ReplySettings::default().sla,
    };
    let now = clock.now();
    let since = now - chrono::Duration::from_std(since).map_err(CliError::other)?;
    let report = shared::reply::response::report(
        store.as_ref(),
        since,
        now,
        chrono::Duration::from_std(sla).map_err(CliError::other)?,
    )
    .await
    .map_err(CliError::other)?;
    println!("{report}");
    Ok(())
}

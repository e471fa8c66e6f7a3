//! One run of the mentions service, as the `poll-mentions` function and `sitrep run` do it
//! every minute: every configured account polled concurrently, then the surge rules.
//!
//! Clients are built once and kept (a warm Lambda reuses them and their connections). An
//! account whose client could not be built (its secret missing or malformed) is reported
//! on every run and tried again, so a fixed secret is picked up without a cold start, and
//! one broken account never stops the others.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::classify::Classifier;
use super::poll::{AccountReport, PollContext, poll_account};
use super::surge::{self, SurgeChange};
use crate::clock::Clock;
use crate::config::{Config, SocialAccount};
use crate::secrets::SecretSource;
use crate::social::SocialClient;
use crate::social::connect::{ClientDeps, connect};

/// Time kept after the polls for the surge rules and the reply.
pub const SURGE_MARGIN: Duration = Duration::from_secs(5);

/// What one run did.
#[derive(Debug)]
pub struct CycleReport {
    /// One report per account that was polled, in config order.
    pub accounts: Vec<AccountReport>,
    /// Accounts that could not be polled because their client could not be built.
    pub unconnected: Vec<String>,
    /// What the surge rules changed.
    pub surges: Vec<SurgeChange>,
    /// Everything that went wrong, in words.
    pub errors: Vec<String>,
}

/// The mentions service with its clients built.
pub struct MentionCycle {
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
    classifier: Classifier,
    secrets: Arc<dyn SecretSource>,
    deps: ClientDeps,
    clients: Vec<Mutex<Option<Arc<dyn SocialClient>>>>,
}

impl MentionCycle {
    /// Builds the service and a client per account (failures are kept and retried on
    /// every run).
    pub async fn new(
        config: Arc<Config>,
        secrets: Arc<dyn SecretSource>,
        deps: ClientDeps,
    ) -> Self {
        let classifier = Classifier::with_lexicon(&config.components, &config.mentions.lexicon);
        let mut clients = Vec::with_capacity(config.accounts.len());
        for account in &config.accounts {
            clients.push(Mutex::new(
                connect(account, secrets.as_ref(), &deps).await.ok(),
            ));
        }
        Self {
            clock: Arc::clone(&deps.clock),
            config,
            classifier,
            secrets,
            deps,
            clients,
        }
    }

    /// The configuration it runs.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Polls every account, then applies the surge rules; everything ends by `deadline`.
    pub async fn run(&self, deadline: Instant) -> CycleReport {
        let poll_deadline = deadline
            .checked_sub(SURGE_MARGIN)
            .filter(|d| *d > Instant::now())
            .unwrap_or(deadline);
        let mut errors = Vec::new();
        let mut unconnected = Vec::new();
        let mut ready: Vec<(&SocialAccount, Arc<dyn SocialClient>)> = Vec::new();
        for (account, slot) in self.config.accounts.iter().zip(&self.clients) {
            let mut client = slot.lock().await;
            if client.is_none() {
                match connect(account, self.secrets.as_ref(), &self.deps).await {
                    Ok(built) => *client = Some(built),
                    Err(e) => {
                        errors.push(e.to_string());
                        unconnected.push(account.id.to_string());
                    }
                }
            }
            if let Some(client) = client.as_ref() {
                ready.push((account, Arc::clone(client)));
            }
        }
        let context = PollContext {
            store: self.deps.store.as_ref(),
            clock: self.clock.as_ref(),
            classifier: &self.classifier,
            settings: &self.config.mentions,
        };
        let mut accounts: Vec<(usize, AccountReport)> =
            futures::stream::iter(ready.iter().enumerate())
                .map(|(i, (account, client))| async move {
                    (
                        i,
                        poll_account(context, account, client.as_ref(), poll_deadline).await,
                    )
                })
                .buffer_unordered(self.config.mentions.concurrency)
                .collect()
                .await;
        accounts.sort_by_key(|(i, _)| *i);
        let accounts: Vec<AccountReport> = accounts.into_iter().map(|(_, r)| r).collect();
        for report in &accounts {
            if report.outcome.is_failure() {
                errors.push(format!(
                    "{} ({}): {}",
                    report.account, report.platform, report.outcome
                ));
            }
        }
        let surges = match tokio::time::timeout_at(
            deadline,
            surge::evaluate(self.deps.store.as_ref(), &self.config, self.clock.now()),
        )
        .await
        {
            Ok(Ok(changes)) => changes,
            Ok(Err(e)) => {
                errors.push(format!("surge rules: {e}"));
                Vec::new()
            }
            Err(_) => {
                errors
                    .push("surge rules: the deadline came first; they run again next time".into());
                Vec::new()
            }
        };
        CycleReport {
            accounts,
            unconnected,
            surges,
            errors,
        }
    }
}

//! The escalation engine: an opened incident pages step 1 at once; a sweep every minute
//! pages the next step when the current one's delay passes without an acknowledgement, and
//! runs the policy again `repeat` times; an acknowledgement stops it; resolution tells
//! everyone who was paged.
//!
//! # At most once, and never silently nobody
//!
//! - An incident's escalation starts with a conditional create of its `PAGING` record, so a
//!   replayed stream record starts nothing twice.
//! - Each (incident, step, round) is claimed with a conditional create of its `PAGE` record
//!   *before* anything is published. Whoever loses the claim (a replayed record, an
//!   overlapping sweep) publishes nothing and only catches the escalation record up.
//! - Each recipient in a claim moves `waiting → sending → sent | failed` by versioned writes,
//!   so a low-urgency page that waited for working hours is released by exactly one sweep.
//! - A publish that *may* have reached SNS is never repeated. If a run dies between claim and
//!   publish, the page is lost rather than doubled; the step's delay then runs out and the
//!   next step is paged, which is what escalation is for.
//! - A step that reaches nobody (a gap in every schedule it names, or every delivery refused)
//!   escalates at once instead of waiting out its delay.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Contact, OnCall, Person, Target, Urgency, token};
use crate::clock::Clock;
use crate::config::{ComponentId, Config, PersonId, PolicyId};
use crate::incident::{self, Incident, IncidentPhase};
use crate::notify::{self, Message, MessageKind, Notifier, NotifyError};
use crate::random::Random;
use crate::store::{Created, ItemChange, NewItem, Query, Store, StoreError, keys, once};

/// Claims and codes are kept this long.
const CLAIM_RETENTION: chrono::Duration = chrono::Duration::days(90);
/// A short code names its incident for this long.
const CODE_RETENTION: chrono::Duration = chrono::Duration::days(30);
/// Attempts at a versioned write before giving up on contention.
const WRITE_ATTEMPTS: usize = 8;
/// How long one delivery of an inbound text may hold it before a retry takes it over (the
/// asynchronous invocation's own retries come a minute or more later).
const SMS_LEASE: chrono::Duration = chrono::Duration::seconds(30);

/// How an acknowledgement arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AckVia {
    /// The link in a page.
    Link,
    /// An SMS reply (`ack 1234`).
    Sms,
    /// The local runner.
    Console,
}

impl AckVia {
    /// The name in logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            AckVia::Link => "link",
            AckVia::Sms => "sms",
            AckVia::Console => "console",
        }
    }
}

/// Who owned an incident, from when, and how they said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// The person.
    pub by: PersonId,
    /// When.
    pub at: DateTime<Utc>,
    /// Through what.
    pub via: AckVia,
}

/// Where an escalation stands: the step and round paged last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Position {
    /// Round of the policy, from 0 (`repeat` more after the first).
    pub round: u32,
    /// Step in the policy, from 0.
    pub step: usize,
}

/// An incident's escalation (`INCIDENT#<id>` / `PAGING`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Escalation {
    /// The incident.
    pub incident: String,
    /// Its component, if any.
    pub component: Option<ComponentId>,
    /// One line for people.
    pub title: String,
    /// The policy followed.
    pub policy: PolicyId,
    /// How hard it pushes.
    pub urgency: Urgency,
    /// The short code SMS replies name.
    pub code: String,
    /// When the incident opened: the "since" of every page and the start of time-to-page.
    pub opened_at: DateTime<Utc>,
    /// When paging started.
    pub started_at: DateTime<Utc>,
    /// The step and round paged last; `None` before the first page.
    pub position: Option<Position>,
    /// When the sweep pages the next step; `None` once acknowledged, resolved or exhausted.
    pub next_at: Option<DateTime<Utc>>,
    /// Who owned it.
    pub acknowledged: Option<Acknowledgement>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Every step of every round was paged and nobody acknowledged.
    #[serde(default)]
    pub exhausted: bool,
    /// How many times the incident reopened after its escalation was resolved: each
    /// reopening pages afresh, under claims of its own.
    #[serde(default)]
    pub generation: u32,
    /// The version of the incident record whose resolution stopped it: only a later version
    /// that is open again restarts it (a replayed older record does not).
    #[serde(default)]
    pub resolved_version: Option<u64>,
}

/// What happened to one recipient of a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Delivery {
    /// Low urgency, outside the person's working hours: released by the sweep at `until`.
    Waiting {
        /// The start of their working hours.
        until: DateTime<Utc>,
    },
    /// Claimed for publishing; if a run died here, the page is not repeated.
    Sending {
        /// Since when.
        since: DateTime<Utc>,
    },
    /// Published to at least one contact (or possibly published: never repeated).
    Sent {
        /// When.
        at: DateTime<Utc>,
        /// The provider's message ids.
        receipts: Vec<String>,
    },
    /// Every contact refused or stayed unreachable through the retries.
    Failed {
        /// When.
        at: DateTime<Utc>,
        /// Why.
        reason: String,
    },
    /// Not sent: the incident was acknowledged or resolved, or escalated past it, first.
    Dropped,
}

/// One recipient of a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// Who.
    pub person: PersonId,
    /// What happened.
    pub delivery: Delivery,
}

/// One step of one round paged (`PAGE#<incident>#<step>#<round>`), or the "resolved"
/// messages (`PAGE#<incident>#RESOLVED`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageClaim {
    /// The incident.
    pub incident: String,
    /// Which step and round; `None` for the resolved messages.
    pub position: Option<Position>,
    /// When it was claimed.
    pub claimed_at: DateTime<Utc>,
    /// Who, in target order; empty is a gap.
    pub recipients: Vec<Recipient>,
}

/// The outcome of an acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckOutcome {
    /// This acknowledgement stopped the escalation.
    Acknowledged,
    /// Someone had already.
    AlreadyAcknowledged {
        /// Who.
        by: PersonId,
    },
    /// The incident is over.
    Resolved,
    /// The incident was never paged (unknown, or routed to nobody).
    NotPaged,
}

/// Something the engine did, for the log, metrics and the demo's timeline.
#[derive(Debug, Clone, PartialEq)]
pub enum PagingEvent {
    /// A person was paged (or told of the resolution) through their contacts.
    Paged {
        /// Incident.
        incident: String,
        /// Who.
        person: PersonId,
        /// Page or resolved.
        kind: MessageKind,
        /// Step and round (`None` for resolved messages).
        position: Option<Position>,
        /// Published when.
        at: DateTime<Utc>,
        /// From the incident's opening to this page.
        since_opened: chrono::Duration,
    },
    /// A low-urgency page waits for the person's working hours.
    Deferred {
        /// Incident.
        incident: String,
        /// Who.
        person: PersonId,
        /// Until when.
        until: DateTime<Utc>,
    },
    /// Nobody could be reached for a step: it escalates at once.
    Unreachable {
        /// Incident.
        incident: String,
        /// Which step.
        position: Position,
        /// Why (a gap, or the delivery errors).
        reason: String,
    },
    /// Every step of every round was paged and nobody acknowledged.
    Exhausted {
        /// Incident.
        incident: String,
    },
    /// Someone owned the incident.
    Acknowledged {
        /// Incident.
        incident: String,
        /// Who, when, how.
        acknowledgement: Acknowledgement,
        /// From opening to acknowledgement.
        since_opened: chrono::Duration,
    },
    /// An incident's routing pages nobody (no policy for it).
    NotRouted {
        /// Incident.
        incident: String,
    },
    /// An inbound text was answered.
    TextAnswered {
        /// Who sent it.
        person: PersonId,
        /// What they asked.
        command: String,
    },
}

/// Why the engine could not finish a piece of work; the stream record is retried.
#[derive(Debug, thiserror::Error)]
pub enum PagingError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The config names a policy that does not exist (a config changed under an incident).
    #[error("incident {incident}: escalation policy `{policy}` is not in the configuration")]
    UnknownPolicy {
        /// Incident.
        incident: String,
        /// Policy.
        policy: PolicyId,
    },
    /// A record changed under us more often than we retried.
    #[error("{0} kept changing under contention")]
    Contention(String),
}

/// What one invocation did.
#[derive(Debug, Default)]
pub struct PagingReport {
    /// Stream record ids to report as batch item failures.
    pub failed: Vec<String>,
    /// What happened, in order.
    pub events: Vec<PagingEvent>,
    /// Errors that did not fail a record (a page that could not be delivered).
    pub errors: Vec<String>,
}

/// Where acknowledgement links point, and the key that signs them.
#[derive(Clone)]
pub struct AckLinks {
    /// The HMAC key.
    pub key: Arc<token::AckKey>,
    /// The link base, ending in `/ack` (no trailing slash).
    pub base: String,
}

impl std::fmt::Debug for AckLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AckLinks")
            .field("base", &self.base)
            .finish()
    }
}

/// The paging service: what the `page` function and the local runner call.
pub struct Pager {
    config: Arc<Config>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    notifier: Arc<dyn Notifier>,
    random: Arc<dyn Random>,
    links: Option<AckLinks>,
    retry: notify::RetryPolicy,
}

impl Pager {
    /// A pager over these ports. Without `links`, pages carry only the SMS code.
    pub fn new(
        config: Arc<Config>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        notifier: Arc<dyn Notifier>,
        random: Arc<dyn Random>,
        links: Option<AckLinks>,
    ) -> Self {
        Self {
            config,
            store,
            clock,
            notifier,
            random,
            links,
            retry: notify::RetryPolicy::default(),
        }
    }

    /// The same pager with another retry policy for publishing.
    pub fn with_retry(mut self, retry: notify::RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The configuration it pages by.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn oncall(&self) -> &OnCall {
        &self.config.oncall
    }

    /// Handles a batch of table changes: incident records opened, confirmed or resolved.
    /// Other changes are ignored; a change that fails is named in `failed`.
    pub async fn handle(&self, changes: &[ItemChange]) -> PagingReport {
        let mut report = PagingReport::default();
        for change in changes {
            if let Err(e) = self.handle_change(change, &mut report).await {
                tracing::error!(record = %change.id, error = %e, "paging failed for a record");
                report.errors.push(format!("{}: {e}", change.id));
                report.failed.push(change.id.clone());
            }
        }
        report
    }

    async fn handle_change(
        &self,
        change: &ItemChange,
        report: &mut PagingReport,
    ) -> Result<(), PagingError> {
        if !is_incident_record(&change.key) {
            return Ok(());
        }
        let Some(item) = &change.new else {
            return Ok(());
        };
        let incident: Incident = item.decode()?;
        match incident.phase {
            IncidentPhase::Open => self.start(&incident, Some(item.version), report).await,
            IncidentPhase::Resolved => self.resolve(&incident.id, Some(item.version), report).await,
        }
    }

    /// Starts paging for an open incident (idempotent: an escalation already started is
    /// only caught up). `version` is the incident record's: an incident reopened after its
    /// escalation was resolved (a later version, open again) is paged afresh.
    pub async fn start(
        &self,
        incident: &Incident,
        version: Option<u64>,
        report: &mut PagingReport,
    ) -> Result<(), PagingError> {
        if incident.suspected && !self.oncall().page_suspected {
            return Ok(());
        }
        let key = keys::escalation(&incident.id);
        let existing = self.store.get(&key).await?;
        if let Some(item) = &existing {
            self.reopen(item, incident, version).await?;
        }
        if existing.is_none() {
            let Some(routing) = self.oncall().routing_of(incident.component.as_ref()) else {
                tracing::warn!(incident = %incident.id, "no escalation policy: nobody is paged");
                report.events.push(PagingEvent::NotRouted {
                    incident: incident.id.clone(),
                });
                return Ok(());
            };
            let now = self.clock.now();
            let code = self.claim_code(&incident.id, now).await?;
            let escalation = Escalation {
                incident: incident.id.clone(),
                component: incident.component.clone(),
                title: incident.title.clone(),
                policy: routing.policy.clone(),
                urgency: routing.urgency,
                code,
                opened_at: incident.opened_at,
                started_at: now,
                position: None,
                next_at: Some(now),
                acknowledged: None,
                resolved_at: None,
                exhausted: false,
                generation: 0,
                resolved_version: None,
            };
            // The index entry first: an escalation the sweep cannot see would never escalate.
            self.watch(&incident.id).await?;
            if self
                .store
                .create(NewItem::encode(key, &escalation)?)
                .await?
                == Created::Yes
            {
                tracing::info!(incident = %incident.id, policy = %escalation.policy, code = %escalation.code, "paging started");
            }
        }
        self.advance(&incident.id, report).await
    }

    /// Restarts a resolved escalation when its incident record is open again in a version
    /// later than the one that resolved it.
    async fn reopen(
        &self,
        item: &crate::store::Item,
        incident: &Incident,
        version: Option<u64>,
    ) -> Result<(), PagingError> {
        let escalation: Escalation = item.decode()?;
        let reopened = match (escalation.resolved_at, escalation.resolved_version, version) {
            (Some(_), Some(resolved), Some(now_at)) => now_at > resolved,
            _ => false,
        };
        if !reopened {
            return Ok(());
        }
        let now = self.clock.now();
        let restarted = Escalation {
            title: incident.title.clone(),
            started_at: now,
            position: None,
            next_at: Some(now),
            acknowledged: None,
            resolved_at: None,
            exhausted: false,
            generation: escalation.generation + 1,
            resolved_version: None,
            ..escalation
        };
        self.watch(&incident.id).await?;
        // A racing restart of the same reopening loses the version check and finds the
        // escalation running.
        match self
            .store
            .update(
                NewItem::encode(keys::escalation(&incident.id), &restarted)?,
                item.version,
            )
            .await
        {
            Ok(_) => {
                tracing::warn!(incident = %incident.id, generation = restarted.generation, "incident reopened: paging again");
                Ok(())
            }
            Err(StoreError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Puts an escalation in the sweep's index.
    async fn watch(&self, incident: &str) -> Result<(), PagingError> {
        self.store
            .put(NewItem::new(
                keys::escalation_index(incident),
                serde_json::Map::new(),
            ))
            .await?;
        Ok(())
    }

    /// A short code no live incident uses: four digits, five if four keep colliding.
    async fn claim_code(&self, incident: &str, now: DateTime<Utc>) -> Result<String, PagingError> {
        for attempt in 0..40u32 {
            let code = if attempt < 20 {
                format!("{:04}", 1000 + self.random.up_to(8999))
            } else {
                format!("{:05}", 10000 + self.random.up_to(89999))
            };
            let mut attributes = serde_json::Map::new();
            attributes.insert("incident".into(), incident.into());
            let item =
                NewItem::new(keys::short_code(&code), attributes).expiring_at(now + CODE_RETENTION);
            if self.store.create(item).await? == Created::Yes {
                return Ok(code);
            }
        }
        Err(PagingError::Contention("the short codes".into()))
    }

    /// Pages every step that is due, in order, until one is waiting for its delay (or the
    /// escalation is over). Bounded by the policy's length.
    async fn advance(&self, incident: &str, report: &mut PagingReport) -> Result<(), PagingError> {
        let key = keys::escalation(incident);
        let mut budget = 64usize;
        loop {
            budget = budget.saturating_sub(1);
            if budget == 0 {
                return Err(PagingError::Contention(format!("escalation of {incident}")));
            }
            let Some(item) = self.store.get(&key).await? else {
                return Ok(());
            };
            let escalation: Escalation = item.decode()?;
            let now = self.clock.now();
            if escalation.acknowledged.is_some()
                || escalation.resolved_at.is_some()
                || escalation.exhausted
            {
                self.store.delete(&keys::escalation_index(incident)).await?;
                return Ok(());
            }
            if let Some(position) = escalation.position {
                self.release_due(&escalation, position, report).await?;
            }
            let Some(next_at) = escalation.next_at else {
                return Ok(());
            };
            if next_at > now {
                return Ok(());
            }
            let policy = self.oncall().policy(&escalation.policy).ok_or_else(|| {
                PagingError::UnknownPolicy {
                    incident: incident.to_owned(),
                    policy: escalation.policy.clone(),
                }
            })?;
            let next = match escalation.position {
                None => Some(Position { round: 0, step: 0 }),
                Some(p) if p.step + 1 < policy.steps.len() => Some(Position {
                    round: p.round,
                    step: p.step + 1,
                }),
                Some(p) if p.round < policy.repeat => Some(Position {
                    round: p.round + 1,
                    step: 0,
                }),
                Some(_) => None,
            };
            let Some(position) = next else {
                let mut over = escalation.clone();
                over.exhausted = true;
                over.next_at = None;
                if self
                    .store
                    .update(NewItem::encode(key.clone(), &over)?, item.version)
                    .await
                    .is_ok()
                {
                    tracing::error!(incident, "escalation exhausted: nobody acknowledged");
                    report.events.push(PagingEvent::Exhausted {
                        incident: incident.to_owned(),
                    });
                    self.store.delete(&keys::escalation_index(incident)).await?;
                }
                continue;
            };
            let step = &policy.steps[position.step];
            let claim = self.claim_step(&escalation, position, now).await?;
            // Catch the escalation up to the claimed step, whoever claimed it.
            let first_delivery = claim
                .recipients
                .iter()
                .map(|r| match r.delivery {
                    Delivery::Waiting { until } => until,
                    _ => claim.claimed_at,
                })
                .min()
                .unwrap_or(claim.claimed_at);
            let delay = chrono::Duration::from_std(step.delay)
                .unwrap_or_else(|_| chrono::Duration::minutes(5));
            let mut moved = escalation.clone();
            moved.position = Some(position);
            moved.next_at = Some(if claim.recipients.is_empty() {
                claim.claimed_at
            } else {
                first_delivery + delay
            });
            match self
                .store
                .update(NewItem::encode(key.clone(), &moved)?, item.version)
                .await
            {
                Ok(_) | Err(StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            if claim.recipients.is_empty() {
                report.events.push(PagingEvent::Unreachable {
                    incident: incident.to_owned(),
                    position,
                    reason: "nobody is on call for this step (a gap in its schedules)".into(),
                });
                continue;
            }
            // Whoever made the claim, its due recipients are sent by whichever run wins the
            // versioned write that marks them sending: a run that died after claiming (its
            // store answer lost, its invocation failed) leaves them for the next one.
            let reached = self.release_due(&moved, position, report).await?;
            if !reached {
                self.escalate_now(incident, position).await?;
            }
        }
    }

    /// Claims (incident, step, round) with its recipients, each waiting until it is due
    /// (now, or a low-urgency person's working hours), or reads the claim someone else made.
    async fn claim_step(
        &self,
        escalation: &Escalation,
        position: Position,
        now: DateTime<Utc>,
    ) -> Result<PageClaim, PagingError> {
        let key = keys::page(
            &escalation.incident,
            escalation.generation,
            position.step,
            position.round,
        );
        if let Some(existing) = self.store.get(&key).await? {
            return Ok(existing.decode()?);
        }
        let people = self.targets_of(escalation, position, now)?;
        let recipients = people
            .into_iter()
            .map(|person| Recipient {
                delivery: Delivery::Waiting {
                    until: match escalation.urgency {
                        Urgency::Low if !person.in_working_hours(now) => {
                            person.next_working_start(now)
                        }
                        _ => now,
                    },
                },
                person: person.id.clone(),
            })
            .collect();
        let claim = PageClaim {
            incident: escalation.incident.clone(),
            position: Some(position),
            claimed_at: now,
            recipients,
        };
        let item = NewItem::encode(key.clone(), &claim)?.expiring_at(now + CLAIM_RETENTION);
        match self.store.create(item).await? {
            Created::Yes => {
                for recipient in &claim.recipients {
                    tracing::info!(incident = %claim.incident, person = %recipient.person, step = position.step, round = position.round, "page claimed");
                }
                Ok(claim)
            }
            // Someone else claimed it between our read and our write: theirs is the claim.
            Created::AlreadyExists => match self.store.get(&key).await? {
                Some(item) => Ok(item.decode()?),
                None => Err(PagingError::Contention(key.to_string())),
            },
        }
    }

    /// The people a step pages at `now`, in target order, each once.
    fn targets_of(
        &self,
        escalation: &Escalation,
        position: Position,
        now: DateTime<Utc>,
    ) -> Result<Vec<&Person>, PagingError> {
        let oncall = self.oncall();
        let policy =
            oncall
                .policy(&escalation.policy)
                .ok_or_else(|| PagingError::UnknownPolicy {
                    incident: escalation.incident.clone(),
                    policy: escalation.policy.clone(),
                })?;
        let mut people: Vec<&Person> = Vec::new();
        for target in &policy.steps[position.step].targets {
            let id = match target {
                Target::Person(id) => Some(id),
                Target::Schedule(schedule) => {
                    oncall.schedule(schedule).and_then(|s| s.on_call_at(now))
                }
            };
            if let Some(person) = id.and_then(|id| oncall.person(id))
                && !people.iter().any(|p| p.id == person.id)
            {
                people.push(person);
            }
        }
        Ok(people)
    }

    /// Whether the incident's escalation was acknowledged or resolved.
    async fn stopped(&self, incident: &str) -> Result<bool, PagingError> {
        Ok(match self.escalation(incident).await? {
            Some(e) => e.acknowledged.is_some() || e.resolved_at.is_some(),
            None => true,
        })
    }

    /// Pages the recipients of a claimed step that are due (waiting until now or earlier):
    /// each moved to `Sending` by a versioned write first, so of the runs that try, one alone
    /// sends it, and a run that died after claiming leaves them to the next. Someone who
    /// acknowledged (or a resolution) in the meantime drops them instead: nobody is woken
    /// for an incident already owned. `true` if anyone was (or may have been) reached, or
    /// still waits for working hours.
    async fn release_due(
        &self,
        escalation: &Escalation,
        position: Position,
        report: &mut PagingReport,
    ) -> Result<bool, PagingError> {
        let key = keys::page(
            &escalation.incident,
            escalation.generation,
            position.step,
            position.round,
        );
        let reached = self
            .release(escalation, &key, MessageKind::Page, report)
            .await?;
        Ok(reached)
    }

    /// Sends `kind` to the due recipients of the claim at `key` (a step's pages, or the
    /// resolution notices), each marked sending by a versioned write first; `true` if anyone
    /// was (or may have been) reached, or still waits. Pages are dropped instead once the
    /// incident is owned or resolved.
    async fn release(
        &self,
        escalation: &Escalation,
        key: &crate::store::Key,
        kind: MessageKind,
        report: &mut PagingReport,
    ) -> Result<bool, PagingError> {
        let key = key.clone();
        let now = self.clock.now();
        let mut reasons = Vec::new();
        for attempt in 0..=WRITE_ATTEMPTS {
            if attempt == WRITE_ATTEMPTS {
                return Err(PagingError::Contention(key.to_string()));
            }
            let Some(item) = self.store.get(&key).await? else {
                return Ok(false);
            };
            let mut claim: PageClaim = item.decode()?;
            let due: Vec<PersonId> = claim
                .recipients
                .iter()
                .filter(|r| matches!(r.delivery, Delivery::Waiting { until } if until <= now))
                .map(|r| r.person.clone())
                .collect();
            if due.is_empty() {
                break;
            }
            let stopped = kind == MessageKind::Page && self.stopped(&escalation.incident).await?;
            for recipient in &mut claim.recipients {
                if due.contains(&recipient.person) {
                    recipient.delivery = if stopped {
                        Delivery::Dropped
                    } else {
                        Delivery::Sending { since: now }
                    };
                }
            }
            let expiry = item
                .expires_at
                .unwrap_or(claim.claimed_at + CLAIM_RETENTION);
            match self
                .store
                .update(
                    NewItem::encode(key.clone(), &claim)?.expiring_at(expiry),
                    item.version,
                )
                .await
            {
                Ok(_) if stopped => return Ok(true),
                Ok(_) => {
                    // Everyone marked sending is paged now or never: a delivery that could
                    // not be recorded must not cost the people after it their page.
                    let mut unrecorded = None;
                    for person in due {
                        let outcome = self.page_person(escalation, &person, kind, report).await;
                        if let Delivery::Failed { reason, .. } = &outcome {
                            reasons.push(format!("{person}: {reason}"));
                        }
                        if let Err(e) = self.record_delivery(&key, &person, outcome).await {
                            unrecorded.get_or_insert(e);
                        }
                    }
                    if let Some(e) = unrecorded {
                        return Err(e);
                    }
                    break;
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let reached = match self.store.get(&key).await? {
            Some(item) => item
                .decode::<PageClaim>()?
                .recipients
                .iter()
                .any(|r| !matches!(r.delivery, Delivery::Failed { .. } | Delivery::Dropped)),
            None => false,
        };
        if !reached
            && !reasons.is_empty()
            && let Some(position) = escalation.position.filter(|_| kind == MessageKind::Page)
        {
            report.events.push(PagingEvent::Unreachable {
                incident: escalation.incident.clone(),
                position,
                reason: reasons.join("; "),
            });
        }
        Ok(reached)
    }

    /// Sets a recipient's delivery in a claim.
    async fn record_delivery(
        &self,
        key: &crate::store::Key,
        person: &PersonId,
        delivery: Delivery,
    ) -> Result<(), PagingError> {
        for _ in 0..WRITE_ATTEMPTS {
            let Some(item) = self.store.get(key).await? else {
                return Ok(());
            };
            let mut claim: PageClaim = item.decode()?;
            let mut changed = false;
            for recipient in &mut claim.recipients {
                if &recipient.person == person {
                    recipient.delivery = delivery.clone();
                    changed = true;
                }
            }
            if !changed {
                return Ok(());
            }
            let expiry = item
                .expires_at
                .unwrap_or(claim.claimed_at + CLAIM_RETENTION);
            match self
                .store
                .update(
                    NewItem::encode(key.clone(), &claim)?.expiring_at(expiry),
                    item.version,
                )
                .await
            {
                Ok(_) => return Ok(()),
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(PagingError::Contention(key.to_string()))
    }

    /// A step reached nobody: the sweep (or this run) pages the next one now.
    async fn escalate_now(&self, incident: &str, position: Position) -> Result<(), PagingError> {
        let key = keys::escalation(incident);
        for _ in 0..WRITE_ATTEMPTS {
            let Some(item) = self.store.get(&key).await? else {
                return Ok(());
            };
            let mut escalation: Escalation = item.decode()?;
            if escalation.position != Some(position) || escalation.next_at.is_none() {
                return Ok(());
            }
            escalation.next_at = Some(self.clock.now());
            match self
                .store
                .update(NewItem::encode(key.clone(), &escalation)?, item.version)
                .await
            {
                Ok(_) => return Ok(()),
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(PagingError::Contention(key.to_string()))
    }

    /// Sends one message to every contact of one person; the delivery to record.
    async fn page_person(
        &self,
        escalation: &Escalation,
        person: &PersonId,
        kind: MessageKind,
        report: &mut PagingReport,
    ) -> Delivery {
        let now = self.clock.now();
        let Some(person) = self.oncall().person(person) else {
            return Delivery::Failed {
                at: now,
                reason: format!("`{person}` is no longer in the configuration"),
            };
        };
        let link = match (&self.links, kind) {
            (Some(links), MessageKind::Page) => {
                let expires = now
                    + chrono::Duration::from_std(self.oncall().ack_ttl)
                        .unwrap_or_else(|_| chrono::Duration::hours(24));
                match token::mint(
                    &*self.store,
                    &links.key,
                    &escalation.incident,
                    &person.id,
                    expires,
                    &*self.random,
                )
                .await
                {
                    Ok(token) => Some(super::ack_route::link(&links.base, &token)),
                    Err(e) => {
                        // The SMS code still works; a page without a link beats no page.
                        tracing::warn!(error = %e, "could not mint an acknowledgement link");
                        None
                    }
                }
            }
            _ => None,
        };
        let mut receipts = Vec::new();
        let mut errors = Vec::new();
        for contact in &person.contacts {
            let message = self.message(escalation, person, contact, kind, link.as_deref());
            match notify::deliver(&*self.notifier, &message, &self.retry, &*self.random).await {
                Ok(receipt) => receipts.push(receipt.message_id),
                Err(NotifyError::Unknown(detail)) => {
                    tracing::warn!(person = %person.id, %detail, "page may have been sent; not repeated");
                    receipts.push(format!("unconfirmed: {detail}"));
                }
                Err(e) => {
                    tracing::error!(person = %person.id, error = %e, "page not delivered");
                    errors.push(e.to_string());
                }
            }
        }
        if receipts.is_empty() {
            let reason = errors.join("; ");
            report.errors.push(format!(
                "{}: {} not reached: {reason}",
                escalation.incident, person.id
            ));
            Delivery::Failed { at: now, reason }
        } else {
            report.events.push(PagingEvent::Paged {
                incident: escalation.incident.clone(),
                person: person.id.clone(),
                kind,
                position: escalation.position,
                at: now,
                since_opened: now - escalation.opened_at,
            });
            Delivery::Sent { at: now, receipts }
        }
    }

    /// The message for one contact.
    fn message(
        &self,
        escalation: &Escalation,
        person: &Person,
        contact: &Contact,
        kind: MessageKind,
        link: Option<&str>,
    ) -> Message {
        let service = &self.config.service.name;
        let local = escalation.opened_at.with_timezone(&person.zone);
        let since = local.format("%H:%M %Z").to_string();
        let code = &escalation.code;
        let (sms, subject, body) = match kind {
            MessageKind::Page => {
                let head = format!("{service}: {} {since}.", escalation.title);
                // The code and the link are never cut; what does not fit is cut from the
                // description, whose full text is in the email.
                let tail = match link {
                    Some(link) => format!("Reply 4 {code} or {link}"),
                    None => format!("Reply 4 {code} to acknowledge"),
                };
                let sms = notify::gsm7::fit(&head, &tail, 160);
                let subject = format!("[{service}] {} (code {code})", escalation.title);
                let mut body = format!(
                    "{service}: {}\n\nIncident: {}\nOpened: {} ({})\nUrgency: {}\n",
                    escalation.title,
                    escalation.incident,
                    escalation.opened_at.format("%Y-%m-%d %H:%M UTC"),
                    local.format("%Y-%m-%d %H:%M %Z"),
                    escalation.urgency.as_str(),
                );
                if let Some(link) = link {
                    body.push_str(&format!("\nAcknowledge: {link}\n"));
                }
                body.push_str(&format!(
                    "Or text `4 {code}` to acknowledge, `6 {code}` to resolve.\nStatus page: {}\n",
                    self.config.service.status_url
                ));
                (sms, subject, body)
            }
            _ => {
                let head = format!("{service}: RESOLVED {}.", escalation.title);
                let sms = notify::gsm7::fit(&head, &format!("Code {code}"), 160);
                let subject = format!("[{service}] Resolved: {}", escalation.title);
                let body = format!(
                    "{service}: {} is resolved.\n\nIncident: {}\nOpened: {}\n",
                    escalation.title,
                    escalation.incident,
                    escalation.opened_at.format("%Y-%m-%d %H:%M UTC"),
                );
                (sms, subject, body)
            }
        };
        Message {
            person: person.id.clone(),
            contact: contact.clone(),
            kind,
            incident: Some(escalation.incident.clone()),
            component: escalation.component.as_ref().map(ToString::to_string),
            urgency: escalation.urgency,
            sms,
            subject,
            body,
        }
    }

    /// Escalates every unacknowledged incident whose step delay has passed, and releases
    /// low-urgency pages whose working hours have begun. Safe to run concurrently with
    /// itself and with the stream handler.
    pub async fn sweep(&self) -> PagingReport {
        let mut report = PagingReport::default();
        let entries = match self
            .store
            .query(&Query::partition(keys::ESCALATION_INDEX))
            .await
        {
            Ok(entries) => entries,
            Err(e) => {
                report.errors.push(format!("escalation index: {e}"));
                return report;
            }
        };
        for entry in entries {
            let incident = entry.key.sk.clone();
            if let Err(e) = self.advance(&incident, &mut report).await {
                tracing::error!(incident, error = %e, "escalation sweep failed");
                report.errors.push(format!("{incident}: {e}"));
            }
        }
        report
    }

    /// Stops paging for a resolved incident and tells everyone who was paged, once.
    /// `version` is the resolved incident record's, when it came from one.
    pub async fn resolve(
        &self,
        incident: &str,
        version: Option<u64>,
        report: &mut PagingReport,
    ) -> Result<(), PagingError> {
        let key = keys::escalation(incident);
        let now = self.clock.now();
        let mut attempts = 0;
        let escalation = loop {
            attempts += 1;
            if attempts > WRITE_ATTEMPTS {
                return Err(PagingError::Contention(key.to_string()));
            }
            let Some(item) = self.store.get(&key).await? else {
                return Ok(());
            };
            let mut escalation: Escalation = item.decode()?;
            if escalation.resolved_at.is_some() {
                break escalation;
            }
            escalation.resolved_at = Some(now);
            escalation.resolved_version = version;
            escalation.next_at = None;
            match self
                .store
                .update(NewItem::encode(key.clone(), &escalation)?, item.version)
                .await
            {
                Ok(_) => break escalation,
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        };
        self.store.delete(&keys::escalation_index(incident)).await?;
        // Say what it turned out to be (a suspected incident the probes confirmed has the
        // probes' title by now).
        let mut escalation = escalation;
        if let Some(current) = incident::load(&*self.store, incident).await? {
            escalation.title = current.title;
        }
        // The notices are claimed as a step's pages are, and sent by whichever run marks each
        // one sending: a run that died after the claim leaves them to the retry.
        let notice = keys::resolved_notice(incident, escalation.generation);
        if self.store.get(&notice).await?.is_none() {
            let paged = self.paged_people(&escalation).await?;
            let claim = PageClaim {
                incident: incident.to_owned(),
                position: None,
                claimed_at: now,
                recipients: paged
                    .into_iter()
                    .map(|person| Recipient {
                        person,
                        delivery: Delivery::Waiting { until: now },
                    })
                    .collect(),
            };
            let item = NewItem::encode(notice.clone(), &claim)?.expiring_at(now + CLAIM_RETENTION);
            self.store.create(item).await?;
        }
        self.release(&escalation, &notice, MessageKind::Resolved, report)
            .await?;
        Ok(())
    }

    /// Everyone a page reached (or may have reached) for this incident, in paging order.
    async fn paged_people(&self, escalation: &Escalation) -> Result<Vec<PersonId>, PagingError> {
        let Some(last) = escalation.position else {
            return Ok(Vec::new());
        };
        let steps = self
            .oncall()
            .policy(&escalation.policy)
            .map_or(last.step + 1, |p| p.steps.len());
        let mut people = Vec::new();
        for round in 0..=last.round {
            for step in 0..steps {
                let position = Position { round, step };
                if position > last {
                    break;
                }
                let Some(item) = self
                    .store
                    .get(&keys::page(
                        &escalation.incident,
                        escalation.generation,
                        step,
                        round,
                    ))
                    .await?
                else {
                    continue;
                };
                for recipient in item.decode::<PageClaim>()?.recipients {
                    // `Sending` stays when the run that paged could not record the delivery
                    // (or died right after): they may have been paged, and must not be left
                    // working on an incident that is over.
                    if matches!(
                        recipient.delivery,
                        Delivery::Sent { .. } | Delivery::Sending { .. }
                    ) && !people.contains(&recipient.person)
                    {
                        people.push(recipient.person);
                    }
                }
            }
        }
        Ok(people)
    }

    /// Acknowledges on behalf of `person` (the SMS path and the local runner).
    pub async fn acknowledge(
        &self,
        incident: &str,
        person: &PersonId,
        via: AckVia,
        report: &mut PagingReport,
    ) -> Result<AckOutcome, PagingError> {
        let now = self.clock.now();
        let outcome = acknowledge(&*self.store, incident, person, via, now).await?;
        if outcome == AckOutcome::Acknowledged
            && let Some(item) = self.store.get(&keys::escalation(incident)).await?
        {
            let escalation: Escalation = item.decode()?;
            report.events.push(PagingEvent::Acknowledged {
                incident: incident.to_owned(),
                acknowledgement: Acknowledgement {
                    by: person.clone(),
                    at: now,
                    via,
                },
                since_opened: now - escalation.opened_at,
            });
        }
        Ok(outcome)
    }

    /// The incident a short code names.
    pub async fn incident_of_code(&self, code: &str) -> Result<Option<String>, PagingError> {
        Ok(self
            .store
            .get(&keys::short_code(code))
            .await?
            .and_then(|item| item.str("incident").map(str::to_owned)))
    }

    /// The current escalation of an incident.
    pub async fn escalation(&self, incident: &str) -> Result<Option<Escalation>, PagingError> {
        Ok(self
            .store
            .get(&keys::escalation(incident))
            .await?
            .map(|item| item.decode())
            .transpose()?)
    }

    /// Handles one inbound text (the SNS message of two-way SMS): acknowledges or resolves
    /// what it names and answers the sender, or answers with help. Each text is handled
    /// once; texts from numbers of nobody in the configuration are logged and not answered,
    /// so the number cannot be used to send texts to strangers.
    pub async fn inbound_sms(
        &self,
        message: &str,
        report: &mut PagingReport,
    ) -> Result<(), PagingError> {
        use super::sms::InboundSms;
        let inbound = match InboundSms::parse(message) {
            Ok(inbound) => inbound,
            Err(e) => {
                // Nothing to answer and nothing a retry would fix.
                tracing::error!(error = %e, "unreadable inbound text");
                report.errors.push(format!("inbound text: {e}"));
                return Ok(());
            }
        };
        let now = self.clock.now();
        let marker = keys::inbound_sms(&inbound.id);
        let kept = now + chrono::Duration::days(7);
        // Claimed with a lease rather than a bare marker: a delivery that died after the
        // marker's write (its answer lost) leaves the text to the retry instead of dropping
        // it. Acknowledging is idempotent; only the answer could go out twice, and only if a
        // holder answered and died before marking it done.
        let once::Claim::Ours(version) = once::claim(
            &*self.store,
            &marker,
            serde_json::Map::new(),
            now,
            SMS_LEASE,
            kept,
        )
        .await?
        else {
            return Ok(());
        };
        self.answer_sms(&inbound, report).await?;
        if let Err(e) = once::finish(&*self.store, &marker, version, kept).await {
            tracing::warn!(error = %e, "inbound text handled but not marked so");
        }
        Ok(())
    }

    /// Acts on one inbound text and answers its sender.
    async fn answer_sms(
        &self,
        inbound: &super::sms::InboundSms,
        report: &mut PagingReport,
    ) -> Result<(), PagingError> {
        use super::sms::{Command, help_text};
        let now = self.clock.now();
        let Some(person) = self.oncall().person_by_phone(&inbound.from).cloned() else {
            // The number itself stays out of the log: it is a stranger's personal data.
            tracing::warn!(message = %inbound.id, "text from a number of nobody on call; not answered");
            return Ok(());
        };
        let service = self.config.service.name.clone();
        let command = Command::parse(&inbound.body);
        let answer = match &command {
            // A text's sender can be forged and its code is four digits; a resolution is
            // public. Only a config that accepts that risk resolves by text.
            Command::Resolve(code) if !self.oncall().sms_resolve => format!(
                "{service}: resolving by text is off. Incident {code} resolves when its checks \
                 recover, or by hand with sitrep. Reply 4 {code} to acknowledge."
            ),
            Command::Ack(code) | Command::Resolve(code) => match self.incident_of_code(code).await?
            {
                None => format!(
                    "{service}: no incident has code {code}. {}",
                    help_text(&service)
                ),
                Some(incident) => {
                    let title = self
                        .escalation(&incident)
                        .await?
                        .map_or_else(|| incident.clone(), |e| e.title);
                    if matches!(command, Command::Ack(_)) {
                        match self
                            .acknowledge(&incident, &person.id, AckVia::Sms, report)
                            .await?
                        {
                            AckOutcome::Acknowledged => format!(
                                "{service}: acknowledged {title}. Escalation stopped. Reply 6 {code} to resolve."
                            ),
                            AckOutcome::AlreadyAcknowledged { by } => {
                                format!("{service}: {title} was already acknowledged by {by}.")
                            }
                            AckOutcome::Resolved => {
                                format!("{service}: {title} is already resolved.")
                            }
                            AckOutcome::NotPaged => {
                                format!("{service}: {title} is not being paged.")
                            }
                        }
                    } else {
                        match incident::resolve_by_hand(&*self.store, &incident, now).await? {
                            Some(_) => {
                                // Owning it is implied by resolving it.
                                self.acknowledge(&incident, &person.id, AckVia::Sms, report)
                                    .await?;
                                format!("{service}: resolved {title}. Everyone paged will be told.")
                            }
                            None => format!("{service}: no incident {incident}."),
                        }
                    }
                }
            },
            Command::Help | Command::Unknown(_) => help_text(&service),
        };
        let Some(phone) = person.phone().cloned() else {
            return Ok(());
        };
        let reply = Message {
            person: person.id.clone(),
            contact: Contact::Sms(phone),
            kind: MessageKind::Reply,
            incident: None,
            component: None,
            urgency: Urgency::High,
            sms: notify::gsm7::fit(&answer, "", 160).trim_end().to_owned(),
            subject: format!("[{service}] reply"),
            body: answer.clone(),
        };
        if let Err(e) = notify::deliver(&*self.notifier, &reply, &self.retry, &*self.random).await {
            report.errors.push(format!("answer to {}: {e}", person.id));
        }
        report.events.push(PagingEvent::TextAnswered {
            person: person.id,
            command: format!("{command:?}"),
        });
        Ok(())
    }
}

/// A watchdog alarm's escalation while it fires (`WATCHDOG#<alarm>` / `STATE`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct WatchdogState {
    /// The escalation's id.
    incident: String,
    /// Whether the alarm is firing.
    firing: bool,
}

impl Pager {
    /// Handles a CloudWatch alarm about sitrep itself (the dead-man switch: cycles stopped,
    /// functions failing): `ALARM` pages the default policy like an incident of the service
    /// as a whole, `OK` resolves it. The page goes out through the same claims, so a
    /// redelivered notification pages nobody twice.
    pub async fn watchdog_alarm(
        &self,
        alarm: &str,
        description: &str,
        state: &str,
        at: DateTime<Utc>,
        report: &mut PagingReport,
    ) -> Result<(), PagingError> {
        let key = keys::watchdog(alarm);
        let current = self.store.get(&key).await?;
        let previous: Option<WatchdogState> = current.as_ref().map(|i| i.decode()).transpose()?;
        match state {
            "ALARM" => {
                let id = match &previous {
                    Some(state) if state.firing => state.incident.clone(),
                    _ => {
                        let slug: String = alarm
                            .chars()
                            .map(|c| {
                                if c.is_ascii_alphanumeric() {
                                    c.to_ascii_lowercase()
                                } else {
                                    '-'
                                }
                            })
                            .take(40)
                            .collect();
                        let id = format!("{}-watchdog-{slug}", at.format("%Y%m%d-%H%M%S"));
                        let state = WatchdogState {
                            incident: id.clone(),
                            firing: true,
                        };
                        let written = crate::store::write_over(
                            &*self.store,
                            NewItem::encode(key.clone(), &state)?,
                            current.as_ref().map(|i| i.version),
                        )
                        .await?;
                        if written.is_some() {
                            id
                        } else {
                            // A concurrent delivery of the same alarm won; follow its id.
                            match self.store.get(&key).await? {
                                Some(item) if item.decode::<WatchdogState>()?.firing => {
                                    item.decode::<WatchdogState>()?.incident
                                }
                                _ => return Err(PagingError::Contention(key.to_string())),
                            }
                        }
                    }
                };
                // The description says what stopped ("No probe cycle completed…"); the id
                // and the email's subject say it is sitrep's own watchdog.
                let title = if description.trim().is_empty() {
                    format!("sitrep alarm {alarm}")
                } else {
                    description.trim().to_owned()
                };
                let incident = Incident {
                    id,
                    component: None,
                    title,
                    phase: IncidentPhase::Open,
                    status: crate::incident::ComponentStatus::Down,
                    reason: Some(alarm.to_owned()),
                    opened_at: at,
                    resolved_at: None,
                    duration_seconds: None,
                    suspected: false,
                };
                self.start(&incident, None, report).await
            }
            "OK" => {
                let Some(state) = previous.filter(|s| s.firing) else {
                    return Ok(());
                };
                self.resolve(&state.incident, None, report).await?;
                let quiet = WatchdogState {
                    incident: state.incident,
                    firing: false,
                };
                if let Some(item) = current {
                    match self
                        .store
                        .update(NewItem::encode(key, &quiet)?, item.version)
                        .await
                    {
                        Ok(_) | Err(StoreError::Conflict { .. }) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(())
            }
            // INSUFFICIENT_DATA: nothing to say to anyone.
            _ => Ok(()),
        }
    }
}

fn is_incident_record(key: &crate::store::Key) -> bool {
    key.pk.starts_with("INCIDENT#") && key.sk == "META"
}

/// Records `person`'s acknowledgement of `incident` at `now`, stopping its escalation.
/// The first acknowledgement wins; later ones learn who owned it.
pub async fn acknowledge(
    store: &dyn Store,
    incident: &str,
    person: &PersonId,
    via: AckVia,
    now: DateTime<Utc>,
) -> Result<AckOutcome, StoreError> {
    let key = keys::escalation(incident);
    for _ in 0..WRITE_ATTEMPTS {
        let Some(item) = store.get(&key).await? else {
            return Ok(AckOutcome::NotPaged);
        };
        let mut escalation: Escalation = item.decode()?;
        if let Some(ack) = &escalation.acknowledged {
            return Ok(AckOutcome::AlreadyAcknowledged { by: ack.by.clone() });
        }
        if escalation.resolved_at.is_some() {
            return Ok(AckOutcome::Resolved);
        }
        escalation.acknowledged = Some(Acknowledgement {
            by: person.clone(),
            at: now,
            via,
        });
        escalation.next_at = None;
        match store
            .update(NewItem::encode(key.clone(), &escalation)?, item.version)
            .await
        {
            Ok(_) => {
                store.delete(&keys::escalation_index(incident)).await?;
                tracing::info!(incident, person = %person, via = via.as_str(), "acknowledged");
                return Ok(AckOutcome::Acknowledged);
            }
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Backend(format!(
        "escalation of {incident} kept changing under contention"
    )))
}

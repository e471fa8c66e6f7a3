//! The reply service as the `acknowledge` function and the local runner run it: changes to
//! the table come in (new mentions, incident changes), jobs are claimed, and every account's
//! outbox is drained within the posting budgets.
//!
//! A change is handled on its own: one that fails (a store error, a malformed item) is
//! reported by its id, so the stream retries it, and never holds up the others. Retrying
//! any change is safe: every decision it makes is a conditional create (the job claims, the
//! handoff claims) and every later step a versioned write.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::budget::{Budget, Reservation};
use super::decide::{StatusPicture, Verdict, is_stale, judge};
use super::decision::Decision;
use super::handoff::{Handoff, HandoffKind, Support};
use super::job::{self, Job, JobKind, JobState, KEPT, LEASE, MentionRef, StoredJob};
use super::response::{self, Outcome, ResponseRecord};
use super::template::{
    Field, Situation, Values, address, customer_time, display_url, incident_reference,
};
use crate::clock::Clock;
use crate::config::{Announce, Config, ReplyMode, SocialAccount};
use crate::incident::{self, Incident, IncidentPhase, human_duration};
use crate::mentions::StoredMention;
use crate::mentions::surge;
use crate::random::Random;
use crate::secrets::SecretSource;
use crate::social::connect::{ClientDeps, connect};
use crate::social::{Attempt, Outgoing, Posted, SocialClient, SocialError};
use crate::store::{Created, ItemChange, Key, NewItem, Query, Store, StoreError, keys};

/// How long a thread sitrep replied in stays closed to further replies.
const THREAD_KEPT: TimeDelta = TimeDelta::days(30);

/// Attempts at a post that failed for certain before a person is asked to post it.
const MAX_ATTEMPTS: u32 = 6;

/// Outbox entries read per query.
const OUTBOX_PAGE: usize = 25;

/// How long a delivery may hold a mention's handoff before publishing it; past that another
/// delivery takes it over.
const HANDOFF_LEASE: TimeDelta = TimeDelta::seconds(20);

/// Reads and versioned writes one claim may take before contention is reported.
const WRITE_ATTEMPTS: usize = 4;

/// The claim on handing one mention to a person.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct HandoffClaim {
    /// Why, as a word.
    reason: String,
    /// Whether the support topic took it (claims made before this field existed were
    /// deleted when publishing failed, so one that stands was published).
    #[serde(default = "claimed_before_leases")]
    published: bool,
    /// Until when its writer may still publish it (claims made before leases had none).
    #[serde(default = "no_lease")]
    lease_until: DateTime<Utc>,
}

fn no_lease() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH
}

fn claimed_before_leases() -> bool {
    true
}

/// Something the service did, for logs, metrics, the CLI and the demo.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyEvent {
    /// A mention was judged.
    Judged {
        /// Its platform's id.
        post: String,
        /// Its author's handle.
        author: String,
        /// What was done.
        outcome: Outcome,
        /// Why, as a word.
        reason: Option<String>,
    },
    /// A post went out (or, in a dry run, was recorded).
    Sent {
        /// Reply, follow-up or update.
        kind: JobKind,
        /// The account.
        account: String,
        /// The customer it answers, if any.
        author: Option<String>,
        /// The text.
        text: String,
        /// Its link (`None` in a dry run).
        url: Option<String>,
        /// Only recorded (dry run).
        dry_run: bool,
        /// Time to first response, for a first reply.
        response_time: Option<TimeDelta>,
        /// Whether that was slower than the SLA.
        sla_breached: bool,
        /// Found on the platform after an ambiguous failure rather than posted now.
        recovered: bool,
    },
    /// Something was given to a person.
    HandedOff {
        /// Why, as a word.
        reason: String,
        /// One line about it.
        summary: String,
    },
    /// An account's outbox waits for its posting budget.
    Waiting {
        /// The account.
        account: String,
        /// Until when.
        until: DateTime<Utc>,
        /// Jobs waiting.
        queued: usize,
    },
    /// A post failed; it is retried or was handed off.
    Failed {
        /// The account.
        account: String,
        /// What happened.
        detail: String,
    },
}

/// What handling one batch of changes did.
#[derive(Debug, Default)]
pub struct BatchReport {
    /// Ids of the changes that failed and must be retried.
    pub failed: Vec<String>,
    /// What happened, in order.
    pub events: Vec<ReplyEvent>,
    /// Everything that went wrong, in words.
    pub errors: Vec<String>,
}

/// The reply service with its clients.
pub struct Responder {
    config: Arc<Config>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn Random>,
    secrets: Arc<dyn SecretSource>,
    support: Arc<dyn Support>,
    deps: ClientDeps,
    clients: Vec<Mutex<Option<Arc<dyn SocialClient>>>>,
}

impl Responder {
    /// The service for `config`; clients are connected when first needed (and again after
    /// a failure), so a broken secret is retried without a restart.
    pub fn new(
        config: Arc<Config>,
        secrets: Arc<dyn SecretSource>,
        deps: ClientDeps,
        random: Arc<dyn Random>,
        support: Arc<dyn Support>,
    ) -> Self {
        let clients = config.accounts.iter().map(|_| Mutex::new(None)).collect();
        Self {
            store: Arc::clone(&deps.store),
            clock: Arc::clone(&deps.clock),
            config,
            random,
            secrets,
            support,
            deps,
            clients,
        }
    }

    /// The configuration it runs.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Handles a batch of table changes, then drains the outboxes until `deadline`.
    pub async fn handle(&self, changes: &[ItemChange], deadline: Instant) -> BatchReport {
        let mut report = BatchReport::default();
        let mut picture = None;
        for change in changes {
            let outcome = if change.key.sk == "MENTION" && change.key.pk.starts_with("MENTION#") {
                self.on_mention_change(change, &mut picture, &mut report.events)
                    .await
            } else if change.key.sk == "META" && change.key.pk.starts_with("INCIDENT#") {
                self.on_incident_change(change).await
            } else {
                Ok(())
            };
            if let Err(e) = outcome {
                tracing::warn!(change = %change.id, key = %change.key, error = %e, "change not handled; it will be retried");
                report.failed.push(change.id.clone());
                report.errors.push(format!("{}: {e}", change.key));
            }
        }
        let drained = self.drain(deadline).await;
        report.events.extend(drained.events);
        report.errors.extend(drained.errors);
        report
    }

    async fn on_mention_change(
        &self,
        change: &ItemChange,
        picture: &mut Option<StatusPicture>,
        events: &mut Vec<ReplyEvent>,
    ) -> Result<(), StoreError> {
        // A mention is created once (version 1); later writes to it are not new mentions.
        let Some(item) = change.new.as_ref().filter(|item| item.version == 1) else {
            return Ok(());
        };
        let mention: StoredMention = item.decode()?;
        self.on_mention(&mention, picture, events).await
    }

    /// Judges one new mention and claims its reply, hands it off, or lets it be.
    ///
    /// The judgement is made once per post and recorded ([`Decision`]); every delivery of
    /// the mention, the first included, carries out the recorded decision. A redelivery an
    /// hour later, after the incident it was answered under resolved, therefore neither
    /// answers it again nor hands it to a person it never needed.
    pub async fn on_mention(
        &self,
        mention: &StoredMention,
        picture: &mut Option<StatusPicture>,
        events: &mut Vec<ReplyEvent>,
    ) -> Result<(), StoreError> {
        let key = keys::decision(mention.platform, &mention.id);
        let decision = match self.store.get(&key).await? {
            Some(item) => item.decode::<Decision>()?,
            None => {
                let decided = self.decide(mention, picture).await?;
                let expires = self.clock.now()
                    + TimeDelta::from_std(self.config.mentions.retention).unwrap_or(KEPT);
                let item = NewItem::encode(key.clone(), &decided)?.expiring_at(expires);
                match self.store.create(item).await? {
                    Created::Yes => decided,
                    // A concurrent delivery decided first: its decision is the one.
                    Created::AlreadyExists => self
                        .store
                        .get(&key)
                        .await?
                        .ok_or_else(|| {
                            StoreError::Backend(format!("{key} vanished right after it was made"))
                        })?
                        .decode()?,
                }
            }
        };
        self.carry_out(mention, &decision, events).await
    }

    /// What the rules, the thread and the live status make of a mention now.
    async fn decide(
        &self,
        mention: &StoredMention,
        picture: &mut Option<StatusPicture>,
    ) -> Result<Decision, StoreError> {
        let now = self.clock.now();
        let Some(account) = self
            .config
            .accounts
            .iter()
            .find(|a| a.id == mention.account)
        else {
            return Ok(Decision::Ignore {
                reason: "unknown_account".into(),
            });
        };
        match judge(mention, account, &self.config, now) {
            Verdict::Ignore(reason) => {
                return Ok(Decision::Ignore {
                    reason: reason.into(),
                });
            }
            Verdict::HandOff(reason) => {
                return Ok(Decision::HandOff {
                    reason: reason.into(),
                });
            }
            Verdict::Answer => {}
        }
        // The thread the post belongs to, and the post itself: sitrep's own answers are
        // marked under both.
        for thread in [
            mention.conversation.as_deref(),
            mention.in_reply_to.as_deref(),
            Some(mention.id.as_str()),
        ]
        .into_iter()
        .flatten()
        {
            if self
                .store
                .get(&keys::thread(mention.platform, thread))
                .await?
                .is_some()
            {
                return Ok(Decision::Covered {
                    reason: "thread_answered".into(),
                });
            }
        }
        if picture.is_none() {
            *picture = Some(StatusPicture::load(self.store.as_ref(), &self.config, now).await?);
        }
        let answer = picture
            .as_ref()
            .map(|p| p.answer(mention.component.as_ref()))
            .expect("the picture was just loaded");
        if answer.situation == Situation::AllClear
            && mention.intent == crate::mentions::classify::Intent::Complaint
        {
            return Ok(Decision::HandOff {
                reason: "complaint_without_incident".into(),
            });
        }
        let incident = answer.incident.as_ref().map(|i| i.id.clone());
        let key = keys::reply_job(mention.platform, &mention.author_id, incident.as_deref());
        let expires = match &incident {
            Some(_) => now + KEPT,
            None => now + TimeDelta::from_std(self.config.replies.cooldown).unwrap_or(KEPT),
        };
        Ok(Decision::Answer {
            job_pk: key.pk,
            job_sk: key.sk,
            situation: answer.situation,
            incident,
            decided_at: now,
            job_expires_at: expires,
            // The reply says a person is looking: one must be.
            also_hand_off: (answer.situation == Situation::AllClear).then(|| "all_clear".into()),
        })
    }

    /// Does what `decision` says about `mention`; every step absorbs a repetition.
    async fn carry_out(
        &self,
        mention: &StoredMention,
        decision: &Decision,
        events: &mut Vec<ReplyEvent>,
    ) -> Result<(), StoreError> {
        let (job_pk, job_sk, situation, incident, decided_at, expires, also_hand_off) =
            match decision {
                Decision::Ignore { reason } => {
                    return self
                        .judged(mention, Outcome::Ignored, Some(reason), events)
                        .await;
                }
                Decision::Covered { reason } => {
                    return self
                        .judged(mention, Outcome::Covered, Some(reason), events)
                        .await;
                }
                Decision::HandOff { reason } => {
                    self.hand_off_mention(mention, reason, events).await?;
                    return self
                        .judged(mention, Outcome::HandedOff, Some(reason), events)
                        .await;
                }
                Decision::Answer {
                    job_pk,
                    job_sk,
                    situation,
                    incident,
                    decided_at,
                    job_expires_at,
                    also_hand_off,
                } => (
                    job_pk,
                    job_sk,
                    *situation,
                    incident,
                    *decided_at,
                    *job_expires_at,
                    also_hand_off,
                ),
            };
        let Some(account) = self
            .config
            .accounts
            .iter()
            .find(|a| a.id == mention.account)
        else {
            // The account left the configuration since the decision: nobody can answer.
            return self
                .judged(mention, Outcome::Ignored, Some("unknown_account"), events)
                .await;
        };
        let mut reply = Job::new(
            JobKind::Reply,
            account.id.clone(),
            account.platform,
            situation,
            decided_at,
        );
        reply.incident = incident.clone();
        reply.mention = Some(MentionRef::of(mention));
        let (stored, created) = job::claim(
            self.store.as_ref(),
            Key::new(job_pk, job_sk),
            reply,
            expires,
        )
        .await?;
        let ours = stored
            .job
            .mention
            .as_ref()
            .is_some_and(|m| m.id == mention.id);
        if !created && !ours {
            return self
                .judged(mention, Outcome::Covered, Some("already_answered"), events)
                .await;
        }
        if let Some(reason) = also_hand_off {
            self.hand_off_mention(mention, reason, events).await?;
        }
        if created {
            self.judged(mention, Outcome::Queued, None, events).await?;
        }
        Ok(())
    }

    async fn judged(
        &self,
        mention: &StoredMention,
        outcome: Outcome,
        reason: Option<&str>,
        events: &mut Vec<ReplyEvent>,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        response::record(
            self.store.as_ref(),
            ResponseRecord::of(mention, outcome, reason),
            self.config.mentions.retention,
            |record| {
                // A replay must not undo what happened since: only a first judgement sets it.
                if record.answered_at.is_none() && record.handed_off_at.is_none() {
                    record.outcome = outcome;
                    record.reason = reason.map(str::to_owned);
                }
                if outcome == Outcome::HandedOff && record.handed_off_at.is_none() {
                    record.handed_off_at = Some(now);
                }
            },
        )
        .await?;
        events.push(ReplyEvent::Judged {
            post: mention.id.clone(),
            author: mention.author.clone(),
            outcome,
            reason: reason.map(str::to_owned),
        });
        Ok(())
    }

    /// Gives a mention to a person, once.
    ///
    /// The claim is made before publishing, with a short lease, and marked published after:
    /// a publish that failed releases it, so a retry publishes then; a claim whose writer
    /// died before publishing (its store answer lost, its invocation failed) is taken over
    /// by the next delivery once the lease has run out, so the handoff is never lost.
    async fn hand_off_mention(
        &self,
        mention: &StoredMention,
        reason: &str,
        events: &mut Vec<ReplyEvent>,
    ) -> Result<(), StoreError> {
        let key = keys::handoff(mention.platform, &mention.id);
        let now = self.clock.now();
        let expires = now + TimeDelta::from_std(self.config.mentions.retention).unwrap_or(KEPT);
        let claim = HandoffClaim {
            reason: reason.to_owned(),
            published: false,
            lease_until: now + HANDOFF_LEASE,
        };
        let mut won = None;
        for _ in 0..WRITE_ATTEMPTS {
            match self.store.get(&key).await? {
                None => {
                    let item = NewItem::encode(key.clone(), &claim)?.expiring_at(expires);
                    if self.store.create(item).await? == Created::Yes {
                        won = Some(1);
                        break;
                    }
                }
                Some(item) => {
                    let held: HandoffClaim = item.decode()?;
                    if held.published {
                        return Ok(());
                    }
                    if held.lease_until > now {
                        return Err(StoreError::Backend(format!(
                            "the handoff of {} is being published by another delivery",
                            mention.id
                        )));
                    }
                    // Its writer died before publishing: take it over.
                    let next = NewItem::encode(key.clone(), &claim)?.expiring_at(expires);
                    match self.store.update(next, item.version).await {
                        Ok(version) => {
                            won = Some(version);
                            break;
                        }
                        Err(StoreError::Conflict { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        let Some(version) = won else {
            return Err(StoreError::Backend(format!(
                "the handoff claim of {} kept changing",
                mention.id
            )));
        };
        let handoff = mention_handoff(mention, reason);
        if let Err(e) = self.support.hand_off(&handoff).await {
            self.store.delete(&key).await?;
            return Err(StoreError::Backend(format!(
                "the support topic did not take the handoff: {e}"
            )));
        }
        let published = HandoffClaim {
            published: true,
            ..claim
        };
        // A claim left unmarked is taken over once its lease runs out, and the handoff
        // published again: the mark is worth a few attempts (the same write each time, so
        // one that was applied and only lost its answer is recognised).
        let item = NewItem::encode(key.clone(), &published)?.expiring_at(expires);
        let mut marked = Ok(());
        for _ in 0..WRITE_ATTEMPTS {
            marked = self.store.update(item.clone(), version).await.map(drop);
            if !matches!(marked, Err(StoreError::Backend(_))) {
                break;
            }
        }
        if let Err(e) = marked {
            // The handoff is out; failing now would only publish it again sooner.
            tracing::warn!(post = %mention.id, error = %e, "handoff published but not marked so");
        }
        events.push(ReplyEvent::HandedOff {
            reason: reason.to_owned(),
            summary: handoff.summary,
        });
        Ok(())
    }

    async fn on_incident_change(&self, change: &ItemChange) -> Result<(), StoreError> {
        let Some(item) = &change.new else {
            return Ok(());
        };
        let new: Incident = item.decode()?;
        let old: Option<Incident> = change.old.as_ref().map(|i| i.decode()).transpose()?;
        let now = self.clock.now();
        let was_public = old
            .as_ref()
            .is_some_and(|o| o.phase == IncidentPhase::Open && !o.suspected);
        let update = match (&old, new.phase) {
            (_, IncidentPhase::Open) if new.suspected => None,
            (_, IncidentPhase::Open) if !was_public => Some(Situation::UpdateOpened),
            (Some(old), IncidentPhase::Open) if old.status != new.status => {
                Some(Situation::UpdateChanged)
            }
            (_, IncidentPhase::Resolved) if was_public => Some(Situation::UpdateResolved),
            _ => None,
        };
        if let Some(situation) = update {
            for account in &self.config.accounts {
                if account.announce == Announce::Off {
                    continue;
                }
                let mut post = Job::new(
                    JobKind::Update,
                    account.id.clone(),
                    account.platform,
                    situation,
                    now,
                );
                post.incident = Some(new.id.clone());
                job::claim(
                    self.store.as_ref(),
                    keys::update_job(account.id.as_str(), &new.id, item.version),
                    post,
                    now + KEPT,
                )
                .await?;
            }
        }
        // A suspected incident that went quiet was never confirmed: nothing is announced as
        // fixed. One the probes confirmed gets its follow-ups.
        let resolved_now = new.phase == IncidentPhase::Resolved
            && old.as_ref().is_some_and(|o| o.phase == IncidentPhase::Open);
        if resolved_now && !new.suspected {
            self.follow_ups(&new, now).await?;
        }
        Ok(())
    }

    /// Claims one follow-up for every author acknowledged under `incident`.
    async fn follow_ups(&self, incident: &Incident, now: DateTime<Utc>) -> Result<(), StoreError> {
        let acknowledged = self
            .store
            .query(&Query::prefix(
                keys::incident_partition(&incident.id),
                keys::ACKNOWLEDGED_PREFIX,
            ))
            .await?;
        for entry in acknowledged {
            let (Some(pk), Some(sk)) = (entry.str("job_pk"), entry.str("job_sk")) else {
                continue;
            };
            let Some(reply) = job::load(self.store.as_ref(), &Key::new(pk, sk)).await? else {
                continue;
            };
            let Some(mention) = reply.job.mention.clone() else {
                continue;
            };
            let author_id = mention.author_id.clone();
            self.claim_follow_up(&reply.job, mention, &author_id, incident, now)
                .await?;
        }
        // A customer who reported the outage before any incident existed was answered that
        // the checks looked fine; their report is evidence of this incident, so they hear
        // that it is fixed too. The follow-up's key makes a second claim a no-op.
        for report in surge::evidence(self.store.as_ref(), &incident.id).await? {
            let Some((_, author_id)) = report.author.split_once(':') else {
                continue;
            };
            let quiet = keys::reply_job(report.platform, author_id, None);
            let Some(reply) = job::load(self.store.as_ref(), &quiet).await? else {
                continue;
            };
            let answered = matches!(
                reply.job.state,
                JobState::Posted { .. } | JobState::Recorded { .. }
            );
            let Some(mention) = reply.job.mention.clone().filter(|m| m.id == report.post) else {
                continue;
            };
            // Only an author told "the checks look fine" while the incident was still to come
            // or open was told anything this follow-up corrects.
            let told_before_the_fix = reply.job.queued_at <= incident.resolved_at.unwrap_or(now);
            if !answered || reply.job.kind != JobKind::Reply || !told_before_the_fix {
                continue;
            }
            self.claim_follow_up(&reply.job, mention, author_id, incident, now)
                .await?;
        }
        Ok(())
    }

    /// Claims the follow-up telling `author_id` that `incident` is fixed, in the thread of the
    /// `mention` that `answered` replied to. The key is per author and incident, so a second
    /// claim (a retried stream record, an author reached both ways) is a no-op.
    async fn claim_follow_up(
        &self,
        answered: &Job,
        mention: MentionRef,
        author_id: &str,
        incident: &Incident,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut follow_up = Job::new(
            JobKind::FollowUp,
            answered.account.clone(),
            answered.platform,
            Situation::FollowUp,
            now,
        );
        follow_up.incident = Some(incident.id.clone());
        follow_up.mention = Some(mention);
        let key = keys::follow_up_job(answered.platform, author_id, &incident.id);
        job::claim(self.store.as_ref(), key, follow_up, now + KEPT).await?;
        Ok(())
    }

    /// Posts what every account's outbox holds, in arrival order, within its budget,
    /// until `deadline`.
    pub async fn drain(&self, deadline: Instant) -> BatchReport {
        let mut report = BatchReport::default();
        let mut state = DrainState::default();
        for (index, account) in self.config.accounts.iter().enumerate() {
            if Instant::now() >= deadline {
                break;
            }
            if let Err(e) = self
                .drain_account(index, account, deadline, &mut state)
                .await
            {
                report.errors.push(format!("{} outbox: {e}", account.id));
            }
        }
        report.events = state.events;
        report
    }

    async fn drain_account(
        &self,
        index: usize,
        account: &SocialAccount,
        deadline: Instant,
        state: &mut DrainState,
    ) -> Result<(), StoreError> {
        let store = self.store.as_ref();
        let budget = Budget::of(account.platform);
        loop {
            let entries = store
                .query(
                    &Query::partition(keys::outbox_partition(account.id.as_str()))
                        .limit(OUTBOX_PAGE),
                )
                .await?;
            if entries.is_empty() {
                return Ok(());
            }
            for entry in &entries {
                if Instant::now() >= deadline {
                    return Ok(());
                }
                let (Some(pk), Some(sk)) = (entry.str("job_pk"), entry.str("job_sk")) else {
                    store.delete(&entry.key).await?;
                    continue;
                };
                let Some(stored) = job::load(store, &Key::new(pk, sk)).await? else {
                    store.delete(&entry.key).await?;
                    continue;
                };
                let now = self.clock.now();
                let step = self
                    .advance(index, account, &budget, stored, now, state)
                    .await?;
                match step {
                    Step::Done => store.delete(&entry.key).await?,
                    Step::Again => {}
                    Step::Stop => return Ok(()),
                    Step::Wait(until) => {
                        state.events.push(ReplyEvent::Waiting {
                            account: account.id.to_string(),
                            until,
                            queued: entries.len(),
                        });
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Takes one job one step: posts it, records it, hands it off, or says why the
    /// account's outbox must wait.
    async fn advance(
        &self,
        index: usize,
        account: &SocialAccount,
        budget: &Budget,
        stored: StoredJob,
        now: DateTime<Utc>,
        state: &mut DrainState,
    ) -> Result<Step, StoreError> {
        let store = self.store.as_ref();
        let attempt = match &stored.job.state {
            // Out, yet still in the outbox: the run that posted it may have failed before
            // everything that follows a post was written (the thread markers, the follow-up
            // list, the response record). Each absorbs a repetition, so they are written
            // again, as of the post's own time; the post was reported when it went out.
            JobState::Posted { id, url, at } => {
                let posted = Posted {
                    id: id.clone(),
                    url: url.clone(),
                    recovered: false,
                    rate_limit: None,
                };
                self.finished(&stored, Some(&posted), *at, &mut Vec::new())
                    .await?;
                return Ok(Step::Done);
            }
            JobState::Recorded { at } => {
                self.finished(&stored, None, *at, &mut Vec::new()).await?;
                return Ok(Step::Done);
            }
            state if state.is_final() => return Ok(Step::Done),
            JobState::Queued { not_before } => {
                if not_before.is_some_and(|t| t > now) {
                    return Ok(Step::Stop);
                }
                Attempt::First
            }
            JobState::Sending { lease_until } if *lease_until > now => return Ok(Step::Stop),
            JobState::Sending { .. } | JobState::Ambiguous { .. } => Attempt::AfterAmbiguous,
            _ => return Ok(Step::Done),
        };
        let mut job = stored.job.clone();
        // A customer still waiting past `max_age` deserves a person, not a late canned
        // answer. Only a job nothing was sent for yet can be given away.
        if attempt == Attempt::First
            && job.kind == JobKind::Reply
            && let Some(mention) = &job.mention
            && is_stale(mention.posted_at, &self.config, now)
        {
            return self
                .give_to_person(stored, "stale", None, &mut state.events)
                .await
                .map(|()| Step::Done);
        }
        // The text: an attempt after an ambiguous failure repeats the one that may be out.
        let (text, variant) = match (&attempt, &job.text) {
            (Attempt::AfterAmbiguous, Some(text)) => (text.clone(), job.variant),
            _ => match self.render(&job, now, &mut state.picture).await? {
                Some((text, variant)) => (text, Some(variant)),
                None => {
                    return self
                        .give_to_person(
                            stored,
                            "refused",
                            Some("every variant was refused"),
                            &mut state.events,
                        )
                        .await
                        .map(|()| Step::Done);
                }
            },
        };
        if self.config.replies.mode == ReplyMode::DryRun {
            job.text = Some(text.clone());
            job.variant = variant;
            job.state = JobState::Recorded { at: now };
            let Some(done) = stored.replace(store, job).await? else {
                return Ok(Step::Again);
            };
            self.finished(&done, None, now, &mut state.events).await?;
            return Ok(Step::Done);
        }
        if job.kind == JobKind::Update && account.announce == Announce::Draft {
            return self
                .give_to_person(stored, "draft", Some(&text), &mut state.events)
                .await
                .map(|()| Step::Done);
        }
        if let Reservation::WaitUntil(until) = budget.reserve(store, &account.id, now).await? {
            return Ok(Step::Wait(until));
        }
        job.text = Some(text.clone());
        job.variant = variant;
        job.attempts += 1;
        job.state = JobState::Sending {
            lease_until: now + LEASE,
        };
        let Some(sending) = stored.replace(store, job.clone()).await? else {
            // Another invocation took it first.
            budget.release(store, &account.id, now).await?;
            return Ok(Step::Stop);
        };
        let Some(client) = self.client(index, account).await else {
            budget.release(store, &account.id, now).await?;
            job.state = JobState::Queued {
                not_before: Some(now + backoff(job.attempts)),
            };
            job.last_error = Some("the account's client could not be built".into());
            sending.replace(store, job).await?;
            state.events.push(ReplyEvent::Failed {
                account: account.id.to_string(),
                detail: "the account's client could not be built from its secret".into(),
            });
            return Ok(Step::Stop);
        };
        let outgoing = Outgoing {
            text: text.clone(),
            reply_to: job.mention.as_ref().map(MentionRef::reply_to),
            // Unique to this claim: a quiet reply's key comes back after its cooldown.
            key: format!("{}#{}", sending.key.pk, job.queued_at.timestamp_millis()),
            decided_at: job.queued_at,
        };
        match client.post(&outgoing, attempt).await {
            Ok(posted) => {
                if let Some(rate) = &posted.rate_limit {
                    budget.correct(store, &account.id, rate, now).await?;
                }
                job.state = JobState::Posted {
                    id: posted.id.clone(),
                    url: posted.url.clone(),
                    at: now,
                };
                job.last_error = None;
                let done = match sending.replace(store, job).await? {
                    Some(done) => done,
                    None => return Ok(Step::Again),
                };
                if posted.recovered {
                    tracing::info!(job = %done.key, "the earlier attempt had gone through; nothing posted twice");
                }
                self.finished(&done, Some(&posted), now, &mut state.events)
                    .await?;
                Ok(Step::Done)
            }
            Err(SocialError::Duplicate { detail, .. }) => {
                budget.release(store, &account.id, now).await?;
                if let Some(variant) = variant {
                    job.refused.push(variant);
                }
                job.text = None;
                job.variant = None;
                job.last_error = Some(detail.clone());
                job.state = JobState::Queued { not_before: None };
                state.events.push(ReplyEvent::Failed {
                    account: account.id.to_string(),
                    detail: format!("refused as duplicate content; trying other wording: {detail}"),
                });
                sending.replace(store, job).await?;
                Ok(Step::Again)
            }
            Err(SocialError::Ambiguous { detail, .. }) => {
                job.state = JobState::Ambiguous {
                    detail: detail.clone(),
                };
                job.last_error = Some(detail.clone());
                sending.replace(store, job).await?;
                state.events.push(ReplyEvent::Failed {
                    account: account.id.to_string(),
                    detail: format!(
                        "no answer; the platform is checked before any retry: {detail}"
                    ),
                });
                Ok(Step::Stop)
            }
            Err(SocialError::RateLimited { reset, detail, .. }) => {
                budget.release(store, &account.id, now).await?;
                budget
                    .pause(
                        store,
                        &account.id,
                        reset.unwrap_or(now + TimeDelta::minutes(15)),
                    )
                    .await?;
                job.state = JobState::Queued { not_before: None };
                job.last_error = Some(detail.clone());
                sending.replace(store, job).await?;
                state.events.push(ReplyEvent::Failed {
                    account: account.id.to_string(),
                    detail: format!("rate limited: {detail}"),
                });
                Ok(Step::Stop)
            }
            Err(error @ (SocialError::Rejected { .. } | SocialError::Malformed { .. })) => {
                // The platform will not take this post: a person must answer instead.
                budget.release(store, &account.id, now).await?;
                let detail = error.to_string();
                job.last_error = Some(detail.clone());
                job.state = JobState::Queued { not_before: None };
                let Some(back) = sending.replace(store, job).await? else {
                    return Ok(Step::Again);
                };
                self.give_to_person(back, "refused", Some(&detail), &mut state.events)
                    .await
                    .map(|()| Step::Done)
            }
            Err(error) => {
                // Certain not to have posted: release and retry after a backoff, and hand
                // it to a person once the attempts run out.
                budget.release(store, &account.id, now).await?;
                let detail = error.to_string();
                state.events.push(ReplyEvent::Failed {
                    account: account.id.to_string(),
                    detail: detail.clone(),
                });
                let attempts = job.attempts;
                job.last_error = Some(detail.clone());
                job.state = JobState::Queued {
                    not_before: Some(now + backoff(attempts)),
                };
                let Some(back) = sending.replace(store, job).await? else {
                    return Ok(Step::Again);
                };
                if attempts >= MAX_ATTEMPTS {
                    return self
                        .give_to_person(back, "failed", Some(&detail), &mut state.events)
                        .await
                        .map(|()| Step::Done);
                }
                if matches!(error, SocialError::Unauthorized { .. }) {
                    *self.clients[index].lock().await = None;
                }
                Ok(Step::Stop)
            }
        }
    }

    /// The text of `job` now and the variant it came from; `None` when every variant was
    /// refused.
    async fn render(
        &self,
        job: &Job,
        now: DateTime<Utc>,
        picture: &mut Option<StatusPicture>,
    ) -> Result<Option<(String, usize)>, StoreError> {
        let templates = &self.config.replies.templates;
        let lang = job.mention.as_ref().map_or_else(
            || templates.default_language().to_owned(),
            |m| m.lang.clone(),
        );
        let zone = templates.language(&lang).timezone;
        let time = |at: DateTime<Utc>| customer_time(at, now, zone);
        let mut values = Values::new();
        values
            .set(Field::Service, self.config.service.name.clone())
            .set(
                Field::StatusUrl,
                display_url(&self.config.service.status_url),
            );
        let incident = match &job.incident {
            Some(id) => incident::load(self.store.as_ref(), id).await?,
            None => None,
        };
        let situation = match (&incident, job.kind) {
            (Some(incident), _) => {
                values
                    .set(Field::Component, self.component_name(incident))
                    .set(Field::Status, incident.status.as_str())
                    .set(Field::Since, time(incident.opened_at))
                    .set(Field::Incident, incident_reference(&incident.id));
                if let Some(resolved) = incident.resolved_at {
                    values.set(Field::FixedAt, time(resolved)).set(
                        Field::Duration,
                        human_duration(TimeDelta::seconds(
                            incident.duration_seconds.unwrap_or_default(),
                        )),
                    );
                }
                // A reply that waited past the fix says it is fixed.
                if job.kind == JobKind::Reply && incident.phase == IncidentPhase::Resolved {
                    Situation::FollowUp
                } else {
                    job.situation
                }
            }
            (None, _) => {
                // Read once per drain, as once per batch when judging.
                let loaded = match picture.take() {
                    Some(loaded) => loaded,
                    None => StatusPicture::load(self.store.as_ref(), &self.config, now).await?,
                };
                let answer = loaded.answer(job.mention.as_ref().and_then(|m| m.component.as_ref()));
                *picture = Some(loaded);
                values
                    .set(Field::Component, answer.component.clone())
                    .set(Field::Status, answer.status.as_str())
                    .set(Field::Since, time(answer.since));
                match answer.situation {
                    Situation::AllClear | Situation::Maintenance => answer.situation,
                    _ => job.situation,
                }
            }
        };
        // "Not a problem with <what you named>, but an incident elsewhere may be related."
        if situation == Situation::IncidentElsewhere
            && let Some(named) = job
                .mention
                .as_ref()
                .and_then(|m| m.component.as_ref())
                .and_then(|id| self.config.component(id))
        {
            values.set(Field::Component, named.name.clone());
        }
        let Some((variant, template)) =
            templates.choose(&lang, situation, self.random.as_ref(), &job.refused)
        else {
            return Ok(None);
        };
        let mut text = match (&job.mention, job.kind) {
            (Some(mention), JobKind::Reply | JobKind::FollowUp) => {
                address(job.platform, &mention.author)
            }
            _ => String::new(),
        };
        text.push_str(&template.render(&values));
        Ok(Some((text, variant)))
    }

    fn component_name(&self, incident: &Incident) -> String {
        incident
            .component
            .as_ref()
            .and_then(|id| self.config.component(id))
            .map_or_else(|| self.config.service.name.clone(), |c| c.name.clone())
    }

    /// What follows a job that went out (or was recorded): the markers that keep sitrep
    /// from answering twice, the follow-up list, and the response record.
    async fn finished(
        &self,
        done: &StoredJob,
        posted: Option<&Posted>,
        now: DateTime<Utc>,
        events: &mut Vec<ReplyEvent>,
    ) -> Result<(), StoreError> {
        let store = self.store.as_ref();
        let job = &done.job;
        let mut response_time = None;
        let mut sla_breached = false;
        if let Some(mention) = &job.mention {
            let threads = [
                Some(
                    mention
                        .conversation
                        .clone()
                        .unwrap_or_else(|| mention.id.clone()),
                ),
                posted.map(|p| p.id.clone()),
            ];
            for thread in threads.into_iter().flatten() {
                let mut marker = serde_json::Map::new();
                marker.insert("job".into(), done.key.pk.clone().into());
                store
                    .create(
                        NewItem::new(keys::thread(job.platform, &thread), marker)
                            .expiring_at(now + THREAD_KEPT),
                    )
                    .await?;
            }
            if job.kind == JobKind::Reply
                && let Some(incident) = &job.incident
            {
                let mut entry = serde_json::Map::new();
                entry.insert("job_pk".into(), done.key.pk.clone().into());
                entry.insert("job_sk".into(), done.key.sk.clone().into());
                store
                    .create(NewItem::new(
                        keys::acknowledged(incident, job.platform, &mention.author_id),
                        entry,
                    ))
                    .await?;
            }
            let kind = job.kind;
            let dry_run = posted.is_none();
            let change = |record: &mut ResponseRecord| match kind {
                JobKind::Reply => {
                    if record.answered_at.is_none() {
                        record.answered_at = Some(now);
                        record.outcome = if dry_run {
                            Outcome::Recorded
                        } else {
                            Outcome::Answered
                        };
                        record.reason = None;
                    }
                }
                JobKind::FollowUp => {
                    record.followed_up_at.get_or_insert(now);
                }
                JobKind::Update => {}
            };
            // Every judged mention has its record; the mention is read only if it is missing.
            let mut record =
                response::amend(store, mention.posted_at, job.platform, &mention.id, &change)
                    .await?;
            if record.is_none()
                && let Some(stored) = store
                    .get(&keys::mention(job.platform, &mention.id))
                    .await?
                    .map(|item| item.decode::<StoredMention>())
                    .transpose()?
            {
                record = Some(
                    response::record(
                        store,
                        ResponseRecord::of(&stored, Outcome::Queued, None),
                        self.config.mentions.retention,
                        &change,
                    )
                    .await?,
                );
            }
            if let Some(record) = record
                && job.kind == JobKind::Reply
            {
                response_time = record.time_to_first_response();
                let sla = TimeDelta::from_std(self.config.replies.sla).unwrap_or(TimeDelta::MAX);
                sla_breached = response_time.is_some_and(|t| t > sla);
            }
        }
        events.push(ReplyEvent::Sent {
            kind: job.kind,
            account: job.account.to_string(),
            author: job.mention.as_ref().map(|m| m.author.clone()),
            text: job.text.clone().unwrap_or_default(),
            url: posted.map(|p| p.url.clone()),
            dry_run: posted.is_none(),
            response_time,
            sla_breached,
            recovered: posted.is_some_and(|p| p.recovered),
        });
        Ok(())
    }

    /// Gives a job to a person: publishes it on the support topic, then marks it handed
    /// off. If publishing fails the job stays queued and is tried again.
    async fn give_to_person(
        &self,
        stored: StoredJob,
        reason: &str,
        detail: Option<&str>,
        events: &mut Vec<ReplyEvent>,
    ) -> Result<(), StoreError> {
        let store = self.store.as_ref();
        let job = &stored.job;
        let mention = match &job.mention {
            Some(m) => store
                .get(&keys::mention(job.platform, &m.id))
                .await?
                .map(|item| item.decode::<StoredMention>())
                .transpose()?,
            None => None,
        };
        let mut handoff = match &mention {
            Some(mention) => mention_handoff(mention, reason),
            None => Handoff {
                kind: if reason == "draft" {
                    HandoffKind::DraftUpdate
                } else {
                    HandoffKind::Mention
                },
                reason: reason.to_owned(),
                summary: format!(
                    "{} update for {} on {}",
                    if reason == "draft" {
                        "Draft"
                    } else {
                        "Unposted"
                    },
                    job.incident.as_deref().unwrap_or("an incident"),
                    job.account
                ),
                platform: job.platform,
                account: job.account.to_string(),
                post_url: None,
                author: None,
                author_id: None,
                text: None,
                intent: None,
                confidence: None,
                component: None,
                incident: job.incident.clone(),
                lang: None,
                posted_at: None,
                draft: None,
            },
        };
        handoff.incident = job.incident.clone();
        handoff.draft = detail.map(str::to_owned).or_else(|| job.text.clone());
        if reason == "draft" {
            handoff.draft = detail.map(str::to_owned);
        }
        // The job is marked first, by a versioned write: of two invocations draining the same
        // outbox only one wins it and publishes. If publishing fails it goes back in the queue.
        let mut next = job.clone();
        next.state = JobState::HandedOff {
            reason: reason.to_owned(),
            at: self.clock.now(),
        };
        let Some(taken) = stored.replace(store, next).await? else {
            return Ok(());
        };
        if let Err(e) = self.support.hand_off(&handoff).await {
            let mut back = job.clone();
            back.state = JobState::Queued {
                not_before: Some(self.clock.now() + backoff(job.attempts.max(1))),
            };
            back.last_error = Some(format!("the support topic did not take the handoff: {e}"));
            // Whoever lost the race to hand it off has dropped its outbox entry: queue it again.
            if let Some(back) = taken.replace(store, back).await? {
                job::enqueue(store, &back).await?;
            }
            return Err(StoreError::Backend(format!(
                "the support topic did not take the handoff: {e}"
            )));
        }
        if let Some(mention) = &mention {
            self.judged(mention, Outcome::HandedOff, Some(reason), &mut Vec::new())
                .await?;
        }
        events.push(ReplyEvent::HandedOff {
            reason: reason.to_owned(),
            summary: handoff.summary,
        });
        Ok(())
    }

    async fn client(&self, index: usize, account: &SocialAccount) -> Option<Arc<dyn SocialClient>> {
        let mut slot = self.clients[index].lock().await;
        if slot.is_none() {
            match connect(account, self.secrets.as_ref(), &self.deps).await {
                Ok(client) => *slot = Some(client),
                Err(e) => {
                    tracing::warn!(account = %account.id, error = %e, "no client for the account")
                }
            }
        }
        slot.clone()
    }
}

/// What one drain carries from job to job: what happened, and the status picture once read.
#[derive(Default)]
struct DrainState {
    events: Vec<ReplyEvent>,
    picture: Option<StatusPicture>,
}

/// What the outbox does after one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The job is finished: its entry goes.
    Done,
    /// The job changed and is looked at again.
    Again,
    /// The account's outbox waits (a lease, a backoff, an ambiguous post).
    Stop,
    /// The account's posting budget is spent until then: everything behind waits too, so
    /// replies go out in arrival order.
    Wait(DateTime<Utc>),
}

/// The wait before attempt `attempts + 1` of a post that certainly failed: 30 s doubling,
/// at most 15 minutes.
fn backoff(attempts: u32) -> TimeDelta {
    let seconds = 30_i64.saturating_mul(1_i64 << attempts.saturating_sub(1).min(5));
    TimeDelta::seconds(seconds.min(900))
}

/// The handoff message for a mention.
fn mention_handoff(mention: &StoredMention, reason: &str) -> Handoff {
    let mut summary = format!(
        "{} on {}: @{} ({})",
        reason.replace('_', " "),
        mention.platform,
        mention.author,
        mention.intent
    );
    let mut end = summary.len().min(100);
    while !summary.is_char_boundary(end) {
        end -= 1;
    }
    summary.truncate(end);
    Handoff {
        kind: HandoffKind::Mention,
        reason: reason.to_owned(),
        summary,
        platform: mention.platform,
        account: mention.account.to_string(),
        post_url: Some(mention.url.clone()),
        author: Some(mention.author.clone()),
        author_id: Some(mention.author_id.clone()),
        text: Some(mention.text.clone()),
        intent: Some(mention.intent.as_str().to_owned()),
        confidence: Some(mention.confidence),
        component: mention.component.as_ref().map(ToString::to_string),
        incident: None,
        lang: Some(mention.lang.clone()),
        posted_at: Some(mention.created_at),
        draft: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_30_seconds_to_15_minutes() {
        let seconds: Vec<i64> = (1..=8).map(|a| backoff(a).num_seconds()).collect();
        assert_eq!(seconds, [30, 60, 120, 240, 480, 900, 900, 900]);
    }
}

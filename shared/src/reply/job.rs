//! A post sitrep owes: a reply, a follow-up or a public update, claimed once in the store
//! and queued in its account's outbox until it is posted, recorded (dry run) or handed to a
//! person.
//!
//! The job item is the claim. Its key names what it is about (one author and one incident,
//! or one change of an incident on one account), so the conditional create that makes it is
//! the exactly-once decision: a replayed or concurrent batch finds it and queues nothing.
//! Its state then moves by versioned writes only, so two invocations draining one outbox
//! never both send it:
//!
//! ```text
//! queued ──lease──▶ sending ──▶ posted | recorded (dry run) | handed off
//!   ▲                  │
//!   └── definite failure (released, retried after a backoff)
//!                      └── no answer ──▶ ambiguous ──▶ (checked on the platform, then sent at most once more)
//! ```

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{AccountId, ComponentId};
use crate::mentions::StoredMention;
use crate::reply::template::Situation;
use crate::social::{Platform, ReplyTo};
use crate::store::{Created, Item, Key, NewItem, Store, StoreError, keys};

/// How long one invocation may hold a job it is sending before another may take over (and
/// check the platform first, as after an ambiguous failure).
pub const LEASE: TimeDelta = TimeDelta::seconds(60);

/// How long finished jobs are kept: long enough that a replayed stream record (retained 24
/// hours) or a late incident change still finds them.
pub const KEPT: TimeDelta = TimeDelta::days(90);

/// What kind of post a job owes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// The first answer to a customer.
    Reply,
    /// The answer to an acknowledged customer once the incident is resolved.
    FollowUp,
    /// A public update about an incident.
    Update,
}

impl JobKind {
    /// Its name in logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Reply => "reply",
            JobKind::FollowUp => "follow_up",
            JobKind::Update => "update",
        }
    }
}

/// The customer's post a reply or follow-up answers: what the job needs of the mention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MentionRef {
    /// The platform's id for it.
    pub id: String,
    /// A public link to it.
    pub url: String,
    /// Its author's stable id.
    pub author_id: String,
    /// Its author's handle.
    pub author: String,
    /// When it was posted.
    pub posted_at: DateTime<Utc>,
    /// The language to answer in.
    pub lang: String,
    /// The component it named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<ComponentId>,
    /// Other accounts it names, kept out of the answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<String>,
    /// The thread it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<String>,
}

impl MentionRef {
    /// The parts of `mention` a job keeps.
    pub fn of(mention: &StoredMention) -> Self {
        Self {
            id: mention.id.clone(),
            url: mention.url.clone(),
            author_id: mention.author_id.clone(),
            author: mention.author.clone(),
            posted_at: mention.created_at,
            lang: mention.lang.clone(),
            component: mention.component.clone(),
            others: mention.others.clone(),
            conversation: mention.conversation.clone(),
        }
    }

    /// The post to answer, as the social port takes it.
    pub fn reply_to(&self) -> ReplyTo {
        ReplyTo {
            post_id: self.id.clone(),
            author_id: self.author_id.clone(),
            exclude: self.others.clone(),
        }
    }
}

/// Where a job is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum JobState {
    /// Waiting in the outbox.
    Queued {
        /// Not before this time (a backoff after a definite failure).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        not_before: Option<DateTime<Utc>>,
    },
    /// An invocation is sending it.
    Sending {
        /// Until when it holds the job.
        lease_until: DateTime<Utc>,
    },
    /// It was sent and no answer came: it may be on the platform. The next attempt checks.
    Ambiguous {
        /// What happened.
        detail: String,
    },
    /// On the platform.
    Posted {
        /// The post's id.
        id: String,
        /// A link to it.
        url: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Decided and recorded with its text, not posted: dry-run mode.
    Recorded {
        /// When.
        at: DateTime<Utc>,
    },
    /// Given to a person instead.
    HandedOff {
        /// Why, as a word.
        reason: String,
        /// When.
        at: DateTime<Utc>,
    },
}

impl JobState {
    /// Whether nothing more will happen to the job.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            JobState::Posted { .. } | JobState::Recorded { .. } | JobState::HandedOff { .. }
        )
    }
}

/// A post sitrep owes, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Reply, follow-up or update.
    pub kind: JobKind,
    /// The account it is posted on.
    pub account: AccountId,
    /// That account's platform.
    pub platform: Platform,
    /// The incident it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
    /// The customer's post it answers (replies and follow-ups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mention: Option<MentionRef>,
    /// The situation it is written for. A reply's is decided again when it is sent, so it
    /// tells the status of that moment.
    pub situation: Situation,
    /// When it was claimed: its place in the outbox, and the decision time every attempt
    /// at it shares.
    pub queued_at: DateTime<Utc>,
    /// Where it is.
    #[serde(flatten)]
    pub state: JobState,
    /// The text sent (or being sent): an attempt after an ambiguous failure repeats it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The template variant the text came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<usize>,
    /// Variants the platform refused as duplicate content.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<usize>,
    /// Attempts made so far.
    #[serde(default)]
    pub attempts: u32,
    /// The last failure, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl Job {
    /// A newly claimed job.
    pub fn new(
        kind: JobKind,
        account: AccountId,
        platform: Platform,
        situation: Situation,
        queued_at: DateTime<Utc>,
    ) -> Self {
        Self {
            kind,
            account,
            platform,
            incident: None,
            mention: None,
            situation,
            queued_at,
            state: JobState::Queued { not_before: None },
            text: None,
            variant: None,
            refused: Vec::new(),
            attempts: 0,
            last_error: None,
        }
    }
}

/// A job as read, with the version its next write must expect.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredJob {
    /// Where it lives.
    pub key: Key,
    /// What it holds.
    pub job: Job,
    /// Its version.
    pub version: u64,
    /// When it expires.
    pub expires_at: Option<DateTime<Utc>>,
}

impl StoredJob {
    fn read(item: Item) -> Result<Self, StoreError> {
        Ok(Self {
            job: item.decode()?,
            key: item.key,
            version: item.version,
            expires_at: item.expires_at,
        })
    }

    /// Writes `job` over this version; `Ok(None)` if someone else wrote first.
    pub async fn replace(&self, store: &dyn Store, job: Job) -> Result<Option<Self>, StoreError> {
        let mut item = NewItem::encode(self.key.clone(), &job)?;
        item.expires_at = self.expires_at;
        match store.update(item, self.version).await {
            Ok(version) => Ok(Some(Self {
                key: self.key.clone(),
                job,
                version,
                expires_at: self.expires_at,
            })),
            Err(StoreError::Conflict { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Claims `job` at `key` (expiring at `expires_at`) and makes sure it is in its account's
/// outbox. Returns the job as stored and whether this call created it; an existing claim is
/// returned untouched, except that a job still waiting is put back in the outbox (a crash
/// between the claim and the queueing must not lose it).
pub async fn claim(
    store: &dyn Store,
    key: Key,
    job: Job,
    expires_at: DateTime<Utc>,
) -> Result<(StoredJob, bool), StoreError> {
    let item = NewItem::encode(key.clone(), &job)?.expiring_at(expires_at);
    let created = store.create(item).await? == Created::Yes;
    let stored = load(store, &key).await?.ok_or_else(|| {
        StoreError::Backend(format!("the job {key} vanished right after it was claimed"))
    })?;
    if !stored.job.state.is_final() {
        enqueue(store, &stored).await?;
    }
    Ok((stored, created))
}

/// Puts a job in its account's outbox (idempotent: its place is its claim time).
pub async fn enqueue(store: &dyn Store, stored: &StoredJob) -> Result<(), StoreError> {
    let mut entry = serde_json::Map::new();
    entry.insert("job_pk".into(), stored.key.pk.clone().into());
    entry.insert("job_sk".into(), stored.key.sk.clone().into());
    store
        .create(NewItem::new(
            keys::outbox_entry(
                stored.job.account.as_str(),
                stored.job.queued_at,
                &stored.key,
            ),
            entry,
        ))
        .await?;
    Ok(())
}

/// Reads a job.
pub async fn load(store: &dyn Store, key: &Key) -> Result<Option<StoredJob>, StoreError> {
    store.get(key).await?.map(StoredJob::read).transpose()
}

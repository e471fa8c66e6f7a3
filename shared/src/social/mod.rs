//! The social platforms sitrep hears customers on: one [`SocialClient`] trait, one client per
//! platform speaking that platform's real wire format, and the terms they share (a page of
//! [`Mention`]s, a [`RateLimit`], a [`SocialError`]).
//!
//! - [`x`]: X API v2 (`GET /2/users/{id}/mentions`), bearer token or OAuth 1.0a.
//! - [`mastodon`]: Mastodon notifications of type `mention`.
//! - [`bluesky`]: Bluesky notifications (mentions, replies, quotes), with a stored session.
//! - [`connect`]: an account's client built from its secret.
//! - [`transport`]: HTTP with timeouts and retries (backoff with jitter) for all of them,
//!   and a cap on the size of every answer.
//! - [`timestamp`]: the range every time a platform sends must fall in.
//!
//! The platforms page differently, and [`Paging`] says how, so that the mentions service can
//! keep one rule: the cursor moves only past mentions that are stored.

pub mod bluesky;
pub mod connect;
pub mod mastodon;
#[cfg(test)]
mod parser_properties;
pub mod timestamp;
pub mod transport;
pub mod x;

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A social platform sitrep polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// X (formerly Twitter), API v2.
    X,
    /// A Mastodon server.
    Mastodon,
    /// Bluesky (AT Protocol).
    Bluesky,
}

impl Platform {
    /// The name used in config, keys and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::X => "x",
            Platform::Mastodon => "mastodon",
            Platform::Bluesky => "bluesky",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a post reached the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MentionKind {
    /// It names the account.
    Mention,
    /// It replies to one of the account's posts (or in its thread).
    Reply,
    /// It quotes one of the account's posts.
    Quote,
    /// It reposts a post without adding words: nobody is asking anything.
    Repost,
}

/// Who wrote a post.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Author {
    /// The platform's stable id for the account (X user id, Mastodon account id, DID).
    pub id: String,
    /// The handle, without a leading `@` (`dev`, `dev@mastodon.social`, `dev.bsky.social`).
    pub handle: String,
    /// The display name, when the platform sent one.
    pub name: Option<String>,
}

/// A post that mentions the vendor, as fetched: plain text, in sitrep's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    /// Where it was posted.
    pub platform: Platform,
    /// The platform's id for the post (X post id, Mastodon status id, Bluesky `at://` URI).
    pub id: String,
    /// A public link to it.
    pub url: String,
    /// Who wrote it.
    pub author: Author,
    /// Its text, as plain text (HTML and facets already resolved).
    pub text: String,
    /// When it was posted.
    pub created_at: DateTime<Utc>,
    /// Its language as the platform tagged it (BCP 47), if it did.
    pub lang: Option<String>,
    /// The thread it belongs to, when the platform says.
    pub conversation: Option<String>,
    /// The post it replies to, if any.
    pub in_reply_to: Option<String>,
    /// How it reached the account.
    pub kind: MentionKind,
    /// The platform ids of other accounts the post names (X only, from its entities): a reply
    /// must not pull them into the conversation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<String>,
}

/// A platform's rate-limit window, as its response headers stated it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Requests allowed in the window.
    pub limit: u32,
    /// Requests left in it.
    pub remaining: u32,
    /// When it resets.
    pub reset: DateTime<Utc>,
}

/// One page of a mentions poll.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// The mentions on it, in the platform's order.
    pub mentions: Vec<Mention>,
    /// The cursor this page establishes: the position of its newest item, as the next poll
    /// must send it (see [`Paging`] for when it may be saved).
    pub newest: Option<String>,
    /// Where the next page of this poll starts; `None` when the poll has caught up.
    pub next_page: Option<String>,
    /// The rate-limit window after this call, when the platform said.
    pub rate_limit: Option<RateLimit>,
    /// Problems the platform reported beside the data (a deleted referenced post…).
    pub partial_errors: Vec<String>,
}

/// How a platform pages a poll, which decides when its cursor may move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// Pages run from the newest mention back towards the cursor (X, Bluesky): the first
    /// page's `newest` becomes the cursor, but only after the last page is stored.
    NewestFirst,
    /// Pages run forward from the cursor (Mastodon with `min_id`): each page's `newest` may
    /// be saved as soon as that page is stored.
    OldestFirst,
}

/// Why a call to a platform failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SocialError {
    /// Too many requests; nothing more until `reset` (when the platform said).
    #[error("{platform} rate limit reached: {detail}; resets {}", reset_text(.reset))]
    RateLimited {
        /// Which platform.
        platform: Platform,
        /// When the window resets.
        reset: Option<DateTime<Utc>>,
        /// What the platform said.
        detail: String,
    },
    /// The account's paid usage is spent: nothing works until it renews.
    #[error("{platform} usage cap reached: {detail}")]
    UsageCapped {
        /// Which platform.
        platform: Platform,
        /// What the platform said.
        detail: String,
    },
    /// The credentials were refused, or a session could not be made or kept.
    #[error("{platform} refused the credentials: {detail}")]
    Unauthorized {
        /// Which platform.
        platform: Platform,
        /// What the platform said.
        detail: String,
    },
    /// The platform understood the request and will not do it (403, 404, 400…), and said
    /// so in its own words: a definite refusal, the only failure that ends a post.
    #[error("{platform} rejected the request ({status}): {detail}")]
    Rejected {
        /// Which platform.
        platform: Platform,
        /// The HTTP status.
        status: u16,
        /// What the platform said.
        detail: String,
    },
    /// The platform failed or could not be reached, even after retries.
    #[error("{platform} is unavailable: {detail}")]
    Unavailable {
        /// Which platform.
        platform: Platform,
        /// What happened on the last attempt.
        detail: String,
    },
    /// The answer could not be read (cut off, not JSON, JSON of the wrong shape, a status the
    /// platform does not send) to a call that changed nothing: a read, or a post the
    /// platform certainly refused. Nothing was done, and the same call later may succeed;
    /// an unreadable answer to a post the platform may have taken is [`Self::Ambiguous`].
    #[error("{platform} sent a response sitrep cannot read ({status}): {reason}")]
    Malformed {
        /// Which platform.
        platform: Platform,
        /// The HTTP status.
        status: u16,
        /// What was wrong with it.
        reason: String,
    },
    /// The platform refused a post as a duplicate of one the account already made (X's 403
    /// "duplicate content"): the same text again would be refused again.
    #[error("{platform} refused the post as duplicate content: {detail}")]
    Duplicate {
        /// Which platform.
        platform: Platform,
        /// What the platform said.
        detail: String,
    },
    /// A post may or may not have been made: the request was sent and no answer came back
    /// (a timeout, a dropped connection, a gateway error). Posting again blindly could post
    /// twice; the account must be checked first ([`Attempt::AfterAmbiguous`]).
    #[error("{platform} may or may not have taken the post: {detail}")]
    Ambiguous {
        /// Which platform.
        platform: Platform,
        /// What happened.
        detail: String,
    },
    /// The state the client keeps (a Bluesky session) could not be read or written.
    #[error("{platform} client state could not be kept: {detail}")]
    State {
        /// Which platform.
        platform: Platform,
        /// What the store said.
        detail: String,
    },
}

impl SocialError {
    /// The platform the error came from.
    pub fn platform(&self) -> Platform {
        match self {
            SocialError::RateLimited { platform, .. }
            | SocialError::UsageCapped { platform, .. }
            | SocialError::Unauthorized { platform, .. }
            | SocialError::Rejected { platform, .. }
            | SocialError::Unavailable { platform, .. }
            | SocialError::Malformed { platform, .. }
            | SocialError::Duplicate { platform, .. }
            | SocialError::Ambiguous { platform, .. }
            | SocialError::State { platform, .. } => *platform,
        }
    }
}

/// The longest note about a skipped item: a hostile answer must not fill a log line.
const NOTE_LIMIT: usize = 300;

/// `text` cut to [`NOTE_LIMIT`] characters (with an ellipsis when cut), for notes made of
/// what a platform sent (a parser's message can quote a whole field).
pub(crate) fn clipped(text: String) -> String {
    match text.char_indices().nth(NOTE_LIMIT) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

fn reset_text(reset: &Option<DateTime<Utc>>) -> String {
    reset.map_or_else(|| "at an unknown time".to_owned(), |at| format!("at {at}"))
}

/// The post a reply answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyTo {
    /// The platform's id for it (X post id, Mastodon status id, Bluesky `at://` URI).
    pub post_id: String,
    /// Its author's stable id (X user id, Mastodon account id, DID).
    pub author_id: String,
    /// Other accounts it names (X user ids), kept out of the reply's audience.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

/// A post sitrep makes as the vendor's account: a reply to a customer or a public update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    /// The final text: rendered, within the platform's length rules, addressing nobody but
    /// the customer it answers.
    pub text: String,
    /// The post it answers; `None` for a public update.
    pub reply_to: Option<ReplyTo>,
    /// Unique to this post and the same on every attempt at it: Mastodon's
    /// `Idempotency-Key`, the seed of Bluesky's record key.
    pub key: String,
    /// When sitrep decided to make it: the first attempt's time, kept for every retry (a
    /// Bluesky record key encodes it, and a check after an ambiguous failure looks from it).
    pub decided_at: DateTime<Utc>,
}

/// A post the platform accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posted {
    /// The platform's id for it.
    pub id: String,
    /// A public link to it.
    pub url: String,
    /// Found on the account after an ambiguous failure rather than posted by this call.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recovered: bool,
    /// The posting window after this call, when the platform said.
    #[serde(skip)]
    pub rate_limit: Option<RateLimit>,
}

/// Which attempt at a post this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Nothing was sent for this post before.
    First,
    /// An earlier attempt ended in [`SocialError::Ambiguous`] (or was cut off): the client
    /// must find out whether it went through before posting again, and return that post
    /// instead of a second one.
    AfterAmbiguous,
}

/// A platform account sitrep reads mentions from and posts as.
#[async_trait]
pub trait SocialClient: Send + Sync {
    /// The platform it speaks to.
    fn platform(&self) -> Platform;

    /// How its pages run.
    fn paging(&self) -> Paging;

    /// How many of the most recent mentions the platform lets a client reach, if it caps
    /// them (X: 800); a backlog beyond it cannot be fetched and must be reported as a gap.
    fn reach(&self) -> Option<usize>;

    /// One page of mentions newer than `since` (a cursor an earlier page established; `None`
    /// at first start), continuing at `page` when the poll is past its first page.
    async fn mentions(&self, since: Option<&str>, page: Option<&str>) -> Result<Page, SocialError>;

    /// Posts `post` as the account, exactly once across attempts: on
    /// [`Attempt::AfterAmbiguous`] an earlier attempt that went through is found and returned
    /// (with `recovered` set) instead of posting again. A failure that is certain to have
    /// posted nothing (by this attempt or, after an ambiguous one, by the earlier one) is
    /// any error but [`SocialError::Ambiguous`]: an unreadable answer to the post itself, or
    /// a check of an earlier attempt that could not be made, is `Ambiguous`; an unreadable
    /// answer to a read made before posting is [`SocialError::Malformed`] or
    /// [`SocialError::Unavailable`].
    async fn post(&self, post: &Outgoing, attempt: Attempt) -> Result<Posted, SocialError>;
}

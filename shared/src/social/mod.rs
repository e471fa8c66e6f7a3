//! The social platforms sitrep hears customers on: one [`SocialClient`] trait, one client per
//! platform speaking that platform's real wire format, and the terms they share (a page of
//! [`Mention`]s, a [`RateLimit`], a [`SocialError`]).
//!
//! - [`x`]: X API v2 (`GET /2/users/{id}/mentions`), bearer token or OAuth 1.0a.
//! - [`mastodon`]: Mastodon notifications of type `mention`.
//! - [`bluesky`]: Bluesky notifications (mentions, replies, quotes), with a stored session.
//! - [`connect`]: an account's client built from its secret.
//! - [`transport`]: HTTP with timeouts and retries (backoff with jitter) for all of them.
//!
//! The platforms page differently, and [`Paging`] says how, so that the mentions service can
//! keep one rule: the cursor moves only past mentions that are stored.

pub mod bluesky;
pub mod connect;
pub mod mastodon;
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
    /// The platform understood the request and will not do it (403, 404, 400…).
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
    /// The response was not what the platform documents.
    #[error("{platform} sent a response sitrep cannot read ({status}): {reason}")]
    Malformed {
        /// Which platform.
        platform: Platform,
        /// The HTTP status.
        status: u16,
        /// What was wrong with it.
        reason: String,
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
            | SocialError::State { platform, .. } => *platform,
        }
    }
}

fn reset_text(reset: &Option<DateTime<Utc>>) -> String {
    reset.map_or_else(|| "at an unknown time".to_owned(), |at| format!("at {at}"))
}

/// A platform account sitrep reads mentions from (and, later, replies as).
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
}

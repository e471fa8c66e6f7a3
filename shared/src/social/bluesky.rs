//! The Bluesky client: mentions, replies and quotes of the account, read from
//! `app.bsky.notification.listNotifications`, and the login session that reading needs,
//! kept in the store so that every invocation shares one.
//!
//! **Session.** `com.atproto.server.createSession` is limited to about 30 calls per 5 minutes
//! and 100–300 a day per account, failed ones included, so logging in on every run would lock
//! the account out within a day. The session (access and refresh token) lives in the store
//! at [`keys::session`]; access tokens live about 2 hours and are renewed after
//! [`REFRESH_AFTER`] with `com.atproto.server.refreshSession`, or when a call answers
//! `ExpiredToken`. Refresh tokens rotate: each works once, so the renewed session is written
//! with a versioned update, and the invocation that loses that race takes the winner's
//! tokens instead of overwriting them. Only a refused refresh falls back to a new login.
//!
//! **Posting exactly once.** `com.atproto.repo.createRecord` has no idempotency key, so a
//! blind retry after a lost answer would post twice. Every post therefore gets a record key
//! of its own, the same on every attempt: a TID ([`record_key`]) made of the moment sitrep
//! decided to post and a clock id hashed from [`Outgoing::key`]. A record key holds one
//! record, so a repeat can fail but never duplicate; and after an ambiguous failure the
//! client reads that key back (`com.atproto.repo.getRecord`) before posting again
//! ([`Attempt::AfterAmbiguous`]). The request itself is sent at most once
//! ([`Transport::send_once`]): only a connection that never opened is tried again.
//!
//! **Paging.** Notifications page only towards older items, and there is no "since": the
//! poll reads pages until it reaches what an earlier poll finished with (the newest
//! `indexedAt` it saw). The listing is ordered by the earlier of the post's `createdAt` and
//! its `indexedAt`, so a back-dated post can sort below items already seen; every poll
//! therefore re-reads [`LOOK_BACK`] before its cursor. The duplicates that re-reads are
//! harmless: mentions are stored with a conditional create.
//!
//! Parsing is separate from HTTP ([`parse_notifications`], [`XrpcError::parse`]) so that the
//! documented shapes are tested from bytes; a body that is not what the lexicon describes is
//! a [`SocialError::Malformed`] for that call, never a panic, and one notification that is
//! not (a missing field, a time outside [`timestamp`]'s range) is skipped and reported
//! beside the others, which are kept. The app password and the tokens never reach an error
//! text, a log line or a `Debug` output.
//!
//! **Which failures end a post.** Only a refusal in Bluesky's own words (a 4xx with an XRPC
//! error body) is [`SocialError::Rejected`]. An answer that cannot be read is
//! [`SocialError::Malformed`] when it answers a read made before posting (getPosts, a
//! session): nothing was posted, and the reply is tried again later; and
//! [`SocialError::Ambiguous`] when it answers createRecord itself (cut off, not JSON, a 5xx,
//! a status Bluesky does not send): the post may exist, and the next attempt reads its
//! record key first.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Mutex;

use super::timestamp;
use super::transport::{Response, SendOnceError, Transport, TransportError};
use super::{
    Attempt, Author, Mention, MentionKind, Outgoing, Page, Paging, Platform, Posted, RateLimit,
    SocialClient, SocialError,
};
use crate::clock::Clock;
use crate::store::{Created, Key, NewItem, Store, StoreError, keys};

/// How far before its cursor every poll reads again, to catch posts whose `createdAt` is
/// earlier than their indexing and so sort below notifications already seen.
pub const LOOK_BACK: TimeDelta = TimeDelta::minutes(15);

/// The age at which an access token is renewed before use: they live about 2 hours, and a
/// margin keeps a slow poll from outliving its token half-way through.
pub const REFRESH_AFTER: TimeDelta = TimeDelta::minutes(90);

/// Notifications asked for per page (the lexicon's default; its maximum is 100).
pub const PAGE_LIMIT: u32 = 50;

/// The notification reasons sitrep reads: someone names the account, replies in its threads,
/// or quotes its posts. Likes, reposts, follows and the rest ask nothing.
pub const REASONS: [&str; 3] = ["mention", "reply", "quote"];

const LIST_NOTIFICATIONS: &str = "app.bsky.notification.listNotifications";
const CREATE_SESSION: &str = "com.atproto.server.createSession";
const REFRESH_SESSION: &str = "com.atproto.server.refreshSession";
const CREATE_RECORD: &str = "com.atproto.repo.createRecord";
const GET_RECORD: &str = "com.atproto.repo.getRecord";
const GET_POSTS: &str = "app.bsky.feed.getPosts";

/// The collection (and record `$type`) of posts.
pub const POST_COLLECTION: &str = "app.bsky.feed.post";

/// The base32-sortable alphabet of TIDs: digit order is byte order, so TIDs sort as text.
const TID_ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// The largest timestamp a TID holds: 53 bits of microseconds.
const TID_MAX_MICROS: i64 = (1 << 53) - 1;

/// After a refused refresh, how many times (and how far apart) the store is read for tokens
/// that a concurrent invocation rotated: it may have had refreshSession's answer but not yet
/// written it, and logging in instead would spend the scarce login budget.
const ROTATION_CHECKS: u32 = 5;
const ROTATION_PAUSE: Duration = Duration::from_millis(100);

/// Server messages are echoed into errors; a misbehaving server must not fill a log line.
const DETAIL_LIMIT: usize = 300;

// ------------------------------------------------------------------------------------------
// Wire format
// ------------------------------------------------------------------------------------------

/// The body an XRPC endpoint answers a failure with: `{"error": "ExpiredToken", "message": …}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct XrpcError {
    /// The error name (`ExpiredToken`, `InvalidToken`, `RateLimitExceeded`, `InvalidRequest`…).
    #[serde(default)]
    pub error: Option<String>,
    /// What went wrong, in the server's words.
    #[serde(default)]
    pub message: Option<String>,
}

impl XrpcError {
    /// Reads an error body. Anything else (a proxy's HTML page, an empty body) reads as an
    /// error without a description: the status still says what happened.
    pub fn parse(body: &[u8]) -> Self {
        Self::read(body).unwrap_or_default()
    }

    /// Reads an error body only when it is one: a JSON object naming the `error`. A body cut
    /// off, not JSON or without the name is `None`: the refusal's reason is unknown.
    pub fn read(body: &[u8]) -> Option<Self> {
        serde_json::from_slice::<Self>(body)
            .ok()
            .filter(|e| e.error.as_deref().is_some_and(|name| !name.is_empty()))
    }

    /// One line for error texts: `error: message`.
    pub fn summary(&self) -> String {
        let text = match (self.error.as_deref(), self.message.as_deref()) {
            (Some(error), Some(message)) => format!("{error}: {message}"),
            (Some(only), None) | (None, Some(only)) => only.to_owned(),
            (None, None) => "no error description".to_owned(),
        };
        if text.chars().count() > DETAIL_LIMIT {
            let mut short: String = text.chars().take(DETAIL_LIMIT).collect();
            short.push('…');
            short
        } else {
            text
        }
    }

    /// Whether the token sent was refused as expired or unverifiable, which a refresh (or,
    /// for a refresh token, a new login) cures. The reference PDS answers both with 400, an
    /// entryway with 401.
    pub fn is_token_refused(&self) -> bool {
        matches!(self.error.as_deref(), Some("ExpiredToken" | "InvalidToken"))
    }
}

/// The post a mention, reply or quote notification carries (an `app.bsky.feed.post` record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    /// Its text (facets only annotate it: the handles and links are already in it).
    pub text: String,
    /// Its public link on bsky.app.
    pub url: String,
    /// The first of its `langs`, if any.
    pub lang: Option<String>,
    /// `reply.root.uri`: the thread it belongs to, when it is a reply.
    pub root: Option<String>,
    /// `reply.parent.uri`: the post it answers, when it is a reply.
    pub parent: Option<String>,
}

/// One notification of a `listNotifications` page, with what sitrep needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The `at://` URI of the record that caused it (for a mention: the post).
    pub uri: String,
    /// Who caused it.
    pub author: Author,
    /// Why it was sent: `mention`, `reply`, `quote`, `like`, `follow`…
    pub reason: String,
    /// When the network indexed the record.
    pub indexed_at: DateTime<Utc>,
    /// The record's own `createdAt`, when it has a readable one (authors may back-date it).
    pub created_at: Option<DateTime<Utc>>,
    /// The post, for the reasons sitrep reads ([`REASONS`]); `None` for the others.
    pub post: Option<Post>,
}

impl Notification {
    /// How the post reached the account, for the reasons sitrep reads.
    pub fn kind(&self) -> Option<MentionKind> {
        kind_of(&self.reason)
    }

    /// Where the listing orders it: the earlier of `createdAt` and `indexedAt`.
    pub fn sorts_at(&self) -> DateTime<Utc> {
        self.created_at
            .map_or(self.indexed_at, |created| created.min(self.indexed_at))
    }

    /// The mention it is, when its reason is one sitrep reads.
    pub fn mention(&self) -> Option<Mention> {
        let kind = self.kind()?;
        let post = self.post.as_ref()?;
        Some(Mention {
            platform: Platform::Bluesky,
            id: self.uri.clone(),
            url: post.url.clone(),
            author: self.author.clone(),
            text: post.text.clone(),
            created_at: self.created_at.unwrap_or(self.indexed_at),
            lang: post.lang.clone(),
            conversation: post.root.clone(),
            in_reply_to: post.parent.clone(),
            kind,
            others: Vec::new(),
        })
    }
}

/// A parsed `listNotifications` answer, newest first as Bluesky sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationsPage {
    /// Every readable notification on the page, whatever its reason.
    pub notifications: Vec<Notification>,
    /// Where the next (older) page starts, if the server said.
    pub cursor: Option<String>,
    /// Why each notification that could not be read was skipped.
    pub skipped: Vec<String>,
}

impl NotificationsPage {
    /// The page in sitrep's terms, for a poll whose cursor is `since` (`None` at first start).
    ///
    /// Kept: mentions, replies and quotes indexed after `since` − [`LOOK_BACK`]. The poll goes
    /// on to the next page only when there is a cursor, the page is not empty, this is not a
    /// first start (which reads only the newest page), and the page's last notification does
    /// not yet sort before `since` − [`LOOK_BACK`].
    pub fn into_page(self, since: Option<DateTime<Utc>>, rate_limit: Option<RateLimit>) -> Page {
        let floor = since.map(look_back_floor);
        let newest = self
            .notifications
            .iter()
            .map(|n| n.indexed_at)
            .max()
            .map(|at| at.to_rfc3339_opts(SecondsFormat::Millis, true));
        let next_page = match (floor, self.notifications.last(), self.cursor) {
            (Some(floor), Some(last), Some(cursor)) if last.sorts_at() >= floor => Some(cursor),
            _ => None,
        };
        let mentions = self
            .notifications
            .iter()
            .filter(|n| floor.is_none_or(|floor| n.indexed_at > floor))
            .filter_map(Notification::mention)
            .collect();
        Page {
            mentions,
            newest,
            next_page,
            rate_limit,
            partial_errors: self.skipped,
        }
    }
}

fn look_back_floor(since: DateTime<Utc>) -> DateTime<Utc> {
    since
        .checked_sub_signed(LOOK_BACK)
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn kind_of(reason: &str) -> Option<MentionKind> {
    match reason {
        "mention" => Some(MentionKind::Mention),
        "reply" => Some(MentionKind::Reply),
        "quote" => Some(MentionKind::Quote),
        _ => None,
    }
}

#[derive(Deserialize)]
struct RawPage {
    #[serde(default)]
    cursor: Option<Value>,
    // Raw, so that one notification of the wrong shape is skipped, not the page.
    notifications: Vec<Value>,
}

// Every field optional here so that a missing one is reported by name, not as serde's
// "missing field" somewhere in the body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawNotification {
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    author: Option<RawAuthor>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    record: Option<Value>,
    #[serde(default)]
    indexed_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAuthor {
    #[serde(default)]
    did: Option<String>,
    #[serde(default)]
    handle: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
}

/// Parses the body of a 200 answer to `listNotifications`.
///
/// Every notification needs `uri`, `author.did`, `author.handle`, `reason` and an
/// `indexedAt` within [`timestamp`]'s range; one whose reason sitrep reads also needs
/// `record.text` and a post URI it can link to. A notification without them is skipped and
/// named in [`NotificationsPage::skipped`] (it would be as unreadable on every later read);
/// only a body that is not a page at all (cut off, not JSON, no `notifications` array) is
/// [`SocialError::Malformed`].
pub fn parse_notifications(body: &[u8]) -> Result<NotificationsPage, SocialError> {
    let malformed = |reason: String| SocialError::Malformed {
        platform: Platform::Bluesky,
        status: 200,
        reason,
    };
    // serde would also read a struct from a JSON array; the lexicon's output is an object.
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(malformed("expected a JSON object".into()));
    }
    let raw: RawPage = serde_json::from_slice(body).map_err(|e| malformed(e.to_string()))?;
    let mut notifications = Vec::with_capacity(raw.notifications.len());
    let mut skipped = Vec::new();
    for (index, value) in raw.notifications.into_iter().enumerate() {
        // serde would also read a struct from an array; the lexicon's are objects.
        let read = match value {
            Value::Object(_) => serde_json::from_value::<RawNotification>(value)
                .map_err(|e| e.to_string())
                .and_then(notification),
            _ => Err("not a JSON object".to_owned()),
        };
        match read {
            Ok(notification) => notifications.push(notification),
            Err(e) => skipped.push(super::clipped(format!("notification {index} skipped: {e}"))),
        }
    }
    let cursor = match raw.cursor {
        None | Some(Value::Null) => None,
        Some(Value::String(cursor)) => Some(cursor),
        Some(_) => return Err(malformed("the cursor is not a string".into())),
    };
    Ok(NotificationsPage {
        notifications,
        // An empty cursor would start the listing over from the newest page, forever.
        cursor: cursor.filter(|c| !c.is_empty()),
        skipped,
    })
}

fn notification(raw: RawNotification) -> Result<Notification, String> {
    let present = |value: Option<String>, name: &str| {
        value
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("no {name}"))
    };
    let uri = present(raw.uri, "uri")?;
    let author = raw.author.ok_or("no author")?;
    let did = present(author.did, "author.did")?;
    let handle = present(author.handle, "author.handle")?;
    let reason = present(raw.reason, "reason")?;
    let indexed_text = present(raw.indexed_at, "indexedAt")?;
    let indexed_at = parse_datetime(&indexed_text).ok_or_else(|| {
        format!(
            "indexedAt `{indexed_text}` is not a datetime between the years {} and {}",
            timestamp::EARLIEST_YEAR,
            timestamp::LATEST_YEAR
        )
    })?;
    let record = raw.record.unwrap_or(Value::Null);
    let created_at = record
        .get("createdAt")
        .and_then(Value::as_str)
        .and_then(parse_datetime);
    let post = match kind_of(&reason) {
        None => None,
        Some(_) => {
            let text = record
                .get("text")
                .and_then(Value::as_str)
                .ok_or("no record.text")?
                .to_owned();
            let url = post_url(&did, &uri)
                .ok_or_else(|| format!("uri `{uri}` does not name a post record"))?;
            let string_at = |pointer: &str| {
                record
                    .pointer(pointer)
                    .and_then(Value::as_str)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
            };
            Some(Post {
                text,
                url,
                lang: string_at("/langs/0"),
                root: string_at("/reply/root/uri"),
                parent: string_at("/reply/parent/uri"),
            })
        }
    };
    Ok(Notification {
        uri,
        author: Author {
            id: did,
            handle,
            name: author.display_name.filter(|n| !n.trim().is_empty()),
        },
        reason,
        indexed_at,
        created_at,
        post,
    })
}

/// The bsky.app link of a post: `https://bsky.app/profile/<did>/post/<rkey>`, the record key
/// being the last segment of its `at://<authority>/<collection>/<rkey>` URI.
pub fn post_url(did: &str, uri: &str) -> Option<String> {
    let mut segments = uri.strip_prefix("at://")?.split('/');
    let (authority, collection, rkey) = (segments.next()?, segments.next()?, segments.next()?);
    if [authority, collection, rkey].iter().any(|s| s.is_empty()) || segments.next().is_some() {
        return None;
    }
    let mut url = Url::parse("https://bsky.app/profile/").ok()?;
    url.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .extend([did, "post", rkey]);
    Some(url.into())
}

/// The `listNotifications` request for one page: [`PAGE_LIMIT`] items, the [`REASONS`]
/// sitrep reads (repeated, as XRPC encodes arrays), and `cursor` past the first page.
pub fn list_notifications_url(service: &Url, cursor: Option<&str>) -> Result<Url, SocialError> {
    let mut url = xrpc_url(service, LIST_NOTIFICATIONS)?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("limit", &PAGE_LIMIT.to_string());
        for reason in REASONS {
            query.append_pair("reasons", reason);
        }
        if let Some(cursor) = cursor {
            query.append_pair("cursor", cursor);
        }
    }
    Ok(url)
}

fn xrpc_url(service: &Url, nsid: &str) -> Result<Url, SocialError> {
    let mut url = service.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| SocialError::Unavailable {
            platform: Platform::Bluesky,
            detail: format!("the service URL `{service}` cannot take an XRPC path"),
        })?
        .pop_if_empty()
        .extend(["xrpc", nsid]);
    Ok(url)
}

/// A TID (the atproto "timestamp identifier"): 64 bits, the top one 0, then 53 bits of
/// `micros` since the Unix epoch and 10 bits of `clock_id`, written as 13 base32-sortable
/// digits. Bits beyond those widths are dropped, so every input makes a valid TID.
pub fn tid(micros: u64, clock_id: u16) -> String {
    let micros = micros & TID_MAX_MICROS.unsigned_abs();
    let value = (micros << 10) | u64::from(clock_id & 0x3ff);
    (0..13)
        .rev()
        .map(|digit| {
            let index = usize::try_from((value >> (5 * digit)) & 31).unwrap_or_default();
            char::from(TID_ALPHABET[index])
        })
        .collect()
}

/// The record key of `post`: a TID of `decided_at`'s second (clamped to what a TID holds)
/// whose microseconds and clock id come from an FNV-1a hash of `key`. The same post gets the
/// same key on every attempt, in every process (std's hasher is seeded per process, so it
/// cannot be used); posts decided in the same second (a batch shares its clock reading)
/// still get different keys but for one chance in about a billion; and keys sort by the
/// second they were decided in, like the keys Bluesky's own clients make.
pub fn record_key(post: &Outgoing) -> String {
    let hash = fnv1a(post.key.as_bytes());
    let second = post.decided_at.timestamp().saturating_mul(1_000_000);
    let micros = second
        .saturating_add(i64::try_from((hash >> 10) % 1_000_000).unwrap_or_default())
        .clamp(0, TID_MAX_MICROS);
    let clock_id = u16::try_from(hash % 1024).unwrap_or_default();
    tid(micros.unsigned_abs(), clock_id)
}

/// 64-bit FNV-1a: small, stable across processes and platforms.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A link in a post's text, as a `app.bsky.richtext.facet#link` marks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Where it starts, in UTF-8 bytes (inclusive).
    pub byte_start: usize,
    /// Where it ends, in UTF-8 bytes (exclusive).
    pub byte_end: usize,
    /// The URL as written.
    pub uri: String,
}

/// Every `http://` or `https://` URL in `text`, with the byte offsets facets use.
///
/// Bluesky shows only what facets mark as links: text alone stays plain. A URL starts at the
/// beginning, after white space or after `(`, and runs to the next white space; punctuation
/// that ends a sentence (`.`, `,`, `;`, `:`, `!`, `?`) is not part of it, nor is a `)` that
/// closes nothing inside it (much as Bluesky's own app decides).
pub fn links(text: &str) -> Vec<Link> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(rest) = text.get(at..).filter(|rest| !rest.is_empty()) {
        // Schemes are ASCII, and an ASCII byte is never inside a longer character: a match
        // starts on a character boundary.
        let scheme = ["https://", "http://"].into_iter().find(|scheme| {
            rest.as_bytes()
                .get(..scheme.len())
                .is_some_and(|b| b.eq_ignore_ascii_case(scheme.as_bytes()))
        });
        let starts_word = || {
            text.get(..at)
                .and_then(|before| before.chars().next_back())
                .is_none_or(|c| c.is_whitespace() || c == '(')
        };
        let Some(scheme) = scheme.filter(|_| starts_word()) else {
            at += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        };
        let mut uri = rest.split(char::is_whitespace).next().unwrap_or(rest);
        loop {
            let trimmed = uri.trim_end_matches(['.', ',', ';', ':', '!', '?']);
            let unbalanced = trimmed.matches(')').count() > trimmed.matches('(').count();
            let trimmed = match trimmed.strip_suffix(')') {
                Some(inner) if unbalanced => inner,
                _ => trimmed,
            };
            if trimmed.len() == uri.len() {
                break;
            }
            uri = trimmed;
        }
        if uri.len() > scheme.len() && Url::parse(uri).is_ok() {
            found.push(Link {
                byte_start: at,
                byte_end: at + uri.len(),
                uri: uri.to_owned(),
            });
        }
        at += uri.len().max(scheme.len());
    }
    found
}

/// A `com.atproto.repo.strongRef`: a record and the exact version of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrongRef {
    /// The record's `at://` URI.
    pub uri: String,
    /// Its CID.
    pub cid: String,
}

/// A post's `reply`: the thread's first post and the post it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyRef {
    /// The thread's first post.
    pub root: StrongRef,
    /// The post answered.
    pub parent: StrongRef,
}

/// The `app.bsky.feed.post` record for `post`: its text, `createdAt` (the decision time, in
/// milliseconds with `Z`, as the lexicon's datetime format prefers), a link facet for every
/// URL, and `reply` when it answers a post.
pub fn post_record(post: &Outgoing, reply: Option<&ReplyRef>) -> Value {
    let mut record = serde_json::json!({
        "$type": POST_COLLECTION,
        "text": post.text,
        "createdAt": post.decided_at.to_rfc3339_opts(SecondsFormat::Millis, true),
    });
    let facets: Vec<Value> = links(&post.text)
        .into_iter()
        .map(|link| {
            serde_json::json!({
                "index": {"byteStart": link.byte_start, "byteEnd": link.byte_end},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": link.uri}],
            })
        })
        .collect();
    if !facets.is_empty() {
        record["facets"] = Value::Array(facets);
    }
    if let Some(reply) = reply {
        record["reply"] = serde_json::json!(reply);
    }
    record
}

/// Reads a 200 answer to `app.bsky.feed.getPosts` asked for `parent`: the `reply` a post
/// answering it must carry, `None` when the answer does not hold it (deleted, or hidden
/// from the account). The root is the parent's own root, or the parent when it starts
/// the thread.
pub fn parse_reply_ref(body: &[u8], parent: &str) -> Result<Option<ReplyRef>, SocialError> {
    let malformed = |reason: String| SocialError::Malformed {
        platform: Platform::Bluesky,
        status: 200,
        reason: format!("getPosts: {reason}"),
    };
    let answer: Value = serde_json::from_slice(body).map_err(|e| malformed(e.to_string()))?;
    let posts = answer
        .get("posts")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("no posts array".into()))?;
    // The view names the post by DID; the only post of the answer is the one asked for.
    let view = posts
        .iter()
        .find(|view| view.get("uri").and_then(Value::as_str) == Some(parent))
        .or(match posts.as_slice() {
            [only] => Some(only),
            _ => None,
        });
    let Some(view) = view else {
        return Ok(None);
    };
    let strong = |value: Option<&Value>, name: &str| -> Result<StrongRef, SocialError> {
        let field = |key: &str| {
            value
                .and_then(|v| v.get(key))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| malformed(format!("{name} has no {key}")))
        };
        Ok(StrongRef {
            uri: field("uri")?,
            cid: field("cid")?,
        })
    };
    let parent = strong(Some(view), "the post")?;
    let root = match view.pointer("/record/reply") {
        None | Some(Value::Null) => parent.clone(),
        Some(reply) => strong(reply.get("root"), "record.reply.root")?,
    };
    Ok(Some(ReplyRef { root, parent }))
}

/// Reads `ratelimit-limit`, `-remaining` and `-reset` (Unix seconds) through `header`, a
/// lookup by lower-case name; `None` unless all three are present and valid.
pub fn rate_limit<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Option<RateLimit> {
    let number = |name: &str| header(name).and_then(|v| v.trim().parse::<i64>().ok());
    Some(RateLimit {
        limit: u32::try_from(number("ratelimit-limit")?).ok()?,
        remaining: u32::try_from(number("ratelimit-remaining")?).ok()?,
        reset: reset_at(number("ratelimit-reset")?)?,
    })
}

fn reset_at(seconds: i64) -> Option<DateTime<Utc>> {
    timestamp::from_unix_seconds(seconds)
}

/// A lexicon datetime within [`timestamp`]'s range: an author's back-dated or far-future
/// `createdAt` reads as none (the notification's `indexedAt` stands in).
fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    timestamp::parse_rfc3339(text)
}

/// What createSession and refreshSession both answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSession {
    #[serde(default)]
    access_jwt: Option<String>,
    #[serde(default)]
    refresh_jwt: Option<String>,
    #[serde(default)]
    handle: Option<String>,
    #[serde(default)]
    did: Option<String>,
}

fn parse_session(body: &[u8], now: DateTime<Utc>) -> Result<Session, SocialError> {
    let malformed = |reason: String| SocialError::Malformed {
        platform: Platform::Bluesky,
        status: 200,
        reason,
    };
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(malformed("the session is not a JSON object".into()));
    }
    // serde's message could quote a token it failed to read: say only where it failed.
    let raw: RawSession = serde_json::from_slice(body).map_err(|e| {
        malformed(format!(
            "the session is not the documented object (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let field = |value: Option<String>, name: &str| {
        value
            .filter(|v| !v.is_empty())
            .ok_or_else(|| malformed(format!("the session has no {name}")))
    };
    Ok(Session {
        access_jwt: field(raw.access_jwt, "accessJwt")?,
        refresh_jwt: field(raw.refresh_jwt, "refreshJwt")?,
        handle: field(raw.handle, "handle")?,
        did: field(raw.did, "did")?,
        created_at: now,
        refreshed_at: now,
    })
}

// ------------------------------------------------------------------------------------------
// Session
// ------------------------------------------------------------------------------------------

/// A login session as stored at [`keys::session`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Session {
    did: String,
    handle: String,
    access_jwt: String,
    refresh_jwt: String,
    /// When the login happened.
    created_at: DateTime<Utc>,
    /// When the access token was issued: the login, or the last refresh.
    refreshed_at: DateTime<Utc>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The tokens are credentials: they must never reach a log line.
        f.debug_struct("Session")
            .field("did", &self.did)
            .field("handle", &self.handle)
            .field("created_at", &self.created_at)
            .field("refreshed_at", &self.refreshed_at)
            .finish_non_exhaustive()
    }
}

/// A session with the store version it was read or written at.
#[derive(Debug, Clone)]
struct Kept {
    session: Session,
    version: u64,
}

/// What the store holds for the account.
enum Stored {
    Absent,
    /// An item that is not a session (hand-edited, an older layout): replaced by a login.
    Unreadable(u64),
    Kept(Kept),
}

/// How refreshSession answered.
enum Refreshed {
    Renewed(Session),
    /// The refresh token is spent or expired: only a new login (or a newer stored session) helps.
    Refused,
}

/// A request made with the account's access token.
enum Call<'a> {
    /// A query, which the transport may repeat.
    Read(&'a Url),
    /// A procedure without idempotency (createRecord), sent at most once.
    Write(&'a Url, &'a Value),
}

/// What the account holds at a post's record key.
enum AtKey {
    /// Nothing: the post was not made.
    Empty,
    /// The post, made by an earlier attempt.
    Ours(Posted),
    /// A different post (at this URI) took the key first: two posts decided in the same
    /// microsecond whose keys hash to the same clock id. This one can never be made there.
    Taken(String),
}

// ------------------------------------------------------------------------------------------
// Client
// ------------------------------------------------------------------------------------------

/// Reads the mentions, replies and quotes of one Bluesky account, keeping its login session
/// in the store.
pub struct BlueskyClient {
    transport: Transport,
    service: Url,
    account: String,
    identifier: String,
    app_password: String,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// The session as this invocation last read or wrote it, so its pages share one read.
    session: Mutex<Option<Kept>>,
}

impl fmt::Debug for BlueskyClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The app password and the tokens are credentials: they must never reach a log line.
        f.debug_struct("BlueskyClient")
            .field("service", &self.service.as_str())
            .field("account", &self.account)
            .field("identifier", &self.identifier)
            .finish_non_exhaustive()
    }
}

impl BlueskyClient {
    /// A client for the account `identifier` (handle or DID) logging in with `app_password`
    /// on `service` (e.g. `https://bsky.social`); `account` is sitrep's config id for it,
    /// which names its stored session.
    pub fn new(
        transport: Transport,
        service: Url,
        account: String,
        identifier: String,
        app_password: String,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            transport,
            service,
            account,
            identifier,
            app_password,
            store,
            clock,
            session: Mutex::new(None),
        }
    }

    fn key(&self) -> Key {
        keys::session(Platform::Bluesky, &self.account)
    }

    fn is_stale(&self, session: &Session) -> bool {
        self.clock.now().signed_duration_since(session.refreshed_at) > REFRESH_AFTER
    }

    /// The text with every credential this client knows replaced, for error details made
    /// from what a server said.
    fn scrub(&self, text: String, session: Option<&Session>) -> String {
        let secrets = [
            Some(self.app_password.as_str()),
            session.map(|s| s.access_jwt.as_str()),
            session.map(|s| s.refresh_jwt.as_str()),
        ];
        secrets
            .into_iter()
            .flatten()
            .filter(|secret| !secret.is_empty())
            .fold(text, |text, secret| text.replace(secret, "[redacted]"))
    }

    async fn read(&self) -> Result<Stored, SocialError> {
        let Some(item) = self.store.get(&self.key()).await.map_err(state)? else {
            return Ok(Stored::Absent);
        };
        match item.decode::<Session>() {
            Ok(session) => Ok(Stored::Kept(Kept {
                session,
                version: item.version,
            })),
            Err(_) => {
                // The decode error could quote a token; the key says enough.
                tracing::warn!(
                    account = %self.account,
                    key = %item.key,
                    "stored Bluesky session is unreadable; logging in again"
                );
                Ok(Stored::Unreadable(item.version))
            }
        }
    }

    /// The stored session, after a write lost a race to it.
    async fn adopt_stored(&self) -> Result<Kept, SocialError> {
        match self.read().await? {
            Stored::Kept(kept) => Ok(kept),
            Stored::Absent | Stored::Unreadable(_) => Err(SocialError::State {
                platform: Platform::Bluesky,
                detail: format!(
                    "the session at {} changed while it was being written; the next call starts over",
                    self.key()
                ),
            }),
        }
    }

    /// The session to use, from memory or the store, logging in only when there is none.
    async fn current(&self, slot: &Option<Kept>) -> Result<(Kept, bool), SocialError> {
        if let Some(kept) = slot {
            return Ok((kept.clone(), false));
        }
        match self.read().await? {
            Stored::Kept(kept) => Ok((kept, false)),
            Stored::Absent => Ok((self.login(None).await?, true)),
            Stored::Unreadable(version) => Ok((self.login(Some(version)).await?, true)),
        }
    }

    /// Logs in and stores the session: created when there was none, else replacing the
    /// version `replacing` read. Whoever wrote first wins; the loser uses the winner's.
    async fn login(&self, replacing: Option<u64>) -> Result<Kept, SocialError> {
        let session = self.create_session().await?;
        let item = NewItem::encode(self.key(), &session).map_err(state)?;
        match replacing {
            None => match self.store.create(item).await.map_err(state)? {
                Created::Yes => {
                    tracing::info!(account = %self.account, did = %session.did, "logged in to Bluesky; session stored");
                }
                Created::AlreadyExists => {
                    tracing::info!(account = %self.account, "another invocation logged in to Bluesky first; using its session");
                }
            },
            Some(version) => match self.store.update(item, version).await {
                Ok(version) => {
                    tracing::info!(account = %self.account, did = %session.did, "logged in to Bluesky again; session replaced");
                    return Ok(Kept { session, version });
                }
                Err(StoreError::Conflict { .. }) => {
                    tracing::info!(account = %self.account, "another invocation renewed the Bluesky session first; using it");
                }
                Err(e) => return Err(state(e)),
            },
        }
        // create() does not say which version it wrote, and the winner's session is whatever
        // is stored now.
        self.adopt_stored().await
    }

    /// Renews `held`: with a newer stored session when another invocation already renewed
    /// it, else with refreshSession, else (refresh refused) with a new login.
    async fn refresh(&self, held: Kept) -> Result<Kept, SocialError> {
        // Refresh tokens rotate: if another invocation refreshed since this one read, the
        // token held here is spent, and the stored one is newer anyway.
        let held = match self.read().await? {
            Stored::Absent => return self.login(None).await,
            Stored::Unreadable(version) => return self.login(Some(version)).await,
            Stored::Kept(current)
                if current.version != held.version && !self.is_stale(&current.session) =>
            {
                return Ok(current);
            }
            Stored::Kept(current) => current,
        };
        match self.refresh_session(&held.session).await? {
            Refreshed::Renewed(mut session) => {
                session.created_at = held.session.created_at;
                let item = NewItem::encode(self.key(), &session).map_err(state)?;
                match self.store.update(item, held.version).await {
                    Ok(version) => {
                        tracing::info!(account = %self.account, "Bluesky session refreshed");
                        Ok(Kept { session, version })
                    }
                    Err(StoreError::Conflict { .. }) => {
                        // Never overwrite a newer session: its refresh token is the live one.
                        tracing::info!(account = %self.account, "another invocation refreshed the Bluesky session first; using its tokens");
                        self.adopt_stored().await
                    }
                    Err(e) => Err(state(e)),
                }
            }
            Refreshed::Refused => {
                for check in 0..ROTATION_CHECKS {
                    if check > 0 {
                        tokio::time::sleep(ROTATION_PAUSE).await;
                    }
                    match self.read().await? {
                        Stored::Kept(current) if current.version != held.version => {
                            tracing::info!(account = %self.account, "another invocation refreshed the Bluesky session first; using its tokens");
                            return Ok(current);
                        }
                        Stored::Kept(_) => {}
                        Stored::Absent => return self.login(None).await,
                        Stored::Unreadable(version) => return self.login(Some(version)).await,
                    }
                }
                tracing::warn!(account = %self.account, "Bluesky refused the session refresh; logging in again");
                self.login(Some(held.version)).await
            }
        }
    }

    async fn create_session(&self) -> Result<Session, SocialError> {
        let url = xrpc_url(&self.service, CREATE_SESSION)?;
        let body = serde_json::json!({
            "identifier": self.identifier,
            "password": self.app_password,
        });
        let response = self
            .transport
            .send(|| self.transport.client().post(url.clone()).json(&body))
            .await
            .map_err(unavailable)?;
        if response.status == 200 {
            return parse_session(&response.body, self.clock.now());
        }
        let error = XrpcError::parse(&response.body);
        let detail = self.scrub(format!("createSession: {}", error.summary()), None);
        Err(match response.status {
            429 => rate_limited(&response, detail),
            // Wrong password, revoked app password, takedown, a second factor wanted: all
            // need a person, and trying again only spends the login budget.
            400..=499 => SocialError::Unauthorized {
                platform: Platform::Bluesky,
                detail,
            },
            status => server_failure(status, detail),
        })
    }

    async fn refresh_session(&self, session: &Session) -> Result<Refreshed, SocialError> {
        let url = xrpc_url(&self.service, REFRESH_SESSION)?;
        let response = self
            .transport
            .send(|| {
                self.transport
                    .client()
                    .post(url.clone())
                    .bearer_auth(&session.refresh_jwt)
            })
            .await
            .map_err(unavailable)?;
        if response.status == 200 {
            return parse_session(&response.body, self.clock.now()).map(Refreshed::Renewed);
        }
        let error = XrpcError::parse(&response.body);
        let detail = self.scrub(
            format!("refreshSession: {}", error.summary()),
            Some(session),
        );
        match response.status {
            400 | 401 if error.is_token_refused() => Ok(Refreshed::Refused),
            429 => Err(rate_limited(&response, detail)),
            // AccountTakedown and the like: a login would be refused the same way.
            400..=499 => Err(SocialError::Unauthorized {
                platform: Platform::Bluesky,
                detail,
            }),
            status => Err(server_failure(status, detail)),
        }
    }

    /// The session to call with, renewed first when its access token is stale.
    async fn session(&self) -> Result<Session, SocialError> {
        let mut slot = self.session.lock().await;
        let (mut kept, renewed) = self.current(&slot).await?;
        if !renewed && self.is_stale(&kept.session) {
            kept = self.refresh(kept).await?;
        }
        *slot = Some(kept.clone());
        Ok(kept.session)
    }

    /// Sends `call` with the session's access token, renewed first when it is stale, and
    /// renewed and sent once more when the token is refused: a refused token is an answer,
    /// so even a write is known to have done nothing. Returns the answer and the session
    /// it was sent with.
    async fn authorized(&self, call: Call<'_>) -> Result<(Response, Session), SocialError> {
        // Held for the whole call: one invocation's calls share one session and never
        // refresh it twice over.
        let mut slot = self.session.lock().await;
        let (mut kept, mut renewed) = self.current(&slot).await?;
        if !renewed && self.is_stale(&kept.session) {
            kept = self.refresh(kept).await?;
            renewed = true;
        }
        *slot = Some(kept.clone());

        let mut response = self.send(&call, &kept.session).await?;
        // One refresh per call: a token refused right after it was issued is not cured by
        // another, and retrying in a loop would only spend the budget.
        if !renewed && token_refused(&response) {
            tracing::info!(account = %self.account, "Bluesky refused the access token; refreshing");
            kept = self.refresh(kept).await?;
            *slot = Some(kept.clone());
            response = self.send(&call, &kept.session).await?;
        }
        Ok((response, kept.session))
    }

    async fn send(&self, call: &Call<'_>, session: &Session) -> Result<Response, SocialError> {
        match *call {
            Call::Read(url) => self
                .transport
                .send(|| {
                    self.transport
                        .client()
                        .get(url.clone())
                        .bearer_auth(&session.access_jwt)
                })
                .await
                .map_err(unavailable),
            Call::Write(url, body) => self
                .transport
                .send_once(|| {
                    self.transport
                        .client()
                        .post(url.clone())
                        .bearer_auth(&session.access_jwt)
                        .json(body)
                })
                .await
                .map_err(|e| match e {
                    SendOnceError::NotSent { .. } => SocialError::Unavailable {
                        platform: Platform::Bluesky,
                        detail: e.to_string(),
                    },
                    SendOnceError::Unknown { .. } => SocialError::Ambiguous {
                        platform: Platform::Bluesky,
                        detail: format!("createRecord: {e}"),
                    },
                }),
        }
    }

    /// The typed error a failed read (listNotifications, getPosts, getRecord) amounts to.
    fn read_error(&self, response: &Response, session: &Session) -> SocialError {
        let read = XrpcError::read(&response.body);
        let error = read.clone().unwrap_or_default();
        let detail = self.scrub(error.summary(), Some(session));
        match response.status {
            429 => rate_limited(response, detail),
            // Only reached after a refresh (or a fresh login) was tried, or for a 401 that no
            // refresh cures (AuthMissing, AccountTakedown).
            401 => SocialError::Unauthorized {
                platform: Platform::Bluesky,
                detail,
            },
            400 if error.is_token_refused() => SocialError::Unauthorized {
                platform: Platform::Bluesky,
                detail,
            },
            // A refusal is definite only in Bluesky's own words; a cut-off or foreign body
            // (a proxy's page) says too little to give up on.
            status @ 400..=499 if read.is_none() => unreadable_refusal(status),
            status @ 400..=499 => SocialError::Rejected {
                platform: Platform::Bluesky,
                status,
                detail,
            },
            status => server_failure(status, detail),
        }
    }
}

impl BlueskyClient {
    /// The `reply` for answering `parent` (an `at://` URI): its CID and its thread's root,
    /// which only the network knows, from getPosts.
    async fn reply_ref(&self, parent: &str) -> Result<ReplyRef, SocialError> {
        let mut url = xrpc_url(&self.service, GET_POSTS)?;
        url.query_pairs_mut().append_pair("uris", parent);
        let (response, session) = self.authorized(Call::Read(&url)).await?;
        if response.status != 200 {
            return Err(self.read_error(&response, &session));
        }
        // getPosts leaves out what it cannot show rather than failing: answering a post
        // that is gone is a refusal, whatever the status said.
        parse_reply_ref(&response.body, parent)?.ok_or_else(|| SocialError::Rejected {
            platform: Platform::Bluesky,
            status: 404,
            detail: format!(
                "the post to answer ({parent}) is not found: deleted, or hidden from the account"
            ),
        })
    }

    /// What the account `did` holds at `rkey`, read with getRecord.
    async fn at_key(&self, did: &str, rkey: &str, post: &Outgoing) -> Result<AtKey, SocialError> {
        let mut url = xrpc_url(&self.service, GET_RECORD)?;
        url.query_pairs_mut()
            .append_pair("repo", did)
            .append_pair("collection", POST_COLLECTION)
            .append_pair("rkey", rkey);
        let (response, session) = self.authorized(Call::Read(&url)).await?;
        match response.status {
            200 => {}
            400 | 404
                if XrpcError::parse(&response.body).error.as_deref() == Some("RecordNotFound") =>
            {
                return Ok(AtKey::Empty);
            }
            _ => return Err(self.read_error(&response, &session)),
        }
        let malformed = |reason: &str| SocialError::Malformed {
            platform: Platform::Bluesky,
            status: 200,
            reason: format!("getRecord: {reason}"),
        };
        let answer: Value =
            serde_json::from_slice(&response.body).map_err(|e| malformed(&e.to_string()))?;
        let uri = answer
            .get("uri")
            .and_then(Value::as_str)
            .filter(|uri| !uri.is_empty())
            .ok_or_else(|| malformed("no uri"))?
            .to_owned();
        let value = answer.get("value").ok_or_else(|| malformed("no value"))?;
        if value.get("text").and_then(Value::as_str) != Some(post.text.as_str()) {
            return Ok(AtKey::Taken(uri));
        }
        let url = post_url(did, &uri).ok_or_else(|| malformed("the uri names no post"))?;
        Ok(AtKey::Ours(Posted {
            id: uri,
            url,
            recovered: true,
            // The window after a read says nothing about the posting budget.
            rate_limit: None,
        }))
    }

    /// Creates the post at `rkey` in the repo of `did`, sending the request at most once.
    async fn create(
        &self,
        did: &str,
        rkey: &str,
        post: &Outgoing,
        reply: Option<&ReplyRef>,
    ) -> Result<Posted, SocialError> {
        let url = xrpc_url(&self.service, CREATE_RECORD)?;
        let body = serde_json::json!({
            "repo": did,
            "collection": POST_COLLECTION,
            "rkey": rkey,
            "record": post_record(post, reply),
        });
        let (response, session) = self.authorized(Call::Write(&url, &body)).await?;
        let status = response.status;
        if (200..300).contains(&status) {
            return created(&response, did);
        }
        let read = XrpcError::read(&response.body);
        let error = read.clone().unwrap_or_default();
        let detail = self.scrub(format!("createRecord: {}", error.summary()), Some(&session));
        if matches!(status, 400 | 409) && already_exists(&error) {
            // The key is taken: by an earlier attempt at this post, or by another post.
            return match self.at_key(did, rkey, post).await {
                Ok(AtKey::Ours(posted)) => {
                    tracing::info!(account = %self.account, uri = %posted.id, "Bluesky post already made by an earlier attempt");
                    Ok(posted)
                }
                Ok(AtKey::Taken(uri)) => Err(taken(rkey, &uri)),
                // Said to exist, then not found: deleted since. Posting it again could
                // repeat a post someone removed on purpose.
                Ok(AtKey::Empty) => Err(SocialError::Rejected {
                    platform: Platform::Bluesky,
                    status,
                    detail,
                }),
                Err(e) => Err(SocialError::Ambiguous {
                    platform: Platform::Bluesky,
                    detail: format!("{detail}; reading the record key back failed: {e}"),
                }),
            };
        }
        Err(match status {
            429 => rate_limited(&response, detail),
            // Only reached after a refresh was tried, or for a 401 no refresh cures.
            401 => SocialError::Unauthorized {
                platform: Platform::Bluesky,
                detail,
            },
            400 if error.is_token_refused() => SocialError::Unauthorized {
                platform: Platform::Bluesky,
                detail,
            },
            // Refused, but not in Bluesky's words: certainly not posted, and not for a
            // reason known well enough to give the post up.
            400..=499 if read.is_none() => unreadable_refusal(status),
            400..=499 => SocialError::Rejected {
                platform: Platform::Bluesky,
                status,
                detail,
            },
            // A gateway may have passed the post on; and the reference PDS answers 500 when
            // the record key is already taken, which only a read of the key can tell. A
            // status Bluesky does not send (a redirect) says nothing about the post either.
            _ => SocialError::Ambiguous {
                platform: Platform::Bluesky,
                detail: format!("HTTP {status}: {detail}"),
            },
        })
    }
}

/// Reads createRecord's 200 answer. One that cannot be read still means the post exists: it
/// is ambiguous, so that the next attempt finds it by its key.
fn created(response: &Response, did: &str) -> Result<Posted, SocialError> {
    let unreadable = |reason: &str| SocialError::Ambiguous {
        platform: Platform::Bluesky,
        detail: format!("createRecord succeeded but its answer cannot be read: {reason}"),
    };
    let answer: Value =
        serde_json::from_slice(&response.body).map_err(|e| unreadable(&e.to_string()))?;
    let uri = answer
        .get("uri")
        .and_then(Value::as_str)
        .filter(|uri| !uri.is_empty())
        .ok_or_else(|| unreadable("no uri"))?;
    let url = post_url(did, uri).ok_or_else(|| unreadable("the uri names no post"))?;
    Ok(Posted {
        id: uri.to_owned(),
        url,
        recovered: false,
        rate_limit: rate_limit(|name| response.header(name)),
    })
}

/// Whether a createRecord refusal says the record key is taken. The lexicon names no such
/// error yet (the reference PDS answers 500); servers that say so use one of these.
fn already_exists(error: &XrpcError) -> bool {
    matches!(
        error.error.as_deref(),
        Some("RecordAlreadyExists" | "AlreadyExists")
    ) || error
        .message
        .as_deref()
        .is_some_and(|m| m.to_ascii_lowercase().contains("already exists"))
}

fn taken(rkey: &str, uri: &str) -> SocialError {
    SocialError::Rejected {
        platform: Platform::Bluesky,
        status: 409,
        detail: format!("record key {rkey} already holds a different post ({uri})"),
    }
}

/// An error met while checking whether an earlier ambiguous attempt went through: the
/// question is still open, so the post is still ambiguous.
fn still_ambiguous(error: SocialError) -> SocialError {
    match error {
        SocialError::Ambiguous { .. } => error,
        other => SocialError::Ambiguous {
            platform: Platform::Bluesky,
            detail: format!("the earlier attempt could not be checked: {other}"),
        },
    }
}

fn token_refused(response: &Response) -> bool {
    matches!(response.status, 400 | 401) && XrpcError::parse(&response.body).is_token_refused()
}

fn state(error: StoreError) -> SocialError {
    // StoreError::Malformed carries serde's message, which could quote a stored token.
    let detail = match error {
        StoreError::Malformed { key, .. } => format!("item {key} is malformed"),
        other => other.to_string(),
    };
    SocialError::State {
        platform: Platform::Bluesky,
        detail,
    }
}

fn unavailable(error: TransportError) -> SocialError {
    SocialError::Unavailable {
        platform: Platform::Bluesky,
        detail: error.to_string(),
    }
}

fn rate_limited(response: &Response, detail: String) -> SocialError {
    SocialError::RateLimited {
        platform: Platform::Bluesky,
        reset: response
            .header("ratelimit-reset")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .and_then(reset_at),
        detail,
    }
}

/// A 4xx whose body is not an XRPC error: refused, for a reason nobody can read.
fn unreadable_refusal(status: u16) -> SocialError {
    SocialError::Malformed {
        platform: Platform::Bluesky,
        status,
        reason: "a refusal without an XRPC error body".into(),
    }
}

fn server_failure(status: u16, detail: String) -> SocialError {
    match status {
        500..=599 => SocialError::Unavailable {
            platform: Platform::Bluesky,
            detail: format!("HTTP {status}: {detail}"),
        },
        _ => SocialError::Malformed {
            platform: Platform::Bluesky,
            status,
            reason: format!("unexpected HTTP status ({detail})"),
        },
    }
}

fn parse_since(since: &str) -> Result<DateTime<Utc>, SocialError> {
    parse_datetime(since).ok_or_else(|| SocialError::State {
        platform: Platform::Bluesky,
        detail: format!("the poll cursor `{since}` is not an RFC 3339 timestamp"),
    })
}

#[async_trait]
impl SocialClient for BlueskyClient {
    fn platform(&self) -> Platform {
        Platform::Bluesky
    }

    fn paging(&self) -> Paging {
        Paging::NewestFirst
    }

    fn reach(&self) -> Option<usize> {
        None
    }

    /// Creates the post under its own record key ([`record_key`]). After an ambiguous
    /// failure the key is read back first: the post found there is returned (`recovered`)
    /// without a second createRecord, and only `RecordNotFound` lets it be created. A
    /// reply's `root` and `parent` come from getPosts.
    async fn post(&self, post: &Outgoing, attempt: Attempt) -> Result<Posted, SocialError> {
        let rkey = record_key(post);
        if attempt == Attempt::AfterAmbiguous {
            let did = self.session().await.map_err(still_ambiguous)?.did;
            match self.at_key(&did, &rkey, post).await {
                Ok(AtKey::Ours(posted)) => {
                    tracing::info!(account = %self.account, uri = %posted.id, "the ambiguous Bluesky post went through; not posting again");
                    return Ok(posted);
                }
                Ok(AtKey::Taken(uri)) => return Err(taken(&rkey, &uri)),
                Ok(AtKey::Empty) => {
                    tracing::info!(account = %self.account, %rkey, "the ambiguous Bluesky post was not made; posting it");
                }
                Err(e) => return Err(still_ambiguous(e)),
            }
        }
        let reply = match &post.reply_to {
            Some(reply_to) => Some(self.reply_ref(&reply_to.post_id).await?),
            None => None,
        };
        let did = self.session().await?.did;
        self.create(&did, &rkey, post, reply.as_ref()).await
    }

    async fn mentions(&self, since: Option<&str>, page: Option<&str>) -> Result<Page, SocialError> {
        let since_at = since.map(parse_since).transpose()?;
        let url = list_notifications_url(&self.service, page)?;

        let (response, session) = self.authorized(Call::Read(&url)).await?;
        if response.status != 200 {
            return Err(self.read_error(&response, &session));
        }
        let rate_limit = rate_limit(|name| response.header(name));
        let mut result = parse_notifications(&response.body)?.into_page(since_at, rate_limit);
        if result.next_page.is_some() && result.next_page.as_deref() == page {
            // A server that hands back the cursor it was given would keep the poll here forever.
            tracing::warn!(account = %self.account, "Bluesky returned the same cursor again; stopping this poll");
            result.next_page = None;
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        parse_datetime(text).unwrap()
    }

    /// A `listNotifications` answer as the lexicon describes it: a mention with a mention
    /// facet, a reply with `reply.root`/`reply.parent`, a quote (embed record), a like and a
    /// follow, newest first.
    const PAGE: &str = r#"{
      "notifications": [
        {
          "uri": "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3lbq2v6hqkc2a",
          "cid": "bafyreih4ouu2fe7tmqqq5wjqt3vx4pbmc5xyuctlzvz7vk2kqpvelhgduy",
          "author": {
            "did": "did:plc:z72i7hdynmk6r22z27h6tvur",
            "handle": "dev.bsky.social",
            "displayName": "Dev Ops",
            "avatar": "https://cdn.bsky.app/img/avatar/plain/did:plc:z72i7hdynmk6r22z27h6tvur/bafkrei@jpeg",
            "viewer": {"muted": false, "blockedBy": false},
            "labels": [],
            "createdAt": "2023-04-12T04:53:57.057Z",
            "indexedAt": "2024-01-25T23:46:28.776Z"
          },
          "reason": "mention",
          "record": {
            "$type": "app.bsky.feed.post",
            "text": "@acme.cloud is the API down? getting 503s from eu-west",
            "facets": [{
              "index": {"byteStart": 0, "byteEnd": 11},
              "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:acmeacmeacmeacmeacme00"}]
            }],
            "langs": ["en"],
            "createdAt": "2026-11-23T10:02:11.123Z"
          },
          "isRead": false,
          "indexedAt": "2026-11-23T10:02:11.456Z",
          "labels": []
        },
        {
          "uri": "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3lbq2trkfcs2c",
          "cid": "bafyreibq6mhu6xq6zuzeabrvqzwhcnzhfu7mujkdbavqwmptwkmhv2ei3e",
          "author": {
            "did": "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
            "handle": "carol.example.com",
            "displayName": "",
            "labels": []
          },
          "reason": "reply",
          "reasonSubject": "at://did:plc:acmeacmeacmeacmeacme00/app.bsky.feed.post/3lbpzzzzzzz2a",
          "record": {
            "$type": "app.bsky.feed.post",
            "text": "same here, status page says all green though",
            "reply": {
              "root": {"uri": "at://did:plc:acmeacmeacmeacmeacme00/app.bsky.feed.post/3lbpyyyyyyy2a", "cid": "bafyreiroot"},
              "parent": {"uri": "at://did:plc:acmeacmeacmeacmeacme00/app.bsky.feed.post/3lbpzzzzzzz2a", "cid": "bafyreiparent"}
            },
            "langs": ["en", "de"],
            "createdAt": "2026-11-23T10:01:00.000Z"
          },
          "isRead": false,
          "indexedAt": "2026-11-23T10:01:00.300Z"
        },
        {
          "uri": "at://did:plc:vwzwgnygau7ed7b7wt5ux7y2/app.bsky.feed.post/3lbq2srqxdk2b",
          "cid": "bafyreiquote",
          "author": {"did": "did:plc:vwzwgnygau7ed7b7wt5ux7y2", "handle": "erin.bsky.social"},
          "reason": "quote",
          "reasonSubject": "at://did:plc:acmeacmeacmeacmeacme00/app.bsky.feed.post/3lbpxxxxxxx2a",
          "record": {
            "$type": "app.bsky.feed.post",
            "text": "this aged badly",
            "embed": {
              "$type": "app.bsky.embed.record",
              "record": {"uri": "at://did:plc:acmeacmeacmeacmeacme00/app.bsky.feed.post/3lbpxxxxxxx2a", "cid": "bafyreiquoted"}
            },
            "createdAt": "2026-11-23T10:00:30.000Z"
          },
          "isRead": true,
          "indexedAt": "2026-11-23T10:00:30.500Z"
        },
        {
          "uri": "at://did:plc:ragtjsm2j2vknwkz3zp4oxrd/app.bsky.feed.like/3lbq2rxxxxx2a",
          "cid": "bafyreilike",
          "author": {"did": "did:plc:ragtjsm2j2vknwkz3zp4oxrd", "handle": "frank.bsky.social"},
          "reason": "like",
          "reasonSubject": "at://did:plc:acmeacmeacmeacmeacme00/app.bsky.feed.post/3lbpxxxxxxx2a",
          "record": {
            "$type": "app.bsky.feed.like",
            "subject": {"uri": "at://did:plc:acmeacmeacmeacmeacme00/app.bsky.feed.post/3lbpxxxxxxx2a", "cid": "bafyreiquoted"},
            "createdAt": "2026-11-23T10:00:20.000Z"
          },
          "isRead": true,
          "indexedAt": "2026-11-23T10:00:20.100Z"
        },
        {
          "uri": "at://did:plc:44ybard66vv44zksje25o7dz/app.bsky.graph.follow/3lbq2qxxxxx2a",
          "cid": "bafyreifollow",
          "author": {"did": "did:plc:44ybard66vv44zksje25o7dz", "handle": "grace.bsky.social", "displayName": "Grace"},
          "reason": "follow",
          "record": {
            "$type": "app.bsky.graph.follow",
            "subject": "did:plc:acmeacmeacmeacmeacme00",
            "createdAt": "2026-11-23T09:59:00.000Z"
          },
          "isRead": true,
          "indexedAt": "2026-11-23T09:59:00.200Z"
        }
      ],
      "cursor": "2026-11-23T09:59:00.000Z",
      "priority": false,
      "seenAt": "2026-11-23T09:00:00.000Z"
    }"#;

    #[test]
    fn mentions_replies_and_quotes_are_kept_and_likes_and_follows_dropped() {
        let parsed = parse_notifications(PAGE.as_bytes()).unwrap();
        assert_eq!(
            parsed.notifications.len(),
            5,
            "every notification is parsed"
        );
        assert_eq!(parsed.cursor.as_deref(), Some("2026-11-23T09:59:00.000Z"));
        let page = parsed.into_page(None, None);
        let kinds: Vec<_> = page.mentions.iter().map(|m| m.kind).collect();
        assert_eq!(
            kinds,
            [MentionKind::Mention, MentionKind::Reply, MentionKind::Quote]
        );

        let mention = &page.mentions[0];
        assert_eq!(
            mention.id,
            "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3lbq2v6hqkc2a"
        );
        assert_eq!(
            mention.url,
            "https://bsky.app/profile/did:plc:z72i7hdynmk6r22z27h6tvur/post/3lbq2v6hqkc2a"
        );
        assert_eq!(
            mention.author,
            Author {
                id: "did:plc:z72i7hdynmk6r22z27h6tvur".into(),
                handle: "dev.bsky.social".into(),
                name: Some("Dev Ops".into()),
            }
        );
        assert_eq!(
            mention.text,
            "@acme.cloud is the API down? getting 503s from eu-west"
        );
        assert_eq!(mention.created_at, at("2026-11-23T10:02:11.123Z"));
        assert_eq!(mention.lang.as_deref(), Some("en"));
        assert_eq!(
            (mention.conversation.as_ref(), mention.in_reply_to.as_ref()),
            (None, None)
        );
        assert_eq!(mention.platform, Platform::Bluesky);

        let reply = &page.mentions[1];
        assert_eq!(reply.author.name, None, "an empty display name is no name");
        assert_eq!(reply.lang.as_deref(), Some("en"), "the first of langs");
        assert_eq!(
            reply.conversation.as_deref(),
            Some("at://did:plc:acmeacmeacmeacmeacme00/app.bsky.feed.post/3lbpyyyyyyy2a")
        );
        assert_eq!(
            reply.in_reply_to.as_deref(),
            Some("at://did:plc:acmeacmeacmeacmeacme00/app.bsky.feed.post/3lbpzzzzzzz2a")
        );

        let quote = &page.mentions[2];
        assert_eq!(
            (quote.lang.as_ref(), quote.author.name.as_ref()),
            (None, None)
        );
        assert_eq!(quote.text, "this aged badly");

        assert_eq!(page.newest.as_deref(), Some("2026-11-23T10:02:11.456Z"));
        assert_eq!(
            page.next_page, None,
            "a first start reads only the newest page"
        );
        assert!(page.partial_errors.is_empty());
    }

    #[test]
    fn an_unreadable_created_at_falls_back_to_indexed_at() {
        for created in [r#""createdAt": "yesterday","#, ""] {
            let body = format!(
                r#"{{"notifications": [{{"uri": "at://did:plc:a/app.bsky.feed.post/3k", "cid": "c",
                  "author": {{"did": "did:plc:a", "handle": "a.test"}}, "reason": "mention",
                  "record": {{{created} "text": "hi @acme"}}, "isRead": false,
                  "indexedAt": "2026-11-23T10:00:00.000Z"}}]}}"#
            );
            let page = parse_notifications(body.as_bytes())
                .unwrap()
                .into_page(None, None);
            assert_eq!(page.mentions[0].created_at, at("2026-11-23T10:00:00Z"));
        }
    }

    fn note(reason: &str, created: &str, indexed: &str) -> Notification {
        Notification {
            uri: format!("at://did:plc:a/app.bsky.feed.post/{indexed}"),
            author: Author {
                id: "did:plc:a".into(),
                handle: "a.test".into(),
                name: None,
            },
            reason: reason.into(),
            indexed_at: at(indexed),
            created_at: parse_datetime(created),
            post: kind_of(reason).map(|_| Post {
                text: "hi".into(),
                url: "https://bsky.app/profile/did:plc:a/post/x".into(),
                lang: None,
                root: None,
                parent: None,
            }),
        }
    }

    fn page_of(notifications: Vec<Notification>) -> NotificationsPage {
        NotificationsPage {
            notifications,
            cursor: Some("older".into()),
            skipped: Vec::new(),
        }
    }

    #[test]
    fn the_look_back_keeps_recent_indexing_and_drops_older() {
        let since = at("2026-11-23T10:00:00Z");
        let page = page_of(vec![
            note("mention", "2026-11-23T10:05:00Z", "2026-11-23T10:05:00Z"),
            // Indexed within the look-back: a re-read, harmless.
            note("reply", "2026-11-23T09:50:00Z", "2026-11-23T09:50:00Z"),
            // Back-dated an hour but indexed just now: sorts low, still kept.
            note("quote", "2026-11-23T09:00:00Z", "2026-11-23T10:01:00Z"),
            // Exactly at the floor: not later than it.
            note("mention", "2026-11-23T09:45:00Z", "2026-11-23T09:45:00Z"),
            note("mention", "2026-11-23T09:30:00Z", "2026-11-23T09:30:00Z"),
        ])
        .into_page(Some(since), None);
        let kept: Vec<_> = page.mentions.iter().map(|m| m.kind).collect();
        assert_eq!(
            kept,
            [MentionKind::Mention, MentionKind::Reply, MentionKind::Quote]
        );
        assert_eq!(
            page.next_page, None,
            "the last one sorts before the look-back"
        );
        assert_eq!(page.newest.as_deref(), Some("2026-11-23T10:05:00.000Z"));
    }

    #[test]
    fn paging_goes_on_until_the_last_item_sorts_before_the_look_back() {
        let since = Some(at("2026-11-23T10:00:00Z"));
        let within = page_of(vec![
            note("mention", "2026-11-23T10:05:00Z", "2026-11-23T10:05:00Z"),
            note("mention", "2026-11-23T09:45:00Z", "2026-11-23T09:46:00Z"),
        ]);
        assert_eq!(
            within.clone().into_page(since, None).next_page.as_deref(),
            Some("older")
        );

        // The last item's createdAt is old even though its indexing is recent: it sorts
        // by the earlier of the two, so the listing is past the look-back.
        let back_dated = page_of(vec![note(
            "mention",
            "2026-11-23T08:00:00Z",
            "2026-11-23T10:03:00Z",
        )]);
        let page = back_dated.into_page(since, None);
        assert_eq!(page.next_page, None);
        assert_eq!(page.mentions.len(), 1, "it is still kept");

        // A dropped reason still marks the position in the listing.
        let like_last = page_of(vec![
            note("mention", "2026-11-23T10:05:00Z", "2026-11-23T10:05:00Z"),
            note("like", "2026-11-23T09:10:00Z", "2026-11-23T09:10:00Z"),
        ]);
        assert_eq!(like_last.into_page(since, None).next_page, None);

        let no_cursor = NotificationsPage {
            cursor: None,
            ..within.clone()
        };
        assert_eq!(no_cursor.into_page(since, None).next_page, None);
        assert_eq!(within.into_page(None, None).next_page, None, "first start");

        let empty = page_of(Vec::new()).into_page(since, None);
        assert_eq!((empty.next_page, empty.newest), (None, None));
        assert!(empty.mentions.is_empty());
    }

    #[test]
    fn newest_is_the_greatest_indexed_at_in_milliseconds() {
        let page = page_of(vec![
            note(
                "mention",
                "2026-11-23T10:05:00Z",
                "2026-11-23T10:05:00.123456+00:00",
            ),
            note("like", "2026-11-23T10:06:00Z", "2026-11-23T10:06:00.5Z"),
        ])
        .into_page(None, None);
        assert_eq!(page.newest.as_deref(), Some("2026-11-23T10:06:00.500Z"));
    }

    #[test]
    fn malformed_notifications_are_skipped_beside_the_good_ones() {
        let minimal = |notification: &str| format!(r#"{{"notifications": [{notification}]}}"#);
        let good = r#"{"uri": "at://did:plc:a/app.bsky.feed.post/3k", "cid": "c",
            "author": {"did": "did:plc:a", "handle": "a.test"}, "reason": "mention",
            "record": {"text": "hi"}, "isRead": false, "indexedAt": "2026-11-23T10:00:00Z"}"#;
        assert!(parse_notifications(minimal(good).as_bytes()).is_ok());
        let other = good
            .replace("3k", "3m")
            .replace("2026-11-23T10:00:00Z", "2026-11-23T09:00:00Z");
        let broken = [
            good.replace(r#""uri": "at://did:plc:a/app.bsky.feed.post/3k","#, ""),
            good.replace(r#""did": "did:plc:a","#, ""),
            good.replace(r#", "handle": "a.test""#, ""),
            good.replace(r#""reason": "mention","#, ""),
            good.replace(r#", "indexedAt": "2026-11-23T10:00:00Z""#, ""),
            good.replace("2026-11-23T10:00:00Z", "soon"),
            good.replace("2026-11-23T10:00:00Z", "+262142-11-23T10:00:00Z"),
            good.replace("2026-11-23T10:00:00Z", "-262143-11-23T10:00:00Z"),
            good.replace("2026-11-23T10:00:00Z", "1999-11-23T10:00:00Z"),
            good.replace(r#"{"text": "hi"}"#, "{}"),
            good.replace(r#"{"text": "hi"}"#, r#"{"text": 7}"#),
            good.replace(r#""record": {"text": "hi"},"#, ""),
            good.replace("at://did:plc:a/app.bsky.feed.post/3k", "at://did:plc:a"),
            good.replace(
                "at://did:plc:a/app.bsky.feed.post/3k",
                "https://bsky.app/x/y/z",
            ),
            good.replace(r#""author": {"did": "did:plc:a", "handle": "a.test"},"#, ""),
            good.replace(
                r#""uri": "at://did:plc:a/app.bsky.feed.post/3k""#,
                r#""uri": 5"#,
            ),
            "7".into(),
            "null".into(),
            "[]".into(),
        ];
        for notification in &broken {
            let body = format!(r#"{{"notifications": [{good}, {notification}, {other}]}}"#);
            let page = parse_notifications(body.as_bytes()).unwrap();
            let uris: Vec<&str> = page.notifications.iter().map(|n| n.uri.as_str()).collect();
            assert_eq!(
                uris,
                [
                    "at://did:plc:a/app.bsky.feed.post/3k",
                    "at://did:plc:a/app.bsky.feed.post/3m"
                ],
                "{notification}"
            );
            assert_eq!(page.skipped.len(), 1, "{notification}");
            assert!(
                page.skipped[0].starts_with("notification 1 skipped"),
                "{:?}",
                page.skipped
            );
            let page = page.into_page(None, None);
            assert_eq!(page.mentions.len(), 2);
            assert_eq!(page.partial_errors.len(), 1, "reported beside the data");
        }
        // A far-off `createdAt` is the author's word only: the indexing time stands in.
        let far = good.replace(
            r#"{"text": "hi"}"#,
            r#"{"text": "hi", "createdAt": "+262142-01-01T00:00:00Z"}"#,
        );
        let page = parse_notifications(minimal(&far).as_bytes()).unwrap();
        assert_eq!(page.notifications[0].created_at, None);
        let mention = page.into_page(None, None).mentions.remove(0);
        assert_eq!(mention.created_at, at("2026-11-23T10:00:00Z"));
    }

    #[test]
    fn bodies_that_are_no_page_are_errors_not_panics() {
        for body in [
            "",
            "{",
            r#"{"notifications": [{"uri": "at://"#,
            "[]",
            "null",
            "{}",
            r#"{"notifications": {}}"#,
            r#"{"notifications": [], "cursor": 5}"#,
            "\u{feff}{}",
        ] {
            let error = parse_notifications(body.as_bytes()).unwrap_err();
            assert!(
                matches!(error, SocialError::Malformed { status: 200, .. }),
                "{body}: {error:?}"
            );
        }
        assert!(parse_notifications(b"\xff\xfe").is_err());
    }

    #[test]
    fn a_dropped_reason_needs_no_post_but_still_its_envelope() {
        let like = r#"{"notifications": [{"uri": "at://did:plc:a/app.bsky.feed.like/3k",
            "cid": "c", "author": {"did": "did:plc:a", "handle": "a.test"}, "reason": "like",
            "record": {"subject": {}}, "isRead": false, "indexedAt": "2026-11-23T10:00:00Z"}],
            "cursor": ""}"#;
        let parsed = parse_notifications(like.as_bytes()).unwrap();
        assert_eq!(parsed.cursor, None, "an empty cursor is no cursor");
        assert!(parsed.into_page(None, None).mentions.is_empty());
        let headless = like.replace(r#""handle": "a.test""#, r#""handle": """#);
        let parsed = parse_notifications(headless.as_bytes()).unwrap();
        assert!(parsed.notifications.is_empty());
        assert_eq!(parsed.skipped.len(), 1);
    }

    #[test]
    fn post_urls_use_the_did_and_the_record_key() {
        assert_eq!(
            post_url(
                "did:plc:z72i7hdynmk6r22z27h6tvur",
                "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3lbq2v6hqkc2a"
            )
            .as_deref(),
            Some("https://bsky.app/profile/did:plc:z72i7hdynmk6r22z27h6tvur/post/3lbq2v6hqkc2a")
        );
        assert_eq!(
            post_url(
                "did:web:acme.example",
                "at://acme.example/app.bsky.feed.post/self"
            )
            .as_deref(),
            Some("https://bsky.app/profile/did:web:acme.example/post/self")
        );
        // A hostile DID cannot leave its path segment.
        assert_eq!(
            post_url("did:x/../../evil?q#f", "at://a/app.bsky.feed.post/k").as_deref(),
            Some("https://bsky.app/profile/did:x%2F..%2F..%2Fevil%3Fq%23f/post/k")
        );
        for uri in [
            "",
            "at://",
            "at://did:plc:a",
            "at://did:plc:a/app.bsky.feed.post",
            "at://did:plc:a/app.bsky.feed.post/",
            "at://did:plc:a/app.bsky.feed.post/k/extra",
            "https://bsky.app/profile/a/post/k",
        ] {
            assert_eq!(post_url("did:plc:a", uri), None, "{uri}");
        }
    }

    #[test]
    fn the_listing_url_asks_for_the_three_reasons_and_the_cursor() {
        let service = Url::parse("https://bsky.social").unwrap();
        assert_eq!(
            list_notifications_url(&service, None).unwrap().as_str(),
            "https://bsky.social/xrpc/app.bsky.notification.listNotifications?limit=50&reasons=mention&reasons=reply&reasons=quote"
        );
        let url = list_notifications_url(&service, Some("2026-11-23T09:59:00.000Z&x=1")).unwrap();
        let cursor: Vec<_> = url
            .query_pairs()
            .filter(|(name, _)| name == "cursor")
            .map(|(_, value)| value.into_owned())
            .collect();
        assert_eq!(
            cursor,
            ["2026-11-23T09:59:00.000Z&x=1"],
            "the cursor is encoded"
        );
        let with_path = Url::parse("https://pds.example/base/?x=1").unwrap();
        assert_eq!(
            xrpc_url(&with_path, CREATE_SESSION).unwrap().as_str(),
            "https://pds.example/base/xrpc/com.atproto.server.createSession"
        );
        let opaque = Url::parse("mailto:ops@acme.example").unwrap();
        assert!(matches!(
            xrpc_url(&opaque, CREATE_SESSION),
            Err(SocialError::Unavailable { .. })
        ));
    }

    #[test]
    fn xrpc_errors_read_their_name_and_message() {
        let expired =
            XrpcError::parse(br#"{"error":"ExpiredToken","message":"Token has expired"}"#);
        assert!(expired.is_token_refused());
        assert_eq!(expired.summary(), "ExpiredToken: Token has expired");
        assert!(XrpcError::parse(br#"{"error":"InvalidToken"}"#).is_token_refused());
        let limited =
            XrpcError::parse(br#"{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}"#);
        assert!(!limited.is_token_refused());
        for junk in [
            &b"<html>bad gateway</html>"[..],
            b"",
            b"[1]",
            b"{\"error\": 5}",
        ] {
            let error = XrpcError::parse(junk);
            assert_eq!(error.summary(), "no error description");
            assert!(!error.is_token_refused());
        }
        let long = format!(
            r#"{{"error":"InvalidRequest","message":"{}"}}"#,
            "é".repeat(1000)
        );
        assert!(XrpcError::parse(long.as_bytes()).summary().chars().count() <= DETAIL_LIMIT + 1);
    }

    #[test]
    fn rate_limit_headers_read_unix_seconds() {
        let headers = [
            ("ratelimit-limit", "3000"),
            ("ratelimit-remaining", "2999"),
            ("ratelimit-reset", "1795430000"),
            ("ratelimit-policy", "3000;w=300"),
        ];
        let lookup = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        let limit = rate_limit(lookup).unwrap();
        assert_eq!((limit.limit, limit.remaining), (3000, 2999));
        assert_eq!(limit.reset.timestamp(), 1_795_430_000);
        assert_eq!(
            rate_limit(|name| lookup(name).filter(|_| name != "ratelimit-reset")),
            None
        );
        assert_eq!(
            rate_limit(|name| if name == "ratelimit-limit" {
                Some("-1")
            } else {
                lookup(name)
            }),
            None
        );
    }

    #[test]
    fn session_replies_need_both_tokens_and_never_quote_them() {
        let now = at("2026-11-23T10:00:00Z");
        let session = parse_session(
            br#"{"did":"did:plc:acme","handle":"acme.bsky.social","accessJwt":"a.b.c","refreshJwt":"d.e.f","email":"ops@acme.example","active":true,"didDoc":{}}"#,
            now,
        )
        .unwrap();
        assert_eq!(
            (session.access_jwt.as_str(), session.refresh_jwt.as_str()),
            ("a.b.c", "d.e.f")
        );
        assert_eq!((session.created_at, session.refreshed_at), (now, now));
        let debug = format!("{session:?}");
        assert!(
            !debug.contains("a.b.c") && !debug.contains("d.e.f"),
            "{debug}"
        );

        let secret_in_wrong_place = br#"{"did":"did:plc:acme","handle":"h","accessJwt":"a.b.c","refreshJwt":{"secret-token":1}}"#;
        for body in [
            &secret_in_wrong_place[..],
            br#"{"did":"did:plc:acme","handle":"h","accessJwt":"a.b.c"}"#,
            br#"{"did":"did:plc:acme","handle":"h","accessJwt":"","refreshJwt":"x"}"#,
            b"[]",
            b"",
        ] {
            let error = parse_session(body, now).unwrap_err();
            assert!(matches!(error, SocialError::Malformed { .. }), "{error:?}");
            let text = error.to_string();
            assert!(
                !text.contains("a.b.c") && !text.contains("secret-token"),
                "{text}"
            );
        }
    }

    #[test]
    fn a_stored_session_keeps_the_documented_attribute_names() {
        let at = at("2026-11-23T10:00:00Z");
        let session = Session {
            did: "did:plc:acme".into(),
            handle: "acme.bsky.social".into(),
            access_jwt: "a".into(),
            refresh_jwt: "r".into(),
            created_at: at,
            refreshed_at: at,
        };
        let item = NewItem::encode(keys::session(Platform::Bluesky, "acme"), &session).unwrap();
        let mut names: Vec<_> = item.attributes.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "access_jwt",
                "created_at",
                "did",
                "handle",
                "refresh_jwt",
                "refreshed_at"
            ]
        );
        assert_eq!(item.key, Key::new("SESSION#bluesky#acme", "SESSION"));
    }

    fn outgoing(text: &str, key: &str, decided_at: &str) -> Outgoing {
        Outgoing {
            text: text.into(),
            reply_to: None,
            key: key.into(),
            decided_at: at(decided_at),
        }
    }

    /// The timestamp and clock id a TID holds.
    fn decode(tid: &str) -> (u64, u16) {
        let value = tid.bytes().fold(0u64, |value, byte| {
            let digit = TID_ALPHABET.iter().position(|&d| d == byte).unwrap() as u64;
            (value << 5) | digit
        });
        (value >> 10, (value & 0x3ff) as u16)
    }

    #[test]
    fn tids_match_the_published_examples() {
        // The spec: zero is all '2's, and its example TID.
        assert_eq!(tid(0, 0), "2222222222222");
        assert_eq!(decode("3jzfcijpj2z2a"), (1_688_137_381_887_007, 6));
        assert_eq!(tid(1_688_137_381_887_007, 6), "3jzfcijpj2z2a");
        // @atcute/tid's README: create(1724171495793000, 512), parse("3l25zusnsfctk").
        assert_eq!(tid(1_724_171_495_793_000, 512), "3l25zusnsfck2");
        assert_eq!(tid(1_724_171_495_793_000, 816), "3l25zusnsfctk");
        // hexpds's test vector.
        assert_eq!(tid(1_706_732_639_995_761, 243), "3kkciofrlvlbn");
        // Out-of-range bits are dropped, never carried into the top bit.
        assert_eq!(tid(u64::MAX, u16::MAX), tid((1 << 53) - 1, 1023));
        assert!(tid(u64::MAX, u16::MAX).starts_with('b'), "top bit 0");
    }

    #[test]
    fn tids_sort_as_text_in_time_then_clock_order() {
        let mut samples = vec![(0, 0), (1, 0), (0, 1), (1023, 1023), (1024, 0)];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..500 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            samples.push((x >> 11, (x & 0x3ff) as u16));
        }
        for &(a, ca) in &samples {
            for &(b, cb) in samples.iter().take(40) {
                let (ta, tb) = (tid(a, ca), tid(b, cb));
                assert_eq!(ta.len(), 13);
                assert!(ta.bytes().all(|c| TID_ALPHABET.contains(&c)), "{ta}");
                assert_eq!(ta.cmp(&tb), (a, ca).cmp(&(b, cb)), "{a}/{ca} {b}/{cb}");
            }
        }
    }

    #[test]
    fn fnv1a_matches_its_reference_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn a_record_key_is_the_decision_time_and_a_hash_of_the_key() {
        let post = outgoing("hi", "reply-1", "2026-11-23T10:00:00.123456Z");
        let rkey = record_key(&post);
        assert_eq!(rkey, record_key(&post.clone()), "the same on every attempt");
        let (micros, clock) = decode(&rkey);
        let hash = fnv1a(b"reply-1");
        assert_eq!(
            micros as i64,
            post.decided_at.timestamp() * 1_000_000 + ((hash >> 10) % 1_000_000) as i64
        );
        assert_eq!(u64::from(clock), hash % 1024);
        // The text plays no part: only the key and the decision time do.
        assert_eq!(
            record_key(&Outgoing {
                text: "other".into(),
                ..post.clone()
            }),
            rkey
        );
        assert_ne!(
            record_key(&Outgoing {
                key: "reply-2".into(),
                ..post.clone()
            }),
            rkey
        );
        let same_second = outgoing("hi", "reply-1", "2026-11-23T10:00:00.999999Z");
        assert_eq!(record_key(&same_second), rkey, "only the second counts");
        let later = outgoing("hi", "reply-1", "2026-11-23T10:00:01.000000Z");
        assert!(record_key(&later) > rkey);
        // Times a TID cannot hold still make a valid key, never a panic.
        let ancient = Outgoing {
            decided_at: DateTime::<Utc>::MIN_UTC,
            ..post.clone()
        };
        assert_eq!(decode(&record_key(&ancient)).0, 0);
        let far = Outgoing {
            decided_at: DateTime::<Utc>::MAX_UTC,
            ..post
        };
        assert_eq!(decode(&record_key(&far)).0, (1 << 53) - 1);
    }

    fn spans(text: &str) -> Vec<(&str, usize, usize)> {
        links(text)
            .into_iter()
            .map(|link| {
                assert_eq!(&text[link.byte_start..link.byte_end], link.uri);
                (
                    &text[link.byte_start..link.byte_end],
                    link.byte_start,
                    link.byte_end,
                )
            })
            .collect()
    }

    #[test]
    fn links_are_found_with_utf8_byte_offsets() {
        // The first URL starts at character 16 but at byte 22: ö, — and 🔧 take 2, 3 and 4.
        let text = "Störung — 🔧 see https://status.acme.example/i/42 and http://acme.example.";
        assert_eq!(
            spans(text),
            [
                ("https://status.acme.example/i/42", 22, 54),
                ("http://acme.example", 59, 78),
            ]
        );
        assert_eq!(text.chars().take_while(|&c| c != 'h').count(), 16);
    }

    #[test]
    fn trailing_punctuation_and_unbalanced_brackets_stay_outside_links() {
        assert_eq!(
            spans(
                "(details: https://acme.example/a), then https://acme.example/b, https://acme.example/c!?"
            ),
            [
                ("https://acme.example/a", 10, 32),
                ("https://acme.example/b", 40, 62),
                ("https://acme.example/c", 64, 86),
            ]
        );
        assert_eq!(
            spans("see https://en.wikipedia.org/wiki/Acme_(company)."),
            [("https://en.wikipedia.org/wiki/Acme_(company)", 4, 48)]
        );
        assert_eq!(
            spans("(https://en.wikipedia.org/wiki/Acme_(company))"),
            [("https://en.wikipedia.org/wiki/Acme_(company)", 1, 45)]
        );
        assert_eq!(
            spans("HTTPS://ACME.EXAMPLE/X"),
            [("HTTPS://ACME.EXAMPLE/X", 0, 22)]
        );
    }

    #[test]
    fn only_whole_urls_are_links() {
        for text in [
            "",
            "no links here",
            "https://",
            "https://.",
            "xhttps://acme.example",
            "see:https://acme.example",
            "ftp://acme.example",
            "acme.example/status",
            "é",
            "https:/acme.example",
        ] {
            assert_eq!(spans(text), [], "{text}");
        }
        // Every cut of a text mixing links and multi-byte characters: no panic.
        let text = "é https://a.example/ü (https://b.example) 🔧https://c.example";
        for (start, _) in text.char_indices() {
            let _ = links(&text[start..]);
        }
    }

    #[test]
    fn a_post_record_has_its_text_time_facets_and_reply() {
        let post = outgoing(
            "@carol.example.com fixed ✅ https://status.acme.example/i/42",
            "reply-1",
            "2026-11-23T10:00:00.123456Z",
        );
        let reply = ReplyRef {
            root: StrongRef {
                uri: "at://did:plc:a/app.bsky.feed.post/3root".into(),
                cid: "bafyroot".into(),
            },
            parent: StrongRef {
                uri: "at://did:plc:a/app.bsky.feed.post/3par".into(),
                cid: "bafypar".into(),
            },
        };
        assert_eq!(
            post_record(&post, Some(&reply)),
            serde_json::json!({
                "$type": "app.bsky.feed.post",
                "text": "@carol.example.com fixed ✅ https://status.acme.example/i/42",
                "createdAt": "2026-11-23T10:00:00.123Z",
                "facets": [{
                    "index": {"byteStart": 29, "byteEnd": 61},
                    "features": [{"$type": "app.bsky.richtext.facet#link",
                                  "uri": "https://status.acme.example/i/42"}],
                }],
                "reply": {
                    "root": {"uri": "at://did:plc:a/app.bsky.feed.post/3root", "cid": "bafyroot"},
                    "parent": {"uri": "at://did:plc:a/app.bsky.feed.post/3par", "cid": "bafypar"},
                },
            })
        );
        let plain = post_record(&outgoing("all clear", "k", "2026-11-23T10:00:00Z"), None);
        assert_eq!(
            plain,
            serde_json::json!({"$type": "app.bsky.feed.post", "text": "all clear",
                               "createdAt": "2026-11-23T10:00:00.000Z"})
        );
    }

    #[test]
    fn the_reply_root_is_the_parents_root_or_the_parent_itself() {
        let parent = "at://did:plc:c/app.bsky.feed.post/3par";
        let view = |record: Value| {
            serde_json::json!({"posts": [{
                "uri": parent, "cid": "bafypar",
                "author": {"did": "did:plc:c", "handle": "carol.example.com"},
                "record": record, "indexedAt": "2026-11-23T09:59:00.000Z"}]})
            .to_string()
        };
        let in_thread = view(serde_json::json!({
            "$type": "app.bsky.feed.post", "text": "still down?", "createdAt": "2026-11-23T09:59:00Z",
            "reply": {"root": {"uri": "at://did:plc:r/app.bsky.feed.post/3root", "cid": "bafyroot"},
                      "parent": {"uri": "at://did:plc:r/app.bsky.feed.post/3mid", "cid": "bafymid"}}}));
        let refs = parse_reply_ref(in_thread.as_bytes(), parent)
            .unwrap()
            .unwrap();
        assert_eq!(
            refs.parent,
            StrongRef {
                uri: parent.into(),
                cid: "bafypar".into()
            }
        );
        assert_eq!(
            refs.root,
            StrongRef {
                uri: "at://did:plc:r/app.bsky.feed.post/3root".into(),
                cid: "bafyroot".into()
            }
        );

        let first = view(
            serde_json::json!({"$type": "app.bsky.feed.post", "text": "down?",
                                            "createdAt": "2026-11-23T09:59:00Z"}),
        );
        let refs = parse_reply_ref(first.as_bytes(), parent).unwrap().unwrap();
        assert_eq!(refs.root, refs.parent);

        assert_eq!(parse_reply_ref(br#"{"posts": []}"#, parent).unwrap(), None);
        for body in [
            &b""[..],
            b"[]",
            b"{}",
            br#"{"posts": {}}"#,
            br#"{"posts": [{"uri": "at://did:plc:c/app.bsky.feed.post/3par"}]}"#,
            br#"{"posts": [{"uri": "at://did:plc:c/app.bsky.feed.post/3par", "cid": "c",
                "record": {"reply": {"root": {"uri": "at://x/y/z"}}}}]}"#,
            br#"{"posts": [{"uri": "at://did:plc:c/app.bsky.feed.post/3par", "cid": "c",
                "record": {"reply": 7}}]}"#,
        ] {
            let error = parse_reply_ref(body, parent).unwrap_err();
            assert!(matches!(error, SocialError::Malformed { .. }), "{error:?}");
        }
    }

    #[test]
    fn a_created_answer_gives_the_uri_and_the_bsky_link() {
        let response = Response {
            status: 200,
            headers: [
                ("ratelimit-limit", "5000"),
                ("ratelimit-remaining", "4997"),
                ("ratelimit-reset", "1795433600"),
            ]
            .into_iter()
            .map(|(n, v)| (n.parse().unwrap(), v.parse().unwrap()))
            .collect(),
            body: bytes::Bytes::from_static(
                br#"{"uri": "at://did:plc:acme/app.bsky.feed.post/3mabc2defgh22", "cid": "bafyrei",
                    "commit": {"cid": "bafycommit", "rev": "3mabc2defgh22"}, "validationStatus": "valid"}"#,
            ),
        };
        let posted = created(&response, "did:plc:acme").unwrap();
        assert_eq!(
            posted.id,
            "at://did:plc:acme/app.bsky.feed.post/3mabc2defgh22"
        );
        assert_eq!(
            posted.url,
            "https://bsky.app/profile/did:plc:acme/post/3mabc2defgh22"
        );
        assert!(!posted.recovered);
        assert_eq!(posted.rate_limit.map(|l| l.remaining), Some(4997));

        for body in [&b""[..], b"{}", br#"{"uri": "at://did:plc:acme"}"#] {
            let response = Response {
                body: bytes::Bytes::copy_from_slice(body),
                ..response.clone()
            };
            let error = created(&response, "did:plc:acme").unwrap_err();
            assert!(matches!(error, SocialError::Ambiguous { .. }), "{error:?}");
        }
    }

    #[test]
    fn a_taken_record_key_is_recognised_by_name_or_words() {
        for body in [
            &br#"{"error": "RecordAlreadyExists", "message": "Record already exists"}"#[..],
            br#"{"error": "InvalidRequest", "message": "Record already exists at at://did:plc:a/app.bsky.feed.post/3k"}"#,
        ] {
            assert!(already_exists(&XrpcError::parse(body)));
        }
        for body in [
            &br#"{"error": "InvalidRequest", "message": "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"}"#[..],
            br#"{"error": "InternalServerError", "message": "Internal Server Error"}"#,
            b"",
        ] {
            assert!(!already_exists(&XrpcError::parse(body)));
        }
    }
}

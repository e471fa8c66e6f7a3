//! X API v2 wire format: a page of `GET /2/users/{id}/mentions` (or of the account's own
//! `GET /2/users/{id}/tweets`, the same shape) with its expansions, the body and answer of
//! `POST /2/tweets`, the error shapes X answers with, and the rate-limit headers.
//!
//! Parsing is separate from the HTTP client so that every shape X is documented to send (or
//! seen to send) is tested from bytes: a 200 that carries both `data` and `errors`,
//! `application/problem+json` errors, the 429 body in the v1.1 shape
//! (`{"errors":[{"code":88,…}]}`) and in the v2 shape (`{"title":"Too Many Requests",…}`),
//! and `usage-capped`. X's OpenAPI document renamed `tweets` to `posts` between versions
//! 2.159 and 2.167 (`includes.posts`, `referenced_posts`), so both spellings are accepted.
//! Malformed bytes are an error for that call, never a panic; one post, user or problem of
//! the wrong shape (a missing `id`, a `created_at` outside [`timestamp`]'s range) is
//! skipped and named in [`MentionsPage::skipped`], and the rest of the page is kept.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::social::{RateLimit, clipped, timestamp};

/// One post of the mentions timeline, with what sitrep needs of it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Post {
    /// The post's id (a decimal string; ids grow with time).
    pub id: String,
    /// Its text.
    pub text: String,
    /// Its author's user id.
    #[serde(default)]
    pub author_id: Option<String>,
    /// When it was posted (within [`timestamp`]'s range, or the post is unreadable).
    #[serde(default, deserialize_with = "timestamp::deserialize_option")]
    pub created_at: Option<DateTime<Utc>>,
    /// The conversation (thread) it belongs to.
    #[serde(default)]
    pub conversation_id: Option<String>,
    /// Its language as X detected it (BCP 47), when asked for.
    #[serde(default)]
    pub lang: Option<String>,
    /// Posts it replies to, quotes or reposts.
    #[serde(default, alias = "referenced_posts")]
    pub referenced_tweets: Vec<Reference>,
    /// What X recognised in its text (asked for with `tweet.fields=entities`).
    #[serde(default)]
    pub entities: Option<Entities>,
}

impl Post {
    /// The user ids of the accounts its text @-mentions, in order of appearance; mentions X
    /// could not resolve to an account (no `id`) are left out.
    pub fn mentioned_ids(&self) -> impl Iterator<Item = &str> {
        self.entities
            .iter()
            .flat_map(|e| e.mentions.iter().flatten())
            .filter_map(|m| m.id.as_deref())
            .filter(|id| !id.is_empty())
    }

    /// Whether it replies to the post `id`.
    pub fn replies_to(&self, id: &str) -> bool {
        self.referenced_tweets
            .iter()
            .any(|r| r.kind == "replied_to" && r.id == id)
    }
}

/// The entities of a post's text; only mentions are read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Entities {
    /// The @-mentions (the 2.167 spec allows `null`).
    #[serde(default)]
    pub mentions: Option<Vec<MentionEntity>>,
}

/// One @-mention in a post's text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MentionEntity {
    /// The mentioned user's id; optional in the spec (absent or `null` for a handle that
    /// names no account).
    #[serde(default)]
    pub id: Option<String>,
    /// The handle as written, without `@`.
    #[serde(default)]
    pub username: Option<String>,
}

/// How a post refers to another.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Reference {
    /// `replied_to`, `quoted` or `retweeted`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The other post's id.
    pub id: String,
}

/// A user from the page's expansions.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    /// The user id.
    pub id: String,
    /// The handle, without `@`.
    pub username: String,
    /// The display name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A problem object: in `errors` of a 200, or the whole body of a failed call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Problem {
    /// The problem type URI, e.g. `https://api.x.com/2/problems/resource-not-found`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// A short title.
    #[serde(default)]
    pub title: Option<String>,
    /// What went wrong, in X's words.
    #[serde(default)]
    pub detail: Option<String>,
    /// The HTTP status X reports in the body.
    #[serde(default)]
    pub status: Option<u16>,
    /// The v1.1-style numeric code (88 is "rate limit exceeded").
    #[serde(default)]
    pub code: Option<i64>,
    /// The v1.1-style message.
    #[serde(default)]
    pub message: Option<String>,
    /// The resource a partial error is about.
    #[serde(default)]
    pub resource_id: Option<String>,
}

impl Problem {
    /// One line for logs and error messages.
    pub fn summary(&self) -> String {
        let what = [&self.title, &self.detail, &self.message]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(": ");
        match (&self.kind, what.is_empty()) {
            (Some(kind), true) => kind.clone(),
            (Some(kind), false) => format!("{what} ({kind})"),
            (None, true) => "an error with no description".to_owned(),
            (None, false) => what,
        }
    }
}

/// A parsed page of mentions, newest first as X sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MentionsPage {
    /// The mentions on this page.
    pub posts: Vec<Post>,
    /// Authors and mentioned users, by id.
    pub users: HashMap<String, User>,
    /// Referenced posts (the replied-to or quoted ones), by id.
    pub referenced: HashMap<String, Post>,
    /// The newest id on this page: the first page's becomes the next `since_id`.
    pub newest_id: Option<String>,
    /// The token for the next (older) page, if any.
    pub next_token: Option<String>,
    /// Partial errors X returned beside the data (e.g. a referenced post that was deleted).
    pub partial_errors: Vec<Problem>,
    /// Why each post, user or problem that could not be read was skipped.
    pub skipped: Vec<String>,
}

/// Why a call to X failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XError {
    /// Too many requests; try again after `reset` (when X said).
    #[error("X rate limit reached ({}); resets {}", .problem.summary(), reset_text(.reset))]
    RateLimited {
        /// When the window resets, from `x-rate-limit-reset`.
        reset: Option<DateTime<Utc>>,
        /// What X said.
        problem: Box<Problem>,
    },
    /// The app's monthly usage cap is spent: nothing works until it renews.
    #[error("X usage cap reached: {}", .0.summary())]
    UsageCapped(Box<Problem>),
    /// The credentials were refused (401).
    #[error("X refused the credentials (401): {}", .0.summary())]
    Unauthorized(Box<Problem>),
    /// The call is not allowed for this app or user (403).
    #[error("X forbade the call (403): {}", .0.summary())]
    Forbidden(Box<Problem>),
    /// A post was refused as a duplicate of one the account already made (403 "duplicate
    /// content"): sending the same text again would be refused again.
    #[error("X refused a duplicate post (403): {}", .0.summary())]
    Duplicate(Box<Problem>),
    /// The user (or other resource) does not exist (404).
    #[error("X found no such resource (404): {}", .0.summary())]
    NotFound(Box<Problem>),
    /// X rejected the request as invalid (400 and other 4xx).
    #[error("X rejected the request ({status}): {}", .problem.summary())]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// What X said.
        problem: Box<Problem>,
    },
    /// X failed (5xx): worth retrying with backoff.
    #[error("X failed ({status}): {}", .problem.summary())]
    Unavailable {
        /// The HTTP status.
        status: u16,
        /// What X said, when it said anything.
        problem: Box<Problem>,
    },
    /// The body was not what the API documents.
    #[error("X sent a response sitrep cannot read ({status}): {reason}")]
    Malformed {
        /// The HTTP status.
        status: u16,
        /// What was wrong with it.
        reason: String,
    },
}

impl XError {
    /// Whether retrying the same call later (with backoff) can succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Unavailable { .. })
    }
}

fn reset_text(reset: &Option<DateTime<Utc>>) -> String {
    reset.map_or_else(|| "at an unknown time".to_owned(), |at| format!("at {at}"))
}

/// Reads `x-rate-limit-limit`, `-remaining` and `-reset` (Unix seconds) through `header`, a
/// lookup by lower-case name; `None` unless all three are present and valid.
pub fn rate_limit<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Option<RateLimit> {
    let number = |name: &str| header(name).and_then(|v| v.trim().parse::<i64>().ok());
    Some(RateLimit {
        limit: u32::try_from(number("x-rate-limit-limit")?).ok()?,
        remaining: u32::try_from(number("x-rate-limit-remaining")?).ok()?,
        reset: reset_time(number("x-rate-limit-reset")?)?,
    })
}

/// `x-rate-limit-reset` alone, for a refusal that carries no other rate-limit header.
pub fn rate_limit_reset<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Option<DateTime<Utc>> {
    reset_time(header("x-rate-limit-reset")?.trim().parse().ok()?)
}

fn reset_time(unix_seconds: i64) -> Option<DateTime<Utc>> {
    timestamp::from_unix_seconds(unix_seconds)
}

// The lists are raw, so that one item of the wrong shape is skipped, not the page.
#[derive(Deserialize)]
struct RawPage {
    #[serde(default)]
    data: Vec<Value>,
    #[serde(default)]
    includes: RawIncludes,
    #[serde(default)]
    meta: RawMeta,
    #[serde(default)]
    errors: Vec<Value>,
}

#[derive(Deserialize, Default)]
struct RawIncludes {
    #[serde(default)]
    users: Vec<Value>,
    #[serde(default, alias = "posts")]
    tweets: Vec<Value>,
}

#[derive(Deserialize, Default)]
struct RawMeta {
    #[serde(default)]
    newest_id: Option<String>,
    #[serde(default)]
    next_token: Option<String>,
}

/// The body of a failed call: a problem object, or the v1.1 `{"errors":[…]}` shape.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawFailure {
    Legacy { errors: Vec<Problem> },
    Problem(Problem),
}

const USAGE_CAPPED: &str = "https://api.x.com/2/problems/usage-capped";

/// Parses the answer to a mentions call: `status` and `body` as received, and `reset` from
/// the rate-limit headers (used when the call was refused for the rate limit).
pub fn parse_mentions(
    status: u16,
    body: &[u8],
    reset: Option<DateTime<Utc>>,
) -> Result<MentionsPage, XError> {
    if status == 200 {
        // serde would also read a struct from a JSON array; X only ever sends an object.
        if body.trim_ascii_start().first() != Some(&b'{') {
            return Err(XError::Malformed {
                status,
                reason: "expected a JSON object".into(),
            });
        }
        let raw: RawPage = serde_json::from_slice(body).map_err(|e| XError::Malformed {
            status,
            reason: e.to_string(),
        })?;
        let mut skipped = Vec::new();
        let posts: Vec<Post> = items(raw.data, "post", &mut skipped);
        let users: Vec<User> = items(raw.includes.users, "included user", &mut skipped);
        let referenced: Vec<Post> = items(raw.includes.tweets, "included post", &mut skipped);
        return Ok(MentionsPage {
            posts,
            users: users.into_iter().map(|u| (u.id.clone(), u)).collect(),
            referenced: referenced.into_iter().map(|p| (p.id.clone(), p)).collect(),
            newest_id: raw.meta.newest_id,
            // An empty token would start the timeline over from the newest page.
            next_token: raw.meta.next_token.filter(|t| !t.is_empty()),
            partial_errors: items(raw.errors, "problem", &mut skipped),
            skipped,
        });
    }
    Err(failure(status, body, reset))
}

/// Every value of `raw` that reads as a `T`; each one that does not is named in `skipped`.
fn items<T: DeserializeOwned>(raw: Vec<Value>, what: &str, skipped: &mut Vec<String>) -> Vec<T> {
    raw.into_iter()
        .enumerate()
        .filter_map(|(index, value)| {
            let id = value
                .get("id")
                .and_then(Value::as_str)
                .map(|id| format!(" {id}"))
                .unwrap_or_default();
            // serde would also read a struct from an array; X only ever sends objects.
            let read = match value {
                Value::Object(_) => serde_json::from_value(value).map_err(|e| e.to_string()),
                _ => Err("not a JSON object".to_owned()),
            };
            read.map_err(|e| skipped.push(clipped(format!("{what} {index}{id} skipped: {e}"))))
                .ok()
        })
        .collect()
}

/// The error a failed call's `status` and `body` amount to.
fn failure(status: u16, body: &[u8], reset: Option<DateTime<Utc>>) -> XError {
    let problem = Box::new(match serde_json::from_slice::<RawFailure>(body) {
        Ok(RawFailure::Legacy { errors }) => errors.into_iter().next().unwrap_or_default(),
        Ok(RawFailure::Problem(problem)) => problem,
        // An error page from a proxy says nothing useful; the status still does.
        Err(_) if status >= 500 || status == 429 => Problem::default(),
        Err(e) => {
            return XError::Malformed {
                status,
                reason: e.to_string(),
            };
        }
    });
    match status {
        _ if problem.kind.as_deref() == Some(USAGE_CAPPED) => XError::UsageCapped(problem),
        429 => XError::RateLimited { reset, problem },
        401 => XError::Unauthorized(problem),
        403 => XError::Forbidden(problem),
        404 => XError::NotFound(problem),
        500..=599 => XError::Unavailable { status, problem },
        _ => XError::Rejected { status, problem },
    }
}

/// The body of `POST /2/tweets` (`CreatePostsRequest`), with only the fields sitrep sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateRequest<'a> {
    /// The post's text.
    pub text: &'a str,
    /// The post it answers; absent for a post that starts a thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<CreateReply<'a>>,
}

/// The `reply` object of a create request (`CreatePostsReply`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateReply<'a> {
    /// The post being answered.
    pub in_reply_to_tweet_id: &'a str,
    /// Users the reply must not address although the thread names them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exclude_reply_user_ids: Vec<&'a str>,
}

/// A post X created (`CreatePostsResponse.data`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// Its id.
    pub id: String,
    /// Its text as X stored it (links wrapped in `t.co`).
    pub text: String,
    /// Problems X reported beside the data; the post was made all the same.
    pub partial_errors: Vec<Problem>,
}

#[derive(Deserialize)]
struct RawCreated {
    data: RawCreatedData,
    #[serde(default)]
    errors: Vec<Problem>,
}

#[derive(Deserialize)]
struct RawCreatedData {
    id: String,
    #[serde(default)]
    text: String,
}

/// Parses the answer to `POST /2/tweets`: `status` and `body` as received, and `reset` from
/// the rate-limit headers. Any 2xx whose `data.id` can be read is the created post, even
/// beside `errors`; a 2xx without one is [`XError::Malformed`] with that 2xx status, which
/// the caller must treat as "posted, id unknown". A 403 for duplicate content is
/// [`XError::Duplicate`].
pub fn parse_created(
    status: u16,
    body: &[u8],
    reset: Option<DateTime<Utc>>,
) -> Result<Created, XError> {
    if (200..300).contains(&status) {
        let malformed = |reason: String| XError::Malformed { status, reason };
        if body.trim_ascii_start().first() != Some(&b'{') {
            return Err(malformed("expected a JSON object".into()));
        }
        let raw: RawCreated = serde_json::from_slice(body).map_err(|e| malformed(e.to_string()))?;
        if raw.data.id.is_empty() {
            return Err(malformed("the created post has an empty id".into()));
        }
        return Ok(Created {
            id: raw.data.id,
            text: raw.data.text,
            partial_errors: raw.errors,
        });
    }
    Err(match failure(status, body, reset) {
        XError::Forbidden(problem) if is_duplicate(&problem) => XError::Duplicate(problem),
        other => other,
    })
}

/// Whether a refusal is X's "You are not allowed to create a Tweet with duplicate content."
/// (or v1.1's code 187, "Status is a duplicate.").
pub fn is_duplicate(problem: &Problem) -> bool {
    problem.code == Some(187)
        || [&problem.title, &problem.detail, &problem.message]
            .into_iter()
            .flatten()
            .map(|text| text.to_lowercase())
            .any(|text| text.contains("duplicate content") || text.contains("is a duplicate"))
}

static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"https?://\S+").expect("the URL pattern is valid"));

/// Whether `posted` (a post's text as X returns it) is the text sitrep sent as `sent`: X
/// wraps every link in `t.co` and escapes `&`, `<` and `>` in v2 answers, so links compare
/// as placeholders, the escapes are undone, and surrounding whitespace is ignored.
pub fn same_text(sent: &str, posted: &str) -> bool {
    // `&amp;` last, so that an escaped entity (`&amp;lt;`) is decoded once, to `&lt;`.
    let posted = posted
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let shape = |text: &str| URL.replace_all(text.trim(), "\u{1}").into_owned();
    shape(sent) == shape(&posted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A page of mentions as X sends it: two posts, their authors, a replied-to post, and
    /// a partial error for a deleted one.
    const PAGE: &str = include_str!("../../../tests/fixtures/x-mentions-page.json");

    #[test]
    fn a_page_keeps_its_data_beside_partial_errors() {
        let page = parse_mentions(200, PAGE.as_bytes(), None).unwrap();
        assert_eq!(page.posts.len(), 2);
        assert_eq!(page.newest_id.as_deref(), Some("1860000000000000002"));
        assert_eq!(
            page.next_token.as_deref(),
            Some("7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i")
        );
        assert_eq!(page.users["783214"].username, "X");
        assert_eq!(
            page.posts[1].referenced_tweets,
            vec![Reference {
                kind: "replied_to".into(),
                id: "1859999999999999999".into()
            }]
        );
        assert!(page.referenced.contains_key("1859999999999999999"));
        assert_eq!(page.partial_errors.len(), 1, "kept, not fatal");
        assert_eq!(
            page.posts[0].created_at,
            Utc.with_ymd_and_hms(2026, 11, 23, 10, 2, 11).single()
        );
    }

    #[test]
    fn the_posts_spelling_of_the_newer_spec_reads_the_same() {
        let renamed = PAGE
            .replace("\"tweets\":", "\"posts\":")
            .replace("referenced_tweets\":", "referenced_posts\":");
        assert_eq!(
            parse_mentions(200, renamed.as_bytes(), None),
            parse_mentions(200, PAGE.as_bytes(), None)
        );
    }

    #[test]
    fn an_empty_timeline_is_an_empty_page() {
        let page = parse_mentions(200, br#"{"meta":{"result_count":0}}"#, None).unwrap();
        assert!(page.posts.is_empty());
        assert_eq!(page.newest_id, None);
        assert_eq!(page.next_token, None);
    }

    #[test]
    fn both_429_shapes_are_rate_limits_with_their_reset() {
        let reset = Utc.timestamp_opt(1_795_430_000, 0).single();
        let legacy = br#"{"errors":[{"code":88,"message":"Rate limit exceeded"}]}"#;
        let modern = br#"{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}"#;
        for body in [&legacy[..], &modern[..], b"<html>slow down</html>"] {
            let error = parse_mentions(429, body, reset).unwrap_err();
            assert!(
                matches!(&error, XError::RateLimited { reset: r, .. } if *r == reset),
                "{error:?}"
            );
            assert!(error.is_transient());
        }
        let legacy = parse_mentions(429, legacy, reset).unwrap_err();
        assert!(
            legacy.to_string().contains("Rate limit exceeded"),
            "{legacy}"
        );
    }

    #[test]
    fn usage_capped_is_told_apart_from_a_rate_limit() {
        let body = br#"{"title":"UsageCapExceeded","detail":"Usage cap exceeded: Monthly product cap","type":"https://api.x.com/2/problems/usage-capped","period":"Monthly","scope":"Product"}"#;
        let error = parse_mentions(429, body, None).unwrap_err();
        assert!(matches!(error, XError::UsageCapped(_)), "{error:?}");
        assert!(!error.is_transient());
    }

    #[test]
    fn problem_json_errors_map_to_their_kind() {
        let invalid = br#"{"errors":[{"parameters":{"max_results":["500"]},"message":"The `max_results` query parameter value [500] is not between 5 and 100"}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.x.com/2/problems/invalid-request"}"#;
        let error = parse_mentions(400, invalid, None).unwrap_err();
        assert!(
            matches!(error, XError::Rejected { status: 400, .. }),
            "{error:?}"
        );
        let unauthorized = br#"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#;
        assert!(matches!(
            parse_mentions(401, unauthorized, None),
            Err(XError::Unauthorized(_))
        ));
        let forbidden = br#"{"title":"Forbidden","type":"https://api.x.com/2/problems/client-forbidden","detail":"not permitted","reason":"client-not-enrolled"}"#;
        assert!(matches!(
            parse_mentions(403, forbidden, None),
            Err(XError::Forbidden(_))
        ));
        let unavailable = parse_mentions(503, b"upstream connect error", None).unwrap_err();
        assert!(unavailable.is_transient(), "{unavailable:?}");
    }

    #[test]
    fn malformed_bodies_are_errors_not_panics() {
        for body in [
            &b""[..],
            b"{",
            b"[]",
            b"{\"data\": {}}",
            b"\xff\xfe",
            b"null",
        ] {
            let error = parse_mentions(200, body, None).unwrap_err();
            assert!(
                matches!(error, XError::Malformed { status: 200, .. }),
                "{error:?}"
            );
        }
        assert!(matches!(
            parse_mentions(400, b"not json", None),
            Err(XError::Malformed { status: 400, .. })
        ));
    }

    #[test]
    fn malformed_posts_are_skipped_beside_the_good_ones() {
        let post = |id: &str, created_at: &str| {
            format!(
                r#"{{"id": "{id}", "text": "@acme down?", "author_id": "7", "created_at": "{created_at}"}}"#
            )
        };
        let good = [
            post("1860000000000000003", "2026-11-23T10:02:11.000Z"),
            post("1860000000000000001", "2026-11-23T10:00:00.000Z"),
        ];
        for broken in [
            post("1860000000000000002", "+262142-11-23T10:00:00.000Z"),
            post("1860000000000000002", "-262143-11-23T10:00:00.000Z"),
            post("1860000000000000002", "2201-01-01T00:00:00.000Z"),
            post("1860000000000000002", "1999-12-31T23:59:59.000Z"),
            post("1860000000000000002", "soon"),
            r#"{"id": "1860000000000000002"}"#.to_owned(),
            r#"{"id": 1860000000000000002, "text": "numeric id"}"#.to_owned(),
            r#"{"text": "no id"}"#.to_owned(),
            r#"{"id": "1860000000000000002", "text": "x", "referenced_tweets": 5}"#.to_owned(),
            "7".to_owned(),
            "null".to_owned(),
            r#"["1860000000000000002", "an array, not a post"]"#.to_owned(),
        ] {
            let body = format!(
                r#"{{"data": [{}, {broken}, {}],
                    "includes": {{"users": [{{"id": "7", "username": "dev"}}, {{"id": 8}}],
                                  "tweets": [{broken}]}},
                    "meta": {{"newest_id": "1860000000000000003"}}}}"#,
                good[0], good[1]
            );
            let page = parse_mentions(200, body.as_bytes(), None).unwrap();
            let ids: Vec<&str> = page.posts.iter().map(|p| p.id.as_str()).collect();
            assert_eq!(
                ids,
                ["1860000000000000003", "1860000000000000001"],
                "{broken}"
            );
            assert_eq!(page.users.len(), 1);
            assert!(page.referenced.is_empty());
            assert_eq!(page.skipped.len(), 3, "{broken}: {:?}", page.skipped);
            assert!(page.skipped[0].starts_with("post 1"), "{:?}", page.skipped);
            assert_eq!(page.newest_id.as_deref(), Some("1860000000000000003"));
        }
    }

    #[test]
    fn implausible_reset_headers_are_ignored() {
        for reset in [
            "8210266876799",
            "-8334632851200",
            "0",
            "9223372036854775807",
        ] {
            let headers = HashMap::from([
                ("x-rate-limit-limit", "300"),
                ("x-rate-limit-remaining", "0"),
                ("x-rate-limit-reset", reset),
            ]);
            assert_eq!(rate_limit(|name| headers.get(name).copied()), None);
            assert_eq!(rate_limit_reset(|name| headers.get(name).copied()), None);
        }
    }

    #[test]
    fn mention_entities_give_the_named_accounts_ids() {
        let body = br#"{"data": [
          {"id": "1860000000000000003", "text": "@acme @jane @nobody_here @jane is login down?",
           "author_id": "7",
           "entities": {"mentions": [
             {"start": 0, "end": 5, "username": "acme", "id": "42"},
             {"start": 6, "end": 11, "username": "jane", "id": "1001"},
             {"start": 12, "end": 24, "username": "nobody_here"},
             {"start": 25, "end": 30, "username": "jane", "id": "1001"}]}},
          {"id": "1860000000000000002", "text": "@acme hi", "author_id": "8",
           "entities": {"mentions": null, "urls": null}},
          {"id": "1860000000000000001", "text": "@acme hi", "author_id": "9",
           "entities": {"hashtags": [{"start": 0, "end": 4, "tag": "x"}]}}
        ]}"#;
        let page = parse_mentions(200, body, None).unwrap();
        let ids: Vec<Vec<&str>> = page
            .posts
            .iter()
            .map(|p| p.mentioned_ids().collect())
            .collect();
        assert_eq!(ids, [vec!["42", "1001", "1001"], vec![], vec![]]);
    }

    const CREATED: &str = r#"{"data":{"edit_history_tweet_ids":["1860000000000000100"],"id":"1860000000000000100","text":"@dev We are looking into it: https://t.co/abc123XYZ"}}"#;

    #[test]
    fn a_created_post_reads_its_id_even_beside_errors() {
        let created = parse_created(201, CREATED.as_bytes(), None).unwrap();
        assert_eq!(created.id, "1860000000000000100");
        assert!(created.text.ends_with("https://t.co/abc123XYZ"));
        assert!(created.partial_errors.is_empty());

        let with_errors = r#"{"data":{"id":"1860000000000000101","text":"ok"},
          "errors":[{"title":"Not Found Error","detail":"Could not find something.",
                     "type":"https://api.x.com/2/problems/resource-not-found"}]}"#;
        let created = parse_created(200, with_errors.as_bytes(), None).unwrap();
        assert_eq!(created.id, "1860000000000000101");
        assert_eq!(created.partial_errors.len(), 1);
    }

    #[test]
    fn an_unreadable_success_is_malformed_with_its_2xx_status() {
        for body in [
            &b""[..],
            b"{",
            b"[]",
            b"{}",
            b"{\"data\": null}",
            b"{\"data\": {\"text\": \"no id\"}}",
            b"{\"data\": {\"id\": \"\", \"text\": \"\"}}",
            b"{\"errors\":[{\"title\":\"Internal\"}]}",
        ] {
            let error = parse_created(201, body, None).unwrap_err();
            assert!(
                matches!(error, XError::Malformed { status: 201, .. }),
                "{error:?}"
            );
        }
    }

    #[test]
    fn duplicate_content_is_told_apart_from_other_refusals() {
        let duplicate = br#"{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}"#;
        let error = parse_created(403, duplicate, None).unwrap_err();
        assert!(matches!(error, XError::Duplicate(_)), "{error:?}");
        assert!(!error.is_transient());
        let legacy = br#"{"errors":[{"code":187,"message":"Status is a duplicate."}]}"#;
        assert!(matches!(
            parse_created(403, legacy, None),
            Err(XError::Duplicate(_))
        ));

        let not_summoned = br#"{"detail":"Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.","type":"about:blank","title":"Forbidden","status":403}"#;
        let error = parse_created(403, not_summoned, None).unwrap_err();
        assert!(matches!(error, XError::Forbidden(_)), "{error:?}");
        assert!(error.to_string().contains("not been mentioned"), "{error}");
        // Only a 403 is a duplicate refusal; the words elsewhere are some other problem.
        let invalid = br#"{"title":"Invalid Request","detail":"duplicate content in exclude_reply_user_ids","type":"https://api.x.com/2/problems/invalid-request"}"#;
        assert!(matches!(
            parse_created(400, invalid, None),
            Err(XError::Rejected { status: 400, .. })
        ));
        let busy = parse_created(503, b"<html>busy</html>", None).unwrap_err();
        assert!(
            matches!(busy, XError::Unavailable { status: 503, .. }),
            "{busy:?}"
        );
    }

    #[test]
    fn the_create_body_has_only_what_is_set() {
        let update = CreateRequest {
            text: "Maintenance tonight",
            reply: None,
        };
        assert_eq!(
            serde_json::to_value(&update).unwrap(),
            serde_json::json!({"text": "Maintenance tonight"})
        );
        let reply = CreateRequest {
            text: "@dev on it",
            reply: Some(CreateReply {
                in_reply_to_tweet_id: "1860000000000000002",
                exclude_reply_user_ids: vec![],
            }),
        };
        assert_eq!(
            serde_json::to_value(&reply).unwrap(),
            serde_json::json!({"text": "@dev on it", "reply": {"in_reply_to_tweet_id": "1860000000000000002"}})
        );
    }

    #[test]
    fn text_compares_with_links_set_aside() {
        let sent =
            "We are investigating API errors. Updates: https://status.acme.example/incidents/42";
        let posted = "We are investigating API errors. Updates: https://t.co/Zx9aBcD3eF";
        assert!(same_text(sent, posted));
        assert!(
            same_text(&format!("  {sent}\n"), posted),
            "surrounding whitespace"
        );
        assert!(same_text(
            "See http://acme.example/a. Then https://acme.example/b",
            "See https://t.co/1 Then https://t.co/2"
        ));
        assert!(same_text(
            "Q&A <soon> & more",
            "Q&amp;A &lt;soon&gt; &amp; more"
        ));
        assert!(
            same_text("literal &lt;", "literal &amp;lt;"),
            "decoded once"
        );
        assert!(!same_text(
            sent,
            "We are investigating login errors. Updates: https://t.co/Zx9aBcD3eF"
        ));
        assert!(
            !same_text("Updates: https://a.example", "Updates:"),
            "a link is not nothing"
        );
        assert!(!same_text(
            "one link https://a.example",
            "one link https://t.co/1 https://t.co/2"
        ));
    }

    #[test]
    fn rate_limit_headers_read_unix_seconds() {
        let headers = HashMap::from([
            ("x-rate-limit-limit", "300"),
            ("x-rate-limit-remaining", "0"),
            ("x-rate-limit-reset", "1795430000"),
        ]);
        let limit = rate_limit(|name| headers.get(name).copied()).unwrap();
        assert_eq!(limit.limit, 300);
        assert_eq!(limit.remaining, 0);
        assert_eq!(limit.reset.timestamp(), 1_795_430_000);
        let partial = HashMap::from([("x-rate-limit-limit", "300")]);
        assert_eq!(rate_limit(|name| partial.get(name).copied()), None);
    }
}

//! X API v2 wire format for `GET /2/users/{id}/mentions`: a page of mentions with its
//! expansions, the error shapes X answers with, and the rate-limit headers.
//!
//! Parsing is separate from the HTTP client so that every shape X is documented to send (or
//! seen to send) is tested from bytes: a 200 that carries both `data` and `errors`,
//! `application/problem+json` errors, the 429 body in the v1.1 shape
//! (`{"errors":[{"code":88,…}]}`) and in the v2 shape (`{"title":"Too Many Requests",…}`),
//! and `usage-capped`. X's OpenAPI document renamed `tweets` to `posts` between versions
//! 2.159 and 2.167 (`includes.posts`, `referenced_posts`), so both spellings are accepted.
//! Malformed bytes are an error for that call, never a panic.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;

use crate::social::RateLimit;

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
    /// When it was posted.
    #[serde(default)]
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
    Utc.timestamp_opt(unix_seconds, 0).single()
}

#[derive(Deserialize)]
struct RawPage {
    #[serde(default)]
    data: Vec<Post>,
    #[serde(default)]
    includes: RawIncludes,
    #[serde(default)]
    meta: RawMeta,
    #[serde(default)]
    errors: Vec<Problem>,
}

#[derive(Deserialize, Default)]
struct RawIncludes {
    #[serde(default)]
    users: Vec<User>,
    #[serde(default, alias = "posts")]
    tweets: Vec<Post>,
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
        return Ok(MentionsPage {
            posts: raw.data,
            users: raw
                .includes
                .users
                .into_iter()
                .map(|u| (u.id.clone(), u))
                .collect(),
            referenced: raw
                .includes
                .tweets
                .into_iter()
                .map(|p| (p.id.clone(), p))
                .collect(),
            newest_id: raw.meta.newest_id,
            next_token: raw.meta.next_token,
            partial_errors: raw.errors,
        });
    }
    let problem = Box::new(match serde_json::from_slice::<RawFailure>(body) {
        Ok(RawFailure::Legacy { errors }) => errors.into_iter().next().unwrap_or_default(),
        Ok(RawFailure::Problem(problem)) => problem,
        // An error page from a proxy says nothing useful; the status still does.
        Err(_) if status >= 500 || status == 429 => Problem::default(),
        Err(e) => {
            return Err(XError::Malformed {
                status,
                reason: e.to_string(),
            });
        }
    });
    Err(match status {
        _ if problem.kind.as_deref() == Some(USAGE_CAPPED) => XError::UsageCapped(problem),
        429 => XError::RateLimited { reset, problem },
        401 => XError::Unauthorized(problem),
        403 => XError::Forbidden(problem),
        404 => XError::NotFound(problem),
        500..=599 => XError::Unavailable { status, problem },
        _ => XError::Rejected { status, problem },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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

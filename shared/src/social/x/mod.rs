//! The X API v2 client: the mentions timeline, read with an app-only bearer token or with
//! OAuth 1.0a user context.
//!
//! One call is one page of `GET /2/users/{id}/mentions`. The polling recipe X documents is
//! kept by the mentions service through [`Paging::NewestFirst`]: `since_id` stays fixed
//! while the poll pages back with `pagination_token`, and the first page's `newest_id`
//! becomes the next `since_id` once every page is stored. X only lets a client reach the 800
//! most recent mentions ([`SocialClient::reach`]).
//!
//! - [`wire`]: the JSON and header shapes, parsed from bytes.
//! - [`oauth1`]: request signing for user context.

pub mod oauth1;
pub mod wire;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use reqwest::Url;
use reqwest::header::AUTHORIZATION;

use self::oauth1::OAuth1Credentials;
use self::wire::{MentionsPage, Post, XError};
use super::transport::Transport;
use super::{Author, Mention, MentionKind, Page, Paging, Platform, SocialClient, SocialError};
use crate::clock::Clock;
use crate::random::Random;

/// X's production API.
pub const API_BASE: &str = "https://api.x.com";

/// The most recent mentions X lets a client page back to.
pub const REACH: usize = 800;

/// The most a page may hold (X allows 5 to 100).
pub const PAGE_SIZE: u32 = 100;

/// The fields and expansions a mention needs: author handle, time, thread, language and the
/// posts it refers to. Spelled as in X's OpenAPI 2.159 (`tweet.fields`), which the API
/// accepts; answers are read in both spellings (see [`wire`]).
const FIELDS: [(&str, &str); 3] = [
    (
        "tweet.fields",
        "author_id,created_at,conversation_id,lang,referenced_tweets",
    ),
    ("expansions", "author_id,referenced_tweets.id"),
    ("user.fields", "username,name"),
];

/// How sitrep authenticates to X.
#[derive(Clone, PartialEq, Eq)]
pub enum XCredentials {
    /// An app-only bearer token: enough to read mentions.
    Bearer(String),
    /// OAuth 1.0a user context.
    OAuth1(OAuth1Credentials),
}

impl std::fmt::Debug for XCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            XCredentials::Bearer(_) => f.write_str("Bearer(…)"),
            XCredentials::OAuth1(credentials) => credentials.fmt(f),
        }
    }
}

/// Reads one X account's mentions.
pub struct XClient {
    transport: Transport,
    base: Url,
    user_id: String,
    credentials: XCredentials,
    clock: Arc<dyn Clock>,
    random: Arc<dyn Random>,
}

impl std::fmt::Debug for XClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XClient")
            .field("base", &self.base.as_str())
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

impl XClient {
    /// A client for the account `user_id` (X's numeric user id) at `base` ([`API_BASE`] in
    /// production). The clock and randomness serve OAuth 1.0a's timestamp and nonce.
    pub fn new(
        transport: Transport,
        base: Url,
        user_id: String,
        credentials: XCredentials,
        clock: Arc<dyn Clock>,
        random: Arc<dyn Random>,
    ) -> Self {
        Self {
            transport,
            base,
            user_id,
            credentials,
            clock,
            random,
        }
    }

    fn mentions_url(&self, since: Option<&str>, page: Option<&str>) -> Result<Url, SocialError> {
        let mut url = self
            .base
            .join(&format!("2/users/{}/mentions", self.user_id))
            .map_err(|e| SocialError::Rejected {
                platform: Platform::X,
                status: 0,
                detail: format!("no mentions URL for user `{}`: {e}", self.user_id),
            })?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("max_results", &PAGE_SIZE.to_string());
            if let Some(since) = since {
                query.append_pair("since_id", since);
            }
            if let Some(page) = page {
                query.append_pair("pagination_token", page);
            }
            for (name, value) in FIELDS {
                query.append_pair(name, value);
            }
        }
        Ok(url)
    }

    fn authorization(&self, url: &Url) -> String {
        match &self.credentials {
            XCredentials::Bearer(token) => format!("Bearer {token}"),
            XCredentials::OAuth1(credentials) => oauth1::authorization(
                credentials,
                "GET",
                url,
                self.clock.now(),
                self.random.as_ref(),
            ),
        }
    }
}

#[async_trait]
impl SocialClient for XClient {
    fn platform(&self) -> Platform {
        Platform::X
    }

    fn paging(&self) -> Paging {
        Paging::NewestFirst
    }

    fn reach(&self) -> Option<usize> {
        Some(REACH)
    }

    async fn post(
        &self,
        _post: &super::Outgoing,
        _attempt: super::Attempt,
    ) -> Result<super::Posted, SocialError> {
        Err(SocialError::Rejected {
            platform: Platform::X,
            status: 0,
            detail: "WIP: posting lands with the reply service".into(),
        })
    }

    async fn mentions(&self, since: Option<&str>, page: Option<&str>) -> Result<Page, SocialError> {
        let url = self.mentions_url(since, page)?;
        let response = self
            .transport
            .send(|| {
                // Signed per attempt: an OAuth 1.0a nonce may not be used twice.
                self.transport
                    .client()
                    .get(url.clone())
                    .header(AUTHORIZATION, self.authorization(&url))
            })
            .await
            .map_err(|e| SocialError::Unavailable {
                platform: Platform::X,
                detail: e.to_string(),
            })?;
        let header = |name: &str| response.header(name);
        let rate_limit = wire::rate_limit(header);
        let reset = rate_limit
            .map(|r| r.reset)
            .or_else(|| wire::rate_limit_reset(header));
        let parsed =
            wire::parse_mentions(response.status, &response.body, reset).map_err(social_error)?;
        Ok(page_of(parsed, rate_limit))
    }
}

/// A parsed X page in sitrep's terms.
fn page_of(parsed: MentionsPage, rate_limit: Option<super::RateLimit>) -> Page {
    let mentions = parsed
        .posts
        .iter()
        .map(|post| mention_of(post, &parsed))
        .collect();
    Page {
        mentions,
        newest: parsed.newest_id,
        next_page: parsed.next_token,
        rate_limit,
        partial_errors: parsed
            .partial_errors
            .iter()
            .map(wire::Problem::summary)
            .collect(),
    }
}

fn mention_of(post: &Post, page: &MentionsPage) -> Mention {
    let author_id = post.author_id.clone().unwrap_or_default();
    let user = page.users.get(&author_id);
    // Without the expansion X still links a post by id alone; `i` stands for any user.
    let handle = user.map_or_else(|| author_id.clone(), |u| u.username.clone());
    let url = match user {
        Some(user) => format!("https://x.com/{}/status/{}", user.username, post.id),
        None => format!("https://x.com/i/web/status/{}", post.id),
    };
    let reference = |kind: &str| {
        post.referenced_tweets
            .iter()
            .find(|r| r.kind == kind)
            .map(|r| r.id.clone())
    };
    let in_reply_to = reference("replied_to");
    let kind = if reference("retweeted").is_some() {
        MentionKind::Repost
    } else if reference("quoted").is_some() {
        MentionKind::Quote
    } else if in_reply_to.is_some() {
        MentionKind::Reply
    } else {
        MentionKind::Mention
    };
    Mention {
        platform: Platform::X,
        id: post.id.clone(),
        url,
        author: Author {
            id: author_id,
            handle,
            name: user.and_then(|u| u.name.clone()).filter(|n| !n.is_empty()),
        },
        text: post.text.clone(),
        created_at: post
            .created_at
            .or_else(|| snowflake_time(&post.id))
            .unwrap_or(DateTime::UNIX_EPOCH),
        lang: post.lang.clone().filter(|l| l != "und"),
        conversation: post.conversation_id.clone(),
        in_reply_to,
        kind,
        others: Vec::new(),
    }
}

/// The creation time encoded in an X id (a "snowflake": milliseconds since X's epoch in the
/// bits above the 22 low ones), for a post that came without `created_at`.
pub fn snowflake_time(id: &str) -> Option<DateTime<Utc>> {
    const X_EPOCH_MS: i64 = 1_288_834_974_657;
    let id: u64 = id.parse().ok()?;
    let ms = i64::try_from(id >> 22).ok()?.checked_add(X_EPOCH_MS)?;
    Utc.timestamp_millis_opt(ms).single()
}

fn social_error(error: XError) -> SocialError {
    let platform = Platform::X;
    match error {
        XError::RateLimited { reset, problem } => SocialError::RateLimited {
            platform,
            reset,
            detail: problem.summary(),
        },
        XError::UsageCapped(problem) => SocialError::UsageCapped {
            platform,
            detail: problem.summary(),
        },
        XError::Unauthorized(problem) => SocialError::Unauthorized {
            platform,
            detail: problem.summary(),
        },
        XError::Forbidden(problem) => SocialError::Rejected {
            platform,
            status: 403,
            detail: problem.summary(),
        },
        XError::NotFound(problem) => SocialError::Rejected {
            platform,
            status: 404,
            detail: problem.summary(),
        },
        XError::Rejected { status, problem } => SocialError::Rejected {
            platform,
            status,
            detail: problem.summary(),
        },
        XError::Unavailable { status, problem } => SocialError::Unavailable {
            platform,
            detail: format!("{status}: {}", problem.summary()),
        },
        XError::Malformed { status, reason } => SocialError::Malformed {
            platform,
            status,
            reason,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflake_ids_carry_their_time() {
        // 1860000000000000000 >> 22 = 443458557128 ms after X's epoch (2010-11-04).
        let at = snowflake_time("1860000000000000000").unwrap();
        assert_eq!(at.timestamp_millis(), 443_458_557_128 + 1_288_834_974_657);
        assert_eq!(at.date_naive().to_string(), "2024-11-22");
        assert_eq!(snowflake_time("not a number"), None);
    }

    #[test]
    fn references_decide_the_kind_and_expansions_the_handle() {
        let body = br#"{
          "data": [
            {"id": "3", "text": "RT @acme: maintenance tonight", "author_id": "9",
             "referenced_tweets": [{"type": "retweeted", "id": "1"}]},
            {"id": "2", "text": "@acme look at this", "author_id": "8",
             "referenced_tweets": [{"type": "quoted", "id": "1"}], "lang": "und"},
            {"id": "1", "text": "@acme down?", "author_id": "7",
             "referenced_tweets": [{"type": "replied_to", "id": "0"}],
             "created_at": "2026-11-23T10:00:00.000Z", "lang": "en"}
          ],
          "includes": {"users": [{"id": "7", "username": "dev", "name": "Dev"}]},
          "meta": {"newest_id": "3", "result_count": 3}
        }"#;
        let page = page_of(wire::parse_mentions(200, body, None).unwrap(), None);
        let kinds: Vec<MentionKind> = page.mentions.iter().map(|m| m.kind).collect();
        assert_eq!(
            kinds,
            [MentionKind::Repost, MentionKind::Quote, MentionKind::Reply]
        );
        let reply = &page.mentions[2];
        assert_eq!(reply.author.handle, "dev");
        assert_eq!(reply.url, "https://x.com/dev/status/1");
        assert_eq!(reply.in_reply_to.as_deref(), Some("0"));
        assert_eq!(reply.lang.as_deref(), Some("en"));
        assert_eq!(page.mentions[1].lang, None, "`und` is no language");
        assert_eq!(page.mentions[1].url, "https://x.com/i/web/status/2");
        assert_eq!(page.newest.as_deref(), Some("3"));
    }
}

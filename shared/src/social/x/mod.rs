//! The X API v2 client: the mentions timeline, read with an app-only bearer token or with
//! OAuth 1.0a user context, and posts made as the account (user context only).
//!
//! One call is one page of `GET /2/users/{id}/mentions`. The polling recipe X documents is
//! kept by the mentions service through [`Paging::NewestFirst`]: `since_id` stays fixed
//! while the poll pages back with `pagination_token`, and the first page's `newest_id`
//! becomes the next `since_id` once every page is stored. X only lets a client reach the 800
//! most recent mentions ([`SocialClient::reach`]).
//!
//! Posting is `POST /2/tweets`, which has no idempotency key: the request is sent at most
//! once ([`Transport::send_once`]), and any doubt whether X took it (a lost answer, a 5xx)
//! is [`SocialError::Ambiguous`]. The next attempt ([`Attempt::AfterAmbiguous`]) first reads
//! the account's own recent posts (`GET /2/users/{id}/tweets`) for the earlier one; if that
//! check cannot be made (X unreachable, an unreadable page, a rate limit), the post stays
//! ambiguous rather than being sent again. Only X's refusal in its own words ends a post:
//! an unreadable answer to the post itself (cut off, not JSON, a status X does not send) is
//! ambiguous, and an unreadable refusal (a 4xx whose body is not X's) is
//! [`SocialError::Malformed`], tried again later.
//!
//! - [`wire`]: the JSON and header shapes, parsed from bytes.
//! - [`oauth1`]: request signing for user context.
//! - [`webhook`]: the CRC answer and the signature check of webhook (push) deliveries.

pub mod activity;
pub mod oauth1;
pub mod webhook;
pub mod wire;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use reqwest::Url;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};

use self::oauth1::OAuth1Credentials;
use self::wire::{CreateReply, CreateRequest, MentionsPage, Post, XError};
use super::transport::{Response, SendOnceError, Transport};
use super::{
    Attempt, Author, Mention, MentionKind, Outgoing, Page, Paging, Platform, Posted, RateLimit,
    SocialClient, SocialError, timestamp,
};
use crate::clock::Clock;
use crate::random::Random;

/// X's production API.
pub const API_BASE: &str = "https://api.x.com";

/// The most recent mentions X lets a client page back to.
pub const REACH: usize = 800;

/// The most a page may hold (X allows 5 to 100).
pub const PAGE_SIZE: u32 = 100;

/// The fields and expansions a mention needs: author handle, time, thread, language, the
/// posts it refers to and the accounts it names. Spelled as in X's OpenAPI 2.159
/// (`tweet.fields`), which the API accepts; answers are read in both spellings (see [`wire`]).
const FIELDS: [(&str, &str); 3] = [
    (
        "tweet.fields",
        "author_id,created_at,conversation_id,lang,referenced_tweets,entities",
    ),
    ("expansions", "author_id,referenced_tweets.id"),
    ("user.fields", "username,name"),
];

/// The fields the search for an earlier attempt reads of the account's own posts.
const OWN_POST_FIELDS: &str = "referenced_tweets,created_at,text";

/// How far before the decision to post the search for an earlier attempt starts: the post
/// cannot be older than the decision, and a minute covers clocks that disagree.
const LOOKBACK: TimeDelta = TimeDelta::minutes(1);

/// The most pages of own posts that search reads (100 each): X lets an account post 100
/// per 15 minutes, so a search soon after the failure needs one, and reads are billed.
const LOOKUP_PAGES: usize = 3;

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

/// Reads one X account's mentions and posts as it.
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

    fn authorization(&self, method: &str, url: &Url) -> String {
        match &self.credentials {
            XCredentials::Bearer(token) => format!("Bearer {token}"),
            XCredentials::OAuth1(credentials) => oauth1::authorization(
                credentials,
                method,
                url,
                self.clock.now(),
                self.random.as_ref(),
            ),
        }
    }

    fn endpoint(&self, path: &str) -> Result<Url, SocialError> {
        self.base.join(path).map_err(|e| SocialError::Rejected {
            platform: Platform::X,
            status: 0,
            detail: format!("no URL for `{path}`: {e}"),
        })
    }

    /// A GET that changes nothing on X, so the transport may repeat it.
    async fn get(&self, url: &Url) -> Result<Response, SocialError> {
        self.transport
            .send(|| {
                // Signed per attempt: an OAuth 1.0a nonce may not be used twice.
                self.transport
                    .client()
                    .get(url.clone())
                    .header(AUTHORIZATION, self.authorization("GET", url))
            })
            .await
            .map_err(|e| SocialError::Unavailable {
                platform: Platform::X,
                detail: e.to_string(),
            })
    }

    /// `POST /2/tweets`, sent at most once: afterwards either X's answer or certainty that
    /// nothing reached it, else [`SocialError::Ambiguous`].
    async fn create(
        &self,
        post: &Outgoing,
        credentials: &OAuth1Credentials,
    ) -> Result<Posted, SocialError> {
        let platform = Platform::X;
        let url = self.endpoint("2/tweets")?;
        let request = CreateRequest {
            text: &post.text,
            reply: post.reply_to.as_ref().map(|reply_to| CreateReply {
                in_reply_to_tweet_id: &reply_to.post_id,
                exclude_reply_user_ids: distinct_except(
                    reply_to.exclude.iter().map(String::as_str),
                    [reply_to.author_id.as_str(), self.user_id.as_str()],
                ),
            }),
        };
        let json = serde_json::to_vec(&request).map_err(|e| SocialError::Rejected {
            platform,
            status: 0,
            detail: format!("the post could not be written as JSON: {e}"),
        })?;
        let body = Bytes::from(json);
        let response = self
            .transport
            .send_once(|| {
                // The JSON body is outside the OAuth 1.0a signature; a reconnect signs anew
                // because a nonce may not be used twice.
                self.transport
                    .client()
                    .post(url.clone())
                    .header(
                        AUTHORIZATION,
                        oauth1::authorization(
                            credentials,
                            "POST",
                            &url,
                            self.clock.now(),
                            self.random.as_ref(),
                        ),
                    )
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone())
            })
            .await
            .map_err(|e| match e {
                SendOnceError::NotSent { .. } => SocialError::Unavailable {
                    platform,
                    detail: e.to_string(),
                },
                SendOnceError::Unknown { .. } => SocialError::Ambiguous {
                    platform,
                    detail: e.to_string(),
                },
            })?;
        let (rate_limit, reset) = limits(&response);
        if !matches!(response.status, 200..=299 | 400..=599) {
            // A redirect or an informational status: X documents neither for a post, and
            // neither says whether it was taken.
            return Err(SocialError::Ambiguous {
                platform,
                detail: format!("X answered the post with HTTP {}", response.status),
            });
        }
        match wire::parse_created(response.status, &response.body, reset) {
            Ok(created) => {
                if !created.partial_errors.is_empty() {
                    let problems: Vec<String> = created
                        .partial_errors
                        .iter()
                        .map(wire::Problem::summary)
                        .collect();
                    tracing::warn!(id = %created.id, ?problems, "X posted with partial errors");
                }
                Ok(Posted {
                    url: status_url(&created.id),
                    id: created.id,
                    recovered: false,
                    rate_limit,
                })
            }
            // X answered that it took the post but not with what: it exists, id unknown.
            Err(XError::Malformed { status, reason }) if (200..300).contains(&status) => {
                Err(SocialError::Ambiguous {
                    platform,
                    detail: format!(
                        "X accepted the post ({status}) in an unreadable answer: {reason}"
                    ),
                })
            }
            // A gateway error or a failure mid-way says nothing about whether it posted.
            Err(XError::Unavailable { status, problem }) => Err(SocialError::Ambiguous {
                platform,
                detail: format!(
                    "X failed ({status}) after the post was sent: {}",
                    problem.summary()
                ),
            }),
            Err(other) => Err(social_error(other)),
        }
    }

    /// The account's post that an earlier attempt at `post` made, if any: its own posts
    /// since just before the decision, newest first, as far as [`LOOKUP_PAGES`] reach.
    async fn earlier(&self, post: &Outgoing) -> Result<Option<Posted>, SocialError> {
        let start = post
            .decided_at
            .checked_sub_signed(LOOKBACK)
            .unwrap_or(post.decided_at)
            .to_rfc3339_opts(SecondsFormat::Secs, true);
        let mut token: Option<String> = None;
        let mut seen: Vec<String> = Vec::new();
        for _ in 0..LOOKUP_PAGES {
            let mut url = self.endpoint(&format!("2/users/{}/tweets", self.user_id))?;
            {
                let mut query = url.query_pairs_mut();
                query.append_pair("start_time", &start);
                query.append_pair("max_results", &PAGE_SIZE.to_string());
                query.append_pair("tweet.fields", OWN_POST_FIELDS);
                if let Some(token) = &token {
                    query.append_pair("pagination_token", token);
                }
            }
            let response = self.get(&url).await?;
            let (_, reset) = limits(&response);
            // The user timeline answers in the mentions timeline's shape.
            let page = wire::parse_mentions(response.status, &response.body, reset)
                .map_err(social_error)?;
            if let Some(found) = page.posts.iter().find(|own| is_attempt_at(own, post)) {
                return Ok(Some(Posted {
                    id: found.id.clone(),
                    url: status_url(&found.id),
                    recovered: true,
                    // The window read is the timeline's, not the posting one.
                    rate_limit: None,
                }));
            }
            match page.next_token {
                // A token handed out before would read the same pages again.
                Some(next) if seen.contains(&next) => {
                    tracing::warn!(
                        "X repeated a pagination token of the account's posts; stopping the search"
                    );
                    return Ok(None);
                }
                Some(next) => {
                    seen.push(next.clone());
                    token = Some(next);
                }
                None => return Ok(None),
            }
        }
        tracing::warn!(
            pages = LOOKUP_PAGES,
            "no earlier attempt among the account's recent posts; more were not read"
        );
        Ok(None)
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

    async fn post(&self, post: &Outgoing, attempt: Attempt) -> Result<Posted, SocialError> {
        let credentials = match &self.credentials {
            XCredentials::OAuth1(credentials) => credentials,
            // X refuses app-only tokens on `POST /2/tweets`; asking would only spend a call.
            XCredentials::Bearer(_) => {
                return Err(SocialError::Unauthorized {
                    platform: Platform::X,
                    detail: "posting needs user context (OAuth 1.0a credentials); an app-only \
                             bearer token can only read"
                        .into(),
                });
            }
        };
        if attempt == Attempt::AfterAmbiguous
            && let Some(found) = self.earlier(post).await.map_err(still_ambiguous)?
        {
            tracing::info!(id = %found.id, "the earlier attempt had posted; not posting again");
            return Ok(found);
        }
        match self.create(post, credentials).await {
            // After an ambiguous attempt, X refusing the same text is itself the sign that
            // the attempt went through, only too recently to show in the timeline: look again.
            Err(duplicate @ SocialError::Duplicate { .. })
                if attempt == Attempt::AfterAmbiguous =>
            {
                match self.earlier(post).await {
                    Ok(Some(found)) => Ok(found),
                    _ => Err(duplicate),
                }
            }
            outcome => outcome,
        }
    }

    async fn mentions(&self, since: Option<&str>, page: Option<&str>) -> Result<Page, SocialError> {
        let url = self.mentions_url(since, page)?;
        let response = self.get(&url).await?;
        let (rate_limit, reset) = limits(&response);
        let parsed =
            wire::parse_mentions(response.status, &response.body, reset).map_err(social_error)?;
        Ok(page_of(parsed, rate_limit, &self.user_id))
    }
}

/// The rate-limit window an answer states, and when a refusal says it resets (the reset
/// header can come alone).
fn limits(response: &Response) -> (Option<RateLimit>, Option<DateTime<Utc>>) {
    let header = |name: &str| response.header(name);
    let rate_limit = wire::rate_limit(header);
    let reset = rate_limit
        .map(|r| r.reset)
        .or_else(|| wire::rate_limit_reset(header));
    (rate_limit, reset)
}

/// A post's public link when only its id is known: X resolves `i` to the author.
fn status_url(id: &str) -> String {
    format!("https://x.com/i/web/status/{id}")
}

/// Whether `own`, one of the account's posts, is an earlier attempt at `post`: a reply to
/// the same post, or an update with the same text once X's link wrapping is set aside.
fn is_attempt_at(own: &Post, post: &Outgoing) -> bool {
    match &post.reply_to {
        Some(reply_to) => own.replies_to(&reply_to.post_id),
        None => wire::same_text(&post.text, &own.text),
    }
}

/// `ids` in their first order, once each, without the `except` ones.
fn distinct_except<'a>(ids: impl Iterator<Item = &'a str>, except: [&str; 2]) -> Vec<&'a str> {
    let mut kept: Vec<&str> = Vec::new();
    for id in ids {
        if !id.is_empty() && !except.contains(&id) && !kept.contains(&id) {
            kept.push(id);
        }
    }
    kept
}

/// An error met while checking whether an earlier ambiguous attempt went through: the
/// question is still open, so the post is still ambiguous, whatever the error.
fn still_ambiguous(error: SocialError) -> SocialError {
    match error {
        SocialError::Ambiguous { .. } => error,
        other => SocialError::Ambiguous {
            platform: Platform::X,
            detail: format!("the earlier attempt could not be checked: {other}"),
        },
    }
}

/// A parsed X page in sitrep's terms, for the account `own_id`.
fn page_of(parsed: MentionsPage, rate_limit: Option<RateLimit>, own_id: &str) -> Page {
    let mentions = parsed
        .posts
        .iter()
        .map(|post| mention_of(post, &parsed, own_id))
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
            .chain(parsed.skipped.iter().cloned())
            .collect(),
    }
}

fn mention_of(post: &Post, page: &MentionsPage, own_id: &str) -> Mention {
    let author_id = post.author_id.clone().unwrap_or_default();
    // The author and the account itself are the conversation; only third parties are others.
    let others = distinct_except(post.mentioned_ids(), [author_id.as_str(), own_id])
        .into_iter()
        .map(str::to_owned)
        .collect();
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
        others,
    }
}

/// The creation time encoded in an X id (a "snowflake": milliseconds since X's epoch in the
/// bits above the 22 low ones), for a post that came without `created_at`.
pub fn snowflake_time(id: &str) -> Option<DateTime<Utc>> {
    const X_EPOCH_MS: i64 = 1_288_834_974_657;
    let id: u64 = id.parse().ok()?;
    let ms = i64::try_from(id >> 22).ok()?.checked_add(X_EPOCH_MS)?;
    timestamp::from_unix_millis(ms)
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
        XError::Duplicate(problem) => SocialError::Duplicate {
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
        let page = page_of(wire::parse_mentions(200, body, None).unwrap(), None, "42");
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

    #[test]
    fn others_are_third_parties_once_each_in_order() {
        let body = br#"{"data": [
          {"id": "5", "text": "@acme @jane @bob @dev @jane @ghost why is the API down?",
           "author_id": "7",
           "entities": {"mentions": [
             {"start": 0, "end": 5, "username": "acme", "id": "42"},
             {"start": 6, "end": 11, "username": "jane", "id": "1001"},
             {"start": 12, "end": 16, "username": "bob", "id": "1002"},
             {"start": 17, "end": 21, "username": "dev", "id": "7"},
             {"start": 22, "end": 27, "username": "jane", "id": "1001"},
             {"start": 28, "end": 34, "username": "ghost"}]}},
          {"id": "4", "text": "@acme down?", "author_id": "8"}
        ]}"#;
        let page = page_of(wire::parse_mentions(200, body, None).unwrap(), None, "42");
        assert_eq!(page.mentions[0].others, ["1001", "1002"]);
        assert!(page.mentions[1].others.is_empty());
    }

    #[test]
    fn exclusions_leave_out_the_author_and_the_account() {
        let exclude = ["9", "7", "42", "9", "", "10"];
        assert_eq!(
            distinct_except(exclude.iter().copied(), ["7", "42"]),
            ["9", "10"]
        );
    }

    fn outgoing(text: &str, reply_to: Option<&str>) -> Outgoing {
        Outgoing {
            text: text.into(),
            reply_to: reply_to.map(|id| super::super::ReplyTo {
                post_id: id.into(),
                author_id: "7".into(),
                exclude: Vec::new(),
            }),
            key: "k".into(),
            decided_at: DateTime::UNIX_EPOCH,
        }
    }

    fn own(text: &str, replied_to: Option<&str>) -> Post {
        let references = replied_to
            .map(|id| format!(r#","referenced_tweets":[{{"type":"replied_to","id":"{id}"}}]"#))
            .unwrap_or_default();
        let json = format!(
            r#"{{"id":"100","text":{}{references}}}"#,
            serde_json::json!(text)
        );
        serde_json::from_str(&json).unwrap()
    }

    #[test]
    fn an_earlier_attempt_is_the_same_reply_or_the_same_update() {
        let reply = outgoing(
            "@dev looking into it https://status.acme.example/i/1",
            Some("5"),
        );
        assert!(is_attempt_at(
            &own("@dev something else entirely", Some("5")),
            &reply
        ));
        assert!(!is_attempt_at(
            &own("@dev looking into it https://t.co/a", Some("6")),
            &reply
        ));
        assert!(!is_attempt_at(
            &own("@dev looking into it https://t.co/a", None),
            &reply
        ));

        let update = outgoing("API errors resolved. https://status.acme.example/i/1", None);
        assert!(is_attempt_at(
            &own("API errors resolved. https://t.co/a", None),
            &update
        ));
        assert!(!is_attempt_at(
            &own("API errors investigated. https://t.co/a", None),
            &update
        ));
    }
}

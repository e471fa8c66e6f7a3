//! The Mastodon client: mentions of the account, read from `GET /api/v1/notifications`
//! with `types[]=mention`, posts made with `POST /api/v1/statuses`, and the wire format
//! around them (notifications, statuses, accounts, the `Link` header, the `X-RateLimit-*`
//! headers and `{"error": …}` bodies).
//!
//! **Posting exactly once.** Every post carries `Idempotency-Key: <Outgoing::key>`. Mastodon
//! keeps the key for an hour per account and answers a repeat with the status the first
//! request made, posting nothing new. So a post may be sent again freely within that hour:
//! the transport retries network failures and 5xx answers, and a post that still got no
//! answer is [`SocialError::Ambiguous`] only in name, because [`Attempt::AfterAmbiguous`]
//! simply sends the same request again (the reply service retries within minutes, well
//! inside the key's hour).
//!
//! Mastodon pages forward: `min_id` returns the page *immediately* newer than the cursor,
//! still newest first, so each page's newest id may be saved as soon as that page is stored
//! ([`Paging::OldestFirst`]). The cursor is a *notification* id, not a status id: the two are
//! separate sequences (the documented sample pairs notification `34975861` with status
//! `103186126728896492`), and only notification ids mean anything to `min_id`.
//!
//! Ids are documented as "cast from an integer, but not guaranteed to be a number", and
//! snowflake ids already use 18 digits: they are compared as strings ([`compare_ids`]),
//! never parsed into a fixed-width integer.
//!
//! Parsing is separate from HTTP ([`parse_page`] reads a [`Response`]) so that every shape
//! is tested from bytes; a body that is not what the documentation describes is a
//! [`SocialError::Malformed`] for that call, never a panic, and one notification that is not
//! (a missing field, a `created_at` outside [`timestamp`]'s range) is skipped and named in
//! the page's partial errors while the others are kept. Only Mastodon's refusal in its own
//! words (a 4xx with an `{"error": …}` body) is [`SocialError::Rejected`]; an unreadable
//! answer to a post is [`SocialError::Ambiguous`]. Status content is sanitised HTML
//! (`<p>`, `<br>`, `<span>`, `<a>`); [`html_to_text`] turns it into the plain text sitrep
//! stores.

use std::cmp::Ordering;
use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Url;
use serde::Deserialize;

use super::transport::{Response, Transport};
use super::{
    Attempt, Author, Mention, MentionKind, Outgoing, Page, Paging, Platform, Posted, RateLimit,
    SocialClient, SocialError, clipped, timestamp,
};

/// The most notifications one request may ask for (Mastodon 4.1 and later).
///
/// Servers older than 4.1 cap pages at 30: a full page of theirs looks partial, so the poll
/// stops early, but nothing is lost because the cursor still moves to the page's newest id
/// and the next poll carries on from there.
pub const PAGE_LIMIT: usize = 80;

/// Reads the mentions of one Mastodon account and posts as it.
pub struct MastodonClient {
    transport: Transport,
    endpoint: Url,
    statuses: Url,
    access_token: String,
}

impl fmt::Debug for MastodonClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The access token is a credential: it must never reach a log line.
        f.debug_struct("MastodonClient")
            .field("endpoint", &self.endpoint.as_str())
            .finish_non_exhaustive()
    }
}

impl MastodonClient {
    /// A client for the account that `access_token` (a user token with
    /// `read:notifications`, and `write:statuses` to post) belongs to, on `instance`
    /// (e.g. `https://mastodon.social`).
    pub fn new(transport: Transport, instance: Url, access_token: String) -> Self {
        Self {
            transport,
            endpoint: notifications_endpoint(&instance),
            statuses: api_endpoint(&instance, "statuses"),
            access_token,
        }
    }

    fn request_url(&self, min_id: Option<&str>) -> Url {
        let mut url = self.endpoint.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("types[]", "mention");
            query.append_pair("limit", &PAGE_LIMIT.to_string());
            if let Some(min_id) = min_id {
                query.append_pair("min_id", min_id);
            }
        }
        url
    }
}

/// `{instance}/api/v1/notifications`, keeping any path the instance is served under.
fn notifications_endpoint(instance: &Url) -> Url {
    api_endpoint(instance, "notifications")
}

/// `{instance}/api/v1/{method}`, keeping any path the instance is served under: `Url::join`
/// would drop its last segment when it has no trailing slash.
fn api_endpoint(instance: &Url, method: &str) -> Url {
    let mut url = instance.clone();
    let path = format!("{}/api/v1/{method}", instance.path().trim_end_matches('/'));
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    url
}

#[async_trait]
impl SocialClient for MastodonClient {
    fn platform(&self) -> Platform {
        Platform::Mastodon
    }

    fn paging(&self) -> Paging {
        Paging::OldestFirst
    }

    fn reach(&self) -> Option<usize> {
        None
    }

    /// Posts with `Idempotency-Key: <post.key>`. Both attempts send the same request: after
    /// an ambiguous failure Mastodon answers the repeat with the status the first request
    /// made, if it made one, so checking first would add nothing. `recovered` is therefore
    /// never set: the answer to a repeat cannot be told from the answer to a first post.
    async fn post(&self, post: &Outgoing, attempt: Attempt) -> Result<Posted, SocialError> {
        if attempt == Attempt::AfterAmbiguous {
            tracing::info!(key = %post.key, "posting to Mastodon again with the same idempotency key");
        }
        let body = status_body(post);
        let response = self
            .transport
            .send(|| {
                self.transport
                    .client()
                    .post(self.statuses.clone())
                    .bearer_auth(&self.access_token)
                    .header("Idempotency-Key", post.key.as_str())
                    .json(&body)
            })
            .await
            // Without an answer the status may exist; the key makes the next attempt safe.
            .map_err(|e| SocialError::Ambiguous {
                platform: Platform::Mastodon,
                detail: e.to_string(),
            })?;
        parse_posted(&response)
    }

    async fn mentions(&self, since: Option<&str>, page: Option<&str>) -> Result<Page, SocialError> {
        // `min_id=` with no value reads as no cursor on the server but as a cursor here,
        // which would make the page look like the continuation of a poll: treat it as none.
        let min_id = page
            .filter(|p| !p.is_empty())
            .or(since.filter(|s| !s.is_empty()));
        let url = self.request_url(min_id);
        let response = self
            .transport
            .send(|| {
                self.transport
                    .client()
                    .get(url.clone())
                    .bearer_auth(&self.access_token)
            })
            .await
            .map_err(|e| SocialError::Unavailable {
                platform: Platform::Mastodon,
                detail: e.to_string(),
            })?;
        parse_page(&response, min_id)
    }
}

/// Reads the answer to a notifications request sent with `min_id` (`None` at first start):
/// the mentions, the page's newest notification id, where the poll continues, and the
/// rate-limit window; or the typed error the status and body amount to.
pub fn parse_page(response: &Response, min_id: Option<&str>) -> Result<Page, SocialError> {
    let status = response.status;
    let platform = Platform::Mastodon;
    if !(200..300).contains(&status) {
        return Err(status_error(response));
    }
    let malformed = |reason: String| SocialError::Malformed {
        platform,
        status,
        reason,
    };
    // Raw, so that one notification of the wrong shape is skipped, not the page.
    let raw: Vec<serde_json::Value> =
        serde_json::from_slice(&response.body).map_err(|e| malformed(e.to_string()))?;
    let listed = raw.len();
    let mut skipped = Vec::new();
    let notifications: Vec<RawNotification> = raw
        .into_iter()
        .enumerate()
        .filter_map(|(index, value)| {
            // serde would also read a struct from an array; Mastodon sends objects.
            let read = match value {
                serde_json::Value::Object(_) => {
                    serde_json::from_value(value).map_err(|e| e.to_string())
                }
                _ => Err("not a JSON object".to_owned()),
            };
            read.map_err(|e| {
                skipped.push(clipped(format!("notification {index} skipped: {e}")));
            })
            .ok()
        })
        .collect();

    // The cursor follows every notification on the page, skipped ones included: it marks
    // how far the notification stream has been read, not how far the mentions go.
    let newest = notifications
        .iter()
        .map(|n| n.id.as_str())
        .max_by(|a, b| compare_ids(a, b))
        .map(str::to_owned);
    let next_page = match (min_id, newest.as_deref()) {
        (Some(sent), Some(newest)) if listed >= PAGE_LIMIT => {
            let linked = response.header("link").and_then(prev_min_id);
            // A cursor that does not pass the one sent would fetch the same page forever.
            [linked.as_deref(), Some(newest)]
                .into_iter()
                .flatten()
                .find(|cursor| compare_ids(cursor, sent) == Ordering::Greater)
                .map(str::to_owned)
        }
        // Without `min_id` the page is the newest one and nothing older is wanted; a page
        // that is not full has caught up.
        _ => None,
    };

    let mut mentions = Vec::with_capacity(notifications.len());
    for notification in notifications {
        if notification.kind != "mention" {
            continue;
        }
        let Some(status) = notification.status else {
            continue;
        };
        // Skipped, with the cursor passing it: it would be as unreadable on every later read.
        let read = match status {
            serde_json::Value::Object(_) => serde_json::from_value::<RawStatus>(status)
                .map_err(|e| format!("status: {e}"))
                .and_then(mention_of),
            _ => Err("status: not a JSON object".to_owned()),
        };
        match read {
            Ok(mention) => mentions.push(mention),
            Err(e) => skipped.push(clipped(format!(
                "notification {} skipped: {e}",
                notification.id
            ))),
        }
    }

    Ok(Page {
        mentions,
        newest,
        next_page,
        rate_limit: rate_limit(response),
        partial_errors: skipped,
    })
}

/// The typed error a non-2xx answer amounts to.
fn status_error(response: &Response) -> SocialError {
    let platform = Platform::Mastodon;
    let status = response.status;
    let detail = || error_detail(status, &response.body);
    match status {
        // A refusal is definite only in Mastodon's words; a cut-off body or a proxy's page
        // says too little to give anything up on.
        400..=499 if !matches!(status, 401 | 429) && read_error(&response.body).is_none() => {
            SocialError::Malformed {
                platform,
                status,
                reason: format!("a refusal without Mastodon's error body ({})", detail()),
            }
        }
        429 => SocialError::RateLimited {
            platform,
            reset: response.header("x-ratelimit-reset").and_then(parse_time),
            detail: detail(),
        },
        401 => SocialError::Unauthorized {
            platform,
            detail: detail(),
        },
        400..=499 => SocialError::Rejected {
            platform,
            status,
            detail: detail(),
        },
        // Only what is left after the transport's retries gets here.
        500..=599 => SocialError::Unavailable {
            platform,
            detail: format!("HTTP {status}: {}", detail()),
        },
        // A redirect reqwest did not follow, or a status Mastodon does not send.
        _ => SocialError::Malformed {
            platform,
            status,
            reason: format!("unexpected status {status}"),
        },
    }
}

/// The JSON body of `POST /api/v1/statuses` for `post`: public, and a reply when it answers
/// a status. Mastodon reads JSON bodies as it reads form data.
pub fn status_body(post: &Outgoing) -> serde_json::Value {
    let mut body = serde_json::json!({
        "status": post.text,
        "visibility": "public",
    });
    if let Some(reply_to) = &post.reply_to {
        body["in_reply_to_id"] = serde_json::Value::String(reply_to.post_id.clone());
    }
    body
}

/// Reads the answer to `POST /api/v1/statuses`: the status made (or, for a repeated
/// idempotency key, the one made first), or the typed error the answer amounts to.
///
/// A 5xx left after the transport's retries is [`SocialError::Ambiguous`], not
/// [`SocialError::Unavailable`]: a gateway may have passed the post on before failing. So is
/// a 2xx whose body cannot be read: the status exists, and the repeat will name it.
pub fn parse_posted(response: &Response) -> Result<Posted, SocialError> {
    let platform = Platform::Mastodon;
    let status = response.status;
    if !matches!(status, 200..=299 | 400..=499) {
        // A 5xx, or a status Mastodon does not send for a post (a redirect): nothing says
        // whether the status was made.
        return Err(SocialError::Ambiguous {
            platform,
            detail: format!("HTTP {status}: {}", error_detail(status, &response.body)),
        });
    }
    if !(200..300).contains(&status) {
        return Err(status_error(response));
    }
    let unreadable = |reason: String| SocialError::Ambiguous {
        platform,
        detail: format!(
            "the status was accepted ({status}) but its answer cannot be read: {reason}"
        ),
    };
    let raw: RawPosted =
        serde_json::from_slice(&response.body).map_err(|e| unreadable(e.to_string()))?;
    let id = non_empty(raw.id).ok_or_else(|| unreadable("no id".into()))?;
    // `url` is the page people open; `uri` (the ActivityPub id) still leads to it.
    let url = non_empty(raw.url)
        .or(non_empty(raw.uri))
        .ok_or_else(|| unreadable(format!("status {id} has neither url nor uri")))?;
    Ok(Posted {
        id,
        url,
        recovered: false,
        rate_limit: rate_limit(response),
    })
}

/// Orders Mastodon ids: a longer string of digits is the larger number, and equal lengths
/// compare character by character. Exact for ids of any length, where parsing into a
/// fixed-width integer could overflow; ids that are not numbers still get a total order.
pub fn compare_ids(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[derive(Deserialize)]
struct RawNotification {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    // Kept as raw JSON so that a notification sitrep skips cannot fail the page.
    #[serde(default)]
    status: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawStatus {
    id: String,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(deserialize_with = "timestamp::deserialize")]
    created_at: DateTime<Utc>,
    account: RawAccount,
    content: String,
    #[serde(default)]
    spoiler_text: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    in_reply_to_id: Option<String>,
}

/// The parts of a Status a post needs; every field optional so that a missing one is
/// reported by name.
#[derive(Deserialize)]
struct RawPosted {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct RawAccount {
    id: String,
    acct: String,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Deserialize)]
struct RawError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn mention_of(status: RawStatus) -> Result<Mention, String> {
    // `url` is null for some remote statuses; `uri` (the ActivityPub id) still leads to it.
    let url = non_empty(status.url)
        .or(non_empty(status.uri))
        .ok_or_else(|| format!("status {} has neither url nor uri", status.id))?;
    let body = html_to_text(&status.content);
    let spoiler = status.spoiler_text.unwrap_or_default();
    let spoiler = spoiler.trim();
    // The content warning is the author's own summary of the post: worth keeping with it.
    let text = match (spoiler.is_empty(), body.is_empty()) {
        (true, _) => body,
        (false, true) => spoiler.to_owned(),
        (false, false) => format!("{spoiler}\n{body}"),
    };
    let in_reply_to = non_empty(status.in_reply_to_id);
    Ok(Mention {
        platform: Platform::Mastodon,
        id: status.id,
        url,
        author: Author {
            id: status.account.id,
            handle: status.account.acct,
            name: non_empty(status.account.display_name),
        },
        text,
        created_at: status.created_at,
        lang: non_empty(status.language),
        conversation: None,
        kind: if in_reply_to.is_some() {
            MentionKind::Reply
        } else {
            MentionKind::Mention
        },
        in_reply_to,
        others: Vec::new(),
    })
}

/// The `min_id` of the `rel="prev"` target in a `Link` header (RFC 8288), which is where
/// Mastodon says the next newer page starts.
fn prev_min_id(link: &str) -> Option<String> {
    link.split('<').skip(1).find_map(|part| {
        let (target, params) = part.split_once('>')?;
        // This link's parameters end where the next link begins.
        let params = params.split_once(',').map_or(params, |(own, _)| own);
        let is_prev = params.split(';').any(|param| {
            param.split_once('=').is_some_and(|(name, value)| {
                name.trim().eq_ignore_ascii_case("rel")
                    && value
                        .trim()
                        .trim_matches('"')
                        .split_ascii_whitespace()
                        .any(|rel| {
                            rel.eq_ignore_ascii_case("prev") || rel.eq_ignore_ascii_case("previous")
                        })
            })
        });
        if !is_prev {
            return None;
        }
        Url::parse(target.trim())
            .ok()?
            .query_pairs()
            .find(|(name, _)| name == "min_id")
            .map(|(_, value)| value.into_owned())
            .filter(|value| !value.is_empty())
    })
}

/// The window from `X-RateLimit-Limit`, `-Remaining` and `-Reset` (an ISO-8601 time, unlike
/// X's Unix seconds); `None` unless all three are present and valid.
fn rate_limit(response: &Response) -> Option<RateLimit> {
    let number = |name: &str| {
        response
            .header(name)
            .and_then(|v| v.trim().parse::<u32>().ok())
    };
    Some(RateLimit {
        limit: number("x-ratelimit-limit")?,
        remaining: number("x-ratelimit-remaining")?,
        reset: parse_time(response.header("x-ratelimit-reset")?)?,
    })
}

fn parse_time(value: &str) -> Option<DateTime<Utc>> {
    timestamp::parse_rfc3339(value)
}

/// Mastodon's `{"error": …}` body, when the body is one.
fn read_error(body: &[u8]) -> Option<RawError> {
    serde_json::from_slice::<RawError>(body)
        .ok()
        .filter(|e| !e.error.trim().is_empty())
}

/// What a failed call's body says: Mastodon's `error` (and `error_description`, which the
/// OAuth errors carry), or the status text when the body is not Mastodon's (a proxy page).
fn error_detail(status: u16, body: &[u8]) -> String {
    match read_error(body) {
        Some(RawError {
            error,
            error_description,
        }) => match non_empty(error_description) {
            Some(description) => format!("{error}: {description}"),
            None => error,
        },
        None => status_text(status),
    }
}

fn status_text(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map_or_else(|| format!("HTTP {status}"), str::to_owned)
}

/// Status content (HTML) as plain text: paragraphs apart by a blank line, `<br>` as a line
/// break, every other tag dropped for its text, entities decoded, ends trimmed.
///
/// Dropping tags while keeping their text is what restores the parts Mastodon hides for
/// display: an h-card mention reads `@acme`, and a link shortened with `invisible` and
/// `ellipsis` spans reads as its full URL. Unknown entities stay as written. It assumes
/// nothing about its input: unclosed tags, a stray `<` or `&`, any text, never a panic.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(['<', '&']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with('&') {
            match entity(rest) {
                Some((decoded, len)) => {
                    out.push(decoded);
                    rest = &rest[len..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
            continue;
        }
        let after = &rest[1..];
        if after.starts_with("!--") {
            // A comment may hold `>`; it ends only at `-->`.
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let opens_tag = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'));
        if !opens_tag {
            // A `<` that starts no tag is text ("1 < 2"), whatever escaped it should have.
            out.push('<');
            rest = after;
            continue;
        }
        // A tag cut off before its `>` is markup all the same: it is dropped, not shown.
        let Some(end) = after.find('>') else {
            rest = "";
            break;
        };
        tag(&after[..end], &mut out);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out.trim().to_owned()
}

/// Applies one tag (what is between `<` and `>`) to the text so far.
fn tag(inner: &str, out: &mut String) {
    let name_part = inner.strip_prefix('/').unwrap_or(inner);
    let name_len = name_part
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(name_part.len());
    let name = &name_part[..name_len];
    // Block elements Mastodon keeps in posts from other servers (quotes, code, headings)
    // are paragraphs too; list items and rows are lines, so they do not run together.
    let paragraph = [
        "p",
        "blockquote",
        "pre",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "ul",
        "ol",
    ];
    if paragraph.iter().any(|p| name.eq_ignore_ascii_case(p)) {
        // Opening and closing both mark a boundary; repeated ones collapse into one.
        let kept = out.trim_end().len();
        out.truncate(kept);
        if !out.is_empty() {
            out.push_str("\n\n");
        }
    } else if name.eq_ignore_ascii_case("br") {
        out.push('\n');
    } else if name.eq_ignore_ascii_case("li") && !inner.starts_with('/') {
        // A list item starts a line (its closing tag adds nothing).
        let kept = out.trim_end_matches([' ', '\t']).len();
        out.truncate(kept);
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
    }
}

/// The character an entity at the start of `text` (which starts with `&`) stands for, and
/// the entity's length in bytes; `None` when it is not one this decoder knows.
fn entity(text: &str) -> Option<(char, usize)> {
    // Entities are short; looking further for a `;` would find one that is not theirs.
    let semicolon = text.bytes().take(12).position(|b| b == b';')?;
    let name = text.get(1..semicolon)?;
    let decoded = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        _ => {
            let number = name.strip_prefix('#')?;
            let (digits, radix) = match number.strip_prefix(['x', 'X']) {
                Some(hex) => (hex, 16),
                None => (number, 10),
            };
            // `from_str_radix` would also take a sign.
            if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
                return None;
            }
            let code = u32::from_str_radix(digits, radix).ok()?;
            char::from_u32(code).filter(|c| *c != '\0')?
        }
    };
    Some((decoded, semicolon + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use chrono::TimeZone;
    use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        Response {
            status,
            headers: map,
            body: Bytes::from(body.to_owned()),
        }
    }

    /// The documented mention notification, filled in the way a real remote mention comes:
    /// an h-card mention, a link shortened with invisible spans, a `<br>`, entities, a
    /// language and a reply. The second is a content-warned post with no `url`; the third a
    /// favourite, which is not a mention.
    const PAGE: &str = r#"[
      {
        "id": "34975861",
        "type": "mention",
        "created_at": "2026-11-23T07:49:02.064Z",
        "group_key": "ungrouped-34975861",
        "account": {"id": "971724", "username": "user", "acct": "user@other.social",
                    "display_name": "A User", "url": "https://other.social/@user"},
        "status": {
          "id": "113520000000000002",
          "created_at": "2026-11-23T07:49:01.940Z",
          "in_reply_to_id": "113519000000000001",
          "in_reply_to_account_id": "14715",
          "sensitive": false,
          "spoiler_text": "",
          "visibility": "public",
          "language": "en",
          "uri": "https://other.social/users/user/statuses/113520000000000002",
          "url": "https://other.social/@user/113520000000000002",
          "replies_count": 0, "reblogs_count": 0, "favourites_count": 0,
          "content": "<p><span class=\"h-card\" translate=\"no\"><a href=\"https://mastodon.social/@acme\" class=\"u-url mention\">@<span>acme</span></a></span> is the API down? <a href=\"https://status.acme.example/incidents/42\" rel=\"nofollow noopener noreferrer\" target=\"_blank\"><span class=\"invisible\">https://</span><span class=\"ellipsis\">status.acme.example/incidents</span><span class=\"invisible\">/42</span></a><br />getting 503s &amp; &quot;timeouts&quot; &lt;again&gt; &#39;since 10:00&#39;</p><p>caf&#xE9; &#233;t&eacute;</p>",
          "reblog": null,
          "account": {"id": "971724", "username": "user", "acct": "user@other.social",
                      "display_name": "A User", "locked": false, "bot": false,
                      "created_at": "2024-03-16T00:00:00.000Z", "note": "<p>hi</p>",
                      "url": "https://other.social/@user"},
          "media_attachments": [],
          "mentions": [{"id": "14715", "username": "acme",
                        "url": "https://mastodon.social/@acme", "acct": "acme"}],
          "tags": [], "emojis": [], "card": null, "poll": null
        }
      },
      {
        "id": "34975800",
        "type": "mention",
        "created_at": "2026-11-23T07:40:00.000Z",
        "account": {"id": "5", "username": "local", "acct": "local", "display_name": ""},
        "status": {
          "id": "113519999999999999",
          "created_at": "2026-11-23T07:39:59.5+01:00",
          "in_reply_to_id": null,
          "spoiler_text": "outage talk",
          "language": null,
          "uri": "https://mastodon.social/users/local/statuses/113519999999999999",
          "url": null,
          "content": "<p>@acme help</p>",
          "account": {"id": "5", "username": "local", "acct": "local", "display_name": ""}
        }
      },
      {
        "id": "34975535",
        "type": "favourite",
        "created_at": "2026-11-23T07:29:18.903Z",
        "account": {"id": "297420", "username": "haskal", "acct": "haskal@cybre.space"},
        "status": {"id": "103186046267791694", "content": "<p>ours</p>"}
      }
    ]"#;

    #[test]
    fn quotes_lists_and_code_from_other_servers_keep_their_breaks() {
        assert_eq!(
            html_to_text(
                "<p>is it down?</p><blockquote><p>api 503</p></blockquote><ul><li>eu</li><li>us</li></ul><pre>curl -v</pre>"
            ),
            "is it down?\n\napi 503\n\neu\nus\n\ncurl -v"
        );
    }

    #[test]
    fn a_documented_page_reads_as_mentions() {
        let page = parse_page(&response(200, &[], PAGE), Some("34975000")).unwrap();
        assert_eq!(page.mentions.len(), 2, "the favourite is skipped");
        assert_eq!(page.newest.as_deref(), Some("34975861"));
        assert_eq!(page.next_page, None, "a partial page has caught up");
        assert_eq!(page.rate_limit, None);

        let first = &page.mentions[0];
        assert_eq!(first.platform, Platform::Mastodon);
        assert_eq!(
            first.id, "113520000000000002",
            "the status id, not the notification's"
        );
        assert_eq!(first.url, "https://other.social/@user/113520000000000002");
        assert_eq!(
            first.author,
            Author {
                id: "971724".into(),
                handle: "user@other.social".into(),
                name: Some("A User".into()),
            }
        );
        assert_eq!(
            first.text,
            "@acme is the API down? https://status.acme.example/incidents/42\n\
             getting 503s & \"timeouts\" <again> 'since 10:00'\n\ncafé ét&eacute;"
        );
        assert_eq!(
            first.created_at,
            Utc.with_ymd_and_hms(2026, 11, 23, 7, 49, 1).unwrap()
                + chrono::Duration::milliseconds(940)
        );
        assert_eq!(first.lang.as_deref(), Some("en"));
        assert_eq!(first.conversation, None);
        assert_eq!(first.in_reply_to.as_deref(), Some("113519000000000001"));
        assert_eq!(first.kind, MentionKind::Reply);

        let second = &page.mentions[1];
        assert_eq!(
            second.url, "https://mastodon.social/users/local/statuses/113519999999999999",
            "uri stands in for a null url"
        );
        assert_eq!(second.author.name, None, "an empty display name is no name");
        assert_eq!(second.text, "outage talk\n@acme help");
        assert_eq!(second.lang, None);
        assert_eq!(second.kind, MentionKind::Mention);
        assert_eq!(
            second.created_at,
            Utc.with_ymd_and_hms(2026, 11, 23, 6, 39, 59).unwrap()
                + chrono::Duration::milliseconds(500),
            "offsets are converted to UTC"
        );
    }

    fn notifications(ids: impl Iterator<Item = u64>) -> String {
        let items: Vec<String> = ids
            .map(|id| {
                format!(
                    r#"{{"id":"{id}","type":"mention","created_at":"2026-11-23T10:00:00.000Z",
                        "account":{{"id":"1","acct":"a"}},
                        "status":{{"id":"9{id}","uri":"https://x.example/s/{id}",
                                  "url":null,"created_at":"2026-11-23T10:00:00.000Z",
                                  "account":{{"id":"1","acct":"a","display_name":"A"}},
                                  "content":"<p>hi {id}</p>","spoiler_text":"",
                                  "language":"en","in_reply_to_id":null}}}}"#
                )
            })
            .collect();
        format!("[{}]", items.join(","))
    }

    fn full_page() -> String {
        notifications((1001..=1080).rev())
    }

    fn link(prev_min_id: &str) -> String {
        format!(
            "<https://mastodon.example/api/v1/notifications?limit=80&max_id=1001&types%5B%5D=mention>; rel=\"next\", \
             <https://mastodon.example/api/v1/notifications?limit=80&min_id={prev_min_id}&types%5B%5D=mention>; rel=\"prev\""
        )
    }

    #[test]
    fn a_full_page_after_a_cursor_continues_at_the_prev_link() {
        let body = full_page();
        let page = parse_page(
            &response(200, &[("link", &link("1080"))], &body),
            Some("1000"),
        )
        .unwrap();
        assert_eq!(page.mentions.len(), PAGE_LIMIT);
        assert_eq!(page.mentions[0].id, "91080", "newest first, as sent");
        assert_eq!(page.newest.as_deref(), Some("1080"));
        assert_eq!(page.next_page.as_deref(), Some("1080"));

        // Filtered notifications can put the link's boundary past the last one shown.
        let page = parse_page(
            &response(200, &[("link", &link("1090"))], &body),
            Some("1000"),
        )
        .unwrap();
        assert_eq!(page.newest.as_deref(), Some("1080"));
        assert_eq!(page.next_page.as_deref(), Some("1090"));
    }

    #[test]
    fn without_a_usable_link_a_full_page_continues_at_its_newest_id() {
        let body = full_page();
        // The documented sample's Link header lost its `rel="prev"`.
        let truncated = "<https://mastodon.example/api/v1/notifications?max_id=1001>; rel=\"next\", \
                         <https://mastodon.example/api/v1/notifications?min_id=1080>;";
        for headers in [
            &[][..],
            &[("link", truncated)][..],
            &[("link", "</api/v1/notifications?min_id=1080>; rel=\"prev\"")][..],
            &[("link", "garbage")][..],
        ] {
            let page = parse_page(&response(200, headers, &body), Some("1000")).unwrap();
            assert_eq!(page.next_page.as_deref(), Some("1080"), "{headers:?}");
        }
        // A link that would not move the cursor past the one sent would loop forever.
        let page = parse_page(
            &response(200, &[("link", &link("999"))], &body),
            Some("1000"),
        )
        .unwrap();
        assert_eq!(page.next_page.as_deref(), Some("1080"));
        let page = parse_page(&response(200, &[], &body), Some("5000")).unwrap();
        assert_eq!(page.next_page, None, "nothing passes the cursor: stop");
    }

    #[test]
    fn first_start_and_partial_and_empty_pages_stop_the_poll() {
        let first = parse_page(
            &response(200, &[("link", &link("1080"))], &full_page()),
            None,
        )
        .unwrap();
        assert_eq!(first.newest.as_deref(), Some("1080"));
        assert_eq!(
            first.next_page, None,
            "history before the first start is not wanted"
        );

        let partial = notifications((1001..=1079).rev());
        let page = parse_page(
            &response(200, &[("link", &link("1079"))], &partial),
            Some("1000"),
        )
        .unwrap();
        assert_eq!(page.newest.as_deref(), Some("1079"));
        assert_eq!(page.next_page, None);

        let empty = parse_page(&response(200, &[], "[]"), Some("1000")).unwrap();
        assert_eq!(empty, Page::default());
    }

    #[test]
    fn the_cursor_follows_skipped_notifications_and_the_highest_id() {
        let body = r#"[
          {"id":"100","type":"follow","account":{"id":"1","acct":"a"}},
          {"id":"99","type":"mention","account":{"id":"1","acct":"a"},"status":null},
          {"id":"98","type":"admin.report","report":{}}
        ]"#;
        let page = parse_page(&response(200, &[], body), Some("97")).unwrap();
        assert!(page.mentions.is_empty());
        assert_eq!(page.newest.as_deref(), Some("100"), "99 < 100 as numbers");
    }

    #[test]
    fn ids_compare_as_numbers_of_any_length() {
        assert_eq!(compare_ids("99", "100"), Ordering::Less);
        assert_eq!(compare_ids("100", "99"), Ordering::Greater);
        assert_eq!(
            compare_ids("113520000000000002", "113520000000000002"),
            Ordering::Equal
        );
        assert_eq!(compare_ids("007", "7"), Ordering::Equal);
        assert_eq!(
            compare_ids("18446744073709551616", "18446744073709551615"),
            Ordering::Greater,
            "past u64::MAX"
        );
        assert_eq!(
            compare_ids("abc", "abd"),
            Ordering::Less,
            "still a total order"
        );
    }

    #[test]
    fn rate_limit_headers_read_an_iso_8601_reset() {
        let headers = [
            ("X-RateLimit-Limit", "300"),
            ("X-RateLimit-Remaining", "299"),
            ("X-RateLimit-Reset", "2026-11-23T10:05:00.123456Z"),
        ];
        let page = parse_page(&response(200, &headers, "[]"), None).unwrap();
        let limit = page.rate_limit.unwrap();
        assert_eq!((limit.limit, limit.remaining), (300, 299));
        assert_eq!(
            limit.reset,
            Utc.with_ymd_and_hms(2026, 11, 23, 10, 5, 0).unwrap()
                + chrono::Duration::microseconds(123_456)
        );
        for broken in [
            &headers[..2],
            &[headers[0], headers[1], ("X-RateLimit-Reset", "1795430000")][..],
            &[headers[0], ("X-RateLimit-Remaining", "-1"), headers[2]][..],
        ] {
            let page = parse_page(&response(200, broken, "[]"), None).unwrap();
            assert_eq!(page.rate_limit, None, "{broken:?}");
        }
    }

    #[test]
    fn error_statuses_map_to_their_kind_with_mastodons_words() {
        let reset = [("X-RateLimit-Reset", "2026-11-23T10:05:00.000Z")];
        let error = parse_page(
            &response(429, &reset, r#"{"error":"Too many requests"}"#),
            None,
        )
        .unwrap_err();
        assert_eq!(
            error,
            SocialError::RateLimited {
                platform: Platform::Mastodon,
                reset: Utc.with_ymd_and_hms(2026, 11, 23, 10, 5, 0).single(),
                detail: "Too many requests".into(),
            }
        );
        let error = parse_page(&response(429, &[], "<html>slow down</html>"), None).unwrap_err();
        assert!(
            matches!(&error, SocialError::RateLimited { reset: None, detail, .. } if detail == "Too Many Requests"),
            "{error:?}"
        );

        let error = parse_page(
            &response(401, &[], r#"{"error": "The access token is invalid"}"#),
            None,
        )
        .unwrap_err();
        assert_eq!(
            error,
            SocialError::Unauthorized {
                platform: Platform::Mastodon,
                detail: "The access token is invalid".into(),
            }
        );

        let oauth = r#"{"error": "invalid_grant", "error_description": "The provided authorization grant is invalid"}"#;
        let error = parse_page(&response(403, &[], oauth), None).unwrap_err();
        assert_eq!(
            error,
            SocialError::Rejected {
                platform: Platform::Mastodon,
                status: 403,
                detail: "invalid_grant: The provided authorization grant is invalid".into(),
            }
        );
        // A refusal not in Mastodon's words (a proxy's page, a cut-off body) is no verdict.
        for body in ["not json", r#"{"error": "Record not"#, "{}"] {
            let error = parse_page(&response(404, &[], body), None).unwrap_err();
            assert!(
                matches!(&error, SocialError::Malformed { status: 404, reason, .. } if reason.contains("Not Found")),
                "{error:?}"
            );
        }

        let error = parse_page(
            &response(503, &[], r#"{"error": "Remote data could not be fetched"}"#),
            None,
        )
        .unwrap_err();
        assert_eq!(
            error,
            SocialError::Unavailable {
                platform: Platform::Mastodon,
                detail: "HTTP 503: Remote data could not be fetched".into(),
            }
        );
        let error = parse_page(&response(502, &[], "<html>bad gateway</html>"), None).unwrap_err();
        assert!(
            matches!(error, SocialError::Unavailable { .. }),
            "{error:?}"
        );
        let error = parse_page(&response(304, &[], ""), None).unwrap_err();
        assert!(
            matches!(error, SocialError::Malformed { status: 304, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn malformed_notifications_are_skipped_beside_the_good_ones() {
        let good = |id: u32| {
            format!(
                r#"{{"id":"{id}","type":"mention","status":{{"id":"9{id}","uri":"u{id}",
                "created_at":"2026-11-23T10:00:00Z","content":"<p>hi</p>",
                "account":{{"id":"1","acct":"a"}}}}}}"#
            )
        };
        let no_status_fields = r#"{"id":"5","type":"mention","status":{"id":"2"}}"#;
        let no_account = r#"{"id":"5","type":"mention","status":{"id":"2","uri":"u",
            "created_at":"2026-11-23T10:00:00Z","content":""}}"#;
        let time = |at: &str| {
            format!(
                r#"{{"id":"5","type":"mention","status":{{"id":"2","uri":"u",
                "created_at":"{at}","content":"","account":{{"id":"1","acct":"a"}}}}}}"#
            )
        };
        let no_link = r#"{"id":"5","type":"mention","status":{"id":"2","url":null,
            "created_at":"2026-11-23T10:00:00Z","content":"","account":{"id":"1","acct":"a"}}}"#;
        for (broken, cursor_passes) in [
            (no_status_fields.to_owned(), true),
            (no_account.to_owned(), true),
            (time("yesterday"), true),
            (time("+262142-11-23T10:00:00Z"), true),
            (time("-262143-11-23T10:00:00Z"), true),
            (time("2201-01-01T00:00:00Z"), true),
            (no_link.to_owned(), true),
            (r#"{"id":5,"type":"mention"}"#.to_owned(), false),
            (r#"{"id":"5"}"#.to_owned(), false),
            ("{}".to_owned(), false),
            ("1".to_owned(), false),
            ("null".to_owned(), false),
            (r#"["5", "mention"]"#.to_owned(), false),
        ] {
            let body = format!("[{}, {broken}, {}]", good(3), good(4));
            let page = parse_page(&response(200, &[], &body), Some("1")).unwrap();
            let ids: Vec<&str> = page.mentions.iter().map(|m| m.id.as_str()).collect();
            assert_eq!(ids, ["93", "94"], "{broken}");
            assert_eq!(page.partial_errors.len(), 1, "{broken}");
            assert!(
                page.partial_errors[0].contains("skipped"),
                "{:?}",
                page.partial_errors
            );
            // A notification that can be placed moves the cursor past it: it would be as
            // unreadable on every later read.
            let newest = if cursor_passes { "5" } else { "4" };
            assert_eq!(page.newest.as_deref(), Some(newest), "{broken}");
        }
    }

    #[test]
    fn bodies_that_are_no_page_are_errors_not_panics() {
        for body in [
            "",
            "[",
            "{}",
            r#"{"error":"nope"}"#,
            "null",
            r#"[{"id": "1""#,
        ] {
            let error = parse_page(&response(200, &[], body), Some("1")).unwrap_err();
            assert!(
                matches!(error, SocialError::Malformed { status: 200, .. }),
                "{body}: {error:?}"
            );
        }
        let invalid_utf8 = Response {
            status: 200,
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"\xff\xfe["),
        };
        assert!(matches!(
            parse_page(&invalid_utf8, None),
            Err(SocialError::Malformed { status: 200, .. })
        ));
    }

    #[test]
    fn the_prev_link_is_found_in_any_order_and_spelling() {
        let reversed = "<https://m.example/api/v1/notifications?min_id=7>; rel=\"prev\", \
                        <https://m.example/api/v1/notifications?max_id=3>; rel=\"next\"";
        assert_eq!(prev_min_id(reversed).as_deref(), Some("7"));
        assert_eq!(
            prev_min_id(&link("113520000000000002")).as_deref(),
            Some("113520000000000002")
        );
        assert_eq!(
            prev_min_id("<https://m.example/n?min_id=8>;rel=previous").as_deref(),
            Some("8")
        );
        assert_eq!(
            prev_min_id("<https://m.example/n?max_id=8>; rel=\"prev\""),
            None
        );
        assert_eq!(
            prev_min_id("<https://m.example/n?min_id=8>; rel=\"next\""),
            None
        );
        assert_eq!(prev_min_id(""), None);
        assert_eq!(prev_min_id("<<>>;;,,rel=prev"), None);
    }

    #[test]
    fn the_endpoint_keeps_the_instance_path() {
        for (instance, endpoint) in [
            (
                "https://mastodon.social",
                "https://mastodon.social/api/v1/notifications",
            ),
            (
                "https://mastodon.social/",
                "https://mastodon.social/api/v1/notifications",
            ),
            (
                "https://example.com/social?x=1#top",
                "https://example.com/social/api/v1/notifications",
            ),
        ] {
            let instance = Url::parse(instance).unwrap();
            assert_eq!(notifications_endpoint(&instance).as_str(), endpoint);
        }
    }

    #[test]
    fn html_mentions_and_shortened_links_read_in_full() {
        // The documented samples, the second with its stray `}` left as it is there.
        assert_eq!(
            html_to_text(
                r#"<p><span class="h-card"><a href="https://mastodon.social/@trwnh" class="u-url mention">@<span>trwnh</span></a></span> sup!</p>"#
            ),
            "@trwnh sup!"
        );
        assert_eq!(
            html_to_text(
                r#"<p>&quot;I lost my inheritance with one wrong digit on my sort code&quot;</p><p><a href="https://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code" rel="nofollow noopener noreferrer" target="_blank"><span class="invisible">https://www.</span><span class="ellipsis">theguardian.com/money/2019/dec</span><span class="invisible">/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code</span}</p>"#
            ),
            "\"I lost my inheritance with one wrong digit on my sort code\"\n\n\
             https://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code"
        );
        assert_eq!(
            html_to_text(
                r##"<p>down again <a href="https://mastodon.social/tags/acme" class="mention hashtag" rel="tag">#<span>acme</span></a></p>"##
            ),
            "down again #acme"
        );
    }

    #[test]
    fn html_paragraphs_and_breaks_become_lines() {
        assert_eq!(html_to_text("<p>one</p><p>two</p>"), "one\n\ntwo");
        assert_eq!(html_to_text("<p>a<br>b<br/>c<br />d<BR></p>"), "a\nb\nc\nd");
        assert_eq!(html_to_text("<p>a<br></p><p></p><p>b</p>"), "a\n\nb");
        assert_eq!(html_to_text("<p>one</p>\n<p>two</p>\n"), "one\n\ntwo");
        assert_eq!(html_to_text("<pre>x</pre><P class=\"c\">y</P>"), "x\n\ny");
        assert_eq!(html_to_text("  plain text  "), "plain text");
        assert_eq!(html_to_text(""), "");
    }

    #[test]
    fn html_entities_decode_and_unknown_ones_stay() {
        assert_eq!(
            html_to_text("&amp; &lt; &gt; &quot; &#39; &apos; a&nbsp;b"),
            "& < > \" ' ' a\u{a0}b"
        );
        assert_eq!(html_to_text("&#233;&#xE9;&#XE9;&#x1F389;"), "ééé🎉");
        assert_eq!(html_to_text("&amp;lt;"), "&lt;", "decoded once");
        for kept in [
            "&copy;",
            "&unknown;",
            "&#;",
            "&#x;",
            "&#xD800;",
            "&#x110000;",
            "&#0;",
            "&#+39;",
            "&#99999999999;",
            "AT&T",
            "a & b",
            "&",
            "&amp",
            "&verylongentityname;",
        ] {
            assert_eq!(html_to_text(kept), kept);
        }
    }

    #[test]
    fn html_that_is_broken_never_panics() {
        assert_eq!(html_to_text("<"), "<");
        assert_eq!(html_to_text("1 < 2 > 0"), "1 < 2 > 0");
        assert_eq!(html_to_text("a <3"), "a <3");
        assert_eq!(html_to_text("<p>cut off <a href=\"x"), "cut off");
        assert_eq!(html_to_text("<p>open <b>bold"), "open bold");
        assert_eq!(html_to_text("</p></p>x</span>"), "x");
        assert_eq!(html_to_text("a<!-- <p> -> -->b<!-- open"), "ab");
        assert_eq!(html_to_text("<>x<>"), "<>x<>");
        assert_eq!(
            html_to_text("<p>日本語の<span>テキスト</span>&amp;ünïcödé 🎉</p><p>Ω</p>"),
            "日本語のテキスト&ünïcödé 🎉\n\nΩ"
        );

        // Every slice of a tangle of tags, entities and multi-byte text, cut anywhere.
        let tangle = "<p>é&#233;<br/>&am<span class=\"x>y\">🎉</span>&#x1F38\
                      <a href=\"h\">ü</a><!--ç--></p><p>&nbsp;<</p";
        let cuts: Vec<usize> = tangle
            .char_indices()
            .map(|(i, _)| i)
            .chain([tangle.len()])
            .collect();
        for &start in &cuts {
            for &end in cuts.iter().filter(|&&end| end >= start) {
                let _ = html_to_text(&tangle[start..end]);
            }
        }
    }

    fn outgoing(reply_to: Option<&str>) -> Outgoing {
        Outgoing {
            text: "@dev@other.social We're on it: https://status.acme.example".into(),
            reply_to: reply_to.map(|id| crate::social::ReplyTo {
                post_id: id.into(),
                author_id: "971724".into(),
                exclude: Vec::new(),
            }),
            key: "reply-7f3c".into(),
            decided_at: Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap(),
        }
    }

    #[test]
    fn a_status_body_is_public_and_replies_only_when_it_answers() {
        assert_eq!(
            status_body(&outgoing(Some("113520000000001080"))),
            serde_json::json!({
                "status": "@dev@other.social We're on it: https://status.acme.example",
                "visibility": "public",
                "in_reply_to_id": "113520000000001080",
            })
        );
        let update = status_body(&outgoing(None));
        assert_eq!(update.get("in_reply_to_id"), None);
        assert_eq!(update["visibility"], "public");
    }

    #[test]
    fn statuses_are_posted_under_the_instance_path() {
        let instance = Url::parse("https://example.com/social/").unwrap();
        assert_eq!(
            api_endpoint(&instance, "statuses").as_str(),
            "https://example.com/social/api/v1/statuses"
        );
    }

    #[test]
    fn a_posted_status_gives_its_id_its_url_and_the_window() {
        let headers = [
            ("X-RateLimit-Limit", "300"),
            ("X-RateLimit-Remaining", "299"),
            ("X-RateLimit-Reset", "2026-11-23T13:00:00.000Z"),
        ];
        let body = r#"{"id": "113520000000009001", "created_at": "2026-11-23T10:00:01.000Z",
            "in_reply_to_id": "113520000000001080", "visibility": "public",
            "uri": "https://mastodon.social/users/acme/statuses/113520000000009001",
            "url": "https://mastodon.social/@acme/113520000000009001",
            "content": "<p>We&#39;re on it</p>", "account": {"id": "14715", "acct": "acme"}}"#;
        let posted = parse_posted(&response(200, &headers, body)).unwrap();
        assert_eq!(posted.id, "113520000000009001");
        assert_eq!(
            posted.url,
            "https://mastodon.social/@acme/113520000000009001"
        );
        assert!(!posted.recovered);
        let limit = posted.rate_limit.unwrap();
        assert_eq!((limit.limit, limit.remaining), (300, 299));
        assert_eq!(
            limit.reset,
            Utc.with_ymd_and_hms(2026, 11, 23, 13, 0, 0).unwrap()
        );

        let no_url =
            r#"{"id": "9", "uri": "https://mastodon.social/users/acme/statuses/9", "url": null}"#;
        let posted = parse_posted(&response(200, &[], no_url)).unwrap();
        assert_eq!(posted.url, "https://mastodon.social/users/acme/statuses/9");
        assert_eq!(posted.rate_limit, None);
    }

    #[test]
    fn refusals_are_typed_and_a_lost_outcome_is_ambiguous() {
        let error = parse_posted(&response(
            422,
            &[],
            r#"{"error": "Validation failed: Text character limit of 500 exceeded"}"#,
        ))
        .unwrap_err();
        assert_eq!(
            error,
            SocialError::Rejected {
                platform: Platform::Mastodon,
                status: 422,
                detail: "Validation failed: Text character limit of 500 exceeded".into(),
            }
        );
        let error = parse_posted(&response(
            429,
            &[("X-RateLimit-Reset", "2026-11-23T13:00:00.000Z")],
            r#"{"error": "Too many requests"}"#,
        ))
        .unwrap_err();
        assert!(
            matches!(error, SocialError::RateLimited { reset: Some(_), .. }),
            "{error:?}"
        );
        let error = parse_posted(&response(
            401,
            &[],
            r#"{"error": "The access token is invalid"}"#,
        ))
        .unwrap_err();
        assert!(
            matches!(error, SocialError::Unauthorized { .. }),
            "{error:?}"
        );
        let error = parse_posted(&response(
            403,
            &[],
            r#"{"error": "This action is not allowed"}"#,
        ))
        .unwrap_err();
        assert!(
            matches!(error, SocialError::Rejected { status: 403, .. }),
            "{error:?}"
        );

        for (status, body) in [
            (502, "<html>bad gateway</html>"),
            (503, r#"{"error": "Remote data could not be fetched"}"#),
            (200, ""),
            (200, "[]"),
            (200, r#"{"id": 5}"#),
            (200, r#"{"id": "5"}"#),
            (200, r#"{"id": "", "url": "https://m.example/@acme/5"}"#),
            (200, "\u{feff}"),
        ] {
            let error = parse_posted(&response(status, &[], body)).unwrap_err();
            assert!(
                matches!(
                    error,
                    SocialError::Ambiguous {
                        platform: Platform::Mastodon,
                        ..
                    }
                ),
                "{status} {body}: {error:?}"
            );
        }
        // A status Mastodon does not send for a post says nothing about it either.
        let error = parse_posted(&response(304, &[], "")).unwrap_err();
        assert!(matches!(error, SocialError::Ambiguous { .. }), "{error:?}");
        // A refusal that cannot be read is certain (nothing was made) but no verdict.
        for body in ["", "<html>Forbidden</html>", r#"{"error": "Validation fa"#] {
            let error = parse_posted(&response(422, &[], body)).unwrap_err();
            assert!(
                matches!(error, SocialError::Malformed { status: 422, .. }),
                "{body}: {error:?}"
            );
        }
    }
}

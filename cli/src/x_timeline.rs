//! A stand-in for X's API v2 on 127.0.0.1, speaking its wire format for the vendor's account:
//! the outage drill feeds it customers' posts, polls it and answers them with the real X
//! client, and the polling and posting tests use it to check the recipes end to end.
//!
//! It behaves as X documents `GET /2/users/{id}/mentions`: newest first, `since_id`
//! exclusive, `max_results` 5 to 100, `pagination_token` for the next (older) page, only the
//! 800 most recent mentions reachable, `meta.newest_id`/`oldest_id`/`next_token`, authors in
//! `includes.users`, every `@handle` in `entities.mentions`, and `x-rate-limit-*` headers on
//! every answer (a 429 in X's v2 problem shape once the window is spent). Ids are
//! snowflakes, so they carry their creation time.
//!
//! The posting side is the account's: `POST /2/tweets` creates a post or a reply (201 with
//! `data.id`), refusing as X does an empty text (400), a text over 280 characters (403), a
//! reply to a post it does not know (400), the same text as one of the account's earlier
//! posts (403 "duplicate content") and a spent posting window (429; 100 posts per 15
//! minutes, its own `x-rate-limit-*` headers). The account's posts are kept apart from the
//! mentions timeline and listed by `GET /2/users/{id}/tweets`, which sitrep reads after an
//! ambiguous failure. Hooks make the next post fail with a given answer or lose its answer
//! after posting, the two cases a client without an idempotency key must tell apart.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// X's epoch for snowflake ids, in Unix milliseconds.
const X_EPOCH_MS: i64 = 1_288_834_974_657;

/// The most recent mentions X lets a client reach.
const REACH: usize = 800;

/// The posts an account may make per window (X: 100 per 15 minutes per user).
const POST_LIMIT: u32 = 100;

/// The longest text X takes, in weighted characters.
const MAX_CHARS: usize = 280;

/// The largest create body read; X's are far smaller, and a stand-in need not hold more.
const MAX_BODY: usize = 64 * 1024;

/// The fields of `CreatePostsRequest` (X's OpenAPI 2.167) the stand-in does not model: X
/// would accept them, so they are refused here as unsupported rather than as invalid, and a
/// test that starts sending one learns it at once instead of passing on a post that ignored
/// it.
const UNMODELLED_FIELDS: [&str; 14] = [
    "card_uri",
    "community_id",
    "direct_message_deep_link",
    "edit_options",
    "for_super_followers_only",
    "geo",
    "made_with_ai",
    "media",
    "nullcast",
    "paid_partnership",
    "poll",
    "quote_tweet_id",
    "reply_settings",
    "share_with_followers",
];

const TOO_MANY: &str = r#"{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}"#;

/// X's exact refusal of duplicate content; sitrep recognises it by these words.
const DUPLICATE: &str = r#"{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}"#;

const TOO_LONG: &str = r#"{"detail":"Your Tweet text is too long. For more information on how Twitter determines text length see https://github.com/twitter/twitter-text.","type":"about:blank","title":"Forbidden","status":403}"#;

/// One post on the stand-in timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelinePost {
    /// Its snowflake id.
    pub id: u64,
    /// The author's user id.
    pub author_id: String,
    /// The author's handle.
    pub username: String,
    /// The text.
    pub text: String,
    /// When it was posted.
    pub created_at: DateTime<Utc>,
    /// The post it reposts, for a plain repost.
    pub reposts: Option<u64>,
}

/// A post the account made through `POST /2/tweets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountPost {
    /// Its snowflake id, as X writes ids.
    pub id: String,
    /// The text as sent.
    pub text: String,
    /// The post it replies to, if it is a reply.
    pub in_reply_to: Option<String>,
    /// The conversation it belongs to: the replied-to post's, else its own id.
    pub conversation_id: String,
    /// `reply.exclude_reply_user_ids` as sent.
    pub exclude_reply_user_ids: Vec<String>,
    /// When it was posted: the timeline's time then.
    pub created_at: DateTime<Utc>,
    /// The request body as received.
    pub body: String,
}

/// A request as the timeline saw it: its `since_id` and `pagination_token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineRequest {
    /// `since_id`, if sent.
    pub since_id: Option<String>,
    /// `pagination_token`, if sent.
    pub pagination_token: Option<String>,
}

/// A rate-limit window as the `x-rate-limit-*` headers state it.
#[derive(Debug, Clone, Copy)]
struct Window {
    limit: u32,
    remaining: u32,
    /// Unix seconds.
    reset: i64,
}

#[derive(Debug)]
struct State {
    user_id: String,
    username: Option<String>,
    /// Ascending by id.
    posts: Vec<TimelinePost>,
    /// The account's own posts, in the order made.
    own: Vec<AccountPost>,
    sequence: u64,
    /// The timeline's time, which the account's posts are made at.
    now: DateTime<Utc>,
    mentions_window: Window,
    post_window: Window,
    failures: VecDeque<(u16, String)>,
    post_failures: VecDeque<(u16, String)>,
    drop_next_post: bool,
    post_attempts: usize,
    stall_at: Option<usize>,
    requests: Vec<TimelineRequest>,
}

impl State {
    /// A new snowflake id at `at`: the time in the high bits, a sequence in the low 22 so
    /// that posts in the same millisecond still differ.
    fn snowflake(&mut self, at: DateTime<Utc>) -> u64 {
        self.sequence += 1;
        let ms = u64::try_from((at.timestamp_millis() - X_EPOCH_MS).max(0)).unwrap_or(0);
        (ms << 22) | (self.sequence & 0x3F_FFFF)
    }

    /// The user id behind `@handle`: the account's own for its handle, else the stand-in's
    /// derived one. X matches handles without regard to case.
    fn user_id_for(&self, handle: &str) -> String {
        match &self.username {
            Some(own) if own.eq_ignore_ascii_case(handle) => self.user_id.clone(),
            _ => user_id_of(handle),
        }
    }
}

/// A running stand-in timeline; stops when dropped.
#[derive(Debug)]
pub struct XTimeline {
    address: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl XTimeline {
    /// Starts a timeline for the account `user_id` on a free loopback port, with a rate-limit
    /// window of 450 calls (X's per-app limit) and a posting window of 100, both resetting at
    /// `reset`. The timeline's time starts 15 minutes before `reset`, when that window began.
    pub async fn start(user_id: &str, reset: DateTime<Utc>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            user_id: user_id.to_owned(),
            username: None,
            posts: Vec::new(),
            own: Vec::new(),
            sequence: 0,
            now: reset - TimeDelta::minutes(15),
            mentions_window: Window {
                limit: 450,
                remaining: 450,
                reset: reset.timestamp(),
            },
            post_window: Window {
                limit: POST_LIMIT,
                remaining: POST_LIMIT,
                reset: reset.timestamp(),
            },
            failures: VecDeque::new(),
            post_failures: VecDeque::new(),
            drop_next_post: false,
            post_attempts: 0,
            stall_at: None,
            requests: Vec::new(),
        }));
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(request, Arc::clone(&state)));
                    // An error here is a dropped connection, some of them on purpose.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self {
            address,
            state,
            task,
        })
    }

    /// The API base URL to give the X client.
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.address)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Names the account `name` (its handle, without `@`): `@name` in customers' posts then
    /// resolves to the account's user id, as on X, instead of to a stranger.
    pub fn set_account_username(&self, name: &str) {
        self.lock().username = Some(name.trim_start_matches('@').to_owned());
    }

    /// [`XTimeline::set_account_username`] in builder style, for right after
    /// [`XTimeline::start`].
    pub fn with_account_username(self, name: &str) -> Self {
        self.set_account_username(name);
        self
    }

    /// Sets the timeline's time, at which the account's next posts are made. It also moves
    /// forward by itself to the time of every post added with [`XTimeline::post`] or
    /// [`XTimeline::repost`], so a reply is never older than what it answers.
    pub fn set_now(&self, at: DateTime<Utc>) {
        self.lock().now = at;
    }

    /// Adds a post by `username` at `at`; returns its id. The author's user id is derived
    /// from the handle, except that the account's own handle (once set) is the account.
    pub fn post(&self, username: &str, text: &str, at: DateTime<Utc>) -> String {
        self.add(username, text, at, None)
    }

    /// Adds a plain repost of `original` by `username` at `at`; returns its id.
    pub fn repost(&self, username: &str, original: &str, at: DateTime<Utc>) -> String {
        let original_id = original.parse().ok();
        self.add(username, "RT", at, original_id)
    }

    fn add(&self, username: &str, text: &str, at: DateTime<Utc>, reposts: Option<u64>) -> String {
        let mut state = self.lock();
        let id = state.snowflake(at);
        state.now = state.now.max(at);
        let post = TimelinePost {
            id,
            author_id: state.user_id_for(username),
            username: username.to_owned(),
            text: text.to_owned(),
            created_at: at,
            reposts,
        };
        let at = state.posts.partition_point(|p| p.id < id);
        state.posts.insert(at, post);
        id.to_string()
    }

    /// Sets the mentions rate-limit window: `remaining` calls left, resetting at `reset`.
    pub fn set_rate_limit(&self, remaining: u32, reset: DateTime<Utc>) {
        let mut state = self.lock();
        state.mentions_window.remaining = remaining;
        state.mentions_window.reset = reset.timestamp();
    }

    /// Sets the posting window: `remaining` posts left, resetting at `reset`.
    pub fn set_post_window(&self, remaining: u32, reset: DateTime<Utc>) {
        let mut state = self.lock();
        state.post_window.remaining = remaining;
        state.post_window.reset = reset.timestamp();
    }

    /// Makes the next mentions call fail with `status` and `body` (bodies as X sends them).
    pub fn fail_next(&self, status: u16, body: &str) {
        self.lock().failures.push_back((status, body.to_owned()));
    }

    /// Makes the next `POST /2/tweets` answer `status` and `body` without posting anything
    /// or spending the posting window. Calls queue up, one answer per post.
    pub fn fail_next_post(&self, status: u16, body: &str) {
        self.lock()
            .post_failures
            .push_back((status, body.to_owned()));
    }

    /// Makes the next `POST /2/tweets` that creates a post lose its answer: the post is made,
    /// then the connection is closed without a response, as when X took a post and the
    /// answer never arrived.
    pub fn drop_next_post_after_posting(&self) {
        self.lock().drop_next_post = true;
    }

    /// Makes the call after the next `skip` mentions calls hang for a minute before
    /// answering: a platform that stalls in the middle of a poll.
    pub fn stall_after(&self, skip: usize) {
        let mut state = self.lock();
        state.stall_at = Some(state.requests.len() + skip);
    }

    /// Every mentions request so far.
    pub fn requests(&self) -> Vec<TimelineRequest> {
        self.lock().requests.clone()
    }

    /// The posts the account made, in the order made.
    pub fn account_posts(&self) -> Vec<AccountPost> {
        self.lock().own.clone()
    }

    /// How many `POST /2/tweets` requests arrived, refused, failed and lost ones included.
    pub fn post_attempts(&self) -> usize {
        self.lock().post_attempts
    }
}

impl Drop for XTimeline {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A stable numeric user id for a handle, so the same author is the same user. Handles are
/// case-insensitive on X, so `@Jane` and `@jane` are one user.
pub fn user_id_of(username: &str) -> String {
    let hash = username
        .to_ascii_lowercase()
        .bytes()
        .fold(1_469_598_103_934_665_603u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(1_099_511_628_211)
        });
    (hash % 9_000_000_000 + 1_000_000_000).to_string()
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

type Answer = Result<Response<Full<Bytes>>, std::io::Error>;

async fn answer(request: Request<Incoming>, state: Arc<Mutex<State>>) -> Answer {
    let path = request.uri().path().to_owned();
    let query = query_of(&request);
    let user_id = lock(&state).user_id.clone();
    let method = request.method().clone();
    if method == Method::GET && path == format!("/2/users/{user_id}/mentions") {
        Ok(mentions(&query, &state).await)
    } else if method == Method::POST && path == "/2/tweets" {
        create(request, &state).await
    } else if method == Method::GET && path == format!("/2/users/{user_id}/tweets") {
        Ok(own_posts(&query, &lock(&state)))
    } else {
        let body = json!({"title": "Not Found Error", "type": "https://api.x.com/2/problems/resource-not-found", "detail": format!("no route {method} {path}")});
        let state = lock(&state);
        Ok(respond(
            404,
            &body.to_string(),
            Some(&state.mentions_window),
        ))
    }
}

fn query_of(request: &Request<Incoming>) -> Vec<(String, String)> {
    request
        .uri()
        .query()
        .and_then(|q| reqwest::Url::parse(&format!("http://local/?{q}")).ok())
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

fn param(query: &[(String, String)], name: &str) -> Option<String> {
    query
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

async fn mentions(query: &[(String, String)], state: &Mutex<State>) -> Response<Full<Bytes>> {
    let param = |name: &str| param(query, name);
    let stall = {
        let mut state = lock(state);
        let this = state.requests.len();
        state.stall_at.take_if(|at| *at == this).is_some()
    };
    if stall {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    }
    let mut state = lock(state);
    state.requests.push(TimelineRequest {
        since_id: param("since_id"),
        pagination_token: param("pagination_token"),
    });
    if let Some((status, body)) = state.failures.pop_front() {
        return respond(status, &body, Some(&state.mentions_window));
    }
    if state.mentions_window.remaining == 0 {
        return respond(429, TOO_MANY, Some(&state.mentions_window));
    }
    state.mentions_window.remaining -= 1;
    let page_size = param("max_results")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(10)
        .clamp(5, 100);
    let since: u64 = param("since_id").and_then(|v| v.parse().ok()).unwrap_or(0);
    // A token names the newest id the poll started from and how far it got, so pages stay
    // stable while new posts arrive, as X's do.
    let (top, offset) = match param("pagination_token").as_deref().map(parse_token) {
        Some(Some(token)) => token,
        Some(None) => {
            let body = r#"{"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.x.com/2/problems/invalid-request"}"#;
            return respond(400, body, Some(&state.mentions_window));
        }
        None => (u64::MAX, 0),
    };
    let reachable: Vec<&TimelinePost> = state.posts.iter().rev().take(REACH).collect();
    let matching: Vec<&TimelinePost> = reachable
        .into_iter()
        .filter(|p| p.id > since && p.id <= top)
        .collect();
    let page: Vec<&TimelinePost> = matching
        .iter()
        .skip(offset)
        .take(page_size)
        .copied()
        .collect();
    let body = page_body(&page, &matching, top, offset, page_size, &state);
    respond(200, &body.to_string(), Some(&state.mentions_window))
}

fn parse_token(token: &str) -> Option<(u64, usize)> {
    let (top, offset) = token.split_once('-')?;
    Some((top.parse().ok()?, offset.parse().ok()?))
}

fn page_body(
    page: &[&TimelinePost],
    matching: &[&TimelinePost],
    top: u64,
    offset: usize,
    page_size: usize,
    state: &State,
) -> Value {
    if page.is_empty() {
        return json!({"meta": {"result_count": 0}});
    }
    let data: Vec<Value> = page
        .iter()
        .map(|p| {
            let mut post = json!({
                "id": p.id.to_string(),
                "text": p.text,
                "author_id": p.author_id,
                "created_at": p.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
                "conversation_id": p.id.to_string(),
                "edit_history_tweet_ids": [p.id.to_string()],
            });
            if let Some(original) = p.reposts {
                post["referenced_tweets"] =
                    json!([{"type": "retweeted", "id": original.to_string()}]);
            }
            let mentions: Vec<Value> = handles(&p.text)
                .into_iter()
                .map(|(start, end, username)| {
                    json!({"start": start, "end": end, "id": state.user_id_for(&username), "username": username})
                })
                .collect();
            // X leaves `entities` out of a post whose text has none.
            if !mentions.is_empty() {
                post["entities"] = json!({"mentions": mentions});
            }
            post
        })
        .collect();
    let mut users: Vec<Value> = Vec::new();
    for p in page {
        if !users.iter().any(|u| u["id"] == p.author_id.as_str()) {
            users.push(json!({"id": p.author_id, "username": p.username, "name": p.username}));
        }
    }
    let mut meta = json!({
        "result_count": page.len(),
        "newest_id": page[0].id.to_string(),
        "oldest_id": page[page.len() - 1].id.to_string(),
    });
    if offset + page_size < matching.len() {
        let top = if top == u64::MAX { matching[0].id } else { top };
        meta["next_token"] = Value::from(format!("{top}-{}", offset + page_size));
    }
    json!({"data": data, "includes": {"users": users}, "meta": meta})
}

/// The `@handle`s in `text` as X recognises them, with their start and (exclusive) end as
/// character offsets and the handle without `@`. A simplified twitter-text rule: 1 to 15 of
/// `[A-Za-z0-9_]` after an `@` that does not follow a letter, digit or `_` (so an e-mail
/// address is no mention), and not running on into more letters or another `@`.
fn handles(text: &str) -> Vec<(usize, usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let is_at = |c: char| c == '@' || c == '\u{FF20}';
    let is_handle = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let after_word = i > 0 && (is_handle(chars[i - 1]) || "!#$%&*".contains(chars[i - 1]));
        let after_at = i > 0 && is_at(chars[i - 1]);
        if !is_at(chars[i]) || after_word || after_at {
            i += 1;
            continue;
        }
        let mut end = i + 1;
        while end < chars.len() && is_handle(chars[end]) {
            end += 1;
        }
        let runs_on = chars
            .get(end)
            .is_some_and(|&c| c.is_alphanumeric() || is_at(c));
        if (2..=16).contains(&(end - i)) && !runs_on {
            found.push((i, end, chars[i + 1..end].iter().collect()));
        }
        i = end;
    }
    found
}

/// `POST /2/tweets` as the account.
async fn create(request: Request<Incoming>, state: &Mutex<State>) -> Answer {
    lock(state).post_attempts += 1;
    // The whole body first: X decides on all of it, and a lost answer must come after the
    // post was made.
    let body = Limited::new(request.into_body(), MAX_BODY).collect().await;
    let mut state = lock(state);
    if let Some((status, body)) = state.post_failures.pop_front() {
        return Ok(respond(status, &body, Some(&state.post_window)));
    }
    if state.post_window.remaining == 0 {
        return Ok(respond(429, TOO_MANY, Some(&state.post_window)));
    }
    // X counts every call against the window, refused ones too.
    state.post_window.remaining -= 1;
    let window = state.post_window;
    let body = match body {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            let problem = invalid("The request body could not be read.", None);
            return Ok(respond(400, &problem, Some(&window)));
        }
    };
    let request = match parse_create(&body) {
        Ok(request) => request,
        Err(problem) => return Ok(respond(400, &problem, Some(&window))),
    };
    // X counts weighted characters (twitter-text: most CJK count 2, links 23); sitrep checks
    // that itself before sending, so plain characters are enough to catch an overrun here.
    if request.text.chars().count() > MAX_CHARS {
        return Ok(respond(403, TOO_LONG, Some(&window)));
    }
    let conversation_id = match &request.reply_to {
        None => None,
        Some(target) => match conversation_of(&state, target) {
            Some(conversation) => Some(conversation),
            None => {
                let problem = invalid(
                    "The Tweet you are replying to does not exist or is not visible to you.",
                    Some(("reply.in_reply_to_tweet_id", target.as_str())),
                );
                return Ok(respond(400, &problem, Some(&window)));
            }
        },
    };
    if state.own.iter().any(|own| own.text == request.text) {
        return Ok(respond(403, DUPLICATE, Some(&window)));
    }
    let at = state.now;
    let id = state.snowflake(at).to_string();
    state.own.push(AccountPost {
        id: id.clone(),
        text: request.text.clone(),
        in_reply_to: request.reply_to,
        conversation_id: conversation_id.unwrap_or_else(|| id.clone()),
        exclude_reply_user_ids: request.exclude,
        created_at: at,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    if std::mem::take(&mut state.drop_next_post) {
        // An error from the service makes hyper close the connection unanswered.
        return Err(std::io::Error::other(
            "the answer to a post is lost on purpose",
        ));
    }
    let created = json!({"data": {"id": id, "text": request.text, "edit_history_tweet_ids": [id]}});
    Ok(respond(201, &created.to_string(), Some(&window)))
}

/// The conversation of the post `id`, among customers' posts and the account's own, if the
/// timeline knows it.
fn conversation_of(state: &State, id: &str) -> Option<String> {
    let number: u64 = id.parse().ok()?;
    if state.posts.iter().any(|p| p.id == number) {
        // A customer's post starts its own conversation here (the mentions page says so).
        return Some(number.to_string());
    }
    state
        .own
        .iter()
        .find(|own| own.id.parse::<u64>().ok() == Some(number))
        .map(|own| own.conversation_id.clone())
}

/// What the stand-in reads of a create body.
#[derive(Debug)]
struct CreateBody {
    text: String,
    reply_to: Option<String>,
    exclude: Vec<String>,
}

/// Reads a `CreatePostsRequest`, holding it to the schema (no unknown fields, as
/// `additionalProperties: false` says); a refusal is an invalid-request problem.
fn parse_create(body: &[u8]) -> Result<CreateBody, String> {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return Err(invalid("The request body is not a JSON object.", None));
    };
    for name in fields.keys() {
        if UNMODELLED_FIELDS.contains(&name.as_str()) {
            let detail = format!("`{name}` is valid on X but not modelled by this stand-in.");
            return Err(invalid(&detail, Some((name.as_str(), ""))));
        }
        if name != "text" && name != "reply" {
            let detail = format!("`{name}` is not a field of CreatePostsRequest.");
            return Err(invalid(&detail, Some((name.as_str(), ""))));
        }
    }
    // The spec defaults `text` to "" and then requires it without media, so absent is empty.
    let text = match fields.get("text") {
        None => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(_) => return Err(invalid("`text` must be a string.", Some(("text", "")))),
    };
    if text.trim().is_empty() {
        return Err(invalid(
            "The post has no text: `text` is required unless media is provided.",
            Some(("text", text.as_str())),
        ));
    }
    let (reply_to, exclude) = match fields.get("reply") {
        None => (None, Vec::new()),
        Some(Value::Object(reply)) => {
            let (target, exclude) = parse_reply(reply)?;
            (Some(target), exclude)
        }
        Some(_) => return Err(invalid("`reply` must be an object.", Some(("reply", "")))),
    };
    Ok(CreateBody {
        text,
        reply_to,
        exclude,
    })
}

/// Reads a `CreatePostsReply`: the target id and the excluded user ids.
fn parse_reply(reply: &Map<String, Value>) -> Result<(String, Vec<String>), String> {
    const FIELDS: [&str; 3] = [
        "in_reply_to_tweet_id",
        "exclude_reply_user_ids",
        "auto_populate_reply_metadata",
    ];
    if let Some(name) = reply.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        let detail = format!("`reply.{name}` is not a field of CreatePostsReply.");
        return Err(invalid(
            &detail,
            Some((format!("reply.{name}").as_str(), "")),
        ));
    }
    let parameter = "reply.in_reply_to_tweet_id";
    let target = match reply.get("in_reply_to_tweet_id") {
        Some(Value::String(id)) => id.clone(),
        _ => {
            let detail = "`reply.in_reply_to_tweet_id` is required and must be a string.";
            return Err(invalid(detail, Some((parameter, ""))));
        }
    };
    if target.is_empty() || target.len() > 19 || !target.bytes().all(|b| b.is_ascii_digit()) {
        let detail = "`reply.in_reply_to_tweet_id` must match ^[0-9]{1,19}$.";
        return Err(invalid(detail, Some((parameter, target.as_str()))));
    }
    let parameter = "reply.exclude_reply_user_ids";
    let exclude = match reply.get("exclude_reply_user_ids") {
        None => Vec::new(),
        Some(Value::Array(ids)) => {
            let strings: Option<Vec<String>> = ids
                .iter()
                .map(|id| id.as_str().map(str::to_owned))
                .collect();
            strings.ok_or_else(|| {
                invalid(
                    "`reply.exclude_reply_user_ids` must hold strings.",
                    Some((parameter, "")),
                )
            })?
        }
        Some(_) => {
            let detail = "`reply.exclude_reply_user_ids` must be an array.";
            return Err(invalid(detail, Some((parameter, ""))));
        }
    };
    if let Some(flag) = reply.get("auto_populate_reply_metadata")
        && !flag.is_boolean()
    {
        let detail = "`reply.auto_populate_reply_metadata` must be a boolean.";
        return Err(invalid(
            detail,
            Some(("reply.auto_populate_reply_metadata", "")),
        ));
    }
    Ok((target, exclude))
}

/// An `InvalidRequestProblem` (X's OpenAPI): `detail`, and the `parameter` and `value` at
/// fault when there is one.
fn invalid(detail: &str, parameter: Option<(&str, &str)>) -> String {
    let mut problem = json!({
        "title": "Invalid Request",
        "detail": detail,
        "type": "https://api.x.com/2/problems/invalid-request",
        "status": 400,
    });
    if let Some((name, value)) = parameter {
        problem["parameter"] = Value::from(name);
        if !value.is_empty() {
            problem["value"] = Value::from(value);
        }
    }
    problem.to_string()
}

/// `GET /2/users/{id}/tweets` for the account: its own posts, newest first. One page only:
/// sitrep reads it right after an ambiguous post, when at most 100 posts (one window's
/// worth) can be newer than its `start_time`, so no `next_token` is ever given (and a
/// `pagination_token` is refused). It is not rate-limited here and sends no window headers:
/// sitrep takes no window from it.
fn own_posts(query: &[(String, String)], state: &State) -> Response<Full<Bytes>> {
    let param = |name: &str| param(query, name);
    let page_size = match param("max_results") {
        None => 10,
        Some(value) => match value.parse::<usize>() {
            Ok(size) if (5..=100).contains(&size) => size,
            _ => {
                let message = format!(
                    "The `max_results` query parameter value [{value}] is not between 5 and 100"
                );
                return respond(400, &parameter_error("max_results", &value, &message), None);
            }
        },
    };
    let start = match param("start_time") {
        None => None,
        Some(value) => match DateTime::parse_from_rfc3339(&value) {
            Ok(start) => Some(start.with_timezone(&Utc)),
            Err(_) => {
                let message = format!(
                    "Invalid 'start_time':'{value}'. 'start_time' must be a date-time in RFC 3339 format"
                );
                return respond(400, &parameter_error("start_time", &value, &message), None);
            }
        },
    };
    if let Some(token) = param("pagination_token") {
        let message =
            format!("The `pagination_token` query parameter value [{token}] is not valid");
        return respond(
            400,
            &parameter_error("pagination_token", &token, &message),
            None,
        );
    }
    // X sends only `id`, `text` and the edit history unless asked for more, so a client that
    // forgets to ask for `referenced_tweets` finds no reply here either.
    let fields = param("tweet.fields").unwrap_or_default();
    let asked = |field: &str| fields.split(',').any(|f| f.trim() == field);
    let mut own: Vec<&AccountPost> = state
        .own
        .iter()
        .filter(|p| start.is_none_or(|start| p.created_at >= start))
        .collect();
    own.sort_by_key(|p| std::cmp::Reverse(p.id.parse::<u64>().unwrap_or(0)));
    own.truncate(page_size);
    if own.is_empty() {
        return respond(200, &json!({"meta": {"result_count": 0}}).to_string(), None);
    }
    let data: Vec<Value> = own
        .iter()
        .map(|p| {
            let mut post = json!({"id": p.id, "text": p.text, "edit_history_tweet_ids": [p.id]});
            if asked("created_at") {
                post["created_at"] =
                    Value::from(p.created_at.to_rfc3339_opts(SecondsFormat::Millis, true));
            }
            if asked("author_id") {
                post["author_id"] = Value::from(state.user_id.as_str());
            }
            if asked("conversation_id") {
                post["conversation_id"] = Value::from(p.conversation_id.as_str());
            }
            if asked("referenced_tweets")
                && let Some(target) = &p.in_reply_to
            {
                post["referenced_tweets"] = json!([{"type": "replied_to", "id": target}]);
            }
            post
        })
        .collect();
    let body = json!({
        "data": data,
        "meta": {
            "result_count": own.len(),
            "newest_id": own[0].id,
            "oldest_id": own[own.len() - 1].id,
        },
    });
    respond(200, &body.to_string(), None)
}

/// X's answer to a bad query parameter: the v2 problem with the parameter in `errors`.
fn parameter_error(name: &str, value: &str, message: &str) -> String {
    json!({
        "errors": [{"parameters": {name: [value]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.x.com/2/problems/invalid-request",
    })
    .to_string()
}

fn respond(status: u16, body: &str, window: Option<&Window>) -> Response<Full<Bytes>> {
    let content_type = if (200..300).contains(&status) {
        "application/json"
    } else {
        "application/problem+json"
    };
    let mut response = Response::builder()
        .status(status)
        .header("content-type", content_type);
    if let Some(window) = window {
        response = response
            .header("x-rate-limit-limit", window.limit.to_string())
            .header("x-rate-limit-remaining", window.remaining.to_string())
            .header("x-rate-limit-reset", window.reset.to_string());
    }
    response
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use chrono::TimeZone;
    use shared::clock::ManualClock;
    use shared::random::SeededRandom;
    use shared::social::transport::{RetryPolicy, Transport};
    use shared::social::x::oauth1::OAuth1Credentials;
    use shared::social::x::wire::{self, XError};
    use shared::social::x::{XClient, XCredentials};
    use shared::social::{Attempt, Outgoing, ReplyTo, SocialClient, SocialError};

    use super::*;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 10, minute, 0)
            .single()
            .unwrap_or(DateTime::UNIX_EPOCH)
    }

    async fn timeline() -> XTimeline {
        XTimeline::start("42", at(15))
            .await
            .unwrap()
            .with_account_username("acme")
    }

    /// A `POST /2/tweets` with `body`: its status, headers and JSON answer.
    async fn create(timeline: &XTimeline, body: Value) -> (u16, reqwest::header::HeaderMap, Value) {
        let response = reqwest::Client::new()
            .post(format!("{}2/tweets", timeline.base_url()))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, headers, json)
    }

    async fn get(timeline: &XTimeline, path_and_query: &str) -> (u16, Value) {
        let response = reqwest::get(format!("{}{path_and_query}", timeline.base_url()))
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[tokio::test]
    async fn a_reply_is_posted_apart_from_the_mentions_and_listed_with_its_reference() {
        let timeline = timeline().await;
        let question = timeline.post("dev", "@acme is the API down?", at(2));
        let (status, headers, created) = create(
            &timeline,
            json!({"text": "@dev Looking into it.", "reply": {
                "in_reply_to_tweet_id": question, "exclude_reply_user_ids": ["1001"]}}),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let id = created["data"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert_eq!(created["data"]["text"], "@dev Looking into it.");
        assert_eq!(created["data"]["edit_history_tweet_ids"], json!([id]));
        assert_eq!(header(&headers, "x-rate-limit-limit"), "100");
        assert_eq!(header(&headers, "x-rate-limit-remaining"), "99");
        assert_eq!(
            header(&headers, "x-rate-limit-reset"),
            at(15).timestamp().to_string()
        );

        timeline.set_now(at(4));
        let (status, _, update) = create(&timeline, json!({"text": "Fixed."})).await;
        assert_eq!(status, 201, "{update}");
        let update_id = update["data"]["id"].as_str().unwrap_or_default().to_owned();

        let posts = timeline.account_posts();
        assert_eq!(posts.len(), 2);
        assert_eq!(posts[0].id, id);
        assert_eq!(posts[0].in_reply_to.as_deref(), Some(question.as_str()));
        assert_eq!(posts[0].conversation_id, question);
        assert_eq!(posts[0].exclude_reply_user_ids, ["1001"]);
        assert_eq!(posts[0].created_at, at(2), "made at the timeline's time");
        assert!(posts[0].body.contains("exclude_reply_user_ids"));
        assert_eq!(posts[1].in_reply_to, None);
        assert_eq!(posts[1].conversation_id, update_id);
        assert_eq!(posts[1].created_at, at(4));
        assert_eq!(timeline.post_attempts(), 2);

        let (_, mentions) = get(&timeline, "2/users/42/mentions").await;
        assert_eq!(mentions["meta"]["result_count"], 1, "{mentions}");

        let (status, own) = get(
            &timeline,
            "2/users/42/tweets?start_time=2026-11-23T10:01:00Z&max_results=100\
             &tweet.fields=referenced_tweets,created_at,text",
        )
        .await;
        assert_eq!(status, 200, "{own}");
        assert_eq!(own["data"][0]["id"], update_id.as_str(), "newest first");
        assert_eq!(own["data"][0].get("referenced_tweets"), None);
        assert_eq!(own["data"][1]["created_at"], "2026-11-23T10:02:00.000Z");
        assert_eq!(own["meta"]["result_count"], 2);
        assert_eq!(own["meta"]["newest_id"], update_id.as_str());
        assert_eq!(own["meta"]["oldest_id"], id.as_str());
        // Read as sitrep reads it.
        let page = wire::parse_mentions(200, own.to_string().as_bytes(), None).unwrap();
        assert!(page.posts[1].replies_to(&question));

        let (_, later) = get(
            &timeline,
            "2/users/42/tweets?start_time=2026-11-23T10:03:00Z&tweet.fields=referenced_tweets",
        )
        .await;
        assert_eq!(later["meta"]["result_count"], 1, "{later}");
        let (_, bare) = get(&timeline, "2/users/42/tweets").await;
        assert_eq!(
            bare["data"][1].get("referenced_tweets"),
            None,
            "not asked for"
        );
        for query in ["max_results=500", "max_results=4", "start_time=yesterday"] {
            let (status, refused) = get(&timeline, &format!("2/users/42/tweets?{query}")).await;
            assert_eq!(status, 400, "{query}: {refused}");
        }
    }

    #[tokio::test]
    async fn the_same_text_twice_is_refused_as_duplicate_content() {
        let timeline = timeline().await;
        let (status, _, _) = create(&timeline, json!({"text": "Maintenance tonight"})).await;
        assert_eq!(status, 201);
        let (status, headers, refused) =
            create(&timeline, json!({"text": "Maintenance tonight"})).await;
        assert_eq!(status, 403);
        assert_eq!(
            refused["detail"],
            "You are not allowed to create a Tweet with duplicate content."
        );
        assert_eq!(refused["type"], "about:blank");
        assert_eq!(refused["title"], "Forbidden");
        assert_eq!(header(&headers, "content-type"), "application/problem+json");
        assert_eq!(header(&headers, "x-rate-limit-remaining"), "98");
        let parsed = wire::parse_created(403, refused.to_string().as_bytes(), None);
        assert!(matches!(parsed, Err(XError::Duplicate(_))), "{parsed:?}");
        assert_eq!(timeline.account_posts().len(), 1);
        assert_eq!(timeline.post_attempts(), 2);
    }

    #[tokio::test]
    async fn bad_posts_are_refused_as_x_refuses_them() {
        let timeline = timeline().await;
        timeline.post("dev", "@acme down?", at(2));
        let (status, _, refused) = create(
            &timeline,
            json!({"text": "@ghost hi", "reply": {"in_reply_to_tweet_id": "1234567890"}}),
        )
        .await;
        assert_eq!(status, 400, "{refused}");
        assert_eq!(
            refused["type"],
            "https://api.x.com/2/problems/invalid-request"
        );
        assert!(
            refused["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("replying to does not exist"),
            "{refused}"
        );
        assert_eq!(refused["parameter"], "reply.in_reply_to_tweet_id");

        let long = "a".repeat(281);
        let (status, _, refused) = create(&timeline, json!({ "text": long })).await;
        assert_eq!(status, 403, "{refused}");
        let fits = "é".repeat(280);
        let (status, _, _) = create(&timeline, json!({ "text": fits })).await;
        assert_eq!(status, 201, "280 characters fit, whatever their bytes");

        for body in [
            json!({"text": ""}),
            json!({"text": "  \n"}),
            json!({}),
            json!({"text": 5}),
            json!([]),
            json!({"text": "hi", "poll": {}}),
            json!({"text": "hi", "colour": "red"}),
            json!({"text": "hi", "reply": {"in_reply_to_tweet_id": 5}}),
            json!({"text": "hi", "reply": {"in_reply_to_tweet_id": "12a"}}),
            json!({"text": "hi", "reply": {"in_reply_to_tweet_id": "1", "exclude_reply_user_ids": [1]}}),
            json!({"text": "hi", "reply": "1"}),
        ] {
            let (status, _, refused) = create(&timeline, body.clone()).await;
            assert_eq!(status, 400, "{body}: {refused}");
        }
        let response = reqwest::Client::new()
            .post(format!("{}2/tweets", timeline.base_url()))
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400);
        assert_eq!(timeline.account_posts().len(), 1);
        assert_eq!(timeline.post_attempts(), 15);
    }

    #[tokio::test]
    async fn a_spent_posting_window_is_a_429_with_its_headers() {
        let timeline = timeline().await;
        timeline.set_post_window(1, at(30));
        let (status, headers, _) = create(&timeline, json!({"text": "one"})).await;
        assert_eq!(status, 201);
        assert_eq!(header(&headers, "x-rate-limit-remaining"), "0");
        let (status, headers, refused) = create(&timeline, json!({"text": "two"})).await;
        assert_eq!(status, 429, "{refused}");
        assert_eq!(refused["title"], "Too Many Requests");
        assert_eq!(header(&headers, "x-rate-limit-limit"), "100");
        assert_eq!(header(&headers, "x-rate-limit-remaining"), "0");
        assert_eq!(
            header(&headers, "x-rate-limit-reset"),
            at(30).timestamp().to_string()
        );
        assert_eq!(timeline.account_posts().len(), 1);
        assert_eq!(timeline.post_attempts(), 2);

        let response = reqwest::get(format!("{}2/users/42/mentions", timeline.base_url()))
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "a window of its own");
        assert_eq!(header(response.headers(), "x-rate-limit-remaining"), "449");
    }

    #[tokio::test]
    async fn a_failed_post_answers_as_told_and_posts_nothing() {
        let timeline = timeline().await;
        let busy = r#"{"title":"Service Unavailable","detail":"Service Unavailable","type":"about:blank","status":503}"#;
        timeline.fail_next_post(503, busy);
        let (status, headers, answer) = create(&timeline, json!({"text": "one"})).await;
        assert_eq!(status, 503);
        assert_eq!(
            answer,
            serde_json::from_str::<Value>(busy).unwrap_or_default()
        );
        assert_eq!(header(&headers, "x-rate-limit-remaining"), "100");
        assert!(timeline.account_posts().is_empty());
        let (status, _, _) = create(&timeline, json!({"text": "one"})).await;
        assert_eq!(status, 201, "only the next one fails");
        assert_eq!(timeline.post_attempts(), 2);
    }

    #[tokio::test]
    async fn a_lost_answer_comes_after_the_post_was_made() {
        let timeline = timeline().await;
        timeline.drop_next_post_after_posting();
        let sent = reqwest::Client::new()
            .post(format!("{}2/tweets", timeline.base_url()))
            .header("content-type", "application/json")
            .body(json!({"text": "one"}).to_string())
            .send()
            .await;
        let error = sent.expect_err("the answer is lost");
        assert!(!error.is_connect(), "it was sent: {error:?}");
        let posts = timeline.account_posts();
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].text, "one");
        let (status, _, _) = create(&timeline, json!({"text": "two"})).await;
        assert_eq!(status, 201, "only the next answer is lost");
        assert_eq!(timeline.post_attempts(), 2);
    }

    #[tokio::test]
    async fn mentions_name_every_handle_with_character_offsets() {
        let timeline = timeline().await;
        timeline.post(
            "dev",
            "¿@ACME? @Jane_Doe y @bo_ops, mail me@acme.example @toolonghandle_1234 @",
            at(2),
        );
        let (_, page) = get(&timeline, "2/users/42/mentions").await;
        let mentions = &page["data"][0]["entities"]["mentions"];
        assert_eq!(
            *mentions,
            json!([
                {"start": 1, "end": 6, "username": "ACME", "id": "42"},
                {"start": 8, "end": 17, "username": "Jane_Doe", "id": user_id_of("jane_doe")},
                {"start": 20, "end": 27, "username": "bo_ops", "id": user_id_of("bo_ops")},
            ]),
            "{page}"
        );
        timeline.post("bo", "no one named here", at(3));
        timeline.post("acme", "@acme notes to self", at(4));
        let (_, page) = get(&timeline, "2/users/42/mentions").await;
        assert_eq!(page["data"][1].get("entities"), None);
        assert_eq!(
            page["data"][0]["author_id"], "42",
            "the account's own handle"
        );
    }

    /// The real client: a reply whose answer is lost is ambiguous; the next attempt finds it
    /// among the account's posts instead of posting it twice, and the customer's post names
    /// a third party that the reply keeps out.
    #[tokio::test]
    async fn sitrep_recovers_a_reply_whose_answer_was_lost() {
        let timeline = timeline().await;
        let clock = ManualClock::new(at(2));
        let random = Arc::new(SeededRandom::new(7));
        let transport = Transport::new(
            RetryPolicy {
                attempts: 2,
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(2),
                timeout: Duration::from_secs(5),
            },
            random.clone(),
        )
        .unwrap();
        let client = XClient::new(
            transport,
            reqwest::Url::parse(&timeline.base_url()).unwrap(),
            "42".into(),
            XCredentials::OAuth1(OAuth1Credentials {
                consumer_key: "key".into(),
                consumer_secret: "secret".into(),
                access_token: "token".into(),
                access_token_secret: "token secret".into(),
            }),
            Arc::new(clock.clone()),
            random,
        );
        let question = timeline.post("dev", "@acme @jane is the API down?", at(2));
        let page = client.mentions(None, None).await.unwrap();
        let mention = &page.mentions[0];
        assert_eq!(mention.others, [user_id_of("jane")]);

        let reply = Outgoing {
            text: "@dev We are looking into it.".into(),
            reply_to: Some(ReplyTo {
                post_id: mention.id.clone(),
                author_id: mention.author.id.clone(),
                exclude: mention.others.clone(),
            }),
            key: "reply-1".into(),
            decided_at: at(2),
        };
        timeline.drop_next_post_after_posting();
        let lost = client.post(&reply, Attempt::First).await;
        assert!(
            matches!(lost, Err(SocialError::Ambiguous { .. })),
            "{lost:?}"
        );
        let found = client.post(&reply, Attempt::AfterAmbiguous).await.unwrap();
        assert!(found.recovered);
        let posts = timeline.account_posts();
        assert_eq!(posts.len(), 1, "not posted twice");
        assert_eq!(found.id, posts[0].id);
        assert_eq!(posts[0].in_reply_to.as_deref(), Some(question.as_str()));
        assert_eq!(posts[0].exclude_reply_user_ids, [user_id_of("jane")]);
        assert_eq!(timeline.post_attempts(), 1);

        let update = Outgoing {
            text: "API errors resolved.".into(),
            reply_to: None,
            key: "update-1".into(),
            decided_at: at(3),
        };
        let posted = client.post(&update, Attempt::First).await.unwrap();
        assert!(!posted.recovered);
        assert_eq!(posted.rate_limit.map(|r| r.remaining), Some(98));
        let again = client.post(&update, Attempt::First).await;
        assert!(
            matches!(again, Err(SocialError::Duplicate { .. })),
            "{again:?}"
        );
    }
}

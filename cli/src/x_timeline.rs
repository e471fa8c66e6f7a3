//! A stand-in for X's mentions timeline on 127.0.0.1, speaking the API v2 wire format: the
//! outage drill feeds it customers' posts and polls it with the real X client, and the
//! polling tests use it to check the recipe end to end.
//!
//! It behaves as X documents `GET /2/users/{id}/mentions`: newest first, `since_id`
//! exclusive, `max_results` 5 to 100, `pagination_token` for the next (older) page, only the
//! 800 most recent mentions reachable, `meta.newest_id`/`oldest_id`/`next_token`, authors in
//! `includes.users`, and `x-rate-limit-*` headers on every answer (a 429 in X's v2 problem
//! shape once the window is spent). Ids are snowflakes, so they carry their creation time.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// X's epoch for snowflake ids, in Unix milliseconds.
const X_EPOCH_MS: i64 = 1_288_834_974_657;

/// The most recent mentions X lets a client reach.
const REACH: usize = 800;

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

/// A request as the timeline saw it: its `since_id` and `pagination_token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineRequest {
    /// `since_id`, if sent.
    pub since_id: Option<String>,
    /// `pagination_token`, if sent.
    pub pagination_token: Option<String>,
}

#[derive(Debug)]
struct State {
    user_id: String,
    /// Ascending by id.
    posts: Vec<TimelinePost>,
    sequence: u64,
    limit: u32,
    remaining: u32,
    reset: i64,
    failures: VecDeque<(u16, String)>,
    stall_at: Option<usize>,
    requests: Vec<TimelineRequest>,
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
    /// window of 450 calls (X's per-app limit) resetting at `reset`.
    pub async fn start(user_id: &str, reset: DateTime<Utc>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            user_id: user_id.to_owned(),
            posts: Vec::new(),
            sequence: 0,
            limit: 450,
            remaining: 450,
            reset: reset.timestamp(),
            failures: VecDeque::new(),
            stall_at: None,
            requests: Vec::new(),
        }));
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(request, Arc::clone(&state)));
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

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a post by `username` (user id derived from it) at `at`; returns its id.
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
        state.sequence += 1;
        let ms = u64::try_from((at.timestamp_millis() - X_EPOCH_MS).max(0)).unwrap_or(0);
        let id = (ms << 22) | (state.sequence & 0x3F_FFFF);
        let post = TimelinePost {
            id,
            author_id: user_id_of(username),
            username: username.to_owned(),
            text: text.to_owned(),
            created_at: at,
            reposts,
        };
        let at = state.posts.partition_point(|p| p.id < id);
        state.posts.insert(at, post);
        id.to_string()
    }

    /// Sets the rate-limit window: `remaining` calls left, resetting at `reset`.
    pub fn set_rate_limit(&self, remaining: u32, reset: DateTime<Utc>) {
        let mut state = self.lock();
        state.remaining = remaining;
        state.reset = reset.timestamp();
    }

    /// Makes the next call fail with `status` and `body` (bodies as X sends them).
    pub fn fail_next(&self, status: u16, body: &str) {
        self.lock().failures.push_back((status, body.to_owned()));
    }

    /// Makes the call after the next `skip` calls hang for a minute before answering: a
    /// platform that stalls in the middle of a poll.
    pub fn stall_after(&self, skip: usize) {
        let mut state = self.lock();
        state.stall_at = Some(state.requests.len() + skip);
    }

    /// Every mentions request so far.
    pub fn requests(&self) -> Vec<TimelineRequest> {
        self.lock().requests.clone()
    }
}

impl Drop for XTimeline {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A stable numeric user id for a handle, so the same author is the same user.
pub fn user_id_of(username: &str) -> String {
    let hash = username.bytes().fold(1_469_598_103_934_665_603u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(1_099_511_628_211)
    });
    (hash % 9_000_000_000 + 1_000_000_000).to_string()
}

async fn answer(
    request: Request<Incoming>,
    state: Arc<Mutex<State>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let query: Vec<(String, String)> = request
        .uri()
        .query()
        .and_then(|q| reqwest::Url::parse(&format!("http://local/?{q}")).ok())
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default();
    let param = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let stall = {
        let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
        let this = state.requests.len();
        state.stall_at.take_if(|at| *at == this).is_some()
    };
    if stall {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    }
    let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
    let expected = format!("/2/users/{}/mentions", state.user_id);
    if path != expected {
        let body = json!({"title": "Not Found Error", "type": "https://api.x.com/2/problems/resource-not-found", "detail": format!("no route {path}")});
        return Ok(respond(404, &body.to_string(), &state));
    }
    state.requests.push(TimelineRequest {
        since_id: param("since_id"),
        pagination_token: param("pagination_token"),
    });
    if let Some((status, body)) = state.failures.pop_front() {
        return Ok(respond(status, &body, &state));
    }
    if state.remaining == 0 {
        let body = r#"{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}"#;
        return Ok(respond(429, body, &state));
    }
    state.remaining -= 1;
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
            return Ok(respond(400, body, &state));
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
    let body = page_body(&page, &matching, top, offset, page_size);
    Ok(respond(200, &body.to_string(), &state))
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

fn respond(status: u16, body: &str, state: &State) -> Response<Full<Bytes>> {
    let content_type = if status == 200 {
        "application/json"
    } else {
        "application/problem+json"
    };
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-rate-limit-limit", state.limit.to_string())
        .header("x-rate-limit-remaining", state.remaining.to_string())
        .header("x-rate-limit-reset", state.reset.to_string())
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

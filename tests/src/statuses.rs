//! A Mastodon server's `POST /api/v1/statuses` on loopback, as the reply tests need it:
//! statuses get ids, the `Idempotency-Key` returns the first status for a repeated key (as
//! Mastodon does for an hour), and a test can make the next posts fail, be rate limited, or
//! be taken while their answer is lost.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::replay::{Recorded, ReplayServer, Reply};

/// A status the server took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Its id.
    pub id: String,
    /// Its text.
    pub text: String,
    /// The status it replies to.
    pub in_reply_to: Option<String>,
    /// The key it was posted with.
    pub key: Option<String>,
}

/// What the next post meets.
#[derive(Debug, Clone)]
pub enum Next {
    /// Taken, and the answer is lost (the connection drops).
    TakeAndDrop,
    /// Taken, and answered 200 with the status's JSON cut short (the body is whole as far
    /// as HTTP goes, but not JSON).
    TakeAndTruncate,
    /// Refused with this status and body, nothing taken.
    Answer(u16, String),
    /// Rate limited until this ISO-8601 time.
    RateLimited(String),
}

#[derive(Default)]
struct State {
    statuses: Vec<Status>,
    by_key: HashMap<String, usize>,
    next: VecDeque<Next>,
}

/// The running server; stops when dropped.
pub struct StatusServer {
    /// The server, for its base URL and the requests it saw.
    pub server: ReplayServer,
    state: Arc<Mutex<State>>,
}

impl StatusServer {
    /// Starts it on a free port.
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let server = ReplayServer::start(move |request| answer(request, &shared)).await;
        Self { server, state }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes the next post meet `next` (queued in order).
    pub fn then(&self, next: Next) {
        self.lock().next.push_back(next);
    }

    /// Every status taken, in order.
    pub fn statuses(&self) -> Vec<Status> {
        self.lock().statuses.clone()
    }

    /// How many post requests arrived.
    pub fn posts_received(&self) -> usize {
        self.server
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path == "/api/v1/statuses")
            .count()
    }
}

fn status_json(status: &Status) -> String {
    json!({
        "id": status.id,
        "created_at": "2026-11-23T10:00:00.000Z",
        "in_reply_to_id": status.in_reply_to,
        "visibility": "public",
        "uri": format!("https://mastodon.example/users/acme/statuses/{}", status.id),
        "url": format!("https://mastodon.example/@acme/{}", status.id),
        "content": format!("<p>{}</p>", status.text),
        "account": {"id": "1", "username": "acme", "acct": "acme", "display_name": "Acme"},
    })
    .to_string()
}

fn answer(request: &Recorded, state: &Arc<Mutex<State>>) -> Reply {
    if request.method != "POST" || request.path != "/api/v1/statuses" {
        return Reply::json(404, r#"{"error":"Record not found"}"#);
    }
    let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
    let key = request.header("idempotency-key").map(str::to_owned);
    if let Some(index) = key.as_ref().and_then(|k| state.by_key.get(k)) {
        return Reply::json(200, status_json(&state.statuses[*index]));
    }
    let next = state.next.pop_front();
    match next {
        Some(Next::Answer(code, body)) => return Reply::json(code, body),
        Some(Next::RateLimited(reset)) => {
            return Reply::json(429, r#"{"error":"Too many requests"}"#)
                .header("x-ratelimit-limit", "300")
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", reset);
        }
        _ => {}
    }
    let body = request.json();
    let status = Status {
        id: (110_000_000 + state.statuses.len()).to_string(),
        text: body["status"].as_str().unwrap_or_default().to_owned(),
        in_reply_to: body["in_reply_to_id"].as_str().map(str::to_owned),
        key: key.clone(),
    };
    state.statuses.push(status.clone());
    if let Some(key) = key {
        let index = state.statuses.len() - 1;
        state.by_key.insert(key, index);
    }
    if matches!(next, Some(Next::TakeAndDrop)) {
        return Reply::Drop;
    }
    if matches!(next, Some(Next::TakeAndTruncate)) {
        let json = status_json(&status);
        return Reply::json(200, &json[..json.len() / 2]);
    }
    Reply::json(200, status_json(&status))
        .header("x-ratelimit-limit", "300")
        .header("x-ratelimit-remaining", "299")
        .header("x-ratelimit-reset", "2026-11-23T10:05:00.000Z")
}

//! A local HTTP server for the social contract tests: it answers each request with whatever
//! the test's handler returns (bytes copied from the platform's documented shapes) and
//! records every request, so a test can check both sides of the wire. Besides whole answers
//! it can cut an answer off mid-body, or stream one far larger than any client should read.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `GET`, `POST`…
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// Query parameters, decoded, in order (repeated names repeat).
    pub query: Vec<(String, String)>,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Recorded {
    /// The first value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a (repeated) query parameter.
    pub fn params(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A header's value, by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON (panics if it is not: a test wants to know).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the request body is JSON")
    }
}

/// What the server answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// An HTTP response.
    Respond {
        /// Status code.
        status: u16,
        /// Headers to send.
        headers: Vec<(String, String)>,
        /// Body bytes.
        body: Vec<u8>,
    },
    /// Close the connection without answering: a network failure for the client.
    Drop,
    /// Keep the connection open without answering for this long, then close it: a client
    /// with a shorter timeout sees its request go out and no answer come back.
    Stall(Duration),
    /// Answer with `status` and headers, declare a `Content-Length` of `declared` bytes,
    /// send `body` (shorter) and close the connection: an answer cut off mid-body.
    CutOff {
        /// Status code.
        status: u16,
        /// Headers to send.
        headers: Vec<(String, String)>,
        /// The bytes that arrive.
        body: Vec<u8>,
        /// The length the answer claims.
        declared: u64,
    },
    /// Answer 200 with `chunk` repeated `times` (no `Content-Length`: chunked), produced as
    /// it is sent, so a huge answer costs the server nothing.
    Stream {
        /// One chunk of the body.
        chunk: Vec<u8>,
        /// How many times it is sent.
        times: u64,
    },
}

impl Reply {
    /// A JSON answer with `status` and `body`.
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Reply::Respond {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into().into_bytes(),
        }
    }

    /// The same answer with one more header (replacing `content-type` if that is the name).
    pub fn header(self, name: &str, value: impl Into<String>) -> Self {
        match self {
            Reply::Respond {
                status,
                mut headers,
                body,
            } => {
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
                headers.push((name.to_owned(), value.into()));
                Reply::Respond {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }

    /// A JSON answer with `status` whose body stops after `kept` of `body`'s bytes, its
    /// length declared as the whole: cut off mid-body.
    pub fn cut_off(status: u16, body: impl Into<String>, kept: usize) -> Self {
        let body = body.into().into_bytes();
        Reply::CutOff {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            declared: body.len() as u64,
            body: body[..kept.min(body.len())].to_vec(),
        }
    }
}

/// The body the server sends: whole, cut off after some bytes, or generated chunk by chunk.
enum Sent {
    Whole(Option<Bytes>),
    CutOff(Option<Bytes>),
    Stream { chunk: Bytes, left: u64 },
}

impl Body for Sent {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = self.get_mut();
        Poll::Ready(match this {
            Sent::Whole(body) => body.take().map(|b| Ok(Frame::data(b))),
            Sent::CutOff(body) => match body.take() {
                Some(b) => Some(Ok(Frame::data(b))),
                // An error mid-body makes hyper close the connection short of the length.
                None => Some(Err(std::io::Error::other("scripted cut-off"))),
            },
            Sent::Stream { chunk, left } => {
                if *left == 0 {
                    None
                } else {
                    *left -= 1;
                    Some(Ok(Frame::data(chunk.clone())))
                }
            }
        })
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Sent::Whole(body) => body.is_none(),
            Sent::CutOff(_) => false,
            Sent::Stream { left, .. } => *left == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Sent::Whole(Some(body)) => SizeHint::with_exact(body.len() as u64),
            Sent::Whole(None) => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}

type Handler = dyn Fn(&Recorded) -> Reply + Send + Sync;

/// A running replay server on a free loopback port; stops when dropped.
pub struct ReplayServer {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub base: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: JoinHandle<()>,
}

impl ReplayServer {
    /// Starts a server answering every request with `handler`'s reply.
    pub async fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port is free");
        let base = format!("http://{}", listener.local_addr().expect("bound"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log = Arc::clone(&requests);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handler = Arc::clone(&handler);
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        answer(request, Arc::clone(&handler), Arc::clone(&log))
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            base,
            requests,
            task,
        }
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for ReplayServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    request: Request<Incoming>,
    handler: Arc<Handler>,
    log: Arc<Mutex<Vec<Recorded>>>,
) -> Result<Response<Sent>, std::io::Error> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let query = parts
        .uri
        .query()
        .map(|q| {
            reqwest::Url::parse(&format!("http://local/?{q}"))
                .map(|u| u.query_pairs().into_owned().collect())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query,
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        body,
    };
    // Handlers may block (a test holding requests until several arrive): run them off the
    // runtime's workers, or a blocked worker could hold the very request being waited for.
    let (recorded, reply) = tokio::task::spawn_blocking(move || {
        let reply = handler(&recorded);
        (recorded, reply)
    })
    .await
    .map_err(std::io::Error::other)?;
    log.lock().unwrap_or_else(|p| p.into_inner()).push(recorded);
    match reply {
        Reply::Respond {
            status,
            headers,
            body,
        } => {
            let mut response = Response::builder().status(status);
            for (name, value) in headers {
                response = response.header(name, value);
            }
            Ok(response
                .body(Sent::Whole(Some(Bytes::from(body))))
                .unwrap_or_else(|_| Response::new(Sent::Whole(None))))
        }
        Reply::CutOff {
            status,
            headers,
            body,
            declared,
        } => {
            let mut response = Response::builder()
                .status(status)
                .header("content-length", declared.to_string());
            for (name, value) in headers {
                response = response.header(name, value);
            }
            response
                .body(Sent::CutOff(Some(Bytes::from(body))))
                .map_err(std::io::Error::other)
        }
        Reply::Stream { chunk, times } => Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Sent::Stream {
                chunk: Bytes::from(chunk),
                left: times,
            })
            .map_err(std::io::Error::other),
        // An error from the service makes hyper close the connection unanswered.
        Reply::Drop => Err(std::io::Error::other("scripted connection drop")),
        Reply::Stall(hold) => {
            tokio::time::sleep(hold).await;
            Err(std::io::Error::other("scripted stall, then drop"))
        }
    }
}

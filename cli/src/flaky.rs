//! A small HTTP service on 127.0.0.1 whose health is scripted: healthy, failing or slow.
//! The outage drill probes it with the real engine, and the benchmark uses it as the target.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpSocket;
use tokio::task::JoinHandle;

/// How the service answers right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `200 {"status":"ok"}` at once.
    Healthy,
    /// `503 {"status":"unavailable"}` at once.
    Failing,
    /// `200 {"status":"ok"}` after this delay.
    Slow(Duration),
}

/// A running scripted service; stops when dropped.
#[derive(Debug)]
pub struct FlakyService {
    address: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    task: JoinHandle<()>,
}

impl FlakyService {
    /// Starts the service on a free loopback port.
    pub async fn start(mode: Mode) -> std::io::Result<Self> {
        Self::start_on("127.0.0.1:0".parse().map_err(std::io::Error::other)?, mode).await
    }

    /// Starts the service on a free loopback port, closing each connection after one answer,
    /// so every request a client makes opens a new connection.
    pub async fn start_closing(mode: Mode) -> std::io::Result<Self> {
        let address = "127.0.0.1:0".parse().map_err(std::io::Error::other)?;
        Self::listen(address, mode, false).await
    }

    /// Starts the service on `address`.
    pub async fn start_on(address: SocketAddr, mode: Mode) -> std::io::Result<Self> {
        Self::listen(address, mode, true).await
    }

    async fn listen(address: SocketAddr, mode: Mode, keep_alive: bool) -> std::io::Result<Self> {
        // A deep accept queue: the benchmark opens a thousand connections at once.
        let socket = if address.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.bind(address)?;
        let listener = socket.listen(4096)?;
        let address = listener.local_addr()?;
        let mode = Arc::new(Mutex::new(mode));
        let shared = Arc::clone(&mode);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let mode = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(request, Arc::clone(&mode)));
                    let _ = http1::Builder::new()
                        .keep_alive(keep_alive)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self {
            address,
            mode,
            task,
        })
    }

    /// Changes how the service answers from now on.
    pub fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap_or_else(|p| p.into_inner()) = mode;
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Its health endpoint.
    pub fn health_url(&self) -> String {
        format!("http://{}/health", self.address)
    }
}

impl Drop for FlakyService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    _request: Request<Incoming>,
    mode: Arc<Mutex<Mode>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let mode = *mode.lock().unwrap_or_else(|p| p.into_inner());
    let (status, body) = match mode {
        Mode::Healthy => (StatusCode::OK, r#"{"status":"ok"}"#),
        Mode::Failing => (
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status":"unavailable"}"#,
        ),
        Mode::Slow(delay) => {
            tokio::time::sleep(delay).await;
            (StatusCode::OK, r#"{"status":"ok"}"#)
        }
    };
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

//! The status site on 127.0.0.1, for `sitrep run` and the drill: the same
//! [`StatusSite`] the status-api function serves in AWS (status page, JSON APIs, feed,
//! badges, acknowledgement links, X's webhook) behind a small HTTP/1 server.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use shared::config::Config;
use shared::status_site::{MAX_BODY, SiteRequest, SiteResponse, StatusSite};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A running status site; stops when dropped.
#[derive(Debug)]
pub struct SiteServer {
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl SiteServer {
    /// Serves `site` for `config` on `address` (port 0: any free port).
    pub async fn start(
        site: Arc<StatusSite>,
        config: Arc<Config>,
        address: SocketAddr,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let site = Arc::clone(&site);
                let config = Arc::clone(&config);
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        answer(request, Arc::clone(&site), Arc::clone(&config))
                    });
                    // A failed connection is the browser's business, not the runner's.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { address, task })
    }

    /// The site's address (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The base of acknowledgement links (`http://127.0.0.1:PORT/ack`).
    pub fn ack_base(&self) -> String {
        format!("{}/ack", self.url())
    }
}

impl Drop for SiteServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    request: Request<Incoming>,
    site: Arc<StatusSite>,
    config: Arc<Config>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    // One byte over the limit is enough for the site to answer 413.
    let body = match Limited::new(body, MAX_BODY + 1).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => vec![0; MAX_BODY + 1],
    };
    let request = SiteRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers: parts
            .headers
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect(),
        body,
    };
    Ok(to_hyper(site.respond(Some(&config), &request).await))
}

fn to_hyper(answer: SiteResponse) -> Response<Full<Bytes>> {
    let mut response = Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        response = response.header(*name, value.as_str());
    }
    response
        .body(Full::new(Bytes::from(answer.body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::from_static(b"internal error"))))
}

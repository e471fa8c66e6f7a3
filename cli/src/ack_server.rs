//! The acknowledgement route on 127.0.0.1, for `sitrep run` and the drill: the same
//! [`AckRoute`] the status API function serves in AWS, behind a small HTTP/1 server, so a
//! link in a console page can be opened in a browser (or followed by the drill).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use shared::oncall::ack_route::{AckRequest, AckRoute};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A running acknowledgement server; stops when dropped.
#[derive(Debug)]
pub struct AckServer {
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl AckServer {
    /// Serves `route` on `address` (port 0: any free port).
    pub async fn start(route: Arc<AckRoute>, address: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let route = Arc::clone(&route);
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(request, Arc::clone(&route)));
                    // A failed connection is the browser's business, not the runner's.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { address, task })
    }

    /// The base of links to it (`http://127.0.0.1:PORT/ack`).
    pub fn base_url(&self) -> String {
        format!("http://{}/ack", self.address)
    }
}

impl Drop for AckServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    request: Request<Incoming>,
    route: Arc<AckRoute>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let answer = route
        .respond(&AckRequest {
            method: request.method().as_str(),
            path: request.uri().path(),
        })
        .await;
    let mut response = Response::builder()
        .status(answer.status)
        .header("content-type", answer.content_type);
    for (name, value) in &answer.headers {
        response = response.header(*name, value.as_str());
    }
    Ok(response
        .body(Full::new(Bytes::from(answer.body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::from_static(b"internal error")))))
}

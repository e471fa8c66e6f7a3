//! The probes against real servers on 127.0.0.1, started inside each test.
//!
//! Every check is built from a small TOML snippet through `Config::parse`, run with the real
//! [`Runner`] and judged with [`judge`], so these tests cover the path a deployed probe takes:
//!
//! - HTTP (hyper): up, an error status, the request actually sent (method, headers, body),
//!   JSON-path, header and regex conditions, redirects followed or not, a server that never
//!   answers, a refused connection, and a slow answer that is degraded.
//! - HTTPS (hyper over tokio-rustls) with a private CA made by rcgen: trusted through
//!   `ca_file`, the certificate's days left, an expired certificate, and an untrusted one
//!   without `ca_file`.
//! - TLS checks: days left, an expired certificate, an unknown issuer, a wrong server name.
//! - TCP: an open and a closed port.
//! - DNS: a tiny UDP server built on hickory-proto that knows one name; the answer, NXDOMAIN
//!   and an unexpected address.

use std::convert::Infallible;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, TimeDelta, Utc};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use shared::config::{Check, Config};
use shared::probe::observation::Observation;
use shared::probe::outcome::{Health, Outcome, judge};
use shared::probe::runner::Runner;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::rdata::A;
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use hickory_resolver::proto::serialize::binary::{BinDecodable as _, BinEncodable as _};

const DAY: i64 = 86_400;

// ---------------------------------------------------------------------------------------
// Running checks
// ---------------------------------------------------------------------------------------

/// A config with one check made of `fields` (the lines after `component`).
fn config(fields: &str) -> Config {
    let text = format!(
        r#"[service]
name = "Test"
status_url = "https://status.sitrep.test"

[[components]]
id = "svc"
name = "Service"

[[checks]]
id = "probe"
component = "svc"
{fields}
"#
    );
    Config::parse(&text).unwrap_or_else(|e| panic!("the test config does not parse: {e}\n{text}"))
}

/// What one run of a check produced.
struct Run {
    check: Check,
    observation: Observation,
    outcome: Outcome,
    /// The judgement's `now`, for certificate arithmetic.
    now: DateTime<Utc>,
}

/// Parses a one-check config, probes it once and judges the result.
async fn run(fields: &str) -> Run {
    let config = config(fields);
    let runner = Runner::new(&config.checks).expect("the runner is built");
    let check = config.checks[0].clone();
    let observation = runner.observe(&check).await;
    let now = Utc::now();
    let outcome = judge(&check, &observation, now, "test");
    Run {
        check,
        observation,
        outcome,
        now,
    }
}

impl Run {
    #[track_caller]
    fn assert_up(&self) {
        assert_eq!(
            (self.outcome.health, self.outcome.reason.as_deref()),
            (Health::Up, None),
            "{:#?}",
            self.observation
        );
    }

    #[track_caller]
    fn assert_down(&self, reason: &str) {
        assert_eq!(
            (self.outcome.health, self.outcome.reason.as_deref()),
            (Health::Down, Some(reason)),
            "{:#?}",
            self.observation
        );
    }
}

/// A port on 127.0.0.1 that refuses connections: bound, then released.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    listener.local_addr().unwrap().port()
}

// ---------------------------------------------------------------------------------------
// An HTTP(S) server
// ---------------------------------------------------------------------------------------

/// One request as the server received it.
#[derive(Debug)]
struct Received {
    method: String,
    path: String,
    headers: hyper::HeaderMap,
    body: String,
}

/// A running HTTP(S) server and the requests it has received.
struct Server {
    address: SocketAddr,
    received: mpsc::UnboundedReceiver<Received>,
}

impl Server {
    /// A plain HTTP server on 127.0.0.1.
    async fn http() -> Server {
        Server::start(None).await
    }

    /// An HTTPS server on 127.0.0.1 presenting `tls`'s certificate.
    async fn https(tls: Arc<rustls::ServerConfig>) -> Server {
        Server::start(Some(tls)).await
    }

    async fn start(tls: Option<Arc<rustls::ServerConfig>>) -> Server {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let address = listener.local_addr().unwrap();
        let (log, received) = mpsc::unbounded_channel();
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let log = log.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match acceptor {
                        // A client that rejects the certificate ends the handshake: not an
                        // error of the server's.
                        Some(acceptor) => {
                            if let Ok(tls) = acceptor.accept(stream).await {
                                serve_connection(tls, log).await;
                            }
                        }
                        None => serve_connection(stream, log).await,
                    }
                });
            }
        });
        Server { address, received }
    }

    /// `http://127.0.0.1:port{path}`.
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// `https://localhost:port{path}`, the name the test certificates are made for.
    fn https_url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.address.port())
    }

    /// The next request the server received, in arrival order.
    async fn next_request(&mut self) -> Received {
        self.received
            .recv()
            .await
            .expect("the server got a request")
    }
}

async fn serve_connection<I>(io: I, log: mpsc::UnboundedSender<Received>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request| route(request, log.clone()));
    // A probe that gives up mid-request closes the connection; that is its business.
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(io), service)
        .await;
}

/// The test endpoints.
async fn route(
    request: Request<Incoming>,
    log: mpsc::UnboundedSender<Received>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let headers = request.headers().clone();
    let body = match request.into_body().collect().await {
        Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
        Err(_) => String::new(),
    };
    let reply = |status: StatusCode, body: &'static str| {
        let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
        *response.status_mut() = status;
        response
    };
    let response = match path.as_str() {
        "/ok" | "/echo" => reply(StatusCode::OK, "ok"),
        "/unavailable" => reply(StatusCode::SERVICE_UNAVAILABLE, "down for maintenance"),
        "/json" => {
            let mut response = reply(
                StatusCode::OK,
                r#"{"status":"ok","version":{"major":2,"name":"2.4.1"},"items":[1,2,3]}"#,
            );
            let headers = response.headers_mut();
            headers.insert("content-type", "application/json".parse().unwrap());
            headers.insert("x-sitrep-version", "2.4.1".parse().unwrap());
            response
        }
        "/redirect" => {
            let mut response = reply(StatusCode::FOUND, "");
            response
                .headers_mut()
                .insert("location", "/ok".parse().unwrap());
            response
        }
        "/slow" => {
            // Slow on purpose: the degraded test needs an answer later than 100 ms.
            tokio::time::sleep(Duration::from_millis(300)).await;
            reply(StatusCode::OK, "ok")
        }
        _ => reply(StatusCode::NOT_FOUND, "not found"),
    };
    let _ = log.send(Received {
        method,
        path,
        headers,
        body,
    });
    Ok(response)
}

/// A server that accepts connections and never says a word.
async fn silent_server() -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        // Kept so the connections stay open (and silent) until the test ends.
        let mut open: Vec<TcpStream> = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    address
}

// ---------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------

/// A private CA and a leaf certificate for `localhost` signed by it.
struct Pki {
    /// The CA certificate as PEM, for `ca_file`.
    ca_file: tempfile::NamedTempFile,
    /// A server presenting the leaf.
    server: Arc<rustls::ServerConfig>,
    /// The leaf's `notAfter`, to the second.
    not_after: DateTime<Utc>,
}

impl Pki {
    /// A leaf valid from `not_before` to `not_after` (truncated to whole seconds, as X.509
    /// stores them).
    fn new(not_before: DateTime<Utc>, not_after: DateTime<Utc>) -> Pki {
        let now = Utc::now();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "sitrep test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        set_validity(
            &mut ca_params,
            now - TimeDelta::days(30),
            now + TimeDelta::days(365),
        );
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf_params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        set_validity(&mut leaf_params, not_before, not_after);
        let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();

        let mut ca_file = tempfile::NamedTempFile::new().unwrap();
        ca_file.write_all(ca.pem().as_bytes()).unwrap();
        ca_file.flush().unwrap();

        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let server = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .unwrap();

        Pki {
            ca_file,
            server: Arc::new(server),
            not_after: whole_seconds(not_after),
        }
    }

    /// The CA file's path, for a TOML literal string.
    fn ca_path(&self) -> String {
        self.ca_file.path().display().to_string()
    }
}

fn whole_seconds(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap()
}

/// Sets the validity of `params`; rcgen takes `time` values, made here from Unix seconds.
fn set_validity(params: &mut CertificateParams, from: DateTime<Utc>, until: DateTime<Utc>) {
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    let since_epoch = |at: DateTime<Utc>| Duration::from_secs(at.timestamp().try_into().unwrap());
    params.not_before = epoch + since_epoch(from);
    params.not_after = epoch + since_epoch(until);
}

/// A leaf that is valid now and has three days and an hour left, so the whole days left are
/// three for the length of any test run.
fn short_lived_pki() -> Pki {
    let now = Utc::now();
    Pki::new(
        now - TimeDelta::days(1),
        now + TimeDelta::days(3) + TimeDelta::hours(1),
    )
}

/// Whole days from `now` to `not_after`, counted the way `[CERT_DAYS_LEFT]` counts them.
fn days_left(not_after: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (not_after - now).num_seconds().div_euclid(DAY)
}

// ---------------------------------------------------------------------------------------
// A DNS server
// ---------------------------------------------------------------------------------------

/// A UDP DNS server that answers `A 127.0.0.1` for `up.sitrep.test.` and NXDOMAIN for
/// everything else.
async fn dns_server() -> SocketAddr {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let address = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let known = Name::from_ascii("up.sitrep.test.").unwrap();
        let mut buffer = [0u8; 4096];
        loop {
            let Ok((length, from)) = socket.recv_from(&mut buffer).await else {
                return;
            };
            let Ok(query) = Message::from_bytes(&buffer[..length]) else {
                continue;
            };
            let mut response = Message::response(query.metadata.id, query.metadata.op_code);
            response.metadata.recursion_desired = query.metadata.recursion_desired;
            response.metadata.recursion_available = true;
            response.add_queries(query.queries.iter().cloned());
            match query.queries.first() {
                Some(q) if q.name().eq_case(&known) && q.query_type() == RecordType::A => {
                    response.add_answer(Record::from_rdata(
                        known.clone(),
                        60,
                        RData::A(A(Ipv4Addr::LOCALHOST)),
                    ));
                }
                _ => response.metadata.response_code = ResponseCode::NXDomain,
            }
            let bytes = response.to_bytes().unwrap();
            let _ = socket.send_to(&bytes, from).await;
        }
    });
    address
}

// ---------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn http_200_is_up() {
    let server = Server::http().await;
    let run = run(&format!("kind = \"http\"\nurl = \"{}\"", server.url("/ok"))).await;
    run.assert_up();
    assert_eq!(run.observation.status, Some(200));
    assert_eq!(run.observation.body.as_deref(), Some("ok"));
    assert_eq!(run.observation.target, server.url("/ok"));
}

#[tokio::test]
async fn http_503_is_down_with_the_status_and_url() {
    let server = Server::http().await;
    let url = server.url("/unavailable");
    let run = run(&format!("kind = \"http\"\nurl = \"{url}\"")).await;
    run.assert_down(&format!("HTTP 503 from {url}"));
}

#[tokio::test]
async fn http_sends_the_method_headers_and_body() {
    let mut server = Server::http().await;
    let run = run(&format!(
        r#"kind = "http"
url = "{}"
method = "post"
headers = {{ "X-Probe" = "sitrep", "Content-Type" = "application/json" }}
body = '{{"ping": 1}}'
conditions = ["[STATUS] == 200"]"#,
        server.url("/echo")
    ))
    .await;
    run.assert_up();

    let request = server.next_request().await;
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/echo");
    assert_eq!(request.headers["x-probe"], "sitrep");
    assert_eq!(request.headers["content-type"], "application/json");
    assert_eq!(request.body, r#"{"ping": 1}"#);
    let agent = request.headers["user-agent"].to_str().unwrap();
    assert!(agent.starts_with("sitrep/"), "user agent {agent}");
}

#[tokio::test]
async fn http_json_path_conditions_read_the_body() {
    let server = Server::http().await;
    let url = server.url("/json");
    let passing = run(&format!(
        r#"kind = "http"
url = "{url}"
conditions = [
  "[BODY].status == ok",
  "[BODY].version.major >= 2",
  "[BODY].version.name == \"2.4.1\"",
  "[BODY].items[1] == 2",
  "len([BODY].items) == 3",
]"#
    ))
    .await;
    passing.assert_up();

    let failing = run(&format!(
        r#"kind = "http"
url = "{url}"
conditions = ["[STATUS] == 200", "[BODY].version.major > 2"]"#
    ))
    .await;
    failing.assert_down("[BODY].version.major is 2 (expected > 2)");
}

#[tokio::test]
async fn http_header_conditions_read_the_response_headers() {
    let server = Server::http().await;
    let url = server.url("/json");
    let passing = run(&format!(
        r#"kind = "http"
url = "{url}"
conditions = [
  "[HEADER].X-Sitrep-Version == \"2.4.1\"",
  "[HEADER].content-type contains json",
]"#
    ))
    .await;
    passing.assert_up();

    let wrong = run(&format!(
        r#"kind = "http"
url = "{url}"
conditions = ["[HEADER].x-sitrep-version == \"3.0.0\""]"#
    ))
    .await;
    wrong.assert_down(r#"header x-sitrep-version is "2.4.1" (expected == "3.0.0")"#);

    let missing = run(&format!(
        r#"kind = "http"
url = "{url}"
conditions = ["[HEADER].X-Missing == yes"]"#
    ))
    .await;
    missing.assert_down("header X-Missing is missing");
}

#[tokio::test]
async fn http_body_regex() {
    let server = Server::http().await;
    let url = server.url("/json");
    let passing = run(&format!(
        r#"kind = "http"
url = "{url}"
conditions = ['[BODY] matches "\"major\":\d+"']"#
    ))
    .await;
    passing.assert_up();

    let failing = run(&format!(
        r#"kind = "http"
url = "{url}"
conditions = ['[BODY] matches "^ok$"']"#
    ))
    .await;
    failing.assert_down(r#"response body does not match regex "^ok$""#);
}

#[tokio::test]
async fn http_redirects_are_followed_unless_told_not_to() {
    let mut server = Server::http().await;
    let url = server.url("/redirect");

    let followed = run(&format!(
        r#"kind = "http"
url = "{url}"
conditions = ["[STATUS] == 200", "[BODY] == ok"]"#
    ))
    .await;
    followed.assert_up();
    assert_eq!(server.next_request().await.path, "/redirect");
    assert_eq!(server.next_request().await.path, "/ok");

    let not_followed = run(&format!(
        r#"kind = "http"
url = "{url}"
follow_redirects = false
conditions = ["[STATUS] == 302", "[HEADER].Location == /ok"]"#
    ))
    .await;
    not_followed.assert_up();
    assert_eq!(server.next_request().await.path, "/redirect");

    let expecting_the_target = run(&format!(
        r#"kind = "http"
url = "{url}"
follow_redirects = false
conditions = ["[STATUS] == 200"]"#
    ))
    .await;
    expecting_the_target.assert_down(&format!("HTTP 302 from {url}"));
    assert_eq!(server.next_request().await.path, "/redirect");
    assert!(
        server.received.try_recv().is_err(),
        "the redirect was not followed"
    );
}

#[tokio::test]
async fn http_server_that_never_answers_times_out() {
    let address = silent_server().await;
    let started = Instant::now();
    let run = run(&format!(
        "kind = \"http\"\nurl = \"http://{address}/\"\ntimeout = \"1s\""
    ))
    .await;
    let waited = started.elapsed();
    run.assert_down("timed out after 1 s");
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(3),
        "gave up after {waited:?}"
    );
    assert!(!run.observation.connected);
}

#[tokio::test]
async fn http_connection_refused() {
    let port = closed_port().await;
    let run = run(&format!(
        "kind = \"http\"\nurl = \"http://127.0.0.1:{port}/health\""
    ))
    .await;
    run.assert_down(&format!("connection refused by 127.0.0.1:{port}"));
}

#[tokio::test]
async fn http_slower_than_degraded_after_is_degraded() {
    let server = Server::http().await;
    let url = server.url("/slow");
    let slow = run(&format!(
        "kind = \"http\"\nurl = \"{url}\"\ndegraded_after = \"100ms\""
    ))
    .await;
    assert_eq!(
        slow.outcome.health,
        Health::Degraded,
        "{:#?}",
        slow.observation
    );
    assert!(slow.observation.elapsed >= Duration::from_millis(300));
    assert_eq!(
        slow.outcome.reason,
        Some(format!(
            "slow: {url} answered in {} ms (degraded after 100 ms)",
            slow.outcome.elapsed_ms
        ))
    );

    // The same server is up when it answers within the limit.
    let fast = run(&format!(
        "kind = \"http\"\nurl = \"{}\"\ndegraded_after = \"5s\"",
        server.url("/ok")
    ))
    .await;
    fast.assert_up();
}

// ---------------------------------------------------------------------------------------
// HTTPS
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn https_with_a_private_ca_is_up_and_reads_the_certificate() {
    let pki = short_lived_pki();
    let server = Server::https(Arc::clone(&pki.server)).await;
    let url = server.https_url("/ok");
    let run = run(&format!(
        r#"kind = "http"
url = "{url}"
ca_file = '{}'
conditions = ["[STATUS] == 200", "[CERT_DAYS_LEFT] > 2"]"#,
        pki.ca_path()
    ))
    .await;
    run.assert_up();
    assert_eq!(run.observation.certificate_not_after, Some(pki.not_after));
}

#[tokio::test]
async fn https_certificate_close_to_expiry_is_down() {
    let pki = short_lived_pki();
    let server = Server::https(Arc::clone(&pki.server)).await;
    let url = server.https_url("/ok");
    let run = run(&format!(
        r#"kind = "http"
url = "{url}"
ca_file = '{}'
conditions = ["[STATUS] == 200", "[CERT_DAYS_LEFT] > 14"]"#,
        pki.ca_path()
    ))
    .await;
    let days = days_left(pki.not_after, run.now);
    assert_eq!(days, 3);
    run.assert_down(&format!("TLS certificate for {url} expires in {days} days"));
}

#[tokio::test]
async fn https_without_the_ca_is_not_trusted() {
    let pki = short_lived_pki();
    let server = Server::https(Arc::clone(&pki.server)).await;
    let url = server.https_url("/ok");
    let run = run(&format!("kind = \"http\"\nurl = \"{url}\"")).await;
    run.assert_down(&format!(
        "TLS handshake with {url} failed: the certificate is not signed by a trusted authority"
    ));
}

#[tokio::test]
async fn https_expired_certificate_is_down() {
    let now = Utc::now();
    let pki = Pki::new(now - TimeDelta::days(10), now - TimeDelta::days(2));
    let server = Server::https(Arc::clone(&pki.server)).await;
    let url = server.https_url("/ok");
    let run = run(&format!(
        "kind = \"http\"\nurl = \"{url}\"\nca_file = '{}'",
        pki.ca_path()
    ))
    .await;
    run.assert_down(&format!(
        "TLS handshake with {url} failed: the certificate has expired"
    ));
}

// ---------------------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------------------

/// A TLS server that completes handshakes and then hangs up.
async fn tls_server(config: Arc<rustls::ServerConfig>) -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let address = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            // A handshake the client rejects fails here; the client reports it.
            tokio::spawn(async move { acceptor.accept(stream).await });
        }
    });
    address
}

fn tls_check(address: SocketAddr, pki: &Pki, extra: &str) -> String {
    format!(
        "kind = \"tls\"\nhost = \"127.0.0.1\"\nport = {}\nserver_name = \"localhost\"\nca_file = '{}'\n{extra}",
        address.port(),
        pki.ca_path()
    )
}

#[tokio::test]
async fn tls_days_left_pass_and_fail() {
    let pki = short_lived_pki();
    let address = tls_server(Arc::clone(&pki.server)).await;

    // By name, with the server name defaulting to the host.
    let passing = run(&format!(
        r#"kind = "tls"
host = "localhost"
port = {}
ca_file = '{}'
conditions = ["[CERT_DAYS_LEFT] > 2", "[CERT_DAYS_LEFT] <= 3"]"#,
        address.port(),
        pki.ca_path()
    ))
    .await;
    passing.assert_up();
    assert_eq!(
        passing.observation.certificate_not_after,
        Some(pki.not_after)
    );

    // The default condition is `[CERT_DAYS_LEFT] > 14`.
    let failing = run(&tls_check(address, &pki, "")).await;
    let days = days_left(pki.not_after, failing.now);
    assert_eq!(days, 3);
    failing.assert_down(&format!(
        "TLS certificate for 127.0.0.1:{} expires in {days} days",
        address.port()
    ));
    assert_eq!(
        failing.check.conditions[0].source(),
        "[CERT_DAYS_LEFT] > 14"
    );
}

#[tokio::test]
async fn tls_expired_certificate_is_down() {
    let now = Utc::now();
    let pki = Pki::new(now - TimeDelta::days(10), now - TimeDelta::days(2));
    let address = tls_server(Arc::clone(&pki.server)).await;
    let run = run(&tls_check(address, &pki, "")).await;
    run.assert_down(&format!(
        "TLS handshake with 127.0.0.1:{} failed: the certificate has expired",
        address.port()
    ));
}

#[tokio::test]
async fn tls_without_the_ca_or_with_another_name_fails_the_handshake() {
    let pki = short_lived_pki();
    let address = tls_server(Arc::clone(&pki.server)).await;
    let port = address.port();

    let untrusted = run(&format!(
        "kind = \"tls\"\nhost = \"127.0.0.1\"\nport = {port}\nserver_name = \"localhost\""
    ))
    .await;
    untrusted.assert_down(&format!(
        "TLS handshake with 127.0.0.1:{port} failed: the certificate is not signed by a trusted authority"
    ));

    let misnamed = run(&format!(
        "kind = \"tls\"\nhost = \"127.0.0.1\"\nport = {port}\nserver_name = \"api.sitrep.test\"\nca_file = '{}'",
        pki.ca_path()
    ))
    .await;
    misnamed.assert_down(&format!(
        "TLS handshake with 127.0.0.1:{port} failed: the certificate is not valid for this host name"
    ));
}

// ---------------------------------------------------------------------------------------
// TCP
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn tcp_open_port_is_up() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let run = run(&format!(
        "kind = \"tcp\"\nhost = \"127.0.0.1\"\nport = {port}"
    ))
    .await;
    run.assert_up();
    assert!(run.observation.connected);
    assert_eq!(run.observation.target, format!("127.0.0.1:{port}"));
}

#[tokio::test]
async fn tcp_closed_port_is_down() {
    let port = closed_port().await;
    let run = run(&format!(
        "kind = \"tcp\"\nhost = \"127.0.0.1\"\nport = {port}"
    ))
    .await;
    run.assert_down(&format!("connection refused by 127.0.0.1:{port}"));
    assert!(!run.observation.connected);
}

// ---------------------------------------------------------------------------------------
// DNS
// ---------------------------------------------------------------------------------------

fn dns_check(nameserver: SocketAddr, name: &str, conditions: &str) -> String {
    format!(
        "kind = \"dns\"\nname = \"{name}\"\nrecord_type = \"A\"\nnameserver = \"{nameserver}\"\ntimeout = \"5s\"\n{conditions}"
    )
}

#[tokio::test]
async fn dns_answer_is_up() {
    let nameserver = dns_server().await;
    let run = run(&dns_check(
        nameserver,
        "up.sitrep.test",
        r#"conditions = ["[DNS_RCODE] == NOERROR", "[BODY] == 127.0.0.1"]"#,
    ))
    .await;
    run.assert_up();
    assert_eq!(run.observation.dns_answers, ["127.0.0.1"]);
}

#[tokio::test]
async fn dns_nxdomain_is_down() {
    let nameserver = dns_server().await;
    let run = run(&dns_check(nameserver, "missing.sitrep.test", "")).await;
    run.assert_down("DNS answered NXDOMAIN for missing.sitrep.test");
    assert_eq!(run.observation.dns_rcode.as_deref(), Some("NXDOMAIN"));
}

#[tokio::test]
async fn dns_unexpected_address_is_down() {
    let nameserver = dns_server().await;
    let run = run(&dns_check(
        nameserver,
        "up.sitrep.test",
        r#"conditions = ["[BODY] == 10.0.0.1"]"#,
    ))
    .await;
    run.assert_down("no DNS answer for up.sitrep.test is 10.0.0.1 (answers: 127.0.0.1)");
}

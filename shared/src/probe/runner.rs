//! The probes: HTTP(S) with reqwest, TCP connect, DNS with hickory, TLS with rustls.
//!
//! A [`Runner`] is built once per process from the config (HTTP clients, resolvers and TLS
//! settings are reused across cycles, so a warm Lambda pays no setup per check) and turns a
//! [`Target`] into an [`Observation`]. Probes never fail: every error becomes words in
//! `Observation::error`, because a check that cannot run is itself a finding.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::error::Error as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::rr::RecordType;
use rustls::RootCertStore;
use rustls_pki_types::{CertificateDer, ServerName, pem::PemObject};
use tokio::net::TcpStream;

use super::observation::Observation;
use crate::config::{Check, DnsRecordType, DnsTarget, HttpTarget, Target, TcpTarget, TlsTarget};

/// The most of a response body kept for conditions.
const BODY_LIMIT: usize = 256 * 1024;

/// Why a runner could not be built (always a configuration problem).
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// A `ca_file` could not be read or holds no certificate.
    #[error("cannot use CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The HTTP client or resolver could not be set up.
    #[error("cannot set up the {what}: {reason}")]
    Setup {
        /// Which part.
        what: &'static str,
        /// What went wrong.
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct HttpClientKey {
    follow_redirects: bool,
    ca_file: Option<PathBuf>,
}

/// Runs probes; cheap to share behind an `Arc`.
pub struct Runner {
    http: HashMap<HttpClientKey, reqwest::Client>,
    tls: HashMap<Option<PathBuf>, Arc<rustls::ClientConfig>>,
    resolvers: HashMap<Option<SocketAddr>, TokioResolver>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("http_clients", &self.http.len())
            .field("tls_configs", &self.tls.len())
            .field("resolvers", &self.resolvers.len())
            .finish()
    }
}

fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, RunnerError> {
    let error = |reason: String| RunnerError::CaFile {
        path: path.to_owned(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| error(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(e.to_string()))?;
    if certs.is_empty() {
        return Err(error("no PEM certificate in it".into()));
    }
    Ok(certs)
}

fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn setup(what: &'static str) -> impl FnOnce(String) -> RunnerError {
    move |reason| RunnerError::Setup { what, reason }
}

impl Runner {
    /// Prepares clients for every check in `checks`.
    pub fn new(checks: &[Check]) -> Result<Runner, RunnerError> {
        let mut runner = Runner {
            http: HashMap::new(),
            tls: HashMap::new(),
            resolvers: HashMap::new(),
        };
        for check in checks {
            match &check.target {
                Target::Http(http) => {
                    let key = HttpClientKey {
                        follow_redirects: http.follow_redirects,
                        ca_file: http.ca_file.clone(),
                    };
                    if let Entry::Vacant(slot) = runner.http.entry(key) {
                        let client = http_client(slot.key())?;
                        slot.insert(client);
                    }
                }
                Target::Tls(tls) => {
                    if let Entry::Vacant(slot) = runner.tls.entry(tls.ca_file.clone()) {
                        slot.insert(tls_config(tls.ca_file.as_deref())?);
                    }
                }
                Target::Dns(dns) => {
                    if let Entry::Vacant(slot) = runner.resolvers.entry(dns.nameserver) {
                        slot.insert(resolver(dns.nameserver)?);
                    }
                }
                Target::Tcp(_) => {}
            }
        }
        Ok(runner)
    }

    /// Runs one probe of `check`, giving up after its timeout.
    pub async fn observe(&self, check: &Check) -> Observation {
        self.observe_within(check, check.timeout).await
    }

    /// Runs one probe, giving up after `budget` (the smaller of the check's timeout and the
    /// time left in the cycle).
    pub async fn observe_within(&self, check: &Check, budget: Duration) -> Observation {
        let started = Instant::now();
        let target = describe(&check.target);
        let attempt = async {
            match &check.target {
                Target::Http(http) => self.http(http, budget).await,
                Target::Tcp(tcp) => probe_tcp(tcp).await,
                Target::Dns(dns) => self.dns(dns).await,
                Target::Tls(tls) => self.tls(tls).await,
            }
        };
        let mut observation = match tokio::time::timeout(budget, attempt).await {
            Ok(observation) => observation,
            Err(_) => Observation {
                error: Some(format!("timed out after {}", seconds(budget))),
                ..Observation::default()
            },
        };
        observation.target = target;
        observation.elapsed = started.elapsed();
        observation
    }

    async fn http(&self, target: &HttpTarget, budget: Duration) -> Observation {
        let key = HttpClientKey {
            follow_redirects: target.follow_redirects,
            ca_file: target.ca_file.clone(),
        };
        let Some(client) = self.http.get(&key) else {
            return failed(format!("no HTTP client prepared for {}", target.url));
        };
        let method = match reqwest::Method::from_bytes(target.method.as_bytes()) {
            Ok(method) => method,
            Err(_) => return failed(format!("invalid HTTP method {}", target.method)),
        };
        let mut request = client.request(method, target.url.clone()).timeout(budget);
        for (name, value) in &target.headers {
            request = request.header(name, value);
        }
        if let Some(body) = &target.body {
            request = request.body(body.clone());
        }
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(e) => return failed(http_error(&e, &target.url, budget)),
        };
        let certificate_not_after = response
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|info| info.peer_certificate())
            .and_then(not_after);
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = Vec::new();
        let mut error = None;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = BODY_LIMIT.saturating_sub(body.len());
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if body.len() >= BODY_LIMIT {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    error = Some(format!(
                        "response body from {} was cut off: {}",
                        target.url,
                        http_error(&e, &target.url, budget)
                    ));
                    break;
                }
            }
        }
        Observation {
            connected: true,
            error,
            status: Some(status),
            headers,
            body: Some(String::from_utf8_lossy(&body).into_owned()),
            certificate_not_after,
            ..Observation::default()
        }
    }

    async fn dns(&self, target: &DnsTarget) -> Observation {
        let Some(resolver) = self.resolvers.get(&target.nameserver) else {
            return failed(format!("no resolver prepared for {}", target.name));
        };
        let record_type = match target.record_type {
            DnsRecordType::A => RecordType::A,
            DnsRecordType::Aaaa => RecordType::AAAA,
            DnsRecordType::Cname => RecordType::CNAME,
            DnsRecordType::Mx => RecordType::MX,
            DnsRecordType::Txt => RecordType::TXT,
            DnsRecordType::Ns => RecordType::NS,
        };
        // A trailing dot makes the name absolute, so search domains never change the answer.
        let name = if target.name.ends_with('.') {
            target.name.clone()
        } else {
            format!("{}.", target.name)
        };
        match resolver.lookup(name.as_str(), record_type).await {
            Ok(lookup) => Observation {
                connected: true,
                dns_rcode: Some("NOERROR".into()),
                dns_answers: lookup
                    .answers()
                    .iter()
                    .filter(|record| record.record_type() == record_type)
                    .map(|record| record.data.to_string())
                    .collect(),
                ..Observation::default()
            },
            Err(NetError::Dns(DnsError::NoRecordsFound(no_records))) => Observation {
                connected: true,
                dns_rcode: Some(format!("{:?}", no_records.response_code).to_ascii_uppercase()),
                ..Observation::default()
            },
            Err(NetError::Dns(DnsError::ResponseCode(code))) => Observation {
                connected: true,
                dns_rcode: Some(format!("{code:?}").to_ascii_uppercase()),
                ..Observation::default()
            },
            Err(e) => failed(format!("DNS lookup of {} failed: {e}", target.name)),
        }
    }

    async fn tls(&self, target: &TlsTarget) -> Observation {
        let Some(config) = self.tls.get(&target.ca_file) else {
            return failed(format!("no TLS settings prepared for {}", target.host));
        };
        let address = format!("{}:{}", target.host, target.port);
        let stream = match TcpStream::connect((target.host.as_str(), target.port)).await {
            Ok(stream) => stream,
            Err(e) => return failed(connect_error(&e, &address)),
        };
        let server_name = match ServerName::try_from(target.server_name.clone()) {
            Ok(name) => name,
            Err(e) => {
                return failed(format!(
                    "invalid TLS server name {}: {e}",
                    target.server_name
                ));
            }
        };
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(config));
        match connector.connect(server_name, stream).await {
            Ok(tls) => {
                let (_, session) = tls.get_ref();
                let not_after = session
                    .peer_certificates()
                    .and_then(|chain| chain.first())
                    .and_then(|leaf| not_after(leaf.as_ref()));
                Observation {
                    connected: true,
                    certificate_not_after: not_after,
                    ..Observation::default()
                }
            }
            Err(e) => Observation {
                connected: true,
                error: Some(format!(
                    "TLS handshake with {address} failed: {}",
                    tls_words(&e)
                )),
                ..Observation::default()
            },
        }
    }
}

async fn probe_tcp(target: &TcpTarget) -> Observation {
    let address = format!("{}:{}", target.host, target.port);
    match TcpStream::connect((target.host.as_str(), target.port)).await {
        Ok(_) => Observation {
            connected: true,
            ..Observation::default()
        },
        Err(e) => failed(connect_error(&e, &address)),
    }
}

fn failed(error: String) -> Observation {
    Observation {
        error: Some(error),
        ..Observation::default()
    }
}

/// The name of a target as people read it.
pub fn describe(target: &Target) -> String {
    match target {
        Target::Http(http) => http.url.to_string(),
        Target::Tcp(tcp) => format!("{}:{}", tcp.host, tcp.port),
        Target::Dns(dns) => dns.name.clone(),
        Target::Tls(tls) => format!("{}:{}", tls.host, tls.port),
    }
}

/// "10 s", "1.5 s", "250 ms": how long, the way an on-call engineer reads it.
pub fn seconds(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

fn connect_error(e: &std::io::Error, address: &str) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => format!("connection refused by {address}"),
        std::io::ErrorKind::TimedOut => format!("connection to {address} timed out"),
        _ if e.to_string().contains("failed to lookup address") => {
            format!("could not resolve the host of {address}")
        }
        _ => format!("could not connect to {address}: {e}"),
    }
}

fn http_error(e: &reqwest::Error, url: &reqwest::Url, budget: Duration) -> String {
    if e.is_timeout() {
        return format!("timed out after {}", seconds(budget));
    }
    if e.is_redirect() {
        return format!("too many redirects from {url}");
    }
    // The useful words are at the bottom of the source chain (io or TLS errors).
    let mut source = e.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            // A failed handshake arrives as a rustls error inside io::Errors, which the
            // source chain skips; without this a certificate problem reads as a connect error.
            if let Some(tls) = rustls_inside(io) {
                return format!("TLS handshake with {url} failed: {}", rustls_words(tls));
            }
            let host = url.host_str().unwrap_or("?");
            let port = url.port_or_known_default().unwrap_or(0);
            return connect_error(io, &format!("{host}:{port}"));
        }
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return format!("TLS handshake with {url} failed: {}", rustls_words(tls));
        }
        source = cause.source();
    }
    if e.is_connect() {
        let mut innermost = e.source();
        let mut text = e.to_string();
        while let Some(cause) = innermost {
            text = cause.to_string();
            innermost = cause.source();
        }
        if text.contains("dns error") || text.contains("lookup") {
            return format!("could not resolve {}", url.host_str().unwrap_or("?"));
        }
        return format!("could not connect to {url}: {text}");
    }
    format!("request to {url} failed: {e}")
}

fn tls_words(e: &std::io::Error) -> String {
    match rustls_inside(e) {
        Some(tls) => rustls_words(tls),
        None => e.to_string(),
    }
}

/// The rustls error wrapped in `e`, looking through io::Errors wrapped in io::Errors (HTTP
/// connectors wrap the handshake's own). `io::Error::source()` returns the wrapped error's
/// source, never the wrapped error itself, so the source chain cannot find it.
fn rustls_inside(e: &std::io::Error) -> Option<&rustls::Error> {
    let inner = e.get_ref()?;
    match inner.downcast_ref::<rustls::Error>() {
        Some(tls) => Some(tls),
        None => rustls_inside(inner.downcast_ref::<std::io::Error>()?),
    }
}

fn rustls_words(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::Expired | C::ExpiredContext { .. } => "the certificate has expired".into(),
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "the certificate is not valid yet".into()
            }
            C::UnknownIssuer => "the certificate is not signed by a trusted authority".into(),
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "the certificate is not valid for this host name".into()
            }
            C::Revoked => "the certificate has been revoked".into(),
            other => format!("invalid certificate ({other:?})"),
        },
        other => other.to_string(),
    }
}

/// The `notAfter` of a DER certificate.
fn not_after(der: &[u8]) -> Option<DateTime<Utc>> {
    let (_, certificate) = x509_parser::parse_x509_certificate(der).ok()?;
    Utc.timestamp_opt(certificate.validity().not_after.timestamp(), 0)
        .single()
}

fn http_client(key: &HttpClientKey) -> Result<reqwest::Client, RunnerError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!(
            "sitrep/",
            env!("CARGO_PKG_VERSION"),
            " (health check)"
        ))
        .tls_info(true)
        .pool_idle_timeout(Duration::from_secs(50))
        .redirect(if key.follow_redirects {
            reqwest::redirect::Policy::limited(10)
        } else {
            reqwest::redirect::Policy::none()
        });
    if let Some(path) = &key.ca_file {
        let pem = std::fs::read(path).map_err(|e| RunnerError::CaFile {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| RunnerError::CaFile {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        builder = builder.tls_certs_merge(certs);
    }
    builder
        .build()
        .map_err(|e| setup("HTTP client")(e.to_string()))
}

fn tls_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, RunnerError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        for cert in read_ca_file(path)? {
            roots.add(cert).map_err(|e| RunnerError::CaFile {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| setup("TLS client")(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn resolver(nameserver: Option<SocketAddr>) -> Result<TokioResolver, RunnerError> {
    let mut builder = match nameserver {
        Some(address) => {
            let mut udp = ConnectionConfig::udp();
            udp.port = address.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = address.port();
            let server = NameServerConfig::new(address.ip(), true, vec![udp, tcp]);
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![server]),
                TokioRuntimeProvider::default(),
            )
        }
        None => TokioResolver::builder_tokio()
            .map_err(|e| setup("system DNS resolver")(e.to_string()))?,
    };
    // A health check must ask every time: a cached answer would hide an outage.
    builder.options_mut().cache_size = 0;
    builder.options_mut().attempts = 1;
    builder
        .build()
        .map_err(|e| setup("DNS resolver")(e.to_string()))
}

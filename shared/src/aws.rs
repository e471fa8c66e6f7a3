//! The AWS SDK configuration every sitrep binary shares.
//!
//! The SDK's default HTTPS client trusts the operating system's certificate store, which it
//! reads from disk (every file in `/etc/ssl/certs`) while the function starts, before the
//! first event can be fetched. sitrep only ever calls AWS APIs, whose endpoints present
//! chains to Amazon Trust Services roots, so it trusts exactly those, compiled in: no disk
//! reads, and no other CA can impersonate DynamoDB. `SITREP_AWS_TRUST=system` restores the
//! system store, for an HTTPS endpoint override (`AWS_ENDPOINT_URL`) behind another CA.
//!
//! Every client also has timeouts ([`TIMEOUTS`]). The SDK sets none on an operation or an
//! attempt by default, so a call to a DynamoDB or SNS endpoint that accepts the connection
//! and never answers would hold the function until Lambda kills it: status-api (10 s) would
//! answer nothing instead of its 503, and a page would wait out the whole invocation.

use std::time::Duration;

use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};

/// How long AWS calls may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing a connection.
    pub connect: Duration,
    /// One attempt (one HTTP request and its response); a retry starts a new one.
    pub attempt: Duration,
    /// The whole call, retries and their back-off included.
    pub operation: Duration,
}

impl Timeouts {
    /// The SDK's form of these timeouts.
    pub fn config(self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }
}

/// The timeouts of every sitrep client. Within a region DynamoDB, SNS and Secrets Manager
/// answer in milliseconds, so an attempt that takes 3 s is stuck and is better retried. A
/// whole call gives up after 8 s, which leaves status-api (a 10 s function) time to answer
/// 503 rather than time out, and every other function (50 s and more) time to record what
/// failed.
pub const TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_secs(2),
    attempt: Duration::from_secs(3),
    operation: Duration::from_secs(8),
};

/// Amazon Root CA 1–4 and the Starfield root that cross-signs them, as a PEM bundle.
pub const AMAZON_TRUST_SERVICES_PEM: &str = include_str!("../certs/amazon-trust-services.pem");

/// The configuration for a command run by a person: the SDK's whole provider chain
/// (environment, profiles, SSO, instance metadata), with the HTTPS client described above.
pub async fn sdk_config() -> SdkConfig {
    with_client(aws_config::defaults(BehaviorVersion::latest()))
        .load()
        .await
}

/// The configuration inside Lambda, where the region and the execution role's credentials
/// are always environment variables: reading only those skips building the profile,
/// SSO and metadata providers, which would cost every cold start and never be used.
pub async fn lambda_sdk_config() -> SdkConfig {
    with_client(aws_config::defaults(BehaviorVersion::latest()))
        .region(EnvironmentVariableRegionProvider::new())
        .credentials_provider(EnvironmentVariableCredentialsProvider::new())
        .load()
        .await
}

fn with_client(loader: ConfigLoader) -> ConfigLoader {
    let loader = loader.timeout_config(TIMEOUTS.config());
    let system = std::env::var("SITREP_AWS_TRUST").is_ok_and(|v| v == "system");
    let trust = if system {
        TrustStore::empty().with_native_roots(true)
    } else {
        TrustStore::empty().with_pem_certificate(AMAZON_TRUST_SERVICES_PEM.as_bytes())
    };
    match TlsContext::builder().with_trust_store(trust).build() {
        Ok(context) => loader.http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::Rustls(
                    tls::rustls_provider::CryptoMode::AwsLc,
                ))
                .tls_context(context)
                .build_https(),
        ),
        Err(error) => {
            // Never expected (the roots are compiled in); fall back to the SDK's own client.
            tracing::warn!(%error, "cannot build the AWS trust store; using the SDK default");
            loader
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    const AMAZON_SUBJECTS: [&[u8]; 2] = [
        b"Amazon Root CA ",
        b"Starfield Services Root Certificate Authority",
    ];

    #[tokio::test]
    async fn every_client_has_an_attempt_and_an_operation_timeout() {
        let sdk = lambda_sdk_config().await;
        let timeouts = sdk.timeout_config().expect("timeouts are set");
        assert_eq!(timeouts.operation_timeout(), Some(TIMEOUTS.operation));
        assert_eq!(timeouts.operation_attempt_timeout(), Some(TIMEOUTS.attempt));
        assert_eq!(timeouts.connect_timeout(), Some(TIMEOUTS.connect));
        // Each service's client takes them from the shared configuration.
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        let sns = crate::notify::sns::client_without_retries(&sdk);
        let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
        for (name, config) in [
            ("dynamodb", dynamodb.config().timeout_config()),
            ("sns", sns.config().timeout_config()),
            ("secretsmanager", secrets.config().timeout_config()),
        ] {
            let config = config.unwrap_or_else(|| panic!("{name}: no timeouts"));
            assert_eq!(
                config.operation_timeout(),
                Some(TIMEOUTS.operation),
                "{name}"
            );
            assert_eq!(
                config.operation_attempt_timeout(),
                Some(TIMEOUTS.attempt),
                "{name}"
            );
        }
        assert!(TIMEOUTS.attempt < TIMEOUTS.operation);
        // status-api's function timeout in infra/template.yaml.
        assert!(TIMEOUTS.operation < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_call_to_an_endpoint_that_never_answers_ends_at_the_operation_timeout() {
        // Accepts connections and reads, never answers.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let _server = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let quick = Timeouts {
            connect: Duration::from_millis(500),
            attempt: Duration::from_millis(200),
            operation: Duration::from_millis(700),
        };
        let sdk = with_client(aws_config::defaults(BehaviorVersion::latest()))
            .timeout_config(quick.config())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "AKIDTEST", "secret", None, None, "test",
            ))
            .endpoint_url(format!("http://{address}"))
            .load()
            .await;
        let client = aws_sdk_dynamodb::Client::new(&sdk);
        let started = std::time::Instant::now();
        let outcome = tokio::time::timeout(
            Duration::from_secs(10),
            client.get_item().table_name("t").send(),
        )
        .await
        .expect("the SDK gave up by itself");
        let took = started.elapsed();
        let error = outcome.expect_err("nothing answered");
        assert!(
            matches!(error, aws_sdk_dynamodb::error::SdkError::TimeoutError(_)),
            "{error:?}"
        );
        assert!(
            took >= quick.attempt && took < Duration::from_secs(3),
            "{took:?}"
        );
    }

    #[test]
    fn the_bundle_is_exactly_the_amazon_roots_of_the_mozilla_set() {
        let bundled: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES_PEM.as_bytes())
                .collect::<Result<_, _>>()
                .expect("the bundle parses");
        let mut expected: Vec<&[u8]> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .map(|der| der.as_ref())
            .filter(|der| {
                AMAZON_SUBJECTS
                    .iter()
                    .any(|subject| memchr::memmem::find(der, subject).is_some())
            })
            .collect();
        let mut bundled: Vec<&[u8]> = bundled.iter().map(|der| der.as_ref()).collect();
        expected.sort_unstable();
        bundled.sort_unstable();
        assert_eq!(expected.len(), 5, "Amazon Root CA 1-4 and Starfield G2");
        assert!(
            bundled == expected,
            "the bundle drifted from the Mozilla set"
        );
    }
}

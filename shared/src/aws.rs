//! The AWS SDK configuration every sitrep binary shares.
//!
//! The SDK's default HTTPS client trusts the operating system's certificate store, which it
//! reads from disk (every file in `/etc/ssl/certs`) while the function starts, before the
//! first event can be fetched. sitrep only ever calls AWS APIs, whose endpoints present
//! chains to Amazon Trust Services roots, so it trusts exactly those, compiled in: no disk
//! reads, and no other CA can impersonate DynamoDB. `SITREP_AWS_TRUST=system` restores the
//! system store, for an HTTPS endpoint override (`AWS_ENDPOINT_URL`) behind another CA.

use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};

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

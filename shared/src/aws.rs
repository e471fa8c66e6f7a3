//! The AWS SDK configuration every sitrep binary shares.
//!
//! The SDK's default HTTPS client trusts the operating system's certificate store, which it
//! reads from disk (every file in `/etc/ssl/certs`) while the function starts, before the
//! first event can be fetched. sitrep only ever calls AWS APIs, whose endpoints present
//! chains to Amazon Trust Services roots, so it trusts exactly those: taken from the
//! compiled-in Mozilla root set, no disk reads, and no other CA can impersonate DynamoDB.
//! `SITREP_AWS_TRUST=system` restores the system store, for an HTTPS endpoint override
//! (`AWS_ENDPOINT_URL`) behind another CA.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use base64::Engine as _;

/// Subjects of the roots AWS endpoints chain to (Amazon Root CA 1–4, and the Starfield root
/// that cross-signs them for old clients).
const AWS_ROOT_SUBJECTS: [&[u8]; 2] = [
    b"Amazon Root CA ",
    b"Starfield Services Root Certificate Authority",
];

/// The Amazon Trust Services roots as PEM, from the compiled-in Mozilla root set.
pub fn aws_root_certificates() -> Vec<Vec<u8>> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .filter(|der| {
            AWS_ROOT_SUBJECTS
                .iter()
                .any(|subject| der.windows(subject.len()).any(|w| w == *subject))
        })
        .map(|der| {
            let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
            let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
            for line in body.as_bytes().chunks(64) {
                pem.push_str(&String::from_utf8_lossy(line));
                pem.push('\n');
            }
            pem.push_str("-----END CERTIFICATE-----\n");
            pem.into_bytes()
        })
        .collect()
}

/// Loads the SDK configuration from the environment (region, credentials, endpoint
/// override), with the HTTPS client described above.
pub async fn sdk_config() -> SdkConfig {
    let system = std::env::var("SITREP_AWS_TRUST").is_ok_and(|v| v == "system");
    let trust = if system {
        TrustStore::empty().with_native_roots(true)
    } else {
        aws_root_certificates()
            .into_iter()
            .fold(TrustStore::empty(), TrustStore::with_pem_certificate)
    };
    let loader = aws_config::defaults(BehaviorVersion::latest());
    let loader = match TlsContext::builder().with_trust_store(trust).build() {
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
    };
    loader.load().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusts_exactly_the_amazon_roots() {
        let roots = aws_root_certificates();
        // Amazon Root CA 1, 2, 3, 4 and Starfield Services Root G2.
        assert_eq!(
            roots.len(),
            5,
            "{}",
            roots
                .iter()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect::<String>()
        );
        for pem in &roots {
            let text = String::from_utf8_lossy(pem);
            assert!(
                text.starts_with("-----BEGIN CERTIFICATE-----\n")
                    && text.ends_with("-----END CERTIFICATE-----\n")
            );
        }
    }
}

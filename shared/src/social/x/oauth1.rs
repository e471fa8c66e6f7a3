//! OAuth 1.0a user-context signing (HMAC-SHA1, RFC 5849), the alternative to an app-only
//! bearer token for reading X and the way sitrep will post as the vendor's account.
//!
//! The timestamp comes from the clock port and the nonce from the randomness port, so a
//! signature is reproducible in tests; [`sign`] itself is pure and checked against the
//! worked example in X's documentation.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use reqwest::Url;

use crate::random::Random;

/// The four secrets of a user-context app, as X's developer portal shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuth1Credentials {
    /// The app's API key.
    pub consumer_key: String,
    /// The app's API key secret.
    pub consumer_secret: String,
    /// The account's access token.
    pub access_token: String,
    /// The account's access token secret.
    pub access_token_secret: String,
}

impl std::fmt::Debug for OAuth1Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never reach logs, even through a debug print.
        f.debug_struct("OAuth1Credentials")
            .field("consumer_key", &self.consumer_key)
            .finish_non_exhaustive()
    }
}

/// The `Authorization` header for `method` on `url` (query included), at `now`, with a nonce
/// drawn from `random`. Form bodies are not signed: sitrep sends JSON, which OAuth 1.0a
/// leaves out of the signature.
pub fn authorization(
    credentials: &OAuth1Credentials,
    method: &str,
    url: &Url,
    now: DateTime<Utc>,
    random: &dyn Random,
) -> String {
    let nonce = format!("{:016x}{:016x}", random.next_u64(), random.next_u64());
    let timestamp = now.timestamp().to_string();
    let oauth = [
        ("oauth_consumer_key", credentials.consumer_key.as_str()),
        ("oauth_nonce", nonce.as_str()),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", timestamp.as_str()),
        ("oauth_token", credentials.access_token.as_str()),
        ("oauth_version", "1.0"),
    ];
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let mut base_url = url.clone();
    base_url.set_query(None);
    base_url.set_fragment(None);
    let parameters = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(oauth.iter().copied());
    let signature = sign(
        method,
        base_url.as_str(),
        parameters,
        &credentials.consumer_secret,
        &credentials.access_token_secret,
    );
    let mut header = String::from("OAuth ");
    for (i, (name, value)) in oauth
        .iter()
        .copied()
        .chain([("oauth_signature", signature.as_str())])
        .enumerate()
    {
        if i > 0 {
            header.push_str(", ");
        }
        header.push_str(&format!("{name}=\"{}\"", encode(value)));
    }
    header
}

/// The HMAC-SHA1 signature (base64) of a request: `parameters` are every query, form and
/// `oauth_*` parameter, decoded.
pub fn sign<'a>(
    method: &str,
    base_url: &str,
    parameters: impl Iterator<Item = (&'a str, &'a str)>,
    consumer_secret: &str,
    token_secret: &str,
) -> String {
    let mut encoded: Vec<(String, String)> =
        parameters.map(|(k, v)| (encode(k), encode(v))).collect();
    encoded.sort();
    let normalized = encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let base = format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(base_url),
        encode(&normalized)
    );
    let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key.as_bytes());
    STANDARD.encode(hmac::sign(&key, base.as_bytes()).as_ref())
}

/// RFC 3986 percent-encoding: everything but `A-Z a-z 0-9 - . _ ~`, in upper-case hex.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;
    use chrono::TimeZone;

    #[test]
    fn the_documented_example_signs_to_the_documented_signature() {
        // "Creating a signature", X developer documentation (OAuth 1.0a).
        let parameters = [
            (
                "status",
                "Hello Ladies + Gentlemen, a signed OAuth request!",
            ),
            ("include_entities", "true"),
            ("oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"),
            ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1318622958"),
            (
                "oauth_token",
                "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
            ),
            ("oauth_version", "1.0"),
        ];
        let signature = sign(
            "post",
            "https://api.twitter.com/1.1/statuses/update.json",
            parameters.into_iter(),
            "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
            "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
        );
        assert_eq!(signature, "hCtSmYh+iHYCEqBWrE7C7hYmtUk=");
    }

    #[test]
    fn encoding_follows_rfc_3986_not_forms() {
        assert_eq!(encode("a b+c,d~e*f"), "a%20b%2Bc%2Cd~e%2Af");
        assert_eq!(encode("é"), "%C3%A9");
    }

    #[test]
    fn the_header_signs_the_query_and_names_every_oauth_parameter() {
        let credentials = OAuth1Credentials {
            consumer_key: "ck".into(),
            consumer_secret: "cs".into(),
            access_token: "at".into(),
            access_token_secret: "ats".into(),
        };
        let url =
            Url::parse("https://api.x.com/2/users/1/mentions?max_results=100&since_id=5").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap();
        let header = authorization(&credentials, "GET", &url, now, &SeededRandom::new(4));
        assert!(header.starts_with("OAuth "), "{header}");
        for name in [
            "oauth_consumer_key=\"ck\"",
            "oauth_signature_method=\"HMAC-SHA1\"",
            "oauth_timestamp=\"1795428000\"",
            "oauth_token=\"at\"",
            "oauth_version=\"1.0\"",
            "oauth_nonce=",
            "oauth_signature=",
        ] {
            assert!(header.contains(name), "{name} missing from {header}");
        }
        // Same inputs, same header; another query, another signature.
        assert_eq!(
            header,
            authorization(&credentials, "GET", &url, now, &SeededRandom::new(4))
        );
        let other = Url::parse("https://api.x.com/2/users/1/mentions?since_id=6").unwrap();
        let signature = |h: &str| h.split("oauth_signature=").nth(1).unwrap().to_owned();
        assert_ne!(
            signature(&header),
            signature(&authorization(
                &credentials,
                "GET",
                &other,
                now,
                &SeededRandom::new(4)
            ))
        );
    }
}

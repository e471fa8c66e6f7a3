//! X webhooks (Account Activity): the challenge-response check X makes of a webhook URL, and
//! the signature X puts on every delivery.
//!
//! - CRC: X sends `GET …?crc_token=T`; the webhook answers `{"response_token": "sha256=" +
//!   base64(HMAC-SHA256(consumer secret, T))}`. X repeats it hourly and disables a webhook
//!   that fails it.
//! - Deliveries: `x-twitter-webhooks-signature: sha256=` + base64 of the same HMAC over the
//!   raw request body. A delivery is trusted only when that header matches, compared in
//!   constant time; the body is never parsed before.
//!
//! Both use the app's consumer secret (API key secret), which never leaves the secret store:
//! nothing here logs or returns it.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The scheme prefix of both the CRC response token and the delivery signature.
const SCHEME: &str = "sha256=";

/// Why a delivery is not trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The request has no `x-twitter-webhooks-signature` header.
    #[error("the delivery carries no x-twitter-webhooks-signature header")]
    MissingSignature,
    /// The header is not `sha256=` and base64 of 32 bytes.
    #[error("the delivery's signature is not sha256= and a base64 HMAC-SHA256")]
    MalformedSignature,
    /// The signature does not match the body under the consumer secret.
    #[error("the delivery's signature does not match its body")]
    Forged,
}

/// The app's consumer secret as a signing key.
pub struct WebhookKey(hmac::Key);

impl std::fmt::Debug for WebhookKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookKey(<redacted>)")
    }
}

impl WebhookKey {
    /// The key for `consumer_secret`.
    pub fn new(consumer_secret: &str) -> Self {
        Self(hmac::Key::new(
            hmac::HMAC_SHA256,
            consumer_secret.as_bytes(),
        ))
    }

    /// The `response_token` that answers X's CRC check for `crc_token`.
    pub fn crc_response_token(&self, crc_token: &str) -> String {
        let tag = hmac::sign(&self.0, crc_token.as_bytes());
        format!("{SCHEME}{}", STANDARD.encode(tag.as_ref()))
    }

    /// The JSON body answering X's CRC check.
    pub fn crc_response(&self, crc_token: &str) -> String {
        serde_json::json!({ "response_token": self.crc_response_token(crc_token) }).to_string()
    }

    /// Checks a delivery's `x-twitter-webhooks-signature` header (`None`: absent) against
    /// its raw body, in constant time.
    pub fn verify(&self, body: &[u8], signature: Option<&str>) -> Result<(), WebhookError> {
        let signature = signature.ok_or(WebhookError::MissingSignature)?;
        let encoded = signature
            .trim()
            .strip_prefix(SCHEME)
            .ok_or(WebhookError::MalformedSignature)?;
        let tag = STANDARD
            .decode(encoded)
            .map_err(|_| WebhookError::MalformedSignature)?;
        if tag.len() != 32 {
            return Err(WebhookError::MalformedSignature);
        }
        hmac::verify(&self.0, body, &tag).map_err(|_| WebhookError::Forged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values computed independently with Python's standard library:
    //   base64.b64encode(hmac.new(b"consumer-secret", msg, hashlib.sha256).digest())
    const SECRET: &str = "consumer-secret";
    const CRC_TOKEN: &str = "crc-token-123";
    const CRC_EXPECTED: &str = "sha256=pqNVCku98klY+uShlb3Xa/LIgd2B2xq7EveP37yRYOI=";
    const BODY: &[u8] = br#"{"for_user_id":"42","tweet_create_events":[]}"#;
    const BODY_SIGNATURE: &str = "sha256=zySLDiSHci1Km8kk19Ngj5Ozs40tn/z+G06898hRsgk=";

    #[test]
    fn the_crc_answer_is_the_documented_hmac() {
        let key = WebhookKey::new(SECRET);
        assert_eq!(key.crc_response_token(CRC_TOKEN), CRC_EXPECTED);
        let body: serde_json::Value = serde_json::from_str(&key.crc_response(CRC_TOKEN)).unwrap();
        assert_eq!(body, serde_json::json!({ "response_token": CRC_EXPECTED }));
    }

    #[test]
    fn a_signed_delivery_is_trusted_and_anything_else_is_not() {
        let key = WebhookKey::new(SECRET);
        assert_eq!(key.verify(BODY, Some(BODY_SIGNATURE)), Ok(()));
        assert_eq!(
            key.verify(BODY, Some(&format!(" {BODY_SIGNATURE} "))),
            Ok(())
        );
        assert_eq!(key.verify(BODY, None), Err(WebhookError::MissingSignature));
        for malformed in [
            "",
            "sha1=abc",
            "zySLDiSHci1Km8kk19Ngj5Ozs40tn/z+G06898hRsgk=",
            "sha256=***",
            "sha256=AAAA",
        ] {
            assert_eq!(
                key.verify(BODY, Some(malformed)),
                Err(WebhookError::MalformedSignature),
                "{malformed}"
            );
        }
        // One byte of the body changed, a signature of another body, another secret.
        let mut altered = BODY.to_vec();
        altered[10] ^= 1;
        assert_eq!(
            key.verify(&altered, Some(BODY_SIGNATURE)),
            Err(WebhookError::Forged)
        );
        assert_eq!(
            key.verify(BODY, Some(CRC_EXPECTED)),
            Err(WebhookError::Forged)
        );
        assert_eq!(
            WebhookKey::new("another-secret").verify(BODY, Some(BODY_SIGNATURE)),
            Err(WebhookError::Forged)
        );
    }

    #[test]
    fn the_key_never_shows_in_debug() {
        assert_eq!(
            format!("{:?}", WebhookKey::new(SECRET)),
            "WebhookKey(<redacted>)"
        );
    }
}

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
//!
//! **The CRC answer is a signing oracle unless the token is constrained.** X's protocol uses
//! one key and one construction for both: the answer to `crc_token=T` is exactly the signature
//! X would put on a delivery whose body is `T`. An endpoint that answers any token therefore
//! signs any delivery an attacker asks for. So nothing is signed but a [`CrcToken`], whose
//! alphabet cannot begin (or contain) a JSON object, while every delivery is a JSON object
//! whose first byte is `{` ([`super::activity::parse_delivery`] refuses anything else): no
//! CRC answer can ever be a valid delivery's signature.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The scheme prefix of both the CRC response token and the delivery signature.
const SCHEME: &str = "sha256=";

/// The shortest `crc_token` answered.
pub const MIN_CRC_TOKEN: usize = 8;

/// The longest `crc_token` answered.
pub const MAX_CRC_TOKEN: usize = 128;

/// The most `=` padding characters a base64 token ends with.
const MAX_PADDING: usize = 2;

/// Why a `crc_token` is not answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CrcTokenError {
    /// Shorter than [`MIN_CRC_TOKEN`] or longer than [`MAX_CRC_TOKEN`].
    #[error("the crc_token is not {MIN_CRC_TOKEN} to {MAX_CRC_TOKEN} characters long")]
    Length,
    /// A character outside the base64 and base64url alphabets.
    #[error("the crc_token has a character outside A-Z a-z 0-9 - _ + /")]
    Alphabet,
    /// `=` anywhere but as up to two characters of padding at the end.
    #[error("the crc_token has `=` other than as trailing padding")]
    Padding,
}

/// A `crc_token` of the shape X sends, and so safe to sign.
///
/// X documents the token only as a string that changes with every check. Every token in X's
/// documentation ("Securing webhooks" and the webhooks quickstart, whose example is
/// `challenge_string`), in its developer relations' sample code (the UUID
/// `9b4507b3-9040-4669-9ca3-6b94edb50553`) and in open-source receivers is an opaque
/// base64, base64url or UUID-like string of 16 to 48 characters. Accepted therefore:
///
/// - [`MIN_CRC_TOKEN`]..=[`MAX_CRC_TOKEN`] characters (base64 of 64 random bytes is 88);
/// - `A-Z a-z 0-9 - _ + /`, the union of RFC 4648's base64 and base64url alphabets (`-`
///   also covers UUIDs, `_` the documented example);
/// - then at most two `=` of padding, and `=` nowhere else.
///
/// Everything else is refused before any key is read: no whitespace, quotes, braces,
/// brackets, colons, commas or non-ASCII. A token can thus never be a JSON object, array or
/// string, nor begin with the `{` every delivery begins with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrcToken<'a>(&'a str);

impl<'a> CrcToken<'a> {
    /// `token` if it has X's shape (see the type's documentation).
    pub fn parse(token: &'a str) -> Result<Self, CrcTokenError> {
        if !(MIN_CRC_TOKEN..=MAX_CRC_TOKEN).contains(&token.len()) {
            return Err(CrcTokenError::Length);
        }
        let body = token.trim_end_matches('=');
        if token.len() - body.len() > MAX_PADDING {
            return Err(CrcTokenError::Padding);
        }
        for byte in body.bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'+' | b'/' => {}
                b'=' => return Err(CrcTokenError::Padding),
                _ => return Err(CrcTokenError::Alphabet),
            }
        }
        Ok(Self(token))
    }

    /// The token as received.
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

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

    /// The `response_token` that answers X's CRC check for `token`.
    pub fn crc_response_token(&self, token: CrcToken<'_>) -> String {
        self.signature(token.as_str().as_bytes())
    }

    /// The JSON body answering X's CRC check for `token`.
    pub fn crc_response(&self, token: CrcToken<'_>) -> String {
        serde_json::json!({ "response_token": self.crc_response_token(token) }).to_string()
    }

    /// The `x-twitter-webhooks-signature` X puts on a delivery whose raw body is `body`: to
    /// replay a captured delivery by hand, and to tell keys apart without showing them.
    pub fn signature(&self, body: &[u8]) -> String {
        let tag = hmac::sign(&self.0, body);
        format!("{SCHEME}{}", STANDARD.encode(tag.as_ref()))
    }

    /// Checks a delivery's `x-twitter-webhooks-signature` header (`None`: absent) against
    /// its raw body.
    ///
    /// The tag is compared by `aws_lc_rs::hmac::verify`, which recomputes the HMAC and
    /// compares in constant time; what is checked before (the `sha256=` prefix, base64, 32
    /// bytes) depends only on the header, never on the key, so it leaks nothing of it.
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
    use proptest::prelude::*;
    use serde_json::json;

    use super::super::activity::parse_delivery;
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
        let token = CrcToken::parse(CRC_TOKEN).unwrap();
        assert_eq!(key.crc_response_token(token), CRC_EXPECTED);
        let body: serde_json::Value = serde_json::from_str(&key.crc_response(token)).unwrap();
        assert_eq!(body, serde_json::json!({ "response_token": CRC_EXPECTED }));
        assert_eq!(key.signature(BODY), BODY_SIGNATURE);
    }

    #[test]
    fn tokens_of_xs_shape_are_accepted() {
        for token in [
            CRC_TOKEN,
            // X's documentation and its developer relations' sample code.
            "challenge_string",
            "9b4507b3-9040-4669-9ca3-6b94edb50553",
            // base64 and base64url, padded or not.
            "OGQ5NGIzZDMtMjFhMC00OTY2LThjYjEtNDc4NzgyNjBhODFm",
            "q+/wq2K9dg1Z/vyVM/Tr3w==",
            "q-_wq2K9dg1Z_vyVM_Tr3w",
            "12345678",
            &"A".repeat(MAX_CRC_TOKEN),
            &format!("{}==", "A".repeat(MAX_CRC_TOKEN - 2)),
        ] {
            assert_eq!(
                CrcToken::parse(token).map(|t| t.as_str()),
                Ok(token),
                "{token}"
            );
        }
    }

    #[test]
    fn anything_else_is_refused_and_a_delivery_above_all() {
        let cases: [(&str, CrcTokenError); 14] = [
            ("", CrcTokenError::Length),
            ("abc", CrcTokenError::Length),
            ("abcdefg", CrcTokenError::Length),
            (&"A".repeat(MAX_CRC_TOKEN + 1), CrcTokenError::Length),
            // A delivery, however small, and the ways it could be written.
            (r#"{"for_user_id":"42"}"#, CrcTokenError::Alphabet),
            (r#" {"for_user_id":"42"}"#, CrcTokenError::Alphabet),
            (r#"["for_user_id","42"]"#, CrcTokenError::Alphabet),
            (r#""for_user_id_42""#, CrcTokenError::Alphabet),
            ("with space", CrcTokenError::Alphabet),
            ("tab\there!", CrcTokenError::Alphabet),
            ("ünïcödé-token", CrcTokenError::Alphabet),
            ("abc=defgh", CrcTokenError::Padding),
            ("abcdefgh===", CrcTokenError::Padding),
            ("========", CrcTokenError::Padding),
        ];
        for (token, error) in cases {
            assert_eq!(CrcToken::parse(token), Err(error), "{token:?}");
        }
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

    /// Strings of X's token shape, and near misses around its edges.
    fn token_like() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Za-z0-9_+/-]{0,130}={0,3}",
            "[A-Za-z0-9_+/=-]{6,130}",
            "[ -~]{0,140}",
            any::<String>(),
        ]
    }

    /// A JSON value of any shape, small enough to generate quickly.
    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            "[ -~]{0,12}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whatever the CRC endpoint would sign is no delivery: its answer can never be a
        /// delivery's signature.
        #[test]
        fn no_string_the_crc_endpoint_signs_is_a_delivery(token in token_like()) {
            if let Ok(token) = CrcToken::parse(&token) {
                let first = token.as_str().as_bytes()[0];
                prop_assert_ne!(first, b'{');
                let read = parse_delivery(token.as_str().as_bytes());
                prop_assert!(read.is_err(), "{:?} read as {:?}", token, read);
            }
        }

        /// And no delivery, nor any JSON object or string, is a token, however it is spaced.
        #[test]
        fn no_delivery_is_a_crc_token(
            extra in json_value(),
            for_user_id in "[0-9]{1,20}",
            pretty in any::<bool>(),
            lead in "[ \t\r\n]{0,2}",
        ) {
            let delivery = json!({
                "for_user_id": for_user_id,
                "tweet_create_events": [],
                "extra": extra,
            });
            let written = if pretty {
                serde_json::to_string_pretty(&delivery).unwrap()
            } else {
                delivery.to_string()
            };
            let spaced = format!("{lead}{written}");
            prop_assert!(CrcToken::parse(&written).is_err());
            prop_assert!(CrcToken::parse(&spaced).is_err());
            // Of other JSON, only a bare number can pass: never an object, array or string.
            let other = extra.to_string();
            let structured = matches!(
                extra,
                serde_json::Value::Object(_) | serde_json::Value::Array(_) | serde_json::Value::String(_)
            );
            prop_assert!(!(structured && CrcToken::parse(&other).is_ok()));
        }

        /// The token check itself never panics and keeps to its alphabet and bounds.
        #[test]
        fn accepted_tokens_keep_to_the_alphabet_and_bounds(token in token_like()) {
            if CrcToken::parse(&token).is_ok() {
                prop_assert!((MIN_CRC_TOKEN..=MAX_CRC_TOKEN).contains(&token.len()));
                let body = token.trim_end_matches('=');
                prop_assert!(token.len() - body.len() <= 2);
                prop_assert!(body.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_+/".contains(&b)));
            }
        }
    }
}

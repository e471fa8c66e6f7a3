//! Acknowledgement links: a token short enough for a 160-character page, bound to one
//! incident, one person and an expiry, usable once.
//!
//! A self-contained signed token (incident, person, expiry and a full MAC) would not fit
//! beside the page's text, so the binding lives in a store record (`ACKTOKEN#<nonce>`) and
//! the token carries only what finds and authenticates it: 27 characters of base64url,
//! `nonce (8 bytes) ‖ HMAC-SHA256(key, binding)[..12]`, where the binding is
//!
//! ```text
//! sitrep-ack-v1\n<nonce as base64url>\n<incident>\n<person>\n<expiry, unix seconds>
//! ```
//!
//! The nonce only has to be unique (a conditional create makes sure it is), not secret: what
//! an attacker cannot produce is the MAC, and it covers what the record says, so a record
//! changed to name another incident or person no longer matches its token. 96 bits of tag
//! leave nothing to guess online. Redeeming marks the record used with a versioned write, so
//! of two racing redemptions exactly one wins; for [`REPEAT_GRACE`] after that the link
//! answers the same again, so that a redemption whose answer was lost can be repeated (all a
//! link can do is acknowledge, which is idempotent).
//!
//! The store keeps the record a day past the link's expiry (its TTL), so an expired link is
//! answered as expired for a day and as unknown after that.

use std::fmt;

use aws_lc_rs::{constant_time, hmac};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::config::PersonId;
use crate::random::Random;
use crate::secrets::{SecretError, SecretSource};
use crate::store::{Created, Item, Key, NewItem, Store, StoreError, keys};

/// The fewest secret bytes a key may have: HMAC-SHA256's own output size.
pub const MIN_KEY_BYTES: usize = 32;
/// Characters in a token.
pub const TOKEN_LEN: usize = 27;

const NONCE_BYTES: usize = 8;
const TAG_BYTES: usize = 12;
const DOMAIN: &str = "sitrep-ack-v1";
/// How long the store keeps a record after its link expired.
const RECORD_GRACE: Duration = Duration::days(1);
/// Nonce collisions are one in 2^64 per live token; several in a row mean a broken random
/// source, which must fail loudly rather than loop.
const MINT_ATTEMPTS: usize = 4;
/// How long after its use a link still answers as it did: a person whose acknowledgement's
/// answer was lost (a timeout, a dropped connection) can simply try again.
pub const REPEAT_GRACE: Duration = Duration::minutes(10);
/// A redemption that loses a race re-reads once to learn why; more is contention nobody
/// expects on a record only its holder touches.
const WRITE_ATTEMPTS: usize = 3;

/// Why a token, or the key that signs tokens, was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The key is too short to be a secret.
    #[error("the acknowledgement key has {len} bytes; at least {MIN_KEY_BYTES} are needed")]
    WeakKey {
        /// How many bytes it had.
        len: usize,
    },
    /// The secret's text is not a key in any accepted form.
    #[error("the acknowledgement key secret is unusable: {0}")]
    KeyText(String),
    /// The secret could not be read.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// Not a token at all (wrong length, not base64url).
    #[error("the token is malformed")]
    Malformed,
    /// No record has the token's nonce: never minted, or expired over a day ago.
    #[error("the token is unknown")]
    Unknown,
    /// The MAC does not match its record: forged, or the record was changed.
    #[error("the token is forged")]
    Forged,
    /// A genuine token, presented for another incident than it was minted for.
    #[error("the token belongs to another incident")]
    OtherIncident,
    /// A genuine token past its expiry.
    #[error("the token expired at {at}")]
    Expired {
        /// When it expired.
        at: DateTime<Utc>,
    },
    /// A genuine token that was already redeemed.
    #[error("the token was already used")]
    Used,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The secret that signs acknowledgement links. Its `Debug` never shows the secret.
#[derive(Clone)]
pub struct AckKey(hmac::Key);

impl AckKey {
    /// A key from at least [`MIN_KEY_BYTES`] secret bytes.
    pub fn new(bytes: &[u8]) -> Result<Self, TokenError> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(TokenError::WeakKey { len: bytes.len() });
        }
        Ok(Self(hmac::Key::new(hmac::HMAC_SHA256, bytes)))
    }

    /// A key from a secret's text as stored in Secrets Manager: base64 (standard or url-safe,
    /// padded or not) of at least 32 bytes, or otherwise the text's own bytes if there are at
    /// least 32; either may also be the `key` field of a JSON object, the shape the console's
    /// key/value editor stores. Surrounding whitespace is ignored.
    pub fn from_secret_text(text: &str) -> Result<Self, TokenError> {
        let text = text.trim();
        if text.starts_with('{')
            && let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(text)
        {
            return match fields.get("key").and_then(serde_json::Value::as_str) {
                Some(inner) => Self::from_secret_text(inner),
                None => Err(TokenError::KeyText(
                    "a JSON secret must hold the key in a `key` string field".into(),
                )),
            };
        }
        // `openssl rand -base64 32` is the documented way to make one; decoding first means
        // its 44 characters count as the 32 random bytes they stand for.
        let decoded = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .filter(|bytes| bytes.len() >= MIN_KEY_BYTES);
        match decoded {
            Some(bytes) => Self::new(&bytes),
            None => Self::new(text.as_bytes()),
        }
    }

    fn tag(
        &self,
        nonce: &str,
        incident: &str,
        person: &PersonId,
        expires_at: i64,
    ) -> [u8; TAG_BYTES] {
        let message = format!("{DOMAIN}\n{nonce}\n{incident}\n{person}\n{expires_at}");
        let full = hmac::sign(&self.0, message.as_bytes());
        let mut tag = [0u8; TAG_BYTES];
        tag.copy_from_slice(&full.as_ref()[..TAG_BYTES]);
        tag
    }
}

impl fmt::Debug for AckKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AckKey(<redacted>)")
    }
}

/// Reads the key from the secret `name`.
pub async fn load(secrets: &dyn SecretSource, name: &str) -> Result<AckKey, TokenError> {
    AckKey::from_secret_text(&secrets.secret(name).await?)
}

/// What a genuine, live, unused token allows: `person` may acknowledge `incident`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The incident it was minted for.
    pub incident: String,
    /// The person it was minted for.
    pub person: PersonId,
    /// When it stops working (whole seconds).
    pub expires_at: DateTime<Utc>,
}

/// The `ACKTOKEN#<nonce>` record. `expires_at` is a name the store reserves for its TTL.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TokenRecord {
    incident: String,
    person: PersonId,
    valid_until: DateTime<Utc>,
    used: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    used_at: Option<DateTime<Utc>>,
}

/// Mints a link token for `person` to acknowledge `incident` until `expires_at` (truncated to
/// whole seconds), storing its record.
pub async fn mint(
    store: &dyn Store,
    key: &AckKey,
    incident: &str,
    person: &PersonId,
    expires_at: DateTime<Utc>,
    random: &dyn Random,
) -> Result<String, StoreError> {
    let expires_at = DateTime::from_timestamp(expires_at.timestamp(), 0).unwrap_or(expires_at);
    let record = TokenRecord {
        incident: incident.to_owned(),
        person: person.clone(),
        valid_until: expires_at,
        used: false,
        used_at: None,
    };
    let kept_until = expires_at
        .checked_add_signed(RECORD_GRACE)
        .unwrap_or(expires_at);
    for _ in 0..MINT_ATTEMPTS {
        let nonce = random.next_u64().to_be_bytes();
        let nonce_text = URL_SAFE_NO_PAD.encode(nonce);
        let item = NewItem::encode(keys::ack_token(&nonce_text), &record)?.expiring_at(kept_until);
        if store.create(item).await? == Created::Yes {
            let tag = key.tag(&nonce_text, incident, person, expires_at.timestamp());
            let mut raw = [0u8; NONCE_BYTES + TAG_BYTES];
            raw[..NONCE_BYTES].copy_from_slice(&nonce);
            raw[NONCE_BYTES..].copy_from_slice(&tag);
            return Ok(URL_SAFE_NO_PAD.encode(raw));
        }
    }
    Err(StoreError::Backend(format!(
        "{MINT_ATTEMPTS} acknowledgement-token nonces in a row were taken: the random source is not random"
    )))
}

/// Whether `token` is genuine, live and unused, without using it: what the confirmation page
/// shows.
pub async fn check(
    store: &dyn Store,
    key: &AckKey,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Grant, TokenError> {
    let (_, record) = authenticate(store, key, token).await?;
    judge(&record, None, now)
}

/// [`check`], also refusing a token minted for another incident than `incident` (the one the
/// link's URL names).
pub async fn check_for(
    store: &dyn Store,
    key: &AckKey,
    token: &str,
    incident: &str,
    now: DateTime<Utc>,
) -> Result<Grant, TokenError> {
    let (_, record) = authenticate(store, key, token).await?;
    judge(&record, Some(incident), now)
}

/// Uses `token`: the first redemption of a genuine, live token gets its grant, every later
/// one [`TokenError::Used`].
pub async fn redeem(
    store: &dyn Store,
    key: &AckKey,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Grant, TokenError> {
    redeem_bound(store, key, token, None, now).await
}

/// [`redeem`], refusing (without using it) a token minted for another incident than
/// `incident`.
pub async fn redeem_for(
    store: &dyn Store,
    key: &AckKey,
    token: &str,
    incident: &str,
    now: DateTime<Utc>,
) -> Result<Grant, TokenError> {
    redeem_bound(store, key, token, Some(incident), now).await
}

/// Where the record of `token` is kept: for operators looking into a link, and for tests.
pub fn record_key(token: &str) -> Result<Key, TokenError> {
    let (nonce, _) = decode(token)?;
    Ok(keys::ack_token(&nonce))
}

/// Undoes a redemption whose action then failed, so that the person can try the link again
/// instead of being locked out of it mid-outage.
pub async fn release(store: &dyn Store, key: &AckKey, token: &str) -> Result<(), TokenError> {
    for _ in 0..WRITE_ATTEMPTS {
        let (item, mut record) = authenticate(store, key, token).await?;
        if !record.used {
            return Ok(());
        }
        record.used = false;
        record.used_at = None;
        match store.update(rewrite(&item, &record)?, item.version).await {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(
        StoreError::Backend("an acknowledgement token kept changing under contention".into())
            .into(),
    )
}

async fn redeem_bound(
    store: &dyn Store,
    key: &AckKey,
    token: &str,
    incident: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Grant, TokenError> {
    for _ in 0..WRITE_ATTEMPTS {
        let (item, mut record) = authenticate(store, key, token).await?;
        let grant = judge(&record, incident, now)?;
        if record.used {
            // A repetition within the grace: nothing to write.
            return Ok(grant);
        }
        record.used = true;
        record.used_at = Some(now);
        match store.update(rewrite(&item, &record)?, item.version).await {
            Ok(_) => return Ok(grant),
            // Someone else wrote the record since it was read: most likely a racing
            // redemption, which the next read reports as used.
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(TokenError::Used)
}

/// The record rewritten, keeping its TTL.
fn rewrite(item: &Item, record: &TokenRecord) -> Result<NewItem, StoreError> {
    let next = NewItem::encode(item.key.clone(), record)?;
    Ok(match item.expires_at {
        Some(at) => next.expiring_at(at),
        None => next,
    })
}

/// The token split into its nonce (as the record's key names it) and tag.
fn decode(token: &str) -> Result<(String, [u8; TAG_BYTES]), TokenError> {
    if token.len() != TOKEN_LEN {
        return Err(TokenError::Malformed);
    }
    let raw = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| TokenError::Malformed)?;
    if raw.len() != NONCE_BYTES + TAG_BYTES {
        return Err(TokenError::Malformed);
    }
    let (nonce, tag) = raw.split_at(NONCE_BYTES);
    let mut fixed = [0u8; TAG_BYTES];
    fixed.copy_from_slice(tag);
    Ok((URL_SAFE_NO_PAD.encode(nonce), fixed))
}

/// The token's record, if the token is well formed, known and its MAC matches the record.
async fn authenticate(
    store: &dyn Store,
    key: &AckKey,
    token: &str,
) -> Result<(Item, TokenRecord), TokenError> {
    let (nonce, tag) = decode(token)?;
    let Some(item) = store.get(&keys::ack_token(&nonce)).await? else {
        return Err(TokenError::Unknown);
    };
    let record: TokenRecord = item.decode()?;
    let expected = key.tag(
        &nonce,
        &record.incident,
        &record.person,
        record.valid_until.timestamp(),
    );
    constant_time::verify_slices_are_equal(&expected, &tag).map_err(|_| TokenError::Forged)?;
    Ok((item, record))
}

/// What an authenticated record allows at `now`, for the URL's `incident` if given. A used
/// link says so even after it expired: "someone used it" is the more useful answer.
fn judge(
    record: &TokenRecord,
    incident: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Grant, TokenError> {
    if incident.is_some_and(|incident| incident != record.incident) {
        return Err(TokenError::OtherIncident);
    }
    // A redemption repeated soon after the first (its answer was lost, the page asked to try
    // again) gets the same grant: acknowledging is idempotent, so this gives nobody more
    // than the first redemption did.
    let repeated = record
        .used_at
        .is_some_and(|used_at| now >= used_at && now - used_at <= REPEAT_GRACE);
    if record.used && !repeated {
        return Err(TokenError::Used);
    }
    if now >= record.valid_until && !repeated {
        return Err(TokenError::Expired {
            at: record.valid_until,
        });
    }
    Ok(Grant {
        incident: record.incident.clone(),
        person: record.person.clone(),
        expires_at: record.valid_until,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AckKey {
        AckKey::new(&[7u8; 32]).unwrap()
    }

    fn alice() -> PersonId {
        PersonId::parse("alice").unwrap()
    }

    #[test]
    fn the_tag_is_hmac_sha256_of_the_binding_truncated_to_12_bytes() {
        // Computed independently: Python's hmac.new(bytes([7] * 32), b"sitrep-ack-v1\n...",
        // hashlib.sha256). It pins the wire format: changing it breaks every link in flight.
        let tag = key().tag(
            "AAECAwQFBgc",
            "20261123-100300-api",
            &alice(),
            1_795_430_400,
        );
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "fa0e8bb43d33a51797b8fb31");
    }

    #[test]
    fn the_tag_covers_every_part_of_the_binding() {
        let k = key();
        let bob = PersonId::parse("bob").unwrap();
        let base = k.tag("AAECAwQFBgc", "inc-1", &alice(), 100);
        assert_ne!(base, k.tag("AAECAwQFBgg", "inc-1", &alice(), 100));
        assert_ne!(base, k.tag("AAECAwQFBgc", "inc-2", &alice(), 100));
        assert_ne!(base, k.tag("AAECAwQFBgc", "inc-1", &bob, 100));
        assert_ne!(base, k.tag("AAECAwQFBgc", "inc-1", &alice(), 101));
        let other = AckKey::new(&[8u8; 32]).unwrap();
        assert_ne!(base, other.tag("AAECAwQFBgc", "inc-1", &alice(), 100));
    }

    #[test]
    fn a_token_is_27_url_safe_characters_that_decode_to_nonce_and_tag() {
        let raw: Vec<u8> = (0u8..20).collect();
        let token = URL_SAFE_NO_PAD.encode(&raw);
        assert_eq!(token.len(), TOKEN_LEN);
        assert!(
            token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        let (nonce, tag) = decode(&token).unwrap();
        assert_eq!(nonce, URL_SAFE_NO_PAD.encode(&raw[..8]));
        assert_eq!(nonce.len(), 11);
        assert_eq!(tag.as_slice(), &raw[8..]);
    }

    #[test]
    fn malformed_tokens_are_refused_before_any_lookup() {
        let good = URL_SAFE_NO_PAD.encode([1u8; 20]);
        for bad in [
            String::new(),
            good[..26].to_owned(),
            format!("{good}A"),
            format!("{}+", &good[..26]),
            format!("{}/", &good[..26]),
            format!("{}=", &good[..26]),
            format!("{}é", &good[..25]),
            STANDARD.encode([1u8; 20]),
        ] {
            assert!(
                matches!(decode(&bad), Err(TokenError::Malformed)),
                "{bad:?} is malformed"
            );
        }
    }

    #[test]
    fn keys_must_be_32_bytes_and_never_show_in_debug() {
        assert!(matches!(
            AckKey::new(&[1u8; 31]),
            Err(TokenError::WeakKey { len: 31 })
        ));
        let secret = "a-very-secret-key-of-at-least-32-bytes!!";
        let key = AckKey::from_secret_text(secret).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert_eq!(shown, "AckKey(<redacted>)");
    }

    #[test]
    fn secret_text_may_be_base64_raw_text_or_a_json_key_field() {
        let bytes = [0x5au8; 32];
        let by_bytes = AckKey::new(&bytes).unwrap();
        let expected = by_bytes.tag("n", "i", &alice(), 1);
        for text in [
            STANDARD.encode(bytes),
            format!("  {}\n", STANDARD.encode(bytes)),
            STANDARD_NO_PAD.encode(bytes),
            URL_SAFE_NO_PAD.encode(bytes),
            format!(r#"{{"key": "{}"}}"#, STANDARD.encode(bytes)),
        ] {
            let key = AckKey::from_secret_text(&text).unwrap();
            assert_eq!(key.tag("n", "i", &alice(), 1), expected, "{text}");
        }
        let raw = "correct horse battery staple, and then some";
        let as_text = AckKey::from_secret_text(raw).unwrap();
        let direct = AckKey::new(raw.as_bytes()).unwrap();
        assert_eq!(
            as_text.tag("n", "i", &alice(), 1),
            direct.tag("n", "i", &alice(), 1)
        );
        // Base64 of too few bytes is not a key, and neither is its short text.
        assert!(matches!(
            AckKey::from_secret_text(&STANDARD.encode([1u8; 16])),
            Err(TokenError::WeakKey { len: 24 })
        ));
        assert!(matches!(
            AckKey::from_secret_text(r#"{"secret": "x"}"#),
            Err(TokenError::KeyText(_))
        ));
    }

    #[test]
    fn judging_refuses_other_incidents_then_used_then_expired() {
        let at = DateTime::from_timestamp(1_000, 0).unwrap();
        let mut record = TokenRecord {
            incident: "inc-1".into(),
            person: alice(),
            valid_until: at,
            used: false,
            used_at: None,
        };
        let before = at - Duration::seconds(1);
        assert_eq!(
            judge(&record, Some("inc-1"), before).unwrap().incident,
            "inc-1"
        );
        assert!(matches!(
            judge(&record, Some("inc-2"), before),
            Err(TokenError::OtherIncident)
        ));
        assert!(matches!(
            judge(&record, None, at),
            Err(TokenError::Expired { at: when }) if when == at
        ));
        record.used = true;
        assert!(matches!(judge(&record, None, at), Err(TokenError::Used)));
    }
}

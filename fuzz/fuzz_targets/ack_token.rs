//! Acknowledgement tokens and the key secret: any string is decoded or refused as malformed
//! (only 27 base64url characters decode), and any secret text is a key or refused, never a
//! panic.

#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use shared::oncall::token::{AckKey, TOKEN_LEN, record_key};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if record_key(text).is_ok() {
        assert_eq!(text.len(), TOKEN_LEN, "{text:?}");
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{text:?}"
        );
    }
    let _ = AckKey::from_secret_text(text);
});

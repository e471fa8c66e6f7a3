//! X Account Activity webhook deliveries, their signature header and CRC challenge tokens: any
//! bytes are read or refused, never a panic.

#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use shared::social::x::activity::parse_delivery;
use shared::social::x::webhook::{CrcToken, WebhookKey};

fuzz_target!(|data: &[u8]| {
    let _ = parse_delivery(data);
    let key = WebhookKey::new("fuzzing-consumer-secret");
    if let Ok(text) = std::str::from_utf8(data) {
        assert!(
            key.verify(b"{}", Some(text)).is_err() || text.trim() == key.signature(b"{}"),
            "only the genuine signature is accepted"
        );
        if let Ok(token) = CrcToken::parse(text) {
            let _ = key.crc_response(token);
        }
    }
});

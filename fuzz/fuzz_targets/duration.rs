//! Durations as the configuration writes them (`30s`, `5m`, `1h30m`): any text is read or refused, never a panic.

#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = shared::config::parse_duration(text);
    }
});

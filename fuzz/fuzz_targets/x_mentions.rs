//! X API v2's answer to a mentions call, under the statuses X sends: read or refused, never a panic.

#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use shared::social::x::wire::parse_mentions;

fuzz_target!(|data: &[u8]| {
    for status in [200, 429, 503] {
        let _ = parse_mentions(status, data, None);
    }
});

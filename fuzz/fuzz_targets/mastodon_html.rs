//! Mastodon's HTML post content to plain text: any text gives text, never a panic.

#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use shared::social::mastodon::html_to_text;

fuzz_target!(|data: &[u8]| {
    if let Ok(html) = std::str::from_utf8(data) {
        let _ = html_to_text(html);
    }
});

//! Bluesky's `listNotifications` answer and `getPosts` answer: read or refused, never a panic.

#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use shared::social::bluesky::{parse_notifications, parse_reply_ref};

fuzz_target!(|data: &[u8]| {
    let _ = parse_notifications(data);
    let _ = parse_reply_ref(data, "at://did:plc:a/app.bsky.feed.post/3k");
});

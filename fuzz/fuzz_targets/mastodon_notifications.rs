//! Mastodon's notifications page, as a response body under the statuses Mastodon sends: read or
//! refused, never a panic.

#![no_main]
#![forbid(unsafe_code)]

use bytes::Bytes;
use http::HeaderMap;
use libfuzzer_sys::fuzz_target;
use shared::social::mastodon::parse_page;
use shared::social::transport::Response;

fuzz_target!(|data: &[u8]| {
    for status in [200, 429] {
        let response = Response {
            status,
            headers: HeaderMap::new(),
            body: Bytes::copy_from_slice(data),
        };
        let _ = parse_page(&response, None);
        let _ = parse_page(&response, Some("109000000000000000"));
    }
});

//! Reply length rules of X, Mastodon and Bluesky: any text is measured without a panic, what
//! fits measures within the limit, and link spans lie on character boundaries of the text.

#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use shared::reply::length::{LengthRules, link_spans};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for rules in [
        LengthRules::x(),
        LengthRules::mastodon(500),
        LengthRules::bluesky(),
    ] {
        let length = rules.measure(text);
        if rules.fits(text) {
            assert!(length <= rules.limit(), "{length} over {}", rules.limit());
        }
    }
    for span in link_spans(text) {
        assert!(text.get(span.clone()).is_some(), "{span:?} in {text:?}");
    }
});

//! The mention classifier: any text, with or without the platform's language tag, gets an
//! intent with a confidence between 0 and 1, never a panic.

#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

use shared::mentions::classify::Classifier;

static CLASSIFIER: LazyLock<Classifier> = LazyLock::new(|| Classifier::new(&[]));

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (lang, text) = match text.split_once('\n') {
        Some((lang, rest)) if lang.len() <= 12 => (Some(lang), rest),
        _ => (None, text),
    };
    let result = CLASSIFIER.classify(text, lang);
    assert!(
        (0.0..=1.0).contains(&result.confidence),
        "confidence {} for {text:?}",
        result.confidence
    );
});

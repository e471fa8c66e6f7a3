//! Property tests of the reply length rules: any text is measured by every platform's rules
//! without a panic, what "fits" really is within the platform's limits, a URL counts the same
//! however long it is where the platform says so, and link spans are slices of the text.

use proptest::prelude::*;
use unicode_segmentation::UnicodeSegmentation;

use super::length::{BLUESKY_BYTES, LengthRules, URL_LENGTH, link_spans};

/// Enough cases to find a panic, few enough to run in a few seconds.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

/// Text with the things the rules treat specially: URLs, mentions, CJK, emoji, punctuation.
fn post_text() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        "[a-z ]{0,10}",
        "https?://[a-z]{1,8}\\.example/[a-z0-9/_().,-]{0,12}",
        "@[a-z]{1,6}(@[a-z]{1,6}\\.social)?",
        prop::sample::select(
            &[
                " ",
                "\n",
                ".",
                ",",
                ")",
                "(",
                "@",
                "#",
                "障害",
                "👩\u{200D}👩\u{200D}👧",
                "🔥",
                "e\u{301}",
                "http://",
                "https://",
                "www.example.com",
            ][..]
        )
        .prop_map(str::to_owned),
        "\\PC{0,6}",
    ];
    prop::collection::vec(part, 0..16).prop_map(|parts| parts.concat())
}

fn all_rules() -> [LengthRules; 4] {
    [
        LengthRules::x(),
        LengthRules::mastodon(500),
        LengthRules::mastodon(11),
        LengthRules::bluesky(),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn what_fits_is_within_every_limit(text in prop_oneof![post_text(), "\\PC{0,300}"]) {
        for rules in all_rules() {
            let length = rules.measure(&text);
            if rules.fits(&text) {
                prop_assert!(length <= rules.limit(), "{:?}: {} > {}", rules, length, rules.limit());
                prop_assert!(!text.trim().is_empty());
                if rules == LengthRules::bluesky() {
                    prop_assert!(text.len() <= BLUESKY_BYTES);
                }
            }
        }
    }

    #[test]
    fn bluesky_counts_graphemes(text in post_text()) {
        prop_assert_eq!(LengthRules::bluesky().measure(&text), text.graphemes(true).count());
    }

    #[test]
    fn plain_text_counts_its_graphemes_on_mastodon_and_its_characters_on_x(
        text in "[a-zA-Z ,!?]{0,300}"
    ) {
        prop_assert_eq!(LengthRules::mastodon(500).measure(&text), text.chars().count());
        prop_assert_eq!(LengthRules::x().measure(&text), text.chars().count());
    }

    #[test]
    fn a_url_counts_23_on_mastodon_however_long(
        before in "[a-z ]{0,20}",
        host in "[a-z]{1,10}",
        path in "[a-z0-9/_-]{0,80}",
        after in "[a-z ]{0,20}",
    ) {
        let text = format!("{before} https://{host}.example/{path} {after}");
        let expected = before.chars().count() + 2 + after.chars().count() + URL_LENGTH;
        prop_assert_eq!(LengthRules::mastodon(500).measure(&text), expected);
    }

    #[test]
    fn link_spans_are_ordered_slices_of_the_text_that_start_with_a_scheme(text in post_text()) {
        let mut end = 0;
        for span in link_spans(&text) {
            prop_assert!(span.start >= end, "{:?} overlaps", span);
            let Some(link) = text.get(span.clone()) else {
                return Err(TestCaseError::fail(format!("{span:?} is not a slice of {text:?}")));
            };
            prop_assert!(link.starts_with("http://") || link.starts_with("https://"), "{:?}", link);
            prop_assert!(!link.ends_with(['.', ',', ')']), "{:?}", link);
            end = span.end;
        }
    }
}

//! Property tests of the GSM-7 conversion and fitting of pages: whatever the text (emoji,
//! combining marks, other scripts, extension characters), the SMS is valid GSM-7, never
//! longer than its limit, keeps the acknowledgement instructions whole when they fit, and
//! nothing panics.

use proptest::prelude::*;

use super::gsm7::{SEGMENT_SEPTETS, fit, gsm7_len, is_gsm7, to_gsm7};

/// Enough cases to find an overrun, few enough to run in a few seconds.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        ..ProptestConfig::default()
    }
}

/// Text mixing the alphabet, its extension table, characters it transliterates and ones it
/// cannot carry at all.
fn page_text() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        "[a-zA-Z0-9 .,:]{0,12}",
        prop::sample::select(
            &[
                "{",
                "}",
                "[",
                "]",
                "~",
                "|",
                "€",
                "^",
                "\\",
                "\u{0C}",
                "é",
                "e\u{301}",
                "n\u{303}",
                "a\u{301}\u{302}",
                "“",
                "”",
                "—",
                "…",
                "\t",
                "\u{A0}",
                "\r\n",
                "\r",
                "\n",
                "🔥",
                "👩\u{200D}🚒",
                "🇫🇷",
                "日本",
                "ç",
                "`",
                "\u{1B}",
                "  ",
            ][..]
        )
        .prop_map(str::to_owned),
        "\\PC{0,4}",
    ];
    prop::collection::vec(part, 0..16).prop_map(|parts| parts.concat())
}

fn septets(text: &str) -> Result<usize, TestCaseError> {
    gsm7_len(text).ok_or_else(|| TestCaseError::fail(format!("{text:?} is not GSM-7")))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn conversion_always_gives_gsm7(text in page_text()) {
        let converted = to_gsm7(&text);
        septets(&converted)?;
    }

    #[test]
    fn any_unicode_converts_to_gsm7(text in "\\PC{0,40}") {
        septets(&to_gsm7(&text))?;
    }

    #[test]
    fn gsm7_text_converts_to_itself(text in "[a-zA-Z0-9 @£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,./:;<=>?¡ÄÖÑÜ§¿äöñüà{}\\[\\]~|€^\\\\\n-]{0,60}") {
        prop_assert!(text.chars().all(is_gsm7));
        prop_assert_eq!(to_gsm7(&text), text);
    }

    #[test]
    fn a_length_exists_exactly_when_every_character_is_gsm7(text in "\\PC{0,30}") {
        prop_assert_eq!(gsm7_len(&text).is_some(), text.chars().all(is_gsm7));
    }

    #[test]
    fn a_fitted_sms_is_gsm7_and_within_its_limit(
        head in page_text(),
        tail in page_text(),
        limit in prop_oneof![0usize..8, 0usize..=SEGMENT_SEPTETS, Just(SEGMENT_SEPTETS)],
    ) {
        let sms = fit(&head, &tail, limit);
        let length = septets(&sms)?;
        prop_assert!(length <= limit, "{} septets over {}: {:?}", length, limit, sms);
    }

    #[test]
    fn the_tail_is_kept_whole_when_it_fits(
        head in page_text(),
        tail in page_text(),
        limit in 0usize..=SEGMENT_SEPTETS,
    ) {
        let converted_tail = to_gsm7(tail.trim());
        let sms = fit(&head, &tail, limit);
        if septets(&converted_tail)? <= limit {
            prop_assert!(
                sms.ends_with(&converted_tail),
                "{:?} lost its tail {:?}", sms, converted_tail
            );
        }
        let whole = format!("{} {}", to_gsm7(head.trim()), converted_tail);
        if !head.trim().is_empty() && !tail.trim().is_empty() && septets(&whole)? <= limit {
            prop_assert_eq!(&sms, &whole, "what fits is not shortened");
        }
    }
}

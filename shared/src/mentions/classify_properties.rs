//! Property tests of the mention classifier: any text, with any language tag, gets an
//! intent, a confidence between 0 and 1 and at most a component the configuration has,
//! without a panic; and any lexicon text is read or refused without one.

use std::sync::LazyLock;

use proptest::prelude::*;

use super::classify::{Classifier, Intent, Lexicon};
use crate::config::{Component, Config};

/// Enough cases to find a panic, few enough to run in a few seconds.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

/// The example configuration's components, so that keywords take part.
static COMPONENTS: LazyLock<Vec<Component>> = LazyLock::new(|| {
    Config::parse(include_str!("../../../examples/sitrep.toml"))
        .expect("the example configuration is valid")
        .components
});

static CLASSIFIER: LazyLock<Classifier> = LazyLock::new(|| Classifier::new(&COMPONENTS));

/// Words of the built-in lexicon and of the example's components, in several languages,
/// mixed with negations, emoji, mentions and noise.
fn mention_text() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        prop::sample::select(
            &[
                "down",
                "is",
                "the",
                "api",
                "not",
                "no",
                "working",
                "again",
                "thanks",
                "fixed",
                "login",
                "invoices",
                "caído",
                "está",
                "panne",
                "kaputt",
                "läuft",
                "wieder",
                "?",
                "!",
                "!!!",
                "@acme",
                "😡",
                "🎉",
                "❤️",
                "#outage",
                "503",
                "500",
                "http://x.example/down",
                "can't",
                "cannot",
                "n't",
                "ÇA",
                "İ",
                "",
                " ",
            ][..]
        )
        .prop_map(str::to_owned),
        "\\PC{0,8}",
    ];
    prop::collection::vec(word, 0..20).prop_map(|words| words.join(" "))
}

fn language() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        prop::sample::select(&["en", "es", "pt-BR", "fr", "de", "ja", "und", "", "EN"][..])
            .prop_map(str::to_owned),
        "\\PC{0,8}",
    ])
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_gets_a_confidence_between_zero_and_one(
        text in prop_oneof![mention_text(), "\\PC{0,200}"],
        lang in language(),
    ) {
        let result = CLASSIFIER.classify(&text, lang.as_deref());
        prop_assert!(
            (0.0..=1.0).contains(&result.confidence),
            "confidence {} for {:?}", result.confidence, text
        );
        prop_assert!(Intent::ALL.contains(&result.intent));
        prop_assert_eq!(Intent::parse(result.intent.as_str()), Some(result.intent));
        prop_assert!(!result.lang.is_empty(), "no language for {:?}", text);
        if let Some(component) = &result.component {
            prop_assert!(COMPONENTS.iter().any(|c| &c.id == component), "{:?}", component);
        }
    }

    #[test]
    fn the_same_text_gets_the_same_answer(text in mention_text(), lang in language()) {
        let first = CLASSIFIER.classify(&text, lang.as_deref());
        let again = CLASSIFIER.classify(&text, lang.as_deref());
        prop_assert_eq!(first.intent, again.intent);
        prop_assert_eq!(first.confidence.to_bits(), again.confidence.to_bits());
        prop_assert_eq!(first.component, again.component);
    }

    #[test]
    fn any_lexicon_text_is_read_or_refused(
        text in prop_oneof![
            "\\PC{0,80}",
            "(\\[?[a-z_]{1,10}\\]? ?= ?\\[(\"\\PC{0,6}\", ?){0,3}\\]\n){0,4}",
        ]
    ) {
        if let Ok(lexicon) = Lexicon::parse(&text) {
            let classifier = Classifier::with_lexicon(&[], &lexicon);
            let result = classifier.classify(&text, None);
            prop_assert!((0.0..=1.0).contains(&result.confidence));
        }
    }
}

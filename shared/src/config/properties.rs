//! Property tests of the configuration parser: whatever the text (random, or the example
//! configuration with lines dropped, repeated, cut or garbled), parsing gives a configuration
//! or errors that each name a line and column inside the text, and never panics.

use proptest::prelude::*;

use super::Config;

/// The example configuration the README documents: the valid text the mutations start from.
const EXAMPLE: &str = include_str!("../../../examples/sitrep.toml");

/// Pieces of TOML, right and wrong, that mutations splice into the example.
const FRAGMENTS: &[&str] = &[
    "[",
    "]",
    "[[checks]]",
    "[service]",
    "[[components]]",
    "=",
    "\"",
    "'''",
    "\"\"\"",
    "\\",
    "#",
    "\n",
    "\r\n",
    "{",
    "}",
    "id = \"api\"",
    "interval = \"0s\"",
    "interval = \"99999999999999999h\"",
    "failure_threshold = -1",
    "failure_threshold = 18446744073709551616",
    "conditions = [\"[STATUS] == \"]",
    "url = \"http://[::1\"",
    "é",
    "🔥",
    "\u{0}",
    "1979-05-27T07:32:00Z",
    "inf",
    "nan",
];

/// Enough cases to find a panic, few enough that the module runs in a few seconds (every
/// case validates a whole configuration).
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 96,
        ..ProptestConfig::default()
    }
}

/// One change to a text: drop, repeat, cut or splice at a position given as a fraction.
#[derive(Debug, Clone)]
enum Mutation {
    DropLine(f64),
    RepeatLine(f64),
    TruncateAt(f64),
    Insert(f64, String),
    ReplaceChar(f64, char),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let fraction = 0.0..1.0f64;
    let fragment = prop_oneof![
        prop::sample::select(FRAGMENTS).prop_map(str::to_owned),
        "\\PC{0,8}",
    ];
    prop_oneof![
        fraction.clone().prop_map(Mutation::DropLine),
        fraction.clone().prop_map(Mutation::RepeatLine),
        fraction.clone().prop_map(Mutation::TruncateAt),
        (fraction.clone(), fragment).prop_map(|(at, text)| Mutation::Insert(at, text)),
        (fraction, any::<char>()).prop_map(|(at, c)| Mutation::ReplaceChar(at, c)),
    ]
}

/// The char boundary at `fraction` of `text`.
fn boundary(text: &str, fraction: f64) -> usize {
    let chars = text.chars().count();
    let index = ((chars as f64) * fraction) as usize;
    text.char_indices()
        .nth(index)
        .map_or(text.len(), |(i, _)| i)
}

fn apply(text: &str, mutation: &Mutation) -> String {
    let mut lines: Vec<&str> = text.split('\n').collect();
    let line_at = |fraction: f64, count: usize| ((count as f64) * fraction) as usize;
    match mutation {
        Mutation::DropLine(at) => {
            let index = line_at(*at, lines.len());
            lines.remove(index.min(lines.len() - 1));
            lines.join("\n")
        }
        Mutation::RepeatLine(at) => {
            let index = line_at(*at, lines.len()).min(lines.len() - 1);
            lines.insert(index, lines[index]);
            lines.join("\n")
        }
        Mutation::TruncateAt(at) => text[..boundary(text, *at)].to_owned(),
        Mutation::Insert(at, fragment) => {
            let at = boundary(text, *at);
            format!("{}{fragment}{}", &text[..at], &text[at..])
        }
        Mutation::ReplaceChar(at, c) => {
            let at = boundary(text, *at);
            let rest = &text[at..];
            let next = rest.chars().next().map_or(0, char::len_utf8);
            format!("{}{c}{}", &text[..at], &rest[next..])
        }
    }
}

/// Parses `text`; every error must point at a line of it and a column of that line.
fn check(text: &str) -> Result<(), TestCaseError> {
    let Err(errors) = Config::parse(text) else {
        return Ok(());
    };
    prop_assert!(
        !errors.0.is_empty(),
        "a refused configuration names an error"
    );
    let lines: Vec<&str> = text.split('\n').collect();
    for error in &errors.0 {
        prop_assert!(
            (1..=lines.len()).contains(&error.line),
            "line {} outside 1..={}: {error}",
            error.line,
            lines.len()
        );
        let width = lines[error.line - 1].chars().count();
        prop_assert!(
            (1..=width + 1).contains(&error.column),
            "column {} outside 1..={}: {error}",
            error.column,
            width + 1
        );
        prop_assert!(!error.message.is_empty(), "{error}");
    }
    Ok(())
}

#[test]
fn the_example_the_mutations_start_from_is_valid() {
    if let Err(errors) = Config::parse(EXAMPLE) {
        panic!("examples/sitrep.toml is refused:\n{errors}");
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_is_a_config_or_located_errors(text in "\\PC{0,200}") {
        check(&text)?;
    }

    #[test]
    fn toml_like_text_is_a_config_or_located_errors(
        parts in prop::collection::vec(
            prop_oneof![prop::sample::select(FRAGMENTS).prop_map(str::to_owned), "[a-z_]{1,10}"],
            0..24,
        )
    ) {
        check(&parts.concat())?;
    }

    #[test]
    fn a_mutated_example_is_a_config_or_located_errors(
        mutations in prop::collection::vec(mutation(), 1..4)
    ) {
        let mut text = EXAMPLE.to_owned();
        for mutation in &mutations {
            text = apply(&text, mutation);
        }
        check(&text)?;
    }
}

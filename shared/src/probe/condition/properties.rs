//! Property tests of the condition language: no text makes the parser panic, conditions
//! built from parts parse back into those parts, their text round-trips, and judging any
//! parsed condition against any observation gives a verdict rather than a panic.
//!
//! Case counts are kept low so the whole module runs in a few seconds.

use std::time::Duration;

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use regex::Regex;

use super::{
    CheckKind, Condition, Decimal, JsonPath, Literal, Operator, RCODES, Segment, Subject, quote,
};
use crate::probe::observation::Observation;

/// Pieces of condition text, right and wrong, that random joins turn into near-misses.
const FRAGMENTS: &[&str] = &[
    "[STATUS]",
    "[BODY]",
    "[HEADER]",
    "[RESPONSE_TIME]",
    "[CONNECTED]",
    "[CERT_DAYS_LEFT]",
    "[CERTIFICATE_EXPIRATION]",
    "[DNS_RCODE]",
    "[IP]",
    "[CONTEXT]",
    "[0]",
    "[",
    "]",
    ".",
    ".a",
    ".\"",
    "\"",
    "\\",
    "(",
    ")",
    "len(",
    "has(",
    "pat(",
    "any(",
    "*",
    ",",
    "==",
    "!=",
    "=",
    "!",
    "<",
    "<=",
    ">",
    ">=",
    "contains",
    "not",
    "matches",
    " ",
    "\t",
    "0",
    "-1",
    "2.5",
    "1e3",
    "1e",
    "0x1F",
    ".5",
    "10s",
    "14d",
    "true",
    "null",
    "NOERROR",
    "é",
    "🦀",
    "\u{0}",
    "\u{85}",
];

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000, 0).expect("a valid timestamp")
}

/// Any text: arbitrary Unicode, or fragments of conditions run together.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..10)
            .prop_map(|parts| parts.concat()),
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..8)
            .prop_map(|parts| parts.join(" ")),
    ]
}

/// A key of a JSON path: usually one that reads bare, sometimes anything at all.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[A-Za-z0-9_é,'*-]{1,8}",
        1 => prop::sample::select(vec!["a", "b", "items", "odd key", ""]).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

fn path() -> impl Strategy<Value = Option<JsonPath>> {
    let segment = prop_oneof![
        3 => key().prop_map(Segment::Key),
        1 => prop_oneof![0usize..4, any::<usize>()].prop_map(Segment::Index),
    ];
    prop::collection::vec(segment, 0..4)
        .prop_map(|segments| (!segments.is_empty()).then_some(JsonPath { segments }))
}

fn subject() -> impl Strategy<Value = Subject> {
    prop_oneof![
        Just(Subject::Status),
        Just(Subject::ResponseTime),
        Just(Subject::Connected),
        Just(Subject::CertDaysLeft),
        Just(Subject::CertExpiration),
        Just(Subject::DnsRcode),
        path().prop_map(|path| path.map_or(Subject::Body, Subject::BodyPath)),
        "[A-Za-z0-9#$%&'*+^_`|~-]{1,12}".prop_map(Subject::Header),
        path().prop_map(Subject::Len),
    ]
}

/// The operators `check_operator` lets through for this subject.
fn operators(subject: &Subject) -> Vec<Operator> {
    use Operator::{Contains, Eq, Ge, Gt, Le, Lt, Matches, Ne, NotContains};
    match subject {
        Subject::Connected => vec![Eq, Ne],
        Subject::DnsRcode => vec![Eq, Ne, Contains, NotContains, Matches],
        Subject::Status => vec![Eq, Ne, Lt, Le, Gt, Ge, Matches],
        Subject::ResponseTime
        | Subject::CertDaysLeft
        | Subject::CertExpiration
        | Subject::Len(_) => {
            vec![Eq, Ne, Lt, Le, Gt, Ge]
        }
        Subject::Body | Subject::BodyPath(_) | Subject::Header(_) => {
            vec![Eq, Ne, Lt, Le, Gt, Ge, Contains, NotContains, Matches]
        }
    }
}

/// A value as written, with the literal it must parse into.
type Value = (String, Literal);

fn number() -> impl Strategy<Value = Value> {
    "[+-]?(0|[1-9][0-9]{0,24})(\\.[0-9]{1,25})?([eE][+-]?[0-9]{1,4})?".prop_map(|text| {
        let value = Decimal::parse(&text).expect("the pattern only makes numbers");
        (text.clone(), Literal::Number { value, text })
    })
}

fn duration() -> impl Strategy<Value = Value> {
    let units = prop::sample::select(vec![
        ("ms", 1),
        ("s", 1_000),
        ("m", 60_000),
        ("h", 3_600_000),
        ("d", 86_400_000),
    ]);
    (0i64..1_000_000_000, units).prop_map(|(amount, (unit, scale))| {
        let text = format!("{amount}{unit}");
        let millis = amount * scale;
        (text.clone(), Literal::Duration { millis, text })
    })
}

fn boolean() -> impl Strategy<Value = Value> {
    any::<bool>().prop_map(|b| (b.to_string(), Literal::Bool(b)))
}

/// Text, bare (a word that is no number, boolean, call or placeholder) or quoted (anything).
fn text() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[A-Za-z][A-Za-z0-9.:/_-]{0,10}"
            .prop_filter("true and false are booleans", |word| {
                word != "true" && word != "false"
            })
            .prop_map(|word| {
                let literal = Literal::Text {
                    value: word.clone(),
                    bare: true,
                };
                (word, literal)
            }),
        any::<String>().prop_map(|value| {
            let literal = Literal::Text {
                value: value.clone(),
                bare: false,
            };
            (quote(&value), literal)
        }),
    ]
}

fn pattern() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![
            "^2", "^ok$", "\\d+", "a|b", "(?i)up", "^$", ".*", "é+"
        ])
        .prop_map(str::to_owned),
        "[a-z^$.*+?|()\\\\d]{0,8}",
    ]
    .prop_filter_map("a valid regular expression", |source| {
        let regex = Regex::new(&source).ok()?;
        Some((quote(&source), Literal::Pattern(regex)))
    })
}

fn rcode() -> impl Strategy<Value = Value> {
    (prop::sample::select(RCODES.to_vec()), any::<bool>()).prop_map(|(code, lower)| {
        let text = if lower {
            code.to_ascii_lowercase()
        } else {
            code.to_owned()
        };
        let literal = Literal::Text {
            value: text.clone(),
            bare: true,
        };
        (text, literal)
    })
}

/// A value that fits the subject and operator.
fn value(subject: &Subject, operator: Operator) -> BoxedStrategy<Value> {
    if operator == Operator::Matches {
        return pattern().boxed();
    }
    match subject {
        Subject::Status | Subject::CertDaysLeft | Subject::Len(_) => number().boxed(),
        Subject::ResponseTime => prop_oneof![number(), duration()].boxed(),
        Subject::CertExpiration => duration().boxed(),
        Subject::Connected => boolean().boxed(),
        Subject::DnsRcode if matches!(operator, Operator::Eq | Operator::Ne) => rcode().boxed(),
        Subject::DnsRcode => text().boxed(),
        Subject::Body | Subject::BodyPath(_) | Subject::Header(_) if operator.is_ordering() => {
            number().boxed()
        }
        Subject::Body | Subject::BodyPath(_) | Subject::Header(_) => {
            prop_oneof![number(), boolean(), text()].boxed()
        }
    }
}

/// A valid condition's text, with the parts it must parse into.
#[derive(Debug, Clone)]
struct Built {
    text: String,
    /// The value as written.
    value: String,
    subject: Subject,
    operator: Operator,
    literal: Literal,
}

fn built() -> impl Strategy<Value = Built> {
    let space = prop::sample::select(vec![" ", "  ", "\t", " \t "]);
    let edge = prop::sample::select(vec!["", " ", "\t"]);
    subject()
        .prop_flat_map(|subject| {
            let operator = prop::sample::select(operators(&subject));
            (Just(subject), operator)
        })
        .prop_flat_map(move |(subject, operator)| {
            let value = value(&subject, operator);
            (
                Just(subject),
                Just(operator),
                value,
                space.clone(),
                space.clone(),
                edge.clone(),
                edge.clone(),
            )
        })
        .prop_map(
            |(subject, operator, (value, literal), gap, gap2, before, after)| Built {
                text: format!("{before}{subject}{gap}{operator}{gap2}{value}{after}"),
                value,
                subject,
                operator,
                literal,
            },
        )
}

/// The parts of a condition, comparable (regular expressions have no equality).
fn parts(condition: &Condition) -> String {
    format!(
        "{:?} {:?} {:?}",
        condition.subject, condition.operator, condition.value
    )
}

fn json_number() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?(0|[1-9][0-9]{0,22})(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?",
        prop::sample::select(vec![
            "123.40000000000005",
            "9007199254740993",
            "18446744073709551617",
            "-0",
            "-0.0",
            "1e400",
            "1E-400",
        ])
        .prop_map(str::to_owned),
    ]
}

fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// JSON text, nested a few levels, with numbers written in every way JSON allows.
fn json() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        json_number(),
        any::<String>().prop_map(|text| json_string(&text)),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5)
                .prop_map(|items| format!("[{}]", items.join(", "))),
            prop::collection::vec((key(), inner), 0..5).prop_map(|fields| {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(key, value)| format!("{}:\n {value}", json_string(key)))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        Just(DateTime::<Utc>::MIN_UTC),
        Just(DateTime::<Utc>::MAX_UTC),
        (-100_000_000_000i64..100_000_000_000)
            .prop_map(|seconds| DateTime::from_timestamp(seconds, 0).unwrap_or_else(now)),
    ]
}

/// Anything a probe could have seen, including what no probe would.
fn observation() -> impl Strategy<Value = Observation> {
    let body = prop_oneof![any::<String>(), json()];
    let header = ("[a-z-]{1,12}", any::<String>());
    (
        any::<bool>(),
        prop::option::of(any::<String>()),
        any::<u64>(),
        prop::option::of(any::<u16>()),
        prop::collection::vec(header, 0..3),
        prop::option::of(body),
        prop::option::of(instant()),
        prop::option::of(prop_oneof![
            prop::sample::select(RCODES.to_vec()).prop_map(str::to_owned),
            Just("Non-Existent Domain".to_owned()),
            any::<String>(),
        ]),
        prop::collection::vec(any::<String>(), 0..4),
    )
        .prop_map(
            |(connected, error, millis, status, headers, body, not_after, rcode, answers)| {
                Observation {
                    target: "https://example.com/health".into(),
                    connected,
                    error,
                    elapsed: Duration::from_millis(millis),
                    status,
                    headers,
                    body,
                    certificate_not_after: not_after,
                    dns_rcode: rcode,
                    dns_answers: answers,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_text_parses_or_says_where_it_is_wrong(text in any_text()) {
        match Condition::parse(&text) {
            Ok(condition) => {
                prop_assert_eq!(condition.source(), text.as_str());
                let again = Condition::parse(&condition.to_string());
                prop_assert!(again.is_ok(), "its display does not parse: {:?}", again);
                prop_assert_eq!(parts(&again.expect("checked")), parts(&condition));
                for kind in [CheckKind::Http, CheckKind::Tcp, CheckKind::Dns, CheckKind::Tls] {
                    let _ = condition.check_applies_to(kind);
                }
            }
            Err(e) => {
                let length = text.chars().count();
                prop_assert!(
                    (1..=length + 1).contains(&e.column),
                    "column {} outside 1..={}", e.column, length + 1
                );
                prop_assert!(!e.message.is_empty());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn built_conditions_parse_into_their_parts(built in built()) {
        let condition = Condition::parse(&built.text);
        prop_assert!(condition.is_ok(), "`{}`: {:?}", built.text, condition);
        let condition = condition.expect("checked");
        let expected = format!("{:?} {:?} {:?}", built.subject, built.operator, built.literal);
        prop_assert_eq!(parts(&condition), expected);

        // Display is the text as written; reading it back gives the same condition.
        let shown = condition.to_string();
        prop_assert_eq!(&shown, &built.text);
        let again = Condition::parse(&shown).expect("the same text parses again");
        prop_assert_eq!(parts(&again), parts(&condition));

        // Written from its parts (the subject's display quotes odd keys), it reads back the same.
        let canonical = format!("{} {} {}", condition.subject, condition.operator, built.value);
        let canonical = Condition::parse(&canonical);
        prop_assert!(canonical.is_ok(), "{:?}", canonical);
        prop_assert_eq!(parts(&canonical.expect("checked")), parts(&condition));
    }

    #[test]
    fn judging_never_panics(
        text in prop_oneof![built().prop_map(|built| built.text), any_text()],
        observation in observation(),
    ) {
        if let Ok(condition) = Condition::parse(&text) {
            let verdict = condition.evaluate(&observation, now());
            prop_assert_eq!(verdict.passed, verdict.reason.is_none());
            prop_assert!(verdict.reason.is_none_or(|reason| !reason.is_empty()));
        }
    }

    #[test]
    fn json_numbers_compare_exactly_as_written(number in json_number(), key in key()) {
        let body = format!("{{{}: [{number}]}}", json_string(&key));
        let observation = Observation {
            status: Some(200),
            body: Some(body),
            ..Observation::default()
        };
        let path = JsonPath { segments: vec![Segment::Key(key), Segment::Index(0)] };
        let holds = |text: String| {
            Condition::parse(&text)
                .map(|condition| condition.evaluate(&observation, now()).passed)
                .map_err(|e| format!("`{text}`: {e}"))
        };
        for op in ["==", "<=", ">="] {
            prop_assert_eq!(holds(format!("{path} {op} {number}")), Ok(true), "{}", op);
        }
        for op in ["!=", "<", ">"] {
            prop_assert_eq!(holds(format!("{path} {op} {number}")), Ok(false), "{}", op);
        }
        // A neighbour far closer than a double can tell apart is still another number.
        if !number.contains(['e', 'E']) {
            let tiny = "0000000000000000000000001";
            let neighbour = if number.contains('.') {
                format!("{number}{tiny}")
            } else {
                format!("{number}.{tiny}")
            };
            let (closer, farther) = if number.starts_with('-') { (">", "<") } else { ("<", ">") };
            prop_assert_eq!(holds(format!("{path} == {neighbour}")), Ok(false));
            prop_assert_eq!(holds(format!("{path} {closer} {neighbour}")), Ok(true));
            prop_assert_eq!(holds(format!("{path} {farther} {neighbour}")), Ok(false));
        }
    }
}

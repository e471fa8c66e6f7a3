//! Every action a function's role allows in `infra/template.yaml` is made by one of its
//! handler tests, or is known not to be (listed below, and in the README's "Permissions").
//!
//! The other direction, that every call a handler makes is allowed, is checked by each
//! handler test itself when it ends ([`sitrep_tests::aws_calls`]). This check needs the
//! calls of all of them, so `scripts/test` runs it after the whole suite, with
//! `SITREP_AWS_CALLS` naming the directory the tests wrote their calls to (and skips it in
//! the suite's own run). Run on its own, or with a function's calls missing, it fails: it
//! cannot tell anything from calls nobody recorded.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sitrep_tests::aws_calls::CALLS_DIR;
use sitrep_tests::iam::{Template, glob};

const STREAM: &str = "the DynamoDB event source mapping reads the table's stream with the \
                      function's role; the handler is handed the records";
const ON_FAILURE: &str = "Lambda sends what failed every attempt to the on-failure queue with \
                          the function's role";

/// Allowed actions no handler test makes, by function, with why.
const KNOWN_UNMADE: &[(&str, &str, &str)] = &[
    ("AcknowledgeFunction", "dynamodb:DescribeStream", STREAM),
    ("AcknowledgeFunction", "dynamodb:GetRecords", STREAM),
    ("AcknowledgeFunction", "dynamodb:GetShardIterator", STREAM),
    ("AcknowledgeFunction", "dynamodb:ListStreams", STREAM),
    ("AcknowledgeFunction", "sqs:SendMessage", ON_FAILURE),
    (
        "AcknowledgeFunction",
        "sns:Publish",
        "handing a mention to a person (the support topic) is tested on moto's SNS in \
         support_topic.rs, not through the handler",
    ),
    ("PageFunction", "dynamodb:DescribeStream", STREAM),
    ("PageFunction", "dynamodb:GetRecords", STREAM),
    ("PageFunction", "dynamodb:GetShardIterator", STREAM),
    ("PageFunction", "dynamodb:ListStreams", STREAM),
    ("PageFunction", "sqs:SendMessage", ON_FAILURE),
];

/// The actions recorded for each function, from the files the handler tests wrote.
fn recorded(directory: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut made = BTreeMap::new();
    let Ok(functions) = std::fs::read_dir(directory) else {
        return made;
    };
    for function in functions.flatten() {
        let name = function.file_name().to_string_lossy().into_owned();
        let actions: &mut BTreeSet<String> = made.entry(name).or_default();
        for file in std::fs::read_dir(function.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let text = std::fs::read_to_string(file.path()).unwrap_or_default();
            actions.extend(
                text.lines()
                    .filter_map(|line| line.split_whitespace().next())
                    .map(str::to_owned),
            );
        }
    }
    made
}

#[test]
fn every_allowed_action_is_made_by_a_handler_test_or_known() {
    let directory = std::env::var_os(CALLS_DIR).unwrap_or_else(|| {
        panic!(
            "{CALLS_DIR} is not set: run scripts/test, which runs every handler test with it and then this check"
        )
    });
    let made = recorded(Path::new(&directory));
    let template = Template::load();
    let mut unmade = BTreeSet::new();
    let mut report = String::new();
    for (function, policy) in &template.functions {
        let actions = made
            .get(function)
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| {
                panic!(
                    "no handler test recorded calls of {function} in {}: were its tests run?",
                    Path::new(&directory).display()
                )
            });
        for allowed in policy.actions() {
            if !actions.iter().any(|action| glob(&allowed, action)) {
                report.push_str(&format!("{function}: {allowed}\n"));
                unmade.insert((function.clone(), allowed));
            }
        }
    }
    println!("Allowed actions no handler test makes:\n{report}");
    let known: BTreeSet<(String, String)> = KNOWN_UNMADE
        .iter()
        .map(|(f, a, _)| ((*f).to_owned(), (*a).to_owned()))
        .collect();
    assert_eq!(
        unmade, known,
        "the allowed actions no handler test makes changed: make them in a test, remove them \
         from the role, or list them in KNOWN_UNMADE and the README with why"
    );
}

#[test]
fn the_known_unmade_actions_are_allowed_and_in_the_readme() {
    let template = Template::load();
    // The README's list items and paragraphs, each as one piece of text.
    let readme = include_str!("../../README.md");
    let pieces: Vec<String> = readme
        .split("\n\n")
        .flat_map(|paragraph| paragraph.split("\n- "))
        .map(|piece| piece.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    for (function, action, why) in KNOWN_UNMADE {
        assert!(!why.is_empty());
        assert!(
            template.policy(function).actions().contains(*action),
            "{function} is not allowed {action}: remove it from KNOWN_UNMADE"
        );
        assert!(
            pieces
                .iter()
                .any(|piece| piece.contains(&format!("`{action}`")) && piece.contains(function)),
            "README.md does not list {action} of {function} among the known unmade actions"
        );
    }
}

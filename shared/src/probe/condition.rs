//! The health-check condition language: one line such as `[STATUS] == 200` that judges an
//! [`Observation`].
//!
//! Conditions are written by people in config files and their failures are read by people
//! on call, so this module cares about two things beyond correctness: syntax errors point at
//! the exact column with a message that says how to fix it, and failed conditions explain
//! themselves in plain words (`HTTP 503 from https://example.com`).
//!
//! # Grammar
//!
//! ```text
//! condition  := operand operator value
//! operand    := placeholder | "len" "(" body ")"
//! placeholder:= "[STATUS]" | "[RESPONSE_TIME]" | body | header | "[CONNECTED]"
//!             | "[CERT_DAYS_LEFT]" | "[CERTIFICATE_EXPIRATION]" | "[DNS_RCODE]"
//! body       := "[BODY]" ( "." key | "[" digits "]" )*      -- no spaces inside a path
//! key        := word | string
//! header     := "[HEADER]" "." header-name
//! operator   := "==" | "!=" | "<" | "<=" | ">" | ">=" | "contains" | "not" "contains" | "matches"
//! value      := string | bare                                -- a bare value is any run of
//!                                                           -- non-space characters
//! string     := '"' ( '\"' | '\\' | any other character )* '"'
//! ```
//!
//! A bare value is read as a number (`200`, `-1`, `2.5`, `1e3`), a boolean (`true`, `false`), a
//! duration (`500ms`, `10s`, `5m`, `48h`, `14d`, only after `[RESPONSE_TIME]` and
//! `[CERTIFICATE_EXPIRATION]`) or otherwise as text (`NOERROR`, `127.0.0.1`). Inside a
//! quoted string a backslash not followed by `"` or `\` is kept as written, so regular
//! expressions such as `"^\d+$"` read naturally.
//!
//! Numbers compare exactly, as the decimals they are written as, never rounded through
//! `f64`: a JSON body is read one level at a time along the path, so the number found keeps
//! its text, and `[BODY].id == 9007199254740993` does not hold for `9007199254740992`.
//!
//! Conditions look like Gatus's, and Gatus reads more into a value than text. So a bare
//! value written like a function call (`pat(*john*)`, `any(200,429)`, any `name(`), like a
//! placeholder (`[BODY].id`, `[CONTEXT].x`) or like a number in another notation (`0x1F`,
//! `0755`, `1_000`, `.5`) is refused, naming it, rather than compared as its letters: read as
//! text, `!= pat(*error*)` would always hold. Quoted, such a value is plain text. Gatus's
//! placeholders `[IP]`, `[DOMAIN_EXPIRATION]` and `[CONTEXT]` and its `has(...)` are refused
//! by name too.
//!
//! Whatever the placeholder's type makes nonsensical (`[STATUS] contains x`,
//! `[STATUS] < "abc"`) is rejected when parsing; what depends on the response (a JSON field
//! that turns out to be text where a number was expected) fails the condition with a reason.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde_json::value::RawValue as RawJson;

use super::decimal::Decimal;
use super::observation::Observation;
use crate::config::CheckKind;

/// Every placeholder name, in the order error messages list them.
const PLACEHOLDERS: [&str; 8] = [
    "STATUS",
    "RESPONSE_TIME",
    "BODY",
    "HEADER",
    "CONNECTED",
    "CERT_DAYS_LEFT",
    "CERTIFICATE_EXPIRATION",
    "DNS_RCODE",
];

/// Gatus placeholders sitrep does not have, with why; they are refused by name so a
/// condition brought from Gatus says what is missing rather than "unknown placeholder".
const FOREIGN_PLACEHOLDERS: [(&str, &str); 3] = [
    (
        "IP",
        "sitrep does not report the address a check reached; for dns checks, [BODY] holds the answers",
    ),
    (
        "DOMAIN_EXPIRATION",
        "sitrep does not look up domain registrations",
    ),
    ("CONTEXT", "sitrep has no suites whose checks share values"),
];

/// The operators, as error messages list them.
const OPERATOR_LIST: &str = "==, !=, <, <=, >, >=, contains, not contains, matches";

/// DNS response code mnemonics (IANA), which `[DNS_RCODE] ==` accepts; typos are caught early.
const RCODES: [&str; 21] = [
    "NOERROR",
    "FORMERR",
    "SERVFAIL",
    "NXDOMAIN",
    "NOTIMP",
    "REFUSED",
    "YXDOMAIN",
    "YXRRSET",
    "NXRRSET",
    "NOTAUTH",
    "NOTZONE",
    "DSOTYPENI",
    "BADVERS",
    "BADSIG",
    "BADKEY",
    "BADTIME",
    "BADMODE",
    "BADNAME",
    "BADALG",
    "BADTRUNC",
    "BADCOOKIE",
];

/// Long response-code names (as the hickory resolver spells them) and their mnemonics, so a
/// probe that reports `Non-Existent Domain` is still judged as `NXDOMAIN`.
const RCODE_LONG_NAMES: [(&str, &str); 20] = [
    ("NO ERROR", "NOERROR"),
    ("FORM ERROR", "FORMERR"),
    ("SERVER FAILURE", "SERVFAIL"),
    ("NON-EXISTENT DOMAIN", "NXDOMAIN"),
    ("NOT IMPLEMENTED", "NOTIMP"),
    ("QUERY REFUSED", "REFUSED"),
    ("NAME SHOULD NOT EXIST", "YXDOMAIN"),
    ("RR SET SHOULD NOT EXIST", "YXRRSET"),
    ("RR SET DOES NOT EXIST", "NXRRSET"),
    ("NOT AUTHORIZED", "NOTAUTH"),
    ("NAME NOT IN ZONE", "NOTZONE"),
    ("BAD OPTION VERSIONS", "BADVERS"),
    ("TSIG FAILURE", "BADSIG"),
    ("KEY NOT RECOGNIZED", "BADKEY"),
    ("SIGNATURE OUT OF TIME WINDOW", "BADTIME"),
    ("BAD TKEY MODE", "BADMODE"),
    ("DUPLICATE KEY NAME", "BADNAME"),
    ("ALGORITHM NOT SUPPORTED", "BADALG"),
    ("BAD TRUNCATION", "BADTRUNC"),
    ("BAD SERVER COOKIE", "BADCOOKIE"),
];

/// Longest piece of response text quoted in a reason; bodies can be megabytes.
const SHOWN_CHARS: usize = 120;

/// Most DNS answers listed in a reason.
const SHOWN_ANSWERS: usize = 5;

const SECONDS_PER_DAY: i64 = 86_400;
const MILLIS_PER_SECOND: u64 = 1_000;
const MILLIS_PER_MINUTE: u64 = 60 * MILLIS_PER_SECOND;
const MILLIS_PER_HOUR: u64 = 60 * MILLIS_PER_MINUTE;
const MILLIS_PER_DAY: u64 = 24 * MILLIS_PER_HOUR;

/// A parsed condition, kept with its source text so reports can show what the user wrote.
#[derive(Debug, Clone)]
pub struct Condition {
    source: String,
    subject: Subject,
    operator: Operator,
    value: Literal,
}

/// Why a condition's text does not parse; the column lets editors and error output point
/// at the culprit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at column {column}: {message}")]
pub struct ConditionSyntaxError {
    /// 1-based position of the offending character, counted in characters (not bytes).
    pub column: usize,
    /// What is wrong and, where possible, how to fix it.
    pub message: String,
}

/// The judgement of one condition on one observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Whether the condition holds.
    pub passed: bool,
    /// Why it failed, in words a person understands; None when it passed.
    pub reason: Option<String>,
}

impl Verdict {
    fn pass() -> Self {
        Verdict {
            passed: true,
            reason: None,
        }
    }

    fn fail(reason: String) -> Self {
        Verdict {
            passed: false,
            reason: Some(reason),
        }
    }
}

impl Condition {
    /// Parses one condition; the error points at the first character that cannot be right.
    pub fn parse(text: &str) -> Result<Condition, ConditionSyntaxError> {
        let (subject, operator, value) = parse_condition(text)?;
        Ok(Condition {
            source: text.to_owned(),
            subject,
            operator,
            value,
        })
    }

    /// Err(message) if this condition's placeholder makes no sense for that kind of check,
    /// e.g. "[STATUS] is only available to http checks"; config loading rejects such checks
    /// rather than letting them fail forever at run time.
    pub fn check_applies_to(&self, kind: CheckKind) -> Result<(), String> {
        use CheckKind::{Dns, Http, Tls};
        let (kinds, names): (&[CheckKind], &str) = match &self.subject {
            Subject::ResponseTime | Subject::Connected => return Ok(()),
            Subject::Status | Subject::Header(_) | Subject::BodyPath(_) | Subject::Len(Some(_)) => {
                (&[Http], "http")
            }
            Subject::Body | Subject::Len(None) => (&[Http, Dns], "http and dns"),
            Subject::CertDaysLeft | Subject::CertExpiration => (&[Tls, Http], "tls and http"),
            Subject::DnsRcode => (&[Dns], "dns"),
        };
        if kinds.contains(&kind) {
            return Ok(());
        }
        Err(match &self.subject {
            Subject::BodyPath(path) => {
                format!("the JSON path {path} is only available to {names} checks")
            }
            subject => format!("{subject} is only available to {names} checks"),
        })
    }

    /// The conditions used when a check lists none: http `[STATUS] < 400`; tcp
    /// `[CONNECTED] == true`; dns `[DNS_RCODE] == NOERROR`; tls `[CERT_DAYS_LEFT] > 14`.
    pub fn defaults_for(kind: CheckKind) -> Vec<Condition> {
        // Built directly rather than parsed, so a default can never fail to exist.
        let number = |value: i128, text: &str| Literal::Number {
            value: Decimal::from_integer(value),
            text: text.to_owned(),
        };
        let condition = match kind {
            CheckKind::Http => Condition {
                source: "[STATUS] < 400".to_owned(),
                subject: Subject::Status,
                operator: Operator::Lt,
                value: number(400, "400"),
            },
            CheckKind::Tcp => Condition {
                source: "[CONNECTED] == true".to_owned(),
                subject: Subject::Connected,
                operator: Operator::Eq,
                value: Literal::Bool(true),
            },
            CheckKind::Dns => Condition {
                source: "[DNS_RCODE] == NOERROR".to_owned(),
                subject: Subject::DnsRcode,
                operator: Operator::Eq,
                value: Literal::Text {
                    value: "NOERROR".to_owned(),
                    bare: true,
                },
            },
            CheckKind::Tls => Condition {
                source: "[CERT_DAYS_LEFT] > 14".to_owned(),
                subject: Subject::CertDaysLeft,
                operator: Operator::Gt,
                value: number(14, "14"),
            },
        };
        vec![condition]
    }

    /// Judges `observation`; `now` is passed in so certificate arithmetic is testable and
    /// consistent across all conditions of one check.
    pub fn evaluate(&self, observation: &Observation, now: DateTime<Utc>) -> Verdict {
        match self.judge(observation, now) {
            Ok(()) => Verdict::pass(),
            Err(reason) => Verdict::fail(reason),
        }
    }

    /// The text as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Ok when the condition holds, otherwise the reason it does not.
    fn judge(&self, obs: &Observation, now: DateTime<Utc>) -> Result<(), String> {
        let op = self.operator;
        let value = &self.value;
        let target = &obs.target;
        match &self.subject {
            Subject::Status => {
                let Some(code) = obs.status else {
                    return Err(with_error(format!("no HTTP response from {target}"), obs));
                };
                let holds = match value {
                    Literal::Pattern(re) => re.is_match(&code.to_string()),
                    _ => compare_number(op, &integer(code), value),
                };
                check(holds, || format!("HTTP {code} from {target}"))
            }
            Subject::ResponseTime => {
                let millis = obs.elapsed.as_millis();
                let holds = compare_number(op, &integer(millis), value);
                let limit = match value {
                    Literal::Number { text, .. } => format!("{text} ms"),
                    other => other.to_string(),
                };
                check(holds, || {
                    format!("responded in {millis} ms (limit: {op} {limit})")
                })
            }
            Subject::Connected => {
                let holds = match (op, value) {
                    (Operator::Eq, Literal::Bool(expected)) => obs.connected == *expected,
                    (Operator::Ne, Literal::Bool(expected)) => obs.connected != *expected,
                    _ => false,
                };
                check(holds, || {
                    if obs.connected {
                        format!("connected to {target} (expected no connection)")
                    } else {
                        with_error(format!("could not connect to {target}"), obs)
                    }
                })
            }
            Subject::CertDaysLeft => {
                let not_after = certificate(obs)?;
                let seconds = not_after.signed_duration_since(now).num_seconds();
                let days = seconds.div_euclid(SECONDS_PER_DAY);
                check(compare_number(op, &integer(days), value), || {
                    format!("TLS certificate for {target} {}", expiry_in_days(seconds))
                })
            }
            Subject::CertExpiration => {
                let not_after = certificate(obs)?;
                let millis = not_after.signed_duration_since(now).num_milliseconds();
                check(compare_number(op, &integer(millis), value), || {
                    let span = human_span(millis.unsigned_abs());
                    let when = if millis >= 0 {
                        format!("expires in {span}")
                    } else {
                        format!("expired {span} ago")
                    };
                    format!("TLS certificate for {target} {when} (limit: {op} {value})")
                })
            }
            Subject::DnsRcode => {
                let Some(rcode) = obs.dns_rcode.as_deref() else {
                    return Err(with_error(format!("no DNS response for {target}"), obs));
                };
                let code = rcode_mnemonic(rcode);
                let expected = value.as_text().to_ascii_uppercase();
                let holds = match (op, value) {
                    (Operator::Matches, Literal::Pattern(re)) => re.is_match(&code),
                    (Operator::Eq, _) => code == expected,
                    (Operator::Ne, _) => code != expected,
                    (Operator::Contains, _) => code.contains(&expected),
                    (Operator::NotContains, _) => !code.contains(&expected),
                    _ => false,
                };
                check(holds, || format!("DNS answered {rcode} for {target}"))
            }
            Subject::Header(name) => {
                let Some(actual) = obs.header(name) else {
                    return Err(format!("header {name} is missing"));
                };
                match compare_text(op, value, actual) {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(format!(
                        "header {name} is {} (expected {op} {value})",
                        show_text(actual)
                    )),
                    Err(problem) => Err(problem.describe(
                        &format!("header {name}"),
                        &show_text(actual),
                        op,
                        value,
                    )),
                }
            }
            Subject::Body => match body_source(obs) {
                BodySource::Absent => Err(no_body(obs)),
                BodySource::Answers(answers) => any_answer(op, value, answers, obs),
                BodySource::Text(body) => match compare_text(op, value, body) {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(match op {
                        Operator::Contains => format!("response body does not contain {value}"),
                        Operator::NotContains => format!("response body contains {value}"),
                        Operator::Matches => format!("response body does not match regex {value}"),
                        _ => format!(
                            "response body is {} (expected {op} {value})",
                            show_text(body)
                        ),
                    }),
                    Err(problem) => {
                        Err(problem.describe("response body", &show_text(body), op, value))
                    }
                },
            },
            Subject::BodyPath(path) => {
                let json = body_json(obs, path)?;
                let Some(actual) = path.lookup(json) else {
                    return Err(format!("`{path}` is missing from the response"));
                };
                match compare_json(op, value, actual) {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(format!(
                        "{path} is {} (expected {op} {value})",
                        show_json(actual)
                    )),
                    Err(problem) => {
                        Err(problem.describe(&path.to_string(), &show_json(actual), op, value))
                    }
                }
            }
            Subject::Len(path) => {
                let length = match path {
                    None => match body_source(obs) {
                        BodySource::Text(body) => body.chars().count(),
                        BodySource::Answers(answers) => answers.len(),
                        BodySource::Absent => return Err(no_body(obs)),
                    },
                    Some(path) => {
                        let json = body_json(obs, path)?;
                        let Some(found) = path.lookup(json) else {
                            return Err(format!("`{path}` is missing from the response"));
                        };
                        match JsonValue::of(found) {
                            JsonValue::Array(items) => json_items(items).len(),
                            JsonValue::Object(fields) => json_fields(fields).len(),
                            JsonValue::String(text) => text.chars().count(),
                            _ => {
                                return Err(format!(
                                    "{path} is {}, which has no length",
                                    show_json(found)
                                ));
                            }
                        }
                    }
                };
                check(compare_number(op, &integer(length), value), || {
                    format!("{} is {length} (expected {op} {value})", self.subject)
                })
            }
        }
    }
}

impl fmt::Display for Condition {
    /// Prints the condition as the user wrote it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

// ---------------------------------------------------------------------------------------
// The parsed form
// ---------------------------------------------------------------------------------------

/// What a condition looks at.
#[derive(Debug, Clone)]
enum Subject {
    Status,
    ResponseTime,
    Body,
    BodyPath(JsonPath),
    /// The header name as the user wrote it; lookups ignore case.
    Header(String),
    Connected,
    CertDaysLeft,
    CertExpiration,
    DnsRcode,
    /// `len([BODY])` when None.
    Len(Option<JsonPath>),
}

impl Subject {
    /// What kind of thing this is, for messages such as "[STATUS] is a number".
    fn noun(&self) -> &'static str {
        match self {
            Subject::Status | Subject::Len(_) => "a number",
            Subject::ResponseTime => "a time",
            Subject::CertDaysLeft => "a number of days",
            Subject::CertExpiration => "a duration",
            Subject::Connected => "true or false",
            Subject::DnsRcode => "a response code",
            Subject::Body | Subject::BodyPath(_) | Subject::Header(_) => "text",
        }
    }

    fn takes_durations(&self) -> bool {
        matches!(self, Subject::ResponseTime | Subject::CertExpiration)
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Status => f.write_str("[STATUS]"),
            Subject::ResponseTime => f.write_str("[RESPONSE_TIME]"),
            Subject::Body => f.write_str("[BODY]"),
            Subject::BodyPath(path) => write!(f, "{path}"),
            Subject::Header(name) => write!(f, "[HEADER].{name}"),
            Subject::Connected => f.write_str("[CONNECTED]"),
            Subject::CertDaysLeft => f.write_str("[CERT_DAYS_LEFT]"),
            Subject::CertExpiration => f.write_str("[CERTIFICATE_EXPIRATION]"),
            Subject::DnsRcode => f.write_str("[DNS_RCODE]"),
            Subject::Len(None) => f.write_str("len([BODY])"),
            Subject::Len(Some(path)) => write!(f, "len({path})"),
        }
    }
}

/// A path into the body parsed as JSON, such as `[BODY].items[0].name`.
#[derive(Debug, Clone, PartialEq)]
struct JsonPath {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

impl JsonPath {
    /// The value at this path, read from the body one level at a time so that the number
    /// found keeps the text it was written as.
    fn lookup<'j>(&self, json: &'j RawJson) -> Option<&'j RawJson> {
        self.segments.iter().try_fold(json, |current, segment| {
            match (segment, JsonValue::of(current)) {
                (Segment::Key(key), JsonValue::Object(fields)) => {
                    json_fields(fields).remove(key.as_str())
                }
                (Segment::Index(index), JsonValue::Array(items)) => {
                    json_items(items).get(*index).copied()
                }
                _ => None,
            }
        })
    }
}

/// One value of a JSON body, read one level deep: a number is the text it was written as,
/// and an array or object is left unread until a path or comparison needs its members.
enum JsonValue<'j> {
    Null,
    Bool(bool),
    Number(&'j str),
    String(String),
    Array(&'j RawJson),
    Object(&'j RawJson),
}

impl<'j> JsonValue<'j> {
    /// `raw` is part of a body that already parsed as JSON, so its first character says
    /// what it is.
    fn of(raw: &'j RawJson) -> JsonValue<'j> {
        let text = raw.get();
        match text.as_bytes().first() {
            Some(b'{') => JsonValue::Object(raw),
            Some(b'[') => JsonValue::Array(raw),
            Some(b'"') => serde_json::from_str(text).map_or(JsonValue::Null, JsonValue::String),
            Some(b't') => JsonValue::Bool(true),
            Some(b'f') => JsonValue::Bool(false),
            Some(b'-' | b'0'..=b'9') => JsonValue::Number(text),
            _ => JsonValue::Null,
        }
    }
}

/// The items of a JSON array.
fn json_items(array: &RawJson) -> Vec<&RawJson> {
    serde_json::from_str(array.get()).unwrap_or_default()
}

/// The fields of a JSON object; of repeated keys the last wins, as in most JSON readers.
fn json_fields(object: &RawJson) -> HashMap<String, &RawJson> {
    serde_json::from_str(object.get()).unwrap_or_default()
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[BODY]")?;
        for segment in &self.segments {
            match segment {
                Segment::Key(key) if !key.is_empty() && key.chars().all(is_word_char) => {
                    write!(f, ".{key}")?;
                }
                Segment::Key(key) => write!(f, ".{}", quote(key))?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    NotContains,
    Matches,
}

impl Operator {
    fn symbol(self) -> &'static str {
        match self {
            Operator::Eq => "==",
            Operator::Ne => "!=",
            Operator::Lt => "<",
            Operator::Le => "<=",
            Operator::Gt => ">",
            Operator::Ge => ">=",
            Operator::Contains => "contains",
            Operator::NotContains => "not contains",
            Operator::Matches => "matches",
        }
    }

    fn is_ordering(self) -> bool {
        matches!(
            self,
            Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge
        )
    }

    fn is_comparison(self) -> bool {
        self.is_ordering() || matches!(self, Operator::Eq | Operator::Ne)
    }

    /// Whether `actual <op> expected` holds, given how `actual` compares to `expected`.
    fn holds(self, ordering: Option<Ordering>) -> bool {
        let Some(ordering) = ordering else {
            return false;
        };
        match self {
            Operator::Eq => ordering == Ordering::Equal,
            Operator::Ne => ordering != Ordering::Equal,
            Operator::Lt => ordering == Ordering::Less,
            Operator::Le => ordering != Ordering::Greater,
            Operator::Gt => ordering == Ordering::Greater,
            Operator::Ge => ordering != Ordering::Less,
            Operator::Contains | Operator::NotContains | Operator::Matches => false,
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// The right-hand side of a condition, already checked against the placeholder's type.
#[derive(Debug, Clone)]
enum Literal {
    /// `text` is kept so reasons show the number as the user wrote it.
    Number {
        value: Decimal,
        text: String,
    },
    Bool(bool),
    /// `bare` when written without quotes; a bare `null` matches JSON null.
    Text {
        value: String,
        bare: bool,
    },
    Duration {
        millis: i64,
        text: String,
    },
    /// The value of a `matches`, compiled once.
    Pattern(Regex),
}

impl Literal {
    /// The literal as plain text, for `contains` and text equality.
    fn as_text(&self) -> String {
        match self {
            Literal::Number { text, .. } | Literal::Duration { text, .. } => text.clone(),
            Literal::Bool(b) => b.to_string(),
            Literal::Text { value, .. } => value.clone(),
            Literal::Pattern(re) => re.as_str().to_owned(),
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Number { text, .. } | Literal::Duration { text, .. } => f.write_str(text),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Text { value, .. } => f.write_str(&quote(value)),
            Literal::Pattern(re) => f.write_str(&quote(re.as_str())),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum TokenKind {
    /// `[NAME]`; the name is checked by the parser so it can suggest corrections.
    Placeholder(String),
    /// `[0]`
    Index(usize),
    LParen,
    RParen,
    Op(Operator),
    Word(String),
    Str(String),
    /// A character that starts no token (`=`, `!`, `]`…); the parser reports it in context.
    Other(char),
    End,
}

#[derive(Debug, Clone)]
struct Token {
    kind: TokenKind,
    column: usize,
    /// The token as written, for messages.
    text: String,
}

impl Token {
    /// The token for "…, found X" messages.
    fn describe(&self) -> String {
        match self.kind {
            TokenKind::End => "the end of the condition".to_owned(),
            _ => format!("`{}`", self.text),
        }
    }
}

/// A raw right-hand side, before it is typed against the placeholder.
struct RawValue {
    text: String,
    quoted: bool,
    column: usize,
}

/// Characters that end a word: they start other tokens.
fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '[' | ']' | '(' | ')' | '"' | '.' | '=' | '!' | '<' | '>')
}

fn is_header_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-^_`|~".contains(c)
}

fn syntax_error(column: usize, message: impl Into<String>) -> ConditionSyntaxError {
    ConditionSyntaxError {
        column,
        message: message.into(),
    }
}

/// Splits condition text into tokens. The parser drives it, because the right-hand side is
/// read differently (any run of non-space characters) from the rest.
struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

impl Lexer {
    fn new(text: &str) -> Self {
        Lexer {
            chars: text.chars().collect(),
            pos: 0,
        }
    }

    fn column(&self) -> usize {
        self.pos + 1
    }

    fn current(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn char_at(&self, index: usize) -> Option<char> {
        self.chars.get(index).copied()
    }

    fn text_from(&self, start: usize) -> String {
        self.chars
            .get(start..self.pos)
            .map(|chars| chars.iter().collect())
            .unwrap_or_default()
    }

    fn skip_whitespace(&mut self) {
        while self.current().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn next_token(&mut self) -> Result<Token, ConditionSyntaxError> {
        self.skip_whitespace();
        let start = self.pos;
        let column = self.column();
        let Some(c) = self.current() else {
            return Ok(Token {
                kind: TokenKind::End,
                column,
                text: String::new(),
            });
        };
        let kind = match c {
            '[' => self.bracket()?,
            '(' => {
                self.pos += 1;
                TokenKind::LParen
            }
            ')' => {
                self.pos += 1;
                TokenKind::RParen
            }
            '"' => TokenKind::Str(self.string()?),
            '=' | '!' | '<' | '>' => self.symbol(c),
            c if is_word_char(c) => TokenKind::Word(self.word()),
            other => {
                self.pos += 1;
                TokenKind::Other(other)
            }
        };
        Ok(Token {
            kind,
            column,
            text: self.text_from(start),
        })
    }

    /// `[NAME]` or `[digits]`; the `[` is the current character.
    fn bracket(&mut self) -> Result<TokenKind, ConditionSyntaxError> {
        let open = self.column();
        self.pos += 1;
        let start = self.pos;
        while self
            .current()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.pos += 1;
        }
        let name = self.text_from(start);
        if name.is_empty() {
            return Err(syntax_error(
                open,
                "expected a placeholder name like [STATUS] or an array index like [0] after `[`",
            ));
        }
        if self.current() != Some(']') {
            return Err(syntax_error(
                self.column(),
                format!("expected `]` to close `[{name}`"),
            ));
        }
        self.pos += 1;
        if name.chars().all(|c| c.is_ascii_digit()) {
            let index = name
                .parse::<usize>()
                .map_err(|_| syntax_error(open, format!("array index [{name}] is too large")))?;
            Ok(TokenKind::Index(index))
        } else {
            Ok(TokenKind::Placeholder(name))
        }
    }

    /// A double-quoted string; the `"` is the current character.
    fn string(&mut self) -> Result<String, ConditionSyntaxError> {
        let open = self.column();
        self.pos += 1;
        let mut text = String::new();
        loop {
            match self.current() {
                None => {
                    return Err(syntax_error(
                        open,
                        "unterminated string: this `\"` is never closed",
                    ));
                }
                Some('"') => {
                    self.pos += 1;
                    return Ok(text);
                }
                Some('\\') => match self.char_at(self.pos + 1) {
                    Some(escaped @ ('"' | '\\')) => {
                        text.push(escaped);
                        self.pos += 2;
                    }
                    _ => {
                        text.push('\\');
                        self.pos += 1;
                    }
                },
                Some(c) => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// An operator made of symbols, or a lone symbol the parser will complain about.
    fn symbol(&mut self, c: char) -> TokenKind {
        let followed_by_equals = self.char_at(self.pos + 1) == Some('=');
        let (kind, length) = match (c, followed_by_equals) {
            ('=', true) => (TokenKind::Op(Operator::Eq), 2),
            ('!', true) => (TokenKind::Op(Operator::Ne), 2),
            ('<', true) => (TokenKind::Op(Operator::Le), 2),
            ('>', true) => (TokenKind::Op(Operator::Ge), 2),
            ('<', false) => (TokenKind::Op(Operator::Lt), 1),
            ('>', false) => (TokenKind::Op(Operator::Gt), 1),
            (other, _) => (TokenKind::Other(other), 1),
        };
        self.pos += length;
        kind
    }

    fn word(&mut self) -> String {
        let start = self.pos;
        while self.current().is_some_and(is_word_char) {
            self.pos += 1;
        }
        self.text_from(start)
    }

    /// The right-hand side: a quoted string, or any run of non-space characters.
    fn value(&mut self) -> Result<Option<RawValue>, ConditionSyntaxError> {
        self.skip_whitespace();
        let column = self.column();
        match self.current() {
            None => Ok(None),
            Some('"') => Ok(Some(RawValue {
                text: self.string()?,
                quoted: true,
                column,
            })),
            Some(_) => {
                let start = self.pos;
                while let Some(c) = self.current().filter(|c| !c.is_whitespace()) {
                    if c == '"' {
                        return Err(syntax_error(
                            self.column(),
                            "unexpected `\"` inside an unquoted value; put the whole value in double quotes",
                        ));
                    }
                    self.pos += 1;
                }
                Ok(Some(RawValue {
                    text: self.text_from(start),
                    quoted: false,
                    column,
                }))
            }
        }
    }

    /// The run of non-space characters at the current position, for "unexpected …" messages.
    fn rest_of_word(&self) -> String {
        self.chars
            .iter()
            .skip(self.pos)
            .take_while(|c| !c.is_whitespace())
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------

fn parse_condition(text: &str) -> Result<(Subject, Operator, Literal), ConditionSyntaxError> {
    let mut lexer = Lexer::new(text);
    lexer.skip_whitespace();
    if lexer.current().is_none() {
        return Err(syntax_error(
            1,
            "the condition is empty; write one like `[STATUS] == 200`",
        ));
    }
    let subject = parse_subject(&mut lexer)?;
    let (operator, operator_column) = parse_operator(&mut lexer)?;
    check_operator(&subject, operator, operator_column)?;
    if operator != Operator::Matches {
        refuse_call_or_placeholder(&mut lexer)?;
    }
    let raw = lexer.value()?.ok_or_else(|| {
        syntax_error(
            lexer.column(),
            format!("expected a value after `{operator}`"),
        )
    })?;
    let literal = parse_literal(&subject, operator, &raw)?;
    lexer.skip_whitespace();
    if lexer.current().is_some() {
        return Err(syntax_error(
            lexer.column(),
            format!(
                "unexpected `{}` after the value; put values that contain spaces in double quotes",
                lexer.rest_of_word()
            ),
        ));
    }
    Ok((subject, operator, literal))
}

fn parse_subject(lexer: &mut Lexer) -> Result<Subject, ConditionSyntaxError> {
    let token = lexer.next_token()?;
    match &token.kind {
        TokenKind::Placeholder(name) => parse_placeholder(lexer, name, &token),
        TokenKind::Word(word) => {
            lexer.skip_whitespace();
            if lexer.current() != Some('(') {
                if word == "len" {
                    return Err(syntax_error(
                        token.column,
                        "len needs parentheses, like len([BODY].items)",
                    ));
                }
                return Err(syntax_error(
                    token.column,
                    format!("expected a placeholder such as [STATUS] or len(...), found `{word}`"),
                ));
            }
            if word != "len" {
                return Err(function_refusal(word, token.column, false));
            }
            lexer.pos += 1;
            parse_len(lexer)
        }
        _ => Err(syntax_error(
            token.column,
            format!(
                "expected a placeholder such as [STATUS] or len(...), found {}",
                token.describe()
            ),
        )),
    }
}

/// The inside of `len(...)`, after the `(`.
fn parse_len(lexer: &mut Lexer) -> Result<Subject, ConditionSyntaxError> {
    let inner = lexer.next_token()?;
    let path = match &inner.kind {
        TokenKind::Placeholder(name) if name == "BODY" => parse_body_path(lexer)?,
        TokenKind::Placeholder(name) if !PLACEHOLDERS.contains(&name.as_str()) => {
            return Err(unknown_placeholder(&inner));
        }
        _ => {
            return Err(syntax_error(
                inner.column,
                format!(
                    "len(...) takes [BODY] or a JSON path such as [BODY].items, found {}",
                    inner.describe()
                ),
            ));
        }
    };
    let close = lexer.next_token()?;
    if close.kind != TokenKind::RParen {
        return Err(syntax_error(
            close.column,
            format!("expected `)` to close `len(`, found {}", close.describe()),
        ));
    }
    Ok(Subject::Len(path))
}

fn parse_placeholder(
    lexer: &mut Lexer,
    name: &str,
    token: &Token,
) -> Result<Subject, ConditionSyntaxError> {
    let subject = match name {
        "BODY" => {
            return Ok(match parse_body_path(lexer)? {
                None => Subject::Body,
                Some(path) => Subject::BodyPath(path),
            });
        }
        "HEADER" => return parse_header_name(lexer),
        "STATUS" => Subject::Status,
        "RESPONSE_TIME" => Subject::ResponseTime,
        "CONNECTED" => Subject::Connected,
        "CERT_DAYS_LEFT" => Subject::CertDaysLeft,
        "CERTIFICATE_EXPIRATION" => Subject::CertExpiration,
        "DNS_RCODE" => Subject::DnsRcode,
        _ => return Err(unknown_placeholder(token)),
    };
    if let Some(c @ ('.' | '[')) = lexer.current() {
        return Err(syntax_error(
            lexer.column(),
            format!(
                "{subject} cannot be followed by `{c}`; only [BODY] takes a JSON path and [HEADER] a header name"
            ),
        ));
    }
    Ok(subject)
}

/// `.key`, `."odd key"` and `[n]` segments written right after `[BODY]`.
fn parse_body_path(lexer: &mut Lexer) -> Result<Option<JsonPath>, ConditionSyntaxError> {
    let mut segments = Vec::new();
    loop {
        match lexer.current() {
            Some('.') => {
                lexer.pos += 1;
                match lexer.current() {
                    Some('"') => segments.push(Segment::Key(lexer.string()?)),
                    Some(c) if is_word_char(c) => segments.push(Segment::Key(lexer.word())),
                    _ => {
                        return Err(syntax_error(
                            lexer.column(),
                            "expected a key after `.`; quote keys with unusual characters, like [BODY].\"odd key\"",
                        ));
                    }
                }
            }
            Some('[') => {
                let token = lexer.next_token()?;
                match token.kind {
                    TokenKind::Index(index) => segments.push(Segment::Index(index)),
                    _ => {
                        return Err(syntax_error(
                            token.column,
                            format!(
                                "expected an array index like [0], found {}",
                                token.describe()
                            ),
                        ));
                    }
                }
            }
            _ => break,
        }
    }
    Ok((!segments.is_empty()).then_some(JsonPath { segments }))
}

/// `.Name` written right after `[HEADER]`.
fn parse_header_name(lexer: &mut Lexer) -> Result<Subject, ConditionSyntaxError> {
    if lexer.current() != Some('.') {
        return Err(syntax_error(
            lexer.column(),
            "[HEADER] needs a header name, like [HEADER].Content-Type",
        ));
    }
    lexer.pos += 1;
    let column = lexer.column();
    let name = lexer.word();
    if name.is_empty() {
        return Err(syntax_error(
            column,
            "expected a header name after `[HEADER].`, like [HEADER].Content-Type",
        ));
    }
    if let Some((offset, bad)) = name.chars().enumerate().find(|(_, c)| !is_header_char(*c)) {
        return Err(syntax_error(
            column + offset,
            format!("`{bad}` cannot appear in a header name"),
        ));
    }
    Ok(Subject::Header(name))
}

fn unknown_placeholder(token: &Token) -> ConditionSyntaxError {
    if let TokenKind::Placeholder(name) = &token.kind
        && let Some((_, why)) = foreign_placeholder(name)
    {
        return syntax_error(
            token.column,
            format!("`{}` is not supported: {why}", token.text),
        );
    }
    let known = PLACEHOLDERS
        .iter()
        .map(|name| format!("[{name}]"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut message = format!("unknown placeholder `{}`; known: {known}", token.text);
    if let TokenKind::Placeholder(name) = &token.kind
        && let Some(suggestion) = closest_placeholder(name)
    {
        message.push_str(&format!("; did you mean [{suggestion}]?"));
    }
    syntax_error(token.column, message)
}

fn foreign_placeholder(name: &str) -> Option<(&'static str, &'static str)> {
    let upper = name.to_ascii_uppercase();
    FOREIGN_PLACEHOLDERS
        .iter()
        .find(|(foreign, _)| *foreign == upper)
        .copied()
}

/// Refuses a function call, naming it: Gatus's `pat(...)`, `any(...)` and `has(...)`, or
/// anything else written `name(`. `in_value` when it stands where a value belongs, where
/// reading it as text would silently compare with the letters `pat(*john*)`.
fn function_refusal(name: &str, column: usize, in_value: bool) -> ConditionSyntaxError {
    let mut message = match name {
        "pat" => "`pat(...)` (a wildcard pattern) is not supported; use `contains`, or `matches` with a regular expression".to_owned(),
        "any" => "`any(...)` (one of several values) is not supported; use `matches` with alternatives, like `[STATUS] matches \"^(200|429)$\"`".to_owned(),
        "has" => "`has(...)` is not supported; a condition cannot test whether a JSON path is present".to_owned(),
        "len" if in_value => "`len(...)` can only be on the left, like `len([BODY].items) > 0`".to_owned(),
        other if in_value => format!("`{other}(...)` looks like a function call, but a value cannot call functions"),
        other => format!("unknown function `{other}`; the only function is len(...)"),
    };
    if in_value {
        message.push_str("; to compare with that exact text, put it in double quotes");
    }
    syntax_error(column, message)
}

/// Refuses a value that is written like a function call or a placeholder, before the value
/// is read as text. Not for `matches`, whose value is a regular expression such as `ab(c)?`.
fn refuse_call_or_placeholder(lexer: &mut Lexer) -> Result<(), ConditionSyntaxError> {
    lexer.skip_whitespace();
    let column = lexer.column();
    let rest = &lexer.chars[lexer.pos..];
    let name_length = rest
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
        .count();
    let name: String = rest[..name_length].iter().collect();
    let starts_like_a_name = rest
        .first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == '_');
    if starts_like_a_name && rest.get(name_length) == Some(&'(') {
        return Err(function_refusal(&name, column, true));
    }
    if rest.first() == Some(&'[') {
        let inner_length = rest[1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
            .count();
        let inner: String = rest[1..=inner_length].iter().collect();
        let is_index = inner.chars().all(|c| c.is_ascii_digit());
        if !is_index && rest.get(inner_length + 1) == Some(&']') {
            let upper = inner.to_ascii_uppercase();
            let known =
                PLACEHOLDERS.contains(&upper.as_str()) || foreign_placeholder(&upper).is_some();
            let what = if known { "is" } else { "looks like" };
            return Err(syntax_error(
                column,
                format!(
                    "`[{inner}]` {what} a placeholder, and comparing two placeholders is not supported; write a value, or quote it to mean the text"
                ),
            ));
        }
    }
    Ok(())
}

/// Why a bare value written like a number is not one sitrep reads: it would otherwise be
/// compared as text, where other tools (Gatus among them) read a number.
fn foreign_number(text: &str) -> Option<String> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let digits_in = |s: &str, radix: u32| {
        !s.is_empty()
            && s.chars().all(|c| c == '_' || c.is_digit(radix))
            && s.chars().any(|c| c != '_')
    };
    let based =
        unsigned
            .get(..2)
            .zip(unsigned.get(2..))
            .and_then(|(prefix, digits)| match prefix {
                "0x" | "0X" if digits_in(digits, 16) => Some("a hexadecimal"),
                "0o" | "0O" if digits_in(digits, 8) => Some("an octal"),
                "0b" | "0B" if digits_in(digits, 2) => Some("a binary"),
                _ => None,
            });
    if let Some(kind) = based {
        return Some(format!(
            "`{text}` is {kind} number, which conditions do not read; write it in decimal"
        ));
    }
    if digits_in(unsigned, 10) && unsigned.contains('_') {
        return Some(format!(
            "`{text}` has digit separators; write {}",
            text.replace('_', "")
        ));
    }
    if unsigned.len() > 1 && unsigned.starts_with('0') && digits_in(unsigned, 10) {
        return Some(format!(
            "`{text}` starts with 0, which some tools read as an octal number; write it without the leading zero"
        ));
    }
    let sign = &text[..text.len() - unsigned.len()];
    if let Some(fraction) = unsigned.strip_prefix('.')
        && digits_in(fraction, 10)
        && !fraction.contains('_')
    {
        return Some(format!(
            "`{text}` needs a digit before the point; write {sign}0.{fraction}"
        ));
    }
    if let Some(whole) = unsigned.strip_suffix('.')
        && digits_in(whole, 10)
        && !whole.contains('_')
    {
        return Some(format!(
            "`{text}` needs a digit after the point; write {sign}{whole}"
        ));
    }
    None
}

fn closest_placeholder(name: &str) -> Option<&'static str> {
    let upper = name.to_ascii_uppercase();
    PLACEHOLDERS
        .iter()
        .map(|known| (edit_distance(&upper, known), *known))
        .min_by_key(|(distance, _)| *distance)
        .filter(|(distance, _)| *distance <= 2)
        .map(|(_, known)| known)
}

/// Levenshtein distance, for "did you mean" suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let delete = previous.get(j + 1).copied().unwrap_or(0) + 1;
            let insert = current.get(j).copied().unwrap_or(0) + 1;
            current.push(substitute.min(delete).min(insert));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

fn parse_operator(lexer: &mut Lexer) -> Result<(Operator, usize), ConditionSyntaxError> {
    let token = lexer.next_token()?;
    let operator = match &token.kind {
        TokenKind::Op(operator) => *operator,
        TokenKind::Word(word) if word == "contains" => Operator::Contains,
        TokenKind::Word(word) if word == "matches" => Operator::Matches,
        TokenKind::Word(word) if word == "not" => {
            let next = lexer.next_token()?;
            if next.kind != TokenKind::Word("contains".to_owned()) {
                return Err(syntax_error(
                    next.column,
                    format!("expected `contains` after `not`, found {}", next.describe()),
                ));
            }
            Operator::NotContains
        }
        _ => {
            return Err(syntax_error(
                token.column,
                format!(
                    "expected an operator ({OPERATOR_LIST}), found {}",
                    token.describe()
                ),
            ));
        }
    };
    Ok((operator, token.column))
}

/// Rejects operators that cannot apply to the placeholder's type.
fn check_operator(
    subject: &Subject,
    operator: Operator,
    column: usize,
) -> Result<(), ConditionSyntaxError> {
    let message = match subject {
        Subject::Connected if !matches!(operator, Operator::Eq | Operator::Ne) => format!(
            "[CONNECTED] is true or false, so it can only be compared with == or !=, not `{operator}`"
        ),
        Subject::DnsRcode if operator.is_ordering() => format!(
            "[DNS_RCODE] is a response code such as NOERROR, so `{operator}` cannot compare it; use ==, !=, contains, not contains or matches"
        ),
        Subject::Status if matches!(operator, Operator::Contains | Operator::NotContains) => {
            format!(
                "`{operator}` works on text, but [STATUS] is a number; use ==, !=, <, <=, >, >= or matches"
            )
        }
        Subject::ResponseTime
        | Subject::CertDaysLeft
        | Subject::CertExpiration
        | Subject::Len(_)
            if !operator.is_comparison() =>
        {
            format!(
                "`{operator}` works on text, but {subject} is {}; use ==, !=, <, <=, > or >=",
                subject.noun()
            )
        }
        _ => return Ok(()),
    };
    Err(syntax_error(column, message))
}

/// Types the right-hand side against the placeholder and operator.
fn parse_literal(
    subject: &Subject,
    operator: Operator,
    raw: &RawValue,
) -> Result<Literal, ConditionSyntaxError> {
    let column = raw.column;
    if operator == Operator::Matches {
        return Regex::new(&raw.text).map(Literal::Pattern).map_err(|e| {
            syntax_error(
                column,
                format!("invalid regular expression: {}", regex_problem(&e)),
            )
        });
    }
    if !raw.quoted
        && matches!(
            raw.text.as_str(),
            "==" | "!=" | "<" | "<=" | ">" | ">=" | "="
        )
    {
        return Err(syntax_error(
            column,
            format!(
                "expected a value after `{operator}`, found another operator `{}`",
                raw.text
            ),
        ));
    }
    if !raw.quoted
        && let Some(problem) = foreign_number(&raw.text)
    {
        return Err(syntax_error(
            column,
            format!("{problem}, or put it in double quotes to compare with that exact text"),
        ));
    }
    let literal = if raw.quoted {
        Literal::Text {
            value: raw.text.clone(),
            bare: false,
        }
    } else {
        bare_literal(&raw.text, column, subject.takes_durations())?
    };
    let shown = if raw.quoted {
        quote(&raw.text)
    } else {
        format!("`{}`", raw.text)
    };
    match subject {
        Subject::Status | Subject::CertDaysLeft | Subject::Len(_) => match literal {
            Literal::Number { .. } => Ok(literal),
            _ => {
                let mut message = format!(
                    "{subject} is {}, so it cannot be compared with {shown}",
                    subject.noun()
                );
                if raw.quoted && is_number_syntax(&raw.text) {
                    message.push_str(&format!("; write {} without quotes", raw.text));
                }
                Err(syntax_error(column, message))
            }
        },
        Subject::ResponseTime => match literal {
            Literal::Number { .. } | Literal::Duration { .. } => Ok(literal),
            _ => Err(syntax_error(
                column,
                format!(
                    "[RESPONSE_TIME] is a time; write milliseconds like 300 or a duration like 500ms, 2s or 1m, not {shown}"
                ),
            )),
        },
        Subject::CertExpiration => match literal {
            Literal::Duration { .. } => Ok(literal),
            Literal::Number { .. } => Err(syntax_error(
                column,
                format!(
                    "[CERTIFICATE_EXPIRATION] needs a unit; write a duration like {}d or {}h",
                    raw.text, raw.text
                ),
            )),
            _ => Err(syntax_error(
                column,
                format!(
                    "[CERTIFICATE_EXPIRATION] is a duration; write one like 14d or 48h, not {shown}"
                ),
            )),
        },
        Subject::Connected => match literal {
            Literal::Bool(_) => Ok(literal),
            _ => Err(syntax_error(
                column,
                format!("[CONNECTED] is true or false, not {shown}"),
            )),
        },
        Subject::DnsRcode => {
            let code = literal.as_text();
            if matches!(operator, Operator::Eq | Operator::Ne)
                && !RCODES.contains(&code.to_ascii_uppercase().as_str())
            {
                return Err(syntax_error(
                    column,
                    format!(
                        "unknown DNS response code {shown}; known: {}",
                        RCODES.join(", ")
                    ),
                ));
            }
            Ok(Literal::Text {
                value: code,
                bare: !raw.quoted,
            })
        }
        Subject::Body | Subject::BodyPath(_) | Subject::Header(_) => {
            if operator.is_ordering() && !matches!(literal, Literal::Number { .. }) {
                return Err(syntax_error(
                    column,
                    format!("`{operator}` compares numbers, but {shown} is not a number"),
                ));
            }
            Ok(literal)
        }
    }
}

/// The regex crate's own words, on one line: its syntax errors are a multi-line drawing
/// whose last line (`error: unclosed group`) says what is wrong.
fn regex_problem(error: &regex::Error) -> String {
    let text = error.to_string();
    text.lines()
        .rev()
        .find_map(|line| line.strip_prefix("error: "))
        .map_or_else(
            || text.split_whitespace().collect::<Vec<_>>().join(" "),
            str::to_owned,
        )
}

/// Reads an unquoted value: a number, a boolean, a duration (where allowed) or text.
fn bare_literal(
    text: &str,
    column: usize,
    durations: bool,
) -> Result<Literal, ConditionSyntaxError> {
    if is_number_syntax(text) {
        let value = Decimal::parse(text)
            .ok_or_else(|| syntax_error(column, format!("the number `{text}` is too large")))?;
        return Ok(Literal::Number {
            value,
            text: text.to_owned(),
        });
    }
    match text {
        "true" => return Ok(Literal::Bool(true)),
        "false" => return Ok(Literal::Bool(false)),
        _ => {}
    }
    if durations && let Some(millis) = parse_duration(text, column)? {
        return Ok(Literal::Duration {
            millis,
            text: text.to_owned(),
        });
    }
    Ok(Literal::Text {
        value: text.to_owned(),
        bare: true,
    })
}

/// `[+-]digits(.digits)(e[+-]digits)`, signs, fraction and exponent optional: stricter than
/// `f64::from_str`, which also takes `inf`, `.5` and `5.`.
fn is_number_syntax(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    digits(whole)
        && fraction.is_none_or(digits)
        && exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
}

/// An integer reading (a status code, milliseconds, days, a length) to compare with a value.
fn integer(value: impl TryInto<i128>) -> Decimal {
    Decimal::from_integer(value.try_into().unwrap_or(i128::MAX))
}

/// `<digits><unit>` in milliseconds; None when the text is not shaped like a duration.
fn parse_duration(text: &str, column: usize) -> Result<Option<i64>, ConditionSyntaxError> {
    let digit_count = text.chars().take_while(char::is_ascii_digit).count();
    let (digits, unit) = text.split_at(digit_count);
    if digits.is_empty() || unit.is_empty() || !unit.chars().all(|c| c.is_ascii_alphabetic()) {
        return Ok(None);
    }
    let scale: i64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => {
            return Err(syntax_error(
                column + digit_count,
                format!("unknown duration unit `{unit}`; use ms, s, m, h or d"),
            ));
        }
    };
    digits
        .parse::<i64>()
        .ok()
        .and_then(|amount| amount.checked_mul(scale))
        .map(Some)
        .ok_or_else(|| syntax_error(column, format!("the duration `{text}` is too large")))
}

// ---------------------------------------------------------------------------------------
// Evaluation helpers
// ---------------------------------------------------------------------------------------

fn check(holds: bool, reason: impl FnOnce() -> String) -> Result<(), String> {
    if holds { Ok(()) } else { Err(reason()) }
}

/// Appends the probe's own error, which usually says why a value is missing.
fn with_error(message: String, obs: &Observation) -> String {
    match &obs.error {
        Some(error) => format!("{message}: {error}"),
        None => message,
    }
}

fn certificate(obs: &Observation) -> Result<DateTime<Utc>, String> {
    obs.certificate_not_after.ok_or_else(|| {
        with_error(
            format!("no TLS certificate was seen for {}", obs.target),
            obs,
        )
    })
}

/// "expires in 3 days", "expires today", "expired 2 days ago".
fn expiry_in_days(seconds: i64) -> String {
    if seconds >= 0 {
        match seconds / SECONDS_PER_DAY {
            0 => "expires today".to_owned(),
            1 => "expires in 1 day".to_owned(),
            days => format!("expires in {days} days"),
        }
    } else {
        // Counted from the moment it expired, so one that lapsed two days and an hour ago
        // reads "2 days ago", as a person would say it.
        match seconds.unsigned_abs() / SECONDS_PER_DAY.unsigned_abs() {
            0 => "expired today".to_owned(),
            1 => "expired 1 day ago".to_owned(),
            days => format!("expired {days} days ago"),
        }
    }
}

/// A span in the largest unit that keeps it readable: "3 days", "30 hours", "90 seconds".
fn human_span(millis: u64) -> String {
    let (amount, unit) = if millis >= 2 * MILLIS_PER_DAY {
        (millis / MILLIS_PER_DAY, "day")
    } else if millis >= 2 * MILLIS_PER_HOUR {
        (millis / MILLIS_PER_HOUR, "hour")
    } else if millis >= 2 * MILLIS_PER_MINUTE {
        (millis / MILLIS_PER_MINUTE, "minute")
    } else if millis >= 2 * MILLIS_PER_SECOND {
        (millis / MILLIS_PER_SECOND, "second")
    } else {
        return format!("{millis} ms");
    };
    format!("{amount} {unit}s")
}

/// Maps long response-code names to their mnemonics; mnemonics pass through upper-cased.
fn rcode_mnemonic(rcode: &str) -> String {
    let upper = rcode.trim().to_ascii_uppercase();
    RCODE_LONG_NAMES
        .iter()
        .find(|(long, _)| *long == upper)
        .map_or(upper, |(_, short)| (*short).to_owned())
}

/// What `[BODY]` means for this observation. `evaluate` is not told the check's kind, so
/// an HTTP body wins, and DNS answers are used when the observation came from a resolver.
enum BodySource<'a> {
    Text(&'a str),
    Answers(&'a [String]),
    Absent,
}

fn body_source(obs: &Observation) -> BodySource<'_> {
    if let Some(body) = &obs.body {
        BodySource::Text(body)
    } else if obs.dns_rcode.is_some() || !obs.dns_answers.is_empty() {
        BodySource::Answers(&obs.dns_answers)
    } else {
        BodySource::Absent
    }
}

fn no_body(obs: &Observation) -> String {
    if obs.status.is_some() {
        format!("response from {} had no body", obs.target)
    } else {
        with_error(format!("no response from {}", obs.target), obs)
    }
}

/// The body checked as JSON, unread beyond that: paths read only what they walk through.
fn body_json<'o>(obs: &'o Observation, path: &JsonPath) -> Result<&'o RawJson, String> {
    match body_source(obs) {
        BodySource::Text(body) => serde_json::from_str(body).map_err(|e| {
            format!(
                "response body from {} is not JSON ({e}), so {path} cannot be read",
                obs.target
            )
        }),
        BodySource::Answers(_) => Err(format!(
            "{path} needs an HTTP response body, but {} returned DNS answers",
            obs.target
        )),
        BodySource::Absent => Err(no_body(obs)),
    }
}

/// DNS `[BODY]`: the condition holds when any answer satisfies it.
fn any_answer(
    op: Operator,
    value: &Literal,
    answers: &[String],
    obs: &Observation,
) -> Result<(), String> {
    let target = &obs.target;
    if answers.is_empty() {
        return Err(match obs.dns_rcode.as_deref() {
            Some(rcode) if rcode_mnemonic(rcode) != "NOERROR" => {
                format!("DNS answered {rcode} for {target}")
            }
            _ => format!("DNS returned no answers for {target}"),
        });
    }
    if answers
        .iter()
        .any(|answer| compare_text(op, value, answer) == Ok(true))
    {
        return Ok(());
    }
    let expected = value.as_text();
    let phrase = match op {
        Operator::Eq => format!("is {expected}"),
        Operator::Ne => format!("differs from {expected}"),
        Operator::Contains => format!("contains {expected}"),
        Operator::NotContains => format!("lacks {expected}"),
        Operator::Matches => format!("matches regex {value}"),
        _ => format!("is {op} {expected}"),
    };
    let mut listed = answers
        .iter()
        .take(SHOWN_ANSWERS)
        .map(|answer| truncate(answer))
        .collect::<Vec<_>>()
        .join(", ");
    if answers.len() > SHOWN_ANSWERS {
        listed.push_str(&format!(" and {} more", answers.len() - SHOWN_ANSWERS));
    }
    Err(format!(
        "no DNS answer for {target} {phrase} (answers: {listed})"
    ))
}

/// Why a value from the response could not be compared at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    NotNumber,
    NotContainer,
}

impl Problem {
    fn describe(self, subject: &str, actual: &str, op: Operator, value: &Literal) -> String {
        match self {
            Problem::NotNumber => format!(
                "{subject} is {actual}, not a number, so it cannot be compared with {op} {value}"
            ),
            Problem::NotContainer => format!(
                "{subject} is {actual}, which is neither text, a list nor an object, so `{op}` does not apply"
            ),
        }
    }
}

/// Numeric comparison for placeholders whose values are numbers or durations.
fn compare_number(op: Operator, actual: &Decimal, value: &Literal) -> bool {
    match value {
        Literal::Number { value, .. } => op.holds(Some(actual.cmp(value))),
        Literal::Duration { millis, .. } => op.holds(Some(actual.cmp(&integer(*millis)))),
        _ => false,
    }
}

/// A response value that is number text, such as a header `Content-Length: 42`, exactly.
fn parse_number(text: &str) -> Option<Decimal> {
    Decimal::parse_lenient(text)
}

fn compare_text(op: Operator, value: &Literal, actual: &str) -> Result<bool, Problem> {
    match op {
        Operator::Matches => Ok(matches!(value, Literal::Pattern(re) if re.is_match(actual))),
        Operator::Contains => Ok(actual.contains(&value.as_text())),
        Operator::NotContains => Ok(!actual.contains(&value.as_text())),
        Operator::Eq | Operator::Ne => {
            let equal = match value {
                Literal::Number { value, .. } => parse_number(actual).as_ref() == Some(value),
                Literal::Pattern(_) => false,
                other => actual == other.as_text(),
            };
            Ok(equal == (op == Operator::Eq))
        }
        Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge => {
            let Literal::Number { value, .. } = value else {
                return Ok(false);
            };
            let number = parse_number(actual).ok_or(Problem::NotNumber)?;
            Ok(op.holds(Some(number.cmp(value))))
        }
    }
}

fn compare_json(op: Operator, value: &Literal, actual: &RawJson) -> Result<bool, Problem> {
    let json = JsonValue::of(actual);
    match op {
        Operator::Matches => Ok(match (value, json) {
            (Literal::Pattern(re), JsonValue::String(text)) => re.is_match(&text),
            (Literal::Pattern(re), JsonValue::Number(text)) => re.is_match(text),
            (Literal::Pattern(re), _) => re.is_match(&compact_json(actual.get(), usize::MAX)),
            _ => false,
        }),
        Operator::Contains | Operator::NotContains => {
            let found = match json {
                JsonValue::String(text) => text.contains(&value.as_text()),
                JsonValue::Array(items) => json_items(items)
                    .into_iter()
                    .any(|item| json_equals(value, item)),
                JsonValue::Object(fields) => json_fields(fields).contains_key(&value.as_text()),
                _ => return Err(Problem::NotContainer),
            };
            Ok(found == (op == Operator::Contains))
        }
        Operator::Eq | Operator::Ne => Ok(json_equals(value, actual) == (op == Operator::Eq)),
        Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge => {
            let Literal::Number { value, .. } = value else {
                return Ok(false);
            };
            let JsonValue::Number(text) = json else {
                return Err(Problem::NotNumber);
            };
            let number = Decimal::parse(text).ok_or(Problem::NotNumber)?;
            Ok(op.holds(Some(number.cmp(value))))
        }
    }
}

/// JSON equality is typed: the number 5 does not equal the text "5". Numbers are equal when
/// their decimals are, however written: `1e3` is `1000`, but `9007199254740993` is not
/// `9007199254740992`, which a double cannot tell apart.
fn json_equals(value: &Literal, actual: &RawJson) -> bool {
    match (value, JsonValue::of(actual)) {
        (Literal::Number { value, .. }, JsonValue::Number(text)) => {
            Decimal::parse(text).as_ref() == Some(value)
        }
        (Literal::Text { value, .. }, JsonValue::String(text)) => text == *value,
        (Literal::Text { value, bare: true }, JsonValue::Null) => value == "null",
        (Literal::Bool(value), JsonValue::Bool(actual)) => *value == actual,
        _ => false,
    }
}

/// Cuts response text short enough for a one-line reason.
fn truncate(text: &str) -> String {
    let mut chars = text.chars();
    let mut shown: String = chars.by_ref().take(SHOWN_CHARS).collect();
    if chars.next().is_some() {
        shown.push('…');
    }
    shown
}

/// Response text quoted, with control characters escaped so the reason stays on one line.
fn show_text(text: &str) -> String {
    format!("{:?}", truncate(text))
}

/// A JSON value for a reason: strings quoted as JSON writes them, numbers as written,
/// arrays and objects on one line.
fn show_json(value: &RawJson) -> String {
    match JsonValue::of(value) {
        JsonValue::String(text) => truncate(&serde_json::Value::String(text).to_string()),
        _ => truncate(&compact_json(value.get(), SHOWN_CHARS + 1)),
    }
}

/// JSON text without the spaces and line breaks between its tokens, up to `limit`
/// characters; numbers and strings stay exactly as written.
fn compact_json(text: &str, limit: usize) -> String {
    let mut compact = String::new();
    let mut kept = 0;
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if kept >= limit {
            break;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c.is_whitespace() {
            continue;
        }
        compact.push(c);
        kept += 1;
    }
    compact
}

/// Quotes text the way the condition language reads it back.
fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod gatus_cases;

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::TimeDelta;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_750_000_000, 0).expect("a valid timestamp")
    }

    fn parse(text: &str) -> Condition {
        match Condition::parse(text) {
            Ok(condition) => condition,
            Err(e) => panic!("`{text}` should parse, but: {e}"),
        }
    }

    fn error(text: &str) -> ConditionSyntaxError {
        match Condition::parse(text) {
            Ok(condition) => panic!("`{text}` should not parse, but gave {condition:?}"),
            Err(e) => e,
        }
    }

    fn http(status: u16, body: &str) -> Observation {
        Observation {
            target: "https://example.com/health".into(),
            connected: true,
            elapsed: Duration::from_millis(120),
            status: Some(status),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some(body.into()),
            ..Observation::default()
        }
    }

    fn dns(rcode: &str, answers: &[&str]) -> Observation {
        Observation {
            target: "example.com".into(),
            connected: true,
            dns_rcode: Some(rcode.into()),
            dns_answers: answers.iter().map(|a| (*a).to_owned()).collect(),
            ..Observation::default()
        }
    }

    fn tls(not_after: DateTime<Utc>) -> Observation {
        Observation {
            target: "example.com:443".into(),
            connected: true,
            certificate_not_after: Some(not_after),
            ..Observation::default()
        }
    }

    fn verdict(text: &str, observation: &Observation) -> Verdict {
        parse(text).evaluate(observation, now())
    }

    fn passes(text: &str, observation: &Observation) -> bool {
        verdict(text, observation).passed
    }

    fn reason(text: &str, observation: &Observation) -> String {
        let verdict = verdict(text, observation);
        assert!(!verdict.passed, "`{text}` should fail");
        verdict.reason.expect("a failed verdict has a reason")
    }

    // --- parsing ---------------------------------------------------------------------

    #[test]
    fn parses_every_placeholder() {
        for text in [
            "[STATUS] == 200",
            "[RESPONSE_TIME] < 300",
            "[BODY] contains ok",
            "[BODY].a.b[0].c == 1",
            "[BODY][0] == 1",
            "[BODY].\"odd key\".x == 1",
            "[HEADER].Content-Type contains json",
            "[CONNECTED] == true",
            "[CERT_DAYS_LEFT] > 14",
            "[CERTIFICATE_EXPIRATION] > 48h",
            "[DNS_RCODE] == NOERROR",
            "len([BODY]) > 0",
            "len([BODY].items) > 0",
        ] {
            parse(text);
        }
    }

    #[test]
    fn parses_every_operator() {
        let cases = [
            ("[STATUS] == 200", Operator::Eq),
            ("[STATUS] != 200", Operator::Ne),
            ("[STATUS] < 200", Operator::Lt),
            ("[STATUS] <= 200", Operator::Le),
            ("[STATUS] > 200", Operator::Gt),
            ("[STATUS] >= 200", Operator::Ge),
            ("[BODY] contains x", Operator::Contains),
            ("[BODY] not contains x", Operator::NotContains),
            ("[BODY] not    contains x", Operator::NotContains),
            ("[BODY] matches ^x$", Operator::Matches),
        ];
        for (text, operator) in cases {
            assert_eq!(parse(text).operator, operator, "{text}");
        }
    }

    #[test]
    fn whitespace_is_free() {
        for text in [
            "[STATUS]==200",
            "  [STATUS]   ==\t200  ",
            "len( [BODY].items )>0",
            "[BODY].a==\"x\"",
        ] {
            parse(text);
        }
        assert_eq!(parse(" [STATUS]==200 ").source(), " [STATUS]==200 ");
    }

    #[test]
    fn values_are_typed() {
        assert!(matches!(
            parse("[STATUS] == 200").value,
            Literal::Number { ref value, .. } if *value == Decimal::from_integer(200)
        ));
        assert!(matches!(
            parse("[BODY].x == 2.5").value,
            Literal::Number { ref value, .. } if Some(value) == Decimal::parse("2.5").as_ref()
        ));
        assert!(matches!(
            parse("[CERT_DAYS_LEFT] > -3").value,
            Literal::Number { ref value, .. } if *value == Decimal::from_integer(-3)
        ));
        assert!(matches!(
            parse("[CONNECTED] == false").value,
            Literal::Bool(false)
        ));
        assert!(matches!(
            parse("[BODY] == 127.0.0.1").value,
            Literal::Text { ref value, bare: true } if value == "127.0.0.1"
        ));
        assert!(matches!(
            parse(r#"[BODY] == "say \"hi\" \\ bye""#).value,
            Literal::Text { ref value, bare: false } if value == r#"say "hi" \ bye"#
        ));
        // Durations are text except where a time is expected.
        assert!(matches!(
            parse("[BODY] == 10s").value,
            Literal::Text { ref value, .. } if value == "10s"
        ));
        // Other backslashes are kept, so regexes read naturally.
        assert!(matches!(
            parse(r#"[BODY] == "a\d""#).value,
            Literal::Text { ref value, .. } if value == r"a\d"
        ));
    }

    #[test]
    fn durations_in_every_unit() {
        for (text, millis) in [
            ("500ms", 500),
            ("10s", 10_000),
            ("5m", 300_000),
            ("48h", 172_800_000),
            ("14d", 1_209_600_000),
        ] {
            let condition = parse(&format!("[RESPONSE_TIME] < {text}"));
            assert!(
                matches!(condition.value, Literal::Duration { millis: m, .. } if m == millis),
                "{text}"
            );
            parse(&format!("[CERTIFICATE_EXPIRATION] > {text}"));
        }
        assert!(matches!(
            parse("[RESPONSE_TIME] < 300").value,
            Literal::Number { .. }
        ));
    }

    #[test]
    fn json_paths_parse_into_segments() {
        let Subject::BodyPath(path) = parse(r#"[BODY].a.b[0]."odd key"[12] == 1"#).subject else {
            panic!("expected a body path");
        };
        assert_eq!(
            path.segments,
            vec![
                Segment::Key("a".into()),
                Segment::Key("b".into()),
                Segment::Index(0),
                Segment::Key("odd key".into()),
                Segment::Index(12),
            ]
        );
        assert_eq!(path.to_string(), r#"[BODY].a.b[0]."odd key"[12]"#);
    }

    #[test]
    fn display_is_the_source() {
        let text = "[BODY].status ==   \"ok\"";
        assert_eq!(parse(text).to_string(), text);
        assert_eq!(parse(text).source(), text);
    }

    #[test]
    fn regex_is_compiled_at_parse_time() {
        let condition = parse(r#"[BODY] matches "^v\d+\.\d+$""#);
        assert!(condition.evaluate(&http(200, "v1.22"), now()).passed);
        assert!(!condition.evaluate(&http(200, "v1"), now()).passed);
    }

    // --- syntax errors -----------------------------------------------------------------

    #[test]
    fn single_equals_is_not_an_operator() {
        assert_eq!(
            error("[STATUS] = 200"),
            ConditionSyntaxError {
                column: 10,
                message: "expected an operator (==, !=, <, <=, >, >=, contains, not contains, matches), found `=`".into(),
            }
        );
    }

    #[test]
    fn unknown_placeholder_lists_the_known_ones() {
        let e = error("[STATS] == 200");
        assert_eq!(e.column, 1);
        assert!(
            e.message.starts_with(
                "unknown placeholder `[STATS]`; known: [STATUS], [RESPONSE_TIME], [BODY], [HEADER], [CONNECTED], [CERT_DAYS_LEFT], [CERTIFICATE_EXPIRATION], [DNS_RCODE]"
            ),
            "{}",
            e.message
        );
        assert!(
            e.message.ends_with("did you mean [STATUS]?"),
            "{}",
            e.message
        );
        assert!(
            error("[status] == 200")
                .message
                .contains("did you mean [STATUS]?")
        );
        assert!(!error("[NOPE] == 1").message.contains("did you mean"));
    }

    #[test]
    fn missing_value() {
        let e = error("[STATUS] ==");
        assert_eq!(e.column, 12);
        assert_eq!(e.message, "expected a value after `==`");
        assert_eq!(
            error("[BODY] not contains  ").message,
            "expected a value after `not contains`"
        );
    }

    #[test]
    fn unterminated_string_points_at_the_quote() {
        let e = error(r#"[BODY] == "abc"#);
        assert_eq!(e.column, 11);
        assert!(
            e.message.starts_with("unterminated string"),
            "{}",
            e.message
        );
        assert_eq!(error(r#"[BODY] == "abc\""#).column, 11);
        assert_eq!(error(r#"[BODY]."key == 1"#).column, 8);
    }

    #[test]
    fn bad_regex_reports_the_regex_error() {
        let e = error("[BODY] matches \"(unclosed\"");
        assert_eq!(e.column, 16);
        assert!(
            e.message.starts_with("invalid regular expression:"),
            "{}",
            e.message
        );
        assert_eq!(e.message, "invalid regular expression: unclosed group");
        assert!(
            !error("[BODY] matches \"a{99999}{99999}\"")
                .message
                .contains('\n')
        );
    }

    #[test]
    fn trailing_garbage() {
        let e = error("[STATUS] == 200 please");
        assert_eq!(e.column, 17);
        assert!(e.message.starts_with("unexpected `please` after the value"));
        assert_eq!(error(r#"[BODY] == "a" "b""#).column, 15);
    }

    #[test]
    fn type_errors_are_caught_at_parse_time() {
        let e = error(r#"[STATUS] < "abc""#);
        assert_eq!(e.column, 12);
        assert_eq!(
            e.message,
            r#"[STATUS] is a number, so it cannot be compared with "abc""#
        );
        assert!(
            error(r#"[STATUS] == "200""#)
                .message
                .ends_with("write 200 without quotes")
        );
        assert_eq!(error("[STATUS] contains 2").column, 10);
        assert_eq!(error("[CONNECTED] > 1").column, 13);
        assert_eq!(error("[CONNECTED] == yes").column, 16);
        assert_eq!(error("[DNS_RCODE] < 3").column, 13);
        assert_eq!(error("[RESPONSE_TIME] < fast").column, 19);
        assert_eq!(error("[RESPONSE_TIME] contains 3").column, 17);
        assert_eq!(error("[BODY].count > many").column, 16);
        assert_eq!(error("[HEADER].x >= \"3\"").column, 15);
        assert_eq!(error("len([BODY]) > lots").column, 15);
        let e = error("[CERTIFICATE_EXPIRATION] > 14");
        assert!(e.message.contains("14d"), "{}", e.message);
    }

    #[test]
    fn duration_errors() {
        let e = error("[RESPONSE_TIME] < 10sec");
        assert_eq!(e.column, 21);
        assert_eq!(
            e.message,
            "unknown duration unit `sec`; use ms, s, m, h or d"
        );
        assert!(
            error("[RESPONSE_TIME] < 99999999999999999999d")
                .message
                .contains("too large")
        );
    }

    #[test]
    fn dns_rcode_typos_are_caught() {
        let e = error("[DNS_RCODE] == NOERRROR");
        assert_eq!(e.column, 16);
        assert!(
            e.message
                .starts_with("unknown DNS response code `NOERRROR`; known: NOERROR")
        );
        parse("[DNS_RCODE] == nxdomain");
        parse("[DNS_RCODE] contains ERR");
    }

    #[test]
    fn structural_errors_point_at_the_culprit() {
        let cases = [
            ("", 1, "the condition is empty"),
            ("   ", 1, "the condition is empty"),
            (
                "200 == [STATUS]",
                1,
                "expected a placeholder such as [STATUS]",
            ),
            ("size([BODY]) > 1", 1, "unknown function `size`"),
            ("len [BODY] > 1", 1, "len needs parentheses"),
            ("len([STATUS]) > 1", 5, "len(...) takes [BODY]"),
            ("len([BODY] > 1", 12, "expected `)` to close `len(`"),
            ("len() > 1", 5, "len(...) takes [BODY]"),
            ("[HEADER] == x", 9, "[HEADER] needs a header name"),
            ("[HEADER]. == x", 10, "expected a header name"),
            (
                "[HEADER].a,b == x",
                11,
                "`,` cannot appear in a header name",
            ),
            ("[BODY]. == 1", 8, "expected a key after `.`"),
            ("[BODY][x] == 1", 7, "expected an array index like [0]"),
            ("[BODY][] == 1", 7, "expected a placeholder name"),
            ("[STATUS == 200", 8, "expected `]` to close `[STATUS`"),
            ("[STATUS].x == 200", 9, "[STATUS] cannot be followed by `.`"),
            ("[STATUS] not == 200", 14, "expected `contains` after `not`"),
            ("[STATUS] equals 200", 10, "found `equals`"),
            ("[STATUS]", 9, "found the end of the condition"),
            ("[STATUS] == == 200", 13, "found another operator `==`"),
            ("[BODY] == [BODY]", 11, "comparing two placeholders"),
            (
                "[BODY] == ab\"c",
                13,
                "unexpected `\"` inside an unquoted value",
            ),
            ("[BODY][99999999999999999999999] == 1", 7, "too large"),
        ];
        for (text, column, message) in cases {
            let e = error(text);
            assert_eq!(e.column, column, "`{text}`: {}", e.message);
            assert!(
                e.message.contains(message),
                "`{text}`: `{}` should contain `{message}`",
                e.message
            );
        }
    }

    #[test]
    fn function_calls_as_values_are_refused_by_name() {
        let quote_hint = "; to compare with that exact text, put it in double quotes";
        let cases = [
            (
                "[BODY] == pat(*john*)",
                "`pat(...)` (a wildcard pattern) is not supported; use `contains`, or `matches` with a regular expression",
            ),
            (
                "[BODY].name != pat(*error*)",
                "`pat(...)` (a wildcard pattern) is not supported; use `contains`, or `matches` with a regular expression",
            ),
            (
                "[STATUS] == any(200,429)",
                "`any(...)` (one of several values) is not supported; use `matches` with alternatives, like `[STATUS] matches \"^(200|429)$\"`",
            ),
            (
                "[BODY].name == any(john, jane)",
                "`any(...)` (one of several values) is not supported; use `matches` with alternatives, like `[STATUS] matches \"^(200|429)$\"`",
            ),
            (
                "[BODY] == has([BODY].x)",
                "`has(...)` is not supported; a condition cannot test whether a JSON path is present",
            ),
            (
                "[BODY].n == len([BODY].items)",
                "`len(...)` can only be on the left, like `len([BODY].items) > 0`",
            ),
            (
                "[HEADER].x == lower(ABC)",
                "`lower(...)` looks like a function call, but a value cannot call functions",
            ),
            (
                "[DNS_RCODE] != any(NXDOMAIN,SERVFAIL)",
                "`any(...)` (one of several values) is not supported; use `matches` with alternatives, like `[STATUS] matches \"^(200|429)$\"`",
            ),
            (
                "[RESPONSE_TIME] < max(1s)",
                "`max(...)` looks like a function call, but a value cannot call functions",
            ),
            (
                r#"[BODY] == pat(*<div id="user">*)"#,
                "`pat(...)` (a wildcard pattern) is not supported; use `contains`, or `matches` with a regular expression",
            ),
        ];
        for (text, message) in cases {
            let e = error(text);
            assert_eq!(e.message, format!("{message}{quote_hint}"), "{text}");
            // The column of the function's name, the value's first character.
            let call = text.find('(').expect("a call");
            let name = text[..call].rfind(' ').expect("a space before the value") + 2;
            assert_eq!(e.column, name, "{text}");
        }
        // Quoted, the same letters are plain text; after `matches`, a regular expression.
        assert!(passes(
            r#"[BODY] == "pat(*john*)""#,
            &http(200, "pat(*john*)")
        ));
        assert!(!passes(r#"[BODY] == "pat(*john*)""#, &http(200, "john")));
        assert!(passes("[BODY] matches error(s)?", &http(200, "errors")));
        assert!(passes("[BODY] contains \"f(x)\"", &http(200, "f(x) = 1")));
    }

    #[test]
    fn functions_on_the_left_are_refused_by_name() {
        assert_eq!(
            error("has([BODY].errors) == false").message,
            "`has(...)` is not supported; a condition cannot test whether a JSON path is present"
        );
        assert!(
            error("pat(4*) == [STATUS]")
                .message
                .starts_with("`pat(...)` (a wildcard pattern) is not supported")
        );
        assert!(
            error("any(200, 429) == [STATUS]")
                .message
                .starts_with("`any(...)` (one of several values) is not supported")
        );
        assert_eq!(
            error("size([BODY]) > 1").message,
            "unknown function `size`; the only function is len(...)"
        );
    }

    #[test]
    fn gatus_placeholders_sitrep_lacks_are_refused_by_name() {
        let cases = [
            (
                "[IP] == 127.0.0.1",
                1,
                "`[IP]` is not supported: sitrep does not report the address a check reached; for dns checks, [BODY] holds the answers",
            ),
            (
                "[ip] == 127.0.0.1",
                1,
                "`[ip]` is not supported: sitrep does not report the address a check reached; for dns checks, [BODY] holds the answers",
            ),
            (
                "[DOMAIN_EXPIRATION] > 720h",
                1,
                "`[DOMAIN_EXPIRATION]` is not supported: sitrep does not look up domain registrations",
            ),
            (
                "[CONTEXT].user_id == 1",
                1,
                "`[CONTEXT]` is not supported: sitrep has no suites whose checks share values",
            ),
            (
                "len([IP]) > 0",
                5,
                "`[IP]` is not supported: sitrep does not report the address a check reached; for dns checks, [BODY] holds the answers",
            ),
        ];
        for (text, column, message) in cases {
            let e = error(text);
            assert_eq!((e.column, e.message.as_str()), (column, message), "{text}");
        }
    }

    #[test]
    fn placeholders_as_values_are_refused_by_name() {
        let cases = [
            ("[BODY] == [BODY]", "`[BODY]` is a placeholder"),
            ("[STATUS] == [BODY].status", "`[BODY]` is a placeholder"),
            ("[BODY].a != [BODY].b", "`[BODY]` is a placeholder"),
            (
                "[BODY] == [CONTEXT].user_id",
                "`[CONTEXT]` is a placeholder",
            ),
            ("[STATUS] == [IP]", "`[IP]` is a placeholder"),
            ("[BODY] == [status]", "`[status]` is a placeholder"),
            ("[BODY] contains [FOO]", "`[FOO]` looks like a placeholder"),
        ];
        for (text, start) in cases {
            let e = error(text);
            assert_eq!(
                e.message,
                format!(
                    "{start}, and comparing two placeholders is not supported; write a value, or quote it to mean the text"
                ),
                "{text}"
            );
        }
        // An index in brackets is not a placeholder; quoted, a placeholder is text.
        assert!(passes("[BODY] == [0]", &http(200, "[0]")));
        assert!(passes(
            r#"[BODY] contains "[BODY]""#,
            &http(200, "a [BODY] b")
        ));
    }

    #[test]
    fn numbers_in_other_notations_are_refused() {
        let hint = ", or put it in double quotes to compare with that exact text";
        let cases = [
            (
                "[BODY].data == 0x1",
                "`0x1` is a hexadecimal number, which conditions do not read; write it in decimal",
            ),
            (
                "[BODY] == -0XfF",
                "`-0XfF` is a hexadecimal number, which conditions do not read; write it in decimal",
            ),
            (
                "[BODY].data == 0o2",
                "`0o2` is an octal number, which conditions do not read; write it in decimal",
            ),
            (
                "[BODY].data == 0b10",
                "`0b10` is a binary number, which conditions do not read; write it in decimal",
            ),
            (
                "[STATUS] == 0xC8",
                "`0xC8` is a hexadecimal number, which conditions do not read; write it in decimal",
            ),
            ("[BODY] > 1_000", "`1_000` has digit separators; write 1000"),
            (
                "[BODY].mode == 0755",
                "`0755` starts with 0, which some tools read as an octal number; write it without the leading zero",
            ),
            (
                "[BODY].x < .5",
                "`.5` needs a digit before the point; write 0.5",
            ),
            (
                "[BODY].x == -.5",
                "`-.5` needs a digit before the point; write -0.5",
            ),
            (
                "[RESPONSE_TIME] < 5.",
                "`5.` needs a digit after the point; write 5",
            ),
        ];
        for (text, message) in cases {
            let e = error(text);
            assert_eq!(e.message, format!("{message}{hint}"), "{text}");
        }
        // What is plainly a number, a duration or text stays so.
        for text in [
            "[BODY] == 0",
            "[BODY] == -0",
            "[BODY] == 0.5",
            "[BODY] == 127.0.0.1",
            "[BODY] == 0xZ",
            "[BODY] == 0x",
            "[BODY] == 2024-01-01",
            "[RESPONSE_TIME] < 0500ms",
            "[BODY] == \"0x1\"",
            "[BODY] matches 0x1",
        ] {
            parse(text);
        }
        assert!(passes(
            r#"[BODY].data == "0x1""#,
            &http(200, r#"{"data":"0x1"}"#)
        ));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        // "é" is two bytes but one column.
        let e = error("[BODY].é = 1");
        assert_eq!(e.column, 10);
    }

    #[test]
    fn error_display_names_the_column() {
        assert_eq!(
            error("[STATUS] ==").to_string(),
            "at column 12: expected a value after `==`"
        );
    }

    // --- evaluation: the required reason shapes -----------------------------------------

    #[test]
    fn status_reasons() {
        assert!(passes("[STATUS] == 200", &http(200, "")));
        assert_eq!(
            reason("[STATUS] == 200", &http(503, "")),
            "HTTP 503 from https://example.com/health"
        );
        assert_eq!(
            reason("[STATUS] < 400", &http(500, "")),
            "HTTP 500 from https://example.com/health"
        );
        assert!(passes("[STATUS] matches ^2", &http(204, "")));
        assert!(passes("[STATUS] != 500", &http(200, "")));
        assert!(passes("[STATUS] >= 200", &http(200, "")));
        assert!(passes("[STATUS] <= 200", &http(200, "")));
        assert!(!passes("[STATUS] > 200", &http(200, "")));
    }

    #[test]
    fn absent_status_fails_clearly() {
        let observation = Observation {
            target: "https://example.com".into(),
            error: Some("timed out after 10 s".into()),
            ..Observation::default()
        };
        assert_eq!(
            reason("[STATUS] == 200", &observation),
            "no HTTP response from https://example.com: timed out after 10 s"
        );
        assert_eq!(
            reason("[BODY] contains ok", &observation),
            "no response from https://example.com: timed out after 10 s"
        );
        assert_eq!(
            reason("[BODY].x == 1", &observation),
            "no response from https://example.com: timed out after 10 s"
        );
        assert_eq!(
            reason("[HEADER].server == x", &observation),
            "header server is missing"
        );
        assert!(reason("[DNS_RCODE] == NOERROR", &observation).starts_with("no DNS response"));
        assert!(reason("[CERT_DAYS_LEFT] > 1", &observation).starts_with("no TLS certificate"));
        let mut headless = http(204, "");
        headless.body = None;
        assert_eq!(
            reason("len([BODY]) > 0", &headless),
            "response from https://example.com/health had no body"
        );
    }

    #[test]
    fn certificate_days_reasons() {
        let days = |n: i64| tls(now() + TimeDelta::days(n) + TimeDelta::hours(1));
        let cases = [
            (3, "expires in 3 days"),
            (1, "expires in 1 day"),
            (0, "expires today"),
        ];
        for (left, phrase) in cases {
            assert_eq!(
                reason("[CERT_DAYS_LEFT] > 14", &days(left)),
                format!("TLS certificate for example.com:443 {phrase}")
            );
        }
        let expired = tls(now() - TimeDelta::days(2));
        assert_eq!(
            reason("[CERT_DAYS_LEFT] > 14", &expired),
            "TLS certificate for example.com:443 expired 2 days ago"
        );
        assert_eq!(
            reason(
                "[CERT_DAYS_LEFT] > 14",
                &tls(now() - TimeDelta::days(2) - TimeDelta::hours(3))
            ),
            "TLS certificate for example.com:443 expired 2 days ago"
        );
        assert_eq!(
            reason("[CERT_DAYS_LEFT] > 0", &tls(now() - TimeDelta::days(1))),
            "TLS certificate for example.com:443 expired 1 day ago"
        );
        assert!(passes("[CERT_DAYS_LEFT] > 14", &days(15)));
        // Whole days, rounded down: 14 days and 23 hours is 14 days.
        assert!(!passes(
            "[CERT_DAYS_LEFT] > 14",
            &tls(now() + TimeDelta::days(14) + TimeDelta::hours(23))
        ));
        assert!(passes("[CERT_DAYS_LEFT] == -2", &expired));
    }

    #[test]
    fn certificate_expiration_is_a_duration() {
        let observation = tls(now() + TimeDelta::hours(30));
        assert!(passes("[CERTIFICATE_EXPIRATION] > 24h", &observation));
        assert!(passes("[CERTIFICATE_EXPIRATION] > 1d", &observation));
        assert_eq!(
            reason("[CERTIFICATE_EXPIRATION] > 48h", &observation),
            "TLS certificate for example.com:443 expires in 30 hours (limit: > 48h)"
        );
        assert_eq!(
            reason(
                "[CERTIFICATE_EXPIRATION] > 14d",
                &tls(now() - TimeDelta::days(3))
            ),
            "TLS certificate for example.com:443 expired 3 days ago (limit: > 14d)"
        );
    }

    #[test]
    fn response_time_reasons() {
        let mut observation = http(200, "");
        observation.elapsed = Duration::from_micros(812_700);
        assert_eq!(
            reason("[RESPONSE_TIME] < 300", &observation),
            "responded in 812 ms (limit: < 300 ms)"
        );
        assert_eq!(
            reason("[RESPONSE_TIME] <= 500ms", &observation),
            "responded in 812 ms (limit: <= 500ms)"
        );
        assert!(passes("[RESPONSE_TIME] < 1s", &observation));
        assert!(passes("[RESPONSE_TIME] == 812", &observation));
        assert!(passes("[RESPONSE_TIME] > 0.5", &observation));
    }

    #[test]
    fn body_reasons() {
        assert!(passes("[BODY] contains \"ok\"", &http(200, "all ok")));
        assert_eq!(
            reason("[BODY] contains \"ok\"", &http(200, "down")),
            r#"response body does not contain "ok""#
        );
        assert_eq!(
            reason("[BODY] contains ok", &http(200, "down")),
            r#"response body does not contain "ok""#
        );
        assert_eq!(
            reason("[BODY] not contains error", &http(200, "an error")),
            r#"response body contains "error""#
        );
        assert_eq!(
            reason("[BODY] matches \"^ok$\"", &http(200, "nope")),
            r#"response body does not match regex "^ok$""#
        );
        assert_eq!(
            reason("[BODY] == ok", &http(200, "ok\n")),
            r#"response body is "ok\n" (expected == "ok")"#
        );
        assert_eq!(
            reason("[BODY] > 5", &http(200, "abc")),
            r#"response body is "abc", not a number, so it cannot be compared with > 5"#
        );
        assert!(passes("[BODY] > 5", &http(200, "42\n")));
        let long = "x".repeat(1000);
        let long_reason = reason("[BODY] == y", &http(200, &long));
        assert!(long_reason.chars().count() < 200, "{long_reason}");
        assert!(long_reason.contains('…'));
    }

    #[test]
    fn json_path_reasons() {
        let body = r#"{"status":"degraded","count":3,"up":true,"none":null,
            "a":{"b":[{"c":"first"},{"c":"second"}]},"odd key":{"x":1},
            "items":[1,2,3],"tags":["blue","green"],"empty":[]}"#;
        let observation = http(200, body);
        assert_eq!(
            reason("[BODY].status == \"ok\"", &observation),
            r#"[BODY].status is "degraded" (expected == "ok")"#
        );
        assert_eq!(
            reason("[BODY].status == ok", &observation),
            r#"[BODY].status is "degraded" (expected == "ok")"#
        );
        for text in [
            "[BODY].status == degraded",
            "[BODY].count == 3",
            "[BODY].count == 3.0",
            "[BODY].count > 2",
            "[BODY].count <= 3",
            "[BODY].up == true",
            "[BODY].none == null",
            "[BODY].a.b[0].c == first",
            "[BODY].a.b[1].c == \"second\"",
            "[BODY].\"odd key\".x == 1",
            "[BODY].tags contains green",
            "[BODY].tags not contains red",
            "[BODY].items contains 2",
            "[BODY].a contains b",
            "[BODY].status contains grad",
            "[BODY].status matches ^deg",
            "[BODY].count matches ^3$",
            "[BODY].status != ok",
        ] {
            assert!(passes(text, &observation), "{text}");
        }
        // Typed equality: the number 3 is not the text "3".
        assert_eq!(
            reason("[BODY].count == \"3\"", &observation),
            r#"[BODY].count is 3 (expected == "3")"#
        );
        assert_eq!(
            reason("[BODY].a.b == 1", &http(200, "{}")),
            "`[BODY].a.b` is missing from the response"
        );
        assert_eq!(
            reason("[BODY].a.b[5].c == 1", &observation),
            "`[BODY].a.b[5].c` is missing from the response"
        );
        assert_eq!(
            reason("[BODY].status[0] == 1", &observation),
            "`[BODY].status[0]` is missing from the response"
        );
        assert_eq!(
            reason("[BODY].status > 1", &observation),
            r#"[BODY].status is "degraded", not a number, so it cannot be compared with > 1"#
        );
        assert!(
            reason("[BODY].count contains 1", &observation)
                .starts_with("[BODY].count is 3, which is neither text")
        );
        assert!(
            reason("[BODY].x == 1", &http(200, "<html>"))
                .starts_with("response body from https://example.com/health is not JSON")
        );
        assert!(passes("[BODY][1] == 20", &http(200, "[10, 20]")));
    }

    #[test]
    fn json_numbers_compare_exactly_as_written() {
        let body = r#"{"balance": 123.40000000000005, "id": 9007199254740993,
            "huge": 18446744073709551617, "zero": -0, "zero_float": -0.0, "kilo": 1e3,
            "small": 1.5E-3, "scaled": 2.5e+2, "price": 1.50,
            "ids": [9007199254740992, 9007199254740993]}"#;
        let observation = http(200, body);
        for text in [
            "[BODY].balance == 123.40000000000005",
            "[BODY].balance > 123.40000000000004",
            "[BODY].balance < 123.40000000000006",
            "[BODY].balance != 123.40000000000003",
            "[BODY].balance == 12340000000000005e-14",
            "[BODY].id == 9007199254740993",
            "[BODY].id != 9007199254740992",
            "[BODY].id > 9007199254740992",
            "[BODY].huge == 18446744073709551617",
            "[BODY].huge > 18446744073709551616",
            "[BODY].zero == 0",
            "[BODY].zero == -0",
            "[BODY].zero >= 0",
            "[BODY].zero_float == 0",
            "[BODY].zero_float <= -0.0",
            "[BODY].kilo == 1000",
            "[BODY].kilo == 1e3",
            "[BODY].kilo == +1000.0",
            "[BODY].small == 0.0015",
            "[BODY].scaled > 249.99",
            "[BODY].price == 1.5",
            "[BODY].price matches ^1\\.50$",
            "[BODY].ids contains 9007199254740993",
            "[BODY].ids not contains 9007199254740994",
        ] {
            assert!(
                passes(text, &observation),
                "{text}: {:?}",
                verdict(text, &observation)
            );
        }
        assert_eq!(
            reason("[BODY].balance == 123.40000000000003", &observation),
            "[BODY].balance is 123.40000000000005 (expected == 123.40000000000003)"
        );
        assert_eq!(
            reason("[BODY].id == 9007199254740992", &observation),
            "[BODY].id is 9007199254740993 (expected == 9007199254740992)"
        );
        assert_eq!(
            reason("[BODY].zero < 0", &observation),
            "[BODY].zero is -0 (expected < 0)"
        );
        assert_eq!(
            reason("[BODY].ids contains 9007199254740994", &observation),
            "[BODY].ids is [9007199254740992,9007199254740993] (expected contains 9007199254740994)"
        );
        // Beyond what a double can hold at all.
        let far = http(200, r#"{"far": 1e400, "near": -1e-400}"#);
        assert!(passes("[BODY].far > 9.99e399", &far));
        assert!(passes("[BODY].near < 0", &far));
        assert!(passes("[BODY].near > -1e-399", &far));
    }

    #[test]
    fn json_is_read_as_written() {
        let body = "{ \"caf\\u00e9\" : [ 1 ,\n\t2.50 ] , \"dup\": 1, \"dup\": 2,
            \"s\": \"tab\\tquote\\\" \\u00e9\", \"o\": { \"k\" : [ true , null ] } }";
        let observation = http(200, body);
        for text in [
            "[BODY].café[1] == 2.5",
            "[BODY].café contains 1",
            "len([BODY].café) == 2",
            "[BODY].dup == 2",
            "len([BODY]) > 1",
            "[BODY].s == \"tab\tquote\\\" é\"",
            "[BODY].o.k[0] == true",
            "[BODY].o.k[1] == null",
            r#"[BODY].o matches "^\{\"k\":\[true,null\]\}$""#,
        ] {
            assert!(
                passes(text, &observation),
                "{text}: {:?}",
                verdict(text, &observation)
            );
        }
        assert_eq!(
            reason("[BODY].café == 1", &observation),
            "[BODY].café is [1,2.50] (expected == 1)"
        );
        assert_eq!(
            reason("[BODY].s == x", &observation),
            r#"[BODY].s is "tab\tquote\" é" (expected == "x")"#
        );
        assert_eq!(
            reason("[BODY].o == x", &observation),
            r#"[BODY].o is {"k":[true,null]} (expected == "x")"#
        );
    }

    #[test]
    fn deeply_nested_bodies_are_judged_without_overflowing() {
        let depth = 100_000;
        let observation = http(200, &("[".repeat(depth) + &"]".repeat(depth)));
        assert!(passes("len([BODY][0][0]) == 1", &observation));
        assert!(!passes("[BODY][0][0] == 1", &observation));
        assert!(!passes("[BODY] contains 1", &observation));
        let long = reason("[BODY][0] == 1", &observation);
        assert!(long.chars().count() < 200, "{long}");
    }

    #[test]
    fn numbers_in_text_compare_exactly_as_written() {
        let body = |text: &str| http(200, text);
        assert!(passes(
            "[BODY] == 123.40000000000005",
            &body("123.40000000000005\n")
        ));
        assert!(!passes(
            "[BODY] == 9007199254740993",
            &body("9007199254740992")
        ));
        assert!(passes(
            "[BODY] > 9007199254740992",
            &body(" 9007199254740993 ")
        ));
        assert!(passes("[BODY] == 1000", &body("1e3")));
        assert!(passes("[BODY] == 0", &body("-0")));
        assert!(passes("[BODY] == 0.5", &body(".5")));
        let mut sized = http(200, "");
        sized
            .headers
            .push(("x-count".into(), "9007199254740993".into()));
        assert!(passes("[HEADER].x-count == 9007199254740993", &sized));
        assert!(!passes("[HEADER].x-count <= 9007199254740992", &sized));
        // inf and NaN read as f64 but are not numbers a condition can compare.
        assert_eq!(
            reason("[BODY] > 1", &body("inf")),
            r#"response body is "inf", not a number, so it cannot be compared with > 1"#
        );
        assert!(!passes("[BODY] == 1", &body("NaN")));
    }

    #[test]
    fn other_numbers_compare_exactly_too() {
        let mut observation = http(200, "");
        assert!(!passes("[STATUS] == 200.0000000000000001", &observation));
        assert!(passes("[STATUS] == 2e2", &observation));
        assert!(passes("[STATUS] < 200.0000000000000001", &observation));
        observation.elapsed = Duration::from_millis(812);
        assert!(passes(
            "[RESPONSE_TIME] > 811.9999999999999999",
            &observation
        ));
        assert!(!passes("[RESPONSE_TIME] < 812", &observation));
        assert!(passes("len([BODY]) == 9", &http(200, "123456789")));
        assert_eq!(
            error("[BODY] == 1e99999999999999999999").message,
            "the number `1e99999999999999999999` is too large"
        );
    }

    #[test]
    fn len_counts_arrays_objects_strings_and_bodies() {
        let observation = http(
            200,
            r#"{"items":[1,2,3],"o":{"a":1},"s":"héllo","n":5,"e":[]}"#,
        );
        assert!(passes("len([BODY].items) == 3", &observation));
        assert!(passes("len([BODY].o) == 1", &observation));
        assert!(passes("len([BODY].s) == 5", &observation));
        assert!(passes("len([BODY]) > 10", &observation));
        assert_eq!(
            reason("len([BODY].e) > 0", &observation),
            "len([BODY].e) is 0 (expected > 0)"
        );
        assert_eq!(
            reason("len([BODY].n) > 0", &observation),
            "[BODY].n is 5, which has no length"
        );
        assert_eq!(
            reason("len([BODY].missing) > 0", &observation),
            "`[BODY].missing` is missing from the response"
        );
        assert!(passes("len([BODY]) == 2", &dns("NOERROR", &["a", "b"])));
    }

    #[test]
    fn header_reasons() {
        let observation = http(200, "");
        assert!(passes("[HEADER].Content-Type contains json", &observation));
        assert!(passes(
            "[HEADER].CONTENT-TYPE == application/json",
            &observation
        ));
        assert_eq!(
            reason("[HEADER].content-type contains html", &observation),
            r#"header content-type is "application/json" (expected contains "html")"#
        );
        let mut bare = observation.clone();
        bare.headers.clear();
        assert_eq!(
            reason("[HEADER].content-type contains json", &bare),
            "header content-type is missing"
        );
        let mut sized = observation;
        sized.headers.push(("content-length".into(), "42".into()));
        assert!(passes("[HEADER].content-length > 0", &sized));
        assert!(passes("[HEADER].content-length == 42", &sized));
        assert_eq!(
            reason("[HEADER].content-type > 0", &sized),
            r#"header content-type is "application/json", not a number, so it cannot be compared with > 0"#
        );
    }

    #[test]
    fn dns_rcode_reasons() {
        assert!(passes(
            "[DNS_RCODE] == NOERROR",
            &dns("NOERROR", &["1.2.3.4"])
        ));
        assert!(passes("[DNS_RCODE] == noerror", &dns("NOERROR", &[])));
        assert_eq!(
            reason("[DNS_RCODE] == NOERROR", &dns("NXDOMAIN", &[])),
            "DNS answered NXDOMAIN for example.com"
        );
        assert!(passes("[DNS_RCODE] != NOERROR", &dns("SERVFAIL", &[])));
        assert!(passes("[DNS_RCODE] matches ^NX", &dns("NXDOMAIN", &[])));
        // The resolver's long names are understood too.
        assert!(passes(
            "[DNS_RCODE] == NXDOMAIN",
            &dns("NON-EXISTENT DOMAIN", &[])
        ));
    }

    #[test]
    fn dns_body_passes_when_any_answer_does() {
        let observation = dns("NOERROR", &["10.0.0.1", "127.0.0.1"]);
        assert!(passes("[BODY] == 127.0.0.1", &observation));
        assert!(passes("[BODY] contains 10.0", &observation));
        assert!(passes("[BODY] matches ^127\\.", &observation));
        assert!(passes("[BODY] != 10.0.0.1", &observation));
        assert_eq!(
            reason("[BODY] == 192.168.0.1", &observation),
            "no DNS answer for example.com is 192.168.0.1 (answers: 10.0.0.1, 127.0.0.1)"
        );
        assert_eq!(
            reason("[BODY] == 1.1.1.1", &dns("NOERROR", &[])),
            "DNS returned no answers for example.com"
        );
        assert_eq!(
            reason("[BODY] == 1.1.1.1", &dns("NXDOMAIN", &[])),
            "DNS answered NXDOMAIN for example.com"
        );
        let many: Vec<String> = (0..8).map(|i| format!("10.0.0.{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(
            reason("[BODY] == 1.1.1.1", &dns("NOERROR", &many)).ends_with("10.0.0.4 and 3 more)")
        );
    }

    #[test]
    fn connected_reasons() {
        let mut observation = Observation {
            target: "db.internal:5432".into(),
            ..Observation::default()
        };
        assert_eq!(
            reason("[CONNECTED] == true", &observation),
            "could not connect to db.internal:5432"
        );
        observation.error = Some("connection refused".into());
        assert_eq!(
            reason("[CONNECTED] == true", &observation),
            "could not connect to db.internal:5432: connection refused"
        );
        assert!(passes("[CONNECTED] == false", &observation));
        assert!(passes("[CONNECTED] != true", &observation));
        observation.connected = true;
        assert_eq!(
            reason("[CONNECTED] == false", &observation),
            "connected to db.internal:5432 (expected no connection)"
        );
    }

    // --- applicability and defaults -----------------------------------------------------

    #[test]
    fn placeholders_apply_to_their_kinds() {
        use CheckKind::{Dns, Http, Tcp, Tls};
        let all = [Http, Tcp, Dns, Tls];
        let cases: [(&str, &[CheckKind]); 11] = [
            ("[STATUS] == 200", &[Http]),
            ("[RESPONSE_TIME] < 1", &all),
            ("[CONNECTED] == true", &all),
            ("[BODY] == x", &[Http, Dns]),
            ("[BODY].a == x", &[Http]),
            ("[HEADER].a == x", &[Http]),
            ("[CERT_DAYS_LEFT] > 1", &[Http, Tls]),
            ("[CERTIFICATE_EXPIRATION] > 1d", &[Http, Tls]),
            ("[DNS_RCODE] == NOERROR", &[Dns]),
            ("len([BODY]) > 1", &[Http, Dns]),
            ("len([BODY].a) > 1", &[Http]),
        ];
        for (text, kinds) in cases {
            let condition = parse(text);
            for kind in all {
                assert_eq!(
                    condition.check_applies_to(kind).is_ok(),
                    kinds.contains(&kind),
                    "{text} on {kind:?}"
                );
            }
        }
        assert_eq!(
            parse("[STATUS] == 200").check_applies_to(Tcp),
            Err("[STATUS] is only available to http checks".to_owned())
        );
        assert_eq!(
            parse("[DNS_RCODE] == NOERROR").check_applies_to(Http),
            Err("[DNS_RCODE] is only available to dns checks".to_owned())
        );
    }

    #[test]
    fn defaults_match_their_source() {
        use CheckKind::{Dns, Http, Tcp, Tls};
        let expected = [
            (Http, "[STATUS] < 400"),
            (Tcp, "[CONNECTED] == true"),
            (Dns, "[DNS_RCODE] == NOERROR"),
            (Tls, "[CERT_DAYS_LEFT] > 14"),
        ];
        let observations = [
            http(200, ""),
            http(500, ""),
            dns("NOERROR", &[]),
            dns("NXDOMAIN", &[]),
            tls(now() + TimeDelta::days(30)),
            tls(now() + TimeDelta::days(3)),
            Observation::default(),
        ];
        for (kind, source) in expected {
            let defaults = Condition::defaults_for(kind);
            assert_eq!(defaults.len(), 1);
            let default = &defaults[0];
            assert_eq!(default.source(), source);
            assert!(default.check_applies_to(kind).is_ok());
            // The hand-built default behaves exactly like its parsed text.
            let parsed = parse(source);
            for observation in &observations {
                assert_eq!(
                    default.evaluate(observation, now()),
                    parsed.evaluate(observation, now()),
                    "{source}"
                );
            }
        }
    }

    // --- robustness ---------------------------------------------------------------------

    #[test]
    fn never_panics() {
        let fragments = [
            "",
            " ",
            "[",
            "]",
            "[]",
            "[[",
            "]]",
            "[STATUS]",
            "[BODY]",
            "[HEADER]",
            ".",
            "..",
            "\"",
            "\\",
            "\"\\",
            "(",
            ")",
            "len(",
            "len",
            "not",
            "contains",
            "matches",
            "=",
            "==",
            "!",
            "!=",
            "<",
            "<=",
            ">",
            ">=",
            "0",
            "-",
            "-1",
            "1.",
            ".5",
            "1e9",
            "10s",
            "10x",
            "true",
            "null",
            "é",
            "日本",
            "🦀",
            "\u{0}",
            "\t",
            "\n",
            "[0]",
            "[99999999999999999999]",
            "[BODY].a",
            "[BODY].\"",
            "\"(\"",
            "(((",
            "a\"b",
            "[DNS_RCODE]",
            "[CONNECTED]",
            "[CERTIFICATE_EXPIRATION]",
            "[RESPONSE_TIME]",
            "[CERT_DAYS_LEFT]",
            "NOERROR",
        ];
        let observations = [
            Observation::default(),
            http(200, r#"{"a":[1,{"b":"c"}],"s":"x"}"#),
            http(500, "not json"),
            dns("NXDOMAIN", &[]),
            dns("NOERROR", &["1.2.3.4"]),
            tls(now() - TimeDelta::days(400)),
            tls(DateTime::<Utc>::MAX_UTC),
            tls(DateTime::<Utc>::MIN_UTC),
        ];
        let mut tried = 0;
        for a in fragments {
            for b in fragments {
                for c in ["", " ", "==", " == ", "\"", "1", "x y"] {
                    for text in [format!("{a}{b}{c}"), format!("{a} {c} {b}")] {
                        tried += 1;
                        match Condition::parse(&text) {
                            Ok(condition) => {
                                for observation in &observations {
                                    let verdict = condition.evaluate(observation, now());
                                    assert_eq!(verdict.passed, verdict.reason.is_none());
                                }
                                for kind in [
                                    CheckKind::Http,
                                    CheckKind::Tcp,
                                    CheckKind::Dns,
                                    CheckKind::Tls,
                                ] {
                                    let _ = condition.check_applies_to(kind);
                                }
                            }
                            Err(e) => {
                                let length = text.chars().count();
                                assert!(
                                    (1..=length + 1).contains(&e.column),
                                    "`{text}`: column {} out of range",
                                    e.column
                                );
                                assert!(!e.message.is_empty());
                            }
                        }
                    }
                }
            }
        }
        assert!(tried > 10_000);
        for text in [
            "[".repeat(1000),
            "]".repeat(1000),
            "\"".repeat(1001),
            format!("[BODY]{}", ".a".repeat(1000)) + " == 1",
            format!("[BODY] == {}", "x".repeat(100_000)),
            format!("[{}] == 1", "A".repeat(10_000)),
            "[BODY] matches \"(((((((((((\"".to_owned(),
            "[BODY] matches \"a{99999}{99999}\"".to_owned(),
        ] {
            if let Ok(condition) = Condition::parse(&text) {
                for observation in &observations {
                    condition.evaluate(observation, now());
                }
            }
        }
    }
}

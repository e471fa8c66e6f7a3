//! Gatus's own condition test cases, run against sitrep's condition language.
//!
//! sitrep's conditions are written like Gatus's, so people bring Gatus conditions with them.
//! Each case below must either be judged exactly as Gatus judges it, or be refused when the
//! config is read with a message naming what is not supported. A few are judged more
//! strictly on purpose (sitrep's JSON comparisons are typed); those fail with a reason where
//! Gatus passes. No case may pass where Gatus fails, and none may be read as literal text
//! that Gatus reads as a function, a placeholder or a number.
//!
//! The cases are copied from `config/endpoint/condition_test.go` of
//! <https://github.com/TwiN/gatus> (commit 08c46354), functions `TestCondition_Validate` and
//! `TestCondition_evaluate`, with the name, condition, result and expected success of each.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::Condition;
use crate::probe::observation::Observation;

/// What sitrep must make of a case.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Judged as Gatus judges it.
    Same,
    /// Refused when parsed; the message contains this text.
    Refused(&'static str),
    /// Accepted, but judged more strictly than Gatus: it fails, with a reason, where Gatus
    /// passes. The text says why.
    Stricter(&'static str),
}

/// The part of Gatus's `Result` a case sets.
#[derive(Debug, Clone, Copy)]
enum Seen {
    Nothing,
    Status(u16),
    Body(&'static str),
    Millis(u64),
    Connected(bool),
    CertificateIn(TimeDelta),
    Ip(&'static str),
}

struct Case {
    name: &'static str,
    condition: &'static str,
    seen: Seen,
    /// Gatus's `ExpectedSuccess`.
    gatus: bool,
    expect: Expect,
}

const fn case(
    name: &'static str,
    condition: &'static str,
    seen: Seen,
    gatus: bool,
    expect: Expect,
) -> Case {
    Case {
        name,
        condition,
        seen,
        gatus,
        expect,
    }
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000, 0).expect("a valid timestamp")
}

fn observation(seen: Seen) -> Observation {
    let base = Observation {
        target: "https://example.org/health".into(),
        ..Observation::default()
    };
    match seen {
        // Gatus's empty result has status 0 and an empty body; sitrep's has neither.
        Seen::Nothing => base,
        // sitrep has no [IP]; the address is only where the probe went.
        Seen::Ip(ip) => Observation {
            target: ip.into(),
            connected: true,
            ..base
        },
        Seen::Status(code) => Observation {
            connected: true,
            status: Some(code),
            ..base
        },
        Seen::Body(body) => Observation {
            connected: true,
            status: Some(200),
            body: Some(body.into()),
            ..base
        },
        Seen::Millis(millis) => Observation {
            connected: true,
            status: Some(200),
            elapsed: Duration::from_millis(millis),
            ..base
        },
        Seen::Connected(connected) => Observation { connected, ..base },
        Seen::CertificateIn(left) => Observation {
            connected: true,
            certificate_not_after: Some(now() + left),
            ..base
        },
    }
}

use Expect::{Refused, Same, Stricter};
use Seen::{Body, CertificateIn, Connected, Ip, Millis, Nothing, Status};

const PAT: &str = "pat(...)";
const ANY: &str = "any(...)";
const HAS: &str = "has(...)";
const TWO: &str = "comparing two placeholders is not supported";
const TYPED: &str = "a JSON string is not a number: comparisons are typed";
const CHARACTERS: &str = "len([BODY]) counts characters, even of a JSON array";
const NO_LENGTH: &str = "a JSON number or boolean has no length";
const FIELDS: &str = "the length of a JSON object is its number of fields";

const HTML_JOHN: &str = r#"<!DOCTYPE html><html lang="en"><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8" /></head><body><div id="user">john.doe</div></body></html>"#;
const HTML_JANE: &str = r#"<!DOCTYPE html><html lang="en"><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8" /></head><body><div id="user">jane.doe</div></body></html>"#;
const ARTICLE: &str = "{\n  \"article\": {\n    \"id\": 123,\n    \"title\": \"Hello, world!\",\n    \"author\": \"John Doe\",\n    \"tags\": [\"hello\", \"world\"],\n    \"content\": \"I really like Gatus!\"\n  }\n}";

/// `TestCondition_evaluate`, in its order, then three forms of its functions it does not test.
const EVALUATE: &[Case] = &[
    case(
        "ip",
        "[IP] == 127.0.0.1",
        Ip("127.0.0.1"),
        true,
        Refused("[IP]"),
    ),
    case("status", "[STATUS] == 200", Status(200), true, Same),
    case(
        "status-failure",
        "[STATUS] == 200",
        Status(500),
        false,
        Same,
    ),
    case(
        "status-using-less-than",
        "[STATUS] < 300",
        Status(201),
        true,
        Same,
    ),
    case(
        "status-using-less-than-failure",
        "[STATUS] < 300",
        Status(404),
        false,
        Same,
    ),
    case(
        "response-time-using-less-than",
        "[RESPONSE_TIME] < 500",
        Millis(50),
        true,
        Same,
    ),
    case(
        "response-time-using-less-than-with-duration",
        "[RESPONSE_TIME] < 1s",
        Millis(50),
        true,
        Same,
    ),
    case(
        "response-time-using-less-than-invalid",
        "[RESPONSE_TIME] < potato",
        Millis(50),
        false,
        Refused("not `potato`"),
    ),
    case(
        "response-time-using-greater-than",
        "[RESPONSE_TIME] > 500",
        Millis(750),
        true,
        Same,
    ),
    case(
        "response-time-using-greater-than-with-duration",
        "[RESPONSE_TIME] > 1s",
        Millis(2000),
        true,
        Same,
    ),
    case(
        "response-time-using-greater-than-or-equal-to-equal",
        "[RESPONSE_TIME] >= 500",
        Millis(500),
        true,
        Same,
    ),
    case(
        "response-time-using-greater-than-or-equal-to-greater",
        "[RESPONSE_TIME] >= 500",
        Millis(499),
        false,
        Same,
    ),
    case(
        "response-time-using-less-than-or-equal-to-equal",
        "[RESPONSE_TIME] <= 500",
        Millis(500),
        true,
        Same,
    ),
    case(
        "response-time-using-less-than-or-equal-to-less",
        "[RESPONSE_TIME] <= 500",
        Millis(25),
        true,
        Same,
    ),
    case(
        "response-time-using-less-than-or-equal-to-failure",
        "[RESPONSE_TIME] <= 500",
        Millis(750),
        false,
        Same,
    ),
    case("body", "[BODY] == test", Body("test"), true, Same),
    case(
        "body-resolved-on-success",
        "[BODY].status == UP",
        Body(r#"{"status":"UP"}"#),
        true,
        Same,
    ),
    case(
        "body-numerical-equal",
        "[BODY] == 123",
        Body("123"),
        true,
        Same,
    ),
    case(
        "body-numerical-less-than",
        "[BODY] < 124",
        Body("123"),
        true,
        Same,
    ),
    case(
        "body-numerical-greater-than",
        "[BODY] > 122",
        Body("123"),
        true,
        Same,
    ),
    case(
        "body-numerical-greater-than-failure",
        "[BODY] > 123",
        Body("100"),
        false,
        Same,
    ),
    case(
        "body-jsonpath",
        "[BODY].status == UP",
        Body(r#"{"status":"UP"}"#),
        true,
        Same,
    ),
    case(
        "body-jsonpath-complex",
        "[BODY].data.name == john",
        Body(r#"{"data": {"id": 1, "name": "john"}}"#),
        true,
        Same,
    ),
    case(
        "body-jsonpath-complex-invalid",
        "[BODY].data.name == john",
        Body(r#"{"data": {"id": 1}}"#),
        false,
        Same,
    ),
    case(
        "body-jsonpath-complex-len-invalid",
        "len([BODY].data.name) == john",
        Body(r#"{"data": {"id": 1}}"#),
        false,
        Refused("len([BODY].data.name) is a number"),
    ),
    case(
        "body-jsonpath-double-placeholder",
        "[BODY].user.firstName != [BODY].user.lastName",
        Body(r#"{"user": {"firstName": "john", "lastName": "doe"}}"#),
        true,
        Refused(TWO),
    ),
    case(
        "body-jsonpath-double-placeholder-failure",
        "[BODY].user.firstName == [BODY].user.lastName",
        Body(r#"{"user": {"firstName": "john", "lastName": "doe"}}"#),
        false,
        Refused(TWO),
    ),
    case(
        "body-jsonpath-when-body-is-array",
        "[BODY][0].id == 1",
        Body(r#"[{"id": 1}, {"id": 2}]"#),
        true,
        Same,
    ),
    case(
        "body-jsonpath-when-body-has-null-parameter",
        "[BODY].data == OK",
        Body(r#"{"data": null}""#),
        false,
        Same,
    ),
    case(
        "body-jsonpath-when-body-has-array-with-null",
        "[BODY].items[0] == OK",
        Body(r#"{"items": [null, null]}""#),
        false,
        Same,
    ),
    case(
        "body-jsonpath-when-body-is-null",
        "[BODY].data == OK",
        Body("null"),
        false,
        Same,
    ),
    case(
        "body-jsonpath-when-body-is-array-but-actual-body-is-not",
        "[BODY][0].name == test",
        Body(r#"{"statusCode": 500, "message": "Internal Server Error"}"#),
        false,
        Same,
    ),
    case(
        "body-jsonpath-complex-int",
        "[BODY].data.id == 1",
        Body(r#"{"data": {"id": 1}}"#),
        true,
        Same,
    ),
    case(
        "body-jsonpath-complex-array-int",
        "[BODY].data[1].id == 2",
        Body(r#"{"data": [{"id": 1}, {"id": 2}, {"id": 3}]}"#),
        true,
        Same,
    ),
    case(
        "body-jsonpath-complex-int-using-greater-than",
        "[BODY].data.id > 0",
        Body(r#"{"data": {"id": 1}}"#),
        true,
        Same,
    ),
    case(
        "body-jsonpath-hexadecimal-int-using-greater-than",
        "[BODY].data > 0",
        Body(r#"{"data": "0x1"}"#),
        true,
        Stricter(TYPED),
    ),
    case(
        "body-jsonpath-hexadecimal-int-using-equal-to-0x1",
        "[BODY].data == 1",
        Body(r#"{"data": "0x1"}"#),
        true,
        Stricter(TYPED),
    ),
    case(
        "body-jsonpath-hexadecimal-int-using-equals",
        "[BODY].data == 0x1",
        Body(r#"{"data": "0x1"}"#),
        true,
        Refused("`0x1` is a hexadecimal number"),
    ),
    case(
        "body-jsonpath-hexadecimal-int-using-equal-to-0x2",
        "[BODY].data == 2",
        Body(r#"{"data": "0x2"}"#),
        true,
        Stricter(TYPED),
    ),
    case(
        "body-jsonpath-hexadecimal-int-using-equal-to-0xF",
        "[BODY].data == 15",
        Body(r#"{"data": "0xF"}"#),
        true,
        Stricter(TYPED),
    ),
    case(
        "body-jsonpath-hexadecimal-int-using-equal-to-0xC0ff33",
        "[BODY].data == 12648243",
        Body(r#"{"data": "0xC0ff33"}"#),
        true,
        Stricter(TYPED),
    ),
    case(
        "body-jsonpath-hexadecimal-int-len",
        "len([BODY].data) == 3",
        Body(r#"{"data": "0x1"}"#),
        true,
        Same,
    ),
    case(
        "body-jsonpath-hexadecimal-int-greater",
        "[BODY].data >= 1",
        Body(r#"{"data": "0x01"}"#),
        true,
        Stricter(TYPED),
    ),
    case(
        "body-jsonpath-hexadecimal-int-0x01-len",
        "len([BODY].data) == 4",
        Body(r#"{"data": "0x01"}"#),
        true,
        Same,
    ),
    case(
        "body-jsonpath-octal-int-using-greater-than",
        "[BODY].data > 0",
        Body(r#"{"data": "0o1"}"#),
        true,
        Stricter(TYPED),
    ),
    case(
        "body-jsonpath-octal-int-using-equal",
        "[BODY].data == 2",
        Body(r#"{"data": "0o2"}"#),
        true,
        Stricter(TYPED),
    ),
    case(
        "body-jsonpath-octal-int-using-equals",
        "[BODY].data == 0o2",
        Body(r#"{"data": "0o2"}"#),
        true,
        Refused("`0o2` is an octal number"),
    ),
    case(
        "body-jsonpath-binary-int-using-greater-than",
        "[BODY].data > 0",
        Body(r#"{"data": "0b1"}"#),
        true,
        Stricter(TYPED),
    ),
    case(
        "body-jsonpath-binary-int-using-equal",
        "[BODY].data == 2",
        Body(r#"{"data": "0b0010"}"#),
        true,
        Stricter(TYPED),
    ),
    case(
        "body-jsonpath-binary-int-using-equals",
        "[BODY].data == 0b10",
        Body(r#"{"data": "0b0010"}"#),
        true,
        Refused("`0b10` is a binary number"),
    ),
    case(
        "body-jsonpath-complex-int-using-greater-than-failure",
        "[BODY].data.id > 5",
        Body(r#"{"data": {"id": 1}}"#),
        false,
        Same,
    ),
    case(
        "body-jsonpath-float-using-greater-than-issue433",
        "[BODY].balance > 100",
        Body(r#"{"balance": "123.40000000000005"}"#),
        true,
        Stricter(TYPED),
    ),
    case(
        "body-jsonpath-complex-int-using-less-than",
        "[BODY].data.id < 5",
        Body(r#"{"data": {"id": 2}}"#),
        true,
        Same,
    ),
    case(
        "body-jsonpath-complex-int-using-less-than-failure",
        "[BODY].data.id < 5",
        Body(r#"{"data": {"id": 10}}"#),
        false,
        Same,
    ),
    case(
        "connected",
        "[CONNECTED] == true",
        Connected(true),
        true,
        Same,
    ),
    case(
        "connected-failure",
        "[CONNECTED] == true",
        Connected(false),
        false,
        Same,
    ),
    case(
        "certificate-expiration-not-set",
        "[CERTIFICATE_EXPIRATION] == 0",
        Nothing,
        true,
        Refused("needs a unit"),
    ),
    case(
        "certificate-expiration-greater-than-numerical",
        "[CERTIFICATE_EXPIRATION] > 2419200000",
        CertificateIn(TimeDelta::days(60)),
        true,
        Refused("needs a unit"),
    ),
    case(
        "certificate-expiration-greater-than-numerical-failure",
        "[CERTIFICATE_EXPIRATION] > 2419200000",
        CertificateIn(TimeDelta::days(14)),
        false,
        Refused("needs a unit"),
    ),
    case(
        "certificate-expiration-greater-than-duration",
        "[CERTIFICATE_EXPIRATION] > 12h",
        CertificateIn(TimeDelta::hours(24)),
        true,
        Same,
    ),
    case(
        "certificate-expiration-greater-than-duration",
        "[CERTIFICATE_EXPIRATION] > 48h",
        CertificateIn(TimeDelta::hours(24)),
        false,
        Same,
    ),
    case(
        "no-placeholders",
        "1 == 2",
        Nothing,
        false,
        Refused("expected a placeholder"),
    ),
    case(
        "len-body-jsonpath-complex",
        "len([BODY].data.name) == 4",
        Body(r#"{"data": {"name": "john"}}"#),
        true,
        Same,
    ),
    case(
        "len-body-array",
        "len([BODY]) == 3",
        Body(r#"[{"id": 1}, {"id": 2}, {"id": 3}]"#),
        true,
        Stricter(CHARACTERS),
    ),
    case(
        "len-body-keyed-array",
        "len([BODY].data) == 3",
        Body(r#"{"data": [{"id": 1}, {"id": 2}, {"id": 3}]}"#),
        true,
        Same,
    ),
    case(
        "len-body-array-invalid",
        "len([BODY].data) == 8",
        Body(r#"{"name": "john.doe"}"#),
        false,
        Same,
    ),
    case(
        "len-body-string",
        "len([BODY]) == 8",
        Body("john.doe"),
        true,
        Same,
    ),
    case(
        "len-body-keyed-string",
        "len([BODY].name) == 8",
        Body(r#"{"name": "john.doe"}"#),
        true,
        Same,
    ),
    case(
        "len-body-keyed-int",
        "len([BODY].age) == 2",
        Body(r#"{"age":18}"#),
        true,
        Stricter(NO_LENGTH),
    ),
    case(
        "len-body-keyed-bool",
        "len([BODY].adult) == 4",
        Body(r#"{"adult":true}"#),
        true,
        Stricter(NO_LENGTH),
    ),
    case(
        "len-body-object-inside-array",
        "len([BODY][0]) == 23",
        Body(r#"[{"age":18,"adult":true}]"#),
        true,
        Stricter(FIELDS),
    ),
    case(
        "len-body-object-keyed-int-inside-array",
        "len([BODY][0].age) == 2",
        Body(r#"[{"age":18,"adult":true}]"#),
        true,
        Stricter(NO_LENGTH),
    ),
    case(
        "len-body-keyed-bool-inside-array",
        "len([BODY][0].adult) == 4",
        Body(r#"[{"age":18,"adult":true}]"#),
        true,
        Stricter(NO_LENGTH),
    ),
    case(
        "len-body-object",
        "len([BODY]) == 20",
        Body(r#"{"name": "john.doe"}"#),
        true,
        Same,
    ),
    case(
        "pat-body-1",
        "[BODY] == pat(*john*)",
        Body(r#"{"name": "john.doe"}"#),
        true,
        Refused(PAT),
    ),
    case(
        "pat-body-2",
        "[BODY].name == pat(john*)",
        Body(r#"{"name": "john.doe"}"#),
        true,
        Refused(PAT),
    ),
    case(
        "pat-body-failure",
        "[BODY].name == pat(bob*)",
        Body(r#"{"name": "john.doe"}"#),
        false,
        Refused(PAT),
    ),
    case(
        "pat-body-html",
        r#"[BODY] == pat(*<div id="user">john.doe</div>*)"#,
        Body(HTML_JOHN),
        true,
        Refused(PAT),
    ),
    case(
        "pat-body-html-failure",
        r#"[BODY] == pat(*<div id="user">john.doe</div>*)"#,
        Body(HTML_JANE),
        false,
        Refused(PAT),
    ),
    case(
        "pat-body-html-failure-alt",
        r#"pat(*<div id="user">john.doe</div>*) == [BODY]"#,
        Body(HTML_JANE),
        false,
        Refused(PAT),
    ),
    case(
        "pat-body-in-array",
        "[BODY].data == pat(*Whatever*)",
        Body(r#"{"data": ["hello", "world", "Whatever"]}"#),
        true,
        Refused(PAT),
    ),
    case(
        "pat-ip",
        "[IP] == pat(10.*)",
        Ip("10.0.0.0"),
        true,
        Refused("[IP]"),
    ),
    case(
        "pat-ip-failure",
        "[IP] == pat(10.*)",
        Ip("255.255.255.255"),
        false,
        Refused("[IP]"),
    ),
    case(
        "pat-status",
        "[STATUS] == pat(4*)",
        Status(404),
        true,
        Refused(PAT),
    ),
    case(
        "pat-status-failure",
        "[STATUS] == pat(4*)",
        Status(200),
        false,
        Refused(PAT),
    ),
    case(
        "any-body-1",
        "[BODY].name == any(john.doe, jane.doe)",
        Body(r#"{"name": "john.doe"}"#),
        true,
        Refused(ANY),
    ),
    case(
        "any-body-2",
        "[BODY].name == any(john.doe, jane.doe)",
        Body(r#"{"name": "jane.doe"}"#),
        true,
        Refused(ANY),
    ),
    case(
        "any-body-failure",
        "[BODY].name == any(john.doe, jane.doe)",
        Body(r#"{"name": "bob"}"#),
        false,
        Refused(ANY),
    ),
    case(
        "any-status-1",
        "[STATUS] == any(200, 429)",
        Status(200),
        true,
        Refused(ANY),
    ),
    case(
        "any-status-2",
        "[STATUS] == any(200, 429)",
        Status(429),
        true,
        Refused(ANY),
    ),
    case(
        "any-status-reverse",
        "any(200, 429) == [STATUS]",
        Status(429),
        true,
        Refused(ANY),
    ),
    case(
        "any-status-failure",
        "[STATUS] == any(200, 429)",
        Status(404),
        false,
        Refused(ANY),
    ),
    case(
        "has",
        "has([BODY].errors) == false",
        Body("{}"),
        true,
        Refused(HAS),
    ),
    case(
        "has-key-of-map",
        "has([BODY].article) == true",
        Body(ARTICLE),
        true,
        Refused(HAS),
    ),
    case(
        "has-failure",
        "has([BODY].errors) == false",
        Body(r#"{"errors": ["1"]}"#),
        false,
        Refused(HAS),
    ),
    // Not in Gatus's tests: the same functions written without spaces, which a split on
    // spaces cannot catch, and with `!=`, where reading them as text would always pass.
    case(
        "any-body-without-spaces",
        "[BODY].name == any(john.doe,jane.doe)",
        Body(r#"{"name": "john.doe"}"#),
        true,
        Refused(ANY),
    ),
    case(
        "any-status-without-spaces",
        "[STATUS] == any(200,429)",
        Status(429),
        true,
        Refused(ANY),
    ),
    case(
        "pat-body-not-equal",
        "[BODY] != pat(*error*)",
        Body("internal error"),
        false,
        Refused(PAT),
    ),
];

/// `TestCondition_Validate`: whether Gatus accepts each condition, and what sitrep does.
/// Accepted ones are only parsed here; `EVALUATE` judges them.
const VALIDATE: &[(&str, bool, Expect)] = &[
    ("[STATUS] == 200", true, Same),
    ("[STATUS] != 200", true, Same),
    ("[STATUS] <= 200", true, Same),
    ("[STATUS] >= 200", true, Same),
    ("[STATUS] < 200", true, Same),
    ("[STATUS] > 200", true, Same),
    ("[STATUS] == any(200, 201, 202, 203)", true, Refused(ANY)),
    ("[STATUS] == [BODY].status", true, Refused(TWO)),
    ("[CONNECTED] == true", true, Same),
    ("[RESPONSE_TIME] < 500", true, Same),
    ("[IP] == 127.0.0.1", true, Refused("[IP]")),
    ("[BODY] == 1", true, Same),
    ("[BODY].test == wat", true, Same),
    ("[BODY].test.wat == wat", true, Same),
    ("[BODY].age == [BODY].id", true, Refused(TWO)),
    ("[BODY].users[0].id == 1", true, Same),
    ("len([BODY].users) == 100", true, Same),
    ("len([BODY].data) < 5", true, Same),
    ("has([BODY].errors) == false", true, Refused(HAS)),
    ("has([BODY].users[0].name) == true", true, Refused(HAS)),
    ("[BODY].name == pat(john*)", true, Refused(PAT)),
    ("[CERTIFICATE_EXPIRATION] > 48h", true, Same),
    (
        "[DOMAIN_EXPIRATION] > 720h",
        true,
        Refused("[DOMAIN_EXPIRATION]"),
    ),
    ("raw == raw", true, Refused("expected a placeholder")),
    ("[STATUS] ? 201", false, Refused("expected an operator")),
    // Gatus needs spaces around operators; sitrep reads this as `[STATUS] == 201`.
    ("[STATUS]==201", false, Same),
    ("[STATUS] = = 201", false, Refused("expected an operator")),
    ("[STATUS] ==", false, Refused("expected a value")),
    ("[STATUS]", false, Refused("expected an operator")),
    // Placeholders Gatus has and sitrep does not, on either side.
    ("[BODY] == [CONTEXT].user_id", true, Refused("[CONTEXT]")),
    ("[CONTEXT].user_id == 1", true, Refused("[CONTEXT]")),
    ("[STATUS] == [IP]", true, Refused(TWO)),
    ("len([IP]) > 0", true, Refused("[IP]")),
];

#[test]
fn gatus_evaluate_cases_are_judged_alike_or_refused() {
    let mut failures = Vec::new();
    for case in EVALUATE {
        let Case {
            name,
            condition,
            seen,
            gatus,
            expect,
        } = *case;
        let parsed = Condition::parse(condition);
        let problem = match (expect, parsed) {
            (Refused(fragment), Err(e)) if e.message.contains(fragment) => None,
            (Refused(fragment), Err(e)) => Some(format!(
                "refused, but the message `{}` does not name `{fragment}`",
                e.message
            )),
            (Refused(_), Ok(_)) => Some("accepted, but it must be refused".to_owned()),
            (Same | Stricter(_), Err(e)) => Some(format!("refused: {e}")),
            (Same, Ok(parsed)) => {
                let verdict = parsed.evaluate(&observation(seen), now());
                (verdict.passed != gatus).then(|| {
                    format!(
                        "Gatus says {gatus}, sitrep says {} ({:?})",
                        verdict.passed, verdict.reason
                    )
                })
            }
            (Stricter(why), Ok(parsed)) => {
                let verdict = parsed.evaluate(&observation(seen), now());
                if !gatus {
                    Some(format!("marked stricter ({why}) but Gatus fails it too"))
                } else if verdict.passed || verdict.reason.is_none() {
                    Some(format!("should fail with a reason ({why})"))
                } else {
                    None
                }
            }
        };
        if let Some(problem) = problem {
            failures.push(format!("{name}: `{condition}`: {problem}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn gatus_validate_cases_are_accepted_or_refused() {
    let mut failures = Vec::new();
    for &(condition, gatus_accepts, expect) in VALIDATE {
        let parsed = Condition::parse(condition);
        let problem = match (expect, parsed) {
            (Same, Ok(_)) => None,
            (Same, Err(e)) => Some(format!("refused ({e}); Gatus accepts it: {gatus_accepts}")),
            (Refused(fragment), Err(e)) if e.message.contains(fragment) => None,
            (Refused(fragment), Err(e)) => Some(format!(
                "refused, but the message `{}` does not name `{fragment}`",
                e.message
            )),
            (Refused(_) | Stricter(_), Ok(_)) => Some("accepted, but it must be refused".into()),
            (Stricter(_), Err(e)) => Some(format!("refused: {e}")),
        };
        if let Some(problem) = problem {
            failures.push(format!("`{condition}`: {problem}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! Every kind of configuration mistake gets its own precise message, with the dotted path of
//! the field and the 1-based line and column it comes from; several mistakes are all reported,
//! in source order; and no text, however mangled, makes the parser panic.
//!
//! Positions are asserted against where the offending text really is in the document
//! ([`position_of`]), so a test cannot pass with an error that points at a neighbouring line.

use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::time::Duration;

use shared::config::{
    CheckKind, Config, ConfigError, ConfigErrors, DnsRecordType, IncidentTrigger, Quorum, Target,
};
use shared::maintenance::Schedule;

/// A small valid document. Tests append to it or replace parts of it.
const VALID: &str = r#"[service]
name = "Acme Cloud"
status_url = "https://status.acme-cloud.example"

[[components]]
id = "api"
name = "Public API"

[[components]]
id = "dashboard"
name = "Dashboard"

[[checks]]
id = "api-health"
component = "api"
kind = "http"
url = "https://api.acme-cloud.example/health"
"#;

/// `VALID`'s check with conditions in every string form, with escapes and wide characters,
/// whose source and text differ in length: mangling them tests the column arithmetic.
const ESCAPED: &str = concat!(
    r#"[service]
name = "Acme Cloud"
status_url = "https://status.acme-cloud.example"

[[components]]
id = "api"
name = "Public API"

[[checks]]
id = "api-health"
component = "api"
kind = "http"
url = "https://api.acme-cloud.example/health"
"#,
    "conditions = [\"\\t[BODY].caf\\u00e9 == \\\"d\\u00e9j\\u00e0 vu\\\"\", ",
    "'[HEADER].X-Cafe contains \"\u{e9}t\u{e9}\"', ",
    "\"\"\"\n[BODY].\\\"cl\u{e9}\\\" == \\\n   \\U0001F600\"\"\"]\n",
);

/// The complete example shipped with sitrep.
const EXAMPLE: &str = include_str!("../../examples/sitrep.toml");

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// The errors `text` gives; fails the test if it is valid.
#[track_caller]
fn errors(text: &str) -> Vec<ConfigError> {
    match Config::parse(text) {
        Ok(_) => panic!("expected errors, but this config is valid:\n{text}"),
        Err(ConfigErrors(list)) => {
            assert!(!list.is_empty(), "an Err must hold at least one error");
            list
        }
    }
}

/// The single error `text` gives.
#[track_caller]
fn only_error(text: &str) -> ConfigError {
    let mut list = errors(text);
    assert_eq!(list.len(), 1, "expected exactly one error, got {list:#?}");
    list.remove(0)
}

/// `VALID` with a second check (`checks[1]`) whose body is `body`.
fn with_check(body: &str) -> String {
    format!("{VALID}\n[[checks]]\n{body}")
}

/// `VALID` with one maintenance window (`maintenance[0]`) whose body is `body`.
fn with_window(body: &str) -> String {
    format!("{VALID}\n[[maintenance]]\n{body}")
}

/// 1-based line and column (in characters) where `needle` starts; it must occur once.
#[track_caller]
fn position_of(text: &str, needle: &str) -> (usize, usize) {
    assert_eq!(
        text.matches(needle).count(),
        1,
        "`{needle}` must occur exactly once in:\n{text}"
    );
    let offset = text.find(needle).expect("counted above");
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Where the value starts in `needle`, unique text that begins with `key = ` (`port = `,
/// `name = "  "`).
#[track_caller]
fn value_of(text: &str, needle: &str) -> (usize, usize) {
    let (line, column) = position_of(text, needle);
    let key = needle.find(" = ").expect("the needle holds `key = `");
    (line, column + needle[..key].chars().count() + " = ".len())
}

/// Asserts one error completely: field path, position and exact message.
#[track_caller]
fn assert_error(error: &ConfigError, field: &str, (line, column): (usize, usize), message: &str) {
    assert_eq!(
        (
            error.field.as_str(),
            error.line,
            error.column,
            error.message.as_str()
        ),
        (field, line, column, message),
        "unexpected error {error:#?}"
    );
}

// ---------------------------------------------------------------------------------------
// TOML itself: syntax, unknown keys, types, missing fields
// ---------------------------------------------------------------------------------------

#[test]
fn a_toml_syntax_error_names_the_key_line_and_column() {
    let text = with_check(
        "id = \"db\"\ncomponent = \"api\"\nkind = \"tcp\"\nhost = \"db.acme-cloud.example\"\nport = \nfailure_threshold = 2\n",
    );
    let error = only_error(&text);
    assert_error(
        &error,
        "checks[1].port",
        value_of(&text, "port = "),
        "string values must be quoted, expected literal string",
    );
    assert_eq!(
        error.line, 24,
        "the literal line of `port = ` in this document"
    );
}

#[test]
fn a_broken_table_header_names_the_table() {
    let text = format!("{VALID}\n[[checks]\nid = \"db\"\n");
    let (line, column) = position_of(&text, "[[checks]\n");
    assert_error(
        &only_error(&text),
        "checks",
        (line, column + "[[checks]".len()),
        "unclosed array table, expected `]`",
    );
}

#[test]
fn an_unterminated_string_is_reported_on_its_line() {
    let text = with_check("id = \"db\nkind = \"tcp\"\n");
    let (line, _) = position_of(&text, "id = \"db\n");
    let error = only_error(&text);
    assert_eq!(
        (error.field.as_str(), error.line, error.column),
        ("checks[1].id", line, "id = \"db".len() + 1)
    );
    assert_eq!(error.message, "invalid basic string, expected `\"`");
}

#[test]
fn an_unknown_top_level_key_is_named_at_its_line() {
    let text = format!("# Acme's config\n\ncolour = \"red\"\n{VALID}");
    assert_error(
        &only_error(&text),
        "colour",
        position_of(&text, "colour"),
        "unknown field `colour`, expected one of `service`, `probe`, `components`, `checks`, `maintenance`, `mentions`, `accounts`, `replies`, `people`, `schedules`, `policies`, `oncall`",
    );

    let text = format!("{VALID}\n[alerts]\nemail = \"ops@acme-cloud.example\"\n");
    assert_error(
        &only_error(&text),
        "alerts",
        position_of(&text, "alerts"),
        "unknown field `alerts`, expected one of `service`, `probe`, `components`, `checks`, `maintenance`, `mentions`, `accounts`, `replies`, `people`, `schedules`, `policies`, `oncall`",
    );
}

#[test]
fn an_unknown_key_in_service_is_named_with_its_table() {
    let text = VALID.replace(
        "name = \"Acme Cloud\"\n",
        "name = \"Acme Cloud\"\nlogo = \"acme.png\"\n",
    );
    let error = only_error(&text);
    assert_error(
        &error,
        "service.logo",
        position_of(&text, "logo"),
        "unknown field `logo`, expected `name` or `status_url`",
    );
    assert_eq!((error.line, error.column), (3, 1));
}

#[test]
fn a_typo_in_a_check_points_at_the_typo_in_the_right_check() {
    // The typo sits in the middle of the second check, not on its first or last line, so
    // neither the table's header nor its end can pass for the key's position.
    let text = with_check(
        "id = \"dashboard-login\"\ncomponent = \"dashboard\"\nkind = \"http\"\nurll = \"https://dashboard.acme-cloud.example/login\"\ntimeout = \"5s\"\n",
    );
    let error = only_error(&text);
    assert_error(
        &error,
        "checks[1].urll",
        position_of(&text, "urll"),
        "unknown field `urll`, expected one of `id`, `component`, `kind`, `url`, `method`, `headers`, `body`, `follow_redirects`, `ca_file`, `host`, `port`, `server_name`, `name`, `record_type`, `nameserver`, `timeout`, `degraded_after`, `conditions`, `failure_threshold`, `success_threshold`",
    );
    assert_eq!((error.line, error.column), (23, 1));
}

#[test]
fn unknown_keys_in_every_other_table_are_named_with_their_table() {
    let cases = [
        (
            VALID.replace(
                "name = \"Dashboard\"\n",
                "name = \"Dashboard\"\ncolor = \"blue\"\n",
            ),
            "components[1].color",
            "color",
            "unknown field `color`, expected one of `id`, `name`, `open_incident_on`, `keywords`, `policy`, `urgency`",
        ),
        (
            format!("{VALID}\n[probe]\nconcurrency = 8\ninterval = \"30s\"\n"),
            "probe.interval",
            "interval",
            "unknown field `interval`, expected one of `concurrency`, `region`, `quorum`, `region_freshness`, `raw_retention`",
        ),
        (
            with_window(
                "title = \"Upgrade\"\ncomponents = [\"api\"]\nzone = \"UTC\"\nstart = \"2026-11-29T01:00\"\nend = \"2026-11-29T02:00\"\n",
            ),
            "maintenance[0].zone",
            "zone",
            "unknown field `zone`, expected one of `title`, `components`, `timezone`, `start`, `end`, `every`, `at`, `duration`",
        ),
    ];
    for (text, field, key, message) in cases {
        assert_error(&only_error(&text), field, position_of(&text, key), message);
    }
}

#[test]
fn a_value_of_the_wrong_type_names_the_field_and_the_types() {
    let text = format!("{VALID}failure_threshold = \"3\"\n");
    assert_error(
        &only_error(&text),
        "checks[0].failure_threshold",
        value_of(&text, "failure_threshold = "),
        "invalid type: string \"3\", expected an integer",
    );

    let text = format!("{VALID}follow_redirects = \"yes\"\n");
    assert_error(
        &only_error(&text),
        "checks[0].follow_redirects",
        value_of(&text, "follow_redirects = "),
        "invalid type: string \"yes\", expected a boolean",
    );

    let text = format!("{VALID}headers = {{ Accept = \"application/json\", X-Retries = 3 }}\n");
    assert_error(
        &only_error(&text),
        "checks[0].headers.X-Retries",
        position_of(&text, "3 }"),
        "invalid type: integer `3`, expected a string",
    );

    let text = format!("{VALID}conditions = \"[STATUS] == 200\"\n");
    assert_error(
        &only_error(&text),
        "checks[0].conditions",
        value_of(&text, "conditions = "),
        "invalid type: string \"[STATUS] == 200\", expected an array",
    );

    let text = format!("{VALID}\n[probe]\nconcurrency = \"8\"\n");
    assert_error(
        &only_error(&text),
        "probe.concurrency",
        value_of(&text, "concurrency = "),
        "invalid type: string \"8\", expected an integer",
    );
}

#[test]
fn an_unquoted_date_time_is_named_for_what_it_is() {
    // TOML has its own date-time type; sitrep takes local times as strings with a zone.
    let text = with_window(
        "title = \"Upgrade\"\ncomponents = [\"api\"]\ntimezone = \"Europe/Dublin\"\nstart = 2026-11-29T01:00:00\nend = \"2026-11-29T02:00\"\n",
    );
    assert_error(
        &only_error(&text),
        "maintenance[0].start",
        value_of(&text, "start = "),
        "invalid type: date-time, expected a string (write it in quotes; the time zone is given by `timezone`)",
    );
}

#[test]
fn a_section_with_the_wrong_brackets_says_which_brackets() {
    let text = VALID.replace("[service]", "[[service]]");
    assert_error(
        &only_error(&text),
        "service",
        (1, 1),
        "`service` is a single table: write `[service]`, not `[[service]]`",
    );

    let text = format!("{VALID}\n[probe]\nconcurrency = 8\n").replace("[probe]", "[[probe]]");
    assert_error(
        &only_error(&text),
        "probe",
        position_of(&text, "[[probe]]"),
        "`probe` is a single table: write `[probe]`, not `[[probe]]`",
    );

    let text = VALID.replace("[[checks]]", "[checks]");
    assert_error(
        &only_error(&text),
        "checks",
        position_of(&text, "[checks]"),
        "`checks` is a list of tables: write `[[checks]]` for each one, not `[checks]`",
    );

    let text = format!("service = \"Acme Cloud\"\n{}", &VALID["[service]\nname = \"Acme Cloud\"\nstatus_url = \"https://status.acme-cloud.example\"\n".len()..]);
    assert_error(
        &only_error(&text),
        "service",
        value_of(&text, "service = "),
        "invalid type: string \"Acme Cloud\", expected a table",
    );
}

#[test]
fn a_missing_section_or_field_is_named_at_its_table() {
    let without_service = &VALID[VALID.find("[[components]]").expect("in VALID")..];
    assert_error(
        &only_error(without_service),
        "service",
        (1, 1),
        "missing field `service`",
    );

    // The table's header is the line to look at: the field is not there to point at.
    let text = format!(
        "# Acme Cloud\n\n{}",
        VALID.replace("status_url = \"https://status.acme-cloud.example\"\n", "")
    );
    assert_error(
        &only_error(&text),
        "service.status_url",
        position_of(&text, "[service]"),
        "missing field `status_url`",
    );

    let text = with_check("id = \"db\"\ncomponent = \"api\"\nhost = \"db.acme-cloud.example\"\n");
    let error = only_error(&text);
    assert_error(&error, "checks[1].kind", (19, 1), "missing field `kind`");
    assert_eq!(
        text.lines().nth(error.line - 1),
        Some("[[checks]]"),
        "the second check's header"
    );

    let text = with_window(
        "title = \"Upgrade\"\ncomponents = [\"api\"]\nstart = \"2026-11-29T01:00\"\nend = \"2026-11-29T02:00\"\n",
    );
    assert_error(
        &only_error(&text),
        "maintenance[0].timezone",
        position_of(&text, "[[maintenance]]"),
        "missing field `timezone`",
    );

    let no_components =
        "[service]\nname = \"Acme Cloud\"\nstatus_url = \"https://status.acme-cloud.example\"\n";
    assert_error(
        &only_error(no_components),
        "components",
        (1, 1),
        "at least one [[components]] table is needed",
    );
}

#[test]
fn an_empty_document_needs_a_service() {
    assert_error(
        &only_error(""),
        "service",
        (1, 1),
        "missing field `service`",
    );
}

// ---------------------------------------------------------------------------------------
// Service, components and ids
// ---------------------------------------------------------------------------------------

#[test]
fn service_fields_are_checked() {
    let text = VALID
        .replace("name = \"Acme Cloud\"", "name = \"   \"")
        .replace(
            "https://status.acme-cloud.example",
            "ftp://status.acme-cloud.example",
        );
    let list = errors(&text);
    assert_eq!(list.len(), 2, "{list:#?}");
    assert_error(
        &list[0],
        "service.name",
        value_of(&text, "name = \"   \""),
        "must not be empty",
    );
    assert_error(
        &list[1],
        "service.status_url",
        value_of(&text, "status_url = "),
        "`ftp://status.acme-cloud.example` is not an http(s) URL (scheme `ftp`)",
    );
}

#[test]
fn invalid_ids_say_what_an_id_may_contain() {
    let rule =
        "use 1 to 64 lower-case letters, digits, `-` or `_`, starting with a letter or digit";
    let text = VALID.replace("id = \"dashboard\"", "id = \"Dashboard UI\"");
    assert_error(
        &only_error(&text),
        "components[1].id",
        position_of(&text, "\"Dashboard UI\""),
        &format!("`Dashboard UI` is not a valid id: {rule}"),
    );

    let long = "a".repeat(65);
    let text = with_check(&format!(
        "id = \"{long}\"\ncomponent = \"API\"\nkind = \"tcp\"\nhost = \"db\"\nport = 5432\n"
    ));
    let list = errors(&text);
    assert_eq!(list.len(), 2, "{list:#?}");
    assert_error(
        &list[0],
        "checks[1].id",
        position_of(&text, &format!("\"{long}\"")),
        &format!("`{long}` is not a valid id: {rule}"),
    );
    assert_error(
        &list[1],
        "checks[1].component",
        position_of(&text, "\"API\""),
        &format!("`API` is not a valid id: {rule}"),
    );

    let text = with_check(
        "id = \"-db\"\ncomponent = \"api\"\nkind = \"tcp\"\nhost = \"db\"\nport = 5432\n",
    );
    assert_error(
        &only_error(&text),
        "checks[1].id",
        position_of(&text, "\"-db\""),
        &format!("`-db` is not a valid id: {rule}"),
    );
}

#[test]
fn open_incident_on_takes_down_or_degraded() {
    let text = VALID.replace(
        "name = \"Public API\"\n",
        "name = \"Public API\"\nopen_incident_on = \"slow\"\n",
    );
    assert_error(
        &only_error(&text),
        "components[0].open_incident_on",
        value_of(&text, "open_incident_on = "),
        "must be \"down\" or \"degraded\", got \"slow\"",
    );
}

#[test]
fn duplicate_ids_are_reported_at_the_second_one() {
    let text = format!("{VALID}\n[[components]]\nid = \"api\"\nname = \"Public API v2\"\n");
    let (line, _) = position_of(&text, "name = \"Public API v2\"");
    assert_error(
        &only_error(&text),
        "components[2].id",
        (line - 1, 6),
        "duplicate component id `api`",
    );

    let text = with_check(
        "id = \"api-health\"\ncomponent = \"dashboard\"\nkind = \"http\"\nurl = \"https://dashboard.acme-cloud.example\"\n",
    );
    let (line, _) = position_of(&text, "component = \"dashboard\"");
    assert_error(
        &only_error(&text),
        "checks[1].id",
        (line - 1, 6),
        "duplicate check id `api-health`",
    );
}

#[test]
fn a_duplicate_check_id_is_reported_even_when_the_check_has_other_errors() {
    let text = with_check(
        "id = \"api-health\"\ncomponent = \"api\"\nkind = \"tcp\"\nhost = \"api.acme-cloud.example\"\nport = 0\n",
    );
    let list = errors(&text);
    assert_eq!(list.len(), 2, "{list:#?}");
    let (line, _) = position_of(&text, "component = \"api\"\nkind = \"tcp\"");
    assert_error(
        &list[0],
        "checks[1].id",
        (line - 1, 6),
        "duplicate check id `api-health`",
    );
    assert_error(
        &list[1],
        "checks[1].port",
        value_of(&text, "port = "),
        "must be between 1 and 65535, got 0",
    );
}

#[test]
fn a_check_on_an_unknown_component_lists_the_known_ones() {
    let text = with_check(
        "id = \"db\"\ncomponent = \"database\"\nkind = \"tcp\"\nhost = \"db.acme-cloud.example\"\nport = 5432\n",
    );
    assert_error(
        &only_error(&text),
        "checks[1].component",
        position_of(&text, "\"database\""),
        "no component has id `database` (known: api, dashboard)",
    );
}

// ---------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------

#[test]
fn an_unknown_kind_lists_the_kinds() {
    let text = with_check(
        "id = \"ping\"\ncomponent = \"api\"\nkind = \"icmp\"\nhost = \"api.acme-cloud.example\"\n",
    );
    assert_error(
        &only_error(&text),
        "checks[1].kind",
        position_of(&text, "\"icmp\""),
        "unknown kind \"icmp\": use \"http\", \"tcp\", \"dns\" or \"tls\"",
    );
}

#[test]
fn a_field_of_another_kind_is_an_error() {
    let cases = [
        (
            "kind = \"tcp\"\nhost = \"db.acme-cloud.example\"\nport = 5432\nurl = \"https://db.acme-cloud.example\"\n",
            "url = \"https://db.",
            "`url` is not used by a tcp check (it takes: host, port)",
        ),
        (
            "kind = \"http\"\nurl = \"https://api.acme-cloud.example\"\nport = 8443\n",
            "port = ",
            "`port` is not used by an http check (it takes: url, method, headers, body, follow_redirects, ca_file)",
        ),
        (
            "kind = \"dns\"\nname = \"acme-cloud.example\"\nhost = \"9.9.9.9\"\n",
            "host = ",
            "`host` is not used by a dns check (it takes: name, record_type, nameserver)",
        ),
        (
            "kind = \"tls\"\nhost = \"api.acme-cloud.example\"\nmethod = \"GET\"\n",
            "method = ",
            "`method` is not used by a tls check (it takes: host, port, server_name, ca_file)",
        ),
    ];
    for (body, needle, message) in cases {
        let text = with_check(&format!("id = \"x\"\ncomponent = \"api\"\n{body}"));
        let field = &needle[..needle.find(' ').expect("key = ")];
        assert_error(
            &only_error(&text),
            &format!("checks[1].{field}"),
            value_of(&text, needle),
            message,
        );
    }
}

#[test]
fn a_field_a_kind_needs_is_asked_for_at_the_kind() {
    let cases: [(&str, &[(&str, &str)]); 4] = [
        ("http", &[("url", "an http check needs `url`")]),
        (
            "tcp",
            &[
                ("host", "a tcp check needs `host`"),
                ("port", "a tcp check needs `port`"),
            ],
        ),
        ("dns", &[("name", "a dns check needs `name`")]),
        // A tls check's port defaults to 443.
        ("tls", &[("host", "a tls check needs `host`")]),
    ];
    for (kind, expected) in cases {
        let text = with_check(&format!(
            "id = \"x\"\ncomponent = \"api\"\nkind = \"{kind}\"\ntimeout = \"5s\"\n"
        ));
        let list = errors(&text);
        assert_eq!(list.len(), expected.len(), "{kind}: {list:#?}");
        let kind_value = value_of(&text, &format!("kind = \"{kind}\"\ntimeout"));
        for (error, (field, message)) in list.iter().zip(expected.iter()) {
            assert_error(error, &format!("checks[1].{field}"), kind_value, message);
        }
    }
}

#[test]
fn empty_required_text_is_an_error() {
    let text = with_check(
        "id = \"db\"\ncomponent = \"api\"\nkind = \"tcp\"\nhost = \"  \"\nport = 5432\n",
    );
    assert_error(
        &only_error(&text),
        "checks[1].host",
        value_of(&text, "host = "),
        "must not be empty",
    );
}

#[test]
fn urls_must_be_http_or_https() {
    let cases = [
        (
            "ftp://files.acme-cloud.example/health",
            "`ftp://files.acme-cloud.example/health` is not an http(s) URL (scheme `ftp`)",
        ),
        (
            "api.acme-cloud.example/health",
            "`api.acme-cloud.example/health` is not a valid URL: relative URL without a base",
        ),
    ];
    for (url, message) in cases {
        let text = VALID.replace("https://api.acme-cloud.example/health", url);
        assert_error(
            &only_error(&text),
            "checks[0].url",
            value_of(&text, &format!("url = \"{url}")),
            message,
        );
    }
}

#[test]
fn an_unsupported_method_lists_the_methods() {
    let text = format!("{VALID}method = \"FETCH\"\n");
    assert_error(
        &only_error(&text),
        "checks[0].method",
        value_of(&text, "method = "),
        "unsupported method `FETCH`: use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS",
    );
    // Case does not matter.
    assert!(Config::parse(&format!("{VALID}method = \"post\"\n")).is_ok());
}

#[test]
fn dns_record_types_and_nameservers_are_checked() {
    let text = with_check(
        "id = \"dns\"\ncomponent = \"api\"\nkind = \"dns\"\nname = \"acme-cloud.example\"\nrecord_type = \"SRV\"\nnameserver = \"dns.acme-cloud.example\"\n",
    );
    let list = errors(&text);
    assert_eq!(list.len(), 2, "{list:#?}");
    assert_error(
        &list[0],
        "checks[1].record_type",
        value_of(&text, "record_type = "),
        "unsupported record type `SRV`: use A, AAAA, CNAME, MX, TXT or NS",
    );
    assert_error(
        &list[1],
        "checks[1].nameserver",
        value_of(&text, "nameserver = "),
        "`dns.acme-cloud.example` is not an IP address with an optional port (e.g. `1.1.1.1` or `127.0.0.1:5353`)",
    );
}

#[test]
fn ports_must_be_between_1_and_65535() {
    for (port, shown) in [("0", "0"), ("70000", "70000"), ("-1", "-1")] {
        let text = with_check(&format!(
            "id = \"db\"\ncomponent = \"api\"\nkind = \"tcp\"\nhost = \"db.acme-cloud.example\"\nport = {port}\n"
        ));
        assert_error(
            &only_error(&text),
            "checks[1].port",
            value_of(&text, "port = "),
            &format!("must be between 1 and 65535, got {shown}"),
        );
    }
}

#[test]
fn durations_need_a_known_unit() {
    let cases = [
        ("10", "`10` needs a unit: ms, s, m, h or d (e.g. `10s`)"),
        (
            "10 secs",
            "`10 secs` has an unknown unit `secs`: use ms, s, m, h or d",
        ),
        (
            "",
            "expected a duration such as `10s`, `500ms`, `5m` or `1h30m`",
        ),
        (
            "fast",
            "`fast` is not a duration: expected a number before `fast` (e.g. `10s`, `500ms`, `1h30m`)",
        ),
    ];
    for (duration, message) in cases {
        let text = format!("{VALID}timeout = \"{duration}\"\n");
        assert_error(
            &only_error(&text),
            "checks[0].timeout",
            value_of(&text, "timeout = "),
            message,
        );
    }
}

#[test]
fn the_timeout_is_more_than_zero_and_at_most_a_minute() {
    for timeout in ["0s", "61s", "2m"] {
        let text = format!("{VALID}timeout = \"{timeout}\"\n");
        assert_error(
            &only_error(&text),
            "checks[0].timeout",
            value_of(&text, "timeout = "),
            "must be more than 0 and at most 60s",
        );
    }
    assert!(Config::parse(&format!("{VALID}timeout = \"60s\"\n")).is_ok());
}

#[test]
fn degraded_after_must_be_shorter_than_the_timeout() {
    for degraded_after in ["5s", "6s"] {
        let text = format!("{VALID}timeout = \"5s\"\ndegraded_after = \"{degraded_after}\"\n");
        assert_error(
            &only_error(&text),
            "checks[0].degraded_after",
            value_of(&text, "degraded_after = "),
            "must be shorter than the timeout (5 s)",
        );
    }
    // Without a timeout the default, 10 s, is the limit.
    let text = format!("{VALID}degraded_after = \"10s\"\n");
    assert_eq!(
        only_error(&text).message,
        "must be shorter than the timeout (10 s)"
    );
    assert!(
        Config::parse(&format!(
            "{VALID}timeout = \"5s\"\ndegraded_after = \"4999ms\"\n"
        ))
        .is_ok()
    );
}

#[test]
fn degraded_after_is_not_blamed_for_an_invalid_timeout() {
    // Compared with a stand-in timeout, a valid 30s would be "longer than the timeout (10 s)".
    let text = format!("{VALID}timeout = \"90s\"\ndegraded_after = \"30s\"\n");
    assert_error(
        &only_error(&text),
        "checks[0].timeout",
        value_of(&text, "timeout = "),
        "must be more than 0 and at most 60s",
    );
}

#[test]
fn thresholds_are_between_1_and_100() {
    let text = format!("{VALID}failure_threshold = 0\nsuccess_threshold = 101\n");
    let list = errors(&text);
    assert_eq!(list.len(), 2, "{list:#?}");
    assert_error(
        &list[0],
        "checks[0].failure_threshold",
        value_of(&text, "failure_threshold = "),
        "must be between 1 and 100, got 0",
    );
    assert_error(
        &list[1],
        "checks[0].success_threshold",
        value_of(&text, "success_threshold = "),
        "must be between 1 and 100, got 101",
    );
}

#[test]
fn an_invalid_header_is_named() {
    let text = format!("{VALID}headers = {{ \"Bad Header\" = \"x\" }}\n");
    assert_error(
        &only_error(&text),
        "checks[0].headers",
        value_of(&text, "headers = "),
        "header `Bad Header` is not a valid HTTP header",
    );
}

// ---------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------

#[test]
fn an_empty_conditions_list_points_at_the_list() {
    let text = format!("{VALID}timeout = \"5s\"\n\nconditions = []\n");
    let error = only_error(&text);
    assert_error(
        &error,
        "checks[0].conditions",
        value_of(&text, "conditions = "),
        "must list at least one condition, or be left out for the defaults",
    );
    assert_eq!(error.line, 20);
}

#[test]
fn a_condition_syntax_error_points_at_its_line_and_column() {
    let text = format!(
        "{VALID}conditions = [\n  \"[STATUS] == 200\",\n  '[BODY].status == \"ok\"',\n  \"[RESPONSE_TIME] <= fast\",\n]\ntimeout = \"5s\"\n"
    );
    let error = only_error(&text);
    assert_error(
        &error,
        "checks[0].conditions[2]",
        position_of(&text, "fast"),
        "`[RESPONSE_TIME] <= fast`: [RESPONSE_TIME] is a time; write milliseconds like 300 or a duration like 500ms, 2s or 1m, not `fast` (column 20 of the condition)",
    );
    assert_eq!((error.line, error.column), (21, 23));
}

#[test]
fn a_condition_column_survives_escapes_and_other_string_forms() {
    // `\"` and `\u00e9` are longer in the source than in the condition; counting characters
    // of the condition from the opening quote would point four and five columns too early.
    let text = format!("{VALID}conditions = [\"[HEADER].X-Trace == \\\"a\\\\\\\"b\\\" extra\"]\n");
    let error = only_error(&text);
    assert_eq!(error.field, "checks[0].conditions[0]");
    assert_eq!((error.line, error.column), position_of(&text, "extra"));
    assert!(
        error.message.starts_with(
            "`[HEADER].X-Trace == \"a\\\"b\" extra`: unexpected `extra` after the value"
        ),
        "{}",
        error.message
    );

    let text = format!("{VALID}conditions = [\"[BODY].caf\\u00e9 == 1 2\"]\n");
    let error = only_error(&text);
    assert_eq!((error.line, error.column), position_of(&text, "2\""));

    // A literal string has no escapes; a multi-line one starts after its newline.
    let text = format!("{VALID}conditions = ['[STATUS] => 200']\n");
    let error = only_error(&text);
    assert_eq!((error.line, error.column), position_of(&text, "=> 200"));
    assert_eq!(
        error.message,
        "`[STATUS] => 200`: expected an operator (==, !=, <, <=, >, >=, contains, not contains, matches), found `=` (column 10 of the condition)"
    );

    let text = format!("{VALID}conditions = [\"\"\"\n[STATUS] => 200\"\"\"]\n");
    let error = only_error(&text);
    assert_eq!((error.line, error.column), position_of(&text, "=> 200"));
    assert_eq!(error.line, 19);
}

#[test]
fn a_condition_error_after_an_escape_and_a_wide_character_does_not_panic() {
    // The escape makes the source one byte longer than the text; counting the text's bytes
    // from the quote used to land inside `é` and panic on the slice.
    let text = format!("{VALID}conditions = [\"\\t[BODY].é[x] == 1\"]\n");
    let error = only_error(&text);
    assert_eq!((error.line, error.column), position_of(&text, "[x]"));
    assert!(
        error.message.ends_with(
            "expected an array index like [0], found `[x]` (column 10 of the condition)"
        ),
        "{}",
        error.message
    );
}

#[test]
fn an_unknown_placeholder_suggests_the_closest() {
    let text = format!("{VALID}conditions = [\"[STAUTS] == 200\"]\n");
    let error = only_error(&text);
    assert_error(
        &error,
        "checks[0].conditions[0]",
        position_of(&text, "[STAUTS]"),
        "`[STAUTS] == 200`: unknown placeholder `[STAUTS]`; known: [STATUS], [RESPONSE_TIME], [BODY], [HEADER], [CONNECTED], [CERT_DAYS_LEFT], [CERTIFICATE_EXPIRATION], [DNS_RCODE]; did you mean [STATUS]? (column 1 of the condition)",
    );
}

#[test]
fn gatus_functions_and_placeholders_are_refused_where_they_are_written() {
    // Read as text, `== pat(*john*)` would always fail and `!= pat(*error*)` always pass.
    let text = format!(
        "{VALID}conditions = [\n  \"[STATUS] == 200\",\n  \"[BODY] != pat(*error*)\",\n  \"[BODY].name == any(john,jane)\",\n  \"[IP] == 10.0.0.1\",\n]\n"
    );
    let list = errors(&text);
    assert_eq!(list.len(), 3, "{list:#?}");
    assert_error(
        &list[0],
        "checks[0].conditions[1]",
        position_of(&text, "pat("),
        "`[BODY] != pat(*error*)`: `pat(...)` (a wildcard pattern) is not supported; use `contains`, or `matches` with a regular expression; to compare with that exact text, put it in double quotes (column 11 of the condition)",
    );
    assert_eq!(list[0].line, 20);
    assert_error(
        &list[1],
        "checks[0].conditions[2]",
        position_of(&text, "any("),
        "`[BODY].name == any(john,jane)`: `any(...)` (one of several values) is not supported; use `matches` with alternatives, like `[STATUS] matches \"^(200|429)$\"`; to compare with that exact text, put it in double quotes (column 16 of the condition)",
    );
    assert_error(
        &list[2],
        "checks[0].conditions[3]",
        position_of(&text, "[IP]"),
        "`[IP] == 10.0.0.1`: `[IP]` is not supported: sitrep does not report the address a check reached; for dns checks, [BODY] holds the answers (column 1 of the condition)",
    );
}

#[test]
fn a_placeholder_that_does_not_fit_the_kind_is_an_error() {
    let cases = [
        (
            "kind = \"tcp\"\nhost = \"db.acme-cloud.example\"\nport = 5432\n",
            "[STATUS] == 200",
            "[STATUS] is only available to http checks",
        ),
        (
            "kind = \"http\"\nurl = \"https://api.acme-cloud.example\"\n",
            "[DNS_RCODE] == NOERROR",
            "[DNS_RCODE] is only available to dns checks",
        ),
        (
            "kind = \"dns\"\nname = \"acme-cloud.example\"\n",
            "[BODY].status == ok",
            "the JSON path [BODY].status is only available to http checks",
        ),
        (
            "kind = \"tcp\"\nhost = \"db.acme-cloud.example\"\nport = 5432\n",
            "[CERT_DAYS_LEFT] > 14",
            "[CERT_DAYS_LEFT] is only available to tls and http checks",
        ),
    ];
    for (body, condition, message) in cases {
        let text = with_check(&format!(
            "id = \"x\"\ncomponent = \"api\"\n{body}conditions = [\"[RESPONSE_TIME] < 2s\", \"{condition}\"]\n"
        ));
        assert_error(
            &only_error(&text),
            "checks[1].conditions[1]",
            position_of(&text, &format!("\"{condition}\"")),
            &format!("`{condition}`: {message}"),
        );
    }
}

// ---------------------------------------------------------------------------------------
// Maintenance windows
// ---------------------------------------------------------------------------------------

/// A one-off window's body, with `timezone`, `start` and `end` as given.
fn one_off(timezone: &str, start: &str, end: &str) -> String {
    with_window(&format!(
        "title = \"Database upgrade\"\ncomponents = [\"api\"]\ntimezone = \"{timezone}\"\nstart = \"{start}\"\nend = \"{end}\"\n"
    ))
}

/// A recurring window's body.
fn recurring(every: &str, at: &str, duration: &str) -> String {
    with_window(&format!(
        "title = \"Weekly patching\"\ncomponents = [\"api\", \"dashboard\"]\ntimezone = \"Europe/London\"\nevery = {every}\nat = \"{at}\"\nduration = \"{duration}\"\n"
    ))
}

#[test]
fn valid_windows_of_both_kinds_parse() {
    let config = Config::parse(&one_off(
        "Europe/Dublin",
        "2026-11-29T01:00",
        "2026-11-29 03:30:00",
    ))
    .expect("one-off");
    assert!(matches!(
        config.maintenance[0].schedule,
        Schedule::OneOff { .. }
    ));
    let config =
        Config::parse(&recurring("[\"Sat\", \"sunday\"]", "2:30", "1h30m")).expect("recurring");
    assert!(matches!(
        config.maintenance[0].schedule,
        Schedule::Recurring { .. }
    ));
}

#[test]
fn an_unknown_time_zone_is_named_with_a_suggestion() {
    let text = one_off("Europe/london", "2026-11-29T01:00", "2026-11-29T03:00");
    assert_error(
        &only_error(&text),
        "maintenance[0].timezone",
        value_of(&text, "timezone = "),
        "unknown time zone `Europe/london` (did you mean `Europe/London`?)",
    );
    let text = one_off("Mars/Olympus_Mons", "2026-11-29T01:00", "2026-11-29T03:00");
    assert_eq!(
        only_error(&text).message,
        "unknown time zone `Mars/Olympus_Mons`"
    );
}

#[test]
fn a_bad_date_time_says_what_is_wrong() {
    let text = one_off("Europe/Dublin", "2026-02-30T01:00", "29/11/2026 03:00");
    let list = errors(&text);
    assert_eq!(list.len(), 2, "{list:#?}");
    assert_error(
        &list[0],
        "maintenance[0].start",
        value_of(&text, "start = "),
        "`2026-02-30T01:00` is not a local date and time: no such date in the calendar",
    );
    assert_error(
        &list[1],
        "maintenance[0].end",
        value_of(&text, "end = "),
        "`29/11/2026 03:00` is not a local date and time: expected `YYYY-MM-DDTHH:MM`, optionally with `:SS`",
    );

    let text = one_off("Europe/Dublin", "2026-11-29T01:00Z", "2026-11-29T03:00");
    assert_error(
        &only_error(&text),
        "maintenance[0].start",
        value_of(&text, "start = "),
        "`2026-11-29T01:00Z` is not a local date and time: a local time takes no UTC offset or `Z`; the time zone is given separately",
    );
}

#[test]
fn a_window_is_one_off_or_recurring_not_both() {
    let text = with_window(
        "title = \"Upgrade\"\ncomponents = [\"api\"]\ntimezone = \"UTC\"\nstart = \"2026-11-29T01:00\"\nend = \"2026-11-29T03:00\"\nevery = \"day\"\nat = \"02:00\"\nduration = \"1h\"\n",
    );
    assert_error(
        &only_error(&text),
        "maintenance[0].start",
        value_of(&text, "start = "),
        "a window is either one-off (`start`, `end`) or recurring (`every`, `at`, `duration`), not both",
    );
}

#[test]
fn a_window_needs_a_schedule() {
    let text = with_window("title = \"Upgrade\"\ncomponents = [\"api\"]\ntimezone = \"UTC\"\n");
    assert_error(
        &only_error(&text),
        "maintenance[0].start",
        position_of(&text, "[[maintenance]]"),
        "a window needs `start` and `end`, or `every`, `at` and `duration`",
    );
}

#[test]
fn a_missing_schedule_field_is_asked_for_at_the_window() {
    let text = with_window(
        "title = \"Upgrade\"\ncomponents = [\"api\"]\ntimezone = \"UTC\"\nstart = \"2026-11-29T01:00\"\n",
    );
    assert_error(
        &only_error(&text),
        "maintenance[0].end",
        position_of(&text, "[[maintenance]]"),
        "a one-off window needs `end`",
    );

    let text = with_window(
        "title = \"Patching\"\ncomponents = [\"api\"]\ntimezone = \"UTC\"\nevery = \"day\"\n",
    );
    let list = errors(&text);
    let header = position_of(&text, "[[maintenance]]");
    assert_eq!(list.len(), 2, "{list:#?}");
    assert_error(
        &list[0],
        "maintenance[0].at",
        header,
        "a recurring window needs `at` (local time of day, e.g. \"02:00\")",
    );
    assert_error(
        &list[1],
        "maintenance[0].duration",
        header,
        "a recurring window needs `duration` (e.g. \"2h\")",
    );
}

#[test]
fn end_before_start_points_at_end() {
    let text = one_off("Europe/Dublin", "2026-11-29T03:00", "2026-11-29T01:00");
    assert_error(
        &only_error(&text),
        "maintenance[0].end",
        value_of(&text, "end = "),
        "`end` must be after `start`",
    );

    // Both ends in the hour London skips when clocks go forward: the window would be empty.
    let text = one_off("Europe/London", "2026-03-29T01:10", "2026-03-29T01:50");
    assert_error(
        &only_error(&text),
        "maintenance[0].end",
        value_of(&text, "end = "),
        "`start` and `end` both fall in the gap when clocks go forward in `Europe/London`, so the window would be empty",
    );
}

#[test]
fn weekdays_are_checked() {
    let text = recurring("[\"sat\", \"sunnday\"]", "02:00", "2h");
    assert_error(
        &only_error(&text),
        "maintenance[0].every",
        value_of(&text, "every = "),
        "unknown weekday `sunnday`: expected `mon` to `sun` or `monday` to `sunday`",
    );

    let text = recurring("\"weekends\"", "02:00", "2h");
    assert_error(
        &only_error(&text),
        "maintenance[0].every",
        value_of(&text, "every = "),
        "unknown weekday `weekends`: expected `mon` to `sun` or `monday` to `sunday`",
    );

    let text = recurring("[\"sat\", \"Saturday\"]", "02:00", "2h");
    assert_error(
        &only_error(&text),
        "maintenance[0].every",
        value_of(&text, "every = "),
        "weekday `sat` is listed twice",
    );

    let text = recurring("7", "02:00", "2h");
    assert_error(
        &only_error(&text),
        "maintenance[0].every",
        value_of(&text, "every = "),
        "must be \"day\" or a list of weekdays such as [\"sat\", \"sun\"]",
    );
}

#[test]
fn an_empty_weekday_list_does_not_mean_every_day() {
    let text = recurring("[]", "02:00", "2h");
    assert_error(
        &only_error(&text),
        "maintenance[0].every",
        value_of(&text, "every = "),
        "must list at least one weekday, or be \"day\"",
    );
}

#[test]
fn recurring_times_and_durations_are_checked() {
    let text = recurring("\"day\"", "24:00", "8d");
    let list = errors(&text);
    assert_eq!(list.len(), 1, "{list:#?}");
    assert_error(
        &list[0],
        "maintenance[0].at",
        value_of(&text, "at = "),
        "`24:00` is not a time of day: the hour must be 0 to 23",
    );

    let text = recurring("\"day\"", "02:00", "8d");
    assert_error(
        &only_error(&text),
        "maintenance[0].duration",
        value_of(&text, "duration = "),
        "`duration` must be at most 7 days",
    );

    let text = recurring("\"day\"", "02:00", "0m");
    assert_error(
        &only_error(&text),
        "maintenance[0].duration",
        value_of(&text, "duration = "),
        "`duration` must be more than zero",
    );
}

#[test]
fn a_window_on_an_unknown_component_points_at_that_component() {
    let text = with_window(
        "title = \"Upgrade\"\ncomponents = [\"api\", \"billing\"]\ntimezone = \"UTC\"\nstart = \"2026-11-29T01:00\"\nend = \"2026-11-29T03:00\"\n",
    );
    assert_error(
        &only_error(&text),
        "maintenance[0].components[1]",
        position_of(&text, "\"billing\""),
        "no component has id `billing`",
    );

    let text = with_window(
        "title = \"Upgrade\"\ncomponents = []\ntimezone = \"UTC\"\nstart = \"2026-11-29T01:00\"\nend = \"2026-11-29T03:00\"\n",
    );
    assert_error(
        &only_error(&text),
        "maintenance[0].components",
        value_of(&text, "components = "),
        "must name at least one component",
    );
}

// ---------------------------------------------------------------------------------------
// Probe settings
// ---------------------------------------------------------------------------------------

#[test]
fn probe_settings_are_range_checked() {
    let text = format!(
        "{VALID}\n[probe]\nconcurrency = 0\nregion = \"\"\nquorum = \"most\"\nregion_freshness = \"10s\"\nraw_retention = \"30m\"\n"
    );
    let list = errors(&text);
    let expected = [
        (
            "probe.concurrency",
            "concurrency = ",
            "must be between 1 and 10000, got 0",
        ),
        ("probe.region", "region = ", "must not be empty"),
        (
            "probe.quorum",
            "quorum = ",
            "must be \"majority\" or a number of regions from 1 to 64, got \"most\"",
        ),
        (
            "probe.region_freshness",
            "region_freshness = ",
            "must be at least 1m: regions report once a minute",
        ),
        (
            "probe.raw_retention",
            "raw_retention = ",
            "must be between 1h and 90d",
        ),
    ];
    assert_eq!(list.len(), expected.len(), "{list:#?}");
    for (error, (field, key, message)) in list.iter().zip(expected) {
        assert_error(error, field, value_of(&text, key), message);
    }

    for quorum in ["0", "65", "2.5"] {
        let text = format!("{VALID}\n[probe]\nquorum = {quorum}\n");
        assert_error(
            &only_error(&text),
            "probe.quorum",
            value_of(&text, "quorum = "),
            &format!("must be \"majority\" or a number of regions from 1 to 64, got {quorum}"),
        );
    }
    let config = Config::parse(&format!("{VALID}\n[probe]\nquorum = 2\n")).expect("valid");
    assert_eq!(config.probe.quorum, Quorum::AtLeast(2));
}

// ---------------------------------------------------------------------------------------
// Many errors at once, and their display
// ---------------------------------------------------------------------------------------

#[test]
fn every_error_is_reported_in_source_order() {
    // Sections out of their usual order, so the order the validator finds errors in (service,
    // probe, components, checks, maintenance) differs from the order of the lines.
    let text = r#"[[maintenance]]
title = "Upgrade"
components = ["api"]
timezone = "Mars/Olympus_Mons"
start = "2026-11-29T01:00"
end = "2026-11-29T03:00"

[service]
name = "  "
status_url = "ftp://status.acme-cloud.example"

[[checks]]
id = "api-health"
component = "api"
kind = "http"
url = "https://api.acme-cloud.example/health"
timeout = "2m"
failure_threshold = 0
conditions = ["[STATUS] == 200", "[CONNECTED] = true"]

[[components]]
id = "api"
name = "Public API"
open_incident_on = "slow"

[[checks]]
id = "db"
component = "database"
kind = "tcp"
host = "db.acme-cloud.example"
port = 70000

[probe]
concurrency = 0
"#;
    let list = errors(text);
    let expected = [
        ("maintenance[0].timezone", value_of(text, "timezone = ")),
        ("service.name", value_of(text, "name = \"  \"")),
        ("service.status_url", value_of(text, "status_url = ")),
        ("checks[0].timeout", value_of(text, "timeout = ")),
        (
            "checks[0].failure_threshold",
            value_of(text, "failure_threshold = "),
        ),
        ("checks[0].conditions[1]", position_of(text, "= true")),
        (
            "components[0].open_incident_on",
            value_of(text, "open_incident_on = "),
        ),
        (
            "checks[1].component",
            value_of(text, "component = \"database"),
        ),
        ("checks[1].port", value_of(text, "port = ")),
        ("probe.concurrency", value_of(text, "concurrency = ")),
    ];
    let found: Vec<(&str, usize, usize)> = list
        .iter()
        .map(|e| (e.field.as_str(), e.line, e.column))
        .collect();
    let wanted: Vec<(&str, usize, usize)> = expected
        .iter()
        .map(|&(field, (line, column))| (field, line, column))
        .collect();
    assert_eq!(found, wanted, "{list:#?}");
    assert!(
        found
            .windows(2)
            .all(|w| (w[0].1, w[0].2) < (w[1].1, w[1].2)),
        "sorted by line and column"
    );
}

#[test]
fn errors_display_as_line_column_field_message() {
    let text = format!("{VALID}port = 8443\ntimeout = \"10\"\n");
    let errors = Config::parse(&text).expect_err("invalid");
    assert_eq!(
        errors.to_string(),
        "line 18, column 8: checks[0].port: `port` is not used by an http check (it takes: url, method, headers, body, follow_redirects, ca_file)\n\
         line 19, column 11: checks[0].timeout: `10` needs a unit: ms, s, m, h or d (e.g. `10s`)"
    );
}

// ---------------------------------------------------------------------------------------
// Social accounts, mentions settings, component keywords
// ---------------------------------------------------------------------------------------

fn with_account(body: &str) -> String {
    format!("{VALID}\n[[accounts]]\n{body}")
}

#[test]
fn an_x_account_without_its_user_id_is_named_at_its_platform() {
    let text = with_account(
        "id = \"acme-x\"\nplatform = \"x\"\nhandle = \"acme\"\ncredentials = \"sitrep/social/x\"",
    );
    let error = only_error(&text);
    assert_error(
        &error,
        "accounts[0].user_id",
        value_of(&text, "platform = \"x\""),
        "an X account needs `user_id`, its numeric user id: the mentions timeline is addressed by it",
    );
}

#[test]
fn account_mistakes_are_each_named_with_field_and_line() {
    let text = with_account(
        "id = \"Acme X\"\nplatform = \"myspace\"\nhandle = \"  \"\ncredentials = \"\"",
    );
    let list = errors(&text);
    let fields: Vec<&str> = list.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "accounts[0].id",
            "accounts[0].platform",
            "accounts[0].handle",
            "accounts[0].credentials"
        ]
    );
    assert_eq!(
        list[1].message,
        "must be \"x\", \"mastodon\" or \"bluesky\", got \"myspace\""
    );
    assert_eq!(
        (list[1].line, list[1].column),
        value_of(&text, "platform = \"myspace\"")
    );
}

#[test]
fn a_mastodon_account_needs_its_server_and_takes_no_user_id() {
    let text = with_account(
        "id = \"m\"\nplatform = \"mastodon\"\nhandle = \"acme@mastodon.social\"\nuser_id = \"5\"\ncredentials = \"s\"",
    );
    let list = errors(&text);
    let fields: Vec<&str> = list.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["accounts[0].base_url", "accounts[0].user_id"]);
    assert_eq!(list[1].message, "is only used by X accounts");
}

#[test]
fn duplicate_account_ids_are_reported_at_the_second() {
    let account =
        "id = \"a\"\nplatform = \"bluesky\"\nhandle = \"acme.bsky.social\"\ncredentials = \"s\"";
    let text = format!("{}\n[[accounts]]\n{account}", with_account(account));
    let error = only_error(&text);
    assert_eq!(error.field, "accounts[1].id");
    assert_eq!(error.message, "duplicate account id `a`");
}

#[test]
fn mentions_settings_out_of_range_name_their_field() {
    let text = format!(
        "{VALID}\n[mentions]\nsurge_authors = 0\nsurge_window = \"30s\"\nhorizon = \"30d\"\nretention = \"5x\""
    );
    let list = errors(&text);
    let found: Vec<(&str, &str)> = list
        .iter()
        .map(|e| (e.field.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "mentions.surge_authors",
                "must be between 1 and 1000, got 0"
            ),
            ("mentions.surge_window", "must be between 1m and 24h"),
            ("mentions.horizon", "must be between 0s and 7d"),
            ("mentions.retention", list[3].message.as_str()),
        ]
    );
    assert_eq!(
        (list[3].line, list[3].column),
        value_of(&text, "retention = \"5x\"")
    );
}

#[test]
fn an_unknown_key_in_an_account_is_named_with_its_table() {
    let text = with_account(
        "id = \"a\"\nplatform = \"x\"\nhandle = \"acme\"\nuser_id = \"1\"\ncredentials = \"s\"\npassword = \"hunter2\"",
    );
    let error = only_error(&text);
    assert_eq!(error.field, "accounts[0].password");
    assert_eq!((error.line, error.column), position_of(&text, "password"));
}

#[test]
fn an_extra_lexicon_is_read_and_its_unknown_lists_named() {
    let text = format!(
        "{VALID}\n[mentions.lexicon]\noutage = [\"kaputt gegangen\"]\npraise = [\"top notch\"]"
    );
    let config = Config::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.mentions.lexicon.outage, ["kaputt gegangen"]);
    assert_eq!(config.mentions.lexicon.praise, ["top notch"]);

    let typo = format!("{VALID}\n[mentions.lexicon]\noutages = [\"kaputt\"]");
    let error = only_error(&typo);
    assert_eq!(error.field, "mentions.lexicon.outages");
    assert_eq!((error.line, error.column), position_of(&typo, "outages"));
}

#[test]
fn an_empty_keyword_is_named_with_its_index() {
    let text = VALID.replacen(
        "name = \"Public API\"",
        "name = \"Public API\"\nkeywords = [\"api\", \" \"]",
        1,
    );
    let error = only_error(&text);
    assert_eq!(error.field, "components[0].keywords[1]");
    assert_eq!(error.message, "must not be empty");
}

// ---------------------------------------------------------------------------------------
// On-call: people, schedules, policies, [oncall] and the components' routing
// ---------------------------------------------------------------------------------------

/// Two people, one weekly schedule, one policy paging it, and `[oncall]` making it the
/// default: valid after `VALID`.
const ON_CALL: &str = r#"
[[people]]
id = "alice"
name = "Alice Smith"
timezone = "Europe/London"
sms = "+447700900123"

[[people]]
id = "bob"
name = "Bob Jones"
timezone = "America/New_York"
email = "bob@example.com"

[[schedules]]
id = "primary"
name = "Primary"

[[schedules.layers]]
name = "London"
timezone = "Europe/London"
start = "2026-11-02 09:00"
rotation = "weekly"
participants = ["alice", "bob"]

[[policies]]
id = "default"
name = "Default"

[[policies.steps]]
targets = ["schedule:primary"]
delay = "5m"

[oncall]
policy = "default"
"#;

/// `VALID` and `ON_CALL` with `from` replaced by `to` (which must occur once).
#[track_caller]
fn on_call_with(from: &str, to: &str) -> String {
    assert_eq!(ON_CALL.matches(from).count(), 1, "`{from}` once in ON_CALL");
    format!("{VALID}{}", ON_CALL.replace(from, to))
}

#[test]
fn a_valid_on_call_section_parses_with_its_defaults() {
    use shared::oncall::{ShiftLength, Target as PageTarget, Urgency};

    let config = Config::parse(&format!("{VALID}{ON_CALL}")).expect("valid");
    let oncall = &config.oncall;
    assert_eq!(oncall.people.len(), 2);
    assert_eq!(oncall.people[1].working_hours.start.to_string(), "09:00:00");
    assert_eq!(oncall.schedules[0].layers[0].shift, ShiftLength::Days(7));
    assert_eq!(oncall.schedules[0].layers[0].participants.len(), 2);
    assert_eq!(
        oncall.policies[0].steps[0].targets,
        [PageTarget::Schedule(
            shared::config::ScheduleId::parse("primary").expect("valid")
        )]
    );
    assert_eq!(oncall.policies[0].repeat, 0);
    let default = oncall.default.as_ref().expect("a default routing");
    assert_eq!(
        (default.policy.as_str(), default.urgency),
        ("default", Urgency::High)
    );
    assert!(oncall.routing.is_empty());
    assert!(oncall.page_suspected);
    assert_eq!(oncall.ack_ttl, Duration::from_secs(24 * 3600));

    // A component's own urgency is routed through the default policy.
    let text = format!(
        "{}{ON_CALL}",
        VALID.replace(
            "name = \"Dashboard\"\n",
            "name = \"Dashboard\"\nurgency = \"low\"\n"
        )
    );
    let config = Config::parse(&text).expect("valid");
    let dashboard = shared::config::ComponentId::parse("dashboard").expect("valid");
    let routing = config.oncall.routing_of(Some(&dashboard)).expect("routed");
    assert_eq!(
        (routing.policy.as_str(), routing.urgency),
        ("default", Urgency::Low)
    );

    // Without any on-call section: nobody to page, and the documented defaults.
    let config = Config::parse(VALID).expect("valid");
    assert!(config.oncall.people.is_empty() && config.oncall.default.is_none());
    assert!(config.oncall.page_suspected);
    assert_eq!(config.oncall.ack_ttl, Duration::from_secs(24 * 3600));
}

#[test]
fn an_unknown_id_is_named_where_it_is_referenced() {
    let text = on_call_with(
        "participants = [\"alice\", \"bob\"]",
        "participants = [\"alice\", \"carol\"]",
    );
    assert_error(
        &only_error(&text),
        "schedules[0].layers[0].participants[1]",
        position_of(&text, "\"carol\""),
        "no person has id `carol` (known: alice, bob)",
    );

    let text = on_call_with(
        "targets = [\"schedule:primary\"]",
        "targets = [\"person:bob\", \"schedule:secondary\"]",
    );
    assert_error(
        &only_error(&text),
        "policies[0].steps[0].targets[1]",
        position_of(&text, "\"schedule:secondary\""),
        "no schedule has id `secondary` (known: primary)",
    );

    let text = on_call_with(
        "targets = [\"schedule:primary\"]",
        "targets = [\"team:sre\"]",
    );
    assert_error(
        &only_error(&text),
        "policies[0].steps[0].targets[0]",
        position_of(&text, "\"team:sre\""),
        "must be \"schedule:<id>\" or \"person:<id>\", got \"team:sre\"",
    );

    let text = on_call_with("policy = \"default\"", "policy = \"fallback\"");
    assert_error(
        &only_error(&text),
        "oncall.policy",
        value_of(&text, "policy = \"fallback\""),
        "no policy has id `fallback` (known: default)",
    );

    let text = format!(
        "{}{ON_CALL}",
        VALID.replace(
            "name = \"Dashboard\"\n",
            "name = \"Dashboard\"\npolicy = \"nights\"\n"
        )
    );
    assert_error(
        &only_error(&text),
        "components[1].policy",
        value_of(&text, "policy = \"nights\""),
        "no policy has id `nights` (known: default)",
    );
}

#[test]
fn a_component_that_pages_nobody_is_an_error() {
    // Policies exist, but neither the components nor `[oncall]` name one.
    let text = on_call_with("[oncall]\npolicy = \"default\"\n", "");
    let list = errors(&text);
    let message = "pages nobody: set `policy` here, or a default for every component with `policy` in `[oncall]`";
    assert_eq!(list.len(), 2, "{list:#?}");
    let (api, _) = position_of(&text, "id = \"api\"\n");
    let (dashboard, _) = position_of(&text, "id = \"dashboard\"");
    assert_error(&list[0], "components[0].policy", (api - 1, 1), message);
    assert_error(
        &list[1],
        "components[1].policy",
        (dashboard - 1, 1),
        message,
    );

    // A component with its own policy is fine; the other one is still reported.
    let text = format!(
        "{}{}",
        VALID.replace(
            "name = \"Public API\"\n",
            "name = \"Public API\"\npolicy = \"default\"\n"
        ),
        ON_CALL.replace("[oncall]\npolicy = \"default\"\n", "")
    );
    assert_error(
        &only_error(&text),
        "components[1].policy",
        (position_of(&text, "id = \"dashboard\"").0 - 1, 1),
        message,
    );
}

#[test]
fn person_mistakes_are_each_named_with_field_and_line() {
    let text = on_call_with(
        "sms = \"+447700900123\"",
        "sms = \"07700 900123\"\nemail = \"alice at example.com\"\ntopic = \"oncall-alice\"\nworking_hours = { days = [\"mon\", \"funday\"], start = \"17:00\", end = \"09:00\" }",
    );
    let found: Vec<(String, (usize, usize), String)> = errors(&text)
        .into_iter()
        .map(|e| (e.field, (e.line, e.column), e.message))
        .collect();
    let expected = [
        (
            "people[0].sms",
            value_of(&text, "sms = "),
            "`07700 900123` is not a phone number in E.164 form (`+447700900123`: `+`, country code, number)",
        ),
        (
            "people[0].email",
            value_of(&text, "email = \"alice"),
            "`alice at example.com` is not an email address (`alice@example.com`)",
        ),
        (
            "people[0].topic",
            value_of(&text, "topic = "),
            "`oncall-alice` is not an SNS topic ARN (`arn:aws:sns:eu-west-1:123456789012:oncall-alice`)",
        ),
        (
            "people[0].working_hours.days[1]",
            position_of(&text, "\"funday\""),
            "unknown weekday `funday`: expected `mon` to `sun` or `monday` to `sunday`",
        ),
    ];
    let expected: Vec<(String, (usize, usize), String)> = expected
        .into_iter()
        .map(|(f, p, m)| (f.to_owned(), p, m.to_owned()))
        .collect();
    assert_eq!(found, expected);

    // Hours that end before they start, and a person nobody can reach.
    let text = on_call_with(
        "email = \"bob@example.com\"",
        "working_hours = { start = \"17:00\", end = \"09:00\" }",
    );
    let list = errors(&text);
    assert_eq!(list.len(), 2, "{list:#?}");
    let (bob, _) = position_of(&text, "id = \"bob\"");
    assert_error(
        &list[0],
        "people[1].sms",
        (bob - 1, 1),
        "a person needs at least one way to be reached: `sms`, `email` or `topic`",
    );
    assert_error(
        &list[1],
        "people[1].working_hours.end",
        position_of(&text, "\"09:00\""),
        "must be after `start` (17:00): working hours end on the day they start",
    );
}

#[test]
fn duplicate_on_call_ids_are_reported_at_the_second() {
    let text = format!(
        "{VALID}{ON_CALL}\n[[people]]\nid = \"bob\"\nname = \"Robert\"\ntimezone = \"UTC\"\nemail = \"robert@example.com\"\n"
    );
    let (line, _) = position_of(&text, "name = \"Robert\"");
    assert_error(
        &only_error(&text),
        "people[2].id",
        (line - 1, 6),
        "duplicate person id `bob`",
    );

    let text = on_call_with(
        "[oncall]",
        "[[policies]]\nid = \"default\"\nname = \"Again\"\n\n[[policies.steps]]\ntargets = [\"person:bob\"]\ndelay = \"10m\"\n\n[oncall]",
    );
    let (line, _) = position_of(&text, "name = \"Again\"");
    assert_error(
        &only_error(&text),
        "policies[1].id",
        (line - 1, 6),
        "duplicate policy id `default`",
    );
}

#[test]
fn rotations_restrictions_and_overrides_are_checked() {
    let text = on_call_with("rotation = \"weekly\"", "rotation = \"fortnightly\"");
    assert_error(
        &only_error(&text),
        "schedules[0].layers[0].rotation",
        value_of(&text, "rotation = "),
        "must be \"daily\", \"weekly\", \"<n>d\" (days, e.g. \"14d\") or \"<n>h\" (hours, e.g. \"12h\"), got \"fortnightly\"",
    );
    let text = on_call_with("rotation = \"weekly\"", "rotation = \"91d\"");
    assert_error(
        &only_error(&text),
        "schedules[0].layers[0].rotation",
        value_of(&text, "rotation = "),
        "a rotation in days must be 1d to 90d, got \"91d\"",
    );

    let text = on_call_with(
        "participants = [\"alice\", \"bob\"]",
        "participants = [\"alice\", \"bob\"]\nrestrictions = [\n  { days = [\"mon\"], start = \"08:00\", end = \"16:00\" },\n  { days = [], start = \"22:00\", end = \"25:00\" },\n]",
    );
    let list = errors(&text);
    assert_eq!(list.len(), 2, "{list:#?}");
    assert_error(
        &list[0],
        "schedules[0].layers[0].restrictions[1].days",
        value_of(&text, "days = []"),
        "must list at least one weekday, or be left out",
    );
    assert_error(
        &list[1],
        "schedules[0].layers[0].restrictions[1].end",
        position_of(&text, "\"25:00\""),
        "`25:00` is not a time of day: the hour must be 0 to 23",
    );

    let overrides = "participants = [\"alice\", \"bob\"]\n\n[[schedules.overrides]]\nperson = \"bob\"\ntimezone = \"Europe/London\"\nstart = \"2026-12-24 18:00\"\nend = \"2026-12-24 09:00\"\n";
    let text = on_call_with("participants = [\"alice\", \"bob\"]", overrides);
    assert_error(
        &only_error(&text),
        "schedules[0].overrides[0].end",
        value_of(&text, "end = \"2026-12-24 09:00\""),
        "`end` must be after `start`",
    );
    let text = on_call_with(
        "participants = [\"alice\", \"bob\"]",
        &overrides
            .replace("\"bob\"\ntimezone", "\"dave\"\ntimezone")
            .replace("2026-12-24 09:00", "2026-12-27 09:00"),
    );
    assert_error(
        &only_error(&text),
        "schedules[0].overrides[0].person",
        position_of(&text, "\"dave\""),
        "no person has id `dave` (known: alice, bob)",
    );
}

#[test]
fn policy_and_oncall_settings_are_range_checked() {
    let text = on_call_with(
        "delay = \"5m\"",
        "delay = \"30s\"\n\n[[policies.steps]]\ntargets = []\ndelay = \"1h\"",
    );
    let list = errors(&text);
    assert_eq!(list.len(), 2, "{list:#?}");
    assert_error(
        &list[0],
        "policies[0].steps[0].delay",
        value_of(&text, "delay = \"30s\""),
        "must be between 1m and 24h",
    );
    assert_error(
        &list[1],
        "policies[0].steps[1].targets",
        value_of(&text, "targets = []"),
        "must name at least one target (\"schedule:<id>\" or \"person:<id>\")",
    );

    let text = on_call_with("name = \"Default\"", "name = \"Default\"\nrepeat = 11");
    assert_error(
        &only_error(&text),
        "policies[0].repeat",
        value_of(&text, "repeat = "),
        "must be between 0 and 10, got 11",
    );

    let text = on_call_with(
        "policy = \"default\"",
        "policy = \"default\"\nurgency = \"medium\"\nack_url = \"ftp://acme.example/ack\"\nack_ttl = \"1m\"",
    );
    let found: Vec<(String, String)> = errors(&text)
        .into_iter()
        .map(|e| (e.field, e.message))
        .collect();
    assert_eq!(
        found,
        [
            (
                "oncall.urgency".to_owned(),
                "must be \"high\" or \"low\", got \"medium\"".to_owned()
            ),
            (
                "oncall.ack_url".to_owned(),
                "`ftp://acme.example/ack` is not an http(s) URL (scheme `ftp`)".to_owned()
            ),
            (
                "oncall.ack_ttl".to_owned(),
                "must be between 5m and 7d".to_owned()
            ),
        ]
    );
}

#[test]
fn on_call_tables_get_the_usual_toml_diagnostics() {
    let text = on_call_with("rotation = \"weekly\"", "rotaton = \"weekly\"");
    let error = only_error(&text);
    assert_eq!(error.field, "schedules[0].layers[0].rotaton");
    assert_eq!((error.line, error.column), position_of(&text, "rotaton"));

    let text = on_call_with("[oncall]", "[[oncall]]");
    assert_error(
        &only_error(&text),
        "oncall",
        position_of(&text, "[[oncall]]"),
        "`oncall` is a single table: write `[oncall]`, not `[[oncall]]`",
    );

    let text = format!("{VALID}\n[people]\nid = \"alice\"\n");
    assert_error(
        &only_error(&text),
        "people",
        position_of(&text, "[people]"),
        "`people` is a list of tables: write `[[people]]` for each one, not `[people]`",
    );

    let layer = &ON_CALL[ON_CALL.find("[[schedules.layers]]").expect("in ON_CALL")
        ..ON_CALL.find("[[policies]]").expect("in ON_CALL")];
    let text = on_call_with(layer, "");
    let (line, _) = position_of(&text, "id = \"primary\"");
    assert_error(
        &only_error(&text),
        "schedules[0].layers",
        (line - 1, 1),
        "a schedule needs at least one [[schedules.layers]] table",
    );
}

// ---------------------------------------------------------------------------------------
// The shipped example
// ---------------------------------------------------------------------------------------

#[test]
fn the_example_config_is_valid_and_uses_every_feature() {
    let config = Config::parse(EXAMPLE).unwrap_or_else(|e| panic!("examples/sitrep.toml:\n{e}"));
    assert_eq!(config.service.name, "Acme Cloud");
    assert_eq!(
        config.service.status_url.as_str(),
        "https://status.acme-cloud.example/"
    );

    assert_eq!(config.probe.concurrency, 32);
    assert_eq!(config.probe.region.as_deref(), Some("eu-west-1"));
    assert_eq!(config.probe.quorum, Quorum::Majority);
    assert_eq!(config.probe.region_freshness, Duration::from_secs(180));
    assert_eq!(config.probe.raw_retention, Duration::from_secs(7 * 86_400));

    assert_eq!(config.components.len(), 5);
    assert_eq!(config.oncall.people.len(), 6);
    assert_eq!(config.oncall.schedules.len(), 2);
    assert_eq!(config.oncall.schedules[0].layers.len(), 3);
    assert_eq!(config.oncall.policies.len(), 2);
    assert_eq!(config.oncall.policies[0].repeat, 2);
    assert_eq!(config.oncall.ack_ttl, Duration::from_secs(12 * 3600));
    assert_eq!(config.oncall.routing.len(), 1);
    assert!(config.oncall.default.is_some());
    assert!(
        config.components[0]
            .keywords
            .contains(&"webhooks".to_owned())
    );
    assert!(config.components[3].keywords.is_empty());
    assert_eq!(config.mentions.horizon, Duration::from_secs(2 * 3600));
    assert_eq!(config.mentions.surge_authors, 5);
    assert_eq!(config.mentions.surge_window, Duration::from_secs(600));
    let platforms: Vec<&str> = config
        .accounts
        .iter()
        .map(|a| a.platform.as_str())
        .collect();
    assert_eq!(platforms, ["x", "mastodon", "bluesky"]);
    assert_eq!(config.accounts[0].user_id.as_deref(), Some("1234567890"));
    assert_eq!(config.accounts[0].base_url.as_str(), "https://api.x.com/");
    assert_eq!(
        config.accounts[1].base_url.as_str(),
        "https://mastodon.social/"
    );
    let triggers: Vec<IncidentTrigger> = config
        .components
        .iter()
        .map(|c| c.open_incident_on)
        .collect();
    assert_eq!(triggers[0], IncidentTrigger::Degraded);
    assert!(triggers[1..].iter().all(|t| *t == IncidentTrigger::Down));

    assert_eq!(config.checks.len(), 10);
    let count = |kind: CheckKind| {
        config
            .checks
            .iter()
            .filter(|c| c.target.kind() == kind)
            .count()
    };
    assert_eq!(
        [
            count(CheckKind::Http),
            count(CheckKind::Tcp),
            count(CheckKind::Dns),
            count(CheckKind::Tls)
        ],
        [4, 2, 2, 2]
    );
    for component in &config.components {
        assert!(
            config.checks_of(&component.id).next().is_some(),
            "{} has no check",
            component.id
        );
    }

    let check = |id: &str| {
        config
            .checks
            .iter()
            .find(|c| c.id.as_str() == id)
            .unwrap_or_else(|| panic!("no check {id}"))
    };
    let health = check("api-health");
    let Target::Http(http) = &health.target else {
        panic!("api-health is http")
    };
    assert_eq!(http.headers.len(), 2);
    assert_eq!(health.timeout, Duration::from_secs(5));
    assert_eq!(health.degraded_after, Some(Duration::from_millis(1500)));
    assert_eq!((health.failure_threshold, health.success_threshold), (2, 3));
    let sources: Vec<&str> = health.conditions.iter().map(|c| c.source()).collect();
    assert!(sources.contains(&"[BODY].status == \"ok\""), "{sources:?}");
    assert!(sources.contains(&"len([BODY].regions) >= 3"), "{sources:?}");

    let Target::Http(auth) = &check("api-auth").target else {
        panic!("api-auth is http")
    };
    assert_eq!(auth.method, "POST");
    assert!(auth.body.is_some());
    assert!(!auth.follow_redirects);

    let Target::Http(control) = &check("databases-control-plane").target else {
        panic!("databases-control-plane is http")
    };
    assert_eq!(control.method, "HEAD");
    assert_eq!(
        control.ca_file.as_deref(),
        Some(Path::new("certs/acme-internal-ca.pem"))
    );
    assert_eq!(
        check("databases-control-plane").conditions[0].source(),
        "[STATUS] < 400"
    );

    let Target::Tls(tls) = &check("api-certificate").target else {
        panic!("api-certificate is tls")
    };
    assert_eq!(tls.server_name, "api.acme-cloud.example");
    let Target::Tls(console) = &check("console-certificate").target else {
        panic!("console-certificate is tls")
    };
    assert_eq!(
        (console.port, console.server_name.as_str()),
        (443, "console.acme-cloud.example")
    );

    let Target::Dns(mx) = &check("dns-mx").target else {
        panic!("dns-mx is dns")
    };
    assert_eq!(mx.record_type, DnsRecordType::Mx);
    assert_eq!(
        mx.nameserver.map(|a| a.to_string()).as_deref(),
        Some("198.51.100.53:5353")
    );

    let storage = check("storage-endpoint");
    assert_eq!(storage.timeout, Duration::from_secs(10));
    assert_eq!(
        (storage.failure_threshold, storage.success_threshold),
        (3, 2)
    );
    assert_eq!(storage.conditions[0].source(), "[CONNECTED] == true");

    assert_eq!(config.maintenance.len(), 3);
    let kinds: Vec<&str> = config
        .maintenance
        .iter()
        .map(|w| match &w.schedule {
            Schedule::OneOff { .. } => "one-off",
            Schedule::Recurring { days, .. } if days.is_empty() => "daily",
            Schedule::Recurring { .. } => "weekly",
        })
        .collect();
    assert_eq!(kinds, ["one-off", "weekly", "daily"]);

    use shared::config::{Announce, ReplyMode};
    use shared::reply::template::Situation;
    let announce: Vec<Announce> = config.accounts.iter().map(|a| a.announce).collect();
    assert_eq!(announce, [Announce::Auto, Announce::Draft, Announce::Off]);
    assert_eq!(config.accounts[1].max_chars, Some(500));
    let replies = &config.replies;
    assert_eq!(replies.mode, ReplyMode::Live);
    assert_eq!(replies.cooldown, Duration::from_secs(6 * 3600));
    assert_eq!(replies.deny, ["spam_bot_9000"]);
    assert_eq!(replies.vip.len(), 2);
    assert_eq!(
        replies.templates.language("de").timezone.name(),
        "Europe/Berlin"
    );
    assert_eq!(
        replies
            .templates
            .language("en")
            .variants(Situation::Incident)
            .len(),
        2
    );
}

// ---------------------------------------------------------------------------------------
// No input panics
// ---------------------------------------------------------------------------------------

/// Parses `text`, failing with the input if the parser panics, and checks the shape of every
/// error: a field, a message, a position inside the document, all in source order.
fn parse_without_panic(text: &str, what: &str) {
    let result = panic::catch_unwind(AssertUnwindSafe(|| Config::parse(text)));
    let Ok(result) = result else {
        panic!("Config::parse panicked on {what}:\n{text:?}");
    };
    let Err(ConfigErrors(list)) = result else {
        return;
    };
    assert!(!list.is_empty(), "{what}: an Err without errors");
    let lines = text.split('\n').count();
    for error in &list {
        assert!(!error.field.is_empty(), "{what}: {error:?}");
        assert!(!error.message.is_empty(), "{what}: {error:?}");
        assert!(
            (1..=lines).contains(&error.line) && error.column >= 1,
            "{what}: {error:?} outside the {lines}-line document"
        );
    }
    assert!(
        list.windows(2)
            .all(|w| (w[0].line, w[0].column) <= (w[1].line, w[1].column)),
        "{what}: not in source order: {list:#?}"
    );
}

#[test]
fn the_escaped_document_is_valid() {
    let config = Config::parse(ESCAPED).unwrap_or_else(|e| panic!("{e}\n{ESCAPED}"));
    let sources: Vec<&str> = config.checks[0]
        .conditions
        .iter()
        .map(|c| c.source())
        .collect();
    assert_eq!(
        sources,
        [
            "\t[BODY].caf\u{e9} == \"d\u{e9}j\u{e0} vu\"",
            "[HEADER].X-Cafe contains \"\u{e9}t\u{e9}\"",
            "[BODY].\"cl\u{e9}\" == \u{1F600}",
        ]
    );
}

#[test]
fn no_truncation_of_a_valid_config_panics() {
    for document in [VALID, ESCAPED, EXAMPLE] {
        for end in (0..=document.len()).filter(|&end| document.is_char_boundary(end)) {
            parse_without_panic(&document[..end], &format!("the first {end} bytes"));
        }
    }
}

/// A linear congruential generator (Knuth's MMIX constants): deterministic, no dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next()).unwrap_or(0) % n.max(1)
    }
}

#[test]
fn no_mangled_config_panics() {
    // Bytes that matter to TOML, to the condition language and to UTF-8, plus random ones.
    const INTERESTING: &[u8] = b"\"'[]{}=,.#\\\n\t 0123456789-:TZabuxU\xc3\xa9\xe2\x80\xff\x00";
    let mut rng = Lcg(0x5EED_CAFE);
    let documents = [VALID.as_bytes(), ESCAPED.as_bytes(), EXAMPLE.as_bytes()];
    for round in 0..10_000 {
        let mut bytes = documents[round % documents.len()].to_vec();
        for _ in 0..=rng.below(4) {
            let at = rng.below(bytes.len());
            match rng.below(4) {
                0 => bytes[at] = INTERESTING[rng.below(INTERESTING.len())],
                1 => bytes[at] = u8::try_from(rng.below(256)).unwrap_or(0),
                2 => {
                    let end = (at + 1 + rng.below(40)).min(bytes.len());
                    bytes.drain(at..end);
                }
                _ => {
                    let end = (at + 1 + rng.below(40)).min(bytes.len());
                    let copy = bytes[at..end].to_vec();
                    let to = rng.below(bytes.len());
                    bytes.splice(to..to, copy);
                }
            }
            if bytes.is_empty() {
                break;
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        parse_without_panic(&text, &format!("mangled variant {round}"));
    }
}

const X_ACCOUNT: &str =
    "id = \"acme-x\"\nplatform = \"x\"\nhandle = \"acme\"\nuser_id = \"1\"\ncredentials = \"s\"";

#[test]
fn replies_default_to_a_dry_run_and_read_every_setting() {
    let config = Config::parse(&with_account(X_ACCOUNT)).unwrap();
    let replies = &config.replies;
    assert_eq!(replies.mode, shared::config::ReplyMode::DryRun);
    assert_eq!(replies.max_age, Duration::from_secs(30 * 60));
    assert_eq!(replies.sla, Duration::from_secs(300));
    assert_eq!(config.accounts[0].announce, shared::config::Announce::Off);

    let text = format!(
        "{}\nannounce = \"auto\"\n\n[replies]\nmode = \"live\"\nmin_confidence = 0.75\nmax_age = \"15m\"\ncooldown = \"2h\"\nsla = \"2m\"\nlanguage = \"de\"\ndeny = [\"@Spammer\", \"12345\"]\nvip = [\"BigCustomer\"]\ntimezone = \"Europe/Berlin\"\ntimezones = {{ pt = \"America/Sao_Paulo\" }}\n\n[replies.templates.en]\nincident = [\"{{component}} is {{status}} since {{since}}: {{status_url}}\"]\n[replies.templates.ja]\nincident = [\"{{component}}は{{since}}から障害中です。{{status_url}}\"]\n",
        with_account(X_ACCOUNT)
    );
    let config = Config::parse(&text).unwrap();
    let replies = &config.replies;
    assert_eq!(replies.mode, shared::config::ReplyMode::Live);
    assert_eq!(replies.min_confidence, 0.75);
    assert_eq!(replies.max_age, Duration::from_secs(900));
    assert_eq!(replies.cooldown, Duration::from_secs(7200));
    assert_eq!(replies.sla, Duration::from_secs(120));
    assert_eq!(replies.deny, ["spammer", "12345"]);
    assert_eq!(replies.vip, ["bigcustomer"]);
    assert_eq!(config.accounts[0].announce, shared::config::Announce::Auto);
    let templates = &replies.templates;
    assert_eq!(templates.default_language(), "de");
    assert_eq!(templates.language("en").timezone.name(), "Europe/Berlin");
    assert_eq!(
        templates.language("pt").timezone.name(),
        "America/Sao_Paulo"
    );
    assert_eq!(templates.language("ja").timezone.name(), "Europe/Berlin");
    use shared::reply::template::Situation;
    assert_eq!(
        templates.language("en").variants(Situation::Incident)[0].source(),
        "{component} is {status} since {since}: {status_url}"
    );
    assert!(
        !templates
            .language("en")
            .variants(Situation::FollowUp)
            .is_empty(),
        "situations the config leaves out keep their built-in texts"
    );
}

#[test]
fn reply_settings_out_of_range_name_their_field_and_line() {
    let text = format!(
        "{VALID}\n[replies]\nmode = \"yolo\"\nmin_confidence = 1.5\nmax_age = \"2d\"\nsla = \"1s\"\ntimezone = \"Mars/Olympus\"\ndeny = [\"two words\"]\n"
    );
    let list = errors(&text);
    let found: Vec<(&str, &str)> = list
        .iter()
        .map(|e| (e.field.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "replies.mode",
                "must be \"live\" or \"dry-run\", got \"yolo\""
            ),
            ("replies.min_confidence", "must be between 0 and 1, got 1.5"),
            ("replies.max_age", "must be between 1m and 24h"),
            ("replies.sla", "must be between 10s and 24h"),
            (
                "replies.timezone",
                "`Mars/Olympus` is not an IANA time zone (`Europe/Berlin`)"
            ),
            (
                "replies.deny[0]",
                "must be a handle or account id, without spaces"
            ),
        ]
    );
    assert_eq!(
        (list[0].line, list[0].column),
        value_of(&text, "mode = \"yolo\"")
    );
    assert_eq!(
        (list[4].line, list[4].column),
        value_of(&text, "timezone = \"Mars/Olympus\"")
    );
}

#[test]
fn a_template_field_the_situation_lacks_is_named_at_its_variant() {
    let text = format!(
        "{VALID}\n[replies.templates.en]\nincident = [\n  \"{{component}} is {{status}}\",\n  \"fixed at {{fixed_at}}\",\n]\nincidnet = [\"x\"]\nall_clear = [\"ask @support\"]\n"
    );
    let list = errors(&text);
    let fields: Vec<&str> = list.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "replies.templates.en.incident[1]",
            "replies.templates.en.incidnet",
            "replies.templates.en.all_clear[0]",
        ]
    );
    assert_eq!(
        (list[0].line, list[0].column),
        position_of(&text, "\"fixed at")
    );
    assert!(
        list[0].message.contains("`{fixed_at}`"),
        "{}",
        list[0].message
    );
    assert!(
        list[1]
            .message
            .starts_with("is not a situation; situations are incident, ")
    );
    assert!(list[2].message.contains("`@support`"));
}

#[test]
fn a_template_too_long_for_an_account_is_refused_with_its_worst_case() {
    // The worst case: the longest handle X allows (17 with `@` and space), the longest name
    // (10), and the status URL. X counts a URL as 23 only when its domain has a real TLD:
    // `.example` has none, so this one counts its 33 characters.
    let fits = format!(
        "{}\n\n[replies.templates.en]\nincident = [\"{} {{component}} {{status_url}}\"]\n",
        with_account(X_ACCOUNT),
        "a".repeat(216)
    );
    assert!(
        Config::parse(&fits).is_ok(),
        "17 + 216 + 1 + 10 + 1 + 33 = 278"
    );
    let long = "a".repeat(250);
    let text = format!(
        "{}\n\n[replies.templates.en]\nincident = [\"{long} {{component}} {{status_url}}\"]\n",
        with_account(X_ACCOUNT)
    );
    let error = only_error(&text);
    assert_eq!(error.field, "replies.templates.en.incident[0]");
    assert_eq!(
        (error.line, error.column),
        position_of(&text, &format!("\"{long}"))
    );
    assert!(
        error
            .message
            .starts_with("can measure 312 where X's weighted count allows 280 (account `acme-x`"),
        "{}",
        error.message
    );
    assert!(
        error.message.ends_with("shorten it by 32"),
        "{}",
        error.message
    );

    let mastodon = "id = \"m\"\nplatform = \"mastodon\"\nhandle = \"acme\"\nbase_url = \"https://mastodon.example\"\ncredentials = \"s\"";
    let text = format!(
        "{}\n\n[replies.templates.en]\nincident = [\"{long} {{component}} {{status_url}}\"]\n",
        with_account(mastodon)
    );
    assert!(Config::parse(&text).is_ok(), "fits Mastodon's 500");
    let small = format!("{mastodon}\nmax_chars = 250");
    let text = format!(
        "{}\n\n[replies.templates.en]\nincident = [\"{long} {{component}} {{status_url}}\"]\n",
        with_account(&small)
    );
    assert!(
        only_error(&text)
            .message
            .contains("the Mastodon server allows 250")
    );
}

#[test]
fn updates_are_proved_only_for_accounts_that_announce() {
    let long = "a".repeat(300);
    let section = format!("\n\n[replies.templates.en]\nupdate_opened = [\"{long}\"]\n");
    assert!(Config::parse(&format!("{}{section}", with_account(X_ACCOUNT))).is_ok());
    let announcing = format!("{X_ACCOUNT}\nannounce = \"auto\"");
    let error = only_error(&format!("{}{section}", with_account(&announcing)));
    assert_eq!(error.field, "replies.templates.en.update_opened[0]");
}

#[test]
fn posting_settings_of_an_account_are_checked() {
    let text = with_account(&format!(
        "{X_ACCOUNT}\nannounce = \"sometimes\"\nmax_chars = 1000"
    ));
    let list = errors(&text);
    let found: Vec<(&str, &str)> = list
        .iter()
        .map(|e| (e.field.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "accounts[0].announce",
                "must be \"auto\", \"draft\" or \"off\", got \"sometimes\""
            ),
            (
                "accounts[0].max_chars",
                "is only for Mastodon accounts: X and Bluesky have fixed limits"
            ),
        ]
    );
}

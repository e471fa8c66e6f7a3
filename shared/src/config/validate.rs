//! From raw TOML to a [`Config`]: every rule, every error located by field and line.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::raw::{RawCheck, RawComponent, RawConfig, RawMaintenance, RawProbe};
use super::{
    Check, CheckId, CheckKind, Component, ComponentId, Config, ConfigError, ConfigErrors,
    DnsRecordType, DnsTarget, HttpTarget, IncidentTrigger, MentionSettings, ProbeSettings, Quorum,
    ReplySettings, Service, Target, TcpTarget, TlsTarget, parse_duration,
};
use super::{accounts, oncall, replies};
use crate::maintenance::{self, MaintenanceWindow, Schedule};
use crate::probe::condition::Condition;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_TIMEOUT: Duration = Duration::from_secs(60);

/// Checks an identifier: 1–64 of `a-z`, `0-9`, `-`, `_`, starting with a letter or digit.
pub(super) fn slug(value: &str) -> Result<(), String> {
    let valid = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{value}` is not a valid id: use 1 to 64 lower-case letters, digits, `-` or `_`, starting with a letter or digit"
        ))
    }
}

/// Collects errors with their location.
pub(super) struct Errors<'a> {
    source: &'a str,
    list: Vec<(usize, ConfigError)>,
}

impl<'a> Errors<'a> {
    fn position(&self, offset: usize) -> (usize, usize) {
        // Offsets are computed, not only taken from the parser; one that lands inside a
        // multi-byte character must still give a position rather than panic on the slice.
        let offset = floor_char_boundary(self.source, offset);
        let before = &self.source[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    pub(super) fn at(
        &mut self,
        span: Range<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        let (line, column) = self.position(span.start);
        self.list.push((
            span.start,
            ConfigError {
                field: field.into(),
                line,
                column,
                message: message.into(),
            },
        ));
    }

    fn finish(mut self) -> Result<(), ConfigErrors> {
        if self.list.is_empty() {
            return Ok(());
        }
        self.list.sort_by_key(|(offset, _)| *offset);
        Err(ConfigErrors(
            self.list.into_iter().map(|(_, e)| e).collect(),
        ))
    }
}

/// Parses and validates a whole configuration.
pub(super) fn parse(source: &str) -> Result<Config, ConfigErrors> {
    let mut errors = Errors {
        source,
        list: Vec::new(),
    };
    let raw: RawConfig = match toml::from_str(source) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let (field, message) = describe_toml_error(source, &span, e.message().trim());
            errors.at(span, field, message);
            return Err(errors.finish().err().unwrap_or(ConfigErrors(Vec::new())));
        }
    };

    let service = raw.service.into_inner();
    let name = service.name.get_ref().trim().to_owned();
    if name.is_empty() {
        errors.at(service.name.span(), "service.name", "must not be empty");
    }
    let status_url = match http_url(service.status_url.get_ref()) {
        Ok(url) => Some(url),
        Err(message) => {
            errors.at(service.status_url.span(), "service.status_url", message);
            None
        }
    };

    let probe = match raw.probe {
        Some(probe) => probe_settings(probe.into_inner(), &mut errors),
        None => ProbeSettings::default(),
    };

    let mut components = Vec::new();
    let mut component_ids = HashSet::new();
    let mut paging = Vec::new();
    for (i, component) in raw.components.into_iter().enumerate() {
        let id_span = component.get_ref().id.span();
        let header = component.span();
        let mut component = component.into_inner();
        paging.push(oncall::ComponentPaging {
            index: i,
            id: ComponentId::parse(component.id.get_ref()).ok(),
            header,
            policy: component.policy.take(),
            urgency: component.urgency.take(),
        });
        if let Some(c) = component_of(i, component, &mut errors) {
            if !component_ids.insert(c.id.clone()) {
                errors.at(
                    id_span,
                    format!("components[{i}].id"),
                    format!("duplicate component id `{}`", c.id),
                );
            }
            components.push(c);
        }
    }
    if components.is_empty() {
        errors.at(
            0..0,
            "components",
            "at least one [[components]] table is needed",
        );
    }

    let mut checks = Vec::new();
    let mut check_ids = HashSet::new();
    for (i, check) in raw.checks.into_iter().enumerate() {
        let id = check.get_ref().id.clone();
        // Judged on the id alone: a duplicate is worth reporting even when the rest of the
        // check has errors of its own.
        if let Ok(parsed) = CheckId::parse(id.get_ref())
            && !check_ids.insert(parsed)
        {
            errors.at(
                id.span(),
                format!("checks[{i}].id"),
                format!("duplicate check id `{}`", id.get_ref()),
            );
        }
        if let Some(c) = check_of(i, check.into_inner(), &component_ids, &mut errors) {
            checks.push(c);
        }
    }

    let mut windows = Vec::new();
    for (i, window) in raw.maintenance.into_iter().enumerate() {
        let span = window.span();
        if let Some(w) = window_of(i, span, window.into_inner(), &component_ids, &mut errors) {
            windows.push(w);
        }
    }

    let mentions = match raw.mentions {
        Some(mentions) => accounts::mention_settings(mentions.into_inner(), &mut errors),
        None => MentionSettings::default(),
    };
    let mut social = Vec::new();
    let mut account_ids = HashSet::new();
    for (i, account) in raw.accounts.into_iter().enumerate() {
        let id_span = account.get_ref().id.span();
        if let Some(a) = accounts::account_of(i, account.into_inner(), &mut errors) {
            if !account_ids.insert(a.id.clone()) {
                errors.at(
                    id_span,
                    format!("accounts[{i}].id"),
                    format!("duplicate account id `{}`", a.id),
                );
            }
            social.push(a);
        }
    }

    let (replies, spans, replies_span) = match raw.replies {
        Some(replies) => {
            let span = replies.span();
            let (settings, spans) = replies::reply_settings(replies.into_inner(), &mut errors);
            (settings, spans, span)
        }
        None => (ReplySettings::default(), Default::default(), 0..0),
    };
    if let Some(status_url) = &status_url {
        replies::prove_fit(
            &replies,
            &spans,
            &Service {
                name: name.clone(),
                status_url: status_url.clone(),
            },
            &components,
            &social,
            replies_span,
            &mut errors,
        );
    }

    let oncall = oncall::on_call(
        oncall::RawSections {
            people: raw.people,
            schedules: raw.schedules,
            policies: raw.policies,
            oncall: raw.oncall,
        },
        paging,
        &mut errors,
    );

    errors.finish()?;
    // Every error returned above, so the URL is there; stay total all the same.
    let status_url = status_url.ok_or_else(|| ConfigErrors(Vec::new()))?;
    Ok(Config {
        service: Service { name, status_url },
        probe,
        components,
        checks,
        maintenance: windows,
        mentions,
        accounts: social,
        replies,
        oncall,
    })
}

/// Names the field a TOML error is about, as a dotted path (`checks[1].urll`), and words the
/// message for people who write TOML rather than Rust.
///
/// serde's errors know the key but not which table it sits in, and `urll` alone does not say
/// which of forty checks has the typo; so the text is parsed again, leniently, only to find the
/// key or value whose span the error carries.
fn describe_toml_error(source: &str, span: &Range<usize>, message: &str) -> (String, String) {
    let (document, syntax_errors) = DeTable::parse_recoverable(source);
    let document = document.get_ref();
    // A syntax error's span is a position in broken text; no node of the recovered document
    // is about it, though one may happen to share it.
    let syntax = !syntax_errors.is_empty();
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    if let Some(missing) = missing.filter(|_| !syntax) {
        // The span is the header of the table that lacks the field; the root has an empty one.
        let table = if span.is_empty() {
            String::new()
        } else {
            node_at(document, span, "").map_or_else(String::new, |(path, _)| path)
        };
        return (join_path(&table, missing), message.to_owned());
    }
    if let Some((path, value)) = node_at(document, span, "").filter(|_| !syntax) {
        if let Some((section, hint)) = shape_mistake(document, &path) {
            return (section.to_owned(), hint);
        }
        return (path, plain_type_words(message, value));
    }
    // A syntax error: no node carries its span. The key is what precedes `=` on its line (the
    // error may be in the key or in the value), in the table whose header is on a line above.
    let start = floor_char_boundary(source, span.start);
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let line = source[line_start..].split('\n').next().unwrap_or_default();
    if let Some(header) = line.trim_start().strip_prefix('[') {
        // The error is in a `[table]` header: the table is what it is about.
        let name = header.trim_start_matches('[').split([']', '#']).next();
        let name = name.map(str::trim).filter(|name| !name.is_empty());
        return (name.unwrap_or("config").to_owned(), message.to_owned());
    }
    let key = line
        .split_once('=')
        .map(|(key, _)| key.trim())
        .filter(|key| !key.is_empty() && !key.starts_with('#'));
    let table = enclosing_table(source, document, line_start);
    let field = match key {
        Some(key) => join_path(&table, key),
        None if !table.is_empty() => table,
        None => "config".to_owned(),
    };
    (field, message.to_owned())
}

/// A section written with the wrong brackets, `[[service]]` or `[checks]`, when the error at
/// `path` is inside it. serde's own words for these are misleading ("expected a string").
fn shape_mistake(document: &DeTable<'_>, path: &str) -> Option<(&'static str, String)> {
    const SECTIONS: [(&str, bool); 9] = [
        ("service", false),
        ("probe", false),
        ("components", true),
        ("checks", true),
        ("maintenance", true),
        ("people", true),
        ("schedules", true),
        ("policies", true),
        ("oncall", false),
    ];
    SECTIONS.iter().find_map(|&(name, many)| {
        let inside = path == name
            || path
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(['[', '.']));
        let value = document.get(name)?;
        match value.get_ref() {
            DeValue::Array(_) if inside && !many => Some((
                name,
                format!("`{name}` is a single table: write `[{name}]`, not `[[{name}]]`"),
            )),
            DeValue::Table(_) if inside && many => Some((
                name,
                format!(
                    "`{name}` is a list of tables: write `[[{name}]]` for each one, not `[{name}]`"
                ),
            )),
            _ => None,
        }
    })
}

fn join_path(table: &str, key: &str) -> String {
    if table.is_empty() {
        key.to_owned()
    } else {
        format!("{table}.{key}")
    }
}

/// The largest char boundary at or before `offset`.
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The path of the deepest key or value whose span is exactly `span`, with the value when it
/// is the value that matched. Table values span only their `[header]`, so every table is
/// searched rather than only those whose span contains the error.
fn node_at<'a>(
    table: &'a DeTable<'a>,
    span: &Range<usize>,
    prefix: &str,
) -> Option<(String, Option<&'a DeValue<'a>>)> {
    table.iter().find_map(|(key, value)| {
        let path = join_path(prefix, key.get_ref());
        node_in_value(value, span, &path)
            .or_else(|| (key.span() == *span).then(|| (path.clone(), None)))
            .or_else(|| (value.span() == *span).then(|| (path, Some(value.get_ref()))))
    })
}

fn node_in_value<'a>(
    value: &'a Spanned<DeValue<'a>>,
    span: &Range<usize>,
    path: &str,
) -> Option<(String, Option<&'a DeValue<'a>>)> {
    match value.get_ref() {
        DeValue::Table(table) => node_at(table, span, path),
        DeValue::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let path = format!("{path}[{i}]");
            node_in_value(item, span, &path)
                .or_else(|| (item.span() == *span).then(|| (path, Some(item.get_ref()))))
        }),
        _ => None,
    }
}

/// The path of the `[table]` or `[[table]]` whose header is the last one that starts before
/// `offset`, or "" for the root.
fn enclosing_table(source: &str, document: &DeTable<'_>, offset: usize) -> String {
    fn visit(
        source: &str,
        table: &DeTable<'_>,
        prefix: &str,
        offset: usize,
        best: &mut Option<(usize, String)>,
    ) {
        for (key, value) in table {
            let path = join_path(prefix, key.get_ref());
            let items: Vec<(String, &Spanned<DeValue<'_>>)> = match value.get_ref() {
                DeValue::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| (format!("{path}[{i}]"), item))
                    .collect(),
                _ => vec![(path, value)],
            };
            for (path, item) in items {
                let DeValue::Table(inner) = item.get_ref() else {
                    continue;
                };
                let start = item.span().start;
                // Only headers open a table for the lines below; inline tables and dotted
                // keys do not.
                let header = source.get(start..).is_some_and(|s| s.starts_with('['));
                if header && start < offset && best.as_ref().is_none_or(|(b, _)| start >= *b) {
                    *best = Some((start, path.clone()));
                }
                visit(source, inner, &path, offset, best);
            }
        }
    }
    let mut best = None;
    visit(source, document, "", offset, &mut best);
    best.map(|(_, path)| path).unwrap_or_default()
}

/// serde names Rust types (`i64`, `struct RawCheck`, `sequence`); TOML calls them integer,
/// table and array. A date-time written without quotes reaches serde as a map, which would
/// read as nonsense, so it is named for what the user wrote.
fn plain_type_words(message: &str, value: Option<&DeValue<'_>>) -> String {
    let mut text = message
        .replace("expected i64", "expected an integer")
        .replace("invalid type: sequence", "invalid type: array")
        .replace("expected a sequence", "expected an array")
        .replace("expected a map", "expected a table");
    if let Some(at) = text.find("expected struct ") {
        text.replace_range(at.., "expected a table");
    }
    let found = match value {
        Some(DeValue::Datetime(_)) => "date-time",
        _ => "table",
    };
    text = text.replace("invalid type: map", &format!("invalid type: {found}"));
    if matches!(value, Some(DeValue::Datetime(_))) && text.ends_with("expected a string") {
        text.push_str(" (write it in quotes; the time zone is given by `timezone`)");
    }
    text
}

pub(super) fn http_url(text: &str) -> Result<Url, String> {
    match Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => Ok(url),
        Ok(url) => Err(format!(
            "`{text}` is not an http(s) URL (scheme `{}`)",
            url.scheme()
        )),
        Err(e) => Err(format!("`{text}` is not a valid URL: {e}")),
    }
}

pub(super) fn duration_field(
    value: &Spanned<String>,
    field: String,
    errors: &mut Errors<'_>,
) -> Option<Duration> {
    match parse_duration(value.get_ref()) {
        Ok(d) => Some(d),
        Err(message) => {
            errors.at(value.span(), field, message);
            None
        }
    }
}

fn probe_settings(raw: RawProbe, errors: &mut Errors<'_>) -> ProbeSettings {
    let mut settings = ProbeSettings::default();
    if let Some(c) = raw.concurrency {
        match usize::try_from(*c.get_ref()) {
            Ok(n) if (1..=10_000).contains(&n) => settings.concurrency = n,
            _ => errors.at(
                c.span(),
                "probe.concurrency",
                format!("must be between 1 and 10000, got {}", c.get_ref()),
            ),
        }
    }
    if let Some(region) = raw.region {
        if region.get_ref().trim().is_empty() {
            errors.at(region.span(), "probe.region", "must not be empty");
        } else {
            settings.region = Some(region.into_inner());
        }
    }
    if let Some(q) = raw.quorum {
        match q.get_ref() {
            toml::Value::String(s) if s == "majority" => settings.quorum = Quorum::Majority,
            toml::Value::Integer(n) if *n >= 1 && *n <= 64 => {
                settings.quorum = Quorum::AtLeast(*n as u32)
            }
            other => errors.at(
                q.span(),
                "probe.quorum",
                format!("must be \"majority\" or a number of regions from 1 to 64, got {other}"),
            ),
        }
    }
    if let Some(f) = raw.region_freshness
        && let Some(d) = duration_field(&f, "probe.region_freshness".into(), errors)
    {
        if d < Duration::from_secs(60) {
            errors.at(
                f.span(),
                "probe.region_freshness",
                "must be at least 1m: regions report once a minute",
            );
        } else {
            settings.region_freshness = d;
        }
    }
    if let Some(r) = raw.raw_retention
        && let Some(d) = duration_field(&r, "probe.raw_retention".into(), errors)
    {
        if d < Duration::from_secs(3600) || d > Duration::from_secs(90 * 86_400) {
            errors.at(
                r.span(),
                "probe.raw_retention",
                "must be between 1h and 90d",
            );
        } else {
            settings.raw_retention = d;
        }
    }
    settings
}

fn component_of(i: usize, raw: RawComponent, errors: &mut Errors<'_>) -> Option<Component> {
    let id = match ComponentId::parse(raw.id.get_ref()) {
        Ok(id) => Some(id),
        Err(message) => {
            errors.at(raw.id.span(), format!("components[{i}].id"), message);
            None
        }
    };
    let name = raw.name.get_ref().trim().to_owned();
    if name.is_empty() {
        errors.at(
            raw.name.span(),
            format!("components[{i}].name"),
            "must not be empty",
        );
    }
    let open_incident_on = match raw.open_incident_on.as_ref().map(|v| v.get_ref().as_str()) {
        None | Some("down") => IncidentTrigger::Down,
        Some("degraded") => IncidentTrigger::Degraded,
        Some(other) => {
            let span = raw.open_incident_on.as_ref().map_or(0..0, Spanned::span);
            errors.at(
                span,
                format!("components[{i}].open_incident_on"),
                format!("must be \"down\" or \"degraded\", got \"{other}\""),
            );
            IncidentTrigger::Down
        }
    };
    let keywords = accounts::keywords(i, raw.keywords, errors);
    Some(Component {
        id: id?,
        name,
        open_incident_on,
        keywords,
    })
}

/// Which optional fields each kind of check accepts.
fn allowed_fields(kind: CheckKind) -> &'static [&'static str] {
    match kind {
        CheckKind::Http => &[
            "url",
            "method",
            "headers",
            "body",
            "follow_redirects",
            "ca_file",
        ],
        CheckKind::Tcp => &["host", "port"],
        CheckKind::Dns => &["name", "record_type", "nameserver"],
        CheckKind::Tls => &["host", "port", "server_name", "ca_file"],
    }
}

fn threshold(
    value: Option<&Spanned<i64>>,
    default: u32,
    field: String,
    errors: &mut Errors<'_>,
) -> u32 {
    match value {
        None => default,
        Some(v) => match u32::try_from(*v.get_ref()) {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                errors.at(
                    v.span(),
                    field,
                    format!("must be between 1 and 100, got {}", v.get_ref()),
                );
                default
            }
        },
    }
}

fn check_of(
    i: usize,
    raw: RawCheck,
    components: &HashSet<ComponentId>,
    errors: &mut Errors<'_>,
) -> Option<Check> {
    let field = |name: &str| format!("checks[{i}].{name}");
    let id = match CheckId::parse(raw.id.get_ref()) {
        Ok(id) => Some(id),
        Err(message) => {
            errors.at(raw.id.span(), field("id"), message);
            None
        }
    };
    let component = match ComponentId::parse(raw.component.get_ref()) {
        Ok(c) if components.contains(&c) => Some(c),
        Ok(c) => {
            let known: Vec<&str> = {
                let mut v: Vec<&str> = components.iter().map(ComponentId::as_str).collect();
                v.sort_unstable();
                v
            };
            errors.at(
                raw.component.span(),
                field("component"),
                format!("no component has id `{c}` (known: {})", known.join(", ")),
            );
            None
        }
        Err(message) => {
            errors.at(raw.component.span(), field("component"), message);
            None
        }
    };
    let kind = match raw.kind.get_ref().as_str() {
        "http" => CheckKind::Http,
        "tcp" => CheckKind::Tcp,
        "dns" => CheckKind::Dns,
        "tls" => CheckKind::Tls,
        other => {
            errors.at(
                raw.kind.span(),
                field("kind"),
                format!("unknown kind \"{other}\": use \"http\", \"tcp\", \"dns\" or \"tls\""),
            );
            return None;
        }
    };

    // Fields that belong to another kind are mistakes, not decoration.
    let present: [(&str, Option<Range<usize>>); 12] = [
        ("url", raw.url.as_ref().map(Spanned::span)),
        ("method", raw.method.as_ref().map(Spanned::span)),
        ("headers", raw.headers.as_ref().map(Spanned::span)),
        ("body", raw.body.as_ref().map(Spanned::span)),
        (
            "follow_redirects",
            raw.follow_redirects.as_ref().map(Spanned::span),
        ),
        ("ca_file", raw.ca_file.as_ref().map(Spanned::span)),
        ("host", raw.host.as_ref().map(Spanned::span)),
        ("port", raw.port.as_ref().map(Spanned::span)),
        ("server_name", raw.server_name.as_ref().map(Spanned::span)),
        ("name", raw.name.as_ref().map(Spanned::span)),
        ("record_type", raw.record_type.as_ref().map(Spanned::span)),
        ("nameserver", raw.nameserver.as_ref().map(Spanned::span)),
    ];
    let allowed = allowed_fields(kind);
    let article = if kind == CheckKind::Http { "an" } else { "a" };
    for (name, span) in present {
        if let Some(span) = span
            && !allowed.contains(&name)
        {
            errors.at(
                span,
                field(name),
                format!(
                    "`{name}` is not used by {article} {kind} check (it takes: {})",
                    allowed.join(", ")
                ),
            );
        }
    }
    let required =
        |value: Option<&Spanned<String>>, name: &str, errors: &mut Errors<'_>| -> Option<String> {
            match value {
                Some(v) if !v.get_ref().trim().is_empty() => Some(v.get_ref().trim().to_owned()),
                Some(v) => {
                    errors.at(v.span(), field(name), "must not be empty");
                    None
                }
                None => {
                    errors.at(
                        raw.kind.span(),
                        field(name),
                        format!("a {kind} check needs `{name}`"),
                    );
                    None
                }
            }
        };
    let port = |default: Option<u16>, errors: &mut Errors<'_>| -> Option<u16> {
        match (&raw.port, default) {
            (Some(p), _) => match u16::try_from(*p.get_ref()) {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    errors.at(
                        p.span(),
                        field("port"),
                        format!("must be between 1 and 65535, got {}", p.get_ref()),
                    );
                    None
                }
            },
            (None, Some(d)) => Some(d),
            (None, None) => {
                errors.at(
                    raw.kind.span(),
                    field("port"),
                    format!("a {kind} check needs `port`"),
                );
                None
            }
        }
    };
    let ca_file = raw.ca_file.as_ref().map(|p| PathBuf::from(p.get_ref()));

    let target = match kind {
        CheckKind::Http => {
            let url = raw.url.as_ref().and_then(|u| match http_url(u.get_ref()) {
                Ok(url) => Some(url),
                Err(message) => {
                    errors.at(u.span(), field("url"), message);
                    None
                }
            });
            if raw.url.is_none() {
                errors.at(raw.kind.span(), field("url"), "an http check needs `url`");
            }
            let method = raw
                .method
                .as_ref()
                .map_or("GET".to_owned(), |m| m.get_ref().to_ascii_uppercase());
            if !["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
                .contains(&method.as_str())
                && let Some(m) = &raw.method
            {
                errors.at(m.span(), field("method"), format!("unsupported method `{}`: use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS", m.get_ref()));
            }
            let headers: BTreeMap<String, String> = raw
                .headers
                .as_ref()
                .map(|h| h.get_ref().clone())
                .unwrap_or_default();
            if let Some(h) = &raw.headers {
                for (name, value) in h.get_ref() {
                    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err()
                        || reqwest::header::HeaderValue::from_str(value).is_err()
                    {
                        errors.at(
                            h.span(),
                            field("headers"),
                            format!("header `{name}` is not a valid HTTP header"),
                        );
                    }
                }
            }
            url.map(|url| {
                Target::Http(HttpTarget {
                    url,
                    method,
                    headers,
                    body: raw.body.as_ref().map(|b| b.get_ref().clone()),
                    follow_redirects: raw.follow_redirects.as_ref().is_none_or(|f| *f.get_ref()),
                    ca_file: ca_file.clone(),
                })
            })
        }
        CheckKind::Tcp => {
            let host = required(raw.host.as_ref(), "host", errors);
            let port = port(None, errors);
            host.zip(port)
                .map(|(host, port)| Target::Tcp(TcpTarget { host, port }))
        }
        CheckKind::Dns => {
            let name = required(raw.name.as_ref(), "name", errors);
            let record_type = match raw
                .record_type
                .as_ref()
                .map(|r| r.get_ref().to_ascii_uppercase())
            {
                None => Some(DnsRecordType::A),
                Some(t) => match t.as_str() {
                    "A" => Some(DnsRecordType::A),
                    "AAAA" => Some(DnsRecordType::Aaaa),
                    "CNAME" => Some(DnsRecordType::Cname),
                    "MX" => Some(DnsRecordType::Mx),
                    "TXT" => Some(DnsRecordType::Txt),
                    "NS" => Some(DnsRecordType::Ns),
                    other => {
                        let span = raw.record_type.as_ref().map_or(0..0, Spanned::span);
                        errors.at(span, field("record_type"), format!("unsupported record type `{other}`: use A, AAAA, CNAME, MX, TXT or NS"));
                        None
                    }
                },
            };
            let nameserver = match &raw.nameserver {
                None => Some(None),
                Some(ns) => {
                    let text = ns.get_ref();
                    let parsed = text.parse::<SocketAddr>().or_else(|_| {
                        text.parse::<std::net::IpAddr>()
                            .map(|ip| SocketAddr::new(ip, 53))
                    });
                    match parsed {
                        Ok(addr) => Some(Some(addr)),
                        Err(_) => {
                            errors.at(ns.span(), field("nameserver"), format!("`{text}` is not an IP address with an optional port (e.g. `1.1.1.1` or `127.0.0.1:5353`)"));
                            None
                        }
                    }
                }
            };
            match (name, record_type, nameserver) {
                (Some(name), Some(record_type), Some(nameserver)) => Some(Target::Dns(DnsTarget {
                    name,
                    record_type,
                    nameserver,
                })),
                _ => None,
            }
        }
        CheckKind::Tls => {
            let host = required(raw.host.as_ref(), "host", errors);
            let port = port(Some(443), errors);
            let server_name = raw.server_name.as_ref().map(|s| s.get_ref().clone());
            host.zip(port).map(|(host, port)| {
                Target::Tls(TlsTarget {
                    server_name: server_name.unwrap_or_else(|| host.clone()),
                    host,
                    port,
                    ca_file: ca_file.clone(),
                })
            })
        }
    };

    // None when the timeout is invalid (and reported).
    let timeout = match &raw.timeout {
        None => Some(DEFAULT_TIMEOUT),
        Some(t) => match duration_field(t, field("timeout"), errors) {
            Some(d) if d.is_zero() || d > MAX_TIMEOUT => {
                errors.at(
                    t.span(),
                    field("timeout"),
                    "must be more than 0 and at most 60s",
                );
                None
            }
            other => other,
        },
    };
    let degraded_after = raw.degraded_after.as_ref().and_then(|d| {
        let value = duration_field(d, field("degraded_after"), errors)?;
        // Against an invalid timeout there is nothing to compare with: measuring against the
        // default instead would blame this field for the timeout's mistake.
        let timeout = timeout?;
        if value >= timeout {
            errors.at(
                d.span(),
                field("degraded_after"),
                format!(
                    "must be shorter than the timeout ({})",
                    crate::probe::runner::seconds(timeout)
                ),
            );
            return None;
        }
        Some(value)
    });

    let mut conditions = Vec::new();
    match &raw.conditions {
        None => conditions = Condition::defaults_for(kind),
        Some(list) if list.get_ref().is_empty() => {
            errors.at(
                list.span(),
                field("conditions"),
                "must list at least one condition, or be left out for the defaults",
            );
        }
        Some(list) => {
            for (j, text) in list.get_ref().iter().enumerate() {
                let span = text.span();
                match Condition::parse(text.get_ref()) {
                    Ok(condition) => match condition.check_applies_to(kind) {
                        Ok(()) => conditions.push(condition),
                        Err(message) => errors.at(
                            span,
                            format!("checks[{i}].conditions[{j}]"),
                            format!("`{}`: {message}", text.get_ref()),
                        ),
                    },
                    Err(e) => {
                        let offset =
                            offset_in_string(errors.source, span, e.column.saturating_sub(1));
                        errors.at(
                            offset..offset,
                            format!("checks[{i}].conditions[{j}]"),
                            format!(
                                "`{}`: {} (column {} of the condition)",
                                text.get_ref(),
                                e.message,
                                e.column
                            ),
                        );
                    }
                }
            }
        }
    }

    let failure_threshold = threshold(
        raw.failure_threshold.as_ref(),
        3,
        field("failure_threshold"),
        errors,
    );
    let success_threshold = threshold(
        raw.success_threshold.as_ref(),
        2,
        field("success_threshold"),
        errors,
    );

    Some(Check {
        id: id?,
        component: component?,
        target: target?,
        timeout: timeout?,
        degraded_after,
        conditions,
        failure_threshold,
        success_threshold,
    })
}

/// The byte offset in `source` of character `index` (0-based) of the string whose token spans
/// `token`: `"…"`, `'…'`, `"""…"""` or `'''…'''`. Escapes (`\"`, `\\`, `\u00e9`) and
/// line-ending backslashes make the text differ from the source, so counting characters of
/// the text from the opening quote would point at the wrong column, or inside a character.
/// An index past the end gives the closing quote.
fn offset_in_string(source: &str, token: Range<usize>, index: usize) -> usize {
    let Some(raw) = source.get(token.clone()) else {
        return token.start;
    };
    let (open, literal) = if raw.starts_with("\"\"\"") {
        (3, false)
    } else if raw.starts_with("'''") {
        (3, true)
    } else {
        (1, raw.starts_with('\''))
    };
    let close = raw.len().saturating_sub(open).max(open);
    let Some(body) = raw.get(open..close) else {
        return token.start;
    };
    let mut chars = body.char_indices().peekable();
    // A newline right after a multi-line string's opening quotes is not part of the text.
    if open == 3 {
        if body.starts_with("\r\n") {
            chars.next();
            chars.next();
        } else if body.starts_with('\n') {
            chars.next();
        }
    }
    let mut seen = 0;
    while let Some((at, c)) = chars.next() {
        if c == '\\' && !literal {
            match chars.peek().map(|&(_, next)| next) {
                // A line-ending backslash: it and the white space after it are no text.
                Some(next) if next.is_whitespace() => {
                    while chars.next_if(|&(_, c)| c.is_whitespace()).is_some() {}
                    continue;
                }
                Some(kind) => {
                    let digits = match kind {
                        'x' => 2,
                        'u' => 4,
                        'U' => 8,
                        _ => 0,
                    };
                    for _ in 0..=digits {
                        chars.next();
                    }
                }
                None => {}
            }
        }
        if seen == index {
            return token.start + open + at;
        }
        seen += 1;
    }
    token.start + open + body.len()
}

/// `header` is the span of the window's `[[maintenance]]` line, where errors about a field
/// that is missing point.
fn window_of(
    i: usize,
    header: Range<usize>,
    raw: RawMaintenance,
    components: &HashSet<ComponentId>,
    errors: &mut Errors<'_>,
) -> Option<MaintenanceWindow> {
    let field = |name: &str| format!("maintenance[{i}].{name}");
    let title = raw.title.get_ref().trim().to_owned();
    if title.is_empty() {
        errors.at(raw.title.span(), field("title"), "must not be empty");
    }
    let mut ids = Vec::new();
    for (j, c) in raw.components.get_ref().iter().enumerate() {
        match ComponentId::parse(c.get_ref()) {
            Ok(id) if components.contains(&id) => ids.push(id),
            Ok(id) => errors.at(
                c.span(),
                format!("maintenance[{i}].components[{j}]"),
                format!("no component has id `{id}`"),
            ),
            Err(message) => errors.at(
                c.span(),
                format!("maintenance[{i}].components[{j}]"),
                message,
            ),
        }
    }
    if raw.components.get_ref().is_empty() {
        errors.at(
            raw.components.span(),
            field("components"),
            "must name at least one component",
        );
    }
    let zone = match maintenance::parse_zone(raw.timezone.get_ref()) {
        Ok(zone) => Some(zone),
        Err(message) => {
            errors.at(raw.timezone.span(), field("timezone"), message);
            None
        }
    };
    let one_off = raw.start.is_some() || raw.end.is_some();
    let recurring = raw.every.is_some() || raw.at.is_some() || raw.duration.is_some();
    let schedule = match (one_off, recurring) {
        (true, true) => {
            // Pointed at the one-off field actually written, so field and line agree.
            let (name, span) = match (&raw.start, &raw.end) {
                (Some(start), _) => ("start", start.span()),
                (None, Some(end)) => ("end", end.span()),
                (None, None) => ("start", header.clone()),
            };
            errors.at(span, field(name), "a window is either one-off (`start`, `end`) or recurring (`every`, `at`, `duration`), not both");
            None
        }
        (false, false) => {
            errors.at(
                header.clone(),
                field("start"),
                "a window needs `start` and `end`, or `every`, `at` and `duration`",
            );
            None
        }
        (true, false) => {
            let local = |value: &Option<Spanned<String>>, name: &str, errors: &mut Errors<'_>| {
                match value {
                    None => {
                        errors.at(
                            header.clone(),
                            field(name),
                            format!("a one-off window needs `{name}`"),
                        );
                        None
                    }
                    Some(v) => maintenance::parse_local_datetime(v.get_ref())
                        .map_err(|m| errors.at(v.span(), field(name), m))
                        .ok(),
                }
            };
            let start = local(&raw.start, "start", errors);
            let end = local(&raw.end, "end", errors);
            match (zone, start, end) {
                (Some(zone), Some(start), Some(end)) => Some(Schedule::OneOff { zone, start, end }),
                _ => None,
            }
        }
        (false, true) => {
            let days = match &raw.every {
                None => {
                    errors.at(
                        header.clone(),
                        field("every"),
                        "a recurring window needs `every` (\"day\" or a list of weekdays)",
                    );
                    None
                }
                Some(every) => match every.get_ref() {
                    toml::Value::String(s) if s == "day" => Some(Vec::new()),
                    toml::Value::String(s) => maintenance::parse_weekday(s)
                        .map(|d| vec![d])
                        .map_err(|m| errors.at(every.span(), field("every"), m))
                        .ok(),
                    // An empty list would mean "every day" (the schedule's empty set), which
                    // is surely not what someone who wrote a list meant.
                    toml::Value::Array(list) if list.is_empty() => {
                        errors.at(
                            every.span(),
                            field("every"),
                            "must list at least one weekday, or be \"day\"",
                        );
                        None
                    }
                    toml::Value::Array(list) => {
                        let mut days = Vec::new();
                        let mut ok = true;
                        for value in list {
                            match value.as_str().map(maintenance::parse_weekday) {
                                Some(Ok(d)) => days.push(d),
                                Some(Err(m)) => {
                                    errors.at(every.span(), field("every"), m);
                                    ok = false;
                                }
                                None => {
                                    errors.at(
                                        every.span(),
                                        field("every"),
                                        "weekdays must be strings such as \"sun\"",
                                    );
                                    ok = false;
                                }
                            }
                        }
                        ok.then_some(days)
                    }
                    _ => {
                        errors.at(
                            every.span(),
                            field("every"),
                            "must be \"day\" or a list of weekdays such as [\"sat\", \"sun\"]",
                        );
                        None
                    }
                },
            };
            let at = match &raw.at {
                None => {
                    errors.at(
                        header.clone(),
                        field("at"),
                        "a recurring window needs `at` (local time of day, e.g. \"02:00\")",
                    );
                    None
                }
                Some(at) => maintenance::parse_time_of_day(at.get_ref())
                    .map_err(|m| errors.at(at.span(), field("at"), m))
                    .ok(),
            };
            let duration = match &raw.duration {
                None => {
                    errors.at(
                        header.clone(),
                        field("duration"),
                        "a recurring window needs `duration` (e.g. \"2h\")",
                    );
                    None
                }
                Some(d) => duration_field(d, field("duration"), errors)
                    .and_then(|d| chrono::Duration::from_std(d).ok()),
            };
            match (zone, days, at, duration) {
                (Some(zone), Some(days), Some(at), Some(duration)) => Some(Schedule::Recurring {
                    zone,
                    days,
                    at,
                    duration,
                }),
                _ => None,
            }
        }
    }?;
    if let Err(message) = schedule.validate() {
        // Named after the field the rule is about: a one-off's rules are about `end` (after
        // `start`, not in the same gap); a recurring window's about repeated weekdays or
        // `duration`. Every field named here was written, or there would be no schedule.
        let (name, span) = match &schedule {
            Schedule::OneOff { .. } => ("end", raw.end.as_ref().map(Spanned::span)),
            Schedule::Recurring { days, .. }
                if days.iter().enumerate().any(|(k, d)| days[..k].contains(d)) =>
            {
                ("every", raw.every.as_ref().map(Spanned::span))
            }
            Schedule::Recurring { .. } => ("duration", raw.duration.as_ref().map(Spanned::span)),
        };
        errors.at(span.unwrap_or(header), field(name), message);
        return None;
    }
    Some(MaintenanceWindow {
        title,
        components: ids,
        schedule,
    })
}

//! From raw TOML to a [`Config`]: every rule, every error located by field and line.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;
use toml::Spanned;

use super::raw::{RawCheck, RawComponent, RawConfig, RawMaintenance, RawProbe};
use super::{
    Check, CheckId, CheckKind, Component, ComponentId, Config, ConfigError, ConfigErrors,
    DnsRecordType, DnsTarget, HttpTarget, IncidentTrigger, ProbeSettings, Quorum, Service, Target,
    TcpTarget, TlsTarget, parse_duration,
};
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
struct Errors<'a> {
    source: &'a str,
    list: Vec<(usize, ConfigError)>,
}

impl<'a> Errors<'a> {
    fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.source.len());
        let before = &self.source[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    fn at(&mut self, span: Range<usize>, field: impl Into<String>, message: impl Into<String>) {
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
            let message = e.message().trim().to_owned();
            let field = field_of_serde_error(source, &span, &message);
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
    for (i, component) in raw.components.into_iter().enumerate() {
        let id_span = component.get_ref().id.span();
        if let Some(c) = component_of(i, component.into_inner(), &mut errors) {
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
        let id_span = check.get_ref().id.span();
        if let Some(c) = check_of(i, check.into_inner(), &component_ids, &mut errors) {
            if !check_ids.insert(c.id.clone()) {
                errors.at(
                    id_span,
                    format!("checks[{i}].id"),
                    format!("duplicate check id `{}`", c.id),
                );
            }
            checks.push(c);
        }
    }

    let mut windows = Vec::new();
    for (i, window) in raw.maintenance.into_iter().enumerate() {
        if let Some(w) = window_of(i, window.into_inner(), &component_ids, &mut errors) {
            windows.push(w);
        }
    }

    errors.finish()?;
    // Every error returned above, so the URL is there; stay total all the same.
    let status_url = status_url.ok_or_else(|| ConfigErrors(Vec::new()))?;
    Ok(Config {
        service: Service { name, status_url },
        probe,
        components,
        checks,
        maintenance: windows,
    })
}

/// Names the field a serde error is about, from its message or the key under its span.
fn field_of_serde_error(source: &str, span: &Range<usize>, message: &str) -> String {
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some(name) = rest.split('`').next()
    {
        return name.to_owned();
    }
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some(name) = rest.split('`').next()
    {
        return name.to_owned();
    }
    // Otherwise the span covers the value: the key is what precedes `=` on that line.
    let line_start = source[..span.start.min(source.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = &source[line_start..span.start.min(source.len())];
    match line.split_once('=') {
        Some((key, _)) if !key.trim().is_empty() => key.trim().to_owned(),
        _ => "config".to_owned(),
    }
}

fn http_url(text: &str) -> Result<Url, String> {
    match Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => Ok(url),
        Ok(url) => Err(format!(
            "`{text}` is not an http(s) URL (scheme `{}`)",
            url.scheme()
        )),
        Err(e) => Err(format!("`{text}` is not a valid URL: {e}")),
    }
}

fn duration_field(
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
    Some(Component {
        id: id?,
        name,
        open_incident_on,
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
    for (name, span) in present {
        if let Some(span) = span
            && !allowed.contains(&name)
        {
            errors.at(
                span,
                field(name),
                format!(
                    "`{name}` is not used by a {kind} check (it takes: {})",
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

    let timeout = match &raw.timeout {
        None => DEFAULT_TIMEOUT,
        Some(t) => match duration_field(t, field("timeout"), errors) {
            Some(d) if d.is_zero() || d > MAX_TIMEOUT => {
                errors.at(
                    t.span(),
                    field("timeout"),
                    "must be more than 0 and at most 60s",
                );
                DEFAULT_TIMEOUT
            }
            Some(d) => d,
            None => DEFAULT_TIMEOUT,
        },
    };
    let degraded_after = raw.degraded_after.as_ref().and_then(|d| {
        let value = duration_field(d, field("degraded_after"), errors)?;
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
        Some(list) if list.is_empty() => {
            errors.at(
                raw.kind.span(),
                field("conditions"),
                "must list at least one condition, or be left out for the defaults",
            );
        }
        Some(list) => {
            for (j, text) in list.iter().enumerate() {
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
                        // Point at the character inside the quoted string (+1 for the quote).
                        let offset = span.start
                            + 1
                            + text
                                .get_ref()
                                .chars()
                                .take(e.column.saturating_sub(1))
                                .map(char::len_utf8)
                                .sum::<usize>();
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
        timeout,
        degraded_after,
        conditions,
        failure_threshold,
        success_threshold,
    })
}

fn window_of(
    i: usize,
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
    let whole = raw.title.span();
    let schedule = match (one_off, recurring) {
        (true, true) => {
            errors.at(whole.clone(), field("start"), "a window is either one-off (`start`, `end`) or recurring (`every`, `at`, `duration`), not both");
            None
        }
        (false, false) => {
            errors.at(
                whole.clone(),
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
                            whole.clone(),
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
                        whole.clone(),
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
                        whole.clone(),
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
                        whole.clone(),
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
        errors.at(whole, field("schedule"), message);
        return None;
    }
    Some(MaintenanceWindow {
        title,
        components: ids,
        schedule,
    })
}

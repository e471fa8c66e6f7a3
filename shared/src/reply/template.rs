//! What sitrep says: a template per situation and language, with a few variants each, and
//! the proof that every variant fits every configured account in the worst case.
//!
//! A template is the vendor's text with fields in braces (`{component} is {status} since
//! {since}. Updates: {status_url}`); `{{` and `}}` are literal braces. Fields are filled only
//! from the configuration and sitrep's own state, never from the customer's post, and each
//! value is cleaned of control, zero-width and direction-changing characters, so nothing a
//! customer writes can reach a reply.
//!
//! The built-in templates (English, Spanish, Portuguese, French, German) live in
//! `shared/data/replies.toml`, in the same shape as `[replies.templates.<lang>]`.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::length::LengthRules;
use crate::random::Random;
use crate::social::Platform;

/// The built-in templates, as data.
const BUILTIN_TEMPLATES: &str = include_str!("../../data/replies.toml");

/// The situation a post is written for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Situation {
    /// A reply: an incident is open on what the customer named (or on the whole service).
    Incident,
    /// A reply: the customer named a component; an incident is open on another one.
    IncidentElsewhere,
    /// A reply: customers' reports opened a suspected incident the probes have not confirmed.
    Suspected,
    /// A reply: every check is green; a person is looking.
    AllClear,
    /// A reply: what the customer named is in planned maintenance.
    Maintenance,
    /// The follow-up to an acknowledged customer once the incident is resolved.
    FollowUp,
    /// A public update: an incident opened.
    UpdateOpened,
    /// A public update: an open incident's status changed.
    UpdateChanged,
    /// A public update: an incident is resolved.
    UpdateResolved,
}

impl Situation {
    /// Every situation, in the order configs list them.
    pub const ALL: [Situation; 9] = [
        Situation::Incident,
        Situation::IncidentElsewhere,
        Situation::Suspected,
        Situation::AllClear,
        Situation::Maintenance,
        Situation::FollowUp,
        Situation::UpdateOpened,
        Situation::UpdateChanged,
        Situation::UpdateResolved,
    ];

    /// Its name in config (`incident_elsewhere`).
    pub fn as_str(self) -> &'static str {
        match self {
            Situation::Incident => "incident",
            Situation::IncidentElsewhere => "incident_elsewhere",
            Situation::Suspected => "suspected",
            Situation::AllClear => "all_clear",
            Situation::Maintenance => "maintenance",
            Situation::FollowUp => "follow_up",
            Situation::UpdateOpened => "update_opened",
            Situation::UpdateChanged => "update_changed",
            Situation::UpdateResolved => "update_resolved",
        }
    }

    /// Whether it answers one customer (and so addresses them) rather than everyone.
    pub fn is_reply(self) -> bool {
        !matches!(
            self,
            Situation::UpdateOpened | Situation::UpdateChanged | Situation::UpdateResolved
        )
    }

    /// The fields its templates may use: the ones sitrep has a value for in it.
    pub fn fields(self) -> &'static [Field] {
        use Field::*;
        match self {
            Situation::Incident
            | Situation::IncidentElsewhere
            | Situation::Suspected
            | Situation::UpdateOpened
            | Situation::UpdateChanged => &[Service, Component, Status, Since, StatusUrl, Incident],
            Situation::AllClear => &[Service, Component, StatusUrl],
            Situation::Maintenance => &[Service, Component, Status, Since, StatusUrl],
            Situation::FollowUp | Situation::UpdateResolved => &[
                Service, Component, Since, StatusUrl, Incident, FixedAt, Duration,
            ],
        }
    }
}

impl fmt::Display for Situation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value a template can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// `{service}`: the vendor's service name.
    Service,
    /// `{component}`: the component's name (the service's, for a service-wide incident).
    Component,
    /// `{status}`: its status in words ("down", "degraded").
    Status,
    /// `{since}`: when it began, in the language's time zone ("10:02 UTC").
    Since,
    /// `{status_url}`: the public status page.
    StatusUrl,
    /// `{incident}`: a short reference to the incident ("#K7Q2MX").
    Incident,
    /// `{fixed_at}`: when it was resolved, like `{since}`.
    FixedAt,
    /// `{duration}`: how long it lasted ("42 min").
    Duration,
}

impl Field {
    const ALL: [Field; 8] = [
        Field::Service,
        Field::Component,
        Field::Status,
        Field::Since,
        Field::StatusUrl,
        Field::Incident,
        Field::FixedAt,
        Field::Duration,
    ];

    /// Its name in braces.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Service => "service",
            Field::Component => "component",
            Field::Status => "status",
            Field::Since => "since",
            Field::StatusUrl => "status_url",
            Field::Incident => "incident",
            Field::FixedAt => "fixed_at",
            Field::Duration => "duration",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(Field),
}

/// One parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

impl Template {
    /// Parses `text` for `situation`: every `{field}` must be one the situation has.
    pub fn parse(text: &str, situation: Situation) -> Result<Template, String> {
        if text.trim().is_empty() {
            return Err("must not be empty".into());
        }
        if let Some(handle) = handle_in(text) {
            return Err(format!(
                "must not mention anyone (`{handle}`): a reply addresses only the customer it answers"
            ));
        }
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(i) = rest.find(['{', '}']) {
            literal.push_str(&rest[..i]);
            let tail = &rest[i..];
            if let Some(after) = tail.strip_prefix("{{") {
                literal.push('{');
                rest = after;
            } else if let Some(after) = tail.strip_prefix("}}") {
                literal.push('}');
                rest = after;
            } else if tail.starts_with('}') {
                return Err("has a `}` without its `{` (write `}}` for a literal brace)".into());
            } else {
                let Some(end) = tail.find('}') else {
                    return Err("has a `{` without its `}` (write `{{` for a literal brace)".into());
                };
                let name = &tail[1..end];
                let field = Field::ALL
                    .into_iter()
                    .find(|f| f.as_str() == name)
                    .filter(|f| situation.fields().contains(f))
                    .ok_or_else(|| {
                        let known: Vec<String> = situation
                            .fields()
                            .iter()
                            .map(|f| format!("{{{}}}", f.as_str()))
                            .collect();
                        format!(
                            "uses `{{{name}}}`, which a {situation} post does not have; it can use {}",
                            known.join(", ")
                        )
                    })?;
                if !literal.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut literal)));
                }
                parts.push(Part::Field(field));
                rest = &tail[end + 1..];
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template {
            source: text.to_owned(),
            parts,
        })
    }

    /// The text as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The template with `values` filled in (a field without a value renders empty).
    pub fn render(&self, values: &Values) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Field(field) => {
                    if let Some(value) = values.get(*field) {
                        out.push_str(&clean(value));
                    }
                }
            }
        }
        collapse_spaces(&out)
    }
}

/// The values of one post's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values(BTreeMap<Field, String>);

impl Values {
    /// No values yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a field.
    pub fn set(&mut self, field: Field, value: impl Into<String>) -> &mut Self {
        self.0.insert(field, value.into());
        self
    }

    /// The value of a field.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.0.get(&field).map(String::as_str)
    }
}

/// One language's templates.
#[derive(Debug, Clone)]
pub struct Language {
    /// The zone `{since}` and `{fixed_at}` are told in.
    pub timezone: Tz,
    variants: BTreeMap<Situation, Vec<Template>>,
}

impl Language {
    /// The variants for `situation`.
    pub fn variants(&self, situation: Situation) -> &[Template] {
        self.variants.get(&situation).map_or(&[], Vec::as_slice)
    }
}

/// Every language's templates: the built-in ones with the config's over them.
#[derive(Debug, Clone)]
pub struct Templates {
    default_language: String,
    languages: BTreeMap<String, Language>,
}

/// The templates of one language as written in TOML (built-in data or config). A misspelt
/// situation is an error too: it fails as an unknown variant of [`Situation`].
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LanguageText {
    /// IANA time zone for times (`Europe/Berlin`); UTC by default.
    pub timezone: Option<String>,
    /// Variants per situation.
    #[serde(flatten)]
    pub situations: BTreeMap<Situation, Vec<String>>,
}

impl Templates {
    /// The built-in templates, `default_language` answering languages without their own.
    pub fn builtin(default_language: &str) -> Templates {
        let texts: BTreeMap<String, LanguageText> =
            toml::from_str(BUILTIN_TEMPLATES).expect("the built-in templates are valid TOML");
        let mut templates = Templates {
            default_language: default_language.to_owned(),
            languages: BTreeMap::new(),
        };
        for (lang, text) in texts {
            templates
                .merge(&lang, &text)
                .expect("the built-in templates are valid");
        }
        templates
    }

    /// Lays `text` over language `lang`: situations it lists replace the built-in ones.
    /// On error names the situation (and variant) at fault.
    pub fn merge(&mut self, lang: &str, text: &LanguageText) -> Result<(), TemplateError> {
        let timezone = match &text.timezone {
            Some(name) => Some(name.parse::<Tz>().map_err(|_| TemplateError {
                situation: None,
                variant: None,
                message: format!("`{name}` is not an IANA time zone (`Europe/Berlin`)"),
            })?),
            None => None,
        };
        let language = self
            .languages
            .entry(lang.to_owned())
            .or_insert_with(|| Language {
                timezone: Tz::UTC,
                variants: BTreeMap::new(),
            });
        if let Some(zone) = timezone {
            language.timezone = zone;
        }
        for (situation, variants) in &text.situations {
            if variants.is_empty() {
                return Err(TemplateError {
                    situation: Some(*situation),
                    variant: None,
                    message: "needs at least one variant".into(),
                });
            }
            let mut parsed = Vec::with_capacity(variants.len());
            for (i, variant) in variants.iter().enumerate() {
                parsed.push(Template::parse(variant, *situation).map_err(|message| {
                    TemplateError {
                        situation: Some(*situation),
                        variant: Some(i),
                        message,
                    }
                })?);
            }
            language.variants.insert(*situation, parsed);
        }
        Ok(())
    }

    /// The language a post in `lang` is answered in: its own, its primary subtag's
    /// (`pt-BR` → `pt`), else the default.
    pub fn language(&self, lang: &str) -> &Language {
        let lang = lang.to_ascii_lowercase();
        let primary = lang.split(['-', '_']).next().unwrap_or_default();
        self.languages
            .get(&lang)
            .or_else(|| self.languages.get(primary))
            .or_else(|| self.languages.get(&self.default_language))
            .or_else(|| self.languages.get("en"))
            .or_else(|| self.languages.values().next())
            .expect("the built-in templates have at least one language")
    }

    /// Every language, by tag.
    pub fn languages(&self) -> impl Iterator<Item = (&str, &Language)> {
        self.languages.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The language answering posts in languages without templates.
    pub fn default_language(&self) -> &str {
        &self.default_language
    }

    /// A variant for `situation` in `lang` chosen by `random`, avoiding the indexes in
    /// `avoid` (variants a platform already refused) while others remain: its index and
    /// template.
    pub fn choose(
        &self,
        lang: &str,
        situation: Situation,
        random: &dyn Random,
        avoid: &[usize],
    ) -> Option<(usize, &Template)> {
        // A vendor's extra language may leave out situations: the default language has them.
        let mut variants = self.language(lang).variants(situation);
        if variants.is_empty() {
            variants = self.language(&self.default_language).variants(situation);
        }
        let open: Vec<usize> = (0..variants.len()).filter(|i| !avoid.contains(i)).collect();
        if open.is_empty() {
            return None;
        }
        let pick = open[usize::try_from(random.up_to(open.len() as u64 - 1)).unwrap_or(0)];
        Some((pick, &variants[pick]))
    }
}

/// A template that cannot be used, located by situation and variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    /// The situation at fault, if it is one.
    pub situation: Option<Situation>,
    /// The variant's index in its list.
    pub variant: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// How a post addresses the customer it answers: only them, in the form their platform
/// needs. On X and Bluesky a reply already reaches its author, and on X the `@handle` also
/// makes each reply's text distinct (X refuses the same text twice as duplicate content);
/// Mastodon notifies only accounts the text mentions.
pub fn address(platform: Platform, handle: &str) -> String {
    let handle = clean_handle(handle);
    match platform {
        Platform::X | Platform::Mastodon if !handle.is_empty() => format!("@{handle} "),
        _ => String::new(),
    }
}

/// The longest an address can measure: X handles have at most 15 characters, Mastodon
/// usernames 30 (a mention counts by its local part); Bluesky replies carry none.
pub fn longest_address(platform: Platform) -> String {
    match platform {
        Platform::X => format!("@{} ", "W".repeat(15)),
        Platform::Mastodon => format!("@{}@{} ", "W".repeat(30), "example.social"),
        Platform::Bluesky => String::new(),
    }
}

/// A handle cut down to the characters handles are made of: whatever a platform sent, no
/// space, markup or control character reaches a post through it.
fn clean_handle(handle: &str) -> String {
    handle
        .trim_start_matches('@')
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '@'))
        .take(253)
        .collect()
}

/// `value` without control, zero-width or bidirectional-override characters, and with no
/// `@` able to start a mention.
fn clean(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_control() && !is_invisible(*c))
        .map(|c| if c == '@' { '＠' } else { c })
        .collect()
}

fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

fn collapse_spaces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if !out.is_empty() {
            out.push('\n');
        }
        let mut previous_space = false;
        for c in line.trim().chars() {
            if c == ' ' {
                if !previous_space {
                    out.push(c);
                }
                previous_space = true;
            } else {
                out.push(c);
                previous_space = false;
            }
        }
    }
    out.trim().to_owned()
}

/// The first `@handle` in `text`, if it mentions anyone.
fn handle_in(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    text.match_indices('@').find_map(|(i, _)| {
        let before_ok = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let rest = &text[i + 1..];
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        (before_ok && len > 0).then(|| &text[i..=i + len])
    })
}

/// A time told the way a customer reads it, in `zone`: "10:02 UTC" on the day of `now`,
/// "2026-11-22 10:02 UTC" before it.
pub fn customer_time(at: DateTime<Utc>, now: DateTime<Utc>, zone: Tz) -> String {
    let local = at.with_timezone(&zone);
    let today = now.with_timezone(&zone).date_naive();
    if local.date_naive() == today {
        local.format("%H:%M %Z").to_string()
    } else {
        local.format("%Y-%m-%d %H:%M %Z").to_string()
    }
}

/// The longest [`customer_time`] can be in `zone`: an earlier day's time, with the zone's
/// longest abbreviation on either side of a daylight-saving change.
pub fn longest_customer_time(zone: Tz) -> String {
    (1..=12)
        .filter_map(|month| Utc.with_ymd_and_hms(2026, month, 15, 12, 0, 0).single())
        .map(|at| customer_time(at, at + chrono::Duration::days(2), zone))
        .max_by_key(|text| text.chars().count())
        .unwrap_or_default()
}

/// A URL the way people write it: `https://status.acme.example`, without the `/` a parser
/// adds to an empty path.
pub fn display_url(url: &reqwest::Url) -> String {
    let text = url.as_str();
    match (url.path(), url.query(), url.fragment()) {
        ("/", None, None) => text.trim_end_matches('/').to_owned(),
        _ => text.to_owned(),
    }
}

/// A short, stable reference to an incident for customers to quote ("#K7Q2MX"): the same
/// for every post about it, and always seven characters.
pub fn incident_reference(id: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let mut reference = String::from("#");
    for _ in 0..6 {
        reference.push(char::from(ALPHABET[(hash % 32) as usize]));
        hash /= 32;
    }
    reference
}

/// The candidates a field may take in the worst case, the longest under the rules wins.
#[derive(Debug, Clone, Default)]
pub struct WorstCase {
    /// Possible values per field.
    pub candidates: BTreeMap<Field, Vec<String>>,
}

impl WorstCase {
    /// The longest post `template` can make under `rules`, address included, and its length.
    pub fn longest(
        &self,
        template: &Template,
        rules: &LengthRules,
        situation: Situation,
    ) -> (String, usize) {
        let mut values = Values::new();
        for (field, candidates) in &self.candidates {
            if let Some(longest) = candidates.iter().max_by_key(|c| rules.measure(&clean(c))) {
                values.set(*field, longest.clone());
            }
        }
        let mut text = if situation.is_reply() {
            longest_address(rules.platform())
        } else {
            String::new()
        };
        text.push_str(&template.render(&values));
        let length = rules.measure(&text);
        (text, length)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    fn values() -> Values {
        let mut v = Values::new();
        v.set(Field::Service, "Acme Cloud")
            .set(Field::Component, "Public API")
            .set(Field::Status, "down")
            .set(Field::Since, "10:02 UTC")
            .set(Field::StatusUrl, "https://status.acme.example")
            .set(Field::Incident, "#K7Q2MX");
        v
    }

    #[test]
    fn fields_are_filled_and_braces_can_be_literal() {
        let t = Template::parse(
            "{component} is {status} since {since} {{sic}} {status_url}",
            Situation::Incident,
        )
        .unwrap();
        assert_eq!(
            t.render(&values()),
            "Public API is down since 10:02 UTC {sic} https://status.acme.example"
        );
    }

    #[test]
    fn unknown_fields_unbalanced_braces_and_mentions_are_refused() {
        let e = Template::parse("fixed at {fixed_at}", Situation::Incident).unwrap_err();
        assert!(
            e.contains("{fixed_at}") && e.contains("{status_url}"),
            "{e}"
        );
        assert!(Template::parse("{componnt}", Situation::Incident).is_err());
        assert!(
            Template::parse("oops {component", Situation::Incident)
                .unwrap_err()
                .contains("without its `}`")
        );
        assert!(Template::parse("oops }", Situation::Incident).is_err());
        let e = Template::parse("ask @support for help", Situation::AllClear).unwrap_err();
        assert!(e.contains("@support"), "{e}");
        assert!(
            Template::parse("mail us: help@acme.example", Situation::AllClear).is_ok(),
            "an e-mail address mentions nobody"
        );
        assert!(Template::parse("  ", Situation::AllClear).is_err());
    }

    #[test]
    fn values_cannot_smuggle_mentions_or_invisible_characters() {
        let t = Template::parse("{component}: {status}", Situation::Incident).unwrap();
        let mut v = Values::new();
        v.set(Field::Component, "Ops\u{202E}@everyone\u{200B}\n")
            .set(Field::Status, "down\u{0}");
        let text = t.render(&v);
        assert_eq!(text, "Ops＠everyone: down");
        assert!(handle_in(&text).is_none());
    }

    #[test]
    fn addresses_name_only_a_cleaned_handle() {
        assert_eq!(address(Platform::X, "dana"), "@dana ");
        assert_eq!(
            address(Platform::Mastodon, "dana@example.social"),
            "@dana@example.social "
        );
        assert_eq!(address(Platform::Bluesky, "dana.bsky.social"), "");
        assert_eq!(address(Platform::X, "da na\u{202E}<b>"), "@danab ");
        assert_eq!(address(Platform::X, "\u{200B}"), "");
    }

    #[test]
    fn times_read_in_the_language_zone_across_daylight_saving() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let winter = Utc.with_ymd_and_hms(2026, 11, 23, 10, 2, 0).unwrap();
        assert_eq!(customer_time(winter, winter, berlin), "11:02 CET");
        let summer = Utc.with_ymd_and_hms(2026, 7, 1, 10, 2, 0).unwrap();
        assert_eq!(customer_time(summer, summer, berlin), "12:02 CEST");
        // Clocks go forward at 01:00 UTC on 29 March 2026.
        let before = Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 3, 29, 1, 30, 0).unwrap();
        assert_eq!(customer_time(before, after, berlin), "01:30 CET");
        assert_eq!(customer_time(after, after, berlin), "03:30 CEST");
        assert_eq!(customer_time(winter, winter, Tz::UTC), "10:02 UTC");
        // Another day, in the customer's zone: 23:30 UTC is already the next day in Berlin.
        let late = Utc.with_ymd_and_hms(2026, 11, 22, 23, 30, 0).unwrap();
        assert_eq!(customer_time(late, winter, berlin), "00:30 CET");
        assert_eq!(customer_time(late, winter, Tz::UTC), "2026-11-22 23:30 UTC");
        let longest = longest_customer_time(berlin);
        assert!(
            longest.ends_with(":00 CEST") && longest.len() == "2026-07-15 14:00 CEST".len(),
            "{longest}"
        );
        let kathmandu: Tz = "Asia/Kathmandu".parse().unwrap();
        assert!(longest_customer_time(kathmandu).ends_with("17:45 +0545"));
    }

    #[test]
    fn urls_read_as_people_write_them() {
        let url = |text: &str| display_url(&reqwest::Url::parse(text).unwrap());
        assert_eq!(
            url("https://status.acme.example"),
            "https://status.acme.example"
        );
        assert_eq!(
            url("https://status.acme.example/"),
            "https://status.acme.example"
        );
        assert_eq!(
            url("https://acme.example/status/"),
            "https://acme.example/status/"
        );
        assert_eq!(
            url("https://acme.example/?q=1"),
            "https://acme.example/?q=1"
        );
    }

    #[test]
    fn incident_references_are_short_and_stable() {
        let a = incident_reference("20261123-100300-api");
        assert_eq!(a.len(), 7);
        assert!(a.starts_with('#'));
        assert_eq!(a, incident_reference("20261123-100300-api"));
        assert_ne!(a, incident_reference("20261123-100300-dashboard"));
    }

    #[test]
    fn languages_fall_back_to_their_primary_tag_then_the_default() {
        let templates = Templates::builtin("en");
        let pick = |lang: &str| {
            templates
                .choose(lang, Situation::Incident, &SeededRandom::new(1), &[])
                .unwrap()
                .1
                .source()
                .to_owned()
        };
        assert!(pick("pt-BR").contains("Obrigado") || pick("pt-BR").contains("Desculpe"));
        assert!(pick("de").contains("{component}"));
        assert!(pick("ja").contains("{component}") && pick("ja").is_ascii());
        for (lang, language) in templates.languages() {
            for situation in Situation::ALL {
                assert!(
                    !language.variants(situation).is_empty(),
                    "{lang} {situation}"
                );
            }
        }
    }

    #[test]
    fn choosing_avoids_refused_variants_until_none_is_left() {
        let templates = Templates::builtin("en");
        let random = SeededRandom::new(7);
        let (first, _) = templates
            .choose("en", Situation::Incident, &random, &[])
            .unwrap();
        let (second, _) = templates
            .choose("en", Situation::Incident, &random, &[first])
            .unwrap();
        assert_ne!(first, second);
        let all: Vec<usize> =
            (0..templates.language("en").variants(Situation::Incident).len()).collect();
        assert!(
            templates
                .choose("en", Situation::Incident, &random, &all)
                .is_none()
        );
        let seen: std::collections::HashSet<usize> = (0..50)
            .map(|_| {
                templates
                    .choose("en", Situation::Incident, &random, &[])
                    .unwrap()
                    .0
            })
            .collect();
        assert!(seen.len() > 1, "variants vary");
    }

    #[test]
    fn a_vendor_language_can_be_partial_and_zoned() {
        let mut templates = Templates::builtin("en");
        let text: LanguageText = toml::from_str(
            "timezone = \"Asia/Tokyo\"\nincident = [\"{component}は{since}から障害中です。{status_url}\"]",
        )
        .unwrap();
        templates.merge("ja", &text).unwrap();
        assert_eq!(templates.language("ja").timezone.name(), "Asia/Tokyo");
        let random = SeededRandom::new(1);
        assert!(
            templates
                .choose("ja", Situation::Incident, &random, &[])
                .unwrap()
                .1
                .source()
                .contains("障害")
        );
        assert!(
            templates
                .choose("ja", Situation::FollowUp, &random, &[])
                .is_some(),
            "from the default language"
        );
        let bad: LanguageText = toml::from_str("incident = [\"{fixed_at}\"]").unwrap();
        let e = templates.merge("ja", &bad).unwrap_err();
        assert_eq!(
            (e.situation, e.variant),
            (Some(Situation::Incident), Some(0))
        );
        assert!(toml::from_str::<LanguageText>("incidnet = [\"x\"]").is_err());
        let zone: LanguageText = toml::from_str("timezone = \"Mars/Olympus\"").unwrap();
        assert!(
            templates
                .merge("ja", &zone)
                .unwrap_err()
                .message
                .contains("Mars/Olympus")
        );
    }

    #[test]
    fn the_worst_case_uses_the_longest_value_by_the_platform_measure() {
        let t = Template::parse("{component} is down", Situation::Incident).unwrap();
        let mut worst = WorstCase::default();
        worst.candidates.insert(
            Field::Component,
            vec!["API".into(), "認証".into(), "Dashboard".into()],
        );
        let (text, n) = worst.longest(&t, &LengthRules::x(), Situation::Incident);
        assert!(text.ends_with("Dashboard is down"));
        assert_eq!(n, 17 + 17);
        let (text, _) = worst.longest(&t, &LengthRules::bluesky(), Situation::UpdateOpened);
        assert_eq!(text, "Dashboard is down", "updates address nobody");
    }
}

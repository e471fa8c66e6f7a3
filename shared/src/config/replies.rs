//! Validation of `[replies]` and of the accounts' posting settings (`announce`,
//! `max_chars`), ending with the proof that every template fits every account it can be
//! posted on, in the worst case, by that platform's own length rules.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use chrono_tz::Tz;
use toml::Spanned;

use super::raw::RawReplies;
use super::validate::{Errors, duration_field};
use super::{Announce, Component, ReplyMode, ReplySettings, Service, SocialAccount};
use crate::incident::ComponentStatus;
use crate::reply::length::LengthRules;
use crate::reply::template::{
    Field, LanguageText, Situation, Template, Templates, WorstCase, display_url,
    incident_reference, longest_customer_time,
};
use crate::social::Platform;

/// `[replies]`, defaults filled in; templates are checked against the accounts later, by
/// [`prove_fit`].
pub(super) fn reply_settings(
    raw: RawReplies,
    errors: &mut Errors<'_>,
) -> (ReplySettings, TemplateSpans) {
    let mut settings = ReplySettings::default();
    if let Some(mode) = &raw.mode {
        match mode.get_ref().as_str() {
            "live" => settings.mode = ReplyMode::Live,
            "dry-run" => settings.mode = ReplyMode::DryRun,
            other => errors.at(
                mode.span(),
                "replies.mode",
                format!("must be \"live\" or \"dry-run\", got \"{other}\""),
            ),
        }
    }
    if let Some(confidence) = &raw.min_confidence {
        let value = *confidence.get_ref();
        if (0.0..=1.0).contains(&value) {
            settings.min_confidence = value as f32;
        } else {
            errors.at(
                confidence.span(),
                "replies.min_confidence",
                format!("must be between 0 and 1, got {value}"),
            );
        }
    }
    let minutes = |n: u64| Duration::from_secs(n * 60);
    for (value, field, range, words, slot) in [
        (
            &raw.max_age,
            "max_age",
            (minutes(1), minutes(24 * 60)),
            "1m and 24h",
            &mut settings.max_age,
        ),
        (
            &raw.cooldown,
            "cooldown",
            (minutes(1), minutes(7 * 24 * 60)),
            "1m and 7d",
            &mut settings.cooldown,
        ),
        (
            &raw.sla,
            "sla",
            (Duration::from_secs(10), minutes(24 * 60)),
            "10s and 24h",
            &mut settings.sla,
        ),
    ] {
        if let Some(value) = value
            && let Some(duration) = duration_field(value, format!("replies.{field}"), errors)
        {
            if duration < range.0 || duration > range.1 {
                errors.at(
                    value.span(),
                    format!("replies.{field}"),
                    format!("must be between {words}"),
                );
            } else {
                *slot = duration;
            }
        }
    }
    if let Some(language) = &raw.language {
        let tag = language.get_ref().trim().to_ascii_lowercase();
        if tag.is_empty() || !tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            errors.at(
                language.span(),
                "replies.language",
                "must be a language tag (`en`)",
            );
        } else {
            settings.language = tag;
        }
    }
    settings.deny = handles(raw.deny, "replies.deny", errors);
    settings.vip = handles(raw.vip, "replies.vip", errors);

    let zone = |value: &Spanned<String>, field: String, errors: &mut Errors<'_>| {
        value
            .get_ref()
            .parse::<Tz>()
            .map_err(|_| {
                errors.at(
                    value.span(),
                    field,
                    format!(
                        "`{}` is not an IANA time zone (`Europe/Berlin`)",
                        value.get_ref()
                    ),
                )
            })
            .ok()
    };
    let default_zone = raw
        .timezone
        .as_ref()
        .and_then(|value| zone(value, "replies.timezone".into(), errors));
    let mut templates = Templates::builtin(&settings.language);
    let mut zones: BTreeMap<String, Tz> = BTreeMap::new();
    for (lang, value) in &raw.timezones {
        if let Some(zone) = zone(value, format!("replies.timezones.{lang}"), errors) {
            zones.insert(lang.to_ascii_lowercase(), zone);
        }
    }
    let mut spans = TemplateSpans::new();
    for (lang, table) in raw.templates {
        let lang = lang.to_ascii_lowercase();
        let mut text = LanguageText::default();
        for (name, variants) in table.into_inner() {
            let field = format!("replies.templates.{lang}.{name}");
            let Some(situation) = Situation::ALL.into_iter().find(|s| s.as_str() == name) else {
                let names: Vec<&str> = Situation::ALL.iter().map(|s| s.as_str()).collect();
                errors.at(
                    variants.span(),
                    field,
                    format!("is not a situation; situations are {}", names.join(", ")),
                );
                continue;
            };
            let span = variants.span();
            let variants = variants.into_inner();
            if variants.is_empty() {
                errors.at(span, field, "needs at least one variant");
                continue;
            }
            let mut good = Vec::new();
            for (i, variant) in variants.iter().enumerate() {
                spans.insert((lang.clone(), situation, i), variant.span());
                match Template::parse(variant.get_ref(), situation) {
                    Ok(_) => good.push(variant.get_ref().clone()),
                    Err(message) => errors.at(variant.span(), format!("{field}[{i}]"), message),
                }
            }
            if good.len() == variants.len() {
                text.situations.insert(situation, good);
            }
        }
        // Every variant was parsed above; a failure here can only repeat one of those.
        let _ = templates.merge(&lang, &text);
    }
    // Zones last, so that languages only the config has get them too.
    let languages: Vec<String> = templates.languages().map(|(l, _)| l.to_owned()).collect();
    for lang in languages {
        if let Some(zone) = zones.get(&lang).copied().or(default_zone) {
            let text = LanguageText {
                timezone: Some(zone.name().to_owned()),
                situations: BTreeMap::new(),
            };
            let _ = templates.merge(&lang, &text);
        }
    }
    settings.templates = templates;
    (settings, spans)
}

/// Where each configured template variant was written: (language, situation, index) → span.
pub(super) type TemplateSpans = BTreeMap<(String, Situation, usize), std::ops::Range<usize>>;

/// A list of handles or account ids (`dana`, `@dana`, `dana@example.social`), lower case.
fn handles(
    raw: Option<Spanned<Vec<Spanned<String>>>>,
    field: &str,
    errors: &mut Errors<'_>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (i, handle) in raw
        .map(Spanned::into_inner)
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let text = handle
            .get_ref()
            .trim()
            .trim_start_matches('@')
            .to_lowercase();
        if text.is_empty() || text.contains(char::is_whitespace) {
            errors.at(
                handle.span(),
                format!("{field}[{i}]"),
                "must be a handle or account id, without spaces",
            );
        } else {
            out.push(text);
        }
    }
    out
}

/// An account's `announce`.
pub(super) fn announce(
    value: Option<&Spanned<String>>,
    field: String,
    errors: &mut Errors<'_>,
) -> Announce {
    match value.map(|v| (v, v.get_ref().as_str())) {
        None | Some((_, "off")) => Announce::Off,
        Some((_, "auto")) => Announce::Auto,
        Some((_, "draft")) => Announce::Draft,
        Some((value, other)) => {
            errors.at(
                value.span(),
                field,
                format!("must be \"auto\", \"draft\" or \"off\", got \"{other}\""),
            );
            Announce::Off
        }
    }
}

/// An account's `max_chars` (Mastodon only: its server's limit).
pub(super) fn max_chars(
    value: Option<&Spanned<i64>>,
    platform: Option<Platform>,
    field: String,
    errors: &mut Errors<'_>,
) -> Option<usize> {
    let value = value?;
    if platform.is_some_and(|p| p != Platform::Mastodon) {
        errors.at(
            value.span(),
            field,
            "is only for Mastodon accounts: X and Bluesky have fixed limits",
        );
        return None;
    }
    match usize::try_from(*value.get_ref()) {
        Ok(n) if (100..=100_000).contains(&n) => Some(n),
        _ => {
            errors.at(
                value.span(),
                field,
                format!("must be between 100 and 100000, got {}", value.get_ref()),
            );
            None
        }
    }
}

/// Checks that every template variant fits every account, with every field at its longest
/// (the longest component name, status word, time in the language's zone, incident
/// reference and duration; the status URL; the longest address the platform allows).
/// Errors point at the variant when the config wrote it (at `[replies]`, or the file's
/// start, for a built-in text) and name the language, situation, variant and account.
pub(super) fn prove_fit(
    settings: &ReplySettings,
    spans: &TemplateSpans,
    service: &Service,
    components: &[Component],
    accounts: &[SocialAccount],
    span: std::ops::Range<usize>,
    errors: &mut Errors<'_>,
) {
    let mut names: Vec<String> = components.iter().map(|c| c.name.clone()).collect();
    names.push(service.name.clone());
    let statuses = [
        ComponentStatus::Operational,
        ComponentStatus::Degraded,
        ComponentStatus::Down,
        ComponentStatus::Maintenance,
    ]
    .map(|s| s.as_str().to_owned())
    .to_vec();
    let mut seen = HashSet::new();
    for account in accounts {
        let rules = LengthRules::of(account.platform, account.max_chars);
        if !seen.insert((rules.platform(), rules.limit())) {
            continue;
        }
        for (lang, language) in settings.templates.languages() {
            let mut worst = WorstCase::default();
            let time = longest_customer_time(language.timezone);
            for (field, values) in [
                (Field::Service, vec![service.name.clone()]),
                (Field::Component, names.clone()),
                (Field::Status, statuses.clone()),
                (Field::Since, vec![time.clone()]),
                (Field::FixedAt, vec![time.clone()]),
                (Field::StatusUrl, vec![display_url(&service.status_url)]),
                (Field::Incident, vec![incident_reference("")]),
                (Field::Duration, vec!["99 d 23 h".to_owned()]),
            ] {
                worst.candidates.insert(field, values);
            }
            for situation in Situation::ALL {
                if !situation.is_reply() && account.announce == Announce::Off {
                    continue;
                }
                for (i, template) in language.variants(situation).iter().enumerate() {
                    let (text, length) = worst.longest(template, &rules, situation);
                    let span = spans
                        .get(&(lang.to_owned(), situation, i))
                        .cloned()
                        .unwrap_or_else(|| span.clone());
                    if length > rules.limit() {
                        errors.at(
                            span,
                            format!("replies.templates.{lang}.{situation}[{i}]"),
                            format!(
                                "can measure {length} where {} allows {} (account `{}`, worst case: \"{text}\"); shorten it by {}",
                                platform_words(rules.platform()),
                                rules.limit(),
                                account.id,
                                length - rules.limit()
                            ),
                        );
                    } else if rules.platform() == Platform::Bluesky && !rules.fits(&text) {
                        errors.at(
                            span,
                            format!("replies.templates.{lang}.{situation}[{i}]"),
                            format!(
                                "can take more than Bluesky's 3,000 bytes (account `{}`)",
                                account.id
                            ),
                        );
                    }
                }
            }
        }
    }
}

fn platform_words(platform: Platform) -> &'static str {
    match platform {
        Platform::X => "X's weighted count",
        Platform::Mastodon => "the Mastodon server",
        Platform::Bluesky => "Bluesky's grapheme count",
    }
}

//! Validation of the social side of the config: `[mentions]`, `[[accounts]]` and the
//! components' `keywords`, every error located by field and line like the rest.

use std::time::Duration;

use toml::Spanned;

use super::raw::{RawAccount, RawMentions};
use super::validate::{Errors, duration_field, http_url};
use super::{AccountId, MentionSettings, SocialAccount};
use crate::social::Platform;

/// `[mentions]`, defaults filled in.
pub(super) fn mention_settings(raw: RawMentions, errors: &mut Errors<'_>) -> MentionSettings {
    let mut settings = MentionSettings::default();
    let bounded = |value: &Option<Spanned<String>>,
                   field: &str,
                   range: (Duration, Duration),
                   words: &str,
                   errors: &mut Errors<'_>| {
        let value = value.as_ref()?;
        let duration = duration_field(value, format!("mentions.{field}"), errors)?;
        if duration < range.0 || duration > range.1 {
            errors.at(value.span(), format!("mentions.{field}"), words);
            return None;
        }
        Some(duration)
    };
    const MINUTE: u64 = 60;
    const DAY: u64 = 86_400;
    let minutes = |n| Duration::from_secs(n * MINUTE);
    let days = |n| Duration::from_secs(n * DAY);
    if let Some(d) = bounded(
        &raw.horizon,
        "horizon",
        (Duration::ZERO, days(7)),
        "must be between 0s and 7d",
        errors,
    ) {
        settings.horizon = d;
    }
    if let Some(d) = bounded(
        &raw.retention,
        "retention",
        (days(1), days(365)),
        "must be between 1d and 365d",
        errors,
    ) {
        settings.retention = d;
    }
    if let Some(d) = bounded(
        &raw.surge_window,
        "surge_window",
        (minutes(1), minutes(24 * 60)),
        "must be between 1m and 24h",
        errors,
    ) {
        settings.surge_window = d;
    }
    if let Some(d) = bounded(
        &raw.surge_quiet,
        "surge_quiet",
        (minutes(5), days(2)),
        "must be between 5m and 2d",
        errors,
    ) {
        settings.surge_quiet = d;
    }
    if let Some(n) = &raw.surge_authors {
        match u32::try_from(*n.get_ref()) {
            Ok(v) if (1..=1000).contains(&v) => settings.surge_authors = v,
            _ => errors.at(
                n.span(),
                "mentions.surge_authors",
                format!("must be between 1 and 1000, got {}", n.get_ref()),
            ),
        }
    }
    if let Some(n) = &raw.concurrency {
        match usize::try_from(*n.get_ref()) {
            Ok(v) if (1..=64).contains(&v) => settings.concurrency = v,
            _ => errors.at(
                n.span(),
                "mentions.concurrency",
                format!("must be between 1 and 64, got {}", n.get_ref()),
            ),
        }
    }
    if let Some(lexicon) = raw.lexicon {
        let span = lexicon.span();
        let lexicon = lexicon.into_inner();
        if lexicon.phrases().any(|phrase| phrase.trim().is_empty()) {
            errors.at(span, "mentions.lexicon", "phrases must not be empty");
        } else {
            settings.lexicon = lexicon;
        }
    }
    settings
}

/// One `[[accounts]]` table.
pub(super) fn account_of(
    i: usize,
    raw: RawAccount,
    errors: &mut Errors<'_>,
) -> Option<SocialAccount> {
    let field = |name: &str| format!("accounts[{i}].{name}");
    let id = AccountId::parse(raw.id.get_ref())
        .map_err(|message| errors.at(raw.id.span(), field("id"), message))
        .ok();
    let platform = match raw.platform.get_ref().as_str() {
        "x" => Some(Platform::X),
        "mastodon" => Some(Platform::Mastodon),
        "bluesky" => Some(Platform::Bluesky),
        other => {
            errors.at(
                raw.platform.span(),
                field("platform"),
                format!("must be \"x\", \"mastodon\" or \"bluesky\", got \"{other}\""),
            );
            None
        }
    };
    let handle = raw
        .handle
        .get_ref()
        .trim()
        .trim_start_matches('@')
        .to_owned();
    if handle.is_empty() || handle.contains(char::is_whitespace) {
        errors.at(
            raw.handle.span(),
            field("handle"),
            "must be the account's handle, without spaces (`acme`)",
        );
    }
    let credentials = raw.credentials.get_ref().trim().to_owned();
    if credentials.is_empty() {
        errors.at(
            raw.credentials.span(),
            field("credentials"),
            "must name the Secrets Manager secret that holds the account's credentials",
        );
    }
    let user_id = match (&raw.user_id, platform) {
        (Some(user_id), Some(Platform::X)) => {
            let text = user_id.get_ref().trim();
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                errors.at(
                    user_id.span(),
                    field("user_id"),
                    format!("must be the account's numeric X user id, got \"{text}\""),
                );
            }
            Some(text.to_owned())
        }
        (Some(user_id), Some(_)) => {
            errors.at(
                user_id.span(),
                field("user_id"),
                "is only used by X accounts",
            );
            None
        }
        (None, Some(Platform::X)) => {
            errors.at(
                raw.platform.span(),
                field("user_id"),
                "an X account needs `user_id`, its numeric user id: the mentions timeline is addressed by it",
            );
            None
        }
        (None, _) | (Some(_), None) => None,
    };
    let default_base = match platform {
        Some(Platform::X) => Some(crate::social::x::API_BASE),
        Some(Platform::Bluesky) => Some("https://bsky.social"),
        Some(Platform::Mastodon) | None => None,
    };
    let base_url = match (&raw.base_url, default_base) {
        (Some(url), _) => http_url(url.get_ref())
            .map_err(|message| errors.at(url.span(), field("base_url"), message))
            .ok(),
        (None, Some(default)) => http_url(default).ok(),
        (None, None) => {
            if platform.is_some() {
                errors.at(
                    raw.platform.span(),
                    field("base_url"),
                    "a Mastodon account needs `base_url`, its server (`https://mastodon.social`)",
                );
            }
            None
        }
    };
    let announce = super::replies::announce(raw.announce.as_ref(), field("announce"), errors);
    let max_chars =
        super::replies::max_chars(raw.max_chars.as_ref(), platform, field("max_chars"), errors);
    Some(SocialAccount {
        id: id?,
        platform: platform?,
        handle,
        user_id,
        base_url: base_url?,
        credentials,
        announce,
        max_chars,
    })
}

/// A component's `keywords`: lower-cased, trimmed, none empty.
pub(super) fn keywords(
    i: usize,
    raw: Option<Spanned<Vec<Spanned<String>>>>,
    errors: &mut Errors<'_>,
) -> Vec<String> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    let mut keywords = Vec::new();
    for (k, keyword) in raw.into_inner().into_iter().enumerate() {
        let text = keyword.get_ref().trim().to_lowercase();
        if text.is_empty() {
            errors.at(
                keyword.span(),
                format!("components[{i}].keywords[{k}]"),
                "must not be empty",
            );
        } else {
            keywords.push(text);
        }
    }
    keywords
}

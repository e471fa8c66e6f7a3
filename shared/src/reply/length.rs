//! How long a post is, by each platform's own rules, so a reply is never refused for length.
//!
//! - X counts a weighted length (CJK and emoji weigh 2, every URL 23) up to 280; the
//!   `twitter-text` crate implements X's published algorithm, so sitrep counts as X does.
//! - Mastodon counts graphemes up to the server's limit (500 by default), every URL as 23
//!   and a mention by its local part only (`@dana@example.social` counts as `@dana`).
//! - Bluesky counts graphemes up to 300 and bytes up to 3,000; URLs count in full.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use unicode_segmentation::UnicodeSegmentation;

use crate::social::Platform;

/// X's limit, in weighted characters.
pub const X_LIMIT: usize = 280;

/// What one URL counts on X and Mastodon.
pub const URL_LENGTH: usize = 23;

/// Mastodon's default limit, in characters.
pub const MASTODON_DEFAULT_LIMIT: usize = 500;

/// Bluesky's limit, in graphemes.
pub const BLUESKY_LIMIT: usize = 300;

/// Bluesky's limit, in UTF-8 bytes.
pub const BLUESKY_BYTES: usize = 3000;

/// The length rules of one account's platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthRules {
    platform: Platform,
    limit: usize,
}

impl LengthRules {
    /// X's rules.
    pub fn x() -> Self {
        Self {
            platform: Platform::X,
            limit: X_LIMIT,
        }
    }

    /// Mastodon's rules on a server allowing `limit` characters.
    pub fn mastodon(limit: usize) -> Self {
        Self {
            platform: Platform::Mastodon,
            limit,
        }
    }

    /// Bluesky's rules.
    pub fn bluesky() -> Self {
        Self {
            platform: Platform::Bluesky,
            limit: BLUESKY_LIMIT,
        }
    }

    /// The rules of `platform`, with a Mastodon server's own limit when it has one.
    pub fn of(platform: Platform, mastodon_limit: Option<usize>) -> Self {
        match platform {
            Platform::X => Self::x(),
            Platform::Mastodon => Self::mastodon(mastodon_limit.unwrap_or(MASTODON_DEFAULT_LIMIT)),
            Platform::Bluesky => Self::bluesky(),
        }
    }

    /// The platform these rules are for.
    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// The most a post may measure.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// `text`'s length in the platform's own units.
    pub fn measure(&self, text: &str) -> usize {
        match self.platform {
            Platform::X => x_weighted_length(text),
            Platform::Mastodon => mastodon_length(text),
            Platform::Bluesky => text.graphemes(true).count(),
        }
    }

    /// Whether the platform takes `text` as one post.
    pub fn fits(&self, text: &str) -> bool {
        let bytes_ok = self.platform != Platform::Bluesky || text.len() <= BLUESKY_BYTES;
        bytes_ok && !text.trim().is_empty() && self.measure(text) <= self.limit
    }
}

fn x_weighted_length(text: &str) -> usize {
    // twitter-text 0.3.1 slices two or three bytes before an `@` to look for `RT@`, and
    // panics when that lands inside a multi-byte character (`ありがとう@dana`, `caféx@`).
    // Measuring the text in pieces cut before each such `@` never reaches that slice, and
    // counts the same: the weight of a post is the sum of its characters' weights and its
    // URLs', none of which spans the cut (at worst a URL cut in two counts more, never less).
    let mut total = 0usize;
    let mut start = 0;
    for (at, _) in text.match_indices(['@', '\u{FF20}']) {
        if at > start && unsafe_before_at(text, at) {
            total = total.saturating_add(x_piece_length(&text[start..at]));
            start = at;
        }
    }
    total.saturating_add(x_piece_length(&text[start..]))
}

/// Whether twitter-text's look-back for `RT@`/`RT:@` before the `@` at `at` would slice
/// inside a character.
fn unsafe_before_at(text: &str, at: usize) -> bool {
    let two_back = at >= 2 && !text.is_char_boundary(at - 2);
    let three_back = at >= 3 && text[..at].ends_with(':') && !text.is_char_boundary(at - 3);
    two_back || three_back
}

fn x_piece_length(text: &str) -> usize {
    let result = twitter_text::parse(text, twitter_text_config::config_v3(), true);
    usize::try_from(result.weighted_length).unwrap_or(usize::MAX)
}

static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"https?://[^\s<>]+").expect("the URL pattern is valid"));

static MASTODON_MENTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(^|[^\w/])@(\w+(?:[.-]+\w+)*)@[\w.-]+\w").expect("the mention pattern is valid")
});

fn mastodon_length(text: &str) -> usize {
    // Mastodon's own counter replaces every URL by 23 characters and every remote mention by
    // its local part, then counts the rest.
    let urls = link_spans(text);
    let mut counted = String::with_capacity(text.len());
    let mut url_count = 0;
    let mut at = 0;
    for span in &urls {
        counted.push_str(&text[at..span.start]);
        url_count += 1;
        at = span.end;
    }
    counted.push_str(&text[at..]);
    let local = MASTODON_MENTION.replace_all(&counted, "$1@$2");
    local.graphemes(true).count() + url_count * URL_LENGTH
}

/// The byte ranges of the `http(s)` URLs in `text` (a trailing `.`, `,`, `)`… ends the
/// sentence, not the URL): what Bluesky's link facets point at.
pub fn link_spans(text: &str) -> Vec<Range<usize>> {
    URL.find_iter(text)
        .map(|m| {
            let trimmed = m
                .as_str()
                .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '\'', '"']);
            m.start()..m.start() + trimmed.len()
        })
        .filter(|span| span.len() > "https://".len())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_counts_cjk_and_emoji_twice_and_every_url_as_23() {
        let x = LengthRules::x();
        assert_eq!(x.measure("hello world"), 11);
        assert_eq!(x.measure("障害が発生しています"), 20);
        assert_eq!(x.measure("😀😀"), 4);
        assert_eq!(
            x.measure("see https://status.example.com/incidents/20261123-100300-api"),
            4 + 23
        );
        assert!(x.fits(&"a".repeat(280)));
        assert!(!x.fits(&"a".repeat(281)));
        assert!(!x.fits(&"障".repeat(141)));
        assert!(x.fits(&"障".repeat(140)));
    }

    #[test]
    fn x_measures_an_at_sign_after_multi_byte_characters_without_panicking() {
        // Each of these made twitter-text slice inside a character and panic.
        let x = LengthRules::x();
        assert_eq!(x.measure("🌀a@"), 2 + 1 + 1);
        assert_eq!(x.measure("caféx@"), 6);
        assert_eq!(x.measure("ありがとう@dana"), 10 + 5);
        assert_eq!(x.measure("障:@dana"), 2 + 1 + 5);
        assert_eq!(x.measure("a＠＠b"), 1 + 2 + 2 + 1);
        assert_eq!(
            x.measure("merci @dana https://status.example.com/incidents/42 é@x"),
            12 + 23 + 4
        );
    }

    #[test]
    fn mastodon_counts_urls_as_23_and_mentions_by_their_local_part() {
        let m = LengthRules::mastodon(500);
        assert_eq!(m.measure("@dana@mastodon.example hi"), "@dana hi".len());
        assert_eq!(m.measure("@dana hi"), 8);
        assert_eq!(
            m.measure("https://status.example.com/a/very/long/path/indeed ok"),
            23 + 3
        );
        assert_eq!(m.measure("👩‍👩‍👧‍👦"), 1, "one grapheme");
        assert!(!m.fits(&"a".repeat(501)));
        assert!(LengthRules::mastodon(1000).fits(&"a".repeat(1000)));
    }

    #[test]
    fn bluesky_counts_graphemes_and_bytes() {
        let b = LengthRules::bluesky();
        assert_eq!(b.measure("👩‍👩‍👧‍👦 ok"), 4);
        assert!(b.fits(&"a".repeat(300)));
        assert!(!b.fits(&"a".repeat(301)));
        // 300 graphemes of 25 bytes each are over the byte limit.
        assert!(!b.fits(&"👩‍👩‍👧‍👦".repeat(300)));
    }

    #[test]
    fn empty_posts_never_fit() {
        for rules in [
            LengthRules::x(),
            LengthRules::mastodon(500),
            LengthRules::bluesky(),
        ] {
            assert!(!rules.fits("   "));
        }
    }

    #[test]
    fn link_spans_are_byte_offsets_without_trailing_punctuation() {
        let text = "Störung: https://status.example.com/i/1. Mehr: http://x.example/a)";
        let spans = link_spans(text);
        assert_eq!(spans.len(), 2);
        assert_eq!(&text[spans[0].clone()], "https://status.example.com/i/1");
        assert_eq!(spans[0].start, "Störung: ".len());
        assert_eq!(&text[spans[1].clone()], "http://x.example/a");
        assert!(link_spans("https:// nothing").is_empty());
    }

    #[test]
    fn hostile_text_is_measured_without_panicking() {
        let hostile = [
            "😀".repeat(2500),
            "\u{200B}\u{200E}\u{202E}\u{2066}abc\u{2069}".repeat(300),
            "@a@b.c ".repeat(1000),
            "https://a.example/ ".repeat(500),
            "{{component}} {since} %s \0".repeat(100),
        ];
        for text in &hostile {
            for rules in [
                LengthRules::x(),
                LengthRules::mastodon(500),
                LengthRules::bluesky(),
            ] {
                let n = rules.measure(text);
                assert!(n > 0);
                assert!(!rules.fits(text), "{:?} fits {n}", rules.platform());
            }
        }
    }
}

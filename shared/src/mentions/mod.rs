//! The mentions service: hear every customer who mentions the vendor, store each post
//! exactly once, know which are outage reports, and notice when many people report at once.
//!
//! - [`poll`]: one poll of one account: pages, cursor, dedupe, gaps, rate limits.
//! - [`intake`]: one mention taken in (skipped, classified, stored once, reported), the step
//!   polling and X's webhook share.
//! - [`classify`]: the intent classifier (rules over a lexicon in five languages).
//! - [`evaluation`]: precision and recall of the classifier on a labelled set.
//! - [`cycle`]: one run: every account polled concurrently, then the surge rules.
//! - [`surge`]: outage reports from many people become a suspected incident, once.

pub mod classify;
#[cfg(test)]
mod classify_properties;
pub mod cycle;
pub mod evaluation;
pub mod intake;
pub mod poll;
pub mod surge;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{AccountId, ComponentId};
use crate::social::{Mention, MentionKind, Platform};

use self::classify::{Classification, Intent};

/// The longest text kept with a stored mention, in bytes: with the rest of the item it stays
/// under DynamoDB's 1 KB write unit, so storing a mention costs one unit.
pub const STORED_TEXT_BYTES: usize = 480;

/// The bytes a stored mention item may take: one DynamoDB write unit.
const ITEM_BUDGET: usize = 1024;

/// What every stored mention item takes besides its variable strings: attribute names, the
/// key's fixed parts, times, numbers and enum words (measured with the largest of each,
/// rounded up).
const FIXED_OVERHEAD: usize = 320;

/// The most ids of other named accounts kept with a stored mention (X's `exclude_reply_user_ids`).
pub const STORED_OTHERS: usize = 10;

/// A mention as stored: what was fetched, its text cut to [`STORED_TEXT_BYTES`], and how
/// it was classified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMention {
    /// Where it was posted.
    pub platform: Platform,
    /// The platform's id for the post.
    pub id: String,
    /// The configured account it mentions.
    pub account: AccountId,
    /// A public link to it.
    pub url: String,
    /// The author's stable id.
    pub author_id: String,
    /// The author's handle, without `@`.
    pub author: String,
    /// The text, at most [`STORED_TEXT_BYTES`] bytes.
    pub text: String,
    /// Whether the text was cut.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// When it was posted.
    pub created_at: DateTime<Utc>,
    /// When sitrep stored it.
    pub received_at: DateTime<Utc>,
    /// How it reached the account.
    pub kind: MentionKind,
    /// The post it replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    /// The thread it belongs to, when the platform says (X conversation, Bluesky root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<String>,
    /// Other accounts it names (X user ids, at most [`STORED_OTHERS`]): kept out of a reply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<String>,
    /// What the author wants.
    pub intent: Intent,
    /// How sure the classifier is, 0 to 1.
    pub confidence: f32,
    /// The language it is written in.
    pub lang: String,
    /// The component it is about, if it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<ComponentId>,
}

impl StoredMention {
    /// The stored form of `mention`, classified as `classification`, received at `now`.
    pub fn new(
        account: &AccountId,
        mention: &Mention,
        classification: Classification,
        now: DateTime<Utc>,
    ) -> Self {
        // A thread id equal to the post's own or to the post it answers says nothing more
        // (readers fall back to those): it is not stored twice.
        let conversation = mention
            .conversation
            .clone()
            .filter(|c| *c != mention.id && Some(c) != mention.in_reply_to.as_ref());
        // Long ids, links and handles (Bluesky's can be 250 bytes) leave less room for text.
        let fixed = 2 * mention.id.len()
            + mention.url.len()
            + conversation.as_ref().map_or(0, String::len)
            + mention.author.id.len()
            + mention.author.handle.len()
            + mention.in_reply_to.as_ref().map_or(0, String::len)
            + account.as_str().len()
            + classification
                .component
                .as_ref()
                .map_or(0, |c| c.as_str().len());
        let mut others: Vec<String> = mention
            .others
            .iter()
            .filter(|id| **id != mention.author.id)
            .take(STORED_OTHERS)
            .cloned()
            .collect();
        // The accounts to keep out of a reply are worth bytes only while the item still fits
        // one write unit without them cutting into the budget.
        while !others.is_empty()
            && FIXED_OVERHEAD + fixed + others.iter().map(|id| id.len() + 4).sum::<usize>()
                > ITEM_BUDGET
        {
            others.pop();
        }
        let variable = fixed + others.iter().map(|id| id.len() + 4).sum::<usize>();
        let budget = ITEM_BUDGET
            .saturating_sub(FIXED_OVERHEAD + variable)
            .min(STORED_TEXT_BYTES);
        let (text, truncated) = cut(&mention.text, budget);
        Self {
            platform: mention.platform,
            id: mention.id.clone(),
            account: account.clone(),
            url: mention.url.clone(),
            author_id: mention.author.id.clone(),
            author: mention.author.handle.clone(),
            text: text.to_owned(),
            truncated,
            created_at: mention.created_at,
            received_at: now,
            kind: mention.kind,
            in_reply_to: mention.in_reply_to.clone(),
            conversation,
            others,
            intent: classification.intent,
            confidence: classification.confidence,
            lang: classification.lang,
            component: classification.component,
        }
    }
}

/// `text` cut to at most `max` bytes on a character boundary, and whether it was cut.
fn cut(text: &str, max: usize) -> (&str, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_mention_fits_one_write_unit_even_at_its_longest() {
        use crate::mentions::classify::{Classification, Intent};
        use crate::social::{Author, MentionKind};
        use crate::store::{NewItem, dynamodb, keys};
        let uri = format!(
            "at://did:plc:{}/app.bsky.feed.post/3{}",
            "z".repeat(24),
            "k".repeat(12)
        );
        let mention = Mention {
            platform: Platform::Bluesky,
            id: uri.clone(),
            url: format!(
                "https://bsky.app/profile/did:plc:{}/post/3{}",
                "z".repeat(24),
                "k".repeat(12)
            ),
            author: Author {
                id: format!("did:plc:{}", "z".repeat(24)),
                handle: format!("{}.bsky.social", "h".repeat(240)),
                name: Some("ignored".into()),
            },
            text: "é".repeat(1500),
            created_at: DateTime::UNIX_EPOCH,
            lang: Some("pt".into()),
            conversation: Some(uri.clone()),
            in_reply_to: Some(uri.clone()),
            kind: MentionKind::Reply,
            others: vec!["1".repeat(19); 10],
        };
        let classification = Classification {
            intent: Intent::OutageReport,
            confidence: 0.912_345,
            lang: "pt".into(),
            component: Some(ComponentId::parse(&"c".repeat(64)).unwrap()),
        };
        let account = AccountId::parse(&"a".repeat(64)).unwrap();
        let stored = StoredMention::new(&account, &mention, classification, DateTime::UNIX_EPOCH);
        assert!(stored.truncated);
        let item = NewItem::encode(keys::mention(Platform::Bluesky, &uri), &stored)
            .unwrap()
            .expiring_at(DateTime::UNIX_EPOCH);
        let size = dynamodb::item_size(&item, 1_000_000);
        assert!(size <= 1024, "{size} bytes");
        assert_eq!(dynamodb::write_units(&item, 1_000_000), 1);
    }

    #[test]
    fn an_x_mention_keeps_the_accounts_it_names_within_one_write_unit() {
        use crate::mentions::classify::{Classification, Intent};
        use crate::social::{Author, MentionKind};
        use crate::store::{NewItem, dynamodb, keys};
        let id = "1".repeat(19);
        let mention = Mention {
            platform: Platform::X,
            id: id.clone(),
            url: format!("https://x.com/{}/status/{id}", "h".repeat(15)),
            author: Author {
                id: "9".repeat(19),
                handle: "h".repeat(15),
                name: None,
            },
            text: "😀".repeat(400),
            created_at: DateTime::UNIX_EPOCH,
            lang: Some("en".into()),
            conversation: Some("2".repeat(19)),
            in_reply_to: Some("3".repeat(19)),
            kind: MentionKind::Reply,
            others: (0..12).map(|i| format!("{i:0>19}")).collect(),
        };
        let classification = Classification {
            intent: Intent::OutageReport,
            confidence: 0.9,
            lang: "en".into(),
            component: Some(ComponentId::parse(&"c".repeat(64)).unwrap()),
        };
        let account = AccountId::parse(&"a".repeat(64)).unwrap();
        let stored = StoredMention::new(&account, &mention, classification, DateTime::UNIX_EPOCH);
        assert_eq!(stored.others.len(), STORED_OTHERS);
        assert_eq!(
            stored.conversation.as_deref(),
            Some("2".repeat(19).as_str())
        );
        let item = NewItem::encode(keys::mention(Platform::X, &id), &stored)
            .unwrap()
            .expiring_at(DateTime::UNIX_EPOCH);
        assert_eq!(dynamodb::write_units(&item, 1_000_000), 1);
    }

    #[test]
    fn cutting_respects_characters() {
        assert_eq!(cut("abc", 5), ("abc", false));
        assert_eq!(cut("héllo", 2), ("h", true), "é is two bytes");
        assert_eq!(cut("😀😀", 5), ("😀", true));
    }
}

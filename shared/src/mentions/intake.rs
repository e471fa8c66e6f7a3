//! The one way a fetched mention enters sitrep, whichever way it arrived: a poll of the
//! account's timeline or a push from the platform (X's webhook).
//!
//! Taking in a mention means: leave out what is no customer's mention (the account's own
//! posts, plain reposts, history before the horizon at a first poll), classify the rest,
//! store it with a conditional create on `MENTION#<platform>#<post id>`, and record it for
//! the surge rules when it reports an outage. Because both ways go through here, a mention
//! heard both ways is stored exactly once — the conditional create is the dedupe — and is
//! classified and counted the same way.

use chrono::{DateTime, Duration as TimeDelta, Utc};

use super::StoredMention;
use super::classify::{Classifier, Intent};
use super::surge;
use crate::config::{MentionSettings, SocialAccount};
use crate::social::{Mention, MentionKind};
use crate::store::{Created, NewItem, Store, StoreError, keys};

/// What taking in a mention needs: where to store it, how to classify it, and the settings
/// for how long it is kept and how reports are counted.
#[derive(Clone, Copy)]
pub struct Intake<'a> {
    /// The state store.
    pub store: &'a dyn Store,
    /// The intent classifier.
    pub classifier: &'a Classifier,
    /// The mentions settings.
    pub settings: &'a MentionSettings,
}

/// What became of one mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// The account wrote it itself: skipped.
    Own,
    /// A plain repost, which asks nothing: skipped.
    Repost,
    /// Older than the horizon at an account's first poll: history, skipped.
    BeforeHorizon,
    /// Stored for the first time, with this intent.
    Stored(Intent),
    /// Already stored (an overlapping poll, a replayed page or delivery, or heard the other
    /// way first), with the intent it is classified as.
    AlreadyStored(Intent),
}

impl Intake<'_> {
    /// Takes in `mention` of `account`, received at `now`. `horizon` is set only at an
    /// account's first poll: mentions posted before it are skipped. A replay stores nothing
    /// new.
    pub async fn take(
        &self,
        account: &SocialAccount,
        mention: &Mention,
        now: DateTime<Utc>,
        horizon: Option<DateTime<Utc>>,
    ) -> Result<Taken, StoreError> {
        if is_own(mention, account) {
            return Ok(Taken::Own);
        }
        if mention.kind == MentionKind::Repost {
            return Ok(Taken::Repost);
        }
        if horizon.is_some_and(|horizon| mention.created_at < horizon) {
            return Ok(Taken::BeforeHorizon);
        }
        let retention =
            TimeDelta::from_std(self.settings.retention).unwrap_or_else(|_| TimeDelta::days(30));
        let classification = self
            .classifier
            .classify(&mention.text, mention.lang.as_deref());
        let stored = StoredMention::new(&account.id, mention, classification, now);
        let item = NewItem::encode(keys::mention(mention.platform, &mention.id), &stored)?
            .expiring_at(now + retention);
        let taken = match self.store.create(item).await? {
            Created::Yes => Taken::Stored(stored.intent),
            Created::AlreadyExists => Taken::AlreadyStored(stored.intent),
        };
        // Recorded for new and already-stored mentions alike: a crash between storing a
        // mention and recording its report must not lose the report on the replay. The
        // record is itself a conditional create.
        if stored.intent == Intent::OutageReport {
            surge::record_report(self.store, self.settings, &stored).await?;
        }
        Ok(taken)
    }
}

/// Whether the account wrote the post itself.
fn is_own(mention: &Mention, account: &SocialAccount) -> bool {
    if account.user_id.as_deref() == Some(mention.author.id.as_str()) {
        return true;
    }
    let author = mention.author.handle.to_lowercase();
    let own = account.handle.to_lowercase();
    // Mastodon writes local accounts without their domain (`acme`, not `acme@server`).
    author == own || own.split('@').next() == Some(author.as_str())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::TimeZone;

    use super::*;
    use crate::clock::ManualClock;
    use crate::config::AccountId;
    use crate::social::{Author, Platform};
    use crate::store::sqlite::SqliteStore;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 10, minute, 0).unwrap()
    }

    fn account() -> SocialAccount {
        SocialAccount {
            id: AccountId::parse("acme-x").unwrap(),
            platform: Platform::X,
            handle: "acme".into(),
            user_id: Some("42".into()),
            base_url: "https://api.x.com".parse().unwrap(),
            credentials: "sitrep/acme-x".into(),
            announce: Default::default(),
            max_chars: None,
        }
    }

    fn mention(id: &str, author_id: &str, handle: &str, text: &str, kind: MentionKind) -> Mention {
        Mention {
            platform: Platform::X,
            id: id.into(),
            url: format!("https://x.com/{handle}/status/{id}"),
            author: Author {
                id: author_id.into(),
                handle: handle.into(),
                name: None,
            },
            text: text.into(),
            created_at: at(5),
            lang: Some("en".into()),
            conversation: None,
            in_reply_to: None,
            kind,
            others: Vec::new(),
        }
    }

    #[tokio::test]
    async fn a_mention_is_stored_once_and_its_report_recorded() {
        let clock = Arc::new(ManualClock::new(at(6)));
        let store = SqliteStore::in_memory(clock).unwrap();
        let classifier = Classifier::new(&[]);
        let settings = MentionSettings::default();
        let intake = Intake {
            store: &store,
            classifier: &classifier,
            settings: &settings,
        };
        let report = mention(
            "1",
            "7",
            "dev",
            "@acme is your API down? getting 503s",
            MentionKind::Mention,
        );
        let first = intake.take(&account(), &report, at(6), None).await.unwrap();
        assert_eq!(first, Taken::Stored(Intent::OutageReport));
        let again = intake.take(&account(), &report, at(7), None).await.unwrap();
        assert_eq!(again, Taken::AlreadyStored(Intent::OutageReport));
        let stored: StoredMention = store
            .get(&keys::mention(Platform::X, "1"))
            .await
            .unwrap()
            .unwrap()
            .decode()
            .unwrap();
        assert_eq!(stored.received_at, at(6), "the first arrival is kept");
        let reports = store
            .query(&crate::store::Query::prefix(
                keys::reports_partition(surge::SERVICE_SCOPE),
                "",
            ))
            .await
            .unwrap();
        assert_eq!(reports.len(), 1);
    }

    #[tokio::test]
    async fn own_posts_reposts_and_history_are_not_stored() {
        let clock = Arc::new(ManualClock::new(at(6)));
        let store = SqliteStore::in_memory(clock).unwrap();
        let classifier = Classifier::new(&[]);
        let settings = MentionSettings::default();
        let intake = Intake {
            store: &store,
            classifier: &classifier,
            settings: &settings,
        };
        let account = account();
        let by_id = mention("1", "42", "someone", "we are on it", MentionKind::Reply);
        let by_handle = mention("2", "9", "ACME", "we are on it", MentionKind::Mention);
        let repost = mention("3", "7", "dev", "RT @acme: news", MentionKind::Repost);
        let old = mention("4", "7", "dev", "@acme down?", MentionKind::Mention);
        assert_eq!(
            intake.take(&account, &by_id, at(6), None).await.unwrap(),
            Taken::Own
        );
        assert_eq!(
            intake
                .take(&account, &by_handle, at(6), None)
                .await
                .unwrap(),
            Taken::Own
        );
        assert_eq!(
            intake.take(&account, &repost, at(6), None).await.unwrap(),
            Taken::Repost
        );
        assert_eq!(
            intake
                .take(&account, &old, at(6), Some(at(5) + TimeDelta::seconds(1)))
                .await
                .unwrap(),
            Taken::BeforeHorizon
        );
        for id in ["1", "2", "3", "4"] {
            assert!(
                store
                    .get(&keys::mention(Platform::X, id))
                    .await
                    .unwrap()
                    .is_none(),
                "{id}"
            );
        }
        assert!(
            matches!(
                intake
                    .take(&account, &old, at(6), Some(at(5)))
                    .await
                    .unwrap(),
                Taken::Stored(_)
            ),
            "the horizon itself is not before the horizon"
        );
    }
}

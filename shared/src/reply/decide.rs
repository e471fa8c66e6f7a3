//! Whether a mention is answered, and with what: the rules, and the live status they answer
//! with.
//!
//! [`judge`] applies the rules that need only the mention and the config, in this order:
//! the vendor's own accounts, reposts and deny-listed authors are never answered; only
//! outage reports, questions and complaints are; VIPs, unsure classifications, mentions
//! older than `max_age`, and X posts that did not summon the account go to a person.
//! [`StatusPicture::answer`] then says which situation the reply is written for, from the
//! components' states, the open incidents and the suspected ones.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::config::{ComponentId, Config, SocialAccount};
use crate::incident::{self, ComponentState, ComponentStatus, Incident, IncidentPhase};
use crate::mentions::StoredMention;
use crate::mentions::classify::Intent;
use crate::mentions::surge::{self, SERVICE_SCOPE};
use crate::reply::template::Situation;
use crate::social::{MentionKind, Platform};
use crate::store::{Store, StoreError, keys};

/// What the rules make of a mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not answered, and nobody needs to look: the reason, as a word.
    Ignore(&'static str),
    /// A person answers it: the reason, as a word.
    HandOff(&'static str),
    /// sitrep answers it (if no earlier answer covers it).
    Answer,
}

/// The rules that need only the mention, its account and the config.
pub fn judge(
    mention: &StoredMention,
    account: &SocialAccount,
    config: &Config,
    now: DateTime<Utc>,
) -> Verdict {
    let settings = &config.replies;
    let author = mention.author.to_lowercase();
    let listed = |list: &[String]| {
        list.iter()
            .any(|entry| *entry == author || *entry == mention.author_id.to_lowercase())
    };
    if is_own(mention, config) {
        return Verdict::Ignore("own_account");
    }
    if mention.kind == MentionKind::Repost {
        return Verdict::Ignore("repost");
    }
    if listed(&settings.deny) {
        return Verdict::Ignore("denied");
    }
    if !matches!(
        mention.intent,
        Intent::OutageReport | Intent::Question | Intent::Complaint
    ) {
        return Verdict::Ignore("not_asking");
    }
    if listed(&settings.vip) {
        return Verdict::HandOff("vip");
    }
    if mention.confidence < settings.min_confidence {
        return Verdict::HandOff("low_confidence");
    }
    if is_stale(mention.created_at, config, now) {
        return Verdict::HandOff("stale");
    }
    if mention.platform == Platform::X && !summoned(mention, account) {
        return Verdict::HandOff("not_summoned");
    }
    Verdict::Answer
}

/// Whether a mention posted at `created_at` is too old to answer automatically at `now`.
pub fn is_stale(created_at: DateTime<Utc>, config: &Config, now: DateTime<Utc>) -> bool {
    now.signed_duration_since(created_at)
        .to_std()
        .is_ok_and(|age| age > config.replies.max_age)
}

/// Whether the author is one of the vendor's own accounts on that platform.
fn is_own(mention: &StoredMention, config: &Config) -> bool {
    config.accounts.iter().any(|account| {
        account.platform == mention.platform
            && (account.handle.eq_ignore_ascii_case(&mention.author)
                || account.user_id.as_deref() == Some(mention.author_id.as_str()))
    })
}

/// X lets an app reply only to posts that summoned the account: a quote of it, or text
/// that names it (`@acme`), not merely a place in a thread it was in.
fn summoned(mention: &StoredMention, account: &SocialAccount) -> bool {
    if mention.kind == MentionKind::Quote {
        return true;
    }
    let wanted = format!("@{}", account.handle.to_lowercase());
    let text = mention.text.to_lowercase();
    text.match_indices(&wanted).any(|(i, _)| {
        let end = i + wanted.len();
        text[end..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}

/// What a reply says about the service right now.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The situation its template is for.
    pub situation: Situation,
    /// The incident it is about, if any: replies are claimed per author and incident.
    pub incident: Option<Incident>,
    /// The name of the component it is about (the service's, for the whole service).
    pub component: String,
    /// That component's status.
    pub status: ComponentStatus,
    /// Since when.
    pub since: DateTime<Utc>,
}

/// One component as the picture holds it.
#[derive(Debug, Clone)]
struct ComponentView {
    id: ComponentId,
    name: String,
    state: Option<ComponentState>,
    /// The probes' open incident.
    incident: Option<Incident>,
    /// A suspected incident customers' reports opened for it.
    suspected: Option<Incident>,
}

/// The live status of every component, read once per batch of mentions.
#[derive(Debug, Clone)]
pub struct StatusPicture {
    service: String,
    components: Vec<ComponentView>,
    service_suspected: Option<Incident>,
    at: DateTime<Utc>,
}

impl StatusPicture {
    /// Reads every component's state, open incident and suspected incident at `now`.
    pub async fn load(
        store: &dyn Store,
        config: &Config,
        now: DateTime<Utc>,
    ) -> Result<Self, StoreError> {
        let mut cache: BTreeMap<String, Option<Incident>> = BTreeMap::new();
        let mut open = async |id: Option<String>| -> Result<Option<Incident>, StoreError> {
            let Some(id) = id else { return Ok(None) };
            if let Some(known) = cache.get(&id) {
                return Ok(known.clone());
            }
            let loaded = incident::load(store, &id)
                .await?
                .filter(|i| i.phase == IncidentPhase::Open);
            cache.insert(id, loaded.clone());
            Ok(loaded)
        };
        let mut components = Vec::with_capacity(config.components.len());
        for component in &config.components {
            let state: Option<ComponentState> = store
                .get(&keys::component_state(&component.id))
                .await?
                .map(|item| item.decode())
                .transpose()?;
            let incident = open(state.as_ref().and_then(|s| s.incident.clone())).await?;
            let suspected = open(surge::suspected(store, component.id.as_str()).await?).await?;
            components.push(ComponentView {
                id: component.id.clone(),
                name: component.name.clone(),
                state,
                incident,
                suspected,
            });
        }
        let service_suspected = open(surge::suspected(store, SERVICE_SCOPE).await?).await?;
        Ok(Self {
            service: config.service.name.clone(),
            components,
            service_suspected,
            at: now,
        })
    }

    /// The answer to a customer who named `named` (or nothing).
    ///
    /// - They named a component: its open incident; else its maintenance; else its
    ///   suspected incident; else an incident elsewhere (the most serious); else all clear.
    /// - They named nothing: the most serious open incident; else a suspected one (the
    ///   service's first); else a component in maintenance; else all clear.
    pub fn answer(&self, named: Option<&ComponentId>) -> Answer {
        let view = named.and_then(|id| self.components.iter().find(|c| &c.id == id));
        if let Some(view) = view {
            if let Some(incident) = &view.incident {
                return self.about(Situation::Incident, incident);
            }
            if let Some(state) = &view.state
                && state.status == ComponentStatus::Maintenance
            {
                return Answer {
                    situation: Situation::Maintenance,
                    incident: None,
                    component: view.name.clone(),
                    status: state.status,
                    since: state.since,
                };
            }
            if let Some(suspected) = &view.suspected {
                return self.about(Situation::Suspected, suspected);
            }
            if let Some(incident) = self.most_serious() {
                return self.about(Situation::IncidentElsewhere, incident);
            }
            if let Some(suspected) = &self.service_suspected {
                return self.about(Situation::Suspected, suspected);
            }
            return self.all_clear(view.name.clone());
        }
        if let Some(incident) = self.most_serious() {
            return self.about(Situation::Incident, incident);
        }
        if let Some(suspected) = self
            .service_suspected
            .as_ref()
            .or_else(|| self.components.iter().find_map(|c| c.suspected.as_ref()))
        {
            return self.about(Situation::Suspected, suspected);
        }
        if let Some((view, state)) = self.components.iter().find_map(|c| {
            c.state
                .as_ref()
                .filter(|s| s.status == ComponentStatus::Maintenance)
                .map(|s| (c, s))
        }) {
            return Answer {
                situation: Situation::Maintenance,
                incident: None,
                component: view.name.clone(),
                status: state.status,
                since: state.since,
            };
        }
        self.all_clear(self.service.clone())
    }

    /// The open incident with the worst status, the newest among equals.
    fn most_serious(&self) -> Option<&Incident> {
        self.components
            .iter()
            .filter_map(|c| c.incident.as_ref())
            .max_by_key(|i| (i.status == ComponentStatus::Down, i.opened_at))
    }

    fn about(&self, situation: Situation, incident: &Incident) -> Answer {
        let component = incident
            .component
            .as_ref()
            .and_then(|id| self.components.iter().find(|c| &c.id == id))
            .map_or_else(|| self.service.clone(), |c| c.name.clone());
        Answer {
            situation,
            incident: Some(incident.clone()),
            component,
            status: incident.status,
            since: incident.opened_at,
        }
    }

    fn all_clear(&self, component: String) -> Answer {
        Answer {
            situation: Situation::AllClear,
            incident: None,
            component,
            status: ComponentStatus::Operational,
            since: self.at,
        }
    }
}

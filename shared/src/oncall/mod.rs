//! On-call: who is on call at any instant, and paging them until someone owns the incident.
//!
//! - [`schedule`]: rotations, layers restricted to hours and weekdays, overrides; exactly who
//!   is on call at an instant, across DST changes and gaps.
//! - [`paging`]: the escalation engine: page step 1 when an incident opens, escalate on a
//!   sweep, stop on acknowledgement, tell everyone paged when it resolves; every page
//!   claimed with a conditional write first, so it goes out at most once.
//! - [`token`]: acknowledgement links: HMAC-SHA256 tokens bound to an incident and a person,
//!   expiring and usable once.
//! - [`sms`]: two-way SMS: `ack 1234`, `resolve 1234` and help for everything else.
//! - [`ack_route`]: the HTTP route behind the acknowledgement link.
//!
//! The types below are the validated `[[people]]`, `[[schedules]]`, `[[policies]]` and
//! `[oncall]` sections of the config.

pub mod ack_route;
pub mod paging;
#[cfg(test)]
mod properties;
pub mod schedule;
pub mod sms;
pub mod token;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use reqwest::Url;

use crate::config::{ComponentId, PersonId, PolicyId, ScheduleId};

/// A phone number in E.164 form (`+447700900123`): validated once, so an SMS publish never
/// fails on its format.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts `+` followed by 8 to 15 digits, the first not zero; spaces, dots, dashes and
    /// parentheses people write for readability are dropped first.
    pub fn parse(text: &str) -> Result<Self, String> {
        let compact: String = text
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let digits = compact.strip_prefix('+').unwrap_or("");
        let valid = (8..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0');
        if valid {
            Ok(Self(compact))
        } else {
            Err(format!(
                "`{text}` is not a phone number in E.164 form (`+447700900123`: `+`, country code, number)"
            ))
        }
    }

    /// The number as SNS expects it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One way to reach a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    /// A text message published straight to the number.
    Sms(PhoneNumber),
    /// An email: published to the pages topic with the person's id as the `person`
    /// attribute, which the address's subscription filters on.
    Email(String),
    /// The person's own SNS topic (ARN), for whatever they subscribed to it.
    Topic(String),
}

/// When a person works, in their own time zone: low-urgency pages wait for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    /// Weekdays worked (never empty).
    pub days: Vec<Weekday>,
    /// Local start of the working day.
    pub start: NaiveTime,
    /// Local end of the working day (after `start`).
    pub end: NaiveTime,
}

impl Default for WorkingHours {
    fn default() -> Self {
        Self {
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            start: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
            end: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default(),
        }
    }
}

/// Someone who can be paged (`[[people]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    /// Stable identifier used in schedules, policies, tokens and keys.
    pub id: PersonId,
    /// Their name, in pages and listings.
    pub name: String,
    /// Their time zone: working hours and the times in their pages are read in it.
    pub zone: Tz,
    /// How to reach them, all used for every page (never empty).
    pub contacts: Vec<Contact>,
    /// When low-urgency pages may reach them.
    pub working_hours: WorkingHours,
}

impl Person {
    /// Their SMS number, if they have one: how an inbound text is matched to them.
    pub fn phone(&self) -> Option<&PhoneNumber> {
        self.contacts.iter().find_map(|c| match c {
            Contact::Sms(number) => Some(number),
            _ => None,
        })
    }
}

/// How long each shift of a rotation lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShiftLength {
    /// This many local calendar days: the handoff happens at the same wall-clock time in the
    /// layer's zone every time, so a shift spanning a DST change is an hour shorter or longer.
    Days(u32),
    /// This many hours of elapsed time, whatever the wall clock does.
    Hours(u32),
}

/// A part of the day on some weekdays, in the layer's zone, when a layer is in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restriction {
    /// The local weekdays the period *starts* on; empty means every day.
    pub days: Vec<Weekday>,
    /// Local start.
    pub start: NaiveTime,
    /// Local end; at or before `start` means the period runs past midnight into the next day.
    pub end: NaiveTime,
}

/// One rotation of a schedule (`[[schedules.layers]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Its name in listings ("Sydney").
    pub name: String,
    /// The zone `start` and `restrictions` are read in.
    pub zone: Tz,
    /// A local handoff time at which `participants[0]`'s shift starts; shifts follow each other
    /// from there, forwards and backwards, in participant order.
    pub start: NaiveDateTime,
    /// Each shift's length.
    pub shift: ShiftLength,
    /// Who takes turns, in order (never empty).
    pub participants: Vec<PersonId>,
    /// When the layer is in force; empty means always.
    pub restrictions: Vec<Restriction>,
}

/// Someone standing in for a period (`[[schedules.overrides]]`): wins over every layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// Who is on call instead.
    pub person: PersonId,
    /// First instant covered.
    pub start: DateTime<Utc>,
    /// First instant no longer covered.
    pub end: DateTime<Utc>,
}

/// An on-call schedule (`[[schedules]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Stable identifier used in policies.
    pub id: ScheduleId,
    /// Its name in listings ("Primary").
    pub name: String,
    /// Layers in config order; a later layer that has someone on call at an instant wins over
    /// the earlier ones, so follow-the-sun is three restricted layers.
    pub layers: Vec<Layer>,
    /// Overrides, which win over every layer.
    pub overrides: Vec<Override>,
}

/// Who a step of an escalation policy pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Whoever a schedule has on call.
    Schedule(ScheduleId),
    /// One person.
    Person(PersonId),
}

/// One step of an escalation policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Who is paged (never empty).
    pub targets: Vec<Target>,
    /// How long the step waits for an acknowledgement before the next one is paged.
    pub delay: Duration,
}

/// An escalation policy (`[[policies]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Stable identifier used by components.
    pub id: PolicyId,
    /// Its name in listings.
    pub name: String,
    /// Steps in order (never empty).
    pub steps: Vec<Step>,
    /// How many more times the whole policy runs after the first, if nobody acknowledges.
    pub repeat: u32,
}

/// How hard a page pushes.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    /// Pages at any hour.
    #[default]
    High,
    /// Waits for the person's working hours.
    Low,
}

impl Urgency {
    /// The name as written in the config and in message attributes.
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::High => "high",
            Urgency::Low => "low",
        }
    }
}

/// Which policy, at which urgency, pages for a component's incidents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    /// The escalation policy.
    pub policy: PolicyId,
    /// How hard it pushes.
    pub urgency: Urgency,
}

/// The validated on-call configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct OnCall {
    /// Everyone who can be paged, in config order.
    pub people: Vec<Person>,
    /// The schedules, in config order.
    pub schedules: Vec<Schedule>,
    /// The escalation policies, in config order.
    pub policies: Vec<Policy>,
    /// Per component; components not named use `default`.
    pub routing: BTreeMap<ComponentId, Routing>,
    /// For incidents about the service as a whole (customers' reports) and components with
    /// no routing of their own; `None` means those page nobody.
    pub default: Option<Routing>,
    /// Whether suspected incidents (customers' reports not yet confirmed by the probes) page.
    pub page_suspected: bool,
    /// Whether a text `6 <code>` from an on-call person's number resolves the incident. Off
    /// unless the config turns it on: a sender's number can be forged and a code is four
    /// digits, while a resolution is public (the status page, follow-ups to customers).
    pub sms_resolve: bool,
    /// The base of acknowledgement links (`https://…/ack`), when set in the config; the
    /// deployment otherwise passes the status API's URL.
    pub ack_url: Option<Url>,
    /// How long an acknowledgement link works.
    pub ack_ttl: Duration,
}

impl Default for OnCall {
    /// Nobody to page; suspected incidents would page; texts do not resolve; links work for
    /// 24 hours.
    fn default() -> Self {
        Self {
            people: Vec::new(),
            schedules: Vec::new(),
            policies: Vec::new(),
            routing: BTreeMap::new(),
            default: None,
            page_suspected: true,
            sms_resolve: false,
            ack_url: None,
            ack_ttl: Duration::from_secs(24 * 3600),
        }
    }
}

impl OnCall {
    /// The person with this id.
    pub fn person(&self, id: &PersonId) -> Option<&Person> {
        self.people.iter().find(|p| &p.id == id)
    }

    /// The schedule with this id.
    pub fn schedule(&self, id: &ScheduleId) -> Option<&Schedule> {
        self.schedules.iter().find(|s| &s.id == id)
    }

    /// The policy with this id.
    pub fn policy(&self, id: &PolicyId) -> Option<&Policy> {
        self.policies.iter().find(|p| &p.id == id)
    }

    /// The routing of a component's incidents (`None`: the service as a whole).
    pub fn routing_of(&self, component: Option<&ComponentId>) -> Option<&Routing> {
        component
            .and_then(|c| self.routing.get(c))
            .or(self.default.as_ref())
    }

    /// The person whose SMS number this is.
    pub fn person_by_phone(&self, number: &str) -> Option<&Person> {
        let number = PhoneNumber::parse(number).ok()?;
        self.people.iter().find(|p| p.phone() == Some(&number))
    }
}

//! Validation of the on-call sections: `[[people]]`, `[[schedules]]` (with their
//! `[[schedules.layers]]` and `[[schedules.overrides]]`), `[[policies]]` (with their
//! `[[policies.steps]]`), `[oncall]`, and the components' `policy` and `urgency`.
//!
//! Every error names its dotted field path and points at the value, like the rest of the
//! config. References (participants, override people, step targets, policies) must name ids
//! that exist; and once any policy exists, every component must resolve to one, so a component
//! that pages nobody never passes silently.

use std::collections::{BTreeSet, HashSet};
use std::ops::Range;
use std::time::Duration;

use chrono::Weekday;
use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use super::validate::{Errors, duration_field, http_url};
use super::{ComponentId, PersonId, PolicyId, ScheduleId};
use crate::maintenance::resolve;
use crate::maintenance::{parse_local_datetime, parse_time_of_day, parse_weekday, parse_zone};
use crate::oncall::{
    Contact, Layer, OnCall, Override, Person, PhoneNumber, Policy, Restriction, Routing, Schedule,
    ShiftLength, Step, Target, Urgency, WorkingHours,
};

type S<T> = Spanned<T>;

/// Longest `<n>d` rotation.
const MAX_ROTATION_DAYS: u32 = 90;
/// Longest `<n>h` rotation.
const MAX_ROTATION_HOURS: u32 = 2160;
/// Most repeats of a policy.
const MAX_REPEAT: u32 = 10;

// ---------------------------------------------------------------------------------------
// Raw shapes
// ---------------------------------------------------------------------------------------

/// One `[[people]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPerson {
    pub id: S<String>,
    pub name: S<String>,
    pub timezone: S<String>,
    pub sms: Option<S<String>>,
    pub email: Option<S<String>>,
    pub topic: Option<S<String>>,
    pub working_hours: Option<S<RawHours>>,
}

/// A person's `working_hours` or a layer's restriction: weekdays and a part of the day.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHours {
    pub days: Option<S<Vec<S<String>>>>,
    pub start: Option<S<String>>,
    pub end: Option<S<String>>,
}

/// One `[[schedules]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSchedule {
    pub id: S<String>,
    pub name: S<String>,
    #[serde(default)]
    pub layers: Vec<S<RawLayer>>,
    #[serde(default)]
    pub overrides: Vec<S<RawOverride>>,
}

/// One `[[schedules.layers]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLayer {
    pub name: Option<S<String>>,
    pub timezone: S<String>,
    pub start: S<String>,
    pub rotation: S<String>,
    pub participants: S<Vec<S<String>>>,
    pub restrictions: Option<S<Vec<S<RawHours>>>>,
}

/// One `[[schedules.overrides]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOverride {
    pub person: S<String>,
    pub timezone: S<String>,
    pub start: S<String>,
    pub end: S<String>,
}

/// One `[[policies]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    pub id: S<String>,
    pub name: S<String>,
    pub repeat: Option<S<i64>>,
    #[serde(default)]
    pub steps: Vec<S<RawStep>>,
}

/// One `[[policies.steps]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    pub targets: S<Vec<S<String>>>,
    pub delay: S<String>,
}

/// `[oncall]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOnCall {
    pub policy: Option<S<String>>,
    pub urgency: Option<S<String>>,
    pub page_suspected: Option<S<bool>>,
    pub sms_resolve: Option<S<bool>>,
    pub ack_url: Option<S<String>>,
    pub ack_ttl: Option<S<String>>,
}

/// The raw on-call sections of a config, taken out of `RawConfig`.
pub(super) struct RawSections {
    pub people: Vec<S<RawPerson>>,
    pub schedules: Vec<S<RawSchedule>>,
    pub policies: Vec<S<RawPolicy>>,
    pub oncall: Option<S<RawOnCall>>,
}

/// What a `[[components]]` table says about paging, with what is needed to point at it.
pub(super) struct ComponentPaging {
    /// Its position in `[[components]]`.
    pub index: usize,
    /// Its id, if valid.
    pub id: Option<ComponentId>,
    /// The span of its `[[components]]` header.
    pub header: Range<usize>,
    /// Its `policy`, as written.
    pub policy: Option<S<String>>,
    /// Its `urgency`, as written.
    pub urgency: Option<S<String>>,
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

/// The validated on-call configuration; every mistake reported to `errors`.
pub(super) fn on_call(
    raw: RawSections,
    components: Vec<ComponentPaging>,
    errors: &mut Errors<'_>,
) -> OnCall {
    let mut settings = OnCall::default();

    // Ids are collected from every table whose id is valid, even when the rest of it has
    // errors, so one mistake does not also make each reference to it an error.
    let person_ids = known_ids(&raw.people, |p| &p.id, PersonId::parse);
    let schedule_ids = known_ids(&raw.schedules, |s| &s.id, ScheduleId::parse);
    let policy_ids = known_ids(&raw.policies, |p| &p.id, PolicyId::parse);

    let mut seen = HashSet::new();
    for (i, person) in raw.people.into_iter().enumerate() {
        let header = person.span();
        let raw = person.into_inner();
        if let Ok(id) = PersonId::parse(raw.id.get_ref())
            && !seen.insert(id)
        {
            errors.at(
                raw.id.span(),
                format!("people[{i}].id"),
                format!("duplicate person id `{}`", raw.id.get_ref()),
            );
        }
        if let Some(p) = person_of(i, header, raw, errors) {
            settings.people.push(p);
        }
    }
    let mut seen = HashSet::new();
    for (i, schedule) in raw.schedules.into_iter().enumerate() {
        let header = schedule.span();
        let raw = schedule.into_inner();
        if let Ok(id) = ScheduleId::parse(raw.id.get_ref())
            && !seen.insert(id)
        {
            errors.at(
                raw.id.span(),
                format!("schedules[{i}].id"),
                format!("duplicate schedule id `{}`", raw.id.get_ref()),
            );
        }
        if let Some(s) = schedule_of(i, header, raw, &person_ids, errors) {
            settings.schedules.push(s);
        }
    }

    let mut seen = HashSet::new();
    for (i, policy) in raw.policies.into_iter().enumerate() {
        let header = policy.span();
        let raw = policy.into_inner();
        if let Ok(id) = PolicyId::parse(raw.id.get_ref())
            && !seen.insert(id)
        {
            errors.at(
                raw.id.span(),
                format!("policies[{i}].id"),
                format!("duplicate policy id `{}`", raw.id.get_ref()),
            );
        }
        if let Some(p) = policy_of(i, header, raw, &person_ids, &schedule_ids, errors) {
            settings.policies.push(p);
        }
    }

    // A default written but invalid was reported; the components that would have used it are
    // not blamed as well.
    let default_written = raw
        .oncall
        .as_ref()
        .is_some_and(|oncall| oncall.get_ref().policy.is_some());
    let mut default_policy = None;
    let mut default_urgency = Urgency::High;
    if let Some(oncall) = raw.oncall {
        let raw = oncall.into_inner();
        if let Some(policy) = &raw.policy {
            default_policy = policy_ref(policy, "oncall.policy".into(), &policy_ids, errors);
        }
        if let Some(urgency) = &raw.urgency {
            default_urgency = urgency_of(urgency, "oncall.urgency".into(), errors);
        }
        if let Some(page) = raw.page_suspected {
            settings.page_suspected = page.into_inner();
        }
        if let Some(resolve) = raw.sms_resolve {
            settings.sms_resolve = resolve.into_inner();
        }
        if let Some(url) = &raw.ack_url {
            match http_url(url.get_ref()) {
                Ok(url) => settings.ack_url = Some(url),
                Err(message) => errors.at(url.span(), "oncall.ack_url", message),
            }
        }
        if let Some(ttl) = &raw.ack_ttl
            && let Some(d) = duration_field(ttl, "oncall.ack_ttl".into(), errors)
        {
            if d < Duration::from_secs(5 * 60) || d > Duration::from_secs(7 * 86_400) {
                errors.at(ttl.span(), "oncall.ack_ttl", "must be between 5m and 7d");
            } else {
                settings.ack_ttl = d;
            }
        }
    }
    settings.default = default_policy.clone().map(|policy| Routing {
        policy,
        urgency: default_urgency,
    });

    for component in components {
        let field = |name: &str| format!("components[{}].{name}", component.index);
        let policy = component
            .policy
            .as_ref()
            .and_then(|p| policy_ref(p, field("policy"), &policy_ids, errors));
        let urgency = component
            .urgency
            .as_ref()
            .map(|u| urgency_of(u, field("urgency"), errors));
        if component.policy.is_none() && !default_written && !policy_ids.is_empty() {
            errors.at(
                component.header.clone(),
                field("policy"),
                "pages nobody: set `policy` here, or a default for every component with \
                 `policy` in `[oncall]`",
            );
        }
        let Some(id) = component.id else {
            continue;
        };
        if component.policy.is_none() && urgency.is_none() {
            continue;
        }
        if let Some(policy) = policy.or_else(|| default_policy.clone()) {
            settings.routing.insert(
                id,
                Routing {
                    policy,
                    urgency: urgency.unwrap_or(default_urgency),
                },
            );
        }
    }
    settings
}

/// The valid ids of a list of tables.
fn known_ids<R, T: Ord>(
    tables: &[S<R>],
    id: impl Fn(&R) -> &S<String>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> BTreeSet<T> {
    tables
        .iter()
        .filter_map(|table| parse(id(table.get_ref()).get_ref()).ok())
        .collect()
}

/// One `[[people]]` table.
fn person_of(
    i: usize,
    header: Range<usize>,
    raw: RawPerson,
    errors: &mut Errors<'_>,
) -> Option<Person> {
    let field = |name: &str| format!("people[{i}].{name}");
    let id = PersonId::parse(raw.id.get_ref())
        .map_err(|message| errors.at(raw.id.span(), field("id"), message))
        .ok();
    let name = non_empty(&raw.name, field("name"), errors);
    let zone = zone_of(&raw.timezone, field("timezone"), errors);
    let mut contacts = Vec::new();
    let mut valid = true;
    if let Some(sms) = &raw.sms {
        match PhoneNumber::parse(sms.get_ref()) {
            Ok(number) => contacts.push(Contact::Sms(number)),
            Err(message) => {
                errors.at(sms.span(), field("sms"), message);
                valid = false;
            }
        }
    }
    if let Some(email) = &raw.email {
        match email_address(email.get_ref()) {
            Ok(address) => contacts.push(Contact::Email(address)),
            Err(message) => {
                errors.at(email.span(), field("email"), message);
                valid = false;
            }
        }
    }
    if let Some(topic) = &raw.topic {
        match topic_arn(topic.get_ref()) {
            Ok(arn) => contacts.push(Contact::Topic(arn)),
            Err(message) => {
                errors.at(topic.span(), field("topic"), message);
                valid = false;
            }
        }
    }
    if raw.sms.is_none() && raw.email.is_none() && raw.topic.is_none() {
        errors.at(
            header,
            field("sms"),
            "a person needs at least one way to be reached: `sms`, `email` or `topic`",
        );
        valid = false;
    }
    let working_hours = match &raw.working_hours {
        None => Some(WorkingHours::default()),
        Some(hours) => working_hours(hours, &field("working_hours"), errors),
    };
    if !valid {
        return None;
    }
    Some(Person {
        id: id?,
        name: name?,
        zone: zone?,
        contacts,
        working_hours: working_hours?,
    })
}

/// A person's `working_hours`: each part defaults to the default's (Monday to Friday, 09:00
/// to 17:00); `end` must be after `start`.
fn working_hours(raw: &S<RawHours>, field: &str, errors: &mut Errors<'_>) -> Option<WorkingHours> {
    let default = WorkingHours::default();
    let hours = raw.get_ref();
    let days = match &hours.days {
        None => Some(default.days),
        Some(days) => weekdays(days, &format!("{field}.days"), errors),
    };
    let start = match &hours.start {
        None => Some(default.start),
        Some(start) => time_of(start, format!("{field}.start"), errors),
    };
    let end = match &hours.end {
        None => Some(default.end),
        Some(end) => time_of(end, format!("{field}.end"), errors),
    };
    let (days, start, end) = (days?, start?, end?);
    if end <= start {
        let span = hours.end.as_ref().map_or_else(|| raw.span(), Spanned::span);
        errors.at(
            span,
            format!("{field}.end"),
            format!(
                "must be after `start` ({}): working hours end on the day they start",
                start.format("%H:%M")
            ),
        );
        return None;
    }
    Some(WorkingHours { days, start, end })
}

/// A non-empty list of distinct weekdays.
fn weekdays(raw: &S<Vec<S<String>>>, field: &str, errors: &mut Errors<'_>) -> Option<Vec<Weekday>> {
    if raw.get_ref().is_empty() {
        errors.at(
            raw.span(),
            field,
            "must list at least one weekday, or be left out",
        );
        return None;
    }
    let mut days = Vec::new();
    let mut valid = true;
    for (k, day) in raw.get_ref().iter().enumerate() {
        match parse_weekday(day.get_ref()) {
            Ok(d) if days.contains(&d) => {
                errors.at(
                    day.span(),
                    format!("{field}[{k}]"),
                    format!("weekday `{}` is listed twice", day.get_ref().trim()),
                );
                valid = false;
            }
            Ok(d) => days.push(d),
            Err(message) => {
                errors.at(day.span(), format!("{field}[{k}]"), message);
                valid = false;
            }
        }
    }
    valid.then_some(days)
}

/// One `[[schedules]]` table.
fn schedule_of(
    i: usize,
    header: Range<usize>,
    raw: RawSchedule,
    people: &BTreeSet<PersonId>,
    errors: &mut Errors<'_>,
) -> Option<Schedule> {
    let field = |name: &str| format!("schedules[{i}].{name}");
    let id = ScheduleId::parse(raw.id.get_ref())
        .map_err(|message| errors.at(raw.id.span(), field("id"), message))
        .ok();
    let name = non_empty(&raw.name, field("name"), errors);
    if raw.layers.is_empty() {
        errors.at(
            header,
            field("layers"),
            "a schedule needs at least one [[schedules.layers]] table",
        );
    }
    let mut valid = true;
    let mut layers = Vec::new();
    for (j, layer) in raw.layers.into_iter().enumerate() {
        let path = format!("schedules[{i}].layers[{j}]");
        match layer_of(&path, j, layer.get_ref(), people, errors) {
            Some(layer) => layers.push(layer),
            None => valid = false,
        }
    }
    let mut overrides = Vec::new();
    for (j, o) in raw.overrides.into_iter().enumerate() {
        let path = format!("schedules[{i}].overrides[{j}]");
        match override_of(&path, o.get_ref(), people, errors) {
            Some(o) => overrides.push(o),
            None => valid = false,
        }
    }
    if !valid || layers.is_empty() {
        return None;
    }
    Some(Schedule {
        id: id?,
        name: name?,
        layers,
        overrides,
    })
}

/// One `[[schedules.layers]]` table; `field` is its path, `j` its position.
fn layer_of(
    field: &str,
    j: usize,
    raw: &RawLayer,
    people: &BTreeSet<PersonId>,
    errors: &mut Errors<'_>,
) -> Option<Layer> {
    let at = |name: &str| format!("{field}.{name}");
    let name = match &raw.name {
        None => Some(format!("Layer {}", j + 1)),
        Some(name) => non_empty(name, at("name"), errors),
    };
    let zone = zone_of(&raw.timezone, at("timezone"), errors);
    let start = parse_local_datetime(raw.start.get_ref())
        .map_err(|message| errors.at(raw.start.span(), at("start"), message))
        .ok();
    let shift = rotation(raw.rotation.get_ref())
        .map_err(|message| errors.at(raw.rotation.span(), at("rotation"), message))
        .ok();
    let participants = if raw.participants.get_ref().is_empty() {
        errors.at(
            raw.participants.span(),
            at("participants"),
            "must name at least one person",
        );
        None
    } else {
        let mut list = Vec::new();
        let mut valid = true;
        for (k, p) in raw.participants.get_ref().iter().enumerate() {
            match person_ref(p, format!("{field}.participants[{k}]"), people, errors) {
                Some(id) => list.push(id),
                None => valid = false,
            }
        }
        valid.then_some(list)
    };
    let restrictions = match &raw.restrictions {
        None => Some(Vec::new()),
        Some(list) if list.get_ref().is_empty() => {
            errors.at(
                list.span(),
                at("restrictions"),
                "must list at least one restriction, or be left out for a layer that is always in force",
            );
            None
        }
        Some(list) => {
            let mut restrictions = Vec::new();
            let mut valid = true;
            for (k, r) in list.get_ref().iter().enumerate() {
                match restriction_of(&format!("{field}.restrictions[{k}]"), r, errors) {
                    Some(r) => restrictions.push(r),
                    None => valid = false,
                }
            }
            valid.then_some(restrictions)
        }
    };
    Some(Layer {
        name: name?,
        zone: zone?,
        start: start?,
        shift: shift?,
        participants: participants?,
        restrictions: restrictions?,
    })
}

/// `daily`, `weekly`, `<n>d` (1 to 90) or `<n>h` (1 to 2160).
fn rotation(text: &str) -> Result<ShiftLength, String> {
    let text = text.trim();
    let expected = "must be \"daily\", \"weekly\", \"<n>d\" (days, e.g. \"14d\") or \"<n>h\" (hours, e.g. \"12h\")";
    match text {
        "daily" => return Ok(ShiftLength::Days(1)),
        "weekly" => return Ok(ShiftLength::Days(7)),
        _ => {}
    }
    let (number, unit) = match (text.strip_suffix('d'), text.strip_suffix('h')) {
        (Some(number), _) => (number, 'd'),
        (_, Some(number)) => (number, 'h'),
        _ => return Err(format!("{expected}, got \"{text}\"")),
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{expected}, got \"{text}\""));
    }
    let n: Option<u32> = number.parse().ok();
    match (unit, n) {
        ('d', Some(n)) if (1..=MAX_ROTATION_DAYS).contains(&n) => Ok(ShiftLength::Days(n)),
        ('h', Some(n)) if (1..=MAX_ROTATION_HOURS).contains(&n) => Ok(ShiftLength::Hours(n)),
        ('d', _) => Err(format!(
            "a rotation in days must be 1d to {MAX_ROTATION_DAYS}d, got \"{text}\""
        )),
        _ => Err(format!(
            "a rotation in hours must be 1h to {MAX_ROTATION_HOURS}h, got \"{text}\""
        )),
    }
}

/// One restriction of a layer: `start` and `end` required, `days` optional (every day).
fn restriction_of(field: &str, raw: &S<RawHours>, errors: &mut Errors<'_>) -> Option<Restriction> {
    let hours = raw.get_ref();
    let days = match &hours.days {
        None => Some(Vec::new()),
        Some(days) => weekdays(days, &format!("{field}.days"), errors),
    };
    let mut time = |value: &Option<S<String>>, name: &str| match value {
        None => {
            errors.at(
                raw.span(),
                format!("{field}.{name}"),
                format!("a restriction needs `{name}` (a local time of day, e.g. \"08:00\")"),
            );
            None
        }
        Some(value) => time_of(value, format!("{field}.{name}"), errors),
    };
    let start = time(&hours.start, "start");
    let end = time(&hours.end, "end");
    Some(Restriction {
        days: days?,
        start: start?,
        end: end?,
    })
}

/// One `[[schedules.overrides]]` table.
fn override_of(
    field: &str,
    raw: &RawOverride,
    people: &BTreeSet<PersonId>,
    errors: &mut Errors<'_>,
) -> Option<Override> {
    let at = |name: &str| format!("{field}.{name}");
    let person = person_ref(&raw.person, at("person"), people, errors);
    let zone = zone_of(&raw.timezone, at("timezone"), errors);
    let mut local = |value: &S<String>, name: &str| {
        parse_local_datetime(value.get_ref())
            .map_err(|message| errors.at(value.span(), at(name), message))
            .ok()
    };
    let start = local(&raw.start, "start");
    let end = local(&raw.end, "end");
    let (zone, start, end) = (zone?, start?, end?);
    if end <= start {
        errors.at(raw.end.span(), at("end"), "`end` must be after `start`");
        return None;
    }
    let (Some(first), Some(last)) = (resolve(zone, start), resolve(zone, end)) else {
        errors.at(
            raw.end.span(),
            at("end"),
            "`start` or `end` is outside the supported date range",
        );
        return None;
    };
    if last <= first {
        errors.at(
            raw.end.span(),
            at("end"),
            format!(
                "`start` and `end` both fall in the gap when clocks go forward in `{}`, so the \
                 override would be empty",
                zone.name()
            ),
        );
        return None;
    }
    Some(Override {
        person: person?,
        start: first,
        end: last,
    })
}

/// One `[[policies]]` table.
fn policy_of(
    i: usize,
    header: Range<usize>,
    raw: RawPolicy,
    people: &BTreeSet<PersonId>,
    schedules: &BTreeSet<ScheduleId>,
    errors: &mut Errors<'_>,
) -> Option<Policy> {
    let field = |name: &str| format!("policies[{i}].{name}");
    let id = PolicyId::parse(raw.id.get_ref())
        .map_err(|message| errors.at(raw.id.span(), field("id"), message))
        .ok();
    let name = non_empty(&raw.name, field("name"), errors);
    let repeat = match &raw.repeat {
        None => Some(0),
        Some(n) => match u32::try_from(*n.get_ref()) {
            Ok(v) if v <= MAX_REPEAT => Some(v),
            _ => {
                errors.at(
                    n.span(),
                    field("repeat"),
                    format!("must be between 0 and {MAX_REPEAT}, got {}", n.get_ref()),
                );
                None
            }
        },
    };
    if raw.steps.is_empty() {
        errors.at(
            header,
            field("steps"),
            "a policy needs at least one [[policies.steps]] table",
        );
    }
    let mut steps = Vec::new();
    let mut valid = true;
    for (j, step) in raw.steps.iter().enumerate() {
        let at = |name: &str| format!("policies[{i}].steps[{j}].{name}");
        let step = step.get_ref();
        let mut targets = Vec::new();
        if step.targets.get_ref().is_empty() {
            errors.at(
                step.targets.span(),
                at("targets"),
                "must name at least one target (\"schedule:<id>\" or \"person:<id>\")",
            );
            valid = false;
        }
        for (k, target) in step.targets.get_ref().iter().enumerate() {
            let path = format!("policies[{i}].steps[{j}].targets[{k}]");
            match target_of(target, path, people, schedules, errors) {
                Some(t) => targets.push(t),
                None => valid = false,
            }
        }
        let delay = match duration_field(&step.delay, at("delay"), errors) {
            Some(d) if d < Duration::from_secs(60) || d > Duration::from_secs(86_400) => {
                errors.at(step.delay.span(), at("delay"), "must be between 1m and 24h");
                None
            }
            other => other,
        };
        match delay {
            Some(delay) if valid => steps.push(Step { targets, delay }),
            _ => valid = false,
        }
    }
    if !valid || steps.is_empty() {
        return None;
    }
    Some(Policy {
        id: id?,
        name: name?,
        steps,
        repeat: repeat?,
    })
}

/// `schedule:<id>` or `person:<id>`, naming one that exists.
fn target_of(
    raw: &S<String>,
    field: String,
    people: &BTreeSet<PersonId>,
    schedules: &BTreeSet<ScheduleId>,
    errors: &mut Errors<'_>,
) -> Option<Target> {
    let text = raw.get_ref().trim();
    match text.split_once(':') {
        Some(("schedule", id)) => existing(
            id,
            raw,
            field,
            "schedule",
            schedules,
            ScheduleId::parse,
            errors,
        )
        .map(Target::Schedule),
        Some(("person", id)) => {
            existing(id, raw, field, "person", people, PersonId::parse, errors).map(Target::Person)
        }
        _ => {
            errors.at(
                raw.span(),
                field,
                format!("must be \"schedule:<id>\" or \"person:<id>\", got \"{text}\""),
            );
            None
        }
    }
}

/// A reference to a person that exists.
fn person_ref(
    raw: &S<String>,
    field: String,
    people: &BTreeSet<PersonId>,
    errors: &mut Errors<'_>,
) -> Option<PersonId> {
    existing(
        raw.get_ref(),
        raw,
        field,
        "person",
        people,
        PersonId::parse,
        errors,
    )
}

/// A reference to a policy that exists.
fn policy_ref(
    raw: &S<String>,
    field: String,
    policies: &BTreeSet<PolicyId>,
    errors: &mut Errors<'_>,
) -> Option<PolicyId> {
    existing(
        raw.get_ref(),
        raw,
        field,
        "policy",
        policies,
        PolicyId::parse,
        errors,
    )
}

/// `id` (written in `raw`) as a valid id of a `noun` among `ids`, or an error on `field`.
fn existing<T: Ord + std::fmt::Display>(
    id: &str,
    raw: &S<String>,
    field: String,
    noun: &str,
    ids: &BTreeSet<T>,
    parse: fn(&str) -> Result<T, String>,
    errors: &mut Errors<'_>,
) -> Option<T> {
    match parse(id) {
        Ok(id) if ids.contains(&id) => Some(id),
        Ok(id) => {
            errors.at(
                raw.span(),
                field,
                format!("no {noun} has id `{id}`{}", known(ids)),
            );
            None
        }
        Err(message) => {
            errors.at(raw.span(), field, message);
            None
        }
    }
}

/// ` (known: a, b)`, or ` (there are none)`, to end an unknown-id message.
fn known<T: std::fmt::Display>(ids: &BTreeSet<T>) -> String {
    if ids.is_empty() {
        " (there are none)".to_owned()
    } else {
        let names: Vec<String> = ids.iter().map(ToString::to_string).collect();
        format!(" (known: {})", names.join(", "))
    }
}

/// `high` or `low`.
fn urgency_of(raw: &S<String>, field: String, errors: &mut Errors<'_>) -> Urgency {
    match raw.get_ref().as_str() {
        "high" => Urgency::High,
        "low" => Urgency::Low,
        other => {
            errors.at(
                raw.span(),
                field,
                format!("must be \"high\" or \"low\", got \"{other}\""),
            );
            Urgency::High
        }
    }
}

/// Trimmed text that must not be empty.
fn non_empty(raw: &S<String>, field: String, errors: &mut Errors<'_>) -> Option<String> {
    let text = raw.get_ref().trim();
    if text.is_empty() {
        errors.at(raw.span(), field, "must not be empty");
        None
    } else {
        Some(text.to_owned())
    }
}

/// An IANA time zone.
fn zone_of(raw: &S<String>, field: String, errors: &mut Errors<'_>) -> Option<Tz> {
    parse_zone(raw.get_ref())
        .map_err(|message| errors.at(raw.span(), field, message))
        .ok()
}

/// A local time of day.
fn time_of(raw: &S<String>, field: String, errors: &mut Errors<'_>) -> Option<chrono::NaiveTime> {
    parse_time_of_day(raw.get_ref())
        .map_err(|message| errors.at(raw.span(), field, message))
        .ok()
}

/// A plausible email address: one `@`, something before it, a dot inside the domain, no
/// spaces.
fn email_address(text: &str) -> Result<String, String> {
    let text = text.trim();
    let plausible = match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain
                    .find('.')
                    .is_some_and(|dot| dot > 0 && dot + 1 < domain.len())
                && !domain.ends_with('.')
                && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if plausible {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "`{text}` is not an email address (`alice@example.com`)"
        ))
    }
}

/// An SNS topic ARN: `arn:<partition>:sns:<region>:<12-digit account>:<name>`.
fn topic_arn(text: &str) -> Result<String, String> {
    let text = text.trim();
    let parts: Vec<&str> = text.split(':').collect();
    let valid = match parts.as_slice() {
        ["arn", partition, "sns", region, account, name] => {
            partition.starts_with("aws")
                && partition
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-')
                && !region.is_empty()
                && region
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && {
                    let base = name.strip_suffix(".fifo").unwrap_or(name);
                    (1..=256).contains(&name.len())
                        && !base.is_empty()
                        && base
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                }
        }
        _ => false,
    };
    if valid {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "`{text}` is not an SNS topic ARN (`arn:aws:sns:eu-west-1:123456789012:oncall-alice`)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotations() {
        assert_eq!(rotation("daily"), Ok(ShiftLength::Days(1)));
        assert_eq!(rotation("weekly"), Ok(ShiftLength::Days(7)));
        assert_eq!(rotation("14d"), Ok(ShiftLength::Days(14)));
        assert_eq!(rotation("12h"), Ok(ShiftLength::Hours(12)));
        assert_eq!(rotation("2160h"), Ok(ShiftLength::Hours(2160)));
        for bad in ["0d", "91d", "0h", "2161h", "99999999999d"] {
            assert!(
                rotation(bad).unwrap_err().contains("a rotation in"),
                "{bad}"
            );
        }
        for bad in ["", "d", "fortnightly", "1w", "-1d", "1.5d", "é"] {
            assert!(rotation(bad).unwrap_err().starts_with("must be"), "{bad}");
        }
    }

    #[test]
    fn emails_and_topics() {
        assert!(email_address("alice@example.com").is_ok());
        for bad in [
            "alice",
            "@example.com",
            "a@b",
            "a@b.",
            "a@.b",
            "a b@c.d",
            "a@b@c.d",
        ] {
            assert!(email_address(bad).is_err(), "{bad}");
        }
        assert!(topic_arn("arn:aws:sns:eu-west-1:123456789012:oncall-alice").is_ok());
        assert!(topic_arn("arn:aws-cn:sns:cn-north-1:123456789012:pages.fifo").is_ok());
        for bad in [
            "oncall-alice",
            "arn:aws:sqs:eu-west-1:123456789012:q",
            "arn:aws:sns:eu-west-1:1234:t",
            "arn:aws:sns::123456789012:t",
            "arn:aws:sns:eu-west-1:123456789012:",
            "arn:aws:sns:eu-west-1:123456789012:a:b",
            "arn:aws:sns:eu-west-1:123456789012:a b",
        ] {
            assert!(topic_arn(bad).is_err(), "{bad}");
        }
    }
}

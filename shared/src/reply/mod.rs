//! The reply service: every customer who reports a problem gets one public answer with the
//! live incident status, and one follow-up when it is fixed; the vendor's accounts post its
//! status updates; what needs a person reaches a person; every response is measured.
//!
//! - [`service`]: the service itself: changes in, jobs claimed, outboxes drained.
//! - [`decide`]: whether a mention is answered, and the live status it is answered with.
//! - [`decision`]: that judgement, recorded once per post, which every redelivery follows.
//! - [`job`]: a post sitrep owes, claimed once and queued in its account's outbox.
//! - [`template`]: what sitrep says, per situation and language.
//! - [`length`]: how long a post is, by each platform's own rules.
//! - [`budget`]: how many posts each account may still make, counted in the store.
//! - [`handoff`]: what needs a person, published to the support topic.
//! - [`response`]: when each mention was answered and followed up; the report.

pub mod budget;
pub mod decide;
pub mod decision;
pub mod handoff;
pub mod job;
pub mod length;
#[cfg(test)]
mod length_properties;
pub mod response;
pub mod service;
pub mod template;

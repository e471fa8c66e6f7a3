//! The reply service: every customer who reports a problem gets one public answer with the
//! live incident status, and one follow-up when it is fixed; the vendor's accounts post its
//! status updates; what needs a person reaches a person; every response is measured.
//!
//! - [`length`]: how long a post is, by each platform's own rules.
//! - [`template`]: what sitrep says, per situation and language.

pub mod length;
pub mod template;

//! The social platforms sitrep hears customers on. Each platform's wire format is parsed
//! into sitrep's terms here, so the clients built on it share one notion of a page of
//! mentions, a rate limit and a failed call.
//!
//! - [`x`]: X API v2, the mentions timeline and its error shapes.

pub mod x;

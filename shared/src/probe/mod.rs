//! Health probing: run checks, judge them, damp flapping, agree across regions, and keep
//! component status and incidents in the store.
//!
//! - [`observation`]: what one check saw.
//! - [`condition`]: the condition language that judges an observation.
//! - `decimal`: exact decimal numbers, which conditions compare with response values.
//! - [`runner`]: the HTTP(S), TCP, DNS and TLS probes.
//! - [`outcome`]: one judged result (up, degraded, down, with the reason in words).
//! - [`hysteresis`]: consecutive-result thresholds on both edges, and cross-region quorum.
//! - [`cycle`]: one probe cycle end to end, bounded in concurrency and by a deadline.

pub mod condition;
pub mod cycle;
mod decimal;
pub mod hysteresis;
pub mod observation;
pub mod outcome;
pub mod runner;

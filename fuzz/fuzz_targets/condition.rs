//! Condition text, then a response to judge it against: parsing any text and judging any
//! parsed condition never panics. The first line is the condition, the rest the body.

#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use std::time::Duration;

use chrono::DateTime;
use shared::probe::condition::Condition;
use shared::probe::observation::Observation;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (condition, body) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(condition) = Condition::parse(condition) else {
        return;
    };
    let observation = Observation {
        target: "https://status.example.com/health".into(),
        connected: true,
        elapsed: Duration::from_millis(body.len() as u64),
        status: Some(200),
        headers: vec![("content-type".into(), "application/json".into())],
        body: Some(body.to_owned()),
        dns_answers: body.lines().take(4).map(str::to_owned).collect(),
        ..Observation::default()
    };
    let now = DateTime::from_timestamp(1_795_430_400, 0).expect("a valid instant");
    let _ = condition.evaluate(&observation, now);
});

//! CloudWatch metrics as Embedded Metric Format (EMF) log lines.
//!
//! A Lambda function that prints one EMF JSON object on a line of its own gets a metric in
//! CloudWatch with no API call, no extra permission and no latency: the log pipeline
//! extracts it. The functions print these lines; the local runner shows the same numbers in
//! its own words.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// The namespace every sitrep metric lives in.
pub const NAMESPACE: &str = "sitrep";

/// One metric value with its dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric<'a> {
    /// The metric name (`MentionsPossiblyMissed`).
    pub name: &'a str,
    /// CloudWatch unit (`Count`, `Milliseconds`…).
    pub unit: &'a str,
    /// The value.
    pub value: f64,
    /// Dimension names and values (`platform`, `account`).
    pub dimensions: &'a [(&'a str, &'a str)],
}

/// Prints one metric as an EMF line on stdout, where Lambda's log pipeline picks it up.
pub fn emit(name: &str, unit: &str, value: f64, dimensions: &[(&str, &str)], at: DateTime<Utc>) {
    println!(
        "{}",
        emf_line(
            &Metric {
                name,
                unit,
                value,
                dimensions,
            },
            at,
        )
    );
}

/// The EMF line for `metric` at `at`.
pub fn emf_line(metric: &Metric<'_>, at: DateTime<Utc>) -> String {
    let mut root = Map::new();
    let named: Vec<&str> = metric.dimensions.iter().map(|(name, _)| *name).collect();
    // Per dimension value, and once more without dimensions so that one alarm watches the
    // total; a metric without dimensions is declared once.
    let sets = if named.is_empty() {
        json!([[]])
    } else {
        json!([named, []])
    };
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": sets,
                "Metrics": [{"Name": metric.name, "Unit": metric.unit}],
            }],
        }),
    );
    for (name, value) in metric.dimensions {
        root.insert((*name).into(), Value::from(*value));
    }
    root.insert(metric.name.into(), Value::from(metric.value));
    Value::Object(root).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_emf_line_declares_its_metric_and_carries_value_and_dimensions() {
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap();
        let line = emf_line(
            &Metric {
                name: "MentionsPossiblyMissed",
                unit: "Count",
                value: 240.0,
                dimensions: &[("platform", "x"), ("account", "acme-x")],
            },
            at,
        );
        assert!(!line.contains('\n'), "one line");
        let parsed: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["_aws"]["Timestamp"], at.timestamp_millis());
        let declared = &parsed["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(declared["Namespace"], "sitrep");
        assert_eq!(declared["Dimensions"][0], json!(["platform", "account"]));
        assert_eq!(declared["Dimensions"][1], json!([]), "and the total");
        assert_eq!(declared["Metrics"][0]["Name"], "MentionsPossiblyMissed");
        assert_eq!(parsed["MentionsPossiblyMissed"], 240.0);
        assert_eq!(parsed["account"], "acme-x");
    }
}

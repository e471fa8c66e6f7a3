//! How well the classifier does on a labelled set: precision, recall and F1 per intent,
//! component and language accuracy, and the examples it gets wrong.
//!
//! The labelled set is JSON Lines, one mention a line:
//! `{"text": "…", "lang": "en", "intent": "outage_report", "component": "api"}`
//! (`component` may be `null` or missing). `shared/data/labelled-mentions.jsonl` is the
//! reference set; the test at the bottom holds the classifier to its outage-report targets.

use std::fmt;

use serde::Deserialize;

use super::classify::{Classifier, Intent};

/// One labelled mention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labelled {
    /// The mention's text.
    pub text: String,
    /// Its language (`en`, `es`, `pt`, `fr`, `de`).
    pub lang: String,
    /// What it is.
    pub intent: Intent,
    /// The component it is about, if any.
    pub component: Option<String>,
}

/// A line of the labelled set that is not a labelled mention.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct EvaluationError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

/// One line as written; unknown keys are errors so that a typo never drops a label.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    text: String,
    lang: String,
    intent: String,
    #[serde(default)]
    component: Option<String>,
}

/// Reads a labelled set (JSON Lines; blank lines are skipped).
pub fn parse_labelled(jsonl: &str) -> Result<Vec<Labelled>, EvaluationError> {
    let mut set = Vec::new();
    for (i, line) in jsonl.lines().enumerate() {
        let line_number = i + 1;
        let error = |message: String| EvaluationError {
            line: line_number,
            message,
        };
        if line.trim().is_empty() {
            continue;
        }
        let row: Row = serde_json::from_str(line)
            .map_err(|e| error(format!("not a labelled mention: {e}")))?;
        let intent = Intent::parse(&row.intent).ok_or_else(|| {
            let known: Vec<&str> = Intent::ALL.iter().map(|i| i.as_str()).collect();
            error(format!(
                "unknown intent {:?}; expected one of {}",
                row.intent,
                known.join(", ")
            ))
        })?;
        if row.text.trim().is_empty() {
            return Err(error("text is empty".to_owned()));
        }
        if row.lang.trim().is_empty() {
            return Err(error("lang is empty".to_owned()));
        }
        set.push(Labelled {
            text: row.text,
            lang: row.lang,
            intent,
            component: row.component.filter(|c| !c.is_empty()),
        });
    }
    Ok(set)
}

/// Confusion counts of one intent against all others.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Labelled this intent and classified as it.
    pub true_positives: usize,
    /// Classified as this intent but labelled otherwise.
    pub false_positives: usize,
    /// Labelled this intent but classified otherwise.
    pub false_negatives: usize,
    /// Neither labelled nor classified as this intent.
    pub true_negatives: usize,
}

impl Counts {
    /// How many mentions are labelled with this intent.
    pub fn support(&self) -> usize {
        self.true_positives + self.false_negatives
    }
}

/// A labelled mention the classifier got wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Miss {
    /// The mention's text.
    pub text: String,
    /// The label.
    pub expected: Intent,
    /// What the classifier said.
    pub predicted: Intent,
    /// How sure it was.
    pub confidence: f32,
    /// The labelled component.
    pub expected_component: Option<String>,
    /// The classified component.
    pub predicted_component: Option<String>,
}

/// The classifier's results on a labelled set.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// How many mentions were evaluated.
    pub total: usize,
    /// Per intent, in [`Intent::ALL`] order.
    pub counts: [Counts; 5],
    /// Mentions whose component (or lack of one) was right.
    pub components_correct: usize,
    /// Mentions whose language was right.
    pub languages_correct: usize,
    /// The mentions whose intent was wrong, in set order.
    pub misclassified: Vec<Miss>,
    /// The mentions whose intent was right but component wrong, in set order.
    pub wrong_components: Vec<Miss>,
}

/// Classifies every mention of `set` (with no platform language, so that detection is
/// measured too) and compares with the labels.
pub fn evaluate(classifier: &Classifier, set: &[Labelled]) -> Evaluation {
    let mut evaluation = Evaluation {
        total: set.len(),
        counts: [Counts::default(); 5],
        components_correct: 0,
        languages_correct: 0,
        misclassified: Vec::new(),
        wrong_components: Vec::new(),
    };
    for labelled in set {
        let result = classifier.classify(&labelled.text, None);
        for intent in Intent::ALL {
            let counts = &mut evaluation.counts[intent.index()];
            match (labelled.intent == intent, result.intent == intent) {
                (true, true) => counts.true_positives += 1,
                (false, true) => counts.false_positives += 1,
                (true, false) => counts.false_negatives += 1,
                (false, false) => counts.true_negatives += 1,
            }
        }
        let component = result.component.as_ref().map(|c| c.as_str().to_owned());
        let component_right = component == labelled.component;
        evaluation.components_correct += usize::from(component_right);
        evaluation.languages_correct += usize::from(result.lang == labelled.lang);
        let miss = || Miss {
            text: labelled.text.clone(),
            expected: labelled.intent,
            predicted: result.intent,
            confidence: result.confidence,
            expected_component: labelled.component.clone(),
            predicted_component: component.clone(),
        };
        if result.intent != labelled.intent {
            evaluation.misclassified.push(miss());
        } else if !component_right {
            evaluation.wrong_components.push(miss());
        }
    }
    evaluation
}

impl Evaluation {
    /// The confusion counts of `intent`.
    pub fn counts(&self, intent: Intent) -> Counts {
        self.counts[intent.index()]
    }

    /// Of the mentions classified as `intent`, the share labelled so; 1 when none were.
    pub fn precision(&self, intent: Intent) -> f64 {
        let c = self.counts(intent);
        ratio(c.true_positives, c.true_positives + c.false_positives)
    }

    /// Of the mentions labelled `intent`, the share classified so; 1 when none are.
    pub fn recall(&self, intent: Intent) -> f64 {
        let c = self.counts(intent);
        ratio(c.true_positives, c.true_positives + c.false_negatives)
    }

    /// The harmonic mean of precision and recall.
    pub fn f1(&self, intent: Intent) -> f64 {
        let (p, r) = (self.precision(intent), self.recall(intent));
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    /// The share of mentions whose intent was right.
    pub fn accuracy(&self) -> f64 {
        ratio(self.total - self.misclassified.len(), self.total)
    }

    /// The share of mentions whose component was right (no component counts as one).
    pub fn component_accuracy(&self) -> f64 {
        ratio(self.components_correct, self.total)
    }

    /// The share of mentions whose language was right.
    pub fn language_accuracy(&self) -> f64 {
        ratio(self.languages_correct, self.total)
    }
}

/// `part / whole`, or 1 for an empty whole (nothing to get wrong).
fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<14} {:>7} {:>9} {:>7} {:>6}",
            "intent", "support", "precision", "recall", "F1"
        )?;
        for intent in Intent::ALL {
            writeln!(
                f,
                "{:<14} {:>7} {:>9.3} {:>7.3} {:>6.3}",
                intent.as_str(),
                self.counts(intent).support(),
                self.precision(intent),
                self.recall(intent),
                self.f1(intent)
            )?;
        }
        writeln!(
            f,
            "intent accuracy:    {:.3} ({}/{})",
            self.accuracy(),
            self.total - self.misclassified.len(),
            self.total
        )?;
        writeln!(
            f,
            "component accuracy: {:.3} ({}/{})",
            self.component_accuracy(),
            self.components_correct,
            self.total
        )?;
        // The table ends its last line, like every line, so callers can `print!` it.
        writeln!(
            f,
            "language accuracy:  {:.3} ({}/{})",
            self.language_accuracy(),
            self.languages_correct,
            self.total
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    const LABELLED: &str = include_str!("../../data/labelled-mentions.jsonl");
    const COMPONENTS: &str = include_str!("../../data/labelled-components.toml");

    fn classifier() -> Classifier {
        let config = Config::parse(COMPONENTS).unwrap_or_else(|e| panic!("{e}"));
        Classifier::new(&config.components)
    }

    #[test]
    fn the_labelled_set_meets_the_outage_report_targets() {
        let set = parse_labelled(LABELLED).unwrap();
        assert_eq!(set.len(), 392);
        let evaluation = evaluate(&classifier(), &set);
        print!("{evaluation}");
        println!("\nmisclassified:");
        for miss in &evaluation.misclassified {
            println!(
                "  {} -> {} ({:.2}): {}",
                miss.expected, miss.predicted, miss.confidence, miss.text
            );
        }
        println!("\nright intent, wrong component:");
        for miss in &evaluation.wrong_components {
            println!(
                "  {:?} -> {:?}: {}",
                miss.expected_component, miss.predicted_component, miss.text
            );
        }
        let precision = evaluation.precision(Intent::OutageReport);
        let recall = evaluation.recall(Intent::OutageReport);
        assert!(precision >= 0.95, "outage_report precision {precision:.3}");
        assert!(recall >= 0.90, "outage_report recall {recall:.3}");
    }

    #[test]
    fn a_malformed_line_is_reported_with_its_number() {
        let jsonl = concat!(
            r#"{"text": "is acme down?", "lang": "en", "intent": "outage_report", "component": null}"#,
            "\n\n",
            r#"{"text": "thanks acme", "lang": "en", "intent": "praise"}"#,
            "\n",
            r#"{"text": "oops", "lang": "en", "intent": "outage_report""#,
            "\n"
        );
        let error = parse_labelled(jsonl).unwrap_err();
        assert_eq!(error.line, 4, "{error}");
        assert!(
            error
                .to_string()
                .starts_with("line 4: not a labelled mention"),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_intent_or_key_is_reported_with_its_line() {
        let unknown_intent = r#"{"text": "hi", "lang": "en", "intent": "rant"}"#;
        let error = parse_labelled(unknown_intent).unwrap_err();
        assert_eq!(error.line, 1);
        assert!(error.message.contains("unknown intent \"rant\""), "{error}");

        let typo = concat!(
            r#"{"text": "hi", "lang": "en", "intent": "other"}"#,
            "\n",
            r#"{"text": "hi", "lang": "en", "intnet": "other"}"#
        );
        let error = parse_labelled(typo).unwrap_err();
        assert_eq!(error.line, 2, "{error}");
        assert!(error.message.contains("intnet"), "{error}");
    }

    #[test]
    fn precision_recall_and_the_table_add_up() {
        let set = parse_labelled(concat!(
            r#"{"text": "is acme down? nothing loads", "lang": "en", "intent": "outage_report"}"#,
            "\n",
            r#"{"text": "not down for me", "lang": "en", "intent": "other"}"#,
            "\n",
            r#"{"text": "how do I rotate API keys?", "lang": "en", "intent": "question", "component": "api"}"#,
            "\n",
            r#"{"text": "the API docs are the best", "lang": "en", "intent": "outage_report", "component": "api"}"#,
        ))
        .unwrap();
        let evaluation = evaluate(&classifier(), &set);
        let outage = evaluation.counts(Intent::OutageReport);
        assert_eq!(
            (
                outage.true_positives,
                outage.false_negatives,
                outage.false_positives
            ),
            (1, 1, 0)
        );
        assert_eq!(evaluation.precision(Intent::OutageReport), 1.0);
        assert_eq!(evaluation.recall(Intent::OutageReport), 0.5);
        assert!((evaluation.f1(Intent::OutageReport) - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(
            evaluation.precision(Intent::Complaint),
            1.0,
            "nothing claimed"
        );
        assert_eq!(evaluation.misclassified.len(), 1);
        assert_eq!(evaluation.misclassified[0].predicted, Intent::Praise);
        assert_eq!(evaluation.components_correct, 4);
        let table = evaluation.to_string();
        assert!(table.starts_with("intent"), "{table}");
        assert!(
            table.contains("outage_report        2     1.000   0.500  0.667"),
            "{table}"
        );
        assert!(table.contains("component accuracy: 1.000 (4/4)"), "{table}");
        assert!(table.ends_with(")\n"), "{table}");
    }
}

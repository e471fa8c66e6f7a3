//! Status badges, for READMEs, dashboards and internal wikis: an SVG image in the familiar
//! flat shields.io style ("Public API | operational"), and the same content as shields.io's
//! endpoint-badge JSON, so a team can have shields.io render it in any of its styles.
//!
//! The SVG is drawn here rather than fetched from shields.io: the badge must work when
//! everything else is down, which is when people look at it. Its width follows the text, as
//! shields' does, from the widths of Verdana 11px glyphs (ASCII; other characters are taken
//! to be as wide as `m`, the widest lower-case letter, so text never overflows its box).
//!
//! Colours follow the status, in shields' palette: operational green, degraded yellow,
//! partial outage orange, down red, maintenance blue. Every text is XML-escaped: component
//! and service names come from the configuration and end up inside markup.

use serde_json::{Value, json};

use super::atom::escape_xml;
use super::snapshot::{ComponentView, Overall, Snapshot};
use crate::incident::ComponentStatus;

/// How long shields.io may cache the endpoint JSON. 300 seconds is the least shields accepts
/// for an endpoint badge (a lower value is ignored), so asking for it keeps the badge as fresh
/// as shields allows.
pub const SHIELDS_CACHE_SECONDS: u32 = 300;

/// `/badge.svg`: the service's overall status.
pub fn overall_svg(snapshot: &Snapshot) -> String {
    let look = overall_look(snapshot.overall);
    svg(&overall_label(snapshot), look.message, look.hex)
}

/// `/badge.json`: the service's overall status, as a shields.io endpoint.
pub fn overall_shields(snapshot: &Snapshot) -> Value {
    let look = overall_look(snapshot.overall);
    shields(&overall_label(snapshot), look)
}

/// `/badge/{component}.svg`: one component's status.
pub fn component_svg(component: &ComponentView) -> String {
    let look = component_look(component.status);
    svg(&component.name, look.message, look.hex)
}

/// `/badge/{component}.json`: one component's status, as a shields.io endpoint.
pub fn component_shields(component: &ComponentView) -> Value {
    shields(&component.name, component_look(component.status))
}

/// What a status looks like on a badge: its word and colour, as shields names it and in hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Look {
    message: &'static str,
    color: &'static str,
    hex: &'static str,
}

const GREEN: (&str, &str) = ("brightgreen", "#4c1");
const YELLOW: (&str, &str) = ("yellow", "#dfb317");
const ORANGE: (&str, &str) = ("orange", "#fe7d37");
const RED: (&str, &str) = ("red", "#e05d44");
const BLUE: (&str, &str) = ("blue", "#007ec6");

fn look(message: &'static str, (color, hex): (&'static str, &'static str)) -> Look {
    Look {
        message,
        color,
        hex,
    }
}

fn component_look(status: ComponentStatus) -> Look {
    match status {
        ComponentStatus::Operational => look("operational", GREEN),
        ComponentStatus::Degraded => look("degraded", YELLOW),
        ComponentStatus::Down => look("down", RED),
        ComponentStatus::Maintenance => look("maintenance", BLUE),
    }
}

fn overall_look(overall: Overall) -> Look {
    match overall {
        Overall::Operational => look("operational", GREEN),
        Overall::Degraded => look("degraded", YELLOW),
        Overall::PartialOutage => look("partial outage", ORANGE),
        Overall::MajorOutage => look("major outage", RED),
        Overall::Maintenance => look("maintenance", BLUE),
    }
}

/// The overall badge is labelled with the service's name, or "status" without one.
fn overall_label(snapshot: &Snapshot) -> String {
    let name = snapshot.service_name.trim();
    if name.is_empty() {
        "status".to_owned()
    } else {
        name.to_owned()
    }
}

fn shields(label: &str, look: Look) -> Value {
    // Only the keys shields' schema knows: it rejects a response with any other.
    json!({
        "schemaVersion": 1,
        "label": label,
        "message": look.message,
        "color": look.color,
        "cacheSeconds": SHIELDS_CACHE_SECONDS,
    })
}

/// Advance widths of Verdana 11px for ASCII 32 (space) to 126 (`~`), in pixels, as shields
/// measures them (rounded to a tenth).
const VERDANA_11: [f64; 95] = [
    3.9, 4.3, 5.0, 9.0, 7.0, 11.8, 8.0, 3.0, 5.0, 5.0, 7.0, 9.0, 4.0, 5.0, 4.0,
    5.0, // ' '..'/'
    7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 5.0, 5.0, 9.0, 9.0, 9.0,
    6.0, // '0'..'?'
    11.0, 7.5, 7.5, 7.7, 8.5, 7.0, 6.3, 8.5, 8.3, 4.6, 5.0, 7.6, 6.1, 9.3, 8.2,
    8.7, // '@'..'O'
    6.6, 8.7, 7.6, 7.5, 6.8, 8.1, 7.5, 10.9, 7.5, 6.8, 7.5, 5.0, 5.0, 5.0, 9.0,
    7.0, // 'P'..'_'
    7.0, 6.6, 6.9, 5.7, 6.9, 6.6, 3.9, 6.9, 7.0, 3.0, 3.8, 6.5, 3.0, 10.7, 7.0,
    6.7, // '`'..'o'
    6.9, 6.9, 4.7, 5.7, 4.3, 7.0, 6.5, 9.0, 6.5, 6.5, 5.8, 7.0, 5.0, 7.0, 9.0, // 'p'..'~'
];

/// Characters outside the table count as wide as `m`: better a little room to spare than
/// text running out of its box.
const FALLBACK_WIDTH: f64 = 10.7;

/// The width `text` takes in Verdana 11px, in pixels.
fn text_width(text: &str) -> f64 {
    text.chars()
        .filter(|c| !c.is_control())
        .map(|c| match u32::from(c) {
            code @ 32..=126 => VERDANA_11[(code - 32) as usize],
            _ => FALLBACK_WIDTH,
        })
        .sum()
}

/// Horizontal padding on each side of each half's text, as in shields' flat style.
const PADDING: f64 = 5.0;

/// A flat badge: a grey label half and a coloured message half, with the text's shadow,
/// a faint gradient and rounded corners. Text is placed by its centre, and `textLength`
/// holds it to the measured width so that a substitute font never overflows.
fn svg(label: &str, message: &str, hex: &str) -> String {
    let label_text = text_width(label);
    let message_text = text_width(message);
    let label_width = (label_text + 2.0 * PADDING).round();
    let message_width = (message_text + 2.0 * PADDING).round();
    let width = label_width + message_width;
    let label_x = label_width / 2.0;
    let message_x = label_width + message_width / 2.0;
    let title = escape_xml(&format!("{label}: {message}"));
    let label = escape_xml(label);
    let message = escape_xml(message);
    format!(
        concat!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" aria-label="{title}">"##,
            r##"<title>{title}</title>"##,
            r##"<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>"##,
            r##"<clipPath id="r"><rect width="{width}" height="20" rx="3" fill="#fff"/></clipPath>"##,
            r##"<g clip-path="url(#r)"><rect width="{label_width}" height="20" fill="#555"/><rect x="{label_width}" width="{message_width}" height="20" fill="{hex}"/><rect width="{width}" height="20" fill="url(#s)"/></g>"##,
            r##"<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="11">"##,
            r##"<text aria-hidden="true" x="{label_x:.1}" y="15" fill="#010101" fill-opacity=".3" textLength="{label_text:.1}">{label}</text>"##,
            r##"<text x="{label_x:.1}" y="14" textLength="{label_text:.1}">{label}</text>"##,
            r##"<text aria-hidden="true" x="{message_x:.1}" y="15" fill="#010101" fill-opacity=".3" textLength="{message_text:.1}">{message}</text>"##,
            r##"<text x="{message_x:.1}" y="14" textLength="{message_text:.1}">{message}</text>"##,
            r##"</g></svg>"##,
        ),
        width = width,
        title = title,
        label_width = label_width,
        message_width = message_width,
        hex = hex,
        label_x = label_x,
        message_x = message_x,
        label_text = label_text,
        message_text = message_text,
        label = label,
        message = message,
    )
}

#[cfg(test)]
mod tests {
    use super::super::api_v1::example;
    use super::super::atom::xml::{Element, parse};
    use super::*;

    fn badge(label: &str, status: ComponentStatus) -> String {
        let mut component = example::snapshot().components[0].clone();
        component.name = label.into();
        component.status = status;
        component_svg(&component)
    }

    fn svg_of(document: &str) -> Element {
        parse(document).unwrap_or_else(|e| panic!("not well-formed: {e}\n{document}"))
    }

    fn width(root: &Element) -> f64 {
        root.attribute("width").unwrap().parse().unwrap()
    }

    /// The fill of the message half: the second rectangle of the clipped group.
    fn message_fill(root: &Element) -> String {
        let group = root.all("g").next().unwrap();
        let rects: Vec<&Element> = group.all("rect").collect();
        rects[1].attribute("fill").unwrap().to_owned()
    }

    #[test]
    fn a_badge_is_an_accessible_svg_with_label_and_status() {
        let root = svg_of(&badge("Public API", ComponentStatus::Operational));
        assert_eq!(root.name, "svg");
        assert_eq!(root.attribute("xmlns"), Some("http://www.w3.org/2000/svg"));
        assert_eq!(root.attribute("role"), Some("img"));
        assert_eq!(
            root.attribute("aria-label"),
            Some("Public API: operational")
        );
        assert_eq!(root.one("title").text, "Public API: operational");
        assert_eq!(root.attribute("height"), Some("20"));
        let texts: Vec<&str> = root
            .all("g")
            .nth(1)
            .unwrap()
            .all("text")
            .map(|t| t.text.as_str())
            .collect();
        assert_eq!(
            texts,
            ["Public API", "Public API", "operational", "operational"]
        );
        // The two halves fill the badge exactly.
        let group = root.all("g").next().unwrap();
        let halves: f64 = group
            .all("rect")
            .take(2)
            .map(|r| r.attribute("width").unwrap().parse::<f64>().unwrap())
            .sum();
        assert_eq!(halves, width(&root));
    }

    #[test]
    fn the_colour_follows_the_status() {
        for (status, fill, word) in [
            (ComponentStatus::Operational, "#4c1", "operational"),
            (ComponentStatus::Degraded, "#dfb317", "degraded"),
            (ComponentStatus::Down, "#e05d44", "down"),
            (ComponentStatus::Maintenance, "#007ec6", "maintenance"),
        ] {
            let root = svg_of(&badge("API", status));
            assert_eq!(message_fill(&root), fill, "{status:?}");
            assert_eq!(root.one("title").text, format!("API: {word}"));
        }
        let mut snapshot = example::snapshot();
        for (overall, fill, color, word) in [
            (Overall::Operational, "#4c1", "brightgreen", "operational"),
            (Overall::Degraded, "#dfb317", "yellow", "degraded"),
            (
                Overall::PartialOutage,
                "#fe7d37",
                "orange",
                "partial outage",
            ),
            (Overall::MajorOutage, "#e05d44", "red", "major outage"),
            (Overall::Maintenance, "#007ec6", "blue", "maintenance"),
        ] {
            snapshot.overall = overall;
            let root = svg_of(&overall_svg(&snapshot));
            assert_eq!(message_fill(&root), fill, "{overall:?}");
            assert_eq!(root.one("title").text, format!("Acme Cloud: {word}"));
            let json = overall_shields(&snapshot);
            assert_eq!(json["color"], color);
            assert_eq!(json["message"], word);
        }
    }

    #[test]
    fn the_width_grows_with_the_text() {
        let short = width(&svg_of(&badge("API", ComponentStatus::Down)));
        let long = width(&svg_of(&badge("Public API gateway", ComponentStatus::Down)));
        let wider_status = width(&svg_of(&badge("API", ComponentStatus::Maintenance)));
        assert!(long > short + 60.0, "{short} {long}");
        assert!(wider_status > short, "{short} {wider_status}");
        // Narrow and wide letters are told apart, and unknown characters are not zero-width.
        assert!(text_width("WWW") > text_width("iii") * 2.0);
        assert_eq!(text_width("Ω"), FALLBACK_WIDTH);
        assert!(text_width("日本語") >= 3.0 * text_width("m") - 0.01);
        // "passing", as in shields' own "build | passing": about 42 px of text.
        let passing = text_width("passing");
        assert!((41.0..43.0).contains(&passing), "{passing}");
    }

    #[test]
    fn hostile_names_are_escaped() {
        let hostile = "<script>alert(\"x\")</script> & 'co' \u{7}";
        let document = badge(hostile, ComponentStatus::Down);
        assert!(!document.contains("<script>"));
        let root = svg_of(&document);
        let clean = "<script>alert(\"x\")</script> & 'co' ";
        assert_eq!(root.one("title").text, format!("{clean}: down"));
        assert_eq!(
            root.attribute("aria-label"),
            Some(format!("{clean}: down").as_str())
        );
        assert!(
            root.all("g")
                .nth(1)
                .unwrap()
                .all("text")
                .any(|t| t.text == clean)
        );
    }

    #[test]
    fn the_overall_badge_is_labelled_with_the_service_or_status() {
        let mut snapshot = example::snapshot();
        assert_eq!(
            svg_of(&overall_svg(&snapshot)).one("title").text,
            "Acme Cloud: partial outage"
        );
        snapshot.service_name = "  ".into();
        assert_eq!(overall_shields(&snapshot)["label"], "status");
        assert_eq!(
            svg_of(&overall_svg(&snapshot)).one("title").text,
            "status: partial outage"
        );
    }

    #[test]
    fn the_shields_endpoint_has_exactly_shields_fields() {
        let snapshot = example::snapshot();
        let json = component_shields(&snapshot.components[0]);
        let mut keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["cacheSeconds", "color", "label", "message", "schemaVersion"]
        );
        assert_eq!(json["schemaVersion"], 1);
        assert_eq!(json["label"], "Public API");
        assert_eq!(json["message"], "down");
        assert_eq!(json["color"], "red");
        assert!(json["cacheSeconds"].as_u64().unwrap() >= 300);
        // Shields refuses an empty message.
        for component in &snapshot.components {
            assert!(
                !component_shields(component)["message"]
                    .as_str()
                    .unwrap()
                    .is_empty()
            );
        }
    }
}

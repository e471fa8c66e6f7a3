//! The Atom 1.0 feed (RFC 4287) of incidents, at `/feed.atom`: feed readers, chat tools'
//! RSS/Atom subscriptions and e-mail digests follow a vendor's incidents with no account and
//! no integration, and without polling the HTML page.
//!
//! One entry per incident in the snapshot (open and recently resolved), the most recently
//! updated first, so a reader sees an incident again when its timeline grows or it resolves.
//! An entry's id never changes (a `tag:` URI from the status page's host and the incident's
//! id), so readers update the entry instead of showing a new one. Its content is the public
//! timeline as escaped HTML.
//!
//! Everything written is XML-escaped and stripped of the characters XML 1.0 cannot carry:
//! titles and messages are public text, and one stray `<` or control character would make
//! every reader reject the whole feed.

use chrono::{DateTime, SecondsFormat, Utc};

use super::snapshot::{IncidentView, Snapshot};
use crate::incident::IncidentPhase;

/// `/feed.atom`: the feed as an XML document.
pub fn feed(snapshot: &Snapshot) -> String {
    let mut incidents: Vec<&IncidentView> = snapshot.incidents().collect();
    incidents.sort_by(|a, b| {
        b.updated_at
            .cmp(&a.updated_at)
            .then_with(|| b.id.cmp(&a.id))
    });
    let updated = incidents
        .first()
        .map_or(snapshot.generated_at, |i| i.updated_at);
    let name = escape_xml(&snapshot.service_name);
    let alternate = escape_xml(&snapshot.status_url);
    let mut xml = String::with_capacity(1024 + 1024 * incidents.len());
    xml.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    xml.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\n");
    push_element(&mut xml, 1, "id", &snapshot.status_url);
    push_element(
        &mut xml,
        1,
        "title",
        &format!("{} status", snapshot.service_name),
    );
    push_element(
        &mut xml,
        1,
        "subtitle",
        &format!("Incidents and their updates for {}", snapshot.service_name),
    );
    push_element(&mut xml, 1, "updated", &atom_time(updated));
    xml.push_str(&format!(
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n",
        escape_xml(&site_url(&snapshot.status_url, "feed.atom"))
    ));
    xml.push_str(&format!(
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{alternate}\"/>\n"
    ));
    xml.push_str(&format!(
        "  <author>\n    <name>{name}</name>\n    <uri>{alternate}</uri>\n  </author>\n"
    ));
    for incident in incidents {
        push_entry(&mut xml, snapshot, incident);
    }
    xml.push_str("</feed>\n");
    xml
}

fn push_entry(xml: &mut String, snapshot: &Snapshot, incident: &IncidentView) {
    let phase = match incident.phase {
        IncidentPhase::Open => "",
        IncidentPhase::Resolved => "[Resolved] ",
    };
    xml.push_str("  <entry>\n");
    push_element(xml, 2, "id", &entry_id(&snapshot.status_url, incident));
    push_element(xml, 2, "title", &format!("{phase}{}", incident.title));
    push_element(xml, 2, "updated", &atom_time(incident.updated_at));
    push_element(xml, 2, "published", &atom_time(incident.opened_at));
    xml.push_str(&format!(
        "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
        escape_xml(&incident_url(&snapshot.status_url, &incident.id))
    ));
    xml.push_str(&format!(
        "    <category term=\"{}\"/>\n",
        escape_xml(&incident.component_name)
    ));
    xml.push_str("    <content type=\"html\">");
    xml.push_str(&escape_xml(&timeline_html(incident)));
    xml.push_str("</content>\n");
    xml.push_str("  </entry>\n");
}

/// The timeline as a small HTML list, oldest first as it happened. Escaped once here as
/// HTML, then once more as XML by the caller: readers unescape the XML and render the HTML.
fn timeline_html(incident: &IncidentView) -> String {
    let mut html = format!(
        "<p>{}: {}.</p>",
        escape_xml(&incident.component_name),
        match incident.phase {
            IncidentPhase::Open => "ongoing",
            IncidentPhase::Resolved => "resolved",
        }
    );
    if incident.updates.is_empty() {
        return html;
    }
    html.push_str("<ul>");
    for update in &incident.updates {
        html.push_str(&format!(
            "<li><time datetime=\"{at}\">{shown}</time> {status}: {message}</li>",
            at = atom_time(update.at),
            shown = update.at.format("%Y-%m-%d %H:%M UTC"),
            status = if update.resolves {
                "Resolved"
            } else {
                "Investigating"
            },
            message = escape_xml(&update.message),
        ));
    }
    html.push_str("</ul>");
    html
}

/// `<name>text</name>` on its own line, `depth` levels in, with the text escaped.
fn push_element(xml: &mut String, depth: usize, name: &str, text: &str) {
    xml.push_str(&"  ".repeat(depth));
    xml.push_str(&format!("<{name}>{}</{name}>\n", escape_xml(text)));
}

/// An Atom date: RFC 3339, UTC.
fn atom_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The entry's permanent id: `tag:{host},{opening date}:incident:{id}` (RFC 4151), or the
/// incident's address on the page when the status URL has no host to mint a tag from. The
/// opening date is part of the incident and never changes, as a tag's date must not.
fn entry_id(status_url: &str, incident: &IncidentView) -> String {
    match reqwest::Url::parse(status_url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
    {
        Some(host) => format!(
            "tag:{host},{}:incident:{}",
            incident.opened_at.format("%Y-%m-%d"),
            incident.id
        ),
        None => incident_url(status_url, &incident.id),
    }
}

/// `path` under the status page's address, with exactly one slash between them.
fn site_url(status_url: &str, path: &str) -> String {
    format!(
        "{}/{}",
        status_url.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Where an incident is shown on the status page: its anchor on the page.
pub(crate) fn incident_url(status_url: &str, id: &str) -> String {
    let page = status_url.split('#').next().unwrap_or(status_url);
    format!("{page}#incident-{id}")
}

/// `text` made safe as XML character data or as an attribute value (either quote): the five
/// special characters become references, and characters XML 1.0 cannot carry (control
/// characters other than tab, newline and carriage return, and the non-characters U+FFFE and
/// U+FFFF) are dropped. C1 controls are dropped as well: they are never meant in public text.
pub(crate) fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            '\u{FFFE}' | '\u{FFFF}' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A small XML tree read with a real parser, for the tests of the feed and the badges.
#[cfg(test)]
pub(super) mod xml {
    use quick_xml::XmlVersion;
    use quick_xml::events::Event;
    use quick_xml::reader::Reader;

    /// An element: its name, attributes (values unescaped), text (unescaped) and children.
    #[derive(Debug, Default)]
    pub struct Element {
        pub name: String,
        pub attributes: Vec<(String, String)>,
        pub text: String,
        pub children: Vec<Element>,
    }

    impl Element {
        /// The value of attribute `name`.
        pub fn attribute(&self, name: &str) -> Option<&str> {
            self.attributes
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        }

        /// The children named `name`.
        pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
            self.children.iter().filter(move |c| c.name == name)
        }

        /// The one child named `name`; panics unless there is exactly one.
        pub fn one(&self, name: &str) -> &Element {
            let found: Vec<&Element> = self.children.iter().filter(|c| c.name == name).collect();
            assert_eq!(
                found.len(),
                1,
                "<{}> has {} <{name}>",
                self.name,
                found.len()
            );
            found[0]
        }
    }

    /// Whether XML 1.0 allows `c` in a document (its `Char` production).
    fn allowed(c: char) -> bool {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
    }

    /// Parses `document` into its root element; `Err` for anything not well-formed.
    pub fn parse(document: &str) -> Result<Element, String> {
        if let Some(bad) = document.chars().find(|&c| !allowed(c)) {
            return Err(format!("U+{:04X} is not allowed in XML", u32::from(bad)));
        }
        let mut reader = Reader::from_str(document);
        let mut stack: Vec<Element> = vec![];
        let mut root = None;
        let start = |e: &quick_xml::events::BytesStart<'_>| -> Result<Element, String> {
            let mut element = Element {
                name: e.name().as_ref().to_owned(),
                ..Element::default()
            };
            for attribute in e.attributes() {
                let attribute = attribute.map_err(|e| e.to_string())?;
                let value = attribute
                    .normalized_value(XmlVersion::Implicit1_0)
                    .map_err(|e| e.to_string())?;
                element
                    .attributes
                    .push((attribute.key.as_ref().to_owned(), value.into_owned()));
            }
            Ok(element)
        };
        loop {
            let event = reader.read_event().map_err(|e| e.to_string())?;
            let finished = match event {
                Event::Start(e) => {
                    stack.push(start(&e)?);
                    None
                }
                Event::Empty(e) => Some(start(&e)?),
                Event::End(_) => Some(stack.pop().ok_or("an end tag closes nothing")?),
                Event::Text(t) => {
                    match stack.last_mut() {
                        Some(parent) => parent.text.push_str(&t.xml10_content()),
                        None if t.xml10_content().trim().is_empty() => {}
                        None => return Err("text outside the root element".into()),
                    }
                    None
                }
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                        Some(c) => c.to_string(),
                        None => quick_xml::escape::resolve_predefined_entity(&r)
                            .ok_or_else(|| format!("unknown entity &{};", &*r))?
                            .to_owned(),
                    };
                    stack
                        .last_mut()
                        .ok_or("a reference outside the root element")?
                        .text
                        .push_str(&resolved);
                    None
                }
                Event::CData(_) | Event::DocType(_) | Event::PI(_) => {
                    return Err("unexpected markup".into());
                }
                Event::Decl(_) | Event::Comment(_) => None,
                Event::Eof => break,
            };
            if let Some(element) = finished {
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None if root.is_none() => root = Some(element),
                    None => return Err("more than one root element".into()),
                }
            }
        }
        if !stack.is_empty() {
            return Err("unclosed elements".into());
        }
        root.ok_or_else(|| "no root element".into())
    }
}

#[cfg(test)]
mod tests {
    use super::super::api_v1::example;
    use super::xml::{Element, parse};
    use super::*;

    fn feed_of(snapshot: &Snapshot) -> Element {
        let document = feed(snapshot);
        parse(&document).unwrap_or_else(|e| panic!("not well-formed: {e}\n{document}"))
    }

    fn link<'a>(element: &'a Element, rel: &str) -> &'a str {
        element
            .all("link")
            .find(|l| l.attribute("rel") == Some(rel))
            .and_then(|l| l.attribute("href"))
            .unwrap_or_else(|| panic!("no <link rel=\"{rel}\"> in <{}>", element.name))
    }

    #[test]
    fn the_feed_is_well_formed_atom_with_every_required_element() {
        let root = feed_of(&example::snapshot());
        assert_eq!(root.name, "feed");
        assert_eq!(root.attribute("xmlns"), Some("http://www.w3.org/2005/Atom"));
        assert_eq!(root.one("id").text, "https://status.acme.example/");
        assert_eq!(root.one("title").text, "Acme Cloud status");
        assert_eq!(root.one("author").one("name").text, "Acme Cloud");
        assert_eq!(link(&root, "self"), "https://status.acme.example/feed.atom");
        assert_eq!(link(&root, "alternate"), "https://status.acme.example/");
        // The latest entry's update: the API incident's at 10:20.
        assert_eq!(root.one("updated").text, "2026-11-23T10:20:00Z");

        let entries: Vec<&Element> = root.all("entry").collect();
        assert_eq!(entries.len(), 3);
        for entry in &entries {
            for name in ["id", "title", "updated", "published", "content"] {
                assert!(!entry.one(name).text.is_empty(), "empty <{name}>");
            }
            assert!(link(entry, "alternate").starts_with("https://status.acme.example/#incident-"));
            assert_eq!(entry.one("content").attribute("type"), Some("html"));
            for time in ["updated", "published"] {
                DateTime::parse_from_rfc3339(&entry.one(time).text).unwrap();
            }
        }
    }

    #[test]
    fn entries_are_the_most_recently_updated_first_with_stable_ids() {
        let root = feed_of(&example::snapshot());
        let ids: Vec<&str> = root
            .all("entry")
            .map(|e| e.one("id").text.as_str())
            .collect();
        assert_eq!(
            ids,
            [
                "tag:status.acme.example,2026-11-23:incident:20261123-100300-api",
                "tag:status.acme.example,2026-11-23:incident:20261123-101000-svc",
                "tag:status.acme.example,2026-11-21:incident:20261121-080000-dashboard",
            ]
        );
        let resolved = root.all("entry").nth(2).unwrap();
        assert_eq!(resolved.one("title").text, "[Resolved] Dashboard is slow");
        assert_eq!(resolved.one("published").text, "2026-11-21T08:00:00Z");
        assert_eq!(resolved.one("updated").text, "2026-11-21T08:12:00Z");
        assert_eq!(
            resolved.one("category").attribute("term"),
            Some("Dashboard")
        );
        // The content is HTML once the XML is read: the timeline, oldest first.
        let html = &resolved.one("content").text;
        assert!(
            html.starts_with("<p>Dashboard: resolved.</p><ul><li>"),
            "{html}"
        );
        let slow = html
            .find("Investigating: Dashboard is responding slowly")
            .unwrap();
        let fixed = html.find("Resolved: Resolved after 12 min.").unwrap();
        assert!(slow < fixed, "{html}");
    }

    #[test]
    fn an_empty_feed_is_as_recent_as_the_snapshot() {
        let mut snapshot = example::snapshot();
        snapshot.open_incidents.clear();
        snapshot.resolved_incidents.clear();
        let root = feed_of(&snapshot);
        assert_eq!(root.all("entry").count(), 0);
        assert_eq!(root.one("updated").text, "2026-11-23T10:30:00Z");
    }

    #[test]
    fn the_self_link_has_one_slash_whatever_the_status_url() {
        for (status_url, expected) in [
            (
                "https://status.acme.example",
                "https://status.acme.example/feed.atom",
            ),
            (
                "https://status.acme.example/",
                "https://status.acme.example/feed.atom",
            ),
            (
                "https://acme.example/status/",
                "https://acme.example/status/feed.atom",
            ),
        ] {
            let mut snapshot = example::snapshot();
            snapshot.status_url = status_url.into();
            assert_eq!(link(&feed_of(&snapshot), "self"), expected);
        }
        assert_eq!(
            incident_url("https://acme.example/status/#top", "x"),
            "https://acme.example/status/#incident-x"
        );
    }

    #[test]
    fn hostile_text_is_escaped_and_control_characters_dropped() {
        let hostile = "<script>alert('x')</script> & \"quoted\" ]]> \u{1}\u{7}\u{1b}[31m\u{85}";
        let mut snapshot = example::snapshot();
        snapshot.service_name = hostile.into();
        snapshot.open_incidents[0].title = hostile.into();
        snapshot.open_incidents[0].component_name = hostile.into();
        snapshot.open_incidents[0].updates[0].message = format!("{hostile} <b>bold</b>");
        let document = feed(&snapshot);
        assert!(!document.contains("<script>"));
        let root = parse(&document).unwrap_or_else(|e| panic!("{e}\n{document}"));
        let clean = "<script>alert('x')</script> & \"quoted\" ]]> [31m";
        assert_eq!(root.one("author").one("name").text, clean);
        let entry = root
            .all("entry")
            .find(|e| e.one("id").text.ends_with("20261123-101000-svc"))
            .unwrap();
        assert_eq!(entry.one("title").text, clean);
        assert_eq!(entry.one("category").attribute("term"), Some(clean));
        // Inside the HTML content the message is escaped once more: a reader renders it as
        // text, never as markup.
        let html = &entry.one("content").text;
        assert!(
            html.contains(
                "&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; &quot;quoted&quot;"
            ),
            "{html}"
        );
        assert!(html.contains("&lt;b&gt;bold&lt;/b&gt;"), "{html}");
        assert!(
            !html.contains("<script>") && !html.contains("<b>"),
            "{html}"
        );
    }

    #[test]
    fn escaping_covers_the_five_characters_and_keeps_whitespace() {
        assert_eq!(
            escape_xml("a&b<c>d\"e'f"),
            "a&amp;b&lt;c&gt;d&quot;e&apos;f"
        );
        assert_eq!(escape_xml("tab\tline\nreturn\r"), "tab\tline\nreturn\r");
        assert_eq!(
            escape_xml("\u{0}\u{8}\u{b}\u{c}\u{7f}\u{9f}\u{fffe}\u{ffff}ok"),
            "ok"
        );
        assert_eq!(escape_xml("Ünïcödé ✓ 𝄞"), "Ünïcödé ✓ 𝄞");
    }

    #[test]
    fn the_parser_used_by_these_tests_rejects_broken_documents() {
        assert!(parse("<a><b></a>").is_err());
        assert!(parse("<a>&nbsp;</a>").is_err());
        assert!(parse("<a>x & y</a>").is_err());
        assert!(parse("<a x=\"1\" x=\"2\"/>").is_err());
        assert!(parse("<a>\u{1}</a>").is_err());
        assert!(parse("<a/><b/>").is_err());
        assert_eq!(
            parse("<a t=\"&lt;&#38;\">&gt;&#x41;</a>").unwrap().text,
            ">A"
        );
    }

    #[test]
    fn an_address_without_a_host_still_gives_entries_an_id() {
        let mut snapshot = example::snapshot();
        snapshot.status_url = "status".into();
        let root = feed_of(&snapshot);
        let ids: Vec<&str> = root
            .all("entry")
            .map(|e| e.one("id").text.as_str())
            .collect();
        assert!(
            ids.contains(&"status#incident-20261121-080000-dashboard"),
            "{ids:?}"
        );
    }
}

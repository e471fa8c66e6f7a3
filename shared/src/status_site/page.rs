//! The public status page, rendered on the server as one self-contained HTML document.
//!
//! It is what customers open when something seems wrong, often on a phone and often while
//! the vendor's own infrastructure is struggling, so it loads nothing else: no scripts, no
//! fonts, no images, one inline style sheet (the route's Content-Security-Policy forbids the
//! rest anyway). Everything interpolated is escaped, since component names come from
//! configuration and incident wording may quote what customers wrote. Status is always
//! stated in words and text symbols, never by colour alone, and the 90 daily uptime bars
//! each carry a text alternative.

use std::fmt::Write;

use chrono::{DateTime, SecondsFormat, Utc};

use super::snapshot::{
    ComponentView, DayUptime, DayVerdict, IncidentView, MaintenanceView, Overall,
    RECENT_INCIDENT_DAYS, Snapshot, UPTIME_DAYS, UpdateView,
};
use crate::incident::{ComponentStatus, human_duration};

/// The page for `snapshot`.
pub fn render(snapshot: &Snapshot) -> String {
    let service = escape(&snapshot.service_name);
    let mut html = String::with_capacity(64 * 1024);
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str(
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n",
    );
    let _ = writeln!(html, "<title>{service} status</title>");
    let _ = writeln!(
        html,
        "<meta name=\"description\" content=\"Live status, uptime and incidents of {service}.\">"
    );
    let _ = writeln!(
        html,
        "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"{service} incidents\" \
         href=\"/feed.atom\">"
    );
    // An empty icon, or browsers ask for /favicon.ico on every visit and log its 404.
    html.push_str("<link rel=\"icon\" href=\"data:,\">\n");
    let _ = writeln!(html, "<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(
        html,
        "<header class=\"site\"><div class=\"wrap\"><h1>{service} <span>status</span></h1>\
         <a class=\"subscribe\" href=\"/feed.atom\">Subscribe via Atom feed</a></div></header>"
    );
    html.push_str("<main class=\"wrap\">\n");
    banner(&mut html, snapshot);
    open_incidents(&mut html, snapshot);
    maintenance(&mut html, &snapshot.maintenance);
    components(&mut html, snapshot);
    resolved_incidents(&mut html, snapshot);
    html.push_str("</main>\n");
    footer(&mut html, snapshot);
    html.push_str("</body>\n</html>\n");
    html
}

fn banner(html: &mut String, snapshot: &Snapshot) {
    let (class, symbol) = match snapshot.overall {
        Overall::Operational => ("ok", "✓"),
        Overall::Maintenance => ("maintenance", "i"),
        Overall::Degraded => ("degraded", "!"),
        Overall::PartialOutage => ("partial", "!"),
        Overall::MajorOutage => ("down", "✕"),
    };
    let affected: Vec<&ComponentView> = snapshot
        .components
        .iter()
        .filter(|c| c.status != ComponentStatus::Operational)
        .collect();
    let detail = match affected.as_slice() {
        [] => String::new(),
        [one] => format!("{} is {}.", escape(&one.name), one.status.as_str()),
        many => format!(
            "{} of {} components are affected.",
            many.len(),
            snapshot.components.len()
        ),
    };
    let _ = writeln!(
        html,
        "<section class=\"banner b-{class}\" aria-labelledby=\"overall\">\
         <span class=\"symbol\" aria-hidden=\"true\">{symbol}</span>\
         <div><p class=\"overall\" id=\"overall\">{}</p>\
         <p class=\"detail\">{detail}{space}Checked {}</p></div></section>",
        snapshot.overall.description(),
        time(snapshot.generated_at),
        space = if detail.is_empty() { "" } else { " " },
    );
}

fn open_incidents(html: &mut String, snapshot: &Snapshot) {
    html.push_str("<section aria-labelledby=\"h-open\">\n<h2 id=\"h-open\">Open incidents</h2>\n");
    if snapshot.open_incidents.is_empty() {
        html.push_str("<p class=\"empty\">No open incidents right now.</p>\n");
    }
    for incident in &snapshot.open_incidents {
        incident_card(html, incident, true);
    }
    html.push_str("</section>\n");
}

fn resolved_incidents(html: &mut String, snapshot: &Snapshot) {
    let _ = writeln!(
        html,
        "<section aria-labelledby=\"h-resolved\">\n\
         <h2 id=\"h-resolved\">Past incidents <span class=\"aside\">last {RECENT_INCIDENT_DAYS} days</span></h2>"
    );
    if snapshot.resolved_incidents.is_empty() {
        // "No incidents" would contradict an incident still open above.
        let message = if snapshot.open_incidents.is_empty() {
            format!("No incidents in the last {RECENT_INCIDENT_DAYS} days.")
        } else {
            format!("No other incidents in the last {RECENT_INCIDENT_DAYS} days.")
        };
        let _ = writeln!(html, "<p class=\"empty\">{message}</p>");
    }
    for incident in &snapshot.resolved_incidents {
        incident_card(html, incident, false);
    }
    html.push_str("</section>\n");
}

/// One incident; an open one shows its whole timeline, a resolved one folds it away so the
/// page stays short during a quiet week.
fn incident_card(html: &mut String, incident: &IncidentView, open: bool) {
    let class = if open {
        status_class(incident.status)
    } else {
        "resolved"
    };
    let _ = writeln!(
        html,
        "<article class=\"incident i-{class}\" id=\"incident-{}\" aria-labelledby=\"title-{}\">",
        escape(&incident.id),
        escape(&incident.id),
    );
    let _ = writeln!(
        html,
        "<h3 class=\"incident-title\" id=\"title-{}\">{}</h3>",
        escape(&incident.id),
        escape(&incident.title)
    );
    html.push_str("<p class=\"meta\">");
    if open {
        let _ = write!(
            html,
            "{} <span class=\"sep\" aria-hidden=\"true\">·</span> ",
            status_word(incident.status)
        );
    } else {
        html.push_str(
            "<span class=\"status-word s-operational\"><span class=\"symbol\" \
             aria-hidden=\"true\">✓</span>Resolved</span> \
             <span class=\"sep\" aria-hidden=\"true\">·</span> ",
        );
    }
    let _ = write!(
        html,
        "<span class=\"affects\">Affects {}</span> <span class=\"sep\" aria-hidden=\"true\">·</span> \
         <span>Opened {}</span>",
        escape(&incident.component_name),
        time(incident.opened_at)
    );
    if let Some(resolved_at) = incident.resolved_at {
        let _ = write!(
            html,
            " <span class=\"sep\" aria-hidden=\"true\">·</span> <span>Lasted {}</span>",
            escape(&human_duration(resolved_at - incident.opened_at))
        );
    }
    html.push_str("</p>\n");
    if incident.suspected {
        html.push_str(
            "<p class=\"suspected\"><strong>Under investigation:</strong> opened from \
             customer reports; our monitoring has not confirmed it yet.</p>\n",
        );
    }
    if incident.updates.is_empty() {
        html.push_str("</article>\n");
        return;
    }
    if open {
        timeline(html, &incident.updates);
    } else {
        let count = incident.updates.len();
        let _ = writeln!(
            html,
            "<details><summary>Timeline ({count} update{})</summary>",
            if count == 1 { "" } else { "s" }
        );
        timeline(html, &incident.updates);
        html.push_str("</details>\n");
    }
    html.push_str("</article>\n");
}

/// Newest first: during an outage the latest word is what people come for.
fn timeline(html: &mut String, updates: &[UpdateView]) {
    html.push_str("<ol class=\"timeline\" reversed>\n");
    for update in updates.iter().rev() {
        let label = if update.resolves {
            "<span class=\"status-word s-operational\"><span class=\"symbol\" \
             aria-hidden=\"true\">✓</span>Resolved</span>"
                .to_owned()
        } else {
            status_word(update.status)
        };
        let _ = writeln!(
            html,
            "<li><p class=\"update-head\">{label} {}</p><p class=\"message\">{}</p></li>",
            time(update.at),
            escape(&update.message)
        );
    }
    html.push_str("</ol>\n");
}

fn maintenance(html: &mut String, windows: &[MaintenanceView]) {
    html.push_str(
        "<section aria-labelledby=\"h-maintenance\">\n\
         <h2 id=\"h-maintenance\">Scheduled maintenance</h2>\n",
    );
    if windows.is_empty() {
        html.push_str("<p class=\"empty\">No maintenance planned in the next 7 days.</p>\n");
    }
    for window in windows {
        let (class, word) = if window.active {
            ("active", "In progress")
        } else {
            ("upcoming", "Scheduled")
        };
        let _ = writeln!(
            html,
            "<article class=\"maintenance m-{class}\"><h3>{}</h3>\
             <p class=\"meta\"><span class=\"status-word s-maintenance\">\
             <span class=\"symbol\" aria-hidden=\"true\">i</span>{word}</span> \
             <span class=\"sep\" aria-hidden=\"true\">·</span> <span>{}</span></p>\
             <p class=\"affects\">Affects {}</p></article>",
            escape(&window.title),
            time_range(window.starts_at, window.ends_at),
            escape(&window.components.join(", ")),
        );
    }
    html.push_str("</section>\n");
}

fn components(html: &mut String, snapshot: &Snapshot) {
    let _ = writeln!(
        html,
        "<section aria-labelledby=\"h-components\">\n\
         <h2 id=\"h-components\">Components <span class=\"aside\">uptime over the last {UPTIME_DAYS} days</span></h2>\n\
         <ul class=\"components\">"
    );
    for (n, component) in snapshot.components.iter().enumerate() {
        let name_id = format!("component-{n}");
        let _ = write!(
            html,
            "<li class=\"component\"><div class=\"component-head\">\
             <h3 class=\"component-name\" id=\"{name_id}\">{}</h3>\
             <p class=\"component-status\">{}",
            escape(&component.name),
            status_word(component.status),
        );
        if component.status != ComponentStatus::Operational
            && let Some(since) = component.since
        {
            let _ = write!(html, " <span class=\"since\">since {}</span>", time(since));
        }
        if let Some(incident) = &component.incident
            && snapshot.open_incidents.iter().any(|i| i.id == *incident)
        {
            let _ = write!(
                html,
                " <a class=\"see\" href=\"#incident-{}\">See incident</a>",
                escape(incident)
            );
        }
        html.push_str("</p></div>\n");
        bars(html, component);
        html.push_str("</li>\n");
    }
    html.push_str("</ul>\n</section>\n");
}

/// The daily bars. Each day is a list item whose visually hidden text says what its colour
/// shows (its `title` repeats it for a mouse), so screen readers and people who cannot tell
/// the colours apart get the same facts.
fn bars(html: &mut String, component: &ComponentView) {
    let _ = writeln!(
        html,
        "<ol class=\"bars\" aria-label=\"{}: daily uptime, last {UPTIME_DAYS} days, oldest first\">",
        escape(&component.name)
    );
    for day in &component.days {
        let label = escape(&day_label(day));
        let _ = writeln!(
            html,
            "<li class=\"day d-{}\" title=\"{label}\"><span class=\"vh\">{label}</span></li>",
            verdict_class(day.verdict())
        );
    }
    html.push_str("</ol>\n");
    let uptime = match component.uptime_percent() {
        Some(percent) => format!("{} uptime", percent_text(percent)),
        None => "No data yet".to_owned(),
    };
    let _ = writeln!(
        html,
        "<p class=\"scale\"><span>{UPTIME_DAYS} days ago</span>\
         <span class=\"uptime\">{uptime}</span><span>Today</span></p>"
    );
}

fn day_label(day: &DayUptime) -> String {
    let date = day.date.format("%-d %b %Y");
    let verdict = day.verdict();
    match day.uptime_percent() {
        Some(percent) if verdict != DayVerdict::NoData => format!(
            "{date}: {}, {} uptime",
            verdict.description(),
            percent_text(percent)
        ),
        _ => format!("{date}: {}", verdict.description()),
    }
}

/// "100%", "99.95%": two decimals, since a day down for fifteen minutes is still 98.96 %,
/// and a rounded "99%" would hide the difference between a good month and a bad one.
/// Rounded down, so that any downtime at all never reads as a perfect 100%.
fn percent_text(percent: f64) -> String {
    let text = format!("{:.2}", (percent * 100.0).floor() / 100.0);
    let text = text.strip_suffix(".00").unwrap_or(&text);
    format!("{text}%")
}

fn footer(html: &mut String, snapshot: &Snapshot) {
    let _ = writeln!(
        html,
        "<footer class=\"site\"><div class=\"wrap\">\
         <p>Generated {}. Times are in UTC.</p>\
         <nav aria-label=\"Machine-readable status\"><ul>\
         <li><a href=\"/feed.atom\">Atom feed</a></li>\
         <li><a href=\"/api/v2/summary.json\">JSON summary</a></li>\
         <li><a href=\"/api/v1/openapi.json\">API reference (OpenAPI)</a></li>\
         </ul></nav></div></footer>",
        time(snapshot.generated_at)
    );
}

/// A status in words with a text symbol, so it reads the same without colour.
fn status_word(status: ComponentStatus) -> String {
    let symbol = match status {
        ComponentStatus::Operational => "✓",
        ComponentStatus::Degraded => "!",
        ComponentStatus::Down => "✕",
        ComponentStatus::Maintenance => "i",
    };
    format!(
        "<span class=\"status-word s-{}\"><span class=\"symbol\" aria-hidden=\"true\">{symbol}</span>{}</span>",
        status_class(status),
        capitalised(status.as_str())
    )
}

fn status_class(status: ComponentStatus) -> &'static str {
    match status {
        ComponentStatus::Operational => "operational",
        ComponentStatus::Degraded => "degraded",
        ComponentStatus::Down => "down",
        ComponentStatus::Maintenance => "maintenance",
    }
}

fn verdict_class(verdict: DayVerdict) -> &'static str {
    match verdict {
        DayVerdict::NoData => "none",
        DayVerdict::Operational => "ok",
        DayVerdict::Degraded => "degraded",
        DayVerdict::PartialOutage => "partial",
        DayVerdict::MajorOutage => "major",
        DayVerdict::Maintenance => "maintenance",
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// An instant for people ("23 Nov 2026, 10:03 UTC") with its machine-readable form.
fn time(at: DateTime<Utc>) -> String {
    format!(
        "<time datetime=\"{}\">{}</time>",
        at.to_rfc3339_opts(SecondsFormat::Secs, true),
        at.format("%-d %b %Y, %H:%M UTC")
    )
}

/// A span of time, its end without the date when it is the same day ("26 Nov 2026, 02:00 UTC
/// – 04:00 UTC"), which keeps a maintenance window on one line of a phone.
fn time_range(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    if start.date_naive() == end.date_naive() {
        format!(
            "{} – <time datetime=\"{}\">{}</time>",
            time(start),
            end.to_rfc3339_opts(SecondsFormat::Secs, true),
            end.format("%H:%M UTC")
        )
    } else {
        format!("{} – {}", time(start), time(end))
    }
}

/// Text made safe inside HTML elements and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Colours are GitHub Primer's accessible palette: every status colour used for text keeps
/// at least 4.5:1 against the card it sits on, in the light and the dark scheme alike, and
/// white on every banner colour does too.
const STYLE: &str = r#"
:root{--bg:#f6f8fa;--card:#fff;--text:#1f2328;--muted:#59636e;--border:#d0d7de;--link:#0969da;
--ok:#1a7f37;--degraded:#9a6700;--partial:#bc4c00;--down:#cf222e;--maintenance:#0969da;
--bar-ok:#2da44e;--bar-degraded:#d4a72c;--bar-partial:#e16f24;--bar-major:#cf222e;
--bar-maintenance:#218bff;--bar-none:#d0d7de;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#161b22;--text:#e6edf3;
--muted:#9198a1;--border:#30363d;--link:#58a6ff;--ok:#3fb950;--degraded:#d29922;
--partial:#f0883e;--down:#ff7b72;--maintenance:#58a6ff;--bar-ok:#2ea043;
--bar-degraded:#bb8009;--bar-partial:#db6d28;--bar-major:#da3633;--bar-maintenance:#1f6feb;
--bar-none:#3d444d}}
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--text);line-height:1.5;
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","Liberation Sans",Arial,sans-serif}
a{color:var(--link);text-underline-offset:2px}
a:focus-visible,summary:focus-visible{outline:3px solid var(--link);outline-offset:2px;border-radius:4px}
.wrap{max-width:860px;margin:0 auto;padding:0 16px}
header.site{background:var(--card);border-bottom:1px solid var(--border)}
header.site .wrap{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;
gap:4px 16px;padding-top:14px;padding-bottom:14px}
h1{margin:0;font-size:1.375rem;line-height:1.3;overflow-wrap:anywhere}
h1 span{font-weight:400;color:var(--muted)}
.subscribe{display:inline-block;padding:10px 0;font-size:.9375rem}
main.wrap{padding-top:24px;padding-bottom:16px}
section{margin:0 0 32px}
h2{font-size:1.125rem;margin:0 0 12px;display:flex;flex-wrap:wrap;align-items:baseline;gap:0 10px}
h2 .aside{font-size:.875rem;font-weight:400;color:var(--muted)}
h3{margin:0;font-size:1rem;overflow-wrap:anywhere}
p{margin:0}
.banner{display:flex;align-items:center;gap:14px;padding:18px 20px;border-radius:8px;color:#fff}
.banner .symbol{flex:none;display:grid;place-items:center;width:36px;height:36px;border-radius:50%;
background:rgba(255,255,255,.22);font-weight:700;font-size:1.25rem;line-height:1}
.banner .overall{font-size:1.25rem;font-weight:700;line-height:1.3}
.banner .detail{font-size:.9375rem;opacity:1}
.b-ok{background:#1a7f37}.b-degraded{background:#9a6700}.b-partial{background:#bc4c00}
.b-down{background:#cf222e}.b-maintenance{background:#0969da}
.empty{padding:16px 20px;background:var(--card);border:1px solid var(--border);border-radius:8px;
color:var(--muted)}
.incident,.maintenance,.component{background:var(--card);border:1px solid var(--border);border-radius:8px}
.incident,.maintenance{padding:16px 20px;margin:0 0 12px;border-left-width:5px}
.i-down{border-left-color:var(--down)}.i-degraded{border-left-color:var(--degraded)}
.i-maintenance{border-left-color:var(--maintenance)}.i-operational,.i-resolved{border-left-color:var(--ok)}
.maintenance{border-left-color:var(--maintenance)}
.meta{margin-top:4px;font-size:.9375rem;color:var(--muted);display:flex;flex-wrap:wrap;gap:2px 6px;align-items:baseline}
.affects{font-size:.9375rem;color:var(--muted)}
.suspected{margin-top:10px;padding:8px 12px;border-radius:6px;border:1px dashed var(--border);font-size:.9375rem}
.status-word{display:inline-flex;align-items:baseline;gap:6px;font-weight:600;white-space:nowrap;color:var(--c)}
.status-word .symbol{display:inline-grid;place-items:center;align-self:center;width:1.15em;height:1.15em;
border-radius:50%;background:var(--c);color:var(--card);font-size:.8em;font-weight:700;line-height:1}
.s-operational{--c:var(--ok)}.s-degraded{--c:var(--degraded)}.s-down{--c:var(--down)}
.s-maintenance{--c:var(--maintenance)}
.timeline{list-style:none;margin:14px 0 0;padding:0 0 0 16px;border-left:2px solid var(--border)}
.timeline li{position:relative;padding:0 0 12px}
.timeline li:last-child{padding-bottom:0}
.timeline li::before{content:"";position:absolute;left:-22px;top:.55em;width:10px;height:10px;
border-radius:50%;background:var(--card);border:2px solid var(--muted)}
.update-head{display:flex;flex-wrap:wrap;gap:0 8px;align-items:baseline;font-size:.9375rem;color:var(--muted)}
.message{overflow-wrap:anywhere}
details{margin-top:8px}
summary{cursor:pointer;color:var(--link);padding:8px 0;min-height:44px;display:flex;align-items:center;gap:6px;
list-style:none}
summary::-webkit-details-marker{display:none}
summary::before{content:"▸";display:inline-block;width:1em;text-align:center}
details[open]>summary::before{content:"▾"}
.components{list-style:none;margin:0;padding:0;display:grid;gap:12px}
.component{padding:16px 20px}
.component-head{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:baseline;gap:2px 12px}
.component-status{display:flex;flex-wrap:wrap;gap:0 8px;align-items:baseline;font-size:.9375rem}
.since{color:var(--muted)}
.see{display:inline-block;padding:4px 0}
.bars{list-style:none;margin:12px 0 6px;padding:0;display:flex;gap:2px;height:34px}
.day{flex:1 1 0;min-width:0;border-radius:2px;background:var(--bar-none)}
.day:hover{opacity:.7}
.d-ok{background:var(--bar-ok)}.d-degraded{background:var(--bar-degraded)}
.d-partial{background:var(--bar-partial)}.d-major{background:var(--bar-major)}
.d-maintenance{background:var(--bar-maintenance)}
.scale{display:flex;justify-content:space-between;gap:8px;font-size:.8125rem;color:var(--muted)}
.scale .uptime{color:var(--text);font-weight:600}
.vh{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);
clip-path:inset(50%);white-space:nowrap;border:0}
footer.site{border-top:1px solid var(--border);background:var(--card);font-size:.875rem;color:var(--muted)}
footer.site .wrap{padding-top:16px;padding-bottom:24px;display:grid;gap:8px}
footer.site ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:0 20px}
footer.site a{display:inline-block;padding:8px 0}
@media (max-width:480px){.wrap{padding:0 12px}.banner{padding:16px}.incident,.maintenance,.component,.empty{padding:14px}
.bars{gap:1px;height:30px}.day{border-radius:1px}h1{font-size:1.25rem}}
"#;

#[cfg(test)]
mod tests {
    use chrono::{Duration, NaiveDate, TimeZone};

    use super::*;
    use crate::config::ComponentId;
    use crate::incident::IncidentPhase;
    use crate::status_site::snapshot::DayUptime;

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, hour, minute, 0).unwrap()
    }

    fn days(bad_day: Option<usize>) -> Vec<DayUptime> {
        let first = NaiveDate::from_ymd_opt(2026, 8, 26).unwrap();
        (0..UPTIME_DAYS)
            .map(|n| DayUptime {
                date: first + Duration::days(n as i64),
                total: if n < 5 { 0 } else { 1440 },
                down: if Some(n) == bad_day { 288 } else { 0 },
                degraded: 0,
                maintenance: 0,
            })
            .collect()
    }

    fn component(id: &str, name: &str, status: ComponentStatus) -> ComponentView {
        ComponentView {
            id: ComponentId::parse(id).unwrap(),
            name: name.to_owned(),
            status,
            since: Some(at(10, 3)),
            incident: None,
            days: days(None),
        }
    }

    fn quiet() -> Snapshot {
        Snapshot {
            service_name: "Acme Cloud".to_owned(),
            status_url: "https://status.acme-cloud.example/".to_owned(),
            generated_at: at(10, 30),
            overall: Overall::Operational,
            components: vec![
                component("api", "Public API", ComponentStatus::Operational),
                component("console", "Web Console", ComponentStatus::Operational),
            ],
            open_incidents: Vec::new(),
            resolved_incidents: Vec::new(),
            maintenance: Vec::new(),
        }
    }

    fn stormy() -> Snapshot {
        let mut snapshot = quiet();
        snapshot.overall = Overall::PartialOutage;
        snapshot.components[0].status = ComponentStatus::Down;
        snapshot.components[0].incident = Some("20261123-100300-api".to_owned());
        snapshot.components[0].days = days(Some(89));
        snapshot.components[1].status = ComponentStatus::Degraded;
        snapshot.components.push(component(
            "evil",
            "<script>alert(1)</script> & \"friends\" 'too'",
            ComponentStatus::Maintenance,
        ));
        snapshot.open_incidents.push(IncidentView {
            id: "20261123-100300-api".to_owned(),
            title: "Public API is down".to_owned(),
            component: Some(ComponentId::parse("api").unwrap()),
            component_name: "Public API".to_owned(),
            phase: IncidentPhase::Open,
            status: ComponentStatus::Down,
            suspected: false,
            opened_at: at(10, 3),
            resolved_at: None,
            updated_at: at(10, 20),
            updates: vec![
                UpdateView {
                    at: at(10, 3),
                    status: ComponentStatus::Degraded,
                    message: "Public API is responding slowly. We are investigating.".to_owned(),
                    resolves: false,
                },
                UpdateView {
                    at: at(10, 20),
                    status: ComponentStatus::Down,
                    message: "Public API is down.".to_owned(),
                    resolves: false,
                },
            ],
        });
        snapshot.open_incidents.push(IncidentView {
            id: "20261123-101000-svc".to_owned(),
            title: "Customers report errors <b>everywhere</b>".to_owned(),
            component: None,
            component_name: "Acme Cloud".to_owned(),
            phase: IncidentPhase::Open,
            status: ComponentStatus::Down,
            suspected: true,
            opened_at: at(10, 10),
            resolved_at: None,
            updated_at: at(10, 10),
            updates: Vec::new(),
        });
        snapshot.resolved_incidents.push(IncidentView {
            id: "20261121-080000-console".to_owned(),
            title: "Web Console is down".to_owned(),
            component: Some(ComponentId::parse("console").unwrap()),
            component_name: "Web Console".to_owned(),
            phase: IncidentPhase::Resolved,
            status: ComponentStatus::Operational,
            suspected: false,
            opened_at: Utc.with_ymd_and_hms(2026, 11, 21, 8, 0, 0).unwrap(),
            resolved_at: Some(Utc.with_ymd_and_hms(2026, 11, 21, 8, 12, 0).unwrap()),
            updated_at: Utc.with_ymd_and_hms(2026, 11, 21, 8, 12, 0).unwrap(),
            updates: vec![UpdateView {
                at: Utc.with_ymd_and_hms(2026, 11, 21, 8, 12, 0).unwrap(),
                status: ComponentStatus::Operational,
                message: "Resolved after 12 min".to_owned(),
                resolves: true,
            }],
        });
        snapshot.maintenance.push(MaintenanceView {
            title: "Managed Databases storage upgrade".to_owned(),
            components: vec!["Public API".to_owned(), "Web Console".to_owned()],
            starts_at: Utc.with_ymd_and_hms(2026, 11, 29, 1, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2026, 11, 29, 3, 30, 0).unwrap(),
            active: false,
        });
        snapshot
    }

    /// The `<li>` bars of the `n`th component's list, in order.
    fn bars_of(html: &str, n: usize) -> Vec<&str> {
        let list = html
            .split("<ol class=\"bars\"")
            .nth(n + 1)
            .expect("a bar list per component");
        let list = &list[..list.find("</ol>").unwrap()];
        list.split("<li ").skip(1).collect()
    }

    #[test]
    fn escape_neutralises_every_markup_character() {
        assert_eq!(
            escape(r#"<a href="x" title='y'>&amp;</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;"
        );
        assert_eq!(escape("Plain text, ünïcode ✓"), "Plain text, ünïcode ✓");
    }

    #[test]
    fn names_and_titles_from_configuration_are_escaped() {
        let html = render(&stormy());
        assert!(!html.contains("<script>alert(1)</script>"));
        assert!(html.contains(
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;friends&quot; &#39;too&#39;"
        ));
        assert!(!html.contains("<b>everywhere</b>"));
        assert!(html.contains("Customers report errors &lt;b&gt;everywhere&lt;/b&gt;"));
        assert!(!html.contains("<script"), "the page runs no script at all");
    }

    #[test]
    fn the_document_is_complete_and_self_contained() {
        let html = render(&stormy());
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(html.contains("<meta charset=\"utf-8\">"));
        assert!(
            html.contains(
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            )
        );
        assert!(html.contains("<title>Acme Cloud status</title>"));
        assert!(html.contains("type=\"application/atom+xml\""));
        assert_eq!(html.matches("<style>").count(), 1);
        for tag in ["<header", "<main", "<footer", "</html>"] {
            assert!(html.contains(tag), "{tag} missing");
        }
        // Nothing is loaded from elsewhere: the status URL is the only absolute address
        // the snapshot holds, and it must not appear as a resource.
        for load in ["src=", "@import", "url(", "http://", "https://"] {
            assert!(!html.contains(load), "{load} found");
        }
        for link in ["/feed.atom", "/api/v2/summary.json", "/api/v1/openapi.json"] {
            assert!(html.contains(&format!("href=\"{link}\"")), "{link} missing");
        }
    }

    #[test]
    fn the_overall_status_and_every_component_are_stated_in_words() {
        let html = render(&stormy());
        assert!(html.contains("<p class=\"overall\" id=\"overall\">Partial outage</p>"));
        assert!(html.contains("class=\"banner b-partial\""));
        for (name, word) in [
            ("Public API", "Down"),
            ("Web Console", "Degraded"),
            (
                "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;friends&quot; &#39;too&#39;",
                "Under maintenance",
            ),
        ] {
            let row = html
                .split("<li class=\"component\">")
                .find(|row| row.contains(&format!(">{name}</h3>")))
                .unwrap_or_else(|| panic!("no row for {name}"));
            let status = &row[row.find("component-status").unwrap()..];
            let status = &status[..status.find("</p>").unwrap()];
            assert!(
                status.contains(&format!("</span>{word}</span>")),
                "{name}: {status}"
            );
        }
        assert!(html.contains("href=\"#incident-20261123-100300-api\""));
    }

    #[test]
    fn every_component_has_ninety_labelled_bars_oldest_first() {
        let snapshot = stormy();
        let html = render(&snapshot);
        for (n, component) in snapshot.components.iter().enumerate() {
            let bars = bars_of(&html, n);
            assert_eq!(bars.len(), UPTIME_DAYS, "{}", component.name);
            for (bar, day) in bars.iter().zip(&component.days) {
                let label = escape(&day_label(day));
                assert!(bar.contains(&format!("title=\"{label}\"")), "{bar}");
                assert!(
                    bar.contains(&format!("<span class=\"vh\">{label}</span>")),
                    "{bar}"
                );
            }
        }
        let api = bars_of(&html, 0);
        assert!(api[0].contains("d-none") && api[0].contains("26 Aug 2026: No data"));
        assert!(
            api[5].contains("d-ok") && api[5].contains("31 Aug 2026: No downtime, 100% uptime")
        );
        assert!(api[89].contains("d-major"));
        assert!(api[89].contains("23 Nov 2026: Major outage, 80% uptime"));
        // 85 counted days of 1440 samples, one fifth of one of them down.
        assert!(html.contains("<span class=\"uptime\">99.76% uptime</span>"));
        assert!(html.contains("<span class=\"uptime\">100% uptime</span>"));
        assert!(html.contains(">90 days ago</span>") && html.contains("<span>Today</span>"));
    }

    #[test]
    fn open_incidents_show_their_timeline_newest_first() {
        let html = render(&stormy());
        let card = html
            .split("<article class=\"incident i-down\" id=\"incident-20261123-100300-api\"")
            .nth(1)
            .expect("the open incident's card");
        let card = &card[..card.find("</article>").unwrap()];
        assert!(card.contains(">Public API is down</h3>"));
        assert!(card.contains(
            "Opened <time datetime=\"2026-11-23T10:03:00Z\">23 Nov 2026, 10:03 UTC</time>"
        ));
        let slow = card
            .find("Public API is responding slowly. We are investigating.")
            .unwrap();
        let down = card
            .find("<p class=\"message\">Public API is down.</p>")
            .unwrap();
        assert!(down < slow, "the newest update comes first");
        assert!(
            card.contains("<time datetime=\"2026-11-23T10:20:00Z\">23 Nov 2026, 10:20 UTC</time>")
        );
        assert!(
            !card.contains("<details>"),
            "an open incident's timeline is not folded"
        );
    }

    #[test]
    fn a_suspected_incident_says_it_comes_from_customer_reports() {
        let html = render(&stormy());
        let card = html
            .split("id=\"incident-20261123-101000-svc\"")
            .nth(1)
            .unwrap();
        let card = &card[..card.find("</article>").unwrap()];
        assert!(card.contains("Under investigation:"));
        assert!(card.contains("opened from customer reports"));
        let confirmed = html
            .split("id=\"incident-20261123-100300-api\"")
            .nth(1)
            .unwrap();
        let confirmed = &confirmed[..confirmed.find("</article>").unwrap()];
        assert!(!confirmed.contains("Under investigation"));
    }

    #[test]
    fn resolved_incidents_and_maintenance_are_listed() {
        let html = render(&stormy());
        let past = &html[html.find("id=\"h-resolved\"").unwrap()..];
        assert!(past.contains(">Web Console is down</h3>"));
        assert!(past.contains("Lasted 12 min"));
        assert!(past.contains("Timeline (1 update)"));
        assert!(past.contains("</span>Resolved</span>"));
        let planned = &html[html.find("id=\"h-maintenance\"").unwrap()..];
        let planned = &planned[..planned.find("</section>").unwrap()];
        assert!(planned.contains(">Managed Databases storage upgrade</h3>"));
        assert!(planned.contains("Scheduled"));
        assert!(planned.contains(
            "29 Nov 2026, 01:00 UTC</time> – <time datetime=\"2026-11-29T03:30:00Z\">03:30 UTC</time>"
        ));
        assert!(planned.contains("Affects Public API, Web Console"));
        assert!(!html.contains("No incidents in the last"));
        assert!(!html.contains("No maintenance planned"));
    }

    #[test]
    fn a_quiet_service_says_so() {
        let html = render(&quiet());
        assert!(html.contains("All systems operational"));
        assert!(html.contains("No open incidents right now."));
        assert!(html.contains("No incidents in the last 14 days."));
        assert!(html.contains("No maintenance planned in the next 7 days."));
        assert!(!html.contains("class=\"incident "));
        assert!(
            !html.contains("since <time"),
            "an operational component states no since"
        );
    }

    #[test]
    fn a_window_over_midnight_states_both_dates() {
        let start = Utc.with_ymd_and_hms(2026, 11, 29, 23, 0, 0).unwrap();
        assert_eq!(
            time_range(start, start + Duration::hours(2)),
            "<time datetime=\"2026-11-29T23:00:00Z\">29 Nov 2026, 23:00 UTC</time> – \
             <time datetime=\"2026-11-30T01:00:00Z\">30 Nov 2026, 01:00 UTC</time>"
        );
    }

    #[test]
    fn percentages_keep_two_decimals_rounded_down() {
        assert_eq!(percent_text(100.0), "100%");
        assert_eq!(percent_text(99.7569), "99.75%");
        assert_eq!(percent_text(99.999), "99.99%");
        assert_eq!(percent_text(0.0), "0%");
    }
}

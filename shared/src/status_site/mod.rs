//! The public status site, as a plain function of an HTTP request: the server-rendered status
//! page, the Statuspage-shaped and own JSON APIs, the Atom feed, the badges, the pages'
//! acknowledgement links and X's webhook. The status-api Lambda function and the CLI's local
//! server only translate their HTTP types to [`SiteRequest`] and back, so the same routes
//! answer in AWS and on a laptop.
//!
//! Public responses carry short `Cache-Control` lifetimes: during an outage a crowd refreshes
//! the page, and a cache in front (or the browser's own) absorbs it; they are gzipped for
//! clients that accept it. Nothing that carries a credential (acknowledgement links,
//! webhooks) is ever cacheable, and paths are never logged.

pub mod api_v1;
pub mod atom;
pub mod badge;
pub mod encoding;
pub mod page;
pub mod snapshot;
pub mod statuspage;
pub mod x_webhook;

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::clock::Clock;
use crate::config::Config;
use crate::incident::{self, IncidentPhase};
use crate::oncall::ack_route::{AckRequest, AckRoute};
use crate::oncall::token::AckKey;
use crate::store::Store;

use self::snapshot::Snapshot;
use self::x_webhook::XWebhook;

/// Public pages and API answers may be this old: short enough that an update shows within
/// half a minute, long enough that a refreshing crowd is served from cache.
pub const PUBLIC_MAX_AGE: u32 = 30;
/// The OpenAPI document changes only with a deployment.
pub const STATIC_MAX_AGE: u32 = 3600;
/// The longest path answered; longer is 414.
pub const MAX_PATH: usize = 1024;
/// The largest body read (a webhook delivery); larger is 413.
pub const MAX_BODY: usize = 256 * 1024;

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";
/// The status page loads nothing from anywhere: its style is inline and its bars are HTML.
const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
                        base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One HTTP request, as the routes read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteRequest {
    /// The method, upper case (`GET`).
    pub method: String,
    /// The path, without the query string, as sent (still percent-encoded).
    pub path: String,
    /// The raw query string, without `?` (empty for none).
    pub query: String,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body's bytes.
    pub body: Vec<u8>,
}

impl SiteRequest {
    /// A request without headers or body.
    pub fn new(method: &str, path_and_query: &str) -> Self {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        Self {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            query: query.to_owned(),
            ..Self::default()
        }
    }

    /// The value of header `name` (case-insensitive); the first if repeated.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of query parameter `name`, percent-decoded (`+` as a space).
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key)? == name).then(|| percent_decode(value))?
        })
    }
}

/// Decodes `%XX` escapes and `+`; `None` if the result is not UTF-8 or an escape is broken.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The site's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteResponse {
    /// HTTP status code.
    pub status: u16,
    /// Headers, `Content-Type` among them.
    pub headers: Vec<(&'static str, String)>,
    /// The body's bytes (always text: HTML, JSON, XML or SVG).
    pub body: Vec<u8>,
}

impl SiteResponse {
    /// A response with this status, content type and body, and no caching.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![
                ("Content-Type", content_type.to_owned()),
                ("X-Content-Type-Options", "nosniff".to_owned()),
            ],
            body: body.into(),
        }
    }

    /// A plain-text response that must not be cached.
    pub fn text(status: u16, body: &str) -> Self {
        Self::new(status, TEXT, format!("{body}\n")).with("Cache-Control", "no-store")
    }

    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self::new(status, JSON, value.to_string())
    }

    /// The same response with header `name` set to `value`, replacing any value it had:
    /// every header is sent exactly once, so a cache never has to choose between two
    /// `Cache-Control`s.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name, value.into()));
        self
    }

    /// A 404 for a path or id that names nothing. Cacheable like the public pages: a scraper
    /// walking ids is then answered by a cache in front as often as by the function.
    pub fn not_found(what: &str) -> Self {
        Self::text(404, what).public_for(PUBLIC_MAX_AGE)
    }

    /// The same response, cacheable by anyone for `seconds`.
    pub fn public_for(self, seconds: u32) -> Self {
        self.with("Cache-Control", format!("public, max-age={seconds}"))
    }

    /// The value of header `name` (case-insensitive), if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text; empty when it is not UTF-8 (a gzipped body).
    pub fn body_text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or("")
    }
}

/// What a route is, once the path is read.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Page,
    Summary,
    Status,
    StatuspageComponents,
    StatuspageIncidents,
    StatuspageUnresolved,
    StatuspageMaintenance,
    V1Status,
    V1Components,
    V1Component(String),
    V1Incidents,
    V1Incident(String),
    OpenApi,
    Feed,
    OverallBadge(BadgeFormat),
    Badge(String, BadgeFormat),
    Ack,
    XWebhook,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BadgeFormat {
    Svg,
    Shields,
}

impl Route {
    fn of(path: &str) -> Option<Route> {
        if AckRoute::matches(path) {
            return Some(Route::Ack);
        }
        let route = match path {
            "/" | "/index.html" => Route::Page,
            "/api/v2/summary.json" => Route::Summary,
            "/api/v2/status.json" => Route::Status,
            "/api/v2/components.json" => Route::StatuspageComponents,
            "/api/v2/incidents.json" => Route::StatuspageIncidents,
            "/api/v2/incidents/unresolved.json" => Route::StatuspageUnresolved,
            "/api/v2/scheduled-maintenances.json" => Route::StatuspageMaintenance,
            "/api/v1/status" => Route::V1Status,
            "/api/v1/components" => Route::V1Components,
            "/api/v1/incidents" => Route::V1Incidents,
            "/api/v1/openapi.json" => Route::OpenApi,
            "/feed.atom" => Route::Feed,
            "/badge.svg" => Route::OverallBadge(BadgeFormat::Svg),
            "/badge.json" => Route::OverallBadge(BadgeFormat::Shields),
            "/webhooks/x" => Route::XWebhook,
            _ => {
                if let Some(id) = path.strip_prefix("/api/v1/components/") {
                    Route::V1Component(segment(id)?)
                } else if let Some(id) = path.strip_prefix("/api/v1/incidents/") {
                    Route::V1Incident(segment(id)?)
                } else if let Some(file) = path.strip_prefix("/badge/") {
                    if let Some(id) = file.strip_suffix(".svg") {
                        Route::Badge(segment(id)?, BadgeFormat::Svg)
                    } else if let Some(id) = file.strip_suffix(".json") {
                        Route::Badge(segment(id)?, BadgeFormat::Shields)
                    } else {
                        return None;
                    }
                } else {
                    return None;
                }
            }
        };
        Some(route)
    }

    /// The methods the route answers.
    fn allowed(&self) -> &'static str {
        match self {
            Route::Ack => "GET, POST",
            Route::XWebhook => "GET, POST",
            _ => "GET, HEAD",
        }
    }
}

/// One path segment naming a component or an incident: non-empty, no slash, and made of
/// the characters ids are made of (anything else cannot name one).
fn segment(text: &str) -> Option<String> {
    let ok = !text.is_empty()
        && text.len() <= 128
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    ok.then(|| text.to_owned())
}

/// The status site: every route over one store.
pub struct StatusSite {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ack_key: AckKey,
    x_webhook: XWebhook,
}

impl std::fmt::Debug for StatusSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusSite").finish_non_exhaustive()
    }
}

impl StatusSite {
    /// The site over `store`; acknowledgement links are checked with `ack_key`, X's webhook
    /// deliveries go through `x_webhook`.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        ack_key: AckKey,
        x_webhook: XWebhook,
    ) -> Self {
        Self {
            store,
            clock,
            ack_key,
            x_webhook,
        }
    }

    /// Answers one request. `config` is `None` when the configuration cannot be read: the
    /// acknowledgement links still work then (they need only the store and the key), the rest
    /// answers 503.
    pub async fn respond(&self, config: Option<&Config>, request: &SiteRequest) -> SiteResponse {
        if request.path.len() > MAX_PATH {
            return SiteResponse::text(414, "URI too long");
        }
        if request.body.len() > MAX_BODY {
            return SiteResponse::text(413, "Request body too large");
        }
        let Some(route) = Route::of(&request.path) else {
            return SiteResponse::not_found("Not found");
        };
        let method = request.method.as_str();
        let allowed = route.allowed();
        if !allowed.split(", ").any(|m| m == method) {
            return SiteResponse::text(405, "Method not allowed").with("Allow", allowed);
        }
        let mut response = self.route(config, &route, request).await;
        if method == "HEAD" {
            response.body.clear();
        }
        response
    }

    async fn route(
        &self,
        config: Option<&Config>,
        route: &Route,
        request: &SiteRequest,
    ) -> SiteResponse {
        if *route == Route::Ack {
            let name = config.map_or("sitrep", |c| c.service.name.as_str());
            let ack = AckRoute::new(
                Arc::clone(&self.store),
                self.ack_key.clone(),
                Arc::clone(&self.clock),
                name,
            );
            let answer = ack
                .respond(&AckRequest {
                    method: &request.method,
                    path: &request.path,
                })
                .await;
            return answer.headers.into_iter().fold(
                SiteResponse::new(answer.status, answer.content_type, answer.body),
                |response, (name, value)| response.with(name, value),
            );
        }
        let Some(config) = config else {
            return SiteResponse::text(503, "The status page is being updated; try again shortly.")
                .with("Retry-After", "30");
        };
        if *route == Route::XWebhook {
            return self.x_webhook.respond(config, request).await;
        }
        if *route == Route::OpenApi {
            let response = SiteResponse::new(200, JSON, api_v1::OPENAPI)
                .public_for(STATIC_MAX_AGE)
                .with("Access-Control-Allow-Origin", "*");
            return encoding::negotiate(request, response);
        }
        if let Some(answer) = self.unknown_id(config, route).await {
            return answer;
        }
        let snapshot = match snapshot::read(self.store.as_ref(), config, self.clock.now()).await {
            Ok(snapshot) => snapshot,
            Err(e) => {
                tracing::error!(error = %e, "could not read the status snapshot");
                return unavailable();
            }
        };
        let response = render(&snapshot, route).public_for(PUBLIC_MAX_AGE);
        let response = if *route == Route::Page {
            response
        } else {
            // Public data without credentials: dashboards in any browser may read it.
            response.with("Access-Control-Allow-Origin", "*")
        };
        encoding::negotiate(request, response)
    }
}

impl StatusSite {
    /// The 404 for a route whose id names nothing, decided before the snapshot is read: a
    /// scraper walking ids must not cost a snapshot's dozens of reads per request. Component
    /// ids are known from the configuration alone. An incident id is first checked for the
    /// shape sitrep gives incidents (see [`plausible_incident_id`]), with no read; only a
    /// well-formed one costs a single read of its record, and only a real incident the
    /// snapshot lists costs the snapshot.
    async fn unknown_id(&self, config: &Config, route: &Route) -> Option<SiteResponse> {
        match route {
            Route::Badge(id, _) | Route::V1Component(id) => {
                (!config.components.iter().any(|c| c.id.as_str() == id))
                    .then(|| SiteResponse::not_found("No such component"))
            }
            Route::V1Incident(id) => {
                let now = self.clock.now();
                if !plausible_incident_id(id, now) {
                    return Some(SiteResponse::not_found("No such incident"));
                }
                match incident::load(self.store.as_ref(), id).await {
                    Ok(Some(found)) => {
                        let horizon = now - chrono::Duration::days(snapshot::RECENT_INCIDENT_DAYS);
                        let listed = found.phase == IncidentPhase::Open
                            || found.resolved_at.is_some_and(|at| at >= horizon);
                        (!listed).then(|| SiteResponse::not_found("No such incident"))
                    }
                    Ok(None) => Some(SiteResponse::not_found("No such incident")),
                    Err(e) => {
                        tracing::error!(error = %e, "could not read an incident");
                        Some(unavailable())
                    }
                }
            }
            _ => None,
        }
    }
}

/// Whether `id` has the shape of the incidents sitrep opens: `<yyyymmdd>-<hhmmss>-<slug>`
/// (the slug a component's id, `<component>-reports` or `reports`), opened no later than a
/// few minutes from `now` (the functions' clocks differ a little).
pub fn plausible_incident_id(id: &str, now: DateTime<Utc>) -> bool {
    let (Some(stamp), Some(rest)) = (id.get(..15), id.get(15..)) else {
        return false;
    };
    let Some(slug) = rest.strip_prefix('-') else {
        return false;
    };
    let Ok(opened) = NaiveDateTime::parse_from_str(stamp, "%Y%m%d-%H%M%S") else {
        return false;
    };
    // `%Y` also takes signs and longer years; the stamp sitrep writes is digits only.
    stamp.bytes().enumerate().all(|(n, b)| {
        if n == 8 {
            b == b'-'
        } else {
            b.is_ascii_digit()
        }
    }) && opened.and_utc() <= now + chrono::Duration::minutes(5)
        && !slug.is_empty()
        && slug.len() <= 64 + "-reports".len()
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The answer when the store cannot be read.
fn unavailable() -> SiteResponse {
    SiteResponse::text(503, "Status temporarily unavailable; try again shortly.")
        .with("Retry-After", "10")
}

/// The public routes, rendered from one snapshot.
fn render(snapshot: &Snapshot, route: &Route) -> SiteResponse {
    let json = |value: serde_json::Value| SiteResponse::json(200, &value);
    let unknown = |what: &str| SiteResponse::not_found(&format!("No such {what}"));
    match route {
        Route::Page => SiteResponse::new(200, HTML, page::render(snapshot))
            .with("Content-Security-Policy", PAGE_CSP)
            .with("Referrer-Policy", "no-referrer"),
        Route::Summary => json(statuspage::summary(snapshot)),
        Route::Status => json(statuspage::status(snapshot)),
        Route::StatuspageComponents => json(statuspage::components(snapshot)),
        Route::StatuspageIncidents => json(statuspage::incidents(snapshot)),
        Route::StatuspageUnresolved => json(statuspage::unresolved(snapshot)),
        Route::StatuspageMaintenance => json(statuspage::scheduled_maintenances(snapshot)),
        Route::V1Status => json(api_v1::status(snapshot)),
        Route::V1Components => json(api_v1::components(snapshot)),
        Route::V1Component(id) => match snapshot.component(id) {
            Some(component) => json(api_v1::component(snapshot, component)),
            None => unknown("component"),
        },
        Route::V1Incidents => json(api_v1::incidents(snapshot)),
        Route::V1Incident(id) => match snapshot.incidents().find(|i| i.id == *id) {
            Some(incident) => json(api_v1::incident(incident)),
            None => unknown("incident"),
        },
        Route::Feed => SiteResponse::new(
            200,
            "application/atom+xml; charset=utf-8",
            atom::feed(snapshot),
        ),
        Route::OverallBadge(BadgeFormat::Svg) => {
            SiteResponse::new(200, "image/svg+xml", badge::overall_svg(snapshot))
        }
        Route::OverallBadge(BadgeFormat::Shields) => json(badge::overall_shields(snapshot)),
        Route::Badge(id, format) => match (snapshot.component(id), format) {
            (Some(component), BadgeFormat::Svg) => {
                SiteResponse::new(200, "image/svg+xml", badge::component_svg(component))
            }
            (Some(component), BadgeFormat::Shields) => json(badge::component_shields(component)),
            (None, _) => unknown("component"),
        },
        Route::Ack | Route::XWebhook | Route::OpenApi => SiteResponse::text(500, "Internal error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_decoded_and_the_first_wins() {
        let request = SiteRequest::new("get", "/webhooks/x?a=1&crc_token=ab%2Bc%3D+d&crc_token=2");
        assert_eq!(request.method, "GET");
        assert_eq!(request.path, "/webhooks/x");
        assert_eq!(request.query_param("crc_token").as_deref(), Some("ab+c= d"));
        assert_eq!(request.query_param("missing"), None);
        assert_eq!(SiteRequest::new("GET", "/?x=%zz").query_param("x"), None);
    }

    #[test]
    fn paths_name_routes_and_nothing_else() {
        assert_eq!(Route::of("/"), Some(Route::Page));
        assert_eq!(
            Route::of("/badge/api.svg"),
            Some(Route::Badge("api".into(), BadgeFormat::Svg))
        );
        assert_eq!(Route::of("/badge/a%2Fb.svg"), None);
        assert_eq!(Route::of("/badge/.svg"), None);
        assert_eq!(Route::of("/api/v1/components/"), None);
        assert_eq!(Route::of("/api/v1/components/a/b"), None);
        assert_eq!(Route::of("/feed.atom/"), None);
    }

    #[test]
    fn incident_ids_are_told_from_their_shape_alone() {
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 23, 10, 10, 0).unwrap();
        for id in [
            "20261123-100300-api",
            "20261123-100300-api-reports",
            "20261123-100300-reports",
            "20261123-101400-api",
            "19991231-235959-a_b",
        ] {
            assert!(plausible_incident_id(id, now), "{id}");
        }
        for id in [
            "",
            "api",
            "20261123-100300",
            "20261123-100300-",
            "20261123-100300-API",
            "20261123-100300-a.b",
            "20261123-100300_api",
            "20261123-250000-api",
            "20261323-100300-api",
            "+2026112-100300-api",
            "20261123-101600-api",
            "29991231-000000-api",
            "20261123-100300-é",
        ] {
            assert!(!plausible_incident_id(id, now), "{id}");
        }
        let long = format!("20261123-100300-{}", "a".repeat(73));
        assert!(!plausible_incident_id(&long, now));
    }

    #[test]
    fn a_header_set_twice_is_sent_once_with_the_last_value() {
        let response = SiteResponse::text(404, "Not found").public_for(PUBLIC_MAX_AGE);
        let cache: Vec<_> = response
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("cache-control"))
            .collect();
        assert_eq!(cache, [&("Cache-Control", "public, max-age=30".to_owned())]);
        let response = response.with("cache-control", "no-store");
        assert_eq!(response.header("Cache-Control"), Some("no-store"));
        assert_eq!(
            response
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("cache-control"))
                .count(),
            1
        );
    }
}

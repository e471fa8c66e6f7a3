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

use crate::clock::Clock;
use crate::config::Config;
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

    /// The same response with one more header.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
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
            return SiteResponse::text(404, "Not found").public_for(PUBLIC_MAX_AGE);
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
            let mut response = SiteResponse::new(answer.status, answer.content_type, answer.body);
            response.headers.extend(answer.headers);
            return response;
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
        let snapshot = match snapshot::read(self.store.as_ref(), config, self.clock.now()).await {
            Ok(snapshot) => snapshot,
            Err(e) => {
                tracing::error!(error = %e, "could not read the status snapshot");
                return SiteResponse::text(
                    503,
                    "Status temporarily unavailable; try again shortly.",
                )
                .with("Retry-After", "10");
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

/// The public routes, rendered from one snapshot.
fn render(snapshot: &Snapshot, route: &Route) -> SiteResponse {
    let json = |value: serde_json::Value| SiteResponse::json(200, &value);
    let unknown = |what: &str| SiteResponse::text(404, &format!("No such {what}"));
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
}

//! The HTTP route behind a page's acknowledgement link: `GET {base}/{incident}/{token}` shows
//! a confirmation page, `POST` to the same URL acknowledges.
//!
//! GET never acknowledges: SMS apps, mail scanners and link previewers fetch links on their
//! own, and an incident acknowledged by a robot stops escalating with nobody on it. The page
//! is self-contained (no external assets, every interpolated value escaped) and is served
//! with headers that keep the token out of caches, referrers and search indexes.
//!
//! The route is a plain function of method and path, so the status API's Lambda adapter and
//! any local server can put it behind whatever HTTP front they have.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::paging::{self, AckOutcome, AckVia};
use super::token::{self, AckKey, Grant, TokenError};
use crate::clock::Clock;
use crate::incident;
use crate::status_site::page::escape;
use crate::store::Store;

/// The last path segment before `{incident}/{token}`.
const BASE_SEGMENT: &str = "ack";
/// The methods the route answers.
const ALLOWED: &str = "GET, POST";
const HTML: &str = "text/html; charset=utf-8";
/// Nothing may load from anywhere, the inline style is the only style, the form may only post
/// back here, and no other site may frame the button (clickjacking).
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

/// One HTTP request, as much of it as the route reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckRequest<'a> {
    /// The method (`GET`, `POST`).
    pub method: &'a str,
    /// The path, without the query string (`/ack/20261123-100300-api/AbC…`).
    pub path: &'a str,
}

/// The route's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckResponse {
    /// HTTP status code.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// The HTML page.
    pub body: String,
    /// Every other header.
    pub headers: Vec<(&'static str, String)>,
}

impl AckResponse {
    /// The value of header `name` (case-insensitive), if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The acknowledgement-link route.
pub struct AckRoute {
    store: Arc<dyn Store>,
    key: AckKey,
    clock: Arc<dyn Clock>,
    service_name: String,
}

impl std::fmt::Debug for AckRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AckRoute")
            .field("service_name", &self.service_name)
            .finish_non_exhaustive()
    }
}

/// The link a page carries: `{base}/{token}`, `base` ending in `/ack`. The token alone
/// names the incident (through its record), which keeps the link short enough for a
/// one-segment text; `{base}/{incident}/{token}` is accepted too and must name the same one.
pub fn link(base: &str, token: &str) -> String {
    format!("{}/{token}", base.trim_end_matches('/'))
}

impl AckRoute {
    /// The route over the store tokens and escalations live in, checking tokens with `key`;
    /// pages are titled with `service_name`.
    pub fn new(
        store: Arc<dyn Store>,
        key: AckKey,
        clock: Arc<dyn Clock>,
        service_name: impl Into<String>,
    ) -> Self {
        Self {
            store,
            key,
            clock,
            service_name: service_name.into(),
        }
    }

    /// Whether `path` is an acknowledgement link (`…/ack/{incident}/{token}`), whatever the
    /// method.
    pub fn matches(path: &str) -> bool {
        parse(path).is_some()
    }

    /// Answers one request.
    pub async fn respond(&self, request: &AckRequest<'_>) -> AckResponse {
        let Some((incident, token)) = parse(request.path) else {
            return self.page(404, "Not found", "There is nothing at this address.", None);
        };
        let incident = match incident {
            Some(incident) => incident.to_owned(),
            // A short link: the token's record names the incident.
            None => match token::check(&*self.store, &self.key, token, self.clock.now()).await {
                Ok(grant) => grant.incident,
                Err(e) if request.method == "GET" || request.method == "POST" => {
                    return self.refusal(&e);
                }
                Err(_) => String::new(),
            },
        };
        let incident = incident.as_str();
        match request.method {
            "GET" => self.confirm(incident, token).await,
            "POST" => self.acknowledge(incident, token).await,
            _ => {
                let mut response = self.page(
                    405,
                    "Method not allowed",
                    "Open the link in a browser to acknowledge.",
                    None,
                );
                response.headers.push(("Allow", ALLOWED.to_owned()));
                response
            }
        }
    }

    /// GET: what the link would do, and the button that does it.
    async fn confirm(&self, incident: &str, token: &str) -> AckResponse {
        let now = self.clock.now();
        match token::check_for(&*self.store, &self.key, token, incident, now).await {
            Ok(grant) => {
                let about = self.title_of(incident).await;
                let heading = format!("Acknowledge incident {incident} for {}?", grant.person);
                let mut message = match &about {
                    Some(title) => format!("{title}. "),
                    None => String::new(),
                };
                message.push_str(&format!(
                    "Acknowledging tells everyone you own it and stops the escalation. \
                     This link works once, until {}.",
                    clock_time(grant.expires_at)
                ));
                let form =
                    "<form method=\"post\"><button type=\"submit\">Acknowledge</button></form>";
                self.page(200, &heading, &message, Some(form))
            }
            Err(e) => self.refusal(&e),
        }
    }

    /// POST: uses the token and acknowledges.
    async fn acknowledge(&self, incident: &str, token: &str) -> AckResponse {
        let now = self.clock.now();
        let grant = match token::redeem_for(&*self.store, &self.key, token, incident, now).await {
            Ok(grant) => grant,
            Err(e) => return self.refusal(&e),
        };
        match paging::acknowledge(
            &*self.store,
            &grant.incident,
            &grant.person,
            AckVia::Link,
            now,
        )
        .await
        {
            Ok(outcome) => self.outcome(&grant, &outcome).await,
            Err(e) => {
                // The token was minted for this incident: its id is no longer the path's word.
                let incident = grant.incident.as_str();
                tracing::error!(incident, error = %e, "acknowledging through a link failed");
                // The link was spent on an acknowledgement that did not happen: give it back,
                // so the retry the page asks for can work.
                if let Err(release) = token::release(&*self.store, &self.key, token).await {
                    tracing::error!(incident, error = %release, "could not release the link");
                }
                self.page(
                    503,
                    "Not acknowledged yet",
                    "Your acknowledgement could not be recorded just now. Try again in a \
                     moment, or reply to the page's text with its code.",
                    None,
                )
            }
        }
    }

    async fn outcome(&self, grant: &Grant, outcome: &AckOutcome) -> AckResponse {
        let incident = &grant.incident;
        let about = self.title_of(incident).await.map_or_else(
            || format!("Incident {incident}"),
            |title| format!("{title} ({incident})"),
        );
        let (heading, message) = match outcome {
            AckOutcome::Acknowledged => (
                "Acknowledged".to_owned(),
                format!(
                    "{about} is yours, {}. The escalation has stopped.",
                    grant.person
                ),
            ),
            AckOutcome::AlreadyAcknowledged { by } if by == &grant.person => (
                "Already acknowledged".to_owned(),
                format!("{about} was already acknowledged by you."),
            ),
            AckOutcome::AlreadyAcknowledged { by } => (
                "Already acknowledged".to_owned(),
                format!("{about} was already acknowledged by {by}."),
            ),
            AckOutcome::Resolved => (
                "Already resolved".to_owned(),
                format!("{about} is already resolved. Nothing to do."),
            ),
            AckOutcome::NotPaged => (
                "Not being paged".to_owned(),
                format!("{about} is not being paged, so there is nothing to acknowledge."),
            ),
        };
        self.page(200, &heading, &message, None)
    }

    /// The page for a token that does not work, with a status that says why.
    fn refusal(&self, error: &TokenError) -> AckResponse {
        let (status, heading, message) = match error {
            TokenError::Malformed => (
                400,
                "Incomplete link",
                "This link is damaged or cut short. Open the whole link from the page, or \
                 reply to the text with its code."
                    .to_owned(),
            ),
            TokenError::Unknown | TokenError::Forged | TokenError::OtherIncident => (
                403,
                "Link not valid",
                "This acknowledgement link is not valid (links are forgotten a day after they \
                 expire). Reply to the page's text with its code instead."
                    .to_owned(),
            ),
            TokenError::Expired { at } => (
                410,
                "Link expired",
                format!(
                    "This link expired at {}. Reply to the page's text with its code instead.",
                    clock_time(*at)
                ),
            ),
            TokenError::Used => (
                410,
                "Link already used",
                "This link has already been used; each works once.".to_owned(),
            ),
            TokenError::Store(_) => (
                503,
                "Try again",
                "The link could not be checked just now. Try again in a moment.".to_owned(),
            ),
            TokenError::WeakKey { .. } | TokenError::KeyText(_) | TokenError::Secret(_) => (
                500,
                "Server error",
                "The link could not be checked.".to_owned(),
            ),
        };
        // Nothing from the path is logged: the token is the credential, and a link refused
        // proves nothing about what its other segment is (a link cut or joined in the wrong
        // place puts the token there).
        if status >= 500 {
            tracing::error!(error = %error, "acknowledgement link not checked");
        } else {
            tracing::warn!(error = %error, "acknowledgement link refused");
        }
        self.page(status, heading, &message, None)
    }

    /// The incident's title, if it can be read; the page works without it.
    async fn title_of(&self, id: &str) -> Option<String> {
        match incident::load(&*self.store, id).await {
            Ok(found) => found.map(|i| i.title),
            Err(e) => {
                tracing::warn!(incident = id, error = %e, "could not read the incident's title");
                None
            }
        }
    }

    fn page(&self, status: u16, heading: &str, message: &str, form: Option<&str>) -> AckResponse {
        let service = escape(&self.service_name);
        let heading = escape(heading);
        let message = escape(message);
        let form = form.unwrap_or("");
        let body = format!(
            "<!doctype html>\n\
             <html lang=\"en\">\n\
             <head>\n\
             <meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"robots\" content=\"noindex, nofollow\">\n\
             <title>{heading} · {service}</title>\n\
             <style>\n\
             body{{font:16px/1.5 system-ui,sans-serif;margin:0;padding:2rem 1rem;color:#1a1a1a;background:#f6f6f6}}\n\
             main{{max-width:32rem;margin:auto;background:#fff;padding:1.5rem;border-radius:8px}}\n\
             .service{{color:#666;margin:0}}\n\
             h1{{font-size:1.4rem;margin:.25rem 0 1rem;overflow-wrap:anywhere}}\n\
             button{{font-size:1.1rem;padding:.75rem 1.5rem;border:0;border-radius:6px;background:#b3261e;color:#fff;cursor:pointer}}\n\
             </style>\n\
             </head>\n\
             <body>\n\
             <main>\n\
             <p class=\"service\">{service}</p>\n\
             <h1>{heading}</h1>\n\
             <p>{message}</p>\n\
             {form}\n\
             </main>\n\
             </body>\n\
             </html>\n"
        );
        AckResponse {
            status,
            content_type: HTML,
            body,
            headers: vec![
                ("Cache-Control", "no-store".to_owned()),
                ("Referrer-Policy", "no-referrer".to_owned()),
                ("X-Robots-Tag", "noindex".to_owned()),
                ("X-Content-Type-Options", "nosniff".to_owned()),
                ("Content-Security-Policy", CSP.to_owned()),
            ],
        }
    }
}

/// `(incident, token)` of `…/ack/{incident}/{token}`, or `(None, token)` of `…/ack/{token}`
/// (a trailing slash tolerated).
fn parse(path: &str) -> Option<(Option<&str>, &str)> {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let path = path.strip_suffix('/').unwrap_or(path);
    let mut segments = path.rsplit('/');
    let token = segments.next().filter(|t| !t.is_empty())?;
    let second = segments.next()?;
    if second == BASE_SEGMENT {
        return Some((None, token));
    }
    let base = segments.next()?;
    (base == BASE_SEGMENT && !second.is_empty()).then_some((Some(second), token))
}

/// An instant as the page states it.
fn clock_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_recognised_under_any_base_ending_in_ack() {
        assert_eq!(
            parse("/ack/20261123-100300-api/AbCdEfGhIjKlMnOpQrStUvWxYz0"),
            Some((Some("20261123-100300-api"), "AbCdEfGhIjKlMnOpQrStUvWxYz0"))
        );
        assert_eq!(parse("/prod/ack/inc/tok/"), Some((Some("inc"), "tok")));
        assert_eq!(parse("/ack/inc/tok?utm=x"), Some((Some("inc"), "tok")));
        assert_eq!(parse("/ack/tok"), Some((None, "tok")));
        assert_eq!(parse("/prod/ack/tok/"), Some((None, "tok")));
        for path in [
            "/",
            "/ack",
            "/ack/",
            "/ack//tok",
            "/ack/inc/tok/extra",
            "/acknowledge/inc/tok",
            "/status/inc/tok",
        ] {
            assert_eq!(parse(path), None, "{path}");
            assert!(!AckRoute::matches(path), "{path}");
        }
    }

    #[test]
    fn links_join_base_and_token() {
        assert_eq!(
            link("https://x.lambda-url.us-east-1.on.aws/ack/", "tok"),
            "https://x.lambda-url.us-east-1.on.aws/ack/tok"
        );
        let built = link("https://h/ack", "tok");
        assert!(AckRoute::matches(built.trim_start_matches("https://h")));
    }

    #[test]
    fn interpolated_text_is_escaped() {
        assert_eq!(
            escape(r#"<script>alert("x&y's")</script>"#),
            "&lt;script&gt;alert(&quot;x&amp;y&#39;s&quot;)&lt;/script&gt;"
        );
    }
}

//! The status-api function's handler: HTTP requests from an API Gateway HTTP API (or a
//! Function URL; both send payload format 2.0), handed to the [`StatusSite`] as plain
//! [`SiteRequest`]s and answered with its [`SiteResponse`].
//!
//! The site serves the public status page, its JSON APIs, feed and badges, the pages'
//! acknowledgement links and X's webhook (see [`shared::status_site`]). Only the method and
//! the status are logged: an acknowledgement link's path is its credential, and a webhook's
//! body is customers' words.
#![forbid(unsafe_code)]

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use lambda_http::http::{HeaderName, HeaderValue, Response};
use lambda_http::{Body, Error, Request, RequestExt};
use shared::clock::Clock;
use shared::config::Config;
use shared::invocation::{ConfigSource, Deployed};
use shared::status_site::{MAX_BODY, SiteRequest, SiteResponse, StatusSite};
use shared::store::Store;

/// How long a configuration read is used before the next request reads it again. Within it,
/// a request the configuration alone answers (an unknown id, a wrong method) costs no read
/// at all, so a scraper walking ids costs the table nothing; a pushed configuration shows
/// within this, well inside the pages' own cache lifetime.
pub const CONFIG_REFRESH: chrono::Duration = chrono::Duration::seconds(15);

/// What the function keeps between invocations: the site and the configuration it was
/// last built for.
pub struct StatusApi {
    site: StatusSite,
    config: Deployed<Config>,
    clock: Arc<dyn Clock>,
    recent: Mutex<Option<(DateTime<Utc>, Arc<Config>)>>,
}

impl StatusApi {
    /// Serves `site`; the configuration (components, accounts, the service's name) is read
    /// from `source` through `store` at most once per [`CONFIG_REFRESH`] on `clock`, and
    /// parsed again only when it changes.
    pub fn new(
        site: StatusSite,
        store: Arc<dyn Store>,
        source: ConfigSource,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            site,
            config: Deployed::new(store, source),
            clock,
            recent: Mutex::new(None),
        }
    }

    /// Answers one request.
    pub async fn respond(&self, request: &SiteRequest) -> SiteResponse {
        let config = self.config().await;
        self.site.respond(config.as_deref(), request).await
    }

    /// The configuration: the one read within [`CONFIG_REFRESH`], else read now; the last
    /// one read if reading fails (the status page is most wanted when something is failing).
    async fn config(&self) -> Option<Arc<Config>> {
        let now = self.clock.now();
        let recent = self.recent.lock().map_or(None, |recent| recent.clone());
        if let Some((read_at, config)) = &recent
            && *read_at <= now
            && now - *read_at < CONFIG_REFRESH
        {
            return Some(Arc::clone(config));
        }
        match self
            .config
            .get(|config, _version| async move { Ok::<_, Infallible>(config) })
            .await
        {
            Ok(config) => {
                if let Ok(mut recent) = self.recent.lock() {
                    *recent = Some((now, Arc::clone(&config)));
                }
                Some(config)
            }
            Err(e) => {
                // Acknowledging a page must not depend on the configuration being readable.
                tracing::warn!(error = %e, "configuration unavailable; the last one read (if any) serves");
                recent.map(|(_, config)| config)
            }
        }
    }
}

/// The site's view of a lambda_http request: method, raw path, raw query, headers, body.
pub fn site_request(request: &Request) -> SiteRequest {
    let path = request.raw_http_path();
    let path = if path.is_empty() {
        request.uri().path()
    } else {
        path
    };
    let body = match request.body() {
        Body::Empty => Vec::new(),
        Body::Text(text) => text.as_bytes().to_vec(),
        Body::Binary(bytes) => bytes.clone(),
        // Body is non-exhaustive; anything new is unread, not guessed at.
        _ => Vec::new(),
    };
    SiteRequest {
        method: request.method().as_str().to_ascii_uppercase(),
        path: path.to_owned(),
        query: request.uri().query().unwrap_or("").to_owned(),
        headers: request
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect(),
        // The site answers 413 to anything longer; the rest of the bytes are not needed.
        body: if body.len() > MAX_BODY {
            body[..=MAX_BODY].to_vec()
        } else {
            body
        },
    }
}

/// The site's answer as a lambda_http response; every body the site writes is text.
pub fn http_response(answer: SiteResponse) -> Response<Body> {
    let mut response = Response::new(match String::from_utf8(answer.body) {
        Ok(text) if text.is_empty() => Body::Empty,
        Ok(text) => Body::Text(text),
        Err(bytes) => Body::Binary(bytes.into_bytes()),
    });
    *response.status_mut() = lambda_http::http::StatusCode::from_u16(answer.status)
        .unwrap_or(lambda_http::http::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in &answer.headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                response.headers_mut().append(name, value);
            }
            _ => tracing::error!(header = name, "header not representable; left out"),
        }
    }
    response
}

/// Handles one invocation.
pub async fn handle(api: &StatusApi, request: Request) -> Result<Response<Body>, Error> {
    let site_request = site_request(&request);
    let answer = api.respond(&site_request).await;
    tracing::info!(
        method = site_request.method.as_str(),
        status = answer.status,
        "request"
    );
    Ok(http_response(answer))
}

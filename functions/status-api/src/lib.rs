//! The status-api function's handler: HTTP requests from its Lambda Function URL (payload
//! format 2.0), answered with a Function URL response.
//!
//! For now it serves the acknowledgement links of pages (`…/ack/{incident}/{token}`, see
//! [`shared::oncall::ack_route`]); every other path is 404. The public status page, JSON API
//! and feeds will be more routes here. Paths are never logged: an acknowledgement link's
//! path is its credential.
#![forbid(unsafe_code)]

use std::convert::Infallible;
use std::sync::Arc;

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use aws_lambda_events::http::{HeaderMap, HeaderName, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_runtime::{Error, LambdaEvent};
use serde_json::Value;
use shared::clock::Clock;
use shared::invocation::{ConfigSource, Deployed};
use shared::oncall::ack_route::{AckRequest, AckRoute};
use shared::oncall::token::AckKey;
use shared::store::Store;

/// What pages are titled with when the configuration cannot be read.
const FALLBACK_SERVICE_NAME: &str = "sitrep";

/// Why a Function URL request could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// `isBase64Encoded` was set on a body that is not base64.
    #[error("the request body is flagged as base64 but is not: {0}")]
    Body(String),
}

/// One HTTP request as the routes see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method, as sent (`GET`).
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// The body's bytes, base64-decoded if Lambda encoded it.
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// The request a Function URL event carries.
    pub fn from_function_url(request: &LambdaFunctionUrlRequest) -> Result<Self, RequestError> {
        let http = &request.request_context.http;
        let body = match request.body.as_deref() {
            None => Vec::new(),
            Some(text) if request.is_base64_encoded => STANDARD
                .decode(text)
                .map_err(|e| RequestError::Body(e.to_string()))?,
            Some(text) => text.as_bytes().to_vec(),
        };
        Ok(Self {
            method: http.method.clone().unwrap_or_default(),
            path: request
                .raw_path
                .clone()
                .or_else(|| http.path.clone())
                .unwrap_or_else(|| "/".to_owned()),
            body,
        })
    }
}

/// What the function keeps between invocations.
pub struct StatusApi {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    key: AckKey,
    ack: Deployed<AckRoute>,
    fallback: Arc<AckRoute>,
}

impl StatusApi {
    /// The handler's long-lived state: links are checked with `key` against `store`; the
    /// service's name for the pages comes from the configuration at `source`.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        key: AckKey,
        source: ConfigSource,
    ) -> Self {
        let fallback = Arc::new(AckRoute::new(
            Arc::clone(&store),
            key.clone(),
            Arc::clone(&clock),
            FALLBACK_SERVICE_NAME,
        ));
        Self {
            ack: Deployed::new(Arc::clone(&store), source),
            store,
            clock,
            key,
            fallback,
        }
    }

    /// The acknowledgement route for the current configuration.
    async fn ack_route(&self) -> Arc<AckRoute> {
        let built = self
            .ack
            .get(|config, _version| async move {
                Ok::<_, Infallible>(AckRoute::new(
                    Arc::clone(&self.store),
                    self.key.clone(),
                    Arc::clone(&self.clock),
                    config.service.name,
                ))
            })
            .await;
        match built {
            Ok(route) => route,
            Err(e) => {
                // Acknowledging must not depend on the configuration being readable: the
                // link, the token and the escalation are all the route needs.
                tracing::warn!(error = %e, "configuration unavailable; serving links untitled");
                Arc::clone(&self.fallback)
            }
        }
    }

    /// Answers one request.
    pub async fn respond(&self, request: &HttpRequest) -> LambdaFunctionUrlResponse {
        if AckRoute::matches(&request.path) {
            let route = self.ack_route().await;
            let answer = route
                .respond(&AckRequest {
                    method: &request.method,
                    path: &request.path,
                })
                .await;
            return response(
                answer.status,
                answer.content_type,
                answer.body,
                &answer.headers,
            );
        }
        response(
            404,
            "text/plain; charset=utf-8",
            "Not found\n".to_owned(),
            &[],
        )
    }
}

/// Handles one invocation: a Function URL request, answered with its response.
pub async fn handle(
    api: &StatusApi,
    event: LambdaEvent<Value>,
) -> Result<LambdaFunctionUrlResponse, Error> {
    let (payload, _context) = event.into_parts();
    let request: LambdaFunctionUrlRequest = serde_json::from_value(payload)
        .map_err(|e| format!("the event is not a Function URL request: {e}"))?;
    let answer = match HttpRequest::from_function_url(&request) {
        Ok(request) => api.respond(&request).await,
        Err(e) => response(400, "text/plain; charset=utf-8", format!("{e}\n"), &[]),
    };
    tracing::info!(
        method = request.request_context.http.method.as_deref().unwrap_or(""),
        status = answer.status_code,
        "request"
    );
    Ok(answer)
}

/// A Function URL response with a text body.
fn response(
    status: u16,
    content_type: &str,
    body: String,
    headers: &[(&'static str, String)],
) -> LambdaFunctionUrlResponse {
    let mut map = HeaderMap::new();
    let all = [("Content-Type", content_type)]
        .into_iter()
        .chain(headers.iter().map(|(name, value)| (*name, value.as_str())));
    for (name, value) in all {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                map.append(name, value);
            }
            _ => tracing::error!(header = name, "header not representable; left out"),
        }
    }
    let mut answer = LambdaFunctionUrlResponse::default();
    answer.status_code = i64::from(status);
    answer.headers = map;
    answer.body = Some(body);
    answer.is_base64_encoded = false;
    answer
}

//! The HTTP edge of Service Desk. `handle` turns one request into one response:
//! authenticate, route, call the domain, and map errors to problem+json. The
//! Lambda (`functions/api`) and the local runner (`infra/local`) both call it.

pub mod auth;
pub mod body;
pub mod problem;
mod routes;
mod routes_cases;
mod routes_export;
mod routes_mail;
mod routes_texts;
mod strict;

use desk_domain::Desk;
use http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use tracing::Instrument;

pub use auth::{Authenticator, DevIssuer};
pub use problem::Problem;

/// What a handler needs, built once per cold start.
#[derive(Clone)]
pub struct App {
    pub desk: Desk,
    pub auth: Authenticator,
}

/// A JSON reply: status, body, extra headers.
pub struct Reply {
    status: StatusCode,
    body: Option<serde_json::Value>,
    /// A non-JSON body (downloads) and its content type.
    bytes: Option<(Vec<u8>, String)>,
    headers: Vec<(http::header::HeaderName, String)>,
}

impl Reply {
    pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Self, Problem> {
        let body = serde_json::to_value(value).map_err(|e| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("encode: {e}"),
            )
        })?;
        Ok(Self {
            status,
            body: Some(body),
            bytes: None,
            headers: vec![],
        })
    }

    pub fn ok<T: Serialize>(value: &T) -> Result<Self, Problem> {
        Self::json(StatusCode::OK, value)
    }

    pub fn no_content() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            body: None,
            bytes: None,
            headers: vec![],
        }
    }

    /// A download: `bytes` of `content_type`.
    pub fn bytes(bytes: Vec<u8>, content_type: &str) -> Self {
        Self {
            status: StatusCode::OK,
            body: None,
            bytes: Some((bytes, content_type.to_string())),
            headers: vec![],
        }
    }

    /// `303 See Other` to `location` (a download link).
    pub fn see_other(location: String) -> Self {
        Self {
            status: StatusCode::SEE_OTHER,
            body: None,
            bytes: None,
            headers: vec![(http::header::LOCATION, location)],
        }
    }

    pub fn header(mut self, name: http::header::HeaderName, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

fn request_id(req: &Request) -> String {
    use lambda_http::request::RequestContext;
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() {
        if let Some(id) = &ctx.request_id {
            return id.clone();
        }
    }
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

fn render(status: StatusCode, body: Option<Vec<u8>>, content_type: &str) -> Response<Body> {
    let has_body = body.is_some();
    let mut resp = Response::new(body.map_or(Body::Empty, Body::Binary));
    *resp.status_mut() = status;
    if has_body {
        let value = match content_type {
            "problem" => HeaderValue::from_static("application/problem+json"),
            "json" => HeaderValue::from_static("application/json"),
            other => HeaderValue::from_str(other)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
        };
        resp.headers_mut().insert(http::header::CONTENT_TYPE, value);
    }
    resp
}

pub fn problem_response(p: &Problem) -> Response<Body> {
    let body = serde_json::to_vec(p).unwrap_or_else(|_| b"{\"code\":\"internal\"}".to_vec());
    let mut resp = render(p.status(), Some(body), "problem");
    if p.status == 401 && p.code == "unauthorized" {
        resp.headers_mut().insert(
            http::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer"),
        );
    }
    if let Some(secs) = p.retry_after {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(http::header::RETRY_AFTER, v);
        }
    }
    resp
}

/// Handles one request. Never fails and never panics on input: every error is a
/// problem+json response.
pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let rid = request_id(&req);
    let span = tracing::info_span!("request", request_id = %rid, method = %req.method(), path = %req.uri().path());
    async move {
        let result = routes::dispatch(app, &req).await;
        let mut resp = match result {
            Ok(reply) => {
                let mut resp = match reply.bytes {
                    Some((bytes, content_type)) => render(reply.status, Some(bytes), &content_type),
                    None => {
                        let body = reply
                            .body
                            .as_ref()
                            .map(|b| serde_json::to_vec(b).unwrap_or_default());
                        render(reply.status, body, "json")
                    }
                };
                for (name, value) in reply.headers {
                    if let Ok(v) = HeaderValue::from_str(&value) {
                        resp.headers_mut().insert(name, v);
                    }
                }
                resp
            }
            Err(p) => {
                if p.status >= 500 {
                    tracing::error!(code = %p.code, detail = %p.detail, "request failed");
                } else {
                    tracing::info!(code = %p.code, status = p.status, "request refused");
                }
                if p.status == 405 {
                    let allow = p.detail.rsplit(": ").next().unwrap_or("").to_string();
                    let mut r = problem_response(&p);
                    if let Ok(v) = HeaderValue::from_str(&allow) {
                        r.headers_mut().insert(http::header::ALLOW, v);
                    }
                    r
                } else {
                    problem_response(&p)
                }
            }
        };
        if let Ok(v) = HeaderValue::from_str(&rid) {
            resp.headers_mut().insert("x-request-id", v);
        }
        tracing::info!(status = resp.status().as_u16(), "done");
        resp
    }
    .instrument(span)
    .await
}

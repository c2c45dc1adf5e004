//! The console Lambda: `GET /`, `/app/*`, `/assets/*`, `/config.json` on the desk's
//! HTTP API, answered from the console embedded in this binary. It builds no AWS
//! client: configuration (issuer, client id) comes from the environment, once.

use std::convert::Infallible;

use desk_console::{Console, ConsoleConfig};
use lambda_http::{service_fn, Body, Error, Request, Response};

fn respond(console: &Console, req: &Request) -> Response<Body> {
    match console.respond(req.method(), req.uri().path(), req.headers()) {
        Some(resp) => {
            let (parts, body) = resp.into_parts();
            let body = if body.is_empty() {
                Body::Empty
            } else {
                Body::Binary(body.to_vec())
            };
            Response::from_parts(parts, body)
        }
        // API Gateway routes only the console's paths here.
        None => {
            let mut r = Response::new(Body::Text(
                r#"{"type":"urn:service-desk:problem:route_not_found","title":"Not Found","status":404,"code":"route_not_found","detail":"not a console route"}"#.into(),
            ));
            *r.status_mut() = lambda_http::http::StatusCode::NOT_FOUND;
            r.headers_mut().insert(
                lambda_http::http::header::CONTENT_TYPE,
                lambda_http::http::HeaderValue::from_static("application/problem+json"),
            );
            r
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_current_span(false)
        .without_time()
        .init();
    let config = ConsoleConfig::from_env();
    if config.issuer.is_empty() || config.client_id.is_empty() {
        tracing::warn!("OIDC_ISSUER or OIDC_CLIENT_ID is empty: the console cannot sign in");
    }
    if !desk_console::REAL_CONSOLE_EMBEDDED {
        tracing::warn!("this binary carries the placeholder page, not the console");
    }
    let console = Console::embedded(config);
    lambda_http::run(service_fn(|req: Request| {
        let console = &console;
        async move { Ok::<_, Infallible>(respond(console, &req)) }
    }))
    .await
}

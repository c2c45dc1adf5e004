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
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    // `RUST_LOG` as `target=level` pairs and a default level, `info` if unset or unreadable.
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|spec| spec.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(false)
                .without_time(),
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An API Gateway HTTP API (v2) event from `tests/events`, with `path` put in.
    fn event(path: &str) -> Request {
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/events/apigw-v2-console-config.json"
        );
        let raw = std::fs::read_to_string(file).expect("fixture");
        let raw = raw.replace("\"/config.json\"", &format!("{path:?}"));
        lambda_http::request::from_str(&raw).expect("an API Gateway v2 event")
    }

    fn console() -> Console {
        Console::embedded(ConsoleConfig {
            issuer: "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_pool".into(),
            client_id: "client-1".into(),
            scope: "openid profile email".into(),
            origin: None,
            auth_origins: vec!["https://desk-x.auth.us-west-2.amazoncognito.com".into()],
            end_session_endpoint: Some(
                "https://desk-x.auth.us-west-2.amazoncognito.com/logout".into(),
            ),
        })
    }

    #[test]
    fn config_names_the_api_gateway_origin() {
        let resp = respond(&console(), &event("/config.json"));
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["cache-control"], "no-cache");
        let csp = resp.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("connect-src 'self' https://cognito-idp.us-west-2.amazonaws.com https://desk-x.auth.us-west-2.amazoncognito.com;"), "{csp}");
        let v: serde_json::Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
        assert_eq!(
            v["redirect_uri"],
            "https://aaaaaaaaaa.execute-api.us-west-2.amazonaws.com/app/auth/callback"
        );
        assert_eq!(
            v["post_logout_redirect_uri"],
            "https://aaaaaaaaaa.execute-api.us-west-2.amazonaws.com/"
        );
        assert_eq!(
            v["end_session_endpoint"],
            "https://desk-x.auth.us-west-2.amazoncognito.com/logout"
        );
    }

    #[test]
    fn pages_and_missing_assets() {
        let resp = respond(&console(), &event("/app/tickets/1001"));
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "text/html; charset=utf-8");
        assert!(matches!(resp.body(), Body::Binary(b) if !b.is_empty()));
        let resp = respond(&console(), &event("/assets/gone-000000.js"));
        assert_eq!(resp.status(), 404);
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        // A path API Gateway would not route here.
        assert_eq!(respond(&console(), &event("/tickets")).status(), 404);
    }
}

//! The local runner: serves the very same `desk_api::handle` over HTTP on
//! 127.0.0.1, with the same paths as API Gateway (no stage, no prefix), the web
//! console beside it through the same `desk_console::Console` the console Lambda
//! uses, and (with development tokens) the development OIDC issuer under
//! `/dev-oidc` that the console signs in with.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use axum::Router;
use desk_api::{App, Authenticator, Problem};
use desk_console::{Console, ConsoleConfig};
use http::StatusCode;
use lambda_http::Body;
use tokio::net::TcpListener;

use crate::dev_oidc::{self, DevOidc};
use crate::dev_oidc_http;

struct Served {
    app: App,
    console: Console,
}

async fn forward(State(served): State<Arc<Served>>, req: Request) -> Response {
    // The console's routes first (GET /, /app/*, /assets/*, /config.json), as API
    // Gateway routes them to the console function; everything else is the API's.
    if let Some(resp) = served
        .console
        .respond(req.method(), req.uri().path(), req.headers())
    {
        let (parts, body) = resp.into_parts();
        return Response::from_parts(parts, axum::body::Body::from(body));
    }
    let app = &served.app;
    let (parts, body) = req.into_parts();
    // API Gateway refuses bodies over 10 MB before the function sees them; so do we.
    let lambda_resp = match axum::body::to_bytes(body, 10 * 1024 * 1024).await {
        Ok(bytes) => {
            let body = if bytes.is_empty() {
                Body::Empty
            } else {
                match String::from_utf8(bytes.to_vec()) {
                    Ok(s) => Body::Text(s),
                    Err(e) => Body::Binary(e.into_bytes()),
                }
            };
            desk_api::handle(app, http::Request::from_parts(parts, body)).await
        }
        Err(_) => desk_api::problem_response(&Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the body is larger than API Gateway accepts",
        )),
    };
    let (parts, body) = lambda_resp.into_parts();
    let bytes: Vec<u8> = match body {
        Body::Empty => vec![],
        Body::Text(t) => t.into_bytes(),
        Body::Binary(b) => b,
        _ => vec![],
    };
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Lifetime of the development issuer's access tokens: `DEV_OIDC_TOKEN_TTL_SECONDS`
/// (default 900; short values exercise the console's renewal).
fn access_ttl() -> i64 {
    std::env::var("DEV_OIDC_TOKEN_TTL_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|t: &i64| *t > 0)
        .unwrap_or(900)
}

/// The API, the console and (for development tokens) the development issuer,
/// all on `origin` (`http://127.0.0.1:3000`).
pub fn router(app: App, origin: &str) -> Router {
    let (config, issuer) = match &app.auth {
        Authenticator::Dev(tokens) => {
            let oidc = Arc::new(DevOidc::new(origin, tokens.clone(), access_ttl()));
            let config = ConsoleConfig {
                issuer: oidc.issuer(),
                client_id: dev_oidc::CLIENT_ID.to_string(),
                scope: "openid profile email".into(),
                origin: Some(origin.to_string()),
                auth_origins: vec![],
                end_session_endpoint: None,
            };
            let issuer = dev_oidc_http::Issuer {
                oidc,
                directory: app.desk.directory.clone(),
            };
            (config, Some(issuer))
        }
        // Tokens from a real issuer: the console signs in there (as in the cloud).
        Authenticator::ApiGateway { .. } => (ConsoleConfig::from_env(), None),
    };
    let served = Served {
        app,
        console: Console::embedded(config),
    };
    let router = Router::new().fallback(forward).with_state(Arc::new(served));
    match issuer {
        Some(issuer) => router.merge(dev_oidc_http::routes(issuer)),
        None => router,
    }
}

/// Binds `addr` and serves until the process ends. Returns the bound address
/// (useful with port 0) and the serving task.
pub async fn spawn(
    app: App,
    addr: SocketAddr,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let router = router(app, &format!("http://{bound}"));
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "local API server stopped");
        }
    });
    Ok((bound, task))
}

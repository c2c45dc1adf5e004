//! The local runner: serves the very same `desk_api::handle` over HTTP on
//! 127.0.0.1, with the same paths as API Gateway (no stage, no prefix).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use axum::Router;
use desk_api::{App, Problem};
use http::StatusCode;
use lambda_http::Body;
use tokio::net::TcpListener;

async fn forward(State(app): State<Arc<App>>, req: Request) -> Response {
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
            desk_api::handle(&app, http::Request::from_parts(parts, body)).await
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

pub fn router(app: App) -> Router {
    Router::new().fallback(forward).with_state(Arc::new(app))
}

/// Binds `addr` and serves until the process ends. Returns the bound address
/// (useful with port 0) and the serving task.
pub async fn spawn(
    app: App,
    addr: SocketAddr,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router(app)).await {
            tracing::error!(error = %e, "local API server stopped");
        }
    });
    Ok((bound, task))
}

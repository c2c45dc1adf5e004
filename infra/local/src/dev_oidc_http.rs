//! The development issuer on HTTP, under `/dev-oidc` of the desk's origin:
//! discovery, the sign-in page (the desk's users, server-rendered, no script),
//! the token endpoint, logout and an empty JWKS. Protocol logic: `dev_oidc`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use desk_domain::ports::DirectoryStore;
use desk_domain::UserId;
use http::{header, HeaderValue, StatusCode};

use crate::dev_oidc::{AuthorizeError, AuthorizeRequest, DevOidc, Subject, ISSUER_PATH};

/// What the issuer's routes share.
#[derive(Clone)]
pub struct Issuer {
    pub oidc: Arc<DevOidc>,
    pub directory: Arc<dyn DirectoryStore>,
}

/// The pages' policy: their own stylesheet, forms posting to themselves, nothing else.
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:40rem;padding:0 1rem;color:#1a1a1a;background:#fff}\
h1{font-size:1.5rem}ul{list-style:none;padding:0}li{margin:.5rem 0}\
button{font:inherit;width:100%;text-align:left;padding:.75rem 1rem;border:1px solid #555;border-radius:6px;background:#f4f4f4;color:#1a1a1a;cursor:pointer}\
button:hover,button:focus-visible{background:#e0e8ff;outline:3px solid #1d4ed8;outline-offset:2px}\
.id,.role{color:#333}.note{color:#333;font-size:.9rem}";

pub fn routes(issuer: Issuer) -> Router {
    Router::new()
        .route(
            &format!("{ISSUER_PATH}/.well-known/openid-configuration"),
            get(discovery),
        )
        .route(
            &format!("{ISSUER_PATH}/authorize"),
            get(authorize_page).post(authorize_submit),
        )
        .route(&format!("{ISSUER_PATH}/token"), axum::routing::post(token))
        .route(&format!("{ISSUER_PATH}/logout"), get(logout))
        .route(&format!("{ISSUER_PATH}/jwks"), get(jwks))
        .route(&format!("{ISSUER_PATH}/style.css"), get(style))
        .with_state(issuer)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn query_params(req: &Request) -> Vec<(String, String)> {
    form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

async fn form_params(req: Request) -> Result<Vec<(String, String)>, Response> {
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let body = axum::body::to_bytes(req.into_body(), 64 * 1024)
        .await
        .map_err(|_| {
            oauth_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                "the body is too large",
            )
        })?;
    Ok(form_urlencoded::parse(&body).into_owned().collect())
}

fn json(status: StatusCode, value: &impl serde::Serialize) -> Response {
    let mut r = (status, serde_json::to_vec(value).unwrap_or_default()).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // Tokens are never cached (RFC 6749 5.1).
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json(
        status,
        &serde_json::json!({"error": error, "error_description": description}),
    )
}

fn see_other(location: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{t} · Service Desk development sign-in</title><link rel=\"stylesheet\" href=\"{ISSUER_PATH}/style.css\"></head>\
<body><main>{body}</main></body></html>\n",
        t = escape(title)
    );
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn refused(e: AuthorizeError) -> Response {
    match e.location() {
        Some(location) => see_other(&location),
        None => page(
            StatusCode::BAD_REQUEST,
            "Sign-in refused",
            &format!("<h1>Sign-in refused</h1><p>{}</p>", escape(&e.to_string())),
        ),
    }
}

async fn discovery(State(s): State<Issuer>) -> Response {
    let mut r = json(StatusCode::OK, &s.oidc.discovery());
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

async fn jwks() -> Response {
    // HS256 development tokens: the API verifies them with the development secret.
    json(StatusCode::OK, &serde_json::json!({"keys": []}))
}

async fn style() -> Response {
    let mut r = STYLE.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    r.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// The request's parameters again, as hidden fields of each sign-in form.
fn hidden_fields(req: &AuthorizeRequest) -> String {
    let mut fields = vec![
        ("response_type", "code".to_string()),
        ("client_id", req.client_id.clone()),
        ("redirect_uri", req.redirect_uri.clone()),
        ("scope", req.scope.clone()),
        ("code_challenge", req.code_challenge.clone()),
        ("code_challenge_method", "S256".to_string()),
    ];
    if let Some(s) = &req.state {
        fields.push(("state", s.clone()));
    }
    if let Some(n) = &req.nonce {
        fields.push(("nonce", n.clone()));
    }
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
                escape(v)
            )
        })
        .collect()
}

async fn authorize_page(State(s): State<Issuer>, req: Request) -> Response {
    let request = match s.oidc.authorize(&query_params(&req)) {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    let mut users = match s.directory.list_users().await {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "dev-oidc: reading the directory failed");
            return page(StatusCode::SERVICE_UNAVAILABLE, "Directory unavailable", "<h1>Directory unavailable</h1><p>The desk's users could not be read; try again.</p>");
        }
    };
    users.retain(|u| u.active);
    users.sort_by(|a, b| a.id.cmp(&b.id));
    let hidden = hidden_fields(&request);
    let items: String = users
        .iter()
        .map(|u| {
            format!(
                "<li><form method=\"post\" action=\"{ISSUER_PATH}/authorize\">{hidden}<button type=\"submit\" name=\"user\" value=\"{id}\">\
<strong>{name}</strong> <span class=\"id\">({id})</span> — <span class=\"role\">{role}</span></button></form></li>",
                id = escape(u.id.as_str()),
                name = escape(&u.name),
                role = escape(u.role.as_str()),
            )
        })
        .collect();
    let list = if users.is_empty() {
        "<p>The directory has no active users yet: run <code>make dev</code> (it seeds demo users) or <code>desk-local bootstrap-admin ID</code>.</p>".to_string()
    } else {
        format!("<ul aria-labelledby=\"who\">{items}</ul>")
    };
    page(
        StatusCode::OK,
        "Sign in",
        &format!(
            "<h1 id=\"who\">Sign in to Service Desk as…</h1>{list}\
<p class=\"note\">Local development issuer (AUTH_MODE=dev): no passwords. The cloud signs in with your OpenID Connect provider.</p>"
        ),
    )
}

async fn authorize_submit(State(s): State<Issuer>, req: Request) -> Response {
    let params = match form_params(req).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let request = match s.oidc.authorize(&params) {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    let chosen = params
        .iter()
        .find(|(k, _)| k == "user")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let user = match UserId::parse(chosen) {
        Ok(id) => s.directory.get_user(&id).await,
        Err(_) => Ok(None),
    };
    let user = match user {
        Ok(Some(u)) if u.active => u,
        Ok(_) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Unknown user",
                &format!(
                    "<h1>Unknown user</h1><p>{} is not an active user of this desk.</p>",
                    escape(chosen)
                ),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "dev-oidc: reading the directory failed");
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Directory unavailable",
                "<h1>Directory unavailable</h1><p>Try again.</p>",
            );
        }
    };
    let subject = Subject {
        id: user.id.as_str().to_string(),
        name: user.name.clone(),
        email: user.email.to_string(),
    };
    tracing::info!(user = %subject.id, "dev-oidc: signed in");
    see_other(&s.oidc.grant_code(request, subject, now()))
}

async fn token(State(s): State<Issuer>, req: Request) -> Response {
    let params = match form_params(req).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match s.oidc.token(&params, now()) {
        Ok(t) => json(StatusCode::OK, &t),
        Err(e) => {
            tracing::info!(error = e.error, detail = %e.error_description, "dev-oidc: token refused");
            json(
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
                &e,
            )
        }
    }
}

async fn logout(State(s): State<Issuer>, req: Request) -> Response {
    match s.oidc.logout(&query_params(&req)) {
        Some(location) => see_other(&location),
        None => page(
            StatusCode::OK,
            "Signed out",
            "<h1>Signed out</h1><p>You are signed out of the development issuer.</p>",
        ),
    }
}

//! Serves the agent web console from the desk's own origin, the same way in the
//! console Lambda (`functions/console`) and in `desk-local serve`:
//!
//! - `GET /`, `GET /app/{anything}`: `index.html` (the app routes in the browser), `no-cache`;
//! - `GET /assets/{file}`: the hashed build output, cached for a year (`immutable`),
//!   brotli or gzip as the client accepts (compressed at build time, see `build.rs`);
//! - `GET /config.json`: where to sign in (issuer, client id, redirect URIs), `no-cache`.
//!
//! Every response carries a strict Content-Security-Policy, `nosniff` and
//! `Referrer-Policy: no-referrer`. Other paths are not the console's (`None`).

use bytes::Bytes;
use http::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING,
    CONTENT_LENGTH, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, HOST, IF_NONE_MATCH,
    REFERRER_POLICY, VARY, X_CONTENT_TYPE_OPTIONS,
};
use http::{Method, Response, StatusCode};
use serde::Serialize;

/// One file of the build, with its pre-compressed forms (absent when they would
/// not be smaller, or for formats that are compressed already).
#[derive(Debug)]
pub struct Asset {
    /// Relative to the dist: `index.html`, `assets/index-3f2a9c.js`.
    pub path: &'static str,
    pub content_type: &'static str,
    /// Hex of the first 8 bytes of the content's SHA-256.
    pub etag: &'static str,
    pub identity: &'static [u8],
    pub gzip: Option<&'static [u8]>,
    pub brotli: Option<&'static [u8]>,
}

/// A whole build: `index.html` and the files under `assets/`, sorted by path.
#[derive(Debug)]
pub struct Bundle {
    /// False when `console/dist` was missing at build time and a placeholder page
    /// was embedded instead.
    pub real: bool,
    pub index: Asset,
    pub assets: &'static [Asset],
}

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// Whether this binary carries the real console (not the placeholder page).
pub const REAL_CONSOLE_EMBEDDED: bool = EMBEDDED.real;

impl Bundle {
    /// The file under `assets/` named `rest` (as it appears in the URL path).
    pub fn asset(&self, rest: &str) -> Option<&Asset> {
        // Exact names only: dot segments, empty segments, backslashes and escapes
        // never name a file of the build.
        if rest.is_empty()
            || rest.contains('\\')
            || rest.contains('%')
            || rest
                .split('/')
                .any(|seg| seg.is_empty() || seg == "." || seg == "..")
        {
            return None;
        }
        let key = format!("assets/{rest}");
        self.assets
            .binary_search_by(|a| a.path.cmp(key.as_str()))
            .ok()
            .map(|i| &self.assets[i])
    }
}

/// A representation the client accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    fn token(self) -> Option<&'static str> {
        match self {
            Encoding::Brotli => Some("br"),
            Encoding::Gzip => Some("gzip"),
            Encoding::Identity => None,
        }
    }
}

/// The q-value `Accept-Encoding` gives `coding` (explicitly or through `*`); 0 when refused.
fn quality(accept: &str, coding: &str) -> f32 {
    let mut star = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|v| v.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case(coding) {
            return q;
        }
        if name == "*" {
            star = Some(q);
        }
    }
    star.unwrap_or(0.0)
}

/// The best available encoding of `asset` for an `Accept-Encoding` header:
/// brotli over gzip (smaller) unless the client ranks gzip higher.
pub fn negotiate(accept: Option<&str>, asset: &Asset) -> Encoding {
    let Some(accept) = accept else {
        return Encoding::Identity;
    };
    let br = if asset.brotli.is_some() {
        quality(accept, "br")
    } else {
        0.0
    };
    let gz = if asset.gzip.is_some() {
        quality(accept, "gzip")
    } else {
        0.0
    };
    if br > 0.0 && br >= gz {
        Encoding::Brotli
    } else if gz > 0.0 {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// Where and how the console signs in; `GET /config.json` serves it.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// The OpenID Connect issuer (discovery at `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    pub scope: String,
    /// The desk's origin (`https://desk.example.com`); `None`: taken from the request's
    /// `Host` and `X-Forwarded-Proto` (API Gateway sets both).
    pub origin: Option<String>,
    /// More origins the browser talks to while signing in (a Cognito managed-login
    /// domain hosts the token endpoint apart from the issuer).
    pub auth_origins: Vec<String>,
    /// When the issuer's discovery document has none (Cognito): its logout URL.
    pub end_session_endpoint: Option<String>,
}

impl ConsoleConfig {
    /// From the environment the template sets: `OIDC_ISSUER`, `OIDC_CLIENT_ID`,
    /// `OIDC_SCOPE` (default `openid profile email`), `OIDC_AUTH_ORIGINS` (comma
    /// list), `OIDC_END_SESSION_ENDPOINT`, `CONSOLE_ORIGIN`.
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// From the variables `lookup` gives (the deploy rehearsal checks a deployed
    /// function's environment through this).
    pub fn from_lookup(lookup: impl Fn(&'static str) -> Option<String>) -> Self {
        let var = |k: &'static str| {
            lookup(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        Self {
            issuer: var("OIDC_ISSUER").unwrap_or_default(),
            client_id: var("OIDC_CLIENT_ID").unwrap_or_default(),
            scope: var("OIDC_SCOPE").unwrap_or_else(|| "openid profile email".into()),
            origin: var("CONSOLE_ORIGIN").map(|o| o.trim_end_matches('/').to_string()),
            auth_origins: var("OIDC_AUTH_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|o| o.trim().to_string())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            end_session_endpoint: var("OIDC_END_SESSION_ENDPOINT"),
        }
    }
}

/// `GET /config.json`: the fields the console reads.
#[derive(Debug, Serialize, PartialEq)]
pub struct RuntimeConfig {
    pub issuer: String,
    pub client_id: String,
    pub scope: String,
    pub redirect_uri: String,
    pub post_logout_redirect_uri: String,
    /// Prefix of API paths: the API is on the same origin.
    pub api_base: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<String>,
}

/// `scheme://host[:port]` of a URL, or `None` when it is not an http(s) URL.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    {
        return None;
    }
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// The origin a request was made to, from `Host` and `X-Forwarded-Proto`.
fn request_origin(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(HOST)?.to_str().ok()?;
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .unwrap_or("http");
    origin_of(&format!("{proto}://{host}/"))
}

/// The console's routes over one bundle and one sign-in configuration.
#[derive(Debug)]
pub struct Console {
    bundle: &'static Bundle,
    config: ConsoleConfig,
    csp: HeaderValue,
}

const NOT_FOUND: &str = r#"{"type":"urn:service-desk:problem:asset_not_found","title":"Not Found","status":404,"code":"asset_not_found","detail":"no such console asset"}"#;

impl Console {
    /// The console embedded in this binary.
    pub fn embedded(config: ConsoleConfig) -> Self {
        Self::new(&EMBEDDED, config)
    }

    pub fn new(bundle: &'static Bundle, config: ConsoleConfig) -> Self {
        let csp = content_security_policy(&config);
        let csp = HeaderValue::from_str(&csp).unwrap_or(HeaderValue::from_static(
            "default-src 'none'; frame-ancestors 'none'",
        ));
        Self {
            bundle,
            config,
            csp,
        }
    }

    pub fn config(&self) -> &ConsoleConfig {
        &self.config
    }

    /// The response for a console route, or `None` when the request is not one
    /// (other paths and methods belong to the API).
    pub fn respond(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Option<Response<Bytes>> {
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        let mut resp = if path == "/" || path.starts_with("/app/") {
            self.file(&self.bundle.index, "no-cache", headers)
        } else if let Some(rest) = path.strip_prefix("/assets/") {
            match self.bundle.asset(rest) {
                Some(asset) => self.file(asset, "public, max-age=31536000, immutable", headers),
                None => {
                    let mut r = Response::new(Bytes::from_static(NOT_FOUND.as_bytes()));
                    *r.status_mut() = StatusCode::NOT_FOUND;
                    set(&mut r, CONTENT_TYPE, "application/problem+json");
                    set(&mut r, CACHE_CONTROL, "no-cache");
                    r
                }
            }
        } else if path == "/config.json" {
            self.runtime_config(headers)
        } else {
            return None;
        };
        let h = resp.headers_mut();
        h.insert(CONTENT_SECURITY_POLICY, self.csp.clone());
        h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        if method == Method::HEAD {
            // The length GET would send, without the body.
            let len = HeaderValue::from(resp.body().len());
            resp.headers_mut().insert(CONTENT_LENGTH, len);
            *resp.body_mut() = Bytes::new();
        }
        Some(resp)
    }

    /// What `/config.json` says for a request with these headers.
    pub fn runtime_config_for(&self, headers: &HeaderMap) -> RuntimeConfig {
        let origin = self
            .config
            .origin
            .clone()
            .or_else(|| request_origin(headers))
            .unwrap_or_default();
        RuntimeConfig {
            issuer: self.config.issuer.clone(),
            client_id: self.config.client_id.clone(),
            scope: self.config.scope.clone(),
            redirect_uri: format!("{origin}/app/auth/callback"),
            post_logout_redirect_uri: format!("{origin}/"),
            api_base: String::new(),
            end_session_endpoint: self.config.end_session_endpoint.clone(),
        }
    }

    fn runtime_config(&self, headers: &HeaderMap) -> Response<Bytes> {
        let body = serde_json::to_vec(&self.runtime_config_for(headers)).unwrap_or_default();
        let mut r = Response::new(Bytes::from(body));
        set(&mut r, CONTENT_TYPE, "application/json");
        set(&mut r, CACHE_CONTROL, "no-cache");
        r
    }

    fn file(
        &self,
        asset: &'static Asset,
        cache: &'static str,
        headers: &HeaderMap,
    ) -> Response<Bytes> {
        let accept = headers.get(ACCEPT_ENCODING).and_then(|v| v.to_str().ok());
        let encoding = negotiate(accept, asset);
        let (bytes, etag) = match encoding {
            Encoding::Brotli => (
                asset.brotli.unwrap_or(asset.identity),
                format!("\"{}-br\"", asset.etag),
            ),
            Encoding::Gzip => (
                asset.gzip.unwrap_or(asset.identity),
                format!("\"{}-gz\"", asset.etag),
            ),
            Encoding::Identity => (asset.identity, format!("\"{}\"", asset.etag)),
        };
        let fresh = headers
            .get(IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
        let mut r = if fresh {
            let mut r = Response::new(Bytes::new());
            *r.status_mut() = StatusCode::NOT_MODIFIED;
            r
        } else {
            let mut r = Response::new(Bytes::from_static(bytes));
            set(&mut r, CONTENT_TYPE, asset.content_type);
            if let Some(token) = encoding.token() {
                set(&mut r, CONTENT_ENCODING, token);
            }
            r
        };
        set(&mut r, CACHE_CONTROL, cache);
        if let Ok(v) = HeaderValue::from_str(&etag) {
            r.headers_mut().insert(ETAG, v);
        }
        if asset.gzip.is_some() || asset.brotli.is_some() {
            set(&mut r, VARY, "accept-encoding");
        }
        r
    }
}

fn set(r: &mut Response<Bytes>, name: HeaderName, value: &'static str) {
    r.headers_mut()
        .insert(name, HeaderValue::from_static(value));
}

/// The policy of every console response. Scripts and styles only from the
/// desk's origin (no inline script, no `eval`); the browser talks to the desk
/// and the issuer only; nothing may frame the console, and it frames nothing
/// it loads: the email preview is an `<iframe sandbox srcdoc>`, which
/// `frame-src 'none'` allows (checked in Chromium) and which inherits this
/// policy, so a mail's remote images, scripts and inline styles stay blocked.
/// Tokens are renewed with refresh tokens, so no issuer iframe is needed.
pub fn content_security_policy(config: &ConsoleConfig) -> String {
    let mut auth: Vec<String> = Vec::new();
    for o in std::iter::once(&config.issuer).chain(config.auth_origins.iter()) {
        if let Some(origin) = origin_of(o) {
            if !auth.contains(&origin) {
                auth.push(origin);
            }
        }
    }
    let auth = auth.iter().fold(String::new(), |acc, o| acc + " " + o);
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
         font-src 'self'; connect-src 'self'{auth}; frame-src 'none'; base-uri 'none'; \
         form-action 'self'{auth}; frame-ancestors 'none'"
    )
}

#[cfg(test)]
mod tests;

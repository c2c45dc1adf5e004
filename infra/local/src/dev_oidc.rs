//! The local development OpenID Connect issuer (`AUTH_MODE=dev`, `desk-local serve`
//! only; the cloud signs in at the deployer's issuer or Cognito). It speaks the
//! same protocol the console uses in the cloud — authorization code + PKCE (S256),
//! refresh tokens, RP-initiated logout — so one sign-in code path runs in both.
//!
//! This module is the protocol without I/O: parameter checks, the PKCE check,
//! the single-use code store, refresh-token rotation and the token responses.
//! Time is passed in (`now`, Unix seconds). `dev_oidc_http` puts it on HTTP.
//!
//! The access token is the HS256 development token the API already accepts
//! (`desk_api::DevIssuer`). The id token is HS256 with a key that lives only in
//! this process, so nobody else can verify it: the console gets it from the token
//! endpoint directly (OIDC Core 3.1.3.7 lets a code-flow client trust that
//! channel) and the JWKS is empty; the API verifies the access tokens with the
//! development secret, as it always has.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use desk_api::DevIssuer;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The console's client id at the development issuer.
pub const CLIENT_ID: &str = "desk-console";
/// Authorization codes are good for this many seconds, once.
pub const CODE_TTL_SECONDS: i64 = 60;
/// Refresh tokens are good for this many seconds (rotated on every use).
pub const REFRESH_TTL_SECONDS: i64 = 12 * 3600;
/// Path of the issuer on the desk's origin.
pub const ISSUER_PATH: &str = "/dev-oidc";

/// Who signs in: what the id token says about them.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    pub id: String,
    pub name: String,
    pub email: String,
}

/// A checked authorization request (`/authorize`, `response_type=code`).
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub scope: String,
}

/// Why an authorization request is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AuthorizeError {
    /// Unknown client or a redirect URI that is not the desk's: shown on the
    /// issuer's own page, never redirected to (RFC 6749 4.1.2.1).
    #[error("{0}")]
    Untrusted(String),
    /// Redirected back to the client with `error` and `state`.
    #[error("{error}: {description}")]
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

impl AuthorizeError {
    /// Where the browser goes for a redirectable error (`None`: show a page).
    pub fn location(&self) -> Option<String> {
        match self {
            AuthorizeError::Untrusted(_) => None,
            AuthorizeError::Redirect {
                redirect_uri,
                state,
                error,
                description,
            } => {
                let mut q = vec![
                    ("error", error.to_string()),
                    ("error_description", description.clone()),
                ];
                if let Some(s) = state {
                    q.push(("state", s.clone()));
                }
                Some(with_query(redirect_uri, &q))
            }
        }
    }
}

/// A refused token request (RFC 6749 5.2).
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{error}: {error_description}")]
pub struct TokenError {
    pub error: &'static str,
    pub error_description: String,
}

impl TokenError {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            error_description: description.into(),
        }
    }
    fn grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", description)
    }
    /// 401 for a client that is not ours, 400 otherwise.
    pub fn status(&self) -> u16 {
        if self.error == "invalid_client" {
            401
        } else {
            400
        }
    }
}

/// A successful token response (RFC 6749 5.1, OIDC Core 3.1.3.3).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    pub id_token: String,
    pub scope: String,
}

#[derive(Debug, Clone)]
struct CodeGrant {
    request: AuthorizeRequest,
    subject: Subject,
    issued_at: i64,
}

#[derive(Debug, Clone)]
struct RefreshGrant {
    subject: Subject,
    client_id: String,
    scope: String,
    /// The sign-in this token descends from; logout ends it.
    session: String,
    /// When that sign-in happened: every renewed id token repeats it (OIDC Core 12.2).
    auth_time: i64,
    expires_at: i64,
}

/// One sign-in, which a chain of refresh tokens continues.
#[derive(Debug, Clone, Copy)]
struct Session<'a> {
    id: &'a str,
    auth_time: i64,
}

#[derive(Serialize)]
struct IdClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    sid: &'a str,
    name: &'a str,
    email: &'a str,
    preferred_username: &'a str,
}

/// The issuer's state: outstanding codes and refresh tokens (in memory: a
/// restart of `desk-local serve` signs everyone out, which is fine locally).
pub struct DevOidc {
    origin: String,
    access: DevIssuer,
    access_ttl: i64,
    id_key: Vec<u8>,
    codes: Mutex<HashMap<String, CodeGrant>>,
    refresh: Mutex<HashMap<String, RefreshGrant>>,
}

impl std::fmt::Debug for DevOidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevOidc")
            .field("issuer", &self.issuer())
            .finish_non_exhaustive()
    }
}

/// 256 random bits, URL-safe.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `uri` with `params` appended to its query.
pub fn with_query(uri: &str, params: &[(&str, String)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        q.append_pair(k, v);
    }
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{}", q.finish())
}

/// The S256 code challenge of a PKCE `code_verifier` (RFC 7636 4.2).
pub fn s256_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 4.1: 43-128 characters of `[A-Za-z0-9-._~]`.
fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

impl DevOidc {
    /// The issuer on `origin` (`http://127.0.0.1:3000`); access tokens from `access`,
    /// valid `access_ttl` seconds.
    pub fn new(origin: &str, access: DevIssuer, access_ttl: i64) -> Self {
        Self {
            origin: origin.trim_end_matches('/').to_string(),
            access,
            access_ttl,
            id_key: random_token().into_bytes(),
            codes: Mutex::default(),
            refresh: Mutex::default(),
        }
    }

    pub fn issuer(&self) -> String {
        format!("{}{ISSUER_PATH}", self.origin)
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Only URIs on the desk's own origin, without a fragment, are registered.
    pub fn allowed_redirect(&self, uri: &str) -> bool {
        uri.strip_prefix(&self.origin)
            .is_some_and(|rest| rest.starts_with('/'))
            && !uri.contains('#')
            && desk_console::origin_of(uri).as_deref() == Some(self.origin.as_str())
    }

    /// The discovery document (`/.well-known/openid-configuration`).
    pub fn discovery(&self) -> serde_json::Value {
        let iss = self.issuer();
        serde_json::json!({
            "issuer": iss,
            "authorization_endpoint": format!("{iss}/authorize"),
            "token_endpoint": format!("{iss}/token"),
            "end_session_endpoint": format!("{iss}/logout"),
            "jwks_uri": format!("{iss}/jwks"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["HS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": ["openid", "profile", "email"],
            "claims_supported": ["sub", "name", "email", "preferred_username", "nonce", "sid"],
        })
    }

    /// Checks an authorization request's parameters.
    pub fn authorize(
        &self,
        params: &[(String, String)],
    ) -> Result<AuthorizeRequest, AuthorizeError> {
        let client_id = param(params, "client_id").unwrap_or("");
        if client_id != CLIENT_ID {
            return Err(AuthorizeError::Untrusted(format!(
                "unknown client_id {client_id:?}"
            )));
        }
        let redirect_uri = param(params, "redirect_uri").unwrap_or("");
        if !self.allowed_redirect(redirect_uri) {
            return Err(AuthorizeError::Untrusted(format!(
                "redirect_uri {redirect_uri:?} is not on the desk's origin {}",
                self.origin
            )));
        }
        let state = param(params, "state").map(str::to_string);
        let refuse = |error: &'static str, description: &str| AuthorizeError::Redirect {
            redirect_uri: redirect_uri.to_string(),
            state: state.clone(),
            error,
            description: description.to_string(),
        };
        if param(params, "response_type") != Some("code") {
            return Err(refuse(
                "unsupported_response_type",
                "response_type must be code",
            ));
        }
        let scope = param(params, "scope").unwrap_or("");
        if !scope.split(' ').any(|s| s == "openid") {
            return Err(refuse("invalid_scope", "scope must include openid"));
        }
        let challenge = param(params, "code_challenge")
            .ok_or_else(|| refuse("invalid_request", "code_challenge is required (PKCE)"))?;
        if param(params, "code_challenge_method") != Some("S256") {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method must be S256",
            ));
        }
        if challenge.len() != 43 {
            return Err(refuse(
                "invalid_request",
                "code_challenge must be a base64url SHA-256",
            ));
        }
        Ok(AuthorizeRequest {
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            state: state.clone(),
            code_challenge: challenge.to_string(),
            nonce: param(params, "nonce").map(str::to_string),
            scope: scope.to_string(),
        })
    }

    /// `subject` signed in for `request`: a single-use code, and where to send the browser.
    pub fn grant_code(&self, request: AuthorizeRequest, subject: Subject, now: i64) -> String {
        let code = random_token();
        let mut q = vec![("code", code.clone())];
        if let Some(s) = &request.state {
            q.push(("state", s.clone()));
        }
        let location = with_query(&request.redirect_uri, &q);
        let mut codes = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        codes.retain(|_, g| now - g.issued_at <= CODE_TTL_SECONDS);
        codes.insert(
            code,
            CodeGrant {
                request,
                subject,
                issued_at: now,
            },
        );
        location
    }

    /// `POST /token`: the authorization code and refresh token grants.
    pub fn token(
        &self,
        params: &[(String, String)],
        now: i64,
    ) -> Result<TokenResponse, TokenError> {
        match param(params, "grant_type") {
            Some("authorization_code") => self.redeem_code(params, now),
            Some("refresh_token") => self.refresh(params, now),
            Some(other) => Err(TokenError::new(
                "unsupported_grant_type",
                format!("grant_type {other:?}"),
            )),
            None => Err(TokenError::new("invalid_request", "grant_type is required")),
        }
    }

    fn client(params: &[(String, String)]) -> Result<&str, TokenError> {
        match param(params, "client_id") {
            Some(CLIENT_ID) => Ok(CLIENT_ID),
            Some(other) => Err(TokenError::new(
                "invalid_client",
                format!("unknown client_id {other:?}"),
            )),
            None => Err(TokenError::new("invalid_request", "client_id is required")),
        }
    }

    fn redeem_code(
        &self,
        params: &[(String, String)],
        now: i64,
    ) -> Result<TokenResponse, TokenError> {
        let client_id = Self::client(params)?;
        let code = param(params, "code")
            .ok_or_else(|| TokenError::new("invalid_request", "code is required"))?;
        // Taken out on every attempt: a code is spent even by a failed redemption.
        let grant = self
            .codes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(code)
            .ok_or_else(|| TokenError::grant("unknown or already used code"))?;
        if now - grant.issued_at > CODE_TTL_SECONDS {
            return Err(TokenError::grant("the code has expired"));
        }
        if grant.request.client_id != client_id {
            return Err(TokenError::grant("the code was issued to another client"));
        }
        if param(params, "redirect_uri") != Some(grant.request.redirect_uri.as_str()) {
            return Err(TokenError::grant(
                "redirect_uri does not match the authorization request",
            ));
        }
        let verifier = param(params, "code_verifier").ok_or_else(|| {
            TokenError::new("invalid_request", "code_verifier is required (PKCE)")
        })?;
        if !valid_verifier(verifier) || s256_challenge(verifier) != grant.request.code_challenge {
            return Err(TokenError::grant(
                "code_verifier does not match the code_challenge",
            ));
        }
        let session = random_token();
        self.tokens(
            &grant.subject,
            client_id,
            &grant.request.scope,
            grant.request.nonce.as_deref(),
            Session {
                id: &session,
                auth_time: now,
            },
            now,
        )
    }

    fn refresh(&self, params: &[(String, String)], now: i64) -> Result<TokenResponse, TokenError> {
        let client_id = Self::client(params)?;
        let token = param(params, "refresh_token")
            .ok_or_else(|| TokenError::new("invalid_request", "refresh_token is required"))?;
        // Rotation: the presented token is spent; its successor comes with the response.
        let grant = self
            .refresh
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token)
            .ok_or_else(|| TokenError::grant("unknown, used or revoked refresh token"))?;
        if now > grant.expires_at {
            return Err(TokenError::grant("the refresh token has expired"));
        }
        if grant.client_id != client_id {
            return Err(TokenError::grant(
                "the refresh token was issued to another client",
            ));
        }
        self.tokens(
            &grant.subject,
            client_id,
            &grant.scope,
            None,
            Session {
                id: &grant.session,
                auth_time: grant.auth_time,
            },
            now,
        )
    }

    fn tokens(
        &self,
        subject: &Subject,
        client_id: &str,
        scope: &str,
        nonce: Option<&str>,
        session: Session<'_>,
        now: i64,
    ) -> Result<TokenResponse, TokenError> {
        let internal =
            |e: jsonwebtoken::errors::Error| TokenError::new("server_error", e.to_string());
        let access_token = self
            .access
            .issue(&subject.id, self.access_ttl)
            .map_err(internal)?;
        let iss = self.issuer();
        let claims = IdClaims {
            iss: &iss,
            sub: &subject.id,
            aud: client_id,
            iat: now,
            exp: now + self.access_ttl,
            auth_time: session.auth_time,
            nonce,
            sid: session.id,
            name: &subject.name,
            email: &subject.email,
            preferred_username: &subject.id,
        };
        let id_token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(&self.id_key),
        )
        .map_err(internal)?;
        let refresh_token = random_token();
        let mut refresh = self.refresh.lock().unwrap_or_else(|e| e.into_inner());
        refresh.retain(|_, g| now <= g.expires_at);
        refresh.insert(
            refresh_token.clone(),
            RefreshGrant {
                subject: subject.clone(),
                client_id: client_id.to_string(),
                scope: scope.to_string(),
                session: session.id.to_string(),
                auth_time: session.auth_time,
                expires_at: now + REFRESH_TTL_SECONDS,
            },
        );
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: self.access_ttl,
            refresh_token,
            id_token,
            scope: scope.to_string(),
        })
    }

    /// `GET /logout` (RP-initiated logout): ends the session the `id_token_hint`
    /// names (its refresh tokens stop working) and returns where to send the
    /// browser — the `post_logout_redirect_uri` when it is the desk's, else `None`.
    pub fn logout(&self, params: &[(String, String)]) -> Option<String> {
        if let Some(hint) = param(params, "id_token_hint") {
            let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
            // An expired id token still names the session to end.
            v.validate_exp = false;
            v.set_audience(&[CLIENT_ID]);
            v.set_issuer(&[self.issuer()]);
            v.set_required_spec_claims(&["sub"]);
            if let Ok(data) = jsonwebtoken::decode::<serde_json::Value>(
                hint,
                &jsonwebtoken::DecodingKey::from_secret(&self.id_key),
                &v,
            ) {
                if let Some(sid) = data.claims["sid"].as_str() {
                    self.refresh
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .retain(|_, g| g.session != sid);
                }
            }
        }
        let target =
            param(params, "post_logout_redirect_uri").filter(|u| self.allowed_redirect(u))?;
        Some(match param(params, "state") {
            Some(s) => with_query(target, &[("state", s.to_string())]),
            None => target.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "http://127.0.0.1:3000";
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const NOW: i64 = 1_800_000_000;

    fn oidc() -> (DevOidc, DevIssuer) {
        let issuer = DevIssuer::new(b"a-development-secret-of-32-bytes-or-more".to_vec());
        (DevOidc::new(ORIGIN, issuer.clone(), 900), issuer)
    }

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn authorize_params(redirect_uri: &str) -> Vec<(String, String)> {
        let challenge = s256_challenge(VERIFIER);
        params(&[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", redirect_uri),
            ("scope", "openid profile email"),
            ("state", "st-1"),
            ("nonce", "n-1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
    }

    fn alice() -> Subject {
        Subject {
            id: "alice".into(),
            name: "Alice".into(),
            email: "alice@desk.example".into(),
        }
    }

    const CALLBACK: &str = "http://127.0.0.1:3000/app/auth/callback";

    /// Signs alice in; returns the code from the redirect.
    fn code(o: &DevOidc, now: i64) -> String {
        let req = o
            .authorize(&authorize_params(CALLBACK))
            .expect("valid request");
        let location = o.grant_code(req, alice(), now);
        assert!(
            location.starts_with(&format!("{CALLBACK}?code=")),
            "{location}"
        );
        assert!(location.ends_with("&state=st-1"), "{location}");
        let query = location.split_once('?').unwrap().1;
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned()
    }

    fn redeem(code: &str, verifier: &str, redirect_uri: &str) -> Vec<(String, String)> {
        params(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", CLIENT_ID),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ])
    }

    fn claims(jwt: &str) -> serde_json::Value {
        let payload = jwt.split('.').nth(1).unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            s256_challenge(VERIFIER),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn pkce_code_flow_yields_tokens_the_api_accepts() {
        let (o, issuer) = oidc();
        let c = code(&o, NOW);
        let t = o
            .token(&redeem(&c, VERIFIER, CALLBACK), NOW + 5)
            .expect("tokens");
        assert_eq!(t.token_type, "Bearer");
        assert_eq!(t.expires_in, 900);
        // The access token is the development token the API verifies.
        assert_eq!(
            issuer.verify(&t.access_token).expect("API accepts it").sub,
            "alice"
        );
        let id = claims(&t.id_token);
        assert_eq!(id["iss"], "http://127.0.0.1:3000/dev-oidc");
        assert_eq!(id["aud"], CLIENT_ID);
        assert_eq!(id["sub"], "alice");
        assert_eq!(id["nonce"], "n-1");
        assert_eq!(id["name"], "Alice");
        assert_eq!(id["email"], "alice@desk.example");
        assert!(!t.refresh_token.is_empty());
    }

    #[test]
    fn wrong_verifier_is_refused_and_spends_the_code() {
        let (o, _) = oidc();
        let c = code(&o, NOW);
        let other = "x".repeat(43);
        let e = o.token(&redeem(&c, &other, CALLBACK), NOW).unwrap_err();
        assert_eq!(e.error, "invalid_grant");
        assert!(e.error_description.contains("code_verifier"), "{e}");
        // A verifier that is not even well-formed is refused the same way.
        let c2 = code(&o, NOW);
        assert_eq!(
            o.token(&redeem(&c2, "short", CALLBACK), NOW)
                .unwrap_err()
                .error,
            "invalid_grant"
        );
        // The right verifier no longer helps: the code was spent by the failed attempt.
        assert_eq!(
            o.token(&redeem(&c, VERIFIER, CALLBACK), NOW)
                .unwrap_err()
                .error,
            "invalid_grant"
        );
    }

    #[test]
    fn missing_verifier_is_an_invalid_request() {
        let (o, _) = oidc();
        let c = code(&o, NOW);
        let mut p = redeem(&c, VERIFIER, CALLBACK);
        p.retain(|(k, _)| k != "code_verifier");
        assert_eq!(o.token(&p, NOW).unwrap_err().error, "invalid_request");
    }

    #[test]
    fn a_code_is_used_once() {
        let (o, _) = oidc();
        let c = code(&o, NOW);
        assert!(o.token(&redeem(&c, VERIFIER, CALLBACK), NOW).is_ok());
        let e = o
            .token(&redeem(&c, VERIFIER, CALLBACK), NOW + 1)
            .unwrap_err();
        assert_eq!(e.error, "invalid_grant");
        assert!(e.error_description.contains("already used"), "{e}");
    }

    #[test]
    fn a_code_expires_after_60_seconds() {
        let (o, _) = oidc();
        let c = code(&o, NOW);
        assert_eq!(
            o.token(&redeem(&c, VERIFIER, CALLBACK), NOW + CODE_TTL_SECONDS + 1)
                .unwrap_err(),
            TokenError::grant("the code has expired")
        );
        let fresh = code(&o, NOW);
        assert!(
            o.token(&redeem(&fresh, VERIFIER, CALLBACK), NOW + CODE_TTL_SECONDS)
                .is_ok(),
            "60 s is still valid"
        );
    }

    #[test]
    fn foreign_redirect_uris_are_never_redirected_to() {
        let (o, _) = oidc();
        for uri in [
            "https://evil.example/app/auth/callback",
            "http://127.0.0.1:3001/app/auth/callback",
            "http://127.0.0.1:3000.evil.example/cb",
            "http://127.0.0.1:3000@evil.example/cb",
            "http://127.0.0.1:3000",
            "http://127.0.0.1:3000/app/auth/callback#frag",
            "//evil.example/cb",
            "",
        ] {
            match o.authorize(&authorize_params(uri)) {
                Err(e @ AuthorizeError::Untrusted(_)) => assert_eq!(e.location(), None, "{uri}"),
                other => panic!("{uri}: {other:?}"),
            }
            // Nor does logout send the browser there.
            assert_eq!(
                o.logout(&params(&[("post_logout_redirect_uri", uri)])),
                None,
                "{uri}"
            );
        }
        let mut p = authorize_params(CALLBACK);
        p.retain(|(k, _)| k != "client_id");
        p.push(("client_id".into(), "someone-else".into()));
        assert!(matches!(o.authorize(&p), Err(AuthorizeError::Untrusted(_))));
    }

    #[test]
    fn redirect_uri_must_match_at_the_token_endpoint() {
        let (o, _) = oidc();
        let c = code(&o, NOW);
        let e = o
            .token(
                &redeem(&c, VERIFIER, "http://127.0.0.1:3000/app/other"),
                NOW,
            )
            .unwrap_err();
        assert_eq!(e.error, "invalid_grant");
        let c = code(&o, NOW);
        let mut p = redeem(&c, VERIFIER, CALLBACK);
        p.retain(|(k, _)| k != "client_id");
        p.push(("client_id".into(), "other".into()));
        let e = o.token(&p, NOW).unwrap_err();
        assert_eq!((e.error, e.status()), ("invalid_client", 401));
    }

    #[test]
    fn pkce_is_required_and_plain_is_refused() {
        let (o, _) = oidc();
        let without = |name: &str| {
            let mut p = authorize_params(CALLBACK);
            p.retain(|(k, _)| k != name);
            p
        };
        let mut plain = without("code_challenge_method");
        plain.push(("code_challenge_method".into(), "plain".into()));
        for p in [
            without("code_challenge"),
            without("code_challenge_method"),
            plain,
        ] {
            let e = o.authorize(&p).unwrap_err();
            let loc = e.location().expect("redirected with an error");
            assert!(
                loc.starts_with(&format!("{CALLBACK}?error=invalid_request")),
                "{loc}"
            );
            assert!(loc.ends_with("&state=st-1"), "{loc}");
        }
    }

    #[test]
    fn refresh_tokens_rotate_and_logout_ends_the_session() {
        let (o, issuer) = oidc();
        let t = o
            .token(&redeem(&code(&o, NOW), VERIFIER, CALLBACK), NOW)
            .unwrap();
        let refresh = |token: &str, now| {
            o.token(
                &params(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token),
                    ("client_id", CLIENT_ID),
                ]),
                now,
            )
        };
        let t2 = refresh(&t.refresh_token, NOW + 800).expect("refreshed");
        assert_eq!(issuer.verify(&t2.access_token).unwrap().sub, "alice");
        let (first, renewed) = (claims(&t.id_token), claims(&t2.id_token));
        // What a client checks on a renewed id token (OIDC Core 12.2): same issuer,
        // subject, audience and auth_time; a new iat.
        for claim in ["sid", "iss", "sub", "aud", "auth_time"] {
            assert_eq!(renewed[claim], first[claim], "{claim}");
        }
        assert_eq!(renewed["iat"], NOW + 800);
        assert_eq!(
            refresh(&t.refresh_token, NOW + 801).unwrap_err().error,
            "invalid_grant",
            "rotated out"
        );
        assert_eq!(
            refresh(&t2.refresh_token, NOW + REFRESH_TTL_SECONDS + 801)
                .unwrap_err()
                .error,
            "invalid_grant",
            "expired"
        );

        let t3 = o
            .token(&redeem(&code(&o, NOW), VERIFIER, CALLBACK), NOW)
            .unwrap();
        let other_session = o
            .token(&redeem(&code(&o, NOW), VERIFIER, CALLBACK), NOW)
            .unwrap();
        let back = o.logout(&params(&[
            ("id_token_hint", &t3.id_token),
            ("post_logout_redirect_uri", "http://127.0.0.1:3000/"),
            ("state", "s9"),
        ]));
        assert_eq!(back.as_deref(), Some("http://127.0.0.1:3000/?state=s9"));
        assert_eq!(
            refresh(&t3.refresh_token, NOW + 1).unwrap_err().error,
            "invalid_grant",
            "session ended"
        );
        assert!(
            refresh(&other_session.refresh_token, NOW + 1).is_ok(),
            "another sign-in is untouched"
        );
    }

    #[test]
    fn unknown_grant_types_and_scopes() {
        let (o, _) = oidc();
        assert_eq!(
            o.token(&params(&[("grant_type", "password")]), NOW)
                .unwrap_err()
                .error,
            "unsupported_grant_type"
        );
        let mut p = authorize_params(CALLBACK);
        p.retain(|(k, _)| k != "scope");
        p.push(("scope".into(), "profile".into()));
        assert!(o
            .authorize(&p)
            .unwrap_err()
            .location()
            .unwrap()
            .contains("error=invalid_scope"));
    }
}

//! Who is calling. In the cloud API Gateway's JWT authorizer has verified the
//! token and the function reads its claims; locally (and in tests) the function
//! verifies tokens of the development issuer itself.

use std::collections::HashMap;

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde::{Deserialize, Serialize};

use crate::problem::Problem;

/// The local development issuer: HS256 tokens for local users.
#[derive(Clone)]
pub struct DevIssuer {
    pub issuer: String,
    pub audience: String,
    secret: Vec<u8>,
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("DevIssuer")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DevClaims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

impl DevIssuer {
    pub const DEFAULT_ISSUER: &'static str = "http://127.0.0.1:3000/dev-issuer";
    pub const DEFAULT_AUDIENCE: &'static str = "service-desk";

    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self {
            issuer: Self::DEFAULT_ISSUER.into(),
            audience: Self::DEFAULT_AUDIENCE.into(),
            secret: secret.into(),
        }
    }

    /// A token for `user` valid for `ttl_seconds` (negative: already expired, for tests).
    pub fn issue(
        &self,
        user: &str,
        ttl_seconds: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = Utc::now().timestamp();
        let claims = DevClaims {
            sub: user.to_string(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now + ttl_seconds,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.secret),
        )
    }

    pub fn verify(&self, token: &str) -> Result<DevClaims, Problem> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.leeway = 30;
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<DevClaims>(token, &DecodingKey::from_secret(&self.secret), &v)
            .map(|d| d.claims)
            .map_err(|e| {
                let why = match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => "the token has expired",
                    jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                        "the token's signature is invalid"
                    }
                    jsonwebtoken::errors::ErrorKind::InvalidIssuer => {
                        "the token's issuer is not accepted"
                    }
                    jsonwebtoken::errors::ErrorKind::InvalidAudience => {
                        "the token's audience is not accepted"
                    }
                    _ => "the token is malformed",
                };
                Problem::unauthorized(why)
            })
    }
}

#[derive(Debug, Clone)]
pub enum Authenticator {
    /// API Gateway's JWT authorizer verified the token; `user_claim` names the desk user.
    ApiGateway { user_claim: String },
    /// The function verifies bearer tokens of the development issuer.
    Dev(DevIssuer),
}

fn bearer(req: &Request) -> Result<&str, Problem> {
    let header = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .ok_or_else(|| Problem::unauthorized("missing Authorization: Bearer token"))?;
    let value = header
        .to_str()
        .map_err(|_| Problem::unauthorized("malformed Authorization header"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(Problem::unauthorized(
            "the Authorization header must be: Bearer <token>",
        )),
    }
}

fn authorizer_claims(req: &Request) -> Option<&HashMap<String, String>> {
    match req.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => {
            ctx.authorizer.as_ref()?.jwt.as_ref().map(|j| &j.claims)
        }
        _ => None,
    }
}

impl Authenticator {
    /// The desk user id the request is made as, or 401.
    pub fn subject(&self, req: &Request) -> Result<String, Problem> {
        match self {
            Authenticator::ApiGateway { user_claim } => authorizer_claims(req)
                .and_then(|c| c.get(user_claim))
                .filter(|s| !s.is_empty())
                .cloned()
                .ok_or_else(|| Problem::unauthorized("no verified token on the request")),
            Authenticator::Dev(issuer) => Ok(issuer.verify(bearer(req)?)?.sub),
        }
    }
}

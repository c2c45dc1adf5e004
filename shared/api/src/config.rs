//! Configuration from environment variables (set in `template.yaml`, or by `make dev`).

use crate::auth::{Authenticator, DevIssuer};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {0}: {1}")]
    Invalid(&'static str, String),
}

fn var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `AUTH_MODE=apigateway` (default; claims from the HTTP API's JWT authorizer, user
/// in `AUTH_USER_CLAIM`, default `sub`) or `AUTH_MODE=dev` (HS256 tokens of the
/// local issuer, secret in `DEV_JWT_SECRET`).
pub fn authenticator() -> Result<Authenticator, ConfigError> {
    match var("AUTH_MODE").as_deref().unwrap_or("apigateway") {
        "apigateway" => Ok(Authenticator::ApiGateway {
            user_claim: var("AUTH_USER_CLAIM").unwrap_or_else(|| "sub".into()),
        }),
        "dev" => {
            let secret = var("DEV_JWT_SECRET").ok_or(ConfigError::Missing("DEV_JWT_SECRET"))?;
            if secret.len() < 32 {
                return Err(ConfigError::Invalid(
                    "DEV_JWT_SECRET",
                    "must be at least 32 characters".into(),
                ));
            }
            Ok(Authenticator::Dev(DevIssuer::new(secret.into_bytes())))
        }
        other => Err(ConfigError::Invalid(
            "AUTH_MODE",
            format!("unknown mode {other:?}; use apigateway or dev"),
        )),
    }
}

//! `application/problem+json` errors with a stable `code`, mapped once from the
//! domain's errors.

use desk_domain::{DeskError, FieldError};
use http::StatusCode;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub code: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<u64>,
    /// For `illegal_transition`: the service case's status now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_status: Option<String>,
    /// For `rate_limited`: seconds until the next window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("urn:service-desk:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            code: code.to_string(),
            detail: detail.into(),
            field: None,
            current_version: None,
            current_status: None,
            retry_after: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn invalid_field(e: FieldError) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_field",
            format!("{}: {}", e.field, e.message),
        )
        .with_field(e.field)
    }

    pub fn invalid_query(e: FieldError) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            format!("query parameter {}: {}", e.field, e.message),
        )
        .with_field(e.field)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    pub fn not_found(what: &str) -> Self {
        Problem::new(
            StatusCode::NOT_FOUND,
            &format!("{what}_not_found"),
            format!("no such {what}"),
        )
    }
}

impl From<DeskError> for Problem {
    fn from(e: DeskError) -> Self {
        match e {
            DeskError::Invalid(f) => Problem::invalid_field(f),
            DeskError::NotFound { what } => Problem::not_found(what),
            DeskError::Forbidden(msg) => Problem::new(StatusCode::FORBIDDEN, "forbidden", msg),
            DeskError::UnknownCaller => Problem::new(
                StatusCode::FORBIDDEN,
                "unknown_user",
                "the token is valid but names no active user of this desk",
            ),
            DeskError::VersionConflict { current } => {
                let mut p = Problem::new(
                    StatusCode::CONFLICT,
                    "version_conflict",
                    format!("this was changed by someone else meanwhile; the current version is {current}"),
                )
                .with_field("version");
                p.current_version = Some(current);
                p
            }
            DeskError::AlreadyExists { what } => Problem::new(
                StatusCode::CONFLICT,
                "already_exists",
                format!("this {what} already exists"),
            )
            .with_field("id"),
            DeskError::Conflict { code, message } => {
                Problem::new(StatusCode::CONFLICT, code, message)
            }
            DeskError::InvalidCursor => Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_cursor",
                "cursor is not one this API returned for the same query",
            )
            .with_field("cursor"),
            DeskError::IllegalTransition { current, message } => {
                let mut p = Problem::new(StatusCode::CONFLICT, "illegal_transition", message);
                p.current_status = Some(current);
                p
            }
            DeskError::RateLimited { retry_after } => {
                let mut p = Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "too many requests; slow down",
                );
                p.retry_after = Some(retry_after);
                p
            }
            DeskError::Storage(msg) => {
                tracing::error!(error = %msg, "storage failure");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "storage is unavailable; try again",
                )
            }
        }
    }
}

//! Domain errors. Mapped once, at the edge, to HTTP problems.

use thiserror::Error;

/// Why a value was refused; carries the offending field so the edge can name it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error, nested under a parent field (`customer` + `email` → `customer.email`).
    pub fn under(self, parent: &str) -> Self {
        Self {
            field: format!("{parent}.{}", self.field),
            message: self.message,
        }
    }
}

/// Everything a domain operation can fail with.
#[derive(Debug, Error)]
pub enum DeskError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("{0}")]
    Forbidden(String),
    #[error("the caller is not a user of this desk")]
    UnknownCaller,
    #[error("the ticket was changed by someone else (current version {current})")]
    VersionConflict { current: u64 },
    #[error("{what} already exists")]
    AlreadyExists { what: &'static str },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("invalid cursor")]
    InvalidCursor,
    /// A service-case event that the case's current state does not allow.
    #[error("{message}")]
    IllegalTransition { current: String, message: String },
    #[error("too many requests; retry in {retry_after} s")]
    RateLimited { retry_after: u32 },
    #[error("storage: {0}")]
    Storage(String),
}

impl DeskError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DeskError::Invalid(FieldError::new(field, message))
    }

    /// A thing named in a request body that does not exist (or may not be seen)
    /// is the body's fault: `NotFound` becomes `Invalid` naming `field`; other
    /// errors pass through.
    pub fn named_in(self, field: &str, message: impl Into<String>) -> Self {
        match self {
            DeskError::NotFound { .. } => DeskError::invalid(field, message),
            other => other,
        }
    }
}

pub type DeskResult<T> = Result<T, DeskError>;

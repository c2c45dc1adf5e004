//! Internal notes: visible in the expert view, never emailed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::types::{bounded_text, limits, TicketNumber};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub id: String,
    pub ticket: TicketNumber,
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// `POST /tickets/{id}/notes` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    pub body: String,
}

impl NewNote {
    pub fn body(&self) -> Result<String, FieldError> {
        bounded_text(&self.body, limits::NOTE, false)
            .map_err(|e| FieldError::new("body", e.message))
    }
}

/// The first line of a note, cut to 120 characters, for the activity log.
pub fn excerpt(body: &str) -> String {
    let first = body.lines().next().unwrap_or("");
    let mut out: String = first.chars().take(120).collect();
    if first.chars().count() > 120 || body.lines().count() > 1 {
        out.push('…');
    }
    out
}

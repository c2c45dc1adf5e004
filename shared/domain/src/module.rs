//! QuickSupport modules: the customer-side entry points (a custom module or the
//! SOS button) that open service cases without an agent login.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::types::{bounded_text, limits, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModuleKind {
    /// The customer's own QuickSupport module.
    Custom,
    /// The SOS button on a website.
    Sos,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Module {
    /// Public identifier used in `/public/modules/{moduleId}/cases`.
    pub id: String,
    pub name: String,
    pub kind: ModuleKind,
    pub enabled: bool,
    /// Who cases from this module go to (unassigned if none).
    pub assignee: Option<UserId>,
    /// Cases this module may open per minute.
    pub cases_per_minute: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const DEFAULT_CASES_PER_MINUTE: u32 = 10;
pub const MAX_CASES_PER_MINUTE: u32 = 600;

/// `POST /modules` and `PUT /modules/{id}` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleInput {
    pub name: String,
    pub kind: ModuleKind,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub assignee: Option<UserId>,
    #[serde(default)]
    pub cases_per_minute: Option<u32>,
}

fn yes() -> bool {
    true
}

impl ModuleInput {
    pub fn into_module(
        self,
        id: String,
        created_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Module, FieldError> {
        let per_minute = self.cases_per_minute.unwrap_or(DEFAULT_CASES_PER_MINUTE);
        if per_minute == 0 || per_minute > MAX_CASES_PER_MINUTE {
            return Err(FieldError::new(
                "cases_per_minute",
                format!("must be from 1 to {MAX_CASES_PER_MINUTE}"),
            ));
        }
        Ok(Module {
            id,
            name: bounded_text(&self.name, limits::PERSON_NAME, false)
                .map_err(|e| FieldError::new("name", e.message))?,
            kind: self.kind,
            enabled: self.enabled,
            assignee: self.assignee,
            cases_per_minute: per_minute,
            created_at,
            updated_at: now,
        })
    }
}

/// Module ids are random and public: `m` + 20 lowercase letters/digits.
pub fn is_module_id(raw: &str) -> bool {
    raw.len() == 21
        && raw.starts_with('m')
        && raw[1..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

//! Users and groups: who works the desk.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::types::{bounded_text, limits, EmailAddress, GroupId, Role, UserId};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub email: EmailAddress,
    pub role: Role,
    pub groups: Vec<GroupId>,
    /// An inactive user can no longer call the API; their history stays.
    pub active: bool,
    /// Markdown below this user's replies, before the desk's (empty: none).
    #[serde(default)]
    pub signature: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn display_name(raw: &str) -> Result<String, FieldError> {
    bounded_text(raw, limits::PERSON_NAME, false).map_err(|e| FieldError::new("name", e.message))
}

fn unique_groups(groups: Vec<GroupId>) -> Result<Vec<GroupId>, FieldError> {
    if groups.len() > limits::GROUPS_PER_USER {
        return Err(FieldError::new(
            "groups",
            format!("at most {} groups", limits::GROUPS_PER_USER),
        ));
    }
    let mut out: Vec<GroupId> = Vec::with_capacity(groups.len());
    for g in groups {
        if !out.contains(&g) {
            out.push(g);
        }
    }
    Ok(out)
}

fn signature(raw: &str) -> Result<String, FieldError> {
    use crate::mail::text_modules::{module_text, SIGNATURE_TEXT};
    module_text(raw, "signature", SIGNATURE_TEXT, true)
}

/// `POST /users` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub id: UserId,
    pub name: String,
    pub email: EmailAddress,
    pub role: Role,
    #[serde(default)]
    pub groups: Vec<GroupId>,
    #[serde(default)]
    pub signature: String,
}

impl NewUser {
    pub fn into_user(self, now: DateTime<Utc>) -> Result<User, FieldError> {
        Ok(User {
            id: self.id,
            name: display_name(&self.name)?,
            email: self.email,
            role: self.role,
            groups: unique_groups(self.groups)?,
            active: true,
            signature: signature(&self.signature)?,
            created_at: now,
            updated_at: now,
        })
    }
}

/// `PUT /users/{id}` body: the whole editable record.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub name: String,
    pub email: EmailAddress,
    pub role: Role,
    #[serde(default)]
    pub groups: Vec<GroupId>,
    #[serde(default = "yes")]
    pub active: bool,
    /// Absent: kept as it is (clients that predate signatures clear nothing).
    #[serde(default)]
    pub signature: Option<String>,
}

fn yes() -> bool {
    true
}

impl UserUpdate {
    pub fn apply(self, user: &User, now: DateTime<Utc>) -> Result<User, FieldError> {
        Ok(User {
            id: user.id.clone(),
            name: display_name(&self.name)?,
            email: self.email,
            role: self.role,
            groups: unique_groups(self.groups)?,
            active: self.active,
            signature: match &self.signature {
                Some(s) => signature(s)?,
                None => user.signature.clone(),
            },
            created_at: user.created_at,
            updated_at: now,
        })
    }
}

/// `POST /groups` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    pub id: GroupId,
    pub name: String,
    #[serde(default)]
    pub description: String,
}

fn group_description(raw: &str) -> Result<String, FieldError> {
    bounded_text(raw, limits::GROUP_DESCRIPTION, true)
        .map_err(|e| FieldError::new("description", e.message))
}

impl NewGroup {
    pub fn into_group(self, now: DateTime<Utc>) -> Result<Group, FieldError> {
        Ok(Group {
            id: self.id,
            name: display_name(&self.name)?,
            description: group_description(&self.description)?,
            created_at: now,
            updated_at: now,
        })
    }
}

/// `PUT /groups/{id}` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupUpdate {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

impl GroupUpdate {
    pub fn apply(self, group: &Group, now: DateTime<Utc>) -> Result<Group, FieldError> {
        Ok(Group {
            id: group.id.clone(),
            name: display_name(&self.name)?,
            description: group_description(&self.description)?,
            created_at: group.created_at,
            updated_at: now,
        })
    }
}

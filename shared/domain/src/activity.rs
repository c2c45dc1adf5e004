//! The activity log: every change, note and (later) email and session event on a
//! ticket, in order, with who did it and when.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::types::UserId;
use crate::session::{CaseStatus, SessionCode};
use crate::ticket::FieldChange;
use crate::types::{Source, TicketNumber};

/// Who caused an activity entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Actor {
    User { id: String },
    /// The customer, through their QuickSupport module.
    Customer,
    System,
}

impl Actor {
    pub fn user(u: &UserId) -> Self {
        Actor::User { id: u.as_str().to_string() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActivityKind {
    TicketCreated { source: Source },
    FieldsChanged { changes: Vec<FieldChange> },
    NoteAdded { note_id: String, excerpt: String },
    /// A remote-support session was created; the join link can be copied from here.
    SessionCreated { code: SessionCode, join_link: String, assignee: Option<UserId> },
    SessionChanged { code: SessionCode, from: CaseStatus, to: CaseStatus },
    SessionDeleted { code: SessionCode },
    /// An email the desk sent (`message_id` as the mail service returned it).
    EmailSent { mail_id: String, to: Vec<String>, subject: String, message_id: String, purpose: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityEntry {
    /// Time-ordered id (UUIDv7): entries sort by it.
    pub id: String,
    pub ticket: TicketNumber,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    #[serde(flatten)]
    pub kind: ActivityKind,
}

impl ActivityEntry {
    pub fn new(ticket: TicketNumber, at: DateTime<Utc>, actor: Actor, kind: ActivityKind) -> Self {
        Self { id: time_ordered_id(at), ticket, at, actor, kind }
    }
}

/// A UUIDv7 for `at`: sorts by time, unique across concurrent writers.
pub fn time_ordered_id(at: DateTime<Utc>) -> String {
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        at.timestamp().max(0) as u64,
        at.timestamp_subsec_nanos(),
    );
    Uuid::new_v7(ts).to_string()
}

//! The activity log: every change, note and (later) email and session event on a
//! ticket, in order, with who did it and when.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::session::{CaseStatus, SessionCode};
use crate::ticket::FieldChange;
use crate::types::UserId;
use crate::types::{Source, TicketNumber};

/// Who caused an activity entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Actor {
    User {
        id: String,
    },
    /// The customer, through their QuickSupport module.
    Customer,
    /// Whoever sent an email.
    Sender {
        address: String,
    },
    System,
}

impl Actor {
    pub fn user(u: &UserId) -> Self {
        Actor::User {
            id: u.as_str().to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActivityKind {
    TicketCreated {
        source: Source,
    },
    FieldsChanged {
        changes: Vec<FieldChange>,
    },
    NoteAdded {
        note_id: String,
        excerpt: String,
    },
    /// A remote-support session was created; the join link can be copied from here.
    SessionCreated {
        code: SessionCode,
        join_link: String,
        assignee: Option<UserId>,
    },
    SessionChanged {
        code: SessionCode,
        from: CaseStatus,
        to: CaseStatus,
    },
    SessionDeleted {
        code: SessionCode,
    },
    /// An email arrived on the ticket (`message_id` is the stored message's id).
    EmailReceived {
        message_id: String,
        from: String,
        subject: String,
        excerpt: String,
        automation: Option<String>,
        /// From a third party the ticket was forwarded to, not the customer.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        third_party: bool,
    },
    /// A rule applied to the ticket created from an email.
    RuleApplied {
        rule_id: String,
        rule_name: String,
        summary: String,
    },
    /// An agent replied by email (`message_id` is the stored message's id); the
    /// mailer logs `email_sent` once the mail service accepted it.
    ReplyWritten {
        message_id: String,
        to: Vec<String>,
        cc: Vec<String>,
        subject: String,
        excerpt: String,
    },
    /// An agent forwarded the ticket's mail (`forwarded`, a message of its
    /// thread) or wrote a new one to third parties (`message_id` is the stored
    /// message's id); their answers thread back to the ticket.
    Forwarded {
        message_id: String,
        to: Vec<String>,
        cc: Vec<String>,
        subject: String,
        excerpt: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        forwarded: Option<String>,
    },
    /// Mail the desk sent could not be delivered to `recipients` (a bounce came back).
    DeliveryFailed {
        recipients: Vec<String>,
        /// The bounced mail's Message-ID, if the report named it.
        original_message_id: Option<String>,
        /// The stored bounce report.
        report_message_id: String,
    },
    /// This ticket was merged into `target`, which shows its conversation now.
    MergedInto {
        target: TicketNumber,
    },
    /// `source` was merged into this ticket, with `tickets` (it and any merged
    /// into it before): their messages, notes and activity read here now.
    MergedFrom {
        source: TicketNumber,
        tickets: Vec<TicketNumber>,
    },
    /// An email the desk sent (`message_id` as the mail service returned it).
    EmailSent {
        mail_id: String,
        to: Vec<String>,
        subject: String,
        message_id: String,
        purpose: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityEntry {
    /// Time-ordered id: entries sort by it.
    pub id: String,
    pub ticket: TicketNumber,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    #[serde(flatten)]
    pub kind: ActivityKind,
}

impl ActivityEntry {
    pub fn new(ticket: TicketNumber, at: DateTime<Utc>, actor: Actor, kind: ActivityKind) -> Self {
        Self {
            id: time_ordered_id(at),
            ticket,
            at,
            actor,
            kind,
        }
    }
}

/// An id that sorts by time to the microsecond (`20261123174512123456-1a2b3c4d5e6f`),
/// unique across concurrent writers by its random suffix. Entries written by one
/// operation get increasing times, so they read back in the order they happened.
pub fn time_ordered_id(at: DateTime<Utc>) -> String {
    let random = Uuid::new_v4().simple().to_string();
    format!(
        "{}{:06}-{}",
        at.format("%Y%m%d%H%M%S"),
        at.timestamp_subsec_micros(),
        &random[..12]
    )
}

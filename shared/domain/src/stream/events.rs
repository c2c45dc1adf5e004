//! Ticket events for integrations, published on the event bus from the stream
//! (never from a request path): `TicketCreated`, `TicketUpdated`,
//! `EmailReceived`, `ReplySent`, `NoteAdded`. Each detail carries `change_id`,
//! the stream record's id, the same on a redelivery, so subscribers can drop
//! duplicates. Bodies stay out: subscribers read them through the API.

use serde_json::{json, Map, Value};

use super::{Change, Record};
use crate::message::{Direction, SendState};
use crate::outbound::DeskEvent;
use crate::ticket::{Assignee, Ticket};

pub const TICKET_CREATED: &str = "TicketCreated";
pub const TICKET_UPDATED: &str = "TicketUpdated";
pub const EMAIL_RECEIVED: &str = "EmailReceived";
pub const REPLY_SENT: &str = "ReplySent";
pub const NOTE_ADDED: &str = "NoteAdded";

fn event(detail_type: &str, change: &Change, mut detail: Value) -> DeskEvent {
    detail["change_id"] = Value::String(change.event_id.clone());
    DeskEvent {
        detail_type: detail_type.into(),
        detail,
    }
}

/// The fields an integration follows, as the API shows them.
fn followed(t: &Ticket) -> Vec<(&'static str, Value)> {
    vec![
        ("name", json!(t.name)),
        ("description", json!(t.description)),
        ("status", json!(t.status)),
        ("priority", json!(t.priority)),
        (
            "assignee",
            t.assignee.as_ref().map_or(Value::Null, |a| json!(a.key())),
        ),
        ("tags", json!(t.tags)),
        ("customer", json!(t.customer)),
        ("merged_into", json!(t.merged_into)),
    ]
}

impl Change {
    /// The events this change causes (none for a write nobody follows, such as a
    /// ticket touched without a field change).
    pub fn events(&self) -> Vec<DeskEvent> {
        match &self.record {
            Record::Ticket {
                old: None,
                new: Some(t),
            } => vec![event(
                TICKET_CREATED,
                self,
                json!({
                    "ticket": t.number,
                    "name": t.name,
                    "status": t.status,
                    "priority": t.priority,
                    "assignee": Assignee::key_of(&t.assignee),
                    "tags": t.tags,
                    "customer": t.customer.email,
                    "source": t.source,
                    "created_at": t.created_at,
                }),
            )],
            Record::Ticket {
                old: Some(o),
                new: Some(n),
            } => {
                let mut changes = Map::new();
                for ((field, from), (_, to)) in followed(o).into_iter().zip(followed(n)) {
                    if from != to {
                        changes.insert(field.into(), json!({"from": from, "to": to}));
                    }
                }
                if changes.is_empty() {
                    return vec![];
                }
                vec![event(
                    TICKET_UPDATED,
                    self,
                    json!({
                        "ticket": n.number,
                        "version": n.version,
                        "changes": changes,
                        "updated_at": n.updated_at,
                    }),
                )]
            }
            Record::Message { old, new: Some(m) } => {
                let was_sent = old
                    .as_ref()
                    .is_some_and(|o| o.send_state == Some(SendState::Sent));
                match m.direction {
                    Direction::Inbound if old.is_none() => vec![event(
                        EMAIL_RECEIVED,
                        self,
                        json!({
                            "ticket": m.ticket,
                            "message": m.id,
                            "from": m.from,
                            "subject": m.subject,
                            "attachments": m.attachments.len(),
                            "automation": m.automation,
                            "spam": m.spam,
                            "received_at": m.received_at,
                        }),
                    )],
                    Direction::Outbound if m.send_state == Some(SendState::Sent) && !was_sent => {
                        vec![event(
                            REPLY_SENT,
                            self,
                            json!({
                                "ticket": m.ticket,
                                "message": m.id,
                                "to": m.to,
                                "cc": m.cc,
                                "subject": m.subject,
                                "author": m.author,
                                "provider_message_id": m.provider_message_id,
                            }),
                        )]
                    }
                    _ => vec![],
                }
            }
            Record::Note {
                old: None,
                new: Some(n),
            } => vec![event(
                NOTE_ADDED,
                self,
                json!({
                    "ticket": n.ticket,
                    "note": n.id,
                    "author": n.author,
                    "created_at": n.created_at,
                }),
            )],
            _ => vec![],
        }
    }
}

//! Email received on a ticket: the stored message and the storage port that
//! records a delivery exactly once.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::activity::ActivityEntry;
use crate::error::DeskResult;
use crate::ticket::Ticket;
use crate::types::TicketNumber;

/// An attachment's metadata; its bytes stay in the raw message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentInfo {
    pub index: usize,
    pub filename: String,
    pub content_type: String,
    pub size: usize,
    pub content_id: Option<String>,
    pub inline: bool,
}

/// An email as stored on its ticket (bodies cut to limits; the raw is kept whole).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// Time-ordered id.
    pub id: String,
    pub ticket: TicketNumber,
    /// The delivery's identity (SES message id / S3 key, mailbox + UID).
    pub delivery_id: String,
    /// Where the raw MIME is kept (S3 key).
    pub raw_key: String,
    pub rfc_message_id: Option<String>,
    pub from_name: String,
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub attachments: Vec<AttachmentInfo>,
    /// Why it counts as automatic (out-of-office, list, bounce…), if it does.
    pub automation: Option<String>,
    pub spam: bool,
    pub truncated: bool,
    pub received_at: DateTime<Utc>,
}

/// The ticket write that goes with a received message.
#[derive(Debug, Clone, PartialEq)]
pub enum TicketWrite {
    /// A new ticket (its number already allocated).
    Create(Ticket),
    /// The ticket changed (e.g. reopened): replace it if still at `expected_version`.
    Update {
        ticket: Ticket,
        expected_version: u64,
    },
    /// Only the ticket's update time moves.
    Touch {
        number: TicketNumber,
        at: DateTime<Utc>,
    },
}

/// How a delivery was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Stored,
    /// This delivery was recorded before (redelivery, retry, racing poller): nothing written.
    Duplicate,
}

#[async_trait]
pub trait InboundStore: Send + Sync {
    /// The ticket that owns any of these RFC message ids (ours or received). 1 round trip.
    async fn ticket_for_message_ids(&self, ids: &[String]) -> DeskResult<Option<TicketNumber>>;
    /// Records the delivery, the message, the ticket write, the activity entries and
    /// the message's ids, in one transaction conditioned on the delivery being new.
    /// 1 round trip. `VersionConflict` if an `Update` lost a race.
    async fn record(
        &self,
        message: &InboundMessage,
        write: &TicketWrite,
        activity: &[ActivityEntry],
        message_ids: &[String],
    ) -> DeskResult<Recorded>;
    /// Keeps a delivery that must not become a ticket (virus): recorded once. 1 round trip.
    async fn quarantine(
        &self,
        delivery_id: &str,
        raw_key: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> DeskResult<Recorded>;
    /// The messages of a ticket, oldest first. 1 round trip.
    async fn messages(&self, number: TicketNumber) -> DeskResult<Vec<InboundMessage>>;
}

//! Email on a ticket, both ways: messages received (recorded exactly once per
//! delivery) and replies the desk sends, and the storage port for both.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::activity::ActivityEntry;
use crate::error::DeskResult;
use crate::listing::Page;
use crate::ports::PageRequest;
use crate::ticket::Ticket;
use crate::types::{Tags, TicketNumber};

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

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Received from outside (SES, IMAP).
    #[default]
    Inbound,
    /// Sent by the desk (an agent's reply).
    Outbound,
}

/// Where an outbound message is on its way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendState {
    /// In the outbox; the mailer has not sent it yet.
    Queued,
    /// The mail service accepted it.
    Sent,
}

/// An email as stored on its ticket (bodies cut to limits; a received message's
/// raw MIME is kept whole).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailMessage {
    /// Time-ordered id.
    pub id: String,
    pub ticket: TicketNumber,
    #[serde(default)]
    pub direction: Direction,
    /// The delivery's identity (SES message id / S3 key, mailbox + UID; for a
    /// reply, its outbox mail id).
    pub delivery_id: String,
    /// Where the raw MIME is kept (`s3://bucket/key`): as received, or for a
    /// reply as built and sent (empty for replies from before that).
    pub raw_key: String,
    pub rfc_message_id: Option<String>,
    pub from_name: String,
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    pub text: String,
    /// The HTML body **as received** (cut to limits). Never show it as is:
    /// whatever serves it to a person sanitises it (`desk_mail::sanitize::clean_html`).
    pub html: Option<String>,
    pub attachments: Vec<AttachmentInfo>,
    /// Why it counts as automatic (out-of-office, list, bounce…), if it does.
    pub automation: Option<String>,
    pub spam: bool,
    pub truncated: bool,
    /// When it was received (inbound) or written (outbound).
    pub received_at: DateTime<Utc>,
    /// Outbound: the agent who wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Outbound: queued or sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_state: Option<SendState>,
    /// Outbound: the id the mail service gave it once sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_message_id: Option<String>,
    /// Outbound: the message it answers (`In-Reply-To`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    /// Inbound: the content's fingerprint (`desk_mail::fingerprint`); with
    /// `rfc_message_id`, what recognises another reception of this message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Inbound: the receptions after the first (an SMTP retry, another desk
    /// address, a mailbox read as well), each with its own raw MIME kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub receptions: Vec<Reception>,
    /// Inbound: from a third party the ticket was forwarded to, not the customer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub third_party: bool,
}

/// Another reception of a message already on a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reception {
    pub delivery_id: String,
    /// Where this reception's raw MIME is kept (`s3://bucket/key`).
    pub raw_key: String,
    pub received_at: DateTime<Utc>,
}

/// What threading needs of a ticket's recent messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadRef {
    /// The message's id on its ticket.
    pub id: String,
    pub direction: Direction,
    pub rfc_message_id: Option<String>,
    pub from: String,
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
        /// The tags it had when read (storage drops what derives from lost ones).
        previous_tags: Tags,
    },
    /// Only the ticket's update time moves.
    Touch {
        number: TicketNumber,
        at: DateTime<Utc>,
    },
}

/// How a delivery was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    Stored,
    /// This delivery was recorded before (redelivery, retry, racing poller): nothing written.
    Duplicate,
    /// Another delivery of the same message (same Message-ID and fingerprint) is
    /// on `ticket` as `message`: nothing written; record this one as a
    /// [`Reception`] of it.
    SameMessage {
        ticket: TicketNumber,
        message: String,
    },
}

#[async_trait]
pub trait MessageStore: Send + Sync {
    /// The ticket that owns any of these RFC message ids (ours or received). 1 round trip.
    async fn ticket_for_message_ids(&self, ids: &[String]) -> DeskResult<Option<TicketNumber>>;
    /// Records the delivery, the message, the ticket write, the activity entries and
    /// the message's ids, in one transaction conditioned on the delivery being new
    /// and, for a message with a Message-ID and a fingerprint, on no other
    /// delivery of it being recorded (`SameMessage`). 1 round trip.
    /// `VersionConflict` if an `Update` lost a race.
    async fn record(
        &self,
        message: &MailMessage,
        write: &TicketWrite,
        activity: &[ActivityEntry],
        message_ids: &[String],
    ) -> DeskResult<Recorded>;
    /// Records `reception` as another delivery of `message` on ticket `number`:
    /// its delivery marker (so it too is recorded once) and the message's list
    /// of receptions, in one transaction. `Duplicate` if this delivery was
    /// recorded before. 1 round trip.
    async fn add_reception(
        &self,
        number: TicketNumber,
        message: &str,
        reception: &Reception,
    ) -> DeskResult<Recorded>;
    /// Keeps a delivery that must not become a ticket (virus): recorded once. 1 round trip.
    async fn quarantine(
        &self,
        delivery_id: &str,
        raw_key: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> DeskResult<Recorded>;
    /// One page of the messages of `thread` (a ticket and those merged into it),
    /// oldest first. One Query per ticket, in parallel: 1 round trip.
    async fn list_messages(
        &self,
        thread: &[TicketNumber],
        page: &PageRequest,
    ) -> DeskResult<Page<MailMessage>>;
    /// One message of a ticket. 1 round trip.
    async fn get_message(&self, number: TicketNumber, id: &str) -> DeskResult<Option<MailMessage>>;
    /// The ticket's `limit` most recent messages, newest first, only what
    /// threading needs. 1 round trip.
    async fn recent_thread(&self, number: TicketNumber, limit: usize)
        -> DeskResult<Vec<ThreadRef>>;
    /// The message a delivery was recorded as (ticket, message id). 1 round trip.
    async fn delivery(&self, delivery_id: &str) -> DeskResult<Option<(TicketNumber, String)>>;
    /// Mail about ticket `number` was accepted by the mail service as
    /// `provider_id`: `message_ids` (the RFC ids it is known by) are indexed for
    /// threading, and the stored reply it is, if any, is marked sent. 1 round
    /// trip; repeating it is harmless.
    async fn mark_sent(
        &self,
        number: TicketNumber,
        message: Option<&str>,
        provider_id: &str,
        message_ids: &[String],
        at: DateTime<Utc>,
    ) -> DeskResult<()>;
    /// Records an upload for a reply under its ticket (storage drops it after
    /// its `expires_at`). 1 round trip.
    async fn put_upload(&self, upload: &crate::mail::attachments::Upload) -> DeskResult<()>;
    /// Upload `id` of ticket `number` (also when expired: the caller checks). 1 round trip.
    async fn get_upload(
        &self,
        number: TicketNumber,
        id: &str,
    ) -> DeskResult<Option<crate::mail::attachments::Upload>>;
}

/// Where raw messages are kept (S3), addressed as `s3://bucket/key`. The desk
/// deletes them only when it purges their ticket (erasure, retention).
#[async_trait]
pub trait RawMailStore: Send + Sync {
    /// The bytes at `location`. 1 round trip.
    async fn raw(&self, location: &str) -> DeskResult<Vec<u8>>;
    /// Stores `bytes` at `location` (a download too large to answer inline). 1 round trip.
    async fn put(&self, location: &str, bytes: Vec<u8>, content_type: &str) -> DeskResult<()>;
    /// A short-lived download link for `location`, served as an attachment named
    /// `filename` of type `content_type`. Signed locally: no round trip.
    async fn link(&self, location: &str, filename: &str, content_type: &str) -> DeskResult<String>;
    /// Deletes every version (and delete marker) of the object at `location`,
    /// or with `prefix` of every object under it; how many were deleted. 1
    /// ListObjectVersions per 1,000 versions + 1 DeleteObject per version.
    async fn purge(&self, location: &str, prefix: bool) -> DeskResult<u64>;
    /// A signed upload of exactly `size` bytes of `content_type` to `location`,
    /// valid for `valid_for`. Signed locally: no round trip.
    async fn upload_link(
        &self,
        location: &str,
        content_type: &str,
        size: u64,
        valid_for: std::time::Duration,
    ) -> DeskResult<SignedPut>;
    /// The object at `location` with its content type, `None` if there is none.
    /// 1 round trip.
    async fn find(&self, location: &str) -> DeskResult<Option<StoredObject>>;
}

/// A signed upload: PUT the bytes to `url`, sending `headers` as they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedPut {
    pub url: String,
    /// The headers the signature covers besides `host` (`content-type`…).
    pub headers: std::collections::BTreeMap<String, String>,
}

/// An object as kept in S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
}

/// `s3://bucket/key` → (bucket, key).
pub fn split_location(location: &str) -> Option<(&str, &str)> {
    let rest = location.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key))
}

/// `attachment; filename*=UTF-8''…` (RFC 6266 / 8187), safe for any file name.
pub fn content_disposition(filename: &str) -> String {
    let mut encoded = String::new();
    for b in filename.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_encode_any_filename() {
        assert_eq!(
            content_disposition("Rechnung März.pdf"),
            "attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf"
        );
        assert_eq!(
            content_disposition("a\"b\r\n.txt"),
            "attachment; filename*=UTF-8''a%22b%0D%0A.txt"
        );
    }

    #[test]
    fn locations_split_into_bucket_and_key() {
        assert_eq!(split_location("s3://b/k/1"), Some(("b", "k/1")));
        assert_eq!(split_location("s3://b/"), None);
        assert_eq!(split_location("b/k"), None);
    }
}

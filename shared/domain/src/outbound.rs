//! What leaves the desk: email (through an outbox, so a mail-service failure
//! loses nothing) and domain events (to an event bus).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::DeskResult;
use crate::mailbox::Secret;
use crate::types::{EmailAddress, TicketNumber};

/// One email to send. `id` is its idempotency key: the mailer sends each id once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutgoingMail {
    pub id: String,
    pub to: Vec<EmailAddress>,
    pub subject: String,
    pub text: String,
    /// An HTML part beside the text (formatted replies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// `Auto-Submitted` value for automatic mail (`auto-generated`, `auto-replied`);
    /// `None` for mail a person wrote.
    pub auto_submitted: Option<String>,
    pub ticket: Option<TicketNumber>,
    /// What the mail is, for logs and the ticket's activity (`session_link`, `case_waiting`…).
    pub purpose: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<EmailAddress>,
    /// Reply-To: the desk address with the ticket's signed token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// `In-Reply-To` (an RFC Message-ID without angle brackets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    /// `References`, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// The stored message this mail is (replies): its sending is recorded there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Where its MIME, built when it was written, is kept (`s3://bucket/key`):
    /// replies, attachments and all. The mailer sends those bytes as they are;
    /// mail without it is built when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

impl OutgoingMail {
    /// Automatic mail (notifications, links) about `ticket`, marked `auto-generated`.
    pub fn automatic(
        id: String,
        to: Vec<EmailAddress>,
        subject: String,
        text: String,
        ticket: Option<TicketNumber>,
        purpose: &str,
    ) -> Self {
        Self {
            id,
            to,
            subject,
            text,
            html: None,
            auto_submitted: Some("auto-generated".into()),
            ticket,
            purpose: purpose.into(),
            cc: vec![],
            reply_to: None,
            in_reply_to: None,
            references: vec![],
            message: None,
            raw: None,
        }
    }

    /// The Message-ID the desk gives this mail (without angle brackets): the mail
    /// id at the sender's domain, so it is known before the mail is sent.
    pub fn rfc_message_id(&self, from: &EmailAddress) -> String {
        rfc_message_id(&self.id, from)
    }
}

/// The Message-ID of the mail with id `mail_id` sent from `from` (without angle
/// brackets): the mail id at the sender's domain.
pub fn rfc_message_id(mail_id: &str, from: &EmailAddress) -> String {
    let domain = from
        .as_str()
        .rsplit_once('@')
        .map_or("desk.invalid", |(_, d)| d);
    // Mail ids may hold addresses (`rule-notify-1001-a@b.example`): keep the
    // id-left part a dot-atom, with `@` as `=` so distinct ids stay distinct.
    let left: String = mail_id
        .chars()
        .map(|c| match c {
            '@' => '=',
            c if c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c) => c,
            _ => '-',
        })
        .collect();
    format!("{left}@{domain}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_one_address_whatever_the_mail_id_holds() {
        let desk = EmailAddress::parse("support@desk.example").unwrap();
        let mail = OutgoingMail::automatic(
            "rule-notify-1001-a@b.example".into(),
            vec![],
            String::new(),
            String::new(),
            None,
            "x",
        );
        assert_eq!(
            mail.rfc_message_id(&desk),
            "rule-notify-1001-a=b.example@desk.example"
        );
        let odd = OutgoingMail {
            id: "a b<c>".into(),
            ..mail
        };
        assert_eq!(odd.rfc_message_id(&desk), "a-b-c-@desk.example");
    }
}

/// The Reply-To address that carries a ticket's signed token, so the customer's
/// answer comes back to the same ticket. The signing key is loaded at first use
/// (and again when its cache is older than the adapter allows, judged at `now`):
/// 0 or 1 call to the key store.
#[async_trait]
pub trait ReplyAddress: Send + Sync {
    async fn reply_to(
        &self,
        desk: &EmailAddress,
        number: TicketNumber,
        now: DateTime<Utc>,
    ) -> DeskResult<String>;
}

/// Where the key ring that signs reply tokens is kept (Secrets Manager): its
/// serialized form, as stored. 1 call per load.
#[async_trait]
pub trait KeyRingStore: Send + Sync {
    async fn load(&self) -> DeskResult<Secret>;
}

#[async_trait]
pub trait Outbox: Send + Sync {
    /// Queues `mail` for sending. 1 round trip to the queue.
    async fn enqueue(&self, mail: &OutgoingMail) -> DeskResult<()>;
}

/// A domain event, e.g. `ServiceCaseStatusChanged`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeskEvent {
    pub detail_type: String,
    pub detail: serde_json::Value,
}

#[async_trait]
pub trait EventBus: Send + Sync {
    async fn publish(&self, events: &[DeskEvent]) -> DeskResult<()>;
}

/// Sends one email's MIME (`raw`) through the mail service (SES) to `mail`'s
/// recipients, returning its message id.
#[async_trait]
pub trait MailTransport: Send + Sync {
    async fn send(
        &self,
        from: &EmailAddress,
        mail: &OutgoingMail,
        raw: Vec<u8>,
    ) -> DeskResult<String>;
}

/// Outcome of claiming a mail for sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This worker sends it now.
    Acquired,
    /// It was sent before: nothing to do.
    AlreadySent,
    /// Another worker holds it (its lease has not run out): try later.
    Busy,
}

/// Remembers which mails were sent, so redelivered queue messages send nothing twice.
#[async_trait]
pub trait MailLedger: Send + Sync {
    /// Claims `id` for `lease_seconds` (a crashed sender's claim runs out). 1 round trip (2 when taken).
    async fn claim(
        &self,
        id: &str,
        now: chrono::DateTime<chrono::Utc>,
        lease_seconds: i64,
    ) -> DeskResult<Claim>;
    /// Records that `id` was sent as `message_id`. 1 round trip.
    async fn mark_sent(
        &self,
        id: &str,
        message_id: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> DeskResult<()>;
}

//! The mailer: consumes the SQS outbox and sends each mail through SES exactly
//! once per mail id. A failed record is reported back (partial batch failure) so
//! SQS retries it alone and finally moves it to the dead-letter queue.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use desk_domain::mail::mime::mime;
use desk_domain::message::{MessageStore, RawMailStore};
use desk_domain::outbound::{Claim, MailLedger, MailTransport, OutgoingMail};
use desk_domain::{
    ActivityEntry, ActivityKind, Actor, Clock, DeskError, EmailAddress, TicketStore,
};

/// How long a claim protects a mail being sent from a second sender.
pub const LEASE_SECONDS: i64 = 120;

pub struct Mailer {
    pub ledger: Arc<dyn MailLedger>,
    pub messages: Arc<dyn MessageStore>,
    pub transport: Arc<dyn MailTransport>,
    /// Where replies' MIME is kept (built when they were written).
    pub raw_mail: Arc<dyn RawMailStore>,
    pub tickets: Arc<dyn TicketStore>,
    pub clock: Arc<dyn Clock>,
    pub from: EmailAddress,
}

/// What happened to one queued mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent(String),
    AlreadySent,
    /// Retry later (another worker holds it, or sending failed).
    Retry(String),
    /// Never sendable (not a mail): left to the dead-letter queue.
    Poison(String),
}

impl Mailer {
    pub async fn send_one(&self, body: &str) -> Outcome {
        let mail: OutgoingMail = match serde_json::from_str(body) {
            Ok(m) => m,
            Err(e) => return Outcome::Poison(format!("not an outgoing mail: {e}")),
        };
        if mail.to.is_empty() {
            return Outcome::Poison("mail without recipients".into());
        }
        let now = self.clock.now();
        match self.ledger.claim(&mail.id, now, LEASE_SECONDS).await {
            Ok(Claim::Acquired) => {}
            Ok(Claim::AlreadySent) => return Outcome::AlreadySent,
            Ok(Claim::Busy) => return Outcome::Retry("another worker is sending it".into()),
            Err(e) => return Outcome::Retry(e.to_string()),
        }
        // A reply's MIME was built and stored when it was written: send those
        // bytes (what the ticket shows); other mail is built now.
        let raw = match &mail.raw {
            Some(location) => self.raw_mail.raw(location).await,
            None => mime(&self.from, &mail, &[]),
        };
        let raw = match raw {
            Ok(raw) => raw,
            Err(e) => return Outcome::Retry(e.to_string()),
        };
        let message_id = match self.transport.send(&self.from, &mail, raw).await {
            Ok(id) => id,
            // The claim's lease runs out, so the retry can send it.
            Err(e) => return Outcome::Retry(e.to_string()),
        };
        if let Err(e) = self
            .ledger
            .mark_sent(&mail.id, &message_id, self.clock.now())
            .await
        {
            // Sent but not recorded: report success anyway; a redelivery within the
            // lease is refused, and this is logged for the rare one after it.
            tracing::error!(mail_id = %mail.id, error = %e, "mail sent but not recorded");
        }
        if let Some(n) = mail.ticket {
            // Index the ids the mail is known by — ours and the one SES gives it —
            // so an answer quoting either finds the ticket (replies to
            // notifications and links included), and mark a stored reply sent.
            let ids = [
                mail.rfc_message_id(&self.from),
                format!("{message_id}@email.amazonses.com"),
            ];
            if let Err(e) = self
                .messages
                .mark_sent(
                    n,
                    mail.message.as_deref(),
                    &message_id,
                    &ids,
                    self.clock.now(),
                )
                .await
            {
                tracing::warn!(mail_id = %mail.id, error = %e, "recording the sent mail failed");
            }
        }
        if let Some(n) = mail.ticket {
            let entry = ActivityEntry::new(
                n,
                self.clock.now(),
                Actor::System,
                ActivityKind::EmailSent {
                    mail_id: mail.id.clone(),
                    to: mail.to.iter().map(|a| a.to_string()).collect(),
                    subject: mail.subject.clone(),
                    message_id: message_id.clone(),
                    purpose: mail.purpose.clone(),
                },
            );
            if let Err(e) = self.tickets.append_activity(&entry).await {
                tracing::warn!(mail_id = %mail.id, error = %e, "logging the sent mail failed");
            }
        }
        Outcome::Sent(message_id)
    }

    /// One SQS batch; failed records are returned for SQS to redeliver.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        for record in event.records {
            let id = record.message_id.clone().unwrap_or_default();
            let outcome = self.send_one(record.body.as_deref().unwrap_or("")).await;
            match &outcome {
                Outcome::Sent(mid) => tracing::info!(sqs_id = %id, ses_id = %mid, "mail sent"),
                Outcome::AlreadySent => tracing::info!(sqs_id = %id, "mail already sent; skipped"),
                Outcome::Retry(why) | Outcome::Poison(why) => {
                    tracing::warn!(sqs_id = %id, reason = %why, poison = matches!(outcome, Outcome::Poison(_)), "mail not sent");
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = id;
                    response.batch_item_failures.push(failure);
                }
            }
        }
        response
    }
}

impl From<DeskError> for Outcome {
    fn from(e: DeskError) -> Self {
        Outcome::Retry(e.to_string())
    }
}

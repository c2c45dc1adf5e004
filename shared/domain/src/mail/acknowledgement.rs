//! The acknowledgement: when a rule says so, the desk answers the customer whose
//! email opened a ticket with a text module — automatic mail (`Auto-Submitted:
//! auto-replied`), counted in the per-address limit on automatic mail, and
//! threaded like a reply (the signed token, `In-Reply-To` the customer's mail), so
//! their answer joins the ticket. It is stored on the ticket as a reply by the
//! system, so agents see what the customer was told.
//!
//! Ingest calls it only for mail that is not from a robot, a list or spam.

use crate::activity::{time_ordered_id, ActivityEntry, ActivityKind, Actor};
use crate::error::DeskResult;
use crate::mail::conversation::reply_subject;
use crate::mail::formatting::compose;
use crate::mail::text_modules::{fill, Values};
use crate::message::{Direction, MailMessage, Recorded, SendState, TicketWrite};
use crate::note::excerpt;
use crate::outbound::OutgoingMail;
use crate::service::Desk;
use crate::ticket::Ticket;

/// What became of an acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acknowledged {
    /// Stored on the ticket and queued.
    Queued,
    /// Stored before (a redelivered email): nothing new.
    AlreadySent,
    /// The customer reached the limit on automatic mail: none sent.
    Limited,
    /// The rule's text module is gone: none sent.
    NoModule,
}

impl Desk {
    /// Acknowledges `customer_mail`, which opened `ticket`, with text module
    /// `module_id`. Round trips: 1 GetItem (module) ‖ 1 GetItem (desk signature),
    /// 1 UpdateItem (the limit), 1 transaction, 1 SQS send.
    pub async fn acknowledge(
        &self,
        ticket: &Ticket,
        module_id: &str,
        customer_mail: &MailMessage,
        limit_per_hour: u32,
    ) -> DeskResult<Acknowledged> {
        let (module, signature) = futures::try_join!(
            self.text_modules.get_text_module(module_id),
            self.text_modules.desk_signature(),
        )?;
        let Some(module) = module else {
            return Ok(Acknowledged::NoModule);
        };
        let now = self.clock.now();
        let to = ticket.customer.email.clone();
        if !self
            .limiter
            .allow(&format!("auto:{}", to.key()), limit_per_hour, 3600, now)
            .await?
        {
            return Ok(Acknowledged::Limited);
        }
        // In an acknowledgement the "agent" placeholders name the desk.
        let values = Values::for_desk(ticket, &self.settings.desk_address);
        let composed = compose(
            &fill(&module.text, &values),
            &[&fill(&signature.text, &values)],
            None,
        );
        let mut mail = OutgoingMail::automatic(
            format!("ack-{}", ticket.number),
            vec![to],
            reply_subject(ticket, true),
            composed.text.clone(),
            Some(ticket.number),
            "acknowledgement",
        );
        mail.auto_submitted = Some("auto-replied".into());
        mail.html = Some(composed.html.clone());
        mail.reply_to = Some(
            self.reply_address
                .reply_to(&self.settings.desk_address, ticket.number),
        );
        mail.in_reply_to = customer_mail.rfc_message_id.clone();
        mail.references = customer_mail.rfc_message_id.iter().cloned().collect();
        let rfc_id = mail.rfc_message_id(&self.settings.desk_address);
        let message = MailMessage {
            id: time_ordered_id(now),
            ticket: ticket.number,
            direction: Direction::Outbound,
            delivery_id: format!("out:{}", mail.id),
            raw_key: String::new(),
            rfc_message_id: Some(rfc_id.clone()),
            from_name: String::new(),
            from: self.settings.desk_address.to_string(),
            to: mail.to.iter().map(|a| a.to_string()).collect(),
            cc: vec![],
            subject: mail.subject.clone(),
            text: composed.text,
            html: Some(composed.html),
            attachments: vec![],
            automation: Some("acknowledgement".into()),
            spam: false,
            truncated: false,
            received_at: now,
            author: None,
            send_state: Some(SendState::Queued),
            provider_message_id: None,
            in_reply_to: mail.in_reply_to.clone(),
            fingerprint: None,
            receptions: vec![],
            third_party: false,
        };
        mail.message = Some(message.id.clone());
        let entry = ActivityEntry::new(
            ticket.number,
            now,
            Actor::System,
            ActivityKind::ReplyWritten {
                message_id: message.id.clone(),
                to: message.to.clone(),
                cc: vec![],
                subject: message.subject.clone(),
                excerpt: excerpt(&message.text),
            },
        );
        let write = TicketWrite::Touch {
            number: ticket.number,
            at: now,
        };
        match self
            .messages
            .record(&message, &write, &[entry], std::slice::from_ref(&rfc_id))
            .await?
        {
            Recorded::Stored => {
                self.outbox.enqueue(&mail).await?;
                Ok(Acknowledged::Queued)
            }
            Recorded::Duplicate | Recorded::SameMessage { .. } => Ok(Acknowledged::AlreadySent),
        }
    }
}

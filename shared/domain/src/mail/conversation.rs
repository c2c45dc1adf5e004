//! The conversation on a ticket: reading its emails, and replying to the customer
//! by email, threaded so the answer comes back to the same ticket (SPEC §3, §5).
//!
//! A reply is stored on the ticket first (with its activity entry and its
//! Message-ID indexed for threading, in one transaction keyed on the outbox mail
//! id) and then queued in the outbox. Retrying with the same `Idempotency-Key`
//! finds the stored reply and queues the same mail again; the mailer's ledger
//! sends each mail id once, so nothing is lost and nothing goes out twice.

use serde::Deserialize;

use crate::access::Caller;
use crate::activity::{time_ordered_id, ActivityEntry, ActivityKind, Actor};
use crate::error::{DeskError, DeskResult, FieldError};
use crate::listing::Page;
use crate::mail::formatting::{compose, Quoted};
use crate::mail::text_modules::{fill, Values};
use crate::message::{Direction, MailMessage, Recorded, SendState, TicketWrite};
use crate::note::excerpt;
use crate::outbound::OutgoingMail;
use crate::ports::PageRequest;
use crate::random::secret_hash;
use crate::service::Desk;
use crate::ticket::{Ticket, TicketPatch};
use crate::types::{bounded_text, EmailAddress, Status, TicketNumber};

/// Longest reply text, in characters.
pub const REPLY_TEXT: usize = 100_000;
/// Most Cc recipients on one reply.
pub const REPLY_CC: usize = 10;
/// How many of the ticket's latest Message-IDs go into `References`.
pub const THREAD_REFERENCES: usize = 10;

/// `POST /tickets/{id}/replies` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewReply {
    /// Markdown (plain text is Markdown too). May be empty when `text_module` is given.
    #[serde(default)]
    pub text: String,
    /// A text module, filled for this ticket and placed after `text`.
    #[serde(default)]
    pub text_module: Option<String>,
    #[serde(default)]
    pub cc: Vec<EmailAddress>,
    /// A status to set with the reply, e.g. `waiting` for the customer.
    #[serde(default)]
    pub status: Option<Status>,
}

/// Checks a client's idempotency key: 1–64 characters of `A-Z a-z 0-9 - _ . :`.
pub fn idempotency_key(raw: &str) -> Result<String, FieldError> {
    let ok = (1..=64).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if ok {
        Ok(raw.to_string())
    } else {
        Err(FieldError::new(
            "Idempotency-Key",
            "must be 1-64 characters of letters, digits, '-', '_', '.' or ':'",
        ))
    }
}

/// The subject of a reply: the ticket's name with its `[#n]` tag, as an answer
/// (`Re:`) when the conversation started by email.
pub fn reply_subject(ticket: &Ticket, answering: bool) -> String {
    let tag = format!("[#{}]", ticket.number);
    let mut base = ticket.name.trim();
    while let Some(rest) = base
        .get(..3)
        .filter(|p| p.eq_ignore_ascii_case("re:"))
        .and_then(|_| base.get(3..))
    {
        base = rest.trim_start();
    }
    let tagged = if base.contains(&tag) {
        base.to_string()
    } else {
        format!("{tag} {base}")
    };
    if answering {
        format!("Re: {tagged}")
    } else {
        tagged
    }
}

/// A reply and whether this call stored it (`false`: an earlier call with the
/// same idempotency key did).
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyOutcome {
    pub message: MailMessage,
    pub created: bool,
}

impl Desk {
    /// One page of the ticket's emails, both ways, oldest first.
    pub async fn ticket_messages(
        &self,
        caller: &Caller,
        number: TicketNumber,
        page: &PageRequest,
    ) -> DeskResult<Page<MailMessage>> {
        let ticket = self.ticket(caller, number).await?;
        self.messages.list_messages(&ticket.thread(), page).await
    }

    /// One email of a ticket the caller may see.
    pub async fn ticket_message(
        &self,
        caller: &Caller,
        number: TicketNumber,
        id: &str,
    ) -> DeskResult<MailMessage> {
        self.ticket(caller, number).await?;
        self.messages
            .get_message(number, id)
            .await?
            .ok_or(DeskError::NotFound { what: "message" })
    }

    /// A received message of a ticket the caller may see, with its raw MIME.
    /// Round trips: 1 GetItem (ticket), 1 GetItem (message), 1 S3 GetObject.
    pub async fn raw_message(
        &self,
        caller: &Caller,
        number: TicketNumber,
        id: &str,
        reception: usize,
    ) -> DeskResult<(MailMessage, Vec<u8>)> {
        let mut message = self.ticket_message(caller, number, id).await?;
        if reception > 0 {
            // A later reception of the same message: its own raw, byte for byte.
            let Some(r) = message.receptions.get(reception - 1) else {
                return Err(DeskError::NotFound {
                    what: "raw_message",
                });
            };
            message.raw_key = r.raw_key.clone();
        }
        if message.raw_key.is_empty() {
            // Replies are stored as written, not as MIME.
            return Err(DeskError::NotFound {
                what: "raw_message",
            });
        }
        let raw = self.raw_mail.raw(&message.raw_key).await?;
        Ok((message, raw))
    }

    /// Replies to the ticket's customer by email: the text (and text module) as
    /// Markdown with an HTML part, the agent's and the desk's signatures, the
    /// answered message quoted. Round trips: 1 GetItem (the ticket), then in
    /// parallel 1 Query (the thread's ids), 1 GetItem (the desk's signature) and,
    /// with a module, 1 GetItem (it); 1 GetItem (the answered message), 1
    /// transaction, 1 SQS send.
    pub async fn reply(
        &self,
        caller: &Caller,
        number: TicketNumber,
        input: NewReply,
        key: Option<&str>,
    ) -> DeskResult<ReplyOutcome> {
        if input.cc.len() > REPLY_CC {
            return Err(FieldError::new("cc", format!("at most {REPLY_CC} addresses")).into());
        }
        let key = key.map(idempotency_key).transpose()?;
        let ticket = self.open_ticket(caller, number).await?;
        let module = async {
            match &input.text_module {
                Some(id) => match self.text_module(caller, id).await {
                    Ok(m) => Ok(Some(m)),
                    Err(e) => Err(e.named_in("text_module", format!("no text module {id:?}"))),
                },
                None => Ok(None),
            }
        };
        let (recent, desk_signature, module) = futures::try_join!(
            self.messages.recent_thread(number, THREAD_REFERENCES),
            self.text_modules.desk_signature(),
            module,
        )?;
        let values = Values::new(&ticket, &caller.user);
        let body = [
            input.text.trim().to_string(),
            module.map(|m| fill(&m.text, &values)).unwrap_or_default(),
        ]
        .into_iter()
        .filter(|t| !t.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
        let body = bounded_text(&body, REPLY_TEXT, false)
            .map_err(|e| FieldError::new("text", e.message))?;
        let now = self.clock.now();
        // The key is the caller's: the same key from someone else is another reply.
        let mail_id = match &key {
            Some(k) => format!(
                "reply-{number}-{}",
                &secret_hash(&format!("{}\n{k}", caller.id()))[..24]
            ),
            None => format!("reply-{number}-{}", time_ordered_id(now)),
        };
        let delivery_id = format!("out:{mail_id}");

        let answered = recent
            .iter()
            .find(|m| m.direction == Direction::Inbound && m.rfc_message_id.is_some());
        let in_reply_to = answered.and_then(|m| m.rfc_message_id.clone());
        let quoted = match answered {
            Some(m) => self.messages.get_message(number, &m.id).await?,
            None => None,
        };
        let references: Vec<String> = recent
            .iter()
            .rev()
            .filter_map(|m| m.rfc_message_id.clone())
            .collect();
        let signatures = [
            fill(&caller.user.signature, &values),
            fill(&desk_signature.text, &values),
        ];
        let composed = compose(
            &body,
            &[signatures[0].as_str(), signatures[1].as_str()],
            quoted.as_ref().map(|q| Quoted {
                from: if q.from_name.is_empty() {
                    &q.from
                } else {
                    &q.from_name
                },
                at: q.received_at,
                text: &q.text,
            }),
        );
        let text = composed.text;
        let mut mail = OutgoingMail::automatic(
            mail_id,
            vec![ticket.customer.email.clone()],
            reply_subject(&ticket, in_reply_to.is_some()),
            text.clone(),
            Some(number),
            "reply",
        );
        // A person wrote it: not automatic mail.
        mail.auto_submitted = None;
        mail.html = Some(composed.html.clone());
        mail.cc = input.cc.clone();
        mail.reply_to = Some(
            self.reply_address
                .reply_to(&self.settings.desk_address, number, now)
                .await?,
        );
        mail.in_reply_to = in_reply_to.clone();
        mail.references = references;
        let rfc_id = mail.rfc_message_id(&self.settings.desk_address);

        let message = MailMessage {
            id: time_ordered_id(now),
            ticket: number,
            direction: Direction::Outbound,
            delivery_id: delivery_id.clone(),
            raw_key: String::new(),
            rfc_message_id: Some(rfc_id.clone()),
            from_name: caller.user.name.clone(),
            from: self.settings.desk_address.to_string(),
            to: mail.to.iter().map(|a| a.to_string()).collect(),
            cc: mail.cc.iter().map(|a| a.to_string()).collect(),
            subject: mail.subject.clone(),
            text,
            html: Some(composed.html),
            attachments: vec![],
            automation: None,
            spam: false,
            truncated: false,
            received_at: now,
            author: Some(caller.id().to_string()),
            send_state: Some(SendState::Queued),
            provider_message_id: None,
            in_reply_to,
            fingerprint: None,
            receptions: vec![],
        };
        mail.message = Some(message.id.clone());

        let mut entries = vec![ActivityEntry::new(
            number,
            now,
            Actor::user(caller.id()),
            ActivityKind::ReplyWritten {
                message_id: message.id.clone(),
                to: message.to.clone(),
                cc: message.cc.clone(),
                subject: message.subject.clone(),
                excerpt: excerpt(&message.text),
            },
        )];
        let write = match input.status.filter(|s| *s != ticket.status) {
            Some(status) => {
                let patch = TicketPatch {
                    version: ticket.version,
                    status: Some(status),
                    ..TicketPatch::default()
                };
                let (next, changes) = patch.apply(&ticket, now)?;
                entries.push(ActivityEntry::new(
                    number,
                    now + chrono::Duration::microseconds(1),
                    Actor::user(caller.id()),
                    ActivityKind::FieldsChanged { changes },
                ));
                TicketWrite::Update {
                    ticket: next,
                    expected_version: ticket.version,
                    previous_tags: ticket.tags.clone(),
                }
            }
            None => TicketWrite::Touch { number, at: now },
        };

        match self
            .messages
            .record(&message, &write, &entries, std::slice::from_ref(&rfc_id))
            .await?
        {
            Recorded::Stored => {
                self.outbox.enqueue(&mail).await?;
                Ok(ReplyOutcome {
                    message,
                    created: true,
                })
            }
            // A reply carries no fingerprint: never another reception.
            Recorded::SameMessage { .. } => Err(DeskError::Storage(
                "a reply was taken for a received message".into(),
            )),
            Recorded::Duplicate => {
                // Stored by an earlier call with this key: queue that same mail again
                // (its first queueing may have failed); the ledger sends it once.
                let stored = self.stored_reply(number, &delivery_id).await?;
                let mut again = mail;
                again.subject = stored.subject.clone();
                again.text = stored.text.clone();
                again.html = stored.html.clone();
                again.cc = stored
                    .cc
                    .iter()
                    .filter_map(|a| EmailAddress::parse(a).ok())
                    .collect();
                again.in_reply_to = stored.in_reply_to.clone();
                again.message = Some(stored.id.clone());
                if stored.send_state != Some(SendState::Sent) {
                    self.outbox.enqueue(&again).await?;
                }
                Ok(ReplyOutcome {
                    message: stored,
                    created: false,
                })
            }
        }
    }

    async fn stored_reply(
        &self,
        number: TicketNumber,
        delivery_id: &str,
    ) -> DeskResult<MailMessage> {
        let missing = || DeskError::Conflict {
            code: "idempotency_key_reused",
            message: "this Idempotency-Key was used for another request".into(),
        };
        let (n, id) = self
            .messages
            .delivery(delivery_id)
            .await?
            .ok_or_else(missing)?;
        if n != number {
            return Err(missing());
        }
        self.messages.get_message(n, &id).await?.ok_or_else(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::Customer;
    use crate::types::{Priority, Source, Tags};

    fn ticket(name: &str) -> Ticket {
        let now = chrono::Utc::now();
        Ticket {
            number: TicketNumber::new(1001).unwrap(),
            name: name.into(),
            description: String::new(),
            status: Status::Open,
            priority: Priority::Medium,
            assignee: None,
            tags: Tags::default(),
            customer: Customer {
                name: String::new(),
                email: EmailAddress::parse("c@example.com").unwrap(),
                phone: String::new(),
            },
            source: Source::Email,
            created_at: now,
            updated_at: now,
            closed_at: None,
            version: 1,
            merged_into: None,
            merged: Vec::new(),
        }
    }

    #[test]
    fn reply_subjects_carry_the_tag_once_and_answer_with_re() {
        assert_eq!(
            reply_subject(&ticket("Printer jams"), true),
            "Re: [#1001] Printer jams"
        );
        assert_eq!(
            reply_subject(&ticket("Printer jams"), false),
            "[#1001] Printer jams"
        );
        assert_eq!(
            reply_subject(&ticket("Re: [#1001] Printer jams"), true),
            "Re: [#1001] Printer jams"
        );
        assert_eq!(
            reply_subject(&ticket("RE: re: printer"), true),
            "Re: [#1001] printer"
        );
    }

    #[test]
    fn idempotency_keys_are_checked() {
        assert!(idempotency_key("a1-b_2.c:3").is_ok());
        assert!(idempotency_key("").is_err());
        assert!(idempotency_key(&"a".repeat(65)).is_err());
        assert!(idempotency_key("with space").is_err());
        assert!(idempotency_key("ünï").is_err());
    }
}

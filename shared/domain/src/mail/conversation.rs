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
use crate::mail::attachments::{check_refs, too_large, AttachmentRef, MAX_MESSAGE_BYTES};
use crate::mail::formatting::{compose, Below, Forwarded, Quoted};
use crate::mail::mime::mime;
use crate::mail::text_modules::{fill, Values};
use crate::message::{Direction, MailMessage, Recorded, SendState, TicketWrite};
use crate::note::excerpt;
use crate::outbound::OutgoingMail;
use crate::ports::PageRequest;
use crate::random::secret_hash;
use crate::service::Desk;
use crate::ticket::{Ticket, TicketPatch, PARTICIPANTS};
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
    /// Files to attach: agents' uploads of this ticket and customers'
    /// attachments sent on from it, in this order.
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
}

/// `POST /tickets/{id}/forwards` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewForward {
    /// The third parties (a supplier, another team): 1 to [`REPLY_CC`].
    pub to: Vec<EmailAddress>,
    #[serde(default)]
    pub cc: Vec<EmailAddress>,
    /// Markdown above the forwarded mail. May be empty when `message` or
    /// `text_module` is given.
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub text_module: Option<String>,
    /// A message of the ticket to forward, in full below the text (its files
    /// go along when named in `attachments`).
    #[serde(default)]
    pub message: Option<String>,
    /// Files to attach, as for a reply: uploads of this ticket and attachments
    /// of its messages.
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
    /// A status to set with the forward, e.g. `waiting`.
    #[serde(default)]
    pub status: Option<Status>,
}

/// What an agent sends on a ticket, as one path serves replies and forwards.
struct Draft {
    /// Third parties (a forward); `None`: the ticket's customer (a reply).
    to: Option<Vec<EmailAddress>>,
    cc: Vec<EmailAddress>,
    text: String,
    text_module: Option<String>,
    status: Option<Status>,
    /// `Some` for a forward, with the message it forwards, if any.
    forward: Option<Option<String>>,
    /// Uploads of the ticket and customers' attachments sent on.
    attachments: Vec<AttachmentRef>,
}

/// The ticket's participants with the new `recipients` (not the customer)
/// added, lower case and without duplicates; at most [`PARTICIPANTS`].
fn joined_participants<'a>(
    ticket: &Ticket,
    recipients: impl Iterator<Item = &'a EmailAddress>,
) -> Result<Vec<EmailAddress>, FieldError> {
    let mut out = ticket.participants.clone();
    for r in recipients {
        let r = EmailAddress::parse(&r.key())?;
        if r.key() != ticket.customer.email.key()
            && !ticket.is_participant(r.as_str())
            && !out.contains(&r)
        {
            out.push(r);
        }
    }
    if out.len() > PARTICIPANTS {
        return Err(FieldError::new(
            "to",
            format!("a ticket is forwarded to at most {PARTICIPANTS} addresses"),
        ));
    }
    Ok(out)
}

/// The subject of a forward: `Fwd:` and the forwarded mail's subject (or the
/// ticket's name) with the ticket's `[#n]` tag.
pub fn forward_subject(ticket: &Ticket, forwarded: Option<&str>) -> String {
    let mut base = forwarded.unwrap_or(&ticket.name).trim();
    loop {
        let lower = base.get(..4).map(str::to_ascii_lowercase);
        match lower.as_deref() {
            Some("fwd:") => base = base[4..].trim_start(),
            Some(p) if p.starts_with("re:") || p.starts_with("fw:") => {
                base = base[3..].trim_start()
            }
            _ => break,
        }
    }
    let tag = format!("[#{}]", ticket.number);
    if base.contains(&tag) {
        format!("Fwd: {base}")
    } else {
        format!("Fwd: {tag} {base}")
    }
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

fn key_reused() -> DeskError {
    DeskError::Conflict {
        code: "idempotency_key_reused",
        message: "this Idempotency-Key was used for another request".into(),
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

    /// A message of a ticket the caller may see, with its raw MIME (as received,
    /// or for a reply as sent).
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
            // Replies written before their MIME was kept have none.
            return Err(DeskError::NotFound {
                what: "raw_message",
            });
        }
        let raw = self.raw_mail.raw(&message.raw_key).await?;
        Ok((message, raw))
    }

    /// Replies to the ticket's customer by email: the text (and text module) as
    /// Markdown with an HTML part, the agent's and the desk's signatures, the
    /// answered message quoted, files attached. Its MIME is built here and kept
    /// in S3 as the message's raw (the mailer sends those very bytes), so its
    /// files download like received ones; a refused file stores and sends
    /// nothing. Round trips: 1 GetItem (the ticket), then in parallel 1 Query
    /// (the thread's ids), 1 GetItem (the desk's signature) and, with a module,
    /// 1 GetItem (it); 1 GetItem (the answered message); with an idempotency
    /// key 1 GetItem (an earlier call's reply); with files, their uploads' and
    /// messages' GetItems in parallel and their S3 reads in parallel; 1 S3 put
    /// (the MIME), 1 transaction, 1 SQS send.
    pub async fn reply(
        &self,
        caller: &Caller,
        number: TicketNumber,
        input: NewReply,
        key: Option<&str>,
    ) -> DeskResult<ReplyOutcome> {
        let draft = Draft {
            to: None,
            cc: input.cc,
            text: input.text,
            text_module: input.text_module,
            status: input.status,
            forward: None,
            attachments: input.attachments,
        };
        self.send_on_ticket(caller, number, draft, key).await
    }

    /// Forwards the ticket's mail (`message`), or writes a new one, to third
    /// parties (a supplier, another team). It carries the ticket's signed
    /// Reply-To, so their answers thread back to the ticket and show as theirs;
    /// they become the ticket's participants. Round trips as [`Desk::reply`],
    /// with 1 GetItem per ticket of the thread (in parallel) for the forwarded
    /// message instead of the answered one.
    pub async fn forward(
        &self,
        caller: &Caller,
        number: TicketNumber,
        input: NewForward,
        key: Option<&str>,
    ) -> DeskResult<ReplyOutcome> {
        if input.to.is_empty() {
            return Err(FieldError::new("to", "name at least one address").into());
        }
        let draft = Draft {
            to: Some(input.to),
            cc: input.cc,
            text: input.text,
            text_module: input.text_module,
            status: input.status,
            forward: Some(input.message),
            attachments: input.attachments,
        };
        self.send_on_ticket(caller, number, draft, key).await
    }

    /// A message of the ticket's thread (merged tickets included), by id.
    async fn thread_message(&self, ticket: &Ticket, id: &str) -> DeskResult<Option<MailMessage>> {
        let found = futures::future::try_join_all(
            ticket
                .thread()
                .into_iter()
                .map(|n| self.messages.get_message(n, id)),
        )
        .await?;
        Ok(found.into_iter().flatten().next())
    }

    /// Sends what an agent wrote on a ticket (a reply or a forward): stored on
    /// the ticket with its activity entry, then queued in the outbox.
    async fn send_on_ticket(
        &self,
        caller: &Caller,
        number: TicketNumber,
        draft: Draft,
        key: Option<&str>,
    ) -> DeskResult<ReplyOutcome> {
        if draft.cc.len() > REPLY_CC {
            return Err(FieldError::new("cc", format!("at most {REPLY_CC} addresses")).into());
        }
        if draft.to.as_ref().is_some_and(|to| to.len() > REPLY_CC) {
            return Err(FieldError::new("to", format!("at most {REPLY_CC} addresses")).into());
        }
        check_refs(&draft.attachments)?;
        let key = key.map(idempotency_key).transpose()?;
        let ticket = self.open_ticket(caller, number).await?;
        let module = async {
            match &draft.text_module {
                Some(id) => match self.text_module(caller, id).await {
                    Ok(m) => Ok(Some(m)),
                    Err(e) => Err(e.named_in("text_module", format!("no text module {id:?}"))),
                },
                None => Ok(None),
            }
        };
        let forwarded = async {
            match &draft.forward {
                Some(Some(id)) => match self.thread_message(&ticket, id).await? {
                    Some(m) => Ok(Some(m)),
                    None => Err(DeskError::from(FieldError::new(
                        "message",
                        format!("no message {id:?} on this ticket"),
                    ))),
                },
                _ => Ok(None),
            }
        };
        let recent = async {
            match draft.forward {
                // A forward starts a conversation with someone else.
                Some(_) => Ok(Vec::new()),
                None => self.messages.recent_thread(number, THREAD_REFERENCES).await,
            }
        };
        let (recent, desk_signature, module, forwarded) = futures::try_join!(
            recent,
            self.text_modules.desk_signature(),
            module,
            forwarded,
        )?;
        let values = Values::new(&ticket, &caller.user);
        let body = [
            draft.text.trim().to_string(),
            module.map(|m| fill(&m.text, &values)).unwrap_or_default(),
        ]
        .into_iter()
        .filter(|t| !t.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
        let body = bounded_text(&body, REPLY_TEXT, false)
            .map_err(|e| FieldError::new("text", e.message))?;
        if draft.forward.is_some() && body.trim().is_empty() && forwarded.is_none() {
            return Err(
                FieldError::new("text", "write a text or name a message to forward").into(),
            );
        }
        let to = draft
            .to
            .clone()
            .unwrap_or_else(|| vec![ticket.customer.email.clone()]);
        let participants = if draft.forward.is_some() {
            joined_participants(&ticket, to.iter().chain(draft.cc.iter()))?
        } else {
            ticket.participants.clone()
        };
        let now = self.clock.now();
        let kind = if draft.forward.is_some() {
            "fwd"
        } else {
            "reply"
        };
        // The key is the caller's: the same key from someone else is another mail.
        let mail_id = match &key {
            Some(k) => format!(
                "{kind}-{number}-{}",
                &secret_hash(&format!("{}\n{k}", caller.id()))[..24]
            ),
            None => format!("{kind}-{number}-{}", time_ordered_id(now)),
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
        let sender = |m: &MailMessage| -> String {
            if m.from_name.is_empty() {
                m.from.clone()
            } else {
                format!("{} <{}>", m.from_name, m.from)
            }
        };
        let below = match (&forwarded, &quoted) {
            (Some(f), _) => Some((sender(f), f)),
            (None, Some(q)) => Some((
                if q.from_name.is_empty() {
                    q.from.clone()
                } else {
                    q.from_name.clone()
                },
                q,
            )),
            _ => None,
        };
        let composed = compose(
            &body,
            &[signatures[0].as_str(), signatures[1].as_str()],
            below.as_ref().map(|(from, m)| {
                if forwarded.is_some() {
                    Below::Forward(Forwarded {
                        from,
                        at: m.received_at,
                        subject: &m.subject,
                        to: &m.to,
                        text: &m.text,
                    })
                } else {
                    Below::Quote(Quoted {
                        from,
                        at: m.received_at,
                        text: &m.text,
                    })
                }
            }),
        );
        let text = composed.text;
        let subject = match draft.forward {
            Some(_) => forward_subject(&ticket, forwarded.as_ref().map(|m| m.subject.as_str())),
            None => reply_subject(&ticket, in_reply_to.is_some()),
        };
        let mut mail = OutgoingMail::automatic(
            mail_id,
            to,
            subject,
            text.clone(),
            Some(number),
            if draft.forward.is_some() {
                "forward"
            } else {
                "reply"
            },
        );
        // A person wrote it: not automatic mail.
        mail.auto_submitted = None;
        mail.html = Some(composed.html.clone());
        mail.cc = draft.cc.clone();
        mail.reply_to = Some(
            self.reply_address
                .reply_to(&self.settings.desk_address, number, now)
                .await?,
        );
        mail.in_reply_to = in_reply_to.clone();
        mail.references = references;
        let rfc_id = mail.rfc_message_id(&self.settings.desk_address);

        // A retry of a stored reply: send that one (its files were checked then).
        if key.is_some() {
            if let Some(at) = self.messages.delivery(&delivery_id).await? {
                return self.replay(number, at, mail).await;
            }
        }
        let text_bytes = text.len() + composed.html.len();
        let (files, attachments) = self
            .reply_files(number, &draft.attachments, text_bytes)
            .await?;
        let raw = mime(&self.settings.desk_address, &mail, &files)?;
        drop(files);
        if raw.len() > MAX_MESSAGE_BYTES {
            return Err(if draft.attachments.is_empty() {
                FieldError::new("text", "makes the message too large")
            } else {
                too_large()
            }
            .into());
        }
        let id = time_ordered_id(now);
        let raw_key = format!("s3://{}/sent/{number}/{id}.eml", self.files_bucket()?);
        mail.raw = Some(raw_key.clone());

        let message = MailMessage {
            id,
            ticket: number,
            direction: Direction::Outbound,
            delivery_id: delivery_id.clone(),
            raw_key,
            rfc_message_id: Some(rfc_id.clone()),
            from_name: caller.user.name.clone(),
            from: self.settings.desk_address.to_string(),
            to: mail.to.iter().map(|a| a.to_string()).collect(),
            cc: mail.cc.iter().map(|a| a.to_string()).collect(),
            subject: mail.subject.clone(),
            text,
            html: Some(composed.html),
            attachments,
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
            third_party: false,
        };
        mail.message = Some(message.id.clone());

        let written = match &draft.forward {
            Some(_) => ActivityKind::Forwarded {
                message_id: message.id.clone(),
                to: message.to.clone(),
                cc: message.cc.clone(),
                subject: message.subject.clone(),
                excerpt: excerpt(&message.text),
                forwarded: forwarded.as_ref().map(|m| m.id.clone()),
            },
            None => ActivityKind::ReplyWritten {
                message_id: message.id.clone(),
                to: message.to.clone(),
                cc: message.cc.clone(),
                subject: message.subject.clone(),
                excerpt: excerpt(&message.text),
            },
        };
        let mut entries = vec![ActivityEntry::new(
            number,
            now,
            Actor::user(caller.id()),
            written,
        )];
        let status = draft.status.filter(|s| *s != ticket.status);
        let write = if status.is_some() || participants != ticket.participants {
            let patch = TicketPatch {
                version: ticket.version,
                status,
                ..TicketPatch::default()
            };
            let (mut next, changes) = patch.apply(&ticket, now)?;
            if !changes.is_empty() {
                entries.push(ActivityEntry::new(
                    number,
                    now + chrono::Duration::microseconds(1),
                    Actor::user(caller.id()),
                    ActivityKind::FieldsChanged { changes },
                ));
            }
            if next.participants != participants {
                // The forward's own entry says who they are.
                next.participants = participants;
                next.version = ticket.version + 1;
                next.updated_at = now;
            }
            TicketWrite::Update {
                ticket: next,
                expected_version: ticket.version,
                previous_tags: ticket.tags.clone(),
            }
        } else {
            TicketWrite::Touch { number, at: now }
        };

        // The MIME first: a stored reply always has its raw.
        self.raw_mail
            .put(&message.raw_key, raw, "message/rfc822")
            .await?;
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
            // Stored by a racing call with this key (its MIME stays unused).
            Recorded::Duplicate => {
                let at = self.messages.delivery(&delivery_id).await?;
                self.replay(number, at.ok_or_else(key_reused)?, mail).await
            }
        }
    }

    /// The reply an earlier call with the same key stored (as `at`): queue that
    /// same mail again (its first queueing may have failed); the ledger sends
    /// it once. 1 GetItem, and 1 SQS send unless it was sent.
    async fn replay(
        &self,
        number: TicketNumber,
        at: (TicketNumber, String),
        mail: OutgoingMail,
    ) -> DeskResult<ReplyOutcome> {
        let stored = self.stored_reply(number, at).await?;
        let mut again = mail;
        again.subject = stored.subject.clone();
        again.text = stored.text.clone();
        again.html = stored.html.clone();
        let parsed = |list: &[String]| -> Vec<EmailAddress> {
            list.iter()
                .filter_map(|a| EmailAddress::parse(a).ok())
                .collect()
        };
        again.to = parsed(&stored.to);
        again.cc = parsed(&stored.cc);
        again.in_reply_to = stored.in_reply_to.clone();
        again.message = Some(stored.id.clone());
        // Its MIME as stored (none for replies from before they were kept).
        again.raw = (!stored.raw_key.is_empty()).then(|| stored.raw_key.clone());
        if stored.send_state != Some(SendState::Sent) {
            self.outbox.enqueue(&again).await?;
        }
        Ok(ReplyOutcome {
            message: stored,
            created: false,
        })
    }

    async fn stored_reply(
        &self,
        number: TicketNumber,
        (n, id): (TicketNumber, String),
    ) -> DeskResult<MailMessage> {
        if n != number {
            return Err(key_reused());
        }
        self.messages
            .get_message(n, &id)
            .await?
            .ok_or_else(key_reused)
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
            participants: Vec::new(),
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
    fn forward_subjects_carry_the_tag_once_after_fwd() {
        let t = ticket("Printer jams");
        assert_eq!(forward_subject(&t, None), "Fwd: [#1001] Printer jams");
        assert_eq!(
            forward_subject(&t, Some("Re: Fwd: toner")),
            "Fwd: [#1001] toner"
        );
        assert_eq!(
            forward_subject(&t, Some("FW: [#1001] toner")),
            "Fwd: [#1001] toner"
        );
    }

    #[test]
    fn participants_are_new_third_parties_only_and_bounded() {
        let mut t = ticket("x");
        t.participants = vec![EmailAddress::parse("sup@vendor.example").unwrap()];
        let add = |list: &[&str]| {
            let parsed: Vec<EmailAddress> = list
                .iter()
                .map(|a| EmailAddress::parse(a).unwrap())
                .collect();
            joined_participants(&t, parsed.iter())
        };
        let joined = add(&[
            "SUP@vendor.example",
            "c@example.com",
            "ops@team.example",
            "Ops@Team.example",
        ])
        .unwrap();
        let keys: Vec<String> = joined.iter().map(|a| a.key()).collect();
        assert_eq!(keys, ["sup@vendor.example", "ops@team.example"]);
        let many: Vec<String> = (0..PARTICIPANTS)
            .map(|i| format!("p{i}@x.example"))
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(add(&many).unwrap_err().field, "to");
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

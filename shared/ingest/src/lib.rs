//! Email in: one received email (a delivery) becomes a new ticket or joins the
//! ticket it answers — exactly once, whatever the redeliveries.
//!
//! Threading, strongest signal first (SPEC §3): a valid signed token in a
//! recipient address; `In-Reply-To`/`References` matching a message of a ticket;
//! the `[#n]` subject tag, only from that ticket's customer. New tickets run the
//! rules. Robots are recorded but change no status and get no automatic mail;
//! viruses are quarantined; spam is tagged and notifies nobody.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use desk_domain::mail::acknowledgement::Acknowledged;
use desk_domain::message::{Direction, MailMessage, Recorded, TicketWrite};
use desk_domain::outbound::OutgoingMail;
use desk_domain::rules::{CompiledRules, Evaluation};
use desk_domain::ticket::{Assignee, Customer, Ticket};
use desk_domain::{
    ActivityEntry, ActivityKind, Actor, Desk, DeskError, DeskResult, EmailAddress, Priority,
    Source, Status, Tag, Tags, TicketNumber,
};
use desk_mail::thread::{signals, RuleView};
use desk_mail::{parse, Limits, ParsedMail, ReplyToken};

/// One received email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Its identity: SES message id (the S3 object key), or mailbox + UID for IMAP.
    pub id: String,
    /// Where the raw message is kept.
    pub raw_key: String,
    /// SMTP recipients (Bcc'd desk addresses appear only here).
    pub envelope: Vec<String>,
    pub source: Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    NewTicket(TicketNumber),
    Reply(TicketNumber),
    /// Seen before: nothing written.
    Duplicate,
    /// Another reception of a message already on this ticket (same Message-ID
    /// and content): kept on that message, its raw too; no new message.
    AnotherReception(TicketNumber),
    /// Virus: kept aside, not a ticket.
    Quarantined,
}

/// How long compiled rules are reused (rules change rarely; this keeps new
/// tickets at 3 DynamoDB round trips).
const RULES_TTL: Duration = Duration::from_secs(30);
const RECORD_ATTEMPTS: usize = 3;
/// The tag a ticket gets when mail to its customer bounced.
pub const BOUNCED_TAG: &str = "bounced";
/// Automatic mails to one address per hour (loop protection).
pub const AUTO_MAIL_PER_HOUR: u32 = 10;

pub struct Ingest {
    pub desk: Desk,
    pub token: ReplyToken,
    /// The desk's domains (for tokens) and own addresses (mail from them is ours).
    pub desk_domains: Vec<String>,
    pub own_addresses: Vec<String>,
    pub limits: Limits,
    rules: Mutex<Option<(Instant, Arc<CompiledRules>)>>,
}

fn excerpt(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = one_line.chars().take(160).collect();
    if one_line.chars().count() > 160 {
        out.push('…');
    }
    out
}

impl Ingest {
    pub fn new(
        desk: Desk,
        token: ReplyToken,
        desk_domains: Vec<String>,
        own_addresses: Vec<String>,
    ) -> Self {
        Self {
            desk,
            token,
            desk_domains,
            own_addresses,
            limits: Limits::default(),
            rules: Mutex::new(None),
        }
    }

    async fn compiled_rules(&self) -> DeskResult<Arc<CompiledRules>> {
        if let Ok(guard) = self.rules.lock() {
            if let Some((at, rules)) = guard.as_ref() {
                if at.elapsed() < RULES_TTL {
                    return Ok(rules.clone());
                }
            }
        }
        let rules = Arc::new(CompiledRules::new(&self.desk.all_rules().await?));
        for issue in rules.issues() {
            tracing::warn!(rule = %issue.rule_id, problem = %issue.message, "stored rule skipped");
        }
        if let Ok(mut guard) = self.rules.lock() {
            *guard = Some((Instant::now(), rules.clone()));
        }
        Ok(rules)
    }

    /// Which ticket `mail` continues, if any: a ticket merged into another
    /// continues there (merges flatten, so that is one hop).
    async fn thread(&self, mail: &ParsedMail, delivery: &Delivery) -> DeskResult<Option<Ticket>> {
        match self.threaded(mail, delivery).await? {
            Some(Ticket {
                merged_into: Some(target),
                ..
            }) => self.desk.tickets.get_ticket(target).await,
            other => Ok(other),
        }
    }

    async fn threaded(&self, mail: &ParsedMail, delivery: &Delivery) -> DeskResult<Option<Ticket>> {
        let s = signals(mail, &delivery.envelope, &self.token, &self.desk_domains);
        if let Some(n) = s.token {
            if let Some(t) = self.desk.tickets.get_ticket(n).await? {
                return Ok(Some(t));
            }
        }
        // A bounce names the mail that bounced (ours) in its returned headers:
        // those ids come first, so the report joins the ticket that mail was about.
        let mut ids: Vec<String> = mail
            .bounce
            .iter()
            .flat_map(|b| {
                b.original_message_id
                    .iter()
                    .chain(b.original_references.iter().rev())
                    .cloned()
            })
            .collect();
        ids.extend(s.message_ids.iter().cloned());
        if let Some(n) = self.desk.messages.ticket_for_message_ids(&ids).await? {
            if let Some(t) = self.desk.tickets.get_ticket(n).await? {
                return Ok(Some(t));
            }
        }
        if let Some(n) = s.subject_tag {
            let sender = mail
                .from
                .as_ref()
                .map(|f| f.address.to_ascii_lowercase())
                .unwrap_or_default();
            if let Some(t) = self.desk.tickets.get_ticket(n).await? {
                // A subject tag alone is easy to copy: only the customer and the
                // third parties the ticket was forwarded to may use it.
                if t.customer.email.key() == sender || t.is_participant(&sender) {
                    return Ok(Some(t));
                }
            }
        }
        Ok(None)
    }

    fn message(&self, mail: &ParsedMail, delivery: &Delivery, ticket: TicketNumber) -> MailMessage {
        let now = self.desk.clock.now();
        MailMessage {
            id: desk_domain::activity::time_ordered_id(now),
            ticket,
            delivery_id: delivery.id.clone(),
            raw_key: delivery.raw_key.clone(),
            rfc_message_id: mail.message_id.clone(),
            from_name: mail
                .from
                .as_ref()
                .map(|f| f.name.clone())
                .unwrap_or_default(),
            from: mail
                .from
                .as_ref()
                .map(|f| f.address.clone())
                .unwrap_or_default(),
            to: mail.to.iter().map(|m| m.address.clone()).collect(),
            cc: mail.cc.iter().map(|m| m.address.clone()).collect(),
            subject: mail.subject.clone(),
            text: mail.text.clone(),
            // As received: whoever serves it to a person runs it through
            // `desk_mail::sanitize::clean_html` (sanitising moved to read time).
            html: mail.html_source.clone(),
            attachments: mail.attachments.clone(),
            automation: mail.automation.as_ref().map(|a| format!("{a:?}")),
            spam: mail.verdicts.spam,
            truncated: mail.truncated,
            received_at: now,
            direction: Direction::Inbound,
            author: None,
            send_state: None,
            provider_message_id: None,
            in_reply_to: mail.in_reply_to.first().cloned(),
            fingerprint: mail.fingerprint.clone(),
            receptions: vec![],
            third_party: false,
        }
    }

    /// `delivery` is another reception of `message` on ticket `ticket`: kept on it.
    async fn another_reception(
        &self,
        delivery: &Delivery,
        ticket: TicketNumber,
        message: &str,
    ) -> DeskResult<Outcome> {
        let reception = desk_domain::message::Reception {
            delivery_id: delivery.id.clone(),
            raw_key: delivery.raw_key.clone(),
            received_at: self.desk.clock.now(),
        };
        Ok(
            match self
                .desk
                .messages
                .add_reception(ticket, message, &reception)
                .await?
            {
                Recorded::Duplicate => Outcome::Duplicate,
                _ => {
                    tracing::info!(
                        ticket = ticket.get(),
                        message,
                        "another reception of a message kept on it"
                    );
                    Outcome::AnotherReception(ticket)
                }
            },
        )
    }

    fn received_entry(&self, message: &MailMessage) -> ActivityEntry {
        ActivityEntry::new(
            message.ticket,
            message.received_at,
            Actor::Sender {
                address: message.from.clone(),
            },
            ActivityKind::EmailReceived {
                message_id: message.id.clone(),
                from: message.from.clone(),
                subject: message.subject.clone(),
                excerpt: excerpt(&message.text),
                automation: message.automation.clone(),
                third_party: message.third_party,
            },
        )
    }

    /// Processes one delivery of `raw`. Safe to call any number of times, also
    /// concurrently, for the same delivery: it is recorded once.
    pub async fn ingest(&self, delivery: &Delivery, raw: &[u8]) -> DeskResult<Outcome> {
        let mail = parse(raw, &self.limits, &self.own_addresses);
        let now = self.desk.clock.now();
        if mail.verdicts.virus {
            return Ok(
                match self
                    .desk
                    .messages
                    .quarantine(&delivery.id, &delivery.raw_key, "virus", now)
                    .await?
                {
                    Recorded::Duplicate => Outcome::Duplicate,
                    _ => Outcome::Quarantined,
                },
            );
        }
        let mut ids: Vec<String> = mail.message_id.iter().cloned().collect();
        ids.retain(|i| !i.is_empty());
        for _ in 0..RECORD_ATTEMPTS {
            match self.thread(&mail, delivery).await? {
                Some(ticket) => match self.record_reply(&mail, delivery, ticket, &ids).await {
                    Err(DeskError::VersionConflict { .. }) => continue,
                    other => return other,
                },
                None => return self.record_new(&mail, delivery, &ids).await,
            }
        }
        Err(DeskError::Conflict {
            code: "busy",
            message: "the ticket kept changing; retry".into(),
        })
    }

    async fn record_reply(
        &self,
        mail: &ParsedMail,
        delivery: &Delivery,
        ticket: Ticket,
        ids: &[String],
    ) -> DeskResult<Outcome> {
        let mut message = self.message(mail, delivery, ticket.number);
        let from_customer = mail.from.as_ref().is_some_and(|f| {
            f.address
                .eq_ignore_ascii_case(ticket.customer.email.as_str())
        });
        message.third_party = !from_customer && ticket.is_participant(&message.from);
        let mut entries = vec![self.received_entry(&message)];
        // A person's answer reopens a closed ticket and moves a waiting one to open;
        // robots (out-of-office…) never change the status.
        let reopen = mail.automation.is_none()
            && matches!(ticket.status, Status::Waiting | Status::Closed)
            && from_customer;
        let write = if let Some(bounce) = &mail.bounce {
            // Our mail to these recipients failed: say so on the ticket and tag it,
            // so agents can find tickets whose customer cannot be reached.
            entries.push(ActivityEntry::new(
                ticket.number,
                message.received_at + chrono::Duration::microseconds(1),
                Actor::Sender {
                    address: message.from.clone(),
                },
                ActivityKind::DeliveryFailed {
                    recipients: bounce.failed_recipients.clone(),
                    original_message_id: bounce.original_message_id.clone(),
                    report_message_id: message.id.clone(),
                },
            ));
            match Tag::parse(BOUNCED_TAG) {
                Ok(tag) if !ticket.tags.contains(&tag) => {
                    let mut next = ticket.clone();
                    next.tags.insert(tag);
                    next.version += 1;
                    next.updated_at = message.received_at;
                    entries.push(ActivityEntry::new(
                        ticket.number,
                        message.received_at + chrono::Duration::microseconds(2),
                        Actor::System,
                        ActivityKind::FieldsChanged {
                            changes: vec![desk_domain::ticket::FieldChange {
                                field: "tags".into(),
                                from: serde_json::json!(ticket.tags),
                                to: serde_json::json!(next.tags),
                            }],
                        },
                    ));
                    TicketWrite::Update {
                        ticket: next,
                        expected_version: ticket.version,
                        previous_tags: ticket.tags.clone(),
                    }
                }
                _ => TicketWrite::Touch {
                    number: ticket.number,
                    at: message.received_at,
                },
            }
        } else if reopen {
            let mut next = ticket.clone();
            next.status = Status::Open;
            next.closed_at = None;
            next.version += 1;
            next.updated_at = message.received_at;
            entries.push(ActivityEntry::new(
                ticket.number,
                message.received_at + chrono::Duration::microseconds(1),
                Actor::Sender {
                    address: message.from.clone(),
                },
                ActivityKind::FieldsChanged {
                    changes: vec![desk_domain::ticket::FieldChange {
                        field: "status".into(),
                        from: serde_json::json!(ticket.status.as_str()),
                        to: serde_json::json!("open"),
                    }],
                },
            ));
            TicketWrite::Update {
                ticket: next,
                expected_version: ticket.version,
                previous_tags: ticket.tags.clone(),
            }
        } else {
            TicketWrite::Touch {
                number: ticket.number,
                at: message.received_at,
            }
        };
        Ok(
            match self
                .desk
                .messages
                .record(&message, &write, &entries, ids)
                .await?
            {
                Recorded::Stored => Outcome::Reply(ticket.number),
                Recorded::Duplicate => Outcome::Duplicate,
                Recorded::SameMessage { ticket, message } => {
                    return self.another_reception(delivery, ticket, &message).await
                }
            },
        )
    }

    async fn record_new(
        &self,
        mail: &ParsedMail,
        delivery: &Delivery,
        ids: &[String],
    ) -> DeskResult<Outcome> {
        let evaluation = match RuleView::new(mail) {
            Some(view) => Some(view.evaluate(&*self.compiled_rules().await?)),
            None => None,
        };
        let number = self.desk.tickets.allocate_number().await?;
        let now = self.desk.clock.now();
        let ticket = self.new_ticket(mail, delivery, number, evaluation.as_ref(), now)?;
        let message = self.message(mail, delivery, number);
        // Created, then the email, then the rule: a microsecond apart, so they sort so.
        let created_at = message.received_at - chrono::Duration::microseconds(1);
        let mut entries = vec![
            ActivityEntry::new(
                number,
                created_at,
                Actor::Sender {
                    address: message.from.clone(),
                },
                ActivityKind::TicketCreated {
                    source: delivery.source,
                },
            ),
            self.received_entry(&message),
        ];
        if let Some(e) = &evaluation {
            let at = message.received_at + chrono::Duration::microseconds(1);
            entries.push(ActivityEntry::new(
                number,
                at,
                Actor::System,
                ActivityKind::RuleApplied {
                    rule_id: e.rule_id.clone(),
                    rule_name: e.rule_name.clone(),
                    summary: e.summary(),
                },
            ));
        }
        match self
            .desk
            .messages
            .record(
                &message,
                &TicketWrite::Create(ticket.clone()),
                &entries,
                ids,
            )
            .await?
        {
            Recorded::Duplicate => Ok(Outcome::Duplicate),
            // The number allocated for it stays unused.
            Recorded::SameMessage { ticket, message } => {
                self.another_reception(delivery, ticket, &message).await
            }
            Recorded::Stored => {
                if let Some(e) = &evaluation {
                    // Automatic mail never answers robots, lists or spam.
                    let person = mail.automation.is_none() && !mail.verdicts.spam;
                    if e.actions.notify && person {
                        self.notify(&ticket, e).await;
                    }
                    if let (Some(module), true) = (&e.actions.acknowledge, person) {
                        self.acknowledge(&ticket, module, &message).await;
                    }
                }
                Ok(Outcome::NewTicket(number))
            }
        }
    }

    fn new_ticket(
        &self,
        mail: &ParsedMail,
        delivery: &Delivery,
        number: TicketNumber,
        evaluation: Option<&Evaluation>,
        now: chrono::DateTime<Utc>,
    ) -> DeskResult<Ticket> {
        let email = mail
            .from
            .as_ref()
            .and_then(|f| EmailAddress::parse(&f.address).ok())
            .or_else(|| {
                mail.reply_to
                    .as_ref()
                    .and_then(|r| EmailAddress::parse(&r.address).ok())
            })
            .map_or_else(|| EmailAddress::parse("unknown@sender.invalid"), Ok)?;
        let name: String = mail
            .subject
            .trim()
            .chars()
            .take(desk_domain::limits::NAME)
            .collect();
        let description: String = mail.text.chars().take(1_000).collect();
        let mut ticket = Ticket {
            number,
            name: if name.is_empty() {
                "(no subject)".into()
            } else {
                name
            },
            description,
            status: Status::Open,
            priority: Priority::Medium,
            assignee: None,
            tags: Tags::default(),
            customer: Customer {
                name: mail
                    .from
                    .as_ref()
                    .map(|f| f.name.chars().take(200).collect())
                    .unwrap_or_default(),
                email,
                phone: String::new(),
            },
            source: delivery.source,
            created_at: now,
            updated_at: now,
            closed_at: None,
            version: 1,
            merged_into: None,
            merged: Vec::new(),
            participants: Vec::new(),
        };
        if let Some(e) = evaluation {
            let a = &e.actions;
            if let Some(s) = a.status {
                ticket.status = s;
                if s == Status::Closed {
                    ticket.closed_at = Some(now);
                }
            }
            if let Some(p) = a.priority {
                ticket.priority = p;
            }
            ticket.assignee = a.assignee.clone();
            ticket.tags = ticket
                .tags
                .edited(&a.add_tags, &[])
                .unwrap_or(ticket.tags.clone());
        }
        if mail.verdicts.spam {
            if let Ok(tag) = Tag::parse("spam") {
                ticket.tags.insert(tag);
            }
        }
        Ok(ticket)
    }

    /// The rule asked to acknowledge the customer's mail. The ticket is stored
    /// whatever becomes of it; a failure is logged, not retried.
    async fn acknowledge(&self, ticket: &Ticket, module: &str, message: &MailMessage) {
        match self
            .desk
            .acknowledge(ticket, module, message, AUTO_MAIL_PER_HOUR)
            .await
        {
            Ok(Acknowledged::Queued) | Ok(Acknowledged::AlreadySent) => {}
            Ok(Acknowledged::Limited) => {
                tracing::warn!(ticket = %ticket.number, "automatic mail limit reached; acknowledgement dropped")
            }
            Ok(Acknowledged::NoModule) => {
                tracing::warn!(ticket = %ticket.number, module, "the acknowledgement's text module is gone")
            }
            Err(err) => {
                tracing::warn!(ticket = %ticket.number, error = %err, "acknowledging failed")
            }
        }
    }

    /// The rule asked to notify the assignee (or every member of the assigned
    /// group): automatic mail, marked, rate-limited per address.
    async fn notify(&self, ticket: &Ticket, e: &Evaluation) {
        let recipients: Vec<EmailAddress> = match &e.actions.assignee {
            Some(Assignee::User(u)) => match self.desk.directory.get_user(u).await {
                Ok(Some(u)) if u.active => vec![u.email],
                _ => vec![],
            },
            Some(Assignee::Group(g)) => match self.desk.directory.list_users().await {
                Ok(users) => users
                    .into_iter()
                    .filter(|u| u.active && u.groups.contains(g))
                    .map(|u| u.email)
                    .collect(),
                Err(_) => vec![],
            },
            None => vec![],
        };
        let now = self.desk.clock.now();
        for to in recipients {
            match self
                .desk
                .limiter
                .allow(&format!("auto:{}", to.key()), AUTO_MAIL_PER_HOUR, 3600, now)
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(to = %to, "automatic mail limit reached; notification dropped");
                    continue;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "rate limiter unavailable; notification dropped");
                    continue;
                }
            }
            let mail = OutgoingMail::automatic(
                format!("rule-notify-{}-{}", ticket.number, to.key()),
                vec![to.clone()],
                format!("[#{}] New ticket: {}", ticket.number, ticket.name),
                format!(
                    "A new ticket was assigned by rule \"{}\".\n\nFrom: {}\nSubject: {}\n\n{}\n",
                    e.rule_name, ticket.customer.email, ticket.name, ticket.description
                ),
                Some(ticket.number),
                "rule_notification",
            );
            if let Err(err) = self.desk.outbox.enqueue(&mail).await {
                tracing::warn!(error = %err, "queueing a rule notification failed");
            }
        }
    }
}

//! Remote-support use cases: create sessions (from a ticket, by hand, from a
//! customer's module), the Service Queue, close / connect / delete, customer
//! connection events, and expiry.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::access::Caller;
use crate::activity::{ActivityEntry, ActivityKind, Actor};
use crate::audit::{diff, AuditAction};
use crate::error::{DeskError, DeskResult, FieldError};
use crate::listing::Page;
use crate::module::{is_module_id, Module, ModuleInput};
use crate::outbound::{DeskEvent, OutgoingMail};
use crate::ports::{CaseQuery, StoredCase};
use crate::random::{same_hash, secret_hash};
use crate::service::Desk;
use crate::session::{
    case_customer_name, case_description, join_link, lifetime, CaseCreator, CaseEvent, CaseOrigin,
    CaseStatus, NewManualCase, NewTicketSession, Partner, PublicCaseEvent, PublicCaseRequest,
    PublicEventKind, ServiceCase, SessionCode, TransitionError,
};
use crate::types::{EmailAddress, TicketNumber, UserId};

/// A new case and its public secret (shown once, to whoever created it).
#[derive(Debug, Clone, Serialize)]
pub struct CreatedCase {
    #[serde(flatten)]
    pub case: ServiceCase,
    /// Authenticates the customer's module on `/public/cases/{code}/events`.
    pub secret: String,
}

/// What a customer's module learns about its case: nothing about agents or tickets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicCaseView {
    pub code: SessionCode,
    pub status: CaseStatus,
    pub join_link: String,
    pub expires_at: DateTime<Utc>,
}

impl PublicCaseView {
    fn of(c: &ServiceCase) -> Self {
        Self {
            code: c.code.clone(),
            status: c.status,
            join_link: c.join_link.clone(),
            expires_at: c.expires_at,
        }
    }
}

/// What the expert's client needs to join.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectInfo {
    pub code: SessionCode,
    pub connect_link: String,
    pub customer_waiting: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotDeleted {
    pub code: String,
    pub code_error: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct BulkDeleteReport {
    pub deleted: Vec<SessionCode>,
    pub not_deleted: Vec<NotDeleted>,
}

/// One expiry run's work.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExpiryReport {
    /// Due cases read from storage.
    pub due: usize,
    pub expired: usize,
    /// Due cases someone else ended first (closed or expired concurrently).
    pub lost_races: usize,
}

/// Service Queue request (parsed from the query string).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseListRequest {
    pub statuses: Vec<CaseStatus>,
    /// `Some(None)`: unassigned only; "me" is resolved by the edge.
    pub assignee: Option<Option<UserId>>,
    pub limit: usize,
    pub cursor: Option<String>,
}

impl CaseListRequest {
    pub fn parse(pairs: &[(String, String)], me: &UserId) -> Result<Self, FieldError> {
        let mut r = CaseListRequest {
            statuses: vec![],
            assignee: None,
            limit: 25,
            cursor: None,
        };
        let mut seen: Vec<&str> = vec![];
        for (k, v) in pairs {
            if seen.contains(&k.as_str()) {
                return Err(FieldError::new(k.clone(), "given more than once"));
            }
            seen.push(k);
            match k.as_str() {
                "status" => {
                    for part in v.split(',').filter(|p| !p.trim().is_empty()) {
                        let s = CaseStatus::parse(part)?;
                        if !r.statuses.contains(&s) {
                            r.statuses.push(s);
                        }
                    }
                }
                "assignee" => {
                    r.assignee = Some(match v.trim() {
                        "me" => Some(me.clone()),
                        "unassigned" | "none" => None,
                        other => Some(
                            other
                                .strip_prefix("user:")
                                .and_then(|id| UserId::parse(id).ok())
                                .ok_or_else(|| {
                                    FieldError::new(
                                        "assignee",
                                        "must be me, unassigned or user:<id>",
                                    )
                                })?,
                        ),
                    })
                }
                "limit" => {
                    r.limit = v
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=100).contains(n))
                        .ok_or_else(|| {
                            FieldError::new("limit", "must be a whole number from 1 to 100")
                        })?
                }
                "cursor" if !v.is_empty() && v.len() <= 2048 => r.cursor = Some(v.clone()),
                "cursor" => {
                    return Err(FieldError::new(
                        "cursor",
                        "is not a cursor this API returned",
                    ))
                }
                other => return Err(FieldError::new(other, "is not a known query parameter")),
            }
        }
        Ok(r)
    }
}

const CREATE_ATTEMPTS: usize = 5;
const TRANSITION_ATTEMPTS: usize = 4;
/// Customer events per case per minute.
pub const EVENTS_PER_MINUTE: u32 = 30;

fn status_event(c: &ServiceCase, from: CaseStatus) -> DeskEvent {
    DeskEvent {
        detail_type: "ServiceCaseStatusChanged".into(),
        detail: json!({
            "code": c.code, "ticket": c.ticket, "assignee": c.assignee,
            "from": from, "to": c.status, "at": c.updated_at,
        }),
    }
}

fn illegal(c: &ServiceCase, e: TransitionError) -> DeskError {
    DeskError::IllegalTransition {
        current: c.status.as_str().to_string(),
        message: e.to_string(),
    }
}

impl Desk {
    fn new_case(
        &self,
        origin: CaseOrigin,
        creator: CaseCreator,
        assignee: Option<UserId>,
        ticket: Option<TicketNumber>,
        customer: (String, Option<EmailAddress>),
        description: String,
        now: DateTime<Utc>,
        secret: &str,
    ) -> ServiceCase {
        let code = SessionCode::from_number(self.random.code_number());
        ServiceCase {
            join_link: join_link(&self.settings.join_link_base, &code, Some(secret)),
            code,
            ticket,
            origin,
            creator,
            assignee,
            customer_name: customer.0,
            customer_email: customer.1,
            description,
            status: CaseStatus::New,
            customer_connected: false,
            expert_connected: false,
            customer_waiting_since: None,
            created_at: now,
            updated_at: now,
            expires_at: now + lifetime(),
            ended_at: None,
            version: 1,
        }
    }

    /// Stores a new case under a fresh code (retrying the rare code collision).
    async fn store_new_case(
        &self,
        make: impl Fn(&str) -> ServiceCase,
        actor: Actor,
    ) -> DeskResult<CreatedCase> {
        let secret = self.random.secret();
        for _ in 0..CREATE_ATTEMPTS {
            let case = make(&secret);
            let entry = case.ticket.map(|n| {
                ActivityEntry::new(
                    n,
                    case.created_at,
                    actor.clone(),
                    ActivityKind::SessionCreated {
                        code: case.code.clone(),
                        join_link: case.join_link.clone(),
                        assignee: case.assignee.clone(),
                    },
                )
            });
            match self
                .cases
                .create_case(&case, &secret_hash(&secret), entry.as_ref())
                .await
            {
                Ok(()) => {
                    self.publish(vec![DeskEvent {
                        detail_type: "ServiceCaseCreated".into(),
                        detail: json!({"code": case.code, "ticket": case.ticket, "assignee": case.assignee,
                                       "origin": case.origin, "expires_at": case.expires_at}),
                    }])
                    .await;
                    return Ok(CreatedCase { case, secret });
                }
                Err(DeskError::AlreadyExists { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(DeskError::Storage(
            "could not find a free session code".into(),
        ))
    }

    /// Events are published after the write committed; a bus failure is logged,
    /// never turned into a failed request for a change that did happen.
    async fn publish(&self, events: Vec<DeskEvent>) {
        if let Err(e) = self.events.publish(&events).await {
            tracing::warn!(error = %e, count = events.len(), "publishing events failed");
        }
    }

    async fn active_user(&self, id: &UserId, field: &str) -> DeskResult<crate::directory::User> {
        match self.directory.get_user(id).await? {
            Some(u) if u.active => Ok(u),
            _ => Err(DeskError::invalid(field, "no such active user")),
        }
    }

    /// "Create session" on a ticket: a case with a join link, logged on the
    /// ticket, optionally emailed to the customer.
    pub async fn create_ticket_session(
        &self,
        caller: &Caller,
        number: TicketNumber,
        input: NewTicketSession,
    ) -> DeskResult<CreatedCase> {
        let ticket = self.open_ticket(caller, number).await?;
        let description = case_description(input.description.as_deref())?;
        let assignee = match input.assignee {
            Some(a) => self.active_user(&a, "assignee").await?.id,
            None => caller.id().clone(),
        };
        let now = self.clock.now();
        let customer = (
            ticket.customer.name.clone(),
            Some(ticket.customer.email.clone()),
        );
        let created = self
            .store_new_case(
                |secret| {
                    self.new_case(
                        CaseOrigin::Ticket,
                        CaseCreator::User(caller.id().clone()),
                        Some(assignee.clone()),
                        Some(number),
                        customer.clone(),
                        description.clone(),
                        now,
                        secret,
                    )
                },
                Actor::user(caller.id()),
            )
            .await?;
        if input.email_customer {
            let c = &created.case;
            let mut mail = OutgoingMail::automatic(
                format!("session-link-{}", c.code),
                vec![ticket.customer.email.clone()],
                format!("[#{number}] Your remote support session {}", c.code),
                format!(
                    "Hello {},\n\nto let us look at your screen, open this link and start the session:\n\n  {}\n\nSession code: {}\nThe link is valid until {} (UTC).\n",
                    if ticket.customer.name.is_empty() { "there" } else { &ticket.customer.name },
                    c.join_link,
                    c.code,
                    c.expires_at.format("%Y-%m-%d %H:%M")
                ),
                Some(number),
                "session_link",
            );
            // An agent asked for it: not automatic mail, and the customer's answer
            // threads back to the ticket.
            mail.auto_submitted = None;
            mail.reply_to = Some(
                self.reply_address
                    .reply_to(&self.settings.desk_address, number),
            );
            self.outbox.enqueue(&mail).await?;
        }
        Ok(created)
    }

    /// A case created by an agent in the Service Queue.
    pub async fn create_manual_case(
        &self,
        caller: &Caller,
        input: NewManualCase,
    ) -> DeskResult<CreatedCase> {
        let description = case_description(input.description.as_deref())?;
        let name = case_customer_name(input.customer_name.as_deref())?;
        if let Some(n) = input.ticket {
            // Linking to a ticket requires seeing it; a ticket case takes its slot.
            self.ticket(caller, n)
                .await
                .map_err(|e| e.named_in("ticket", "no such ticket"))?;
        }
        let assignee = match input.assignee {
            Some(a) => self.active_user(&a, "assignee").await?.id,
            None => caller.id().clone(),
        };
        let now = self.clock.now();
        let origin = if input.ticket.is_some() {
            CaseOrigin::Ticket
        } else {
            CaseOrigin::Manual
        };
        self.store_new_case(
            |secret| {
                self.new_case(
                    origin,
                    CaseCreator::User(caller.id().clone()),
                    Some(assignee.clone()),
                    input.ticket,
                    (name.clone(), input.customer_email.clone()),
                    description.clone(),
                    now,
                    secret,
                )
            },
            Actor::user(caller.id()),
        )
        .await
    }

    async fn enabled_module(&self, id: &str) -> DeskResult<Module> {
        if !is_module_id(id) {
            return Err(DeskError::NotFound { what: "module" });
        }
        match self.modules.get_module(id).await? {
            Some(m) if m.enabled => Ok(m),
            _ => Err(DeskError::NotFound { what: "module" }),
        }
    }

    /// A case opened by a customer's module or SOS button: no login, rate-limited
    /// per module, answering nothing about agents or tickets.
    pub async fn create_public_case(
        &self,
        module_id: &str,
        input: PublicCaseRequest,
    ) -> DeskResult<(PublicCaseView, String)> {
        let module = self.enabled_module(module_id).await?;
        let now = self.clock.now();
        if !self
            .limiter
            .allow(
                &format!("module:{}", module.id),
                module.cases_per_minute,
                60,
                now,
            )
            .await?
        {
            return Err(DeskError::RateLimited {
                retry_after: 60 - (now.timestamp() % 60) as u32,
            });
        }
        let description = case_description(input.description.as_deref())?;
        let name = case_customer_name(input.customer_name.as_deref())?;
        let origin = match module.kind {
            crate::module::ModuleKind::Custom => CaseOrigin::Module,
            crate::module::ModuleKind::Sos => CaseOrigin::Sos,
        };
        let created = self
            .store_new_case(
                |secret| {
                    self.new_case(
                        origin,
                        CaseCreator::Module(module.id.clone()),
                        module.assignee.clone(),
                        None,
                        (name.clone(), input.customer_email.clone()),
                        description.clone(),
                        now,
                        secret,
                    )
                },
                Actor::Customer,
            )
            .await?;
        Ok((PublicCaseView::of(&created.case), created.secret))
    }

    fn may_see_case(caller: &Caller, c: &ServiceCase) -> bool {
        caller.is_admin()
            || c.assignee.is_none()
            || c.assignee.as_ref() == Some(caller.id())
            || c.creator == CaseCreator::User(caller.id().clone())
    }

    async fn stored_case(&self, code: &SessionCode) -> DeskResult<StoredCase> {
        self.cases.get_case(code).await?.ok_or(DeskError::NotFound {
            what: "service_case",
        })
    }

    /// One case, as of now (an overdue case reads as expired).
    pub async fn service_case(
        &self,
        caller: &Caller,
        code: &SessionCode,
    ) -> DeskResult<ServiceCase> {
        let stored = self.stored_case(code).await?;
        if !Self::may_see_case(caller, &stored.case) {
            return Err(DeskError::NotFound {
                what: "service_case",
            });
        }
        Ok(stored.case.as_of(self.clock.now()))
    }

    pub async fn list_cases(
        &self,
        caller: &Caller,
        request: &CaseListRequest,
    ) -> DeskResult<Page<ServiceCase>> {
        let query = CaseQuery {
            visible_to: (!caller.is_admin()).then(|| caller.id().clone()),
            statuses: request.statuses.clone(),
            assignee: request.assignee.clone(),
            limit: request.limit,
            cursor: request.cursor.clone(),
        };
        let now = self.clock.now();
        let mut page = self.cases.list_cases(&query).await?;
        page.items = page
            .items
            .into_iter()
            .map(|c| c.as_of(now))
            .filter(|c| Self::may_see_case(caller, c))
            .filter(|c| request.statuses.is_empty() || request.statuses.contains(&c.status))
            .collect();
        Ok(page)
    }

    /// Applies `event` to the case, conditioned on the version read; retries when
    /// another writer got there first, and reports an illegal event as a conflict
    /// with the current state. An overdue case is expired on the spot. Returns the
    /// case as it was read and as it was written.
    async fn transition(
        &self,
        code: &SessionCode,
        event: CaseEvent,
        actor: Actor,
        assign_to: Option<&UserId>,
        allowed: impl Fn(&StoredCase) -> DeskResult<()>,
    ) -> DeskResult<(ServiceCase, ServiceCase)> {
        for _ in 0..TRANSITION_ATTEMPTS {
            let stored = self.stored_case(code).await?;
            allowed(&stored)?;
            let secret_hash = stored.secret_hash.clone();
            let current = stored.case;
            let now = self.clock.now();
            let next = match current.apply(event, now) {
                Ok(mut next) => {
                    // An unassigned case (e.g. from an SOS button) goes to whoever takes it.
                    if next.assignee.is_none() {
                        next.assignee = assign_to.cloned();
                    }
                    next
                }
                Err(TransitionError::Overdue) => {
                    // Store the expiry this read discovered; whoever stores it first logs it.
                    let _ = self
                        .expire_one(
                            &StoredCase {
                                case: current.clone(),
                                secret_hash,
                            },
                            now,
                        )
                        .await;
                    return Err(illegal(&current.as_of(now), TransitionError::Overdue));
                }
                Err(e) => return Err(illegal(&current, e)),
            };
            let entry = (next.status != current.status)
                .then(|| next.ticket)
                .flatten()
                .map(|n| {
                    ActivityEntry::new(
                        n,
                        now,
                        actor.clone(),
                        ActivityKind::SessionChanged {
                            code: next.code.clone(),
                            from: current.status,
                            to: next.status,
                        },
                    )
                });
            let next = StoredCase {
                case: next,
                secret_hash,
            };
            match self
                .cases
                .transition(&next, current.version, entry.as_ref())
                .await
            {
                Ok(()) => {
                    let next = next.case;
                    let mut events = Vec::new();
                    if next.status != current.status {
                        events.push(status_event(&next, current.status));
                    }
                    if next.customer_waiting_since.is_some()
                        && current.customer_waiting_since.is_none()
                    {
                        events.push(DeskEvent {
                            detail_type: "ServiceCaseCustomerWaiting".into(),
                            detail: json!({"code": next.code, "ticket": next.ticket, "assignee": next.assignee,
                                           "since": next.customer_waiting_since}),
                        });
                        self.notify_waiting(&next).await;
                    }
                    self.publish(events).await;
                    return Ok((current, next));
                }
                Err(DeskError::VersionConflict { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(DeskError::Conflict {
            code: "busy",
            message: "the case is changing too fast; try again".into(),
        })
    }

    /// The customer waits: email the assignee (automatic mail, marked as such).
    async fn notify_waiting(&self, c: &ServiceCase) {
        let Some(assignee) = &c.assignee else { return };
        let user = match self.directory.get_user(assignee).await {
            Ok(Some(u)) if u.active => u,
            _ => return,
        };
        let waiting_since = c
            .customer_waiting_since
            .map(|t| t.timestamp())
            .unwrap_or_default();
        let mail = OutgoingMail::automatic(
            // One notification per waiting episode, however often the event is retried.
            format!("case-waiting-{}-{waiting_since}", c.code),
            vec![user.email.clone()],
            match c.ticket {
                Some(n) => format!("[#{n}] Customer waiting in session {}", c.code),
                None => format!("Customer waiting in session {}", c.code),
            },
            format!(
                "{} is waiting in remote-support session {}.\nConnect: {}/{}\n",
                if c.customer_name.is_empty() {
                    "A customer"
                } else {
                    &c.customer_name
                },
                c.code,
                self.settings.connect_link_base.trim_end_matches('/'),
                c.code
            ),
            c.ticket,
            "case_waiting",
        );
        if let Err(e) = self.outbox.enqueue(&mail).await {
            tracing::warn!(error = %e, code = %c.code, "queueing the waiting notification failed");
        }
    }

    pub async fn close_case(&self, caller: &Caller, code: &SessionCode) -> DeskResult<ServiceCase> {
        let me = caller.clone();
        self.transition(
            code,
            CaseEvent::Close,
            Actor::user(caller.id()),
            None,
            move |s| {
                if !Self::may_see_case(&me, &s.case) {
                    return Err(DeskError::NotFound {
                        what: "service_case",
                    });
                }
                if !s.case.may_close(me.id()) && !me.is_admin() {
                    return Err(DeskError::Forbidden(
                        "only the case's assignee, its creator or an administrator may close it"
                            .into(),
                    ));
                }
                Ok(())
            },
        )
        .await
        .map(|(_, closed)| closed)
    }

    /// The expert connects: the case moves on and the caller gets the connect link.
    pub async fn connect_case(
        &self,
        caller: &Caller,
        code: &SessionCode,
    ) -> DeskResult<(ServiceCase, ConnectInfo)> {
        let me = caller.clone();
        let (before, case) = self
            .transition(
                code,
                CaseEvent::Connected(Partner::Expert),
                Actor::user(caller.id()),
                Some(caller.id()),
                move |s| {
                    if Self::may_see_case(&me, &s.case) {
                        Ok(())
                    } else {
                        Err(DeskError::NotFound {
                            what: "service_case",
                        })
                    }
                },
            )
            .await?;
        let info = ConnectInfo {
            code: case.code.clone(),
            connect_link: join_link(&self.settings.connect_link_base, &case.code, None),
            customer_waiting: before.customer_waiting_since.is_some(),
        };
        Ok((case, info))
    }

    /// A connection event from the customer's module, authenticated by the case secret.
    pub async fn public_case_event(
        &self,
        raw_code: &str,
        secret: &str,
        event: PublicCaseEvent,
    ) -> DeskResult<PublicCaseView> {
        // Unknown codes and wrong secrets answer alike, so codes cannot be probed.
        let code = SessionCode::parse(raw_code).map_err(|_| DeskError::NotFound {
            what: "service_case",
        })?;
        let now = self.clock.now();
        let presented = secret_hash(secret);
        let authentic = match self.cases.get_case(&code).await? {
            Some(s) => same_hash(&s.secret_hash, &presented),
            None => false,
        };
        // Failed attempts and the customer's own events have separate budgets, so
        // someone who knows a code cannot use up the customer's.
        let key = if authentic {
            format!("case:{code}")
        } else {
            format!("case-denied:{code}")
        };
        if !self.limiter.allow(&key, EVENTS_PER_MINUTE, 60, now).await? {
            return Err(DeskError::RateLimited {
                retry_after: 60 - (now.timestamp() % 60) as u32,
            });
        }
        if !authentic {
            return Err(DeskError::NotFound {
                what: "service_case",
            });
        }
        let case_event = match event.kind {
            PublicEventKind::CustomerConnected => CaseEvent::Connected(Partner::Customer),
            PublicEventKind::CustomerDisconnected => CaseEvent::Disconnected(Partner::Customer),
        };
        let (_, case) = self
            .transition(&code, case_event, Actor::Customer, None, move |s| {
                // Checked again on the version being written.
                if same_hash(&s.secret_hash, &presented) {
                    Ok(())
                } else {
                    Err(DeskError::NotFound {
                        what: "service_case",
                    })
                }
            })
            .await?;
        Ok(PublicCaseView::of(&case))
    }

    /// Stores the expiry of an overdue case; `Ok(false)` if someone else ended it first.
    async fn expire_one(&self, stored: &StoredCase, now: DateTime<Utc>) -> DeskResult<bool> {
        let current = &stored.case;
        let next = match current.apply(CaseEvent::Expire, now) {
            Ok(next) => next,
            Err(_) => return Ok(false),
        };
        let entry = next.ticket.map(|n| {
            ActivityEntry::new(
                n,
                now,
                Actor::System,
                ActivityKind::SessionChanged {
                    code: next.code.clone(),
                    from: current.status,
                    to: CaseStatus::Expired,
                },
            )
        });
        let next = StoredCase {
            case: next,
            secret_hash: stored.secret_hash.clone(),
        };
        match self
            .cases
            .transition(&next, current.version, entry.as_ref())
            .await
        {
            Ok(()) => {
                self.publish(vec![status_event(&next.case, current.status)])
                    .await;
                Ok(true)
            }
            Err(DeskError::VersionConflict { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Expires one due case, re-reading it once if it changed since the index was
    /// read. `Ok(false)`: someone else ended it first.
    async fn expire_or_lose(&self, case: &StoredCase, now: DateTime<Utc>) -> DeskResult<bool> {
        let mut current = case.clone();
        for attempt in 0..2 {
            if self.expire_one(&current, now).await? {
                return Ok(true);
            }
            match self.cases.get_case(&case.case.code).await? {
                Some(s) if !s.case.status.is_final() && attempt == 0 => current = s,
                _ => return Ok(false),
            }
        }
        Ok(false)
    }

    /// The scheduled expiry run: expires every case whose 24-hour mark has passed.
    /// Reads only due cases; each is expired with a conditional write, so a close
    /// racing it either wins (and the case stays closed) or loses cleanly.
    pub async fn expire_due(&self, now: DateTime<Utc>) -> DeskResult<ExpiryReport> {
        const BATCH: usize = 100;
        const MAX_BATCHES: usize = 100;
        let mut report = ExpiryReport::default();
        for _ in 0..MAX_BATCHES {
            let due = self.cases.due_cases(now, BATCH).await?;
            if due.is_empty() {
                break;
            }
            report.due += due.len();
            // Expire 8 at a time: each is its own conditional transaction.
            for chunk in due.chunks(8) {
                let mut pending = Vec::with_capacity(chunk.len());
                for case in chunk {
                    pending.push(self.expire_or_lose(case, now));
                }
                for outcome in futures::future::join_all(pending).await {
                    if outcome? {
                        report.expired += 1;
                    } else {
                        report.lost_races += 1;
                    }
                }
            }
            // Every case read has now ended and left the due index.
            if due.len() < BATCH {
                break;
            }
        }
        Ok(report)
    }

    pub async fn delete_case(&self, caller: &Caller, code: &SessionCode) -> DeskResult<()> {
        let stored = self.stored_case(code).await?;
        if !Self::may_see_case(caller, &stored.case) {
            return Err(DeskError::NotFound {
                what: "service_case",
            });
        }
        if !caller.is_admin() && !stored.case.may_close(caller.id()) {
            return Err(DeskError::Forbidden(
                "only the case's assignee, its creator or an administrator may delete it".into(),
            ));
        }
        let entry = stored.case.ticket.map(|n| {
            ActivityEntry::new(
                n,
                self.clock.now(),
                Actor::user(caller.id()),
                ActivityKind::SessionDeleted {
                    code: stored.case.code.clone(),
                },
            )
        });
        if !self.cases.delete_case(&stored.case, entry.as_ref()).await? {
            return Err(DeskError::NotFound {
                what: "service_case",
            });
        }
        self.publish(vec![DeskEvent {
            detail_type: "ServiceCaseDeleted".into(),
            detail: json!({"code": stored.case.code, "ticket": stored.case.ticket}),
        }])
        .await;
        Ok(())
    }

    /// Deletes many cases; reports which were not deleted and why.
    pub async fn delete_cases(
        &self,
        caller: &Caller,
        codes: &[String],
    ) -> DeskResult<BulkDeleteReport> {
        let mut report = BulkDeleteReport::default();
        for raw in codes {
            let outcome = match SessionCode::parse(raw) {
                Ok(code) => self.delete_case(caller, &code).await.map(|()| code),
                Err(_) => Err(DeskError::NotFound {
                    what: "service_case",
                }),
            };
            match outcome {
                Ok(code) => report.deleted.push(code),
                Err(DeskError::Storage(e)) => return Err(DeskError::Storage(e)),
                Err(e) => {
                    let code_error = match &e {
                        DeskError::NotFound { .. } => "service_case_not_found",
                        DeskError::Forbidden(_) => "forbidden",
                        _ => "conflict",
                    };
                    report.not_deleted.push(NotDeleted {
                        code: raw.clone(),
                        code_error: code_error.into(),
                        reason: e.to_string(),
                    })
                }
            }
        }
        Ok(report)
    }

    // ---- modules (administrators) -------------------------------------------

    pub async fn modules(&self, caller: &Caller) -> DeskResult<Vec<Module>> {
        caller.require_admin()?;
        self.modules.list_modules().await
    }

    pub async fn module(&self, caller: &Caller, id: &str) -> DeskResult<Module> {
        caller.require_admin()?;
        if !is_module_id(id) {
            return Err(DeskError::NotFound { what: "module" });
        }
        self.modules
            .get_module(id)
            .await?
            .ok_or(DeskError::NotFound { what: "module" })
    }

    pub async fn create_module(&self, caller: &Caller, input: ModuleInput) -> DeskResult<Module> {
        caller.require_admin()?;
        if let Some(a) = &input.assignee {
            self.active_user(a, "assignee").await?;
        }
        let now = self.clock.now();
        let module = input.into_module(format!("m{}", self.random.id(20)), now, now)?;
        self.modules.create_module(&module).await?;
        self.audit(
            caller,
            AuditAction::ModuleCreated,
            &module.id,
            diff(None, Some(&module)),
        )
        .await?;
        Ok(module)
    }

    pub async fn update_module(
        &self,
        caller: &Caller,
        id: &str,
        input: ModuleInput,
    ) -> DeskResult<Module> {
        let current = self.module(caller, id).await?;
        if let Some(a) = &input.assignee {
            self.active_user(a, "assignee").await?;
        }
        let next = input.into_module(current.id.clone(), current.created_at, self.clock.now())?;
        self.modules.replace_module(&next).await?;
        self.audit(
            caller,
            AuditAction::ModuleUpdated,
            id,
            diff(Some(&current), Some(&next)),
        )
        .await?;
        Ok(next)
    }

    pub async fn delete_module(&self, caller: &Caller, id: &str) -> DeskResult<()> {
        let current = self.module(caller, id).await?;
        if self.modules.delete_module(&current.id).await? {
            self.audit(
                caller,
                AuditAction::ModuleDeleted,
                id,
                diff(Some(&current), None),
            )
            .await
        } else {
            Err(DeskError::NotFound { what: "module" })
        }
    }
}

//! Remote-support sessions: service cases, their session codes and their state
//! machine. A case lives at most 24 hours.
//!
//! ```text
//!   new ──(one partner connects)──▶ pending ──(the other connects)──▶ in_progress
//!    ▲                               │  ▲                               │
//!    └──(the only partner leaves)────┘  └──────(one partner leaves)─────┘
//!   any live state ──close (assignee or creator)──▶ closed      (final)
//!   any live state ──24 h after creation──────────▶ expired     (final)
//! ```

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::FieldError;
use crate::types::{bounded_text, limits, EmailAddress, TicketNumber, UserId};

/// How long a case may live.
pub const CASE_LIFETIME_HOURS: i64 = 24;

pub fn lifetime() -> Duration {
    Duration::hours(CASE_LIFETIME_HOURS)
}

/// A session code: `s` and nine random digits in three groups, `s123-456-789`.
/// It names a case in public links; acting on the case also needs its secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionCode(String);

impl SessionCode {
    /// Builds a code from nine digits of randomness (0 ..= 999_999_999).
    pub fn from_number(n: u32) -> Self {
        let n = n % 1_000_000_000;
        Self(format!(
            "s{:03}-{:03}-{:03}",
            n / 1_000_000,
            n / 1_000 % 1_000,
            n % 1_000
        ))
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim().to_ascii_lowercase();
        let b = s.as_bytes();
        let ok = b.len() == 12
            && b[0] == b's'
            && b[4] == b'-'
            && b[8] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| matches!(i, 0 | 4 | 8) || c.is_ascii_digit());
        if ok {
            Ok(Self(s))
        } else {
            Err(FieldError::new(
                "code",
                "must be a session code like s123-456-789",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for SessionCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SessionCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        SessionCode::parse(&raw).map_err(|e| serde::de::Error::custom(e.message))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    New,
    Pending,
    InProgress,
    Closed,
    Expired,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 5] = [
        CaseStatus::New,
        CaseStatus::Pending,
        CaseStatus::InProgress,
        CaseStatus::Closed,
        CaseStatus::Expired,
    ];

    pub fn is_final(self) -> bool {
        matches!(self, CaseStatus::Closed | CaseStatus::Expired)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::New => "new",
            CaseStatus::Pending => "pending",
            CaseStatus::InProgress => "in_progress",
            CaseStatus::Closed => "closed",
            CaseStatus::Expired => "expired",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let wanted = raw.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == wanted)
            .ok_or_else(|| {
                FieldError::new(
                    "status",
                    "must be one of: new, pending, in_progress, closed, expired",
                )
            })
    }

    fn from_partners(customer: bool, expert: bool) -> Self {
        match (customer, expert) {
            (false, false) => CaseStatus::New,
            (true, true) => CaseStatus::InProgress,
            _ => CaseStatus::Pending,
        }
    }
}

/// Where a case came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseOrigin {
    /// "Create session" on a ticket.
    Ticket,
    /// Created by an agent in the Service Queue.
    Manual,
    /// The customer's custom QuickSupport module.
    Module,
    /// The SOS button.
    Sos,
}

/// Who created a case (they, and the assignee, may close it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum CaseCreator {
    User(UserId),
    Module(String),
}

/// The two sides of a remote-support session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Partner {
    Customer,
    Expert,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceCase {
    pub code: SessionCode,
    pub ticket: Option<TicketNumber>,
    pub origin: CaseOrigin,
    pub creator: CaseCreator,
    pub assignee: Option<UserId>,
    pub customer_name: String,
    pub customer_email: Option<EmailAddress>,
    pub description: String,
    pub status: CaseStatus,
    pub customer_connected: bool,
    pub expert_connected: bool,
    /// When the customer last started the module and began to wait.
    pub customer_waiting_since: Option<DateTime<Utc>>,
    pub join_link: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Bumped by every transition; storage writes are conditioned on it.
    pub version: u64,
}

/// Something that happens to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseEvent {
    Connected(Partner),
    Disconnected(Partner),
    Close,
    Expire,
}

/// Why an event cannot apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the case is {} and can no longer change", .0.as_str())]
    Final(CaseStatus),
    #[error("the case passed its 24-hour mark and has expired")]
    Overdue,
    #[error("the case is not due to expire before {0}")]
    NotDue(DateTime<Utc>),
    #[error("the {0:?} partner is already connected")]
    AlreadyConnected(Partner),
    #[error("the {0:?} partner is not connected")]
    NotConnected(Partner),
}

impl ServiceCase {
    /// The status as of `now`: an overdue live case reads as expired before the
    /// expiry run has stored it, so no read ever shows it as live.
    pub fn status_at(&self, now: DateTime<Utc>) -> CaseStatus {
        if !self.status.is_final() && now >= self.expires_at {
            CaseStatus::Expired
        } else {
            self.status
        }
    }

    /// The case as it reads at `now` (status and end time adjusted if overdue).
    pub fn as_of(&self, now: DateTime<Utc>) -> ServiceCase {
        let mut c = self.clone();
        if c.status_at(now) == CaseStatus::Expired && !c.status.is_final() {
            c.status = CaseStatus::Expired;
            c.ended_at = Some(c.expires_at);
            c.customer_connected = false;
            c.expert_connected = false;
            c.customer_waiting_since = None;
        }
        c
    }

    pub fn is_live_at(&self, now: DateTime<Utc>) -> bool {
        !self.status_at(now).is_final()
    }

    /// Applies `event` at `now`: the next state, or why it cannot happen.
    /// Pure: storage makes the write conditional on `version`.
    pub fn apply(
        &self,
        event: CaseEvent,
        now: DateTime<Utc>,
    ) -> Result<ServiceCase, TransitionError> {
        if self.status.is_final() {
            return Err(TransitionError::Final(self.status));
        }
        let overdue = now >= self.expires_at;
        let mut next = self.clone();
        next.version += 1;
        next.updated_at = now;
        match event {
            CaseEvent::Expire => {
                if !overdue {
                    return Err(TransitionError::NotDue(self.expires_at));
                }
                next.status = CaseStatus::Expired;
                // It ended at its mark, even if the run noticed a little later.
                next.ended_at = Some(self.expires_at);
                next.customer_connected = false;
                next.expert_connected = false;
                next.customer_waiting_since = None;
                return Ok(next);
            }
            _ if overdue => return Err(TransitionError::Overdue),
            CaseEvent::Close => {
                next.status = CaseStatus::Closed;
                next.ended_at = Some(now);
                next.customer_connected = false;
                next.expert_connected = false;
                next.customer_waiting_since = None;
                return Ok(next);
            }
            CaseEvent::Connected(p) => {
                let flag = next.partner_mut(p);
                if *flag {
                    return Err(TransitionError::AlreadyConnected(p));
                }
                *flag = true;
                match p {
                    Partner::Customer if !next.expert_connected => {
                        next.customer_waiting_since = Some(now)
                    }
                    Partner::Expert => next.customer_waiting_since = None,
                    Partner::Customer => {}
                }
            }
            CaseEvent::Disconnected(p) => {
                let flag = next.partner_mut(p);
                if !*flag {
                    return Err(TransitionError::NotConnected(p));
                }
                *flag = false;
                if p == Partner::Customer {
                    next.customer_waiting_since = None;
                }
            }
        }
        next.status = CaseStatus::from_partners(next.customer_connected, next.expert_connected);
        Ok(next)
    }

    fn partner_mut(&mut self, p: Partner) -> &mut bool {
        match p {
            Partner::Customer => &mut self.customer_connected,
            Partner::Expert => &mut self.expert_connected,
        }
    }

    /// Whether `user` may close the case: its assignee or its creator.
    pub fn may_close(&self, user: &UserId) -> bool {
        self.assignee.as_ref() == Some(user) || self.creator == CaseCreator::User(user.clone())
    }
}

/// A session link: `<base>/<code>`, with `?secret=<secret>` for the customer's
/// link (their module presents the secret when it reports connection events).
pub fn join_link(base: &str, code: &SessionCode, secret: Option<&str>) -> String {
    match secret {
        Some(s) => format!("{}/{}?secret={s}", base.trim_end_matches('/'), code),
        None => format!("{}/{}", base.trim_end_matches('/'), code),
    }
}

/// Body of `POST /tickets/{id}/sessions`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTicketSession {
    /// Email the join link to the ticket's customer at once.
    #[serde(default)]
    pub email_customer: bool,
    /// Defaults to the caller.
    #[serde(default)]
    pub assignee: Option<UserId>,
    #[serde(default)]
    pub description: Option<String>,
}

/// Body of `POST /service-cases`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewManualCase {
    #[serde(default)]
    pub customer_name: Option<String>,
    #[serde(default)]
    pub customer_email: Option<EmailAddress>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub assignee: Option<UserId>,
    #[serde(default)]
    pub ticket: Option<TicketNumber>,
}

/// Body of `POST /public/modules/{moduleId}/cases` (from the customer's module).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicCaseRequest {
    #[serde(default)]
    pub customer_name: Option<String>,
    #[serde(default)]
    pub customer_email: Option<EmailAddress>,
    #[serde(default)]
    pub description: Option<String>,
}

/// Body of `POST /public/cases/{code}/events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicCaseEvent {
    #[serde(rename = "type")]
    pub kind: PublicEventKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublicEventKind {
    /// The customer started the module and waits for the expert.
    CustomerConnected,
    CustomerDisconnected,
}

pub fn case_text(raw: Option<&str>, field: &str, max: usize) -> Result<String, FieldError> {
    bounded_text(raw.unwrap_or(""), max, true).map_err(|e| FieldError::new(field, e.message))
}

pub fn case_description(raw: Option<&str>) -> Result<String, FieldError> {
    case_text(raw, "description", limits::DESCRIPTION)
}

pub fn case_customer_name(raw: Option<&str>) -> Result<String, FieldError> {
    case_text(raw, "customer_name", limits::PERSON_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(now: DateTime<Utc>) -> ServiceCase {
        ServiceCase {
            code: SessionCode::from_number(12_345_678),
            ticket: None,
            origin: CaseOrigin::Manual,
            creator: CaseCreator::User(UserId::parse("alice").unwrap()),
            assignee: Some(UserId::parse("alice").unwrap()),
            customer_name: String::new(),
            customer_email: None,
            description: String::new(),
            status: CaseStatus::New,
            customer_connected: false,
            expert_connected: false,
            customer_waiting_since: None,
            join_link: String::new(),
            created_at: now,
            updated_at: now,
            expires_at: now + lifetime(),
            ended_at: None,
            version: 1,
        }
    }

    #[test]
    fn codes_have_the_documented_format() {
        assert_eq!(
            SessionCode::from_number(12_345_678).as_str(),
            "s012-345-678"
        );
        assert_eq!(
            SessionCode::from_number(999_999_999).as_str(),
            "s999-999-999"
        );
        assert!(SessionCode::parse("S012-345-678").is_ok());
        for bad in [
            "",
            "s12-345-678",
            "s012345678",
            "x012-345-678",
            "s012-345-67a",
            "s012-345-6789",
        ] {
            assert!(SessionCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn partners_drive_new_pending_in_progress() {
        let t0 = Utc::now();
        let c = case(t0);
        let c1 = c
            .apply(CaseEvent::Connected(Partner::Customer), t0)
            .unwrap();
        assert_eq!(c1.status, CaseStatus::Pending);
        assert_eq!(c1.customer_waiting_since, Some(t0));
        let c2 = c1.apply(CaseEvent::Connected(Partner::Expert), t0).unwrap();
        assert_eq!(c2.status, CaseStatus::InProgress);
        assert_eq!(c2.customer_waiting_since, None);
        let c3 = c2
            .apply(CaseEvent::Disconnected(Partner::Customer), t0)
            .unwrap();
        assert_eq!(c3.status, CaseStatus::Pending);
        assert_eq!(c3.version, 4);
        assert_eq!(
            c3.apply(CaseEvent::Connected(Partner::Expert), t0),
            Err(TransitionError::AlreadyConnected(Partner::Expert))
        );
    }

    #[test]
    fn closed_and_expired_are_final() {
        let t0 = Utc::now();
        let closed = case(t0).apply(CaseEvent::Close, t0).unwrap();
        assert_eq!(closed.status, CaseStatus::Closed);
        for e in [
            CaseEvent::Close,
            CaseEvent::Expire,
            CaseEvent::Connected(Partner::Customer),
        ] {
            assert_eq!(
                closed.apply(e, t0 + lifetime() * 2),
                Err(TransitionError::Final(CaseStatus::Closed))
            );
        }
    }

    #[test]
    fn expiry_happens_exactly_at_the_mark() {
        let t0 = Utc::now();
        let c = case(t0);
        let just_before = t0 + lifetime() - Duration::milliseconds(1);
        assert!(matches!(
            c.apply(CaseEvent::Expire, just_before),
            Err(TransitionError::NotDue(_))
        ));
        assert_eq!(c.status_at(just_before), CaseStatus::New);
        // Closed just before the mark: stays closed.
        assert_eq!(
            c.apply(CaseEvent::Close, just_before).unwrap().status,
            CaseStatus::Closed
        );
        let mark = t0 + lifetime();
        assert_eq!(c.status_at(mark), CaseStatus::Expired);
        assert_eq!(
            c.apply(CaseEvent::Close, mark),
            Err(TransitionError::Overdue)
        );
        let expired = c
            .apply(CaseEvent::Expire, mark + Duration::seconds(40))
            .unwrap();
        assert_eq!(expired.status, CaseStatus::Expired);
        assert_eq!(expired.ended_at, Some(mark));
        assert_eq!(c.as_of(mark).status, CaseStatus::Expired);
    }

    #[test]
    fn only_assignee_or_creator_may_close() {
        let mut c = case(Utc::now());
        c.assignee = Some(UserId::parse("bob").unwrap());
        assert!(c.may_close(&UserId::parse("alice").unwrap()));
        assert!(c.may_close(&UserId::parse("bob").unwrap()));
        assert!(!c.may_close(&UserId::parse("carol").unwrap()));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn event() -> impl Strategy<Value = (CaseEvent, i64)> {
            let e = prop_oneof![
                Just(CaseEvent::Connected(Partner::Customer)),
                Just(CaseEvent::Connected(Partner::Expert)),
                Just(CaseEvent::Disconnected(Partner::Customer)),
                Just(CaseEvent::Disconnected(Partner::Expert)),
                Just(CaseEvent::Close),
                Just(CaseEvent::Expire),
            ];
            // Each event happens some minutes after the previous one.
            (e, 0i64..400)
        }

        proptest! {
            #[test]
            fn random_event_sequences_never_reach_an_illegal_state(events in prop::collection::vec(event(), 0..60)) {
                let t0 = Utc::now();
                let mut now = t0;
                let mut c = case(t0);
                for (e, minutes) in events {
                    now += Duration::minutes(minutes);
                    let before = c.clone();
                    match c.apply(e, now) {
                        Ok(next) => {
                            // Legal transitions only.
                            prop_assert!(!before.status.is_final());
                            prop_assert_eq!(next.version, before.version + 1);
                            match next.status {
                                CaseStatus::Expired => {
                                    prop_assert_eq!(e, CaseEvent::Expire);
                                    prop_assert!(now >= c.expires_at);
                                    prop_assert_eq!(next.ended_at, Some(c.expires_at));
                                }
                                CaseStatus::Closed => {
                                    prop_assert_eq!(e, CaseEvent::Close);
                                    prop_assert!(now < c.expires_at);
                                }
                                s => {
                                    prop_assert!(now < c.expires_at);
                                    prop_assert_eq!(s, CaseStatus::from_partners(next.customer_connected, next.expert_connected));
                                }
                            }
                            if next.status.is_final() {
                                prop_assert!(!next.customer_connected && !next.expert_connected);
                            }
                            c = next;
                        }
                        Err(_) => {
                            // A refused event changes nothing (the value is untouched).
                            prop_assert_eq!(&c, &before);
                        }
                    }
                    // Invariants of every reachable state.
                    prop_assert!(c.expires_at == c.created_at + lifetime());
                    prop_assert_eq!(c.status.is_final(), c.ended_at.is_some());
                    prop_assert!(c.status_at(now) != CaseStatus::New || now < c.expires_at);
                    if now >= c.expires_at {
                        prop_assert!(c.status_at(now).is_final());
                    }
                }
            }
        }
    }
}

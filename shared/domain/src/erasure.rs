//! Erasing a customer's data and the retention of closed tickets, with one
//! per-ticket purge for both.
//!
//! A purge removes, in this order: the ticket's raw mail in S3 (every object
//! version and delete marker of every reception), the download copies made of
//! its attachments, then its items (those keyed outside the ticket's partition
//! first: delivery markers, message-id index items, reception keys, tag links,
//! service cases; the ticket item itself last). Every step is idempotent, and
//! the ticket item stays until everything else is gone, so an interrupted purge
//! is found again (by the customer's index, or as still due) and resumed. The
//! search postings, term documents and quick-filter counts follow from the
//! deletions through the table's stream (the indexer reads the old images).
//!
//! An erasure is a job: the API records it (`running`, the address kept only
//! while it runs), and the scheduled run advances it in bounded steps until the
//! customer has no ticket left; the finished job keeps a salted hash of the
//! address and counts only.

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::access::Caller;
use crate::activity::Actor;
use crate::audit::{diff, AuditAction, Change};
use crate::error::{DeskError, DeskResult, FieldError};
use crate::message::split_location;
use crate::service::Desk;
use crate::types::{EmailAddress, Status, TicketNumber, UserId};

/// What one purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purged {
    /// Tickets that were still there (0 when a repeated purge found it gone).
    pub tickets: u64,
    /// Table items deleted (the ticket's own and those keyed outside it).
    pub items: u64,
    /// S3 object versions and delete markers deleted.
    pub objects: u64,
}

impl Purged {
    fn add(&mut self, other: Purged) {
        self.tickets += other.tickets;
        self.items += other.items;
        self.objects += other.objects;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureStatus {
    Running,
    Done,
}

/// An erasure of one customer's data, as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erasure {
    /// Salted SHA-256 of the address ([`Desk::erasure_id`]): the same address
    /// always names the same erasure, and the hash does not name the address.
    pub id: String,
    pub status: ErasureStatus,
    pub requested_by: UserId,
    pub requested_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Tickets the customer had when the erasure (last) started.
    pub tickets_total: u64,
    #[serde(flatten)]
    pub done: Purged,
    /// The address's lookup key, kept only while the erasure runs (the
    /// scheduled run needs it to find the tickets); removed when done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
}

/// The retention setting: closed tickets are deleted this many days after
/// their last change (`None`: kept for good, the default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    #[serde(default, deserialize_with = "whole_days")]
    pub retention_days: Option<u32>,
}

/// A whole number of days, also when sent as `30.0` (JSON does not tell them apart).
fn whole_days<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match Option::<f64>::deserialize(d)? {
        None => Ok(None),
        Some(v) if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) => {
            Ok(Some(v as u32))
        }
        Some(_) => Err(serde::de::Error::custom(format!(
            "must be null (off) or a whole number of days from {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS}"
        ))),
    }
}

/// Bounds of `retention_days`.
pub const MIN_RETENTION_DAYS: u32 = 1;
pub const MAX_RETENTION_DAYS: u32 = 36_500;

impl Retention {
    pub fn check(&self) -> DeskResult<()> {
        match self.retention_days {
            Some(d) if !(MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&d) => {
                Err(DeskError::invalid(
                    "retention_days",
                    format!(
                        "must be null (off) or a whole number of days from {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS}"
                    ),
                ))
            }
            _ => Ok(()),
        }
    }

    /// Closed tickets last changed before this are due (`None`: retention off).
    pub fn due_before(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.retention_days
            .map(|d| now - Duration::days(i64::from(d)))
    }
}

/// What a retention run would delete (dry run) or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetentionPreview {
    pub retention_days: Option<u32>,
    /// Closed tickets last changed before this are due.
    pub closed_before: Option<DateTime<Utc>>,
    /// How many tickets are due.
    pub due: u64,
    /// The first due tickets (oldest change first), at most [`PREVIEW_TICKETS`].
    pub tickets: Vec<TicketNumber>,
}

pub const PREVIEW_TICKETS: usize = 20;

/// What one scheduled run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    pub erasures_advanced: u64,
    pub erasures_finished: u64,
    pub erased: Purged,
    pub retained_deleted: Purged,
}

/// Storage for purges, erasure jobs and the retention setting.
#[async_trait]
pub trait PurgeStore: Send + Sync {
    /// Up to `limit` of the customer's tickets (`customer_updated` index,
    /// never a Scan). 1 Query.
    async fn customer_tickets(
        &self,
        customer_key: &str,
        limit: usize,
    ) -> DeskResult<Vec<TicketNumber>>;
    /// How many tickets the customer has. 1 Query (COUNT) per MB of index.
    async fn count_customer_tickets(&self, customer_key: &str) -> DeskResult<u64>;
    /// Every raw-mail location of the ticket's messages (receptions included).
    /// 1 Query per MB of messages.
    async fn raw_locations(&self, number: TicketNumber) -> DeskResult<Vec<String>>;
    /// Deletes the ticket's items: per page of its partition, the items keyed
    /// outside it that it names (delivery markers, message-id and reception
    /// keys still pointing at it, service cases of it, tag links), then the
    /// page; the ticket item last. Returns items deleted and whether the ticket
    /// item was there. Idempotent. About 1 + items / 25 round trips plus one
    /// conditional delete per outside key.
    async fn delete_ticket_items(
        &self,
        number: TicketNumber,
        desk_address: &EmailAddress,
    ) -> DeskResult<(u64, bool)>;

    /// The desk's erasure salt: `candidate` if none was stored yet. 1–2 round trips.
    async fn erasure_salt(&self, candidate: &str) -> DeskResult<String>;
    /// 1 GetItem.
    async fn get_erasure(&self, id: &str) -> DeskResult<Option<Erasure>>;
    /// Stores the job and its place among running jobs (kept while it runs). 1 round trip.
    async fn save_erasure(&self, erasure: &Erasure) -> DeskResult<()>;
    /// Running jobs, at most `limit`. 1 Query + 1 BatchGetItem.
    async fn running_erasures(&self, limit: usize) -> DeskResult<Vec<Erasure>>;

    /// 1 GetItem.
    async fn retention(&self) -> DeskResult<Retention>;
    /// 1 PutItem.
    async fn set_retention(&self, retention: &Retention) -> DeskResult<()>;
    /// Closed tickets last changed before `before`, oldest first, at most
    /// `limit` (`status_updated` index, partition `closed`). 1 Query.
    async fn closed_before(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> DeskResult<Vec<TicketNumber>>;
    /// How many closed tickets were last changed before `before`. 1 Query (COUNT) per MB.
    async fn count_closed_before(&self, before: DateTime<Utc>) -> DeskResult<u64>;
}

/// Tickets one step reads from the customer's index.
const STEP_TICKETS: usize = 25;
/// Running erasures one scheduled run advances.
const ERASURES_PER_RUN: usize = 10;

/// The email in a request path, as the field it is.
pub fn customer_email(raw: &str) -> DeskResult<EmailAddress> {
    EmailAddress::parse(raw).map_err(|e| DeskError::Invalid(FieldError::new("email", e.message)))
}

/// Hex SHA-256 of `salt`, a separator and the address's key.
pub fn salted_hash(salt: &str, email: &EmailAddress) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(b"\n");
    h.update(email.key().as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl Desk {
    /// The erasure id of `email`: its salted hash. 1–2 round trips.
    pub async fn erasure_id(&self, email: &EmailAddress) -> DeskResult<String> {
        let salt = self.purge.erasure_salt(&self.random.secret()).await?;
        Ok(salted_hash(&salt, email))
    }

    /// Purges one ticket: raw mail (every version), attachment download copies,
    /// then its items, the ticket item last. Idempotent and resumable.
    pub async fn purge_ticket(&self, number: TicketNumber) -> DeskResult<Purged> {
        let mut objects = 0u64;
        let mut buckets = BTreeSet::new();
        for location in self.purge.raw_locations(number).await? {
            objects += self.raw_mail.purge(&location, false).await?;
            if let Some((bucket, _)) = split_location(&location) {
                buckets.insert(bucket.to_string());
            }
        }
        for bucket in buckets {
            objects += self
                .raw_mail
                .purge(&format!("s3://{bucket}/downloads/{number}/"), true)
                .await?;
        }
        let (items, existed) = self
            .purge
            .delete_ticket_items(number, &self.settings.desk_address)
            .await?;
        Ok(Purged {
            tickets: u64::from(existed),
            items,
            objects,
        })
    }

    /// `POST /customers/{email}/erasure`: starts erasing the customer's data
    /// (administrators only). A running erasure is returned as it is; a
    /// finished one is started again only if the address has tickets again.
    /// `NotFound` for an address with no tickets and no erasure. Returns the job
    /// and whether this call started it.
    pub async fn start_erasure(&self, caller: &Caller, raw: &str) -> DeskResult<(Erasure, bool)> {
        caller.require_admin()?;
        let email = customer_email(raw)?;
        let id = self.erasure_id(&email).await?;
        let existing = self.purge.get_erasure(&id).await?;
        if let Some(e) = &existing {
            if e.status == ErasureStatus::Running {
                return Ok((e.clone(), false));
            }
        }
        let key = email.key();
        let total = self.purge.count_customer_tickets(&key).await?;
        match (total, existing) {
            (0, None) => Err(DeskError::NotFound { what: "customer" }),
            (0, Some(done)) => Ok((done, false)),
            (total, _) => {
                let erasure = Erasure {
                    id,
                    status: ErasureStatus::Running,
                    requested_by: caller.id().clone(),
                    requested_at: self.clock.now(),
                    finished_at: None,
                    tickets_total: total,
                    done: Purged::default(),
                    customer: Some(key),
                };
                self.purge.save_erasure(&erasure).await?;
                // Who erased whom (the hash) and when, with counts only.
                self.audit(
                    caller,
                    AuditAction::CustomerErased,
                    &erasure.id,
                    vec![
                        Change::value("status", None, Some(json!("running"))),
                        Change::value("tickets_total", None, Some(json!(total))),
                    ],
                )
                .await?;
                tracing::info!(erasure = %erasure.id, tickets = total, "customer erasure started");
                Ok((erasure, true))
            }
        }
    }

    /// `GET /customers/{email}/erasure`: the erasure of that address
    /// (administrators only). 2–3 round trips.
    pub async fn erasure(&self, caller: &Caller, raw: &str) -> DeskResult<Erasure> {
        caller.require_admin()?;
        let email = customer_email(raw)?;
        let id = self.erasure_id(&email).await?;
        self.purge
            .get_erasure(&id)
            .await?
            .ok_or(DeskError::NotFound { what: "erasure" })
    }

    /// Advances running erasures by at most `max_tickets` tickets in all,
    /// recording progress after each ticket; an erasure is done when the
    /// customer's index shows no ticket left.
    pub async fn advance_erasures(
        &self,
        max_tickets: usize,
        report: &mut PurgeReport,
    ) -> DeskResult<()> {
        let mut budget = max_tickets;
        for mut job in self.purge.running_erasures(ERASURES_PER_RUN).await? {
            let Some(key) = job.customer.clone() else {
                continue;
            };
            report.erasures_advanced += 1;
            loop {
                if budget == 0 {
                    return Ok(());
                }
                let batch = self
                    .purge
                    .customer_tickets(&key, budget.min(STEP_TICKETS))
                    .await?;
                if batch.is_empty() {
                    job.status = ErasureStatus::Done;
                    job.customer = None;
                    job.finished_at = Some(self.clock.now());
                    self.purge.save_erasure(&job).await?;
                    report.erasures_finished += 1;
                    self.audit_as(
                        Actor::System,
                        AuditAction::CustomerErased,
                        &job.id,
                        vec![
                            Change::value("status", Some(json!("running")), Some(json!("done"))),
                            Change::value("tickets", None, Some(json!(job.done.tickets))),
                            Change::value("items", None, Some(json!(job.done.items))),
                            Change::value("objects", None, Some(json!(job.done.objects))),
                        ],
                    )
                    .await?;
                    tracing::info!(erasure = %job.id, tickets = job.done.tickets, "customer erasure finished");
                    break;
                }
                let mut found = 0;
                for n in batch {
                    let purged = self.purge_ticket(n).await?;
                    found += purged.tickets;
                    job.done.add(purged);
                    report.erased.add(purged);
                    budget -= 1;
                    self.purge.save_erasure(&job).await?;
                }
                if found == 0 {
                    // The index still lists tickets already gone: next run.
                    break;
                }
            }
        }
        Ok(())
    }

    /// `GET /settings/retention` (administrators only). 1 round trip.
    pub async fn retention(&self, caller: &Caller) -> DeskResult<Retention> {
        caller.require_admin()?;
        self.purge.retention().await
    }

    /// `PUT /settings/retention` (administrators only), audited. 3 round trips.
    pub async fn set_retention(&self, caller: &Caller, input: Retention) -> DeskResult<Retention> {
        caller.require_admin()?;
        input.check()?;
        let before = self.purge.retention().await?;
        self.purge.set_retention(&input).await?;
        let changes = diff(Some(&before), Some(&input));
        if !changes.is_empty() {
            self.audit(caller, AuditAction::RetentionChanged, "retention", changes)
                .await?;
        }
        Ok(input)
    }

    /// `POST /settings/retention/dry-run`: what a retention run would delete now,
    /// with `input`'s days if given, else the stored setting. Deletes nothing.
    pub async fn retention_dry_run(
        &self,
        caller: &Caller,
        input: Retention,
    ) -> DeskResult<RetentionPreview> {
        caller.require_admin()?;
        input.check()?;
        let setting = match input.retention_days {
            Some(_) => input,
            None => self.purge.retention().await?,
        };
        let Some(before) = setting.due_before(self.clock.now()) else {
            return Ok(RetentionPreview {
                retention_days: None,
                closed_before: None,
                due: 0,
                tickets: vec![],
            });
        };
        Ok(RetentionPreview {
            retention_days: setting.retention_days,
            closed_before: Some(before),
            due: self.purge.count_closed_before(before).await?,
            tickets: self.purge.closed_before(before, PREVIEW_TICKETS).await?,
        })
    }

    /// Deletes at most `max_tickets` due closed tickets (none while retention is
    /// off). Each is read again first: one reopened or changed since is kept.
    pub async fn apply_retention(
        &self,
        max_tickets: usize,
        report: &mut PurgeReport,
    ) -> DeskResult<()> {
        let Some(before) = self.purge.retention().await?.due_before(self.clock.now()) else {
            return Ok(());
        };
        for n in self.purge.closed_before(before, max_tickets).await? {
            let due = self
                .tickets
                .get_ticket(n)
                .await?
                .is_some_and(|t| t.status == Status::Closed && t.updated_at < before);
            if due {
                report.retained_deleted.add(self.purge_ticket(n).await?);
            }
        }
        Ok(())
    }

    /// The scheduled purge run: advances running erasures, then applies retention,
    /// each bounded by `max_tickets`.
    pub async fn purge_run(&self, max_tickets: usize) -> DeskResult<PurgeReport> {
        let mut report = PurgeReport::default();
        self.advance_erasures(max_tickets, &mut report).await?;
        self.apply_retention(max_tickets, &mut report).await?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_address_hashes_alike_whatever_its_case_and_differs_by_salt() {
        let a = EmailAddress::parse("Carol@Example.com").unwrap();
        let b = EmailAddress::parse("carol@example.com").unwrap();
        assert_eq!(salted_hash("s1", &a), salted_hash("s1", &b));
        assert_ne!(salted_hash("s1", &a), salted_hash("s2", &a));
        assert!(!salted_hash("s1", &a).contains("carol"));
        assert_eq!(salted_hash("s1", &a).len(), 64);
    }

    #[test]
    fn retention_days_parse_as_whole_numbers() {
        let parse = |v: serde_json::Value| serde_json::from_value::<Retention>(v);
        assert_eq!(
            parse(json!({"retention_days": 30.0}))
                .unwrap()
                .retention_days,
            Some(30)
        );
        assert_eq!(
            parse(json!({"retention_days": 30})).unwrap().retention_days,
            Some(30)
        );
        assert_eq!(parse(json!({})).unwrap().retention_days, None);
        assert!(parse(json!({"retention_days": 1.5})).is_err());
        assert!(parse(json!({"retention_days": -1})).is_err());
        assert!(parse(json!({"retention_days": "x"})).is_err());
        assert!(parse(json!({"other": 1})).is_err());
    }

    #[test]
    fn retention_days_are_off_or_within_bounds() {
        assert!(Retention {
            retention_days: None
        }
        .check()
        .is_ok());
        assert!(Retention {
            retention_days: Some(30)
        }
        .check()
        .is_ok());
        for bad in [0, MAX_RETENTION_DAYS + 1] {
            match (Retention {
                retention_days: Some(bad),
            })
            .check()
            {
                Err(DeskError::Invalid(f)) => assert_eq!(f.field, "retention_days"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        let now = Utc::now();
        assert_eq!(Retention::default().due_before(now), None);
        assert_eq!(
            Retention {
                retention_days: Some(2)
            }
            .due_before(now),
            Some(now - Duration::days(2))
        );
    }

    #[test]
    fn an_erasure_shows_counts_and_no_address_once_done() {
        let e = Erasure {
            id: "h".into(),
            status: ErasureStatus::Done,
            requested_by: UserId::parse("admin").unwrap(),
            requested_at: Utc::now(),
            finished_at: Some(Utc::now()),
            tickets_total: 2,
            done: Purged {
                tickets: 2,
                items: 9,
                objects: 3,
            },
            customer: None,
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["status"], "done");
        assert_eq!(v["tickets"], 2);
        assert_eq!(v["objects"], 3);
        assert!(v.get("customer").is_none());
        let back: Erasure = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }
}

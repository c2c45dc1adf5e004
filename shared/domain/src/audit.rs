//! The audit trail: what administrators did to the desk (users, groups, rules,
//! mailboxes, QuickSupport modules, text modules and the desk signature, exports,
//! erasures, retention), who did it, when, and what changed. Never a secret (a
//! mailbox password is recorded only as changed) and never erased data.
//!
//! To record an action: `desk.audit(caller, AuditAction::…, target, changes)`
//! right after the change is stored, with `changes` from [`diff`] (an edit's
//! fields from → to) or built with [`Change::value`] / [`Change::redacted`].

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::access::Caller;
use crate::activity::{time_ordered_id, Actor};
use crate::error::{DeskResult, FieldError};
use crate::listing::Page;
use crate::service::Desk;

/// What an administrator did. Stored and returned as `kind.verb` (`user.created`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditAction {
    #[serde(rename = "user.created")]
    UserCreated,
    #[serde(rename = "user.updated")]
    UserUpdated,
    #[serde(rename = "user.deleted")]
    UserDeleted,
    #[serde(rename = "group.created")]
    GroupCreated,
    #[serde(rename = "group.updated")]
    GroupUpdated,
    #[serde(rename = "group.deleted")]
    GroupDeleted,
    #[serde(rename = "rule.created")]
    RuleCreated,
    /// Also a reorder: the console moves a rule by changing its `position`.
    #[serde(rename = "rule.updated")]
    RuleUpdated,
    #[serde(rename = "rule.deleted")]
    RuleDeleted,
    #[serde(rename = "mailbox.created")]
    MailboxCreated,
    #[serde(rename = "mailbox.updated")]
    MailboxUpdated,
    #[serde(rename = "mailbox.deleted")]
    MailboxDeleted,
    /// QuickSupport modules.
    #[serde(rename = "module.created")]
    ModuleCreated,
    #[serde(rename = "module.updated")]
    ModuleUpdated,
    #[serde(rename = "module.deleted")]
    ModuleDeleted,
    #[serde(rename = "text_module.created")]
    TextModuleCreated,
    #[serde(rename = "text_module.updated")]
    TextModuleUpdated,
    #[serde(rename = "text_module.deleted")]
    TextModuleDeleted,
    /// The desk's signature (settings).
    #[serde(rename = "signature.updated")]
    SignatureUpdated,
    /// A customer's data was exported (target: the address).
    #[serde(rename = "customer.exported")]
    CustomerExported,
    /// A customer was erased (target: a hash of the address, never the address).
    #[serde(rename = "customer.erased")]
    CustomerErased,
    /// The retention setting changed.
    #[serde(rename = "retention.changed")]
    RetentionChanged,
}

impl AuditAction {
    pub const ALL: [AuditAction; 22] = [
        AuditAction::UserCreated,
        AuditAction::UserUpdated,
        AuditAction::UserDeleted,
        AuditAction::GroupCreated,
        AuditAction::GroupUpdated,
        AuditAction::GroupDeleted,
        AuditAction::RuleCreated,
        AuditAction::RuleUpdated,
        AuditAction::RuleDeleted,
        AuditAction::MailboxCreated,
        AuditAction::MailboxUpdated,
        AuditAction::MailboxDeleted,
        AuditAction::ModuleCreated,
        AuditAction::ModuleUpdated,
        AuditAction::ModuleDeleted,
        AuditAction::TextModuleCreated,
        AuditAction::TextModuleUpdated,
        AuditAction::TextModuleDeleted,
        AuditAction::SignatureUpdated,
        AuditAction::CustomerExported,
        AuditAction::CustomerErased,
        AuditAction::RetentionChanged,
    ];

    /// `user.created`, as stored and returned.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::UserCreated => "user.created",
            AuditAction::UserUpdated => "user.updated",
            AuditAction::UserDeleted => "user.deleted",
            AuditAction::GroupCreated => "group.created",
            AuditAction::GroupUpdated => "group.updated",
            AuditAction::GroupDeleted => "group.deleted",
            AuditAction::RuleCreated => "rule.created",
            AuditAction::RuleUpdated => "rule.updated",
            AuditAction::RuleDeleted => "rule.deleted",
            AuditAction::MailboxCreated => "mailbox.created",
            AuditAction::MailboxUpdated => "mailbox.updated",
            AuditAction::MailboxDeleted => "mailbox.deleted",
            AuditAction::ModuleCreated => "module.created",
            AuditAction::ModuleUpdated => "module.updated",
            AuditAction::ModuleDeleted => "module.deleted",
            AuditAction::TextModuleCreated => "text_module.created",
            AuditAction::TextModuleUpdated => "text_module.updated",
            AuditAction::TextModuleDeleted => "text_module.deleted",
            AuditAction::SignatureUpdated => "signature.updated",
            AuditAction::CustomerExported => "customer.exported",
            AuditAction::CustomerErased => "customer.erased",
            AuditAction::RetentionChanged => "retention.changed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw.trim())
    }
}

/// One changed field: `from` → `to` (`null` where it did not exist: a creation's
/// `from`, a deletion's `to`). A redacted change says only that a secret changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub from: Option<Value>,
    pub to: Option<Value>,
    /// A secret (a mailbox password): changed, values never recorded.
    #[serde(default)]
    pub redacted: bool,
}

impl Change {
    pub fn value(field: impl Into<String>, from: Option<Value>, to: Option<Value>) -> Self {
        Self {
            field: field.into(),
            from,
            to,
            redacted: false,
        }
    }

    /// That the secret `field` was set or changed, without its value.
    pub fn redacted(field: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            from: None,
            to: None,
            redacted: true,
        }
    }
}

/// Bookkeeping rather than what an administrator chose: never listed as changes.
const NOT_CHANGES: [&str; 7] = [
    "id",
    "version",
    "created_at",
    "updated_at",
    "last_poll_at",
    "last_error",
    "last_ingested",
];

/// The top-level fields that differ between `before` and `after` as JSON (`None`:
/// created or deleted), in field order, without bookkeeping fields. Values are
/// whole (a rule's conditions are one field). Secrets must not be in either value:
/// the types passed here (users, rules, mailboxes…) hold none.
pub fn diff<T: Serialize>(before: Option<&T>, after: Option<&T>) -> Vec<Change> {
    let object = |v: Option<&T>| match v.and_then(|v| serde_json::to_value(v).ok()) {
        Some(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let (before, after) = (object(before), object(after));
    let mut fields: Vec<&String> = before.keys().chain(after.keys()).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter(|f| !NOT_CHANGES.contains(&f.as_str()))
        .filter_map(|f| {
            let from = before.get(f).filter(|v| !v.is_null());
            let to = after.get(f).filter(|v| !v.is_null());
            (from != to).then(|| Change::value(f.clone(), from.cloned(), to.cloned()))
        })
        .collect()
}

/// One administrator action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Time-ordered id: entries sort by it.
    pub id: String,
    pub at: DateTime<Utc>,
    /// The administrator (or the system, for scheduled work).
    pub actor: Actor,
    pub action: AuditAction,
    /// What was acted on: a user, group, rule, mailbox or module id, `desk` for
    /// the signature, a customer's address (export) or its hash (erasure).
    pub target: String,
    pub changes: Vec<Change>,
}

impl AuditEntry {
    pub fn new(
        at: DateTime<Utc>,
        actor: Actor,
        action: AuditAction,
        target: impl Into<String>,
        changes: Vec<Change>,
    ) -> Self {
        Self {
            id: time_ordered_id(at),
            at,
            actor,
            action,
            target: target.into(),
            changes,
        }
    }

    /// The acting user's id (`None` for the system).
    pub fn actor_id(&self) -> Option<&str> {
        match &self.actor {
            Actor::User { id } => Some(id),
            _ => None,
        }
    }
}

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;

/// A parsed `GET /audit`: newest first, optionally only one actor's, one
/// action's, or those at or after `since`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditQuery {
    pub limit: usize,
    pub cursor: Option<String>,
    pub actor: Option<String>,
    pub action: Option<AuditAction>,
    pub since: Option<DateTime<Utc>>,
}

impl Default for AuditQuery {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            cursor: None,
            actor: None,
            action: None,
            since: None,
        }
    }
}

impl AuditQuery {
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, FieldError> {
        let mut q = AuditQuery::default();
        let mut seen: Vec<&str> = Vec::new();
        for (k, v) in pairs {
            if seen.contains(&k.as_str()) {
                return Err(FieldError::new(k.clone(), "given more than once"));
            }
            seen.push(k);
            match k.as_str() {
                "limit" => {
                    q.limit = v
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| {
                            FieldError::new(
                                "limit",
                                format!("must be a whole number from 1 to {MAX_LIMIT}"),
                            )
                        })?
                }
                "cursor" if !v.is_empty() && v.len() <= 2048 => q.cursor = Some(v.clone()),
                "cursor" => {
                    return Err(FieldError::new(
                        "cursor",
                        "is not a cursor this API returned",
                    ))
                }
                "actor" => {
                    let id = crate::types::UserId::parse(v)
                        .map_err(|e| FieldError::new("actor", e.message))?;
                    q.actor = Some(id.as_str().to_string());
                }
                "action" => {
                    q.action = Some(AuditAction::parse(v).ok_or_else(|| {
                        FieldError::new(
                            "action",
                            "must be an action the audit trail records, e.g. user.updated",
                        )
                    })?)
                }
                "since" => {
                    let t = DateTime::parse_from_rfc3339(v.trim()).map_err(|_| {
                        FieldError::new(
                            "since",
                            "must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z",
                        )
                    })?;
                    q.since = Some(t.with_timezone(&Utc));
                }
                other => {
                    return Err(FieldError::new(other, "is not a known query parameter"));
                }
            }
        }
        Ok(q)
    }

    /// Whether entries are filtered beyond their time.
    pub fn filtered(&self) -> bool {
        self.actor.is_some() || self.action.is_some()
    }

    pub fn matches(&self, e: &AuditEntry) -> bool {
        self.actor
            .as_deref()
            .is_none_or(|a| e.actor_id() == Some(a))
            && self.action.is_none_or(|a| e.action == a)
            && self.since.is_none_or(|s| e.at >= s)
    }
}

/// `since` as the prefix of the ids at or after it (ids start with the time).
pub fn id_prefix(at: DateTime<Utc>) -> String {
    let naive: NaiveDateTime = at.naive_utc();
    format!(
        "{}{:06}",
        naive.format("%Y%m%d%H%M%S"),
        at.timestamp_subsec_micros()
    )
}

/// Where the audit trail is kept.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends an entry. 1 PutItem.
    async fn record(&self, entry: &AuditEntry) -> DeskResult<()>;
    /// One page, newest first; `InvalidCursor` for a cursor of another query.
    /// 1 Query; with an actor or action filter, up to 4 (a page may then hold
    /// fewer than `limit` entries and a cursor: keep paging).
    async fn list(&self, query: &AuditQuery) -> DeskResult<Page<AuditEntry>>;
}

impl Desk {
    /// Records that `caller` did `action` to `target`, changing `changes`. Called
    /// right after the change is stored; a failure to record is returned (the
    /// change stays: the caller sees the error and the log names the entry).
    pub async fn audit(
        &self,
        caller: &Caller,
        action: AuditAction,
        target: impl Into<String>,
        changes: Vec<Change>,
    ) -> DeskResult<()> {
        self.audit_as(Actor::user(caller.id()), action, target, changes)
            .await
    }

    /// [`Desk::audit`] for an actor that is not a caller (a scheduled job: `Actor::System`).
    pub async fn audit_as(
        &self,
        actor: Actor,
        action: AuditAction,
        target: impl Into<String>,
        changes: Vec<Change>,
    ) -> DeskResult<()> {
        let entry = AuditEntry::new(self.clock.now(), actor, action, target, changes);
        self.audit.record(&entry).await.inspect_err(|e| {
            tracing::error!(entry = %entry.id, action = entry.action.as_str(), target = %entry.target, error = %e, "audit entry not recorded");
        })
    }

    /// The audit trail, newest first. Administrators only.
    pub async fn audit_trail(
        &self,
        caller: &Caller,
        query: &AuditQuery,
    ) -> DeskResult<Page<AuditEntry>> {
        caller.require_admin()?;
        self.audit.list(query).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn actions_round_trip_through_their_names() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
            assert_eq!(serde_json::to_value(a).unwrap(), json!(a.as_str()));
        }
        assert_eq!(AuditAction::parse("user.promoted"), None);
    }

    #[test]
    fn diff_lists_changed_fields_from_to_without_bookkeeping() {
        let before = json!({"id": "u", "name": "A", "role": "agent", "groups": ["x"], "version": 1, "updated_at": "t1"});
        let after = json!({"id": "u", "name": "B", "role": "agent", "groups": [], "version": 2, "updated_at": "t2"});
        let changes = diff(Some(&before), Some(&after));
        assert_eq!(
            changes,
            vec![
                Change::value("groups", Some(json!(["x"])), Some(json!([]))),
                Change::value("name", Some(json!("A")), Some(json!("B"))),
            ]
        );
    }

    #[test]
    fn diff_of_a_creation_and_a_deletion() {
        let v = json!({"id": "r", "name": "N", "assignee": null});
        assert_eq!(
            diff(None, Some(&v)),
            vec![Change::value("name", None, Some(json!("N")))]
        );
        assert_eq!(
            diff(Some(&v), None),
            vec![Change::value("name", Some(json!("N")), None)]
        );
        assert!(diff(Some(&v), Some(&v)).is_empty());
    }

    #[test]
    fn query_parses_and_names_bad_fields() {
        let q = AuditQuery::parse(&pairs(&[
            ("limit", "10"),
            ("actor", "admin"),
            ("action", "rule.updated"),
            ("since", "2026-12-01T00:00:00Z"),
        ]))
        .unwrap();
        assert_eq!(q.limit, 10);
        assert_eq!(q.action, Some(AuditAction::RuleUpdated));
        assert!(q.filtered());
        for (k, v) in [
            ("limit", "0"),
            ("limit", "201"),
            ("limit", "x"),
            ("action", "nope"),
            ("since", "yesterday"),
            ("cursor", ""),
            ("actor", "Not An Id!"),
            ("sort", "asc"),
        ] {
            assert_eq!(AuditQuery::parse(&pairs(&[(k, v)])).unwrap_err().field, k);
        }
        assert_eq!(
            AuditQuery::parse(&pairs(&[("limit", "1"), ("limit", "2")]))
                .unwrap_err()
                .field,
            "limit"
        );
    }

    #[test]
    fn since_prefix_sorts_with_ids() {
        let at = DateTime::parse_from_rfc3339("2026-12-06T17:25:01.000002Z")
            .unwrap()
            .with_timezone(&Utc);
        let id = time_ordered_id(at);
        assert!(id.starts_with(&id_prefix(at)));
        assert!(id.as_str() >= id_prefix(at).as_str());
        assert!(id.as_str() < id_prefix(at + chrono::Duration::microseconds(1)).as_str());
    }
}

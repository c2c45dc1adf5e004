//! `AuditLog` on DynamoDB: every entry in one partition, `AUDIT` / `<time id>`,
//! read newest first by one Query on the table's own key (no index).
//!
//! One partition is enough: administrators' actions are a few a minute at most,
//! far below a partition's 1,000 writes a second, and without a local secondary
//! index a partition has no size limit. Reading the newest page is one Query
//! whatever the trail's length, and `since` is a key condition (ids start with
//! their time).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::TransactWriteItem;
use desk_domain::audit::{id_prefix, AuditEntry, AuditLog, AuditQuery};
use desk_domain::{DeskResult, Page};

use crate::cursor;
use crate::item::{from_item, s, to_item, Item};
use crate::keys::{self, AUDIT_PK};
use crate::{storage, DynamoStore};

/// Queries a filtered page may take before it returns what it found with a cursor.
const FILTERED_ROUNDS: usize = 4;
/// Entries a filtered page's Query reads per round.
const FILTERED_READ: i32 = 200;

/// The key names of a cursor.
const CURSOR_KEYS: [&str; 2] = [keys::PK, keys::SK];

fn plausible_id(sk: &str) -> bool {
    (20..=64).contains(&sk.len()) && sk.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl DynamoStore {
    /// The item of an audit entry.
    fn audit_item(entry: &AuditEntry) -> DeskResult<Item> {
        let mut item = to_item(entry, AUDIT_PK.to_string(), entry.id.clone())?;
        // What the actor filter tests (the actor itself is a map).
        if let Some(id) = entry.actor_id() {
            item.insert("actor_id".into(), s(id));
        }
        Ok(item)
    }

    /// An audit entry as one item of a caller's transaction, for stores that write
    /// the change and its entry atomically.
    pub fn audit_write(&self, entry: &AuditEntry) -> DeskResult<TransactWriteItem> {
        crate::tx::put(
            &self.table,
            Self::audit_item(entry)?,
            Some("attribute_not_exists(pk)"),
        )
    }
}

#[async_trait]
impl AuditLog for DynamoStore {
    async fn record(&self, entry: &AuditEntry) -> DeskResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::audit_item(entry)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(storage("PutItem audit"))?;
        Ok(())
    }

    async fn list(&self, query: &AuditQuery) -> DeskResult<Page<AuditEntry>> {
        let since = query.since.map(id_prefix);
        let fp = cursor::fingerprint(&format!(
            "audit|{}|{}|{}",
            query.actor.as_deref().unwrap_or(""),
            query.action.map_or("", |a| a.as_str()),
            since.as_deref().unwrap_or("")
        ));
        let mut start = match &query.cursor {
            Some(c) => Some(cursor::decode(&fp, c, &CURSOR_KEYS, |k: &cursor::Keys| {
                k.get(keys::PK) == AUDIT_PK
                    && plausible_id(k.get(keys::SK))
                    && since.as_deref().is_none_or(|p| k.get(keys::SK) >= p)
            })?),
            None => None,
        };
        let resumed = start.is_some();
        let want = query.limit + 1;
        let mut items: Vec<Item> = Vec::new();
        let mut rounds = 0;
        loop {
            rounds += 1;
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .scan_index_forward(false)
                .expression_attribute_values(":pk", s(AUDIT_PK))
                .set_exclusive_start_key(start.take());
            q = match &since {
                Some(p) => q
                    .key_condition_expression("pk = :pk AND sk >= :since")
                    .expression_attribute_values(":since", s(p.clone())),
                None => q.key_condition_expression("pk = :pk"),
            };
            let mut filters = Vec::new();
            if let Some(a) = &query.actor {
                filters.push("actor_id = :actor");
                q = q.expression_attribute_values(":actor", s(a.clone()));
            }
            if let Some(a) = query.action {
                filters.push("#action = :action");
                q = q
                    .expression_attribute_names("#action", "action")
                    .expression_attribute_values(":action", s(a.as_str()));
            }
            q = if filters.is_empty() {
                q.limit((want - items.len()) as i32)
            } else {
                q.filter_expression(filters.join(" AND "))
                    .limit(FILTERED_READ)
            };
            let out = q
                .send()
                .await
                .map_err(crate::query_failed("Query audit", resumed))?;
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if items.len() >= want || start.is_none() || rounds >= FILTERED_ROUNDS {
                break;
            }
        }
        let next_cursor = if items.len() > query.limit {
            items.truncate(query.limit);
            items
                .last()
                .and_then(|item| cursor::encode(&fp, item, &CURSOR_KEYS))
        } else {
            // Out of rounds with more to read: resume where the reading stopped.
            start
                .as_ref()
                .and_then(|key| cursor::encode(&fp, key, &CURSOR_KEYS))
        };
        let items = items
            .into_iter()
            .map(|mut item| {
                item.remove("actor_id");
                from_item(item)
            })
            .collect::<DeskResult<_>>()?;
        Ok(Page { items, next_cursor })
    }
}

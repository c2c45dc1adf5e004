//! `CaseStore`, `ModuleStore` and `RateLimiter` on DynamoDB.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use desk_domain::listing::Page;
use desk_domain::module::Module;
use desk_domain::ports::{CaseQuery, CaseStore, ModuleStore, RateLimiter, StoredCase};
use desk_domain::session::{ServiceCase, SessionCode};
use desk_domain::{ActivityEntry, DeskError, DeskResult};

use crate::cursor;
use crate::item::{from_item, s, to_item, Item};
use crate::keys;
use crate::tickets::activity_item;
use crate::tx;
use crate::{storage, DynamoStore};

fn case_item(c: &ServiceCase, secret_hash: &str) -> DeskResult<Item> {
    let code = c.code.as_str();
    let mut item = to_item(c, keys::case_pk(code), keys::CASE_SK.into())?;
    item.insert("secret_hash".into(), s(secret_hash));
    item.insert(keys::CASE_LIST_PK.into(), s(keys::CASE_LIST_PK_VALUE));
    item.insert(
        keys::CASE_CREATED.into(),
        s(format!("{}#{code}", keys::ts(c.created_at))),
    );
    item.insert(
        keys::CASE_ASSIGNEE.into(),
        s(c.assignee
            .as_ref()
            .map_or_else(|| "none".to_string(), |u| u.to_string())),
    );
    let creator = match &c.creator {
        desk_domain::session::CaseCreator::User(u) => format!("user:{u}"),
        desk_domain::session::CaseCreator::Module(m) => format!("module:{m}"),
    };
    item.insert(keys::CASE_CREATOR.into(), s(creator));
    if !c.status.is_final() {
        item.insert(keys::DUE_PK.into(), s(keys::DUE_PK_VALUE));
        item.insert(
            keys::DUE_KEY.into(),
            s(format!("{}#{code}", keys::ts(c.expires_at))),
        );
    }
    Ok(item)
}

fn stored(item: Item) -> DeskResult<StoredCase> {
    let secret_hash = item
        .get("secret_hash")
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default();
    Ok(StoredCase {
        case: from_item(item)?,
        secret_hash,
    })
}

fn build<T, E: std::fmt::Display>(r: Result<T, E>) -> DeskResult<T> {
    r.map_err(|e| DeskError::Storage(e.to_string()))
}

impl DynamoStore {
    /// Marks the ticket's live-case slot as released by `code`. Unconditional: if
    /// the slot already names a newer case, that case keeps it.
    fn release_slot(&self, c: &ServiceCase) -> DeskResult<Option<TransactWriteItem>> {
        let Some(n) = c.ticket else { return Ok(None) };
        let update = build(
            Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(keys::ticket_pk(n)))
                .key(keys::SK, s(keys::LIVE_SLOT_SK))
                .update_expression("SET released_case = :code")
                .expression_attribute_values(":code", s(c.code.as_str()))
                .build(),
        )?;
        Ok(Some(TransactWriteItem::builder().update(update).build()))
    }

    fn activity_put(&self, entry: Option<&ActivityEntry>) -> DeskResult<Option<TransactWriteItem>> {
        entry
            .map(|e| tx::put(&self.table, activity_item(e)?, None))
            .transpose()
    }
}

#[async_trait]
impl CaseStore for DynamoStore {
    async fn create_case(
        &self,
        case: &ServiceCase,
        secret_hash: &str,
        entry: Option<&ActivityEntry>,
    ) -> DeskResult<()> {
        let put_case = build(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(case_item(case, secret_hash)?))
                .condition_expression("attribute_not_exists(pk)")
                .build(),
        )?;
        let mut tx = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put_case).build());
        if let Some(n) = case.ticket {
            // The slot is free if empty, if its case passed its mark, or if its case released it.
            let slot = build(
                Put::builder()
                    .table_name(&self.table)
                    .item(keys::PK, s(keys::ticket_pk(n)))
                    .item(keys::SK, s(keys::LIVE_SLOT_SK))
                    .item("case", s(case.code.as_str()))
                    .item("expires_at", s(keys::ts(case.expires_at)))
                    .condition_expression(
                        "attribute_not_exists(#case) OR expires_at <= :now OR released_case = #case",
                    )
                    .expression_attribute_names("#case", "case")
                    .expression_attribute_values(":now", s(keys::ts(case.created_at)))
                    .build(),
            )?;
            tx = tx.transact_items(TransactWriteItem::builder().put(slot).build());
            // The ticket must exist.
            let check = build(
                aws_sdk_dynamodb::types::ConditionCheck::builder()
                    .table_name(&self.table)
                    .key(keys::PK, s(keys::ticket_pk(n)))
                    .key(keys::SK, s(keys::TICKET_SK))
                    .condition_expression("attribute_exists(pk)")
                    .build(),
            )?;
            tx = tx.transact_items(TransactWriteItem::builder().condition_check(check).build());
        }
        if let Some(item) = self.activity_put(entry)? {
            tx = tx.transact_items(item);
        }
        match tx::transact(tx).await {
            Ok(_) => Ok(()),
            Err(e) if tx::condition_failed_at(&e, 0) => Err(DeskError::AlreadyExists {
                what: "service_case",
            }),
            Err(e) if tx::condition_failed_at(&e, 1) => Err(DeskError::Conflict {
                code: "live_session_exists",
                message: "the ticket already has a live session; close it or wait until it expires"
                    .into(),
            }),
            Err(e) if tx::condition_failed_at(&e, 2) => Err(DeskError::NotFound { what: "ticket" }),
            Err(e) => Err(storage("TransactWriteItems create case")(e)),
        }
    }

    async fn get_case(&self, code: &SessionCode) -> DeskResult<Option<StoredCase>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::case_pk(code.as_str())))
            .key(keys::SK, s(keys::CASE_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(storage("GetItem case"))?;
        out.item.map(stored).transpose()
    }

    async fn transition(
        &self,
        next: &StoredCase,
        expected_version: u64,
        entry: Option<&ActivityEntry>,
    ) -> DeskResult<()> {
        let put = build(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(case_item(&next.case, &next.secret_hash)?))
                .condition_expression("version = :expected")
                .expression_attribute_values(
                    ":expected",
                    AttributeValue::N(expected_version.to_string()),
                )
                .build(),
        )?;
        let mut tx = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build());
        if let Some(item) = self.activity_put(entry)? {
            tx = tx.transact_items(item);
        }
        if next.case.status.is_final() {
            if let Some(item) = self.release_slot(&next.case)? {
                tx = tx.transact_items(item);
            }
        }
        match tx::transact(tx).await {
            Ok(_) => Ok(()),
            Err(e) if tx::condition_failed_at(&e, 0) => {
                Err(DeskError::VersionConflict { current: 0 })
            }
            Err(e) => Err(storage("TransactWriteItems case transition")(e)),
        }
    }

    async fn list_cases(&self, q: &CaseQuery) -> DeskResult<Page<ServiceCase>> {
        let index = keys::CASES_BY_CREATED;
        let fp = cursor::fingerprint(&format!(
            "cases|{:?}|{:?}|{:?}",
            q.visible_to, q.assignee, q.statuses
        ));
        let names = [keys::PK, keys::SK, index.pk, index.sk];
        let start = q
            .cursor
            .as_deref()
            .map(|c| {
                cursor::decode(&fp, c, &names, |k: &cursor::Keys| {
                    k.get(index.pk) == keys::CASE_LIST_PK_VALUE
                        && k.get(keys::PK).starts_with("CASE#")
                        && k.get(keys::SK) == keys::CASE_SK
                })
            })
            .transpose()?;
        let mut clauses = Vec::new();
        let mut req = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index.name)
            .key_condition_expression("#p = :p")
            .expression_attribute_names("#p", index.pk)
            .expression_attribute_values(":p", s(keys::CASE_LIST_PK_VALUE))
            .scan_index_forward(false)
            .set_exclusive_start_key(start);
        if let Some(me) = &q.visible_to {
            clauses.push("(#a IN (:me, :none) OR #c = :creator)");
            req = req
                .expression_attribute_values(":me", s(me.as_str()))
                .expression_attribute_values(":none", s("none"))
                .expression_attribute_names("#c", keys::CASE_CREATOR)
                .expression_attribute_values(":creator", s(format!("user:{me}")));
        }
        if let Some(a) = &q.assignee {
            clauses.push("#a = :assignee");
            req = req.expression_attribute_values(
                ":assignee",
                s(a.as_ref().map_or("none", |u| u.as_str())),
            );
        }
        let filtered = !clauses.is_empty() || !q.statuses.is_empty();
        if !clauses.is_empty() {
            req = req
                .filter_expression(clauses.join(" AND "))
                .expression_attribute_names("#a", keys::CASE_ASSIGNEE);
        }
        // Status is decided as of now by the domain (an overdue case reads as expired).
        let budget = if filtered { q.limit * 4 } else { q.limit };
        let out = req
            .limit(budget as i32)
            .send()
            .await
            .map_err(crate::query_failed("Query cases", q.cursor.is_some()))?;
        let mut raw = out.items.unwrap_or_default();
        let next_cursor = if raw.len() > q.limit {
            raw.truncate(q.limit);
            raw.last().and_then(|l| cursor::encode(&fp, l, &names))
        } else {
            out.last_evaluated_key
                .as_ref()
                .and_then(|k| cursor::encode(&fp, k, &names))
        };
        let items = raw
            .into_iter()
            .map(|i| stored(i).map(|s| s.case))
            .collect::<DeskResult<_>>()?;
        Ok(Page { items, next_cursor })
    }

    async fn due_cases(&self, now: DateTime<Utc>, limit: usize) -> DeskResult<Vec<StoredCase>> {
        let index = keys::CASES_DUE;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index.name)
            .key_condition_expression("#p = :p AND #k <= :bound")
            .expression_attribute_names("#p", index.pk)
            .expression_attribute_names("#k", index.sk)
            .expression_attribute_values(":p", s(keys::DUE_PK_VALUE))
            // `~` sorts after every code, so every case due at or before `now` is in range.
            .expression_attribute_values(":bound", s(format!("{}#~", keys::ts(now))))
            .scan_index_forward(true)
            .limit(limit as i32)
            .return_consumed_capacity(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(storage("Query due cases"))?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(stored)
            .collect()
    }

    async fn delete_case(
        &self,
        case: &ServiceCase,
        entry: Option<&ActivityEntry>,
    ) -> DeskResult<bool> {
        let delete = build(
            aws_sdk_dynamodb::types::Delete::builder()
                .table_name(&self.table)
                .key(keys::PK, s(keys::case_pk(case.code.as_str())))
                .key(keys::SK, s(keys::CASE_SK))
                .condition_expression("attribute_exists(pk)")
                .build(),
        )?;
        let mut tx = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(delete).build());
        if let Some(item) = self.activity_put(entry)? {
            tx = tx.transact_items(item);
        }
        if let Some(item) = self.release_slot(case)? {
            tx = tx.transact_items(item);
        }
        match tx::transact(tx).await {
            Ok(_) => Ok(true),
            Err(e) if tx::condition_failed_at(&e, 0) => Ok(false),
            Err(e) => Err(storage("TransactWriteItems delete case")(e)),
        }
    }
}

#[async_trait]
impl ModuleStore for DynamoStore {
    async fn get_module(&self, id: &str) -> DeskResult<Option<Module>> {
        self.get_entry(keys::MODULES_PK, keys::module_sk(id)).await
    }
    async fn create_module(&self, module: &Module) -> DeskResult<()> {
        self.put_entry(
            module,
            keys::MODULES_PK,
            keys::module_sk(&module.id),
            true,
            "module",
        )
        .await
    }
    async fn replace_module(&self, module: &Module) -> DeskResult<()> {
        self.put_entry(
            module,
            keys::MODULES_PK,
            keys::module_sk(&module.id),
            false,
            "module",
        )
        .await
    }
    async fn delete_module(&self, id: &str) -> DeskResult<bool> {
        self.delete_entry(keys::MODULES_PK, keys::module_sk(id))
            .await
    }
    async fn list_modules(&self) -> DeskResult<Vec<Module>> {
        self.list_partition(keys::MODULES_PK).await
    }
}

#[async_trait]
impl RateLimiter for DynamoStore {
    async fn allow(
        &self,
        key: &str,
        limit: u32,
        window_seconds: u32,
        now: DateTime<Utc>,
    ) -> DeskResult<bool> {
        let window = now.timestamp() - now.timestamp().rem_euclid(i64::from(window_seconds.max(1)));
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(format!("RATE#{key}#{window}")))
            .key(keys::SK, s("RATE"))
            .update_expression("ADD hits :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(hits) OR hits < :limit")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":limit", AttributeValue::N(limit.to_string()))
            // Kept a little past its window, then DynamoDB's TTL removes it.
            .expression_attribute_values(
                ":ttl",
                AttributeValue::N((window + i64::from(window_seconds) * 2).to_string()),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(storage("UpdateItem rate")(e)),
        }
    }
}

impl DynamoStore {
    /// Bulk import of service cases (benchmarks, migrations); no ticket slots or activity.
    pub async fn import_cases(&self, cases: &[StoredCase]) -> DeskResult<()> {
        self.import_items(
            cases
                .iter()
                .map(|c| case_item(&c.case, &c.secret_hash))
                .collect::<DeskResult<Vec<_>>>()?,
        )
        .await
    }
}

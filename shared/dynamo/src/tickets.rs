//! `TicketStore` on DynamoDB.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use desk_domain::listing::{Page, TicketQuery};
use desk_domain::merging::TicketMerge;
use desk_domain::{
    ActivityEntry, DeskError, DeskResult, Note, PageRequest, Ticket, TicketNumber, TicketStore,
};

use crate::cursor;
use crate::item::{from_item, s, to_item, Item};
use crate::keys;
use crate::tx;
use crate::{storage, DynamoStore};

pub(crate) fn ticket_item(t: &Ticket) -> DeskResult<Item> {
    let mut item = to_item(t, keys::ticket_pk(t.number), keys::TICKET_SK.into())?;
    for (name, value) in keys::ticket_index_attributes(t) {
        item.insert(name.into(), s(value));
    }
    Ok(item)
}

/// The writes that keep a ticket's tag links in step with it: a link per tag it
/// has (rewritten, as its assignee, status or priority may have changed), a delete
/// per tag it lost since `previous`.
pub(crate) fn tag_link_writes(
    table: &str,
    t: &Ticket,
    previous: Option<&desk_domain::Tags>,
) -> DeskResult<Vec<TransactWriteItem>> {
    let mut out = Vec::new();
    for tag in t.tags.iter() {
        out.push(tx::put(table, crate::list::tag_link(t, tag)?, None)?);
    }
    for tag in previous
        .into_iter()
        .flat_map(|p| crate::list::removed_tags(p, t))
    {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(table)
            .key(keys::PK, s(keys::tag_pk(tag.as_str())))
            .key(keys::SK, s(keys::ticket_pk(t.number)))
            .build()
            .map_err(|e| DeskError::Storage(e.to_string()))?;
        out.push(TransactWriteItem::builder().delete(delete).build());
    }
    Ok(out)
}

pub(crate) fn activity_item(e: &ActivityEntry) -> DeskResult<Item> {
    to_item(e, keys::ticket_pk(e.ticket), keys::activity_sk(&e.id))
}

impl DynamoStore {
    /// One page of the items under `prefix` of every ticket in `thread` (a
    /// ticket and those merged into it), oldest first: one Query per ticket, in
    /// parallel, merged by sort key. The cursor is the last key handed out; each
    /// ticket resumes after it (the ids sort by time across tickets). A ticket
    /// whose Query stopped early (1 MB) bounds the page, so nothing is skipped.
    pub(crate) async fn query_children<T: serde::de::DeserializeOwned>(
        &self,
        thread: &[TicketNumber],
        prefix: &str,
        page: &PageRequest,
    ) -> DeskResult<Page<T>> {
        let Some(first) = thread.first() else {
            return Ok(Page {
                items: vec![],
                next_cursor: None,
            });
        };
        let fp = cursor::fingerprint(&format!("{prefix}{first}"));
        let pks: Vec<String> = thread.iter().map(|n| keys::ticket_pk(*n)).collect();
        let after = match &page.cursor {
            Some(c) => {
                let key = cursor::decode(&fp, c, &[keys::PK, keys::SK], |k: &cursor::Keys| {
                    pks.iter().any(|pk| pk == k.get(keys::PK))
                        && k.get(keys::SK).starts_with(prefix)
                })?;
                key.get(keys::SK).and_then(|v| v.as_s().ok()).cloned()
            }
            None => None,
        };
        let resumed = page.cursor.is_some();
        let pages = futures::future::try_join_all(pks.iter().map(|pk| {
            self.client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":prefix", s(prefix))
                .limit(page.limit as i32)
                .set_exclusive_start_key(after.as_ref().map(|sk| {
                    Item::from([
                        (keys::PK.to_string(), s(pk.clone())),
                        (keys::SK.to_string(), s(sk.clone())),
                    ])
                }))
                .send()
        }))
        .await
        .map_err(crate::query_failed("Query children", resumed))?;
        let sk_of = |item: &Item| -> String {
            item.get(keys::SK)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        let bound = pages
            .iter()
            .filter_map(|out| out.last_evaluated_key().map(sk_of))
            .min();
        let mut items: Vec<Item> = pages
            .into_iter()
            .flat_map(|out| out.items.unwrap_or_default())
            .filter(|item| bound.as_ref().is_none_or(|b| sk_of(item) <= *b))
            .collect();
        items.sort_by_cached_key(|item| sk_of(item));
        let more = items.len() > page.limit || bound.is_some();
        items.truncate(page.limit);
        let next_cursor = if more {
            items
                .last()
                .and_then(|item| cursor::encode(&fp, item, &[keys::PK, keys::SK]))
        } else {
            None
        };
        let items = items
            .into_iter()
            .map(from_item)
            .collect::<DeskResult<_>>()?;
        Ok(Page { items, next_cursor })
    }
}

impl DynamoStore {
    /// Puts `ticket` if its stored version is still `expected` (optimistic concurrency).
    fn versioned_put(&self, ticket: &Ticket, expected: u64) -> DeskResult<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(ticket_item(ticket)?))
            .condition_expression("#v = :expected")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
            .build()
            .map_err(|e| DeskError::Storage(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// What a failed `versioned_put` of ticket `number` means: it changed (its
    /// version now), or it is gone.
    async fn version_conflict(&self, number: TicketNumber) -> DeskError {
        match self.get_ticket(number).await {
            Ok(Some(t)) => DeskError::VersionConflict { current: t.version },
            Ok(None) => DeskError::NotFound { what: "ticket" },
            Err(e) => e,
        }
    }
}

#[async_trait]
impl TicketStore for DynamoStore {
    async fn ticket_counts(&self) -> DeskResult<Vec<desk_domain::stream::counts::BucketCounts>> {
        self.bucket_counts().await
    }

    async fn allocate_number(&self) -> DeskResult<TicketNumber> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::COUNTER_PK))
            .key(keys::SK, s(keys::TICKET_SK))
            .update_expression("SET n = if_not_exists(n, :start) + :one")
            .expression_attribute_values(
                ":start",
                AttributeValue::N((TicketNumber::FIRST - 1).to_string()),
            )
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(storage("UpdateItem counter"))?;
        let n = out
            .attributes()
            .and_then(|a| a.get("n"))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| DeskError::Storage("counter returned no number".into()))?;
        TicketNumber::new(n).map_err(|e| DeskError::Storage(e.to_string()))
    }

    async fn create_ticket(&self, ticket: &Ticket, created: &ActivityEntry) -> DeskResult<()> {
        let mut items = vec![
            tx::put(
                &self.table,
                ticket_item(ticket)?,
                Some("attribute_not_exists(pk)"),
            )?,
            tx::put(&self.table, activity_item(created)?, None)?,
        ];
        items.extend(tag_link_writes(&self.table, ticket, None)?);
        tx::transact(
            self.client
                .transact_write_items()
                .set_transact_items(Some(items)),
        )
        .await
        .map_err(storage("TransactWriteItems create ticket"))?;
        Ok(())
    }

    async fn get_ticket(&self, number: TicketNumber) -> DeskResult<Option<Ticket>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::ticket_pk(number)))
            .key(keys::SK, s(keys::TICKET_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(storage("GetItem ticket"))?;
        out.item.map(from_item).transpose()
    }

    async fn update_ticket(
        &self,
        ticket: &Ticket,
        previous: &Ticket,
        entry: &ActivityEntry,
    ) -> DeskResult<()> {
        let mut items = vec![
            self.versioned_put(ticket, previous.version)?,
            tx::put(&self.table, activity_item(entry)?, None)?,
        ];
        items.extend(tag_link_writes(&self.table, ticket, Some(&previous.tags))?);
        let result = tx::transact(
            self.client
                .transact_write_items()
                .set_transact_items(Some(items)),
        )
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if tx::condition_failed_at(&e, 0) => {
                Err(self.version_conflict(ticket.number).await)
            }
            Err(e) => Err(storage("TransactWriteItems update ticket")(e)),
        }
    }

    async fn add_note(
        &self,
        note: &Note,
        entry: &ActivityEntry,
        touched_at: DateTime<Utc>,
    ) -> DeskResult<()> {
        let touch = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::ticket_pk(note.ticket)))
            .key(keys::SK, s(keys::TICKET_SK))
            .update_expression("SET updated_at = :t, k_updated = :k")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":t", s(keys::ts(touched_at)))
            .expression_attribute_values(":k", s(keys::updated_key(note.ticket, touched_at)))
            .build()
            .map_err(|e| DeskError::Storage(e.to_string()))?;
        let result = tx::transact(
            self.client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().update(touch).build())
                .transact_items(tx::put(
                    &self.table,
                    to_item(note, keys::ticket_pk(note.ticket), keys::note_sk(&note.id))?,
                    None,
                )?)
                .transact_items(tx::put(&self.table, activity_item(entry)?, None)?),
        )
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if tx::condition_failed_at(&e, 0) => Err(DeskError::NotFound { what: "ticket" }),
            Err(e) => Err(storage("TransactWriteItems add note")(e)),
        }
    }

    async fn list_notes(
        &self,
        thread: &[TicketNumber],
        page: &PageRequest,
    ) -> DeskResult<Page<Note>> {
        self.query_children(thread, "NOTE#", page).await
    }

    async fn list_activity(
        &self,
        thread: &[TicketNumber],
        page: &PageRequest,
    ) -> DeskResult<Page<ActivityEntry>> {
        self.query_children(thread, "ACT#", page).await
    }

    async fn merge_tickets(&self, merge: &TicketMerge) -> DeskResult<()> {
        let mut items = vec![
            self.versioned_put(&merge.source, merge.source_previous.version)?,
            self.versioned_put(&merge.target, merge.target_previous.version)?,
        ];
        for e in &merge.entries {
            items.push(tx::put(&self.table, activity_item(e)?, None)?);
        }
        // The source's links carry its status, which the merge closes; the
        // target's carry nothing a merge changes.
        items.extend(tag_link_writes(
            &self.table,
            &merge.source,
            Some(&merge.source_previous.tags),
        )?);
        for n in merge.repointed() {
            let repoint = Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(keys::ticket_pk(*n)))
                .key(keys::SK, s(keys::TICKET_SK))
                .update_expression("SET merged_into = :t")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(
                    ":t",
                    AttributeValue::N(merge.target.number.to_string()),
                )
                .build()
                .map_err(|e| DeskError::Storage(e.to_string()))?;
            items.push(TransactWriteItem::builder().update(repoint).build());
        }
        let result = tx::transact(
            self.client
                .transact_write_items()
                .set_transact_items(Some(items)),
        )
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if tx::condition_failed_at(&e, 0) || tx::condition_failed_at(&e, 1) => {
                let number = if tx::condition_failed_at(&e, 0) {
                    merge.source.number
                } else {
                    merge.target.number
                };
                Err(self.version_conflict(number).await)
            }
            Err(e) => Err(storage("TransactWriteItems merge tickets")(e)),
        }
    }

    async fn append_activity(&self, entry: &ActivityEntry) -> DeskResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(activity_item(entry)?))
            .send()
            .await
            .map_err(storage("PutItem activity"))?;
        Ok(())
    }

    async fn list_tickets(&self, q: &TicketQuery) -> DeskResult<Page<Ticket>> {
        self.list_page(q).await
    }
}

impl DynamoStore {
    /// Bulk import of existing tickets (migrations, benchmarks). No activity written.
    pub async fn import_tickets(&self, tickets: &[Ticket]) -> DeskResult<()> {
        let mut items = Vec::with_capacity(tickets.len());
        for t in tickets {
            items.push(ticket_item(t)?);
            for tag in t.tags.iter() {
                items.push(crate::list::tag_link(t, tag)?);
            }
        }
        self.import_items(items).await
    }

    /// Bulk import of items: BatchWriteItem in batches of 25, retrying unprocessed
    /// items. Not a hot path.
    pub(crate) async fn import_items(&self, items: Vec<Item>) -> DeskResult<()> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        for chunk in items.chunks(25) {
            let mut requests = chunk
                .iter()
                .map(|item| {
                    let put = PutRequest::builder()
                        .set_item(Some(item.clone()))
                        .build()
                        .map_err(|e| DeskError::Storage(e.to_string()))?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<DeskResult<Vec<_>>>()?;
            for attempt in 0..10u32 {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(storage("BatchWriteItem import"))?;
                requests = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&self.table))
                    .unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt.min(6))).await;
            }
            if !requests.is_empty() {
                return Err(DeskError::Storage("import: items left unprocessed".into()));
            }
        }
        Ok(())
    }

    /// Sets the ticket-number counter (after an import).
    pub async fn set_ticket_counter(&self, last: u64) -> DeskResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(keys::PK, s(keys::COUNTER_PK))
            .item(keys::SK, s(keys::TICKET_SK))
            .item("n", AttributeValue::N(last.to_string()))
            .send()
            .await
            .map_err(storage("PutItem counter"))?;
        Ok(())
    }
}

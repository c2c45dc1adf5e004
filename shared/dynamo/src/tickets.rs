//! `TicketStore` on DynamoDB.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use desk_domain::listing::{Page, TicketQuery};
use desk_domain::{
    ActivityEntry, DeskError, DeskResult, Note, PageRequest, Ticket, TicketNumber, TicketStore,
};

use crate::cursor;
use crate::item::{from_item, s, to_item, Item};
use crate::keys::{self, Plan};
use crate::tx;
use crate::{storage, DynamoStore};

/// With filters in force one Query may evaluate up to this many items per
/// requested item, so pages come back full more often at a bounded cost.
const FILTER_READ_FACTOR: usize = 4;

pub(crate) fn ticket_item(t: &Ticket) -> DeskResult<Item> {
    let mut item = to_item(t, keys::ticket_pk(t.number), keys::TICKET_SK.into())?;
    for (name, value) in keys::ticket_index_attributes(t) {
        item.insert(name.into(), s(value));
    }
    Ok(item)
}

pub(crate) fn activity_item(e: &ActivityEntry) -> DeskResult<Item> {
    to_item(e, keys::ticket_pk(e.ticket), keys::activity_sk(&e.id))
}

impl DynamoStore {
    pub(crate) async fn query_children<T: serde::de::DeserializeOwned>(
        &self,
        number: TicketNumber,
        prefix: &str,
        page: &PageRequest,
    ) -> DeskResult<Page<T>> {
        let fp = cursor::fingerprint(&format!("{prefix}{number}"));
        let pk = keys::ticket_pk(number);
        let start = match &page.cursor {
            Some(c) => Some(cursor::decode(
                &fp,
                c,
                &[keys::PK, keys::SK],
                |k: &cursor::Keys| k.get(keys::PK) == pk && k.get(keys::SK).starts_with(prefix),
            )?),
            None => None,
        };
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(keys::ticket_pk(number)))
            .expression_attribute_values(":prefix", s(prefix))
            .limit(page.limit as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(crate::query_failed("Query children", page.cursor.is_some()))?;
        let next_cursor = out
            .last_evaluated_key()
            .and_then(|k| cursor::encode(&fp, k, &[keys::PK, keys::SK]));
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<DeskResult<_>>()?;
        Ok(Page { items, next_cursor })
    }
}

/// Builds the filter expression for everything the plan's key does not already apply.
struct Filter {
    clauses: Vec<String>,
    values: Vec<(String, AttributeValue)>,
    names: Vec<(String, String)>,
}

impl Filter {
    fn new() -> Self {
        Self {
            clauses: vec![],
            values: vec![],
            names: vec![],
        }
    }

    fn value(&mut self, v: String) -> String {
        let name = format!(":f{}", self.values.len());
        self.values.push((name.clone(), s(v)));
        name
    }

    fn any_of(&mut self, attr: &str, values: impl IntoIterator<Item = String>) {
        let placeholders: Vec<String> = values.into_iter().map(|v| self.value(v)).collect();
        if !placeholders.is_empty() {
            let alias = format!("#{attr}");
            self.names.push((alias.clone(), attr.to_string()));
            self.clauses
                .push(format!("{alias} IN ({})", placeholders.join(", ")));
        }
    }

    fn contains(&mut self, attr: &str, v: String) {
        let p = self.value(v);
        let alias = format!("#{attr}");
        if !self.names.iter().any(|(a, _)| *a == alias) {
            self.names.push((alias.clone(), attr.to_string()));
        }
        self.clauses.push(format!("contains({alias}, {p})"));
    }

    fn build(q: &TicketQuery, plan: &Plan) -> Self {
        let mut f = Filter::new();
        if let desk_domain::Scope::Assignees(keys) = &q.scope {
            if !plan.by_assignee_key {
                f.any_of(keys::ASSIGNEE_PK, keys.iter().cloned());
            }
        }
        if let Some(a) = &q.assignee {
            if !plan.by_assignee_key {
                f.any_of(keys::ASSIGNEE_PK, [a.clone()]);
            }
        }
        if !plan.by_status_key {
            f.any_of(
                keys::STATUS_PK,
                q.status.iter().map(|s| s.as_str().to_string()),
            );
        }
        f.any_of(
            "priority",
            q.priority.iter().map(|p| p.as_str().to_string()),
        );
        if let Some(c) = &q.customer {
            if !plan.by_customer_key {
                f.any_of(keys::CUSTOMER_PK, [c.clone()]);
            }
        }
        for t in &q.tags {
            f.contains("tags", t.as_str().to_string());
        }
        for term in &q.terms {
            f.contains(keys::SEARCH, term.clone());
        }
        f
    }
}

fn query_fingerprint(q: &TicketQuery, plan: &Plan) -> String {
    cursor::fingerprint(&format!(
        "{}|{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        plan.index.name,
        plan.partition,
        plan.forward,
        q.scope,
        q.status,
        q.priority,
        q.assignee,
        q.tags,
        q.customer,
        q.terms
    ))
}

#[async_trait]
impl TicketStore for DynamoStore {
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
        tx::transact(
            self.client
                .transact_write_items()
                .transact_items(tx::put(
                    &self.table,
                    ticket_item(ticket)?,
                    Some("attribute_not_exists(pk)"),
                )?)
                .transact_items(tx::put(&self.table, activity_item(created)?, None)?),
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
        expected_version: u64,
        entry: &ActivityEntry,
    ) -> DeskResult<()> {
        let put_item = Put::builder()
            .table_name(&self.table)
            .set_item(Some(ticket_item(ticket)?))
            .condition_expression("#v = :expected")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(
                ":expected",
                AttributeValue::N(expected_version.to_string()),
            )
            .build()
            .map_err(|e| DeskError::Storage(e.to_string()))?;
        let result = tx::transact(
            self.client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().put(put_item).build())
                .transact_items(tx::put(&self.table, activity_item(entry)?, None)?),
        )
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if tx::condition_failed_at(&e, 0) => {
                let current = self.get_ticket(ticket.number).await?;
                match current {
                    Some(t) => Err(DeskError::VersionConflict { current: t.version }),
                    None => Err(DeskError::NotFound { what: "ticket" }),
                }
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

    async fn list_notes(&self, number: TicketNumber, page: &PageRequest) -> DeskResult<Page<Note>> {
        self.query_children(number, "NOTE#", page).await
    }

    async fn list_activity(
        &self,
        number: TicketNumber,
        page: &PageRequest,
    ) -> DeskResult<Page<ActivityEntry>> {
        self.query_children(number, "ACT#", page).await
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
        let plan = keys::plan(q);
        let fp = query_fingerprint(q, &plan);
        let key_names = [keys::PK, keys::SK, plan.index.pk, plan.index.sk];
        let start = match &q.cursor {
            Some(c) => Some(cursor::decode(&fp, c, &key_names, |k: &cursor::Keys| {
                k.get(plan.index.pk) == plan.partition
                    && k.get(keys::PK).starts_with("TICKET#")
                    && k.get(keys::SK) == keys::TICKET_SK
            })?),
            None => None,
        };
        let filter = Filter::build(q, &plan);
        let budget = if filter.clauses.is_empty() {
            q.limit
        } else {
            q.limit * FILTER_READ_FACTOR
        };
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(plan.index.name)
            .key_condition_expression("#ipk = :ipk")
            .expression_attribute_names("#ipk", plan.index.pk)
            .expression_attribute_values(":ipk", s(plan.partition.clone()))
            .scan_index_forward(plan.forward)
            .limit(budget as i32)
            // Free to ask for; logged below so the cost of every page is visible.
            .return_consumed_capacity(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total)
            .set_exclusive_start_key(start);
        if !filter.clauses.is_empty() {
            request = request.filter_expression(filter.clauses.join(" AND "));
            for (alias, name) in filter.names {
                request = request.expression_attribute_names(alias, name);
            }
            for (p, v) in filter.values {
                request = request.expression_attribute_values(p, v);
            }
        }
        let out = request
            .send()
            .await
            .map_err(crate::query_failed("Query list", q.cursor.is_some()))?;
        tracing::debug!(
            index = plan.index.name,
            evaluated = out.scanned_count(),
            matched = out.count(),
            rcu = out.consumed_capacity().and_then(|c| c.capacity_units()),
            "list page"
        );
        let mut raw = out.items.unwrap_or_default();
        let next_cursor = if raw.len() > q.limit {
            // More matched than the page holds: resume right after the last one shown.
            raw.truncate(q.limit);
            raw.last()
                .and_then(|last| cursor::encode(&fp, last, &key_names))
        } else {
            out.last_evaluated_key
                .as_ref()
                .and_then(|k| cursor::encode(&fp, k, &key_names))
        };
        let items = raw
            .into_iter()
            .map(from_item)
            .collect::<DeskResult<Vec<Ticket>>>()?;
        Ok(Page { items, next_cursor })
    }
}

impl DynamoStore {
    /// Bulk import of existing tickets (migrations, benchmarks). No activity written.
    pub async fn import_tickets(&self, tickets: &[Ticket]) -> DeskResult<()> {
        self.import_items(
            tickets
                .iter()
                .map(ticket_item)
                .collect::<DeskResult<Vec<_>>>()?,
        )
        .await
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

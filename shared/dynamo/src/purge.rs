//! `PurgeStore` on DynamoDB: a ticket's items deleted (those it names outside its
//! partition first, its ticket item last), erasure jobs and the retention setting.
//!
//! | item              | pk                | sk            |
//! |-------------------|-------------------|---------------|
//! | erasure job       | `ERASURE#<hash>`  | `ERASURE`     |
//! | running erasure   | `ERASURES`        | `<hash>`      |
//! | erasure salt      | `SETTINGS`        | `ERASURE_SALT`|
//! | retention setting | `SETTINGS`        | `RETENTION`   |
//!
//! Due closed tickets are read from `status_updated` (partition `closed`, sort
//! key the update time): no index of their own, never a Scan.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Select};
use chrono::{DateTime, Utc};
use desk_domain::erasure::{Erasure, ErasureStatus, PurgeStore, Retention};
use desk_domain::message::MailMessage;
use desk_domain::ticket::Ticket;
use desk_domain::{ActivityEntry, ActivityKind, DeskError, DeskResult, EmailAddress, TicketNumber};

use crate::item::{from_item, s, Item};
use crate::messages::{delivery_pk, msgid_pk, reception_key};
use crate::search::key;
use crate::{keys, storage, DynamoStore};

const SETTINGS_PK: &str = "SETTINGS";
const SALT_SK: &str = "ERASURE_SALT";
const RETENTION_SK: &str = "RETENTION";
const RUNNING_PK: &str = "ERASURES";
const ERASURE_SK: &str = "ERASURE";
/// Partition items read (and deleted) per page.
const PAGE: i32 = 100;

fn erasure_pk(id: &str) -> String {
    format!("ERASURE#{id}")
}

/// An item outside the ticket's partition that names it: deleted only if it
/// still points at the ticket (`owned`: its `ticket` attribute is the number),
/// so an id reused by another ticket keeps that ticket's entry.
struct Outside {
    key: Item,
    owned: bool,
}

impl Outside {
    fn owned(pk: String, sk: &str) -> Self {
        Self {
            key: key(pk, sk.to_string()),
            owned: true,
        }
    }
    fn plain(pk: String, sk: String) -> Self {
        Self {
            key: key(pk, sk),
            owned: false,
        }
    }
}

/// The message-id index items of `id`, if it still points at the ticket.
fn message_id(id: &str) -> Outside {
    Outside::owned(msgid_pk(id), "MSGID")
}

/// What a partition item names outside the partition.
fn outside_keys(item: &Item, desk_address: &EmailAddress) -> Vec<Outside> {
    let sk = item
        .get(keys::SK)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    if sk.starts_with("MSG#") {
        if let Ok(m) = from_item::<MailMessage>(item.clone()) {
            out.push(Outside::plain(
                delivery_pk(&m.delivery_id),
                "DELIVERY".into(),
            ));
            for r in &m.receptions {
                out.push(Outside::plain(
                    delivery_pk(&r.delivery_id),
                    "DELIVERY".into(),
                ));
            }
            if let Some(id) = m.rfc_message_id.as_deref().filter(|i| !i.trim().is_empty()) {
                out.push(message_id(id));
            }
            if let Some((id, rsk)) = reception_key(&m) {
                out.push(Outside::owned(msgid_pk(&id), &rsk));
            }
            if let Some(p) = &m.provider_message_id {
                out.push(message_id(&format!("{p}@email.amazonses.com")));
            }
        }
    } else if sk.starts_with("ACT#") {
        if let Ok(e) = from_item::<ActivityEntry>(item.clone()) {
            match &e.kind {
                ActivityKind::EmailSent {
                    mail_id,
                    message_id: provider,
                    ..
                } => {
                    out.push(message_id(&desk_domain::outbound::rfc_message_id(
                        mail_id,
                        desk_address,
                    )));
                    out.push(message_id(&format!("{provider}@email.amazonses.com")));
                }
                ActivityKind::SessionCreated { code, .. }
                | ActivityKind::SessionChanged { code, .. }
                | ActivityKind::SessionDeleted { code } => {
                    out.push(Outside::owned(keys::case_pk(code.as_str()), keys::CASE_SK));
                }
                _ => {}
            }
        }
    } else if sk == keys::LIVE_SLOT_SK {
        for attr in ["case", "released_case"] {
            if let Some(code) = item.get(attr).and_then(|v| v.as_s().ok()) {
                out.push(Outside::owned(keys::case_pk(code), keys::CASE_SK));
            }
        }
    } else if sk == keys::TICKET_SK {
        if let Ok(t) = from_item::<Ticket>(item.clone()) {
            for tag in t.tags.iter() {
                out.push(Outside::plain(
                    keys::tag_pk(tag.as_str()),
                    keys::ticket_pk(t.number),
                ));
            }
        }
    }
    out
}

impl DynamoStore {
    /// Deletes `o` (if it still points at ticket `n`, when owned); whether it was there.
    async fn delete_outside(&self, o: Outside, n: TicketNumber) -> DeskResult<bool> {
        let mut req = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(o.key))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld);
        if o.owned {
            req = req
                .condition_expression("ticket = :n")
                .expression_attribute_values(":n", AttributeValue::N(n.get().to_string()));
        }
        match req.send().await {
            Ok(out) => Ok(out.attributes.is_some_and(|a| !a.is_empty())),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(storage("DeleteItem purge")(e)),
        }
    }

    /// Deletes `keys` in batches of 25 (the index's batch writer).
    async fn delete_keys(&self, keys: Vec<Item>) -> DeskResult<()> {
        let requests = keys
            .into_iter()
            .map(|k| crate::search::request(false, k))
            .collect::<DeskResult<Vec<_>>>()?;
        self.write_all(requests).await
    }

    /// Ticket numbers from a page of index items (their `pk`).
    fn numbers(items: Vec<Item>) -> Vec<TicketNumber> {
        items
            .into_iter()
            .filter_map(|i| {
                let pk = i.get(keys::PK)?.as_s().ok()?.clone();
                let n = pk.strip_prefix("TICKET#")?.parse().ok()?;
                TicketNumber::new(n).ok()
            })
            .collect()
    }

    /// Counts the items of `index` matching `condition`, page by page.
    async fn count(
        &self,
        index: &str,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> DeskResult<u64> {
        let mut total = 0u64;
        let mut start = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression(condition)
                .select(Select::Count)
                .set_exclusive_start_key(start);
            for (k, v) in &values {
                q = q.expression_attribute_values(*k, v.clone());
            }
            let out = q.send().await.map_err(storage("Query count"))?;
            total += out.count.max(0) as u64;
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(total);
            }
        }
    }
}

#[async_trait]
impl PurgeStore for DynamoStore {
    async fn customer_tickets(
        &self,
        customer_key: &str,
        limit: usize,
    ) -> DeskResult<Vec<TicketNumber>> {
        let index = keys::CUSTOMER_UPDATED;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index.name)
            .key_condition_expression(format!("{} = :c", index.pk))
            .expression_attribute_values(":c", s(customer_key))
            .limit(limit.clamp(1, 1000) as i32)
            .send()
            .await
            .map_err(storage("Query customer tickets"))?;
        Ok(Self::numbers(out.items.unwrap_or_default()))
    }

    async fn count_customer_tickets(&self, customer_key: &str) -> DeskResult<u64> {
        let index = keys::CUSTOMER_UPDATED;
        self.count(
            index.name,
            &format!("{} = :c", index.pk),
            vec![(":c", s(customer_key))],
        )
        .await
    }

    async fn raw_locations(&self, number: TicketNumber) -> DeskResult<Vec<String>> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :p)")
                .expression_attribute_values(":pk", s(keys::ticket_pk(number)))
                .expression_attribute_values(":p", s("MSG#"))
                .projection_expression("raw_key, receptions")
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(storage("Query raw locations"))?;
            for item in page.items.unwrap_or_default() {
                if let Some(k) = item.get("raw_key").and_then(|v| v.as_s().ok()) {
                    out.push(k.clone());
                }
                for r in item
                    .get("receptions")
                    .and_then(|v| v.as_l().ok())
                    .into_iter()
                    .flatten()
                {
                    if let Some(k) = r
                        .as_m()
                        .ok()
                        .and_then(|m| m.get("raw_key"))
                        .and_then(|v| v.as_s().ok())
                    {
                        out.push(k.clone());
                    }
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        out.retain(|k| !k.is_empty());
        out.sort();
        out.dedup();
        Ok(out)
    }

    async fn delete_ticket_items(
        &self,
        number: TicketNumber,
        desk_address: &EmailAddress,
    ) -> DeskResult<(u64, bool)> {
        let pk = keys::ticket_pk(number);
        let mut deleted = 0u64;
        let mut ticket_item: Option<Item> = None;
        // Deleted pages are gone, so each round reads from the start; the ticket
        // item sorts last (`TICKET` after `ACT#`, `LIVECASE`, `MSG#`, `NOTE#`)
        // and is kept until everything else is gone.
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk < :t")
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":t", s(keys::TICKET_SK))
                .consistent_read(true)
                .limit(PAGE)
                .send()
                .await
                .map_err(storage("Query ticket items"))?;
            let items = page.items.unwrap_or_default();
            if items.is_empty() {
                break;
            }
            for item in &items {
                for o in outside_keys(item, desk_address) {
                    deleted += u64::from(self.delete_outside(o, number).await?);
                }
            }
            deleted += items.len() as u64;
            self.delete_keys(
                items
                    .into_iter()
                    .filter_map(|i| {
                        Some(key(
                            i.get(keys::PK)?.as_s().ok()?.clone(),
                            i.get(keys::SK)?.as_s().ok()?.clone(),
                        ))
                    })
                    .collect(),
            )
            .await?;
        }
        // Anything after the ticket item (none today) goes before it.
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk >= :t")
            .expression_attribute_values(":pk", s(pk.clone()))
            .expression_attribute_values(":t", s(keys::TICKET_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(storage("Query ticket item"))?;
        let mut rest = Vec::new();
        for item in out.items.unwrap_or_default() {
            if item
                .get(keys::SK)
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                == Some(keys::TICKET_SK)
            {
                ticket_item = Some(item);
            } else {
                rest.push(key(
                    pk.clone(),
                    item.get(keys::SK)
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                        .unwrap_or_default(),
                ));
            }
        }
        deleted += rest.len() as u64;
        self.delete_keys(rest).await?;
        let Some(ticket) = ticket_item else {
            return Ok((deleted, false));
        };
        for o in outside_keys(&ticket, desk_address) {
            deleted += u64::from(self.delete_outside(o, number).await?);
        }
        self.delete_keys(vec![key(pk, keys::TICKET_SK.to_string())])
            .await?;
        Ok((deleted + 1, true))
    }

    async fn erasure_salt(&self, candidate: &str) -> DeskResult<String> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(keys::PK, s(SETTINGS_PK))
            .item(keys::SK, s(SALT_SK))
            .item("salt", s(candidate))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(candidate.to_string()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                #[derive(serde::Deserialize)]
                struct Salt {
                    salt: String,
                }
                self.get_entry::<Salt>(SETTINGS_PK, SALT_SK.into())
                    .await?
                    .map(|s| s.salt)
                    .ok_or_else(|| DeskError::Storage("erasure salt vanished".into()))
            }
            Err(e) => Err(storage("PutItem erasure salt")(e)),
        }
    }

    async fn get_erasure(&self, id: &str) -> DeskResult<Option<Erasure>> {
        self.get_entry(&erasure_pk(id), ERASURE_SK.into()).await
    }

    async fn save_erasure(&self, erasure: &Erasure) -> DeskResult<()> {
        let job = crate::tx::put(
            &self.table,
            crate::item::to_item(erasure, erasure_pk(&erasure.id), ERASURE_SK.into())?,
            None,
        )?;
        let marker = key(RUNNING_PK.into(), erasure.id.clone());
        let marker = match erasure.status {
            ErasureStatus::Running => crate::tx::put(&self.table, marker, None)?,
            ErasureStatus::Done => aws_sdk_dynamodb::types::TransactWriteItem::builder()
                .delete(
                    aws_sdk_dynamodb::types::Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(marker))
                        .build()
                        .map_err(|e| DeskError::Storage(e.to_string()))?,
                )
                .build(),
        };
        crate::tx::transact(
            self.client
                .transact_write_items()
                .transact_items(job)
                .transact_items(marker),
        )
        .await
        .map(|_| ())
        .map_err(storage("TransactWriteItems erasure"))
    }

    async fn running_erasures(&self, limit: usize) -> DeskResult<Vec<Erasure>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(RUNNING_PK))
            .limit(limit.clamp(1, 100) as i32)
            .send()
            .await
            .map_err(storage("Query running erasures"))?;
        let mut jobs = Vec::new();
        for item in out.items.unwrap_or_default() {
            if let Some(id) = item.get(keys::SK).and_then(|v| v.as_s().ok()) {
                if let Some(job) = self.get_erasure(id).await? {
                    if job.status == ErasureStatus::Running {
                        jobs.push(job);
                    }
                }
            }
        }
        Ok(jobs)
    }

    async fn retention(&self) -> DeskResult<Retention> {
        #[derive(serde::Deserialize)]
        struct Stored {
            retention_days: Option<u32>,
        }
        Ok(self
            .get_entry::<Stored>(SETTINGS_PK, RETENTION_SK.into())
            .await?
            .map_or_else(Retention::default, |s| Retention {
                retention_days: s.retention_days,
            }))
    }

    async fn set_retention(&self, retention: &Retention) -> DeskResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(crate::item::to_item(
                retention,
                SETTINGS_PK.into(),
                RETENTION_SK.into(),
            )?))
            .send()
            .await
            .map(|_| ())
            .map_err(storage("PutItem retention"))
    }

    async fn closed_before(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> DeskResult<Vec<TicketNumber>> {
        let index = keys::STATUS_UPDATED;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index.name)
            .key_condition_expression(format!("{} = :s AND {} < :t", index.pk, index.sk))
            .expression_attribute_values(":s", s(desk_domain::Status::Closed.as_str()))
            .expression_attribute_values(":t", s(keys::ts(before)))
            .limit(limit.clamp(1, 1000) as i32)
            .send()
            .await
            .map_err(storage("Query closed tickets"))?;
        Ok(Self::numbers(out.items.unwrap_or_default()))
    }

    async fn count_closed_before(&self, before: DateTime<Utc>) -> DeskResult<u64> {
        let index = keys::STATUS_UPDATED;
        self.count(
            index.name,
            &format!("{} = :s AND {} < :t", index.pk, index.sk),
            vec![
                (":s", s(desk_domain::Status::Closed.as_str())),
                (":t", s(keys::ts(before))),
            ],
        )
        .await
    }
}

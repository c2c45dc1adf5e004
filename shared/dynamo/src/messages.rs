//! `MessageStore` on DynamoDB. A received email is one transaction: the delivery
//! marker (conditioned on not existing: exactly once), the message, the ticket
//! write, the activity and the message-id index items. Beside its own id's item,
//! a message's reception key (`R#<fingerprint>` → where it was recorded),
//! conditioned on not existing: one message however often it is received; a
//! later reception of it is kept on that message.
//!
//! | item            | pk                 | sk            |
//! |-----------------|--------------------|---------------|
//! | delivery marker | `DELIVERY#<id>`    | `DELIVERY`    |
//! | message         | `TICKET#<n>`       | `MSG#<time id>`|
//! | message id      | `MSGID#<rfc id>`   | `MSGID` (`ticket`) |
//! | reception key   | `MSGID#<rfc id>`   | `R#<fingerprint>` (`ticket`, `message`) |
//! | quarantine      | `DELIVERY#<id>`    | `DELIVERY` (with `quarantined`) |
//! | upload          | `TICKET#<n>`       | `UPLOAD#<time id>` (expires by TTL) |

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use desk_domain::mail::attachments::Upload;
use desk_domain::message::{
    Direction, MailMessage, MessageStore, Reception, Recorded, ThreadRef, TicketWrite,
};
use desk_domain::{ActivityEntry, DeskError, DeskResult, TicketNumber};
use desk_domain::{Page, PageRequest};

use crate::item::{from_item, s, to_item};
use crate::tickets::{activity_item, tag_link_writes, ticket_item};
use crate::tx;
use crate::{keys, storage, DynamoStore};

pub(crate) fn delivery_pk(id: &str) -> String {
    format!("DELIVERY#{id}")
}

/// The index key of an RFC Message-ID. SES rewrites the Message-ID of mail it
/// sends to `<ses id>@<region>.amazonses.com` (`email.amazonses.com` in
/// us-east-1), so those are keyed on the SES id alone: whichever form comes back
/// in `In-Reply-To`, it finds the ticket.
pub(crate) fn msgid_pk(id: &str) -> String {
    let id = id
        .trim()
        .trim_matches(|c| c == '<' || c == '>')
        .to_ascii_lowercase();
    match id.rsplit_once('@') {
        Some((local, domain))
            if domain == "amazonses.com" || domain.ends_with(".amazonses.com") =>
        {
            format!("MSGID#ses:{local}")
        }
        _ => format!("MSGID#{id}"),
    }
}

fn msgid_update(table: &str, id: &str, ticket: TicketNumber) -> DeskResult<TransactWriteItem> {
    // First writer keeps an id: a reused Message-ID never moves to another ticket.
    let update = Update::builder()
        .table_name(table)
        .key(keys::PK, s(msgid_pk(id)))
        .key(keys::SK, s("MSGID"))
        .update_expression("SET ticket = if_not_exists(ticket, :n)")
        .expression_attribute_values(":n", AttributeValue::N(ticket.get().to_string()))
        .build()
        .map_err(|e| DeskError::Storage(e.to_string()))?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// A message's Message-ID and its reception key's sort key under that id
/// (`R#<fingerprint>`): what recognises another reception of it. An item of
/// its own per content, so mail reusing a Message-ID never grows one item.
/// `None` for mail without either.
pub(crate) fn reception_key(message: &MailMessage) -> Option<(String, String)> {
    let id = message
        .rfc_message_id
        .as_deref()
        .filter(|i| !i.trim().is_empty())?;
    let fingerprint = message.fingerprint.as_deref().filter(|f| !f.is_empty())?;
    Some((id.to_string(), format!("R#{fingerprint}")))
}

/// An agent's upload for a reply, under its ticket (expires by TTL).
fn upload_sk(id: &str) -> String {
    format!("UPLOAD#{id}")
}

fn message_sk(id: &str) -> String {
    format!("MSG#{id}")
}

impl DynamoStore {
    /// Where the message with reception key `pk` / `sk` was recorded (it
    /// exists: its condition just failed). 1 round trip.
    async fn received_as(&self, pk: &str, sk: &str) -> DeskResult<Recorded> {
        /// A reception key's attributes.
        #[derive(serde::Deserialize)]
        struct ReceivedAt {
            ticket: u64,
            message: String,
        }
        let at: Option<ReceivedAt> = self.get_entry(pk, sk.to_string()).await?;
        let (ticket, message) = match at {
            Some(at) => (TicketNumber::new(at.ticket).ok(), Some(at.message)),
            None => (None, None),
        };
        match (ticket, message) {
            (Some(ticket), Some(message)) => Ok(Recorded::SameMessage { ticket, message }),
            _ => Err(DeskError::Storage(format!(
                "reception key {pk} {sk} is incomplete"
            ))),
        }
    }
}

/// A transaction holds at most 100 items; message ids beyond this are not indexed.
const MAX_INDEXED_IDS: usize = 40;

#[async_trait]
impl MessageStore for DynamoStore {
    async fn ticket_for_message_ids(&self, ids: &[String]) -> DeskResult<Option<TicketNumber>> {
        if ids.is_empty() {
            return Ok(None);
        }
        let mut keys_and = KeysAndAttributes::builder();
        let mut seen = Vec::new();
        for id in ids.iter().take(100) {
            let pk = msgid_pk(id);
            if seen.contains(&pk) {
                continue;
            }
            seen.push(pk.clone());
            keys_and = keys_and.keys(HashMap::from([
                (keys::PK.to_string(), s(pk)),
                (keys::SK.to_string(), s("MSGID")),
            ]));
        }
        let out = self
            .client
            .batch_get_item()
            .request_items(
                &self.table,
                keys_and
                    .build()
                    .map_err(|e| DeskError::Storage(e.to_string()))?,
            )
            .send()
            .await
            .map_err(storage("BatchGetItem message ids"))?;
        let found: Vec<(String, u64)> = out
            .responses
            .and_then(|mut r| r.remove(&self.table))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|item| {
                let pk = item.get(keys::PK)?.as_s().ok()?.clone();
                let n = item.get("ticket")?.as_n().ok()?.parse().ok()?;
                Some((pk, n))
            })
            .collect();
        // The most recent id (first in `ids`) wins when they point to different tickets.
        Ok(seen
            .iter()
            .find_map(|pk| found.iter().find(|(p, _)| p == pk).map(|(_, n)| *n))
            .and_then(|n| TicketNumber::new(n).ok()))
    }

    async fn record(
        &self,
        message: &MailMessage,
        write: &TicketWrite,
        activity: &[ActivityEntry],
        message_ids: &[String],
    ) -> DeskResult<Recorded> {
        let now = keys::ts(message.received_at);
        let mut items = vec![tx::put(
            &self.table,
            HashMap::from([
                (keys::PK.to_string(), s(delivery_pk(&message.delivery_id))),
                (keys::SK.to_string(), s("DELIVERY")),
                (
                    "ticket".to_string(),
                    AttributeValue::N(message.ticket.get().to_string()),
                ),
                ("message".to_string(), s(message.id.clone())),
                ("raw_key".to_string(), s(message.raw_key.clone())),
                ("at".to_string(), s(now.clone())),
            ]),
            Some("attribute_not_exists(pk)"),
        )?];
        match write {
            TicketWrite::Create(t) => items.push(tx::put(
                &self.table,
                ticket_item(t)?,
                Some("attribute_not_exists(pk)"),
            )?),
            TicketWrite::Update {
                ticket,
                expected_version,
                ..
            } => {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(ticket_item(ticket)?))
                    .condition_expression("version = :v")
                    .expression_attribute_values(
                        ":v",
                        AttributeValue::N(expected_version.to_string()),
                    )
                    .build()
                    .map_err(|e| DeskError::Storage(e.to_string()))?;
                items.push(TransactWriteItem::builder().put(put).build());
            }
            TicketWrite::Touch { number, at } => {
                let update = Update::builder()
                    .table_name(&self.table)
                    .key(keys::PK, s(keys::ticket_pk(*number)))
                    .key(keys::SK, s(keys::TICKET_SK))
                    .update_expression("SET updated_at = :t, k_updated = :k")
                    .condition_expression("attribute_exists(pk)")
                    .expression_attribute_values(":t", s(keys::ts(*at)))
                    .expression_attribute_values(":k", s(keys::updated_key(*number, *at)))
                    .build()
                    .map_err(|e| DeskError::Storage(e.to_string()))?;
                items.push(TransactWriteItem::builder().update(update).build());
            }
        }
        items.push(tx::put(
            &self.table,
            to_item(
                message,
                keys::ticket_pk(message.ticket),
                message_sk(&message.id),
            )?,
            None,
        )?);
        for entry in activity {
            items.push(tx::put(&self.table, activity_item(entry)?, None)?);
        }
        // Beside the message's own id, its reception key: (position, pk, sk).
        let reception = reception_key(message);
        let mut guarded: Option<(usize, String, String)> = None;
        let mut indexed = Vec::new();
        let own = reception.as_ref().map(|(id, _)| msgid_pk(id));
        let ids = message_ids
            .iter()
            .take(MAX_INDEXED_IDS)
            .map(String::as_str)
            .chain(reception.as_ref().map(|(id, _)| id.as_str()));
        for id in ids {
            let pk = msgid_pk(id);
            if indexed.contains(&pk) {
                continue;
            }
            indexed.push(pk.clone());
            items.push(msgid_update(&self.table, id, message.ticket)?);
            if let (Some((_, sk)), Some(own)) = (&reception, &own) {
                if *own == pk {
                    guarded = Some((items.len(), pk.clone(), sk.clone()));
                    items.push(tx::put(
                        &self.table,
                        HashMap::from([
                            (keys::PK.to_string(), s(pk)),
                            (keys::SK.to_string(), s(sk.clone())),
                            (
                                "ticket".to_string(),
                                AttributeValue::N(message.ticket.get().to_string()),
                            ),
                            ("message".to_string(), s(message.id.clone())),
                        ]),
                        Some("attribute_not_exists(pk)"),
                    )?);
                }
            }
        }
        // Tag links go last: the cancellation reasons checked below are by position.
        match write {
            TicketWrite::Create(t) => items.extend(tag_link_writes(&self.table, t, None)?),
            TicketWrite::Update {
                ticket,
                previous_tags,
                ..
            } => items.extend(tag_link_writes(&self.table, ticket, Some(previous_tags))?),
            TicketWrite::Touch { .. } => {}
        }
        match tx::transact(
            self.client
                .transact_write_items()
                .set_transact_items(Some(items)),
        )
        .await
        {
            Ok(_) => Ok(Recorded::Stored),
            Err(e) if tx::condition_failed_at(&e, 0) => Ok(Recorded::Duplicate),
            Err(e)
                if guarded
                    .as_ref()
                    .is_some_and(|(at, _, _)| tx::condition_failed_at(&e, *at)) =>
            {
                let (_, pk, sk) = guarded.unwrap_or_default();
                self.received_as(&pk, &sk).await
            }
            Err(e) if tx::condition_failed_at(&e, 1) => match write {
                TicketWrite::Update { ticket, .. } => {
                    let current = self.get_ticket_version(ticket.number).await?;
                    Err(DeskError::VersionConflict { current })
                }
                TicketWrite::Create(_) => {
                    Err(DeskError::Storage("ticket number already used".into()))
                }
                TicketWrite::Touch { .. } => Err(DeskError::NotFound { what: "ticket" }),
            },
            Err(e) => Err(storage("TransactWriteItems inbound")(e)),
        }
    }

    async fn add_reception(
        &self,
        number: TicketNumber,
        message: &str,
        reception: &Reception,
    ) -> DeskResult<Recorded> {
        let marker = tx::put(
            &self.table,
            HashMap::from([
                (keys::PK.to_string(), s(delivery_pk(&reception.delivery_id))),
                (keys::SK.to_string(), s("DELIVERY")),
                (
                    "ticket".to_string(),
                    AttributeValue::N(number.get().to_string()),
                ),
                ("message".to_string(), s(message)),
                ("raw_key".to_string(), s(reception.raw_key.clone())),
                ("at".to_string(), s(keys::ts(reception.received_at))),
            ]),
            Some("attribute_not_exists(pk)"),
        )?;
        let entry: AttributeValue = serde_dynamo::to_attribute_value(reception)
            .map_err(|e| DeskError::Storage(format!("encode: {e}")))?;
        let update = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::ticket_pk(number)))
            .key(keys::SK, s(message_sk(message)))
            .update_expression("SET receptions = list_append(if_not_exists(receptions, :none), :r)")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":none", AttributeValue::L(vec![]))
            .expression_attribute_values(":r", AttributeValue::L(vec![entry]))
            .build()
            .map_err(|e| DeskError::Storage(e.to_string()))?;
        match tx::transact(
            self.client
                .transact_write_items()
                .transact_items(marker)
                .transact_items(TransactWriteItem::builder().update(update).build()),
        )
        .await
        {
            Ok(_) => Ok(Recorded::Stored),
            Err(e) if tx::condition_failed_at(&e, 0) => Ok(Recorded::Duplicate),
            Err(e) if tx::condition_failed_at(&e, 1) => {
                Err(DeskError::NotFound { what: "message" })
            }
            Err(e) => Err(storage("TransactWriteItems reception")(e)),
        }
    }

    async fn quarantine(
        &self,
        delivery_id: &str,
        raw_key: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> DeskResult<Recorded> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(keys::PK, s(delivery_pk(delivery_id)))
            .item(keys::SK, s("DELIVERY"))
            .item("quarantined", s(reason))
            .item("raw_key", s(raw_key))
            .item("at", s(keys::ts(at)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(Recorded::Stored),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(PutItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(Recorded::Duplicate)
            }
            Err(e) => Err(storage("PutItem quarantine")(e)),
        }
    }

    async fn list_messages(
        &self,
        thread: &[TicketNumber],
        page: &PageRequest,
    ) -> DeskResult<Page<MailMessage>> {
        self.query_children(thread, "MSG#", page).await
    }

    async fn get_message(&self, number: TicketNumber, id: &str) -> DeskResult<Option<MailMessage>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::ticket_pk(number)))
            .key(keys::SK, s(message_sk(id)))
            .send()
            .await
            .map_err(storage("GetItem message"))?;
        out.item.map(from_item).transpose()
    }

    async fn recent_thread(
        &self,
        number: TicketNumber,
        limit: usize,
    ) -> DeskResult<Vec<ThreadRef>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :p)")
            .expression_attribute_values(":pk", s(keys::ticket_pk(number)))
            .expression_attribute_values(":p", s("MSG#"))
            .scan_index_forward(false)
            .limit(limit.clamp(1, 100) as i32)
            .projection_expression("sk, direction, rfc_message_id, #from")
            .expression_attribute_names("#from", "from")
            .send()
            .await
            .map_err(storage("Query recent messages"))?;
        Ok(out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| {
                let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
                ThreadRef {
                    id: text("sk")
                        .and_then(|sk| sk.strip_prefix("MSG#").map(str::to_string))
                        .unwrap_or_default(),
                    direction: match text("direction").as_deref() {
                        Some("outbound") => Direction::Outbound,
                        _ => Direction::Inbound,
                    },
                    rfc_message_id: text("rfc_message_id"),
                    from: text("from").unwrap_or_default(),
                }
            })
            .collect())
    }

    async fn delivery(&self, delivery_id: &str) -> DeskResult<Option<(TicketNumber, String)>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(delivery_pk(delivery_id)))
            .key(keys::SK, s("DELIVERY"))
            .send()
            .await
            .map_err(storage("GetItem delivery"))?;
        Ok(out.item.and_then(|item| {
            let n = item.get("ticket")?.as_n().ok()?.parse().ok()?;
            let id = item.get("message")?.as_s().ok()?.clone();
            Some((TicketNumber::new(n).ok()?, id))
        }))
    }

    async fn mark_sent(
        &self,
        number: TicketNumber,
        message: Option<&str>,
        provider_id: &str,
        message_ids: &[String],
        _at: DateTime<Utc>,
    ) -> DeskResult<()> {
        let mut items = Vec::new();
        if let Some(message) = message {
            let update = Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(keys::ticket_pk(number)))
                .key(keys::SK, s(message_sk(message)))
                .update_expression("SET send_state = :sent, provider_message_id = :p")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":sent", s("sent"))
                .expression_attribute_values(":p", s(provider_id))
                .build()
                .map_err(|e| DeskError::Storage(e.to_string()))?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        for id in message_ids.iter().take(MAX_INDEXED_IDS) {
            items.push(msgid_update(&self.table, id, number)?);
        }
        match tx::transact(
            self.client
                .transact_write_items()
                .set_transact_items(Some(items)),
        )
        .await
        {
            Ok(_) => Ok(()),
            Err(e) if message.is_some() && tx::condition_failed_at(&e, 0) => {
                Err(DeskError::NotFound { what: "message" })
            }
            Err(e) => Err(storage("TransactWriteItems message sent")(e)),
        }
    }

    async fn put_upload(&self, upload: &Upload) -> DeskResult<()> {
        let mut item = to_item(
            upload,
            keys::ticket_pk(upload.ticket),
            upload_sk(&upload.id),
        )?;
        // DynamoDB's TTL drops it a day after it can no longer be used.
        let ttl = upload.expires_at.timestamp() + 24 * 3600;
        item.insert(keys::TTL.into(), AttributeValue::N(ttl.to_string()));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(storage("PutItem upload"))?;
        Ok(())
    }

    async fn get_upload(&self, number: TicketNumber, id: &str) -> DeskResult<Option<Upload>> {
        self.get_entry(&keys::ticket_pk(number), upload_sk(id))
            .await
    }
}

impl DynamoStore {
    async fn get_ticket_version(&self, n: TicketNumber) -> DeskResult<u64> {
        use desk_domain::TicketStore;
        Ok(self.get_ticket(n).await?.map_or(0, |t| t.version))
    }
}

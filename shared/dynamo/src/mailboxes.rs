//! `MailboxStore` on DynamoDB: `MAILBOXES` / `MAILBOX#<id>`. No password here:
//! it lives in the secret store.

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use desk_domain::mailbox::{Mailbox, MailboxStore, PollStatus};
use desk_domain::{DeskError, DeskResult};

use crate::item::s;
use crate::keys::{self, ts};
use crate::{storage, DynamoStore};

/// What `replace_mailbox` leaves alone: identity, creation and the poll status.
const NOT_EDITABLE: [&str; 5] = [
    "id",
    "created_at",
    "last_poll_at",
    "last_error",
    "last_ingested",
];

fn conditional_failed(e: &SdkError<UpdateItemError>) -> bool {
    matches!(
        e.as_service_error(),
        Some(UpdateItemError::ConditionalCheckFailedException(_))
    )
}

#[async_trait]
impl MailboxStore for DynamoStore {
    async fn list_mailboxes(&self) -> DeskResult<Vec<Mailbox>> {
        self.list_partition(keys::MAILBOXES_PK).await
    }

    async fn get_mailbox(&self, id: &str) -> DeskResult<Option<Mailbox>> {
        self.get_entry(keys::MAILBOXES_PK, keys::mailbox_sk(id))
            .await
    }

    async fn create_mailbox(&self, mailbox: &Mailbox) -> DeskResult<()> {
        self.put_entry(
            mailbox,
            keys::MAILBOXES_PK,
            keys::mailbox_sk(&mailbox.id),
            true,
            "mailbox",
        )
        .await
    }

    async fn replace_mailbox(&self, mailbox: &Mailbox) -> DeskResult<()> {
        let item: std::collections::HashMap<String, AttributeValue> =
            serde_dynamo::to_item(mailbox)
                .map_err(|e| DeskError::Storage(format!("encode: {e}")))?;
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::MAILBOXES_PK))
            .key(keys::SK, s(keys::mailbox_sk(&mailbox.id)))
            .condition_expression("attribute_exists(pk)");
        let mut sets = Vec::new();
        let mut fields: Vec<_> = item
            .into_iter()
            .filter(|(k, _)| !NOT_EDITABLE.contains(&k.as_str()))
            .collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        for (i, (name, value)) in fields.into_iter().enumerate() {
            sets.push(format!("#f{i} = :v{i}"));
            update = update
                .expression_attribute_names(format!("#f{i}"), name)
                .expression_attribute_values(format!(":v{i}"), value);
        }
        match update
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if conditional_failed(&e) => Err(DeskError::NotFound { what: "mailbox" }),
            Err(e) => Err(storage("UpdateItem mailbox")(e)),
        }
    }

    async fn delete_mailbox(&self, id: &str) -> DeskResult<bool> {
        self.delete_entry(keys::MAILBOXES_PK, keys::mailbox_sk(id))
            .await
    }

    async fn record_poll(&self, id: &str, status: &PollStatus) -> DeskResult<()> {
        let error = match &status.error {
            Some(e) => s(e.clone()),
            None => AttributeValue::Null(true),
        };
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::MAILBOXES_PK))
            .key(keys::SK, s(keys::mailbox_sk(id)))
            .condition_expression("attribute_exists(pk)")
            .update_expression("SET last_poll_at = :at, last_error = :err, last_ingested = :n")
            .expression_attribute_values(":at", s(ts(status.at)))
            .expression_attribute_values(":err", error)
            .expression_attribute_values(":n", AttributeValue::N(status.ingested.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Deleted while it was polled: nothing to record.
            Err(e) if conditional_failed(&e) => Ok(()),
            Err(e) => Err(storage("UpdateItem mailbox poll")(e)),
        }
    }
}

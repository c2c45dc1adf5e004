//! `MailLedger` on DynamoDB: `MAIL#<id>` items claimed with a lease.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use desk_domain::outbound::{Claim, MailLedger};
use desk_domain::DeskResult;

use crate::item::s;
use crate::keys;
use crate::{storage, DynamoStore};

fn mail_pk(id: &str) -> String {
    format!("MAIL#{id}")
}

#[async_trait]
impl MailLedger for DynamoStore {
    async fn claim(&self, id: &str, now: DateTime<Utc>, lease_seconds: i64) -> DeskResult<Claim> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(keys::PK, s(mail_pk(id)))
            .item(keys::SK, s("MAIL"))
            .item("state", s("sending"))
            .item(
                "lease_until",
                AttributeValue::N((now.timestamp() + lease_seconds).to_string()),
            )
            .condition_expression(
                "attribute_not_exists(pk) OR (#state = :sending AND lease_until < :now)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()))
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Acquired),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(c)) => {
                    let sent = c
                        .item()
                        .and_then(|i| i.get("state"))
                        .and_then(|v| v.as_s().ok())
                        .is_some_and(|v| v == "sent");
                    Ok(if sent {
                        Claim::AlreadySent
                    } else {
                        Claim::Busy
                    })
                }
                _ => Err(storage("PutItem mail claim")(e)),
            },
        }
    }

    async fn mark_sent(&self, id: &str, message_id: &str, now: DateTime<Utc>) -> DeskResult<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(mail_pk(id)))
            .key(keys::SK, s("MAIL"))
            .update_expression(
                "SET #state = :sent, message_id = :mid, sent_at = :at REMOVE lease_until",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":sent", s("sent"))
            .expression_attribute_values(":mid", s(message_id))
            .expression_attribute_values(":at", s(keys::ts(now)))
            .send()
            .await
            .map_err(storage("UpdateItem mail sent"))?;
        Ok(())
    }
}

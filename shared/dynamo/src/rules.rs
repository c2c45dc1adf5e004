//! `RuleStore` on DynamoDB: `RULES` / `RULE#<id>`.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use desk_domain::ports::RuleStore;
use desk_domain::rules::Rule;
use desk_domain::{DeskError, DeskResult};

use crate::item::to_item;
use crate::{storage, DynamoStore};

const RULES_PK: &str = "RULES";

fn rule_sk(id: &str) -> String {
    format!("RULE#{id}")
}

#[async_trait]
impl RuleStore for DynamoStore {
    async fn list_rules(&self) -> DeskResult<Vec<Rule>> {
        self.list_partition(RULES_PK).await
    }

    async fn get_rule(&self, id: &str) -> DeskResult<Option<Rule>> {
        self.get_entry(RULES_PK, rule_sk(id)).await
    }

    async fn create_rule(&self, rule: &Rule) -> DeskResult<()> {
        self.put_entry(rule, RULES_PK, rule_sk(&rule.id), true, "rule")
            .await
    }

    async fn replace_rule(&self, rule: &Rule, expected_version: u64) -> DeskResult<()> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(rule, RULES_PK.into(), rule_sk(&rule.id))?))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", AttributeValue::N(expected_version.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(PutItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                let current = self.get_rule(&rule.id).await?.map_or(0, |r| r.version);
                Err(DeskError::VersionConflict { current })
            }
            Err(e) => Err(storage("PutItem rule")(e)),
        }
    }

    async fn delete_rule(&self, id: &str) -> DeskResult<bool> {
        self.delete_entry(RULES_PK, rule_sk(id)).await
    }
}

//! `RuleStore` on DynamoDB: `RULES` / `RULE#<id>`.

use async_trait::async_trait;
use desk_domain::ports::RuleStore;
use desk_domain::rules::Rule;
use desk_domain::DeskResult;

use crate::DynamoStore;

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
        self.put_versioned(rule, RULES_PK, rule_sk(&rule.id), expected_version)
            .await
    }

    async fn delete_rule(&self, id: &str) -> DeskResult<bool> {
        self.delete_entry(RULES_PK, rule_sk(id)).await
    }
}

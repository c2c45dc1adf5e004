//! `DirectoryStore` on DynamoDB: users and groups each in one small partition.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValue;
use desk_domain::{DeskError, DeskResult, DirectoryStore, Group, GroupId, User, UserId};
use serde::{de::DeserializeOwned, Serialize};

use crate::item::{from_item, s, to_item};
use crate::keys;
use crate::{storage, DynamoStore};

fn condition_failed(e: &aws_sdk_dynamodb::error::SdkError<PutItemError>) -> bool {
    matches!(
        e.as_service_error(),
        Some(PutItemError::ConditionalCheckFailedException(_))
    )
}

impl DynamoStore {
    pub(crate) async fn get_entry<T: DeserializeOwned>(
        &self,
        pk: &str,
        sk: String,
    ) -> DeskResult<Option<T>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(storage("GetItem directory"))?;
        out.item.map(from_item).transpose()
    }

    /// Puts an entry that must not exist yet (`create`) or must exist (`replace`).
    pub(crate) async fn put_entry<T: Serialize>(
        &self,
        value: &T,
        pk: &str,
        sk: String,
        create: bool,
        what: &'static str,
    ) -> DeskResult<()> {
        let condition = if create {
            "attribute_not_exists(pk)"
        } else {
            "attribute_exists(pk)"
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(value, pk.to_string(), sk)?))
            .condition_expression(condition)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) && create => Err(DeskError::AlreadyExists { what }),
            Err(e) if condition_failed(&e) => Err(DeskError::NotFound { what }),
            Err(e) => Err(storage("PutItem directory")(e)),
        }
    }

    /// Puts an entry if its stored `version` is `expected_version` (0: it must not
    /// exist yet); otherwise `VersionConflict` with the stored version (0 if none).
    pub(crate) async fn put_versioned<T: Serialize>(
        &self,
        value: &T,
        pk: &str,
        sk: String,
        expected_version: u64,
    ) -> DeskResult<()> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(value, pk.to_string(), sk.clone())?));
        let put = if expected_version == 0 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("version = :v")
                .expression_attribute_values(
                    ":v",
                    aws_sdk_dynamodb::types::AttributeValue::N(expected_version.to_string()),
                )
        };
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => {
                #[derive(serde::Deserialize)]
                struct Versioned {
                    version: u64,
                }
                let current = self
                    .get_entry::<Versioned>(pk, sk)
                    .await?
                    .map_or(0, |v| v.version);
                Err(DeskError::VersionConflict { current })
            }
            Err(e) => Err(storage("PutItem versioned")(e)),
        }
    }

    pub(crate) async fn delete_entry(&self, pk: &str, sk: String) -> DeskResult<bool> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(storage::<DeleteItemError>("DeleteItem directory"))?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }

    pub(crate) async fn list_partition<T: DeserializeOwned>(&self, pk: &str) -> DeskResult<Vec<T>> {
        self.partition_items(pk)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    /// Every item of a small partition (the directory, the counts), page after page.
    pub(crate) async fn partition_items(&self, pk: &str) -> DeskResult<Vec<crate::item::Item>> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(storage("Query partition"))?;
            out.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
    }
}

#[async_trait]
impl DirectoryStore for DynamoStore {
    async fn get_user(&self, id: &UserId) -> DeskResult<Option<User>> {
        self.get_entry(keys::USERS_PK, keys::user_sk(id.as_str()))
            .await
    }
    async fn create_user(&self, user: &User) -> DeskResult<()> {
        self.put_entry(
            user,
            keys::USERS_PK,
            keys::user_sk(user.id.as_str()),
            true,
            "user",
        )
        .await
    }
    async fn replace_user(&self, user: &User) -> DeskResult<()> {
        self.put_entry(
            user,
            keys::USERS_PK,
            keys::user_sk(user.id.as_str()),
            false,
            "user",
        )
        .await
    }
    async fn delete_user(&self, id: &UserId) -> DeskResult<bool> {
        self.delete_entry(keys::USERS_PK, keys::user_sk(id.as_str()))
            .await
    }
    async fn list_users(&self) -> DeskResult<Vec<User>> {
        self.list_partition(keys::USERS_PK).await
    }
    async fn get_group(&self, id: &GroupId) -> DeskResult<Option<Group>> {
        self.get_entry(keys::GROUPS_PK, keys::group_sk(id.as_str()))
            .await
    }
    async fn create_group(&self, group: &Group) -> DeskResult<()> {
        self.put_entry(
            group,
            keys::GROUPS_PK,
            keys::group_sk(group.id.as_str()),
            true,
            "group",
        )
        .await
    }
    async fn replace_group(&self, group: &Group) -> DeskResult<()> {
        self.put_entry(
            group,
            keys::GROUPS_PK,
            keys::group_sk(group.id.as_str()),
            false,
            "group",
        )
        .await
    }
    async fn delete_group(&self, id: &GroupId) -> DeskResult<bool> {
        self.delete_entry(keys::GROUPS_PK, keys::group_sk(id.as_str()))
            .await
    }
    async fn list_groups(&self) -> DeskResult<Vec<Group>> {
        self.list_partition(keys::GROUPS_PK).await
    }
}

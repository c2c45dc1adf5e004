//! `StandardTextStore` on DynamoDB: text modules in `TEXTMODULES` / `MODULE#<id>`,
//! the desk's signature in `SETTINGS` / `SIGNATURE`.

use async_trait::async_trait;
use desk_domain::mail::text_modules::{DeskSignature, TextModule};
use desk_domain::ports::StandardTextStore;
use desk_domain::DeskResult;

use crate::DynamoStore;

const MODULES_PK: &str = "TEXTMODULES";
const SETTINGS_PK: &str = "SETTINGS";
const SIGNATURE_SK: &str = "SIGNATURE";

fn module_sk(id: &str) -> String {
    format!("MODULE#{id}")
}

#[async_trait]
impl StandardTextStore for DynamoStore {
    async fn list_text_modules(&self) -> DeskResult<Vec<TextModule>> {
        self.list_partition(MODULES_PK).await
    }

    async fn get_text_module(&self, id: &str) -> DeskResult<Option<TextModule>> {
        self.get_entry(MODULES_PK, module_sk(id)).await
    }

    async fn create_text_module(&self, module: &TextModule) -> DeskResult<()> {
        self.put_entry(
            module,
            MODULES_PK,
            module_sk(&module.id),
            true,
            "text_module",
        )
        .await
    }

    async fn replace_text_module(
        &self,
        module: &TextModule,
        expected_version: u64,
    ) -> DeskResult<()> {
        self.put_versioned(module, MODULES_PK, module_sk(&module.id), expected_version)
            .await
    }

    async fn delete_text_module(&self, id: &str) -> DeskResult<bool> {
        self.delete_entry(MODULES_PK, module_sk(id)).await
    }

    async fn desk_signature(&self) -> DeskResult<DeskSignature> {
        Ok(self
            .get_entry(SETTINGS_PK, SIGNATURE_SK.into())
            .await?
            .unwrap_or_default())
    }

    async fn set_desk_signature(
        &self,
        signature: &DeskSignature,
        expected_version: u64,
    ) -> DeskResult<()> {
        self.put_versioned(
            signature,
            SETTINGS_PK,
            SIGNATURE_SK.into(),
            expected_version,
        )
        .await
    }
}

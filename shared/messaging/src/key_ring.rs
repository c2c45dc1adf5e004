//! The reply-token key ring in Secrets Manager: the functions that sign or verify
//! tokens get only the secret's id (`REPLY_TOKEN_SECRET`) and read it at first use;
//! the template allows them `GetSecretValue` on that one secret. Errors keep only
//! the error code.

use async_trait::async_trait;
use desk_domain::mailbox::Secret;
use desk_domain::outbound::KeyRingStore;
use desk_domain::{DeskError, DeskResult};

#[derive(Clone)]
pub struct SecretsManagerKeyRing {
    client: crate::Lazy<aws_sdk_secretsmanager::Client>,
    /// The secret's ARN or name.
    secret_id: String,
}

impl SecretsManagerKeyRing {
    pub fn new(
        client: impl Into<crate::Lazy<aws_sdk_secretsmanager::Client>>,
        secret_id: &str,
    ) -> Self {
        Self {
            client: client.into(),
            secret_id: secret_id.to_string(),
        }
    }
}

#[async_trait]
impl KeyRingStore for SecretsManagerKeyRing {
    /// 1 `GetSecretValue`.
    async fn load(&self) -> DeskResult<Secret> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(|e| crate::failed_quietly("Secrets Manager", "GetSecretValue", &e))?;
        out.secret_string
            .map(Secret::new)
            .ok_or_else(|| DeskError::Storage("the reply-token secret has no string value".into()))
    }
}

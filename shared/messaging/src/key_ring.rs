//! The reply-token key ring, a Secrets Manager secret read through Parameter
//! Store's reference path (`/aws/reference/secretsmanager/<name>`): the functions
//! that sign or verify tokens get only the secret's name (`REPLY_TOKEN_SECRET`)
//! and read it at first use, with the SSM client they link anyway (the API and
//! the poller keep mailbox passwords there), so no function links the Secrets
//! Manager client for one call. The template allows them `ssm:GetParameter` on
//! that one reference and `secretsmanager:GetSecretValue` on that one secret
//! (Parameter Store passes the read through with the caller's permissions).
//! Errors keep only the error code.

use async_trait::async_trait;
use desk_domain::mailbox::Secret;
use desk_domain::outbound::KeyRingStore;
use desk_domain::{DeskError, DeskResult};

/// Where Parameter Store passes reads through to Secrets Manager.
pub const SECRETS_MANAGER_REFERENCE: &str = "/aws/reference/secretsmanager/";

#[derive(Clone)]
pub struct SsmKeyRing {
    client: crate::Lazy<aws_sdk_ssm::Client>,
    /// The reference parameter: [`SECRETS_MANAGER_REFERENCE`] and the secret's name.
    parameter: String,
}

impl SsmKeyRing {
    /// The key ring in the Secrets Manager secret named `secret_name` (a name:
    /// the reference path takes no ARN).
    pub fn new(client: impl Into<crate::Lazy<aws_sdk_ssm::Client>>, secret_name: &str) -> Self {
        Self {
            client: client.into(),
            parameter: format!("{SECRETS_MANAGER_REFERENCE}{secret_name}"),
        }
    }
}

#[async_trait]
impl KeyRingStore for SsmKeyRing {
    /// 1 `GetParameter` (with decryption), which reads the secret's current value.
    async fn load(&self) -> DeskResult<Secret> {
        let out = self
            .client
            .get_parameter()
            .name(&self.parameter)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| crate::failed_quietly("SSM", "GetParameter", &e))?;
        out.parameter
            .and_then(|p| p.value)
            .map(Secret::new)
            .ok_or_else(|| DeskError::Storage("the reply-token secret has no string value".into()))
    }
}

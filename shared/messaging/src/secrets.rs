//! Mailbox passwords in SSM Parameter Store, as SecureString parameters under
//! `/<prefix>/` (the template's IAM policies allow only that path). Error
//! messages keep only the error code: AWS validation messages may quote values.

use async_trait::async_trait;
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::types::ParameterType;
use desk_domain::mailbox::{Secret, SecretStore};
use desk_domain::{DeskError, DeskResult};

#[derive(Clone)]
pub struct SsmSecrets {
    client: crate::Lazy<aws_sdk_ssm::Client>,
    /// Without slashes at either end, e.g. `service-desk/prod`.
    prefix: String,
}

impl SsmSecrets {
    pub fn new(client: impl Into<crate::Lazy<aws_sdk_ssm::Client>>, prefix: &str) -> Self {
        Self {
            client: client.into(),
            prefix: prefix.trim_matches('/').to_string(),
        }
    }

    /// The parameter's full name: `/<prefix>/<name>`.
    pub fn parameter(&self, name: &str) -> String {
        format!("/{}/{}", self.prefix, name.trim_start_matches('/'))
    }
}

/// The failure without its message (which could quote the value sent).
fn failed<E: ProvideErrorMetadata>(op: &'static str, e: &SdkError<E>) -> DeskError {
    crate::failed_quietly("SSM", op, e)
}

fn not_found<E: ProvideErrorMetadata>(e: &SdkError<E>) -> bool {
    e.as_service_error().and_then(|se| se.code()) == Some("ParameterNotFound")
}

#[async_trait]
impl SecretStore for SsmSecrets {
    async fn put_secret(&self, name: &str, value: &Secret) -> DeskResult<()> {
        self.client
            .put_parameter()
            .name(self.parameter(name))
            .value(value.expose())
            .r#type(ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| failed("PutParameter", &e))?;
        Ok(())
    }

    async fn get_secret(&self, name: &str) -> DeskResult<Option<Secret>> {
        match self
            .client
            .get_parameter()
            .name(self.parameter(name))
            .with_decryption(true)
            .send()
            .await
        {
            Ok(out) => Ok(out.parameter.and_then(|p| p.value).map(Secret::new)),
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(failed("GetParameter", &e)),
        }
    }

    async fn delete_secret(&self, name: &str) -> DeskResult<()> {
        match self
            .client
            .delete_parameter()
            .name(self.parameter(name))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(failed("DeleteParameter", &e)),
        }
    }
}

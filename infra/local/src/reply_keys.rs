//! The reply-token key ring in Secrets Manager: created for the local stack, and
//! rotated by `desk-local rotate-reply-key` (`make rotate-key`), against moto or a
//! deployed stack's secret alike. Keys are printed nowhere: only their ids.

use aws_sdk_secretsmanager::error::DisplayErrorContext;
use chrono::{DateTime, Utc};
use desk_mail::KeyRing;

fn client(config: &aws_config::SdkConfig) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(config)
}

/// A new random key: 64 hex characters (244 random bits from the OS).
pub fn new_key() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The secret `name`, created with a ring of one new key if it is missing.
/// Returns its name: the functions read it through Parameter Store's reference
/// path, which takes a name and no ARN.
pub async fn ensure(config: &aws_config::SdkConfig, name: &str) -> Result<String, String> {
    let sm = client(config);
    if sm.describe_secret().secret_id(name).send().await.is_ok() {
        return Ok(name.to_string());
    }
    let ring = KeyRing::first(new_key()).map_err(|e| e.to_string())?;
    sm.create_secret()
        .name(name)
        .description("Key ring that signs the desk's reply tokens")
        .secret_string(ring.to_json())
        .send()
        .await
        .map_err(|e| format!("CreateSecret {name}: {}", DisplayErrorContext(&e)))?;
    Ok(name.to_string())
}

/// The ring kept in the secret `secret_id`.
pub async fn read(config: &aws_config::SdkConfig, secret_id: &str) -> Result<KeyRing, String> {
    let value = client(config)
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| format!("GetSecretValue {secret_id}: {}", DisplayErrorContext(&e)))?
        .secret_string
        .ok_or_else(|| format!("secret {secret_id} has no string value"))?;
    KeyRing::parse(&value).map_err(|e| e.to_string())
}

/// Adds a new current key to the ring in `secret_id`, keeping the old one as
/// previous (retired `now`) and dropping previous keys past their grace period;
/// `grace_days`, when given, becomes the ring's grace period. Returns the new ring.
pub async fn rotate(
    config: &aws_config::SdkConfig,
    secret_id: &str,
    grace_days: Option<u32>,
    now: DateTime<Utc>,
) -> Result<KeyRing, String> {
    let ring = read(config, secret_id)
        .await?
        .rotate(new_key(), now, grace_days)
        .map_err(|e| e.to_string())?;
    client(config)
        .put_secret_value()
        .secret_id(secret_id)
        .secret_string(ring.to_json())
        .send()
        .await
        .map_err(|e| format!("PutSecretValue {secret_id}: {}", DisplayErrorContext(&e)))?;
    Ok(ring)
}

//! The API function's composition: the desk over DynamoDB, S3 (mail downloads),
//! SSM (mailbox passwords, written only), the SQS outbox, the EventBridge bus and
//! reply tokens (signed with the key ring read from Secrets Manager at first use);
//! no SES client (the mailer sends). `main` and the local runner
//! both build the handler here.

use std::sync::Arc;

use desk_api::{App, Authenticator, DevIssuer};
use desk_dynamo::DynamoStore;
use desk_runtime::{Adapters, ConfigError, DeskConfig, Env};

#[derive(Clone, Debug)]
pub struct Config {
    pub desk: DeskConfig,
    /// SSM path under which mailbox passwords are kept.
    pub secrets_prefix: String,
}

impl Config {
    /// The desk's common configuration (`DeskConfig`), `SECRETS_PREFIX` and
    /// `INBOUND_BUCKET` (where uploads for replies and sent replies' MIME go, beside raw mail).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let mut desk = DeskConfig::from_env(env)?;
        desk.settings.files_bucket = Some(env.required("INBOUND_BUCKET")?);
        Ok(Self {
            secrets_prefix: env.secrets_prefix(&desk.table)?,
            desk,
        })
    }
}

/// `AUTH_MODE=apigateway` (default; claims from the HTTP API's JWT authorizer, user
/// in `AUTH_USER_CLAIM`, default `sub`) or `AUTH_MODE=dev` (HS256 tokens of the
/// local issuer, secret in `DEV_JWT_SECRET`).
pub fn authenticator(env: &Env) -> Result<Authenticator, ConfigError> {
    match env.var("AUTH_MODE").as_deref().unwrap_or("apigateway") {
        "apigateway" => Ok(Authenticator::ApiGateway {
            user_claim: env.var("AUTH_USER_CLAIM").unwrap_or_else(|| "sub".into()),
        }),
        "dev" => {
            let secret = env.required("DEV_JWT_SECRET")?;
            if secret.len() < 32 {
                return Err(ConfigError::Invalid(
                    "DEV_JWT_SECRET",
                    "must be at least 32 characters".into(),
                ));
            }
            Ok(Authenticator::Dev(DevIssuer::new(secret.into_bytes())))
        }
        other => Err(ConfigError::Invalid(
            "AUTH_MODE",
            format!("unknown mode {other:?}; use apigateway or dev"),
        )),
    }
}

/// The desk the API serves, over `store` and the clients built from `aws`.
pub fn desk(config: &Config, store: DynamoStore, aws: &aws_config::SdkConfig) -> desk_domain::Desk {
    use desk_messaging::{EventBridgeBus, S3RawMail, SqsOutbox, SsmKeyRing, SsmSecrets};
    // One SSM client, built at first use, for mailbox passwords and the key ring.
    let ssm = desk_messaging::Lazy::with(aws, aws_sdk_ssm::Client::new);
    desk_runtime::desk(
        store,
        config.desk.settings.clone(),
        Adapters {
            raw_mail: Some(Arc::new(S3RawMail::new(desk_messaging::Lazy::with(
                aws,
                aws_sdk_s3::Client::new,
            )))),
            attachment_reader: Some(Arc::new(desk_mail::attachment::Attachments)),
            reply_address: Some(Arc::new(desk_mail::ReplyKeys::new(Arc::new(
                SsmKeyRing::new(ssm.clone(), &config.desk.reply_token_secret),
            )))),
            secrets: Some(Arc::new(SsmSecrets::new(ssm, &config.secrets_prefix))),
            outbox: Some(Arc::new(SqsOutbox::new(
                desk_messaging::Lazy::with(aws, aws_sdk_sqs::Client::new),
                &config.desk.outbox_queue_url,
            ))),
            events: Some(Arc::new(EventBridgeBus::new(
                desk_messaging::Lazy::with(aws, aws_sdk_eventbridge::Client::new),
                &config.desk.event_bus,
            ))),
        },
    )
}

/// The whole handler: the desk and how callers are authenticated.
pub fn compose(
    config: &Config,
    auth: Authenticator,
    store: DynamoStore,
    aws: &aws_config::SdkConfig,
) -> App {
    App {
        desk: desk(config, store, aws),
        auth,
    }
}

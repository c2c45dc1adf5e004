//! Wiring, once per cold start: configuration from environment variables (set by
//! `template.yaml`, or by `make dev`), the desk over DynamoDB / SQS / EventBridge /
//! SES, and structured logs.

use std::sync::Arc;

use desk_domain::random::OsRandom;
use desk_domain::{Desk, EmailAddress, Settings, SystemClock};
use desk_dynamo::DynamoStore;
use desk_jobs::mailer::Mailer;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {0}: {1}")]
    Invalid(&'static str, String),
}

fn var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn required(name: &'static str) -> Result<String, ConfigError> {
    var(name).ok_or(ConfigError::Missing(name))
}

/// `AUTH_MODE=apigateway` (default; claims from the HTTP API's JWT authorizer, user
/// in `AUTH_USER_CLAIM`, default `sub`) or `AUTH_MODE=dev` (HS256 tokens of the
/// local issuer, secret in `DEV_JWT_SECRET`).
pub fn authenticator() -> Result<desk_api::Authenticator, ConfigError> {
    match var("AUTH_MODE").as_deref().unwrap_or("apigateway") {
        "apigateway" => Ok(desk_api::Authenticator::ApiGateway {
            user_claim: var("AUTH_USER_CLAIM").unwrap_or_else(|| "sub".into()),
        }),
        "dev" => {
            let secret = var("DEV_JWT_SECRET").ok_or(ConfigError::Missing("DEV_JWT_SECRET"))?;
            if secret.len() < 32 {
                return Err(ConfigError::Invalid(
                    "DEV_JWT_SECRET",
                    "must be at least 32 characters".into(),
                ));
            }
            Ok(desk_api::Authenticator::Dev(desk_api::DevIssuer::new(
                secret.into_bytes(),
            )))
        }
        other => Err(ConfigError::Invalid(
            "AUTH_MODE",
            format!("unknown mode {other:?}; use apigateway or dev"),
        )),
    }
}

#[derive(Clone)]
pub struct Config {
    pub table: String,
    pub outbox_queue_url: String,
    pub event_bus: String,
    pub settings: Settings,
    /// Signs the reply tokens in our Reply-To addresses (secret; never logged).
    pub reply_token_key: String,
    /// SSM Parameter Store path under which mailbox passwords are kept.
    pub secrets_prefix: String,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("table", &self.table)
            .field("outbox_queue_url", &self.outbox_queue_url)
            .field("event_bus", &self.event_bus)
            .field("secrets_prefix", &self.secrets_prefix)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// `TABLE_NAME`, `OUTBOX_QUEUE_URL`, `EVENT_BUS_NAME`, `DESK_ADDRESS`,
    /// `JOIN_LINK_BASE`, `CONNECT_LINK_BASE`, `SECRETS_PREFIX` (default
    /// `service-desk/<table>`).
    pub fn from_env() -> Result<Self, ConfigError> {
        let address = required("DESK_ADDRESS")?;
        let desk_address = EmailAddress::parse(&address)
            .map_err(|e| ConfigError::Invalid("DESK_ADDRESS", e.message))?;
        let link = |name: &'static str| -> Result<String, ConfigError> {
            let v = required(name)?;
            if v.starts_with("https://") || v.starts_with("http://") {
                Ok(v)
            } else {
                Err(ConfigError::Invalid(name, "must be an http(s) URL".into()))
            }
        };
        let reply_token_key = required("REPLY_TOKEN_KEY")?;
        if reply_token_key.len() < 32 {
            return Err(ConfigError::Invalid(
                "REPLY_TOKEN_KEY",
                "must be at least 32 characters".into(),
            ));
        }
        let table = required("TABLE_NAME")?;
        let secrets_prefix = secrets_prefix(var("SECRETS_PREFIX"), &table)?;
        Ok(Self {
            reply_token_key,
            secrets_prefix,
            table,
            outbox_queue_url: required("OUTBOX_QUEUE_URL")?,
            event_bus: var("EVENT_BUS_NAME").unwrap_or_else(|| "default".into()),
            settings: Settings {
                desk_address,
                join_link_base: link("JOIN_LINK_BASE")?,
                connect_link_base: link("CONNECT_LINK_BASE")?,
            },
        })
    }
}

/// `SECRETS_PREFIX`, or `service-desk/<table>`: an SSM path (letters, digits, `_.-/`).
pub fn secrets_prefix(value: Option<String>, table: &str) -> Result<String, ConfigError> {
    let prefix = value.unwrap_or_else(|| format!("service-desk/{table}"));
    let prefix = prefix.trim_matches('/').to_string();
    let valid = !prefix.is_empty()
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-/".contains(&b))
        && !prefix.to_ascii_lowercase().starts_with("aws")
        && !prefix.to_ascii_lowercase().starts_with("ssm");
    if valid {
        Ok(prefix)
    } else {
        Err(ConfigError::Invalid(
            "SECRETS_PREFIX",
            "must be an SSM parameter path (letters, digits, _.-/), not starting with aws or ssm"
                .into(),
        ))
    }
}

/// The desk, its mailer and its ingest over the AWS adapters.
pub struct Wired {
    pub desk: Desk,
    pub mailer: Mailer,
    pub inbound: desk_jobs::inbound::Inbound,
    pub store: DynamoStore,
}

pub async fn wire(config: &Config) -> Wired {
    wire_with(config, DynamoStore::from_env(config.table.clone()).await).await
}

/// Like `wire`, over a given store (tests count its calls).
pub async fn wire_with(config: &Config, store: DynamoStore) -> Wired {
    assemble(config, store, &aws_config::load_from_env().await)
}

/// The desk over `store`, with SQS, EventBridge and SES clients from `aws`.
pub fn assemble(config: &Config, store: DynamoStore, aws: &aws_config::SdkConfig) -> Wired {
    let (outbox, events, transport) =
        desk_messaging::clients(aws, &config.outbox_queue_url, &config.event_bus);
    let store_arc = Arc::new(store.clone());
    let clock = Arc::new(SystemClock);
    let token = desk_mail::ReplyToken::new(config.reply_token_key.clone().into_bytes());
    let raw_mail = Arc::new(desk_messaging::S3RawMail::new(aws_sdk_s3::Client::new(aws)));
    let desk = Desk {
        messages: store_arc.clone(),
        raw_mail: raw_mail.clone(),
        reply_address: Arc::new(token.clone()),
        tickets: store_arc.clone(),
        directory: store_arc.clone(),
        cases: store_arc.clone(),
        modules: store_arc.clone(),
        rules: store_arc.clone(),
        mailboxes: store_arc.clone(),
        secrets: Arc::new(desk_messaging::SsmSecrets::new(
            aws_sdk_ssm::Client::new(aws),
            &config.secrets_prefix,
        )),
        limiter: store_arc.clone(),
        outbox: Arc::new(outbox),
        events: Arc::new(events),
        clock: clock.clone(),
        random: Arc::new(OsRandom),
        settings: config.settings.clone(),
    };
    let mailer = Mailer {
        ledger: store_arc.clone(),
        messages: store_arc.clone(),
        transport: Arc::new(transport),
        tickets: store_arc.clone(),
        clock,
        from: config.settings.desk_address.clone(),
    };
    let desk_domain = config
        .settings
        .desk_address
        .as_str()
        .rsplit_once('@')
        .map_or("", |(_, d)| d)
        .to_string();
    let ingest = desk_ingest::Ingest::new(
        desk.clone(),
        token,
        vec![desk_domain],
        vec![config.settings.desk_address.as_str().to_string()],
    );
    let inbound = desk_jobs::inbound::Inbound {
        ingest,
        raw: raw_mail,
    };
    Wired {
        desk,
        mailer,
        inbound,
        store,
    }
}

/// `RUST_LOG`'s filter, except that the IMAP client never logs below `warn`:
/// at trace level async-imap prints every command it sends, LOGIN with its password.
pub fn log_filter(filter: tracing_subscriber::EnvFilter) -> tracing_subscriber::EnvFilter {
    match "async_imap=warn".parse() {
        Ok(quiet) => filter.add_directive(quiet),
        Err(_) => filter,
    }
}

/// JSON logs for Lambda (CloudWatch adds the time), level from `RUST_LOG`.
pub fn init_lambda_logs() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(log_filter(tracing_subscriber::EnvFilter::from_default_env()))
        .with_current_span(true)
        .without_time()
        .init();
}

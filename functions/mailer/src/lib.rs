//! The mailer's composition: the sent-mail ledger and messages in DynamoDB, SES
//! to send, S3 to read the MIME of replies (built when written). No desk, no
//! other client.

use std::sync::Arc;

use desk_domain::{EmailAddress, SystemClock};
use desk_dynamo::DynamoStore;
use desk_jobs::mailer::Mailer;
use desk_messaging::{S3RawMail, SesTransport};
use desk_runtime::{ConfigError, Env};

#[derive(Clone, Debug)]
pub struct Config {
    pub table: String,
    /// From of every mail.
    pub from: EmailAddress,
}

impl Config {
    /// `TABLE_NAME`, `DESK_ADDRESS`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table: env.table()?,
            from: env.desk_address()?,
        })
    }
}

/// The whole handler: outbox records → SES, once per mail id.
pub fn compose(config: &Config, store: DynamoStore, aws: &aws_config::SdkConfig) -> Mailer {
    let store = Arc::new(store);
    Mailer {
        ledger: store.clone(),
        messages: store.clone(),
        tickets: store,
        transport: Arc::new(SesTransport::new(desk_messaging::Lazy::with(
            aws,
            aws_sdk_sesv2::Client::new,
        ))),
        raw_mail: Arc::new(S3RawMail::new(desk_messaging::Lazy::with(
            aws,
            aws_sdk_s3::Client::new,
        ))),
        clock: Arc::new(SystemClock),
        from: config.from.clone(),
    }
}

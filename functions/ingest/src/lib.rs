//! The ingest function's composition: received mail (S3 via the inbound queue)
//! becomes tickets. The desk over DynamoDB, S3 (reading raw mail), the SQS outbox
//! (rule notifications), the EventBridge bus and reply tokens (the key ring read
//! from Secrets Manager at first use, for mail that carries a token or an
//! acknowledgement); no SES or SSM.

use std::sync::Arc;

use desk_domain::mailbox::SecretStore;
use desk_dynamo::DynamoStore;
use desk_jobs::inbound::Inbound;
use desk_messaging::{EventBridgeBus, S3RawMail, SqsOutbox, SsmKeyRing};
use desk_runtime::Adapters;

/// The ingest function reads the desk's common configuration and nothing else.
pub type Config = desk_runtime::DeskConfig;

/// The ingest use case over `store` and the clients built from `aws`, with raw
/// mail in `raw`. The IMAP poller composes it too, adding mailbox `secrets`.
pub fn ingest(
    config: &Config,
    store: DynamoStore,
    aws: &aws_config::SdkConfig,
    raw: Arc<S3RawMail>,
    secrets: Option<Arc<dyn SecretStore>>,
) -> desk_ingest::Ingest {
    let keys = Arc::new(desk_mail::ReplyKeys::new(Arc::new(SsmKeyRing::new(
        desk_messaging::Lazy::with(aws, aws_sdk_ssm::Client::new),
        &config.reply_token_secret,
    ))));
    let adapters = Adapters {
        raw_mail: Some(raw),
        reply_address: Some(keys.clone()),
        outbox: Some(Arc::new(SqsOutbox::new(
            desk_messaging::Lazy::with(aws, aws_sdk_sqs::Client::new),
            &config.outbox_queue_url,
        ))),
        events: Some(Arc::new(EventBridgeBus::new(
            desk_messaging::Lazy::with(aws, aws_sdk_eventbridge::Client::new),
            &config.event_bus,
        ))),
        secrets,
        ..Adapters::default()
    };
    let desk = desk_runtime::desk(store, config.settings.clone(), adapters);
    let address = config.settings.desk_address.as_str().to_string();
    let domain = address.rsplit_once('@').map_or("", |(_, d)| d).to_string();
    desk_ingest::Ingest::new(desk, keys, vec![domain], vec![address])
}

/// The whole handler: SQS records of S3 events → ingest.
pub fn compose(config: &Config, store: DynamoStore, aws: &aws_config::SdkConfig) -> Inbound {
    let raw = Arc::new(S3RawMail::new(desk_messaging::Lazy::with(
        aws,
        aws_sdk_s3::Client::new,
    )));
    Inbound {
        ingest: ingest(config, store, aws, raw.clone(), None),
        raw,
    }
}

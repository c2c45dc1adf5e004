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
/// mail in `raw` and the key ring read with `ssm`. The IMAP poller composes it
/// too, adding mailbox `secrets` (over the same SSM client).
pub fn ingest(
    config: &Config,
    store: DynamoStore,
    aws: &aws_config::SdkConfig,
    raw: Arc<S3RawMail>,
    ssm: desk_messaging::Lazy<aws_sdk_ssm::Client>,
    secrets: Option<Arc<dyn SecretStore>>,
) -> desk_ingest::Ingest {
    let keys = Arc::new(desk_mail::ReplyKeys::new(Arc::new(SsmKeyRing::new(
        ssm,
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
        ingest: ingest(
            config,
            store,
            aws,
            raw.clone(),
            desk_messaging::Lazy::with(aws, aws_sdk_ssm::Client::new),
            None,
        ),
        raw,
    }
}

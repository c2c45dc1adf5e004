//! What every function's `main` shares, and nothing more: configuration read from
//! environment variables (set by `template.yaml`, or by the local stack), the SDK
//! configuration, a desk over DynamoDB with the adapters a function chooses, and
//! structured logs. Each function composes only what its handler uses (see
//! `functions/*/src/lib.rs`); this crate builds no AWS client of its own beyond
//! DynamoDB, which every function uses.

pub mod env;
mod tls_at_first_use;
pub mod unwired;

use std::sync::Arc;

use tracing_subscriber::filter::{LevelFilter, Targets};

use desk_domain::mail::attachments::AttachmentReader;
use desk_domain::mailbox::SecretStore;
use desk_domain::message::RawMailStore;
use desk_domain::outbound::{EventBus, Outbox, ReplyAddress};
use desk_domain::random::OsRandom;
use desk_domain::{Desk, Settings, SystemClock};
use desk_dynamo::DynamoStore;

pub use env::{ConfigError, DeskConfig, Env};
pub use unwired::Unwired;

/// The adapters besides DynamoDB that a function wires into its desk. Those left
/// `None` are [`Unwired`]: a call to one fails with a storage error naming it
/// instead of reaching a client the function never built.
#[derive(Default)]
pub struct Adapters {
    pub raw_mail: Option<Arc<dyn RawMailStore>>,
    pub attachment_reader: Option<Arc<dyn AttachmentReader>>,
    pub reply_address: Option<Arc<dyn ReplyAddress>>,
    pub secrets: Option<Arc<dyn SecretStore>>,
    pub outbox: Option<Arc<dyn Outbox>>,
    pub events: Option<Arc<dyn EventBus>>,
}

/// The desk over `store` (every storage port), the system clock and OS randomness,
/// and the given adapters.
pub fn desk(store: DynamoStore, settings: Settings, adapters: Adapters) -> Desk {
    let store = Arc::new(store);
    let desk_address = settings.desk_address.clone();
    Desk {
        tickets: store.clone(),
        directory: store.clone(),
        cases: store.clone(),
        modules: store.clone(),
        rules: store.clone(),
        text_modules: store.clone(),
        messages: store.clone(),
        mailboxes: store.clone(),
        purge: store.clone(),
        audit: store.clone(),
        limiter: store,
        raw_mail: adapters
            .raw_mail
            .unwrap_or_else(|| Arc::new(Unwired::new("raw mail (S3)"))),
        attachment_reader: adapters
            .attachment_reader
            .unwrap_or_else(|| Arc::new(Unwired::new("attachment reader (mail parsing)"))),
        reply_address: adapters
            .reply_address
            .unwrap_or_else(|| Arc::new(Unwired::reply_address(desk_address))),
        secrets: adapters
            .secrets
            .unwrap_or_else(|| Arc::new(Unwired::new("mailbox secrets (SSM)"))),
        outbox: adapters
            .outbox
            .unwrap_or_else(|| Arc::new(Unwired::new("outbox (SQS)"))),
        events: adapters
            .events
            .unwrap_or_else(|| Arc::new(Unwired::new("event bus (EventBridge)"))),
        clock: Arc::new(SystemClock),
        random: Arc::new(OsRandom),
        settings,
    }
}

/// The SDK configuration of a Lambda function, built once per cold start and
/// shared by every client the function builds: the region and the credentials
/// Lambda puts in the environment (`AWS_REGION`, `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), and `AWS_ENDPOINT_URL` when set
/// (the emulators).
///
/// Not `aws_config::load_from_env`: its default chains (profile files, SSO, STS
/// web identity, ECS and IMDS credentials, IMDS region) read files and build
/// HTTP clients, loading the TLS root certificates, before the first event, and
/// link three more SDK clients into every binary; none of it applies on Lambda.
pub async fn aws() -> aws_config::SdkConfig {
    use aws_config::environment::{
        EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
    };
    use aws_config::meta::region::ProvideRegion;
    let region = EnvironmentVariableRegionProvider::new().region().await;
    let mut config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .http_client(tls_at_first_use::client())
        .region(region)
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                EnvironmentVariableCredentialsProvider::new(),
            ),
        )
        .retry_config(aws_config::retry::RetryConfig::standard())
        .time_source(aws_smithy_async::time::SystemTimeSource::new());
    if let Some(sleep) = aws_smithy_async::rt::sleep::default_async_sleep() {
        config = config.sleep_impl(sleep);
    }
    if let Ok(url) = std::env::var("AWS_ENDPOINT_URL") {
        config = config.endpoint_url(url);
    }
    config.build()
}

/// The table's store over `aws`; `AWS_ENDPOINT_URL_DYNAMODB` (DynamoDB Local)
/// overrides the endpoint, as the SDK's own environment loader would.
pub fn store(aws: &aws_config::SdkConfig, table: &str) -> DynamoStore {
    let mut config = aws_sdk_dynamodb::config::Builder::from(aws);
    if let Ok(url) = std::env::var("AWS_ENDPOINT_URL_DYNAMODB") {
        config = config.endpoint_url(url);
    }
    DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config.build()), table)
}

/// Libraries that print what they carry when their logs are verbose: the IMAP
/// client every command it sends (LOGIN with its password); the HTML sanitiser's
/// parser every piece of text it reads (message bodies); the AWS SDK, its HTTP
/// and TLS stacks and the Lambda runtime request and response bodies (raw mail,
/// queued mail, secret values, events). They never log below `warn`.
const QUIET: &[&str] = &[
    "ammonia",
    "async_imap",
    "aws_config",
    "aws_credential_types",
    "aws_runtime",
    "aws_sigv4",
    "aws_smithy_async",
    "aws_smithy_http",
    "aws_smithy_http_client",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_types",
    "aws_sdk_dynamodb",
    "aws_sdk_dynamodbstreams",
    "aws_sdk_eventbridge",
    "aws_sdk_s3",
    "aws_sdk_secretsmanager",
    "aws_sdk_sesv2",
    "aws_sdk_sqs",
    "aws_sdk_ssm",
    "h2",
    "html5ever",
    "hyper",
    "hyper_util",
    "lambda_http",
    "lambda_runtime",
    "lambda_runtime_api_client",
    "markup5ever",
    "rustls",
    "tower",
];

/// The log filter of `spec` (`RUST_LOG`'s syntax without span and field
/// filters: a default level and `target=level` pairs; `info` if it is empty or
/// does not parse), except that the libraries in `QUIET` never log below `warn`:
/// logs carry no message bodies, attachment names, tokens, keys or passwords at
/// any level (`tests/log_scan.rs`). A `Targets` filter rather than an
/// `EnvFilter`: the latter links a regex DFA builder (`make sizes`).
pub fn log_filter(spec: &str) -> Targets {
    let base = match spec.trim() {
        "" => None,
        spec => spec.parse::<Targets>().ok(),
    }
    .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    QUIET.iter().fold(base, |filter, target| {
        filter.with_target(*target, LevelFilter::WARN)
    })
}

/// [`log_filter`] of the `RUST_LOG` environment variable.
pub fn log_filter_from_env() -> Targets {
    log_filter(&std::env::var("RUST_LOG").unwrap_or_default())
}

/// JSON logs for Lambda (CloudWatch adds the time), level from `RUST_LOG`.
pub fn init_lambda_logs() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    tracing_subscriber::registry()
        .with(log_filter_from_env())
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .without_time(),
        )
        .init();
}

#[cfg(test)]
mod log_filter_tests {
    use super::log_filter;
    use tracing::Level;

    #[test]
    fn quiet_libraries_stay_at_warn_whatever_rust_log_says() {
        let f = log_filter("trace,aws_sdk_s3=trace");
        assert!(f.would_enable("desk_api", &Level::TRACE));
        assert!(!f.would_enable("aws_sdk_s3::operation", &Level::INFO));
        assert!(!f.would_enable("hyper_util", &Level::DEBUG));
        assert!(f.would_enable("hyper_util", &Level::WARN));
    }

    #[test]
    fn an_empty_or_unreadable_rust_log_means_info() {
        for spec in ["", "  ", "desk_api=loud"] {
            let f = log_filter(spec);
            assert!(f.would_enable("desk_api", &Level::INFO), "{spec:?}");
            assert!(!f.would_enable("desk_api", &Level::DEBUG), "{spec:?}");
        }
    }

    #[test]
    fn target_pairs_set_their_own_level() {
        let f = log_filter("warn,desk_jobs=debug");
        assert!(f.would_enable("desk_jobs::mailer", &Level::DEBUG));
        assert!(!f.would_enable("desk_api", &Level::INFO));
    }
}

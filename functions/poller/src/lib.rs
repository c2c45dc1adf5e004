//! The IMAP poller's composition: mail fetched from the configured mailboxes goes
//! through the same ingest as SES mail. The ingest's clients (DynamoDB, S3, SQS,
//! EventBridge) plus SSM to read mailbox passwords; no SES.

use std::sync::Arc;
use std::time::Duration;

use desk_dynamo::DynamoStore;
use desk_imap::{Poller, PollerConfig};
use desk_messaging::{S3RawMail, SsmSecrets};
use desk_runtime::{ConfigError, Env};

#[derive(Clone, Debug)]
pub struct Config {
    pub ingest: ingest::Config,
    pub secrets_prefix: String,
    pub poller: PollerConfig,
}

impl Config {
    /// The ingest's variables, `SECRETS_PREFIX`, `INBOUND_BUCKET`, and the optional
    /// `IMAP_MAX_PER_POLL` (25, at most 500), `IMAP_TIMEOUT_SECONDS` (45, at most
    /// 900), `IMAP_ALLOW_PLAINTEXT` (false).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let ingest = ingest::Config::from_env(env)?;
        let within = |name: &'static str, default: u64, max: u64| -> Result<u64, ConfigError> {
            match env.number(name, default)? {
                n if (1..=max).contains(&n) => Ok(n),
                _ => Err(ConfigError::Invalid(name, format!("must be 1..={max}"))),
            }
        };
        Ok(Self {
            secrets_prefix: env.secrets_prefix(&ingest.table)?,
            poller: PollerConfig {
                bucket: env.required("INBOUND_BUCKET")?,
                max_per_poll: within("IMAP_MAX_PER_POLL", 25, 500)? as usize,
                timeout: Duration::from_secs(within("IMAP_TIMEOUT_SECONDS", 45, 900)?),
                allow_plaintext: env.flag("IMAP_ALLOW_PLAINTEXT", false)?,
            },
            ingest,
        })
    }
}

/// The ingest the poller feeds (its desk reads mailbox passwords from SSM) and
/// where raw mail goes.
pub fn ingest(
    config: &Config,
    store: DynamoStore,
    aws: &aws_config::SdkConfig,
) -> (desk_ingest::Ingest, Arc<S3RawMail>) {
    let raw = Arc::new(S3RawMail::new(desk_messaging::Lazy::with(
        aws,
        aws_sdk_s3::Client::new,
    )));
    // One SSM client, built at first use, for mailbox passwords and the key ring.
    let ssm = desk_messaging::Lazy::with(aws, aws_sdk_ssm::Client::new);
    let secrets = Arc::new(SsmSecrets::new(ssm.clone(), &config.secrets_prefix));
    (
        ingest::ingest(&config.ingest, store, aws, raw.clone(), ssm, Some(secrets)),
        raw,
    )
}

/// The whole handler: every enabled mailbox polled into ingest.
pub fn compose(
    config: &Config,
    store: DynamoStore,
    aws: &aws_config::SdkConfig,
) -> Result<Poller, desk_imap::ConfigError> {
    let (ingest, raw) = ingest(config, store, aws);
    Poller::new(ingest.desk.clone(), ingest, raw, config.poller.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INGEST: &[(&str, &str)] = &[
        ("TABLE_NAME", "desk"),
        ("DESK_ADDRESS", "support@desk.example"),
        ("JOIN_LINK_BASE", "https://qs.example/join"),
        ("CONNECT_LINK_BASE", "https://qs.example/connect"),
        ("OUTBOX_QUEUE_URL", "https://sqs.example/outbox"),
        ("EVENT_BUS_NAME", "desk"),
        ("REPLY_TOKEN_SECRET", "desk-reply-token"),
    ];

    fn vars(extra: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
        INGEST
            .iter()
            .chain(extra)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn env(extra: &[(&str, &str)]) -> Env {
        Env::from_map(vars(&[&[("INBOUND_BUCKET", "inbound")], extra].concat()))
    }

    #[test]
    fn defaults_apply_and_limits_are_enforced() {
        let c = Config::from_env(&env(&[])).expect("config");
        assert_eq!(c.poller.max_per_poll, 25);
        assert_eq!(c.poller.timeout, Duration::from_secs(45));
        assert!(!c.poller.allow_plaintext);
        assert_eq!(c.secrets_prefix, "service-desk/desk");
        assert!(matches!(
            Config::from_env(&env(&[("IMAP_MAX_PER_POLL", "501")])),
            Err(ConfigError::Invalid("IMAP_MAX_PER_POLL", _))
        ));
        assert!(matches!(
            Config::from_env(&env(&[("IMAP_ALLOW_PLAINTEXT", "maybe")])),
            Err(ConfigError::Invalid("IMAP_ALLOW_PLAINTEXT", _))
        ));
    }

    #[test]
    fn the_bucket_is_required() {
        assert_eq!(
            Config::from_env(&Env::from_map(vars(&[]))).err(),
            Some(ConfigError::Missing("INBOUND_BUCKET"))
        );
    }
}

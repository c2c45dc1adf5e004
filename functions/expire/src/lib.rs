//! The scheduled function's composition: service cases in DynamoDB, status events
//! on EventBridge, and S3 for the purges (erasure, retention) to delete raw mail.
//! No mail, no SSM.

use std::sync::Arc;

use desk_domain::{Desk, Settings};
use desk_dynamo::DynamoStore;
use desk_messaging::EventBridgeBus;
use desk_runtime::{Adapters, ConfigError, Env};

#[derive(Clone, Debug)]
pub struct Config {
    pub table: String,
    pub settings: Settings,
    pub event_bus: String,
}

impl Config {
    /// `TABLE_NAME`, `DESK_ADDRESS`, `JOIN_LINK_BASE`, `CONNECT_LINK_BASE`, `EVENT_BUS_NAME`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table: env.table()?,
            settings: env.settings()?,
            event_bus: env.required("EVENT_BUS_NAME")?,
        })
    }
}

/// The desk a scheduled run needs: cases, the event bus, raw mail (deletes only).
pub fn compose(config: &Config, store: DynamoStore, aws: &aws_config::SdkConfig) -> Desk {
    desk_runtime::desk(
        store,
        config.settings.clone(),
        Adapters {
            raw_mail: Some(Arc::new(desk_messaging::S3RawMail::new(
                desk_messaging::Lazy::with(aws, aws_sdk_s3::Client::new),
            ))),
            events: Some(Arc::new(EventBridgeBus::new(
                desk_messaging::Lazy::with(aws, aws_sdk_eventbridge::Client::new),
                &config.event_bus,
            ))),
            ..Adapters::default()
        },
    )
}

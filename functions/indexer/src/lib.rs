//! The indexer function's composition: the table (index and counts) and the
//! event bus (ticket events). No mail, no S3, no SSM.

use std::sync::Arc;

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use desk_dynamo::DynamoStore;
use desk_jobs::indexer::{Incoming, Indexer};
use desk_messaging::EventBridgeBus;
use desk_runtime::{ConfigError, Env};

#[derive(Clone, Debug)]
pub struct Config {
    pub table: String,
    pub event_bus: String,
}

impl Config {
    /// `TABLE_NAME`, `EVENT_BUS_NAME`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table: env.table()?,
            event_bus: env.required("EVENT_BUS_NAME")?,
        })
    }
}

pub fn compose(config: &Config, store: DynamoStore, aws: &aws_config::SdkConfig) -> Indexer {
    Indexer {
        index: Arc::new(store),
        events: Arc::new(EventBridgeBus::new(
            desk_messaging::Lazy::with(aws, aws_sdk_eventbridge::Client::new),
            &config.event_bus,
        )),
    }
}

/// One batch of stream records, as the event source mapping delivers it; a
/// failure names the record to resume from (`ReportBatchItemFailures`).
pub async fn handle(indexer: &Indexer, event: Event) -> DynamoDbEventResponse {
    let batch = event
        .records
        .iter()
        .map(|r| Incoming {
            sequence: r.change.sequence_number.clone().unwrap_or_default(),
            partition: desk_dynamo::stream::partition(r).to_string(),
            change: desk_dynamo::stream::decode(r),
        })
        .collect();
    let mut response = DynamoDbEventResponse::default();
    if let Some(sequence) = indexer.run(batch).await {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some(sequence);
        response.batch_item_failures.push(failure);
    }
    response
}

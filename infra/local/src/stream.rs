//! The table's stream, played locally as Lambda's DynamoDB event source mapping
//! plays it in the cloud: each shard read in order from its start (TRIM_HORIZON),
//! batches of records handed to the indexer function's own handler as the same
//! DynamoDB event, a reported failure retried from the failed record, and a
//! record that keeps failing set aside after the template's retry count so its
//! shard goes on (the cloud sends its position to the failure queue).

use std::collections::BTreeMap;

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use desk_jobs::indexer::Indexer;

/// As the template's event source mapping: `BatchSize` and `MaximumRetryAttempts`.
pub const BATCH_SIZE: i32 = 100;
pub const MAX_RETRIES: u32 = 5;

struct Shard {
    iterator: Option<String>,
    /// The record that failed last and how often in a row.
    failing: Option<(String, u32)>,
}

/// A record given up on: where it is, so it can be looked at and re-applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    pub shard: String,
    pub sequence: String,
}

pub struct StreamSource {
    client: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
    shards: BTreeMap<String, Shard>,
    pub set_aside: Vec<SetAside>,
}

fn err(op: &str) -> impl Fn(String) -> String + '_ {
    move |e| format!("{op}: {e}")
}

impl StreamSource {
    /// The stream of `table` (created from template.yaml, so it has one), read
    /// from DynamoDB Local at `endpoint`.
    pub async fn open(
        aws: &aws_config::SdkConfig,
        endpoint: &str,
        table: &str,
    ) -> Result<Self, String> {
        let dynamo = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(aws)
                .endpoint_url(endpoint)
                .build(),
        );
        let described = dynamo
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| format!("DescribeTable {table}: {e}"))?;
        let stream_arn = described
            .table()
            .and_then(|t| t.latest_stream_arn())
            .ok_or_else(|| {
                format!("table {table} has no stream (template.yaml StreamSpecification)")
            })?
            .to_string();
        let client = aws_sdk_dynamodbstreams::Client::from_conf(
            aws_sdk_dynamodbstreams::config::Builder::from(aws)
                .endpoint_url(endpoint)
                .build(),
        );
        Ok(Self {
            client,
            stream_arn,
            shards: BTreeMap::new(),
            set_aside: Vec::new(),
        })
    }

    async fn iterator(
        &self,
        shard: &str,
        kind: ShardIteratorType,
        sequence: Option<&str>,
    ) -> Result<Option<String>, String> {
        let out = self
            .client
            .get_shard_iterator()
            .stream_arn(&self.stream_arn)
            .shard_id(shard)
            .shard_iterator_type(kind)
            .set_sequence_number(sequence.map(str::to_string))
            .send()
            .await
            .map_err(|e| err("GetShardIterator")(e.to_string()))?;
        Ok(out.shard_iterator)
    }

    /// Shards that appeared since the last look start at their beginning.
    async fn discover(&mut self) -> Result<(), String> {
        let mut start: Option<String> = None;
        loop {
            let out = self
                .client
                .describe_stream()
                .stream_arn(&self.stream_arn)
                .set_exclusive_start_shard_id(start.take())
                .send()
                .await
                .map_err(|e| err("DescribeStream")(e.to_string()))?;
            let Some(desc) = out.stream_description else {
                return Ok(());
            };
            for s in desc.shards() {
                let Some(id) = s.shard_id() else { continue };
                if !self.shards.contains_key(id) {
                    let iterator = self
                        .iterator(id, ShardIteratorType::TrimHorizon, None)
                        .await?;
                    self.shards.insert(
                        id.to_string(),
                        Shard {
                            iterator,
                            failing: None,
                        },
                    );
                }
            }
            match desc.last_evaluated_shard_id {
                Some(last) => start = Some(last),
                None => return Ok(()),
            }
        }
    }

    /// One round over every shard: at most one batch each, handed to the
    /// indexer. Returns how many records were applied.
    pub async fn poll(&mut self, indexer: &Indexer) -> Result<usize, String> {
        self.discover().await?;
        let ids: Vec<String> = self.shards.keys().cloned().collect();
        let mut applied = 0;
        for id in ids {
            let Some(iterator) = self.shards[&id].iterator.clone() else {
                continue; // closed and read to its end
            };
            let out = self
                .client
                .get_records()
                .shard_iterator(iterator)
                .limit(BATCH_SIZE)
                .send()
                .await
                .map_err(|e| err("GetRecords")(e.to_string()))?;
            let records: Vec<EventRecord> = out
                .records()
                .iter()
                .map(|r| lambda_record(r, &self.stream_arn))
                .collect();
            let next = out.next_shard_iterator;
            if records.is_empty() {
                if let Some(s) = self.shards.get_mut(&id) {
                    s.iterator = next;
                }
                continue;
            }
            let count = records.len();
            let mut event = Event::default();
            event.records = records;
            let response = indexer::handle(indexer, event).await;
            let failed = response
                .batch_item_failures
                .iter()
                .find_map(|f| f.item_identifier.clone());
            match failed {
                None => {
                    applied += count;
                    let shard = self.shards.get_mut(&id).expect("shard listed");
                    shard.iterator = next;
                    shard.failing = None;
                }
                Some(sequence) => {
                    let shard = self.shards.get_mut(&id).expect("shard listed");
                    let attempts = match &shard.failing {
                        Some((s, n)) if *s == sequence => n + 1,
                        _ => 1,
                    };
                    shard.failing = Some((sequence.clone(), attempts));
                    let (kind, note) = if attempts > MAX_RETRIES {
                        tracing::error!(shard = %id, %sequence, "stream record set aside after {MAX_RETRIES} retries");
                        self.set_aside.push(SetAside {
                            shard: id.clone(),
                            sequence: sequence.clone(),
                        });
                        (ShardIteratorType::AfterSequenceNumber, None)
                    } else {
                        (ShardIteratorType::AtSequenceNumber, Some(attempts))
                    };
                    let iterator = self.iterator(&id, kind, Some(&sequence)).await?;
                    let shard = self.shards.get_mut(&id).expect("shard listed");
                    shard.iterator = iterator;
                    if note.is_none() {
                        shard.failing = None;
                    }
                }
            }
        }
        Ok(applied)
    }

    /// Polls until a round finds nothing new: what was written before the call
    /// is then indexed, counted and announced.
    pub async fn drain(&mut self, indexer: &Indexer) -> Result<usize, String> {
        let mut total = 0;
        let mut quiet = 0;
        // DynamoDB Local can hand out an empty page before the records behind it.
        while quiet < 2 {
            let n = self.poll(indexer).await?;
            total += n;
            quiet = if n == 0 && self.shards.values().all(|s| s.failing.is_none()) {
                quiet + 1
            } else {
                0
            };
        }
        Ok(total)
    }
}

/// A stream record as Lambda's event source mapping hands it to a function.
fn lambda_record(r: &aws_sdk_dynamodbstreams::types::Record, stream_arn: &str) -> EventRecord {
    let mut out = EventRecord::default();
    out.aws_region = "us-east-1".into();
    out.event_id = r.event_id().unwrap_or_default().to_string();
    out.event_name = r
        .event_name()
        .map(|n| n.as_str().to_string())
        .unwrap_or_default();
    out.event_source = Some("aws:dynamodb".into());
    out.event_version = r.event_version().map(str::to_string);
    out.event_source_arn = Some(stream_arn.to_string());
    if let Some(d) = r.dynamodb() {
        out.change.keys = serde_dynamo::Item::from(d.keys().cloned().unwrap_or_default());
        out.change.new_image = serde_dynamo::Item::from(d.new_image().cloned().unwrap_or_default());
        out.change.old_image = serde_dynamo::Item::from(d.old_image().cloned().unwrap_or_default());
        out.change.sequence_number = d.sequence_number().map(str::to_string);
        out.change.size_bytes = d.size_bytes().unwrap_or_default();
        if let Some(t) = d.approximate_creation_date_time() {
            if let Some(t) = chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos()) {
                out.change.approximate_creation_date_time = t;
            }
        }
    }
    out
}

/// Plays the stream every `every` for `desk-local serve`, as the event source would.
pub fn spawn(
    mut source: StreamSource,
    indexer: std::sync::Arc<Indexer>,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = source.poll(&indexer).await {
                tracing::warn!(error = %e, "stream poll failed; retrying");
            }
            tokio::time::sleep(every).await;
        }
    })
}

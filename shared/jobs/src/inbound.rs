//! The ingest function's handler: SQS records carrying S3 event notifications
//! (SES stored a raw message) → fetch the raw → ingest. A record that fails is
//! reported back alone (partial batch failure); after the queue's retries it
//! lands in the dead-letter queue, its raw message still in S3.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use desk_domain::message::RawMailStore;
use desk_domain::{DeskError, Source};
use desk_ingest::{Delivery, Ingest, Outcome};
use serde_json::Value;

pub struct Inbound {
    pub ingest: Ingest,
    pub raw: Arc<dyn RawMailStore>,
}

/// One stored object named by an S3 event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub bucket: String,
    pub key: String,
}

/// The objects an S3 event notification names (keys are URL-encoded in events).
/// S3's test event names none.
pub fn objects(body: &str) -> Result<Vec<StoredObject>, String> {
    let v: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    if v.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(vec![]);
    }
    let records = v
        .get("Records")
        .and_then(Value::as_array)
        .ok_or("no Records")?;
    records
        .iter()
        .map(|r| {
            let bucket = r
                .pointer("/s3/bucket/name")
                .and_then(Value::as_str)
                .ok_or("no bucket")?;
            let key = r
                .pointer("/s3/object/key")
                .and_then(Value::as_str)
                .ok_or("no key")?;
            let key = key.replace('+', " ");
            let key = percent_decode(&key);
            Ok(StoredObject {
                bucket: bucket.to_string(),
                key,
            })
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Inbound {
    async fn one(&self, body: &str) -> Result<Vec<Outcome>, String> {
        let mut outcomes = Vec::new();
        for o in objects(body)? {
            let location = format!("s3://{}/{}", o.bucket, o.key);
            let raw = self.raw.raw(&location).await.map_err(|e| e.to_string())?;
            // SES names the object by its message id: the delivery's identity.
            let delivery = Delivery {
                id: o.key.rsplit('/').next().unwrap_or(&o.key).to_string(),
                raw_key: location,
                envelope: vec![],
                source: Source::Email,
            };
            let outcome = self
                .ingest
                .ingest(&delivery, &raw)
                .await
                .map_err(|e: DeskError| e.to_string())?;
            tracing::info!(delivery = %delivery.id, outcome = ?outcome, "ingested");
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        for record in event.records {
            let id = record.message_id.clone().unwrap_or_default();
            if let Err(why) = self.one(record.body.as_deref().unwrap_or("")).await {
                tracing::warn!(sqs_id = %id, reason = %why, "ingest failed; will be retried");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_s3_events_and_the_test_event() {
        let body =
            r#"{"Records":[{"s3":{"bucket":{"name":"in"},"object":{"key":"inbound/a%2Bb+c"}}}]}"#;
        assert_eq!(
            objects(body).unwrap(),
            [StoredObject {
                bucket: "in".into(),
                key: "inbound/a+b c".into()
            }]
        );
        assert!(objects(r#"{"Event":"s3:TestEvent"}"#).unwrap().is_empty());
        assert!(objects("garbage").is_err());
        assert!(objects(r#"{"Records":[{}]}"#).is_err());
    }
}

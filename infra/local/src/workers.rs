//! What Lambda's event sources do in the cloud, done locally: poll the outbox
//! queue into the mailer (deleting what it handled, as the SQS event source
//! does), and run the expiry on a timer (as the EventBridge schedule does).

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use desk_domain::Desk;
use desk_jobs::inbound::Inbound;
use desk_jobs::mailer::Mailer;

/// What an SQS event source feeds: a batch in, the failed records out.
#[async_trait::async_trait]
pub trait BatchHandler: Send + Sync {
    async fn handle_batch(&self, event: SqsEvent) -> SqsBatchResponse;
}

#[async_trait::async_trait]
impl BatchHandler for Mailer {
    async fn handle_batch(&self, event: SqsEvent) -> SqsBatchResponse {
        self.handle(event).await
    }
}

#[async_trait::async_trait]
impl BatchHandler for Inbound {
    async fn handle_batch(&self, event: SqsEvent) -> SqsBatchResponse {
        self.handle(event).await
    }
}

/// Failed records become visible again after this long (the queue's redrive
/// policy moves them to the dead-letter queue after their last try).
const RETRY_AFTER_SECONDS: i32 = 1;

/// Receives one batch (waiting up to `wait` seconds), hands it to `handler` and
/// deletes the records it did not report as failed — as Lambda's SQS event
/// An SQS call's error as a message naming the operation.
fn sqs_error<E: std::error::Error + Send + Sync + 'static>(
    op: &'static str,
) -> impl FnOnce(E) -> String {
    move |e| format!("{op}: {}", aws_sdk_sqs::error::DisplayErrorContext(&e))
}

/// source does. Returns how many were received.
pub async fn drain_once(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    handler: &dyn BatchHandler,
    wait: i32,
) -> Result<usize, String> {
    let out = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(wait)
        .visibility_timeout(RETRY_AFTER_SECONDS)
        .send()
        .await
        .map_err(sqs_error("ReceiveMessage"))?;
    let messages = out.messages.unwrap_or_default();
    if messages.is_empty() {
        return Ok(0);
    }
    let mut event = SqsEvent::default();
    for m in &messages {
        let mut record = SqsMessage::default();
        record.message_id = m.message_id.clone();
        record.receipt_handle = m.receipt_handle.clone();
        record.body = m.body.clone();
        event.records.push(record);
    }
    let response = handler.handle_batch(event).await;
    for m in &messages {
        let failed = response
            .batch_item_failures
            .iter()
            .any(|f| Some(&f.item_identifier) == m.message_id.as_ref());
        if let (false, Some(handle)) = (failed, &m.receipt_handle) {
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(handle)
                .send()
                .await
                .map_err(sqs_error("DeleteMessage"))?;
        }
    }
    Ok(messages.len())
}

/// Polls `queue_url` into `handler` until the process ends.
pub fn spawn_queue<H: BatchHandler + 'static>(
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    handler: H,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = drain_once(&sqs, &queue_url, &handler, 1).await {
                tracing::warn!(error = %e, queue = %queue_url, "queue poll failed");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    })
}

/// Moves every message of a dead-letter queue back to its source queue (the
/// local stand-in for `aws sqs start-message-move-task`). Returns how many.
pub async fn replay(
    sqs: &aws_sdk_sqs::Client,
    dlq_url: &str,
    source_url: &str,
) -> Result<usize, String> {
    let mut moved = 0;
    loop {
        let out = sqs
            .receive_message()
            .queue_url(dlq_url)
            .max_number_of_messages(10)
            .send()
            .await
            .map_err(sqs_error("ReceiveMessage"))?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(moved);
        }
        for m in messages {
            sqs.send_message()
                .queue_url(source_url)
                .message_body(m.body.unwrap_or_default())
                .send()
                .await
                .map_err(sqs_error("SendMessage"))?;
            if let Some(h) = m.receipt_handle {
                sqs.delete_message()
                    .queue_url(dlq_url)
                    .receipt_handle(h)
                    .send()
                    .await
                    .map_err(sqs_error("DeleteMessage"))?;
            }
            moved += 1;
        }
    }
}

pub fn spawn_expiry(desk: Desk, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = desk_jobs::expire::run(&desk).await {
                tracing::warn!(error = %e, "expiry run failed");
            }
        }
    })
}

/// Polls the enabled IMAP mailboxes every `every` (as the poller's schedule does
/// in the cloud). Without mailboxes a run is one Query.
pub fn spawn_imap_poll(poller: desk_imap::Poller, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = poller.poll_all().await {
                tracing::warn!(error = %e, "IMAP poll failed");
            }
        }
    })
}

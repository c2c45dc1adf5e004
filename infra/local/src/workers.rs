//! What Lambda's event sources do in the cloud, done locally: poll the outbox
//! queue into the mailer (deleting what it handled, as the SQS event source
//! does), and run the expiry on a timer (as the EventBridge schedule does).

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use desk_domain::Desk;
use desk_jobs::mailer::Mailer;

/// Receives one batch (waiting up to `wait` seconds), hands it to the mailer and
/// deletes the records it did not report as failed. Returns how many were handled.
pub async fn drain_outbox_once(sqs: &aws_sdk_sqs::Client, queue_url: &str, mailer: &Mailer, wait: i32) -> Result<usize, String> {
    let out = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(wait)
        .send()
        .await
        .map_err(|e| format!("ReceiveMessage: {}", aws_sdk_sqs::error::DisplayErrorContext(&e)))?;
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
    let response = mailer.handle(event).await;
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
                .map_err(|e| format!("DeleteMessage: {}", aws_sdk_sqs::error::DisplayErrorContext(&e)))?;
        }
    }
    Ok(messages.len())
}

pub fn spawn_outbox(sqs: aws_sdk_sqs::Client, queue_url: String, mailer: Mailer) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = drain_outbox_once(&sqs, &queue_url, &mailer, 1).await {
                tracing::warn!(error = %e, "outbox poll failed");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    })
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

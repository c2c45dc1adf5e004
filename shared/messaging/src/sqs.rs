//! The SQS outbox: mail waits there until the mailer sends it.

use async_trait::async_trait;
use desk_domain::outbound::{Outbox, OutgoingMail};
use desk_domain::{DeskError, DeskResult};

use crate::failed;

/// Mail queued on SQS; the `mailer` function consumes the queue.
#[derive(Clone)]
pub struct SqsOutbox {
    client: crate::Lazy<aws_sdk_sqs::Client>,
    queue_url: String,
}

impl SqsOutbox {
    pub fn new(
        client: impl Into<crate::Lazy<aws_sdk_sqs::Client>>,
        queue_url: impl Into<String>,
    ) -> Self {
        Self {
            client: client.into(),
            queue_url: queue_url.into(),
        }
    }
}

#[async_trait]
impl Outbox for SqsOutbox {
    async fn enqueue(&self, mail: &OutgoingMail) -> DeskResult<()> {
        let body = serde_json::to_string(mail)
            .map_err(|e| DeskError::Storage(format!("encode mail: {e}")))?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .map_err(failed("SQS SendMessage"))?;
        Ok(())
    }
}

//! Outbound adapters: the SQS outbox (mail waits there until the mailer sends it),
//! the EventBridge bus for domain events, and SES v2 for sending raw MIME; raw
//! inbound mail in S3 and mailbox passwords in SSM Parameter Store.

mod secrets;
pub use secrets::SsmSecrets;

use async_trait::async_trait;
use desk_domain::outbound::{DeskEvent, EventBus, MailTransport, Outbox, OutgoingMail};
use desk_domain::{DeskError, DeskResult, EmailAddress};

pub(crate) fn failed<E: std::error::Error + Send + Sync + 'static>(
    op: &'static str,
) -> impl FnOnce(E) -> DeskError {
    move |e| {
        let msg = format!("{op}: {}", aws_sdk_sqs::error::DisplayErrorContext(&e));
        tracing::error!(operation = op, error = %msg, "AWS call failed");
        DeskError::Storage(msg)
    }
}

/// Mail queued on SQS; the `mailer` function consumes the queue.
#[derive(Clone)]
pub struct SqsOutbox {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsOutbox {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
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

/// Domain events on an EventBridge bus, source `service-desk`.
#[derive(Clone)]
pub struct EventBridgeBus {
    client: aws_sdk_eventbridge::Client,
    bus_name: String,
}

pub const EVENT_SOURCE: &str = "service-desk";

impl EventBridgeBus {
    pub fn new(client: aws_sdk_eventbridge::Client, bus_name: impl Into<String>) -> Self {
        Self {
            client,
            bus_name: bus_name.into(),
        }
    }
}

#[async_trait]
impl EventBus for EventBridgeBus {
    async fn publish(&self, events: &[DeskEvent]) -> DeskResult<()> {
        // PutEvents takes at most 10 entries per call.
        for chunk in events.chunks(10) {
            let mut req = self.client.put_events();
            for e in chunk {
                req = req.entries(
                    aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus_name)
                        .source(EVENT_SOURCE)
                        .detail_type(&e.detail_type)
                        .detail(e.detail.to_string())
                        .build(),
                );
            }
            let out = req.send().await.map_err(failed("EventBridge PutEvents"))?;
            if out.failed_entry_count() > 0 {
                return Err(DeskError::Storage(format!(
                    "EventBridge refused {} event(s)",
                    out.failed_entry_count()
                )));
            }
        }
        Ok(())
    }
}

/// Builds the raw MIME of `mail` from the desk's address, with the Message-ID the
/// desk gave it and, for replies, Reply-To and the thread headers.
pub fn mime(from: &EmailAddress, mail: &OutgoingMail) -> DeskResult<Vec<u8>> {
    use mail_builder::headers::raw::Raw;
    let mut builder = mail_builder::MessageBuilder::new()
        .from(from.as_str())
        .to(mail.to.iter().map(|a| a.as_str()).collect::<Vec<_>>())
        .subject(mail.subject.as_str())
        .message_id(mail.rfc_message_id(from))
        .text_body(mail.text.as_str());
    if !mail.cc.is_empty() {
        builder = builder.cc(mail.cc.iter().map(|a| a.as_str()).collect::<Vec<_>>());
    }
    if let Some(reply_to) = &mail.reply_to {
        builder = builder.reply_to(reply_to.as_str());
    }
    if let Some(parent) = &mail.in_reply_to {
        builder = builder.in_reply_to(parent.as_str());
    }
    if !mail.references.is_empty() {
        builder = builder.references(
            mail.references
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
    }
    if let Some(auto) = &mail.auto_submitted {
        builder = builder.header("Auto-Submitted", Raw::new(auto.as_str()));
        // Ask other robots not to answer (Microsoft's header).
        builder = builder.header("X-Auto-Response-Suppress", Raw::new("All"));
    }
    builder
        .write_to_vec()
        .map_err(|e| DeskError::Storage(format!("build mail: {e}")))
}

/// Sends raw MIME through SES v2.
#[derive(Clone)]
pub struct SesTransport {
    client: aws_sdk_sesv2::Client,
}

impl SesTransport {
    pub fn new(client: aws_sdk_sesv2::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl MailTransport for SesTransport {
    async fn send(&self, from: &EmailAddress, mail: &OutgoingMail) -> DeskResult<String> {
        let raw = mime(from, mail)?;
        let content = aws_sdk_sesv2::types::EmailContent::builder()
            .raw(
                aws_sdk_sesv2::types::RawMessage::builder()
                    .data(aws_sdk_sesv2::primitives::Blob::new(raw))
                    .build()
                    .map_err(|e| DeskError::Storage(e.to_string()))?,
            )
            .build();
        let out = self
            .client
            .send_email()
            .from_email_address(from.as_str())
            .destination(
                aws_sdk_sesv2::types::Destination::builder()
                    .set_to_addresses(Some(
                        mail.to.iter().map(|a| a.as_str().to_string()).collect(),
                    ))
                    .set_cc_addresses(
                        (!mail.cc.is_empty())
                            .then(|| mail.cc.iter().map(|a| a.as_str().to_string()).collect()),
                    )
                    .build(),
            )
            .content(content)
            .send()
            .await
            .map_err(failed("SES SendEmail"))?;
        Ok(out.message_id().unwrap_or_default().to_string())
    }
}

/// All three adapters over one SDK configuration (`AWS_ENDPOINT_URL` points it at moto).
pub fn clients(
    config: &aws_config::SdkConfig,
    queue_url: &str,
    bus_name: &str,
) -> (SqsOutbox, EventBridgeBus, SesTransport) {
    (
        SqsOutbox::new(aws_sdk_sqs::Client::new(config), queue_url),
        EventBridgeBus::new(aws_sdk_eventbridge::Client::new(config), bus_name),
        SesTransport::new(aws_sdk_sesv2::Client::new(config)),
    )
}

mod raw_mail;
pub use raw_mail::S3RawMail;

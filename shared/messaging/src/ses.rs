//! Sending: raw MIME (mail-builder) through SES v2.

use async_trait::async_trait;
use desk_domain::outbound::{MailTransport, OutgoingMail};
use desk_domain::{DeskError, DeskResult, EmailAddress};

use crate::failed;

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
    if let Some(html) = &mail.html {
        builder = builder.html_body(html.as_str());
    }
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
    client: crate::Lazy<aws_sdk_sesv2::Client>,
}

impl SesTransport {
    pub fn new(client: impl Into<crate::Lazy<aws_sdk_sesv2::Client>>) -> Self {
        Self {
            client: client.into(),
        }
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

//! Sending: raw MIME (built by `desk_domain::mail::mime`) through SES v2.

use async_trait::async_trait;
use desk_domain::outbound::{MailTransport, OutgoingMail};
use desk_domain::{DeskError, DeskResult, EmailAddress};

use crate::failed;

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
    async fn send(
        &self,
        from: &EmailAddress,
        mail: &OutgoingMail,
        raw: Vec<u8>,
    ) -> DeskResult<String> {
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

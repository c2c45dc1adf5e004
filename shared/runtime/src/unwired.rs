//! Stand-ins for the adapters a function does not wire. The domain's `Desk` holds
//! every port; a function whose handler never sends mail, say, should not build an
//! SQS client for it. A call that reaches a stand-in is a wiring bug: it fails
//! loudly (a storage error naming the port, logged) instead of reaching AWS.

use async_trait::async_trait;
use desk_domain::mail::attachments::AttachmentReader;
use desk_domain::mail::mime::MailFile;
use desk_domain::mailbox::{Secret, SecretStore};
use desk_domain::message::{RawMailStore, SignedPut, StoredObject};
use desk_domain::outbound::{DeskEvent, EventBus, Outbox, OutgoingMail, ReplyAddress};
use desk_domain::{DeskError, DeskResult, EmailAddress, TicketNumber};

pub struct Unwired {
    port: &'static str,
    desk_address: Option<EmailAddress>,
}

impl Unwired {
    pub fn new(port: &'static str) -> Self {
        Self {
            port,
            desk_address: None,
        }
    }

    /// The reply address of a function that sends no mail: the desk's own address,
    /// untokened (replies to it would still thread by their headers).
    pub fn reply_address(desk_address: EmailAddress) -> Self {
        Self {
            port: "reply tokens",
            desk_address: Some(desk_address),
        }
    }

    fn fail<T>(&self) -> DeskResult<T> {
        tracing::error!(
            port = self.port,
            "a port this function does not wire was called"
        );
        Err(DeskError::Storage(format!(
            "{} is not wired in this function",
            self.port
        )))
    }
}

#[async_trait]
impl RawMailStore for Unwired {
    async fn raw(&self, _location: &str) -> DeskResult<Vec<u8>> {
        self.fail()
    }
    async fn put(&self, _location: &str, _bytes: Vec<u8>, _content_type: &str) -> DeskResult<()> {
        self.fail()
    }
    async fn link(
        &self,
        _location: &str,
        _filename: &str,
        _content_type: &str,
    ) -> DeskResult<String> {
        self.fail()
    }
    async fn purge(&self, _location: &str, _prefix: bool) -> DeskResult<u64> {
        self.fail()
    }
    async fn upload_link(
        &self,
        _location: &str,
        _content_type: &str,
        _size: u64,
        _valid_for: std::time::Duration,
    ) -> DeskResult<SignedPut> {
        self.fail()
    }
    async fn find(&self, _location: &str) -> DeskResult<Option<StoredObject>> {
        self.fail()
    }
}

impl AttachmentReader for Unwired {
    fn attachment(&self, _raw: &[u8], _index: usize) -> DeskResult<Option<MailFile>> {
        self.fail()
    }
}

#[async_trait]
impl SecretStore for Unwired {
    async fn put_secret(&self, _name: &str, _value: &Secret) -> DeskResult<()> {
        self.fail()
    }
    async fn get_secret(&self, _name: &str) -> DeskResult<Option<Secret>> {
        self.fail()
    }
    async fn delete_secret(&self, _name: &str) -> DeskResult<()> {
        self.fail()
    }
}

#[async_trait]
impl Outbox for Unwired {
    async fn enqueue(&self, _mail: &OutgoingMail) -> DeskResult<()> {
        self.fail()
    }
}

#[async_trait]
impl EventBus for Unwired {
    async fn publish(&self, _events: &[DeskEvent]) -> DeskResult<()> {
        self.fail()
    }
}

#[async_trait]
impl ReplyAddress for Unwired {
    async fn reply_to(
        &self,
        desk: &EmailAddress,
        _number: TicketNumber,
        _now: chrono::DateTime<chrono::Utc>,
    ) -> DeskResult<String> {
        tracing::error!(
            port = self.port,
            "a port this function does not wire was called"
        );
        Ok(self
            .desk_address
            .as_ref()
            .unwrap_or(desk)
            .as_str()
            .to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unwired_port_fails_naming_itself() {
        let outbox = Unwired::new("outbox (SQS)");
        let mail: OutgoingMail = serde_json::from_value(serde_json::json!({
            "id": "m1", "to": ["a@example.org"], "subject": "s", "text": "t",
            "auto_submitted": null, "ticket": null, "purpose": "test"
        }))
        .expect("a minimal mail");
        match outbox.enqueue(&mail).await {
            Err(DeskError::Storage(m)) => assert!(m.contains("outbox (SQS)"), "{m}"),
            other => panic!("expected a storage error, got {other:?}"),
        }
        assert!(matches!(
            Unwired::new("raw mail (S3)").raw("s3://b/k").await,
            Err(DeskError::Storage(_))
        ));
    }
}

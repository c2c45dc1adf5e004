//! AWS adapters besides DynamoDB, one module (and one cargo feature) per service,
//! so that each function links only the SDK clients it uses:
//! `sqs` the outbox (mail waits there until the mailer sends it), `eventbridge` the
//! bus for domain events, `ses` sending raw MIME through SES v2, `s3` raw inbound
//! mail, `ssm` mailbox passwords in Parameter Store.

use desk_domain::DeskError;

mod lazy;
pub use lazy::Lazy;

/// Maps an SDK error to the domain's storage error, logged once with its context.
#[allow(dead_code)] // unused when no service feature is enabled
pub(crate) fn failed<E: std::error::Error + Send + Sync + 'static>(
    op: &'static str,
) -> impl FnOnce(E) -> DeskError {
    move |e| {
        let msg = format!(
            "{op}: {}",
            aws_smithy_types::error::display::DisplayErrorContext(&e)
        );
        tracing::error!(operation = op, error = %msg, "AWS call failed");
        DeskError::Storage(msg)
    }
}

#[cfg(feature = "sqs")]
mod sqs;
#[cfg(feature = "sqs")]
pub use sqs::SqsOutbox;

#[cfg(feature = "eventbridge")]
mod eventbridge;
#[cfg(feature = "eventbridge")]
pub use eventbridge::{EventBridgeBus, EVENT_SOURCE};

#[cfg(feature = "ses")]
mod ses;
#[cfg(feature = "ses")]
pub use ses::SesTransport;

#[cfg(feature = "s3")]
mod raw_mail;
#[cfg(feature = "s3")]
pub use raw_mail::S3RawMail;

#[cfg(feature = "ssm")]
mod secrets;
#[cfg(feature = "ssm")]
pub use secrets::SsmSecrets;

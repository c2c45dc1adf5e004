//! AWS adapters besides DynamoDB, one module (and one cargo feature) per service,
//! so that each function links only the SDK clients it uses:
//! `sqs` the outbox (mail waits there until the mailer sends it), `eventbridge` the
//! bus for domain events, `ses` sending raw MIME through SES v2, `s3` raw inbound
//! mail, `ssm` mailbox passwords in Parameter Store and the reply-token key ring
//! (a Secrets Manager secret read through Parameter Store).

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

/// Maps an SDK error to the domain's storage error keeping only its code, logged
/// once: the messages of secret stores' errors may quote the values sent.
#[allow(dead_code)] // used by the secret stores' features only
pub(crate) fn failed_quietly<E, R>(
    service: &'static str,
    op: &'static str,
    e: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> DeskError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    let what = match e {
        SdkError::ServiceError(se) => se.err().code().unwrap_or("unknown").to_string(),
        SdkError::TimeoutError(_) => "timeout".into(),
        SdkError::DispatchFailure(_) => "dispatch failure (endpoint unreachable)".into(),
        SdkError::ResponseError(_) => "unreadable response".into(),
        SdkError::ConstructionFailure(_) => "request construction failed".into(),
        _ => "unknown".into(),
    };
    tracing::error!(operation = op, error = %what, "{service} call failed");
    DeskError::Storage(format!("{service} {op}: {what}"))
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

#[cfg(feature = "ssm")]
mod key_ring;
#[cfg(feature = "ssm")]
pub use key_ring::{SsmKeyRing, SECRETS_MANAGER_REFERENCE};

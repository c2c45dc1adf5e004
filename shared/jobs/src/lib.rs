//! Background handlers, event in → domain call → outcome out. `inbound` (SQS
//! records of S3 events → ingest) is a feature: it brings mail parsing, which the
//! mailer and the expiry do not link.

pub mod expire;
#[cfg(feature = "inbound")]
pub mod inbound;
pub mod mailer;

//! Background handlers, event in → domain call → outcome out. `inbound` (SQS
//! records of S3 events → ingest) is a feature: it brings mail parsing, which the
//! mailer and the expiry do not link; so is `indexer` (the stream consumer).

pub mod expire;
#[cfg(feature = "inbound")]
pub mod inbound;
#[cfg(feature = "indexer")]
pub mod indexer;
pub mod mailer;

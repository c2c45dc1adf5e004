//! What the table's stream feeds, off every request path: the full-text index,
//! the quick-filter counts and the ticket events. A [`Change`] is one stream
//! record decoded into domain values (the adapter decodes; this module decides).

pub mod counts;
pub mod events;
pub mod search;

use async_trait::async_trait;

use crate::error::DeskResult;
use crate::message::MailMessage;
use crate::note::Note;
use crate::ticket::Ticket;

/// One item's change, old and new image (`None`: it did not exist / no longer exists).
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Ticket {
        old: Option<Box<Ticket>>,
        new: Option<Box<Ticket>>,
    },
    Note {
        old: Option<Note>,
        new: Option<Note>,
    },
    Message {
        old: Option<Box<MailMessage>>,
        new: Option<Box<MailMessage>>,
    },
}

/// A stream record the desk acts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The stream's id of the record: stable across redeliveries, so consumers of
    /// the events it causes can drop duplicates.
    pub event_id: String,
    pub record: Record,
}

/// Where the index and the counts are kept (the adapter makes every call idempotent).
#[async_trait]
pub trait IndexStore: Send + Sync {
    /// Adds and removes one part's postings (and records new words for prefix search).
    async fn apply_postings(&self, change: &search::PostingChange) -> DeskResult<()>;
    /// Moves one ticket between count buckets, exactly once per ticket version.
    async fn apply_counts(&self, change: &counts::CountChange) -> DeskResult<()>;
}

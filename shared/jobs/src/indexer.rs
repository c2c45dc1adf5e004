//! The indexer: consumes the table's stream and keeps, off every request path,
//! the full-text index, the quick-filter counts and the ticket events.
//!
//! A batch comes from one shard in stream order. Records of one ticket are
//! applied in order; different tickets in parallel. On a failure the earliest
//! failed record is reported (partial batch response), so the event source
//! resumes there: every step is idempotent, so what is applied again after it
//! changes nothing (events may be published again; they carry the record id).

use std::collections::BTreeMap;
use std::sync::Arc;

use desk_domain::outbound::EventBus;
use desk_domain::stream::{Change, IndexStore};
use desk_domain::{DeskError, DeskResult};
use futures::StreamExt;

/// Tickets applied in parallel within a batch.
const TICKETS_IN_FLIGHT: usize = 4;

pub struct Indexer {
    pub index: Arc<dyn IndexStore>,
    pub events: Arc<dyn EventBus>,
}

/// One stream record, decoded (or not).
#[derive(Debug)]
pub struct Incoming {
    /// The record's sequence number, what a partial batch failure names.
    pub sequence: String,
    /// Records with the same key (the item's partition) are applied in order.
    pub partition: String,
    pub change: Result<Option<Change>, DeskError>,
}

impl Indexer {
    /// One change: its postings, its count move, its events.
    pub async fn apply(&self, change: &Change) -> DeskResult<()> {
        self.apply_index(change).await?;
        let events = change.events();
        if !events.is_empty() {
            self.events.publish(&events).await?;
        }
        Ok(())
    }

    /// A change's postings and count move only (a rebuild announces nothing).
    pub async fn apply_index(&self, change: &Change) -> DeskResult<()> {
        if let Some(p) = change.record.posting_change() {
            self.index.apply_postings(&p).await?;
        }
        if let Some(c) = change.record.count_change() {
            self.index.apply_counts(&c).await?;
        }
        Ok(())
    }

    /// A batch in stream order; returns the sequence number of the earliest
    /// record that failed (`None`: all applied).
    pub async fn run(&self, batch: Vec<Incoming>) -> Option<String> {
        let mut order: Vec<String> = Vec::with_capacity(batch.len());
        let mut by_partition: BTreeMap<String, Vec<(usize, Incoming)>> = BTreeMap::new();
        for (i, record) in batch.into_iter().enumerate() {
            order.push(record.sequence.clone());
            by_partition
                .entry(record.partition.clone())
                .or_default()
                .push((i, record));
        }
        let failed: Vec<usize> = futures::stream::iter(by_partition.into_values())
            .map(|records| async move {
                for (i, record) in records {
                    let outcome = match &record.change {
                        Ok(Some(change)) => self.apply(change).await,
                        Ok(None) => Ok(()),
                        Err(e) => Err(DeskError::Storage(e.to_string())),
                    };
                    if let Err(e) = outcome {
                        tracing::error!(
                            sequence = %record.sequence,
                            error = %e,
                            "stream record not applied; the event source retries from it"
                        );
                        return Some(i);
                    }
                }
                None
            })
            .buffer_unordered(TICKETS_IN_FLIGHT)
            .filter_map(|f| async move { f })
            .collect()
            .await;
        failed.into_iter().min().map(|i| order[i].clone())
    }
}

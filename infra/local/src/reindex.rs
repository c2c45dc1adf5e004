//! `desk-local reindex`: (re)builds the search index and the quick-filter counts
//! from the table, for a deployment that predates the indexer, after a change of
//! tokeniser, or for one ticket whose stream record was set aside. It applies
//! every ticket, note and message through the indexer's own code (no events),
//! so its result is what the stream builds; every write is idempotent, and a
//! checkpoint item after each page lets an interrupted run resume.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use desk_dynamo::DynamoStore;
use desk_jobs::indexer::Indexer;

const CHECKPOINT_PK: &str = "REINDEX";
const CHECKPOINT_SK: &str = "CHECKPOINT";
const PAGE: i32 = 500;
/// Tickets applied in parallel within a page (the indexer applies 4 per batch;
/// a rebuild has a whole table to go through).
const TICKETS_IN_FLIGHT: usize = 8;

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Delete every posting, word list and count first (a tokeniser change).
    pub fresh: bool,
    /// Go on from the last checkpoint instead of the table's start.
    pub resume: bool,
    /// Stop after this many pages (tests: an interrupted run).
    pub max_pages: Option<usize>,
    /// Items evaluated per page (default 500).
    pub page: Option<i32>,
    /// With `fresh`: tickets per posting block from now on (else it stays).
    pub block_size: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    pub items: usize,
    pub pages: usize,
    pub finished: bool,
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn checkpoint_key() -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".into(), s(CHECKPOINT_PK)),
        ("sk".into(), s(CHECKPOINT_SK)),
    ])
}

/// Every index item (postings, term documents, word lists, counts, count guards) deleted.
async fn clear(store: &DynamoStore) -> Result<usize, String> {
    let client = store.client();
    let mut start = None;
    let mut deleted = 0;
    loop {
        let page = client
            .scan()
            .table_name(store.table())
            .filter_expression(
                "begins_with(pk, :w) OR begins_with(pk, :wd) OR pk = :c OR begins_with(pk, :cd) OR begins_with(pk, :td)",
            )
            .expression_attribute_values(":w", s(desk_dynamo::search::POSTING_PREFIX))
            .expression_attribute_values(":wd", s(desk_dynamo::search::WORD_LIST_PREFIX))
            .expression_attribute_values(":c", s(desk_dynamo::search::COUNTS_PK))
            .expression_attribute_values(":cd", s(desk_dynamo::search::COUNTED_PREFIX))
            .expression_attribute_values(":td", s(desk_dynamo::search::TERMS_PREFIX))
            .projection_expression("pk, sk")
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| format!("Scan index items: {e}"))?;
        for chunk in page.items().chunks(25) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|key| {
                    WriteRequest::builder()
                        .delete_request(
                            DeleteRequest::builder()
                                .set_key(Some(key.clone()))
                                .build()
                                .expect("key set"),
                        )
                        .build()
                })
                .collect();
            while !requests.is_empty() {
                let out = client
                    .batch_write_item()
                    .request_items(store.table(), requests)
                    .send()
                    .await
                    .map_err(|e| format!("BatchWriteItem delete: {e}"))?;
                requests = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(store.table()))
                    .unwrap_or_default();
            }
            deleted += chunk.len();
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(deleted);
        }
    }
}

/// Applies one stored item as the stream would have.
async fn apply(indexer: &Indexer, item: &HashMap<String, AttributeValue>) -> Result<bool, String> {
    match desk_dynamo::stream::decode_stored(item) {
        Ok(Some(change)) => indexer
            .apply_index(&change)
            .await
            .map(|()| true)
            .map_err(|e| e.to_string()),
        Ok(None) => Ok(false),
        Err(e) => {
            // Reported, not fatal: one broken item must not stop a rebuild.
            tracing::error!(error = %e, "item skipped: it does not decode");
            Ok(false)
        }
    }
}

/// One page's items: a ticket's items in the order read (they share its term
/// document), different tickets in parallel, as the indexer applies a batch.
async fn apply_page(
    indexer: &Indexer,
    items: &[HashMap<String, AttributeValue>],
) -> Result<usize, String> {
    use futures::{StreamExt, TryStreamExt};
    let mut by_ticket: Vec<Vec<&HashMap<String, AttributeValue>>> = Vec::new();
    let mut last_pk: Option<&AttributeValue> = None;
    for item in items {
        let pk = item.get("pk");
        if by_ticket.is_empty() || pk != last_pk {
            by_ticket.push(Vec::new());
        }
        last_pk = pk;
        if let Some(group) = by_ticket.last_mut() {
            group.push(item);
        }
    }
    futures::stream::iter(by_ticket)
        .map(|group| async move {
            let mut applied = 0;
            for item in group {
                if apply(indexer, item).await? {
                    applied += 1;
                }
            }
            Ok::<_, String>(applied)
        })
        .buffer_unordered(TICKETS_IN_FLIGHT)
        .try_fold(0, |sum, n| async move { Ok(sum + n) })
        .await
}

/// The whole table, page by page, with a checkpoint after each page.
pub async fn run(
    store: &DynamoStore,
    indexer: &Indexer,
    options: &Options,
) -> Result<Progress, String> {
    let client = store.client();
    let mut progress = Progress::default();
    let mut start = None;
    if options.block_size.is_some() && !options.fresh {
        // Offsets are relative to the blocks they were written for.
        return Err(
            "--block-size needs --fresh: existing postings are laid out by the old size".into(),
        );
    }
    if options.block_size == Some(0) {
        return Err("--block-size must be at least 1".into());
    }
    if options.resume {
        let out = client
            .get_item()
            .table_name(store.table())
            .set_key(Some(checkpoint_key()))
            .send()
            .await
            .map_err(|e| format!("GetItem checkpoint: {e}"))?;
        if let Some(item) = out.item {
            progress.items = item
                .get("items")
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            start = item.get("next").and_then(|v| v.as_m().ok()).cloned();
            if start.is_none() {
                progress.finished = true;
                return Ok(progress);
            }
        }
    } else if options.fresh {
        let n = clear(store).await?;
        // Nothing sealed any more; the block size stays what it was unless asked.
        let size = match options.block_size {
            Some(size) => size,
            None => {
                store
                    .posting_blocks(true)
                    .await
                    .map_err(|e| e.to_string())?
                    .size
            }
        };
        store
            .set_posting_blocks(desk_dynamo::blocks::Blocks::initial(size))
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(deleted = n, "index items cleared");
    }
    loop {
        let page = client
            .scan()
            .table_name(store.table())
            .filter_expression(
                "begins_with(pk, :t) AND (sk = :ticket OR begins_with(sk, :note) OR begins_with(sk, :msg))",
            )
            .expression_attribute_values(":t", s("TICKET#"))
            .expression_attribute_values(":ticket", s(desk_dynamo::keys::TICKET_SK))
            .expression_attribute_values(":note", s("NOTE#"))
            .expression_attribute_values(":msg", s("MSG#"))
            .limit(options.page.unwrap_or(PAGE))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| format!("Scan tickets: {e}"))?;
        progress.items += apply_page(indexer, page.items()).await?;
        progress.pages += 1;
        start = page.last_evaluated_key;
        let mut checkpoint = checkpoint_key();
        checkpoint.insert(
            "items".into(),
            AttributeValue::N(progress.items.to_string()),
        );
        if let Some(next) = &start {
            checkpoint.insert("next".into(), AttributeValue::M(next.clone()));
        }
        client
            .put_item()
            .table_name(store.table())
            .set_item(Some(checkpoint))
            .send()
            .await
            .map_err(|e| format!("PutItem checkpoint: {e}"))?;
        tracing::info!(items = progress.items, pages = progress.pages, "reindexed");
        if start.is_none() {
            progress.finished = true;
            return Ok(progress);
        }
        if options.max_pages.is_some_and(|m| progress.pages >= m) {
            return Ok(progress);
        }
    }
}

/// One ticket's items again (a record the stream set aside, once fixed).
pub async fn ticket(store: &DynamoStore, indexer: &Indexer, number: u64) -> Result<usize, String> {
    let out = store
        .client()
        .query()
        .table_name(store.table())
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", s(&format!("TICKET#{number}")))
        .send()
        .await
        .map_err(|e| format!("Query ticket {number}: {e}"))?;
    let mut n = 0;
    for item in out.items() {
        if apply(indexer, item).await? {
            n += 1;
        }
    }
    Ok(n)
}

//! Postings packed by blocks of ticket numbers, and the open tail that a search
//! reads from term documents instead.
//!
//! | item    | pk         | sk                                 | attributes |
//! |---------|------------|------------------------------------|------------|
//! | posting | `W#<stem>` | the block's first number `<n:012>` | `t`: offsets in the block of the tickets holding the stem (number set) |
//! | blocks  | `POSTINGS` | `BLOCKS`                           | `size`; `sealed`: every block below is sealed; `closing`: the block being sealed |
//!
//! Why blocks: an item per stem and ticket cost an email ticket ~70 writes, as
//! many as its words. A block's postings are written once, when tickets of the
//! next block are indexed (sealing): one write per distinct stem of the block's
//! tickets, which share most of their words. Until then the block is open, and
//! a search reads its tickets' term documents (at most ~1¼ blocks of them).
//!
//! Changes to the tickets of a sealed block (a reply, an edit) update its
//! postings directly: `ADD` and `DELETE` on a set are idempotent, so a
//! redelivered change cannot double them. The race between the sealer and a
//! change of the block being sealed is closed by order: the sealer marks the
//! block `closing` before it reads the term documents, and a change writes its
//! term document before it reads whether the block is closing. One of the two
//! sees the other, so no stem is left out; a stem written twice is a set member.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use desk_domain::{DeskError, DeskResult, TicketNumber};
use futures::{StreamExt, TryStreamExt};

use crate::item::Item;
use crate::keys;
use crate::search::{key, posting_pk, TERMS_PREFIX, TERMS_SK};
use crate::DynamoStore;

pub const BLOCKS_PK: &str = "POSTINGS";
const BLOCKS_SK: &str = "BLOCKS";
/// Tickets per block unless the table's blocks item says otherwise.
pub const DEFAULT_BLOCK_SIZE: u64 = 128;
/// A posting's attribute: the offsets of the block's tickets that hold the stem.
pub(crate) const OFFSETS: &str = "t";
/// A sealing claimed this long ago was abandoned (a Lambda runs 15 minutes at most).
const TAKE_OVER_AFTER_S: u64 = 900;
/// Direct posting writes in flight.
const WRITES_IN_FLIGHT: usize = 16;

/// Where sealing stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocks {
    pub size: u64,
    /// Every block below this one is sealed.
    pub sealed: u64,
    /// The block being sealed, if one is.
    pub closing: Option<u64>,
    /// When its sealer claimed it (seconds since the epoch).
    pub claimed_at: Option<u64>,
}

impl Blocks {
    /// Before anything is sealed: the blocks wholly below the first ticket
    /// number hold nothing, so they count as sealed.
    pub fn initial(size: u64) -> Blocks {
        Blocks {
            size,
            sealed: TicketNumber::FIRST / size,
            closing: None,
            claimed_at: None,
        }
    }

    pub fn block_of(&self, n: u64) -> u64 {
        n / self.size
    }

    pub fn start(&self, block: u64) -> u64 {
        block * self.size
    }

    /// Whether a change to ticket `n` writes its postings itself (its block is
    /// sealed or being sealed) rather than leaving them to the sealer.
    pub fn direct(&self, n: u64) -> bool {
        let b = self.block_of(n);
        b < self.sealed || self.closing == Some(b)
    }

    /// The open tail's first ticket number: every number below it is in a
    /// sealed block, whose postings a search reads.
    pub fn tail_start(&self) -> u64 {
        self.start(self.sealed)
    }

    /// Whether the first unsealed block is due once ticket `newest` is indexed:
    /// a quarter of the next block on, so that its stragglers (tickets indexed
    /// late, their acknowledgements) are mostly in before it.
    pub fn due(&self, newest: u64) -> bool {
        newest >= self.start(self.sealed + 1) + self.size / 4
    }

    /// Where sealing stands once every due block is sealed, `newest` the last ticket.
    pub fn settled(size: u64, newest: u64) -> Blocks {
        let mut b = Blocks::initial(size);
        while b.due(newest) {
            b.sealed += 1;
        }
        b
    }

    fn from_item(item: &Item, default_size: u64) -> Blocks {
        let n = |a: &str| {
            item.get(a)
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse::<u64>().ok())
        };
        let size = n("size").filter(|s| *s > 0).unwrap_or(default_size);
        let initial = Blocks::initial(size);
        Blocks {
            size,
            sealed: n("sealed").unwrap_or(initial.sealed),
            closing: n("closing"),
            claimed_at: n("claimed_at"),
        }
    }
}

/// What this process last read of the blocks item: the size never changes
/// under a running desk, and `sealed` only grows, so a block below it is
/// known to be sealed without a read.
#[derive(Clone, Default)]
pub(crate) struct KnownBlocks(Arc<Mutex<Option<Blocks>>>);

impl KnownBlocks {
    fn get(&self) -> Option<Blocks> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, b: Blocks) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(b);
    }
}

/// Whether a call failed only on its condition.
fn condition_failed<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.as_service_error().and_then(|se| se.code()) == Some("ConditionalCheckFailedException")
}

fn blocks_key() -> Item {
    key(BLOCKS_PK.into(), BLOCKS_SK.into())
}

fn offsets_value(offsets: &[u64]) -> AttributeValue {
    AttributeValue::Ns(offsets.iter().map(u64::to_string).collect())
}

/// The ticket numbers a posting item holds (its block's first number plus each offset).
pub(crate) fn posting_numbers(item: &Item) -> Vec<u64> {
    let Some(start) = item
        .get(keys::SK)
        .and_then(|v| v.as_s().ok())
        .and_then(|k| k.parse::<u64>().ok())
    else {
        return vec![];
    };
    item.get(OFFSETS)
        .and_then(|v| v.as_ns().ok())
        .map(|ns| {
            ns.iter()
                .filter_map(|o| o.parse::<u64>().ok())
                .map(|o| start + o)
                .collect()
        })
        .unwrap_or_default()
}

/// A term document's stems (its `c` map's keys), if `item` is one: with its ticket number.
pub(crate) fn term_doc_stems(item: &Item) -> Option<(u64, HashSet<String>)> {
    let n = item
        .get(keys::PK)?
        .as_s()
        .ok()?
        .strip_prefix(TERMS_PREFIX)?
        .parse()
        .ok()?;
    let stems = item
        .get("c")
        .and_then(|v| v.as_m().ok())
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    Some((n, stems))
}

pub(crate) fn term_doc_key(n: u64) -> Item {
    key(format!("{TERMS_PREFIX}{n}"), TERMS_SK.into())
}

impl DynamoStore {
    /// Where sealing stands, read (strongly when `consistent`, as a writer
    /// must after its term document; a search may read a stale one, which
    /// only makes its tail longer).
    pub async fn posting_blocks(&self, consistent: bool) -> DeskResult<Blocks> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(blocks_key()))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(crate::storage("GetItem blocks"))?;
        let b = Blocks::from_item(&out.item.unwrap_or_default(), DEFAULT_BLOCK_SIZE);
        self.known_blocks.set(b);
        Ok(b)
    }

    /// The block size, known after the first read.
    pub(crate) async fn block_size(&self) -> DeskResult<u64> {
        match self.known_blocks.get() {
            Some(b) => Ok(b.size),
            None => Ok(self.posting_blocks(false).await?.size),
        }
    }

    /// Whether ticket `n`'s block is known to be sealed without a read.
    pub(crate) fn surely_sealed(&self, n: u64) -> bool {
        self.known_blocks
            .get()
            .is_some_and(|b| b.block_of(n) < b.sealed)
    }

    /// Sets the blocks item: a new index (`size` tickets a block, nothing
    /// sealed), or one whose postings were imported up to `settled`.
    pub async fn set_posting_blocks(&self, blocks: Blocks) -> DeskResult<()> {
        let mut item = blocks_key();
        item.insert("size".into(), AttributeValue::N(blocks.size.to_string()));
        item.insert(
            "sealed".into(),
            AttributeValue::N(blocks.sealed.to_string()),
        );
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(crate::storage("PutItem blocks"))?;
        self.known_blocks.set(blocks);
        Ok(())
    }

    /// Adds (or removes) ticket numbers to one stem's postings, per block.
    pub(crate) async fn write_postings_direct(
        &self,
        numbers: &[u64],
        add: &[String],
        remove: &[String],
    ) -> DeskResult<()> {
        let size = self.block_size().await?;
        let mut by_block: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for n in numbers {
            by_block.entry(n / size * size).or_default().push(n % size);
        }
        let mut writes = Vec::new();
        for (start, offsets) in &by_block {
            for stem in add {
                writes.push(self.update_posting(stem, *start, offsets.clone(), true));
            }
            for stem in remove {
                writes.push(self.update_posting(stem, *start, offsets.clone(), false));
            }
        }
        futures::stream::iter(writes)
            .buffer_unordered(WRITES_IN_FLIGHT)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    /// One posting item's set, added to or taken from; an item left empty is deleted.
    async fn update_posting(
        &self,
        stem: &str,
        start: u64,
        offsets: Vec<u64>,
        add: bool,
    ) -> DeskResult<()> {
        let item_key = key(posting_pk(stem), format!("{start:012}"));
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item_key.clone()))
            .expression_attribute_names("#t", OFFSETS)
            .expression_attribute_values(":o", offsets_value(&offsets));
        if add {
            request
                .update_expression("ADD #t :o")
                .send()
                .await
                .map_err(crate::storage("UpdateItem posting"))?;
            return Ok(());
        }
        let out = request
            .update_expression("DELETE #t :o")
            // Nothing to take from: no write (and no empty item made).
            .condition_expression("attribute_exists(#t)")
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let left = match out {
            Ok(out) => out.attributes.is_some_and(|a| a.contains_key(OFFSETS)),
            Err(e) if condition_failed(&e) => return Ok(()),
            Err(e) => return Err(crate::storage("UpdateItem posting")(e)),
        };
        if !left {
            self.delete_if_empty(item_key).await?;
        }
        Ok(())
    }

    /// Deletes a posting item left without offsets, unless someone added meanwhile.
    async fn delete_if_empty(&self, item_key: Item) -> DeskResult<()> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(item_key))
            .condition_expression("attribute_not_exists(#t)")
            .expression_attribute_names("#t", OFFSETS)
            .send()
            .await;
        match deleted {
            Err(e) if !condition_failed(&e) => Err(crate::storage("DeleteItem posting")(e)),
            _ => Ok(()),
        }
    }

    /// Seals every block that is due once ticket `newest` is indexed, in order.
    /// Any indexer may run it, one at a time (a block sealed twice is paid
    /// twice): a claim abandoned for longer than a Lambda may run is taken over.
    pub(crate) async fn seal_due(&self, newest: u64) -> DeskResult<()> {
        loop {
            let b = self.posting_blocks(true).await?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let c = match b.closing {
                Some(_) if b.claimed_at.is_some_and(|at| now < at + TAKE_OVER_AFTER_S) => {
                    return Ok(())
                }
                Some(c) => c,
                None if b.due(newest) => b.sealed,
                None => return Ok(()),
            };
            // Claimed from the state read, so that one indexer wins.
            let mut claim = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(blocks_key()))
                .update_expression(
                    "SET closing = :c, claimed_at = :now, size = if_not_exists(size, :size), sealed = if_not_exists(sealed, :c)",
                )
                .expression_attribute_values(":c", AttributeValue::N(c.to_string()))
                .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
                .expression_attribute_values(":size", AttributeValue::N(b.size.to_string()));
            claim = match (b.closing, b.claimed_at) {
                (None, _) => claim.condition_expression(
                    "attribute_not_exists(closing) AND (attribute_not_exists(sealed) OR sealed = :c)",
                ),
                (Some(_), Some(at)) => claim
                    .condition_expression("closing = :c AND claimed_at = :at")
                    .expression_attribute_values(":at", AttributeValue::N(at.to_string())),
                (Some(_), None) => {
                    claim.condition_expression("closing = :c AND attribute_not_exists(claimed_at)")
                }
            };
            match claim.send().await {
                Ok(_) => self.seal(b, c).await?,
                // Another indexer claimed it meanwhile: read again.
                Err(e) if condition_failed(&e) => {}
                Err(e) => return Err(crate::storage("UpdateItem blocks")(e)),
            }
        }
    }

    /// Seals every block up to the newest ticket's, the open one too: a
    /// benchmark's whole bill (a desk seals a block once the next has begun).
    pub async fn seal_all(&self) -> DeskResult<()> {
        let newest = self.newest_number().await?;
        let b = self.posting_blocks(true).await?;
        self.seal_due(b.start(b.block_of(newest) + 1) + b.size / 4)
            .await
    }

    /// Writes block `c`'s postings from its tickets' term documents, then marks it sealed.
    async fn seal(&self, b: Blocks, c: u64) -> DeskResult<()> {
        let keys: Vec<Item> = (b.start(c)..b.start(c + 1)).map(term_doc_key).collect();
        let docs = self.batch_get_all(keys, true, Some("pk, c")).await?;
        let mut offsets: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for doc in &docs {
            if let Some((n, stems)) = term_doc_stems(doc) {
                for stem in stems {
                    offsets.entry(stem).or_default().push(n - b.start(c));
                }
            }
        }
        let stems = offsets.len();
        futures::stream::iter(
            offsets.clone().into_iter().map(|(stem, o)| async move {
                self.update_posting(&stem, b.start(c), o, true).await
            }),
        )
        .buffer_unordered(WRITES_IN_FLIGHT)
        .try_collect::<Vec<()>>()
        .await?;
        let taken_back = self.take_back_removed(b.start(c), &offsets).await?;
        let done = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(blocks_key()))
            .update_expression("SET sealed = :next REMOVE closing, claimed_at")
            .condition_expression("closing = :c")
            .expression_attribute_values(":c", AttributeValue::N(c.to_string()))
            .expression_attribute_values(":next", AttributeValue::N((c + 1).to_string()))
            .send()
            .await;
        if let Err(e) = done {
            if !condition_failed(&e) {
                return Err(crate::storage("UpdateItem blocks")(e));
            }
        }
        tracing::info!(
            block = c,
            tickets = docs.len(),
            stems,
            taken_back,
            "posting block sealed"
        );
        Ok(())
    }

    /// Takes back what a sealing added that its tickets no longer hold, and
    /// says how many ticket-stem pairs it took back.
    ///
    /// A change that removes a stem after the sealer read its term document
    /// deletes it from the posting itself (it sees the block `closing`), but
    /// its DELETE may land before the sealer's ADD. Read again once every ADD
    /// is done, the documents show each such removal; each is taken back in a
    /// transaction conditioned on the document still being the one read, so
    /// a stem the ticket regains meanwhile (its writer ADDs it after writing
    /// the document) is never lost. A change after this read is ordered after
    /// the ADDs and deletes for itself.
    pub async fn take_back_removed(
        &self,
        start: u64,
        added: &BTreeMap<String, Vec<u64>>,
    ) -> DeskResult<usize> {
        let numbers: std::collections::BTreeSet<u64> =
            added.values().flatten().map(|o| start + o).collect();
        let mut taken = 0;
        for _ in 0..5 {
            let keys: Vec<Item> = numbers.iter().map(|n| term_doc_key(*n)).collect();
            let docs = self.batch_get_all(keys, true, Some("pk, c, v")).await?;
            let held: HashMap<u64, (HashSet<String>, Option<u64>)> = docs
                .iter()
                .filter_map(|doc| {
                    let (n, stems) = term_doc_stems(doc)?;
                    let v = doc.get("v").and_then(|v| v.as_n().ok()?.parse().ok());
                    Some((n, (stems, v)))
                })
                .collect();
            let mut raced = false;
            for (stem, offsets) in added {
                for o in offsets {
                    let n = start + o;
                    let version = match held.get(&n) {
                        Some((stems, _)) if stems.contains(stem) => continue,
                        Some((_, v)) => *v,
                        None => None,
                    };
                    match self.take_back(stem, start, *o, n, version).await? {
                        Some(true) => taken += 1,
                        Some(false) => {}
                        None => raced = true,
                    }
                }
            }
            if !raced {
                return Ok(taken);
            }
        }
        Err(DeskError::Storage(format!(
            "block at {start}: term documents kept changing while its sealing was checked"
        )))
    }

    /// Deletes ticket `n` (offset `o`) from a stem's block if its term
    /// document is still at `version` (absent: `None`). `Some(true)` taken
    /// back, `Some(false)` nothing to take, `None` the document changed.
    async fn take_back(
        &self,
        stem: &str,
        start: u64,
        o: u64,
        n: u64,
        version: Option<u64>,
    ) -> DeskResult<Option<bool>> {
        use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem, Update};
        let build = |e: aws_sdk_dynamodb::error::BuildError| DeskError::Storage(e.to_string());
        let mut check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(term_doc_key(n)));
        check = match version {
            Some(v) => check
                .condition_expression("v = :v")
                .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
            None => check.condition_expression("attribute_not_exists(pk)"),
        };
        let posting_key = key(posting_pk(stem), number_key_u64(start));
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(posting_key.clone()))
            .update_expression("DELETE #t :o")
            .condition_expression("contains(#t, :n)")
            .expression_attribute_names("#t", OFFSETS)
            .expression_attribute_values(":o", offsets_value(&[o]))
            .expression_attribute_values(":n", AttributeValue::N(o.to_string()))
            .build()
            .map_err(build)?;
        let out = self
            .client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .condition_check(check.build().map_err(build)?)
                    .build(),
            )
            .transact_items(TransactWriteItem::builder().update(update).build())
            .send()
            .await;
        match out {
            Ok(_) => {}
            Err(e) => {
                let reasons: Vec<Option<String>> = e
                    .as_service_error()
                    .and_then(|se| match se {
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => Some(
                            c.cancellation_reasons()
                                .iter()
                                .map(|r| r.code().map(str::to_string))
                                .collect(),
                        ),
                        _ => None,
                    })
                    .unwrap_or_default();
                let failed = |i: usize| {
                    reasons.get(i).and_then(|c| c.as_deref()) == Some("ConditionalCheckFailed")
                };
                if failed(0) {
                    return Ok(None);
                }
                if failed(1) {
                    return Ok(Some(false));
                }
                return Err(crate::storage("TransactWriteItems take back posting")(e));
            }
        }
        self.delete_if_empty(posting_key).await?;
        Ok(Some(true))
    }

    /// Where sealing stands and the newest ticket number handed out (the
    /// counter, the tail's end): one BatchGetItem. Eventually consistent: a
    /// stale read only makes the tail longer.
    pub(crate) async fn tail_bounds(&self) -> DeskResult<(Blocks, u64)> {
        let counter = key(keys::COUNTER_PK.into(), keys::TICKET_SK.into());
        let items = self
            .batch_get_all(vec![blocks_key(), counter], false, None)
            .await?;
        let find = |pk: &str| {
            items.iter().find(|i| {
                i.get(keys::PK)
                    .and_then(|v| v.as_s().ok())
                    .map(String::as_str)
                    == Some(pk)
            })
        };
        // No blocks item yet: nothing sealed, the default size (what a read of it would say).
        let blocks = Blocks::from_item(find(BLOCKS_PK).unwrap_or(&Item::new()), DEFAULT_BLOCK_SIZE);
        let newest = find(keys::COUNTER_PK)
            .and_then(|i| i.get("n").and_then(|v| v.as_n().ok()?.parse().ok()))
            .unwrap_or(0);
        Ok((blocks, newest))
    }

    /// The newest ticket number handed out (the counter).
    async fn newest_number(&self) -> DeskResult<u64> {
        Ok(self.tail_bounds().await?.1)
    }

    /// The open tail's tickets that hold every group (a word's stem or one of
    /// the words its prefix expands to), numbers in `range`, ascending.
    pub(crate) async fn tail_matches(
        &self,
        range: std::ops::Range<u64>,
        groups: &[Vec<String>],
    ) -> DeskResult<Vec<u64>> {
        if range.is_empty() {
            return Ok(vec![]);
        }
        let keys: Vec<Item> = range.map(term_doc_key).collect();
        let docs = self.batch_get_all(keys, false, Some("pk, c")).await?;
        let mut found: Vec<u64> = docs
            .iter()
            .filter_map(term_doc_stems)
            .filter(|(_, stems)| groups.iter().all(|g| g.iter().any(|t| stems.contains(t))))
            .map(|(n, _)| n)
            .collect();
        found.sort_unstable();
        Ok(found)
    }
}

/// Block postings for a bulk import: per stem and block, the offsets of the
/// tickets holding it, for the blocks `settled` says are sealed.
pub(crate) fn import_items(
    stems_by_ticket: &BTreeMap<TicketNumber, HashMap<String, i64>>,
    settled: Blocks,
) -> Vec<Item> {
    let mut offsets: BTreeMap<(String, u64), Vec<u64>> = BTreeMap::new();
    for (ticket, counts) in stems_by_ticket {
        let n = ticket.get();
        if !settled.direct(n) {
            continue;
        }
        let start = settled.start(settled.block_of(n));
        for stem in counts.keys() {
            offsets
                .entry((stem.clone(), start))
                .or_default()
                .push(n - start);
        }
    }
    offsets
        .into_iter()
        .map(|((stem, start), o)| {
            let mut item = key(posting_pk(&stem), number_key_u64(start));
            item.insert(OFFSETS.into(), offsets_value(&o));
            item
        })
        .collect()
}

pub(crate) fn number_key_u64(n: u64) -> String {
    format!("{n:012}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_is_due_a_quarter_into_the_next() {
        let b = Blocks {
            size: 8,
            sealed: 3,
            closing: None,
            claimed_at: None,
        };
        assert_eq!(b.tail_start(), 24);
        assert!(!b.due(33));
        assert!(b.due(34));
        assert!(b.direct(23) && !b.direct(24));
        let closing = Blocks {
            closing: Some(3),
            ..b
        };
        assert!(closing.direct(31) && !closing.direct(32));
    }

    #[test]
    fn settled_seals_every_due_block_and_nothing_below_the_first_ticket_is_open() {
        let b = Blocks::settled(128, 2000);
        // 2000 is 80 into block 15 (1920..2047): block 14 is due (32 in), 15 is not.
        assert_eq!((b.sealed, b.tail_start()), (15, 1920));
        assert_eq!(Blocks::settled(128, 1001).sealed, TicketNumber::FIRST / 128);
    }

    #[test]
    fn a_posting_item_holds_its_block_start_plus_each_offset() {
        let mut item = key("W#heron".into(), "000000001024".into());
        item.insert(OFFSETS.into(), offsets_value(&[0, 5, 127]));
        let mut n = posting_numbers(&item);
        n.sort_unstable();
        assert_eq!(n, [1024, 1029, 1151]);
    }
}

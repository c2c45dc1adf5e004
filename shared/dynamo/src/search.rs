//! The full-text index, the quick-filter counts, and search pages read from them.
//!
//! | item        | pk                 | sk               | attributes                   |
//! |-------------|--------------------|------------------|------------------------------|
//! | posting     | `W#<stem>`         | block `<n:012>`  | `t`: offsets of its tickets (see `blocks`) |
//! | blocks      | `POSTINGS`         | `BLOCKS`         | block size, how far sealed   |
//! | term doc    | `TERMS#<n>`        | `TERMS`          | `c`: parts per stem, `p`: each part's stems (fingerprint), `v` |
//! | word list   | `WD#<2 chars>`     | `<word>`         | `stem` (for prefix search)   |
//! | counts      | `COUNTS`           | assignee key     | `s_<status>`, `p_<priority>` |
//! | counted     | `COUNTED#<n>`      | `COUNTED`        | `bucket`: where it counts    |
//!
//! Postings sort by ticket number, which never changes and grows with creation
//! time, so a word's postings read newest first. They are packed per block of
//! ticket numbers, written when the block seals; the open tail (the newest
//! block or so) is searched in its term documents (`blocks` says why and how).
//! A ticket is in a posting while some part of it (its fields, a note, a
//! message) holds the stem: the term document counts them, so a stem the
//! ticket already has costs no write, and applies a part's change only from
//! the state it was made from, so a redelivered record changes nothing. Only
//! the indexer (from the stream) and the rebuild write these.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, DeleteRequest, PutRequest, TransactWriteItem, Update, WriteRequest,
};
use desk_domain::listing::{Order, Page, TicketQuery};
use desk_domain::stream::counts::{BucketCounts, CountChange};
use desk_domain::stream::search::{dictionary_shard, query_groups, PostingChange, TermGroup};
use desk_domain::stream::IndexStore;
use desk_domain::{DeskError, DeskResult, Priority, Status, Ticket, TicketNumber};
use futures::{StreamExt, TryStreamExt};

use crate::blocks::{number_key_u64, posting_numbers, Blocks};
use crate::cursor::{self, Position};
use crate::item::{s, Item};
use crate::keys;
use crate::DynamoStore;

pub const POSTING_PREFIX: &str = "W#";
pub const WORD_LIST_PREFIX: &str = "WD#";
pub const COUNTS_PK: &str = "COUNTS";
pub const COUNTED_PREFIX: &str = "COUNTED#";
/// A ticket's term document: how many of its parts hold each stem, and each
/// part's stems as last applied (their fingerprint).
pub const TERMS_PREFIX: &str = "TERMS#";
pub(crate) const TERMS_SK: &str = "TERMS";
/// A word list entry's stem (whose postings the word finds).
const STEM: &str = "stem";
/// Where a ticket counts (`Bucket::key`), on its `COUNTED#<n>` item.
const BUCKET: &str = "bucket";
/// Postings read per Query.
const POSTING_PAGE: i32 = 500;
/// Candidates checked per round (verification and ticket reads in parallel).
const CHUNK: usize = 100;
/// Index writes in flight per change.
const WRITES_IN_FLIGHT: usize = 8;
/// A search sorted by anything but creation sorts its matches in memory: at most this many.
pub const MAX_SORTED_MATCHES: usize = 1_000;

pub(crate) fn posting_pk(term: &str) -> String {
    format!("{POSTING_PREFIX}{term}")
}

pub(crate) fn number_key(n: TicketNumber) -> String {
    format!("{:012}", n.get())
}

pub(crate) fn key(pk: String, sk: String) -> Item {
    HashMap::from([(keys::PK.to_string(), s(pk)), (keys::SK.to_string(), s(sk))])
}

/// A batch write: `item` put, or deleted by its key.
pub(crate) fn request(put: bool, item: Item) -> DeskResult<WriteRequest> {
    let b = WriteRequest::builder();
    Ok(if put {
        b.put_request(
            PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map_err(|e| DeskError::Storage(e.to_string()))?,
        )
        .build()
    } else {
        b.delete_request(
            DeleteRequest::builder()
                .set_key(Some(item))
                .build()
                .map_err(|e| DeskError::Storage(e.to_string()))?,
        )
        .build()
    })
}

/// A word list entry: `word`, in its shard, and the stem whose postings it finds.
fn word_item(word: &str, stem: &str) -> Item {
    let mut item = key(
        format!("{WORD_LIST_PREFIX}{}", dictionary_shard(word)),
        word.to_string(),
    );
    item.insert(STEM.into(), s(stem.to_string()));
    item
}

/// A term document at `version`: parts per stem, and each part's fingerprint.
fn term_doc(
    doc_key: Item,
    version: u64,
    counts: HashMap<String, i64>,
    parts: HashMap<String, String>,
) -> Item {
    let mut item = doc_key;
    item.insert("v".into(), AttributeValue::N(version.to_string()));
    item.insert(
        "c".into(),
        AttributeValue::M(
            counts
                .into_iter()
                .map(|(k, n)| (k, AttributeValue::N(n.to_string())))
                .collect(),
        ),
    );
    item.insert(
        "p".into(),
        AttributeValue::M(parts.into_iter().map(|(k, v)| (k, s(v))).collect()),
    );
    item
}

/// Words already in the word list, as far as this process wrote them (saves a
/// write per word and part once a container is warm).
#[derive(Clone, Default)]
pub(crate) struct KnownWords(Arc<Mutex<HashSet<String>>>);

impl KnownWords {
    const CAP: usize = 200_000;

    /// Whether `word` is new to this process (and now known).
    fn first_time(&self, word: &str) -> bool {
        let mut set = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if set.len() >= Self::CAP {
            set.clear();
        }
        set.insert(word.to_string())
    }
}

#[async_trait]
impl IndexStore for DynamoStore {
    async fn apply_postings(&self, change: &PostingChange) -> DeskResult<()> {
        // Only a rebuild running beside the stream can race the term document.
        for _ in 0..5 {
            if self.try_apply_postings(change).await? {
                return Ok(());
            }
        }
        Err(DeskError::Storage(format!(
            "the term document of ticket {} kept changing",
            change.ticket
        )))
    }

    async fn apply_counts(&self, change: &CountChange) -> DeskResult<()> {
        let counted = key(
            format!("{COUNTED_PREFIX}{}", change.ticket.get()),
            "COUNTED".into(),
        );
        let storage = |e: aws_sdk_dynamodb::error::BuildError| DeskError::Storage(e.to_string());
        // The guard: the ticket is moved only from where it is counted, so a
        // redelivered move finds it elsewhere and changes nothing.
        let guard = match (&change.from, &change.to) {
            (None, Some(to)) => crate::tx::put(
                &self.table,
                {
                    let mut item = counted.clone();
                    item.insert(BUCKET.into(), s(to.key()));
                    item
                },
                Some("attribute_not_exists(pk)"),
            )?,
            (Some(from), Some(to)) => TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(counted.clone()))
                        .update_expression("SET #b = :to")
                        .condition_expression("#b = :from")
                        .expression_attribute_names("#b", BUCKET)
                        .expression_attribute_values(":to", s(to.key()))
                        .expression_attribute_values(":from", s(from.key()))
                        .build()
                        .map_err(storage)?,
                )
                .build(),
            (Some(from), None) => TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(counted.clone()))
                        .condition_expression("#b = :from")
                        .expression_attribute_names("#b", BUCKET)
                        .expression_attribute_values(":from", s(from.key()))
                        .build()
                        .map_err(storage)?,
                )
                .build(),
            (None, None) => return Ok(()),
        };
        let mut deltas: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        for (bucket, by) in [(&change.from, -1), (&change.to, 1)] {
            if let Some(b) = bucket {
                let d = deltas.entry(b.assignee.clone()).or_default();
                *d.entry(format!("s_{}", b.status.as_str())).or_default() += by;
                *d.entry(format!("p_{}", b.priority.as_str())).or_default() += by;
            }
        }
        let mut request = self.client.transact_write_items().transact_items(guard);
        for (assignee, attrs) in deltas {
            let attrs: Vec<(String, i64)> = attrs.into_iter().filter(|(_, n)| *n != 0).collect();
            if attrs.is_empty() {
                continue;
            }
            let mut update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(COUNTS_PK.into(), assignee)));
            let mut adds = Vec::new();
            for (i, (attr, n)) in attrs.into_iter().enumerate() {
                adds.push(format!("#a{i} :v{i}"));
                update = update
                    .expression_attribute_names(format!("#a{i}"), attr)
                    .expression_attribute_values(
                        format!(":v{i}"),
                        AttributeValue::N(n.to_string()),
                    );
            }
            update = update.update_expression(format!("ADD {}", adds.join(", ")));
            request = request.transact_items(
                TransactWriteItem::builder()
                    .update(update.build().map_err(storage)?)
                    .build(),
            );
        }
        match crate::tx::transact(request).await {
            Ok(_) => Ok(()),
            Err(e) if crate::tx::condition_failed_at(&e, 0) => {
                tracing::debug!(ticket = change.ticket.get(), "count move already applied");
                Ok(())
            }
            Err(e) => Err(crate::storage("TransactWriteItems counts")(e)),
        }
    }
}

/// A failed conditional write of the term document: `None` when only the
/// condition failed (someone else wrote it meanwhile), else the storage error.
fn unless_raced<E>(
    op: &'static str,
) -> impl FnOnce(aws_sdk_dynamodb::error::SdkError<E>) -> Option<DeskError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |e| {
        let raced = e.as_service_error().and_then(|se| se.code())
            == Some("ConditionalCheckFailedException");
        (!raced).then(|| crate::storage(op)(e))
    }
}

/// What one posting partition has given so far.
struct Reader {
    term: String,
    keys: Vec<String>,
    resume: Option<Item>,
    done: bool,
}

/// One query word's readers (its stem and the words its prefix expands to).
struct Group {
    readers: Vec<Reader>,
    seen: HashSet<String>,
}

impl Group {
    fn complete(&self) -> bool {
        self.readers.iter().all(|r| r.done)
    }

    /// How far the union is known: every key up to the least advanced
    /// unfinished reader's last key is read (`None`: all of it).
    fn bound(&self, forward: bool) -> Option<&str> {
        let last = self
            .readers
            .iter()
            .filter(|r| !r.done)
            .filter_map(|r| r.keys.last().map(String::as_str));
        if forward {
            last.min()
        } else {
            last.max()
        }
    }

    fn known(&self, k: &str, forward: bool) -> bool {
        match self.bound(forward) {
            None => true,
            Some(b) => {
                if forward {
                    k <= b
                } else {
                    k >= b
                }
            }
        }
    }

    fn absorb(&mut self) {
        for r in &self.readers {
            self.seen.extend(r.keys.iter().cloned());
        }
    }
}

/// The sealed part of a search: ticket numbers below the open tail, after the cursor.
#[derive(Clone, Copy)]
struct Span {
    size: u64,
    tail_start: u64,
    after: Option<u64>,
    forward: bool,
}

impl Span {
    /// The first and last block (their first numbers) that can hold a wanted number.
    fn block_range(&self) -> Option<(u64, u64)> {
        // No ticket is numbered below the first.
        let (lo, end) = if self.forward {
            (
                self.after.map_or(0, |a| a + 1).max(TicketNumber::FIRST),
                self.tail_start,
            )
        } else {
            (
                TicketNumber::FIRST,
                self.after
                    .map_or(self.tail_start, |a| a.min(self.tail_start)),
            )
        };
        (lo < end).then(|| {
            (
                lo / self.size * self.size,
                (end - 1) / self.size * self.size,
            )
        })
    }

    fn wants(&self, n: u64) -> bool {
        n < self.tail_start
            && self
                .after
                .is_none_or(|a| if self.forward { n > a } else { n < a })
    }
}

impl DynamoStore {
    /// One part's change against the ticket's term document: postings are put
    /// for stems no part held, deleted for stems no part holds any more, then
    /// the document is written if nobody else wrote it meanwhile. `false`: it was.
    async fn try_apply_postings(&self, change: &PostingChange) -> DeskResult<bool> {
        let doc_key = key(
            format!("{TERMS_PREFIX}{}", change.ticket.get()),
            TERMS_SK.into(),
        );
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(doc_key.clone()))
            .consistent_read(true)
            .send()
            .await
            .map_err(crate::storage("GetItem terms"))?;
        let doc = out.item.unwrap_or_default();
        let version: u64 = doc
            .get("v")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let mut parts: HashMap<String, String> = doc
            .get("p")
            .and_then(|v| v.as_m().ok())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_s().ok()?.clone())))
                    .collect()
            })
            .unwrap_or_default();
        let mut counts: HashMap<String, i64> = doc
            .get("c")
            .and_then(|v| v.as_m().ok())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_n().ok()?.parse().ok()?)))
                    .collect()
            })
            .unwrap_or_default();
        let at = parts.get(&change.part).cloned().unwrap_or_default();
        let n = change.ticket.get();
        if at != change.before {
            // Applied already (a redelivery), or superseded by a later state.
            // Applied exactly this change (a part removed too): its direct
            // posting writes may have been cut short after the document, so
            // they are made again where its block takes them — adding what
            // the document holds and taking what it does not is idempotent.
            if at == change.after {
                let held: Vec<String> = change
                    .add
                    .iter()
                    .filter(|s| counts.contains_key(*s))
                    .cloned()
                    .collect();
                let gone: Vec<String> = change
                    .remove
                    .iter()
                    .filter(|s| !counts.contains_key(*s))
                    .cloned()
                    .collect();
                if (!held.is_empty() || !gone.is_empty())
                    && self.posting_blocks(true).await?.direct(n)
                {
                    self.write_postings_direct(&[n], &held, &gone).await?;
                }
            }
            tracing::debug!(ticket = n, part = %change.part, "postings already applied");
            return Ok(true);
        }
        // Stems the ticket gains (no part held them) and loses (no part holds them now).
        let mut gained: Vec<String> = Vec::new();
        let mut lost: Vec<String> = Vec::new();
        for stem in &change.add {
            let c = counts.entry(stem.clone()).or_insert(0);
            *c += 1;
            if *c == 1 {
                gained.push(stem.clone());
            }
        }
        for stem in &change.remove {
            if let Some(c) = counts.get_mut(stem) {
                *c -= 1;
                if *c <= 0 {
                    counts.remove(stem);
                    lost.push(stem.clone());
                }
            }
        }
        // New words for the word list.
        let mut requests: Vec<WriteRequest> = Vec::new();
        for (word, stem) in change
            .words
            .iter()
            .filter(|(w, _)| self.known_words.first_time(w))
        {
            requests.push(request(true, word_item(word, stem))?);
        }
        self.write_all(requests).await?;
        // A sealed block's postings take the gains before the document says
        // applied (a retry would skip them) and the losses after it (a
        // failure then leaves a stem too many, which the retry takes away).
        let sealed = self.surely_sealed(n);
        if sealed {
            self.write_postings_direct(&[n], &gained, &[]).await?;
        }

        // The document last: once it says applied, an open block's postings are there (in it).
        if change.after.is_empty() {
            parts.remove(&change.part);
        } else {
            parts.insert(change.part.clone(), change.after.clone());
        }
        let condition = if version == 0 {
            "attribute_not_exists(pk)"
        } else {
            "v = :v"
        };
        let written = if parts.is_empty() && counts.is_empty() {
            let mut req = self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(doc_key))
                .condition_expression(condition);
            if version > 0 {
                req = req.expression_attribute_values(":v", AttributeValue::N(version.to_string()));
            }
            req.send()
                .await
                .map(|_| ())
                .map_err(unless_raced("DeleteItem terms"))
        } else {
            let item = term_doc(doc_key, version + 1, counts, parts);
            let mut req = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression(condition);
            if version > 0 {
                req = req.expression_attribute_values(":v", AttributeValue::N(version.to_string()));
            }
            req.send()
                .await
                .map(|_| ())
                .map_err(unless_raced("PutItem terms"))
        };
        match written {
            Ok(()) => {}
            // Someone else wrote the document meanwhile: read it again.
            Err(None) => return Ok(false),
            Err(Some(e)) => return Err(e),
        }
        if sealed {
            self.write_postings_direct(&[n], &[], &lost).await?;
            return Ok(true);
        }
        // Read after the document: if the block is being sealed, the sealer
        // may have read the document before this change.
        let blocks = self.posting_blocks(true).await?;
        if blocks.direct(n) {
            self.write_postings_direct(&[n], &gained, &lost).await?;
        } else if blocks.due(n) {
            self.seal_due(n).await?;
        }
        Ok(true)
    }

    /// Bulk load of the index for tickets it has never held (a benchmark's
    /// imported table, which has no stream): each ticket's term document, the
    /// postings of the blocks that would be sealed by now (`Blocks::settled`
    /// for `newest`, the desk's newest ticket number: the same for every part
    /// of an import made in chunks), and the word list's new words,
    /// batch-written without reads or conditions — what applying the same
    /// changes one by one writes, in a fraction of the calls. Every change
    /// must be a new part (`before` empty) of a ticket without a term
    /// document: what the index held is overwritten. Counts are not touched.
    pub async fn import_postings(&self, changes: &[PostingChange], newest: u64) -> DeskResult<()> {
        let mut docs: BTreeMap<TicketNumber, (HashMap<String, i64>, HashMap<String, String>)> =
            BTreeMap::new();
        let mut requests: Vec<WriteRequest> = Vec::new();
        for change in changes {
            if !change.before.is_empty() || !change.remove.is_empty() {
                return Err(DeskError::Storage(format!(
                    "import_postings: part {} of ticket {} is not new",
                    change.part, change.ticket
                )));
            }
            let (counts, parts) = docs.entry(change.ticket).or_default();
            for stem in &change.add {
                *counts.entry(stem.clone()).or_insert(0) += 1;
            }
            parts.insert(change.part.clone(), change.after.clone());
            for (word, stem) in &change.words {
                if self.known_words.first_time(word) {
                    requests.push(request(true, word_item(word, stem))?);
                }
            }
        }
        let settled = Blocks::settled(self.block_size().await?, newest);
        let stems: BTreeMap<TicketNumber, HashMap<String, i64>> = docs
            .iter()
            .map(|(n, (counts, _))| (*n, counts.clone()))
            .collect();
        for item in crate::blocks::import_items(&stems, settled) {
            requests.push(request(true, item)?);
        }
        for (ticket, (counts, parts)) in docs {
            let doc_key = key(format!("{TERMS_PREFIX}{}", ticket.get()), TERMS_SK.into());
            requests.push(request(true, term_doc(doc_key, 1, counts, parts))?);
        }
        self.write_all(requests).await?;
        self.set_posting_blocks(settled).await
    }

    /// Puts and deletes in batches of 25, a few batches in flight.
    pub(crate) async fn write_all(&self, requests: Vec<WriteRequest>) -> DeskResult<()> {
        let batches: Vec<Vec<WriteRequest>> = requests.chunks(25).map(<[_]>::to_vec).collect();
        futures::stream::iter(batches.into_iter().map(|b| self.write_batch(b)))
            .buffer_unordered(WRITES_IN_FLIGHT)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    /// Writes up to 25 puts and deletes, retrying what DynamoDB leaves unprocessed.
    async fn write_batch(&self, mut requests: Vec<WriteRequest>) -> DeskResult<()> {
        for attempt in 0..10u32 {
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, requests)
                .send()
                .await
                .map_err(crate::storage("BatchWriteItem index"))?;
            requests = out
                .unprocessed_items
                .and_then(|mut m| m.remove(&self.table))
                .unwrap_or_default();
            if requests.is_empty() {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(10 << attempt.min(6))).await;
        }
        Err(DeskError::Storage(
            "BatchWriteItem: items left unprocessed".into(),
        ))
    }

    /// Every assignee key's counts: one Query (the keys are the desk's users and groups).
    pub(crate) async fn bucket_counts(&self) -> DeskResult<Vec<BucketCounts>> {
        let items = self.partition_items(COUNTS_PK).await?;
        Ok(items
            .iter()
            .filter_map(|item| {
                let assignee = item.get(keys::SK)?.as_s().ok()?;
                let n = |attr: String| {
                    item.get(&attr)
                        .and_then(|v| v.as_n().ok())
                        .and_then(|n| n.parse::<i64>().ok())
                        .unwrap_or(0)
                };
                Some(BucketCounts {
                    assignee: assignee.clone(),
                    status: Status::ALL
                        .iter()
                        .map(|st| (*st, n(format!("s_{}", st.as_str()))))
                        .collect(),
                    priority: Priority::ALL
                        .iter()
                        .map(|p| (*p, n(format!("p_{}", p.as_str()))))
                        .collect(),
                })
            })
            .collect())
    }

    /// The words a query word reads: its stem, and the indexed words its prefix begins.
    async fn group_terms(&self, g: &TermGroup) -> DeskResult<Vec<String>> {
        let mut terms = g.words.clone();
        if let Some(prefix) = &g.prefix {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :p)")
                .expression_attribute_values(
                    ":pk",
                    s(format!("{WORD_LIST_PREFIX}{}", dictionary_shard(prefix))),
                )
                .expression_attribute_values(":p", s(prefix.clone()))
                .limit(desk_domain::stream::search::MAX_PREFIX_WORDS as i32)
                .send()
                .await
                .map_err(crate::storage("Query word list"))?;
            for item in out.items() {
                if let Some(stem) = item.get(STEM).and_then(|v| v.as_s().ok()) {
                    if !terms.contains(stem) {
                        terms.push(stem.clone());
                    }
                }
            }
        }
        Ok(terms)
    }

    /// The next page of one posting partition within `span`.
    async fn read_postings(&self, reader: &mut Reader, span: Span) -> DeskResult<()> {
        let Some((lo, hi)) = span.block_range() else {
            reader.done = true;
            return Ok(());
        };
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", s(posting_pk(&reader.term)))
            .expression_attribute_values(":lo", s(number_key_u64(lo)))
            .expression_attribute_values(":hi", s(number_key_u64(hi)))
            .projection_expression("sk, #t")
            .expression_attribute_names("#t", crate::blocks::OFFSETS)
            .scan_index_forward(span.forward)
            .limit(POSTING_PAGE);
        loop {
            let out = request
                .clone()
                .set_exclusive_start_key(reader.resume.take())
                .send()
                .await
                .map_err(crate::storage("Query postings"))?;
            let before = reader.keys.len();
            for item in out.items() {
                let mut numbers: Vec<u64> = posting_numbers(item)
                    .into_iter()
                    .filter(|n| span.wants(*n))
                    .collect();
                numbers.sort_unstable();
                if !span.forward {
                    numbers.reverse();
                }
                reader.keys.extend(numbers.into_iter().map(number_key_u64));
            }
            reader.resume = out.last_evaluated_key;
            reader.done = reader.resume.is_none();
            // A page always ends on a key read, so the known range has an end.
            if reader.done || reader.keys.len() > before {
                return Ok(());
            }
        }
    }

    /// Which of `candidates` (number keys) `group` holds, reading the posting
    /// blocks not read yet directly (BatchGetItem).
    async fn held_by(
        &self,
        group: &Group,
        candidates: &[String],
        span: Span,
    ) -> DeskResult<HashSet<String>> {
        let mut held: HashSet<String> = HashSet::new();
        let mut lookups: HashSet<(String, u64)> = HashSet::new();
        for c in candidates {
            if group.seen.contains(c) {
                held.insert(c.clone());
            } else if !group.known(c, span.forward) {
                let Ok(n) = c.parse::<u64>() else { continue };
                for r in &group.readers {
                    lookups.insert((r.term.clone(), n / span.size * span.size));
                }
            }
        }
        let lookups: Vec<Item> = lookups
            .into_iter()
            .map(|(term, start)| key(posting_pk(&term), number_key_u64(start)))
            .collect();
        for item in self.batch_get_all(lookups, false, None).await? {
            held.extend(posting_numbers(&item).into_iter().map(number_key_u64));
        }
        Ok(held)
    }

    /// The tickets at `keys` (in order) that pass the query's filters, added
    /// to `found` until it holds `want`; `true` once it does.
    async fn admit(
        &self,
        q: &TicketQuery,
        keys: &[String],
        forward: bool,
        found: &mut Vec<(String, Ticket)>,
        want: usize,
    ) -> DeskResult<bool> {
        for chunk in keys.chunks(CHUNK) {
            let pks: Vec<AttributeValue> = chunk
                .iter()
                .filter_map(|k| k.parse::<u64>().ok())
                .filter_map(|n| TicketNumber::new(n).ok())
                .map(|n| s(keys::ticket_pk(n)))
                .collect();
            let mut tickets: Vec<(String, Ticket)> = self
                .tickets_at(pks)
                .await?
                .into_iter()
                .filter(|t| q.matches_filters(t))
                .map(|t| (number_key(t.number), t))
                .collect();
            tickets.sort_by(|a, b| a.0.cmp(&b.0));
            if !forward {
                tickets.reverse();
            }
            found.extend(tickets);
            if found.len() >= want {
                found.truncate(want);
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Tickets matching every word of `q` and its filters, in creation order
    /// (newest first unless ascending), after `after`, until `want` are found:
    /// the open tail's from their term documents, the sealed blocks' from
    /// their postings. Work grows with the postings of the query's rarest word,
    /// with the matches and with the tail (at most ~1¼ blocks), not with the table.
    async fn search_matches(
        &self,
        q: &TicketQuery,
        after: Option<&str>,
        forward: bool,
        want: usize,
    ) -> DeskResult<Vec<(String, Ticket)>> {
        let after: Option<u64> = after.and_then(|a| a.parse().ok());
        let groups = query_groups(&q.terms);
        let (terms, (blocks, newest)) = futures::future::try_join(
            futures::future::try_join_all(groups.iter().map(|g| self.group_terms(g))),
            self.tail_bounds(),
        )
        .await?;
        let span = Span {
            size: blocks.size,
            tail_start: blocks.tail_start(),
            after,
            forward,
        };
        let tail_range = if forward {
            span.tail_start.max(after.map_or(0, |a| a + 1))..newest + 1
        } else {
            span.tail_start..(newest + 1).min(after.unwrap_or(u64::MAX))
        };
        let mut groups: Vec<Group> = terms
            .iter()
            .map(|ts| Group {
                readers: ts
                    .iter()
                    .map(|term| Reader {
                        term: term.clone(),
                        keys: vec![],
                        resume: None,
                        done: false,
                    })
                    .collect(),
                seen: HashSet::new(),
            })
            .collect();
        // The open tail, and the first page of every posting partition, in parallel.
        let (tail, _) = futures::future::try_join(
            self.tail_matches(tail_range, &terms),
            futures::future::try_join_all(
                groups
                    .iter_mut()
                    .flat_map(|g| g.readers.iter_mut().map(|r| self.read_postings(r, span))),
            ),
        )
        .await?;
        let mut tail: Vec<String> = tail.into_iter().map(number_key_u64).collect();
        if !forward {
            tail.reverse();
        }
        let mut found: Vec<(String, Ticket)> = Vec::new();
        // Newest first, the tail's tickets come first: read with the first
        // sealed candidates (one BatchGetItem), unless they fill the page alone.
        let mut pending: Vec<String> = Vec::new();
        if !forward {
            if tail.len() >= want {
                if self.admit(q, &tail, forward, &mut found, want).await? {
                    return Ok(found);
                }
                tail.clear();
            } else {
                pending = std::mem::take(&mut tail);
            }
        }
        for g in &mut groups {
            g.absorb();
        }
        // The driver: the smallest complete group, else the one read furthest
        // (the sparsest); the others are only asked about its candidates.
        let complete = (0..groups.len())
            .filter(|&i| groups[i].complete())
            .min_by_key(|&i| groups[i].seen.len());
        let driver = complete.unwrap_or_else(|| {
            let bounds =
                (0..groups.len()).map(|i| (i, groups[i].bound(forward).unwrap_or_default()));
            let furthest = if forward {
                bounds.max_by(|a, b| a.1.cmp(b.1))
            } else {
                bounds.min_by(|a, b| a.1.cmp(b.1))
            };
            furthest.map_or(0, |(i, _)| i)
        });
        let mut done_upto: Option<String> = None;
        while !groups.is_empty() {
            let g = &groups[driver];
            let mut candidates: Vec<String> = g
                .seen
                .iter()
                .filter(|k| g.known(k, forward))
                .filter(|k| {
                    done_upto.as_deref().is_none_or(|d| {
                        if forward {
                            k.as_str() > d
                        } else {
                            k.as_str() < d
                        }
                    })
                })
                .cloned()
                .collect();
            candidates.sort();
            if !forward {
                candidates.reverse();
            }
            for chunk in candidates.chunks(CHUNK) {
                let others = groups
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != driver)
                    .map(|(_, g)| self.held_by(g, chunk, span));
                let held = futures::future::try_join_all(others).await?;
                let matching: Vec<String> = pending
                    .drain(..)
                    .chain(
                        chunk
                            .iter()
                            .filter(|k| held.iter().all(|h| h.contains(*k)))
                            .cloned(),
                    )
                    .collect();
                if self.admit(q, &matching, forward, &mut found, want).await? {
                    return Ok(found);
                }
                done_upto = chunk.last().cloned();
            }
            if groups[driver].complete() {
                break;
            }
            // Read on where the driver's known range ends.
            let g = &mut groups[driver];
            futures::future::try_join_all(
                g.readers
                    .iter_mut()
                    .filter(|r| !r.done)
                    .map(|r| self.read_postings(r, span)),
            )
            .await?;
            g.absorb();
        }
        // Ascending, the tail comes last; newest first, it may not have been read yet.
        pending.extend(tail);
        self.admit(q, &pending, forward, &mut found, want).await?;
        Ok(found)
    }

    /// A search page in creation order (newest first by default): the cursor is
    /// the last ticket's number.
    pub(crate) async fn search_page(&self, q: &TicketQuery, fp: &str) -> DeskResult<Page<Ticket>> {
        let forward = q.order == Order::Asc;
        let after = match &q.cursor {
            Some(c) => match cursor::decode_positions(fp, c, 1, &[keys::SK], |_, k| {
                k.get(keys::SK).len() == 12 && k.get(keys::SK).bytes().all(|b| b.is_ascii_digit())
            })?
            .pop()
            {
                Some(Position::After(k)) => k.get(keys::SK).and_then(|v| v.as_s().ok()).cloned(),
                _ => return Err(DeskError::InvalidCursor),
            },
            None => None,
        };
        let mut found = self
            .search_matches(q, after.as_deref(), forward, q.limit + 1)
            .await?;
        let more = found.len() > q.limit;
        found.truncate(q.limit);
        let next_cursor = match found.last() {
            Some((k, _)) if more => Some(
                cursor::encode_positions(
                    fp,
                    &[Position::After(HashMap::from([(
                        keys::SK.to_string(),
                        s(k.clone()),
                    )]))],
                    &[keys::SK],
                )
                .ok_or_else(|| DeskError::Storage("cursor not encodable".into()))?,
            ),
            _ => None,
        };
        Ok(Page {
            items: found.into_iter().map(|(_, t)| t).collect(),
            next_cursor,
        })
    }

    /// Every ticket matching a search, for a page sorted by another field.
    pub(crate) async fn search_all(&self, q: &TicketQuery) -> DeskResult<Vec<Ticket>> {
        let found = self
            .search_matches(q, None, false, MAX_SORTED_MATCHES + 1)
            .await?;
        if found.len() > MAX_SORTED_MATCHES {
            return Err(DeskError::invalid(
                "q",
                format!(
                    "matches more than {MAX_SORTED_MATCHES} tickets: add a word or a filter, or sort by created"
                ),
            ));
        }
        Ok(found.into_iter().map(|(_, t)| t).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(after: Option<u64>, forward: bool) -> Span {
        Span {
            size: 8,
            tail_start: 1024,
            after,
            forward,
        }
    }

    #[test]
    fn the_sealed_part_is_every_block_below_the_tail_on_the_cursors_side() {
        // 1001 is in the block from 1000; 1023 in the one from 1016.
        assert_eq!(span(None, false).block_range(), Some((1000, 1016)));
        assert_eq!(span(None, true).block_range(), Some((1000, 1016)));
        // After 1010, newest first: the blocks up to 1010's; ascending: from it on.
        assert_eq!(span(Some(1010), false).block_range(), Some((1000, 1008)));
        assert_eq!(span(Some(1010), true).block_range(), Some((1008, 1016)));
        // A cursor in the tail, newest first: all of the sealed part.
        assert_eq!(span(Some(1030), false).block_range(), Some((1000, 1016)));
        // Nothing left: ascending past the sealed part, newest first before the first ticket.
        assert_eq!(span(Some(1023), true).block_range(), None);
        assert_eq!(span(Some(1001), false).block_range(), None);
        let nothing_sealed = Span {
            tail_start: 1000,
            ..span(None, false)
        };
        assert_eq!(nothing_sealed.block_range(), None);
    }

    #[test]
    fn a_sealed_span_wants_the_numbers_past_the_cursor_below_the_tail() {
        assert!(span(Some(1010), false).wants(1009));
        assert!(!span(Some(1010), false).wants(1010));
        assert!(span(Some(1010), true).wants(1011));
        assert!(!span(Some(1010), true).wants(1024));
        assert!(!span(None, false).wants(1024));
    }
}

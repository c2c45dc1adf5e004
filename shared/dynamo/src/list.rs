//! List pages: the partitions `keys::plan` chose, read in parallel and merged in
//! sort order under one cursor, so a page holds `limit` tickets whenever that many
//! match. A partition is read again only while a filter its key does not apply
//! leaves the page short; the partitions are chosen so that this is rare.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnConsumedCapacity};
use desk_domain::listing::{Page, TicketQuery};
use desk_domain::{DeskError, DeskResult, Scope, Tag, Ticket};

use crate::cursor::{self, Position};
use crate::item::{from_item, s, Item};
use crate::keys::{self, Gather, ListIndex, Plan};
use crate::DynamoStore;

/// With a filter in force, the first Query of a partition evaluates this many
/// items per requested one, and each further Query this many times more.
const FILTER_READ_FACTOR: usize = 4;
/// Evaluated items per Query at most (DynamoDB stops at 1 MB anyway).
const MAX_EVALUATED: usize = 4_000;

/// What the filter expression tests beyond the partition key.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Covered {
    pub status: bool,
    pub assignee: bool,
    pub customer: bool,
    /// This tag is the partition (tag links).
    pub tag: Option<usize>,
}

/// The filter expression for everything the partition key does not apply.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    clauses: Vec<String>,
    values: Vec<(String, AttributeValue)>,
    names: Vec<(String, String)>,
}

impl Filter {
    fn value(&mut self, v: String) -> String {
        let name = format!(":f{}", self.values.len());
        self.values.push((name.clone(), s(v)));
        name
    }

    fn alias(&mut self, attr: &str) -> String {
        let alias = format!("#{attr}");
        if !self.names.iter().any(|(a, _)| *a == alias) {
            self.names.push((alias.clone(), attr.to_string()));
        }
        alias
    }

    fn any_of(&mut self, attr: &str, values: impl IntoIterator<Item = String>) {
        let placeholders: Vec<String> = values.into_iter().map(|v| self.value(v)).collect();
        if !placeholders.is_empty() {
            let alias = self.alias(attr);
            self.clauses
                .push(format!("{alias} IN ({})", placeholders.join(", ")));
        }
    }

    fn contains(&mut self, attr: &str, v: String) {
        self.contains_any(attr, [v]);
    }

    fn contains_any(&mut self, attr: &str, vs: impl IntoIterator<Item = String>) {
        let alias = self.alias(attr);
        let any: Vec<String> = vs
            .into_iter()
            .map(|v| format!("contains({alias}, {})", self.value(v)))
            .collect();
        self.clauses.push(format!("({})", any.join(" OR ")));
    }

    pub(crate) fn build(q: &TicketQuery, covered: Covered) -> Self {
        let mut f = Filter::default();
        if !covered.assignee {
            if let Scope::Assignees(keys) = &q.scope {
                f.any_of(keys::ASSIGNEE_PK, keys.iter().cloned());
            }
            if let Some(a) = &q.assignee {
                f.any_of(keys::ASSIGNEE_PK, [a.clone()]);
            }
        }
        if !covered.status {
            f.any_of(
                keys::STATUS_PK,
                q.status.iter().map(|s| s.as_str().to_string()),
            );
        }
        f.any_of(
            "priority",
            q.priority.iter().map(|p| p.as_str().to_string()),
        );
        if let Some(c) = &q.customer {
            if !covered.customer {
                f.any_of(keys::CUSTOMER_PK, [c.clone()]);
            }
        }
        for (i, t) in q.tags.iter().enumerate() {
            if covered.tag != Some(i) {
                f.contains("tags", t.as_str().to_string());
            }
        }
        f
    }

    fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    fn apply(&self, mut request: QueryFluentBuilder) -> QueryFluentBuilder {
        if self.is_empty() {
            return request;
        }
        request = request.filter_expression(self.clauses.join(" AND "));
        for (alias, name) in &self.names {
            request = request.expression_attribute_names(alias, name);
        }
        for (p, v) in &self.values {
            request = request.expression_attribute_values(p, v.clone());
        }
        request
    }
}

fn query_fingerprint(q: &TicketQuery, plan: &Plan) -> String {
    cursor::fingerprint(&format!(
        "{plan:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        q.scope, q.status, q.priority, q.assignee, q.tags, q.customer, q.terms, q.sort
    ))
}

/// What one partition gave: its matching items in index order, and the key to
/// resume after (`None`: the partition is exhausted).
struct Fetched {
    items: Vec<Item>,
    resume: Option<Item>,
}

/// Which partition of which index (or of the table, for tag links) to read.
struct Source<'a> {
    index: Option<ListIndex>,
    pk_attr: &'a str,
    partition: &'a str,
    forward: bool,
}

impl DynamoStore {
    /// Reads one partition from `start` until `want` items matched or it is exhausted.
    async fn fetch(
        &self,
        source: &Source<'_>,
        filter: &Filter,
        start: Option<Item>,
        want: usize,
    ) -> DeskResult<Fetched> {
        let had_cursor = start.is_some();
        let mut start = start;
        let mut items = Vec::new();
        let mut budget = if filter.is_empty() {
            want
        } else {
            want.saturating_mul(FILTER_READ_FACTOR)
        };
        loop {
            let request = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(source.index.map(|i| i.name.to_string()))
                .key_condition_expression("#ipk = :ipk")
                .expression_attribute_names("#ipk", source.pk_attr)
                .expression_attribute_values(":ipk", s(source.partition))
                .scan_index_forward(source.forward)
                .limit(budget.clamp(1, MAX_EVALUATED) as i32)
                // Free to ask for; logged below so the cost of every read is visible.
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .set_exclusive_start_key(start.take());
            let out = filter
                .apply(request)
                .send()
                .await
                .map_err(crate::query_failed("Query list", had_cursor))?;
            tracing::debug!(
                index = source.index.map_or("table", |i| i.name),
                partition = source.partition,
                evaluated = out.scanned_count(),
                matched = out.count(),
                rcu = out.consumed_capacity().and_then(|c| c.capacity_units()),
                "list read"
            );
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if items.len() < want => {
                    start = Some(k);
                    budget = budget.saturating_mul(FILTER_READ_FACTOR);
                }
                resume => return Ok(Fetched { items, resume }),
            }
        }
    }

    pub(crate) async fn list_page(&self, q: &TicketQuery) -> DeskResult<Page<Ticket>> {
        let plan = keys::plan(q);
        let fp = query_fingerprint(q, &plan);
        match &plan {
            Plan::Partitions {
                index,
                partitions,
                forward,
                merge_by,
                by_status_key,
                by_assignee_key,
                by_customer_key,
            } => {
                let covered = Covered {
                    status: *by_status_key,
                    assignee: *by_assignee_key,
                    customer: *by_customer_key,
                    ..Covered::default()
                };
                self.merged(q, &fp, *index, partitions, *forward, merge_by, covered)
                    .await
            }
            Plan::Gather { source, forward } => self.gathered(q, &fp, source, *forward).await,
            Plan::Search { .. } => self.search_page(q, &fp).await,
        }
    }

    /// One Query per partition in parallel, merged by `merge_by`; the cursor holds
    /// each partition's position.
    #[allow(clippy::too_many_arguments)]
    async fn merged(
        &self,
        q: &TicketQuery,
        fp: &str,
        index: ListIndex,
        partitions: &[String],
        forward: bool,
        merge_by: &str,
        covered: Covered,
    ) -> DeskResult<Page<Ticket>> {
        let key_names = [keys::PK, keys::SK, index.pk, index.sk];
        let positions = match &q.cursor {
            Some(c) => cursor::decode_positions(
                fp,
                c,
                partitions.len(),
                &key_names,
                |i, k: &cursor::Keys| {
                    k.get(index.pk) == partitions[i]
                        && k.get(keys::PK).starts_with("TICKET#")
                        && k.get(keys::SK) == keys::TICKET_SK
                },
            )?,
            None => vec![Position::Start; partitions.len()],
        };
        let filter = Filter::build(q, covered);
        let reads = partitions.iter().zip(&positions).map(|(p, pos)| {
            let filter = &filter;
            async move {
                let start = match pos {
                    Position::Done => return Ok(None),
                    Position::Start => None,
                    Position::After(k) => Some(k.clone()),
                };
                let source = Source {
                    index: Some(index),
                    pk_attr: index.pk,
                    partition: p,
                    forward,
                };
                self.fetch(&source, filter, start, q.limit).await.map(Some)
            }
        });
        let fetched: Vec<Option<Fetched>> = futures::future::try_join_all(reads).await?;

        // Merge: every fetched match with its partition, in page order.
        let mut all: Vec<(String, usize, usize)> = Vec::new();
        for (p, f) in fetched.iter().enumerate() {
            for (i, item) in f.iter().flat_map(|f| f.items.iter()).enumerate() {
                let key = item
                    .get(merge_by)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .ok_or_else(|| DeskError::Storage(format!("list item without {merge_by}")))?;
                all.push((key, p, i));
            }
        }
        all.sort();
        if !forward {
            all.reverse();
        }
        all.truncate(q.limit);

        let mut taken = vec![0usize; partitions.len()];
        for (_, p, i) in &all {
            taken[*p] = taken[*p].max(i + 1);
        }
        let mut next = Vec::with_capacity(partitions.len());
        for (p, f) in fetched.iter().enumerate() {
            next.push(match f {
                None => Position::Done,
                // Everything this partition gave is on the page: go on after it.
                Some(f) if taken[p] == f.items.len() => match &f.resume {
                    None => Position::Done,
                    Some(k) => Position::After(k.clone()),
                },
                // Part of it: resume right after the last one shown.
                Some(f) if taken[p] > 0 => Position::After(f.items[taken[p] - 1].clone()),
                Some(_) => positions[p].clone(),
            });
        }
        let next_cursor = if next.iter().all(|p| *p == Position::Done) {
            None
        } else {
            Some(
                cursor::encode_positions(fp, &next, &key_names)
                    .ok_or_else(|| DeskError::Storage("list key not encodable".into()))?,
            )
        };
        // The indexes project only what the filter tests: the page's tickets by key.
        let pks: Vec<AttributeValue> = all
            .iter()
            .filter_map(|(_, p, i)| {
                fetched[*p]
                    .as_ref()
                    .and_then(|f| f.items[*i].get(keys::PK).cloned())
            })
            .collect();
        let items = self.tickets_in_order(pks).await?;
        Ok(Page { items, next_cursor })
    }

    /// A customer's tickets, or a tag's: the whole set, filtered, sorted in memory;
    /// the cursor is the sort key of the last ticket shown.
    async fn gathered(
        &self,
        q: &TicketQuery,
        fp: &str,
        source: &Gather,
        forward: bool,
    ) -> DeskResult<Page<Ticket>> {
        let sort_attr = keys::sort_attribute(q.sort);
        let after = match &q.cursor {
            Some(c) => match cursor::decode_positions(fp, c, 1, &[sort_attr], |_, _| true)?.pop() {
                Some(Position::After(k)) => k.get(sort_attr).and_then(|v| v.as_s().ok()).cloned(),
                _ => return Err(DeskError::InvalidCursor),
            },
            None => None,
        };
        let tickets: Vec<Ticket> = match source {
            Gather::Customer(c) => {
                let source = Source {
                    index: Some(keys::CUSTOMER_UPDATED),
                    pk_attr: keys::CUSTOMER_UPDATED.pk,
                    partition: c,
                    forward,
                };
                let covered = Covered {
                    customer: true,
                    ..Covered::default()
                };
                let f = Filter::build(q, covered);
                let found = self.fetch(&source, &f, None, usize::MAX).await?.items;
                self.tickets_at(
                    found
                        .iter()
                        .filter_map(|i| i.get(keys::PK).cloned())
                        .collect(),
                )
                .await?
            }
            Gather::Tag(t) => {
                let pk = keys::tag_pk(t);
                let source = Source {
                    index: None,
                    pk_attr: keys::PK,
                    partition: &pk,
                    forward,
                };
                let covered = Covered {
                    tag: Some(0),
                    ..Covered::default()
                };
                let f = Filter::build(q, covered);
                let links = self.fetch(&source, &f, None, usize::MAX).await?.items;
                self.tickets_of_links(&links).await?
            }
            // Matched through notes and mail too, and filtered already.
            Gather::Search => self.search_all(q).await?,
        };
        let mut keyed: Vec<(String, Ticket)> = tickets
            .into_iter()
            .filter(|t| q.matches_filters(t))
            .map(|t| (keys::sort_value(&t, q.sort), t))
            .filter(|(k, _)| match &after {
                None => true,
                Some(a) if forward => k > a,
                Some(a) => k < a,
            })
            .collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        if !forward {
            keyed.reverse();
        }
        let more = keyed.len() > q.limit;
        keyed.truncate(q.limit);
        let next_cursor = match keyed.last() {
            Some((k, _)) if more => Some(
                cursor::encode_positions(
                    fp,
                    &[Position::After(HashMap::from([(
                        sort_attr.to_string(),
                        s(k.clone()),
                    )]))],
                    &[sort_attr],
                )
                .ok_or_else(|| DeskError::Storage("sort key not encodable".into()))?,
            ),
            _ => None,
        };
        Ok(Page {
            items: keyed.into_iter().map(|(_, t)| t).collect(),
            next_cursor,
        })
    }

    /// The tickets tag links point to: BatchGetItem, 100 keys per call, in parallel.
    async fn tickets_of_links(&self, links: &[Item]) -> DeskResult<Vec<Ticket>> {
        self.tickets_at(
            links
                .iter()
                .filter_map(|l| l.get(keys::SK).cloned())
                .collect(),
        )
        .await
    }

    /// The tickets of these partition keys, in this order (a ticket deleted
    /// meanwhile is left out).
    pub(crate) async fn tickets_in_order(
        &self,
        pks: Vec<AttributeValue>,
    ) -> DeskResult<Vec<Ticket>> {
        let order: Vec<String> = pks.iter().filter_map(|v| v.as_s().ok().cloned()).collect();
        let mut by_pk: HashMap<String, Ticket> = self
            .tickets_at(pks)
            .await?
            .into_iter()
            .map(|t| (keys::ticket_pk(t.number), t))
            .collect();
        Ok(order.iter().filter_map(|pk| by_pk.remove(pk)).collect())
    }

    /// The tickets of these partition keys (`TICKET#<n>`), in no particular order:
    /// BatchGetItem, 100 keys per call, in parallel.
    pub(crate) async fn tickets_at(&self, pks: Vec<AttributeValue>) -> DeskResult<Vec<Ticket>> {
        if pks.is_empty() {
            return Ok(vec![]);
        }
        let keys: Vec<Item> = pks
            .into_iter()
            .map(|ticket_pk| {
                HashMap::from([
                    (keys::PK.to_string(), ticket_pk),
                    (keys::SK.to_string(), s(keys::TICKET_SK)),
                ])
            })
            .collect();
        self.batch_get_all(keys, false, None)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    /// Items by key, 100 per BatchGetItem, the calls in parallel.
    pub(crate) async fn batch_get_all(
        &self,
        keys: Vec<Item>,
        consistent: bool,
        projection: Option<&str>,
    ) -> DeskResult<Vec<Item>> {
        let reads = keys
            .chunks(100)
            .map(|chunk| self.batch_get_with(chunk.to_vec(), consistent, projection));
        Ok(futures::future::try_join_all(reads)
            .await?
            .into_iter()
            .flatten()
            .collect())
    }

    /// Up to 100 items by key in one BatchGetItem (retrying what it leaves
    /// unprocessed), strongly consistent or not, with a projection or whole.
    pub(crate) async fn batch_get_with(
        &self,
        keys: Vec<Item>,
        consistent: bool,
        projection: Option<&str>,
    ) -> DeskResult<Vec<Item>> {
        let mut pending = keys;
        let mut got = Vec::with_capacity(pending.len());
        for attempt in 0..10u32 {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(pending))
                .consistent_read(consistent)
                .set_projection_expression(projection.map(str::to_string))
                .build()
                .map_err(|e| DeskError::Storage(e.to_string()))?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(crate::storage("BatchGetItem"))?;
            if let Some(mut r) = out.responses {
                got.extend(r.remove(&self.table).unwrap_or_default());
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut m| m.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
            if pending.is_empty() {
                return Ok(got);
            }
            tokio::time::sleep(std::time::Duration::from_millis(10 << attempt.min(6))).await;
        }
        Err(DeskError::Storage(
            "BatchGetItem: keys left unprocessed".into(),
        ))
    }
}

/// A tag link: what the filter expression of a tag page tests.
pub(crate) fn tag_link(t: &Ticket, tag: &Tag) -> DeskResult<Item> {
    let tags = serde_dynamo::to_attribute_value(&t.tags)
        .map_err(|e| DeskError::Storage(format!("encode tags: {e}")))?;
    Ok(HashMap::from([
        (keys::PK.to_string(), s(keys::tag_pk(tag.as_str()))),
        (keys::SK.to_string(), s(keys::ticket_pk(t.number))),
        (
            keys::ASSIGNEE_PK.to_string(),
            s(desk_domain::Assignee::key_of(&t.assignee)),
        ),
        (keys::STATUS_PK.to_string(), s(t.status.as_str())),
        ("priority".to_string(), s(t.priority.as_str())),
        ("tags".to_string(), tags),
    ]))
}

/// Tags `previous` had that `next` has not: their links are deleted.
pub(crate) fn removed_tags<'a>(
    previous: &'a desk_domain::Tags,
    next: &'a Ticket,
) -> impl Iterator<Item = &'a Tag> + 'a {
    previous.iter().filter(|t| !next.tags.contains(t))
}

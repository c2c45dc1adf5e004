//! The key design. One table, generic `pk`/`sk`, and list indexes whose sort keys
//! encode each sort order, so every list page is a single Query.
//!
//! | item        | pk              | sk                 |
//! |-------------|-----------------|--------------------|
//! | ticket      | `TICKET#<n>`    | `TICKET`           |
//! | activity    | `TICKET#<n>`    | `ACT#<time id>`     |
//! | note        | `TICKET#<n>`    | `NOTE#<time id>`    |
//! | counter     | `COUNTER`       | `TICKET`           |
//! | user        | `USERS`         | `USER#<id>`        |
//! | group       | `GROUPS`        | `GROUP#<id>`       |
//! | mailbox     | `MAILBOXES`     | `MAILBOX#<id>`     |
//! | audit entry | `AUDIT`         | `<time id>`        |

use chrono::{DateTime, SecondsFormat, Utc};
use desk_domain::listing::{Order, SortKey, TicketQuery};
use desk_domain::{Assignee, Scope, Ticket, TicketNumber};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
/// Partition of the all-tickets list indexes (one value: every ticket).
pub const LIST_PK: &str = "lpk";
pub const LIST_PK_VALUE: &str = "T";
pub const STATUS_PK: &str = "status_pk";
pub const ASSIGNEE_PK: &str = "assignee_pk";
pub const CUSTOMER_PK: &str = "customer_pk";

pub const TICKET_SK: &str = "TICKET";
pub const COUNTER_PK: &str = "COUNTER";
pub const USERS_PK: &str = "USERS";
pub const GROUPS_PK: &str = "GROUPS";
pub const MAILBOXES_PK: &str = "MAILBOXES";
/// The administrators' audit trail, newest first by its time-ordered sort key.
pub const AUDIT_PK: &str = "AUDIT";

pub fn ticket_pk(n: TicketNumber) -> String {
    format!("TICKET#{n}")
}
pub fn activity_sk(id: &str) -> String {
    format!("ACT#{id}")
}
pub fn note_sk(id: &str) -> String {
    format!("NOTE#{id}")
}
pub fn user_sk(id: &str) -> String {
    format!("USER#{id}")
}
pub fn group_sk(id: &str) -> String {
    format!("GROUP#{id}")
}
pub fn mailbox_sk(id: &str) -> String {
    format!("MAILBOX#{id}")
}

/// A list index: its name, partition attribute and sort attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListIndex {
    pub name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
}

const fn idx(name: &'static str, pk: &'static str, sk: &'static str) -> ListIndex {
    ListIndex { name, pk, sk }
}

pub const BY_CREATED: ListIndex = idx("by_created", LIST_PK, "k_created");
pub const BY_UPDATED: ListIndex = idx("by_updated", LIST_PK, "k_updated");
pub const BY_PRIORITY: ListIndex = idx("by_priority", LIST_PK, "k_priority");
pub const BY_STATUS: ListIndex = idx("by_status", LIST_PK, "k_status");
pub const BY_NAME: ListIndex = idx("by_name", LIST_PK, "k_name");
pub const BY_CUSTOMER: ListIndex = idx("by_customer", LIST_PK, "k_customer");
pub const BY_ASSIGNEE: ListIndex = idx("by_assignee", LIST_PK, "k_assignee");
pub const STATUS_UPDATED: ListIndex = idx("status_updated", STATUS_PK, "k_updated");
pub const CUSTOMER_UPDATED: ListIndex = idx("customer_updated", CUSTOMER_PK, "k_updated");
/// Visibility partitions (one per assignee key: `user:x`, `group:y`, `none`), one
/// index per sort order: an agent's page reads only the partitions they may see,
/// and an assignee filter reads exactly one. `assignee_updated` doubles as the
/// by-update-time one. Sorting by assignee within one partition is sorting by
/// creation time, so `vis_created` serves it too.
pub const ASSIGNEE_UPDATED: ListIndex = idx("assignee_updated", ASSIGNEE_PK, "k_updated");
pub const VIS_CREATED: ListIndex = idx("vis_created", ASSIGNEE_PK, "k_created");
pub const VIS_PRIORITY: ListIndex = idx("vis_priority", ASSIGNEE_PK, "k_priority");
pub const VIS_STATUS: ListIndex = idx("vis_status", ASSIGNEE_PK, "k_status");
pub const VIS_NAME: ListIndex = idx("vis_name", ASSIGNEE_PK, "k_name");
pub const VIS_CUSTOMER: ListIndex = idx("vis_customer", ASSIGNEE_PK, "k_customer");

pub const LIST_INDEXES: [ListIndex; 15] = [
    BY_CREATED,
    BY_UPDATED,
    BY_PRIORITY,
    BY_STATUS,
    BY_NAME,
    BY_CUSTOMER,
    BY_ASSIGNEE,
    STATUS_UPDATED,
    ASSIGNEE_UPDATED,
    CUSTOMER_UPDATED,
    VIS_CREATED,
    VIS_PRIORITY,
    VIS_STATUS,
    VIS_NAME,
    VIS_CUSTOMER,
];

/// Tag links: one small item per (tag, ticket) in partition `TAG#<tag>`, carrying
/// what the filter expression tests (assignee, status, priority, tags), so a tag
/// filter reads only the tickets that carry the tag. Rewritten with every full
/// ticket write; they hold no update time, so touches leave them alone.
pub fn tag_pk(tag: &str) -> String {
    format!("TAG#{tag}")
}

/// Fixed-width UTC timestamp: sorts as text in time order.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn num(n: TicketNumber) -> String {
    format!("{:012}", n.get())
}

/// Sort-key text for a free-text value: lowercased, cut so keys stay small.
fn fold(s: &str) -> String {
    s.trim().to_lowercase().chars().take(64).collect()
}

/// Every index attribute of a ticket item, by attribute name.
pub fn ticket_index_attributes(t: &Ticket) -> Vec<(&'static str, String)> {
    let created = ts(t.created_at);
    let number = num(t.number);
    vec![
        (LIST_PK, LIST_PK_VALUE.to_string()),
        (BY_CREATED.sk, format!("{created}#{number}")),
        (BY_UPDATED.sk, updated_key(t.number, t.updated_at)),
        // Ties within a priority, status or assignee go by creation time.
        (
            BY_PRIORITY.sk,
            format!("{}#{created}#{number}", t.priority.rank()),
        ),
        (
            BY_STATUS.sk,
            format!("{}#{created}#{number}", t.status.rank()),
        ),
        (BY_NAME.sk, format!("{}#{number}", fold(&t.name))),
        (
            BY_CUSTOMER.sk,
            format!(
                "{}|{}#{number}",
                fold(&t.customer.name),
                t.customer.email.key()
            ),
        ),
        (
            BY_ASSIGNEE.sk,
            format!("{}#{created}#{number}", Assignee::key_of(&t.assignee)),
        ),
        (STATUS_PK, t.status.as_str().to_string()),
        (ASSIGNEE_PK, Assignee::key_of(&t.assignee)),
        (CUSTOMER_PK, t.customer.email.key()),
    ]
}

/// The value of the sort attribute for `sort` of a ticket (what its item holds).
pub fn sort_value(t: &Ticket, sort: SortKey) -> String {
    let attr = sort_attribute(sort);
    ticket_index_attributes(t)
        .into_iter()
        .find(|(name, _)| *name == attr)
        .map(|(_, v)| v)
        .unwrap_or_default()
}

pub fn updated_key(n: TicketNumber, updated_at: DateTime<Utc>) -> String {
    format!("{}#{}", ts(updated_at), num(n))
}

/// The sort-key attribute that orders a page for `sort`.
pub fn sort_attribute(sort: SortKey) -> &'static str {
    match sort {
        SortKey::Created => BY_CREATED.sk,
        SortKey::Updated => BY_UPDATED.sk,
        SortKey::Priority => BY_PRIORITY.sk,
        SortKey::Status => BY_STATUS.sk,
        SortKey::Name => BY_NAME.sk,
        SortKey::Customer => BY_CUSTOMER.sk,
        SortKey::Assignee => BY_ASSIGNEE.sk,
    }
}

/// How one list page is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// One Query per partition of `index` (in parallel), merged by `merge_by`.
    Partitions {
        index: ListIndex,
        partitions: Vec<String>,
        forward: bool,
        /// Attribute the merged page is ordered by (the index's sort key, except
        /// sorting by assignee over `vis_created`).
        merge_by: &'static str,
        /// Filters the partition key already applies (not repeated in the filter).
        by_status_key: bool,
        by_assignee_key: bool,
        by_customer_key: bool,
    },
    /// A small set read whole (a customer's tickets, a tag's links), filtered and
    /// sorted in memory: its work grows with the tickets in the set, not the table.
    Gather { source: Gather, forward: bool },
    /// A search in creation order: the postings of its words (`search.rs`).
    Search { forward: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gather {
    /// `customer_updated` partition of this customer key.
    Customer(String),
    /// Tag links of this tag, then the tickets.
    Tag(String),
    /// Every match of a search (sorted by another field than creation).
    Search,
}

/// Chooses the partitions: exactly the matching set where an index holds it
/// (assignee, customer, tag, single status for administrators), and for agents
/// only their visibility partitions.
pub fn plan(q: &TicketQuery) -> Plan {
    let forward = q.order == Order::Asc;
    let partitions = |index: ListIndex, partitions: Vec<String>| Plan::Partitions {
        index,
        partitions,
        forward,
        merge_by: index.sk,
        by_status_key: false,
        by_assignee_key: false,
        by_customer_key: false,
    };
    if !q.terms.is_empty() {
        // The full-text index answers; filters apply to its matches.
        return match q.sort {
            SortKey::Created => Plan::Search { forward },
            _ => Plan::Gather {
                source: Gather::Search,
                forward,
            },
        };
    }
    if let Some(c) = &q.customer {
        if q.sort == SortKey::Updated {
            return Plan::Partitions {
                index: CUSTOMER_UPDATED,
                partitions: vec![c.clone()],
                forward,
                merge_by: CUSTOMER_UPDATED.sk,
                by_status_key: false,
                by_assignee_key: false,
                by_customer_key: true,
            };
        }
        return Plan::Gather {
            source: Gather::Customer(c.clone()),
            forward,
        };
    }
    if let Some(t) = q.tags.first() {
        return Plan::Gather {
            source: Gather::Tag(t.as_str().to_string()),
            forward,
        };
    }
    // Which assignee partitions hold the answer: the one asked for, else the
    // caller's visibility (None: administrators, every ticket).
    let visible: Option<Vec<String>> = match (&q.assignee, &q.scope) {
        (Some(a), _) => Some(vec![a.clone()]),
        (None, Scope::Assignees(keys)) => Some(keys.clone()),
        (None, Scope::All) => None,
    };
    match visible {
        Some(keys) => {
            let index = match q.sort {
                SortKey::Created | SortKey::Assignee => VIS_CREATED,
                SortKey::Updated => ASSIGNEE_UPDATED,
                SortKey::Priority => VIS_PRIORITY,
                SortKey::Status => VIS_STATUS,
                SortKey::Name => VIS_NAME,
                SortKey::Customer => VIS_CUSTOMER,
            };
            Plan::Partitions {
                index,
                partitions: keys,
                forward,
                merge_by: sort_attribute(q.sort),
                by_status_key: false,
                by_assignee_key: true,
                by_customer_key: false,
            }
        }
        None => {
            if let ([s], SortKey::Updated) = (q.status.as_slice(), q.sort) {
                return Plan::Partitions {
                    index: STATUS_UPDATED,
                    partitions: vec![s.as_str().to_string()],
                    forward,
                    merge_by: STATUS_UPDATED.sk,
                    by_status_key: true,
                    by_assignee_key: false,
                    by_customer_key: false,
                };
            }
            let index = match q.sort {
                SortKey::Created => BY_CREATED,
                SortKey::Updated => BY_UPDATED,
                SortKey::Priority => BY_PRIORITY,
                SortKey::Status => BY_STATUS,
                SortKey::Name => BY_NAME,
                SortKey::Customer => BY_CUSTOMER,
                SortKey::Assignee => BY_ASSIGNEE,
            };
            partitions(index, vec![LIST_PK_VALUE.to_string()])
        }
    }
}

// ---- service cases --------------------------------------------------------
//
// | item              | pk              | sk          |
// |-------------------|-----------------|-------------|
// | case              | `CASE#<code>`   | `CASE`      |
// | ticket's live slot| `TICKET#<n>`    | `LIVECASE`  |
// | module            | `MODULES`       | `MODULE#<id>` |
// | rate counter      | `RATE#<key>#<window>` | `RATE` (expires by TTL) |

pub const CASE_SK: &str = "CASE";
pub const LIVE_SLOT_SK: &str = "LIVECASE";
pub const MODULES_PK: &str = "MODULES";
/// Partition of the Service Queue index (every case).
pub const CASE_LIST_PK: &str = "case_lpk";
pub const CASE_LIST_PK_VALUE: &str = "C";
pub const CASE_CREATED: &str = "k_case_created";
pub const CASE_ASSIGNEE: &str = "case_assignee";
pub const CASE_CREATOR: &str = "case_creator";
/// Sparse: present only while a case is live, so the expiry run reads due cases only.
pub const DUE_PK: &str = "due_pk";
pub const DUE_PK_VALUE: &str = "LIVE";
pub const DUE_KEY: &str = "k_due";
pub const CASES_BY_CREATED: ListIndex = idx("cases_by_created", CASE_LIST_PK, CASE_CREATED);
pub const CASES_DUE: ListIndex = idx("cases_due", DUE_PK, DUE_KEY);
/// Attribute DynamoDB's TTL deletes items by.
pub const TTL: &str = "ttl";

pub fn case_pk(code: &str) -> String {
    format!("CASE#{code}")
}
pub fn module_sk(id: &str) -> String {
    format!("MODULE#{id}")
}

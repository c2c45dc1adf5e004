//! Quick-filter counts: tickets per status and per priority, kept per assignee
//! key (the unit of visibility), so a caller's counts are the sum of the buckets
//! they may see — exact once the stream is drained.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Record;
use crate::access::Scope;
use crate::ticket::{Assignee, Ticket};
use crate::types::{Priority, Status, TicketNumber};

/// Where a ticket counts: its assignee key, status and priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub assignee: String,
    pub status: Status,
    pub priority: Priority,
}

impl Bucket {
    pub fn of(t: &Ticket) -> Self {
        Self {
            assignee: Assignee::key_of(&t.assignee),
            status: t.status,
            priority: t.priority,
        }
    }

    /// The bucket as one value (what the adapter compares to apply a move once).
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}",
            self.assignee,
            self.status.as_str(),
            self.priority.as_str()
        )
    }
}

/// One ticket moving between buckets (`None`: not counted, before creation or after deletion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountChange {
    pub ticket: TicketNumber,
    pub from: Option<Bucket>,
    pub to: Option<Bucket>,
}

impl Record {
    /// The count move of a ticket change (`None`: its bucket stayed, or not a ticket).
    pub fn count_change(&self) -> Option<CountChange> {
        let Record::Ticket { old, new } = self else {
            return None;
        };
        let ticket = new.as_ref().or(old.as_ref())?.number;
        let from = old.as_deref().map(Bucket::of);
        let to = new.as_deref().map(Bucket::of);
        (from != to).then_some(CountChange { ticket, from, to })
    }
}

/// One assignee key's counts, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BucketCounts {
    pub assignee: String,
    pub status: BTreeMap<Status, i64>,
    pub priority: BTreeMap<Priority, i64>,
}

/// `GET /tickets/counts`: what the caller may see, per status and per priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketCounts {
    pub total: i64,
    pub status: BTreeMap<&'static str, i64>,
    pub priority: BTreeMap<&'static str, i64>,
}

impl TicketCounts {
    /// The sum of the buckets `scope` may see; every status and priority present.
    pub fn sum(scope: &Scope, buckets: &[BucketCounts]) -> Self {
        let mut status: BTreeMap<&'static str, i64> =
            Status::ALL.iter().map(|s| (s.as_str(), 0)).collect();
        let mut priority: BTreeMap<&'static str, i64> =
            Priority::ALL.iter().map(|p| (p.as_str(), 0)).collect();
        let mut total = 0;
        for b in buckets.iter().filter(|b| scope.allows_key(&b.assignee)) {
            for (s, n) in &b.status {
                *status.entry(s.as_str()).or_default() += n;
                total += n;
            }
            for (p, n) in &b.priority {
                *priority.entry(p.as_str()).or_default() += n;
            }
        }
        Self {
            total,
            status,
            priority,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(a: &str, open: i64, closed: i64, high: i64) -> BucketCounts {
        BucketCounts {
            assignee: a.into(),
            status: [(Status::Open, open), (Status::Closed, closed)].into(),
            priority: [
                (Priority::High, high),
                (Priority::Low, open + closed - high),
            ]
            .into(),
        }
    }

    #[test]
    fn a_caller_counts_only_the_buckets_they_may_see() {
        let buckets = [
            bucket("user:alice", 2, 1, 1),
            bucket("group:support", 5, 0, 2),
            bucket("group:billing", 7, 7, 7),
            bucket("none", 1, 0, 0),
        ];
        let alice = Scope::Assignees(vec![
            "user:alice".into(),
            "group:support".into(),
            "none".into(),
        ]);
        let c = TicketCounts::sum(&alice, &buckets);
        assert_eq!(c.total, 9);
        assert_eq!(c.status["open"], 8);
        assert_eq!(c.status["closed"], 1);
        assert_eq!(c.status["waiting"], 0, "every status is listed");
        assert_eq!(c.priority["high"], 3);
        assert_eq!(TicketCounts::sum(&Scope::All, &buckets).total, 23);
    }
}

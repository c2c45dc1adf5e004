//! Merging a duplicate ticket (the source) into another (the target). Nothing is
//! copied: the target lists the tickets merged into it, and its messages, notes
//! and activity are read from all of them, in time order. The source is closed,
//! points at the target and takes no more writes; mail that threads to it lands
//! on the target. A merge is one transaction, so it happens whole or not at all.
//!
//! Merges flatten: merging B (which holds A) into C gives C `[B, A]` and repoints
//! A at C, so following a merged ticket is always one hop.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::Caller;
use crate::activity::{ActivityEntry, ActivityKind, Actor};
use crate::error::{DeskError, DeskResult};
use crate::service::Desk;
use crate::ticket::Ticket;
use crate::types::{Status, TicketNumber};

/// At most this many tickets are merged into one: what one transaction holds
/// beside both tickets, their tag links and the two log entries.
pub const MERGED_PER_TICKET: usize = 50;

/// `POST /tickets/{id}/merge` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The ticket that takes over the conversation.
    pub into: TicketNumber,
}

/// A merge as storage writes it: both tickets as read and as they become, and
/// one log entry for each.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketMerge {
    pub source: Ticket,
    pub source_previous: Ticket,
    pub target: Ticket,
    pub target_previous: Ticket,
    pub entries: [ActivityEntry; 2],
}

impl TicketMerge {
    /// The tickets merged into the source before, to point at the target now.
    pub fn repointed(&self) -> &[TicketNumber] {
        &self.source_previous.merged
    }
}

/// Both tickets after a merge.
#[derive(Debug, Clone, Serialize)]
pub struct Merged {
    pub source: Ticket,
    pub target: Ticket,
}

/// A write on a ticket that was merged: the answer names where to write instead.
pub fn merged_error(number: TicketNumber, target: TicketNumber) -> DeskError {
    DeskError::Conflict {
        code: "ticket_merged",
        message: format!("ticket {number} was merged into ticket {target}; use that one"),
    }
}

/// Plans merging `source` into `target` by `actor` at `now`, or says why not.
pub fn plan(
    source: &Ticket,
    target: &Ticket,
    actor: Actor,
    now: DateTime<Utc>,
) -> DeskResult<TicketMerge> {
    if source.number == target.number {
        return Err(DeskError::invalid(
            "into",
            "a ticket cannot be merged into itself",
        ));
    }
    if let Some(t) = source.merged_into {
        return Err(merged_error(source.number, t));
    }
    if let Some(t) = target.merged_into {
        return Err(DeskError::invalid(
            "into",
            format!(
                "ticket {} was merged into ticket {t}; merge into that one",
                target.number
            ),
        ));
    }
    let moved: Vec<TicketNumber> = source.thread();
    if target.merged.len() + moved.len() > MERGED_PER_TICKET {
        return Err(DeskError::Conflict {
            code: "too_many_merged",
            message: format!(
                "at most {MERGED_PER_TICKET} tickets can be merged into one; ticket {} holds {}",
                target.number,
                target.merged.len()
            ),
        });
    }

    let mut next_source = source.clone();
    next_source.merged_into = Some(target.number);
    next_source.merged.clear();
    next_source.status = Status::Closed;
    next_source.closed_at = source.closed_at.or(Some(now));
    next_source.updated_at = now;
    next_source.version = source.version + 1;

    let mut next_target = target.clone();
    next_target.merged.extend(moved.iter().copied());
    next_target.updated_at = now;
    next_target.version = target.version + 1;

    let entries = [
        ActivityEntry::new(
            source.number,
            now,
            actor.clone(),
            ActivityKind::MergedInto {
                target: target.number,
            },
        ),
        ActivityEntry::new(
            target.number,
            now,
            actor,
            ActivityKind::MergedFrom {
                source: source.number,
                tickets: moved,
            },
        ),
    ];
    Ok(TicketMerge {
        source: next_source,
        source_previous: source.clone(),
        target: next_target,
        target_previous: target.clone(),
        entries,
    })
}

impl Desk {
    /// Merges ticket `number` into `request.into`; the caller must see both.
    /// Round trips: 2 GetItem in parallel (3–4 where a merged ticket is read
    /// through its target), 1 TransactWriteItems.
    pub async fn merge_ticket(
        &self,
        caller: &Caller,
        number: TicketNumber,
        request: MergeRequest,
    ) -> DeskResult<Merged> {
        let (source, target) = futures::try_join!(self.ticket(caller, number), async {
            self.ticket(caller, request.into)
                .await
                .map_err(|e| e.named_in("into", "no such ticket"))
        })?;
        let merge = plan(&source, &target, Actor::user(caller.id()), self.clock.now())?;
        self.tickets.merge_tickets(&merge).await?;
        Ok(Merged {
            source: merge.source,
            target: merge.target,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::NewTicket;
    use crate::types::Source;

    fn ticket(n: u64) -> Ticket {
        let input: NewTicket = serde_json::from_value(serde_json::json!({
            "name": format!("Ticket {n}"),
            "customer": {"email": "carol@example.com"}
        }))
        .unwrap();
        input
            .into_ticket(TicketNumber::new(n).unwrap(), Source::Manual, Utc::now())
            .unwrap()
    }

    fn n(v: u64) -> TicketNumber {
        TicketNumber::new(v).unwrap()
    }

    #[test]
    fn the_source_closes_and_points_at_the_target() {
        let (a, b) = (ticket(1001), ticket(1002));
        let m = plan(&a, &b, Actor::System, Utc::now()).unwrap();
        assert_eq!(m.source.merged_into, Some(n(1002)));
        assert_eq!(m.source.status, Status::Closed);
        assert!(m.source.closed_at.is_some());
        assert_eq!(m.source.version, 2);
        assert_eq!(m.target.merged, vec![n(1001)]);
        assert_eq!(m.target.thread(), vec![n(1002), n(1001)]);
        assert_eq!(m.target.status, b.status);
        assert_eq!(m.target.version, 2);
        assert!(m.repointed().is_empty());
    }

    #[test]
    fn merges_flatten_so_a_merged_ticket_is_one_hop_from_its_target() {
        let (a, b, c) = (ticket(1001), ticket(1002), ticket(1003));
        let first = plan(&a, &b, Actor::System, Utc::now()).unwrap();
        let second = plan(&first.target, &c, Actor::System, Utc::now()).unwrap();
        assert_eq!(second.target.merged, vec![n(1002), n(1001)]);
        assert_eq!(second.source.merged, Vec::<TicketNumber>::new());
        assert_eq!(second.repointed(), &[n(1001)]);
        match &second.entries[1].kind {
            ActivityKind::MergedFrom { source, tickets } => {
                assert_eq!(*source, n(1002));
                assert_eq!(tickets, &vec![n(1002), n(1001)]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn refusals_name_the_reason() {
        let (a, b) = (ticket(1001), ticket(1002));
        match plan(&a, &a, Actor::System, Utc::now()) {
            Err(DeskError::Invalid(e)) => assert_eq!(e.field, "into"),
            other => panic!("unexpected {other:?}"),
        }
        let merged = plan(&a, &b, Actor::System, Utc::now()).unwrap();
        match plan(&merged.source, &ticket(1003), Actor::System, Utc::now()) {
            Err(DeskError::Conflict { code, .. }) => assert_eq!(code, "ticket_merged"),
            other => panic!("unexpected {other:?}"),
        }
        match plan(&ticket(1003), &merged.source, Actor::System, Utc::now()) {
            Err(DeskError::Invalid(e)) => assert_eq!(e.field, "into"),
            other => panic!("unexpected {other:?}"),
        }
        let mut full = ticket(1004);
        full.merged = (2000..2000 + MERGED_PER_TICKET as u64).map(n).collect();
        match plan(&ticket(1005), &full, Actor::System, Utc::now()) {
            Err(DeskError::Conflict { code, .. }) => assert_eq!(code, "too_many_merged"),
            other => panic!("unexpected {other:?}"),
        }
    }
}

//! A customer's data, gathered for export (issue 12 item 2): every ticket whose
//! customer is one email address, with its messages (parsed, and the raw MIME of
//! received ones), notes and activity. The edge packs it into one archive.
//!
//! Bounded so that one request finishes well inside the API function's time and
//! memory (10 s, 256 MB; API Gateway gives up at 30 s, a Lambda response holds
//! 6 MB): at most [`MAX_TICKETS`] tickets and [`MAX_BYTES`] of raw mail. A larger
//! export is refused (`409 export_too_large`) before anything is recorded.

use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;

use crate::access::Caller;
use crate::activity::ActivityEntry;
use crate::error::{DeskError, DeskResult};
use crate::listing::{ListRequest, Page, SortKey, MAX_LIMIT};
use crate::message::MailMessage;
use crate::note::Note;
use crate::ports::PageRequest;
use crate::service::Desk;
use crate::ticket::Ticket;
use crate::types::{EmailAddress, TicketNumber};

/// Most tickets one export holds.
pub const MAX_TICKETS: usize = 100;
/// Most raw mail (bytes) one export reads.
pub const MAX_BYTES: usize = 40 * 1024 * 1024;
/// Tickets read at the same time.
const PARALLEL: usize = 8;

/// `POST /exports` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// The customer's email address (as on their tickets).
    pub customer: EmailAddress,
}

/// A message and, for a received one, its raw MIME as kept.
#[derive(Debug, Clone)]
pub struct ExportedMessage {
    pub message: MailMessage,
    pub raw: Option<Vec<u8>>,
}

/// One ticket with everything on it (its own items, not those of tickets merged into it).
#[derive(Debug, Clone)]
pub struct TicketExport {
    pub ticket: Ticket,
    pub messages: Vec<ExportedMessage>,
    pub notes: Vec<Note>,
    pub activity: Vec<ActivityEntry>,
}

#[derive(Debug, Clone)]
pub struct CustomerExport {
    pub customer: EmailAddress,
    /// Oldest ticket first.
    pub tickets: Vec<TicketExport>,
}

fn too_large(what: String) -> DeskError {
    DeskError::Conflict {
        code: "export_too_large",
        message: format!(
            "{what}: one export holds at most {MAX_TICKETS} tickets and {} MiB of mail",
            MAX_BYTES / (1024 * 1024)
        ),
    }
}

fn erasure_running(customer: &EmailAddress) -> DeskError {
    DeskError::Conflict {
        code: "erasure_running",
        message: format!(
            "{customer} is being erased; there is nothing left to export once the erasure is done"
        ),
    }
}

/// Every page of a paged read, in order.
async fn every<T, F, Fut>(mut read: F) -> DeskResult<Vec<T>>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = DeskResult<Page<T>>>,
{
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = read(PageRequest { limit: 500, cursor }).await?;
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

impl Desk {
    /// `Conflict { erasure_running }` if an erasure of `customer` is running. 2–3 round trips.
    async fn refuse_while_erased(&self, customer: &EmailAddress) -> DeskResult<()> {
        let id = self.erasure_id(customer).await?;
        match self.purge.get_erasure(&id).await? {
            Some(e) if e.status == crate::erasure::ErasureStatus::Running => {
                Err(erasure_running(customer))
            }
            _ => Ok(()),
        }
    }

    /// Everything about `customer`, for an administrator. Reads only (but the
    /// desk's erasure salt, stored on first need): the
    /// customer's tickets from the list view's customer partition (1 Query per
    /// 100 tickets, never a Scan), then per ticket, 8 at a time, 1 Query each for
    /// messages, notes and activity (per 500) and 1 S3 GetObject per received
    /// message. `NotFound { customer }` if no ticket has that customer;
    /// `Conflict { erasure_running }` while the customer is being erased (first
    /// 2–3 round trips to look), since the purge deletes mail under the export.
    pub async fn export_customer(
        &self,
        caller: &Caller,
        customer: &EmailAddress,
    ) -> DeskResult<CustomerExport> {
        caller.require_admin()?;
        self.refuse_while_erased(customer).await?;
        let mut tickets: Vec<Ticket> = Vec::new();
        let mut cursor = None;
        loop {
            let request = ListRequest {
                customer: Some(customer.clone()),
                sort: SortKey::Updated,
                limit: MAX_LIMIT,
                cursor,
                ..ListRequest::default()
            };
            let page = self.list_tickets(caller, &request).await?;
            tickets.extend(page.items);
            if tickets.len() > MAX_TICKETS {
                return Err(too_large(format!(
                    "{customer} has more than {MAX_TICKETS} tickets"
                )));
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        if tickets.is_empty() {
            return Err(DeskError::NotFound { what: "customer" });
        }
        tickets.sort_by_key(|t| (t.created_at, t.number));
        let read = std::sync::atomic::AtomicUsize::new(0);
        let read = &read;
        let tickets = futures::stream::iter(tickets)
            .map(|ticket| async move {
                let own: [TicketNumber; 1] = [ticket.number];
                let (messages, notes, activity) = futures::try_join!(
                    every(|p| async move { self.messages.list_messages(&own, &p).await }),
                    every(|p| async move { self.tickets.list_notes(&own, &p).await }),
                    every(|p| async move { self.tickets.list_activity(&own, &p).await }),
                )?;
                let mut exported = Vec::with_capacity(messages.len());
                for message in messages {
                    let raw = if message.raw_key.is_empty() {
                        None
                    } else {
                        let Some(stored) = self.raw_mail.find(&message.raw_key).await? else {
                            // Purged since the tickets were read: an erasure that
                            // started meanwhile says so; anything else is storage's fault.
                            self.refuse_while_erased(customer).await?;
                            return Err(DeskError::Storage(format!(
                                "no raw mail at {}",
                                message.raw_key
                            )));
                        };
                        let raw = stored.bytes;
                        let total = read.fetch_add(raw.len(), std::sync::atomic::Ordering::SeqCst)
                            + raw.len();
                        if total > MAX_BYTES {
                            return Err(too_large(format!(
                                "{customer}'s mail is more than {} MiB",
                                MAX_BYTES / (1024 * 1024)
                            )));
                        }
                        Some(raw)
                    };
                    exported.push(ExportedMessage { message, raw });
                }
                Ok::<_, DeskError>(TicketExport {
                    ticket,
                    messages: exported,
                    notes,
                    activity,
                })
            })
            .buffered(PARALLEL)
            .try_collect()
            .await?;
        Ok(CustomerExport {
            customer: customer.clone(),
            tickets,
        })
    }
}

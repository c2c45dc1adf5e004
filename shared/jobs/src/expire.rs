//! The scheduled run, triggered by the EventBridge schedule (every minute):
//! service-case expiry, then the purges (erasures advanced, retention applied),
//! each bounded so a run stays well inside the function's timeout.

use desk_domain::cases::ExpiryReport;
use desk_domain::erasure::PurgeReport;
use desk_domain::{Desk, DeskResult};
use serde::Serialize;

/// Tickets one run purges at most, for erasures and for retention each: a
/// customer with thousands of tickets is erased over several runs, resuming
/// where the last one stopped.
pub const PURGE_TICKETS_PER_RUN: usize = 100;

#[derive(Debug, Serialize)]
pub struct ScheduledReport {
    pub expiry: ExpiryReport,
    pub purge: PurgeReport,
}

/// Expires every case past its 24-hour mark, as of the desk's clock, then
/// advances running erasures and applies retention.
pub async fn run(desk: &Desk) -> DeskResult<ScheduledReport> {
    let now = desk.clock.now();
    let expiry = desk.expire_due(now).await?;
    tracing::info!(
        due = expiry.due,
        expired = expiry.expired,
        lost_races = expiry.lost_races,
        "expiry run"
    );
    let purge = desk.purge_run(PURGE_TICKETS_PER_RUN).await?;
    tracing::info!(
        erasures_advanced = purge.erasures_advanced,
        erasures_finished = purge.erasures_finished,
        erased_tickets = purge.erased.tickets,
        retention_deleted = purge.retained_deleted.tickets,
        "purge run"
    );
    Ok(ScheduledReport { expiry, purge })
}

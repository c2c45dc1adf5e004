//! The expiry run, triggered by the EventBridge schedule (every minute).

use desk_domain::cases::ExpiryReport;
use desk_domain::{Desk, DeskResult};

/// Expires every case past its 24-hour mark, as of the desk's clock.
pub async fn run(desk: &Desk) -> DeskResult<ExpiryReport> {
    let now = desk.clock.now();
    let report = desk.expire_due(now).await?;
    tracing::info!(
        due = report.due,
        expired = report.expired,
        lost_races = report.lost_races,
        "expiry run"
    );
    Ok(report)
}

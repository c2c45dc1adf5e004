//! The IMAP poller Lambda: wiring once per cold start; each scheduled event polls
//! every enabled mailbox once and returns the per-mailbox report.

use desk_imap::{Poller, PollerConfig};
use desk_runtime::{wire, Config};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    desk_runtime::init_lambda_logs();
    let wired = wire(&Config::from_env()?).await;
    let poller = Poller::new(
        wired.desk,
        wired.inbound.ingest,
        wired.inbound.raw,
        PollerConfig::from_env()?,
    )?;
    let poller = &poller;
    lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| async move {
        // Mailbox failures are recorded on each mailbox; only a failure to read the
        // mailbox list fails the invocation (and raises the alarm).
        let report = poller.poll_all().await?;
        Ok::<_, Error>(serde_json::to_value(report)?)
    }))
    .await
}

//! The IMAP poller Lambda: its configuration and clients once per cold start; each
//! scheduled event polls every enabled mailbox once and returns the report.

use desk_runtime::Env;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    desk_runtime::init_lambda_logs();
    let config = poller::Config::from_env(&Env::process())?;
    let aws = desk_runtime::aws().await;
    let store = desk_runtime::store(&aws, &config.ingest.table);
    let poller = poller::compose(&config, store, &aws)?;
    let poller = &poller;
    lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| async move {
        // Mailbox failures are recorded on each mailbox; only a failure to read the
        // mailbox list fails the invocation (and raises the alarm).
        let report = poller.poll_all().await?;
        Ok::<_, Error>(serde_json::to_value(report)?)
    }))
    .await
}

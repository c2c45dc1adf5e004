//! The expiry Lambda: wiring once per cold start; each scheduled event runs one
//! expiry pass and returns its report.

use desk_runtime::{wire, Config};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    desk_runtime::init_lambda_logs();
    let wired = wire(&Config::from_env()?).await;
    let desk = &wired.desk;
    lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| async move {
        // An error here makes the scheduled invocation fail, so it is retried and alarmed.
        let report = desk_jobs::expire::run(desk).await?;
        Ok::<_, Error>(serde_json::to_value(report)?)
    }))
    .await
}

//! The expiry Lambda: its configuration and clients once per cold start; each
//! scheduled event runs one expiry pass and returns its report.

use desk_runtime::Env;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    desk_runtime::init_lambda_logs();
    let config = expire::Config::from_env(&Env::process())?;
    let aws = desk_runtime::aws().await;
    let store = desk_runtime::store(&aws, &config.table);
    let desk = expire::compose(&config, store, &aws);
    let desk = &desk;
    lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| async move {
        // An error here makes the scheduled invocation fail, so it is retried and alarmed.
        let report = desk_jobs::expire::run(desk).await?;
        Ok::<_, Error>(serde_json::to_value(report)?)
    }))
    .await
}

//! The indexer Lambda: its configuration and clients once per cold start; each
//! batch of stream records is applied in order and answered with the first
//! failure, if any.

use desk_runtime::Env;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    desk_runtime::init_lambda_logs();
    let config = indexer::Config::from_env(&Env::process())?;
    let aws = desk_runtime::aws().await;
    let store = desk_runtime::store(&aws, &config.table);
    let indexer = indexer::compose(&config, store, &aws);
    let indexer = &indexer;
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<aws_lambda_events::event::dynamodb::Event>| async move {
            Ok::<_, Error>(indexer::handle(indexer, event.payload).await)
        },
    ))
    .await
}

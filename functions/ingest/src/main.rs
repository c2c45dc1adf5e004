//! The ingest Lambda: its configuration and clients once per cold start; each SQS
//! batch of S3 events goes to the shared inbound handler, failed records are
//! reported back.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use desk_runtime::Env;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    desk_runtime::init_lambda_logs();
    let config = ingest::Config::from_env(&Env::process())?;
    let aws = desk_runtime::aws().await;
    let store = desk_runtime::store(&aws, &config.table);
    let inbound = ingest::compose(&config, store, &aws);
    let inbound = &inbound;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, Error>(inbound.handle(event.payload).await)
    }))
    .await
}

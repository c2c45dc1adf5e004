//! The ingest Lambda: wiring once per cold start; each SQS batch of S3 events
//! goes to the shared inbound handler, failed records are reported back.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use desk_runtime::{wire, Config};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    desk_runtime::init_lambda_logs();
    let wired = wire(&Config::from_env()?).await;
    let inbound = &wired.inbound;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, Error>(inbound.handle(event.payload).await)
    }))
    .await
}

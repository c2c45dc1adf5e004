//! The mailer Lambda: wiring once per cold start; each SQS batch goes to the
//! shared mailer, failed records are reported back for redelivery.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use desk_runtime::{wire, Config};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    desk_runtime::init_lambda_logs();
    let wired = wire(&Config::from_env()?).await;
    let mailer = &wired.mailer;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, Error>(mailer.handle(event.payload).await)
    }))
    .await
}

//! The mailer Lambda: its configuration and clients once per cold start; each SQS
//! batch goes to the shared mailer, failed records are reported back for
//! redelivery.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use desk_runtime::Env;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    desk_runtime::init_lambda_logs();
    let config = mailer::Config::from_env(&Env::process())?;
    let aws = desk_runtime::aws().await;
    let store = desk_runtime::store(&aws, &config.table);
    let mailer = mailer::compose(&config, store, &aws);
    let mailer = &mailer;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, Error>(mailer.handle(event.payload).await)
    }))
    .await
}

//! The REST API Lambda: builds configuration and clients once per cold start and
//! hands every request to the shared handler.

use std::convert::Infallible;

use desk_api::config;
use desk_dynamo::DynamoStore;
use lambda_http::{service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_current_span(true)
        .without_time() // CloudWatch stamps every line
        .init();

    let table = config::table_name()?;
    let auth = config::authenticator()?;
    let store = DynamoStore::from_env(table).await;
    let app = config::app(store, auth);

    lambda_http::run(service_fn(|req: Request| {
        let app = &app;
        async move { Ok::<_, Infallible>(desk_api::handle(app, req).await) }
    }))
    .await
}

//! The REST API Lambda: its configuration and clients once per cold start, then
//! every request to the shared handler.

use std::convert::Infallible;

use desk_runtime::Env;
use lambda_http::{service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    desk_runtime::init_lambda_logs();
    let env = Env::process();
    let config = api::Config::from_env(&env)?;
    let auth = api::authenticator(&env)?;
    let aws = desk_runtime::aws().await;
    let store = desk_runtime::store(&aws, &config.desk.table);
    let app = api::compose(&config, auth, store, &aws);
    lambda_http::run(service_fn(|req: Request| {
        let app = &app;
        async move { Ok::<_, Infallible>(desk_api::handle(app, req).await) }
    }))
    .await
}

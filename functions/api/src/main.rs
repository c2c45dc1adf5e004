//! The REST API Lambda: builds configuration and clients once per cold start and
//! hands every request to the shared handler.

use std::convert::Infallible;

use desk_api::App;
use desk_runtime::{wire, Config};
use lambda_http::{service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    desk_runtime::init_lambda_logs();
    let wired = wire(&Config::from_env()?).await;
    let app = App {
        desk: wired.desk,
        auth: desk_runtime::authenticator()?,
    };

    lambda_http::run(service_fn(|req: Request| {
        let app = &app;
        async move { Ok::<_, Infallible>(desk_api::handle(app, req).await) }
    }))
    .await
}

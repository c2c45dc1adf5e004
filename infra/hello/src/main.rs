//! A bare `lambda_runtime` function: what a Rust Lambda costs before it does anything.
//! `make sizes` compares each desk function's init time and size with this one.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}

//! The baseline for the start-up benchmark: the smallest `lambda_runtime` function there is.
//! `scripts/bench` builds it in the same run as the probe and compares their start-up times.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}

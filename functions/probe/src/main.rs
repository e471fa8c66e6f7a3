//! The probe Lambda function: builds its clients once, then serves scheduled events.
#![forbid(unsafe_code)]

use std::sync::Arc;

use lambda_runtime::{Error, service_fn};
use probe::{ConfigSource, Probe, handle};
use shared::clock::SystemClock;
use shared::store::dynamodb::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::logging::init_lambda();
    let table = std::env::var("SITREP_TABLE").map_err(|_| "SITREP_TABLE is not set")?;
    let source = ConfigSource::from_setting(std::env::var("SITREP_CONFIG_SOURCE").ok().as_deref())?;
    let aws = shared::aws::lambda_sdk_config().await;
    let region = aws
        .region()
        .map_or_else(|| "unknown".to_owned(), ToString::to_string);
    let clock = Arc::new(SystemClock);
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        table,
        clock.clone(),
    ));
    let probe = Probe::new(store, clock, source, region);
    lambda_runtime::run(service_fn(|event| handle(&probe, event))).await
}

//! The poll-mentions Lambda function: builds its clients once, then serves scheduled events.
#![forbid(unsafe_code)]

use std::sync::Arc;

use lambda_runtime::{Error, service_fn};
use poll_mentions::{Poller, handle};
use shared::clock::SystemClock;
use shared::invocation::{ConfigSource, FunctionParts};
use shared::random::SeededRandom;
use shared::secrets::SecretsManager;
use shared::social::transport::RetryPolicy;
use shared::store::dynamodb::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::logging::init_lambda();
    let table = std::env::var("SITREP_TABLE").map_err(|_| "SITREP_TABLE is not set")?;
    let source = ConfigSource::from_setting(std::env::var("SITREP_CONFIG_SOURCE").ok().as_deref())?;
    let aws = shared::aws::lambda_sdk_config().await;
    let clock = Arc::new(SystemClock);
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        table,
        clock.clone(),
    ));
    let secrets = Arc::new(SecretsManager::new(aws_sdk_secretsmanager::Client::new(
        &aws,
    )));
    let parts = FunctionParts::new(
        store,
        clock,
        secrets,
        Arc::new(SeededRandom::from_entropy()),
        RetryPolicy::default(),
    )?;
    let poller = Poller::new(parts, source);
    lambda_runtime::run(service_fn(|event| handle(&poller, event))).await
}

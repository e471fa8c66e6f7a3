//! The acknowledge Lambda function: builds its clients once, then serves the table's stream
//! and the outbox schedule.
#![forbid(unsafe_code)]

use std::sync::Arc;

use acknowledge::{Acknowledger, handle};
use lambda_runtime::{Error, service_fn};
use shared::clock::SystemClock;
use shared::invocation::{ConfigSource, FunctionParts};
use shared::random::SeededRandom;
use shared::reply::handoff::SnsSupport;
use shared::secrets::SecretsManager;
use shared::social::transport::RetryPolicy;
use shared::store::dynamodb::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::logging::init_lambda();
    let table = std::env::var("SITREP_TABLE").map_err(|_| "SITREP_TABLE is not set")?;
    let topic =
        std::env::var("SITREP_SUPPORT_TOPIC").map_err(|_| "SITREP_SUPPORT_TOPIC is not set")?;
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
    let support = Arc::new(SnsSupport::new(aws_sdk_sns::Client::new(&aws), topic));
    let parts = FunctionParts::new(
        store,
        clock,
        secrets,
        Arc::new(SeededRandom::from_entropy()),
        RetryPolicy::default(),
    )?;
    let acknowledger = Acknowledger::new(parts, support, source);
    lambda_runtime::run(service_fn(|event| handle(&acknowledger, event))).await
}

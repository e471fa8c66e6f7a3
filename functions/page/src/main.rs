//! The page Lambda function: builds its clients once, then serves the table's stream, the
//! escalation sweep, inbound texts and watchdog alarms.
#![forbid(unsafe_code)]

use std::sync::Arc;

use lambda_runtime::{Error, service_fn};
use page::{Paging, handle};
use shared::clock::SystemClock;
use shared::invocation::{ConfigSource, FunctionParts};
use shared::notify::sns::{SnsNotifier, client_without_retries};
use shared::oncall::token;
use shared::random::SeededRandom;
use shared::secrets::SecretsManager;
use shared::social::transport::RetryPolicy;
use shared::store::dynamodb::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::logging::init_lambda();
    let table = std::env::var("SITREP_TABLE").map_err(|_| "SITREP_TABLE is not set")?;
    let pages_topic =
        std::env::var("SITREP_PAGES_TOPIC").map_err(|_| "SITREP_PAGES_TOPIC is not set")?;
    let ack_secret =
        std::env::var("SITREP_ACK_SECRET").map_err(|_| "SITREP_ACK_SECRET is not set")?;
    // The status API's URL; `[oncall] ack_url` in the config wins when set (a custom domain).
    let ack_base = std::env::var("SITREP_ACK_URL").ok();
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
    let key = token::load(&*secrets, &ack_secret).await?;
    let notifier = Arc::new(SnsNotifier::new(client_without_retries(&aws), pages_topic));
    let parts = FunctionParts::new(
        store,
        clock,
        secrets,
        Arc::new(SeededRandom::from_entropy()),
        RetryPolicy::default(),
    )?;
    let paging = Paging::new(parts, notifier, Arc::new(key), ack_base, source);
    lambda_runtime::run(service_fn(|event| handle(&paging, event))).await
}

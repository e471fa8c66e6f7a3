//! The status-api Lambda function: builds its clients and loads the acknowledgement key once,
//! then serves the status site behind the HTTP API.
#![forbid(unsafe_code)]

use std::sync::Arc;

use lambda_http::{Error, service_fn};
use shared::clock::SystemClock;
use shared::invocation::ConfigSource;
use shared::oncall::token;
use shared::secrets::SecretsManager;
use shared::status_site::StatusSite;
use shared::status_site::x_webhook::XWebhook;
use shared::store::dynamodb::DynamoStore;
use status_api::{StatusApi, handle};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::logging::init_lambda();
    let table = std::env::var("SITREP_TABLE").map_err(|_| "SITREP_TABLE is not set")?;
    let ack_secret =
        std::env::var("SITREP_ACK_SECRET").map_err(|_| "SITREP_ACK_SECRET is not set")?;
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
    // A missing or weak key fails the cold start, loudly, rather than every link later.
    let key = token::load(secrets.as_ref(), &ack_secret).await?;
    let site = StatusSite::new(
        store.clone(),
        clock.clone(),
        key,
        XWebhook::new(store.clone(), clock.clone(), secrets),
    );
    let api = StatusApi::new(site, store, source, clock);
    lambda_http::run(service_fn(|request| handle(&api, request))).await
}

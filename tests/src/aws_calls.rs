//! The AWS calls a function's handler makes in its tests, and the check of each against that
//! function's role in `infra/template.yaml` ([`crate::iam`]).
//!
//! A handler test builds the clients it hands the function through [`AwsCalls`], which puts
//! an SDK interceptor on them that notes each call's service, operation and (for DynamoDB)
//! the partition key it names. The clients the test itself uses to set things up (tables,
//! topics, secrets, items it plants) are built without it. When the test ends, every call is
//! checked against the function's policy (a call the role does not allow fails the test, as
//! it would fail in AWS), and, when `SITREP_AWS_CALLS` names a directory (`scripts/test`
//! sets it), the calls are written there, one file per test under the function's logical
//! id, for `tests/tests/iam_policies.rs` to find the allowed actions no test makes.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;
use aws_sdk_dynamodb::config::{ConfigBag, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use serde_json::Value;

use crate::iam::Template;

/// The environment variable naming the directory calls are written to.
pub const CALLS_DIR: &str = "SITREP_AWS_CALLS";

/// One AWS call.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AwsCall {
    /// The IAM service prefix (`dynamodb`).
    pub service: String,
    /// The operation (`GetItem`).
    pub operation: String,
    /// The partition keys a DynamoDB call names (`dynamodb:LeadingKeys`).
    pub leading_keys: Vec<String>,
}

impl AwsCall {
    /// The IAM action (`dynamodb:GetItem`).
    pub fn action(&self) -> String {
        format!("{}:{}", self.service, self.operation)
    }
}

/// The IAM prefix of a service as the SDK names it in an operation's metadata.
fn iam_prefix(service: &str) -> String {
    match service {
        "Secrets Manager" => "secretsmanager".to_owned(),
        other => other.to_ascii_lowercase().replace(' ', ""),
    }
}

/// The partition keys a DynamoDB request names: its item's or key's `pk`, or a query's `:pk`.
fn leading_keys(body: &[u8]) -> Vec<String> {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let queried = request["KeyConditionExpression"]
        .as_str()
        .is_some_and(|e| e.starts_with("pk = :pk"));
    [
        &request["Key"]["pk"]["S"],
        &request["Item"]["pk"]["S"],
        if queried {
            &request["ExpressionAttributeValues"][":pk"]["S"]
        } else {
            &Value::Null
        },
    ]
    .into_iter()
    .filter_map(|v| v.as_str().map(str::to_owned))
    .collect()
}

/// The interceptor: notes each call just before it is sent.
#[derive(Debug, Clone)]
struct Recorder {
    seen: Arc<Mutex<Vec<AwsCall>>>,
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "sitrep-tests AwsCalls"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let metadata = cfg
            .load::<Metadata>()
            .ok_or("the SDK put no operation metadata in the config bag")?;
        let service = iam_prefix(metadata.service());
        let leading_keys = if service == "dynamodb" {
            context
                .request()
                .body()
                .bytes()
                .map(leading_keys)
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let call = AwsCall {
            service,
            operation: metadata.name().to_owned(),
            leading_keys,
        };
        self.seen.lock().map_err(|_| "poisoned")?.push(call);
        Ok(())
    }
}

/// One test's record of the calls a function made; checked, and written down, when dropped.
#[derive(Debug)]
pub struct AwsCalls {
    function: &'static str,
    seen: Arc<Mutex<Vec<AwsCall>>>,
}

impl AwsCalls {
    /// A record of the calls of the function with this logical id in the template
    /// (`ProbeFunction`).
    pub fn new(function: &'static str) -> Self {
        // Fails now, not when the test ends, if the function is not in the template.
        Template::load().policy(function);
        Self {
            function,
            seen: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn recorder(&self) -> Recorder {
        Recorder {
            seen: Arc::clone(&self.seen),
        }
    }

    /// A DynamoDB client whose calls are recorded.
    pub fn dynamodb(&self, sdk: &SdkConfig) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(sdk)
                .interceptor(self.recorder())
                .build(),
        )
    }

    /// A Secrets Manager client whose calls are recorded.
    pub fn secrets_manager(&self, sdk: &SdkConfig) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::from_conf(
            aws_sdk_secretsmanager::config::Builder::from(sdk)
                .interceptor(self.recorder())
                .build(),
        )
    }

    /// An SNS client whose calls are recorded.
    pub fn sns(&self, sdk: &SdkConfig) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::from_conf(
            aws_sdk_sns::config::Builder::from(sdk)
                .interceptor(self.recorder())
                .build(),
        )
    }

    /// An SNS client without retries (as the page function publishes pages) whose calls
    /// are recorded.
    pub fn sns_without_retries(&self, sdk: &SdkConfig) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::from_conf(
            aws_sdk_sns::config::Builder::from(sdk)
                .retry_config(aws_sdk_sns::config::retry::RetryConfig::disabled())
                .interceptor(self.recorder())
                .build(),
        )
    }

    /// The calls so far, in order.
    pub fn seen(&self) -> Vec<AwsCall> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The calls so far that the function's role does not allow.
    pub fn refused(&self) -> Vec<AwsCall> {
        let template = Template::load();
        let policy = template.policy(self.function);
        let mut refused: Vec<AwsCall> = self
            .seen()
            .into_iter()
            .filter(|call| !policy.allows(call))
            .collect();
        refused.sort();
        refused.dedup();
        refused
    }

    fn write_down(&self, directory: PathBuf) -> std::io::Result<()> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let directory = directory.join(self.function);
        std::fs::create_dir_all(&directory)?;
        let test = std::thread::current()
            .name()
            .unwrap_or("unnamed")
            .replace([':', '/'], "_");
        let file = directory.join(format!(
            "{}-{}-{test}.txt",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let mut out = std::fs::File::create(file)?;
        for call in self.seen() {
            writeln!(out, "{} {}", call.action(), call.leading_keys.join(" "))?;
        }
        Ok(())
    }
}

impl Drop for AwsCalls {
    fn drop(&mut self) {
        // A failing test has already said what is wrong.
        if std::thread::panicking() {
            return;
        }
        if let Some(directory) = std::env::var_os(CALLS_DIR)
            && let Err(e) = self.write_down(PathBuf::from(directory))
        {
            panic!("cannot write the AWS calls down: {e}");
        }
        let refused = self.refused();
        assert!(
            refused.is_empty(),
            "{} made calls its role in infra/template.yaml does not allow (they would fail in AWS): {refused:#?}",
            self.function
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_keys_are_read_from_items_keys_and_queries() {
        assert_eq!(
            leading_keys(
                br#"{"TableName":"t","Key":{"pk":{"S":"ACKTOKEN#a"},"sk":{"S":"TOKEN"}}}"#
            ),
            ["ACKTOKEN#a"]
        );
        assert_eq!(
            leading_keys(br#"{"Item":{"pk":{"S":"MENTION#x#1"},"sk":{"S":"MENTION"}}}"#),
            ["MENTION#x#1"]
        );
        assert_eq!(
            leading_keys(
                br#"{"KeyConditionExpression":"pk = :pk AND begins_with(sk, :prefix)","ExpressionAttributeValues":{":pk":{"S":"INCIDENTS"},":prefix":{"S":"2026"}}}"#
            ),
            ["INCIDENTS"]
        );
        assert!(leading_keys(b"not json").is_empty());
        assert_eq!(iam_prefix("Secrets Manager"), "secretsmanager");
        assert_eq!(iam_prefix("DynamoDB"), "dynamodb");
        assert_eq!(iam_prefix("SNS"), "sns");
    }
}

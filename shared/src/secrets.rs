//! The secrets port: social credentials come from Secrets Manager in AWS and from the
//! environment locally, never from the config (which only names them).

use std::collections::HashMap;

use async_trait::async_trait;

/// Why a secret could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// No secret has that name (or the caller may not read it).
    #[error("secret `{name}` was not found: {reason}")]
    NotFound {
        /// The secret's name.
        name: String,
        /// What the source said.
        reason: String,
    },
    /// The source failed.
    #[error("secret `{name}` could not be read: {reason}")]
    Unavailable {
        /// The secret's name.
        name: String,
        /// What the source said.
        reason: String,
    },
}

/// Where secrets are read from.
#[async_trait]
pub trait SecretSource: Send + Sync {
    /// The secret's text (for sitrep's secrets, a JSON object).
    async fn secret(&self, name: &str) -> Result<String, SecretError>;
}

/// AWS Secrets Manager.
#[derive(Debug, Clone)]
pub struct SecretsManager {
    client: aws_sdk_secretsmanager::Client,
}

impl SecretsManager {
    /// Reads secrets through `client`.
    pub fn new(client: aws_sdk_secretsmanager::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl SecretSource for SecretsManager {
    async fn secret(&self, name: &str) -> Result<String, SecretError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(name)
            .send()
            .await
            .map_err(|e| {
                let service = e.as_service_error();
                let reason = aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string();
                if service.is_some_and(|s| s.is_resource_not_found_exception()) {
                    SecretError::NotFound {
                        name: name.to_owned(),
                        reason,
                    }
                } else {
                    SecretError::Unavailable {
                        name: name.to_owned(),
                        reason,
                    }
                }
            })?;
        output
            .secret_string()
            .map(str::to_owned)
            .ok_or_else(|| SecretError::Unavailable {
                name: name.to_owned(),
                reason: "the secret has no string value (binary secrets are not supported)".into(),
            })
    }
}

/// Secrets from environment variables, for the local runner: the secret `sitrep/acme-x` is
/// read from `SITREP_SECRET_SITREP_ACME_X` (upper case, every other character `_`).
#[derive(Debug, Clone, Default)]
pub struct EnvironmentSecrets {
    overrides: HashMap<String, String>,
}

impl EnvironmentSecrets {
    /// Reads the process environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers `name` with `value` before looking at the environment (the outage drill's own
    /// stand-in credentials).
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.overrides.insert(name.to_owned(), value.to_owned());
        self
    }

    /// The variable a secret is read from.
    pub fn variable(name: &str) -> String {
        let mut variable = String::from("SITREP_SECRET_");
        variable.extend(name.chars().map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        }));
        variable
    }
}

#[async_trait]
impl SecretSource for EnvironmentSecrets {
    async fn secret(&self, name: &str) -> Result<String, SecretError> {
        if let Some(value) = self.overrides.get(name) {
            return Ok(value.clone());
        }
        let variable = Self::variable(name);
        std::env::var(&variable).map_err(|_| SecretError::NotFound {
            name: name.to_owned(),
            reason: format!("set {variable} to the secret's JSON"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_secrets_come_from_overrides_then_named_variables() {
        assert_eq!(
            EnvironmentSecrets::variable("sitrep/acme-x"),
            "SITREP_SECRET_SITREP_ACME_X"
        );
        let secrets = EnvironmentSecrets::new().with("drill", "{}");
        assert_eq!(secrets.secret("drill").await.unwrap(), "{}");
        let missing = secrets.secret("sitrep/nowhere-set").await.unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("SITREP_SECRET_SITREP_NOWHERE_SET"),
            "{missing}"
        );
    }
}

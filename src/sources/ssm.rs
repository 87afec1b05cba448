//! Secrets from SSM Parameter Store: each secret name maps to a parameter (SecureString
//! decrypted); values are read once per process. Used by the Lambdas, where
//! `NCBI_API_KEY_SSM_PARAMETER` names the NCBI key's parameter — rotating the key is an SSM
//! `put-parameter`, picked up by the next cold start.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_ssm::Client;
use tokio::sync::Mutex;

use crate::error::{Error, ErrorKind, Result};
use crate::ports::secrets::Secrets;

pub struct SsmSecrets {
    client: Client,
    /// Secret name → parameter name.
    parameters: HashMap<String, String>,
    cache: Mutex<HashMap<String, Option<String>>>,
}

impl SsmSecrets {
    pub fn new(client: Client, parameters: HashMap<String, String>) -> Self {
        SsmSecrets {
            client,
            parameters,
            cache: Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait]
impl Secrets for SsmSecrets {
    async fn get(&self, name: &str) -> Result<Option<String>> {
        let Some(parameter) = self.parameters.get(name) else {
            return Ok(None);
        };
        let mut cache = self.cache.lock().await;
        if let Some(value) = cache.get(name) {
            return Ok(value.clone());
        }
        let output = self
            .client
            .get_parameter()
            .name(parameter)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| {
                use aws_sdk_ssm::error::ProvideErrorMetadata;
                let throttled = e
                    .code()
                    .is_some_and(|c| c.contains("Throttl") || c == "TooManyUpdates");
                let code = e.code().unwrap_or("no response").to_string();
                let message = e
                    .message()
                    .map(str::to_string)
                    .unwrap_or_else(|| e.to_string());
                Error::Aws {
                    kind: if throttled {
                        ErrorKind::Throttled
                    } else {
                        ErrorKind::InvalidInput
                    },
                    message: format!("SSM GetParameter {parameter} ({name}): {code}: {message}"),
                }
            })?;
        let value = output
            .parameter()
            .and_then(|p| p.value())
            .map(str::to_string)
            .filter(|v| !v.trim().is_empty());
        cache.insert(name.to_string(), value.clone());
        Ok(value)
    }
}

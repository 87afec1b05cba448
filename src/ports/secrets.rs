//! The secrets port: API keys the pipeline may use (today the NCBI E-utilities key), from the
//! environment locally and from SSM Parameter Store on AWS.

use async_trait::async_trait;

use crate::error::Result;

/// Where secrets come from. `None` means "not configured": callers work without the secret.
#[async_trait]
pub trait Secrets: Send + Sync {
    async fn get(&self, name: &str) -> Result<Option<String>>;
}

/// Environment variables: a secret named `NCBI_API_KEY` is the variable of that name.
#[derive(Debug, Default, Clone, Copy)]
pub struct EnvSecrets;

#[async_trait]
impl Secrets for EnvSecrets {
    async fn get(&self, name: &str) -> Result<Option<String>> {
        Ok(std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }
}

/// The name of the NCBI E-utilities API key.
pub const NCBI_API_KEY: &str = "NCBI_API_KEY";

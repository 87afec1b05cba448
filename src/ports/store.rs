//! The object-store port: deterministic keys in three logical areas (config, data, newsletters).

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::Result;

/// A flat key → bytes store (a local directory, an S3 bucket, a prefix of either).
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// Reads an object; `Ok(None)` when it does not exist.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Writes an object whole, replacing any previous version. Readers never see a partial write.
    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<()>;
    /// Writes an object only if none exists under `key` (create-only, S3's `If-None-Match: *`):
    /// `Ok(true)` when this call created it, `Ok(false)` when another writer got there first,
    /// whose object is left untouched. What concurrent executions publish through, so the
    /// first one wins whole and none overwrites another's.
    async fn put_if_absent(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<bool>;
    /// Every key starting with `prefix`, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>>;
    /// Where `key` lives, for messages (`fixtures/clients/lai_weekly.yaml`, `s3://b/k`).
    fn locate(&self, key: &str) -> String;
}

/// The three logical areas of DESIGN.md ("Object layout").
#[derive(Clone)]
pub struct Stores {
    /// Client configs, scopes, source catalogue, scoring rules (read-only for steps).
    pub config: Arc<dyn ObjectStore>,
    /// Run data: manifests, raw captures, normalized and matched items, drafts, LLM cache.
    pub data: Arc<dyn ObjectStore>,
    /// Published newsletters and reports.
    pub newsletters: Arc<dyn ObjectStore>,
}

/// Content types of what we store, so S3 serves them right.
pub mod content_type {
    pub const JSON: &str = "application/json";
    pub const JSON_LINES: &str = "application/x-ndjson";
    pub const MARKDOWN: &str = "text/markdown; charset=utf-8";
    pub const HTML: &str = "text/html; charset=utf-8";
    pub const YAML: &str = "application/yaml";
    pub const OCTET: &str = "application/octet-stream";
    pub const EML: &str = "message/rfc822";
}

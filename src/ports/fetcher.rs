//! The source-fetcher port: bytes of one source, as the network (or a recorded capture) gave them.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// What to fetch for one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FetchRequest {
    pub source_id: String,
    pub url: String,
    /// Path of the recorded capture, relative to the config area's `sources/` folder.
    pub capture: Option<String>,
    /// Validators of the copy we already hold (conditional GET): a fetcher that speaks HTTP
    /// sends them and returns status 304 with an empty body when nothing changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// What came back. Only successful (2xx) responses, and 304 to a conditional request, are
/// returned; anything else is an error.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchResponse {
    pub status: u16,
    pub body: Vec<u8>,
    /// The HTTP `Content-Type`, which may carry the charset that overrides an XML declaration.
    pub content_type: Option<String>,
    /// The URL the body came from, after redirects: relative links resolve against it.
    pub final_url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Fetches a source. Errors are `SourceUnavailable` (the run goes on without that source).
#[async_trait]
pub trait Fetcher: Send + Sync {
    async fn fetch(&self, request: &FetchRequest) -> Result<FetchResponse>;
    /// Where the bytes come from (`network`, `captures`): part of what makes two fetches the
    /// same, so a run on recorded captures never serves a live run, nor the reverse.
    fn medium(&self) -> &'static str;
}

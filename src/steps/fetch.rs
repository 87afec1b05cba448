//! `fetch`: one source's bytes, stored raw with their metadata before anything parses them
//! ("raw first": a parser fix can re-normalize without re-fetching).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{RunContext, SourceTask, elapsed_ms, put_json};
use crate::error::Result;
use crate::keys;
use crate::ports::Ports;
use crate::ports::fetcher::FetchRequest;
use crate::ports::store::content_type;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchInput {
    pub run: RunContext,
    pub source: SourceTask,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FetchOutput {
    pub source_id: String,
    pub raw_key: String,
    pub meta_key: String,
    pub http_status: u16,
    pub bytes: usize,
    pub elapsed_ms: u64,
}

/// `raw/{source_id}.meta.json`: how the raw bytes were obtained. No fetch time here: raw objects
/// stay byte-identical between two runs of the same inputs (timings go to the report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawMeta {
    pub source_id: String,
    pub url: String,
    pub final_url: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub bytes: usize,
    pub sha256: String,
    pub raw_key: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

pub async fn run(ports: &Ports, input: FetchInput) -> Result<FetchOutput> {
    let started = ports.clock.now();
    let FetchInput { run, source } = input;
    let response = ports
        .fetcher
        .fetch(&FetchRequest {
            source_id: source.source_id.clone(),
            url: source.url.clone(),
            capture: source.capture.clone(),
        })
        .await?;
    let ext = extension(response.content_type.as_deref(), &response.body);
    let raw_key = keys::raw(&run.client_id, run.run_date, &source.source_id, ext);
    let meta_key = keys::raw_meta(&run.client_id, run.run_date, &source.source_id);
    let meta = RawMeta {
        source_id: source.source_id.clone(),
        url: source.url.clone(),
        final_url: response.final_url.clone(),
        status: response.status,
        content_type: response.content_type.clone(),
        bytes: response.body.len(),
        sha256: hex::encode(Sha256::digest(&response.body)),
        raw_key: raw_key.clone(),
        etag: response.etag.clone(),
        last_modified: response.last_modified.clone(),
    };
    let stored_type = response
        .content_type
        .clone()
        .unwrap_or_else(|| content_type::OCTET.to_string());
    ports
        .stores
        .data
        .put(&raw_key, response.body, &stored_type)
        .await?;
    put_json(ports.stores.data.as_ref(), &meta_key, &meta).await?;
    Ok(FetchOutput {
        source_id: source.source_id,
        raw_key,
        meta_key,
        http_status: meta.status,
        bytes: meta.bytes,
        elapsed_ms: elapsed_ms(ports, started),
    })
}

/// File extension of a raw capture, from its content type or, failing that, its first byte.
fn extension(content_type: Option<&str>, body: &[u8]) -> &'static str {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if ct.contains("json") || (ct.is_empty() && first == Some(b'{')) {
        "json"
    } else if ct.contains("html") {
        "html"
    } else if ct.contains("xml") || first == Some(b'<') {
        "xml"
    } else {
        "bin"
    }
}

#[cfg(test)]
mod tests {
    use super::extension;

    #[test]
    fn extension_follows_content_type_then_content() {
        assert_eq!(
            extension(Some("application/rss+xml; charset=utf-8"), b""),
            "xml"
        );
        assert_eq!(extension(Some("application/feed+json"), b""), "json");
        assert_eq!(extension(Some("text/html"), b"<html>"), "html");
        assert_eq!(extension(None, b"  {\"version\":1}"), "json");
        assert_eq!(extension(None, b"<rss/>"), "xml");
        assert_eq!(extension(None, b"\x00\x01"), "bin");
    }
}

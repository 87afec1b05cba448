//! Fetcher adapters: HTTP(S) with limits (and `file://` for local runs), and recorded captures
//! for offline runs.

mod http;
mod offline;
mod ssm;

pub use http::{HttpFetcher, HttpLimits};
pub use offline::CaptureFetcher;
pub use ssm::SsmSecrets;

/// Guess a content type from a capture's file extension.
pub(crate) fn content_type_for(path: &str) -> Option<&'static str> {
    let ext = path.rsplit('.').next()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "xml" | "rss" | "atom" | "rdf" => "application/xml",
        "json" => "application/json",
        "html" | "htm" => "text/html",
        _ => return None,
    })
}

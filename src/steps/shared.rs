//! Fetch once, serve every client: a source fetched and normalized by one run is published
//! under `shared/fetches/…`, and every other run of the same window that asks the same reuses
//! it instead of fetching and parsing again.
//!
//! What makes two fetches the same is in the key: the source, the digest of the request (its
//! kind, URL, capture, HTML and PubMed options, the client's PubMed term, where the bytes come
//! from, and the engine version that parses them) and the run window. A source whose request
//! differs per client (a PubMed term) is simply another key.
//!
//! Publishing is write then publish: the payload (the raw metadata and the normalized items)
//! goes under a folder named after the publishing run and the payload's digest, then a small
//! pointer is created with a create-only write. The first publisher wins whole; a run that
//! loses keeps its own copy for itself; nothing published is ever replaced, so two executions
//! at the same moment cannot corrupt each other's objects.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::fetch::RawMeta;
use super::{RunContext, SourceTask, to_json_body};
use crate::config::{HtmlOptions, PubmedOptions, SourceKind};
use crate::error::Result;
use crate::keys;
use crate::ports::ObjectStore;
use crate::ports::store::content_type;

/// Hex digits of the request digest kept in keys: 80 bits, no collision among a catalogue's
/// requests, short enough for readable keys.
const DIGEST_HEX: usize = 20;

/// Everything that decides which bytes a fetch gets and which items come out of them.
#[derive(Serialize)]
struct Request<'a> {
    /// A parser fix ships in a new version: its runs do not reuse the old version's items.
    engine: &'static str,
    medium: &'a str,
    kind: SourceKind,
    url: &'a str,
    capture: Option<&'a str>,
    html: Option<&'a HtmlOptions>,
    pubmed: Option<&'a PubmedOptions>,
    pubmed_term: Option<&'a str>,
}

/// The digest of `source`'s request as fetched through `medium` (see [`crate::ports::Fetcher`]).
/// The name and tier are left out: they change nothing that is fetched.
pub fn request_digest(source: &SourceTask, medium: &str) -> String {
    let request = Request {
        engine: env!("CARGO_PKG_VERSION"),
        medium,
        kind: source.kind,
        url: &source.url,
        capture: source.capture.as_deref(),
        html: source.html.as_ref(),
        pubmed: source.pubmed.as_ref(),
        pubmed_term: source.pubmed_term.as_deref(),
    };
    // Struct fields serialize in declaration order: the same request, the same bytes.
    let bytes = serde_json::to_vec(&request).unwrap_or_default();
    let mut hex = hex::encode(Sha256::digest(&bytes));
    hex.truncate(DIGEST_HEX);
    hex
}

/// A run's share of a source fetch, kept in its raw metadata so `normalize` publishes (or
/// reuses) without working it out again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedFetch {
    /// `shared/fetches/{source_id}/{request digest}/{window}`.
    pub folder: String,
    /// The other run's publication this run reuses; `None` when this run fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reused: Option<Publication>,
}

/// `published.json`: which run fetched, and where its payload is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Publication {
    pub client_id: String,
    pub run_date: NaiveDate,
    /// The publisher's raw metadata (its documents stay under the publisher's run).
    pub meta_key: String,
    /// The publisher's normalized items.
    pub normalized_key: String,
    pub normalize: Normalized,
}

impl Publication {
    /// The run that fetched, as reports name it: `lai_weekly/2026-11-23`.
    pub fn run(&self) -> String {
        format!("{}/{}", self.client_id, self.run_date)
    }
}

/// What `normalize` found, apart from where this run keeps it and how long it took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalized {
    pub items: usize,
    pub dates: BTreeMap<String, usize>,
    pub warnings: Vec<String>,
    pub warnings_total: usize,
}

/// Where `source`'s fetch for `run` is shared.
pub fn folder(run: &RunContext, source: &SourceTask, medium: &str) -> String {
    keys::shared_fetch(
        &source.source_id,
        &request_digest(source, medium),
        (run.window_start.date_naive(), run.window_end.date_naive()),
    )
}

/// What another run published in `folder`, if anything. A run is never served its own
/// publication: running a date again fetches again, as it always did.
pub async fn find(
    store: &dyn ObjectStore,
    folder: &str,
    run: &RunContext,
) -> Result<Option<Publication>> {
    let Some(bytes) = store.get(&keys::shared_publication(folder)).await? else {
        return Ok(None);
    };
    // A pointer is created whole; one that does not read (an older layout) is as good as none:
    // the run fetches for itself.
    let Ok(publication) = serde_json::from_slice::<Publication>(&bytes) else {
        return Ok(None);
    };
    let own = publication.client_id == run.client_id && publication.run_date == run.run_date;
    Ok((!own).then_some(publication))
}

/// Publishes this run's fetch of a source: the payload under a folder only this execution
/// writes, then the pointer, create-only. `Ok(false)` when another run published first (its
/// publication stands; this run keeps using its own copy).
pub async fn publish(
    store: &dyn ObjectStore,
    run: &RunContext,
    shared: &SharedFetch,
    meta: &RawMeta,
    items: Vec<u8>,
    normalized: Normalized,
) -> Result<bool> {
    let pointer = keys::shared_publication(&shared.folder);
    // Already published (this date run again): no payload nobody would point at.
    if store.get(&pointer).await?.is_some() {
        return Ok(false);
    }
    let meta_body = to_json_body("meta.json", meta)?;
    // Named after the publishing run and the payload's digest: two executions that publish at
    // once write different folders unless they write the very same bytes, and a run repeated
    // writes the same objects again (deterministic keys).
    let mut digest = Sha256::new();
    digest.update(&meta_body);
    digest.update(&items);
    let mut hex = hex::encode(digest.finalize());
    hex.truncate(16);
    let attempt = format!("{}-{}-{hex}", run.client_id, run.run_date);
    let meta_key = keys::shared_payload(&shared.folder, &attempt, "meta.json");
    let normalized_key = keys::shared_payload(&shared.folder, &attempt, "normalized.jsonl");
    store.put(&meta_key, meta_body, content_type::JSON).await?;
    store
        .put(&normalized_key, items, content_type::JSON_LINES)
        .await?;
    let publication = Publication {
        client_id: run.client_id.clone(),
        run_date: run.run_date,
        meta_key,
        normalized_key,
        normalize: normalized,
    };
    store
        .put_if_absent(
            &pointer,
            to_json_body(&pointer, &publication)?,
            content_type::JSON,
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> SourceTask {
        SourceTask {
            source_id: "pubmed".into(),
            name: "PubMed".into(),
            kind: SourceKind::Pubmed,
            url: "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/".into(),
            capture: Some("captures/pubmed".into()),
            tier: 2,
            html: None,
            pubmed: Some(PubmedOptions::default()),
            pubmed_term: Some("semaglutide[tiab]".into()),
            replay_capture: false,
        }
    }

    #[test]
    fn the_request_digest_changes_with_what_is_fetched_only() {
        let base = request_digest(&source(), "captures");
        assert_eq!(base.len(), DIGEST_HEX);
        assert_eq!(base, request_digest(&source(), "captures"));
        let renamed = SourceTask {
            name: "Another name".into(),
            tier: 1,
            ..source()
        };
        assert_eq!(base, request_digest(&renamed, "captures"));
        let other_term = SourceTask {
            pubmed_term: Some("paliperidone[tiab]".into()),
            ..source()
        };
        assert_ne!(base, request_digest(&other_term, "captures"));
        assert_ne!(base, request_digest(&source(), "network"));
        let other_url = SourceTask {
            url: "https://example.org/".into(),
            ..source()
        };
        assert_ne!(base, request_digest(&other_url, "captures"));
    }
}

//! `fetch`: one source's bytes, stored raw with their metadata before anything parses them
//! ("raw first": a parser fix can re-normalize without re-fetching).
//!
//! A feed is one document. A company news page is its listing pages (followed through the
//! `next_page` selector) and, optionally, each item's article page. PubMed is an `esearch` for
//! the run's window, then `efetch` batches. Every document is stored under
//! `runs/{client}/{date}/raw/` and listed in `raw/{source_id}.meta.json`.
//!
//! Before any of that, the source's shared fetch is looked up (`steps::shared`): when another
//! run of the same window already fetched the same request, its documents are reused and
//! nothing goes over the network.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::shared::{self, SharedFetch};
use super::{RunContext, SourceTask, elapsed_ms, get_json, put_json};
use crate::config::SourceKind;
use crate::error::{Error, Result};
use crate::keys;
use crate::normalize::{Origin, html_page, pubmed};
use crate::ports::fetcher::{FetchRequest, FetchResponse};
use crate::ports::store::content_type;
use crate::ports::{Fetcher, Ports};
use crate::sources::CaptureFetcher;

/// NCBI's published limits: 3 requests/s without an API key, 10/s with one.
const PUBMED_INTERVAL_MS: u64 = 350;
const PUBMED_INTERVAL_WITH_KEY_MS: u64 = 110;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchInput {
    pub run: RunContext,
    pub source: SourceTask,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FetchOutput {
    pub source_id: String,
    pub meta_key: String,
    pub documents: usize,
    /// Status of the source's first document.
    pub http_status: u16,
    pub bytes: usize,
    pub warnings: Vec<String>,
    pub elapsed_ms: u64,
    /// Fetched now, not modified since the copy held (conditional GET), or reused from
    /// another run's fetch of the same request and window.
    #[serde(default)]
    pub outcome: FetchOutcome,
    /// The run whose fetch was reused (`lai_weekly/2026-11-23`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reused_from: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FetchOutcome {
    #[default]
    Fetched,
    NotModified,
    Reused,
}

/// What a stored document is to its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocRole {
    Feed,
    Listing,
    Article,
    Esearch,
    Efetch,
}

/// One stored document. No fetch time here: raw objects stay byte-identical between two runs of
/// the same inputs (timings go to the report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawDoc {
    pub role: DocRole,
    pub key: String,
    /// The URL asked for (credentials such as API keys removed: see `urls::redact`).
    pub url: String,
    pub final_url: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub bytes: usize,
    pub sha256: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// For article pages: the listing item they belong to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
}

/// `state/sources/{source_id}/{request}.json`: the validators of the last fetched copy and its key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SourceState {
    etag: Option<String>,
    last_modified: Option<String>,
    raw_key: String,
    content_type: Option<String>,
}

/// `raw/{source_id}.meta.json`: every document of the source, in fetch order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawMeta {
    pub source_id: String,
    pub kind: SourceKind,
    pub documents: Vec<RawDoc>,
    /// What could not be fetched without failing the source (an article page, page 2).
    pub warnings: Vec<String>,
    /// Where this fetch is shared with other runs, and the publication reused, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<SharedFetch>,
}

pub async fn run(ports: &Ports, input: FetchInput) -> Result<FetchOutput> {
    let started = ports.clock.now();
    let FetchInput { run, source } = input;
    let data = ports.stores.data.as_ref();
    let fetcher: Arc<dyn Fetcher> = if source.replay_capture {
        Arc::new(CaptureFetcher::new(ports.stores.config.clone()))
    } else {
        ports.fetcher.clone()
    };
    let folder = shared::folder(&run, &source, fetcher.medium());
    let (meta, outcome) = match shared::find(data, &folder, &run).await? {
        Some(publication) => {
            let mut meta: RawMeta = get_json(
                data,
                &publication.meta_key,
                "the shared fetch it points to is gone: delete its published.json to fetch again",
            )
            .await?;
            meta.shared = Some(SharedFetch {
                folder,
                reused: Some(publication),
            });
            (meta, FetchOutcome::Reused)
        }
        None => {
            let mut fetched = Fetched {
                ports,
                fetcher: fetcher.as_ref(),
                run: &run,
                source: &source,
                request: shared::request_digest(&source, fetcher.medium()),
                outcome: FetchOutcome::Fetched,
                meta: RawMeta {
                    source_id: source.source_id.clone(),
                    kind: source.kind,
                    documents: Vec::new(),
                    warnings: Vec::new(),
                    shared: Some(SharedFetch {
                        folder,
                        reused: None,
                    }),
                },
            };
            match source.kind {
                SourceKind::Feed => fetched.feed().await?,
                SourceKind::Html => fetched.html().await?,
                SourceKind::Pubmed => fetched.pubmed().await?,
            }
            (fetched.meta, fetched.outcome)
        }
    };
    let meta_key = keys::raw_meta(&run.client_id, run.run_date, &source.source_id);
    put_json(data, &meta_key, &meta).await?;
    Ok(FetchOutput {
        source_id: source.source_id,
        meta_key,
        documents: meta.documents.len(),
        http_status: meta.documents.first().map_or(0, |d| d.status),
        bytes: meta.documents.iter().map(|d| d.bytes).sum(),
        reused_from: meta
            .shared
            .as_ref()
            .and_then(|s| s.reused.as_ref())
            .map(|p| p.run()),
        warnings: meta.warnings,
        elapsed_ms: elapsed_ms(ports, started),
        outcome,
    })
}

struct Fetched<'a> {
    ports: &'a Ports,
    /// The deployment's fetcher, or the captures when the client replays them.
    fetcher: &'a dyn Fetcher,
    run: &'a RunContext,
    source: &'a SourceTask,
    /// The request digest: validators are kept per source and request.
    request: String,
    outcome: FetchOutcome,
    meta: RawMeta,
}

impl Fetched<'_> {
    fn capture(&self, name: &str) -> Option<String> {
        self.source
            .capture
            .as_ref()
            .map(|c| format!("{}/{name}", c.trim_end_matches('/')))
    }

    fn doc_key(&self, name: &str) -> String {
        format!(
            "{}/raw/{}/{name}",
            keys::run_prefix(&self.run.client_id, self.run.run_date),
            self.source.source_id
        )
    }

    async fn get(&self, url: &str, capture: Option<String>) -> Result<FetchResponse> {
        self.fetcher
            .fetch(&FetchRequest {
                source_id: self.source.source_id.clone(),
                url: url.to_string(),
                capture,
                etag: None,
                last_modified: None,
            })
            .await
    }

    /// A feed is one document. When an earlier run left validators and its body is still in the
    /// store, the request is conditional: a 304 reuses that body, so an unchanged feed costs
    /// one empty response.
    async fn feed(&mut self) -> Result<()> {
        let source = self.source;
        let data = self.ports.stores.data.as_ref();
        let state_key = keys::source_state(&source.source_id, &self.request);
        let previous: Option<SourceState> = match data.get(&state_key).await? {
            Some(bytes) => serde_json::from_slice(&bytes).ok(),
            None => None,
        };
        let previous_body = match &previous {
            Some(p) => data.get(&p.raw_key).await?,
            None => None,
        };
        let validators = previous.as_ref().filter(|_| previous_body.is_some());
        let mut response = self
            .fetcher
            .fetch(&FetchRequest {
                source_id: source.source_id.clone(),
                url: source.url.clone(),
                capture: source.capture.clone(),
                etag: validators.and_then(|p| p.etag.clone()),
                last_modified: validators.and_then(|p| p.last_modified.clone()),
            })
            .await?;
        if response.status == 304 {
            let (Some(p), Some(body)) = (&previous, previous_body) else {
                return Err(Error::source(
                    &source.source_id,
                    "304 Not Modified to an unconditional request",
                ));
            };
            self.meta.warnings.push(format!(
                "not modified since the fetch stored at {}",
                p.raw_key
            ));
            response.body = body;
            response.content_type = p.content_type.clone();
            self.outcome = FetchOutcome::NotModified;
        }
        let ext = extension(response.content_type.as_deref(), &response.body);
        let key = keys::raw(
            &self.run.client_id,
            self.run.run_date,
            &source.source_id,
            ext,
        );
        let state = SourceState {
            etag: response.etag.clone(),
            last_modified: response.last_modified.clone(),
            raw_key: key.clone(),
            content_type: response.content_type.clone(),
        };
        self.store(DocRole::Feed, key, source.url.clone(), response, None)
            .await?;
        if state.etag.is_some() || state.last_modified.is_some() {
            put_json(data, &state_key, &state).await?;
        }
        Ok(())
    }

    /// Stores a document's bytes, then records it (raw first).
    async fn store(
        &mut self,
        role: DocRole,
        key: String,
        url: String,
        response: FetchResponse,
        item_id: Option<String>,
    ) -> Result<Vec<u8>> {
        let stored_type = response
            .content_type
            .clone()
            .unwrap_or_else(|| content_type::OCTET.to_string());
        self.ports
            .stores
            .data
            .put(&key, response.body.clone(), &stored_type)
            .await?;
        self.meta.documents.push(RawDoc {
            role,
            key,
            url: crate::urls::redact(&url),
            final_url: crate::urls::redact(&response.final_url),
            status: response.status,
            content_type: response.content_type,
            bytes: response.body.len(),
            sha256: hex::encode(Sha256::digest(&response.body)),
            etag: response.etag,
            last_modified: response.last_modified,
            item_id,
        });
        Ok(response.body)
    }

    /// Listing pages through `next_page`, then article pages. Only the first page is
    /// required: a later page or an article that fails becomes a warning.
    async fn html(&mut self) -> Result<()> {
        let source = self.source;
        let options = source.html.as_ref().ok_or_else(|| Error::InvalidEvent {
            step: "fetch".into(),
            message: format!(
                "source {} is of kind html but has no html options",
                source.source_id
            ),
        })?;
        let mut url = source.url.clone();
        let mut items = Vec::new();
        for page in 1..=options.max_pages {
            let name = format!("page-{page}.html");
            let response = match self.get(&url, self.capture(&name)).await {
                Ok(r) => r,
                Err(e) if page > 1 => {
                    self.meta
                        .warnings
                        .push(format!("listing page {page} ({url}): {e}"));
                    break;
                }
                Err(e) => return Err(e),
            };
            let final_url = response.final_url.clone();
            let content_type = response.content_type.clone();
            let body = self
                .store(
                    DocRole::Listing,
                    self.doc_key(&name),
                    url.clone(),
                    response,
                    None,
                )
                .await?;
            let origin = Origin {
                source_id: &source.source_id,
                url: Some(&final_url),
                content_type: content_type.as_deref(),
            };
            // Parse only to find where to go next; `normalize` does the real reading and
            // reports a page that cannot be read.
            let Ok(listing) = html_page::parse_listing(&body, &options.selectors, &origin) else {
                break;
            };
            items.extend(listing.items);
            match listing.next_page {
                Some(next) if page < options.max_pages => url = next.to_string(),
                _ => break,
            }
        }
        if options.follow_articles {
            let mut seen = std::collections::HashSet::new();
            for item in items
                .iter()
                .filter(|i| seen.insert(i.id.clone()))
                .take(options.max_articles as usize)
            {
                let name = format!("article-{}.html", item.id);
                match self.get(&item.url, self.capture(&name)).await {
                    Ok(response) => {
                        self.store(
                            DocRole::Article,
                            self.doc_key(&name),
                            item.url.clone(),
                            response,
                            Some(item.id.clone()),
                        )
                        .await?;
                    }
                    Err(e) => self
                        .meta
                        .warnings
                        .push(format!("article {}: {e}", item.url)),
                }
            }
        }
        Ok(())
    }

    /// `esearch` over the run's window, then `efetch` in batches, at NCBI's request rate.
    async fn pubmed(&mut self) -> Result<()> {
        let source = self.source;
        let term = source
            .pubmed_term
            .as_deref()
            .ok_or_else(|| Error::InvalidEvent {
                step: "fetch".into(),
                message: format!(
                    "source {} is a PubMed source but the client has no pubmed.term",
                    source.source_id
                ),
            })?;
        let options = source.pubmed.clone().unwrap_or_default();
        let api_key = self
            .ports
            .secrets
            .get(crate::ports::secrets::NCBI_API_KEY)
            .await?;
        let interval = std::time::Duration::from_millis(if api_key.is_some() {
            PUBMED_INTERVAL_WITH_KEY_MS
        } else {
            PUBMED_INTERVAL_MS
        });
        let first = self.run.window_start.date_naive();
        let last = (self.run.window_end - chrono::Duration::days(1)).date_naive();
        let max = options.max_results as usize;
        let search_url =
            pubmed::esearch_url(&source.url, term, first, last, max, api_key.as_deref());
        let response = self.get(&search_url, self.capture("esearch.xml")).await?;
        let body = self
            .store(
                DocRole::Esearch,
                self.doc_key("esearch.xml"),
                search_url.clone(),
                response,
                None,
            )
            .await?;
        let search = pubmed::parse_esearch(&body, &source.source_id)?;
        self.meta.warnings.extend(search.warnings);
        let ids: Vec<String> = search.ids.into_iter().take(max).collect();
        for (n, batch) in ids.chunks(options.batch_size.max(1) as usize).enumerate() {
            self.ports.clock.sleep(interval).await;
            let name = format!("efetch-{}.xml", n + 1);
            let url = pubmed::efetch_url(&source.url, batch, api_key.as_deref());
            let response = self.get(&url, self.capture(&name)).await?;
            self.store(DocRole::Efetch, self.doc_key(&name), url, response, None)
                .await?;
        }
        Ok(())
    }
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

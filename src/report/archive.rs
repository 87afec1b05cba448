//! The archive of a client's issues: `{client}/index.json` and `{client}/index.html` in the
//! newsletters area, every issue newest first with its status, counts and links.
//!
//! The index is rebuilt from a listing of the store, never read-modified-written, so two runs
//! finishing together cannot drop each other's issue: each writes its own files first, then
//! lists and writes the index, and lists again until the listing no longer changes. Whichever
//! writes last has seen both issues.

use serde::{Deserialize, Serialize};

use super::{RunReport, STYLE, render};
use crate::error::{Error, Result};
use crate::ports::ObjectStore;
use crate::ports::store::content_type;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Archive {
    pub client_id: String,
    pub issues: Vec<Issue>,
    /// Reports that could not be read (written by a version whose report lacked a field the
    /// archive needs, or damaged), with why: listed rather than failing every later run.
    #[serde(default)]
    pub unreadable: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    pub run_date: chrono::NaiveDate,
    pub status: String,
    #[serde(default)]
    pub notice: Option<String>,
    pub items_analyzed: usize,
    pub items_matched: usize,
    pub items_selected: usize,
    pub sources_failed: usize,
    /// Relative to the index: `2026/11/23/newsletter.html`, or none when no issue was sent.
    pub newsletter: Option<String>,
    pub report: String,
    /// `report.html`, when the run wrote one (runs before it existed have report.json only).
    pub report_html: Option<String>,
}

pub fn index_key(client_id: &str) -> String {
    format!("{client_id}/index.json")
}

pub fn index_html_key(client_id: &str) -> String {
    format!("{client_id}/index.html")
}

/// How many times the listing is retaken when it changed while the index was being written.
const MAX_ROUNDS: usize = 5;

/// Builds the archive from what the store holds now.
pub async fn build(news: &dyn ObjectStore, client_id: &str) -> Result<(Archive, Vec<String>)> {
    let listing = news.list(&format!("{client_id}/")).await?;
    let mut issues = Vec::new();
    let mut unreadable = Vec::new();
    for key in listing.iter().filter(|k| k.ends_with("/report.json")) {
        let folder = key
            .strip_prefix(&format!("{client_id}/"))
            .and_then(|k| k.strip_suffix("report.json"))
            .unwrap_or_default();
        // Only issue folders (yyyy/mm/dd/): anything else under the client is not an issue.
        if folder.split('/').filter(|p| !p.is_empty()).count() != 3 {
            continue;
        }
        let Some(bytes) = news.get(key).await? else {
            continue;
        };
        let r = match RunReport::parse(&bytes, &news.locate(key)) {
            Ok(r) => r,
            Err(e) => {
                unreadable.push(e.to_string());
                continue;
            }
        };
        let has = |file: &str| {
            listing
                .iter()
                .any(|k| *k == format!("{client_id}/{folder}{file}"))
        };
        issues.push(Issue {
            run_date: r.run_date,
            status: r.status.clone(),
            notice: r.notice.clone(),
            items_analyzed: r.funnel.items_analyzed,
            items_matched: r.funnel.items_matched,
            items_selected: r.funnel.items_selected,
            sources_failed: r.sources.iter().filter(|s| s.status == "failed").count(),
            newsletter: has("newsletter.html").then(|| format!("{folder}newsletter.html")),
            report: format!("{folder}report.json"),
            report_html: has("report.html").then(|| format!("{folder}report.html")),
        });
    }
    issues.sort_by_key(|i| std::cmp::Reverse(i.run_date));
    Ok((
        Archive {
            client_id: client_id.to_string(),
            issues,
            unreadable,
        },
        listing,
    ))
}

pub fn render_index(archive: &Archive) -> Result<String> {
    #[derive(Serialize)]
    struct Page<'a> {
        style: &'static str,
        a: &'a Archive,
    }
    render(
        "index.html",
        &Page {
            style: STYLE,
            a: archive,
        },
    )
}

/// Rewrites the client's `index.json` and `index.html` until they reflect a stable listing.
pub async fn update(news: &dyn ObjectStore, client_id: &str) -> Result<Archive> {
    let (mut archive, mut listing) = build(news, client_id).await?;
    for _ in 0..MAX_ROUNDS {
        let json = serde_json::to_vec_pretty(&archive)
            .map_err(|e| Error::Internal(format!("archive index: {e}")))?;
        news.put(&index_key(client_id), json, content_type::JSON)
            .await?;
        news.put(
            &index_html_key(client_id),
            render_index(&archive)?.into_bytes(),
            content_type::HTML,
        )
        .await?;
        let relisted = news.list(&format!("{client_id}/")).await?;
        if issue_keys(&relisted) == issue_keys(&listing) {
            return Ok(archive);
        }
        (archive, listing) = build(news, client_id).await?;
    }
    Ok(archive)
}

/// The keys that make up issues (not the index itself, which this very update rewrites).
fn issue_keys(listing: &[String]) -> Vec<&String> {
    listing
        .iter()
        .filter(|k| !k.ends_with("/index.json") && !k.ends_with("/index.html"))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::store::MemoryStore;

    fn report_json(date: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "client_id": "c", "run_date": date,
            "window_start": format!("{date}T00:00:00Z"), "window_end": format!("{date}T00:00:00Z"),
            "status": "ok",
            "funnel": {"items_fetched": 1, "items_analyzed": 1, "items_unique": 1, "items_undated": 0,
                "items_out_of_window": 0, "items_matched": 1, "items_relevant": 1, "items_selected": 1},
            "llm": {"calls": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0,
                "sections_cached": 0, "sections_fallback": 0},
            "timings_ms": {"fetch_total": 1, "normalize_total": 1, "match": 1, "score": 1,
                "sections_total": 1, "assemble": 1}
        }))
        .unwrap()
    }

    /// A store where another run's issue lands right after this run first writes the index:
    /// the moment a read-modify-write (or a single listing) would lose it.
    struct Racing {
        inner: MemoryStore,
        pending: Mutex<Option<(String, Vec<u8>)>>,
    }

    #[async_trait]
    impl ObjectStore for Racing {
        async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
            self.inner.get(key).await
        }
        async fn put(&self, key: &str, body: Vec<u8>, ct: &str) -> Result<()> {
            self.inner.put(key, body, ct).await?;
            let other = if key.ends_with("index.json") {
                self.pending.lock().unwrap().take()
            } else {
                None
            };
            if let Some((k, b)) = other {
                self.inner.put(&k, b, content_type::JSON).await?;
            }
            Ok(())
        }
        async fn put_if_absent(&self, key: &str, body: Vec<u8>, ct: &str) -> Result<bool> {
            self.inner.put_if_absent(key, body, ct).await
        }
        async fn list(&self, prefix: &str) -> Result<Vec<String>> {
            self.inner.list(prefix).await
        }
        fn locate(&self, key: &str) -> String {
            self.inner.locate(key)
        }
    }

    #[tokio::test]
    async fn an_issue_written_while_the_index_is_written_is_not_lost() {
        let store = Racing {
            inner: MemoryStore::new(),
            pending: Mutex::new(Some((
                "c/2026/11/30/report.json".into(),
                report_json("2026-11-30"),
            ))),
        };
        store
            .put(
                "c/2026/11/23/report.json",
                report_json("2026-11-23"),
                content_type::JSON,
            )
            .await
            .unwrap();
        store
            .put(
                "c/2026/11/16/report.json",
                b"{}".to_vec(),
                content_type::JSON,
            )
            .await
            .unwrap();
        let archive = update(&store, "c").await.unwrap();
        let on_disk: Archive =
            serde_json::from_slice(&store.get("c/index.json").await.unwrap().unwrap()).unwrap();
        assert_eq!(archive, on_disk);
        let dates: Vec<String> = on_disk
            .issues
            .iter()
            .map(|i| i.run_date.to_string())
            .collect();
        assert_eq!(dates, ["2026-11-30", "2026-11-23"]);
        assert_eq!(on_disk.issues[0].report, "2026/11/30/report.json");
        assert_eq!(on_disk.issues[0].newsletter, None);
        // A damaged report is named, not fatal.
        assert_eq!(on_disk.unreadable.len(), 1);
        assert!(on_disk.unreadable[0].contains("c/2026/11/16/report.json"));
    }
}

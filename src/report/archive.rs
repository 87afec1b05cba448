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
        let r = RunReport::parse(&bytes, &news.locate(key))?;
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
        let (again, relisted) = build(news, client_id).await?;
        if issue_keys(&relisted) == issue_keys(&listing) {
            return Ok(again);
        }
        archive = again;
        listing = relisted;
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

//! Run diagnostics people read: `report.json` read back as data ([`RunReport`]), the HTML run
//! report beside it ([`html`]), the archive of a client's issues ([`archive`]) and the trends
//! and recommendations over the last runs ([`trends`]).
//!
//! Everything here reads what the pipeline already wrote (reports, step journal) through the
//! object-store port, so the same code serves a local directory and a bucket.

pub mod archive;
pub mod html;
pub mod trends;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use minijinja::Environment;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::ScoreLine;
use crate::steps::generate_section::GenerateOutput;
use crate::steps::match_items::Excluded;

/// `report.json`, as the report pages read it back. Fields added after a report was written
/// default, so older issues stay readable in the archive and the trends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub client_id: String,
    pub run_date: NaiveDate,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub status: String,
    #[serde(default)]
    pub notice: Option<String>,
    pub funnel: Funnel,
    #[serde(default)]
    pub sources: Vec<SourceRow>,
    /// How the sources were had: fetched, not modified, reused from another run, failed.
    #[serde(default)]
    pub fetches: FetchCounts,
    /// The newsletter's sections as configured for this run, empty ones included.
    #[serde(default)]
    pub newsletter_sections: Vec<SectionRef>,
    #[serde(default)]
    pub sections: Vec<GenerateOutput>,
    pub llm: LlmTotals,
    #[serde(default)]
    pub decisions: Vec<DecisionRow>,
    #[serde(default)]
    pub excluded: Vec<Excluded>,
    pub timings_ms: Timings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionRef {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Funnel {
    pub items_fetched: usize,
    pub items_analyzed: usize,
    pub items_unique: usize,
    pub items_undated: usize,
    pub items_out_of_window: usize,
    pub items_matched: usize,
    pub items_relevant: usize,
    pub items_selected: usize,
}

impl Funnel {
    /// Items published in the run window (what `match` looked at for the watch lists).
    pub fn in_window(&self) -> usize {
        self.items_unique
            .saturating_sub(self.items_undated + self.items_out_of_window)
    }
}

/// The run's sources by how they were had. `reused` ones cost no request: another run of the
/// same window fetched the same request and published it (`steps::shared`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchCounts {
    pub fetched: usize,
    pub not_modified: usize,
    pub reused: usize,
    pub failed: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRow {
    pub source_id: String,
    pub name: String,
    pub status: String,
    #[serde(default)]
    pub http_status: Option<u16>,
    #[serde(default)]
    pub items: Option<usize>,
    #[serde(default)]
    pub dates: BTreeMap<String, usize>,
    #[serde(default)]
    pub warnings: Vec<String>,
    #[serde(default)]
    pub warnings_total: usize,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
    /// `fetched`, `not_modified` or `reused`; none when the fetch failed.
    #[serde(default)]
    pub fetch: Option<String>,
    /// The run whose fetch was reused (`lai_weekly/2026-11-23`).
    #[serde(default)]
    pub reused_from: Option<String>,
    #[serde(default)]
    pub fetch_ms: Option<u64>,
    #[serde(default)]
    pub normalize_ms: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlmTotals {
    pub calls: u32,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
    pub sections_cached: usize,
    pub sections_fallback: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRow {
    pub item_id: String,
    pub title: String,
    pub url: String,
    pub source: String,
    pub event_type: String,
    pub score: f64,
    pub decision: String,
    #[serde(default)]
    pub section: Option<String>,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub breakdown: Vec<ScoreLine>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    pub fetch_total: u64,
    pub normalize_total: u64,
    #[serde(rename = "match")]
    pub matching: u64,
    pub score: u64,
    pub sections_total: u64,
    pub assemble: u64,
    #[serde(default)]
    pub execution: Option<u64>,
}

pub const REASON_NAMES_NOTHING: &str = "names nothing on the watch lists";
pub const REASON_OUT_OF_WINDOW: &str = "outside the run window";
pub const REASON_UNDATED: &str = "no date from the source";

/// The kind of an exclusion, without the item's particulars (dates, ignored words), so that
/// exclusions can be grouped and counted.
pub fn reason_group(reason: &str) -> String {
    let r = reason.strip_prefix("dropped: ").unwrap_or(reason);
    if r.starts_with(REASON_NAMES_NOTHING) {
        REASON_NAMES_NOTHING.to_string()
    } else if r.contains(REASON_OUT_OF_WINDOW) {
        REASON_OUT_OF_WINDOW.to_string()
    } else if r.contains("gives no date") {
        REASON_UNDATED.to_string()
    } else {
        r.split(" (").next().unwrap_or(r).to_string()
    }
}

impl RunReport {
    pub fn parse(bytes: &[u8], key: &str) -> Result<Self> {
        serde_json::from_slice(bytes).map_err(|e| Error::Store {
            op: "read",
            key: key.to_string(),
            message: format!(
                "not a run report ({e}): re-run that date with `vectora run --resume` to rewrite it"
            ),
        })
    }

    /// Items of a source that were published in the window: matched, or dropped for naming
    /// nothing (the other exclusions happen before the window is known to hold them).
    pub fn in_window_by_source(&self) -> BTreeMap<&str, usize> {
        let mut out: BTreeMap<&str, usize> = self
            .sources
            .iter()
            .map(|s| (s.source_id.as_str(), 0))
            .collect();
        for d in &self.decisions {
            *out.entry(d.source.as_str()).or_default() += 1;
        }
        for e in &self.excluded {
            if reason_group(&e.reason) == REASON_NAMES_NOTHING {
                *out.entry(e.source.as_str()).or_default() += 1;
            }
        }
        out
    }

    pub fn fallbacks(&self) -> usize {
        self.llm.sections_fallback
    }

    pub fn throttles(&self) -> u32 {
        self.sections.iter().map(|s| s.throttles).sum()
    }

    /// Issue folder relative to the client's archive page: `2026/11/23/`.
    pub fn folder(&self) -> String {
        self.run_date.format("%Y/%m/%d/").to_string()
    }
}

/// A link that may be rendered: absolute http(s) only; anything else renders as text.
pub(crate) fn safe_href(url: &str) -> String {
    let lower = url.trim().to_ascii_lowercase();
    if (lower.starts_with("https://") || lower.starts_with("http://"))
        && !url.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        url.trim().to_string()
    } else {
        String::new()
    }
}

fn environment() -> Result<Environment<'static>> {
    let mut env = crate::render::base_environment(false)?;
    env.add_filter("href", |s: String| safe_href(&s));
    for (name, body) in [
        ("report.html", include_str!("templates/report.html.j2")),
        ("index.html", include_str!("templates/index.html.j2")),
        ("trends.html", include_str!("templates/trends.html.j2")),
        ("trends.md", include_str!("templates/trends.md.j2")),
    ] {
        env.add_template(name, body)
            .map_err(|e| Error::Internal(format!("{name} template: {e}")))?;
    }
    Ok(env)
}

pub(crate) fn render<S: Serialize>(name: &str, ctx: &S) -> Result<String> {
    let env = environment()?;
    env.get_template(name)
        .and_then(|t| t.render(minijinja::value::Serde(ctx)))
        .map_err(|e| Error::Internal(format!("rendering {name}: {e}")))
}

/// The shared style of the report pages: readable at 375 px, wide tables scroll inside their
/// box rather than the page.
pub(crate) const STYLE: &str = include_str!("templates/style.css");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusions_group_without_their_particulars() {
        assert_eq!(
            reason_group(
                "dropped: published 2026-11-13 07:00:00 UTC, outside the run window [a, b)"
            ),
            REASON_OUT_OF_WINDOW
        );
        assert_eq!(
            reason_group("dropped: names nothing on the watch lists (ignored: formulation)"),
            REASON_NAMES_NOTHING
        );
        assert_eq!(
            reason_group("dropped: the source gives no date for it (keep_undated is off)"),
            REASON_UNDATED
        );
    }

    #[test]
    fn only_http_links_are_rendered_as_links() {
        assert_eq!(safe_href("javascript:alert(1)"), "");
        assert_eq!(safe_href("https://a.example/x"), "https://a.example/x");
        assert_eq!(safe_href("http://a.example/x y"), "");
    }
}

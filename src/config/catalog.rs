//! The source catalogue: `sources/catalog.yaml`, every source any client may follow.

use serde::{Deserialize, Serialize};

use crate::normalize::html_page::PageSelectors;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub sources: Vec<SourceDef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceDef {
    /// `[a-z0-9_]+`: used in object keys.
    pub id: String,
    pub name: String,
    pub kind: SourceKind,
    pub url: String,
    /// 1: a company's or regulator's own channel; 2: trade press; 3: aggregator.
    pub tier: u8,
    /// Recorded capture relative to `sources/`, served instead of `url` by offline runs: a file
    /// for a feed, a folder of named documents for `html` and `pubmed` sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<String>,
    /// Required for `kind: html`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<HtmlOptions>,
    /// Optional for `kind: pubmed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pubmed: Option<PubmedOptions>,
}

/// How to read a company news page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HtmlOptions {
    pub selectors: PageSelectors,
    /// Listing pages to follow through `selectors.next_page` (1 = the first page only).
    #[serde(default = "one")]
    pub max_pages: u32,
    /// Fetch each item's own page for its full text and a better date.
    #[serde(default)]
    pub follow_articles: bool,
    /// At most this many article pages per run.
    #[serde(default = "twenty")]
    pub max_articles: u32,
}

/// PubMed E-utilities limits (the search term is the client's `pubmed.term`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PubmedOptions {
    /// Most PMIDs kept from the search.
    #[serde(default = "two_hundred")]
    pub max_results: u32,
    /// PMIDs per efetch request.
    #[serde(default = "one_hundred")]
    pub batch_size: u32,
}

impl Default for PubmedOptions {
    fn default() -> Self {
        PubmedOptions {
            max_results: 200,
            batch_size: 100,
        }
    }
}

fn one() -> u32 {
    1
}
fn twenty() -> u32 {
    20
}
fn two_hundred() -> u32 {
    200
}
fn one_hundred() -> u32 {
    100
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// RSS 0.9x/1.0/2.0, Atom or JSON Feed.
    Feed,
    /// A company news page read with CSS selectors (`html:` options).
    Html,
    /// PubMed through NCBI E-utilities (`url` = the E-utilities base URL).
    Pubmed,
}

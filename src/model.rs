//! The records that flow between steps: normalized items, matched items, scored items, drafts.
//!
//! These are the JSON shapes stored in the object store (one item per JSON line). Field order is
//! the declaration order, which keeps every stored object byte-stable from one run to the next.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where an item's `published` date came from. Never the fetch time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DateSource {
    /// The feed's own date field (pubDate, published, updated, dc:date, date_published).
    Feed,
    JsonLd,
    Meta,
    TimeTag,
    Text,
    Url,
    /// No date could be found: `published` is null.
    #[default]
    None,
}

impl DateSource {
    /// The provenance of a date read from the source's own metadata (a feed's or PubMed's date
    /// field): `Feed` when there is one, `None` when not.
    pub fn from_metadata<T>(published: &Option<T>) -> DateSource {
        if published.is_some() {
            DateSource::Feed
        } else {
            DateSource::None
        }
    }
}

/// Where an item's title came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TitleSource {
    /// The source's own title.
    #[default]
    Given,
    /// The source gave none (a title-less RSS item): the summary's first sentence.
    Derived,
}

impl TitleSource {
    pub fn is_given(&self) -> bool {
        *self == TitleSource::Given
    }
}

/// Which field of the entry its URL was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum UrlSource {
    /// A link (RSS `link`, Atom `link rel=alternate`, JSON Feed `url`).
    #[default]
    Link,
    /// An RSS `guid` that is a permalink.
    Guid,
    /// An RSS 1.0 item's `rdf:about`.
    RdfAbout,
    /// An Atom `id` (or JSON Feed `id`) that is a URL.
    Id,
    /// No field gives an address: `url` is empty and `match` excludes the item ("no link to
    /// cite").
    None,
}

impl UrlSource {
    pub fn is_link(&self) -> bool {
        *self == UrlSource::Link
    }
}

/// One news item as every source yields it, after normalization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Hash of the canonical URL: the item's identity across sources and runs.
    pub id: String,
    pub title: String,
    /// `derived` when the source gave no title; absent when it did.
    #[serde(default, skip_serializing_if = "TitleSource::is_given")]
    pub title_source: TitleSource,
    /// Canonical URL (tracking parameters and fragment removed); empty when the entry has no
    /// address (`url_source: none`).
    pub url: String,
    /// The field `url` came from; absent when it is a link.
    #[serde(default, skip_serializing_if = "UrlSource::is_link")]
    pub url_source: UrlSource,
    pub published: Option<DateTime<Utc>>,
    pub date_source: DateSource,
    /// Short plain-text summary (the feed's description), HTML stripped.
    pub summary: String,
    /// The longest plain text the source gave (content, else summary).
    pub text: String,
    #[serde(default)]
    pub authors: Vec<String>,
    /// Where it was published inside the source: a journal for PubMed articles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<String>,
    /// Source id from the catalogue.
    pub source: String,
    /// Other sources that carried the same story (filled by dedup in `match`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_in: Vec<String>,
}

/// Watch-list entities found in an item, by canonical name (sorted, deduplicated).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Entities {
    pub companies: BTreeSet<String>,
    pub molecules: BTreeSet<String>,
    pub trademarks: BTreeSet<String>,
    pub technologies: BTreeSet<String>,
}

impl Entities {
    pub fn is_empty(&self) -> bool {
        self.companies.is_empty()
            && self.molecules.is_empty()
            && self.trademarks.is_empty()
            && self.technologies.is_empty()
    }
}

/// What kind of watch-list term fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermKind {
    Company,
    Molecule,
    Trademark,
    Technology,
    Exclusion,
    Event,
}

/// Where in the item a term fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Title,
    Body,
}

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Body => "body",
        }
    }
}

/// One term that fired: the evidence behind entities, exclusions and event types.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Hit {
    pub kind: TermKind,
    /// The entity or category the term belongs to (canonical company name, exclusion category,
    /// event type id, ...).
    pub entity: String,
    /// The term as written in the watch list.
    pub term: String,
    pub field: Field,
    /// Whether the entity was implied by another (a trademark implies its molecule and owner)
    /// rather than named in the text.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub implied: bool,
}

/// An item that survived dedup and the period window, with what the watch lists found in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedItem {
    #[serde(flatten)]
    pub item: Item,
    pub entities: Entities,
    pub hits: Vec<Hit>,
    /// Event type id (from the scoring rules' patterns), or "other".
    pub event_type: String,
    /// Terms found but not counted, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
}

/// One line of a score breakdown: a rule that added or removed points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreLine {
    pub rule: String,
    pub points: f64,
    pub detail: String,
}

/// A scored item: the decision and its reasons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredItem {
    #[serde(flatten)]
    pub matched: MatchedItem,
    pub score: f64,
    pub breakdown: Vec<ScoreLine>,
    pub relevant: bool,
    /// Section it was assigned to (None when not relevant or cut by caps).
    pub section: Option<String>,
    /// Why it was kept or dropped, in words.
    pub reasons: Vec<String>,
}

/// A newsletter section as chosen by `score`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectedSection {
    pub id: String,
    pub title: String,
    pub items: Vec<ScoredItem>,
}

/// `selection.json`: what the newsletter will contain, and the fate of every matched item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub client_id: String,
    pub run_date: chrono::NaiveDate,
    pub sections: Vec<SelectedSection>,
    /// Every matched item that is not in a section, with its reasons.
    pub dropped: Vec<ScoredItem>,
}

/// The editorial text of one item in a section draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftItem {
    pub item_id: String,
    pub summary: String,
}

/// `drafts/{section_id}.json`: a section's editorial text, and how it was written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionDraft {
    pub section_id: String,
    pub title: String,
    pub intro: String,
    pub items: Vec<DraftItem>,
    /// "template" or "bedrock".
    pub editor: String,
    /// Why the template editor wrote this section when another was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_reason: Option<String>,
    #[serde(default)]
    pub llm_calls: u32,
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    /// What the calls cost, from the client's price table.
    #[serde(default)]
    pub cost_usd: f64,
    /// Whether the answer came from the LLM cache (a re-run pays nothing).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
    /// Model calls that were throttled while writing this section.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub throttles: u32,
    /// Every model call made for this section in this execution, in order, whatever it met.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
    /// The prompt's size as estimated before the first call (Bedrock editor only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_input_tokens: Option<u64>,
    /// Items left out of the prompt to keep it under `max_input_tokens`; the newsletter still
    /// lists them, with the template editor's words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped_from_prompt: Vec<DroppedItem>,
}

impl SectionDraft {
    /// Sets what the section cost from its attempts: the ledger is the one account of calls,
    /// tokens, money and throttles, whichever invocation made them.
    pub fn account(&mut self, attempts: Vec<Attempt>) {
        self.llm_calls = attempts.len() as u32;
        self.input_tokens = attempts.iter().map(|a| a.input_tokens).sum();
        self.output_tokens = attempts.iter().map(|a| a.output_tokens).sum();
        self.cost_usd = attempts.iter().map(|a| a.cost_usd).sum();
        self.throttles = attempts
            .iter()
            .filter(|a| a.outcome == crate::error::ErrorKind::Throttled.name())
            .count() as u32;
        self.attempts = attempts;
    }
}

/// One model call made for a section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// `answer` when the model answered, else the error name the call failed with
    /// (`Throttled`, `QuotaExceeded`, `ModelUnavailable`, `InvalidInput`, `Internal`).
    pub outcome: String,
    /// For an answer: whether the guards accepted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<bool>,
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub cost_usd: f64,
    /// Why the answer was refused, or what the error said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// An item of a section left out of the editor's prompt to keep it under the client's input
/// limit. It stays in the newsletter, with the template editor's words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DroppedItem {
    pub item_id: String,
    pub title: String,
    pub score: f64,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

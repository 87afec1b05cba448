//! `normalize`: one source's stored documents → normalized items as JSON lines.
//!
//! A run that fetched publishes its items for the other runs of the window (`steps::shared`);
//! a run that reused another's fetch copies that run's items instead of parsing again.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::fetch::{DocRole, RawDoc, RawMeta};
use super::shared::{self, Normalized};
use super::{RunContext, SourceTask, elapsed_ms, get_json, to_jsonl_body};
use crate::config::SourceKind;
use crate::error::{Error, Result};
use crate::keys;
use crate::model::{DateSource, Item};
use crate::normalize::{self, Format, Origin, Parsed, html_page, pubmed};
use crate::ports::{ObjectStore, Ports};

/// Warnings returned in the step result; the rest are counted (claim check: results stay small).
const MAX_WARNINGS_RETURNED: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalizeInput {
    pub run: RunContext,
    pub source: SourceTask,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormalizeOutput {
    pub source_id: String,
    pub normalized_key: String,
    pub items: usize,
    /// Items that carry a date, by where it came from (`feed`, `json-ld`, `text`, ...).
    pub dates: BTreeMap<String, usize>,
    pub warnings: Vec<String>,
    pub warnings_total: usize,
    pub elapsed_ms: u64,
}

pub async fn run(ports: &Ports, input: NormalizeInput) -> Result<NormalizeOutput> {
    let started = ports.clock.now();
    let NormalizeInput { run, source } = input;
    let store = ports.stores.data.as_ref();
    let meta_key = keys::raw_meta(&run.client_id, run.run_date, &source.source_id);
    let meta: RawMeta =
        get_json(store, &meta_key, "run the fetch step for this source first").await?;
    let normalized_key = keys::normalized(&run.client_id, run.run_date, &source.source_id);
    if let Some(publication) = meta.shared.as_ref().and_then(|s| s.reused.as_ref()) {
        let items = store
            .get(&publication.normalized_key)
            .await?
            .ok_or_else(|| Error::MissingObject {
                key: store.locate(&publication.normalized_key),
                hint: format!(
                    "the shared fetch of {} is gone: run the fetch step for this source again",
                    source.source_id
                ),
            })?;
        store
            .put(
                &normalized_key,
                items,
                crate::ports::store::content_type::JSON_LINES,
            )
            .await?;
        return Ok(output(
            source.source_id,
            normalized_key,
            publication.normalize.clone(),
            elapsed_ms(ports, started),
        ));
    }
    let mut parsed = match meta.kind {
        SourceKind::Feed => {
            let doc = first_doc(&meta, DocRole::Feed)?;
            let bytes = read(store, doc).await?;
            normalize::parse(&bytes, Format::Auto, &origin(&source, doc))?
        }
        SourceKind::Html => html(store, &source, &meta).await?,
        SourceKind::Pubmed => {
            let mut all = Parsed::default();
            for doc in meta.documents.iter().filter(|d| d.role == DocRole::Efetch) {
                let bytes = read(store, doc).await?;
                let p = pubmed::parse_efetch(&bytes, &origin(&source, doc))?;
                all.items.extend(p.items);
                all.warnings.extend(p.warnings);
            }
            all
        }
    };
    parsed.warnings.splice(0..0, meta.warnings.iter().cloned());
    // Whatever the format, nothing unbounded or unsafe goes further (feeds are bounded by
    // `normalize::parse` already; bounding twice changes nothing).
    parsed.items.iter_mut().for_each(normalize::bound);
    let body = to_jsonl_body(&normalized_key, &parsed.items)?;
    store
        .put(
            &normalized_key,
            body.clone(),
            crate::ports::store::content_type::JSON_LINES,
        )
        .await?;
    let mut dates: BTreeMap<String, usize> = BTreeMap::new();
    for item in &parsed.items {
        let name = serde_json::to_value(item.date_source)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string));
        *dates.entry(name.unwrap_or_default()).or_default() += 1;
    }
    let normalized = Normalized {
        items: parsed.items.len(),
        dates,
        warnings_total: parsed.warnings.len(),
        warnings: parsed
            .warnings
            .into_iter()
            .take(MAX_WARNINGS_RETURNED)
            .collect(),
    };
    if let Some(share) = &meta.shared {
        // Whether this run or another published first, this run goes on with its own items.
        shared::publish(store, &run, share, &meta, body, normalized.clone()).await?;
    }
    Ok(output(
        source.source_id,
        normalized_key,
        normalized,
        elapsed_ms(ports, started),
    ))
}

fn output(
    source_id: String,
    normalized_key: String,
    n: Normalized,
    elapsed_ms: u64,
) -> NormalizeOutput {
    NormalizeOutput {
        source_id,
        normalized_key,
        items: n.items,
        dates: n.dates,
        warnings: n.warnings,
        warnings_total: n.warnings_total,
        elapsed_ms,
    }
}

fn origin<'a>(source: &'a SourceTask, doc: &'a RawDoc) -> Origin<'a> {
    Origin {
        source_id: &source.source_id,
        url: Some(&doc.final_url),
        content_type: doc.content_type.as_deref(),
    }
}

fn first_doc(meta: &RawMeta, role: DocRole) -> Result<&RawDoc> {
    meta.documents
        .iter()
        .find(|d| d.role == role)
        .ok_or_else(|| {
            Error::source(
                &meta.source_id,
                format!("no {role:?} document was fetched: run the fetch step again"),
            )
        })
}

async fn read(store: &dyn ObjectStore, doc: &RawDoc) -> Result<Vec<u8>> {
    store
        .get(&doc.key)
        .await?
        .ok_or_else(|| Error::MissingObject {
            key: store.locate(&doc.key),
            hint: "run the fetch step for this source again".into(),
        })
}

/// Listing pages give the items; an item's article page, when fetched, gives its full text
/// and, when it is better sourced, its date.
async fn html(store: &dyn ObjectStore, source: &SourceTask, meta: &RawMeta) -> Result<Parsed> {
    let options = source.html.as_ref().ok_or_else(|| Error::InvalidEvent {
        step: "normalize".into(),
        message: format!(
            "source {} is of kind html but has no html options",
            source.source_id
        ),
    })?;
    let mut parsed = Parsed::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (n, doc) in meta
        .documents
        .iter()
        .filter(|d| d.role == DocRole::Listing)
        .enumerate()
    {
        let bytes = read(store, doc).await?;
        let listing =
            match html_page::parse_listing(&bytes, &options.selectors, &origin(source, doc)) {
                Ok(l) => l,
                // A later page that cannot be read costs its items, not the source.
                Err(e) if n > 0 => {
                    parsed.warnings.push(format!("listing page {}: {e}", n + 1));
                    continue;
                }
                Err(e) => return Err(e),
            };
        parsed.warnings.extend(listing.warnings);
        for item in listing.items {
            if let std::collections::hash_map::Entry::Vacant(v) = index.entry(item.id.clone()) {
                v.insert(parsed.items.len());
                parsed.items.push(item);
            }
        }
    }
    for doc in meta.documents.iter().filter(|d| d.role == DocRole::Article) {
        let Some(&i) = doc.item_id.as_ref().and_then(|id| index.get(id)) else {
            continue;
        };
        let bytes = read(store, doc).await?;
        let article = html_page::parse_article(&bytes);
        enrich(&mut parsed.items[i], article);
    }
    Ok(parsed)
}

/// How much a date's provenance is worth: structured metadata beats a listing's text.
fn date_rank(source: DateSource) -> u8 {
    match source {
        DateSource::Feed | DateSource::JsonLd => 6,
        DateSource::Meta => 5,
        DateSource::TimeTag => 4,
        DateSource::Text => 3,
        DateSource::Url => 2,
        DateSource::None => 0,
    }
}

fn enrich(item: &mut Item, article: html_page::Article) {
    if article.text.len() > item.text.len() {
        item.text = article.text;
        if item.summary.is_empty() {
            item.summary = crate::text::leading_sentences(&item.text, 400);
        }
    }
    if let Some((published, source)) = article.published
        && date_rank(source) > date_rank(item.date_source)
    {
        item.published = Some(published);
        item.date_source = source;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_article_date_replaces_a_weaker_listing_date_only() {
        let mut item = crate::matching::tests::item("T", "teaser");
        item.published = Some(chrono::Utc.with_ymd_and_hms(2026, 11, 17, 0, 0, 0).unwrap());
        item.date_source = DateSource::Text;
        let exact = chrono::Utc
            .with_ymd_and_hms(2026, 11, 17, 9, 30, 0)
            .unwrap();
        enrich(
            &mut item,
            html_page::Article {
                text: "Full text of the article.".into(),
                published: Some((exact, DateSource::JsonLd)),
            },
        );
        assert_eq!(item.published, Some(exact));
        assert_eq!(item.date_source, DateSource::JsonLd);
        assert_eq!(item.text, "Full text of the article.");
        let later = chrono::Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap();
        enrich(
            &mut item,
            html_page::Article {
                text: String::new(),
                published: Some((later, DateSource::Text)),
            },
        );
        assert_eq!(
            item.published,
            Some(exact),
            "a text date does not replace JSON-LD"
        );
    }
}

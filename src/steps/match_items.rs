//! `match`: every normalized item of the run → deduplicated, in-window items that name the
//! client's watch lists, with the entities and terms found.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::fetch::FetchOutput;
use super::normalize::NormalizeOutput;
use super::{RunContext, elapsed_ms, get_jsonl, put_jsonl};
use crate::config::load_client;
use crate::error::Result;
use crate::keys;
use crate::matching::Matcher;
use crate::model::{Item, MatchedItem};
use crate::ports::Ports;

/// What the source Map produced for one source: either both step results, or the error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceOutcome {
    pub source_id: String,
    pub status: SourceStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch: Option<FetchOutput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize: Option<NormalizeOutput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    Ok,
    Failed,
}

/// An item `match` left out, and why: the report's explanation for items never scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Excluded {
    pub item_id: String,
    pub title: String,
    pub url: String,
    pub source: String,
    pub published: Option<chrono::DateTime<chrono::Utc>>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchInput {
    pub run: RunContext,
    pub sources: Vec<SourceOutcome>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchOutput {
    pub matched_key: String,
    /// Items read from the normalized sources.
    pub items_analyzed: usize,
    /// Items left once the same story from several sources is counted once.
    pub items_unique: usize,
    pub items_undated: usize,
    pub items_out_of_window: usize,
    pub items_matched: usize,
    pub elapsed_ms: u64,
}

pub async fn run(ports: &Ports, input: MatchInput) -> Result<MatchOutput> {
    let started = ports.clock.now();
    let MatchInput { run, sources } = input;
    let bundle = load_client(ports.stores.config.as_ref(), &run.client_id).await?;
    let matcher = Matcher::new(&bundle.watch, &bundle.scoring)?;
    let store = ports.stores.data.as_ref();

    let mut items: Vec<Item> = Vec::new();
    for outcome in sources.iter().filter(|s| s.status == SourceStatus::Ok) {
        let key = keys::normalized(&run.client_id, run.run_date, &outcome.source_id);
        items.extend(
            get_jsonl::<Item>(store, &key, "run the normalize step for this source first").await?,
        );
    }
    let items_analyzed = items.len();
    let unique = dedup(items);
    let items_unique = unique.len();

    let mut items_undated = 0;
    let mut items_out_of_window = 0;
    let mut matched = Vec::new();
    let mut excluded: Vec<Excluded> = Vec::new();
    let mut exclude = |item: &Item, reason: String| {
        excluded.push(Excluded {
            item_id: item.id.clone(),
            title: item.title.clone(),
            url: item.url.clone(),
            source: item.source.clone(),
            published: item.published,
            reason,
        })
    };
    for item in unique {
        let Some(published) = item.published else {
            items_undated += 1;
            exclude(&item, "dropped: the source gives no date for it".into());
            continue;
        };
        if published < run.window_start || published >= run.window_end {
            items_out_of_window += 1;
            exclude(
                &item,
                format!(
                    "dropped: published {published}, outside the run window [{}, {})",
                    run.window_start, run.window_end
                ),
            );
            continue;
        }
        let findings = matcher.find(&item);
        if !findings.is_match() {
            let mut reason = "dropped: names nothing on the watch lists".to_string();
            if !findings.ignored.is_empty() {
                reason.push_str(&format!(" (ignored: {})", findings.ignored.join("; ")));
            }
            exclude(&item, reason);
        } else {
            matched.push(MatchedItem {
                item,
                entities: findings.entities,
                hits: findings.hits,
                event_type: findings.event_type,
                ignored: findings.ignored,
            });
        }
    }
    matched.sort_by(|a, b| {
        b.item
            .published
            .cmp(&a.item.published)
            .then_with(|| a.item.id.cmp(&b.item.id))
    });
    let matched_key = keys::matched(&run.client_id, run.run_date);
    put_jsonl(store, &matched_key, &matched).await?;
    put_jsonl(
        store,
        &keys::excluded(&run.client_id, run.run_date),
        &excluded,
    )
    .await?;
    Ok(MatchOutput {
        matched_key,
        items_analyzed,
        items_unique,
        items_undated,
        items_out_of_window,
        items_matched: matched.len(),
        elapsed_ms: elapsed_ms(ports, started),
    })
}

/// One item per canonical URL (the id): the first source in the client's order keeps it and
/// the others are listed in `also_in`.
pub fn dedup(items: Vec<Item>) -> Vec<Item> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Item> = Vec::new();
    for item in items {
        match index.get(&item.id) {
            Some(&i) => {
                let kept = &mut out[i];
                if kept.source != item.source && !kept.also_in.contains(&item.source) {
                    kept.also_in.push(item.source);
                }
                if kept.published.is_none() && item.published.is_some() {
                    kept.published = item.published;
                    kept.date_source = item.date_source;
                }
            }
            None => {
                index.insert(item.id.clone(), out.len());
                out.push(item);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::tests::item;

    #[test]
    fn same_url_from_two_sources_is_one_item_listing_both() {
        let mut a = item("A", "");
        a.source = "fierce".into();
        let mut b = a.clone();
        b.source = "endpoints".into();
        let mut c = item("C", "");
        c.id = "other".into();
        let out = dedup(vec![a, b, c]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].source, "fierce");
        assert_eq!(out[0].also_in, vec!["endpoints".to_string()]);
    }
}

//! `score`: matched items → scores with breakdowns, sections, and `selection.json`.

use serde::{Deserialize, Serialize};

use super::{RunContext, SectionTask, elapsed_ms, get_jsonl, put_json};
use crate::config::CompanyTier;
use crate::config::load_client;
use crate::error::Result;
use crate::keys;
use crate::matching::Matcher;
use crate::model::{MatchedItem, ScoredItem, Selection};
use crate::ports::Ports;
use crate::scoring::Scorer;
use crate::selection::select;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreInput {
    pub run: RunContext,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreOutput {
    pub selection_key: String,
    pub items_scored: usize,
    pub items_relevant: usize,
    pub items_selected: usize,
    /// The non-empty sections, for the section Map.
    pub sections: Vec<SectionTask>,
    pub elapsed_ms: u64,
}

pub async fn run(ports: &Ports, input: ScoreInput) -> Result<ScoreOutput> {
    let started = ports.clock.now();
    let run = input.run;
    let bundle = load_client(ports.stores.config.as_ref(), &run.client_id).await?;
    let matcher = Matcher::new(&bundle.watch, &bundle.scoring)?;
    let store = ports.stores.data.as_ref();
    let matched: Vec<MatchedItem> = get_jsonl(
        store,
        &keys::matched(&run.client_id, run.run_date),
        "run the match step first",
    )
    .await?;
    let scorer = Scorer::new(&bundle.scoring, &matcher, run.window_end);
    let items_scored = matched.len();
    let scored: Vec<_> = matched
        .into_iter()
        .map(|m| {
            let tier = bundle.source(&m.item.source).map_or(3, |s| s.tier);
            scorer.score(m, tier)
        })
        .collect();
    let items_relevant = scored.iter().filter(|s| s.relevant).count();
    let rules = &bundle.client.always_keep;
    let must_keep = |item: &ScoredItem| {
        // The rules override caps, not negative evidence: an oral pill's filing that merely
        // mentions an injectable brand is not kept by them.
        if item.breakdown.iter().any(|l| l.rule == "penalty") {
            return None;
        }
        let event = &item.matched.event_type;
        let entities = &item.matched.entities;
        if rules.core_company_events.contains(event) {
            let core = entities
                .companies
                .iter()
                .find(|c| matcher.company_tier(c) == Some(CompanyTier::Core));
            if let Some(company) = core {
                return Some(format!("{event} event of core company {company}"));
            }
        }
        if rules.trademark_events.contains(event)
            && let Some(tm) = entities.trademarks.iter().next()
        {
            return Some(format!("{event} event naming trademark {tm}"));
        }
        None
    };
    let chosen = select(&bundle.client, scored, &must_keep);
    let selection = Selection {
        client_id: run.client_id.clone(),
        run_date: run.run_date,
        sections: chosen.sections,
        dropped: chosen.dropped,
    };
    let selection_key = keys::selection(&run.client_id, run.run_date);
    put_json(store, &selection_key, &selection).await?;
    Ok(ScoreOutput {
        selection_key,
        items_scored,
        items_relevant,
        items_selected: selection.sections.iter().map(|s| s.items.len()).sum(),
        sections: selection
            .sections
            .iter()
            .map(|s| SectionTask {
                section_id: s.id.clone(),
                title: s.title.clone(),
                items: s.items.len(),
            })
            .collect(),
        elapsed_ms: elapsed_ms(ports, started),
    })
}

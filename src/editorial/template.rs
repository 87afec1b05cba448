//! The template editor: deterministic, offline editorial text built only from the items' own
//! facts (their summaries, entities, event types, sources and dates). It invents nothing.

use async_trait::async_trait;

use crate::error::Result;
use crate::model::{DraftItem, ScoredItem, SectionDraft};
use crate::ports::editor::{Editor, SectionBrief};
use crate::text::{leading_sentences, truncate_words};

#[derive(Debug, Default, Clone, Copy)]
pub struct TemplateEditor;

#[async_trait]
impl Editor for TemplateEditor {
    fn name(&self) -> &'static str {
        "template"
    }

    async fn write_section(&self, brief: &SectionBrief<'_>) -> Result<SectionDraft> {
        let section = brief.section;
        let max = brief.client.editor.summary_max_chars;
        let items = section
            .items
            .iter()
            .map(|item| DraftItem {
                item_id: item.matched.item.id.clone(),
                summary: summarize(item, max),
            })
            .collect();
        Ok(SectionDraft {
            section_id: section.id.clone(),
            title: section.title.clone(),
            intro: intro(&section.items),
            items,
            editor: self.name().to_string(),
            fallback_reason: None,
            llm_calls: 0,
            input_tokens: 0,
            output_tokens: 0,
            cost_usd: 0.0,
            cached: false,
            throttles: 0,
            attempts: Vec::new(),
            estimated_input_tokens: None,
            dropped_from_prompt: Vec::new(),
        })
    }
}

/// "3 items, naming Teva Pharmaceutical, MedinCell and Uzedy." — counts and the most frequent
/// entities of the section, nothing else.
fn intro(items: &[ScoredItem]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for item in items {
        let e = &item.matched.entities;
        for name in e.companies.iter().chain(&e.trademarks) {
            match counts.iter_mut().find(|(n, _)| n == name) {
                Some((_, c)) => *c += 1,
                None => counts.push((name.clone(), 1)),
            }
        }
    }
    // Most mentioned first; ties keep first-seen order (items are ranked best first).
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    let names: Vec<String> = counts.into_iter().take(4).map(|(n, _)| n).collect();
    let n = items.len();
    let count = if n == 1 {
        "1 item".to_string()
    } else {
        format!("{n} items")
    };
    match names.as_slice() {
        [] => format!("{count} this period."),
        [one] => format!("{count}, naming {one}."),
        [init @ .., last] => format!("{count}, naming {} and {last}.", init.join(", ")),
    }
}

/// The item's own leading sentences, then what the watch lists found in it.
fn summarize(item: &ScoredItem, max_chars: usize) -> String {
    let it = &item.matched.item;
    let e = &item.matched.entities;
    let mut facts: Vec<String> = Vec::new();
    if !e.trademarks.is_empty() {
        facts.push(format!("brands: {}", join(&e.trademarks)));
    }
    if !e.molecules.is_empty() {
        facts.push(format!("molecules: {}", join(&e.molecules)));
    }
    if !e.technologies.is_empty() {
        facts.push(format!("technology: {}", join(&e.technologies)));
    }
    let suffix = if facts.is_empty() {
        String::new()
    } else {
        truncate_words(&format!(" ({}.)", facts.join("; ")), max_chars / 3)
    };
    // The entity note counts against the budget: the whole summary stays within max_chars.
    let budget = max_chars.saturating_sub(suffix.chars().count()).max(1);
    // Item text is data: whatever links it carries stay out of the newsletter.
    let source_text = crate::text::strip_urls(if it.summary.is_empty() {
        &it.text
    } else {
        &it.summary
    });
    let lead = if source_text.is_empty() {
        truncate_words(&crate::text::strip_urls(&it.title), budget)
    } else {
        leading_sentences(&source_text, budget)
    };
    lead + &suffix
}

fn join(set: &std::collections::BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn scored(summary: &str, companies: &[&str]) -> ScoredItem {
        let mut item = crate::matching::tests::item("T", summary);
        item.id = "id1".into();
        let entities = Entities {
            companies: companies.iter().map(|s| s.to_string()).collect(),
            trademarks: ["Uzedy".to_string()].into(),
            ..Entities::default()
        };
        ScoredItem {
            matched: MatchedItem {
                item,
                entities,
                hits: vec![],
                event_type: "regulatory".into(),
                ignored: vec![],
            },
            score: 20.0,
            breakdown: vec![],
            relevant: true,
            section: None,
            reasons: vec![],
        }
    }

    #[test]
    fn intro_counts_and_names_only_entities_of_the_items() {
        let items = vec![
            scored("a", &["Teva Pharmaceutical"]),
            scored("b", &["Teva Pharmaceutical", "MedinCell"]),
        ];
        assert_eq!(
            intro(&items),
            "2 items, naming Teva Pharmaceutical, Uzedy and MedinCell."
        );
        assert_eq!(
            intro(&items[..1]),
            "1 item, naming Teva Pharmaceutical and Uzedy."
        );
    }

    #[test]
    fn summary_with_its_entity_note_stays_within_the_budget() {
        let long = "A sentence that goes on. ".repeat(40);
        for max in [80, 200, 480] {
            let s = summarize(&scored(&long, &[]), max);
            assert!(
                s.chars().count() <= max,
                "{max}: {} chars",
                s.chars().count()
            );
            assert!(s.ends_with("(brands: Uzedy.)"), "{s}");
        }
    }

    #[test]
    fn summary_is_the_items_own_text_bounded_plus_its_entities() {
        let s = summarize(
            &scored("The FDA approved it. More detail here. Even more.", &[]),
            60,
        );
        assert_eq!(s, "The FDA approved it. More detail here. (brands: Uzedy.)");
    }
}

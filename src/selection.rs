//! Selection: relevant items into sections by event type, under per-section, per-source and
//! total caps, with no empty section; every item left out keeps the reason why.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use crate::config::{ClientConfig, SortBy};
use crate::model::{ScoredItem, SelectedSection};

/// The outcome of selection: sections (non-empty, in config order) and every other item.
pub struct Chosen {
    pub sections: Vec<SelectedSection>,
    pub dropped: Vec<ScoredItem>,
}

/// Best first: score, then most recent, then id (a total order, so runs are reproducible).
fn by_rank(a: &ScoredItem, b: &ScoredItem) -> Ordering {
    b.score
        .partial_cmp(&a.score)
        .unwrap_or(Ordering::Equal)
        .then_with(|| b.matched.item.published.cmp(&a.matched.item.published))
        .then_with(|| a.matched.item.id.cmp(&b.matched.item.id))
}

/// Selects sections. `must_keep` names the analyst's rule an item satisfies, if any: such an
/// item is never cut by a cap (a section grows to hold them all).
pub fn select(
    client: &ClientConfig,
    items: Vec<ScoredItem>,
    must_keep: &dyn Fn(&ScoredItem) -> Option<String>,
) -> Chosen {
    let mut dropped = Vec::new();
    let mut kept_ids: HashSet<String> = HashSet::new();
    let mut per_section: Vec<Vec<ScoredItem>> = vec![Vec::new(); client.sections.len()];
    let mut items = items;
    items.sort_by(by_rank);
    for item in items {
        if !item.relevant {
            dropped.push(item);
            continue;
        }
        match client
            .sections
            .iter()
            .position(|s| s.accepts(&item.matched.event_type))
        {
            Some(i) => per_section[i].push(item),
            None => {
                let mut item = item;
                item.reasons.push(format!(
                    "dropped: no section takes event type {}",
                    item.matched.event_type
                ));
                dropped.push(item);
            }
        }
    }

    // Per section: the best items up to max_items, no source above its share while other
    // sources still have candidates.
    let mut picked: Vec<Vec<ScoredItem>> = Vec::new();
    for (config, candidates) in client.sections.iter().zip(per_section) {
        let share_cap =
            ((config.max_items as f64 * client.caps.max_source_share).floor() as usize).max(1);
        let mut chosen: Vec<ScoredItem> = Vec::new();
        let mut deferred: Vec<ScoredItem> = Vec::new();
        let mut per_source: HashMap<String, usize> = HashMap::new();
        let mut rest_candidates = Vec::new();
        for mut item in candidates {
            match must_keep(&item) {
                Some(rule) => {
                    item.reasons.push(format!("always kept: {rule}"));
                    kept_ids.insert(item.matched.item.id.clone());
                    *per_source
                        .entry(item.matched.item.source.clone())
                        .or_default() += 1;
                    chosen.push(item);
                }
                None => rest_candidates.push(item),
            }
        }
        let max_items = config.max_items.max(chosen.len());
        for item in rest_candidates {
            if chosen.len() >= max_items {
                deferred.push(item);
                continue;
            }
            let n = per_source
                .entry(item.matched.item.source.clone())
                .or_default();
            if *n >= share_cap {
                deferred.push(item);
            } else {
                *n += 1;
                chosen.push(item);
            }
        }
        // Fill what the share rule left empty: better one source twice than an empty slot.
        deferred.sort_by(by_rank);
        let mut rest = Vec::new();
        for mut item in deferred {
            if chosen.len() < max_items {
                chosen.push(item);
            } else {
                item.reasons.push(format!(
                    "dropped: section {:?} is full ({} items at most)",
                    config.title, config.max_items
                ));
                rest.push(item);
            }
        }
        dropped.extend(rest);
        chosen.sort_by(by_rank);
        picked.push(chosen);
    }

    // Total cap: drop the lowest-ranked items overall, but never a section's last item nor an
    // item an analyst's rule keeps.
    let mut total: usize = picked.iter().map(Vec::len).sum();
    while total > client.caps.max_items_total {
        let worst = picked
            .iter()
            .enumerate()
            .filter(|(_, s)| s.len() > 1)
            .flat_map(|(i, s)| s.iter().enumerate().map(move |(j, item)| (i, j, item)))
            .filter(|(_, _, item)| !kept_ids.contains(&item.matched.item.id))
            .min_by(|a, b| by_rank(b.2, a.2))
            .map(|(i, j, _)| (i, j));
        let Some((i, j)) = worst else { break };
        {
            let mut item = picked[i].remove(j);
            item.reasons.push(format!(
                "dropped: the newsletter is full ({} items at most)",
                client.caps.max_items_total
            ));
            dropped.push(item);
        }
        total -= 1;
    }

    let mut sections = Vec::new();
    for (config, mut items) in client.sections.iter().zip(picked) {
        if items.is_empty() {
            continue;
        }
        if config.sort_by == SortBy::DateDesc {
            items.sort_by(|a, b| {
                b.matched
                    .item
                    .published
                    .cmp(&a.matched.item.published)
                    .then_with(|| by_rank(a, b))
            });
        }
        for item in &mut items {
            item.section = Some(config.id.clone());
            item.reasons
                .push(format!("selected for {:?}", config.title));
        }
        sections.push(SelectedSection {
            id: config.id.clone(),
            title: config.title.clone(),
            items,
        });
    }
    dropped.sort_by(by_rank);
    Chosen { sections, dropped }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::*;
    use crate::model::*;

    fn client(max_total: usize) -> ClientConfig {
        let section = |id: &str, types: &[&str], max| SectionConfig {
            id: id.into(),
            title: id.to_uppercase(),
            event_types: types.iter().map(|s| s.to_string()).collect(),
            max_items: max,
            sort_by: SortBy::ScoreDesc,
        };
        ClientConfig {
            client_id: "c".into(),
            name: "C".into(),
            language: "en".into(),
            period_days: 7,
            sources: vec!["a".into()],
            watch_lists: WatchListRefs {
                companies: "x".into(),
                molecules: "x".into(),
                trademarks: "x".into(),
                technologies: "x".into(),
                exclusions: "x".into(),
            },
            scoring: "x".into(),
            sections: vec![
                section("regulatory", &["regulatory"], 2),
                section("deals", &["partnership"], 4),
                section("others", &["*"], 3),
            ],
            caps: Caps {
                max_items_total: max_total,
                max_source_share: 0.5,
            },
            always_keep: AlwaysKeep {
                core_company_events: vec![],
                trademark_events: vec![],
            },
            editor: EditorConfig {
                bedrock: None,
                summary_max_chars: 300,
                tldr_max_items: 3,
                template_only: false,
            },
            schedule: ScheduleConfig {
                cron: "cron(0 8 ? * MON *)".into(),
                timezone: "UTC".into(),
                enabled: true,
                flexible_window_minutes: None,
            },
            keep_undated: false,
            send_empty: true,
            delivery: None,
            pubmed: None,
            replay_captures: false,
        }
    }

    fn select_plain(client: &ClientConfig, items: Vec<ScoredItem>) -> Chosen {
        select(client, items, &|_| None)
    }

    #[test]
    fn an_item_kept_by_an_analyst_rule_survives_full_sections_and_the_total_cap() {
        let keep = |i: &ScoredItem| (i.matched.item.id == "r3").then(|| "core company".to_string());
        let items = || {
            vec![
                scored("r1", "regulatory", 50.0, "a"),
                scored("r2", "regulatory", 49.0, "b"),
                scored("r3", "regulatory", 11.0, "c"),
                scored("d1", "partnership", 40.0, "a"),
            ]
        };
        let chosen = select(&client(20), items(), &keep);
        let ids: Vec<&str> = chosen.sections[0]
            .items
            .iter()
            .map(|i| i.matched.item.id.as_str())
            .collect();
        assert_eq!(
            ids,
            ["r1", "r3"],
            "r3 takes a slot from a better-scored item"
        );
        assert!(
            chosen.sections[0].items[1]
                .reasons
                .iter()
                .any(|r| r == "always kept: core company")
        );
        let all_kept = |_: &ScoredItem| Some("rule".to_string());
        let chosen = select(&client(20), items(), &all_kept);
        assert_eq!(
            chosen.sections[0].items.len(),
            3,
            "the section grows past max_items 2 to keep them all"
        );
        let chosen = select(&client(2), items(), &keep);
        let ids: Vec<Vec<&str>> = chosen
            .sections
            .iter()
            .map(|s| s.items.iter().map(|i| i.matched.item.id.as_str()).collect())
            .collect();
        assert_eq!(ids, vec![vec!["r3"], vec!["d1"]]);
    }

    fn scored(id: &str, event: &str, score: f64, source: &str) -> ScoredItem {
        let mut item = crate::matching::tests::item(id, "");
        item.id = id.into();
        item.source = source.into();
        ScoredItem {
            matched: MatchedItem {
                item,
                entities: Entities::default(),
                hits: vec![],
                event_type: event.into(),
                ignored: vec![],
            },
            score,
            breakdown: vec![],
            relevant: score >= 10.0,
            section: None,
            reasons: vec![],
        }
    }

    #[test]
    fn items_go_to_the_first_accepting_section_best_first_and_empty_sections_vanish() {
        let chosen = select_plain(
            &client(20),
            vec![
                scored("r1", "regulatory", 20.0, "a"),
                scored("r2", "regulatory", 30.0, "b"),
                scored("r3", "regulatory", 25.0, "c"),
                scored("o1", "clinical", 12.0, "a"),
                scored("n1", "other", 3.0, "a"),
            ],
        );
        let ids: Vec<Vec<&str>> = chosen
            .sections
            .iter()
            .map(|s| s.items.iter().map(|i| i.matched.item.id.as_str()).collect())
            .collect();
        assert_eq!(ids, vec![vec!["r2", "r3"], vec!["o1"]]);
        assert_eq!(chosen.sections[1].id, "others");
        let r1 = chosen
            .dropped
            .iter()
            .find(|i| i.matched.item.id == "r1")
            .unwrap();
        assert!(r1.reasons.last().unwrap().contains("is full"));
        assert!(chosen.dropped.iter().any(|i| i.matched.item.id == "n1"));
    }

    #[test]
    fn one_source_cannot_take_a_section_while_others_have_candidates() {
        let chosen = select_plain(
            &client(20),
            vec![
                scored("a1", "partnership", 40.0, "a"),
                scored("a2", "partnership", 39.0, "a"),
                scored("a3", "partnership", 38.0, "a"),
                scored("b1", "partnership", 11.0, "b"),
            ],
        );
        let deals: Vec<&str> = chosen.sections[0]
            .items
            .iter()
            .map(|i| i.matched.item.id.as_str())
            .collect();
        // share cap = floor(4 * 0.5) = 2 for source a first, b fills, then a3 fills the rest.
        assert_eq!(deals, ["a1", "a2", "a3", "b1"]);
        let chosen = select_plain(
            &client(20),
            vec![
                scored("a1", "partnership", 40.0, "a"),
                scored("a2", "partnership", 39.0, "a"),
                scored("a3", "partnership", 38.0, "a"),
            ],
        );
        assert_eq!(
            chosen.sections[0].items.len(),
            3,
            "no other source: share cap does not leave slots empty"
        );
    }

    #[test]
    fn total_cap_keeps_one_item_per_section() {
        let chosen = select_plain(
            &client(2),
            vec![
                scored("r1", "regulatory", 50.0, "a"),
                scored("r2", "regulatory", 49.0, "b"),
                scored("d1", "partnership", 11.0, "a"),
            ],
        );
        let counts: Vec<usize> = chosen.sections.iter().map(|s| s.items.len()).collect();
        assert_eq!(counts, vec![1, 1]);
        assert!(chosen.dropped.iter().any(|i| i.matched.item.id == "r2"
            && i.reasons.last().unwrap().contains("newsletter is full")));
    }
}

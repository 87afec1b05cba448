//! `match`: every normalized item of the run → deduplicated, in-window items that name the
//! client's watch lists, with the entities and terms found.

use std::collections::{HashMap, HashSet};

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

/// Why an item without an address is left out: a newsletter cites every item it shows.
pub const NO_LINK: &str = "dropped: no link to cite (the source gives the entry no URL)";

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
        if item.url.is_empty() {
            exclude(&item, NO_LINK.to_string());
            continue;
        }
        let in_window = match item.published {
            Some(p) => p >= run.window_start && p < run.window_end,
            None => {
                items_undated += 1;
                if !bundle.client.keep_undated {
                    exclude(
                        &item,
                        "dropped: the source gives no date for it (keep_undated is off)".into(),
                    );
                    continue;
                }
                true
            }
        };
        if !in_window {
            let published = item.published.unwrap_or_default();
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

/// One item per story: the same canonical URL (the id), or a near-identical title published the
/// same day. The first source in the client's order keeps it; the others are listed in
/// `also_in`.
pub fn dedup(items: Vec<Item>) -> Vec<Item> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Item> = Vec::new();
    // Title words as numbers, sorted: compared by merging, not by hashing strings.
    let mut vocabulary: HashMap<String, u32> = HashMap::new();
    let words: Vec<Vec<u32>> = items
        .iter()
        .map(|i| {
            let mut ids: Vec<u32> = title_words(&i.title)
                .into_iter()
                .map(|w| {
                    let next = u32::try_from(vocabulary.len()).unwrap_or(u32::MAX);
                    *vocabulary.entry(w).or_insert(next)
                })
                .collect();
            ids.sort_unstable();
            ids
        })
        .collect();
    // Per day, the title words of the items kept so far, the rarest words first.
    let mut titles: HashMap<Option<chrono::NaiveDate>, DayTitles> = HashMap::new();
    for (item, words) in items.iter().zip(&words) {
        let day = titles
            .entry(item.published.map(|p| p.date_naive()))
            .or_default();
        for &word in words {
            *day.frequency.entry(word).or_default() += 1;
        }
    }
    for (item, words) in items.into_iter().zip(words) {
        let day = item.published.map(|p| p.date_naive());
        let same_story = index
            .get(&item.id)
            .copied()
            .or_else(|| titles.get(&day)?.first_similar(&words));
        match same_story.as_ref() {
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
                if day.is_some() && words.len() >= 4 {
                    titles.entry(day).or_default().add(out.len(), words);
                }
                out.push(item);
            }
        }
    }
    out
}

/// The titles of one day kept so far, indexed so that a new title is compared only with those
/// that can be near-identical to it: comparing with all of them made a 10,000-item run
/// quadratic.
#[derive(Default)]
struct DayTitles {
    /// How many of the day's titles hold each word: prefixes are made of the rarest words, so
    /// that few titles share them.
    frequency: HashMap<u32, u32>,
    /// Position in the output and title words (sorted word numbers), in the order kept.
    kept: Vec<(usize, Vec<u32>)>,
    /// Each prefix word (see [`DayTitles::prefix`]) → the `kept` entries whose prefix holds it.
    by_prefix_word: HashMap<u32, Vec<usize>>,
}

impl DayTitles {
    fn add(&mut self, position: usize, words: Vec<u32>) {
        let at = self.kept.len();
        for word in self.prefix(&words) {
            self.by_prefix_word.entry(word).or_default().push(at);
        }
        self.kept.push((position, words));
    }

    /// The output position of the first kept title [`similar`] to `words`, as a scan of every
    /// kept title in order would find it.
    fn first_similar(&self, words: &[u32]) -> Option<usize> {
        self.prefix(words)
            .into_iter()
            .filter_map(|word| self.by_prefix_word.get(&word))
            .flatten()
            .filter(|&&at| similar(&self.kept[at].1, words))
            .min()
            .map(|&at| self.kept[at].0)
    }

    /// Prefix filtering: two word sets with a Jaccard similarity of at least 4/5 share a word
    /// among the first `|x| − ⌈4|x|/5⌉ + 1` words of each, the words taken in one fixed order
    /// (rarest first; a word not counted, as in tests, first).
    fn prefix(&self, words: &[u32]) -> Vec<u32> {
        let mut sorted: Vec<(u32, u32)> = words
            .iter()
            .map(|&w| (self.frequency.get(&w).copied().unwrap_or(0), w))
            .collect();
        sorted.sort_unstable();
        let len = words.len();
        let keep = len - (4 * len).div_ceil(5) + 1;
        sorted.into_iter().take(keep).map(|(_, w)| w).collect()
    }
}

fn title_words(title: &str) -> HashSet<String> {
    crate::text::fold(title)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Near-identical titles: at least 80 % of the words in common (Jaccard), so "Camurus submits
/// NDA for CAM2038 in chronic pain" and "Camurus submits NDA for CAM2038 in chronic low back
/// pain" from two wires are one story, while two different stories about Camurus are not.
fn similar(a: &[u32], b: &[u32]) -> bool {
    // Jaccard is at most the ratio of the sizes.
    if a.len() < 4 || b.len() < 4 || 5 * a.len().min(b.len()) < 4 * a.len().max(b.len()) {
        return false;
    }
    let (mut i, mut j, mut common) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - common;
    common as f64 / union as f64 >= 0.8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::tests::item;

    #[test]
    fn near_identical_titles_on_the_same_day_are_one_story() {
        use chrono::TimeZone;
        let day = |h| Some(chrono::Utc.with_ymd_and_hms(2026, 11, 16, h, 0, 0).unwrap());
        let mut a = item("Camurus submits NDA for CAM2038 in chronic pain", "");
        a.id = "a".into();
        a.source = "camurus_news".into();
        a.published = day(6);
        let mut b = item(
            "Camurus submits NDA for CAM2038 in chronic low back pain",
            "",
        );
        b.id = "b".into();
        b.source = "endpoints".into();
        b.published = day(14);
        let mut c = item(
            "Camurus submits NDA for CAM2038 in chronic low back pain",
            "",
        );
        c.id = "c".into();
        c.source = "biospace".into();
        c.published = Some(chrono::Utc.with_ymd_and_hms(2026, 11, 17, 9, 0, 0).unwrap());
        let mut d = item(
            "Camurus reports phase 3 results for CAM2038 in chronic pain",
            "",
        );
        d.id = "d".into();
        d.published = day(8);
        let out = dedup(vec![a, b, c, d]);
        let ids: Vec<&str> = out.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(
            ids,
            ["a", "c", "d"],
            "b merges into a; c is another day; d another story"
        );
        assert_eq!(out[0].also_in, vec!["endpoints".to_string()]);
    }

    /// The indexed comparison finds exactly the pairs comparing every title would.
    #[test]
    fn indexed_title_comparison_agrees_with_comparing_every_pair() {
        let vocabulary = [
            "camurus", "teva", "nda", "for", "cam2038", "in", "chronic", "pain", "low", "back",
            "uzedy", "label", "phase", "3", "results", "depot", "monthly", "weekly",
        ];
        let mut rng = fastrand::Rng::with_seed(13);
        let titles: Vec<Vec<u32>> = (0..400)
            .map(|_| {
                let set: std::collections::BTreeSet<u32> = (0..rng.usize(4..10))
                    .map(|_| rng.u32(..u32::try_from(vocabulary.len()).unwrap()))
                    .collect();
                set.into_iter().collect()
            })
            .collect();
        let mut day = DayTitles::default();
        for &word in titles.iter().flatten() {
            *day.frequency.entry(word).or_default() += 1;
        }
        for (n, words) in titles.into_iter().enumerate() {
            let scan = day
                .kept
                .iter()
                .find(|(_, w)| similar(w, &words))
                .map(|(p, _)| *p);
            assert_eq!(day.first_similar(&words), scan, "title {n}: {words:?}");
            if scan.is_none() && words.len() >= 4 {
                day.add(n, words);
            }
        }
        assert!(day.kept.len() > 20, "the test compares something");
    }

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

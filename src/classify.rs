//! Classification of single items — match, score and section assignment without a run — for
//! `vectora classify` and the evaluation harness.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::config::ClientBundle;
use crate::error::Result;
use crate::matching::Matcher;
use crate::model::{DateSource, Entities, Item, MatchedItem, ScoreLine};
use crate::scoring::Scorer;
use crate::steps::{RunContext, plan};
use crate::text::clean_line;
use crate::urls;

/// One input line: an item as a user or an evaluation file gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifyInput {
    pub title: String,
    pub url: String,
    /// RFC 3339 (`2026-11-17T09:30:00Z`).
    #[serde(default)]
    pub published: Option<DateTime<Utc>>,
    #[serde(default)]
    pub text: String,
    /// Source id from the catalogue (its tier is scored); unknown ids score as tier 3.
    #[serde(default)]
    pub source: String,
    /// The label of an evaluation item; ignored by classification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Expected>,
}

/// What an analyst says an item should become.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    pub relevant: bool,
    #[serde(default)]
    pub section: Option<String>,
    /// Why, in words (kept for whoever maintains the evaluation set).
    #[serde(default)]
    pub note: String,
}

/// The decision on one item, with everything that explains it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    pub url: String,
    pub relevant: bool,
    pub score: f64,
    pub section: Option<String>,
    pub event_type: String,
    pub entities: Entities,
    pub reasons: Vec<String>,
    pub breakdown: Vec<ScoreLine>,
}

/// Classifies items for one client as of a run date.
pub struct Classifier<'a> {
    bundle: &'a ClientBundle,
    matcher: Matcher,
    run: RunContext,
}

impl<'a> Classifier<'a> {
    pub fn new(bundle: &'a ClientBundle, run_date: NaiveDate) -> Result<Self> {
        Ok(Classifier {
            matcher: Matcher::new(&bundle.watch, &bundle.scoring)?,
            run: plan::window(
                &bundle.client.client_id,
                run_date,
                bundle.client.period_days,
            ),
            bundle,
        })
    }

    pub fn classify(&self, input: &ClassifyInput) -> Classification {
        let url =
            urls::canonical(&input.url, None).map_or_else(|| input.url.clone(), |u| u.to_string());
        let text = clean_line(&input.text);
        let item = Item {
            id: urls::item_id(&url),
            title: clean_line(&input.title),
            url,
            published: input.published,
            date_source: DateSource::from_metadata(&input.published),
            summary: text.clone(),
            text,
            authors: vec![],
            venue: None,
            source: input.source.clone(),
            also_in: vec![],
        };
        let findings = self.matcher.find(&item);
        let tier = self.bundle.source(&item.source).map_or(3, |s| s.tier);
        let scorer = Scorer::new(&self.bundle.scoring, &self.matcher, self.run.window_end);
        let mut scored = scorer.score(
            MatchedItem {
                item,
                entities: findings.entities,
                hits: findings.hits,
                event_type: findings.event_type,
                ignored: findings.ignored,
            },
            tier,
        );
        // As `match` would: an item outside the run window never reaches scoring.
        let in_window = scored
            .matched
            .item
            .published
            .is_none_or(|p| p >= self.run.window_start && p < self.run.window_end);
        if !in_window {
            scored.relevant = false;
            scored.reasons.push(format!(
                "dropped: published outside the run window [{}, {})",
                self.run.window_start, self.run.window_end
            ));
        }
        if scored.matched.entities.is_empty() {
            scored.relevant = false;
            scored
                .reasons
                .push("dropped: names nothing on the watch lists".to_string());
        }
        let section = scored
            .relevant
            .then(|| {
                self.bundle
                    .client
                    .sections
                    .iter()
                    .find(|s| s.accepts(&scored.matched.event_type))
            })
            .flatten()
            .map(|s| s.id.clone());
        Classification {
            url: scored.matched.item.url,
            relevant: scored.relevant && section.is_some(),
            score: scored.score,
            section,
            event_type: scored.matched.event_type,
            entities: scored.matched.entities,
            reasons: scored.reasons,
            breakdown: scored.breakdown,
        }
    }
}

/// How a classifier fares on a labelled set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub items: usize,
    pub labelled_relevant: usize,
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    /// Share of the items judged relevant that are labelled relevant.
    pub precision: f64,
    /// Share of the items labelled relevant that are judged relevant.
    pub recall: f64,
    /// Among true positives, the share placed in the labelled section.
    pub section_accuracy: f64,
    /// One line per disagreement.
    pub misses: Vec<String>,
}

impl Classifier<'_> {
    /// Classifies every labelled input (inputs without a label are skipped) and compares.
    pub fn evaluate(&self, inputs: &[ClassifyInput]) -> Evaluation {
        let (mut tp, mut fp, mut fneg, mut section_ok, mut n, mut labelled) = (0, 0, 0, 0, 0, 0);
        let mut misses = Vec::new();
        for input in inputs {
            let Some(expected) = &input.expected else {
                continue;
            };
            n += 1;
            labelled += usize::from(expected.relevant);
            let got = self.classify(input);
            match (expected.relevant, got.relevant) {
                (true, true) => {
                    tp += 1;
                    if got.section == expected.section {
                        section_ok += 1;
                    } else {
                        misses.push(format!(
                            "section {:?} instead of {:?}: {}",
                            got.section, expected.section, input.title
                        ));
                    }
                }
                (false, true) => {
                    fp += 1;
                    misses.push(format!(
                        "kept but not relevant ({}): {}",
                        expected.note, input.title
                    ));
                }
                (true, false) => {
                    fneg += 1;
                    let why = got.reasons.last().cloned().unwrap_or_default();
                    misses.push(format!("dropped but relevant ({why}): {}", input.title));
                }
                (false, false) => {}
            }
        }
        let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        Evaluation {
            items: n,
            labelled_relevant: labelled,
            true_positives: tp,
            false_positives: fp,
            false_negatives: fneg,
            precision: ratio(tp, tp + fp),
            recall: ratio(tp, tp + fneg),
            section_accuracy: ratio(section_ok, tp),
            misses,
        }
    }
}

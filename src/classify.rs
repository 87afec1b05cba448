//! Classification of single items — match, score and section assignment without a run — for
//! `vectora classify` and the evaluation harness.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::config::ClientBundle;
use crate::error::Result;
use crate::matching::Matcher;
use crate::model::{DateSource, Entities, Hit, Item, MatchedItem, ScoreLine, TermKind};
use crate::scoring::Scorer;
use crate::steps::match_items::NO_LINK;
use crate::steps::{RunContext, plan};
use crate::text::clean_line;
use crate::urls;

/// One input line: an item as a user or an evaluation file gives it, or a line of `vectora parse`
/// (whose other fields are not used here, hence ignored rather than refused).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifyInput {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub url: String,
    /// RFC 3339 (`2026-11-17T09:30:00Z`) or a plain date (`2026-11-17`, read as 00:00 UTC).
    #[serde(default, deserialize_with = "rfc3339_or_date")]
    pub published: Option<DateTime<Utc>>,
    #[serde(default)]
    pub text: String,
    /// Read when `text` is empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    /// Source id from the catalogue (its tier is scored); unknown ids score as tier 3.
    #[serde(default)]
    pub source: String,
    /// The label of an evaluation item; ignored by classification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Expected>,
}

/// A date as people write it in a JSON line: RFC 3339, or a calendar date at 00:00 UTC.
fn rfc3339_or_date<'de, D>(deserializer: D) -> std::result::Result<Option<DateTime<Utc>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let Some(text) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| Some(d.and_time(chrono::NaiveTime::MIN).and_utc()))
        .map_err(|_| {
            serde::de::Error::custom(format!(
                "published {text:?} is neither RFC 3339 (2026-11-17T09:30:00Z) nor a date (2026-11-17)"
            ))
        })
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
    /// The watch-list terms that fired: what `--explain` puts in words.
    #[serde(skip)]
    pub hits: Vec<Hit>,
}

impl Classification {
    /// The decision and every rule that fired, in words, one per line: what an analyst tuning
    /// scopes reads.
    pub fn explain(&self) -> Vec<String> {
        let mut lines = vec![match (&self.section, self.relevant) {
            (Some(section), true) => format!(
                "relevant: section {section}, score {:.2}, event type {}",
                self.score, self.event_type
            ),
            _ => format!(
                "not relevant: score {:.2}, event type {}",
                self.score, self.event_type
            ),
        }];
        for hit in &self.hits {
            let kind = match hit.kind {
                TermKind::Company => "company",
                TermKind::Molecule => "molecule",
                TermKind::Trademark => "trademark",
                TermKind::Technology => "technology",
                TermKind::Exclusion => "exclusion",
                TermKind::Event => "event type",
            };
            let how = if hit.implied {
                format!("implied by {:?}", hit.term)
            } else {
                format!("{:?} in the {}", hit.term, hit.field.name())
            };
            lines.push(format!("{kind} {}: {how}", hit.entity));
        }
        for line in &self.breakdown {
            lines.push(format!(
                "rule {} {:+.2}: {}",
                line.rule, line.points, line.detail
            ));
        }
        lines.extend(self.reasons.iter().cloned());
        lines
    }
}

/// Classifies items for one client: as of a run date (its run window applies, as in a run), or
/// on relevance alone.
pub struct Classifier<'a> {
    bundle: &'a ClientBundle,
    matcher: Matcher,
    run: Option<RunContext>,
}

impl<'a> Classifier<'a> {
    /// As a run on `run_date` would judge: items outside its window are not relevant, recency
    /// is measured from the window's end.
    pub fn new(bundle: &'a ClientBundle, run_date: NaiveDate) -> Result<Self> {
        let mut classifier = Self::relevance_only(bundle)?;
        classifier.run = Some(plan::window(
            &bundle.client.client_id,
            run_date,
            bundle.client.period_days,
        ));
        Ok(classifier)
    }

    /// Relevance alone: no run window, and recency measured from the item's own date, so an
    /// item is not judged on when it is classified.
    pub fn relevance_only(bundle: &'a ClientBundle) -> Result<Self> {
        Ok(Classifier {
            matcher: Matcher::new(&bundle.watch, &bundle.scoring)?,
            run: None,
            bundle,
        })
    }

    pub fn classify(&self, input: &ClassifyInput) -> Classification {
        let url =
            urls::canonical(&input.url, None).map_or_else(|| input.url.clone(), |u| u.to_string());
        let text = clean_line(if input.text.is_empty() {
            &input.summary
        } else {
            &input.text
        });
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
            title_source: Default::default(),
            url_source: Default::default(),
        };
        let findings = self.matcher.find(&item);
        let tier = self.bundle.source(&item.source).map_or(3, |s| s.tier);
        let recency_from = match (&self.run, item.published) {
            (Some(run), _) => run.window_end,
            (None, Some(published)) => published,
            (None, None) => Utc::now(),
        };
        let scorer = Scorer::new(&self.bundle.scoring, &self.matcher, recency_from);
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
        if let Some(run) = &self.run {
            let in_window = scored
                .matched
                .item
                .published
                .is_none_or(|p| p >= run.window_start && p < run.window_end);
            if !in_window {
                scored.relevant = false;
                scored.reasons.push(format!(
                    "dropped: published outside the run window [{}, {})",
                    run.window_start, run.window_end
                ));
            }
        }
        if scored.matched.item.url.is_empty() {
            scored.relevant = false;
            scored.reasons.push(NO_LINK.to_string());
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
            hits: scored.matched.hits,
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

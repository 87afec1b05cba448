//! `report.html`: one self-contained page (inline CSS and SVG, no external resource) showing
//! what a run did and why — funnel, sources, the steps' waterfall from the journal, the editors'
//! cost, every selected item's score and every exclusion grouped by reason.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::{RunReport, STYLE, reason_group, render};
use crate::error::Result;
use crate::journal::{StepRecord, StepStatus};
use crate::keys;
use crate::ports::ObjectStore;

#[derive(Serialize)]
struct Page<'a> {
    style: &'static str,
    r: &'a RunReport,
    funnel: Vec<Bar>,
    funnel_height: usize,
    waterfall: Vec<Span>,
    waterfall_height: usize,
    waterfall_total_ms: i64,
    throttles: u32,
    selected: Vec<&'a super::DecisionRow>,
    excluded_groups: Vec<Group<'a>>,
    dropped_after_scoring: Vec<&'a super::DecisionRow>,
}

/// One bar of the funnel chart (SVG user units, 600 wide).
#[derive(Serialize)]
struct Bar {
    label: &'static str,
    count: usize,
    y: usize,
    width: f64,
}

/// One step of the waterfall: offset and length in SVG user units, and what happened to it.
#[derive(Serialize)]
struct Span {
    label: String,
    /// The label as the chart has room for it.
    short: String,
    y: usize,
    x: f64,
    width: f64,
    ms: u64,
    /// `ok`, `retried`, `caught` or `failed`: the bar's colour and its note.
    kind: &'static str,
    note: String,
}

#[derive(Serialize)]
struct Group<'a> {
    reason: String,
    items: Vec<&'a crate::steps::match_items::Excluded>,
}

const CHART_WIDTH: f64 = 380.0;
const CLOCK_SKEW_S: i64 = 2;
const ROW: usize = 22;

/// Reads the journal records of the steps this execution ran, when its start is known
/// (`since`): a resumed run skips finished steps without a new record, and an older record is
/// another execution's. Assemble's own record is not written yet.
pub async fn journal(
    data: &dyn ObjectStore,
    r: &RunReport,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<StepRecord>> {
    // The execution's start comes from Step Functions, the records' from the Lambdas' clocks.
    let since = since.map(|t| t - Duration::seconds(CLOCK_SKEW_S));
    let prefix = format!("{}/steps/", keys::run_prefix(&r.client_id, r.run_date));
    let mut out = Vec::new();
    for key in data.list(&prefix).await? {
        if let Some(bytes) = data.get(&key).await?
            && let Ok(rec) = serde_json::from_slice::<StepRecord>(&bytes)
            && rec.step != "assemble"
            && since.is_none_or(|t| rec.started_at >= t)
        {
            let name = key
                .strip_prefix(&prefix)
                .and_then(|k| k.strip_suffix(".json"))
                .unwrap_or(&rec.step)
                .to_string();
            out.push(StepRecord { step: name, ..rec });
        }
    }
    out.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.step.cmp(&b.step)));
    Ok(out)
}

pub fn render_report(r: &RunReport, steps: &[StepRecord]) -> Result<String> {
    let f = &r.funnel;
    let stages: [(&'static str, usize); 7] = [
        ("fetched", f.items_fetched),
        ("analysed", f.items_analyzed),
        ("unique", f.items_unique),
        ("in the window", f.in_window()),
        ("matched", f.items_matched),
        ("relevant", f.items_relevant),
        ("selected", f.items_selected),
    ];
    let top = stages.iter().map(|s| s.1).max().unwrap_or(0).max(1) as f64;
    let funnel = stages
        .iter()
        .enumerate()
        .map(|(i, (label, count))| Bar {
            label,
            count: *count,
            y: i * ROW,
            width: ((*count as f64 / top) * CHART_WIDTH).max(1.0),
        })
        .collect::<Vec<_>>();

    let waterfall = waterfall(r, steps);
    let waterfall_total_ms = match (
        steps.iter().map(|s| s.started_at).min(),
        steps.iter().map(|s| s.finished_at).max(),
    ) {
        (Some(a), Some(b)) => (b - a).num_milliseconds(),
        _ => 0,
    };

    let mut groups: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for e in &r.excluded {
        groups.entry(reason_group(&e.reason)).or_default().push(e);
    }
    let page = Page {
        style: STYLE,
        r,
        funnel_height: stages.len() * ROW,
        funnel,
        waterfall_height: waterfall.len() * ROW,
        waterfall,
        waterfall_total_ms,
        throttles: r.throttles(),
        selected: r
            .decisions
            .iter()
            .filter(|d| d.decision == "selected")
            .collect(),
        dropped_after_scoring: r
            .decisions
            .iter()
            .filter(|d| d.decision != "selected")
            .collect(),
        excluded_groups: groups
            .into_iter()
            .map(|(reason, items)| Group { reason, items })
            .collect(),
    };
    render("report.html", &page)
}

fn waterfall(r: &RunReport, steps: &[StepRecord]) -> Vec<Span> {
    let Some(start) = steps.iter().map(|s| s.started_at).min() else {
        return Vec::new();
    };
    let end = steps.iter().map(|s| s.finished_at).max().unwrap_or(start);
    let total = (end - start).num_milliseconds().max(1) as f64;
    steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (kind, note) = mark(r, s);
            Span {
                label: s.step.clone(),
                short: s.step.replace("generate-section.", "section."),
                y: i * ROW,
                x: (s.started_at - start).num_milliseconds().max(0) as f64 / total * CHART_WIDTH,
                width: (s.elapsed_ms as f64 / total * CHART_WIDTH).max(1.5),
                ms: s.elapsed_ms,
                kind,
                note,
            }
        })
        .collect()
}

/// What the journal and the step outputs say about retries and catches: a failed source was
/// caught by its Map branch; a section that needed more than one model call was retried, and one
/// with a fallback reason was caught and written by the template editor.
fn mark(r: &RunReport, s: &StepRecord) -> (&'static str, String) {
    if let Some(id) = s.step.strip_prefix("generate-section.")
        && let Some(out) = r.sections.iter().find(|o| o.section_id == id)
    {
        if let Some(why) = &out.fallback_reason {
            return ("caught", format!("caught: template editor ({why})"));
        }
        if out.attempts.len() > 1 || out.throttles > 0 {
            return (
                "retried",
                format!(
                    "retried: {} calls, {} throttled",
                    out.attempts.len(),
                    out.throttles
                ),
            );
        }
    }
    if s.status == StepStatus::Failed {
        let source = s.step.split_once('.').map(|(_, id)| id);
        let caught = source.is_some_and(|id| {
            r.sources
                .iter()
                .any(|src| src.source_id == id && src.status == "failed")
        });
        let why = s.error.clone().unwrap_or_default();
        return if caught {
            (
                "caught",
                format!("caught: source reported as failed ({why})"),
            )
        } else {
            ("failed", format!("failed: {why}"))
        };
    }
    ("ok", String::new())
}

//! `vectora report`: a client's last runs side by side (volumes, failures, fallbacks, cost,
//! duration) and the recommendations that declared rules draw from them, each with the
//! evidence a reader can check in the reports and the change to make.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{REASON_NAMES_NOTHING, REASON_UNDATED, RunReport, STYLE, reason_group, render};
use crate::error::{Error, Result};
use crate::ports::ObjectStore;

/// Runs in a row without an item in the window before a source is called silent.
pub const SILENT_SOURCE_RUNS: usize = 4;
/// Runs in a row with a section empty before it is called empty.
pub const EMPTY_SECTION_RUNS: usize = 3;
/// Share of a source's in-window items naming nothing, over the runs, to call it off-topic.
pub const OFF_TOPIC_SHARE: f64 = 0.8;
/// In-window items a source needs before its share is judged.
pub const OFF_TOPIC_MIN_ITEMS: usize = 5;
/// Share of undated items (of the unique ones) that deserves attention.
pub const UNDATED_SHARE: f64 = 0.2;
/// Matched items a term needs, all dropped, to be called a term that never pays.
pub const TERM_MIN_MATCHES: usize = 3;
/// Runs in a row with a higher cost per issue than the one before.
pub const RISING_COST_RUNS: usize = 3;
/// Runs with at least one editor fallback.
pub const FALLBACK_RUNS: usize = 2;

#[derive(Debug, Clone, Serialize)]
pub struct Trends {
    pub client_id: String,
    /// Oldest first.
    pub runs: Vec<TrendRow>,
    pub recommendations: Vec<Recommendation>,
    /// The latest run's report: the diagnostic of one run.
    pub latest: Option<RunReport>,
    pub latest_throttle_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrendRow {
    pub run_date: chrono::NaiveDate,
    pub status: String,
    pub analysed: usize,
    pub matched: usize,
    pub selected: usize,
    pub sources_failed: usize,
    pub fallbacks: usize,
    pub cost_usd: f64,
    pub duration_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The declared rule that fired (`silent_source`, `empty_section`, …).
    pub rule: &'static str,
    pub subject: String,
    pub evidence: String,
    pub change: String,
}

/// Reads the reports of the client's last `last` runs (oldest first).
pub async fn load(news: &dyn ObjectStore, client_id: &str, last: usize) -> Result<Vec<RunReport>> {
    let mut keys: Vec<String> = news
        .list(&format!("{client_id}/"))
        .await?
        .into_iter()
        .filter(|k| k.ends_with("/report.json"))
        .collect();
    keys.sort();
    let skip = keys.len().saturating_sub(last);
    let mut out = Vec::new();
    for key in &keys[skip..] {
        if let Some(bytes) = news.get(key).await? {
            out.push(RunReport::parse(&bytes, &news.locate(key))?);
        }
    }
    if out.is_empty() {
        return Err(Error::MissingObject {
            key: news.locate(&format!("{client_id}/")),
            hint: format!(
                "no run report for client {client_id}: run `vectora run --client {client_id}` first, or point --store at the store the runs wrote to"
            ),
        });
    }
    out.sort_by_key(|r| r.run_date);
    Ok(out)
}

pub fn trends(client_id: &str, reports: &[RunReport]) -> Trends {
    let latest = reports.last().cloned();
    let latest_throttle_rate = latest
        .as_ref()
        .filter(|r| r.llm.calls > 0)
        .map(|r| f64::from(r.throttles()) / f64::from(r.llm.calls));
    Trends {
        client_id: client_id.to_string(),
        runs: reports.iter().map(row).collect(),
        recommendations: recommend(reports),
        latest,
        latest_throttle_rate,
    }
}

fn row(r: &RunReport) -> TrendRow {
    TrendRow {
        run_date: r.run_date,
        status: r.status.clone(),
        analysed: r.funnel.items_analyzed,
        matched: r.funnel.items_matched,
        selected: r.funnel.items_selected,
        sources_failed: r.sources.iter().filter(|s| s.status == "failed").count(),
        fallbacks: r.fallbacks(),
        cost_usd: r.llm.cost_usd,
        duration_ms: r.timings_ms.execution,
    }
}

fn dates(reports: &[&RunReport]) -> String {
    reports
        .iter()
        .map(|r| r.run_date.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every declared rule, over the reports (oldest first).
pub fn recommend(reports: &[RunReport]) -> Vec<Recommendation> {
    let mut out = Vec::new();
    silent_sources(reports, &mut out);
    empty_sections(reports, &mut out);
    off_topic_sources(reports, &mut out);
    undated_share(reports, &mut out);
    terms_never_kept(reports, &mut out);
    rising_cost(reports, &mut out);
    editor_fallbacks(reports, &mut out);
    out
}

fn silent_sources(reports: &[RunReport], out: &mut Vec<Recommendation>) {
    if reports.len() < SILENT_SOURCE_RUNS {
        return;
    }
    let tail: Vec<&RunReport> = reports[reports.len() - SILENT_SOURCE_RUNS..]
        .iter()
        .collect();
    let Some(last) = tail.last() else { return };
    for s in &last.sources {
        let silent = tail.iter().all(|r| {
            r.sources.iter().any(|x| x.source_id == s.source_id)
                && r.in_window_by_source()
                    .get(s.source_id.as_str())
                    .copied()
                    .unwrap_or(0)
                    == 0
        });
        if silent {
            let fetched: usize = tail
                .iter()
                .flat_map(|r| r.sources.iter())
                .filter(|x| x.source_id == s.source_id)
                .filter_map(|x| x.items)
                .sum();
            out.push(Recommendation {
                rule: "silent_source",
                subject: s.source_id.clone(),
                evidence: format!(
                    "no item published in the window in the last {SILENT_SOURCE_RUNS} runs ({}); it returned {fetched} items in all, every one dated outside the window or undated",
                    dates(&tail)
                ),
                change: format!(
                    "check that {} still publishes at this address (catalogue entry {}); if it is only slow, keep it, otherwise replace it or drop it from the client's sources",
                    s.name, s.source_id
                ),
            });
        }
    }
}

fn empty_sections(reports: &[RunReport], out: &mut Vec<Recommendation>) {
    if reports.len() < EMPTY_SECTION_RUNS {
        return;
    }
    let tail: Vec<&RunReport> = reports[reports.len() - EMPTY_SECTION_RUNS..]
        .iter()
        .collect();
    let Some(last) = tail.last() else { return };
    for section in &last.newsletter_sections {
        let empty = tail.iter().all(|r| {
            !r.decisions
                .iter()
                .any(|d| d.decision == "selected" && d.section.as_deref() == Some(&section.id))
        });
        if empty {
            out.push(Recommendation {
                rule: "empty_section",
                subject: section.id.clone(),
                evidence: format!(
                    "section \"{}\" selected no item in {EMPTY_SECTION_RUNS} runs in a row ({})",
                    section.title,
                    dates(&tail)
                ),
                change: format!(
                    "widen event_types of section {} in the client file, add sources that cover it, or remove the section",
                    section.id
                ),
            });
        }
    }
}

fn off_topic_sources(reports: &[RunReport], out: &mut Vec<Recommendation>) {
    let mut totals: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for r in reports {
        for (source, n) in r.in_window_by_source() {
            totals.entry(source).or_default().0 += n;
        }
        for e in &r.excluded {
            if reason_group(&e.reason) == REASON_NAMES_NOTHING {
                totals.entry(e.source.as_str()).or_default().1 += 1;
            }
        }
    }
    for (source, (in_window, nothing)) in totals {
        if in_window >= OFF_TOPIC_MIN_ITEMS && nothing as f64 >= OFF_TOPIC_SHARE * in_window as f64
        {
            out.push(Recommendation {
                rule: "off_topic_source",
                subject: source.to_string(),
                evidence: format!(
                    "{nothing} of its {in_window} items in the window over {} runs name nothing on the watch lists",
                    reports.len()
                ),
                change: "point the source at a narrower feed (a category or search URL), or drop it: it costs fetches and adds nothing".to_string(),
            });
        }
    }
}

fn undated_share(reports: &[RunReport], out: &mut Vec<Recommendation>) {
    let Some(last) = reports.last() else { return };
    let unique = last.funnel.items_unique;
    let undated = last.funnel.items_undated;
    if unique > 0 && undated as f64 > UNDATED_SHARE * unique as f64 {
        let mut by_source: BTreeMap<&str, usize> = BTreeMap::new();
        for e in &last.excluded {
            if reason_group(&e.reason) == REASON_UNDATED {
                *by_source.entry(e.source.as_str()).or_default() += 1;
            }
        }
        let worst = by_source
            .iter()
            .map(|(s, n)| format!("{s}: {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        out.push(Recommendation {
            rule: "undated_items",
            subject: last.run_date.to_string(),
            evidence: format!(
                "{undated} of {unique} unique items had no date on {} ({worst})",
                last.run_date
            ),
            change: "give those sources html.selectors.date (or html.follow_articles) in the catalogue, or set keep_undated: true in the client file if their items are always recent".to_string(),
        });
    }
}

/// The watch-list terms named in a decision's `found:` reason.
fn terms(reasons: &[String]) -> Vec<String> {
    let mut out: Vec<String> = reasons
        .iter()
        .filter_map(|r| r.strip_prefix("found: "))
        .flat_map(|r| r.split("; "))
        .filter_map(|t| {
            let (name, rest) = t.split_once(" (")?;
            let kind = rest.split(',').next()?;
            Some(format!("{name} ({kind})"))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn terms_never_kept(reports: &[RunReport], out: &mut Vec<Recommendation>) {
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for d in reports.iter().flat_map(|r| r.decisions.iter()) {
        for t in terms(&d.reasons) {
            let e = counts.entry(t).or_default();
            e.0 += 1;
            if d.decision == "selected" {
                e.1 += 1;
            }
        }
    }
    for (term, (matched, selected)) in counts {
        if matched >= TERM_MIN_MATCHES && selected == 0 {
            out.push(Recommendation {
                rule: "term_never_kept",
                subject: term.clone(),
                evidence: format!(
                    "{term} was found in {matched} matched items over {} runs and none was selected",
                    reports.len()
                ),
                change: "narrow the term in its scope file, add the context that makes it irrelevant to the client's exclusions watch list, or lower its points in the scoring rules".to_string(),
            });
        }
    }
}

fn rising_cost(reports: &[RunReport], out: &mut Vec<Recommendation>) {
    if reports.len() < RISING_COST_RUNS + 1 {
        return;
    }
    let tail: Vec<&RunReport> = reports[reports.len() - RISING_COST_RUNS - 1..]
        .iter()
        .collect();
    let rising = tail
        .windows(2)
        .all(|w| w[1].llm.cost_usd > w[0].llm.cost_usd && w[0].llm.cost_usd > 0.0);
    if rising {
        out.push(Recommendation {
            rule: "rising_cost",
            subject: "cost per issue".to_string(),
            evidence: format!(
                "cost rose {RISING_COST_RUNS} runs in a row: {}",
                tail.iter()
                    .map(|r| format!("{} ${:.4}", r.run_date, r.llm.cost_usd))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            change: "lower sections[].max_items, caps.max_items_total or editor.bedrock.max_input_tokens in the client file, or check that recorded answers are reused (sections_cached in the report)".to_string(),
        });
    }
}

fn editor_fallbacks(reports: &[RunReport], out: &mut Vec<Recommendation>) {
    let with: Vec<&RunReport> = reports.iter().filter(|r| r.fallbacks() > 0).collect();
    if with.len() >= FALLBACK_RUNS {
        let reasons: Vec<String> = with
            .iter()
            .flat_map(|r| r.sections.iter())
            .filter_map(|s| s.fallback_reason.clone())
            .collect();
        out.push(Recommendation {
            rule: "editor_fallbacks",
            subject: "editor".to_string(),
            evidence: format!(
                "{} of {} runs had sections written by the template editor ({}): {}",
                with.len(),
                reports.len(),
                dates(&with),
                reasons.join("; ")
            ),
            change: "read the fallback reasons: for throttling raise the Bedrock quota or lower the sections Map's MaxConcurrency in the state machine; for refused output revise editor.bedrock.tone and audience or raise editor.bedrock.max_tokens in the client file".to_string(),
        });
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Md,
    Json,
    Html,
}

pub fn render_trends(t: &Trends, format: Format) -> Result<String> {
    match format {
        Format::Json => serde_json::to_string_pretty(t)
            .map(|s| s + "\n")
            .map_err(|e| Error::Internal(format!("trends: {e}"))),
        Format::Md => render("trends.md", &page(t)),
        Format::Html => render("trends.html", &page(t)),
    }
}

#[derive(Serialize)]
struct Page<'a> {
    style: &'static str,
    t: &'a Trends,
    chart: Vec<Series>,
    chart_labels: Vec<(f64, String)>,
    throttle_rate: Option<String>,
    in_window: usize,
    structure: Vec<(String, usize)>,
    problems: Vec<String>,
}

/// One line of the trend chart: SVG points over a 560×140 plot.
#[derive(Serialize)]
struct Series {
    name: &'static str,
    colour: &'static str,
    points: String,
    last: usize,
}

fn page(t: &Trends) -> Page<'_> {
    let n = t.runs.len();
    let x = |i: usize| {
        if n <= 1 {
            300.0
        } else {
            30.0 + i as f64 * 540.0 / (n - 1) as f64
        }
    };
    let top = t
        .runs
        .iter()
        .map(|r| r.analysed.max(r.matched).max(r.selected))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let series = |name, colour, f: fn(&TrendRow) -> usize| Series {
        name,
        colour,
        points: t
            .runs
            .iter()
            .enumerate()
            .map(|(i, r)| format!("{:.1},{:.1}", x(i), 150.0 - f(r) as f64 / top * 140.0))
            .collect::<Vec<_>>()
            .join(" "),
        last: t.runs.last().map_or(0, f),
    };
    let chart = vec![
        series("analysed", "#57606a", |r| r.analysed),
        series("matched", "#0969da", |r| r.matched),
        series("selected", "#1a7f37", |r| r.selected),
    ];
    let chart_labels = t
        .runs
        .iter()
        .enumerate()
        .map(|(i, r)| (x(i), r.run_date.format("%m-%d").to_string()))
        .collect();
    let mut structure = Vec::new();
    let mut problems = Vec::new();
    let mut in_window = 0;
    if let Some(r) = &t.latest {
        in_window = r.funnel.in_window();
        for s in &r.newsletter_sections {
            let n = r
                .decisions
                .iter()
                .filter(|d| d.decision == "selected" && d.section.as_deref() == Some(&s.id))
                .count();
            structure.push((s.title.clone(), n));
        }
        if let Some(n) = &r.notice {
            problems.push(n.clone());
        }
        for s in &r.sources {
            if let Some(e) = &s.error {
                problems.push(format!(
                    "source {} failed: {e}{}",
                    s.source_id,
                    s.cause
                        .as_ref()
                        .map(|c| format!(" ({c})"))
                        .unwrap_or_default()
                ));
            }
            if s.warnings_total > 0 {
                problems.push(format!(
                    "source {}: {} parse warnings ({})",
                    s.source_id,
                    s.warnings_total,
                    s.warnings.join("; ")
                ));
            }
        }
        for s in &r.sections {
            if let Some(why) = &s.fallback_reason {
                problems.push(format!(
                    "section {} fell back to the template editor: {why}",
                    s.section_id
                ));
            }
        }
    }
    Page {
        style: STYLE,
        t,
        chart,
        chart_labels,
        throttle_rate: t.latest_throttle_rate.map(|r| format!("{:.0}%", r * 100.0)),
        in_window,
        structure,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run report with `n` items of source `src` in the window, the given decisions'
    /// reasons, cost and fallback reasons.
    fn run(date: &str, cost: f64, fallbacks: &[&str]) -> RunReport {
        let sections: Vec<serde_json::Value> = fallbacks
            .iter()
            .enumerate()
            .map(|(i, why)| {
                serde_json::json!({"section_id": format!("s{i}"), "draft_key": "k", "editor": "template",
                    "fallback_reason": why, "llm_calls": 1, "input_tokens": 1, "output_tokens": 1,
                    "cost_usd": 0.0, "elapsed_ms": 1})
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "client_id": "c", "run_date": date,
            "window_start": format!("{date}T00:00:00Z"), "window_end": format!("{date}T00:00:00Z"),
            "status": "ok",
            "funnel": {"items_fetched": 10, "items_analyzed": 10, "items_unique": 10, "items_undated": 0,
                "items_out_of_window": 0, "items_matched": 0, "items_relevant": 0, "items_selected": 0},
            "sources": [{"source_id": "feed", "name": "Feed", "status": "ok", "items": 10}],
            "sections": sections,
            "llm": {"calls": 1, "input_tokens": 1, "output_tokens": 1, "cost_usd": cost,
                "sections_cached": 0, "sections_fallback": fallbacks.len()},
            "timings_ms": {"fetch_total": 1, "normalize_total": 1, "match": 1, "score": 1,
                "sections_total": 1, "assemble": 1, "execution": 10}
        }))
        .unwrap()
    }

    fn excluded(source: &str, reason: &str) -> crate::steps::match_items::Excluded {
        crate::steps::match_items::Excluded {
            item_id: "i".into(),
            title: "t".into(),
            url: "https://x.example/".into(),
            source: source.into(),
            published: None,
            reason: reason.into(),
        }
    }

    fn rules(reports: &[RunReport]) -> Vec<&'static str> {
        recommend(reports).into_iter().map(|r| r.rule).collect()
    }

    #[test]
    fn rising_cost_fires_only_when_each_issue_costs_more_than_the_last() {
        let up = ["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26"]
            .iter()
            .zip([0.01, 0.02, 0.03, 0.04])
            .map(|(d, c)| run(d, c, &[]))
            .collect::<Vec<_>>();
        assert!(rules(&up).contains(&"rising_cost"));
        let mut flat = up.clone();
        flat[2].llm.cost_usd = 0.01;
        assert!(!rules(&flat).contains(&"rising_cost"));
    }

    #[test]
    fn repeated_editor_fallbacks_fire_with_their_reasons() {
        let reports = vec![
            run("2026-01-05", 0.0, &["Throttled: retries ran out"]),
            run("2026-01-12", 0.0, &[]),
            run("2026-01-19", 0.0, &["LlmOutputRejected: no summary"]),
        ];
        let recs = recommend(&reports);
        let r = recs.iter().find(|r| r.rule == "editor_fallbacks").unwrap();
        assert!(r.evidence.contains("Throttled: retries ran out"));
        assert!(r.evidence.contains("2 of 3 runs"));
        assert!(!rules(&reports[..2]).contains(&"editor_fallbacks"));
    }

    #[test]
    fn undated_share_fires_above_a_fifth_of_the_unique_items() {
        let mut r = run("2026-01-05", 0.0, &[]);
        r.funnel.items_undated = 3;
        r.excluded = vec![
            excluded(
                "feed",
                "dropped: the source gives no date for it (keep_undated is off)"
            );
            3
        ];
        let recs = recommend(std::slice::from_ref(&r));
        let rec = recs.iter().find(|c| c.rule == "undated_items").unwrap();
        assert!(rec.evidence.contains("3 of 10") && rec.evidence.contains("feed: 3"));
        r.funnel.items_undated = 2;
        assert!(!rules(&[r]).contains(&"undated_items"));
    }

    #[test]
    fn a_source_naming_nothing_nearly_always_is_called_off_topic() {
        let mut r = run("2026-01-05", 0.0, &[]);
        r.excluded = vec![excluded("feed", "dropped: names nothing on the watch lists"); 5];
        assert!(rules(std::slice::from_ref(&r)).contains(&"off_topic_source"));
        r.excluded.truncate(4);
        assert!(!rules(&[r]).contains(&"off_topic_source"));
    }

    #[test]
    fn a_term_whose_items_are_never_selected_is_named() {
        let mut r = run("2026-01-05", 0.0, &[]);
        let decision = |decision: &str| super::super::DecisionRow {
            item_id: "i".into(),
            title: "t".into(),
            url: "https://x.example/".into(),
            source: "feed".into(),
            event_type: "other".into(),
            score: 1.0,
            decision: decision.into(),
            section: None,
            reasons: vec![
                "found: Ipsen (company, \"Ipsen\" in title); depot (technology, \"depot\" in body)"
                    .into(),
            ],
            breakdown: vec![],
        };
        r.decisions = vec![
            decision("dropped"),
            decision("dropped"),
            decision("dropped"),
        ];
        let recs = recommend(std::slice::from_ref(&r));
        let subjects: Vec<&str> = recs
            .iter()
            .filter(|c| c.rule == "term_never_kept")
            .map(|c| c.subject.as_str())
            .collect();
        assert_eq!(subjects, ["Ipsen (company)", "depot (technology)"]);
        r.decisions[1].decision = "selected".into();
        assert!(!rules(&[r]).contains(&"term_never_kept"));
    }
}

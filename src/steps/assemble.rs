//! `assemble`: drafts + selection → the newsletter (Markdown, HTML, JSON), the run report, and
//! the run's metrics; returns the execution summary.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::fetch::FetchOutcome;
use super::generate_section::GenerateOutput;
use super::match_items::{Excluded, MatchOutput, SourceOutcome, SourceStatus};
use super::score::ScoreOutput;
use super::{RunContext, elapsed_ms, get_json, get_jsonl, put_json};
use crate::config::{ClientBundle, load_client};
use crate::error::Result;
use crate::keys;
use crate::model::{ScoreLine, ScoredItem, SectionDraft, Selection};
use crate::ports::Ports;
use crate::ports::metrics::Metric;
use crate::ports::store::content_type;
use crate::render::{self, Entry, Newsletter, Scope, ScopeList, ScopeSource, Section, TldrLine};
use crate::report::FetchCounts;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssembleInput {
    pub run: RunContext,
    pub sources: Vec<SourceOutcome>,
    #[serde(rename = "match")]
    pub matching: MatchOutput,
    pub score: ScoreOutput,
    pub sections: Vec<GenerateOutput>,
    /// `$$.Execution.StartTime`, for the run's duration.
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
}

/// The execution output (DESIGN.md, CLI contract).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    #[serde(rename = "statusCode")]
    pub status_code: u16,
    pub client_id: String,
    pub run_date: chrono::NaiveDate,
    pub items_analyzed: usize,
    pub items_matched: usize,
    pub items_selected: usize,
    pub sections_generated: usize,
    pub bedrock_calls: u32,
    pub sources_failed: usize,
    /// `ok`, `degraded` (some sources failed or a section fell back to the template editor), or
    /// `empty` (nothing selected).
    pub status: RunStatus,
    /// For anything but `ok`: why, in one sentence an operator can act on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// The newsletter written (or, when an empty issue is not sent, the report).
    pub output_path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Ok,
    Degraded,
    Empty,
}

#[derive(Debug, Serialize)]
struct Report<'a> {
    client_id: &'a str,
    run_date: chrono::NaiveDate,
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
    config_digest: &'a str,
    status: RunStatus,
    notice: Option<String>,
    funnel: Funnel,
    fetches: FetchCounts,
    sources: Vec<SourceReport>,
    /// The newsletter's sections as configured, empty ones included (the trends need them).
    newsletter_sections: Vec<crate::report::SectionRef>,
    sections: Vec<&'a GenerateOutput>,
    /// What the editors cost this run (a cached answer costs nothing).
    llm: LlmTotals,
    /// Every matched item: kept or dropped, with score breakdown and reasons.
    decisions: Vec<Decision<'a>>,
    /// Every item left out before scoring (undated, outside the window, naming nothing).
    excluded: &'a [Excluded],
    timings_ms: Timings,
    generated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
struct LlmTotals {
    calls: u32,
    input_tokens: u64,
    output_tokens: u64,
    cost_usd: f64,
    sections_cached: usize,
    sections_fallback: usize,
}

#[derive(Debug, Serialize)]
struct Funnel {
    items_fetched: usize,
    items_analyzed: usize,
    items_unique: usize,
    items_undated: usize,
    items_out_of_window: usize,
    items_matched: usize,
    items_relevant: usize,
    items_selected: usize,
}

#[derive(Debug, Serialize)]
struct SourceReport {
    source_id: String,
    name: String,
    status: SourceStatus,
    http_status: Option<u16>,
    documents: Option<usize>,
    bytes: Option<usize>,
    items: Option<usize>,
    /// Items by where their date came from (feed, json-ld, meta, time-tag, text, url, none).
    dates: std::collections::BTreeMap<String, usize>,
    warnings: Vec<String>,
    warnings_total: usize,
    error: Option<String>,
    cause: Option<String>,
    fetch: Option<FetchOutcome>,
    reused_from: Option<String>,
    fetch_ms: Option<u64>,
    normalize_ms: Option<u64>,
}

/// Why each matched item is in the newsletter or not.
#[derive(Debug, Serialize)]
struct Decision<'a> {
    item_id: &'a str,
    title: &'a str,
    url: &'a str,
    source: &'a str,
    event_type: &'a str,
    score: f64,
    decision: &'static str,
    section: Option<&'a str>,
    reasons: &'a [String],
    breakdown: &'a [ScoreLine],
}

#[derive(Debug, Serialize)]
struct Timings {
    fetch_total: u64,
    normalize_total: u64,
    r#match: u64,
    score: u64,
    sections_total: u64,
    assemble: u64,
    execution: Option<u64>,
}

pub async fn run(ports: &Ports, input: AssembleInput) -> Result<RunSummary> {
    let started = ports.clock.now();
    let run = &input.run;
    let bundle = load_client(ports.stores.config.as_ref(), &run.client_id).await?;
    let data = ports.stores.data.as_ref();
    let selection: Selection = get_json(
        data,
        &keys::selection(&run.client_id, run.run_date),
        "run the score step first",
    )
    .await?;
    let excluded: Vec<Excluded> = get_jsonl(
        data,
        &keys::excluded(&run.client_id, run.run_date),
        "run the match step first",
    )
    .await?;
    let mut drafts: HashMap<String, SectionDraft> = HashMap::new();
    for s in &input.sections {
        let draft: SectionDraft = get_json(
            data,
            &s.draft_key,
            "run generate-section for this section first",
        )
        .await?;
        drafts.insert(s.section_id.clone(), draft);
    }

    let doc = newsletter(
        &bundle,
        run,
        &input.sources,
        &input.matching,
        &selection,
        &drafts,
    );
    let news = ports.stores.newsletters.as_ref();
    let md_key = keys::newsletter_file(&run.client_id, run.run_date, "newsletter.md");
    let report_key = keys::newsletter_file(&run.client_id, run.run_date, "report.json");
    let sources_failed = input
        .sources
        .iter()
        .filter(|s| s.status == SourceStatus::Failed)
        .count();
    let selected_count: usize = selection.sections.iter().map(|s| s.items.len()).sum();
    let fallbacks = input
        .sections
        .iter()
        .filter(|s| s.fallback_reason.is_some())
        .count();
    let (status, notice) = if selected_count == 0 {
        let why = if !input.sources.is_empty() && sources_failed == input.sources.len() {
            "every source failed: see report.json for each source's error".to_string()
        } else if input.matching.items_analyzed == 0 {
            "the sources returned no items".to_string()
        } else if input.matching.items_matched == 0 {
            format!(
                "none of the {} items published in the window names the watch lists ({} were outside the window)",
                input.matching.items_unique.saturating_sub(
                    input.matching.items_out_of_window + input.matching.items_undated
                ),
                input.matching.items_out_of_window
            )
        } else {
            format!(
                "{} items named the watch lists but none reached the relevance rules",
                input.matching.items_matched
            )
        };
        (RunStatus::Empty, Some(format!("nothing selected: {why}")))
    } else if sources_failed > 0 || fallbacks > 0 {
        (
            RunStatus::Degraded,
            Some(format!(
                "{sources_failed} source(s) failed and {fallbacks} section(s) fell back to the template editor: see report.json"
            )),
        )
    } else {
        (RunStatus::Ok, None)
    };
    // An empty issue is written (saying so) unless the client asked not to send one.
    let write_newsletter = status != RunStatus::Empty || bundle.client.send_empty;
    if write_newsletter {
        news.put(
            &md_key,
            render::markdown(&doc)?.into_bytes(),
            content_type::MARKDOWN,
        )
        .await?;
        news.put(
            &keys::newsletter_file(&run.client_id, run.run_date, "newsletter.html"),
            render::html(&doc)?.into_bytes(),
            content_type::HTML,
        )
        .await?;
        put_json(
            news,
            &keys::newsletter_file(&run.client_id, run.run_date, "newsletter.json"),
            &doc,
        )
        .await?;
    }
    let items_selected: usize = selection.sections.iter().map(|s| s.items.len()).sum();
    let bedrock_calls: u32 = input.sections.iter().map(|s| s.llm_calls).sum();
    let now = ports.clock.now();
    let report = Report {
        client_id: &run.client_id,
        run_date: run.run_date,
        window_start: run.window_start,
        window_end: run.window_end,
        config_digest: &bundle.digest,
        status,
        notice: notice.clone(),
        funnel: Funnel {
            items_fetched: input
                .sources
                .iter()
                .filter_map(|s| s.normalize.as_ref())
                .map(|n| n.items)
                .sum(),
            items_analyzed: input.matching.items_analyzed,
            items_unique: input.matching.items_unique,
            items_undated: input.matching.items_undated,
            items_out_of_window: input.matching.items_out_of_window,
            items_matched: input.matching.items_matched,
            items_relevant: input.score.items_relevant,
            items_selected,
        },
        fetches: fetch_counts(&input.sources),
        sources: input
            .sources
            .iter()
            .map(|s| source_report(&bundle, s))
            .collect(),
        newsletter_sections: bundle
            .client
            .sections
            .iter()
            .map(|s| crate::report::SectionRef {
                id: s.id.clone(),
                title: s.title.clone(),
            })
            .collect(),
        sections: input.sections.iter().collect(),
        llm: LlmTotals {
            calls: input.sections.iter().map(|s| s.llm_calls).sum(),
            input_tokens: input.sections.iter().map(|s| s.input_tokens).sum(),
            output_tokens: input.sections.iter().map(|s| s.output_tokens).sum(),
            cost_usd: (input.sections.iter().map(|s| s.cost_usd).sum::<f64>() * 1e6).round() / 1e6,
            sections_cached: input.sections.iter().filter(|s| s.cached).count(),
            sections_fallback: input
                .sections
                .iter()
                .filter(|s| s.fallback_reason.is_some())
                .count(),
        },
        decisions: decisions(&selection),
        excluded: &excluded,
        timings_ms: Timings {
            fetch_total: input
                .sources
                .iter()
                .filter_map(|s| s.fetch.as_ref())
                .map(|f| f.elapsed_ms)
                .sum(),
            normalize_total: input
                .sources
                .iter()
                .filter_map(|s| s.normalize.as_ref())
                .map(|n| n.elapsed_ms)
                .sum(),
            r#match: input.matching.elapsed_ms,
            score: input.score.elapsed_ms,
            sections_total: input.sections.iter().map(|s| s.elapsed_ms).sum(),
            assemble: elapsed_ms(ports, started),
            execution: input
                .started_at
                .map(|t| (now - t).num_milliseconds().max(0) as u64),
        },
        generated_at: now,
    };
    put_json(news, &report_key, &report).await?;
    // The page reads the report back as the archive and the trends do, so all three agree.
    let view: crate::report::RunReport = serde_json::to_value(&report)
        .and_then(serde_json::from_value)
        .map_err(|e| crate::Error::Internal(format!("report.json read back: {e}")))?;
    let steps = crate::report::html::journal(data, &view, input.started_at).await?;
    news.put(
        &keys::newsletter_file(&run.client_id, run.run_date, "report.html"),
        crate::report::html::render_report(&view, &steps)?.into_bytes(),
        content_type::HTML,
    )
    .await?;
    // Last: the index lists this files, which must all be written by now.
    crate::report::archive::update(news, &run.client_id).await?;

    let tokens: u64 = input
        .sections
        .iter()
        .map(|s| s.input_tokens + s.output_tokens)
        .sum();
    let mut metrics = vec![
        Metric::count("ItemsAnalyzed", input.matching.items_analyzed as f64),
        Metric::count("ItemsMatched", input.matching.items_matched as f64),
        Metric::count("ItemsSelected", items_selected as f64),
        Metric::count("SectionsGenerated", input.sections.len() as f64),
        Metric::count("SourcesFailed", sources_failed as f64),
        Metric::count("BedrockCalls", bedrock_calls),
        Metric::count("BedrockTokens", tokens as f64),
        Metric {
            name: "BedrockCostUsd",
            value: report.llm.cost_usd,
            unit: crate::ports::metrics::Unit::None,
        },
        Metric::count("EditorFallbacks", fallbacks as f64),
        Metric::count("NewsletterEmpty", u32::from(status == RunStatus::Empty)),
        // Every throttled model call, in whichever invocation (the sections' ledgers).
        Metric::count(
            "Throttles",
            input.sections.iter().map(|s| s.throttles).sum::<u32>(),
        ),
        // The "no newsletter in 8 days" alarm watches this one.
        Metric::count("NewslettersPublished", u32::from(write_newsletter)),
    ];
    if let Some(ms) = report.timings_ms.execution {
        metrics.push(Metric {
            name: "RunDuration",
            value: ms as f64,
            unit: crate::ports::metrics::Unit::Milliseconds,
        });
    }
    ports.metrics.publish(&run.client_id, &metrics).await?;

    Ok(RunSummary {
        status_code: 200,
        client_id: run.client_id.clone(),
        run_date: run.run_date,
        items_analyzed: input.matching.items_analyzed,
        items_matched: input.matching.items_matched,
        items_selected,
        sections_generated: input.sections.len(),
        bedrock_calls,
        sources_failed,
        status,
        notice,
        output_path: news.locate(if write_newsletter {
            &md_key
        } else {
            &report_key
        }),
    })
}

fn fetch_counts(sources: &[SourceOutcome]) -> FetchCounts {
    let mut counts = FetchCounts::default();
    for s in sources {
        match s.fetch.as_ref().map(|f| f.outcome) {
            Some(FetchOutcome::Fetched) => counts.fetched += 1,
            Some(FetchOutcome::NotModified) => counts.not_modified += 1,
            Some(FetchOutcome::Reused) => counts.reused += 1,
            None => counts.failed += 1,
        }
    }
    counts
}

fn source_report(bundle: &ClientBundle, s: &SourceOutcome) -> SourceReport {
    let def = bundle.source(&s.source_id);
    SourceReport {
        source_id: s.source_id.clone(),
        name: def.map_or_else(|| s.source_id.clone(), |d| d.name.clone()),
        status: s.status,
        http_status: s.fetch.as_ref().map(|f| f.http_status),
        documents: s.fetch.as_ref().map(|f| f.documents),
        bytes: s.fetch.as_ref().map(|f| f.bytes),
        items: s.normalize.as_ref().map(|n| n.items),
        dates: s
            .normalize
            .as_ref()
            .map(|n| n.dates.clone())
            .unwrap_or_default(),
        warnings: s
            .normalize
            .as_ref()
            .map(|n| n.warnings.clone())
            .unwrap_or_default(),
        warnings_total: s.normalize.as_ref().map_or(0, |n| n.warnings_total),
        error: s.error.clone(),
        cause: s.cause.clone(),
        fetch: s.fetch.as_ref().map(|f| f.outcome),
        reused_from: s.fetch.as_ref().and_then(|f| f.reused_from.clone()),
        fetch_ms: s.fetch.as_ref().map(|f| f.elapsed_ms),
        normalize_ms: s.normalize.as_ref().map(|n| n.elapsed_ms),
    }
}

fn decisions(selection: &Selection) -> Vec<Decision<'_>> {
    let selected = selection
        .sections
        .iter()
        .flat_map(|s| s.items.iter().map(move |i| (i, Some(s.id.as_str()))));
    let dropped = selection.dropped.iter().map(|i| (i, None));
    selected
        .chain(dropped)
        .map(|(i, section): (&ScoredItem, Option<&str>)| Decision {
            item_id: &i.matched.item.id,
            title: &i.matched.item.title,
            url: &i.matched.item.url,
            source: &i.matched.item.source,
            event_type: &i.matched.event_type,
            score: i.score,
            decision: if section.is_some() {
                "selected"
            } else {
                "dropped"
            },
            section,
            reasons: &i.reasons,
            breakdown: &i.breakdown,
        })
        .collect()
}

/// Builds the newsletter document. Words come from the drafts; titles, links, sources and
/// dates come from the items themselves.
fn newsletter(
    bundle: &ClientBundle,
    run: &RunContext,
    sources: &[SourceOutcome],
    matching: &MatchOutput,
    selection: &Selection,
    drafts: &HashMap<String, SectionDraft>,
) -> Newsletter {
    let source_name = |id: &str| {
        bundle
            .source(id)
            .map_or_else(|| id.to_string(), |s| s.name.clone())
    };
    let last_day = (run.window_end - Duration::days(1)).date_naive();
    let first_day = run.window_start.date_naive();
    let sections: Vec<Section> = selection
        .sections
        .iter()
        .map(|s| {
            let draft = drafts.get(&s.id);
            let summaries: HashMap<&str, &str> = draft
                .map(|d| {
                    d.items
                        .iter()
                        .map(|i| (i.item_id.as_str(), i.summary.as_str()))
                        .collect()
                })
                .unwrap_or_default();
            Section {
                id: s.id.clone(),
                title: s.title.clone(),
                intro: draft.map(|d| d.intro.clone()).unwrap_or_default(),
                editor: draft.map_or_else(|| "none".to_string(), |d| d.editor.clone()),
                items: s
                    .items
                    .iter()
                    .map(|i| {
                        let it = &i.matched.item;
                        Entry {
                            id: it.id.clone(),
                            title: it.title.clone(),
                            url: it.url.clone(),
                            source: source_name(&it.source),
                            also_in: it.also_in.iter().map(|a| source_name(a)).collect(),
                            date: it.published.map(|p| p.format("%Y-%m-%d").to_string()),
                            summary: summaries
                                .get(it.id.as_str())
                                .map_or_else(|| it.summary.clone(), |s| s.to_string()),
                            event_type: i.matched.event_type.clone(),
                            score: i.score,
                        }
                    })
                    .collect(),
            }
        })
        .collect();

    // TL;DR: the best item of each section in turn, up to the configured count.
    let mut tldr = Vec::new();
    let mut ranked: Vec<Vec<&ScoredItem>> = selection
        .sections
        .iter()
        .map(|s| {
            let mut v: Vec<&ScoredItem> = s.items.iter().collect();
            v.sort_by(|a, b| {
                b.score
                    .partial_cmp(&a.score)
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            v
        })
        .collect();
    let max = bundle.client.editor.tldr_max_items;
    'outer: for round in 0.. {
        let mut any = false;
        for (s, items) in selection.sections.iter().zip(ranked.iter_mut()) {
            if let Some(item) = items.get(round) {
                any = true;
                tldr.push(TldrLine {
                    item_id: item.matched.item.id.clone(),
                    title: item.matched.item.title.clone(),
                    section: s.title.clone(),
                });
                if tldr.len() >= max {
                    break 'outer;
                }
            }
        }
        if !any {
            break;
        }
    }

    let ok = sources
        .iter()
        .filter(|s| s.status == SourceStatus::Ok)
        .count();
    let failed: Vec<String> = sources
        .iter()
        .filter(|s| s.status == SourceStatus::Failed)
        .map(|s| source_name(&s.source_id))
        .collect();
    let selected: usize = sections.iter().map(|s| s.items.len()).sum();
    let mut intro = if selected == 0 {
        format!(
            "No item published between {first_day} and {last_day} met this newsletter's relevance rules: {} items were analysed from {ok} of {} sources and {} named the watch lists.",
            matching.items_analyzed,
            sources.len(),
            matching.items_matched
        )
    } else {
        format!(
            "{selected} items selected from {} analysed across {ok} of {} sources, published between {first_day} and {last_day}.",
            matching.items_analyzed,
            sources.len()
        )
    };
    if !failed.is_empty() {
        intro.push_str(&format!(" Not available this run: {}.", failed.join(", ")));
    }

    let w = &bundle.watch;
    let refs = &bundle.client.watch_lists;
    Newsletter {
        client_id: run.client_id.clone(),
        title: bundle.client.name.clone(),
        language: bundle.client.language.clone(),
        run_date: run.run_date.to_string(),
        period_label: period_label(first_day, last_day),
        intro,
        tldr,
        sections,
        scope: Scope {
            sources: bundle
                .sources
                .iter()
                .map(|s| ScopeSource {
                    name: s.name.clone(),
                    url: s.url.clone(),
                    ok: sources
                        .iter()
                        .any(|o| o.source_id == s.id && o.status == SourceStatus::Ok),
                })
                .collect(),
            period: format!("{first_day} to {last_day}"),
            watch_lists: vec![
                ScopeList {
                    kind: "companies".into(),
                    id: refs.companies.clone(),
                    entries: w.companies.companies.len(),
                },
                ScopeList {
                    kind: "molecules".into(),
                    id: refs.molecules.clone(),
                    entries: w.molecules.molecules.len(),
                },
                ScopeList {
                    kind: "trademarks".into(),
                    id: refs.trademarks.clone(),
                    entries: w.trademarks.trademarks.len(),
                },
                ScopeList {
                    kind: "technologies".into(),
                    id: refs.technologies.clone(),
                    entries: w.technologies.technologies.len(),
                },
            ],
        },
    }
}

/// "16–22 November 2026", "28 November – 4 December 2026", "1 January 2027" (one day).
fn period_label(first: chrono::NaiveDate, last: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    if first == last {
        return first.format("%-d %B %Y").to_string();
    }
    if first.year() != last.year() {
        format!(
            "{} – {}",
            first.format("%-d %B %Y"),
            last.format("%-d %B %Y")
        )
    } else if first.month() != last.month() {
        format!("{} – {}", first.format("%-d %B"), last.format("%-d %B %Y"))
    } else {
        format!("{}–{}", first.format("%-d"), last.format("%-d %B %Y"))
    }
}

#[cfg(test)]
mod tests {
    use super::period_label;
    use chrono::NaiveDate;

    #[test]
    fn period_labels_read_naturally() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(
            period_label(d(2026, 11, 16), d(2026, 11, 22)),
            "16–22 November 2026"
        );
        assert_eq!(
            period_label(d(2026, 11, 28), d(2026, 12, 4)),
            "28 November – 4 December 2026"
        );
        assert_eq!(
            period_label(d(2026, 12, 28), d(2027, 1, 3)),
            "28 December 2026 – 3 January 2027"
        );
        assert_eq!(period_label(d(2027, 1, 1), d(2027, 1, 1)), "1 January 2027");
    }
}

//! The run diagnostics: `report.html`, the archive of issues and `vectora report` (trends and
//! recommendations) over several consecutive weeks of the recorded `lai_weekly` sources.

mod common;

use std::path::Path;
use std::process::Command;

use common::{FIXTURE_DATE, fixtures, offline_ports};
use vectora_inbox::report::archive::Archive;
use vectora_inbox::report::{REASON_NAMES_NOTHING, RunReport, reason_group, trends};
use vectora_inbox::runner;
use vectora_inbox::store::LocalDirStore;

/// Four consecutive weekly runs ending the week before the fixture week: the captures were
/// recorded on 2026-11-23, so earlier windows hold only each feed's older items.
const WEEKS: [&str; 4] = ["2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16"];

async fn run_on(out: &Path, date: &str) -> serde_json::Value {
    let (ports, _) = offline_ports(&fixtures(), out);
    let input = serde_json::json!({"client_id": "lai_weekly", "run_date": date});
    runner::execute(runner::DEFINITION, ports, input, "lai_weekly-test", None)
        .await
        .expect("definition loads")
        .expect("execution succeeds")
}

fn issue_dir(out: &Path, date: &str) -> std::path::PathBuf {
    out.join("newsletters/lai_weekly")
        .join(date.replace('-', "/"))
}

fn report(out: &Path, date: &str) -> RunReport {
    let bytes = std::fs::read(issue_dir(out, date).join("report.json")).unwrap();
    RunReport::parse(&bytes, "report.json").unwrap()
}

fn archive(out: &Path) -> Archive {
    serde_json::from_slice(&std::fs::read(out.join("newsletters/lai_weekly/index.json")).unwrap())
        .unwrap()
}

/// `src`/`href` values of resources the page would load by itself (not links a reader follows).
fn loaded_resources(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for tag in [
        "<link", "<script", "<img", "<iframe", "<source", "<video", "<audio",
    ] {
        for part in html.split(tag).skip(1) {
            let head = part.split('>').next().unwrap_or_default();
            if head.contains("src=") || head.contains("href=") {
                out.push(format!("{tag}{head}>"));
            }
        }
    }
    if html.contains("url(") || html.contains("@import") {
        out.push("a CSS url() or @import".to_string());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_html_shows_the_funnel_every_source_and_the_steps() {
    let out = tempfile::tempdir().unwrap();
    run_on(out.path(), FIXTURE_DATE).await;
    let r = report(out.path(), FIXTURE_DATE);
    let html =
        std::fs::read_to_string(issue_dir(out.path(), FIXTURE_DATE).join("report.html")).unwrap();
    for count in [
        r.funnel.items_fetched,
        r.funnel.items_unique,
        r.funnel.in_window(),
        r.funnel.items_matched,
        r.funnel.items_relevant,
        r.funnel.items_selected,
    ] {
        assert!(
            html.contains(&format!("<td class=\"n\">{count}</td>")),
            "funnel count {count} missing"
        );
    }
    assert_eq!(
        html.matches("<tr class=\"source\"").count(),
        r.sources.len()
    );
    for s in &r.sources {
        assert!(html.contains(&format!("data-source=\"{}\"", s.source_id)));
    }
    // The waterfall has a bar per journaled step: every source's fetch and normalize, match,
    // score and every section.
    let bars = html.matches("<rect x=").count() - 7;
    assert_eq!(bars, 2 * r.sources.len() + 2 + r.sections.len());
    let selected = r.decisions.iter().filter(|d| d.decision == "selected");
    assert_eq!(
        html.matches("<ul class=\"reasons\">").count(),
        selected.count()
    );
    let out_of_window = r
        .excluded
        .iter()
        .filter(|e| reason_group(&e.reason) == "outside the run window")
        .count();
    assert!(html.contains(&format!("outside the run window ({out_of_window})")));
    assert!(
        loaded_resources(&html).is_empty(),
        "{:?}",
        loaded_resources(&html)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archive_lists_every_issue_newest_first_and_rewrites_it_identically() {
    let out = tempfile::tempdir().unwrap();
    for date in WEEKS {
        run_on(out.path(), date).await;
    }
    let a = archive(out.path());
    let dates: Vec<String> = a.issues.iter().map(|i| i.run_date.to_string()).collect();
    assert_eq!(
        dates,
        ["2026-11-16", "2026-11-09", "2026-11-02", "2026-10-26"]
    );
    let root = out.path().join("newsletters/lai_weekly");
    for i in &a.issues {
        let r = report(out.path(), &i.run_date.to_string());
        assert_eq!(
            (i.items_selected, i.status.as_str()),
            (r.funnel.items_selected, r.status.as_str())
        );
        for link in [
            Some(&i.report),
            i.report_html.as_ref(),
            i.newsletter.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            assert!(root.join(link).is_file(), "{link} is not written");
        }
    }
    let index = std::fs::read_to_string(root.join("index.html")).unwrap();
    assert_eq!(index.matches("<tr class=\"issue\"").count(), 4);
    assert!(loaded_resources(&index).is_empty());
    // Running a past week again changes nothing in the archive.
    let before = std::fs::read(root.join("index.json")).unwrap();
    run_on(out.path(), WEEKS[1]).await;
    assert_eq!(before, std::fs::read(root.join("index.json")).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_finishing_together_are_both_in_the_archive() {
    let out = tempfile::tempdir().unwrap();
    tokio::join!(run_on(out.path(), WEEKS[2]), run_on(out.path(), WEEKS[3]));
    let dates: Vec<String> = archive(out.path())
        .issues
        .iter()
        .map(|i| i.run_date.to_string())
        .collect();
    assert_eq!(dates, [WEEKS[3], WEEKS[2]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_weeks_recommend_the_silent_sources_and_the_empty_section() {
    let out = tempfile::tempdir().unwrap();
    for date in WEEKS {
        run_on(out.path(), date).await;
    }
    let news = LocalDirStore::new(out.path().join("newsletters"));
    let reports = trends::load(&news, "lai_weekly", 4).await.unwrap();
    assert_eq!(reports.len(), 4);
    let t = trends::trends("lai_weekly", &reports);
    let fired: Vec<(&str, &str)> = t
        .recommendations
        .iter()
        .map(|c| (c.rule, c.subject.as_str()))
        .collect();
    // What the data says, checked here without the rules: a source is silent when none of its
    // items, in any of the four runs, was matched or dropped for naming nothing.
    let silent: Vec<&str> = reports[3]
        .sources
        .iter()
        .map(|s| s.source_id.as_str())
        .filter(|id| {
            reports.iter().all(|r| {
                !r.decisions.iter().any(|d| d.source == *id)
                    && !r
                        .excluded
                        .iter()
                        .any(|e| e.source == *id && reason_group(&e.reason) == REASON_NAMES_NOTHING)
            })
        })
        .collect();
    assert!(silent.contains(&"camurus_news"), "{silent:?}");
    for id in &silent {
        assert!(fired.contains(&("silent_source", id)), "{id}: {fired:?}");
    }
    let empty: Vec<&str> = reports[3]
        .newsletter_sections
        .iter()
        .map(|s| s.id.as_str())
        .filter(|id| {
            reports[1..].iter().all(|r| {
                !r.decisions
                    .iter()
                    .any(|d| d.decision == "selected" && d.section.as_deref() == Some(id))
            })
        })
        .collect();
    assert_eq!(empty, ["clinical_updates"]);
    assert!(fired.contains(&("empty_section", "clinical_updates")));
    assert_eq!(
        fired.iter().filter(|f| f.0 == "silent_source").count(),
        silent.len()
    );

    // The fixture week brings every source back: the silent-source rule stops firing.
    run_on(out.path(), FIXTURE_DATE).await;
    let reports = trends::load(&news, "lai_weekly", 4).await.unwrap();
    let t = trends::trends("lai_weekly", &reports);
    assert!(!t.recommendations.iter().any(|c| c.rule == "silent_source"));
    assert!(!t.recommendations.iter().any(|c| c.rule == "empty_section"));
}

fn vectora(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vectora"))
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_command_prints_the_diagnostic_trends_and_recommendations() {
    let out = tempfile::tempdir().unwrap();
    for date in WEEKS {
        run_on(out.path(), date).await;
    }
    let store = out.path().to_str().unwrap();
    let md = vectora(&[
        "report",
        "--client",
        "lai_weekly",
        "--store",
        store,
        "--last",
        "4",
    ]);
    assert!(
        md.status.success(),
        "{}",
        String::from_utf8_lossy(&md.stderr)
    );
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.contains("## Latest run (2026-11-16)"));
    assert!(md.contains("| 2026-10-26 | empty | 85 | 0 | 0 |"), "{md}");
    assert!(
        md.contains("**empty_section: clinical\\_updates.**"),
        "{md}"
    );

    let json = vectora(&[
        "report",
        "--client",
        "lai_weekly",
        "--store",
        store,
        "--last",
        "2",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["runs"].as_array().unwrap().len(), 2);
    assert_eq!(json["runs"][1]["run_date"], "2026-11-16");

    let html = vectora(&[
        "report",
        "--client",
        "lai_weekly",
        "--store",
        store,
        "--format",
        "html",
    ]);
    let html = String::from_utf8(html.stdout).unwrap();
    assert_eq!(html.matches("<polyline").count(), 3);
    assert!(html.contains("data-rule=\"silent_source\""));
    assert!(loaded_resources(&html).is_empty());

    let none = vectora(&["report", "--client", "nobody", "--store", store]);
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("vectora run --client nobody"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_waterfall_shows_only_the_steps_this_execution_ran() {
    let out = tempfile::tempdir().unwrap();
    run_on(out.path(), FIXTURE_DATE).await;
    // A record another execution left (a source since removed from the client, say).
    let steps = out.path().join("runs/lai_weekly/2026-11-23/steps");
    let mut stale: serde_json::Value =
        serde_json::from_slice(&std::fs::read(steps.join("match.json")).unwrap()).unwrap();
    let yesterday = chrono::Utc::now() - chrono::Duration::days(1);
    stale["step"] = "fetch".into();
    stale["started_at"] = yesterday.to_rfc3339().into();
    stale["finished_at"] = yesterday.to_rfc3339().into();
    std::fs::write(
        steps.join("fetch.retired_source.json"),
        serde_json::to_vec(&stale).unwrap(),
    )
    .unwrap();
    run_on(out.path(), FIXTURE_DATE).await;
    let html =
        std::fs::read_to_string(issue_dir(out.path(), FIXTURE_DATE).join("report.html")).unwrap();
    assert!(html.contains("<td>fetch.camurus_news</td>"));
    assert!(!html.contains("retired_source"));
}

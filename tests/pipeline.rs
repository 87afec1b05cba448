//! The whole state machine on the recorded fixtures, through the local runner.

mod common;

use std::collections::HashSet;

use common::*;

fn newsletter_dir(out: &std::path::Path) -> std::path::PathBuf {
    out.join("newsletters/lai_weekly/2026/11/23")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_week_produces_a_complete_newsletter() {
    let out = tempfile::tempdir().unwrap();
    let output = run_fixture(&fixtures(), out.path()).await;
    for key in [
        "items_analyzed",
        "items_matched",
        "items_selected",
        "sections_generated",
    ] {
        assert!(output[key].as_u64().unwrap() > 0, "{key} in {output}");
    }
    assert_eq!(output["statusCode"], 200);
    assert_eq!(output["sources_failed"], 0);
    assert_eq!(output["bedrock_calls"], 0);
    let dir = newsletter_dir(out.path());
    assert_eq!(
        output["output_path"],
        dir.join("newsletter.md").display().to_string()
    );
    for f in [
        "newsletter.md",
        "newsletter.html",
        "newsletter.json",
        "report.json",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }

    let md = std::fs::read_to_string(dir.join("newsletter.md")).unwrap();
    assert!(md.starts_with("# LAI Intelligence Weekly\n"), "{md}");
    assert!(md.contains("## TL;DR"));
    assert!(md.contains("items selected from"), "intro missing");
    assert!(
        md.contains("**Scope** · Period: 2026-11-16 to 2026-11-22"),
        "scope footer missing"
    );
    let sections: Vec<&str> = md
        .split("\n## ")
        .skip(1)
        .filter(|s| !s.starts_with("TL;DR"))
        .collect();
    assert!(sections.len() >= 2, "expected at least two sections");
    for s in &sections {
        assert!(s.contains("\n### ["), "section without items: {s}");
    }

    // Every link in the newsletter is the URL of an input item.
    let mut input_urls = HashSet::new();
    let normalized = out.path().join("runs/lai_weekly/2026-11-23/normalized");
    for f in std::fs::read_dir(normalized).unwrap() {
        for line in std::fs::read_to_string(f.unwrap().path()).unwrap().lines() {
            let item: serde_json::Value = serde_json::from_str(line).unwrap();
            input_urls.insert(item["url"].as_str().unwrap().to_string());
        }
    }
    let links: Vec<&str> = md
        .split("](")
        .skip(1)
        .map(|s| &s[..s.find(')').unwrap()])
        .collect();
    assert_eq!(
        links.len() as u64,
        output["items_selected"].as_u64().unwrap()
    );
    for link in links {
        assert!(input_urls.contains(link), "{link} is not an input URL");
    }

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["funnel"]["items_selected"], output["items_selected"]);
    assert_eq!(report["sources"].as_array().unwrap().len(), 11);
    assert!(
        report["sources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "ok")
    );
    let decisions = report["decisions"].as_array().unwrap();
    assert_eq!(
        decisions.len() as u64,
        output["items_matched"].as_u64().unwrap()
    );
    assert!(
        decisions
            .iter()
            .all(|d| !d["reasons"].as_array().unwrap().is_empty())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_write_byte_identical_objects() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    run_fixture(&fixtures(), a.path()).await;
    run_fixture(&fixtures(), b.path()).await;
    let files_a = files(a.path());
    assert_eq!(files_a, files(b.path()));
    let mut compared = 0;
    for f in &files_a {
        let name = f.file_name().unwrap().to_str().unwrap();
        // Only the report (json and html) and the run manifest (manifest.json and the step
        // records) carry timings.
        if name == "report.json"
            || name == "report.html"
            || name == "manifest.json"
            || f.starts_with("runs/lai_weekly/2026-11-23/steps")
        {
            continue;
        }
        let (x, y) = (
            std::fs::read(a.path().join(f)).unwrap(),
            std::fs::read(b.path().join(f)).unwrap(),
        );
        assert!(x == y, "{} differs between runs", f.display());
        compared += 1;
    }
    assert!(compared > 20, "only {compared} files compared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_source_is_reported_and_the_newsletter_still_ships() {
    let config = tempfile::tempdir().unwrap();
    copy_tree(&fixtures(), config.path());
    std::fs::write(
        config.path().join("sources/captures/endpoints.xml"),
        "this is not XML <<<",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let output = run_fixture(config.path(), out.path()).await;
    assert_eq!(output["sources_failed"], 1);
    assert!(output["items_selected"].as_u64().unwrap() > 0);
    let dir = newsletter_dir(out.path());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let failed: Vec<&serde_json::Value> = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["source_id"], "endpoints");
    assert_eq!(failed[0]["error"], "SourceUnavailable");
    assert!(
        failed[0]["cause"]
            .as_str()
            .unwrap()
            .contains("not a readable feed"),
        "{}",
        failed[0]["cause"]
    );
    assert_eq!(
        failed[0]["http_status"], 200,
        "fetch details survive a parse failure"
    );
    // Raw first: the broken bytes were kept for a later re-normalize.
    assert!(
        out.path()
            .join("runs/lai_weekly/2026-11-23/raw/endpoints.xml")
            .is_file()
    );
    let md = std::fs::read_to_string(dir.join("newsletter.md")).unwrap();
    assert!(
        md.contains("Not available this run: Endpoints News."),
        "{md}"
    );
    assert!(md.contains("Endpoints News (unavailable this run)"));
    // report.html: the source's row says why, and its normalize step is marked as caught.
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let row = html
        .split("<tr class=\"source\" data-source=\"endpoints\">")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap();
    assert!(row.contains("<td class=\"failed\">failed</td>"), "{row}");
    assert!(row.contains("SourceUnavailable: ") && row.contains("not a readable feed"));
    assert!(html.contains("<td>normalize.endpoints</td><td class=\"n\">"));
    assert_eq!(
        html.matches("<td class=\"caught\">caught: source reported as failed")
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_feed_is_a_healthy_source_with_no_items() {
    let config = tempfile::tempdir().unwrap();
    copy_tree(&fixtures(), config.path());
    std::fs::write(
        config.path().join("sources/captures/endpoints.xml"),
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Endpoints</title></channel></rss>"#,
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let output = run_fixture(config.path(), out.path()).await;
    assert_eq!(output["sources_failed"], 0);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(newsletter_dir(out.path()).join("report.json")).unwrap(),
    )
    .unwrap();
    let endpoints = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source_id"] == "endpoints")
        .unwrap();
    assert_eq!(endpoints["items"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_client_fails_the_execution_with_invalid_input() {
    let out = tempfile::tempdir().unwrap();
    let (ports, _) = offline_ports(&fixtures(), out.path());
    let input = serde_json::json!({"client_id": "nobody", "run_date": FIXTURE_DATE});
    let failure =
        vectora_inbox::runner::execute(vectora_inbox::runner::DEFINITION, ports, input, "x", None)
            .await
            .unwrap()
            .unwrap_err();
    assert_eq!(failure.error, "InvalidInput");
    assert!(
        failure.cause.contains("unknown client \"nobody\""),
        "{}",
        failure.cause
    );
    assert!(
        failure.cause.contains("lai_weekly"),
        "known clients listed: {}",
        failure.cause
    );
}

/// An editor that is always throttled, as Bedrock is on a bad day.
struct ThrottledEditor {
    calls: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl vectora_inbox::ports::Editor for ThrottledEditor {
    fn name(&self) -> &'static str {
        "throttled"
    }

    async fn write_section(
        &self,
        _brief: &vectora_inbox::ports::editor::SectionBrief<'_>,
    ) -> vectora_inbox::Result<vectora_inbox::model::SectionDraft> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Err(vectora_inbox::Error::Throttled(
            "ThrottlingException: Too many requests".into(),
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistently_throttled_editor_falls_back_to_the_template_after_backoff() {
    use chrono::TimeZone;
    let out = tempfile::tempdir().unwrap();
    let (mut ports, _) = offline_ports(&fixtures(), out.path());
    let editor = std::sync::Arc::new(ThrottledEditor {
        calls: Default::default(),
    });
    let clock = std::sync::Arc::new(vectora_inbox::ports::VirtualClock::new(
        chrono::Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap(),
    ));
    ports.editor = editor.clone();
    ports.clock = clock.clone();
    let log = std::sync::Arc::new(vectora_inbox::asl::EventLog::new());
    let input = serde_json::json!({"client_id": "lai_weekly", "run_date": FIXTURE_DATE});
    let output = vectora_inbox::runner::execute(
        vectora_inbox::runner::DEFINITION,
        ports,
        input,
        "throttle",
        Some(log.clone()),
    )
    .await
    .unwrap()
    .unwrap();
    let sections = output["sections_generated"].as_u64().unwrap() as usize;
    assert!(sections >= 2);
    // The definition retries Throttled 3 times after the first attempt, per section: at most 4
    // attempts.
    assert_eq!(
        editor.calls.load(std::sync::atomic::Ordering::SeqCst),
        sections * 4
    );
    // Full jitter: each wait is at most its capped exponential delay (15, 30, 60 s), and every
    // one of them went through the (virtual) clock.
    let retries: Vec<std::time::Duration> = log
        .events()
        .into_iter()
        .filter_map(|e| match e {
            vectora_inbox::asl::ExecutionEvent::RetryScheduled { state, delay, .. } => {
                assert_eq!(state, "GenerateSection");
                Some(delay)
            }
            _ => None,
        })
        .collect();
    assert_eq!(retries.len(), sections * 3);
    assert!(retries.iter().all(|d| d.as_secs_f64() <= 60.0));
    let slept = clock.sleeps();
    assert!(retries.iter().all(|d| slept.contains(d)));

    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(newsletter_dir(out.path()).join("report.json")).unwrap(),
    )
    .unwrap();
    for s in report["sections"].as_array().unwrap() {
        assert_eq!(s["editor"], "template");
        let reason = s["fallback_reason"].as_str().unwrap();
        assert!(
            reason.starts_with("Throttled: throttled: ThrottlingException"),
            "{reason}"
        );
    }
    let md = std::fs::read_to_string(newsletter_dir(out.path()).join("newsletter.md")).unwrap();
    assert!(md.contains("## Regulatory Updates"));
    // report.html marks each section's step as caught, with the reason, in the waterfall.
    let html = std::fs::read_to_string(newsletter_dir(out.path()).join("report.html")).unwrap();
    assert_eq!(
        html.matches("<td class=\"caught\">caught: template editor (Throttled")
            .count(),
        sections
    );
}

/// The items the replaced system dropped, and the noise it kept (see fixtures/sources/README.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_newsletter_keeps_what_the_old_system_missed_and_drops_its_noise() {
    let out = tempfile::tempdir().unwrap();
    run_fixture(&fixtures(), out.path()).await;
    let md = std::fs::read_to_string(newsletter_dir(out.path()).join("newsletter.md")).unwrap();
    for wanted in [
        "MedinCell and Sanofi sign global license agreement",
        "Nanexa awarded EUR 2.5 million EIC Accelerator grant",
        "FDA approves label expansion for Teva’s Uzedy",
        "Camurus submits New Drug Application",
    ] {
        assert!(md.contains(wanted), "missing: {wanted}");
    }
    for noise in [
        "appoints Claire Vautrin",
        "half-year results",
        "to present at",
        "oral aripiprazole tablet",
        "We are hiring",
        "once-daily pill",
    ] {
        assert!(
            !md.to_lowercase().contains(&noise.to_lowercase()),
            "noise kept: {noise}"
        );
    }
}

/// A week with nothing in the window still produces an issue that says so, and the execution
/// output tells the operator why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_week_says_so_plainly() {
    let out = tempfile::tempdir().unwrap();
    let (ports, metrics) = offline_ports(&fixtures(), out.path());
    let input = serde_json::json!({"client_id": "lai_weekly", "run_date": "2027-06-07"});
    let output = vectora_inbox::runner::execute(
        vectora_inbox::runner::DEFINITION,
        ports,
        input,
        "empty",
        None,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(output["status"], "empty");
    assert_eq!(output["items_selected"], 0);
    assert!(
        output["notice"]
            .as_str()
            .unwrap()
            .contains("outside the window"),
        "{output}"
    );
    let md = std::fs::read_to_string(
        out.path()
            .join("newsletters/lai_weekly/2027/06/07/newsletter.md"),
    )
    .unwrap();
    assert!(
        md.contains("No item published between 2027-05-31 and 2027-06-06 met this newsletter"),
        "{md}"
    );
    assert!(md.contains("- Nothing this period."));
    let published = metrics.published();
    assert!(
        published[0]
            .1
            .iter()
            .any(|m| m.name == "NewsletterEmpty" && m.value == 1.0)
    );
}

/// With `send_empty: false`, an empty week writes the report only, and says where it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_week_can_be_left_unsent() {
    let config = tempfile::tempdir().unwrap();
    copy_tree(&fixtures(), config.path());
    let path = config.path().join("clients/lai_weekly.yaml");
    let text = std::fs::read_to_string(&path).unwrap() + "\nsend_empty: false\n";
    std::fs::write(&path, text).unwrap();
    let out = tempfile::tempdir().unwrap();
    let (ports, _) = offline_ports(config.path(), out.path());
    let input = serde_json::json!({"client_id": "lai_weekly", "run_date": "2027-06-07"});
    let output = vectora_inbox::runner::execute(
        vectora_inbox::runner::DEFINITION,
        ports,
        input,
        "empty",
        None,
    )
    .await
    .unwrap()
    .unwrap();
    let dir = out.path().join("newsletters/lai_weekly/2027/06/07");
    assert!(!dir.join("newsletter.md").exists());
    assert!(
        output["output_path"]
            .as_str()
            .unwrap()
            .ends_with("report.json")
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["status"], "empty");
}

//! Each step on its own, over the fixture configuration and an in-memory data store.

use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::editorial::TemplateEditor;
use crate::error::ErrorKind;
use crate::ports::metrics::MemoryMetrics;
use crate::ports::{Stores, VirtualClock};
use crate::sources::CaptureFetcher;
use crate::store::{LocalDirStore, MemoryStore};

fn ports() -> (
    Ports,
    Arc<MemoryStore>,
    Arc<MemoryStore>,
    Arc<MemoryMetrics>,
) {
    let config: Arc<dyn ObjectStore> = Arc::new(LocalDirStore::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures"
    )));
    let data = Arc::new(MemoryStore::new());
    let news = Arc::new(MemoryStore::new());
    let metrics = Arc::new(MemoryMetrics::default());
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-23T08:00:00Z")
        .unwrap()
        .to_utc();
    let ports = Ports {
        stores: Stores {
            config: config.clone(),
            data: data.clone(),
            newsletters: news.clone(),
        },
        fetcher: Arc::new(CaptureFetcher::new(config)),
        editor: Arc::new(TemplateEditor),
        clock: Arc::new(VirtualClock::new(start)),
        metrics: metrics.clone(),
        secrets: Arc::new(crate::ports::secrets::EnvSecrets),
        mailer: None,
        concurrency: Default::default(),
    };
    (ports, data, news, metrics)
}

async fn plan(ports: &Ports) -> serde_json::Value {
    dispatch(
        "plan",
        ports,
        json!({"client_id": "lai_weekly", "run_date": "2026-11-23"}),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn plan_fixes_the_window_and_writes_the_manifest() {
    let (ports, data, _, _) = ports();
    let out = plan(&ports).await;
    assert_eq!(out["run"]["window_start"], "2026-11-16T00:00:00Z");
    assert_eq!(out["run"]["window_end"], "2026-11-23T00:00:00Z");
    assert_eq!(out["sources"].as_array().unwrap().len(), 11);
    assert_eq!(out["sections"][0]["id"], "regulatory_updates");
    let manifest = data
        .get("runs/lai_weekly/2026-11-23/manifest.json")
        .await
        .unwrap()
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    assert_eq!(manifest["config_digest"].as_str().unwrap().len(), 64);
    assert_eq!(manifest["planned_at"], "2026-11-23T08:00:00Z");

    let out = dispatch(
        "plan",
        &ports,
        json!({"client_id": "lai_weekly", "run_date": "2026-11-23", "period_days": 1}),
    )
    .await
    .unwrap();
    assert_eq!(out["run"]["window_start"], "2026-11-22T00:00:00Z");
}

#[tokio::test]
async fn plan_refuses_bad_events_as_invalid_input() {
    let (ports, _, _, _) = ports();
    for event in [
        json!({"client_id": "lai_weekly", "period_days": 0}),
        json!({"client_id": "lai_weekly", "perod_days": 7}),
        json!({"client_id": "../etc"}),
        json!({}),
    ] {
        let err = dispatch("plan", &ports, event.clone()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{event}: {err}");
    }
    let err = dispatch("nope", &ports, json!({})).await.unwrap_err();
    assert!(err.to_string().contains("unknown step"), "{err}");
}

#[tokio::test]
async fn fetch_stores_raw_bytes_first_and_normalize_reads_them() {
    let (ports, data, _, _) = ports();
    let p = plan(&ports).await;
    let source = p["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source_id"] == "endpoints")
        .unwrap();
    let event = json!({"run": p["run"], "source": source});
    let fetched = dispatch("fetch", &ports, event.clone()).await.unwrap();
    assert_eq!(fetched["documents"], 1);
    let meta = data
        .get("runs/lai_weekly/2026-11-23/raw/endpoints.meta.json")
        .await
        .unwrap()
        .unwrap();
    let meta: serde_json::Value = serde_json::from_slice(&meta).unwrap();
    assert_eq!(
        meta["documents"][0]["key"],
        "runs/lai_weekly/2026-11-23/raw/endpoints.xml"
    );
    assert_eq!(meta["documents"][0]["role"], "feed");
    let raw = data
        .get("runs/lai_weekly/2026-11-23/raw/endpoints.xml")
        .await
        .unwrap()
        .unwrap();
    let capture = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/sources/captures/endpoints.xml"
    ))
    .unwrap();
    assert_eq!(raw, capture);
    assert_eq!(
        data.content_type("runs/lai_weekly/2026-11-23/raw/endpoints.xml")
            .as_deref(),
        Some("application/xml")
    );

    let normalized = dispatch("normalize", &ports, event).await.unwrap();
    let n = normalized["items"].as_u64().unwrap();
    assert!(n > 0);
    let lines = data
        .get("runs/lai_weekly/2026-11-23/normalized/endpoints.jsonl")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lines.iter().filter(|b| **b == b'\n').count() as u64, n);
}

#[tokio::test]
async fn normalize_without_fetch_says_what_to_run_first() {
    let (ports, _, _, _) = ports();
    let p = plan(&ports).await;
    let err = dispatch(
        "normalize",
        &ports,
        json!({"run": p["run"], "source": p["sources"][0]}),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("run the fetch step for this source first"),
        "{err}"
    );
}

#[tokio::test]
async fn a_run_with_every_source_down_still_writes_a_newsletter_saying_so() {
    let (ports, _, news, metrics) = ports();
    let p = plan(&ports).await;
    let sources: Vec<serde_json::Value> = p["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| json!({"source_id": s["source_id"], "status": "failed", "error": "SourceUnavailable", "cause": "HTTP 503"}))
        .collect();
    let matched = dispatch(
        "match",
        &ports,
        json!({"run": p["run"], "sources": sources}),
    )
    .await
    .unwrap();
    assert_eq!(matched["items_analyzed"], 0);
    let scored = dispatch("score", &ports, json!({"run": p["run"]}))
        .await
        .unwrap();
    assert_eq!(scored["sections"], json!([]));
    let summary = dispatch(
        "assemble",
        &ports,
        json!({"run": p["run"], "sources": sources, "match": matched, "score": scored, "sections": []}),
    )
    .await
    .unwrap();
    assert_eq!(summary["items_selected"], 0);
    assert_eq!(summary["sources_failed"], 11);
    let md = String::from_utf8(
        news.get("lai_weekly/2026/11/23/newsletter.md")
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert!(
        md.contains("No item published between 2026-11-16 and 2026-11-22 met this newsletter"),
        "{md}"
    );
    assert!(md.contains("Not available this run:"), "{md}");
    let published = metrics.published();
    assert_eq!(published.len(), 1);
    assert!(
        published[0]
            .1
            .iter()
            .any(|m| m.name == "SourcesFailed" && m.value == 11.0)
    );
}

#[tokio::test]
async fn generate_section_records_why_the_template_editor_wrote_it() {
    let (ports, data, _, _) = ports();
    let p = plan(&ports).await;
    let mut sources = Vec::new();
    for s in p["sources"].as_array().unwrap() {
        let event = json!({"run": p["run"], "source": s});
        let f = dispatch("fetch", &ports, event.clone()).await.unwrap();
        let n = dispatch("normalize", &ports, event).await.unwrap();
        sources
            .push(json!({"source_id": s["source_id"], "status": "ok", "fetch": f, "normalize": n}));
    }
    dispatch(
        "match",
        &ports,
        json!({"run": p["run"], "sources": sources}),
    )
    .await
    .unwrap();
    let scored = dispatch("score", &ports, json!({"run": p["run"]}))
        .await
        .unwrap();
    let section = &scored["sections"][0];
    let out = dispatch(
        "generate-section",
        &ports,
        json!({"run": p["run"], "section": section, "editor": "template", "fallback_error": "Throttled", "fallback_cause": "slow down"}),
    )
    .await
    .unwrap();
    assert_eq!(out["editor"], "template");
    assert_eq!(out["fallback_reason"], "Throttled: slow down");
    let draft = data
        .get(out["draft_key"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let draft: serde_json::Value = serde_json::from_slice(&draft).unwrap();
    assert_eq!(
        draft["items"].as_array().unwrap().len() as u64,
        section["items"].as_u64().unwrap()
    );

    let mut unknown = section.clone();
    unknown["section_id"] = json!("nope");
    let err = dispatch(
        "generate-section",
        &ports,
        json!({"run": p["run"], "section": unknown}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains("not in this run's selection"),
        "{err}"
    );
}

#[tokio::test]
async fn an_item_without_a_link_is_excluded_with_the_reason_in_the_report_data() {
    let (ports, data, _, _) = ports();
    let p = plan(&ports).await;
    let run: RunContext = serde_json::from_value(p["run"].clone()).unwrap();
    let parsed = crate::normalize::parse(
        br#"<rss version="2.0"><channel><title>T</title>
<item><title>Teva's Uzedy label expanded</title><guid isPermaLink="false">pr-1</guid>
<pubDate>Fri, 20 Nov 2026 09:00:00 GMT</pubDate></item></channel></rss>"#,
        crate::normalize::Format::Auto,
        &crate::normalize::Origin {
            source_id: "fiercepharma",
            url: None,
            content_type: None,
        },
    )
    .unwrap();
    assert_eq!(parsed.items.len(), 1, "kept by normalize");
    put_jsonl(
        data.as_ref(),
        &crate::keys::normalized("lai_weekly", run.run_date, "fiercepharma"),
        &parsed.items,
    )
    .await
    .unwrap();
    let matched = dispatch(
        "match",
        &ports,
        json!({"run": p["run"], "sources": [{"source_id": "fiercepharma", "status": "ok"}]}),
    )
    .await
    .unwrap();
    assert_eq!(matched["items_analyzed"], 1);
    assert_eq!(matched["items_matched"], 0);
    let excluded: Vec<match_items::Excluded> = get_jsonl(
        data.as_ref(),
        &crate::keys::excluded("lai_weekly", run.run_date),
        "",
    )
    .await
    .unwrap();
    assert_eq!(excluded.len(), 1);
    assert_eq!(excluded[0].title, "Teva's Uzedy label expanded");
    assert!(
        excluded[0].reason.contains("no link to cite"),
        "{:?}",
        excluded[0]
    );
}

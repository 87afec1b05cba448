//! `plan`: loads and validates the client's configuration, fixes the run's window, lists the
//! sources and sections, and writes the run manifest.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{RunContext, SourceTask, put_json};
use crate::config::{SourceKind, load_client};
use crate::error::{Error, Result};
use crate::keys;
use crate::ports::{Concurrency, Ports};

/// The execution input: what an EventBridge schedule sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    pub client_id: String,
    /// Overrides the client's `period_days`.
    #[serde(default)]
    pub period_days: Option<u32>,
    /// Defaults to today (UTC).
    #[serde(default)]
    pub run_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionRef {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanOutput {
    pub run: RunContext,
    pub sources: Vec<SourceTask>,
    pub sections: Vec<SectionRef>,
    pub manifest_key: String,
    /// Read by the state machine's Map states (`MaxConcurrencyPath`).
    pub concurrency: Concurrency,
}

#[derive(Debug, Serialize)]
struct Manifest<'a> {
    client_id: &'a str,
    run_date: NaiveDate,
    period_days: u32,
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
    config_digest: &'a str,
    sources: Vec<&'a str>,
    sections: Vec<&'a str>,
    planned_at: DateTime<Utc>,
}

pub async fn run(ports: &Ports, input: PlanInput) -> Result<PlanOutput> {
    let bundle = load_client(ports.stores.config.as_ref(), &input.client_id).await?;
    let period_days = input.period_days.unwrap_or(bundle.client.period_days);
    if !(1..=92).contains(&period_days) {
        return Err(Error::InvalidEvent {
            step: "plan".into(),
            message: format!("period_days {period_days} is out of range: expected 1 to 92"),
        });
    }
    let run_date = input
        .run_date
        .unwrap_or_else(|| ports.clock.now().date_naive());
    let mut run = window(&bundle.client.client_id, run_date, period_days);
    run.config_digest = bundle.digest.clone();
    let manifest_key = keys::manifest(&run.client_id, run_date);
    let manifest = Manifest {
        client_id: &run.client_id,
        run_date,
        period_days,
        window_start: run.window_start,
        window_end: run.window_end,
        config_digest: &bundle.digest,
        sources: bundle.sources.iter().map(|s| s.id.as_str()).collect(),
        sections: bundle
            .client
            .sections
            .iter()
            .map(|s| s.id.as_str())
            .collect(),
        planned_at: ports.clock.now(),
    };
    put_json(ports.stores.data.as_ref(), &manifest_key, &manifest).await?;
    Ok(PlanOutput {
        sources: bundle
            .sources
            .iter()
            .map(|s| SourceTask {
                source_id: s.id.clone(),
                name: s.name.clone(),
                kind: s.kind,
                url: s.url.clone(),
                capture: s.capture.clone(),
                tier: s.tier,
                html: s.html.clone(),
                pubmed: (s.kind == SourceKind::Pubmed)
                    .then(|| s.pubmed.clone().unwrap_or_default()),
                pubmed_term: (s.kind == SourceKind::Pubmed)
                    .then(|| bundle.client.pubmed.as_ref().map(|p| p.term.clone()))
                    .flatten(),
                replay_capture: bundle.client.replay_captures,
            })
            .collect(),
        sections: bundle
            .client
            .sections
            .iter()
            .map(|s| SectionRef {
                id: s.id.clone(),
                title: s.title.clone(),
            })
            .collect(),
        manifest_key,
        run,
        concurrency: ports.concurrency,
    })
}

/// The run covers the `period_days` whole days before the run date (UTC): a Monday run with a
/// 7-day period covers the previous Monday 00:00 to this Monday 00:00, so weekly issues neither
/// overlap nor leave gaps.
pub fn window(client_id: &str, run_date: NaiveDate, period_days: u32) -> RunContext {
    let end = run_date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    RunContext {
        client_id: client_id.to_string(),
        run_date,
        period_days,
        window_start: end - chrono::Duration::days(i64::from(period_days)),
        window_end: end,
        config_digest: String::new(),
    }
}

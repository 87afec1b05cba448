//! The step journal: one record per step execution under `runs/{client}/{date}/steps/`, with its
//! status, timings, input fingerprint and the objects it wrote — the run manifest's per-step
//! part — and, on `--resume`, the skipping of steps already done with the same input.
//!
//! A step is skipped only when its last record says it succeeded, its input (which carries the
//! configuration digest) is byte-for-byte the same, and every object it wrote still exists; it
//! then returns its recorded result, so the rest of the execution sees exactly what an
//! uninterrupted run would have seen.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::keys;
use crate::ports::store::content_type;
use crate::ports::{ObjectStore, Ports, Stores};
use crate::steps;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Succeeded,
    Failed,
}

/// `runs/{client}/{date}/steps/{step}[.{source or section id}].json`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub step: String,
    pub status: StepStatus,
    pub input_sha256: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub elapsed_ms: u64,
    /// Every object the step wrote (data and newsletter areas).
    pub outputs: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where a step's record lives, from its event; `None` for `plan` (it fixes the run date) and
/// for events that name no run.
pub fn record_key(step: &str, event: &serde_json::Value) -> Option<String> {
    let run = event.get("run")?;
    let client = run.get("client_id")?.as_str()?;
    let date: chrono::NaiveDate = run.get("run_date")?.as_str()?.parse().ok()?;
    let id = event
        .pointer("/source/source_id")
        .or_else(|| event.pointer("/section/section_id"))
        .and_then(|v| v.as_str());
    if !crate::config::is_valid_id(client) || id.is_some_and(|i| !crate::config::is_valid_id(i)) {
        return None;
    }
    let name = match id {
        Some(id) => format!("{step}.{id}"),
        None => step.to_string(),
    };
    Some(format!(
        "{}/steps/{name}.json",
        keys::run_prefix(client, date)
    ))
}

fn fingerprint(step: &str, event: &serde_json::Value) -> String {
    // serde_json maps are sorted: the same event always serializes the same way.
    let mut h = Sha256::new();
    h.update(step.as_bytes());
    h.update([0]);
    h.update(event.to_string().as_bytes());
    hex::encode(h.finalize())
}

/// Runs step `step`, journaling it; with `resume`, returns the recorded result of an identical
/// successful execution instead of running it again.
pub async fn run_step(
    step: &str,
    ports: &Ports,
    event: serde_json::Value,
    resume: bool,
) -> Result<serde_json::Value> {
    run_with(step, steps::handler(step)?, ports, event, resume).await
}

/// [`run_step`] with the step's handler given: what a Lambda binary calls, so it links only
/// its own step.
pub async fn run_with(
    step: &str,
    handler: steps::Handler,
    ports: &Ports,
    event: serde_json::Value,
    resume: bool,
) -> Result<serde_json::Value> {
    let Some(key) = record_key(step, &event) else {
        return handler(ports, event).await;
    };
    let data = ports.stores.data.clone();
    let input_sha256 = fingerprint(step, &event);
    if resume
        && let Some(result) =
            reusable(&*data, &*ports.stores.newsletters, &key, &input_sha256).await?
    {
        return Ok(result);
    }
    let written = Arc::new(Mutex::new(Vec::new()));
    let recording = Ports {
        stores: Stores {
            config: ports.stores.config.clone(),
            data: Arc::new(Recording {
                inner: data.clone(),
                area: "data",
                written: written.clone(),
            }),
            newsletters: Arc::new(Recording {
                inner: ports.stores.newsletters.clone(),
                area: "newsletters",
                written: written.clone(),
            }),
        },
        ..ports.clone()
    };
    let started_at = ports.clock.now();
    let outcome = handler(&recording, event).await;
    let finished_at = ports.clock.now();
    let mut outputs = written.lock().map(|w| w.clone()).unwrap_or_default();
    outputs.sort();
    outputs.dedup();
    let record = StepRecord {
        step: step.to_string(),
        status: if outcome.is_ok() {
            StepStatus::Succeeded
        } else {
            StepStatus::Failed
        },
        input_sha256,
        started_at,
        finished_at,
        elapsed_ms: (finished_at - started_at).num_milliseconds().max(0) as u64,
        outputs,
        result: outcome.as_ref().ok().cloned(),
        error: outcome.as_ref().err().map(|e| format!("{}: {e}", e.kind())),
    };
    let body = serde_json::to_vec_pretty(&record).map_err(|e| Error::Internal(e.to_string()))?;
    // A step that worked is not failed by its journal: the record only speeds up a resume.
    let _ = data.put(&key, body, content_type::JSON).await;
    outcome
}

async fn reusable(
    data: &dyn ObjectStore,
    newsletters: &dyn ObjectStore,
    key: &str,
    input_sha256: &str,
) -> Result<Option<serde_json::Value>> {
    let Some(bytes) = data.get(key).await? else {
        return Ok(None);
    };
    let Ok(record) = serde_json::from_slice::<StepRecord>(&bytes) else {
        return Ok(None);
    };
    if record.status != StepStatus::Succeeded || record.input_sha256 != input_sha256 {
        return Ok(None);
    }
    for output in &record.outputs {
        let (store, key) = match output.split_once(':') {
            Some(("newsletters", k)) => (newsletters, k),
            Some((_, k)) => (data, k),
            None => (data, output.as_str()),
        };
        if store.get(key).await?.is_none() {
            return Ok(None);
        }
    }
    Ok(record.result)
}

/// A store that remembers what was written through it (`area:key`).
struct Recording {
    inner: Arc<dyn ObjectStore>,
    area: &'static str,
    written: Arc<Mutex<Vec<String>>>,
}

#[async_trait]
impl ObjectStore for Recording {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.inner.get(key).await
    }

    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<()> {
        self.inner.put(key, body, content_type).await?;
        if let Ok(mut w) = self.written.lock() {
            w.push(format!("{}:{key}", self.area));
        }
        Ok(())
    }

    async fn put_if_absent(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<bool> {
        let created = self.inner.put_if_absent(key, body, content_type).await?;
        // Only what this step created is its output; another run's publication is not.
        if created && let Ok(mut w) = self.written.lock() {
            w.push(format!("{}:{key}", self.area));
        }
        Ok(created)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        self.inner.list(prefix).await
    }

    fn locate(&self, key: &str) -> String {
        self.inner.locate(key)
    }
}

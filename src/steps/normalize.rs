//! `normalize`: one source's raw capture → normalized items as JSON lines.

use serde::{Deserialize, Serialize};

use super::fetch::RawMeta;
use super::{RunContext, SourceTask, elapsed_ms, get_json, put_jsonl};
use crate::error::{Error, Result};
use crate::keys;
use crate::normalize::{self, Format, Origin};
use crate::ports::Ports;

/// Warnings returned in the step result; the rest are counted (claim check: results stay small).
const MAX_WARNINGS_RETURNED: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalizeInput {
    pub run: RunContext,
    pub source: SourceTask,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormalizeOutput {
    pub source_id: String,
    pub normalized_key: String,
    pub items: usize,
    pub warnings: Vec<String>,
    pub warnings_total: usize,
    pub elapsed_ms: u64,
}

pub async fn run(ports: &Ports, input: NormalizeInput) -> Result<NormalizeOutput> {
    let started = ports.clock.now();
    let NormalizeInput { run, source } = input;
    let store = ports.stores.data.as_ref();
    let meta_key = keys::raw_meta(&run.client_id, run.run_date, &source.source_id);
    let meta: RawMeta =
        get_json(store, &meta_key, "run the fetch step for this source first").await?;
    let raw = store
        .get(&meta.raw_key)
        .await?
        .ok_or_else(|| Error::MissingObject {
            key: store.locate(&meta.raw_key),
            hint: "run the fetch step for this source again".into(),
        })?;
    let parsed = normalize::parse(
        &raw,
        Format::Auto,
        &Origin {
            source_id: &source.source_id,
            url: Some(&meta.final_url),
            content_type: meta.content_type.as_deref(),
        },
    )?;
    let normalized_key = keys::normalized(&run.client_id, run.run_date, &source.source_id);
    put_jsonl(store, &normalized_key, &parsed.items).await?;
    Ok(NormalizeOutput {
        source_id: source.source_id,
        normalized_key,
        items: parsed.items.len(),
        warnings_total: parsed.warnings.len(),
        warnings: parsed
            .warnings
            .into_iter()
            .take(MAX_WARNINGS_RETURNED)
            .collect(),
        elapsed_ms: elapsed_ms(ports, started),
    })
}

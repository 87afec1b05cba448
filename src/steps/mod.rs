//! The pipeline's steps, one module each, and their entry points: a [`Step`] type per step for
//! the Lambda binaries (each links only its own), [`dispatch`] by name for `vectora step` and
//! the local state-machine runner.
//!
//! A step takes [`Ports`] and a small JSON event, reads and writes the store under deterministic
//! keys, and returns a small JSON result (claim check: keys and counts, never item lists).

pub mod assemble;
pub mod deliver;
pub mod fetch;
pub mod generate_section;
pub mod match_items;
pub mod normalize;
pub mod plan;
pub mod score;
pub mod shared;

use chrono::{DateTime, NaiveDate, Utc};
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::{HtmlOptions, PubmedOptions, SourceKind};
use crate::error::{Error, Result};
use crate::ports::store::content_type;
use crate::ports::{ObjectStore, Ports};

/// The names of the steps, as Lambda functions and as `vectora step NAME`.
pub const STEP_NAMES: [&str; 8] = [
    Plan::NAME,
    Fetch::NAME,
    Normalize::NAME,
    Match::NAME,
    Score::NAME,
    GenerateSection::NAME,
    Assemble::NAME,
    Deliver::NAME,
];

/// A step's entry point: parses its event, runs, returns its JSON result.
pub type Handler =
    for<'a> fn(&'a Ports, serde_json::Value) -> BoxFuture<'a, Result<serde_json::Value>>;

/// A step as its Lambda binary sees it: a name, a handler, and the adapters the deployed
/// function needs. Known at compile time, so each binary links only its own step and the
/// adapters it uses (a fetch binary carries no Bedrock client, no renderer).
pub trait Step {
    const NAME: &'static str;
    /// Fetches over HTTP(S), with the NCBI key.
    const FETCHES: bool = false;
    /// Has an editor write text (Bedrock, unless told otherwise).
    const WRITES: bool = false;
    /// Publishes the run's metrics.
    const PUBLISHES: bool = false;
    /// Sends e-mail (SES).
    const MAILS: bool = false;
    fn handle(ports: &Ports, event: serde_json::Value) -> BoxFuture<'_, Result<serde_json::Value>>;
}

macro_rules! step {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $module:ident $(, $flag:ident)*) => {
        $(#[$doc])*
        pub struct $ty;
        impl Step for $ty {
            const NAME: &'static str = $name;
            $(const $flag: bool = true;)*
            fn handle(
                ports: &Ports,
                event: serde_json::Value,
            ) -> BoxFuture<'_, Result<serde_json::Value>> {
                Box::pin(async move { to_json($module::run(ports, parse_event($name, event)?).await?) })
            }
        }
    };
}

step!(
    /// `plan`: the run's window, sources and sections.
    Plan, "plan", plan
);
step!(
    /// `fetch`: one source's raw documents.
    Fetch, "fetch", fetch, FETCHES
);
step!(
    /// `normalize`: one source's items.
    Normalize, "normalize", normalize
);
step!(
    /// `match`: the run's items that name the watch lists.
    Match, "match", match_items
);
step!(
    /// `score`: scores and the selection per section.
    Score, "score", score
);
step!(
    /// `generate-section`: one section's editorial text.
    GenerateSection, "generate-section", generate_section, WRITES
);
step!(
    /// `assemble`: the newsletter, the report and the metrics.
    Assemble, "assemble", assemble, PUBLISHES
);
step!(
    /// `deliver`: the newsletter by e-mail, exactly once.
    Deliver, "deliver", deliver, MAILS
);

/// The handler of step `name`, for the callers that choose at run time (`vectora step`, the
/// local runner).
pub fn handler(name: &str) -> Result<Handler> {
    Ok(match name {
        Plan::NAME => Plan::handle,
        Fetch::NAME => Fetch::handle,
        Normalize::NAME => Normalize::handle,
        Match::NAME => Match::handle,
        Score::NAME => Score::handle,
        GenerateSection::NAME => GenerateSection::handle,
        Assemble::NAME => Assemble::handle,
        Deliver::NAME => Deliver::handle,
        other => {
            return Err(Error::InvalidEvent {
                step: other.to_string(),
                message: format!(
                    "unknown step {other:?}: expected one of {}",
                    STEP_NAMES.join(", ")
                ),
            });
        }
    })
}

/// Runs step `name` on a JSON event, as its Lambda would.
pub async fn dispatch(
    name: &str,
    ports: &Ports,
    event: serde_json::Value,
) -> Result<serde_json::Value> {
    handler(name)?(ports, event).await
}

fn parse_event<T: DeserializeOwned>(step: &str, event: serde_json::Value) -> Result<T> {
    serde_path_to_error::deserialize(event).map_err(|e| {
        let path = e.path().to_string();
        Error::InvalidEvent {
            step: step.to_string(),
            message: if path == "." {
                e.inner().to_string()
            } else {
                format!("{path}: {}", e.inner())
            },
        }
    })
}

fn to_json<T: Serialize>(value: T) -> Result<serde_json::Value> {
    serde_json::to_value(value)
        .map_err(|e| Error::Internal(format!("serializing a step result: {e}")))
}

/// Who and what a run is about; passed to every step after `plan`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunContext {
    pub client_id: String,
    pub run_date: NaiveDate,
    pub period_days: u32,
    /// Items published in `[window_start, window_end)` belong to the run.
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// Digest of every configuration file the run read: part of every step's input, so a
    /// changed configuration is never mistaken for work already done.
    #[serde(default)]
    pub config_digest: String,
}

/// One source to fetch, as `plan` lists it for the source Map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceTask {
    pub source_id: String,
    pub name: String,
    pub kind: SourceKind,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<String>,
    pub tier: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<HtmlOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pubmed: Option<PubmedOptions>,
    /// The client's PubMed search term, for `pubmed` sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pubmed_term: Option<String>,
    /// The client asks for the recorded capture instead of the network (`replay_captures`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replay_capture: bool,
}

/// One section to write, as `score` lists it for the section Map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionTask {
    pub section_id: String,
    pub title: String,
    pub items: usize,
}

pub(crate) fn elapsed_ms(ports: &Ports, started: DateTime<Utc>) -> u64 {
    (ports.clock.now() - started).num_milliseconds().max(0) as u64
}

pub(crate) async fn put_json<T: Serialize>(
    store: &dyn ObjectStore,
    key: &str,
    value: &T,
) -> Result<()> {
    store
        .put(key, to_json_body(key, value)?, content_type::JSON)
        .await
}

/// The bytes `put_json` stores for `value` (pretty JSON and a final newline).
pub(crate) fn to_json_body<T: Serialize>(key: &str, value: &T) -> Result<Vec<u8>> {
    let mut body = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::Internal(format!("serializing {key}: {e}")))?;
    body.push(b'\n');
    Ok(body)
}

pub(crate) async fn get_json<T: DeserializeOwned>(
    store: &dyn ObjectStore,
    key: &str,
    hint: &str,
) -> Result<T> {
    let bytes = store.get(key).await?.ok_or_else(|| Error::MissingObject {
        key: store.locate(key),
        hint: hint.to_string(),
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| Error::Internal(format!("{} is not valid: {e}", store.locate(key))))
}

pub(crate) async fn put_jsonl<T: Serialize>(
    store: &dyn ObjectStore,
    key: &str,
    values: &[T],
) -> Result<()> {
    store
        .put(key, to_jsonl_body(key, values)?, content_type::JSON_LINES)
        .await
}

/// The bytes `put_jsonl` stores for `values` (one JSON object a line).
pub(crate) fn to_jsonl_body<T: Serialize>(key: &str, values: &[T]) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    for v in values {
        serde_json::to_writer(&mut body, v)
            .map_err(|e| Error::Internal(format!("serializing {key}: {e}")))?;
        body.push(b'\n');
    }
    Ok(body)
}

pub(crate) async fn get_jsonl<T: DeserializeOwned>(
    store: &dyn ObjectStore,
    key: &str,
    hint: &str,
) -> Result<Vec<T>> {
    let bytes = store.get(key).await?.ok_or_else(|| Error::MissingObject {
        key: store.locate(key),
        hint: hint.to_string(),
    })?;
    bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .map(|(i, line)| {
            serde_json::from_slice(line)
                .map_err(|e| Error::Internal(format!("{} line {}: {e}", store.locate(key), i + 1)))
        })
        .collect()
}

#[cfg(test)]
mod tests;

//! `generate-section`: one section's editorial text, by the configured editor or, when the
//! state machine routes a failure here, by the template editor with the reason recorded.

use serde::{Deserialize, Serialize};

use super::{RunContext, SectionTask, elapsed_ms, get_json, put_json};
use crate::config::load_client;
use crate::editorial::{Ledger, TemplateEditor};
use crate::error::{Error, Result};
use crate::keys;
use crate::matching::Matcher;
use crate::model::{DroppedItem, Selection};
use crate::ports::Ports;
use crate::ports::editor::{Editor, SectionBrief};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateInput {
    pub run: RunContext,
    pub section: SectionTask,
    /// `"template"` forces the template editor (the state machine's fallback path).
    #[serde(default)]
    pub editor: Option<String>,
    /// The error that sent this section to the fallback, from the ASL `Catch`.
    #[serde(default)]
    pub fallback_error: Option<String>,
    #[serde(default)]
    pub fallback_cause: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateOutput {
    pub section_id: String,
    pub draft_key: String,
    pub editor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_reason: Option<String>,
    pub llm_calls: u32,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
    /// Model calls that were throttled, in every invocation that wrote this section.
    #[serde(default)]
    pub throttles: u32,
    /// What each model call met, in order: `answer: accepted`, `answer: refused`, or the error
    /// name (`Throttled`, `QuotaExceeded`, `ModelUnavailable`, `InvalidInput`, `Internal`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_input_tokens: Option<u64>,
    /// Items the editor's prompt left out to stay under `max_input_tokens` (still in the
    /// newsletter, with the template editor's words).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped_from_prompt: Vec<DroppedItem>,
    pub elapsed_ms: u64,
}

/// The message of a `Catch`'s cause. On AWS, the cause of a failed Lambda task is the
/// function's error payload as JSON (`{"errorType": …, "errorMessage": …}`); the local runner
/// gives the message itself. The report shows the message either way.
fn cause_message(cause: &str) -> String {
    serde_json::from_str::<serde_json::Value>(cause)
        .ok()
        .and_then(|v| v.get("errorMessage")?.as_str().map(str::to_string))
        .unwrap_or_else(|| cause.to_string())
}

pub async fn run(ports: &Ports, input: GenerateInput) -> Result<GenerateOutput> {
    let started = ports.clock.now();
    let GenerateInput {
        run,
        section,
        editor,
        fallback_error,
        fallback_cause,
    } = input;
    let bundle = load_client(ports.stores.config.as_ref(), &run.client_id).await?;
    let store = ports.stores.data.as_ref();
    let selection: Selection = get_json(
        store,
        &keys::selection(&run.client_id, run.run_date),
        "run the score step first",
    )
    .await?;
    let selected = selection
        .sections
        .iter()
        .find(|s| s.id == section.section_id)
        .ok_or_else(|| Error::InvalidEvent {
            step: "generate-section".into(),
            message: format!(
                "section {:?} is not in this run's selection (sections: {})",
                section.section_id,
                selection
                    .sections
                    .iter()
                    .map(|s| s.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
    let matcher = Matcher::new(&bundle.watch, &bundle.scoring)?;
    let brief = SectionBrief {
        matcher: &matcher,
        client: &bundle.client,
        run_date: run.run_date,
        section: selected,
    };
    let template = TemplateEditor;
    let chosen: &dyn Editor = match editor.as_deref() {
        Some("template") => &template,
        None if bundle.client.editor.template_only => &template,
        None => ports.editor.as_ref(),
        Some(other) => {
            return Err(Error::InvalidEvent {
                step: "generate-section".into(),
                message: format!(
                    "editor {other:?} is not known: expected \"template\" or no editor key"
                ),
            });
        }
    };
    let mut draft = chosen.write_section(&brief).await?;
    if let Some(error) = fallback_error {
        draft.fallback_reason = Some(match fallback_cause.as_deref().map(cause_message) {
            Some(cause) if !cause.is_empty() => format!("{error}: {cause}"),
            _ => error,
        });
    }
    // Whichever invocation made them, the calls this section cost are in its ledger: the draft
    // accounts for all of them, then the ledger starts afresh for the next execution.
    let ledger = Ledger::new(store, &run.client_id, run.run_date, &section.section_id);
    draft.account(ledger.read().await?);
    let draft_key = keys::draft(&run.client_id, run.run_date, &section.section_id);
    put_json(store, &draft_key, &draft).await?;
    ledger.clear().await?;
    Ok(GenerateOutput {
        section_id: section.section_id,
        draft_key,
        editor: draft.editor.clone(),
        fallback_reason: draft.fallback_reason.clone(),
        llm_calls: draft.llm_calls,
        input_tokens: draft.input_tokens,
        output_tokens: draft.output_tokens,
        cost_usd: draft.cost_usd,
        cached: draft.cached,
        throttles: draft.throttles,
        attempts: draft
            .attempts
            .iter()
            .map(|a| match a.accepted {
                Some(true) => format!("{}: accepted", a.outcome),
                Some(false) => format!("{}: refused", a.outcome),
                None => a.outcome.clone(),
            })
            .collect(),
        estimated_input_tokens: draft.estimated_input_tokens,
        dropped_from_prompt: draft.dropped_from_prompt.clone(),
        elapsed_ms: elapsed_ms(ports, started),
    })
}

#[cfg(test)]
mod tests {
    use super::cause_message;

    #[test]
    fn a_lambda_error_payload_as_cause_reads_as_its_message() {
        assert_eq!(
            cause_message(
                r#"{"errorType":"Throttled","errorMessage":"throttled: Bedrock Converse ThrottlingException: slow down"}"#
            ),
            "throttled: Bedrock Converse ThrottlingException: slow down"
        );
        assert_eq!(cause_message("slow down"), "slow down");
        assert_eq!(cause_message("{\"other\": 1}"), "{\"other\": 1}");
    }
}

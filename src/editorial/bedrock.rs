//! The Bedrock editor: one `Converse` call per section (Claude through an inference profile),
//! answering through a declared tool so the shape is fixed, checked by the guards before
//! anything is stored, every answer recorded by exact request, priced, and mapped to the error
//! names the state machine retries.
//!
//! The model sees the section's items as JSON data, each with its id; it answers with an intro
//! and one summary per item id. Links, titles and sources are never taken from its text.
//!
//! Where retrying happens: nowhere in here. The SDK makes one attempt per call and each
//! invocation makes at most one call; the state machine's `Retry` (backoff with full jitter,
//! 3 retries shared by `Throttled`, `ModelUnavailable` and `LlmOutputRejected`) re-invokes. So a
//! section costs at most 4 attempts whatever the endpoint answers, and a recorded answer —
//! accepted or refused — is never asked for again.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::error::SdkError;
use aws_sdk_bedrockruntime::operation::converse::ConverseError;
use aws_sdk_bedrockruntime::types::{
    CachePointBlock, CachePointType, ContentBlock, ConversationRole, ConverseOutput,
    InferenceConfiguration, Message, SpecificToolChoice, SystemContentBlock, Tool, ToolChoice,
    ToolConfiguration, ToolInputSchema, ToolSpecification,
};
use aws_smithy_types::{Document, Number};
use serde::{Deserialize, Serialize};

use super::attempts::Ledger;
use super::guards::{self, Checked, Rejection};
use super::prompt::{self, ConverseRequest, Role, SectionPrompt, SystemBlock};
use crate::config::BedrockConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{Attempt, DraftItem, SectionDraft};
use crate::ports::ObjectStore;
use crate::ports::editor::{Editor, SectionBrief};
use crate::ports::store::content_type;

pub struct BedrockEditor {
    client: Client,
    /// Where answers are recorded (`llm-cache/`), the attempts ledger, and the run's drafts (for
    /// the budget).
    data: Arc<dyn ObjectStore>,
    /// When set, overrides the client config's model id (tests, `VECTORA_BEDROCK_MODEL_ID`).
    model_override: Option<String>,
    /// `--fresh-editorial`: answers recorded before this editor existed are not reused; the
    /// ones it records itself are (a refused answer's correction still follows it).
    fresh: Option<Mutex<HashSet<String>>>,
}

/// Builds an SDK client through the standard AWS configuration chain (credentials, region,
/// `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`), with the config's region as the fallback. The SDK does
/// not retry: an SDK retry inside a state-machine retry multiplies the attempts (2 × 6 per
/// section before), and only the state machine can wait without paying for a running Lambda.
pub async fn client_from_env(region_fallback: &str) -> Client {
    let shared = crate::aws::load_config_in(region_fallback).await;
    let config = aws_sdk_bedrockruntime::config::Builder::from(&shared)
        .retry_config(aws_sdk_bedrockruntime::config::retry::RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

impl BedrockEditor {
    pub fn new(client: Client, data: Arc<dyn ObjectStore>) -> Self {
        BedrockEditor {
            client,
            data,
            model_override: prompt::model_override_from_env(),
            fresh: None,
        }
    }

    /// Asks the model again for every section (`--fresh-editorial`) instead of reusing recorded
    /// answers.
    pub fn fresh(mut self) -> Self {
        self.fresh = Some(Mutex::new(HashSet::new()));
        self
    }

    fn model_id(&self, config: &BedrockConfig) -> String {
        self.model_override
            .clone()
            .unwrap_or_else(|| config.model_id.clone())
    }
}

fn bedrock_config<'a>(brief: &SectionBrief<'a>) -> Result<&'a BedrockConfig> {
    brief.client.editor.bedrock.as_ref().ok_or_else(|| {
        Error::config(
            format!("clients/{}.yaml", brief.client.client_id),
            "editor.bedrock",
            "is missing: the Bedrock editor needs model_id, region, max_tokens, temperature, tone, audience, prompt_caching, price_usd_per_million_tokens and budget_usd_per_run",
        )
    })
}

/// What is recorded under `llm-cache/{sha256(model + request)}.json`: the answer as received,
/// what it cost, and the guards' verdict when it was received (informative: a recorded answer is
/// checked again each time it is used).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RecordedAnswer {
    model_id: String,
    answer: serde_json::Value,
    input_tokens: u64,
    output_tokens: u64,
    #[serde(default)]
    accepted: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    refused_because: Vec<String>,
}

/// An answer and where it came from.
struct Answer {
    verdict: std::result::Result<Checked, Rejection>,
    /// Read from the record, not paid in this invocation.
    recorded: bool,
}

/// What asking gave.
enum Asked {
    Answer(Answer),
    /// The call was not made: it could take the run past its budget. The reason, in words.
    OverBudget(String),
    /// No recorded answer, and this invocation may not call (it has made its one call).
    NotRecorded,
}

/// What one call returned.
struct Call {
    answer: serde_json::Value,
    input_tokens: u64,
    output_tokens: u64,
}

impl BedrockEditor {
    /// The recorded answer to `request`, if any (and, under `--fresh-editorial`, only one this
    /// editor recorded).
    async fn recorded(&self, key: &str) -> Result<Option<RecordedAnswer>> {
        if let Some(fresh) = &self.fresh
            && !fresh.lock().map(|k| k.contains(key)).unwrap_or(false)
        {
            return Ok(None);
        }
        Ok(self
            .data
            .get(key)
            .await?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
    }

    /// The answer to `request`: the recorded one, or a new call when `may_call` (the budget
    /// allowing).
    async fn ask(
        &self,
        brief: &SectionBrief<'_>,
        prompt: &SectionPrompt,
        config: &BedrockConfig,
        request: &ConverseRequest,
        ledger: &Ledger<'_>,
        may_call: bool,
    ) -> Result<Asked> {
        let key = prompt::cache_key(&prompt.model_id, request);
        if let Some(recorded) = self.recorded(&key).await? {
            let verdict = guards::check_answer(&prompt.section, &recorded.answer, brief.matcher);
            return Ok(Asked::Answer(Answer {
                verdict,
                recorded: true,
            }));
        }
        if !may_call {
            return Ok(Asked::NotRecorded);
        }
        // Size before cost: the most this call can cost, against what the run has left.
        let estimate = request.estimated_input_tokens();
        let max_cost = request.max_cost_usd(&config.price_usd_per_million_tokens);
        let spent = self.spent(brief, ledger).await?;
        if spent + max_cost > config.budget_usd_per_run {
            return Ok(Asked::OverBudget(format!(
                "budget: not called: this call could cost up to {max_cost:.4} USD (about {estimate} input tokens, up to {} output tokens) and the run has spent {spent:.4} of its {:.2} USD (editor.bedrock.budget_usd_per_run)",
                config.max_tokens, config.budget_usd_per_run
            )));
        }
        let call = match self.converse(&prompt.model_id, request).await {
            Ok(call) => call,
            Err(e) => {
                ledger
                    .push(Attempt {
                        outcome: e.kind().name().to_string(),
                        accepted: None,
                        input_tokens: 0,
                        output_tokens: 0,
                        cost_usd: 0.0,
                        message: Some(e.to_string()),
                    })
                    .await?;
                return Err(e);
            }
        };
        let verdict = guards::check_answer(&prompt.section, &call.answer, brief.matcher);
        let record = RecordedAnswer {
            model_id: prompt.model_id.clone(),
            answer: call.answer,
            input_tokens: call.input_tokens,
            output_tokens: call.output_tokens,
            accepted: verdict.is_ok(),
            refused_because: verdict
                .as_ref()
                .err()
                .map(|r| r.reasons.clone())
                .unwrap_or_default(),
        };
        // Recorded before anything else: it is paid for, refused or not.
        let body =
            serde_json::to_vec_pretty(&record).map_err(|e| Error::Internal(e.to_string()))?;
        self.data.put(&key, body, content_type::JSON).await?;
        if let Some(fresh) = &self.fresh
            && let Ok(mut keys) = fresh.lock()
        {
            keys.insert(key);
        }
        ledger
            .push(Attempt {
                outcome: "answer".into(),
                accepted: Some(verdict.is_ok()),
                input_tokens: call.input_tokens,
                output_tokens: call.output_tokens,
                cost_usd: cost(config, call.input_tokens, call.output_tokens),
                message: verdict.as_ref().err().map(ToString::to_string),
            })
            .await?;
        Ok(Asked::Answer(Answer {
            verdict,
            recorded: false,
        }))
    }

    async fn converse(&self, model_id: &str, request: &ConverseRequest) -> Result<Call> {
        let output = self
            .client
            .converse()
            .model_id(model_id)
            .set_system(Some(
                request
                    .system
                    .iter()
                    .map(sdk_system_block)
                    .collect::<Result<_>>()?,
            ))
            .set_messages(Some(
                request
                    .messages
                    .iter()
                    .map(sdk_message)
                    .collect::<Result<_>>()?,
            ))
            .inference_config(
                InferenceConfiguration::builder()
                    .max_tokens(request.inference_config.max_tokens as i32)
                    .temperature(request.inference_config.temperature)
                    .build(),
            )
            .tool_config(sdk_tool_config(request)?)
            .send()
            .await
            .map_err(|e| classify(e, model_id))?;
        let (input_tokens, output_tokens) = output.usage().map_or((0, 0), |u| {
            (u.input_tokens.max(0) as u64, u.output_tokens.max(0) as u64)
        });
        let answer = match output.output() {
            Some(ConverseOutput::Message(m)) => m.content().iter().find_map(|c| match c {
                ContentBlock::ToolUse(t) if t.name() == prompt::TOOL_NAME => {
                    Some(from_document(t.input()))
                }
                _ => None,
            }),
            _ => None,
        };
        Ok(Call {
            // No tool call is an answer of the wrong shape: the guards refuse it.
            answer: answer.unwrap_or(serde_json::Value::Null),
            input_tokens,
            output_tokens,
        })
    }

    /// What this run has spent so far: the other sections' drafts, and this section's attempts.
    async fn spent(&self, brief: &SectionBrief<'_>, ledger: &Ledger<'_>) -> Result<f64> {
        let prefix = format!(
            "{}/drafts/",
            crate::keys::run_prefix(&brief.client.client_id, brief.run_date)
        );
        let mut total: f64 = ledger.read().await?.iter().map(|a| a.cost_usd).sum();
        for key in self.data.list(&prefix).await? {
            if let Some(bytes) = self.data.get(&key).await?
                && let Ok(draft) = serde_json::from_slice::<SectionDraft>(&bytes)
                && draft.section_id != brief.section.id
            {
                total += draft.cost_usd;
            }
        }
        Ok(total)
    }

    /// The template editor's section, saying why it stands in.
    async fn stand_in(
        &self,
        brief: &SectionBrief<'_>,
        prompt: &SectionPrompt,
        reason: String,
        cached: bool,
    ) -> Result<SectionDraft> {
        let mut draft = template_draft(brief, prompt, cached).await?;
        draft.fallback_reason = Some(reason);
        Ok(draft)
    }

    /// The model's section; the items left out of the prompt keep the template editor's words.
    async fn written(
        &self,
        brief: &SectionBrief<'_>,
        prompt: &SectionPrompt,
        checked: Checked,
        cached: bool,
    ) -> Result<SectionDraft> {
        let mut draft = template_draft(brief, prompt, cached).await?;
        if !prompt.dropped_from_prompt.is_empty() {
            let mut by_model = checked.items.into_iter();
            draft.items = draft
                .items
                .into_iter()
                .map(|template| {
                    if prompt
                        .dropped_from_prompt
                        .iter()
                        .any(|d| d.item_id == template.item_id)
                    {
                        template
                    } else {
                        // The guards return one summary per prompt item, in the section's order.
                        by_model.next().unwrap_or(template)
                    }
                })
                .collect::<Vec<DraftItem>>();
        } else {
            draft.items = checked.items;
        }
        draft.intro = checked.intro;
        draft.editor = "bedrock".into();
        Ok(draft)
    }
}

/// The template editor's draft of the section, with what the prompt was: the base of every
/// draft this editor returns (items the model did not write keep these words).
async fn template_draft(
    brief: &SectionBrief<'_>,
    prompt: &SectionPrompt,
    cached: bool,
) -> Result<SectionDraft> {
    let mut draft = super::TemplateEditor.write_section(brief).await?;
    draft.cached = cached;
    draft.estimated_input_tokens = Some(prompt.estimated_input_tokens);
    draft.dropped_from_prompt = prompt.dropped_from_prompt.clone();
    Ok(draft)
}

fn cost(config: &BedrockConfig, input_tokens: u64, output_tokens: u64) -> f64 {
    let p = &config.price_usd_per_million_tokens;
    (input_tokens as f64 * p.input + output_tokens as f64 * p.output) / 1_000_000.0
}

#[async_trait]
impl Editor for BedrockEditor {
    fn name(&self) -> &'static str {
        "bedrock"
    }

    /// At most one model call per invocation: a first answer, or, after a recorded refusal, the
    /// corrected one. A refusal fresh from the model fails with `LlmOutputRejected` so the
    /// state machine re-invokes; the next invocation finds it recorded and asks the correction.
    async fn write_section(&self, brief: &SectionBrief<'_>) -> Result<SectionDraft> {
        let config = bedrock_config(brief)?;
        let prompt = prompt::section_prompt(brief, config, &self.model_id(config));
        let ledger = Ledger::new(
            self.data.as_ref(),
            &brief.client.client_id,
            brief.run_date,
            &brief.section.id,
        );
        if prompt.section.items.is_empty() {
            let reason = format!(
                "prompt: not one item of the section fits editor.bedrock.max_input_tokens ({}): the smallest prompt is estimated at {} tokens; raise the limit",
                config.max_input_tokens, prompt.estimated_input_tokens
            );
            return self.stand_in(brief, &prompt, reason, false).await;
        }
        let first = match self
            .ask(brief, &prompt, config, &prompt.request, &ledger, true)
            .await?
        {
            Asked::Answer(a) => a,
            Asked::OverBudget(reason) => {
                return self.stand_in(brief, &prompt, reason, false).await;
            }
            Asked::NotRecorded => {
                return Err(Error::Internal(
                    "the first request was neither recorded nor sent".into(),
                ));
            }
        };
        let rejection = match first.verdict {
            Ok(checked) => return self.written(brief, &prompt, checked, first.recorded).await,
            Err(rejection) => rejection,
        };
        let correction = prompt.request.correction(&rejection);
        let second = match self
            .ask(brief, &prompt, config, &correction, &ledger, first.recorded)
            .await?
        {
            Asked::Answer(a) => a,
            Asked::OverBudget(reason) => {
                let reason = format!("answer refused ({rejection}), then {reason}");
                return self.stand_in(brief, &prompt, reason, false).await;
            }
            Asked::NotRecorded => {
                return Err(Error::Aws {
                    kind: ErrorKind::LlmOutputRejected,
                    message: format!(
                        "answer refused, the state machine asks again with the reasons: {rejection}"
                    ),
                });
            }
        };
        let cached = first.recorded && second.recorded;
        match second.verdict {
            Ok(checked) => self.written(brief, &prompt, checked, cached).await,
            Err(rejection) => {
                let reason = format!(
                    "{}: answer refused twice: {rejection}",
                    ErrorKind::LlmOutputRejected.name()
                );
                self.stand_in(brief, &prompt, reason, cached).await
            }
        }
    }
}

fn sdk_system_block(block: &SystemBlock) -> Result<SystemContentBlock> {
    Ok(match block {
        SystemBlock::Text(text) => SystemContentBlock::Text(text.clone()),
        SystemBlock::CachePoint(_) => SystemContentBlock::CachePoint(
            CachePointBlock::builder()
                .r#type(CachePointType::Default)
                .build()
                .map_err(|e| Error::Internal(format!("cache point: {e}")))?,
        ),
    })
}

fn sdk_message(message: &prompt::Message) -> Result<Message> {
    Message::builder()
        .role(match message.role {
            Role::User => ConversationRole::User,
            Role::Assistant => ConversationRole::Assistant,
        })
        .set_content(Some(
            message
                .content
                .iter()
                .map(|t| ContentBlock::Text(t.text.clone()))
                .collect(),
        ))
        .build()
        .map_err(|e| Error::Internal(format!("message: {e}")))
}

fn sdk_tool_config(request: &ConverseRequest) -> Result<ToolConfiguration> {
    let mut tools = ToolConfiguration::builder();
    for tool in &request.tool_config.tools {
        let spec = &tool.tool_spec;
        tools = tools.tools(Tool::ToolSpec(
            ToolSpecification::builder()
                .name(spec.name)
                .description(spec.description)
                .input_schema(ToolInputSchema::Json(to_document(&spec.input_schema.json)))
                .build()
                .map_err(|e| Error::Internal(format!("tool spec: {e}")))?,
        ));
    }
    let choice = SpecificToolChoice::builder()
        .name(request.tool_config.tool_choice.tool.name)
        .build()
        .map_err(|e| Error::Internal(format!("tool choice: {e}")))?;
    tools
        .tool_choice(ToolChoice::Tool(choice))
        .build()
        .map_err(|e| Error::Internal(format!("tool config: {e}")))
}

/// Maps a Converse failure to an outcome of its own, each with the state machine's error name
/// and what to do:
/// - throttling → `Throttled`: retried by the state machine with backoff and jitter;
/// - an exhausted quota → `QuotaExceeded`: not retried (waiting minutes will not refill it);
/// - model access not granted, unknown model, bad request → `InvalidInput`: not retried;
/// - a transient failure of the service or the model (5xx, not ready, timed out, no answer) →
///   `ModelUnavailable`: retried like throttling;
/// - anything else → `Internal`.
///
/// Every outcome but a success ends, once retries are spent, with the template editor writing
/// the section and the report saying why.
fn classify(err: SdkError<ConverseError>, model_id: &str) -> Error {
    // Codes, HTTP status and transport failures are read as for every AWS call; the Converse
    // errors refine the kind.
    let failure = crate::aws::Failure::of(&err);
    let code = failure.code.as_deref().unwrap_or("");
    let service = err.as_service_error();
    let (kind, advice) = if service.is_some_and(|e| e.is_throttling_exception()) {
        (
            ErrorKind::Throttled,
            "retried by the state machine; if it persists, ask for a higher requests- or tokens-per-minute quota for the model, or lower VECTORA_SECTIONS_CONCURRENCY".to_string(),
        )
    } else if code == "ServiceQuotaExceededException" {
        (
            ErrorKind::QuotaExceeded,
            format!(
                "not retried: the account's quota for {model_id} is used up; raise it in Service Quotas (Amazon Bedrock), or lower editor.bedrock.max_tokens or the number of sections"
            ),
        )
    } else if service.is_some_and(|e| e.is_access_denied_exception()) {
        (
            ErrorKind::InvalidInput,
            format!(
                "not retried: enable access to the model behind {model_id} in the Bedrock console (Model access) in this region, and allow bedrock:InvokeModel on the inference profile and its foundation models"
            ),
        )
    } else if service.is_some_and(|e| e.is_resource_not_found_exception()) {
        (
            ErrorKind::InvalidInput,
            format!(
                "not retried: {model_id} does not exist in this region; check editor.bedrock.model_id (or VECTORA_BEDROCK_MODEL_ID) and the region"
            ),
        )
    } else if service.is_some_and(|e| e.is_validation_exception()) {
        (
            ErrorKind::InvalidInput,
            "not retried: Bedrock refused the request as invalid; check editor.bedrock.model_id, max_tokens and temperature, and `vectora editorial preview`'s request".to_string(),
        )
    } else if service.is_some_and(|e| {
        e.is_internal_server_exception()
            || e.is_service_unavailable_exception()
            || e.is_model_not_ready_exception()
            || e.is_model_timeout_exception()
            || e.is_model_error_exception()
    }) || matches!(failure.status, Some(500..=599))
        || matches!(
            err,
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_)
        )
    {
        (
            ErrorKind::ModelUnavailable,
            "transient: retried by the state machine with backoff".to_string(),
        )
    } else {
        (failure.kind, String::new())
    };
    let advice = if advice.is_empty() {
        String::new()
    } else {
        format!(" ({advice})")
    };
    Error::Aws {
        kind,
        message: format!(
            "Bedrock Converse {}: {}{advice}",
            failure.label(),
            failure.message
        ),
    }
}

fn to_document(v: &serde_json::Value) -> Document {
    match v {
        serde_json::Value::Null => Document::Null,
        serde_json::Value::Bool(b) => Document::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Document::Number(Number::PosInt(u)),
            (_, Some(i), _) => Document::Number(Number::NegInt(i)),
            (_, _, f) => Document::Number(Number::Float(f.unwrap_or(0.0))),
        },
        serde_json::Value::String(s) => Document::String(s.clone()),
        serde_json::Value::Array(a) => Document::Array(a.iter().map(to_document).collect()),
        serde_json::Value::Object(o) => {
            Document::Object(o.iter().map(|(k, v)| (k.clone(), to_document(v))).collect())
        }
    }
}

fn from_document(d: &Document) -> serde_json::Value {
    match d {
        Document::Null => serde_json::Value::Null,
        Document::Bool(b) => (*b).into(),
        Document::Number(Number::PosInt(u)) => (*u).into(),
        Document::Number(Number::NegInt(i)) => (*i).into(),
        Document::Number(Number::Float(f)) => {
            serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
        }
        Document::String(s) => s.clone().into(),
        Document::Array(a) => a.iter().map(from_document).collect(),
        Document::Object(o) => o
            .iter()
            .map(|(k, v)| (k.clone(), from_document(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip_json() {
        let v = serde_json::json!({"a": [1, -2, 2.5, "x", null, true], "b": {"c": "d"}});
        assert_eq!(from_document(&to_document(&v)), v);
    }
}

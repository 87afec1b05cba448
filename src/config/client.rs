//! A client's newsletter configuration: `clients/{client_id}.yaml`.

use serde::{Deserialize, Serialize};

/// One client: what it follows, how its newsletter is laid out, when it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// Must equal the file name (`clients/{client_id}.yaml`).
    pub client_id: String,
    /// The newsletter's title.
    pub name: String,
    /// ISO 639-1 language of the newsletter (`en`, `fr`).
    pub language: String,
    /// Days covered by a run when the event does not say (1–92).
    pub period_days: u32,
    /// Source ids from `sources/catalog.yaml`, fetched in this order.
    pub sources: Vec<String>,
    pub watch_lists: WatchListRefs,
    /// Scoring rules id: `scoring/{id}.yaml`.
    pub scoring: String,
    /// Sections in priority order: an item goes to the first whose event types include its own.
    pub sections: Vec<SectionConfig>,
    pub caps: Caps,
    /// The analyst's rules: items that no cap may cut.
    pub always_keep: AlwaysKeep,
    pub editor: EditorConfig,
    pub schedule: ScheduleConfig,
    /// Keep items whose source gives no date (they skip the window filter and get no recency
    /// bonus); the report counts them either way.
    #[serde(default)]
    pub keep_undated: bool,
    /// Whether an issue with nothing selected is still written (saying so plainly) — the
    /// default — or only the report is.
    #[serde(default = "yes")]
    pub send_empty: bool,
    /// Required when the client follows a `pubmed` source.
    #[serde(default)]
    pub pubmed: Option<PubmedQuery>,
    /// Who receives the newsletter by e-mail; without it the newsletter is only written.
    #[serde(default)]
    pub delivery: Option<DeliveryConfig>,
    /// Fetch replays each source's recorded `capture` from the configuration store instead of
    /// the network, wherever the run happens (the smoke-test canary: a deployment proves itself
    /// without depending on a third party's feed).
    #[serde(default)]
    pub replay_captures: bool,
}

/// The e-mail that carries the newsletter (`deliver` step, `vectora deliver`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfig {
    /// `false` keeps the block but sends nothing (a paused client).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The sender: a mailbox (`Name <address>` or `address`) whose address or domain is a
    /// verified SES identity.
    pub from: String,
    /// Mailboxes in `To`; at least one.
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    /// Sent to, never named in the message headers.
    #[serde(default)]
    pub bcc: Vec<String>,
    #[serde(default)]
    pub reply_to: Option<String>,
    /// The subject; `{name}` is the newsletter's name, `{period}` the period it covers,
    /// `{date}` the run date.
    #[serde(default = "default_subject")]
    pub subject: String,
    /// A `mailto:` address readers write to to unsubscribe (`List-Unsubscribe` header).
    #[serde(default)]
    pub list_unsubscribe: Option<String>,
}

fn default_subject() -> String {
    "{name} \u{2014} {period}".into()
}

fn yes() -> bool {
    true
}

/// What to search PubMed for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PubmedQuery {
    /// An E-utilities search term, e.g. `("delayed-action preparations"[MeSH] OR "long-acting injectable"[tiab])`.
    pub term: String,
}

/// Scope ids of the watch lists: each names `scopes/{id}.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchListRefs {
    pub companies: String,
    pub molecules: String,
    pub trademarks: String,
    pub technologies: String,
    pub exclusions: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionConfig {
    pub id: String,
    pub title: String,
    /// Event type ids from the scoring rules, `other`, or `"*"` (catch-all, last section only).
    pub event_types: Vec<String>,
    pub max_items: usize,
    pub sort_by: SortBy,
}

impl SectionConfig {
    pub fn accepts(&self, event_type: &str) -> bool {
        self.event_types.iter().any(|t| t == "*" || t == event_type)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    ScoreDesc,
    DateDesc,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Caps {
    /// Items in the whole newsletter.
    pub max_items_total: usize,
    /// Largest share of a section's slots one source may take while other sources have
    /// candidates (0 < share ≤ 1).
    pub max_source_share: f64,
}

/// Relevant items that are kept whatever the caps say (a section grows to hold them), unless
/// negative evidence (an exclusion penalty) was found in them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlwaysKeep {
    /// Event types that are always kept when a core-tier company is named (or implied).
    pub core_company_events: Vec<String>,
    /// Event types that are always kept when a watch-list trademark is named.
    pub trademark_events: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditorConfig {
    /// Longest item summary the template editor writes, in characters.
    pub summary_max_chars: usize,
    /// Items listed in the TL;DR.
    pub tldr_max_items: usize,
    /// The Bedrock editor (`vectora run --editor bedrock`, and the Lambdas on AWS).
    #[serde(default)]
    pub bedrock: Option<BedrockConfig>,
    /// Every section is written by the template editor, whatever the deployment or `--editor`
    /// choose (the canary: no model call, no cost, no model access needed).
    #[serde(default)]
    pub template_only: bool,
}

/// How the Bedrock editor writes for this client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BedrockConfig {
    /// Model or inference-profile id; `VECTORA_BEDROCK_MODEL_ID` overrides it.
    pub model_id: String,
    /// Region of the Bedrock endpoint when the environment (`AWS_REGION`) names none.
    pub region: String,
    /// Upper bound of each answer, always sent.
    pub max_tokens: u32,
    /// 0–1; low keeps the writing factual.
    pub temperature: f32,
    /// How the newsletter reads (system prompt).
    pub tone: String,
    /// Who reads it (system prompt).
    pub audience: String,
    /// Put a cache point after the static system prompt (models that support prompt caching).
    pub prompt_caching: bool,
    pub price_usd_per_million_tokens: TokenPrices,
    /// Once a run has spent this much, remaining sections are written by the template editor.
    /// A call that could take the run past it is not made.
    pub budget_usd_per_run: f64,
    /// Largest prompt sent, in estimated input tokens: a larger section leaves its
    /// lowest-scored items out of the prompt (they keep the template editor's words).
    #[serde(default = "default_max_input_tokens")]
    pub max_input_tokens: u32,
    /// How long each item's summary is, in the system prompt's words ("3 to 6 lines").
    #[serde(default = "default_summary_length")]
    pub summary_length: String,
}

fn default_max_input_tokens() -> u32 {
    12_000
}

fn default_summary_length() -> String {
    "3 to 6 lines".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenPrices {
    pub input: f64,
    pub output: f64,
}

/// When the client's newsletter runs on AWS (EventBridge Scheduler).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// EventBridge cron expression: `cron(minutes hours day-of-month month day-of-week year)`.
    pub cron: String,
    /// IANA time zone the cron expression is read in (`Europe/Paris`, `UTC`).
    pub timezone: String,
    /// `false` keeps the schedule but disabled (a paused client); the environment's setting
    /// (schedules disabled outside prod) wins over `true`.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Lets EventBridge start the run up to this many minutes after the cron time (1–1440), so
    /// that clients sharing a cron time do not all start at once. Absent: exactly on time.
    #[serde(default)]
    pub flexible_window_minutes: Option<u32>,
}

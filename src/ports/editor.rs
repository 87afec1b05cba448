//! The editor port: who writes a section's words (the template editor, or an LLM).

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::config::ClientConfig;
use crate::error::Result;
use crate::matching::Matcher;
use crate::model::{SectionDraft, SelectedSection};

/// Everything an editor may know about the section it writes.
pub struct SectionBrief<'a> {
    pub client: &'a ClientConfig,
    pub run_date: NaiveDate,
    pub section: &'a SelectedSection,
    /// The client's watch lists, compiled: what the guards check an editor's names against.
    pub matcher: &'a Matcher,
}

#[async_trait]
pub trait Editor: Send + Sync {
    /// Stable name recorded in drafts and reports ("template", "bedrock").
    fn name(&self) -> &'static str;
    /// Writes the section's intro and one summary per item, citing items by id only: links and
    /// titles are taken from the items by the renderer, never from the editor.
    async fn write_section(&self, brief: &SectionBrief<'_>) -> Result<SectionDraft>;
}

//! Editors: who writes each section's words. The template editor needs no network and is the
//! fallback whenever another editor fails; the Bedrock editor writes with Claude, behind guards.

mod attempts;
pub mod bedrock;
pub mod guards;
pub mod prompt;
mod template;

pub use attempts::Ledger;
pub use bedrock::BedrockEditor;
pub use template::TemplateEditor;

//! Editors: who writes each section's words. The template editor needs no network and is the
//! fallback whenever another editor fails; the Bedrock editor writes with Claude, behind guards.

pub mod bedrock;
pub mod guards;
mod template;

pub use bedrock::BedrockEditor;
pub use template::TemplateEditor;

//! Editors: who writes each section's words. The template editor needs no network and is the
//! fallback whenever another editor fails.

mod template;

pub use template::TemplateEditor;

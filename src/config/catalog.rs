//! The source catalogue: `sources/catalog.yaml`, every source any client may follow.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub sources: Vec<SourceDef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceDef {
    /// `[a-z0-9_]+`: used in object keys.
    pub id: String,
    pub name: String,
    pub kind: SourceKind,
    pub url: String,
    /// 1: a company's or regulator's own channel; 2: trade press; 3: aggregator.
    pub tier: u8,
    /// Recorded capture relative to `sources/`, served instead of `url` by offline runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// RSS 0.9x/1.0/2.0, Atom or JSON Feed.
    Feed,
}

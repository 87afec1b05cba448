//! Normalization: raw source bytes → [`Item`]s, whatever the source's format.

pub mod decode;
pub mod feed;
pub mod html_page;
pub mod pubmed;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::model::Item;

/// What a parser made of one document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Parsed {
    pub items: Vec<Item>,
    /// Entries skipped or repaired, one line each (entry index and why).
    pub warnings: Vec<String>,
}

/// The format of a captured document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Decide from the content: any feed format.
    Auto,
    Rss,
    Atom,
    Json,
}

/// Everything a parser needs to know about where the bytes came from.
#[derive(Debug, Clone)]
pub struct Origin<'a> {
    pub source_id: &'a str,
    /// The URL the document was fetched from: relative links resolve against it.
    pub url: Option<&'a str>,
    /// HTTP `Content-Type`, whose charset overrides the document's own declaration.
    pub content_type: Option<&'a str>,
}

/// Parses a captured document into items.
pub fn parse(bytes: &[u8], format: Format, origin: &Origin<'_>) -> Result<Parsed> {
    match format {
        Format::Auto | Format::Rss | Format::Atom | Format::Json => {
            feed::parse(bytes, format, origin)
        }
    }
}

//! Normalization: raw source bytes → [`Item`]s, whatever the source's format.

pub mod decode;
pub mod feed;
pub mod html_page;
pub mod pubmed;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::model::Item;
use crate::text::{has_unsafe_char, is_unsafe_char, truncate_words};

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

/// Parses a captured document into items, every one [bounded](bound).
pub fn parse(bytes: &[u8], format: Format, origin: &Origin<'_>) -> Result<Parsed> {
    let mut parsed = match format {
        Format::Auto | Format::Rss | Format::Atom | Format::Json => {
            feed::parse(bytes, format, origin)?
        }
    };
    parsed.items.iter_mut().for_each(bound);
    Ok(parsed)
}

/// Longest title kept, in characters (the ellipsis included).
pub const MAX_TITLE_CHARS: usize = 300;
/// Longest summary kept, in characters.
pub const MAX_SUMMARY_CHARS: usize = 2_000;
/// Longest text kept, in characters.
pub const MAX_TEXT_CHARS: usize = 50_000;
/// Authors kept per item.
pub const MAX_AUTHORS: usize = 20;
/// Longest author name kept, in characters.
pub const MAX_AUTHOR_CHARS: usize = 200;
/// Longest venue kept, in characters.
pub const MAX_VENUE_CHARS: usize = 300;

/// Makes an item safe to carry through the pipeline whatever its source sent: unsafe characters
/// ([`is_unsafe_char`]: controls, zero-width characters, bidirectional overrides) removed from
/// every text field (a control that is whitespace, like `\r`, becomes a space), then each field
/// cut to its bound ([`MAX_TITLE_CHARS`], ...) at a character boundary with an ellipsis. At most
/// [`MAX_AUTHORS`] non-empty authors are kept; an empty venue becomes none. Idempotent.
///
/// Every parser's items go through it: [`parse`] calls it, and so must whoever turns
/// HTML-page or PubMed documents into items.
pub fn bound(item: &mut Item) {
    bound_str(&mut item.title, MAX_TITLE_CHARS);
    bound_str(&mut item.summary, MAX_SUMMARY_CHARS);
    bound_str(&mut item.text, MAX_TEXT_CHARS);
    for author in &mut item.authors {
        bound_str(author, MAX_AUTHOR_CHARS);
    }
    item.authors.retain(|a| !a.is_empty());
    item.authors.truncate(MAX_AUTHORS);
    if let Some(venue) = &mut item.venue {
        bound_str(venue, MAX_VENUE_CHARS);
    }
    if item.venue.as_deref().is_some_and(str::is_empty) {
        item.venue = None;
    }
}

/// One text field made safe: unsafe characters removed (whitespace controls become spaces),
/// then cut to `max_chars` characters at a character (preferably word) boundary with an
/// ellipsis. Idempotent.
pub fn bound_str(s: &mut String, max_chars: usize) {
    if has_unsafe_char(s) {
        let safe: String = s
            .chars()
            .filter_map(|c| match c {
                c if !is_unsafe_char(c) => Some(c),
                c if c.is_whitespace() => Some(' '),
                _ => None,
            })
            .collect();
        *s = safe.trim().to_string();
    }
    // Fast path: a string of at most `max_chars` bytes has at most that many characters.
    if s.len() > max_chars && s.chars().nth(max_chars).is_some() {
        *s = truncate_words(s, max_chars);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> Item {
        Item {
            id: "id".into(),
            title: "Title".into(),
            url: "https://example.com/a".into(),
            published: None,
            date_source: crate::model::DateSource::None,
            summary: "Summary.".into(),
            text: "Text.".into(),
            authors: vec!["A. Author".into()],
            venue: Some("Journal".into()),
            source: "s".into(),
            also_in: Vec::new(),
            title_source: Default::default(),
            url_source: Default::default(),
        }
    }

    #[test]
    fn bound_leaves_ordinary_items_alone() {
        let mut it = item();
        bound(&mut it);
        assert_eq!(it, item());
    }

    #[test]
    fn bound_caps_every_field_at_a_char_boundary_with_an_ellipsis() {
        let mut it = item();
        // Multi-byte characters everywhere, so a byte cut would panic or split one.
        it.title = "é".repeat(100_000);
        it.summary = "word ".repeat(1_000);
        it.text = "ü".repeat(60_000);
        it.authors = (0..30)
            .map(|i| format!("{i} {}", "ñ".repeat(500)))
            .collect();
        it.venue = Some("ß".repeat(1_000));
        bound(&mut it);
        assert_eq!(it.title.chars().count(), MAX_TITLE_CHARS);
        assert!(it.title.ends_with('…'));
        assert!(it.summary.chars().count() <= MAX_SUMMARY_CHARS);
        assert!(
            it.summary.ends_with("word…"),
            "cut at a word: {}",
            it.summary
        );
        assert_eq!(it.text.chars().count(), MAX_TEXT_CHARS);
        assert_eq!(it.authors.len(), MAX_AUTHORS);
        assert!(
            it.authors
                .iter()
                .all(|a| a.chars().count() <= MAX_AUTHOR_CHARS)
        );
        assert_eq!(it.authors[0].chars().next(), Some('0'));
        assert_eq!(it.venue.as_ref().unwrap().chars().count(), MAX_VENUE_CHARS);
        let again = it.clone();
        bound(&mut it);
        assert_eq!(it, again, "idempotent");
    }

    #[test]
    fn bound_removes_controls_zero_width_and_bidi_characters_from_every_field() {
        let hostile =
            "Uz\u{200B}edy\u{202E}gnp.exe\u{202C} \u{2066}x\u{2069}\u{FEFF}\u{0007}\r\nok\u{200F}";
        let mut it = item();
        it.title = hostile.into();
        it.summary = hostile.into();
        it.text = hostile.into();
        it.authors = vec![hostile.into(), "\u{200B}\u{200D}".into()];
        it.venue = Some("\u{202E}".into());
        bound(&mut it);
        let expected = "Uzedygnp.exe x \nok";
        assert_eq!(it.title, expected);
        assert_eq!(it.summary, expected);
        assert_eq!(it.text, expected);
        assert_eq!(
            it.authors,
            [expected],
            "an author made only of unsafe characters goes"
        );
        assert_eq!(it.venue, None);
    }

    #[test]
    fn parse_bounds_feed_items() {
        let title = format!("<![CDATA[Uzedy\u{202E} {}]]>", "x".repeat(100_000));
        let xml = format!(
            r#"<rss version="2.0"><channel><title>T</title><item><title>{title}</title><link>https://example.com/a</link><description>a{zw}b</description></item></channel></rss>"#,
            zw = '\u{200B}'
        );
        let origin = Origin {
            source_id: "s",
            url: None,
            content_type: None,
        };
        let parsed = parse(xml.as_bytes(), Format::Auto, &origin).unwrap();
        let it = &parsed.items[0];
        assert!(it.title.starts_with("Uzedy x"), "{}", &it.title[..20]);
        assert_eq!(it.title.chars().count(), MAX_TITLE_CHARS);
        assert_eq!(it.summary, "a b");
    }
}

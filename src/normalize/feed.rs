//! RSS 0.9x/1.0/2.0, Atom and JSON Feed through `feed-rs`, mapped to [`Item`]s.

use feed_rs::model::{Entry, Link};
use url::Url;

use super::{Format, Origin, Parsed};
use crate::error::{Error, Result};
use crate::model::{DateSource, Item};
use crate::text::{clean_line, html_to_text};
use crate::urls::{canonical, item_id};

/// Parses a feed document. Fails (`SourceUnavailable`) only when nothing can be read; entries
/// without a usable link or title are skipped with a warning.
pub fn parse(bytes: &[u8], format: Format, origin: &Origin<'_>) -> Result<Parsed> {
    let trimmed = trim_leading_whitespace(bytes);
    if trimmed.is_empty() {
        return Err(Error::source(
            origin.source_id,
            "the document is empty: expected a feed",
        ));
    }
    let looks_json = trimmed.first() == Some(&b'{');
    match format {
        Format::Json if !looks_json => {
            return Err(Error::source(
                origin.source_id,
                "expected a JSON Feed, found something else",
            ));
        }
        Format::Rss | Format::Atom if looks_json => {
            return Err(Error::source(
                origin.source_id,
                "expected an XML feed, found JSON",
            ));
        }
        _ => {}
    }
    if looks_html(trimmed) {
        return Err(Error::source(
            origin.source_id,
            "the document is an HTML page, not a feed: check the source URL",
        ));
    }
    let parser = feed_rs::parser::Builder::new().base_uri(origin.url).build();
    let feed = parser
        .parse(trimmed)
        .map_err(|e| Error::source(origin.source_id, format!("not a readable feed ({e})")))?;
    let base = origin.url.and_then(|u| Url::parse(u).ok());
    let mut parsed = Parsed::default();
    for (index, entry) in feed.entries.iter().enumerate() {
        match entry_to_item(entry, base.as_ref(), origin.source_id) {
            Ok(item) => parsed.items.push(item),
            Err(why) => parsed.warnings.push(format!("entry {index}: {why}")),
        }
    }
    Ok(parsed)
}

fn trim_leading_whitespace(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

fn looks_html(bytes: &[u8]) -> bool {
    let head: Vec<u8> = bytes.iter().take(512).map(u8::to_ascii_lowercase).collect();
    let head = String::from_utf8_lossy(&head);
    head.starts_with("<!doctype html")
        || head.starts_with("<html")
        || head.contains("<html")
            && !head.contains("<rss")
            && !head.contains("<feed")
            && !head.contains("<rdf")
}

fn entry_to_item(entry: &Entry, base: Option<&Url>, source_id: &str) -> Result<Item, String> {
    let raw_link = pick_link(&entry.links)
        .or_else(|| entry.id.starts_with("http").then_some(entry.id.as_str()))
        .ok_or("no link: skipped")?;
    let url =
        canonical(raw_link, base).ok_or_else(|| format!("unusable link {raw_link:?}: skipped"))?;
    let title = entry
        .title
        .as_ref()
        .map(|t| html_to_text(&t.content))
        .filter(|t| !t.is_empty())
        .ok_or("no title: skipped")?;
    let summary = entry
        .summary
        .as_ref()
        .map(|s| html_to_text(&s.content))
        .unwrap_or_default();
    let content = entry
        .content
        .as_ref()
        .and_then(|c| c.body.as_deref())
        .map(html_to_text)
        .unwrap_or_default();
    let text = if content.len() > summary.len() {
        content
    } else {
        summary.clone()
    };
    let summary = if summary.is_empty() {
        text.clone()
    } else {
        summary
    };
    let published = entry.published.or(entry.updated);
    let authors = entry
        .authors
        .iter()
        .filter_map(|p| p.name.as_deref().map(clean_line))
        .filter(|n| !n.is_empty())
        .collect();
    let url = url.to_string();
    Ok(Item {
        id: item_id(&url),
        title,
        url,
        published,
        date_source: if published.is_some() {
            DateSource::Feed
        } else {
            DateSource::None
        },
        summary,
        text,
        authors,
        venue: None,
        source: source_id.to_string(),
        also_in: Vec::new(),
    })
}

/// The entry's own page: an `alternate` link, else one without `rel`, else the first.
fn pick_link(links: &[Link]) -> Option<&str> {
    links
        .iter()
        .find(|l| l.rel.as_deref() == Some("alternate"))
        .or_else(|| links.iter().find(|l| l.rel.is_none()))
        .or_else(|| links.first())
        .map(|l| l.href.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(url: &str) -> Origin<'_> {
        Origin {
            source_id: "t",
            url: Some(url),
            content_type: None,
        }
    }

    #[test]
    fn rss_item_becomes_an_item_with_feed_date_and_clean_text() {
        let xml = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>Teva&#8217;s &lt;b&gt;Uzedy&lt;/b&gt; label expanded</title>
<link>https://example.com/news/uzedy?utm_source=rss#x</link>
<description><![CDATA[<p>The FDA approved&nbsp;a label expansion.</p><p>Second para.</p>]]></description>
<pubDate>Tue, 17 Nov 2026 09:30:00 -0500</pubDate><author>a@b.c (Jane Doe)</author></item>
<item><title>No link here</title></item>
</channel></rss>"#;
        let parsed = parse(xml, Format::Auto, &origin("https://example.com/feed")).unwrap();
        assert_eq!(parsed.items.len(), 1);
        assert_eq!(
            parsed.warnings,
            vec!["entry 1: no link: skipped".to_string()]
        );
        let item = &parsed.items[0];
        assert_eq!(item.title, "Teva’s Uzedy label expanded");
        assert_eq!(item.url, "https://example.com/news/uzedy");
        assert_eq!(
            item.published.unwrap().to_rfc3339(),
            "2026-11-17T14:30:00+00:00"
        );
        assert_eq!(item.date_source, DateSource::Feed);
        assert_eq!(
            item.summary,
            "The FDA approved a label expansion. Second para."
        );
        assert_eq!(item.id, item_id("https://example.com/news/uzedy"));
    }

    #[test]
    fn atom_relative_links_resolve_against_the_document_url() {
        let xml = br#"<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title><id>x</id><updated>2026-11-18T10:00:00Z</updated>
<entry><title type="html">A &amp;amp; B</title><id>urn:1</id><link href="/news/a" rel="alternate"/><updated>2026-11-18T10:00:00Z</updated><summary>S</summary></entry></feed>"#;
        let parsed = parse(
            xml,
            Format::Atom,
            &origin("https://www.camurus.com/feed.xml"),
        )
        .unwrap();
        assert_eq!(parsed.items[0].url, "https://www.camurus.com/news/a");
        assert_eq!(parsed.items[0].title, "A & B");
    }

    #[test]
    fn not_a_feed_fails_with_a_clear_message() {
        let err = parse(
            b"<!DOCTYPE html><html><body>Oops</body></html>",
            Format::Auto,
            &origin("https://x"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("HTML page, not a feed"), "{err}");
        let err = parse(b"   ", Format::Auto, &origin("https://x")).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
        let err = parse(b"this is not xml", Format::Auto, &origin("https://x")).unwrap_err();
        assert!(
            err.to_string().starts_with("source t: not a readable feed"),
            "{err}"
        );
    }

    #[test]
    fn empty_feed_parses_to_no_items() {
        let xml = br#"<rss version="2.0"><channel><title>T</title></channel></rss>"#;
        let parsed = parse(xml, Format::Auto, &origin("https://x")).unwrap();
        assert!(parsed.items.is_empty());
    }
}

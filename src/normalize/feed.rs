//! RSS 0.9x/1.0/2.0, Atom and JSON Feed through `feed-rs`, mapped to [`Item`]s.
//!
//! Real feeds are often broken, so the document is repaired before `feed-rs` reads it:
//! - the charset (HTTP header, BOM, XML declaration) is decoded to UTF-8 ([`super::decode`]);
//! - HTML named entities (`&hellip;`) become character references, unknown ones and bare `&`
//!   stay text, invalid character references are dropped (`&#150;` is read as windows-1252),
//!   a `<` that opens no tag is escaped, unquoted attribute values are quoted;
//! - raw HTML inside a text element (`<title>a<br>b</title>`, an unescaped `<description>`)
//!   becomes text, as if escaped; an HTML void element elsewhere (`<img …>`) is closed;
//! - `<rss>` without a version gets `version="2.0"`;
//! - a truncated or malformed document gives the complete items before the fault, with a
//!   warning.
//!
//! Titles, summaries and texts are plain text: markup removed (escaped or in CDATA, both are
//! HTML), entities decoded, and decoded once more when the result is still escaped
//! (`J&amp;amp;amp;J`).

use std::ops::Range;

use chrono::{DateTime, Utc};
use feed_rs::model::{Entry, Feed, FeedType, Link};
use quick_xml::events::Event;
use url::Url;

use super::decode::{html_entity, to_utf8};
use super::{Format, Origin, Parsed};
use crate::error::{Error, Result};
use crate::model::{DateSource, Item, TitleSource, UrlSource};
use crate::text::html_to_text;
use crate::urls::{canonical, item_id};

/// Parses a feed document. Fails (`SourceUnavailable`) only when nothing can be read. Every entry
/// becomes an item: one without a title gets one from its summary (`title_source: derived`), one
/// without an address keeps an empty URL (`url_source: none`) for `match` to exclude with the
/// reason.
pub fn parse(bytes: &[u8], format: Format, origin: &Origin<'_>) -> Result<Parsed> {
    let fail = |message: String| Error::source(origin.source_id, message);
    let (text, charset_note) = to_utf8(bytes, origin.content_type);
    let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    if trimmed.is_empty() {
        return Err(fail("the document is empty: expected a feed".into()));
    }
    let looks_json = trimmed.starts_with('{');
    match format {
        Format::Json if !looks_json && !looks_html(trimmed) => {
            return Err(fail(format!(
                "expected a JSON Feed, found {}",
                if trimmed.starts_with('<') {
                    "an XML document"
                } else {
                    "something else"
                }
            )));
        }
        Format::Rss | Format::Atom if looks_json => {
            return Err(fail(format!("{}, found JSON", expected(format))));
        }
        _ => {}
    }
    if !looks_json && looks_html(trimmed) {
        return Err(fail(
            "the document is an HTML page, not a feed: check the source URL".into(),
        ));
    }
    let mut parsed = Parsed::default();
    if let Some(note) = charset_note {
        parsed.warnings.push(format!("charset: {note}"));
    }
    // feed-rs refuses the whole document when the base URI is not a URL.
    let base_uri = origin.url.filter(|u| Url::parse(u).is_ok());
    let (feed_type, entries) = if looks_json {
        let json = without_risky_json_authors(trimmed);
        let feed = read_feed(json.as_deref().unwrap_or(trimmed).as_bytes(), base_uri)
            .map_err(|e| fail(format!("not a readable feed ({e})")))?;
        let entries = feed
            .entries
            .into_iter()
            .map(|e| RawEntry::from_feed_rs(e, &feed.feed_type));
        (feed.feed_type.clone(), entries.collect())
    } else {
        let xml = repair_xml(trimmed);
        let strict = match read_feed(xml.as_bytes(), base_uri) {
            Ok(feed) => Ok(feed),
            Err(e) => match recover(&xml, base_uri) {
                Ok((feed, count)) => {
                    let plural = if count == 1 { "" } else { "s" };
                    parsed.warnings.push(format!(
                        "document truncated or malformed after {count} item{plural}: {e}"
                    ));
                    Ok(feed)
                }
                Err(hint) => Err(format!("not a readable feed ({e}){hint}")),
            },
        };
        // What a reader would see when feed-rs refuses the document or finds nothing in it
        // (an unknown RSS version, prefixed elements, an Atom 0.3 text construct), and the
        // fields it does not read (`rdf:about`, a permalink `guid`) when entries lack them.
        let needs_salvage = match &strict {
            Ok(feed) => feed.entries.is_empty() || feed.entries.iter().any(incomplete),
            Err(_) => true,
        };
        let salvaged = needs_salvage.then(|| salvage(&xml, base_uri)).flatten();
        match (strict, salvaged) {
            (Ok(feed), salvaged) => {
                let mut entries: Vec<RawEntry> = feed
                    .entries
                    .into_iter()
                    .map(|e| RawEntry::from_feed_rs(e, &feed.feed_type))
                    .collect();
                match salvaged {
                    Some((_, found)) if entries.is_empty() && !found.is_empty() => {
                        parsed.warnings.push(format!(
                            "read by the recovery pass: the strict parser found no entries, {} found",
                            found.len()
                        ));
                        entries = found;
                    }
                    Some((_, found)) if found.len() == entries.len() => {
                        for (entry, more) in entries.iter_mut().zip(found) {
                            entry.complete_with(more);
                        }
                    }
                    _ => {}
                }
                (feed.feed_type, entries)
            }
            (Err(_), Some((feed_type, found))) if !found.is_empty() => {
                parsed.warnings.push(format!(
                    "read by the recovery pass: the strict parser refused the document, {} entries found",
                    found.len()
                ));
                (feed_type, found)
            }
            (Err(message), _) => return Err(fail(message)),
        }
    };
    if !format_matches(format, &feed_type) {
        return Err(fail(format!(
            "{}, found {}",
            expected(format),
            feed_type_name(&feed_type)
        )));
    }
    let base = base_uri.and_then(|u| Url::parse(u).ok());
    for (index, item) in to_items(entries, base.as_ref(), origin.source_id)
        .into_iter()
        .enumerate()
    {
        if item.url_source == UrlSource::None {
            parsed.warnings.push(format!(
                "entry {index}: no link to cite: kept, match will exclude it"
            ));
        }
        parsed.items.push(item);
    }
    Ok(parsed)
}

/// feed-rs, which must not take the process down whatever the document.
fn read_feed(bytes: &[u8], base_uri: Option<&str>) -> std::result::Result<Feed, String> {
    std::panic::catch_unwind(|| {
        feed_rs::parser::Builder::new()
            .base_uri(base_uri)
            .build()
            .parse(bytes)
    })
    .map_err(|_| "the feed parser crashed on this document".to_string())?
    .map_err(|e| e.to_string())
}

fn expected(format: Format) -> &'static str {
    match format {
        Format::Auto => "expected a feed",
        Format::Rss => "expected an RSS feed",
        Format::Atom => "expected an Atom feed",
        Format::Json => "expected a JSON Feed",
    }
}

fn format_matches(format: Format, found: &FeedType) -> bool {
    match format {
        Format::Auto => true,
        Format::Rss => matches!(found, FeedType::RSS0 | FeedType::RSS1 | FeedType::RSS2),
        Format::Atom => *found == FeedType::Atom,
        Format::Json => *found == FeedType::JSON,
    }
}

fn feed_type_name(found: &FeedType) -> &'static str {
    match found {
        FeedType::Atom => "Atom",
        FeedType::JSON => "JSON Feed",
        FeedType::RSS0 => "RSS 0.9x",
        FeedType::RSS1 => "RSS 1.0",
        FeedType::RSS2 => "RSS 2.0",
    }
}

fn looks_html(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html")
        || head.starts_with("<html")
        || head.contains("<html")
            && !head.contains("<rss")
            && !head.contains("<feed")
            && !head.contains("<rdf")
}

// ---------------------------------------------------------------------------------------------
// Repairs before parsing

/// The document with the lexical faults real feeds have repaired (see the module doc). Comments,
/// CDATA sections, processing instructions and the DOCTYPE are copied as they are.
fn repair_xml(xml: &str) -> String {
    let b = xml.as_bytes();
    let mut out = String::with_capacity(xml.len() + 64);
    let mut copied = 0;
    let mut i = 0;
    let mut root_seen = false;
    // Inside an element whose content is text (an RSS title): its raw HTML tags become text.
    let mut text_element: Option<&str> = None;
    while i < b.len() {
        match b[i] {
            b'<' => {
                let rest = &b[i..];
                let verbatim_end = if rest.starts_with(b"<!--") {
                    Some(find_from(b, i + 4, b"-->").map_or(b.len(), |e| e + 3))
                } else if rest.starts_with(b"<![CDATA[") {
                    Some(find_from(b, i + 9, b"]]>").map_or(b.len(), |e| e + 3))
                } else if rest.starts_with(b"<?") {
                    let end = find_from(b, i + 2, b"?>").map_or(b.len(), |e| e + 2);
                    if i > 0 && is_xml_declaration(rest) {
                        // An XML declaration past the start (two documents glued together, a
                        // stray byte before it) is not XML, and one naming an encoding makes
                        // the XML reader under feed-rs panic: dropped.
                        out.push_str(&xml[copied..i]);
                        copied = end;
                    }
                    Some(end)
                } else if rest.starts_with(b"<!") {
                    Some(declaration_end(b, i))
                } else if rest.starts_with(b"</") {
                    let closes_text = text_element.is_none_or(|name| {
                        rest[2..].starts_with(name.as_bytes())
                            && !rest.get(2 + name.len()).is_some_and(|&c| is_name_char(c))
                    });
                    closes_text.then(|| {
                        text_element = None;
                        find_from(b, i, b">").map_or(b.len(), |e| e + 1)
                    })
                } else {
                    None
                };
                if let Some(end) = verbatim_end {
                    i = end;
                    continue;
                }
                out.push_str(&xml[copied..i]);
                if let Some(end) = risky_person_end(xml, i) {
                    i = end;
                    copied = i;
                    continue;
                }
                let opens_tag = rest.get(1).is_some_and(|&c| is_name_start(c) || c == b'/');
                if opens_tag && text_element.is_some() && !is_html_tag(&rest[1..]) {
                    // Not markup a publisher put in a title (`</titel>`, `<item>`): XML again.
                    text_element = None;
                }
                if opens_tag && text_element.is_some() {
                    // `<title>Line one<br>line two</title>`: markup as text, as if escaped.
                    let end = find_from(b, i, b">").map_or(b.len(), |e| e + 1);
                    let markup = &xml[i + 1..end];
                    out.push_str("&lt;");
                    repair_attribute_value(markup.strip_suffix('>').unwrap_or(markup), &mut out);
                    if markup.ends_with('>') {
                        out.push_str("&gt;");
                    }
                    i = end;
                } else if opens_tag && b[i + 1] == b'/' {
                    let end = find_from(b, i, b">").map_or(b.len(), |e| e + 1);
                    out.push_str(&xml[i..end]);
                    i = end;
                } else if opens_tag {
                    let tag = repair_start_tag(xml, i, !root_seen, &mut out);
                    root_seen = true;
                    if tag.holds_text {
                        text_element = Some(tag.name);
                    }
                    i = tag.end;
                } else {
                    // "p < 0.05": a `<` that opens nothing.
                    out.push_str("&lt;");
                    i += 1;
                }
                copied = i;
            }
            b'&' => {
                out.push_str(&xml[copied..i]);
                i += repair_reference(xml, i, &mut out);
                copied = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&xml[copied..]);
    out
}

/// Person names: RSS `author`, `managingEditor` and `webMaster`, `dc:creator`, `itunes:author`
/// and `itunes:name` (any prefix). feed-rs splits their text into name and email at byte
/// offsets next to the email, which fall inside a multi-byte character touching it
/// (`Jane\u{a0}jane@example.com`, an invalid byte's U+FFFD) and make it panic, losing the whole
/// document. Such an element, whose text may hold both an `@` and a non-ASCII character, is
/// dropped (the item keeps everything else): where what to drop ends, when the tag at `i` opens
/// one. The text runs to the next tag (CDATA sections included); the element's end tag, when
/// it follows, goes too.
fn risky_person_end(xml: &str, i: usize) -> Option<usize> {
    const ANY_PREFIX: [&str; 4] = ["author", "managingEditor", "webMaster", "creator"];
    let b = xml.as_bytes();
    let rest = &b[i + 1..];
    let qname_len = rest.iter().take_while(|&&c| is_name_char(c)).count();
    let qname = std::str::from_utf8(&rest[..qname_len]).ok()?;
    if !rest
        .get(qname_len)
        .is_some_and(|&c| c == b'>' || c.is_ascii_whitespace())
    {
        return None;
    }
    let local = match qname.split_once(':') {
        Some((_, local)) => local,
        None if qname == "name" => return None,
        None => qname,
    };
    if !ANY_PREFIX.contains(&local) && local != "name" {
        return None;
    }
    let tag_end = find_from(b, i, b">")? + 1;
    if b[tag_end - 2] == b'/' {
        return None;
    }
    let mut end = tag_end;
    loop {
        if b[end..].starts_with(b"<![CDATA[") {
            end = find_from(b, end + 9, b"]]>").map_or(b.len(), |e| e + 3);
        } else if end < b.len() && b[end] != b'<' {
            end = find_from(b, end, b"<").unwrap_or(b.len());
        } else {
            break;
        }
    }
    if !risky_person_text(&b[tag_end..end]) {
        return None;
    }
    let close = &b[end..];
    if close.starts_with(b"</")
        && close[2..].starts_with(qname.as_bytes())
        && close
            .get(2 + qname.len())
            .is_some_and(|&c| c == b'>' || c.is_ascii_whitespace())
    {
        end = find_from(b, end, b">").map_or(b.len(), |e| e + 1);
    }
    Some(end)
}

/// Whether raw XML text may decode to both an `@` and a non-ASCII character: a reference other
/// than the five XML ones may be either.
fn risky_person_text(text: &[u8]) -> bool {
    let mut at = false;
    let mut non_ascii = false;
    for (j, &c) in text.iter().enumerate() {
        match c {
            b'@' => at = true,
            b'&' => {
                let rest = &text[j + 1..];
                let xml_entity = ["amp;", "lt;", "gt;", "quot;", "apos;"]
                    .iter()
                    .any(|e| rest.starts_with(e.as_bytes()));
                if !xml_entity {
                    at = true;
                    non_ascii = true;
                }
            }
            c if !c.is_ascii() => non_ascii = true,
            _ => {}
        }
    }
    at && non_ascii
}

/// A JSON Feed with every author name that holds both an `@` and a non-ASCII character
/// removed (the same feed-rs panic as [`risky_person_end`]); `None` when there is none, or the
/// document is not JSON.
fn without_risky_json_authors(json: &str) -> Option<String> {
    fn risky(name: &serde_json::Value) -> bool {
        name.as_str()
            .is_some_and(|n| n.contains('@') && !n.is_ascii())
    }
    fn clean(author: &mut serde_json::Value) -> bool {
        match author.as_object_mut() {
            Some(obj) if obj.get("name").is_some_and(risky) => obj.remove("name").is_some(),
            _ => false,
        }
    }
    fn clean_holder(holder: &mut serde_json::Value) -> bool {
        let mut changed = false;
        if let Some(author) = holder.get_mut("author") {
            changed |= clean(author);
        }
        if let Some(authors) = holder.get_mut("authors").and_then(|a| a.as_array_mut()) {
            for author in authors {
                changed |= clean(author);
            }
        }
        changed
    }
    if !json.contains('@') {
        return None;
    }
    let mut doc: serde_json::Value = serde_json::from_str(json).ok()?;
    let mut changed = clean_holder(&mut doc);
    if let Some(items) = doc.get_mut("items").and_then(|i| i.as_array_mut()) {
        for item in items {
            changed |= clean_holder(item);
        }
    }
    changed.then(|| doc.to_string())
}

/// Whether `rest` starts with an XML declaration: `<?xml` then a space or `?>` (any case).
fn is_xml_declaration(rest: &[u8]) -> bool {
    rest.get(2..5)
        .is_some_and(|t| t.eq_ignore_ascii_case(b"xml"))
        && rest
            .get(5)
            .is_none_or(|&c| c.is_ascii_whitespace() || c == b'?')
}

/// Whether the tag (after its `<`) is an HTML element, one that cannot be a feed's.
fn is_html_tag(tag: &[u8]) -> bool {
    const HTML: &[&str] = &[
        "a",
        "abbr",
        "b",
        "big",
        "blockquote",
        "br",
        "center",
        "cite",
        "code",
        "dd",
        "del",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "font",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "iframe",
        "img",
        "ins",
        "li",
        "mark",
        "ol",
        "p",
        "picture",
        "pre",
        "q",
        "s",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "tt",
        "u",
        "ul",
        "wbr",
    ];
    let tag = tag.strip_prefix(b"/").unwrap_or(tag);
    let len = tag.iter().take_while(|c| c.is_ascii_alphanumeric()).count();
    let boundary = tag.get(len).is_none_or(|c| !is_name_char(*c));
    boundary
        && std::str::from_utf8(&tag[..len])
            .is_ok_and(|name| HTML.iter().any(|h| h.eq_ignore_ascii_case(name)))
}

fn find_from(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// End of a `<!…>` declaration (DOCTYPE with an internal subset, quoted strings).
fn declaration_end(b: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    for (j, &c) in b.iter().enumerate().skip(start + 2) {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(c),
            (None, b'[') => depth += 1,
            (None, b']') => depth = depth.saturating_sub(1),
            (None, b'>') if depth == 0 => return j + 1,
            _ => {}
        }
    }
    b.len()
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':' || c >= 0x80
}

fn is_name_char(c: u8) -> bool {
    is_name_start(c) || c.is_ascii_digit() || c == b'-' || c == b'.'
}

/// A start tag, as repaired.
struct StartTag<'a> {
    name: &'a str,
    /// Just past the tag.
    end: usize,
    /// An element whose content is text, left open: a title, a description, a summary, an
    /// encoded content, but no Atom `type="xhtml"` one.
    holds_text: bool,
}

/// Copies the start tag at `start` to `out`, repaired: attribute values quoted and their
/// references repaired, `version="2.0"` added to a root `<rss>` without one, an HTML void
/// element closed.
fn repair_start_tag<'a>(
    xml: &'a str,
    start: usize,
    is_root: bool,
    out: &mut String,
) -> StartTag<'a> {
    let b = xml.as_bytes();
    let mut i = start + 1;
    while i < b.len() && is_name_char(b[i]) {
        i += 1;
    }
    let name = &xml[start + 1..i];
    out.push('<');
    out.push_str(name);
    let local = name.rsplit(':').next().unwrap_or(name);
    let mut holds_text = matches!(local, "title" | "description" | "summary" | "encoded");
    let tag = |end: usize, holds_text: bool| StartTag {
        name,
        end,
        holds_text,
    };
    let mut has_version = false;
    let add_version = |has_version: bool, out: &mut String| {
        if is_root && name == "rss" && !has_version {
            out.push_str(r#" version="2.0""#);
        }
    };
    loop {
        let ws_start = i;
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        out.push_str(&xml[ws_start..i]);
        match b.get(i) {
            None => return tag(i, false),
            Some(b'>') => {
                add_version(has_version, out);
                out.push_str(if is_unclosed_void(name, &xml[i + 1..]) {
                    "/>"
                } else {
                    ">"
                });
                return tag(i + 1, holds_text);
            }
            Some(b'/') if b.get(i + 1) == Some(&b'>') => {
                add_version(has_version, out);
                out.push_str("/>");
                return tag(i + 2, false);
            }
            // `<item <title>`: the tag was never closed.
            Some(b'<') => {
                add_version(has_version, out);
                out.push('>');
                return tag(i, holds_text);
            }
            Some(&c) if !is_name_start(c) => {
                i += 1; // stray character: dropped
                continue;
            }
            Some(_) => {}
        }
        let attr_start = i;
        while i < b.len() && is_name_char(b[i]) {
            i += 1;
        }
        let attr = &xml[attr_start..i];
        has_version |= attr == "version";
        out.push_str(attr);
        let mut j = i;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if b.get(j) != Some(&b'=') {
            out.push_str(r#"="""#); // `<x checked>`: a value is required
            continue;
        }
        j += 1;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        out.push('=');
        match b.get(j) {
            Some(&q @ (b'"' | b'\'')) => {
                let value_end = find_from(b, j + 1, &[q]).unwrap_or(b.len());
                if attr == "type" && xml[j + 1..value_end].trim() == "xhtml" {
                    holds_text = false;
                }
                out.push(q as char);
                repair_attribute_value(&xml[j + 1..value_end], out);
                if value_end < b.len() {
                    out.push(q as char);
                }
                i = (value_end + 1).min(b.len());
            }
            _ => {
                let mut end = j;
                while end < b.len()
                    && !b[end].is_ascii_whitespace()
                    && b[end] != b'>'
                    && !(b[end] == b'/' && b.get(end + 1) == Some(&b'>'))
                {
                    end += 1;
                }
                if attr == "type" && &xml[j..end] == "xhtml" {
                    holds_text = false;
                }
                out.push('"');
                repair_attribute_value(&xml[j..end].replace('"', "&quot;"), out);
                out.push('"');
                i = end;
            }
        }
    }
}

/// An HTML void element written as HTML (`<br>`, `<img src="…">`) in the XML: it would leave
/// its parent unclosed.
fn is_unclosed_void(name: &str, after: &str) -> bool {
    let void = ["br", "hr", "img", "wbr"]
        .iter()
        .any(|v| v.eq_ignore_ascii_case(name));
    void && !after
        .trim_start()
        .strip_prefix("</")
        .is_some_and(|rest| rest.starts_with(name))
}

fn repair_attribute_value(value: &str, out: &mut String) {
    let b = value.as_bytes();
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'&' => {
                out.push_str(&value[copied..i]);
                i += repair_reference(value, i, out);
                copied = i;
            }
            b'<' => {
                out.push_str(&value[copied..i]);
                out.push_str("&lt;");
                i += 1;
                copied = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&value[copied..]);
}

/// Writes the reference at `at` (a `&`) as XML can read it and returns how many bytes it took:
/// the five XML entities and valid character references as they are, HTML named entities as
/// character references, invalid character references dropped, anything else as a literal `&`.
fn repair_reference(s: &str, at: usize, out: &mut String) -> usize {
    let rest = &s.as_bytes()[at + 1..];
    if let Some(num) = rest.strip_prefix(b"#") {
        let (digits_at, radix) = match num.first() {
            Some(b'x' | b'X') => (1, 16),
            _ => (0, 10),
        };
        let digits = num[digits_at..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit() && (radix == 16 || c.is_ascii_digit()))
            .count();
        if digits > 0 && num.get(digits_at + digits) == Some(&b';') {
            let len = 1 + 1 + digits_at + digits + 1;
            let code = std::str::from_utf8(&num[digits_at..digits_at + digits])
                .ok()
                .and_then(|d| u32::from_str_radix(d, radix).ok());
            match code.and_then(xml_char) {
                Some(c) if Some(c as u32) == code => out.push_str(&s[at..at + len]),
                Some(c) => out.push_str(&format!("&#x{:X};", c as u32)),
                None => {}
            }
            return len;
        }
    } else {
        let name_len = rest
            .iter()
            .take(40)
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        if name_len > 0 && rest[0].is_ascii_alphabetic() && rest.get(name_len) == Some(&b';') {
            let name = &s[at + 1..at + 1 + name_len];
            let len = name_len + 2;
            if matches!(name, "amp" | "lt" | "gt" | "quot" | "apos") {
                out.push_str(&s[at..at + len]);
                return len;
            }
            if let Some(c) = html_entity(name) {
                out.push_str(&format!("&#x{:X};", c as u32));
                return len;
            }
        }
    }
    out.push_str("&amp;");
    1
}

/// The character a character reference stands for, if XML allows it; C1 codes are read as
/// windows-1252, as browsers do (`&#146;` is a right single quote).
fn xml_char(code: u32) -> Option<char> {
    match code {
        0x80..=0x9F => {
            let byte = [u8::try_from(code).ok()?];
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&byte);
            text.chars().next().filter(|c| !c.is_control())
        }
        0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF => {
            char::from_u32(code)
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Recovery of truncated or malformed documents

/// Where the items of a document are, as far as it can be read.
struct ItemScan {
    /// The document up to the first item.
    head_end: usize,
    /// Elements open at the first item, outermost first: closed after the recovered items.
    open: Vec<String>,
    /// Complete items, in order.
    items: Vec<Range<usize>>,
    /// The document ended inside an element.
    truncated: bool,
    /// An item starts somewhere.
    item_seen: bool,
}

/// The complete `<item>`/`<entry>` elements before the first fault, re-read as a document of
/// the head, those items and the closing tags.
fn recover(xml: &str, base_uri: Option<&str>) -> std::result::Result<(Feed, usize), &'static str> {
    let scan = scan_items(xml);
    if scan.items.is_empty() {
        return Err(match (scan.truncated, scan.item_seen) {
            (true, _) => ": the document is truncated before its first complete item",
            (false, true) => ": no complete item before the fault",
            (false, false) => "",
        });
    }
    let attempt = |count: usize| {
        let mut doc = String::with_capacity(xml.len());
        doc.push_str(&xml[..scan.head_end]);
        for range in &scan.items[..count] {
            doc.push_str(&xml[range.clone()]);
            doc.push('\n');
        }
        for name in scan.open.iter().rev() {
            doc.push_str("</");
            doc.push_str(name);
            doc.push('>');
        }
        read_feed(doc.as_bytes(), base_uri).ok()
    };
    let all = scan.items.len();
    if let Some(feed) = attempt(all) {
        return Ok((feed, all));
    }
    // The fault is inside an item that is well formed as XML: the longest readable prefix.
    let (mut good, mut bad) = (None, all);
    let mut low = 0;
    while bad - low > 1 {
        let mid = low + (bad - low) / 2;
        match attempt(mid) {
            Some(feed) => {
                good = Some((feed, mid));
                low = mid;
            }
            None => bad = mid,
        }
    }
    match good {
        Some(found) => Ok(found),
        None => Err(": no item could be read"),
    }
}

fn is_item_name(name: &str) -> bool {
    let local = name.rsplit(':').next().unwrap_or(name);
    local == "item" || local == "entry"
}

/// Reads the document as XML until it ends or breaks.
fn scan_items(xml: &str) -> ItemScan {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut item: Option<(String, usize)> = None; // name and depth
    let mut scan = ItemScan {
        head_end: 0,
        open: Vec::new(),
        items: Vec::new(),
        truncated: false,
        item_seen: false,
    };
    let mut current: Option<usize> = None;
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = e.name().into_inner().to_string();
                if item.is_none() && !stack.is_empty() && is_item_name(&name) {
                    item = Some((name.clone(), stack.len()));
                    scan.head_end = before.min(xml.len());
                    scan.open = stack.clone();
                }
                if item
                    .as_ref()
                    .is_some_and(|(n, depth)| *n == name && *depth == stack.len())
                {
                    current = Some(before);
                }
                stack.push(name);
            }
            Ok(Event::End(_)) => {
                stack.pop();
                if let (Some(start), Some((_, depth))) = (current, &item)
                    && stack.len() == *depth
                {
                    let end = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
                    if start < end && end <= xml.len() {
                        scan.items.push(start..end);
                    }
                    current = None;
                }
            }
            Ok(Event::Eof) => {
                scan.truncated = !stack.is_empty();
                break;
            }
            Err(e) => {
                // Every syntax error but one is something left open at the end of the input.
                scan.truncated = matches!(e, quick_xml::Error::Syntax(s)
                    if s != quick_xml::errors::SyntaxError::InvalidBangMarkup);
                break;
            }
            Ok(_) => {}
        }
    }
    scan.item_seen = item.is_some();
    scan
}

// ---------------------------------------------------------------------------------------------
// Recovery pass: what a reader sees

/// The entries of a feed as a lenient reader sees them, namespaces ignored (`<rss:item>`,
/// `<x:title>`), any RSS version, Atom 0.3 text constructs (`mode="base64"`, `mode="xml"`,
/// `type="xhtml"`), `rdf:about` and permalink `guid`s as addresses. Complete entries only; `None`
/// when the root is not a feed's.
fn salvage(xml: &str, base_uri: Option<&str>) -> Option<(FeedType, Vec<RawEntry>)> {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = false;
    let mut feed_type = None;
    let mut depth = 0usize;
    let mut entries = Vec::new();
    // The entry being read and its depth; the child element being read, its attributes and
    // where its content starts.
    let mut entry: Option<(RawEntry, usize)> = None;
    let mut child: Option<OpenChild> = None;
    loop {
        let before = usize::try_from(reader.buffer_position()).ok()?;
        let event = match reader.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(event) => event,
        };
        let after = usize::try_from(reader.buffer_position()).ok()?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = local_name(e.name().as_ref());
                let attrs: Vec<(String, String)> = e
                    .attributes()
                    .flatten()
                    .map(|a| {
                        let value = quick_xml::escape::unescape(&a.value)
                            .map_or_else(|_| a.value.to_string(), |v| v.into_owned());
                        (local_name(a.key.as_ref()), value)
                    })
                    .collect();
                if depth == 0 {
                    let version = attr(&attrs, "version").unwrap_or_default();
                    feed_type = Some(match name.as_str() {
                        "rss" if version.starts_with("0.9") => FeedType::RSS0,
                        "rss" => FeedType::RSS2,
                        "RDF" => FeedType::RSS1,
                        "feed" => FeedType::Atom,
                        _ => return None,
                    });
                }
                if !empty {
                    depth += 1;
                }
                match (&mut entry, &child) {
                    (None, _) if depth > 1 && (name == "item" || name == "entry") => {
                        let mut raw = RawEntry::default();
                        if let Some(about) = attr(&attrs, "about") {
                            raw.urls.push((about.to_string(), UrlSource::RdfAbout));
                        }
                        if empty {
                            entries.push(raw);
                        } else {
                            entry = Some((raw, depth));
                        }
                    }
                    (Some((raw, entry_depth)), None)
                        if depth == *entry_depth + 1 || empty && depth == *entry_depth =>
                    {
                        if empty {
                            salvage_field(raw, &name, &attrs, "", base_uri);
                        } else {
                            child = Some((name, attrs, after));
                        }
                    }
                    _ => {}
                }
            }
            Event::End(_) => {
                if let (Some((raw, entry_depth)), Some((name, attrs, start))) = (&mut entry, &child)
                    && depth == *entry_depth + 1
                {
                    let content = xml.get(*start..before).unwrap_or_default();
                    salvage_field(raw, name, attrs, content, base_uri);
                    child = None;
                }
                if entry.as_ref().is_some_and(|(_, d)| *d == depth) {
                    entries.extend(entry.take().map(|(raw, _)| raw));
                }
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
    }
    Some((feed_type?, entries))
}

/// An entry's child element being read: its local name, attributes (local names), and where its
/// content starts.
type OpenChild = (String, Vec<(String, String)>, usize);

fn local_name(qname: &str) -> String {
    qname.rsplit(':').next().unwrap_or(qname).to_string()
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// One child element of an entry, by its local name, into the entry.
fn salvage_field(
    raw: &mut RawEntry,
    name: &str,
    attrs: &[(String, String)],
    content: &str,
    base_uri: Option<&str>,
) {
    let first = |slot: &mut Option<String>, value: String| {
        if slot.as_deref().is_none_or(|s| s.trim().is_empty()) {
            *slot = Some(value);
        }
    };
    match name {
        "title" => first(&mut raw.title, text_construct(content, attrs)),
        "description" | "summary" | "abstract" | "tagline" | "subtitle" => {
            first(&mut raw.summary, text_construct(content, attrs))
        }
        "content" | "encoded" | "body" | "fullitem" => {
            first(&mut raw.content, text_construct(content, attrs))
        }
        "link" => {
            let rel = attr(attrs, "rel").unwrap_or("alternate");
            let href = attr(attrs, "href")
                .map(str::to_string)
                .unwrap_or_else(|| plain_text(&unwrap_cdata(content)));
            if !href.is_empty() && rel == "alternate" {
                // A link is the best address: before the `rdf:about` read from the start tag.
                let at = raw
                    .urls
                    .iter()
                    .position(|(_, s)| *s != UrlSource::Link)
                    .unwrap_or(raw.urls.len());
                raw.urls.insert(at, (href, UrlSource::Link));
            }
        }
        "guid" | "id" => {
            let value = plain_text(&unwrap_cdata(content));
            let permalink = attr(attrs, "isPermaLink").is_none_or(|v| v != "false");
            if permalink && value.starts_with("http") {
                let source = if name == "guid" {
                    UrlSource::Guid
                } else {
                    UrlSource::Id
                };
                raw.urls.push((value.clone(), source));
            }
            if raw.key.is_none() && !value.is_empty() {
                raw.key = Some(value);
            }
        }
        "pubDate" | "date" | "published" | "issued" | "created" | "updated" | "modified"
            if raw.published.is_none() =>
        {
            raw.published = lenient_date(&plain_text(&unwrap_cdata(content)), base_uri);
        }
        "author" | "creator" => {
            let name = plain_text(&unwrap_cdata(content));
            if !name.is_empty() {
                raw.authors.push(name);
            }
        }
        _ => {}
    }
}

/// The HTML a text construct stands for: its content with CDATA sections opened, or decoded
/// from base64 (Atom 0.3 `mode="base64"`).
fn text_construct(content: &str, attrs: &[(String, String)]) -> String {
    if attr(attrs, "mode") == Some("base64") {
        use base64::Engine;
        let encoded: String = plain_text(&unwrap_cdata(content))
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(encoded) {
            return String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    unwrap_cdata(content).into_owned()
}

/// The content of an element with its CDATA sections opened: what they hold is HTML, like the
/// escaped markup around them (see [`plain_text`]).
fn unwrap_cdata(content: &str) -> std::borrow::Cow<'_, str> {
    if !content.contains("<![CDATA[") {
        return std::borrow::Cow::Borrowed(content);
    }
    let mut out = String::with_capacity(content.len());
    let mut rest = content;
    while let Some(at) = rest.find("<![CDATA[") {
        out.push_str(&rest[..at]);
        let inner = &rest[at + 9..];
        let end = inner.find("]]>").unwrap_or(inner.len());
        out.push_str(&inner[..end]);
        rest = inner.get(end + 3..).unwrap_or_default();
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// A date as feed-rs reads one (its lenient timestamp parser, which is not public): through a
/// one-item feed.
fn lenient_date(text: &str, base_uri: Option<&str>) -> Option<DateTime<Utc>> {
    let mut doc = String::from(r#"<rss version="2.0"><channel><item><pubDate>"#);
    quick_xml::escape::escape(text)
        .chars()
        .for_each(|c| doc.push(c));
    doc.push_str("</pubDate></item></channel></rss>");
    read_feed(doc.as_bytes(), base_uri)
        .ok()?
        .entries
        .first()?
        .published
}

// ---------------------------------------------------------------------------------------------
// Entries to items

/// An entry as the document gives it, before it becomes an item: read by feed-rs, or by the
/// recovery pass ([`salvage`]). Text fields are HTML, as in the feed.
#[derive(Debug, Default)]
struct RawEntry {
    title: Option<String>,
    summary: Option<String>,
    content: Option<String>,
    /// Address candidates, best first.
    urls: Vec<(String, UrlSource)>,
    /// The entry's own identifier (guid, id): the identity of an entry without an address.
    key: Option<String>,
    published: Option<DateTime<Utc>>,
    authors: Vec<String>,
}

/// Whether feed-rs left out something the recovery pass may find: a title or an address.
fn incomplete(entry: &Entry) -> bool {
    let no_title = entry
        .title
        .as_ref()
        .is_none_or(|t| t.content.trim().is_empty());
    // A guid that is a URL is not enough: feed-rs does not say whether it is a permalink.
    let no_link = pick_link(&entry.links).is_none();
    no_title || no_link
}

impl RawEntry {
    fn from_feed_rs(entry: Entry, feed_type: &FeedType) -> RawEntry {
        let mut urls = Vec::new();
        if let Some(link) = pick_link(&entry.links) {
            urls.push((link.to_string(), UrlSource::Link));
        }
        // feed-rs reads an RSS guid into `id`, and makes one up (a hash, never a URL) when
        // there is none.
        if entry.id.starts_with("http") {
            let source = match feed_type {
                FeedType::RSS0 | FeedType::RSS1 | FeedType::RSS2 => UrlSource::Guid,
                FeedType::Atom | FeedType::JSON => UrlSource::Id,
            };
            urls.push((entry.id.clone(), source));
        }
        RawEntry {
            title: entry.title.map(|t| t.content),
            summary: entry.summary.map(|s| s.content),
            content: entry.content.and_then(|c| c.body),
            urls,
            key: Some(entry.id).filter(|id| !id.is_empty()),
            published: entry.published.or(entry.updated),
            authors: entry.authors.into_iter().filter_map(|p| p.name).collect(),
        }
    }

    /// Fills what feed-rs left out from what the recovery pass read of the same entry.
    fn complete_with(&mut self, more: RawEntry) {
        // Without a link, the recovery pass knows better: it reads `isPermaLink` (feed-rs takes
        // any guid) and `rdf:about` (feed-rs reads none).
        if !self.urls.iter().any(|(_, s)| *s == UrlSource::Link) {
            self.urls.clear();
        }
        let blank = |t: &Option<String>| t.as_deref().is_none_or(|t| plain_text(t).is_empty());
        if blank(&self.title) {
            self.title = more.title;
        }
        if blank(&self.summary) {
            self.summary = more.summary;
        }
        if blank(&self.content) {
            self.content = more.content;
        }
        for candidate in more.urls {
            if !self.urls.iter().any(|(u, _)| *u == candidate.0) {
                self.urls.push(candidate);
            }
        }
        self.published = self.published.or(more.published);
        if self.authors.is_empty() {
            self.authors = more.authors;
        }
    }

    fn into_item(self, base: Option<&Url>, source_id: &str, index: usize) -> Item {
        let (url, url_source) = self
            .urls
            .iter()
            .find_map(|(raw, source)| Some((canonical(raw, base)?.to_string(), *source)))
            .unwrap_or((String::new(), UrlSource::None));
        let summary = self
            .summary
            .as_deref()
            .map(summary_text)
            .unwrap_or_default();
        let content = self
            .content
            .as_deref()
            .map(summary_text)
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
        let given = self.title.as_deref().map(plain_text).unwrap_or_default();
        let (title, title_source) = if given.is_empty() {
            let from = if summary.is_empty() { &url } else { &summary };
            (first_sentence(from), TitleSource::Derived)
        } else {
            (given, TitleSource::Given)
        };
        let id = if url.is_empty() {
            // No address to hash: the entry's own identifier, else what it says, in this source.
            let key = self
                .key
                .unwrap_or_else(|| format!("{index}\u{1f}{title}\u{1f}{summary}"));
            item_id(&format!("{source_id}\u{1f}{key}"))
        } else {
            item_id(&url)
        };
        let authors = self
            .authors
            .iter()
            .map(|n| plain_text(n))
            .filter(|n| !n.is_empty())
            .collect();
        Item {
            id,
            title,
            title_source,
            url,
            url_source,
            published: self.published,
            date_source: DateSource::from_metadata(&self.published),
            summary,
            text,
            authors,
            venue: None,
            source: source_id.to_string(),
            also_in: Vec::new(),
        }
    }
}

/// The entries as items, in order, on every core for a large feed: turning HTML into text is
/// most of the time a 10,000-item feed takes.
fn to_items(entries: Vec<RawEntry>, base: Option<&Url>, source_id: &str) -> Vec<Item> {
    const PER_THREAD: usize = 256;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(entries.len() / PER_THREAD);
    if threads < 2 {
        return entries
            .into_iter()
            .enumerate()
            .map(|(index, entry)| entry.into_item(base, source_id, index))
            .collect();
    }
    let chunk = entries.len().div_ceil(threads);
    let mut chunks: Vec<Vec<(usize, RawEntry)>> = Vec::with_capacity(threads);
    for (index, entry) in entries.into_iter().enumerate() {
        if index % chunk == 0 {
            chunks.push(Vec::with_capacity(chunk));
        }
        chunks
            .last_mut()
            .expect("pushed above")
            .push((index, entry));
    }
    std::thread::scope(|scope| {
        let workers: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|(index, entry)| entry.into_item(base, source_id, index))
                        .collect::<Vec<Item>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// A title made from a text: its first sentence, or its first words when the sentence is long.
fn first_sentence(text: &str) -> String {
    const MAX_CHARS: usize = 160;
    let end = text
        .char_indices()
        .find(|&(i, c)| {
            matches!(c, '.' | '!' | '?')
                && text[i + c.len_utf8()..]
                    .chars()
                    .next()
                    .is_none_or(char::is_whitespace)
                // "Dr. Smith", "e.g. this": a short word before the dot is not a sentence end.
                && text[..i]
                    .rsplit(char::is_whitespace)
                    .next()
                    .is_some_and(|w| w.chars().count() > 3 || w.chars().all(|c| c.is_ascii_digit()))
        })
        .map_or(text.len(), |(i, c)| i + c.len_utf8());
    let sentence = text[..end].trim();
    if sentence.chars().count() <= MAX_CHARS {
        return sentence.trim_end_matches('.').to_string();
    }
    let mut cut = String::new();
    for word in sentence.split_whitespace() {
        if cut.chars().count() + word.chars().count() + 1 > MAX_CHARS - 1 {
            break;
        }
        if !cut.is_empty() {
            cut.push(' ');
        }
        cut.push_str(word);
    }
    cut.push('…');
    cut
}

/// Plain text of a feed text field, which is HTML whatever its declared type (escaped markup
/// and CDATA alike): decoded once, and once more when the publisher escaped it twice.
fn plain_text(html: &str) -> String {
    let text = html_to_text(&literal_bangs(html));
    if still_escaped(&text) {
        html_to_text(&literal_bangs(&text))
    } else {
        text
    }
}

/// `<!` and `<?` that open no comment: text (`&lt;!' …` in an escaped description), which an
/// HTML parser would otherwise swallow as a bogus comment, up to the next `>`.
fn literal_bangs(html: &str) -> std::borrow::Cow<'_, str> {
    if !html.contains("<!") && !html.contains("<?") {
        return std::borrow::Cow::Borrowed(html);
    }
    let b = html.as_bytes();
    let bogus = |i: usize| {
        let rest = &b[i + 1..];
        rest.first() == Some(&b'?')
            || rest.first() == Some(&b'!')
                && !rest[1..].starts_with(b"--")
                && !rest[1..]
                    .get(..7)
                    .is_some_and(|d| d.eq_ignore_ascii_case(b"doctype"))
    };
    if !(0..b.len()).any(|i| b[i] == b'<' && bogus(i)) {
        return std::borrow::Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len() + 8);
    let mut copied = 0;
    for i in 0..b.len() {
        if b[i] == b'<' && bogus(i) {
            out.push_str(&html[copied..i]);
            out.push_str("&lt;");
            copied = i + 1;
        }
    }
    out.push_str(&html[copied..]);
    std::borrow::Cow::Owned(out)
}

/// Phrases that mark publisher boilerplate in a summary, looked for before the slower
/// paragraph-by-paragraph reading.
const BOILERPLATE_MARKS: &[&str] = &[
    "Publication date:",
    "Author(s):",
    "appeared first on",
    "Continue reading",
    "Read more",
    "Read More",
    "[…]",
    "[...]",
];

/// A summary or content as a reader wants it: [`plain_text`] without the publisher's boilerplate
/// (a journal's "Publication date: … Source: … Author(s): …" preamble, "The post … appeared
/// first on …", "Continue reading", "Read more", a trailing "[…]").
fn summary_text(html: &str) -> String {
    // A DFA: this runs over every summary and content of every feed, and most have no mark.
    static MARKS: std::sync::LazyLock<aho_corasick::AhoCorasick> = std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(BOILERPLATE_MARKS)
            .expect("literal patterns")
    });
    let text = plain_text(html);
    if !MARKS.is_match(&text) {
        return text;
    }
    // The paragraphs of what `plain_text` read: markup revealed by a second decoding included.
    let once = html_to_text(&literal_bangs(html));
    let markup = if still_escaped(&once) {
        once
    } else {
        html.to_string()
    };
    let mut kept: Vec<String> = Vec::new();
    for paragraph in crate::text::html_to_paragraphs(&literal_bangs(&markup)) {
        let paragraph = without_trailer(&paragraph);
        let preamble = ["Publication date:", "Source:", "Author(s):", "Authors:"]
            .iter()
            .any(|p| paragraph.starts_with(p));
        if !preamble && !paragraph.is_empty() {
            kept.push(paragraph.to_string());
        }
    }
    kept.join(" ")
}

/// A paragraph without the boilerplate that ends it.
fn without_trailer(paragraph: &str) -> &str {
    let mut text = paragraph.trim();
    loop {
        let before = text;
        if let Some(at) = text.rfind("The post ")
            && text[at..].contains(" appeared first on ")
        {
            text = text[..at].trim_end();
        }
        for tail in [
            "Continue reading",
            "Read more",
            "Read More",
            "[…]",
            "[...]",
            "…",
            "→",
            "»",
            "...",
        ] {
            if let Some(rest) = text.strip_suffix(tail) {
                text = rest.trim_end();
            }
        }
        if let Some(at) = text.rfind("Continue reading")
            && text[at..].chars().count() < 120
            && !text[at..].contains(". ")
        {
            // "Continue reading Teva's results →": the link text names the article.
            text = text[..at].trim_end();
        }
        if text == before {
            return text;
        }
    }
}

/// Whether decoded text still holds an entity or character reference, or an HTML tag.
fn still_escaped(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr2_iter(b'&', b'<', b).any(|i| match b[i] {
        b'&' => is_reference(&b[i + 1..]),
        _ => is_inline_tag(&b[i + 1..]),
    })
}

fn is_reference(rest: &[u8]) -> bool {
    if let Some(num) = rest.strip_prefix(b"#") {
        let (num, hex) = match num.strip_prefix(b"x").or_else(|| num.strip_prefix(b"X")) {
            Some(hex) => (hex, true),
            None => (num, false),
        };
        let digits = num
            .iter()
            .take_while(|c| {
                if hex {
                    c.is_ascii_hexdigit()
                } else {
                    c.is_ascii_digit()
                }
            })
            .count();
        return digits > 0 && num.get(digits) == Some(&b';');
    }
    let len = rest
        .iter()
        .take(40)
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    len > 0
        && rest.get(len) == Some(&b';')
        && std::str::from_utf8(&rest[..len]).is_ok_and(|n| {
            matches!(n, "amp" | "lt" | "gt" | "quot" | "apos") || html_entity(n).is_some()
        })
}

/// `<b>`, `</a>`, `<a href="…">`, `<br/>`: the tags publishers put in titles.
fn is_inline_tag(rest: &[u8]) -> bool {
    const TAGS: &[&str] = &[
        "a", "abbr", "b", "big", "br", "cite", "div", "em", "font", "i", "img", "p", "small",
        "span", "strong", "sub", "sup", "u",
    ];
    let rest = rest.strip_prefix(b"/").unwrap_or(rest);
    let len = rest.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    let Ok(name) = std::str::from_utf8(&rest[..len]) else {
        return false;
    };
    TAGS.contains(&name.to_ascii_lowercase().as_str())
        && matches!(rest.get(len), Some(b'>' | b'/' | b' '))
        && rest[len..].contains(&b'>')
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
    use std::path::Path;

    fn origin(url: &str) -> Origin<'_> {
        Origin {
            source_id: "t",
            url: Some(url),
            content_type: None,
        }
    }

    /// A feed of `fixtures/sources/captures/wild/`: the cases met in the wild, as a reader
    /// should see them.
    fn wild(name: &str) -> Parsed {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/sources/captures/wild")
            .join(name);
        parse(
            &std::fs::read(&path).unwrap(),
            Format::Auto,
            &Origin {
                source_id: "wild",
                url: Some("https://wild.example.com/feed"),
                content_type: None,
            },
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// (title, title source, url, url source) of every item.
    fn addresses(parsed: &Parsed) -> Vec<(&str, TitleSource, &str, UrlSource)> {
        parsed
            .items
            .iter()
            .map(|i| {
                (
                    i.title.as_str(),
                    i.title_source,
                    i.url.as_str(),
                    i.url_source,
                )
            })
            .collect()
    }

    #[test]
    fn title_less_rss_items_take_the_first_sentence_of_their_description() {
        let parsed = wild("untitled_rss2.xml");
        assert_eq!(
            addresses(&parsed),
            [
                (
                    "Indivior files buprenorphine depot label update",
                    TitleSource::Derived,
                    "https://depot-notes.example.com/notes/indivior-label",
                    UrlSource::Link
                ),
                (
                    "Dr. Lee presented 12-month data for the paliperidone implant at ECNP!",
                    TitleSource::Derived,
                    "https://depot-notes.example.com/notes/implant-ecnp",
                    UrlSource::Link
                ),
            ]
        );
        assert_eq!(
            parsed.items[1].summary,
            "Dr. Lee presented 12-month data for the paliperidone implant at ECNP! Relapse rates halved."
        );
        // Recorded only when derived: stored items of titled feeds keep their bytes.
        let json = serde_json::to_value(&parsed.items[0]).unwrap();
        assert_eq!(json["title_source"], "derived");
        assert!(json.get("url_source").is_none());
    }

    #[test]
    fn a_permalink_guid_is_the_address_and_an_entry_without_one_is_kept_without_url() {
        let parsed = wild("guid_permalink.xml");
        assert_eq!(
            addresses(&parsed),
            [
                (
                    "Camurus reports Phase 3 results for CAM2029",
                    TitleSource::Given,
                    "https://newsroom.example.com/releases/2026/cam2029-phase3",
                    UrlSource::Guid
                ),
                (
                    "Quarterly webcast scheduled",
                    TitleSource::Given,
                    "",
                    UrlSource::None
                ),
                ("Board changes", TitleSource::Given, "", UrlSource::None),
            ]
        );
        // Entries without an address still have distinct identities.
        assert_ne!(parsed.items[1].id, parsed.items[2].id);
        assert!(
            parsed
                .warnings
                .iter()
                .any(|w| w.contains("no link to cite")),
            "{:?}",
            parsed.warnings
        );
        let json = serde_json::to_value(&parsed.items[0]).unwrap();
        assert_eq!(json["url_source"], "guid");
    }

    #[test]
    fn rss_1_items_are_addressed_by_rdf_about() {
        let parsed = wild("rss1_about.rdf");
        assert_eq!(
            addresses(&parsed),
            [
                (
                    "PLGA microspheres for monthly risperidone",
                    TitleSource::Given,
                    "https://journal.example.org/articles/plga-microspheres-2026",
                    UrlSource::RdfAbout
                ),
                (
                    "An in-situ forming gel delivered leuprolide for six months in a rat model",
                    TitleSource::Derived,
                    "https://journal.example.org/articles/insitu-gel-leuprolide",
                    UrlSource::RdfAbout
                ),
            ]
        );
        assert_eq!(
            parsed.items[1].published.unwrap().to_rfc3339(),
            "2026-11-20T04:30:00+00:00"
        );
    }

    #[test]
    fn atom_entries_whose_id_is_their_url_keep_it_and_xhtml_titles_read_as_text() {
        let parsed = wild("atom_id_url.atom");
        assert_eq!(
            addresses(&parsed),
            [
                (
                    "Olanzapine LAI NDA accepted",
                    TitleSource::Given,
                    "https://updates.example.com/2026/11/olanzapine-nda",
                    UrlSource::Id
                ),
                ("Investor day", TitleSource::Given, "", UrlSource::None),
            ]
        );
        assert_eq!(
            parsed.items[0].summary,
            "The FDA accepted the NDA for the subcutaneous olanzapine depot."
        );
    }

    #[test]
    fn rss_without_version_is_read_as_rss_2() {
        let parsed = wild("rss_no_version.xml");
        assert_eq!(
            titles(&parsed),
            ["Aripiprazole lauroxil two-month dosing approved"]
        );
        assert!(parsed.items[0].published.is_some());
    }

    #[test]
    fn rss_2_with_every_element_prefixed_is_read() {
        let parsed = wild("rss2_prefixed.xml");
        assert_eq!(
            addresses(&parsed),
            [
                (
                    "Lenacapavir twice-yearly PrEP launched in Europe",
                    TitleSource::Given,
                    "https://wire.example.com/story/lenacapavir-eu",
                    UrlSource::Link
                ),
                (
                    "Cabotegravir label adds adolescents",
                    TitleSource::Given,
                    "https://wire.example.com/story/cabotegravir-adolescents",
                    UrlSource::Link
                ),
            ]
        );
        assert_eq!(
            parsed.items[0].summary,
            "Gilead began the launch in Germany."
        );
        assert_eq!(
            parsed.items[1].published.unwrap().to_rfc3339(),
            "2026-11-20T09:45:00+00:00"
        );
    }

    #[test]
    fn rss_0_90_and_its_title_less_items_are_read() {
        let parsed = wild("rss090.rdf");
        assert_eq!(
            addresses(&parsed),
            [
                (
                    "Leuprolide six-month depot filed",
                    TitleSource::Given,
                    "https://oldschool.example.net/leuprolide-6m",
                    UrlSource::Link
                ),
                (
                    "https://oldschool.example.net/untitled-note",
                    TitleSource::Derived,
                    "https://oldschool.example.net/untitled-note",
                    UrlSource::Link
                ),
            ]
        );
    }

    #[test]
    fn uppercase_hex_references_and_html_entities_decode_once() {
        let parsed = wild("references.xml");
        assert_eq!(
            parsed.items[0].title,
            "AbbVie & Teva\u{2019}s depot \u{2014} caf\u{e9} talk"
        );
        assert_eq!(
            parsed.items[0].summary,
            "Uzedy\u{ae} sales rose \u{2013} up 12%."
        );
    }

    #[test]
    fn markup_looking_text_in_an_escaped_description_stays_text() {
        let parsed = wild("references.xml");
        assert_eq!(
            parsed.items[1].summary,
            "The filing <!' was accepted <? per the FDA letter > dated Friday."
        );
    }

    #[test]
    fn atom_0_3_escaped_xml_and_base64_text_constructs_read_as_text() {
        let parsed = wild("atom03_modes.atom");
        assert_eq!(
            addresses(&parsed),
            [
                (
                    "Risperidone ISM wins EU nod",
                    TitleSource::Given,
                    "https://atom03.example.com/risperidone-ism",
                    UrlSource::Link
                ),
                (
                    "Buprenorphine weekly depot data",
                    TitleSource::Given,
                    "https://atom03.example.com/buprenorphine-weekly",
                    UrlSource::Link
                ),
            ]
        );
        assert_eq!(
            parsed.items[0].summary,
            "Rovi said the once-monthly injection needs no oral lead-in."
        );
        assert_eq!(parsed.items[1].text, "Retention at 24 weeks was 72%");
        assert_eq!(
            parsed.items[0].published.unwrap().to_rfc3339(),
            "2026-11-22T09:00:00+00:00"
        );
    }

    #[test]
    fn publisher_boilerplate_is_not_part_of_the_summary() {
        let parsed = wild("boilerplate.xml");
        let summaries: Vec<&str> = parsed.items.iter().map(|i| i.summary.as_str()).collect();
        assert_eq!(
            summaries,
            [
                "Microspheres kept their release profile for six months.",
                "Long-acting injectables keep growing in schizophrenia.",
                "The first patient received the six-month implant.",
                "Five depot stories this week, from filings to launches",
            ]
        );
    }

    #[test]
    fn a_large_feed_converted_on_several_threads_keeps_the_document_order() {
        let items: String = (0..1500).map(item).collect();
        let parsed = parse(
            rss(&items).as_bytes(),
            Format::Auto,
            &origin("https://example.com/feed"),
        )
        .unwrap();
        let want: Vec<String> = (0..1500).map(|n| format!("Story {n}")).collect();
        assert_eq!(titles(&parsed), want);
    }

    #[test]
    fn first_sentence_skips_abbreviations_and_cuts_long_text_at_a_word() {
        assert_eq!(
            first_sentence("Dr. Smith joins. Then more."),
            "Dr. Smith joins"
        );
        assert_eq!(
            first_sentence("Version 2.0 ships today. More."),
            "Version 2.0 ships today"
        );
        let long = "word ".repeat(60);
        let title = first_sentence(long.trim());
        assert!(
            title.ends_with('…') && title.chars().count() <= 160,
            "{title}"
        );
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
        assert_eq!(parsed.items.len(), 2, "an entry without a link is kept");
        assert_eq!(
            parsed.warnings,
            vec!["entry 1: no link to cite: kept, match will exclude it".to_string()]
        );
        assert_eq!(
            (parsed.items[1].url.as_str(), parsed.items[1].url_source),
            ("", UrlSource::None)
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

    fn rss(items: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>T</title>\n{items}\n</channel></rss>"
        )
    }

    fn item(n: u32) -> String {
        format!("<item><title>Story {n}</title><link>https://example.com/{n}</link></item>")
    }

    fn titles(parsed: &Parsed) -> Vec<&str> {
        parsed.items.iter().map(|i| i.title.as_str()).collect()
    }

    #[test]
    fn the_http_charset_overrides_the_declaration() {
        let xml = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>T</title>\
<item><title>Caf\xE9 \x93news\x94</title><link>https://example.com/a</link></item></channel></rss>";
        let origin = Origin {
            source_id: "t",
            url: None,
            content_type: Some("application/rss+xml; charset=windows-1252"),
        };
        let parsed = parse(xml, Format::Rss, &origin).unwrap();
        assert_eq!(titles(&parsed), ["Café “news”"]);
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    }

    #[test]
    fn declared_legacy_charsets_and_utf16_are_decoded() {
        let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>T</title>\
<item><title>M\xE9dincell \xE0 Montpellier</title><link>https://example.com/a</link></item></channel></rss>";
        let parsed = parse(latin1, Format::Auto, &origin("https://example.com/")).unwrap();
        assert_eq!(titles(&parsed), ["Médincell à Montpellier"]);

        let doc = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title>\
<entry><title>Ühler – ≥ 50 mg</title><link href=\"https://example.com/a\"/><updated>2026-11-18T10:00:00Z</updated></entry></feed>";
        for bom_le in [true, false] {
            let mut bytes: Vec<u8> = if bom_le {
                vec![0xFF, 0xFE]
            } else {
                vec![0xFE, 0xFF]
            };
            bytes.extend(doc.encode_utf16().flat_map(|u| {
                if bom_le {
                    u.to_le_bytes()
                } else {
                    u.to_be_bytes()
                }
            }));
            let parsed = parse(&bytes, Format::Atom, &origin("https://example.com/")).unwrap();
            assert_eq!(titles(&parsed), ["Ühler – ≥ 50 mg"]);
        }
    }

    #[test]
    fn undeclared_html_entities_bare_ampersands_and_bad_references_are_repaired() {
        let xml = rss(
            r#"<item><title>Teva&rsquo;s Uzedy&trade; &hellip; caf&eacute;&nbsp;AT&T p < 0.05 &bogus; &#150; x&#0;y</title>
<link>https://example.com/a?x=1&y=&eacute;</link><description>R&amp;D &mdash; more</description></item>"#,
        );
        let parsed = parse(xml.as_bytes(), Format::Auto, &origin("https://x")).unwrap();
        let item = &parsed.items[0];
        assert_eq!(
            item.title,
            "Teva’s Uzedy™ … café AT&T p < 0.05 &bogus; – xy"
        );
        assert_eq!(item.url, "https://example.com/a?x=1&y=%C3%A9");
        assert_eq!(item.summary, "R&D — more");
    }

    #[test]
    fn rss_without_version_and_unquoted_attributes_are_read() {
        let xml = r#"<rss><channel><title>T</title><item><title>A</title><link>https://example.com/a</link></item></channel></rss>"#;
        let parsed = parse(xml.as_bytes(), Format::Rss, &origin("https://x")).unwrap();
        assert_eq!(titles(&parsed), ["A"]);
        let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry><title>B</title><link rel=alternate href=https://example.com/b?a=1&b=2 /></entry></feed>"#;
        let parsed = parse(xml.as_bytes(), Format::Atom, &origin("https://x")).unwrap();
        assert_eq!(parsed.items[0].url, "https://example.com/b?a=1&b=2");
    }

    #[test]
    fn double_escaped_text_is_decoded_once_more_only_when_still_escaped() {
        let xml = rss(
            r#"<item><title>J&amp;amp;J and Q&amp;A</title><link>https://example.com/1</link><description>Once: AT&amp;amp;T</description></item>
<item><title>J&amp;amp;amp;J &amp;amp;#8217;s &amp;lt;b&amp;gt;deal&amp;lt;/b&amp;gt;</title><link>https://example.com/2</link></item>
<item><title>Literal &amp;lt; sign: a &amp;lt; b</title><link>https://example.com/3</link></item>"#,
        );
        let parsed = parse(xml.as_bytes(), Format::Auto, &origin("https://x")).unwrap();
        assert_eq!(
            titles(&parsed),
            ["J&J and Q&A", "J&J ’s deal", "Literal < sign: a < b"]
        );
        assert_eq!(parsed.items[0].summary, "Once: AT&T");
    }

    #[test]
    fn html_in_titles_escaped_or_in_cdata_gives_text_only() {
        let xml = rss(
            r#"<item><title>&lt;a href="https://www.fiercepharma.com/pharma/x" hreflang="en"&gt;Pfizer&amp;#039;s RSV shot&lt;/a&gt;</title><link>https://www.fiercepharma.com/pharma/x</link></item>
<item><title><![CDATA[<a href="https://www.fiercepharma.com/y">Lilly&#8217;s <em>big</em> bet</a>]]></title><link>https://www.fiercepharma.com/y</link></item>"#,
        );
        let parsed = parse(xml.as_bytes(), Format::Auto, &origin("https://x")).unwrap();
        assert_eq!(titles(&parsed), ["Pfizer's RSV shot", "Lilly’s big bet"]);
    }

    #[test]
    fn tags_separate_words_and_whitespace_collapses() {
        let xml = rss("<item><title>  Line one<br>line two\n\t and\u{a0}three  </title><link>https://example.com/1</link>
<description><![CDATA[<p>First</p><p>Second<br/>Third</p><ul><li>a</li><li>b</li></ul><span>in</span><b>line</b>]]></description></item>");
        let parsed = parse(xml.as_bytes(), Format::Auto, &origin("https://x")).unwrap();
        assert_eq!(titles(&parsed), ["Line one line two and three"]);
        assert_eq!(parsed.items[0].summary, "First Second Third a b inline");
    }

    #[test]
    fn raw_html_in_text_elements_is_text_and_xhtml_stays_markup() {
        let xml = r#"<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T</title>
<item><title>X</title><link>https://example.com/b</link><description><p>Hello <a href="x?a=1&b=2">link</a> &amp; more<br>next</p></description>
<content:encoded><p>Body <i>it</i> text</p><p>second paragraph, longer</p></content:encoded></item>
<item><title>Unclosed</item><item><title>After</title><link>https://example.com/e</link></item></channel></rss>"#;
        let parsed = parse(xml.as_bytes(), Format::Auto, &origin("https://x")).unwrap();
        assert_eq!(titles(&parsed), ["X"]);
        assert_eq!(parsed.items[0].summary, "Hello link & more next");
        assert_eq!(
            parsed.items[0].text,
            "Body it text second paragraph, longer"
        );
        assert!(
            parsed.warnings[0].contains("after 1 item: "),
            "{:?}",
            parsed.warnings
        );

        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">A <b>bold</b> move</div></title><link href="/a"/>
<summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>One</p><p>Two<br/>Three</p></div></summary></entry></feed>"#;
        let parsed = parse(
            atom.as_bytes(),
            Format::Atom,
            &origin("https://example.com/feed"),
        )
        .unwrap();
        assert_eq!(titles(&parsed), ["A bold move"]);
        assert_eq!(parsed.items[0].summary, "One Two Three");
    }

    #[test]
    fn truncated_documents_give_the_complete_items_before_the_fault() {
        let cut = format!(
            "{}{}{}<item><title>Story 4</ti",
            rss("").split("\n\n").next().unwrap(),
            item(1),
            item(2) + &item(3)
        );
        let parsed = parse(cut.as_bytes(), Format::Auto, &origin("https://x")).unwrap();
        assert_eq!(titles(&parsed), ["Story 1", "Story 2", "Story 3"]);
        assert_eq!(parsed.warnings.len(), 1);
        assert!(
            parsed.warnings[0].starts_with("document truncated or malformed after 3 items: "),
            "{:?}",
            parsed.warnings
        );

        // A fault in the middle: the items before it.
        let broken = rss(&format!(
            "{}{}<item><title>Bad</titel></item>{}",
            item(1),
            item(2),
            item(3)
        ));
        let parsed = parse(broken.as_bytes(), Format::Auto, &origin("https://x")).unwrap();
        assert_eq!(titles(&parsed), ["Story 1", "Story 2"]);
        assert!(parsed.warnings[0].contains("after 2 items"));

        // Atom, and RSS 1.0 whose items are not inside the channel.
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
<entry><title>E1</title><link href="https://example.com/e1"/></entry>
<entry><title>E2</title><link href="https://example.com/e2"/></entry><entry><title>E"#;
        let parsed = parse(atom.as_bytes(), Format::Atom, &origin("https://x")).unwrap();
        assert_eq!(titles(&parsed), ["E1", "E2"]);
        let rdf = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="x"><title>T</title></channel>
<item rdf:about="a"><title>R1</title><link>https://example.com/r1</link></item>
<item rdf:about="b"><title>R2</title><link>https://exam"#;
        let parsed = parse(rdf.as_bytes(), Format::Rss, &origin("https://x")).unwrap();
        assert_eq!(titles(&parsed), ["R1"]);
    }

    #[test]
    fn truncated_before_any_item_is_a_clear_error() {
        let err = parse(
            b"<rss version=\"2.0\"><channel><title>T</title><item><title>only one",
            Format::Auto,
            &origin("https://x"),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("source t: not a readable feed (")
                && msg.contains("truncated before its first complete item"),
            "{msg}"
        );
    }

    /// The corpus's `rss_2.0_invalid_1.xml` is a Reuters feed cut off after its channel header
    /// (a server-side rendering error, noted in a comment): it has no item at all, so nothing
    /// can be read and the result is an error, not an empty feed.
    #[test]
    fn corpus_invalid_feed_fails_cleanly() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpora/feeds/feed-rs/rss2/rss_2.0_invalid_1.xml"
        ))
        .unwrap();
        let msg = parse(&bytes, Format::Auto, &origin("https://www.reuters.com/"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("source t: not a readable feed (")
                && msg.ends_with("the document is truncated before its first complete item"),
            "{msg}"
        );
    }

    #[test]
    fn an_explicit_format_must_match_the_feed_type() {
        let atom = br#"<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title></feed>"#;
        let rss2 = br#"<rss version="2.0"><channel><title>T</title></channel></rss>"#;
        let rss1 = br#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel><title>T</title></channel></rdf:RDF>"#;
        let json = br#"{"version":"https://jsonfeed.org/version/1.1","title":"T","items":[]}"#;
        let o = origin("https://x");
        let err = |b: &[u8], f| parse(b, f, &o).unwrap_err().to_string();
        assert_eq!(
            err(rss2, Format::Atom),
            "source t: expected an Atom feed, found RSS 2.0"
        );
        assert_eq!(
            err(atom, Format::Rss),
            "source t: expected an RSS feed, found Atom"
        );
        assert_eq!(
            err(json, Format::Atom),
            "source t: expected an Atom feed, found JSON"
        );
        assert_eq!(
            err(atom, Format::Json),
            "source t: expected a JSON Feed, found an XML document"
        );
        assert!(parse(rss1, Format::Rss, &o).is_ok());
        assert!(parse(rss2, Format::Rss, &o).is_ok());
        assert!(parse(atom, Format::Atom, &o).is_ok());
        assert!(parse(json, Format::Json, &o).is_ok());
        assert!(parse(json, Format::Auto, &o).is_ok());
    }

    #[test]
    fn a_document_url_that_is_not_a_url_does_not_break_parsing() {
        let xml = rss(&item(1));
        let parsed = parse(xml.as_bytes(), Format::Auto, &origin("not a url")).unwrap();
        assert_eq!(titles(&parsed), ["Story 1"]);
    }

    #[test]
    fn repair_leaves_well_formed_markup_alone() {
        let xml = r#"<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x "a > b">]><!-- a & b < c --><rss version="0.91" a='1 &amp; &#x41;'><![CDATA[ & < ]]><x/><y z="&lt;"/></rss>"#;
        assert_eq!(repair_xml(xml), xml);
    }

    /// cargo-fuzz `feed` crash 05f12f55 (minimized: a stray `<`, a NUL, then an XML declaration
    /// naming an encoding): quick-xml under feed-rs panicked ("set_encoding() called after
    /// prefix buffer was drained"); the panic was caught, so the source failed as "the feed
    /// parser crashed". A declaration past the start is now dropped before parsing.
    #[test]
    fn fuzz_crash_05f12f55_xml_declaration_past_the_start() {
        let minimized = b"<2.0s/\"es/b006qykl\0<?xml vesion=\"1.0\" encoding=\"ISO-8859-1\" ?>s";
        let err = parse(minimized, Format::Auto, &origin("https://x")).unwrap_err();
        assert!(!err.to_string().contains("crashed"), "{err}");

        // Two documents glued together: the items of the first are read, nothing crashes.
        let glued = format!(
            "{}\n<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n{}",
            rss(&item(1)),
            rss(&item(2))
        );
        let parsed = parse(glued.as_bytes(), Format::Auto, &origin("https://x")).unwrap();
        assert_eq!(titles(&parsed)[0], "Story 1");
        assert!(
            parsed.warnings.iter().all(|w| !w.contains("crashed")),
            "{:?}",
            parsed.warnings
        );

        // A declaration in the middle of a single document is dropped, the rest kept.
        let inner = rss(&format!(
            "{}<?XML version='1.0' encoding='windows-1252'?>{}",
            item(1),
            item(2)
        ));
        let parsed = parse(inner.as_bytes(), Format::Auto, &origin("https://x")).unwrap();
        assert_eq!(titles(&parsed), ["Story 1", "Story 2"]);
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    }

    /// cargo-fuzz `feed` crash 448d6de5 (minimized: `<rss<channel<item<author>s@y.in` then an
    /// invalid byte): feed-rs sliced the author's text one byte past the email, inside the
    /// U+FFFD, and panicked; the panic was caught and the whole feed failed. A text contact
    /// whose email touches a non-ASCII character is now dropped before parsing.
    #[test]
    fn fuzz_crash_448d6de5_email_next_to_a_multibyte_character() {
        let minimized = b"<rss<channel<item<author>s@y.in\x9c\xc3\x9f";
        if let Err(err) = parse(minimized, Format::Auto, &origin("https://x")) {
            assert!(!err.to_string().contains("crashed"), "{err}");
        }

        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>T</title><managingEditor>ed@example.com—Ed</managingEditor>
<item><title>Story 1</title><link>https://example.com/1</link><author>Jane\u{a0}jane@example.com</author></item>
<item><title>Story 2</title><link>https://example.com/2</link><author>jane@example.com\u{fffd}</author></item>
<item><title>Story 3</title><link>https://example.com/3</link><author><![CDATA[«jane@example.com»]]></author></item>
<item><title>Story 4</title><link>https://example.com/4</link><author>Jane&#160;jane@example.com</author></item>
<item><title>Story 5</title><link>https://example.com/5</link><author>jane@example.com (Jane Doe)</author></item>
<item><title>Story 6</title><link>https://example.com/6</link><author>Renée Müller</author></item>
</channel></rss>"#
            .replace("\\u{a0}", "\u{a0}")
            .replace("\\u{fffd}", "\u{fffd}");
        let parsed = parse(xml.as_bytes(), Format::Auto, &origin("https://x")).unwrap();
        assert_eq!(
            titles(&parsed),
            [
                "Story 1", "Story 2", "Story 3", "Story 4", "Story 5", "Story 6"
            ]
        );
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        let authors: Vec<usize> = parsed.items.iter().map(|i| i.authors.len()).collect();
        assert_eq!(
            authors,
            [0, 0, 0, 0, 1, 1],
            "risky contacts dropped, others kept"
        );
        assert_eq!(parsed.items[5].authors, ["Renée Müller"]);
    }

    /// cargo-fuzz `feed` crash c096abbd: the same feed-rs panic as 448d6de5, through an RSS 1.0
    /// channel's `dc:creator` (also reached by RSS 2.0 `dc:creator`, `itunes:author`,
    /// `itunes:name` and JSON Feed author names): those are dropped too when risky.
    #[test]
    fn fuzz_crash_c096abbd_risky_creator_names_in_any_format() {
        let rdf = "<?xml version=\"1.0\"?><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" \
            xmlns=\"http://purl.org/rss/1.0/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\
            <channel rdf:about=\"https://example.com/\"><title>T</title><link>https://example.com/</link>\
            <dc:creator>ed@example.com\u{fffd}</dc:creator></channel>\
            <item rdf:about=\"https://example.com/1\"><title>Story 1</title><link>https://example.com/1</link>\
            <dc:creator>«jane@example.com»</dc:creator></item>\
            <item rdf:about=\"https://example.com/2\"><title>Story 2</title><link>https://example.com/2</link>\
            <dc:creator>Jane Doe</dc:creator></item></rdf:RDF>";
        let parsed = parse(rdf.as_bytes(), Format::Auto, &origin("https://x")).unwrap();
        assert_eq!(titles(&parsed), ["Story 1", "Story 2"]);
        assert!(parsed.items[0].authors.is_empty());
        assert_eq!(parsed.items[1].authors, ["Jane Doe"]);

        let rss2 = r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>T</title>
<itunes:author>Ed—ed@example.com</itunes:author><itunes:owner><itunes:name>Ed ed@example.com…</itunes:name><itunes:email>ed@example.com</itunes:email></itunes:owner>
<item><title>Story 1</title><link>https://example.com/1</link><dc:creator>Jane&#160;jane@example.com</dc:creator></item>
<item><title>Story 2</title><link>https://example.com/2</link><dc:creator>Johnson &amp; Johnson</dc:creator></item>
</channel></rss>"#;
        let parsed = parse(rss2.as_bytes(), Format::Auto, &origin("https://x")).unwrap();
        assert_eq!(titles(&parsed), ["Story 1", "Story 2"]);
        assert!(parsed.items[0].authors.is_empty());
        assert_eq!(parsed.items[1].authors, ["Johnson & Johnson"]);

        let json = r#"{"version": "https://jsonfeed.org/version/1.1", "title": "T",
            "authors": [{"name": "ed@example.com\u00a0Ed"}],
            "items": [{"id": "1", "url": "https://example.com/1", "title": "Story 1",
                       "content_text": "x", "author": {"name": "Jane\u00a0jane@example.com"}},
                      {"id": "2", "url": "https://example.com/2", "title": "Story 2",
                       "content_text": "y", "authors": [{"name": "Renée"}]}]}"#;
        let parsed = parse(json.as_bytes(), Format::Auto, &origin("https://x")).unwrap();
        assert_eq!(titles(&parsed), ["Story 1", "Story 2"]);
        assert!(parsed.items[0].authors.is_empty());
        assert_eq!(parsed.items[1].authors, ["Renée"]);
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    }

    #[test]
    fn never_panics_on_cut_or_mangled_documents() {
        let xml = rss(&format!(
            "{}<item><title>&eacute;&#x1F600;<![CDATA[<b>x</b>]]></title><link>https://example.com/é</link><description>&lt;p&gt;a</description></item>{}",
            item(1),
            item(2)
        ));
        let bytes = xml.as_bytes();
        for end in 0..bytes.len() {
            let _ = parse(&bytes[..end], Format::Auto, &origin("https://x"));
            let mut mangled = bytes.to_vec();
            mangled[end] = b"<&>\"'\0\xFF"[end % 7];
            let _ = parse(&mangled, Format::Auto, &origin("https://x"));
        }
    }
}

/// Every feed of the feed-rs corpus that has its expected parse (`X.serde.json`, what feed-rs
/// itself makes of `X`) goes through our `parse` and must give, entry for entry, the same title,
/// link and date. Where our normalization differs on purpose, the expectation is derived from
/// the feed-rs value accordingly:
/// - titles are plain text: the expected title is the feed-rs title through the same HTML to
///   text conversion (tags stripped, entities decoded, whitespace collapsed);
/// - links are the entry's own page (an `alternate` link, else one without `rel`, else the
///   first; else an `http` id), made canonical (tracking parameters and fragment removed);
/// - entries with no title, or no usable absolute link (the corpus is read with no document
///   URL, so a relative link cannot resolve), are kept: a title derived from the summary (or
///   the URL), the address from a permalink guid or `rdf:about`, else none (`url_source: none`);
/// - the date is `published`, else `updated`.
#[cfg(test)]
mod corpus_tests {
    use super::*;
    use serde_json::Value;
    use std::path::{Path, PathBuf};

    const CORPUS: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpora/feeds/feed-rs"
    );

    /// The corpus entries feed-rs gives without a title or a usable link, which we complete (a
    /// derived title, another address field) or keep without an address, by file: how many,
    /// and why.
    const SKIPPED: &[(&str, usize, &str)] = &[
        ("atom_entry_1.xml", 1, "no link, a urn: id"),
        ("atom_example_7.xml", 1, "no link, a tag: id"),
        ("atom_pub_spec_1.xml", 1, "no link, a urn: id"),
        ("rss_0.91_missing_id.xml", 1, "no link"),
        (
            "rss_0.92_spec_1.xml",
            3,
            "no link and no title (description-only items)",
        ),
        (
            "rss_1.0_example_1.xml",
            2,
            "the links are placeholder text (記事1のURL)",
        ),
        (
            "rss_2.0_ghost_1.xml",
            1,
            "no link, a non-URL guid, no title",
        ),
        (
            "rss_2.0_spec_1.xml",
            2,
            "no title (description-only items; the guid is the link)",
        ),
    ];

    fn inputs() -> Vec<(PathBuf, PathBuf)> {
        let mut found = Vec::new();
        for dir in ["atom", "rss0", "rss1", "rss2", "jsonfeed"] {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(Path::new(CORPUS).join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            entries.sort();
            for path in entries {
                let name = path.file_name().unwrap().to_str().unwrap().to_string();
                if name.ends_with(".serde.json") {
                    continue;
                }
                let Some(stem) = name
                    .strip_suffix(".xml")
                    .or_else(|| name.strip_suffix(".json"))
                else {
                    continue;
                };
                let expected = path.with_file_name(format!("{stem}.serde.json"));
                if expected.exists() {
                    found.push((path, expected));
                }
            }
        }
        found
    }

    /// What we should make of one feed-rs entry: `None` when feed-rs lacks its title or link.
    fn expected_item(
        entry: &Value,
        base: Option<&Url>,
    ) -> Option<(String, String, Option<String>)> {
        let links: Vec<Link> = serde_json::from_value(entry["links"].clone()).unwrap();
        let id = entry["id"].as_str().unwrap_or_default();
        let raw = pick_link(&links).or_else(|| id.starts_with("http").then_some(id))?;
        let url = canonical(raw, base)?.to_string();
        let title = plain_text(entry["title"]["content"].as_str()?);
        if title.is_empty() {
            return None;
        }
        let date = [&entry["published"], &entry["updated"]]
            .into_iter()
            .find_map(|d| d.as_str())
            .map(|d| {
                chrono::DateTime::parse_from_rfc3339(d)
                    .unwrap()
                    .with_timezone(&chrono::Utc)
                    .to_rfc3339()
            });
        Some((title, url, date))
    }

    #[test]
    fn the_feed_rs_corpus_parses_as_feed_rs_expects() {
        let inputs = inputs();
        assert!(inputs.len() >= 60, "corpus not found under {CORPUS}");
        let mut items_checked = 0;
        for (input, expected) in &inputs {
            let bytes = std::fs::read(input).unwrap();
            let expected: Value =
                serde_json::from_slice(&std::fs::read(expected).unwrap()).unwrap();
            // The document's URL, as a fetch would know it: its `self` link, if absolute.
            let self_link = expected["links"].as_array().and_then(|links| {
                links
                    .iter()
                    .filter(|l| l["rel"] == "self")
                    .find_map(|l| l["href"].as_str().filter(|h| h.starts_with("http")))
            });
            let base = self_link.and_then(|u| Url::parse(u).ok());
            let origin = Origin {
                source_id: "corpus",
                url: self_link,
                content_type: None,
            };
            let parsed = parse(&bytes, Format::Auto, &origin)
                .unwrap_or_else(|e| panic!("{}: {e}", input.display()));
            let entries = expected["entries"].as_array().unwrap();
            let file = input.file_name().unwrap().to_str().unwrap();
            assert_eq!(
                parsed.items.len(),
                entries.len(),
                "{file}: every entry is kept"
            );
            let mut completed = 0;
            for (entry, item) in entries.iter().zip(&parsed.items) {
                let got = (
                    item.title.clone(),
                    item.url.clone(),
                    item.published.map(|d| d.to_rfc3339()),
                );
                match expected_item(entry, base.as_ref()) {
                    Some(want) => {
                        assert_eq!(got, want, "{file}");
                        items_checked += 1;
                    }
                    None => {
                        completed += 1;
                        assert!(!item.title.is_empty(), "{file}: {item:?}");
                        assert!(
                            item.title_source == TitleSource::Derived
                                || item.url_source != UrlSource::Link,
                            "{file}: {item:?}"
                        );
                        assert_eq!(
                            item.url.is_empty(),
                            item.url_source == UrlSource::None,
                            "{file}: {item:?}"
                        );
                    }
                }
            }
            let known = SKIPPED
                .iter()
                .find(|(f, _, _)| *f == file)
                .map_or(0, |s| s.1);
            assert_eq!(completed, known, "{file}: unexpected incomplete entries");
        }
        assert!(items_checked > 80, "{items_checked}");
    }

    /// feed-rs's lenient timestamp vectors, through a feed: RSS `pubDate` and Atom `updated`.
    #[test]
    fn lenient_dates_survive_the_pipeline() {
        let vectors: Value = serde_json::from_slice(
            &std::fs::read(Path::new(CORPUS).join("date_vectors.json")).unwrap(),
        )
        .unwrap();
        let vectors = vectors["vectors"].as_array().unwrap();
        assert!(vectors.len() >= 10);
        for v in vectors {
            let input = v["input"].as_str().unwrap();
            let xml = if v["test"] == "test_timestamp_atom" {
                format!(
                    r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry><title>x</title><link href="https://example.com/a"/><updated>{input}</updated></entry></feed>"#
                )
            } else {
                format!(
                    r#"<rss version="2.0"><channel><title>T</title><item><title>x</title><link>https://example.com/a</link><pubDate>{input}</pubDate></item></channel></rss>"#
                )
            };
            let parsed = parse(
                xml.as_bytes(),
                Format::Auto,
                &Origin {
                    source_id: "t",
                    url: None,
                    content_type: None,
                },
            )
            .unwrap();
            let want = chrono::DateTime::parse_from_rfc3339(v["expected_utc"].as_str().unwrap())
                .unwrap()
                .with_timezone(&chrono::Utc);
            assert_eq!(parsed.items[0].published, Some(want), "{input}");
            assert_eq!(parsed.items[0].date_source, DateSource::Feed);
        }
    }

    /// No input makes the parser panic: every corpus file (the XML-layer samples too), cut at
    /// many points.
    #[test]
    fn corpus_prefixes_never_panic() {
        let mut files: Vec<PathBuf> = inputs().into_iter().map(|(i, _)| i).collect();
        for name in ["xml_iso8859.xml", "xml_sample_1.xml", "xml_sample_2.xml"] {
            files.push(Path::new(CORPUS).join("xml").join(name));
        }
        for file in files {
            let bytes = std::fs::read(&file).unwrap();
            let step = (bytes.len() / 40).max(1);
            for end in (0..bytes.len()).step_by(step) {
                let _ = parse(
                    &bytes[..end],
                    Format::Auto,
                    &Origin {
                        source_id: "t",
                        url: Some("https://example.com/feed"),
                        content_type: None,
                    },
                );
            }
        }
    }
}

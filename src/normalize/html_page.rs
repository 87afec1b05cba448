//! Company news pages: CSS-selector extraction of listing pages into [`Item`]s, and of article
//! pages into their main text and publication date (JSON-LD → meta → `<time>` → visible text).
//! Also owns the hand-written date parser for dates written in prose ([`date_from_text`]).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node, Selector};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::Origin;
use crate::error::{Error, Result};
use crate::model::{DateSource, Item};
use crate::text::clean_line;
use crate::urls::{canonical, item_id};

/// Per-source CSS selectors for a news listing page (from the source catalogue).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageSelectors {
    /// One element per news item.
    pub item: String,
    /// Inside the item.
    pub title: String,
    /// Inside the item; default: the first `<a href>` in the title element, else in the item
    /// (or the item itself when it is a link).
    #[serde(default)]
    pub link: Option<String>,
    /// Inside the item.
    #[serde(default)]
    pub date: Option<String>,
    /// Inside the item.
    #[serde(default)]
    pub summary: Option<String>,
    /// On the page: link to the next listing page.
    #[serde(default)]
    pub next_page: Option<String>,
}

struct Compiled {
    item: Selector,
    title: Selector,
    link: Option<Selector>,
    date: Option<Selector>,
    summary: Option<Selector>,
    next_page: Option<Selector>,
}

impl PageSelectors {
    /// Checks that every selector parses; the message names the field and the selector.
    pub fn validate(&self) -> Result<(), String> {
        self.compile().map(|_| ())
    }

    fn compile(&self) -> Result<Compiled, String> {
        let optional = |field: &str, sel: &Option<String>| {
            sel.as_deref().map(|s| compile_one(field, s)).transpose()
        };
        Ok(Compiled {
            item: compile_one("item", &self.item)?,
            title: compile_one("title", &self.title)?,
            link: optional("link", &self.link)?,
            date: optional("date", &self.date)?,
            summary: optional("summary", &self.summary)?,
            next_page: optional("next_page", &self.next_page)?,
        })
    }
}

fn compile_one(field: &str, selector: &str) -> Result<Selector, String> {
    Selector::parse(selector)
        .map_err(|e| clean_line(&format!("{field} selector `{selector}` is invalid: {e}")))
}

/// The items of one listing page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    pub items: Vec<Item>,
    /// Items skipped, one line each (item index and why).
    pub warnings: Vec<String>,
    /// The next listing page, when the `next_page` selector found one.
    pub next_page: Option<Url>,
}

/// Extracts the items of a listing page. Links resolve against `origin.url` (or the page's
/// `<base href>`). Items without title or usable link are skipped with a warning, as are repeats
/// of an earlier item's link. Date from the `date` selector: a `datetime` attribute if present
/// ([`DateSource::TimeTag`]), else text parsed by [`date_from_text`] ([`DateSource::Text`]);
/// without a `date` selector, a `<time datetime>` inside the item; else a date in the URL path
/// (`/2026/11/17/` or `/2026-11-17-`, [`DateSource::Url`]); else none.
pub fn parse_listing(
    bytes: &[u8],
    selectors: &PageSelectors,
    origin: &Origin<'_>,
) -> Result<Listing> {
    let compiled = selectors
        .compile()
        .map_err(|m| Error::source(origin.source_id, format!("invalid page selectors: {m}")))?;
    let text = decode(bytes, origin.content_type);
    check_html(&text, origin.source_id)?;
    let doc = Html::parse_document(&text);
    let page_url = origin.url.and_then(|u| Url::parse(u.trim()).ok());
    let base = document_base(&doc, page_url.as_ref());
    let elements: Vec<ElementRef<'_>> = doc.select(&compiled.item).collect();
    if elements.is_empty() {
        return Err(Error::source(
            origin.source_id,
            clean_line(&format!(
                "selector `{}` matched no element: the page layout may have changed",
                selectors.item
            )),
        ));
    }
    let mut listing = Listing::default();
    if elements.len() > MAX_ITEMS {
        listing.warnings.push(format!(
            "selector `{}` matched {} elements: only the first {MAX_ITEMS} read",
            clean_line(&selectors.item),
            elements.len()
        ));
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, element) in elements.into_iter().take(MAX_ITEMS).enumerate() {
        match listing_item(element, &compiled, base.as_ref(), origin.source_id) {
            Ok(item) => {
                if let Some(first) = seen.get(&item.url) {
                    listing
                        .warnings
                        .push(format!("item {index}: same link as item {first}: skipped"));
                } else {
                    seen.insert(item.url.clone(), index);
                    listing.items.push(item);
                }
            }
            Err(why) => listing.warnings.push(format!("item {index}: {why}")),
        }
    }
    if let Some(selector) = &compiled.next_page {
        let this_page = page_url.as_ref().and_then(|u| canonical(u.as_str(), None));
        listing.next_page = doc
            .select(selector)
            .flat_map(link_candidates)
            .filter_map(|raw| resolve_link(raw, base.as_ref()))
            .find(|u| Some(u) != this_page.as_ref());
    }
    Ok(listing)
}

/// A listing page never holds more news items than this; more means a too-broad selector.
const MAX_ITEMS: usize = 500;

fn listing_item(
    element: ElementRef<'_>,
    selectors: &Compiled,
    base: Option<&Url>,
    source_id: &str,
) -> Result<Item, String> {
    let (title_element, title) = element
        .select(&selectors.title)
        .map(|e| (e, element_text(e, &[])))
        .find(|(_, t)| !t.is_empty())
        .ok_or("no title: skipped")?;
    let candidates: Vec<&str> = match &selectors.link {
        Some(selector) => element.select(selector).flat_map(link_candidates).collect(),
        None => {
            let mut c = link_candidates(title_element);
            c.extend(link_candidates(element));
            c
        }
    };
    let url = candidates
        .iter()
        .find_map(|raw| resolve_link(raw, base))
        .ok_or_else(|| match candidates.first() {
            Some(raw) => format!("unusable link {raw:?}: skipped"),
            None => "no link: skipped".to_string(),
        })?;
    let (published, date_source) = listing_date(element, selectors, &url);
    let summary = selectors
        .summary
        .as_ref()
        .and_then(|s| {
            element
                .select(s)
                .map(|e| element_text(e, &[]))
                .find(|t| !t.is_empty())
        })
        .unwrap_or_default();
    let url = url.to_string();
    Ok(Item {
        id: item_id(&url),
        title,
        url,
        published,
        date_source,
        summary: summary.clone(),
        text: summary,
        authors: Vec::new(),
        venue: None,
        source: source_id.to_string(),
        also_in: Vec::new(),
        title_source: Default::default(),
        url_source: Default::default(),
    })
}

fn listing_date(
    element: ElementRef<'_>,
    selectors: &Compiled,
    url: &Url,
) -> (Option<DateTime<Utc>>, DateSource) {
    match &selectors.date {
        Some(selector) => {
            for date_element in element.select(selector) {
                if let Some(d) = datetime_attribute(date_element) {
                    return (Some(d), DateSource::TimeTag);
                }
                if let Some(d) = date_from_text(&element_text(date_element, &[])) {
                    return (Some(d), DateSource::Text);
                }
            }
        }
        None => {
            if let Some(d) = element
                .descendent_elements()
                .filter(|e| e.value().name() == "time")
                .find_map(|e| e.attr("datetime").and_then(parse_date_attribute))
            {
                return (Some(d), DateSource::TimeTag);
            }
        }
    }
    match date_from_url(url) {
        Some(d) => (Some(d), DateSource::Url),
        None => (None, DateSource::None),
    }
}

/// The `datetime` attribute of the element itself or of a `<time>` inside it.
fn datetime_attribute(element: ElementRef<'_>) -> Option<DateTime<Utc>> {
    element
        .descendent_elements()
        .filter(|e| e.id() == element.id() || e.value().name() == "time")
        .find_map(|e| e.attr("datetime").and_then(parse_date_attribute))
}

/// Raw hrefs the element offers, best first: its own `href`, then those of the links inside it.
fn link_candidates(element: ElementRef<'_>) -> Vec<&str> {
    element
        .descendent_elements()
        .filter(|e| e.id() == element.id() || e.value().name() == "a")
        .filter_map(|e| e.attr("href"))
        .collect()
}

/// A usable absolute link: not empty, not an in-page anchor, not javascript/mailto/tel.
fn resolve_link(raw: &str, base: Option<&Url>) -> Option<Url> {
    let raw = raw.trim();
    let lower = raw.get(..11).unwrap_or(raw).to_ascii_lowercase();
    if raw.is_empty()
        || raw.starts_with('#')
        || lower.starts_with("javascript:")
        || lower.starts_with("mailto:")
        || lower.starts_with("tel:")
    {
        return None;
    }
    canonical(raw, base).filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// The URL relative links resolve against: the page URL, adjusted by `<base href>`.
fn document_base(doc: &Html, page_url: Option<&Url>) -> Option<Url> {
    let base_href = doc
        .root_element()
        .descendent_elements()
        .find(|e| e.value().name() == "base" && e.attr("href").is_some())
        .and_then(|e| e.attr("href"))
        .map(str::trim);
    let joined = base_href.and_then(|href| match page_url {
        Some(page) => page.join(href).ok(),
        None => Url::parse(href).ok(),
    });
    joined
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .or_else(|| page_url.cloned())
}

/// What an article page adds: its main text and a better date.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    pub text: String,
    pub published: Option<(DateTime<Utc>, DateSource)>,
}

/// Date cascade: JSON-LD `datePublished` (any `<script type="application/ld+json">`, including
/// `@graph` arrays and nested objects; article-typed nodes first) → `<meta
/// property="article:published_time">` (and `name="date"`, `itemprop="datePublished"`, ...;
/// [`DateSource::Meta`]) → first `<time datetime>` ([`DateSource::TimeTag`]) → a date in the
/// visible text near the top ([`DateSource::Text`]). Text: the `<article>` element's text (the
/// longest one), else `<main>`, else the `<p>` elements of `<body>` joined; scripts, nav,
/// header, footer and aside excluded, whitespace collapsed.
pub fn parse_article(bytes: &[u8]) -> Article {
    let source = decode(bytes, None);
    let doc = Html::parse_document(&source);
    let published = jsonld_date(&doc)
        .map(|d| (d, DateSource::JsonLd))
        .or_else(|| meta_date(&doc).map(|d| (d, DateSource::Meta)))
        .or_else(|| time_tag_date(&doc).map(|d| (d, DateSource::TimeTag)))
        .or_else(|| text_date(&doc).map(|d| (d, DateSource::Text)));
    Article {
        text: article_text(&doc),
        published,
    }
}

/// Elements whose text is never content.
const NEVER_TEXT: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "iframe", "object", "select", "button",
];
/// Page furniture left out of an article's text.
const FURNITURE: &[&str] = &["nav", "header", "footer", "aside", "form"];
/// How much visible text counts as "near the top" when looking for a date.
const TOP_TEXT_CHARS: usize = 3000;

fn elements_named<'a>(doc: &'a Html, name: &'a str) -> impl Iterator<Item = ElementRef<'a>> + 'a {
    doc.root_element()
        .descendent_elements()
        .filter(move |e| e.value().name() == name)
}

fn article_text(doc: &Html) -> String {
    let longest = elements_named(doc, "article")
        .map(|e| element_text(e, FURNITURE))
        .max_by_key(String::len)
        .filter(|t| !t.is_empty());
    if let Some(text) = longest {
        return text;
    }
    if let Some(text) = elements_named(doc, "main")
        .map(|e| element_text(e, FURNITURE))
        .find(|t| !t.is_empty())
    {
        return text;
    }
    let paragraphs: Vec<String> = elements_named(doc, "p")
        .filter(|p| {
            !p.ancestors().any(|a| {
                a.value().as_element().is_some_and(|e| {
                    NEVER_TEXT.contains(&e.name()) || FURNITURE.contains(&e.name())
                })
            })
        })
        .map(|p| element_text(p, FURNITURE))
        .filter(|t| !t.is_empty())
        .collect();
    clean_line(&paragraphs.join(" "))
}

fn jsonld_date(doc: &Html) -> Option<DateTime<Utc>> {
    let mut candidates: Vec<(bool, usize, DateTime<Utc>)> = Vec::new();
    for script in elements_named(doc, "script").filter(|s| {
        s.attr("type").is_some_and(|t| {
            t.trim()
                .to_ascii_lowercase()
                .starts_with("application/ld+json")
        })
    }) {
        let raw: String = script.text().collect();
        let json = strip_script_wrappers(&raw).replace(['\n', '\r', '\t'], " ");
        match serde_json::from_str::<Value>(&json) {
            Ok(value) => collect_jsonld_dates(&value, 0, &mut candidates),
            Err(_) => {
                if let Some(d) = scan_date_published(&json) {
                    candidates.push((false, usize::MAX, d));
                }
            }
        }
    }
    // Stable sort: article-typed nodes first, then the shallowest, then document order.
    candidates.sort_by_key(|(article, depth, _)| (!article, *depth));
    candidates.first().map(|(_, _, d)| *d)
}

fn strip_script_wrappers(raw: &str) -> &str {
    let mut s = raw.trim();
    for prefix in ["<!--", "//<![CDATA[", "<![CDATA["] {
        s = s.strip_prefix(prefix).unwrap_or(s).trim_start();
    }
    for suffix in ["-->", "//]]>", "]]>"] {
        s = s.strip_suffix(suffix).unwrap_or(s).trim_end();
    }
    s
}

fn collect_jsonld_dates(value: &Value, depth: usize, out: &mut Vec<(bool, usize, DateTime<Utc>)>) {
    match value {
        Value::Array(values) => {
            for v in values {
                collect_jsonld_dates(v, depth + 1, out);
            }
        }
        Value::Object(map) => {
            if let Some(d) = map.get("datePublished").and_then(jsonld_value_date) {
                let article = map.get("@type").is_some_and(is_article_type);
                out.push((article, depth, d));
            }
            for (key, v) in map {
                if key != "datePublished" {
                    collect_jsonld_dates(v, depth + 1, out);
                }
            }
        }
        _ => {}
    }
}

fn jsonld_value_date(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::String(s) => parse_date_attribute(s),
        Value::Array(values) => values.iter().find_map(jsonld_value_date),
        Value::Object(map) => map.get("@value").and_then(jsonld_value_date),
        _ => None,
    }
}

fn is_article_type(value: &Value) -> bool {
    match value {
        Value::String(s) => {
            let s = s.to_ascii_lowercase();
            s.contains("article") || s.contains("posting") || s.contains("pressrelease")
        }
        Value::Array(values) => values.iter().any(is_article_type),
        _ => false,
    }
}

/// Fallback for JSON-LD that does not parse: the string after the first `"datePublished":`.
fn scan_date_published(json: &str) -> Option<DateTime<Utc>> {
    let key = "\"datePublished\"";
    let mut rest = json;
    while let Some(pos) = rest.find(key) {
        rest = &rest[pos + key.len()..];
        let after = rest.trim_start();
        if let Some(value) = after.strip_prefix(':').map(str::trim_start)
            && let Some(value) = value.strip_prefix('"')
            && let Some(end) = value.find('"')
            && let Some(d) = parse_date_attribute(&value[..end])
        {
            return Some(d);
        }
    }
    None
}

/// Meta names for the publication date, best first.
const META_DATE_KEYS: &[&str] = &[
    "article:published_time",
    "datepublished",
    "og:published_time",
    "date",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "publication_date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.date",
    "citation_publication_date",
    "parsely-pub-date",
    "sailthru.date",
];

fn meta_date(doc: &Html) -> Option<DateTime<Utc>> {
    let mut best: Option<(usize, DateTime<Utc>)> = None;
    for element in doc.root_element().descendent_elements() {
        let is_meta = element.value().name() == "meta";
        let keys = if is_meta {
            [
                element.attr("property"),
                element.attr("name"),
                element.attr("itemprop"),
            ]
        } else {
            [element.attr("itemprop"), None, None]
        };
        let Some(rank) = keys
            .iter()
            .flatten()
            .filter_map(|k| {
                let k = k.trim().to_ascii_lowercase();
                META_DATE_KEYS.iter().position(|m| *m == k)
            })
            .filter(|&rank| is_meta || rank == 1)
            .min()
        else {
            continue;
        };
        if best.is_some_and(|(r, _)| r <= rank) {
            continue;
        }
        let value = element
            .attr("content")
            .or_else(|| element.attr("datetime"))
            .and_then(parse_date_attribute)
            .or_else(|| {
                (!is_meta)
                    .then(|| date_from_text(&element_text(element, &[])))
                    .flatten()
            });
        if let Some(d) = value {
            best = Some((rank, d));
        }
    }
    best.map(|(_, d)| d)
}

fn time_tag_date(doc: &Html) -> Option<DateTime<Utc>> {
    elements_named(doc, "time").find_map(|t| t.attr("datetime").and_then(parse_date_attribute))
}

fn text_date(doc: &Html) -> Option<DateTime<Utc>> {
    let skip: Vec<&str> = FURNITURE
        .iter()
        .copied()
        .filter(|n| *n != "header")
        .collect();
    let container = elements_named(doc, "article")
        .max_by_key(|e| element_text(*e, FURNITURE).len())
        .or_else(|| elements_named(doc, "main").next())
        .or_else(|| elements_named(doc, "body").next())?;
    let text = element_text(container, &skip);
    let top: String = text.chars().take(TOP_TEXT_CHARS).collect();
    date_from_text(&top)
}

use crate::text::BLOCK_ELEMENTS;

/// Visible text of an element, a space where a block element separated words, whitespace
/// collapsed. Iterative, so deeply nested pages cannot exhaust the stack.
fn element_text(element: ElementRef<'_>, skip: &[&str]) -> String {
    let mut out = String::new();
    let mut skipping: Option<ego_tree::NodeId> = None;
    for edge in element.traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Text(t) => out.push_str(t),
                    Node::Element(e) => {
                        let name = e.name();
                        if node.id() != element.id()
                            && (NEVER_TEXT.contains(&name) || skip.contains(&name))
                        {
                            skipping = Some(node.id());
                        } else if BLOCK_ELEMENTS.contains(&name) {
                            out.push(' ');
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if let Some(id) = skipping {
                    if id == node.id() {
                        skipping = None;
                    }
                    continue;
                }
                if let Node::Element(e) = node.value()
                    && BLOCK_ELEMENTS.contains(&e.name())
                {
                    out.push(' ');
                }
            }
        }
    }
    clean_line(&out)
}

/// The document as text: a UTF-16 BOM, else the HTTP charset, else a `<meta charset>` the bytes
/// need (valid UTF-8 wins over a meta declaration), else lossy UTF-8.
fn decode(bytes: &[u8], content_type: Option<&str>) -> String {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let rest = bytes.get(bom..).unwrap_or_default();
        return encoding.decode_without_bom_handling(rest).0.into_owned();
    }
    let http = content_type.and_then(charset_param);
    let declared = http
        .map(|l| (l, true))
        .or_else(|| meta_charset(bytes).map(|l| (l, false)));
    if let Some((label, authoritative)) = declared
        && let Some(encoding) = encoding_rs::Encoding::for_label(label.as_bytes())
        && encoding != encoding_rs::UTF_8
        && (authoritative
            || (encoding != encoding_rs::UTF_16LE
                && encoding != encoding_rs::UTF_16BE
                && std::str::from_utf8(bytes).is_err()))
    {
        return encoding.decode_without_bom_handling(bytes).0.into_owned();
    }
    String::from_utf8_lossy(bytes).into_owned()
}

fn charset_param(content_type: &str) -> Option<String> {
    let lower = content_type.to_ascii_lowercase();
    let pos = lower.find("charset=")?;
    let value = lower[pos + "charset=".len()..]
        .trim_start()
        .trim_start_matches(['"', '\'']);
    let end = value
        .find(|c: char| matches!(c, '"' | '\'' | ';' | ' ' | '/' | '>') || c.is_whitespace())
        .unwrap_or(value.len());
    let label = &value[..end];
    (!label.is_empty()).then(|| label.to_string())
}

fn meta_charset(bytes: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(bytes.get(..4096).unwrap_or(bytes)).to_ascii_lowercase();
    let mut rest = head.as_str();
    while let Some(pos) = rest.find("<meta") {
        rest = &rest[pos + "<meta".len()..];
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        if let Some(label) = charset_param(tag) {
            return Some(label);
        }
    }
    None
}

fn check_html(text: &str, source_id: &str) -> Result<()> {
    let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    if trimmed.is_empty() {
        return Err(Error::source(
            source_id,
            "the document is empty: expected an HTML page",
        ));
    }
    if !trimmed.starts_with('<') {
        return Err(Error::source(
            source_id,
            "the document is not HTML (it does not start with a tag): check the source URL",
        ));
    }
    let head: String = trimmed
        .chars()
        .take(1024)
        .collect::<String>()
        .to_lowercase();
    if !head.contains("<html")
        && (head.contains("<rss") || head.contains("<feed") || head.contains("<rdf:rdf"))
    {
        return Err(Error::source(
            source_id,
            "the document is a feed, not an HTML page: configure the source as a feed",
        ));
    }
    Ok(())
}

/// An attribute value (`datetime`, `content`, JSON-LD): an instant (RFC 3339, ISO 8601 with or
/// without offset, RFC 2822), else a date in text.
fn parse_date_attribute(s: &str) -> Option<DateTime<Utc>> {
    parse_instant(s)
        .or_else(|| date_from_text(s))
        .filter(|d| plausible_year(d.date_naive()))
}

fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f %z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(s, format) {
            return Some(d.with_timezone(&Utc));
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, format) {
            return Some(d.and_utc());
        }
    }
    DateTime::parse_from_rfc2822(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn plausible_year(date: NaiveDate) -> bool {
    use chrono::Datelike;
    (1900..=2199).contains(&date.year())
}

/// A date in the URL path: `/2026/11/17/` or a segment starting `2026-11-17` (then end, `-`,
/// `_` or `.`).
fn date_from_url(url: &Url) -> Option<DateTime<Utc>> {
    let segments: Vec<&str> = url.path_segments()?.collect();
    for (i, segment) in segments.iter().enumerate() {
        if let [y, m, d, ..] = segments[i..]
            && all_digits(y, 4..=4)
            && all_digits(m, 1..=2)
            && all_digits(d, 1..=2)
            && let Some(date) = ymd(y, m, d)
        {
            return Some(date);
        }
        let b = segment.as_bytes();
        if b.len() >= 10
            && b[4] == b'-'
            && b[7] == b'-'
            && (b.len() == 10 || matches!(b[10], b'-' | b'_' | b'.'))
            && let (Some(y), Some(m), Some(d)) =
                (segment.get(..4), segment.get(5..7), segment.get(8..10))
            && all_digits(y, 4..=4)
            && all_digits(m, 2..=2)
            && all_digits(d, 2..=2)
            && let Some(date) = ymd(y, m, d)
        {
            return Some(date);
        }
    }
    None
}

fn all_digits(s: &str, len: std::ops::RangeInclusive<usize>) -> bool {
    len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

fn ymd(y: &str, m: &str, d: &str) -> Option<DateTime<Utc>> {
    let date = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
    if !plausible_year(date) {
        return None;
    }
    date.and_hms_opt(0, 0, 0).map(|t| t.and_utc())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok<'a> {
    Num(&'a str),
    Word(&'a str),
    Punct(char),
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    tok: Tok<'a>,
    start: usize,
    /// Whitespace before the token.
    spaced: bool,
}

fn tokenize(s: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut spaced = false;
    let mut chars = s.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_whitespace() || crate::text::is_unsafe_char(c) {
            spaced = true;
            continue;
        }
        let same_kind = |d: char| {
            if c.is_numeric() {
                d.is_numeric()
            } else {
                d.is_alphabetic() && !d.is_numeric()
            }
        };
        let tok = if c.is_numeric() || c.is_alphabetic() {
            let mut end = start + c.len_utf8();
            while let Some(&(i, d)) = chars.peek() {
                if !same_kind(d) {
                    break;
                }
                end = i + d.len_utf8();
                chars.next();
            }
            let text = &s[start..end];
            if c.is_numeric() {
                Tok::Num(text)
            } else {
                Tok::Word(text)
            }
        } else {
            Tok::Punct(c)
        };
        tokens.push(Token { tok, start, spaced });
        spaced = false;
    }
    tokens
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Month number of a full or abbreviated English month name.
fn month_of(word: &str) -> Option<u32> {
    let w = word.to_lowercase();
    if w == "sept" {
        return Some(9);
    }
    MONTHS
        .iter()
        .position(|m| *m == w || (w.len() == 3 && m.starts_with(&w)))
        .map(|i| i as u32 + 1)
}

/// A full month name glued to the end of a word by a case change ("releaseDecember").
fn glued_month(word: &str) -> Option<u32> {
    MONTHS
        .iter()
        .position(|m| {
            word.len() > m.len()
                && word.get(word.len() - m.len()..).is_some_and(|tail| {
                    tail.eq_ignore_ascii_case(m) && tail.starts_with(|c: char| c.is_uppercase())
                })
                && word
                    .get(..word.len() - m.len())
                    .and_then(|head| head.chars().last())
                    .is_some_and(char::is_lowercase)
        })
        .map(|i| i as u32 + 1)
}

fn is_ordinal(word: &str) -> bool {
    matches!(
        word.to_ascii_lowercase().as_str(),
        "st" | "nd" | "rd" | "th"
    )
}

/// A cursor over tokens for the date patterns.
struct Cursor<'t, 'a> {
    tokens: &'t [Token<'a>],
    at: usize,
}

impl<'a> Cursor<'_, 'a> {
    fn peek(&self) -> Option<Token<'a>> {
        self.tokens.get(self.at).copied()
    }

    fn num(&mut self, len: std::ops::RangeInclusive<usize>, tight: bool) -> Option<&'a str> {
        let t = self.peek()?;
        match t.tok {
            Tok::Num(n) if all_digits(n, len) && !(tight && t.spaced) => {
                self.at += 1;
                Some(n)
            }
            _ => None,
        }
    }

    fn punct(&mut self, chars: &[char], tight: bool) -> Option<char> {
        let t = self.peek()?;
        match t.tok {
            Tok::Punct(c) if chars.contains(&c) && !(tight && t.spaced) => {
                self.at += 1;
                Some(c)
            }
            _ => None,
        }
    }

    fn word_if(&mut self, tight: bool, pred: impl Fn(&str) -> bool) -> bool {
        match self.peek() {
            Some(Token {
                tok: Tok::Word(w),
                spaced,
                ..
            }) if pred(w) && !(tight && spaced) => {
                self.at += 1;
                true
            }
            _ => false,
        }
    }

    fn month(&mut self, glued: bool) -> Option<u32> {
        let t = self.peek()?;
        let Tok::Word(w) = t.tok else { return None };
        let m = month_of(w).or_else(|| if glued { glued_month(w) } else { None })?;
        self.at += 1;
        Some(m)
    }
}

/// Finds the first date written in `s`: "November 17, 2026", "Nov. 17, 2026", "17 November
/// 2026", "17th of Nov, 2026", "2026-11-17", "2026.11.17", "2026/11/17", "17.11.2026",
/// "17/11/2026" (day first unless that is impossible), also inside longer or glued text
/// ("Published: 2026-11-17", "November 17, 2026December"). Midnight UTC, or the exact instant
/// when the ISO date starts an RFC 3339 timestamp. `None` when there is no date.
pub fn date_from_text(s: &str) -> Option<DateTime<Utc>> {
    let tokens = tokenize(s);
    for i in 0..tokens.len() {
        if let Some(date) = iso_at(s, &tokens, i)
            .or_else(|| numeric_day_first_at(&tokens, i))
            .or_else(|| month_first_at(&tokens, i))
            .or_else(|| day_first_at(&tokens, i))
        {
            return Some(date);
        }
    }
    None
}

fn iso_at(s: &str, tokens: &[Token<'_>], i: usize) -> Option<DateTime<Utc>> {
    let mut c = Cursor { tokens, at: i };
    let y = c.num(4..=4, false)?;
    let sep = c.punct(&['-', '.', '/'], true)?;
    let m = c.num(1..=2, true)?;
    c.punct(&[sep], true)?;
    let d = c.num(1..=2, true)?;
    let date = ymd(y, m, d)?;
    if sep == '-' {
        let rest = s.get(tokens[i].start..).unwrap_or_default();
        let stamp = rest
            .split(char::is_whitespace)
            .next()
            .unwrap_or_default()
            .trim_end_matches(|ch: char| !ch.is_ascii_alphanumeric());
        if let Ok(instant) = DateTime::parse_from_rfc3339(stamp) {
            return Some(instant.with_timezone(&Utc));
        }
    }
    Some(date)
}

fn numeric_day_first_at(tokens: &[Token<'_>], i: usize) -> Option<DateTime<Utc>> {
    let mut c = Cursor { tokens, at: i };
    let a = c.num(1..=2, false)?;
    let sep = c.punct(&['.', '/', '-'], true)?;
    let b = c.num(1..=2, true)?;
    c.punct(&[sep], true)?;
    let y = c.num(4..=4, true)?;
    let (a_n, b_n): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
    if sep == '/' && a_n <= 12 && b_n > 12 {
        ymd(y, a, b)
    } else {
        ymd(y, b, a)
    }
}

fn month_first_at(tokens: &[Token<'_>], i: usize) -> Option<DateTime<Utc>> {
    let mut c = Cursor { tokens, at: i };
    let m = c.month(true)?;
    c.punct(&['.'], true);
    let d = c.num(1..=2, false)?;
    c.word_if(true, is_ordinal);
    c.punct(&[','], false);
    let y = c.num(4..=4, false)?;
    ymd(y, &m.to_string(), d)
}

fn day_first_at(tokens: &[Token<'_>], i: usize) -> Option<DateTime<Utc>> {
    let mut c = Cursor { tokens, at: i };
    let d = c.num(1..=2, false)?;
    c.word_if(true, is_ordinal);
    c.punct(&['.'], true);
    c.word_if(false, |w| w.eq_ignore_ascii_case("of"));
    let m = c.month(false)?;
    c.punct(&['.'], true);
    c.punct(&[','], false);
    let y = c.num(4..=4, false)?;
    ymd(y, &m.to_string(), d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(url: &str) -> Origin<'_> {
        Origin {
            source_id: "press_corporate__medincell",
            url: Some(url),
            content_type: None,
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn selectors() -> PageSelectors {
        PageSelectors {
            item: "div.news-list article.news-item".into(),
            title: "h3".into(),
            link: None,
            date: Some("time, .date".into()),
            summary: Some(".excerpt".into()),
            next_page: Some("nav.pagination a.next".into()),
        }
    }

    const LISTING: &str = r##"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>News | MedinCell</title>
<script>var news = "<article class='news-item'>";</script></head>
<body>
<header><nav><a href="/">Home</a> <a href="/news/">News</a> <a href="/investors/">Investors</a></nav></header>
<main>
 <h1>Press releases</h1>
 <div class="news-list">
  <article class="news-item">
   <span class="date">November 17, 2026</span>
   <h3><a href="/news/teva-uzedy-label-expansion/?utm_source=site#top">
     Teva and Medincell announce  <b>UZEDY®</b> label expansion</a></h3>
   <p class="excerpt">The FDA approved a label expansion for the LAI
     risperidone.</p>
  </article>
  <article class="news-item">
   <time datetime="2026-11-12T08:00:00+01:00">12 Nov 2026</time>
   <h3><a href="https://www.medincell.com/news/q3-2026-results/">Medincell Q3 2026 results</a></h3>
   <p class="excerpt">Revenue grew.</p>
  </article>
  <article class="news-item">
   <span class="date">10 November 2026</span>
   <h3>Upcoming conferences</h3>
  </article>
  <article class="news-item">
   <h3><a href="https://www.medincell.com/2026/11/05/olanzapine-lai-phase-3/">Olanzapine LAI: Phase 3 data</a></h3>
  </article>
 </div>
 <nav class="pagination"><a class="prev" href="#">Previous</a> <a class="next" href="/news/page/2/">Next</a></nav>
</main>
<footer><p>© 2026 Medincell</p></footer>
</body></html>"##;

    #[test]
    fn listing_page_yields_items_dates_warnings_and_next_page() {
        let listing = parse_listing(
            LISTING.as_bytes(),
            &selectors(),
            &origin("https://www.medincell.com/news/"),
        )
        .unwrap();
        assert_eq!(
            listing.warnings,
            vec!["item 2: no link: skipped".to_string()]
        );
        assert_eq!(listing.items.len(), 3);

        let a = &listing.items[0];
        assert_eq!(
            a.title,
            "Teva and Medincell announce UZEDY® label expansion"
        );
        assert_eq!(
            a.url,
            "https://www.medincell.com/news/teva-uzedy-label-expansion/"
        );
        assert_eq!(a.id, item_id(&a.url));
        assert_eq!(a.published, Some(utc("2026-11-17T00:00:00Z")));
        assert_eq!(a.date_source, DateSource::Text);
        assert_eq!(
            a.summary,
            "The FDA approved a label expansion for the LAI risperidone."
        );
        assert_eq!(a.text, a.summary);
        assert_eq!(a.source, "press_corporate__medincell");

        let b = &listing.items[1];
        assert_eq!(b.url, "https://www.medincell.com/news/q3-2026-results/");
        assert_eq!(b.published, Some(utc("2026-11-12T07:00:00Z")));
        assert_eq!(b.date_source, DateSource::TimeTag);

        let c = &listing.items[2];
        assert_eq!(c.title, "Olanzapine LAI: Phase 3 data");
        assert_eq!(c.published, Some(utc("2026-11-05T00:00:00Z")));
        assert_eq!(c.date_source, DateSource::Url);
        assert_eq!(c.summary, "");

        assert_eq!(
            listing.next_page.as_ref().map(Url::as_str),
            Some("https://www.medincell.com/news/page/2/")
        );
    }

    #[test]
    fn listing_without_date_or_next_selector_and_with_explicit_link() {
        let html = r#"<html><head><base href="https://www.peptron.co.kr/eng/pr/"></head><body>
<table class="board_list">
<tr><td class="subject"><a href="view.php?id=7" class="t">Peptron signs a license deal</a></td>
    <td><a class="more" href="javascript:void(0)">more</a></td><td class="date">2025.01.15</td></tr>
<tr><td class="subject"><span>No link here</span></td><td class="date">2025.01.14</td></tr>
<tr><td class="subject"><a href="view.php?id=7">Peptron signs a license deal (again)</a></td></tr>
<tr><td class="subject"><a href="mailto:ir@peptron.co.kr">Contact IR</a></td></tr>
</table></body></html>"#;
        let sel = PageSelectors {
            item: "table.board_list tr".into(),
            title: "td.subject".into(),
            link: Some("td.subject a, a.more".into()),
            date: None,
            summary: None,
            next_page: None,
        };
        let listing = parse_listing(
            html.as_bytes(),
            &sel,
            &origin("https://www.peptron.co.kr/eng/pr/news.php"),
        )
        .unwrap();
        assert_eq!(listing.items.len(), 1);
        assert_eq!(
            listing.items[0].url,
            "https://www.peptron.co.kr/eng/pr/view.php?id=7"
        );
        assert_eq!(listing.items[0].published, None);
        assert_eq!(listing.items[0].date_source, DateSource::None);
        assert_eq!(
            listing.warnings,
            vec![
                "item 1: no link: skipped".to_string(),
                "item 2: same link as item 0: skipped".to_string(),
                "item 3: unusable link \"mailto:ir@peptron.co.kr\": skipped".to_string(),
            ]
        );
        assert_eq!(listing.next_page, None);
    }

    #[test]
    fn listing_failures_are_one_line_source_errors() {
        let o = origin("https://www.camurus.com/media/press-releases/");
        for (input, expected) in [
            (&b""[..], "the document is empty"),
            (b"  \n\t ", "the document is empty"),
            (b"%PDF-1.4 binary", "is not HTML"),
            (b"{\"items\": []}", "is not HTML"),
            (
                b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel></channel></rss>",
                "is a feed",
            ),
        ] {
            let err = parse_listing(input, &selectors(), &o).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::SourceUnavailable);
            let msg = err.to_string();
            assert!(msg.contains(expected), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
        }
        let err = parse_listing(
            b"<html><body><div class=\"newsitems-filter\"></div></body></html>",
            &selectors(),
            &o,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "source press_corporate__medincell: selector `div.news-list article.news-item` \
             matched no element: the page layout may have changed"
        );
        let mut bad = selectors();
        bad.date = Some("span[class*=".into());
        let err = parse_listing(LISTING.as_bytes(), &bad, &o).unwrap_err();
        assert!(
            err.to_string().contains("date selector `span[class*=`"),
            "{err}"
        );
    }

    #[test]
    fn validate_names_the_field_and_the_selector() {
        assert_eq!(selectors().validate(), Ok(()));
        let mut bad = selectors();
        bad.next_page = Some("a..next".into());
        let msg = bad.validate().unwrap_err();
        assert!(
            msg.starts_with("next_page selector `a..next` is invalid"),
            "{msg}"
        );
        let mut bad = selectors();
        bad.item = String::new();
        assert!(
            bad.validate()
                .unwrap_err()
                .starts_with("item selector `` is invalid")
        );
        let json = r#"{"item":"li","title":"h2","bogus":"x"}"#;
        assert!(serde_json::from_str::<PageSelectors>(json).is_err());
        let parsed: PageSelectors = serde_json::from_str(r#"{"item":"li","title":"h2"}"#).unwrap();
        assert_eq!(parsed.link, None);
    }

    #[test]
    fn listing_in_a_declared_legacy_charset_is_decoded() {
        let mut html = b"<html><head><meta charset=\"windows-1252\"></head><body><ul>\
<li><a href=\"/a\">Caf\xe9 launch</a></li></ul></body></html>"
            .to_vec();
        let sel = PageSelectors {
            item: "li".into(),
            title: "a".into(),
            link: None,
            date: None,
            summary: None,
            next_page: None,
        };
        let listing = parse_listing(&html, &sel, &origin("https://x.example/")).unwrap();
        assert_eq!(listing.items[0].title, "Café launch");
        // Invalid UTF-8 without a declaration is decoded lossily, never an error.
        html = b"<ul><li><a href=\"/a\">Caf\xe9</a></li></ul>".to_vec();
        let listing = parse_listing(&html, &sel, &origin("https://x.example/")).unwrap();
        assert_eq!(listing.items[0].title, "Caf\u{FFFD}");
    }

    fn article(head: &str, body: &str) -> Article {
        parse_article(
            format!("<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>")
                .as_bytes(),
        )
    }

    const BODY_WITH_ALL: &str = r#"<header><nav><a href="/">Home</a></nav></header>
<article><header><h1>Title</h1><p>Published: 2026-11-14</p><time datetime="2026-11-15T09:00:00Z">15 Nov</time></header>
<p>First paragraph.</p><script>var x = 1;</script><p>Second   paragraph.</p>
<aside>Related: other news</aside></article><footer><p>Legal</p></footer>"#;

    const META: &str =
        r#"<meta property="article:published_time" content="2026-11-16T10:30:00+02:00">"#;

    #[test]
    fn article_date_prefers_json_ld_with_graph_and_article_type() {
        let jsonld = r##"<script type="application/ld+json">
{"@context":"https://schema.org","@graph":[
 {"@type":"WebSite","name":"Camurus"},
 {"@type":"WebPage","datePublished":"2026-11-01T00:00:00+00:00"},
 {"@type":"NewsArticle","isPartOf":{"@id":"#webpage"},"datePublished":"2026-11-17T08:00:00+01:00"}]}
</script>"##;
        let a = article(&format!("{jsonld}{META}"), BODY_WITH_ALL);
        assert_eq!(
            a.published,
            Some((utc("2026-11-17T07:00:00Z"), DateSource::JsonLd))
        );
        assert_eq!(a.text, "First paragraph. Second paragraph.");

        // Nested objects, and JSON-LD with raw newlines inside strings.
        let nested = "<script type=\"application/ld+json\">{\"@type\":\"WebPage\",\"mainEntity\":\
{\"@type\":\"Article\",\"headline\":\"a\nb\",\"datePublished\":\"2026-11-18\"}}</script>";
        let a = article(nested, "");
        assert_eq!(
            a.published,
            Some((utc("2026-11-18T00:00:00Z"), DateSource::JsonLd))
        );
        // Broken JSON: the datePublished string is still found.
        let broken = r#"<script type="application/ld+json">{"datePublished": "2026-11-19T00:00:00Z", oops}</script>"#;
        let a = article(broken, "");
        assert_eq!(
            a.published,
            Some((utc("2026-11-19T00:00:00Z"), DateSource::JsonLd))
        );
    }

    #[test]
    fn article_date_falls_back_to_meta_then_time_then_text() {
        let a = article(META, BODY_WITH_ALL);
        assert_eq!(
            a.published,
            Some((utc("2026-11-16T08:30:00Z"), DateSource::Meta))
        );
        let a = article(r#"<meta name="date" content="2026-11-13">"#, BODY_WITH_ALL);
        assert_eq!(
            a.published,
            Some((utc("2026-11-13T00:00:00Z"), DateSource::Meta))
        );
        let a = article(
            "",
            r#"<span itemprop="datePublished" content="2026-11-12">12/11</span><time datetime="2026-01-01">x</time>"#,
        );
        assert_eq!(
            a.published,
            Some((utc("2026-11-12T00:00:00Z"), DateSource::Meta))
        );
        let a = article("", BODY_WITH_ALL);
        assert_eq!(
            a.published,
            Some((utc("2026-11-15T09:00:00Z"), DateSource::TimeTag))
        );
        let without_time =
            BODY_WITH_ALL.replace("<time datetime=\"2026-11-15T09:00:00Z\">15 Nov</time>", "");
        let a = article("", &without_time);
        assert_eq!(
            a.published,
            Some((utc("2026-11-14T00:00:00Z"), DateSource::Text))
        );
        let a = article("<title>x</title>", "<p>No date at all.</p>");
        assert_eq!(a.published, None);
    }

    #[test]
    fn article_text_uses_article_then_main_then_paragraphs() {
        let a = article(
            "",
            "<nav><p>Menu</p></nav><main><h1>Heading</h1><div>Body <b>text</b></div></main>",
        );
        assert_eq!(a.text, "Heading Body text");
        let a = article(
            "",
            "<header><p>Site</p></header><div><p>One.</p><div><p>Two\n\n words.</p></div></div>\
             <footer><p>Legal</p></footer><script>document.write('<p>x</p>')</script>",
        );
        assert_eq!(a.text, "One. Two words.");
        assert_eq!(
            parse_article(b""),
            Article {
                text: String::new(),
                published: None
            }
        );
    }

    #[test]
    fn date_from_text_reads_the_formats_of_company_news_pages() {
        let midnight = utc("2026-11-17T00:00:00Z");
        for s in [
            "November 17, 2026",
            "Nov. 17, 2026",
            "Nov 17 2026",
            "17 November 2026",
            "17 Nov 2026",
            "17 November, 2026",
            "17th of November 2026",
            "November 17th, 2026",
            "2026-11-17",
            "2026.11.17",
            "2026/11/17",
            "17.11.2026",
            "17/11/2026",
            "11/17/2026",
            "November 17, 2026December 9, 2025",
            "Press releaseNovember 17, 2026",
            "Published: 2026-11-17",
            "Regulatory press release — Lund, 17 November 2026 at 08:00 CET",
            "  NOVEMBER 17, 2026 ",
        ] {
            assert_eq!(date_from_text(s), Some(midnight), "{s:?}");
        }
        assert_eq!(
            date_from_text("Posted 2026-11-17T09:30:00+01:00."),
            Some(utc("2026-11-17T08:30:00Z"))
        );
        assert_eq!(
            date_from_text("December 9, 2025December"),
            Some(utc("2025-12-09T00:00:00Z"))
        );
        assert_eq!(
            date_from_text("10 December, 2025"),
            Some(utc("2025-12-10T00:00:00Z"))
        );
    }

    #[test]
    fn date_from_text_rejects_garbage() {
        for s in [
            "",
            "no date here",
            "2026-13-45",
            "February 30, 2026",
            "November 2026",
            "Version 1.2.3",
            "Call +46 46 286 57 30",
            "99 Foo 2026",
            "Mayday 17, 2026",
            "17 Novembre 2026",
            "Nov 17, 20261",
            "0001-01-01",
            "12345-11-17",
            "👍 2026-11-1７ é",
        ] {
            assert_eq!(date_from_text(s), None, "{s:?}");
        }
    }

    #[test]
    fn hostile_input_never_panics() {
        let deep = "<div>".repeat(5_000) + "x";
        let inputs: Vec<Vec<u8>> = vec![
            deep.into_bytes(),
            vec![0xff, 0xfe, 0x3c, 0x00],
            vec![0xfe, 0xff],
            b"<\xff\xfe\xc3<html><meta charset=\"utf-16\"><p>\xe2\x82</p>".to_vec(),
            "<p>é2026-11-1é7 Nov.é ,2026</p><time datetime=\"ß\">"
                .as_bytes()
                .to_vec(),
            b"<script type=\"application/ld+json\">{\"datePublished\":\"</script>".to_vec(),
        ];
        let sel = PageSelectors {
            item: "div, p".into(),
            title: "*".into(),
            link: None,
            date: Some("*".into()),
            summary: None,
            next_page: Some("a".into()),
        };
        for input in &inputs {
            let _ = parse_article(input);
            let _ = parse_listing(input, &sel, &origin("https://x.example/"));
            let _ = date_from_text(&String::from_utf8_lossy(input));
        }
        let o = Origin {
            source_id: "s",
            url: None,
            content_type: Some("text/html; charset=\"bogus\""),
        };
        let listing =
            parse_listing(b"<ul><li><a href=\"/a\">A</a></li></ul>", &sel_li(), &o).unwrap();
        assert_eq!(
            listing.warnings,
            vec!["item 0: unusable link \"/a\": skipped".to_string()]
        );
    }

    fn sel_li() -> PageSelectors {
        PageSelectors {
            item: "li".into(),
            title: "a".into(),
            link: None,
            date: None,
            summary: None,
            next_page: None,
        }
    }

    #[test]
    fn url_dates() {
        let u = |s: &str| date_from_url(&Url::parse(s).unwrap());
        assert_eq!(
            u("https://x.com/2026/11/17/slug/"),
            Some(utc("2026-11-17T00:00:00Z"))
        );
        assert_eq!(
            u("https://x.com/news/2026-11-17-slug"),
            Some(utc("2026-11-17T00:00:00Z"))
        );
        assert_eq!(
            u("https://x.com/news/2026-11-17"),
            Some(utc("2026-11-17T00:00:00Z"))
        );
        assert_eq!(u("https://x.com/2026/11/slug"), None);
        assert_eq!(u("https://x.com/news/12026-11-17x"), None);
        assert_eq!(u("https://x.com/p/2026-1é-17"), None);
    }
}

//! PubMed E-utilities responses (esearch, efetch PubmedArticleSet) → items, and the esearch/efetch
//! request URLs.
//!
//! Both parsers stream the document with `quick_xml::Reader` (PubMed titles and abstracts are
//! mixed content: `<i>`, `<sub>`, `<sup>`, MathML), keep the text of inline markup and drop the
//! tags. Nothing here panics on bad input: an empty body, an HTML page, an NCBI `<ERROR>` or a
//! corrupted document is a `SourceUnavailable` error with a one-line message, except that a
//! truncated efetch document keeps the articles read before the fault (with a warning).

use chrono::{DateTime, NaiveDate, Utc};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::{Origin, Parsed};
use crate::error::{Error, Result};
use crate::model::{DateSource, Item};
use crate::text::{clean_line, html_to_text, truncate_words};
use crate::urls::{canonical, item_id};

/// esearch result: total count and the PMIDs returned.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    pub count: usize,
    pub ids: Vec<String>,
    pub warnings: Vec<String>,
}

/// Parses an esearch (`eSearchResult`) response. A search that found nothing (`Count` 0, with
/// an `ErrorList` of `PhraseNotFound`) is a result with count 0 and the message in `warnings`;
/// an `<ERROR>`, another `ErrorList` entry or an unreadable document is an error.
pub fn parse_esearch(bytes: &[u8], source_id: &str) -> Result<SearchResult> {
    let xml = prepare(bytes, source_id, "an eSearchResult")?;
    let mut h = EsearchHandler::default();
    let fault = walk(&xml, &mut h);
    if let Some(message) = h.error {
        return Err(ncbi_error(source_id, &message));
    }
    if let Some(fault) = fault {
        return Err(Error::source(source_id, fault));
    }
    match h.root.as_deref() {
        Some("eSearchResult") => {}
        Some(other) => {
            return Err(Error::source(
                source_id,
                format!("expected an eSearchResult, found <{other}>: check the esearch URL"),
            ));
        }
        None => return Err(Error::source(source_id, "no XML element in the document")),
    }
    let mut warnings = Vec::new();
    let mut fatal = Vec::new();
    for (kind, text) in &h.error_list {
        if kind == "PhraseNotFound" {
            warnings.push(format!("phrase not found: {text}"));
        } else {
            fatal.push(format!("{kind}: {text}"));
        }
    }
    if !fatal.is_empty() {
        return Err(Error::source(
            source_id,
            format!(
                "NCBI could not run the search ({}): check the search term",
                fatal.join("; ")
            ),
        ));
    }
    for (kind, text) in &h.warning_list {
        warnings.push(format!("{}: {text}", warning_label(kind)));
    }
    let count_text = h.count.ok_or_else(|| {
        Error::source(
            source_id,
            "the eSearchResult has no <Count>: not a search result",
        )
    })?;
    let count = count_text.parse::<usize>().map_err(|_| {
        Error::source(
            source_id,
            format!("the eSearchResult <Count> is not a number: {count_text:?}"),
        )
    })?;
    let mut ids = Vec::with_capacity(h.ids.len());
    for id in h.ids {
        if is_pmid(&id) {
            ids.push(id);
        } else {
            warnings.push(format!("id {id:?} is not a PMID: skipped"));
        }
    }
    Ok(SearchResult {
        count,
        ids,
        warnings,
    })
}

/// efetch PubmedArticleSet → one Item per PubmedArticle.
///
/// Articles without a PMID or a title are skipped with a warning (`article N: ...`, N counted
/// from 1 over `PubmedArticle` and `PubmedBookArticle` elements). A document that breaks after
/// some complete articles keeps them and says where it broke in a warning.
pub fn parse_efetch(bytes: &[u8], origin: &Origin<'_>) -> Result<Parsed> {
    let source_id = origin.source_id;
    let xml = prepare(bytes, source_id, "a PubmedArticleSet")?;
    let mut h = EfetchHandler {
        source_id,
        ..EfetchHandler::default()
    };
    let fault = walk(&xml, &mut h);
    let mut parsed = Parsed {
        items: h.items,
        warnings: h.warnings,
    };
    if let Some(message) = h.error {
        if h.complete == 0 {
            return Err(ncbi_error(source_id, &message));
        }
        parsed
            .warnings
            .push(format!("NCBI reported an error: {}", one_line(&message)));
    }
    if let Some(fault) = fault {
        if h.complete == 0 {
            return Err(Error::source(source_id, fault));
        }
        parsed.warnings.push(format!(
            "document cut short after {} complete article(s), the rest is lost: {fault}",
            h.complete
        ));
        return Ok(parsed);
    }
    match h.root.as_deref() {
        Some("PubmedArticleSet") => {}
        Some(other) => {
            return Err(Error::source(
                source_id,
                format!("expected a PubmedArticleSet, found <{other}>: check the efetch URL"),
            ));
        }
        None => return Err(Error::source(source_id, "no XML element in the document")),
    }
    Ok(parsed)
}

/// The esearch URL: PubMed articles published (`datetype=pdat`) between `min` and `max`
/// inclusive, at most `retmax` PMIDs.
pub fn esearch_url(
    base: &str,
    term: &str,
    min: NaiveDate,
    max: NaiveDate,
    retmax: usize,
    api_key: Option<&str>,
) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("db", "pubmed")
        .append_pair("term", term)
        .append_pair("datetype", "pdat")
        .append_pair("mindate", &min.format("%Y/%m/%d").to_string())
        .append_pair("maxdate", &max.format("%Y/%m/%d").to_string())
        .append_pair("retmax", &retmax.to_string())
        .append_pair("retmode", "xml");
    if let Some(key) = api_key.filter(|k| !k.is_empty()) {
        query.append_pair("api_key", key);
    }
    format!("{}esearch.fcgi?{}", with_slash(base), query.finish())
}

/// The efetch URL for `ids` (PMIDs, comma-separated), as abstract-style XML.
pub fn efetch_url(base: &str, ids: &[String], api_key: Option<&str>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("db", "pubmed")
        .append_pair("id", &ids.join(","))
        .append_pair("retmode", "xml")
        .append_pair("rettype", "abstract");
    if let Some(key) = api_key.filter(|k| !k.is_empty()) {
        query.append_pair("api_key", key);
    }
    format!("{}efetch.fcgi?{}", with_slash(base), query.finish())
}

fn with_slash(base: &str) -> String {
    if base.ends_with('/') {
        base.to_string()
    } else {
        format!("{base}/")
    }
}

// ---------------------------------------------------------------------------------------------
// Document checks shared by both parsers.

/// The document as text, after the checks that need no XML parser: empty, JSON error, HTML page,
/// not markup at all.
fn prepare(bytes: &[u8], source_id: &str, expected: &str) -> Result<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let trimmed = bytes.get(start..).unwrap_or_default();
    if trimmed.is_empty() {
        return Err(Error::source(
            source_id,
            format!("the document is empty: expected {expected}"),
        ));
    }
    let text = String::from_utf8_lossy(trimmed).into_owned();
    if text.starts_with('{') {
        // NCBI answers some failures (rate limit) in JSON: {"error":"API rate limit exceeded",...}
        let detail = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(one_line));
        return Err(Error::source(
            source_id,
            match detail {
                Some(e) => format!("NCBI returned a JSON error instead of XML: {e}"),
                None => "NCBI returned JSON instead of XML".to_string(),
            },
        ));
    }
    if looks_html(&text) {
        return Err(Error::source(
            source_id,
            match html_title(&text) {
                Some(title) => format!("NCBI returned an HTML page instead of XML: {title:?}"),
                None => "NCBI returned an HTML page instead of XML (untitled)".to_string(),
            },
        ));
    }
    if !text.starts_with('<') {
        let head: String = text.chars().take(60).collect();
        return Err(Error::source(
            source_id,
            format!(
                "not an XML document: expected {expected}, got {:?}",
                one_line(&head)
            ),
        ));
    }
    Ok(text)
}

fn looks_html(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(1024)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html")
        || head.starts_with("<html")
        || (head.contains("<html")
            && !head.contains("<pubmedarticleset")
            && !head.contains("<esearchresult")
            && !head.contains("<efetchresult"))
}

/// The text of the page's `<title>`, if any (entities decoded, at most 120 characters).
fn html_title(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let content_start = open + lower.get(open..)?.find('>')? + 1;
    let content_len = lower.get(content_start..)?.find("</title")?;
    let raw = text.get(content_start..content_start + content_len)?;
    let title = html_to_text(raw);
    (!title.is_empty()).then(|| truncate_words(&title, 120))
}

fn ncbi_error(source_id: &str, message: &str) -> Error {
    let message = one_line(message);
    Error::source(
        source_id,
        if message.is_empty() {
            "NCBI E-utilities returned an empty <ERROR>".to_string()
        } else {
            format!("NCBI E-utilities error: {}", truncate_words(&message, 200))
        },
    )
}

fn one_line(s: &str) -> String {
    clean_line(s)
}

fn is_pmid(s: &str) -> bool {
    !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn warning_label(kind: &str) -> &str {
    match kind {
        "OutputMessage" => "NCBI",
        "QuotedPhraseNotFound" => "quoted phrase not found",
        "PhraseIgnored" => "phrase ignored",
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------
// Streaming walk: element stack, resolved text, faults with a position.

/// What a document walk reports to its parser. `stack` holds the qualified names of the open
/// elements, the current one last (still there in `end`).
trait Handler {
    fn start(&mut self, stack: &[String], element: &BytesStart<'_>);
    fn text(&mut self, stack: &[String], text: &str);
    fn end(&mut self, stack: &[String]);
}

fn is_math(name: &str) -> bool {
    name == "math" || name.ends_with(":math")
}

/// MathML annotations repeat the formula in another notation (TeX, ...): not text.
fn is_annotation(name: &str) -> bool {
    let local = name.rsplit(':').next().unwrap_or(name);
    local == "annotation" || local == "annotation-xml"
}

/// Streams `xml` through `handler`. Returns the fault that stopped the walk (malformed markup,
/// or a document that ends with elements still open), with its line and column.
fn walk<H: Handler>(xml: &str, handler: &mut H) -> Option<String> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().allow_dangling_amp = true;
    let mut stack: Vec<String> = Vec::new();
    let mut math_depth = 0usize;
    let mut annotation_depth = 0usize;
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                let at = position(xml, reader.error_position());
                return Some(format!("malformed XML at {at}: {e}"));
            }
        };
        match event {
            Event::Start(e) => {
                let name = e.name().as_ref().to_string();
                if is_math(&name) {
                    math_depth += 1;
                }
                if is_annotation(&name) {
                    annotation_depth += 1;
                }
                stack.push(name);
                handler.start(&stack, &e);
            }
            Event::Empty(e) => {
                let name = e.name().as_ref().to_string();
                stack.push(name);
                handler.start(&stack, &e);
                handler.end(&stack);
                stack.pop();
            }
            Event::End(_) => {
                if stack.is_empty() {
                    let at = position(xml, reader.buffer_position());
                    return Some(format!("malformed XML at {at}: unexpected closing tag"));
                }
                handler.end(&stack);
                if let Some(name) = stack.pop() {
                    if is_math(&name) {
                        math_depth = math_depth.saturating_sub(1);
                    }
                    if is_annotation(&name) {
                        annotation_depth = annotation_depth.saturating_sub(1);
                    }
                }
            }
            Event::Text(t) => {
                if stack.is_empty() || annotation_depth > 0 {
                    continue;
                }
                let text = t.xml10_content();
                // Pretty-printed MathML puts indentation between every token: not text.
                if math_depth > 0 && text.trim().is_empty() {
                    continue;
                }
                handler.text(&stack, &text);
            }
            Event::CData(t) => {
                if !stack.is_empty() && annotation_depth == 0 {
                    handler.text(&stack, &t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if stack.is_empty() || annotation_depth > 0 {
                    continue;
                }
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref().ok().flatten().map(String::from)
                } else {
                    quick_xml::escape::resolve_predefined_entity(&r).map(String::from)
                };
                let text = resolved.unwrap_or_else(|| format!("&{};", &*r));
                handler.text(&stack, &text);
            }
            Event::Eof => {
                return stack.last().map(|open| {
                    let at = position(xml, xml.len() as u64);
                    format!(
                        "malformed XML at {at}: the document ends inside <{open}> (truncated or corrupted)"
                    )
                });
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
}

/// "line L, column C" (1-based, column in bytes) of a byte offset in `xml`.
fn position(xml: &str, offset: u64) -> String {
    let offset = usize::try_from(offset).unwrap_or(usize::MAX).min(xml.len());
    let before = xml.as_bytes().get(..offset).unwrap_or_default();
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    format!("line {line}, column {column}")
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// The name of the element `n` levels above the current one (0 = the current one).
fn up(stack: &[String], n: usize) -> Option<&str> {
    stack
        .len()
        .checked_sub(n + 1)
        .and_then(|i| stack.get(i))
        .map(String::as_str)
}

fn attribute(element: &BytesStart<'_>, name: &str) -> Option<String> {
    element
        .try_get_attribute(name)
        .ok()
        .flatten()
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// Text being collected for the element at `depth` (stack length), nested markup included.
struct Capture<K> {
    depth: usize,
    kind: K,
    buf: String,
}

// ---------------------------------------------------------------------------------------------
// esearch.

#[derive(Debug, Clone, PartialEq)]
enum SearchField {
    Count,
    Id,
    ErrorEntry(String),
    WarningEntry(String),
    Error,
}

#[derive(Default)]
struct EsearchHandler {
    root: Option<String>,
    count: Option<String>,
    ids: Vec<String>,
    error_list: Vec<(String, String)>,
    warning_list: Vec<(String, String)>,
    error: Option<String>,
    capture: Option<Capture<SearchField>>,
}

impl Handler for EsearchHandler {
    fn start(&mut self, stack: &[String], _element: &BytesStart<'_>) {
        if stack.len() == 1 && self.root.is_none() {
            self.root = stack.first().cloned();
        }
        if self.capture.is_some() {
            return;
        }
        let name = up(stack, 0).unwrap_or_default();
        let parent = up(stack, 1).unwrap_or_default();
        let kind = match (name, parent) {
            ("ERROR", _) => SearchField::Error,
            ("Count", "eSearchResult") if self.count.is_none() => SearchField::Count,
            ("Id", "IdList") => SearchField::Id,
            (_, "ErrorList") => SearchField::ErrorEntry(name.to_string()),
            (_, "WarningList") => SearchField::WarningEntry(name.to_string()),
            _ => return,
        };
        self.capture = Some(Capture {
            depth: stack.len(),
            kind,
            buf: String::new(),
        });
    }

    fn text(&mut self, _stack: &[String], text: &str) {
        if let Some(c) = &mut self.capture {
            c.buf.push_str(text);
        }
    }

    fn end(&mut self, stack: &[String]) {
        if self.capture.as_ref().is_none_or(|c| c.depth != stack.len()) {
            return;
        }
        let Some(c) = self.capture.take() else { return };
        let text = clean_line(&c.buf);
        match c.kind {
            SearchField::Count => self.count = Some(text),
            SearchField::Id => {
                if !text.is_empty() {
                    self.ids.push(text);
                }
            }
            SearchField::ErrorEntry(kind) => self.error_list.push((kind, text)),
            SearchField::WarningEntry(kind) => self.warning_list.push((kind, text)),
            SearchField::Error => {
                if self.error.is_none() {
                    self.error = Some(text);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// efetch.

#[derive(Debug, Clone, Copy, PartialEq)]
enum ArticleField {
    Error,
    Pmid,
    ArticleId,
    Title,
    VernacularTitle,
    BookTitle,
    Abstract,
    JournalTitle,
    IsoAbbreviation,
    MedlineTa,
    Publisher,
    LastName,
    Initials,
    ForeName,
    CollectiveName,
    Year,
    Month,
    Day,
    Season,
    MedlineDate,
}

#[derive(Default)]
struct EfetchHandler<'a> {
    source_id: &'a str,
    root: Option<String>,
    items: Vec<Item>,
    warnings: Vec<String>,
    error: Option<String>,
    /// Articles seen (complete or not), for warnings.
    index: usize,
    /// Articles whose end tag was read.
    complete: usize,
    article: Option<Article>,
    capture: Option<Capture<ArticleField>>,
    /// The label of the `AbstractText` being captured.
    label: Option<String>,
}

/// Everything read from one `PubmedArticle` or `PubmedBookArticle`.
#[derive(Default)]
struct Article {
    book: bool,
    pmid: Option<String>,
    /// `PubmedData/ArticleIdList/ArticleId[@IdType=pubmed]`, when `MedlineCitation/PMID` is missing.
    pubmed_id: Option<String>,
    title: String,
    vernacular_title: String,
    book_title: String,
    abstract_parts: Vec<String>,
    journal_title: String,
    iso_abbreviation: String,
    medline_ta: String,
    publisher: String,
    authors: Vec<String>,
    author: Option<AuthorParts>,
    date: Option<(DateKind, DateParts)>,
    pub_date: Option<DateParts>,
    article_date: Option<DateParts>,
}

#[derive(Default)]
struct AuthorParts {
    valid: bool,
    last: String,
    initials: String,
    fore: String,
    collective: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum DateKind {
    Pub,
    Article,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct DateParts {
    year: String,
    month: String,
    day: String,
    season: String,
    medline: String,
}

impl Handler for EfetchHandler<'_> {
    fn start(&mut self, stack: &[String], element: &BytesStart<'_>) {
        if stack.len() == 1 && self.root.is_none() {
            self.root = stack.first().cloned();
        }
        if self.capture.is_some() {
            return;
        }
        let name = local(up(stack, 0).unwrap_or_default());
        let parent = local(up(stack, 1).unwrap_or_default());
        let grandparent = local(up(stack, 2).unwrap_or_default());
        if name == "ERROR" {
            self.begin(stack, ArticleField::Error);
            return;
        }
        if matches!(name, "PubmedArticle" | "PubmedBookArticle") {
            self.index += 1;
            self.article = Some(Article {
                book: name == "PubmedBookArticle",
                ..Article::default()
            });
            return;
        }
        let Some(article) = &mut self.article else {
            return;
        };
        let in_article = matches!(parent, "Article" | "BookDocument");
        let field = match name {
            "PMID" if matches!(parent, "MedlineCitation" | "BookDocument") => ArticleField::Pmid,
            "ArticleId"
                if parent == "ArticleIdList"
                    && matches!(grandparent, "PubmedData" | "PubmedBookData")
                    && attribute(element, "IdType").as_deref() == Some("pubmed") =>
            {
                ArticleField::ArticleId
            }
            "ArticleTitle" if in_article => ArticleField::Title,
            "VernacularTitle" if in_article => ArticleField::VernacularTitle,
            "BookTitle" if parent == "Book" => ArticleField::BookTitle,
            "AbstractText"
                if parent == "Abstract" && matches!(grandparent, "Article" | "BookDocument") =>
            {
                self.label = attribute(element, "Label")
                    .map(|l| clean_line(&l))
                    .filter(|l| !l.is_empty());
                ArticleField::Abstract
            }
            "Title" if parent == "Journal" => ArticleField::JournalTitle,
            "ISOAbbreviation" if parent == "Journal" => ArticleField::IsoAbbreviation,
            "MedlineTA" if parent == "MedlineJournalInfo" => ArticleField::MedlineTa,
            "PublisherName" if parent == "Publisher" => ArticleField::Publisher,
            "Author"
                if parent == "AuthorList" && matches!(grandparent, "Article" | "BookDocument") =>
            {
                article.author = Some(AuthorParts {
                    valid: attribute(element, "ValidYN").as_deref() != Some("N"),
                    ..AuthorParts::default()
                });
                return;
            }
            "LastName" if parent == "Author" => ArticleField::LastName,
            "Initials" if parent == "Author" => ArticleField::Initials,
            "ForeName" if parent == "Author" => ArticleField::ForeName,
            "CollectiveName" if parent == "Author" => ArticleField::CollectiveName,
            "PubDate" if matches!(parent, "JournalIssue" | "Book") => {
                article.date = Some((DateKind::Pub, DateParts::default()));
                return;
            }
            "ArticleDate" if parent == "Article" => {
                let electronic = attribute(element, "DateType")
                    .is_none_or(|t| t.eq_ignore_ascii_case("Electronic"));
                if electronic {
                    article.date = Some((DateKind::Article, DateParts::default()));
                }
                return;
            }
            "Year" if is_date(parent) => ArticleField::Year,
            "Month" if is_date(parent) => ArticleField::Month,
            "Day" if is_date(parent) => ArticleField::Day,
            "Season" if is_date(parent) => ArticleField::Season,
            "MedlineDate" if is_date(parent) => ArticleField::MedlineDate,
            _ => return,
        };
        self.begin(stack, field);
    }

    fn text(&mut self, _stack: &[String], text: &str) {
        if let Some(c) = &mut self.capture {
            c.buf.push_str(text);
        }
    }

    fn end(&mut self, stack: &[String]) {
        if self
            .capture
            .as_ref()
            .is_some_and(|c| c.depth == stack.len())
        {
            if let Some(c) = self.capture.take() {
                self.finish_capture(c.kind, &c.buf);
            }
            return;
        }
        let name = local(up(stack, 0).unwrap_or_default());
        match name {
            "PubmedArticle" | "PubmedBookArticle" => {
                if let Some(article) = self.article.take() {
                    self.complete += 1;
                    match article.into_item(self.source_id) {
                        Ok(item) => self.items.push(item),
                        Err(why) => self
                            .warnings
                            .push(format!("article {}: {why}: skipped", self.index)),
                    }
                }
            }
            "Author" => {
                if let Some(article) = &mut self.article
                    && let Some(author) = article.author.take()
                    && let Some(name) = author.name()
                {
                    article.authors.push(name);
                }
            }
            "PubDate" | "ArticleDate" => {
                if let Some(article) = &mut self.article
                    && let Some((kind, parts)) = article.date.take()
                {
                    let slot = match kind {
                        DateKind::Pub => &mut article.pub_date,
                        DateKind::Article => &mut article.article_date,
                    };
                    if slot.is_none() {
                        *slot = Some(parts);
                    }
                }
            }
            _ => {}
        }
    }
}

fn is_date(parent: &str) -> bool {
    matches!(parent, "PubDate" | "ArticleDate")
}

impl EfetchHandler<'_> {
    fn begin(&mut self, stack: &[String], kind: ArticleField) {
        self.capture = Some(Capture {
            depth: stack.len(),
            kind,
            buf: String::new(),
        });
    }

    fn finish_capture(&mut self, kind: ArticleField, raw: &str) {
        let text = clean_line(raw);
        if kind == ArticleField::Error {
            if self.error.is_none() {
                self.error = Some(text);
            }
            return;
        }
        let Some(a) = &mut self.article else { return };
        let set = |slot: &mut String, text: String| {
            if slot.is_empty() {
                *slot = text;
            }
        };
        match kind {
            ArticleField::Error => {}
            ArticleField::Pmid => {
                if a.pmid.is_none() && !text.is_empty() {
                    a.pmid = Some(text);
                }
            }
            ArticleField::ArticleId => {
                if a.pubmed_id.is_none() && !text.is_empty() {
                    a.pubmed_id = Some(text);
                }
            }
            ArticleField::Title => set(&mut a.title, text),
            ArticleField::VernacularTitle => set(&mut a.vernacular_title, text),
            ArticleField::BookTitle => set(&mut a.book_title, text),
            ArticleField::Abstract => {
                let label = self.label.take();
                if !text.is_empty() {
                    a.abstract_parts.push(match label {
                        Some(label) => format!("{label}: {text}"),
                        None => text,
                    });
                }
            }
            ArticleField::JournalTitle => set(&mut a.journal_title, text),
            ArticleField::IsoAbbreviation => set(&mut a.iso_abbreviation, text),
            ArticleField::MedlineTa => set(&mut a.medline_ta, text),
            ArticleField::Publisher => set(&mut a.publisher, text),
            ArticleField::LastName
            | ArticleField::Initials
            | ArticleField::ForeName
            | ArticleField::CollectiveName => {
                if let Some(author) = &mut a.author {
                    let slot = match kind {
                        ArticleField::LastName => &mut author.last,
                        ArticleField::Initials => &mut author.initials,
                        ArticleField::ForeName => &mut author.fore,
                        _ => &mut author.collective,
                    };
                    set(slot, text);
                }
            }
            ArticleField::Year
            | ArticleField::Month
            | ArticleField::Day
            | ArticleField::Season
            | ArticleField::MedlineDate => {
                if let Some((_, parts)) = &mut a.date {
                    let slot = match kind {
                        ArticleField::Year => &mut parts.year,
                        ArticleField::Month => &mut parts.month,
                        ArticleField::Day => &mut parts.day,
                        ArticleField::Season => &mut parts.season,
                        _ => &mut parts.medline,
                    };
                    set(slot, text);
                }
            }
        }
    }
}

impl AuthorParts {
    /// "LastName Initials" (ForeName when there are no initials), or the collective name.
    fn name(self) -> Option<String> {
        if !self.valid {
            return None;
        }
        let name = if !self.last.is_empty() {
            let given = if self.initials.is_empty() {
                self.fore
            } else {
                self.initials
            };
            clean_line(&format!("{} {given}", self.last))
        } else {
            self.collective
        };
        (!name.is_empty()).then_some(name)
    }
}

impl Article {
    fn into_item(self, source_id: &str) -> Result<Item, String> {
        let pmid = self
            .pmid
            .or(self.pubmed_id)
            .ok_or_else(|| "no PMID".to_string())?;
        if !is_pmid(&pmid) {
            return Err(format!("PMID {pmid:?} is not a number"));
        }
        let (title, venue) = if self.book {
            if self.title.is_empty() {
                (self.book_title, self.publisher)
            } else {
                (self.title, self.book_title)
            }
        } else {
            let title = if self.title.is_empty() {
                self.vernacular_title
            } else {
                self.title
            };
            let venue = [self.journal_title, self.iso_abbreviation, self.medline_ta]
                .into_iter()
                .find(|v| !v.is_empty())
                .unwrap_or_default();
            (title, venue)
        };
        if title.is_empty() {
            return Err(format!("PMID {pmid}: no title"));
        }
        let raw_url = format!("https://pubmed.ncbi.nlm.nih.gov/{pmid}/");
        let url = canonical(&raw_url, None)
            .map(|u| u.to_string())
            .unwrap_or(raw_url);
        let published = self
            .article_date
            .as_ref()
            .and_then(DateParts::to_datetime)
            .or_else(|| self.pub_date.as_ref().and_then(DateParts::to_datetime));
        let abstract_text = self.abstract_parts.join(" ");
        Ok(Item {
            id: item_id(&url),
            title,
            url,
            published,
            date_source: DateSource::from_metadata(&published),
            summary: abstract_text.clone(),
            text: abstract_text,
            authors: self.authors,
            venue: (!venue.is_empty()).then_some(venue),
            source: source_id.to_string(),
            also_in: Vec::new(),
            title_source: Default::default(),
            url_source: Default::default(),
        })
    }
}

impl DateParts {
    /// Midnight UTC of the date: a missing day is the 1st, a season its first month, a
    /// MedlineDate ("1998 Dec-1999 Jan", "2000 Spring") its first date.
    fn to_datetime(&self) -> Option<DateTime<Utc>> {
        let (year, month, day) = if !self.year.is_empty() {
            let year = parse_year(&self.year)?;
            let month = month_number(&self.month)
                .or_else(|| season_month(&self.season))
                .unwrap_or(1);
            let day = self.day.trim().parse::<u32>().ok().unwrap_or(1);
            (year, month, day)
        } else if !self.medline.is_empty() {
            parse_medline_date(&self.medline)?
        } else {
            return None;
        };
        let date = NaiveDate::from_ymd_opt(year, month, day)
            .or_else(|| NaiveDate::from_ymd_opt(year, month, 1))?;
        Some(date.and_hms_opt(0, 0, 0)?.and_utc())
    }
}

fn parse_year(s: &str) -> Option<i32> {
    let s = s.trim();
    (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
        .filter(|y| (1000..=9999).contains(y))
}

/// "Jan", "January", "jan." or "01"/"1".
fn month_number(s: &str) -> Option<u32> {
    let s = s.trim().trim_end_matches('.');
    if let Ok(n) = s.parse::<u32>() {
        return (1..=12).contains(&n).then_some(n);
    }
    let prefix: String = s.chars().take(3).collect::<String>().to_ascii_lowercase();
    let n = match prefix.as_str() {
        "jan" => 1,
        "feb" => 2,
        "mar" => 3,
        "apr" => 4,
        "may" => 5,
        "jun" => 6,
        "jul" => 7,
        "aug" => 8,
        "sep" => 9,
        "oct" => 10,
        "nov" => 11,
        "dec" => 12,
        _ => return None,
    };
    Some(n)
}

fn season_month(s: &str) -> Option<u32> {
    match s.trim().to_ascii_lowercase().as_str() {
        "spring" => Some(3),
        "summer" => Some(6),
        "fall" | "autumn" => Some(9),
        "winter" => Some(12),
        _ => None,
    }
}

/// The first date of a free-form MedlineDate: its first four-digit year, then the month (or
/// season) and day that follow it, if any.
fn parse_medline_date(s: &str) -> Option<(i32, u32, u32)> {
    let tokens: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || matches!(c, '-' | '/' | ','))
        .filter(|t| !t.is_empty())
        .collect();
    let at = tokens.iter().position(|t| parse_year(t).is_some())?;
    let year = parse_year(tokens.get(at)?)?;
    let mut month = 1;
    let mut day = 1;
    if let Some(next) = tokens.get(at + 1)
        && let Some(m) = season_month(next).or_else(|| {
            // A bare number after the year is a second year or a day range, not a month.
            next.chars()
                .next()
                .filter(char::is_ascii_alphabetic)
                .and_then(|_| month_number(next))
        })
    {
        month = m;
        if let Some(d) = tokens
            .get(at + 2)
            .filter(|t| t.len() <= 2)
            .and_then(|t| t.parse::<u32>().ok())
            .filter(|d| (1..=31).contains(d))
        {
            day = d;
        }
    }
    Some((year, month, day))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpora/pubmed/");

    fn corpus(name: &str) -> Vec<u8> {
        std::fs::read(format!("{DIR}{name}")).unwrap()
    }

    fn origin() -> Origin<'static> {
        Origin {
            source_id: "pubmed",
            url: None,
            content_type: None,
        }
    }

    fn efetch(name: &str) -> Parsed {
        parse_efetch(&corpus(name), &origin()).unwrap()
    }

    fn date(item: &Item) -> String {
        item.published.unwrap().to_rfc3339()
    }

    fn pmids(parsed: &Parsed) -> Vec<&str> {
        parsed
            .items
            .iter()
            .map(|i| {
                i.url
                    .trim_start_matches("https://pubmed.ncbi.nlm.nih.gov/")
                    .trim_end_matches('/')
            })
            .collect()
    }

    #[test]
    fn pubmed1_season_date_and_unlabelled_abstract() {
        let parsed = efetch("pubmed1.xml");
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        assert_eq!(pmids(&parsed), ["12091962", "9997"]);
        let a = &parsed.items[0];
        assert_eq!(a.url, "https://pubmed.ncbi.nlm.nih.gov/12091962/");
        assert_eq!(a.id, item_id("https://pubmed.ncbi.nlm.nih.gov/12091962/"));
        assert_eq!(
            a.title,
            "The treatment of AIDS behind the walls of correctional facilities."
        );
        // <Year>1990</Year><Season>Spring</Season>
        assert_eq!(date(a), "1990-03-01T00:00:00+00:00");
        assert_eq!(a.date_source, DateSource::Feed);
        assert_eq!(
            a.venue.as_deref(),
            Some("Social justice (San Francisco, Calif.)")
        );
        assert_eq!(a.authors, ["Olivero JM"]);
        assert_eq!(a.summary, "");
        assert_eq!(a.source, "pubmed");
        let b = &parsed.items[1];
        assert_eq!(
            b.title,
            "Magnetic studies of Chromatium flavocytochrome C552. A mechanism for heme-flavin interaction."
        );
        assert_eq!(date(b), "1976-09-28T00:00:00+00:00");
        assert_eq!(b.venue.as_deref(), Some("Biochimica et biophysica acta"));
        assert_eq!(b.authors, ["Strekas TC"]);
        assert!(
            b.summary
                .starts_with("Electron paramagnetic resonance and magnetic susceptibility")
        );
        assert!(b.text.ends_with("a mechanism for heme-flavin interaction."));
        assert_eq!(b.summary, b.text);
    }

    #[test]
    fn pubmed2_month_only_date_entities_and_many_authors() {
        let parsed = efetch("pubmed2.xml");
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        assert_eq!(pmids(&parsed), ["11748933", "11700088"]);
        let a = &parsed.items[0];
        assert_eq!(
            a.title,
            "Is cryopreservation a homogeneous process? Ultrastructure and motility of untreated, prefreezing, and postthawed spermatozoa of Diplodus puntazzo (Cetti)."
        );
        assert_eq!(date(a), "2001-06-01T00:00:00+00:00");
        assert_eq!(a.venue.as_deref(), Some("Cryobiology"));
        assert_eq!(
            a.authors,
            [
                "Taddei AR",
                "Barbato F",
                "Abelli L",
                "Canese S",
                "Moretti F",
                "Rana KJ",
                "Fausto AM",
                "Mazzini M"
            ]
        );
        // &lt; decoded, CopyrightInformation not part of the abstract.
        assert!(a.text.contains("(P < 0.001)"), "{}", a.text);
        assert!(!a.text.contains("Copyright"));
        let b = &parsed.items[1];
        assert_eq!(
            b.title,
            "Proton MRI of (13)C distribution by J and chemical shift editing."
        );
        assert_eq!(date(b), "2001-11-01T00:00:00+00:00");
        assert_eq!(
            b.venue.as_deref(),
            Some("Journal of magnetic resonance (San Diego, Calif. : 1997)")
        );
    }

    #[test]
    fn pubmed4_italic_title_labelled_abstract_and_article_date() {
        let parsed = efetch("pubmed4.xml");
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        // The references' PMIDs (CommentsCorrections, ReferenceList) are not articles.
        assert_eq!(pmids(&parsed), ["27797938"]);
        let a = &parsed.items[0];
        assert_eq!(
            a.title,
            "Leucocyte telomere length, genetic variants at the TERT gene region and risk of pancreatic cancer."
        );
        // ArticleDate (Electronic) 2016-10-21 wins over PubDate 2017 06.
        assert_eq!(date(a), "2016-10-21T00:00:00+00:00");
        assert_eq!(a.venue.as_deref(), Some("Gut"));
        assert_eq!(a.authors.first().map(String::as_str), Some("Bao Y"));
        assert!(a.authors.contains(&"Gaziano JM".to_string()));
        assert!(
            a.summary.starts_with(
                "OBJECTIVE: Telomere shortening occurs as an early event in pancreatic \
                 tumorigenesis, and genetic variants at the telomerase reverse transcriptase (TERT) gene region"
            ),
            "{}",
            a.summary
        );
        assert!(a.summary.contains(
            "month/year of blood collection. We additionally examined single-nucleotide polymorphisms (SNPs) at the TERT region"
        ));
        assert!(a.summary.contains(
            " RESULTS: Shorter prediagnostic leucocyte telomere length was associated with higher risk \
             of pancreatic cancer (comparing extreme quintiles of telomere length, OR 1.72; 95% CI 1.07 to 2.78; ptrend=0.048)."
        ));
        assert!(a.summary.contains("disequilibrium r2<0.25)"));
        assert!(a.summary.ends_with(
            "(p=0.023). CONCLUSIONS: Prediagnostic leucocyte telomere length and genetic variants \
             at the TERT gene region were associated with risk of pancreatic cancer."
        ));
        assert!(a.summary.contains(" DESIGN: We measured"));
    }

    #[test]
    fn pubmed6_quotes_across_markup_and_mathml_flattened() {
        let parsed = efetch("pubmed6.xml");
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        assert_eq!(pmids(&parsed), ["30108519"]);
        let a = &parsed.items[0];
        assert_eq!(
            a.title,
            "A \"Blood Relationship\" Between the Overlooked Minimum Lactate Equivalent and Maximal \
             Lactate Steady State in Trained Runners. Back to the Old Days?"
        );
        assert_eq!(date(a), "2018-07-31T00:00:00+00:00");
        assert_eq!(a.venue.as_deref(), Some("Frontiers in physiology"));
        assert_eq!(a.authors, ["Garcia-Tabar I", "Gorostiaga EM"]);
        assert!(
            a.text
                .contains("\"Minimum Lactate Equivalent\" (LEmin), first described")
        );
        assert!(
            a.text.contains(
                "[VMLSS 15.0 ± 1.1 km·h-1; maximal oxygen uptake ( V.O2max ) 67.6 ± 4.1 ml·kg-1·min-1]"
            ),
            "{}",
            a.text
        );
        assert!(
            a.text
                .contains("LEmin did not differ from LT (P = 0.71; ES: 0.08)")
        );
        assert!(!a.text.contains("<sub") && !a.text.contains("mml") && !a.text.contains('\n'));
        assert!(a.text.contains("(P < 0.001; ES: 3.54)"));
    }

    #[test]
    fn dates_medline_seasons_and_fallbacks() {
        let parts = |year: &str, month: &str, day: &str, season: &str, medline: &str| DateParts {
            year: year.into(),
            month: month.into(),
            day: day.into(),
            season: season.into(),
            medline: medline.into(),
        };
        let ymd = |p: DateParts| p.to_datetime().map(|d| d.date_naive().to_string());
        assert_eq!(ymd(parts("1998", "Dec", "", "", "")).unwrap(), "1998-12-01");
        assert_eq!(
            ymd(parts("1998", "02", "30", "", "")).unwrap(),
            "1998-02-01"
        );
        assert_eq!(
            ymd(parts("2001", "", "", "Summer", "")).unwrap(),
            "2001-06-01"
        );
        assert_eq!(
            ymd(parts("2001", "", "", "Autumn", "")).unwrap(),
            "2001-09-01"
        );
        assert_eq!(
            ymd(parts("2001", "", "", "Fall", "")).unwrap(),
            "2001-09-01"
        );
        assert_eq!(
            ymd(parts("2001", "", "", "Winter", "")).unwrap(),
            "2001-12-01"
        );
        assert_eq!(
            ymd(parts("", "", "", "", "2000 Spring")).unwrap(),
            "2000-03-01"
        );
        assert_eq!(
            ymd(parts("", "", "", "", "1998 Dec-1999 Jan")).unwrap(),
            "1998-12-01"
        );
        assert_eq!(
            ymd(parts("", "", "", "", "1998 Dec 7-14")).unwrap(),
            "1998-12-07"
        );
        assert_eq!(
            ymd(parts("", "", "", "", "1999-2000")).unwrap(),
            "1999-01-01"
        );
        assert_eq!(
            ymd(parts("", "", "", "", "Summer 2000")).unwrap(),
            "2000-01-01"
        );
        assert_eq!(ymd(parts("", "", "", "", "undated")), None);
        assert_eq!(ymd(parts("19x8", "", "", "", "")), None);
        assert_eq!(ymd(parts("", "", "", "", "")), None);
    }

    #[test]
    fn medline_date_collective_author_skips_and_book_article() {
        let xml = br#"<?xml version="1.0"?><PubmedArticleSet>
<PubmedArticle><MedlineCitation><PMID Version="1">111</PMID><Article>
 <Journal><JournalIssue><PubDate><MedlineDate>1998 Dec-1999 Jan</MedlineDate></PubDate></JournalIssue>
 <ISOAbbreviation>J Test</ISOAbbreviation></Journal>
 <ArticleTitle>Water &amp; H<sub>2</sub>O&#8217;s role</ArticleTitle>
 <AuthorList><Author><CollectiveName>The <i>X</i> Study Group</CollectiveName></Author>
 <Author ValidYN="N"><LastName>Wrong</LastName><Initials>W</Initials></Author>
 <Author><LastName>Solo</LastName><ForeName>Han</ForeName></Author></AuthorList>
</Article></MedlineCitation></PubmedArticle>
<PubmedArticle><MedlineCitation><PMID>222</PMID><Article><ArticleTitle/></Article></MedlineCitation></PubmedArticle>
<PubmedArticle><MedlineCitation><Article><ArticleTitle>No id</ArticleTitle></Article></MedlineCitation></PubmedArticle>
<PubmedBookArticle><BookDocument><PMID>333</PMID><Book><Publisher><PublisherName>NCBI</PublisherName></Publisher>
 <BookTitle>GeneReviews</BookTitle><PubDate><Year>2020</Year><Month>Feb</Month></PubDate></Book>
 <ArticleTitle>Some Syndrome</ArticleTitle><Abstract><AbstractText Label="SUMMARY">Text.</AbstractText></Abstract>
</BookDocument></PubmedBookArticle>
</PubmedArticleSet>"#;
        let parsed = parse_efetch(xml, &origin()).unwrap();
        assert_eq!(pmids(&parsed), ["111", "333"]);
        let a = &parsed.items[0];
        assert_eq!(a.title, "Water & H2O’s role");
        assert_eq!(date(a), "1998-12-01T00:00:00+00:00");
        assert_eq!(a.venue.as_deref(), Some("J Test"));
        assert_eq!(a.authors, ["The X Study Group", "Solo Han"]);
        assert_eq!(
            parsed.warnings,
            [
                "article 2: PMID 222: no title: skipped",
                "article 3: no PMID: skipped"
            ]
        );
        let book = &parsed.items[1];
        assert_eq!(book.title, "Some Syndrome");
        assert_eq!(book.venue.as_deref(), Some("GeneReviews"));
        assert_eq!(book.summary, "SUMMARY: Text.");
        assert_eq!(date(book), "2020-02-01T00:00:00+00:00");

        let undated = br#"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>5</PMID>
<Article><ArticleTitle>T</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"#;
        let item = &parse_efetch(undated, &origin()).unwrap().items[0];
        assert_eq!(item.published, None);
        assert_eq!(item.date_source, DateSource::None);
        assert_eq!(item.venue, None);
    }

    #[test]
    fn truncated_efetch_keeps_the_complete_articles() {
        let full = corpus("pubmed1.xml");
        let text = String::from_utf8(full).unwrap();
        let second = text.rfind("<PubmedArticle>").unwrap();
        let abstract_at = text.rfind("<AbstractText>").unwrap();
        assert!(abstract_at > second);
        // Cut in the middle of the second article's abstract, then inside a tag.
        for cut in [abstract_at + 40, abstract_at + 3] {
            let parsed = parse_efetch(&text.as_bytes()[..cut], &origin()).unwrap();
            assert_eq!(pmids(&parsed), ["12091962"]);
            assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
            let w = &parsed.warnings[0];
            assert!(
                w.starts_with("document cut short after 1 complete article(s)"),
                "{w}"
            );
            assert!(w.contains("malformed XML at line 4, column "), "{w}");
        }
        // Cut inside the first article: nothing complete, so an error.
        let first = text.find("<ArticleTitle>").unwrap();
        let err = parse_efetch(&text.as_bytes()[..first], &origin()).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("the document ends inside <Article> (truncated or corrupted)"),
            "{err}"
        );
    }

    #[test]
    fn bad_documents_fail_with_clear_messages() {
        let err = parse_efetch(&corpus("pubmed3.html"), &origin()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "source pubmed: NCBI returned an HTML page instead of XML: \"PmFetch response\""
        );
        assert_eq!(err.kind(), crate::error::ErrorKind::SourceUnavailable);
        let err = parse_esearch(&corpus("pubmed3.html"), "pubmed").unwrap_err();
        assert!(
            err.to_string().contains("HTML page instead of XML"),
            "{err}"
        );

        let err = parse_efetch(&corpus("einfo4.xml"), &origin()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "source pubmed: malformed XML at line 40, column 1: the document ends inside \
             <DbList> (truncated or corrupted)"
        );
        let err = parse_esearch(&corpus("einfo4.xml"), "pubmed").unwrap_err();
        assert!(
            err.to_string().contains("malformed XML at line 40"),
            "{err}"
        );

        let err = parse_efetch(b" \n ", &origin()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "source pubmed: the document is empty: expected a PubmedArticleSet"
        );
        let err = parse_efetch(b"<a><b></a>", &origin()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("source pubmed: malformed XML at line 1, column "),
            "{err}"
        );
        let err = parse_efetch(
            b"<eFetchResult><ERROR>Empty id list - nothing todo</ERROR></eFetchResult>",
            &origin(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "source pubmed: NCBI E-utilities error: Empty id list - nothing todo"
        );
        let err = parse_efetch(&corpus("esearch1.xml"), &origin()).unwrap_err();
        assert!(
            err.to_string()
                .contains("expected a PubmedArticleSet, found <eSearchResult>"),
            "{err}"
        );
        let err = parse_efetch(
            br#"{"error":"API rate limit exceeded","api-key":"1.2.3.4","count":"11","limit":"10"}"#,
            &origin(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "source pubmed: NCBI returned a JSON error instead of XML: API rate limit exceeded"
        );
        let err = parse_efetch(b"Service unavailable", &origin()).unwrap_err();
        assert!(err.to_string().contains("not an XML document"), "{err}");
        let empty = parse_efetch(b"<PubmedArticleSet></PubmedArticleSet>", &origin()).unwrap();
        assert!(empty.items.is_empty() && empty.warnings.is_empty());
    }

    #[test]
    fn never_panics_on_any_prefix_or_garbage() {
        for name in ["pubmed1.xml", "pubmed4.xml", "pubmed6.xml", "einfo4.xml"] {
            let bytes = corpus(name);
            for cut in (0..bytes.len()).step_by(97) {
                let _ = parse_efetch(&bytes[..cut], &origin());
                let _ = parse_esearch(&bytes[..cut], "pubmed");
            }
        }
        for junk in [
            &b"<"[..],
            b"<>",
            b"</x>",
            b"<x a='1>",
            b"<x>&#0;&#xFFFFFFFF;&bogus;&</x>",
            b"\xff\xfe<\x00x\x00",
            b"<![CDATA[",
            b"<PubmedArticleSet><PubmedArticle><PubDate><MedlineDate>9999999999 Dec 99</MedlineDate></PubDate></PubmedArticle></PubmedArticleSet>",
        ] {
            let _ = parse_efetch(junk, &origin());
            let _ = parse_esearch(junk, "pubmed");
        }
    }

    #[test]
    fn esearch_ids_count_and_no_result() {
        let result = parse_esearch(&corpus("esearch1.xml"), "pubmed").unwrap();
        assert_eq!(result.count, 63);
        assert_eq!(result.ids.len(), 20);
        assert_eq!(result.ids[0], "41282813");
        assert_eq!(result.ids[19], "37810457");
        assert!(result.warnings.is_empty());

        let result = parse_esearch(&corpus("esearch8.xml"), "pubmed").unwrap();
        assert_eq!(
            result,
            SearchResult {
                count: 0,
                ids: vec![],
                warnings: vec![
                    "phrase not found: abcXYZ".to_string(),
                    "NCBI: No items found.".to_string()
                ],
            }
        );

        let err = parse_esearch(
            b"<eSearchResult><ERROR>Invalid query</ERROR></eSearchResult>",
            "pubmed",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "source pubmed: NCBI E-utilities error: Invalid query"
        );
        let err = parse_esearch(
            b"<eSearchResult><Count>0</Count><ErrorList><FieldNotFound>zz</FieldNotFound></ErrorList></eSearchResult>",
            "pubmed",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("NCBI could not run the search (FieldNotFound: zz)"),
            "{err}"
        );
        let err = parse_esearch(&corpus("pubmed1.xml"), "pubmed").unwrap_err();
        assert!(
            err.to_string()
                .contains("expected an eSearchResult, found <PubmedArticleSet>"),
            "{err}"
        );
        // The TranslationStack's per-term Count is not the total.
        let result = parse_esearch(
            b"<eSearchResult><Count>2</Count><IdList><Id>1</Id><Id>x</Id></IdList>\
              <TranslationStack><TermSet><Count>99</Count></TermSet></TranslationStack></eSearchResult>",
            "pubmed",
        )
        .unwrap();
        assert_eq!(result.count, 2);
        assert_eq!(result.ids, ["1"]);
        assert_eq!(result.warnings, ["id \"x\" is not a PMID: skipped"]);
    }

    #[test]
    fn url_builders() {
        let base = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/";
        let min = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        let max = NaiveDate::from_ymd_opt(2026, 2, 28).unwrap();
        assert_eq!(
            esearch_url(
                base,
                "semaglutide[tiab] AND \"long-acting\"",
                min,
                max,
                200,
                None
            ),
            "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/esearch.fcgi?db=pubmed\
             &term=semaglutide%5Btiab%5D+AND+%22long-acting%22&datetype=pdat\
             &mindate=2026%2F01%2F05&maxdate=2026%2F02%2F28&retmax=200&retmode=xml"
        );
        assert_eq!(
            esearch_url(
                "https://eutils.ncbi.nlm.nih.gov/entrez/eutils",
                "a&b",
                min,
                max,
                5,
                Some("k&y")
            ),
            "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/esearch.fcgi?db=pubmed&term=a%26b\
             &datetype=pdat&mindate=2026%2F01%2F05&maxdate=2026%2F02%2F28&retmax=5&retmode=xml\
             &api_key=k%26y"
        );
        let ids = vec!["123".to_string(), "456".to_string()];
        assert_eq!(
            efetch_url(base, &ids, None),
            "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/efetch.fcgi?db=pubmed&id=123%2C456\
             &retmode=xml&rettype=abstract"
        );
        assert_eq!(
            efetch_url(base, &ids, Some("KEY")),
            "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/efetch.fcgi?db=pubmed&id=123%2C456\
             &retmode=xml&rettype=abstract&api_key=KEY"
        );
    }
}

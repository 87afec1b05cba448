//! Rendering a newsletter: one document model, a Markdown template and an email-safe HTML
//! template (minijinja; every item field escaped for its output format).
//!
//! Hostile input is expected (titles and summaries come from the open web, section text from an
//! LLM): before rendering, every text of the document is [scrubbed](scrub) (unsafe characters
//! removed, lengths bounded, links other than http(s) dropped); the Markdown escapes everything
//! that could open markup; the HTML is auto-escaped by the template and then passed through an
//! allow-list sanitizer (ammonia) that keeps exactly the tags and attributes the template writes.

use std::collections::{HashMap, HashSet};

use minijinja::Environment;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::normalize::{MAX_SUMMARY_CHARS, MAX_TITLE_CHARS, bound_str};

/// The newsletter as data: `newsletter.json`, and what both templates render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Newsletter {
    pub client_id: String,
    pub title: String,
    /// ISO 639-1 language of the newsletter (the HTML `lang`).
    pub language: String,
    pub run_date: String,
    /// "16–22 November 2026": the window's first and last days.
    pub period_label: String,
    pub intro: String,
    pub tldr: Vec<TldrLine>,
    pub sections: Vec<Section>,
    pub scope: Scope,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TldrLine {
    pub item_id: String,
    pub title: String,
    pub section: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub intro: String,
    pub editor: String,
    pub items: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub title: String,
    pub url: String,
    pub source: String,
    pub also_in: Vec<String>,
    /// YYYY-MM-DD, or null when the source gave no date.
    pub date: Option<String>,
    pub summary: String,
    pub event_type: String,
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scope {
    pub sources: Vec<ScopeSource>,
    pub period: String,
    pub watch_lists: Vec<ScopeList>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopeSource {
    pub name: String,
    pub url: String,
    pub ok: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopeList {
    pub kind: String,
    pub id: String,
    pub entries: usize,
}

const MARKDOWN: &str = include_str!("templates/newsletter.md.j2");
const HTML: &str = include_str!("templates/newsletter.html.j2");

/// The template settings every page of the project shares (the newsletter here, the run
/// report and archive in `report`): strict undefined values, block trimming, and auto-escaping
/// chosen by template name — HTML for *.html, none for *.md (where the `md` filter escapes).
pub(crate) fn base_environment(keep_trailing_newline: bool) -> Result<Environment<'static>> {
    let mut env = Environment::new();
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(keep_trailing_newline)
        .build()
        .map_err(|e| Error::Internal(format!("template syntax: {e}")))?;
    env.set_syntax(syntax);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    env.add_filter("md", |s: String| markdown_escape(&s));
    Ok(env)
}

fn environment() -> Result<Environment<'static>> {
    let mut env = base_environment(true)?;
    env.add_filter("mdurl", |s: String| markdown_url(&s));
    env.add_template("newsletter.md", MARKDOWN)
        .map_err(|e| Error::Internal(format!("markdown template: {e}")))?;
    env.add_template("newsletter.html", HTML)
        .map_err(|e| Error::Internal(format!("html template: {e}")))?;
    Ok(env)
}

fn render(name: &str, doc: &Newsletter) -> Result<String> {
    let env = environment()?;
    let template = env
        .get_template(name)
        .map_err(|e| Error::Internal(format!("{name}: {e}")))?;
    template
        .render(minijinja::value::Serde(doc))
        .map_err(|e| Error::Internal(format!("rendering {name}: {e}")))
}

pub fn markdown(doc: &Newsletter) -> Result<String> {
    render("newsletter.md", &scrub(doc))
}

pub fn html(doc: &Newsletter) -> Result<String> {
    sanitize_document(&render("newsletter.html", &scrub(doc))?)
}

/// Longest intro (newsletter or section) rendered, in characters.
pub const MAX_INTRO_CHARS: usize = 4_000;
/// Longest name (source, section, watch list, period) rendered, in characters.
pub const MAX_NAME_CHARS: usize = 300;
/// Longest link rendered; a longer URL is shown as text without a link.
pub const MAX_URL_CHARS: usize = 2_048;

/// The document as it may be rendered: unsafe characters removed and every text bounded
/// (titles [`MAX_TITLE_CHARS`], summaries [`MAX_SUMMARY_CHARS`], intros [`MAX_INTRO_CHARS`],
/// names [`MAX_NAME_CHARS`]); an item URL that is not an absolute http(s) URL of at most
/// [`MAX_URL_CHARS`] becomes empty (the templates then show the title without a link); a
/// language that is not a plain language tag becomes `und`.
pub fn scrub(doc: &Newsletter) -> Newsletter {
    let text = |s: &str, max: usize| {
        let mut s = s.to_string();
        bound_str(&mut s, max);
        s
    };
    let name = |s: &str| text(s, MAX_NAME_CHARS);
    let language = if !doc.language.is_empty()
        && doc.language.len() <= 35
        && doc
            .language
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        doc.language.clone()
    } else {
        "und".to_string()
    };
    Newsletter {
        client_id: name(&doc.client_id),
        title: text(&doc.title, MAX_TITLE_CHARS),
        language,
        run_date: name(&doc.run_date),
        period_label: name(&doc.period_label),
        intro: text(&doc.intro, MAX_INTRO_CHARS),
        tldr: doc
            .tldr
            .iter()
            .map(|l| TldrLine {
                item_id: name(&l.item_id),
                title: text(&l.title, MAX_TITLE_CHARS),
                section: name(&l.section),
            })
            .collect(),
        sections: doc
            .sections
            .iter()
            .map(|s| Section {
                id: name(&s.id),
                title: text(&s.title, MAX_TITLE_CHARS),
                intro: text(&s.intro, MAX_INTRO_CHARS),
                editor: name(&s.editor),
                items: s
                    .items
                    .iter()
                    .map(|e| Entry {
                        id: name(&e.id),
                        title: text(&e.title, MAX_TITLE_CHARS),
                        url: safe_url(&e.url),
                        source: name(&e.source),
                        also_in: e.also_in.iter().map(|a| name(a)).collect(),
                        date: e.date.as_deref().map(name),
                        summary: text(&e.summary, MAX_SUMMARY_CHARS),
                        event_type: name(&e.event_type),
                        score: e.score,
                    })
                    .collect(),
            })
            .collect(),
        scope: Scope {
            sources: doc
                .scope
                .sources
                .iter()
                .map(|s| ScopeSource {
                    name: name(&s.name),
                    url: safe_url(&s.url),
                    ok: s.ok,
                })
                .collect(),
            period: name(&doc.scope.period),
            watch_lists: doc
                .scope
                .watch_lists
                .iter()
                .map(|w| ScopeList {
                    kind: name(&w.kind),
                    id: name(&w.id),
                    entries: w.entries,
                })
                .collect(),
        },
    }
}

/// `url` when it is an absolute http(s) URL of at most [`MAX_URL_CHARS`] without unsafe or
/// whitespace characters; else empty.
fn safe_url(url: &str) -> String {
    let ok = url.len() <= MAX_URL_CHARS
        && !url
            .chars()
            .any(|c| c.is_whitespace() || crate::text::is_unsafe_char(c))
        && url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
    if ok { url.to_string() } else { String::new() }
}

/// The allow-list sanitizer for the HTML newsletter: exactly the tags and attributes the
/// template writes, links to http(s) only (relative links dropped), styles limited to the
/// properties the template uses, comments stripped, `script`/`style` removed with their content.
fn sanitizer() -> ammonia::Builder<'static> {
    let tags: HashSet<&str> = [
        "html", "head", "body", "meta", "title", "table", "tr", "td", "h1", "h2", "h3", "p", "ul",
        "li", "a", "span", "strong",
    ]
    .into();
    let styled = [
        "body", "table", "td", "h1", "h2", "h3", "p", "ul", "li", "a", "span",
    ];
    let mut attributes: HashMap<&str, HashSet<&str>> = HashMap::new();
    for tag in styled {
        attributes.entry(tag).or_default().insert("style");
    }
    let extra: [(&str, &[&str]); 5] = [
        ("html", &["lang"]),
        ("meta", &["charset", "name", "content"]),
        (
            "table",
            &["role", "width", "cellpadding", "cellspacing", "border"],
        ),
        ("td", &["align"]),
        ("a", &["href"]),
    ];
    for (tag, names) in extra {
        attributes
            .entry(tag)
            .or_default()
            .extend(names.iter().copied());
    }
    let style_properties: HashSet<&str> = [
        "margin",
        "padding",
        "padding-left",
        "background",
        "max-width",
        "width",
        "font-family",
        "font-size",
        "line-height",
        "color",
        "border-top",
        "text-decoration",
    ]
    .into();
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(tags)
        .tag_attributes(attributes)
        .generic_attributes(HashSet::new())
        .url_schemes(["http", "https"].into())
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(None)
        .strip_comments(true)
        .filter_style_properties(style_properties);
    builder
}

/// Sanitizes a rendered HTML document. ammonia cleans fragments (the parser drops the doctype
/// and the `html`/`head`/`body` elements of a fragment), so the head's and the body's contents
/// are cleaned separately and put back between the template's own document tags, which carry
/// no data but the (scrubbed) language.
fn sanitize_document(html: &str) -> Result<String> {
    let structure =
        || Error::Internal("html template: no <head> … </head> <body> … </body>".into());
    let head_start = html.find("<head>").ok_or_else(structure)? + "<head>".len();
    let head_end = head_start + html[head_start..].find("</head>").ok_or_else(structure)?;
    let body_tag = head_end + html[head_end..].find("<body").ok_or_else(structure)?;
    let body_start = body_tag + html[body_tag..].find('>').ok_or_else(structure)? + 1;
    let body_end = html
        .rfind("</body>")
        .filter(|&end| end >= body_start)
        .ok_or_else(structure)?;
    let builder = sanitizer();
    let mut out = String::with_capacity(html.len());
    out.push_str(&html[..head_start]);
    out.push_str(&builder.clean(&html[head_start..head_end]).to_string());
    out.push_str(&html[head_end..body_start]);
    out.push_str(&builder.clean(&html[body_start..body_end]).to_string());
    out.push_str(&html[body_end..]);
    Ok(out)
}

/// Escapes text for inline Markdown: nothing in an item can open a link, an emphasis, raw HTML
/// or a heading, and newlines cannot start a new block. `<` and `>` become `&lt;` and `&gt;`
/// (so not even a naive HTML consumer of the Markdown sees a tag), and an `&` that would start
/// a character reference is escaped.
pub fn markdown_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for (i, c) in s.char_indices() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' if starts_reference(&s[i + 1..]) => out.push_str("\\&"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' | '!' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if crate::text::is_unsafe_char(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether the text after an `&` reads as a character reference (`amp;`, `#60;`, `#x3C;`).
fn starts_reference(rest: &str) -> bool {
    let rest = rest
        .strip_prefix('#')
        .map_or(rest, |r| r.strip_prefix(['x', 'X']).unwrap_or(r));
    let name = rest
        .bytes()
        .take(32)
        .take_while(u8::is_ascii_alphanumeric)
        .count();
    name > 0 && rest.as_bytes().get(name) == Some(&b';')
}

/// A URL safe inside `(...)` of a Markdown link: parentheses, spaces and angle brackets encoded.
pub fn markdown_url(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            ' ' => out.push_str("%20"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '\\' => out.push_str("%5C"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn doc(title: &str, url: &str, summary: &str) -> Newsletter {
        Newsletter {
            client_id: "c".into(),
            title: "LAI Weekly".into(),
            language: "en".into(),
            run_date: "2026-11-23".into(),
            period_label: "16–22 November 2026".into(),
            intro: "Intro.".into(),
            tldr: vec![TldrLine {
                item_id: "i1".into(),
                title: title.into(),
                section: "Regulatory".into(),
            }],
            sections: vec![Section {
                id: "regulatory".into(),
                title: "Regulatory".into(),
                intro: "1 item.".into(),
                editor: "template".into(),
                items: vec![Entry {
                    id: "i1".into(),
                    title: title.into(),
                    url: url.into(),
                    source: "FiercePharma".into(),
                    also_in: vec!["Endpoints News".into()],
                    date: Some("2026-11-18".into()),
                    summary: summary.into(),
                    event_type: "regulatory".into(),
                    score: 21.5,
                }],
            }],
            scope: Scope {
                sources: vec![ScopeSource {
                    name: "FiercePharma".into(),
                    url: "https://f".into(),
                    ok: true,
                }],
                period: "2026-11-16 to 2026-11-22".into(),
                watch_lists: vec![ScopeList {
                    kind: "companies".into(),
                    id: "lai_companies".into(),
                    entries: 12,
                }],
            },
        }
    }

    #[test]
    fn hostile_fields_cannot_inject_markup_in_either_format() {
        let d = doc(
            "<script>alert(1)</script> [click](https://evil.example) **bold**",
            "https://example.com/a_(b)",
            "<!-- hidden --> ![img](x) line\nbreak",
        );
        let md = markdown(&d).unwrap();
        assert!(!md.contains("<script>"), "{md}");
        assert!(md.contains("\\[click\\](https://evil.example)"), "{md}");
        assert!(md.contains("](https://example.com/a_%28b%29)"), "{md}");
        assert!(!md.contains("<!--"), "{md}");
        let html = html(&d).unwrap();
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<!-- hidden"), "{html}");
        assert!(
            html.contains("href=\"https:&#x2f;&#x2f;example.com&#x2f;a_(b)\"")
                || html.contains("href=\"https://example.com/a_(b)\""),
            "{html}"
        );
    }

    /// Titles and summaries as a hostile feed or a confused LLM may send them.
    const HOSTILE: &[&str] = &[
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "<a href=\"javascript:alert(1)\">click</a>",
        "<!-- hidden --><!-->",
        "Uz\u{200B}edy\u{200D}\u{2060}\u{FEFF}",
        "\u{202E}gnp.exe\u{202C} \u{2066}bidi\u{2069} \u{200F}",
        "&lt;script&gt;alert(2)&lt;/script&gt; &#60;b&#62;",
        "\u{0007}bell\u{001B}[31mred\r\n# heading\n> quote",
    ];

    fn hostile_doc() -> Newsletter {
        let text = HOSTILE.join(" ");
        let mut d = doc(&text, "javascript:alert(1)", &text);
        d.intro = text.clone();
        d.title = format!("{text} LAI Weekly");
        d.sections[0].intro = text.clone();
        d.sections[0].title = text.clone();
        d.sections[0].items[0].source = text.clone();
        d.sections[0].items[0].also_in = vec![text.clone()];
        let mut long = d.sections[0].items[0].clone();
        long.title = "Uzedy ".repeat(20_000); // 120 KB
        long.summary = "é".repeat(100_000);
        long.url = format!("https://example.com/{}", "a".repeat(100_000));
        d.sections[0].items.push(long);
        let mut data = d.sections[0].items[0].clone();
        data.url = "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==".into();
        d.sections[0].items.push(data);
        let mut relative = d.sections[0].items[0].clone();
        relative.url = "//evil.example/x".into();
        d.sections[0].items.push(relative);
        d.language = "en\"><script>alert(1)</script>".into();
        d
    }

    /// What holds for both formats: no tag a browser would run, no unsafe character, every
    /// line and field bounded.
    fn assert_nothing_active(out: &str) {
        let lower = out.to_lowercase();
        for needle in [
            "<script",
            "</script",
            "<img",
            "<a href=\"javascript",
            "<!--",
        ] {
            assert!(!lower.contains(needle), "{needle} in output");
        }
        if let Some(c) = out.chars().find(|&c| crate::text::is_unsafe_char(c)) {
            panic!("unsafe character U+{:04X} in output", c as u32);
        }
        let longest = out.lines().map(|l| l.chars().count()).max().unwrap();
        assert!(longest <= 16_000, "a line of {longest} characters");
        assert!(!out.contains(&"Uzedy ".repeat(100)), "long title not cut");
        assert!(!out.contains(&"a".repeat(MAX_URL_CHARS)), "long URL kept");
    }

    /// The targets of the Markdown's active links (`](` not escaped).
    fn markdown_links(md: &str) -> Vec<&str> {
        md.match_indices("](")
            .filter(|&(i, _)| !md[..i].ends_with('\\'))
            .map(|(i, _)| {
                let rest = &md[i + 2..];
                &rest[..rest.find(')').unwrap_or(rest.len())]
            })
            .collect()
    }

    #[test]
    fn hostile_markdown_has_no_active_markup_and_bounded_lengths() {
        let md = markdown(&hostile_doc()).unwrap();
        assert_nothing_active(&md);
        assert!(!md.contains('<'), "no tag, no comment, no autolink: {md}");
        // No item has a usable URL, so no link at all.
        assert_eq!(markdown_links(&md), Vec::<&str>::new(), "{md}");
        assert!(
            md.contains("\\[x\\](javascript:alert(1))"),
            "inert text stays"
        );
        assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{md}");
        assert!(
            md.contains("\\&lt;script\\&gt;alert(2)"),
            "references stay text: {md}"
        );
        assert!(md.contains("Uzedy gnp.exe bidi"), "{md}");
        assert!(md.contains("bell\\[31mred  \\# heading &gt; quote"), "{md}");
        // The 120 KB title is cut to MAX_TITLE_CHARS, with an ellipsis.
        let long = md
            .lines()
            .find(|l| l.starts_with("### Uzedy Uzedy"))
            .expect("long title rendered without its over-long link");
        assert!(long.chars().count() <= 4 + MAX_TITLE_CHARS && long.ends_with('…'));
        let summary = md.lines().find(|l| l.starts_with("éé")).unwrap();
        assert_eq!(summary.chars().count(), MAX_SUMMARY_CHARS);
    }

    #[test]
    fn hostile_html_has_no_active_markup_and_bounded_lengths() {
        let html = html(&hostile_doc()).unwrap();
        assert_nothing_active(&html);
        assert!(
            html.starts_with("<!DOCTYPE html>\n<html lang=\"und\">\n<head>\n"),
            "{html}"
        );
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        let dom = scraper::Html::parse_document(&html);
        let a = scraper::Selector::parse("a").unwrap();
        assert_eq!(dom.select(&a).count(), 0, "no item has a usable link");
        for element in dom.root_element().descendent_elements() {
            let e = element.value();
            assert!(
                !matches!(e.name(), "script" | "img" | "iframe" | "style" | "object"),
                "{}",
                e.name()
            );
            for (name, value) in e.attrs() {
                assert!(!name.starts_with("on"), "{name}={value}");
                assert!(
                    !value.to_lowercase().contains("javascript"),
                    "{name}={value}"
                );
            }
        }
        let h3: Vec<String> = dom
            .select(&scraper::Selector::parse("h3").unwrap())
            .map(|e| e.text().collect())
            .collect();
        assert_eq!(h3.len(), 4);
        assert!(h3[1].starts_with("Uzedy Uzedy") && h3[1].ends_with('…'));
        assert!(h3[1].chars().count() <= MAX_TITLE_CHARS);
    }

    #[test]
    fn sanitizer_keeps_the_document_and_renders_the_same_newsletter() {
        let mut d = doc(
            "Uzedy label expanded <b>",
            "https://example.com/u?a=1&b=2",
            "S & p<0.05.",
        );
        d.sections[0].items[0]
            .also_in
            .push("O'Brien \"News\"".into());
        d.scope.sources.push(ScopeSource {
            name: "Down".into(),
            url: "https://d".into(),
            ok: false,
        });
        let clean = html(&d).unwrap();
        let raw = render("newsletter.html", &scrub(&d)).unwrap();
        assert!(clean.starts_with(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>LAI Weekly</title>\n</head>\n<body style=\""
        ));
        assert!(clean.ends_with("</table>\n</body>\n</html>\n"), "{clean}");
        assert!(clean.contains(
            "<a href=\"https://example.com/u?a=1&amp;b=2\" style=\"color:#0b5cad;text-decoration:none\">"
        ), "{clean}");
        // Same tree once parsed: same elements, attributes, text, in the same order (styles
        // compared by declaration, the sanitizer rewrites `a:b;c:d;` as `a:b;c:d`).
        assert_eq!(normalized_dom(&clean), normalized_dom(&raw));
    }

    fn normalized_dom(html: &str) -> Vec<String> {
        let dom = scraper::Html::parse_document(html);
        let mut out = Vec::new();
        for node in dom.tree.root().descendants() {
            match node.value() {
                scraper::Node::Element(e) => {
                    let mut attrs: Vec<String> = e
                        .attrs()
                        .map(|(k, v)| {
                            let v = if k == "style" {
                                v.split(';')
                                    .map(|d| d.trim().replace(" , ", ","))
                                    .filter(|d| !d.is_empty())
                                    .collect::<Vec<_>>()
                                    .join(";")
                            } else {
                                v.to_string()
                            };
                            format!("{k}={v}")
                        })
                        .collect();
                    attrs.sort();
                    out.push(format!("<{} {}>", e.name(), attrs.join(" ")));
                }
                scraper::Node::Text(t) => out.push(t.to_string()),
                scraper::Node::Doctype(d) => out.push(format!("<!{}>", d.name())),
                scraper::Node::Comment(c) => out.push(format!("<!--{}-->", &**c)),
                _ => {}
            }
        }
        out
    }

    #[test]
    fn markdown_escape_neutralizes_tags_and_references() {
        assert_eq!(markdown_escape("a<b>c"), "a&lt;b&gt;c");
        assert_eq!(markdown_escape("J&J and AT&T"), "J&J and AT&T");
        assert_eq!(
            markdown_escape("&lt; &#60; &#x3C;"),
            "\\&lt; \\&\\#60; \\&\\#x3C;"
        );
        assert_eq!(markdown_escape("\u{202E}x\u{200B}y"), "xy");
    }

    #[test]
    fn scrub_drops_unsafe_links_and_keeps_http_ones() {
        assert_eq!(safe_url("https://example.com/a"), "https://example.com/a");
        assert_eq!(safe_url("http://example.com/"), "http://example.com/");
        for bad in [
            "javascript:alert(1)",
            " JaVaScRiPt:alert(1)",
            "data:text/html,x",
            "vbscript:x",
            "/relative",
            "//evil.example",
            "https://example.com/\u{202E}x",
            "https://example.com/a b",
            "",
        ] {
            assert_eq!(safe_url(bad), "", "{bad}");
        }
    }

    #[test]
    fn markdown_has_title_tldr_sections_links_and_scope() {
        let md = markdown(&doc(
            "Uzedy label expanded",
            "https://example.com/u",
            "Summary.",
        ))
        .unwrap();
        assert!(md.starts_with("# LAI Weekly\n"), "{md}");
        assert!(md.contains("## TL;DR"), "{md}");
        assert!(md.contains("## Regulatory"), "{md}");
        assert!(
            md.contains("### [Uzedy label expanded](https://example.com/u)"),
            "{md}"
        );
        assert!(
            md.contains("FiercePharma · 2026-11-18 · also in Endpoints News"),
            "{md}"
        );
        assert!(md.contains("**Scope**"), "{md}");
    }
}

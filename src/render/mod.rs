//! Rendering a newsletter: one document model, a Markdown template and an email-safe HTML
//! template (minijinja; every item field escaped for its output format).

use minijinja::Environment;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

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

fn environment() -> Result<Environment<'static>> {
    let mut env = Environment::new();
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| Error::Internal(format!("template syntax: {e}")))?;
    env.set_syntax(syntax);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    // Auto-escaping is chosen by template name: HTML for *.html, none for *.md (where `md`
    // escapes instead).
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    env.add_filter("md", |s: String| markdown_escape(&s));
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
    render("newsletter.md", doc)
}

pub fn html(doc: &Newsletter) -> Result<String> {
    render("newsletter.html", doc)
}

/// Escapes text for inline Markdown: nothing in an item can open a link, an emphasis, raw HTML
/// or a heading, and newlines cannot start a new block.
pub fn markdown_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#' | '!' | '{' | '}' => {
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

//! Text primitives shared by normalization, matching and rendering: folding for matching,
//! HTML to plain text, control-character removal, bounded truncation.

use scraper::{Html, Node};

/// Folds text for dictionary matching: accents transliterated, lower case, ®/™/© dropped, and
/// every run of non-alphanumeric characters turned into one space. So "Long-Acting", "long
/// acting" and "LONG‐ACTING" fold alike, and a word boundary is simply a space or an end.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    let mut push = |c: char, out: &mut String| {
        if c.is_ascii_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c.to_ascii_lowercase());
        } else {
            pending_space = true;
        }
    };
    for ch in s.chars() {
        if matches!(ch, '®' | '™' | '©' | '\u{2120}') {
            continue;
        }
        if ch.is_ascii() {
            push(ch, &mut out);
        } else if let Some(ascii) = deunicode::deunicode_char(ch) {
            for c in ascii.chars() {
                push(c, &mut out);
            }
        } else {
            push(' ', &mut out);
        }
    }
    out
}

/// Characters that must never reach a newsletter: controls (but tab and newline), zero-width
/// characters and bidirectional overrides (they can disguise text and links).
pub fn is_unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c,
            '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{FFFE}'
            | '\u{FFFF}')
}

/// Collapses all whitespace runs to one space and trims, dropping unsafe characters.
pub fn clean_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // Words are copied as slices between separators; an ASCII byte is judged without decoding
    // (this runs on every text field of every item, and feeds are mostly ASCII).
    let b = s.as_bytes();
    let mut word_start: Option<usize> = None;
    let mut i = 0;
    while i < b.len() {
        let (separator, width) = if b[i] < 0x80 {
            (is_ascii_separator(b[i]), 1)
        } else {
            let c = s[i..].chars().next().expect("i is a char boundary");
            (c.is_whitespace() || is_unsafe_char(c), c.len_utf8())
        };
        match (separator, word_start) {
            (true, Some(start)) => {
                push_word(&mut out, &s[start..i]);
                word_start = None;
            }
            (false, None) => word_start = Some(i),
            _ => {}
        }
        i += width;
    }
    if let Some(start) = word_start {
        push_word(&mut out, &s[start..]);
    }
    out
}

fn push_word(out: &mut String, word: &str) {
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(word);
}

/// An ASCII byte that is whitespace or unsafe: exactly `c.is_whitespace() ||
/// is_unsafe_char(c)` for ASCII `c` (controls, space and DEL).
fn is_ascii_separator(b: u8) -> bool {
    b <= b' ' || b == 0x7F
}

/// Whether `s` holds a character [`is_unsafe_char`] refuses; ASCII text is judged byte by byte.
pub fn has_unsafe_char(s: &str) -> bool {
    if s.is_ascii() {
        s.bytes()
            .any(|b| (b < b' ' && b != b'\n' && b != b'\t') || b == 0x7F)
    } else {
        s.chars().any(is_unsafe_char)
    }
}

/// Elements that separate words: text on either side of one is never glued together.
pub(crate) const BLOCK_ELEMENTS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "td",
    "th",
    "tr",
    "ul",
];

/// Plain text of an HTML fragment: entities decoded once, tags removed, a space where a block
/// element separated words (so `<p>a</p><p>b</p>` gives "a b", not "ab"), scripts and styles
/// dropped, whitespace collapsed.
pub fn html_to_text(html: &str) -> String {
    if !html.contains('<') && !html.contains('&') {
        return clean_line(html);
    }
    if let Some(text) = well_formed_text(html) {
        return clean_line(&text);
    }
    let doc = Html::parse_fragment(html);
    let mut out = String::with_capacity(html.len());
    collect_text(doc.tree.root(), &mut out);
    clean_line(&out)
}

/// The text of a fragment that is also well-formed XML (most feed content is), read with
/// quick-xml: the same text html5ever gives, several times faster than building an HTML tree.
/// `None` for anything else (an unclosed `<br>`, a bare `&` or `<`, a numeric reference, whose
/// C1 codes HTML reads as windows-1252, CDATA, a doctype, an unknown entity), which html5ever
/// reads as a browser does.
fn well_formed_text(html: &str) -> Option<String> {
    use quick_xml::events::Event;
    if html.contains("&#") {
        return None;
    }
    let mut reader = quick_xml::Reader::from_str(html);
    let mut out = String::with_capacity(html.len());
    // Inside a script, a style…: its text is not text.
    let mut hidden = 0usize;
    let is_hidden = |name: &str| {
        ["script", "style", "noscript", "template"]
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name))
    };
    let is_block = |name: &str| BLOCK_ELEMENTS.iter().any(|b| b.eq_ignore_ascii_case(name));
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                let name = e.local_name();
                let name = name.as_ref();
                if hidden > 0 || is_hidden(name) {
                    hidden += 1;
                } else if is_block(name) {
                    out.push(' ');
                }
            }
            Event::End(e) => {
                let name = e.local_name();
                if hidden > 0 {
                    hidden -= 1;
                } else if is_block(name.as_ref()) {
                    out.push(' ');
                }
            }
            Event::Empty(e) => {
                if hidden == 0 && is_block(e.local_name().as_ref()) {
                    out.push(' ');
                }
            }
            Event::Text(t) if hidden == 0 => out.push_str(&t.html_content()),
            Event::GeneralRef(r) if hidden == 0 => {
                let name: &str = &r;
                let c = quick_xml::escape::resolve_predefined_entity(name)
                    .and_then(|s| s.chars().next())
                    .or_else(|| crate::normalize::decode::html_entity(name))?;
                out.push(c);
            }
            Event::Text(_) | Event::GeneralRef(_) | Event::Comment(_) => {}
            Event::Eof => return Some(out),
            Event::CData(_) | Event::DocType(_) | Event::Decl(_) | Event::PI(_) => return None,
        }
    }
}

/// The text of an HTML fragment, one string per block (paragraph, line break, list item): for
/// telling a publisher's boilerplate paragraphs from the text.
pub fn html_to_paragraphs(html: &str) -> Vec<String> {
    let doc = Html::parse_fragment(html);
    let mut out = String::with_capacity(html.len());
    collect_blocks(doc.tree.root(), &mut out);
    out.split('\n')
        .map(clean_line)
        .filter(|p| !p.is_empty())
        .collect()
}

fn collect_blocks(node: ego_tree::NodeRef<'_, Node>, out: &mut String) {
    collect(node, out, '\n');
}

fn collect_text(node: ego_tree::NodeRef<'_, Node>, out: &mut String) {
    collect(node, out, ' ');
}

/// The text of `node`, with `boundary` around block elements. When blocks are lines, a line
/// break inside a text node is only whitespace, so it becomes a space.
fn collect(node: ego_tree::NodeRef<'_, Node>, out: &mut String, boundary: char) {
    for child in node.children() {
        match child.value() {
            Node::Text(t) if boundary == '\n' => {
                out.extend(t.chars().map(|c| if c == '\n' { ' ' } else { c }))
            }
            Node::Text(t) => out.push_str(t),
            Node::Element(e) => {
                let name = e.name();
                if matches!(name, "script" | "style" | "noscript" | "template") {
                    continue;
                }
                let block = BLOCK_ELEMENTS.contains(&name);
                if block {
                    out.push(boundary);
                }
                collect(child, out, boundary);
                if block {
                    out.push(boundary);
                }
            }
            _ => collect(child, out, boundary),
        }
    }
}

/// Removes URL-like words (`scheme://…`, `www.…`), so text taken from an item can never carry a
/// link into a newsletter (a Markdown renderer would turn a bare URL into one).
pub fn strip_urls(s: &str) -> String {
    let kept: Vec<&str> = s
        .split(' ')
        .filter(|w| {
            let lower = w
                .trim_start_matches(['(', '[', '<', '"', '\''])
                .to_ascii_lowercase();
            !(lower.contains("://") || lower.starts_with("www.") || lower.starts_with("mailto:"))
        })
        .collect();
    clean_line(&kept.join(" "))
}

/// At most `max` characters, cut at a word boundary, with an ellipsis when cut.
pub fn truncate_words(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max.saturating_sub(1)).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > cut.len() / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end_matches([',', ';', ':', ' ']))
}

/// The leading sentences of `s` that fit in `max` characters (at least one, truncated if it
/// alone is longer).
pub fn leading_sentences(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let end = sentence_end(rest);
        let sentence = rest[..end].trim();
        let candidate_len =
            out.chars().count() + usize::from(!out.is_empty()) + sentence.chars().count();
        if candidate_len > max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(sentence);
        rest = rest[end..].trim_start();
    }
    if out.is_empty() {
        truncate_words(s.trim(), max)
    } else {
        out
    }
}

/// Byte index just past the first sentence: a `.`, `!` or `?` followed by a space and an
/// upper-case letter or digit (so "Inc. announced" and "1.5 mg" do not end a sentence).
fn sentence_end(s: &str) -> usize {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    for w in 0..chars.len() {
        let (i, c) = chars[w];
        if matches!(c, '.' | '!' | '?')
            && chars.get(w + 1).is_some_and(|&(_, n)| n == ' ')
            && chars
                .get(w + 2)
                .is_some_and(|&(_, n)| n.is_uppercase() || n.is_ascii_digit())
        {
            let before: String = chars[w.saturating_sub(4)..w]
                .iter()
                .map(|&(_, c)| c)
                .collect();
            let abbreviation = [
                "Inc", "Ltd", "Co", "Corp", "Dr", "vs", "No", "St", "Mr", "Ms", "S.A",
            ]
            .iter()
            .any(|a| before.ends_with(a));
            if !abbreviation {
                return i + c.len_utf8();
            }
        }
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-level `clean_line` splits exactly where `char::is_whitespace` or
    /// `is_unsafe_char` would: ASCII controls, DEL, vertical tab, NEL, NBSP, zero-width and
    /// bidirectional characters, multi-byte text around them.
    #[test]
    fn clean_line_fast_path_splits_where_the_char_rules_do() {
        fn by_chars(s: &str) -> String {
            s.split(|c: char| c.is_whitespace() || is_unsafe_char(c))
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        }
        let mut cases: Vec<String> = [
            "",
            " ",
            "a",
            "  a  b\t\tc\n",
            "x\u{0B}y\u{0C}z\rw",
            "a\u{7F}b\u{0}c\u{1F}d",
            "caf\u{E9} \u{85}na\u{EF}ve",
            "a\u{A0}b\u{2003}c",
            "zero\u{200B}width\u{FEFF}",
            "bidi\u{202E}evil\u{2066}x",
            "\u{FFFF}\u{FFFE}end",
            "日本語 テキスト",
            "émoji 🙂 ok ",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Every ASCII byte and a sample of code points between two words.
        cases.extend(
            (0u32..0x3000)
                .step_by(7)
                .chain(0..0x80)
                .filter_map(char::from_u32)
                .map(|c| format!("a{c}b")),
        );
        for case in &cases {
            assert_eq!(clean_line(case), by_chars(case), "{case:?}");
            assert_eq!(
                has_unsafe_char(case),
                case.chars().any(is_unsafe_char),
                "{case:?}"
            );
        }
    }

    /// The quick-xml reading gives what html5ever gives, or steps aside.
    #[test]
    fn well_formed_fragments_read_fast_give_the_html5ever_text() {
        let html5ever = |html: &str| {
            let doc = Html::parse_fragment(html);
            let mut out = String::new();
            collect_text(doc.tree.root(), &mut out);
            clean_line(&out)
        };
        for html in [
            "<p>Teva&rsquo;s <b>Uzedy</b> &amp; more</p><p>Second</p>",
            "<div><script>var x = 1;</script>Text <!-- note --> here<br/>next</div>",
            "<P>Upper <EM>case</EM></P>",
            "<ul><li>one</li><li>two</li></ul>tail",
        ] {
            assert_eq!(
                well_formed_text(html).map(|t| clean_line(&t)),
                Some(html5ever(html)),
                "{html}"
            );
        }
        for html in [
            "a<br>b</p>",
            "p < 0.05",
            "AT&T",
            "&#150; dash",
            "<![CDATA[x]]>",
            "&unknownentity; x",
        ] {
            assert_eq!(well_formed_text(html), None, "{html}");
        }
    }

    #[test]
    fn fold_unifies_case_accents_hyphens_and_marks() {
        assert_eq!(fold("Long-Acting  Injectable"), "long acting injectable");
        assert_eq!(fold("UZEDY®"), "uzedy");
        assert_eq!(fold("Médincell"), "medincell");
        assert_eq!(fold("  J&J's q4w "), "j j s q4w");
        assert_eq!(fold("long‐acting"), "long acting");
    }

    #[test]
    fn html_to_text_splits_glued_block_words_and_decodes_entities_once() {
        assert_eq!(
            html_to_text("<p>First</p><p>Second &amp;amp; third</p>"),
            "First Second &amp; third"
        );
        assert_eq!(
            html_to_text("J&amp;J <b>bold</b>, <a href='x'>link</a>"),
            "J&J bold, link"
        );
        assert_eq!(html_to_text("a<script>alert(1)</script>b"), "ab");
        assert_eq!(html_to_text("plain p<0.05 text"), "plain p<0.05 text");
    }

    #[test]
    fn clean_line_drops_zero_width_and_bidi_controls() {
        assert_eq!(
            clean_line("a\u{200B}b \u{202E}evil\u{202C}\n c"),
            "a b evil c"
        );
    }

    #[test]
    fn leading_sentences_respects_abbreviations_and_budget() {
        let s = "Teva Pharmaceutical Industries Ltd. announced approval. The label now covers adults. More text follows here.";
        assert_eq!(
            leading_sentences(s, 90),
            "Teva Pharmaceutical Industries Ltd. announced approval. The label now covers adults."
        );
        assert_eq!(
            leading_sentences("One very long sentence without end", 12),
            "One very…"
        );
    }

    #[test]
    fn strip_urls_removes_every_link_form() {
        assert_eq!(
            strip_urls("Visit https://evil.example/x now (www.evil.example) or mailto:a@b.c, ok."),
            "Visit now or ok."
        );
    }

    #[test]
    fn truncate_words_is_bounded() {
        let long = "word ".repeat(1000);
        assert!(truncate_words(&long, 100).chars().count() <= 100);
    }
}

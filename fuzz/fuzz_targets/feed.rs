//! The feed normalizer (RSS 0.9x/1.0/2.0, Atom, JSON Feed; charset detection, XML repair,
//! truncated-document recovery) on arbitrary bytes: it must never panic, and every item it
//! returns must be bounded and free of unsafe characters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vectora_inbox::model::Item;
use vectora_inbox::normalize::{self, Format, Origin};

const CONTENT_TYPES: [Option<&str>; 4] = [
    None,
    Some("application/rss+xml; charset=utf-8"),
    Some("text/xml; charset=windows-1252"),
    Some("application/xml; charset=utf-16"),
];
const FORMATS: [Format; 4] = [Format::Auto, Format::Rss, Format::Atom, Format::Json];

fuzz_target!(|data: &[u8]| {
    // The first byte picks the declared Content-Type and the expected format; the rest is the
    // document.
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let origin = Origin {
        source_id: "fuzz",
        url: Some("https://example.com/feed/"),
        content_type: CONTENT_TYPES[usize::from(selector & 3)],
    };
    let format = FORMATS[usize::from((selector >> 2) & 3)];
    if let Ok(parsed) = normalize::parse(bytes, format, &origin) {
        for item in &parsed.items {
            check(item);
        }
    }
});

fn check(item: &Item) {
    let unsafe_in = |s: &str| s.chars().any(vectora_inbox::text::is_unsafe_char);
    assert!(!item.title.is_empty(), "empty title");
    assert!(item.title.chars().count() <= normalize::MAX_TITLE_CHARS);
    assert!(item.summary.chars().count() <= normalize::MAX_SUMMARY_CHARS);
    assert!(item.text.chars().count() <= normalize::MAX_TEXT_CHARS);
    assert!(item.authors.len() <= normalize::MAX_AUTHORS);
    for field in [&item.title, &item.summary, &item.text] {
        assert!(!unsafe_in(field), "unsafe character in {field:?}");
    }
    assert!(item.authors.iter().all(|a| !unsafe_in(a)));
    assert!(
        url::Url::parse(&item.url).is_ok(),
        "item URL {:?}",
        item.url
    );
}

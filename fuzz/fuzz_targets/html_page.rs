//! The company news page extractor: a listing page with fixed selectors (the Nanexa ones of
//! the fixture catalogue, and a minimal set that exercises the fallbacks), an article page
//! (JSON-LD, meta, time tags, text dates, main text), and the free-text date reader.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vectora_inbox::normalize::html_page::{self, PageSelectors};
use vectora_inbox::normalize::{self, Origin};

fn selectors() -> &'static [PageSelectors; 2] {
    static SELECTORS: OnceLock<[PageSelectors; 2]> = OnceLock::new();
    SELECTORS.get_or_init(|| {
        [
            PageSelectors {
                item: "ul.press-list > li.press-item".into(),
                title: "h3.press-item__title".into(),
                link: Some("h3.press-item__title a".into()),
                date: Some("span.press-item__date".into()),
                summary: Some("p.press-item__teaser".into()),
                next_page: Some("nav.pagination a.pagination__next".into()),
            },
            PageSelectors {
                item: "article, li".into(),
                title: "h2, h3, a".into(),
                link: None,
                date: None,
                summary: None,
                next_page: None,
            },
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let origin = Origin {
        source_id: "fuzz",
        url: Some("https://www.example.com/en/press/"),
        content_type: None,
    };
    for selectors in selectors() {
        if let Ok(mut listing) = html_page::parse_listing(data, selectors, &origin) {
            for item in &mut listing.items {
                normalize::bound(item);
                assert!(item.title.chars().count() <= normalize::MAX_TITLE_CHARS);
            }
            if let Some(next) = &listing.next_page {
                assert!(matches!(next.scheme(), "http" | "https"), "{next}");
            }
        }
    }
    let _ = html_page::parse_article(data);
    let _ = html_page::date_from_text(&String::from_utf8_lossy(data));
});

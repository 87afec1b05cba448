//! The PubMed E-utilities parsers (esearch JSON/XML, efetch PubmedArticleSet XML) on arbitrary
//! bytes: never a panic; items, once bounded, are within bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vectora_inbox::normalize::{self, Origin, pubmed};

fuzz_target!(|data: &[u8]| {
    let _ = pubmed::parse_esearch(data, "fuzz");
    let origin = Origin {
        source_id: "fuzz",
        url: Some("https://eutils.ncbi.nlm.nih.gov/entrez/eutils/efetch.fcgi?db=pubmed"),
        content_type: None,
    };
    if let Ok(mut parsed) = pubmed::parse_efetch(data, &origin) {
        for item in &mut parsed.items {
            normalize::bound(item);
            assert!(item.title.chars().count() <= normalize::MAX_TITLE_CHARS);
            assert!(
                item.venue
                    .as_deref()
                    .is_none_or(|v| v.chars().count() <= normalize::MAX_VENUE_CHARS)
            );
            assert!(item.authors.len() <= normalize::MAX_AUTHORS);
        }
    }
});

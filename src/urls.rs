//! Canonical URLs and item ids: the same story reached through different tracking links is one
//! item.

use sha2::{Digest, Sha256};
use url::Url;

/// Query parameters that only track the reader; they never select content.
fn is_tracking_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("utm_")
        || matches!(
            n.as_str(),
            "gclid"
                | "fbclid"
                | "dclid"
                | "msclkid"
                | "mc_cid"
                | "mc_eid"
                | "igshid"
                | "yclid"
                | "_hsenc"
                | "_hsmi"
                | "mkt_tok"
                | "cmpid"
                | "ncid"
                | "sr_share"
        )
}

/// The canonical form of `raw` (resolved against `base` when relative): fragment and tracking
/// parameters removed, host lower-cased, default port dropped. `None` when it is not a usable
/// http(s) or file URL.
pub fn canonical(raw: &str, base: Option<&Url>) -> Option<Url> {
    let raw = raw.trim();
    let mut url = match Url::parse(raw) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => base?.join(raw).ok()?,
        Err(_) => return None,
    };
    if !matches!(url.scheme(), "http" | "https" | "file") {
        return None;
    }
    url.set_fragment(None);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !is_tracking_param(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    Some(url)
}

/// `url` without credentials in its query (`api_key`, `apikey`, `access_token`), for records
/// that are stored: a key travels to the service, never into the store.
pub fn redact(url: &str) -> String {
    let Ok(mut parsed) = Url::parse(url) else {
        return url.to_string();
    };
    let secret = |k: &str| {
        matches!(
            k.to_ascii_lowercase().as_str(),
            "api_key" | "apikey" | "access_token"
        )
    };
    if !parsed.query_pairs().any(|(k, _)| secret(&k)) {
        return url.to_string();
    }
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| !secret(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    parsed.to_string()
}

/// An item's id: the first 16 hex digits of sha256 of its canonical URL.
pub fn item_id(canonical_url: &str) -> String {
    let digest = Sha256::digest(canonical_url.as_bytes());
    hex::encode(&digest[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_fragment_port_and_case_are_removed() {
        let u = canonical(
            "HTTPS://WWW.Example.com:443/News/a?id=3&utm_source=rss&utm_medium=feed#top",
            None,
        )
        .unwrap();
        assert_eq!(u.as_str(), "https://www.example.com/News/a?id=3");
        let u = canonical("https://example.com/a?utm_source=x", None).unwrap();
        assert_eq!(u.as_str(), "https://example.com/a");
    }

    #[test]
    fn relative_links_resolve_against_the_base() {
        let base = Url::parse("https://www.medincell.com/news/").unwrap();
        assert_eq!(
            canonical("2026/bepo-licence", Some(&base))
                .unwrap()
                .as_str(),
            "https://www.medincell.com/news/2026/bepo-licence"
        );
    }

    #[test]
    fn non_web_schemes_are_refused() {
        assert!(canonical("javascript:alert(1)", None).is_none());
        assert!(canonical("mailto:a@b.c", None).is_none());
    }

    #[test]
    fn redact_drops_only_credentials() {
        assert_eq!(
            redact(
                "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/efetch.fcgi?db=pubmed&id=1&api_key=s3cret"
            ),
            "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/efetch.fcgi?db=pubmed&id=1"
        );
        assert_eq!(
            redact("https://example.com/a?x=1"),
            "https://example.com/a?x=1"
        );
    }

    #[test]
    fn ids_are_stable() {
        assert_eq!(
            item_id("https://example.com/a"),
            item_id("https://example.com/a")
        );
        assert_eq!(item_id("https://example.com/a").len(), 16);
    }
}

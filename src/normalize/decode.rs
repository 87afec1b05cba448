//! Bytes to UTF-8 text, whatever charset the document was served in, and the HTML named
//! entities that feeds use without declaring them.
//!
//! The charset is chosen in this order: a byte-order mark, the HTTP `Content-Type` charset, a
//! UTF-16 document without a BOM (recognised by its first characters), the `encoding` of the
//! XML declaration, else UTF-8. Two guesses where the declarations are wrong: a single-byte
//! charset is not believed for bytes that are valid UTF-8 with non-ASCII characters, and a
//! document that is not valid UTF-8 and declares no charset at all is read as windows-1252.

use std::borrow::Cow;

use encoding_rs::{Encoding, REPLACEMENT, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// `bytes` as UTF-8 text, without a byte-order mark. When the text starts with an XML
/// declaration naming another charset, the declaration is rewritten to say `UTF-8`, so an XML
/// parser reads the text as it now is. The second value tells what was repaired or guessed
/// (unknown charset labels, malformed bytes, a charset that contradicts the bytes), if anything.
pub fn to_utf8<'a>(bytes: &'a [u8], content_type: Option<&str>) -> (Cow<'a, str>, Option<String>) {
    let mut notes: Vec<String> = Vec::new();
    let (encoding, start, declared) = choose_encoding(bytes, content_type, &mut notes);
    let body = &bytes[start..];
    let text: Cow<'a, str> = if encoding == UTF_8 {
        match std::str::from_utf8(body) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => {
                let lossy = String::from_utf8_lossy(body);
                let valid_multibyte = lossy.chars().any(|c| !c.is_ascii() && c != '\u{FFFD}');
                if !declared && !valid_multibyte {
                    notes.push(
                        "not UTF-8 and no charset declared: read as windows-1252".to_string(),
                    );
                    WINDOWS_1252.decode_without_bom_handling(body).0
                } else {
                    notes.push("malformed UTF-8 bytes replaced".to_string());
                    Cow::Owned(lossy.into_owned())
                }
            }
        }
    } else {
        let (text, had_errors) = encoding.decode_without_bom_handling(body);
        if had_errors {
            notes.push(format!("malformed {} bytes replaced", encoding.name()));
        }
        text
    };
    let text = match declare_utf8(&text) {
        Some(rewritten) => Cow::Owned(rewritten),
        None => text,
    };
    let note = (!notes.is_empty()).then(|| notes.join("; "));
    (text, note)
}

/// The encoding, where the text starts (past a BOM) and whether a charset was declared.
fn choose_encoding(
    bytes: &[u8],
    content_type: Option<&str>,
    notes: &mut Vec<String>,
) -> (&'static Encoding, usize, bool) {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        return (encoding, bom_len, true);
    }
    let sniffed_utf16 = sniff_utf16(bytes);
    if let Some(label) = content_type.and_then(charset_param) {
        match known_encoding(&label) {
            Some(enc) if is_utf16(enc) => match sniffed_utf16 {
                Some(sniffed) => return (sniffed, 0, true),
                None => notes.push(format!(
                    "Content-Type says {label} but the document is not UTF-16: charset ignored"
                )),
            },
            Some(enc) => {
                if let Some(sniffed) = sniffed_utf16 {
                    notes.push(format!(
                        "Content-Type says {label} but the document is UTF-16: charset ignored"
                    ));
                    return (sniffed, 0, true);
                }
                return single_byte_or_utf8(enc, bytes, "Content-Type", &label, notes);
            }
            None => notes.push(format!(
                "unknown charset {label:?} in Content-Type: ignored"
            )),
        }
    }
    if let Some(sniffed) = sniffed_utf16 {
        return (sniffed, 0, true);
    }
    if let Some(label) = xml_declared_charset(bytes) {
        match known_encoding(&label) {
            // An ASCII-compatible document cannot be UTF-16, whatever it says.
            Some(enc) if is_utf16(enc) => return (UTF_8, 0, true),
            Some(enc) => {
                return single_byte_or_utf8(enc, bytes, "the XML declaration", &label, notes);
            }
            None => notes.push(format!(
                "unknown charset {label:?} in the XML declaration: ignored"
            )),
        }
    }
    (UTF_8, 0, false)
}

/// The declared encoding, unless it is a single-byte one and the bytes are valid UTF-8 with
/// non-ASCII characters: legacy text almost never is, while a server's default ISO-8859-1 in
/// front of a UTF-8 document is common.
fn single_byte_or_utf8(
    enc: &'static Encoding,
    bytes: &[u8],
    origin: &str,
    label: &str,
    notes: &mut Vec<String>,
) -> (&'static Encoding, usize, bool) {
    if enc.is_single_byte() && is_non_ascii_utf8(bytes) {
        notes.push(format!(
            "{origin} says {label} but the document is valid UTF-8: read as UTF-8"
        ));
        return (UTF_8, 0, true);
    }
    (enc, 0, true)
}

fn known_encoding(label: &str) -> Option<&'static Encoding> {
    Encoding::for_label(label.trim().as_bytes()).filter(|e| *e != REPLACEMENT)
}

fn is_utf16(encoding: &'static Encoding) -> bool {
    encoding == UTF_16LE || encoding == UTF_16BE
}

/// Whether the bytes are valid UTF-8 with at least one non-ASCII character.
fn is_non_ascii_utf8(bytes: &[u8]) -> bool {
    !bytes.is_ascii() && std::str::from_utf8(bytes).is_ok()
}

/// UTF-16 without a BOM, recognised by a first `<` (XML) or `{` (JSON) as a 16-bit unit.
fn sniff_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    match bytes {
        [b'<' | b'{', 0, b, 0, ..] if *b != 0 => Some(UTF_16LE),
        [0, b'<' | b'{', 0, b, ..] if *b != 0 => Some(UTF_16BE),
        _ => None,
    }
}

/// The `charset` parameter of a `Content-Type` value, unquoted.
fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).trim().to_string())
            .filter(|v| !v.is_empty())
    })
}

/// The `encoding` pseudo-attribute of an ASCII-compatible XML declaration.
fn xml_declared_charset(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(1024)];
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    let head = &head[start..];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = find(head, b"?>")?;
    let decl = String::from_utf8_lossy(&head[..end]);
    encoding_value(&decl).map(|(_, value)| value.to_string())
}

/// The byte range and value of `encoding="…"` in an XML declaration's text.
fn encoding_value(decl: &str) -> Option<(std::ops::Range<usize>, &str)> {
    let at = decl.find("encoding")?;
    let rest = &decl[at + "encoding".len()..];
    let after_space = rest.trim_start();
    let after_eq = after_space.strip_prefix('=')?.trim_start();
    let quote = after_eq
        .chars()
        .next()
        .filter(|c| matches!(c, '"' | '\''))?;
    let value_start = decl.len() - after_eq.len() + 1;
    let value_len = decl[value_start..].find(quote)?;
    let range = value_start..value_start + value_len;
    Some((range.clone(), &decl[range]))
}

/// The text with its XML declaration saying `encoding="UTF-8"`, when it said anything else.
fn declare_utf8(text: &str) -> Option<String> {
    let lead = text.len() - text.trim_start().len();
    let rest = &text[lead..];
    if !rest.starts_with("<?xml") {
        return None;
    }
    let end = rest.find("?>")?;
    let (range, value) = encoding_value(&rest[..end])?;
    if value.eq_ignore_ascii_case("utf-8") {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..lead + range.start]);
    out.push_str("UTF-8");
    out.push_str(&text[lead + range.end..]);
    Some(out)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The code point of an HTML named entity (`"hellip"` → U+2026), case-sensitive as in HTML.
/// The table holds every HTML 4 entity and the common HTML 5 additions.
pub fn html_entity(name: &str) -> Option<char> {
    HTML_ENTITIES
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()
        .and_then(|i| char::from_u32(HTML_ENTITIES[i].1))
}

/// Sorted by name (byte order) for binary search.
#[rustfmt::skip]
const HTML_ENTITIES: &[(&str, u32)] = &[
    ("AElig", 0xC6), ("AMP", 0x26), ("Aacute", 0xC1), ("Acirc", 0xC2), ("Agrave", 0xC0),
    ("Alpha", 0x391), ("Aring", 0xC5), ("Atilde", 0xC3), ("Auml", 0xC4), ("Beta", 0x392),
    ("COPY", 0xA9), ("Ccedil", 0xC7), ("Chi", 0x3A7), ("Dagger", 0x2021), ("Delta", 0x394),
    ("ETH", 0xD0), ("Eacute", 0xC9), ("Ecirc", 0xCA), ("Egrave", 0xC8), ("Epsilon", 0x395),
    ("Eta", 0x397), ("Euml", 0xCB), ("GT", 0x3E), ("Gamma", 0x393), ("Hat", 0x5E),
    ("Iacute", 0xCD), ("Icirc", 0xCE), ("Igrave", 0xCC), ("Iota", 0x399), ("Iuml", 0xCF),
    ("Kappa", 0x39A), ("LT", 0x3C), ("Lambda", 0x39B), ("MediumSpace", 0x205F), ("Mu", 0x39C),
    ("NewLine", 0xA), ("NonBreakingSpace", 0xA0), ("Ntilde", 0xD1), ("Nu", 0x39D),
    ("OElig", 0x152), ("Oacute", 0xD3), ("Ocirc", 0xD4), ("Ograve", 0xD2), ("Omega", 0x3A9),
    ("Omicron", 0x39F), ("Oslash", 0xD8), ("Otilde", 0xD5), ("Ouml", 0xD6), ("Phi", 0x3A6),
    ("Pi", 0x3A0), ("Prime", 0x2033), ("Psi", 0x3A8), ("QUOT", 0x22), ("REG", 0xAE),
    ("Rho", 0x3A1), ("Scaron", 0x160), ("Sigma", 0x3A3), ("THORN", 0xDE), ("TRADE", 0x2122),
    ("Tab", 0x9), ("Tau", 0x3A4), ("Theta", 0x398), ("Uacute", 0xDA), ("Ucirc", 0xDB),
    ("Ugrave", 0xD9), ("Upsilon", 0x3A5), ("Uuml", 0xDC), ("Xi", 0x39E), ("Yacute", 0xDD),
    ("Yuml", 0x178), ("Zeta", 0x396), ("aacute", 0xE1), ("acirc", 0xE2), ("acute", 0xB4),
    ("aelig", 0xE6), ("agrave", 0xE0), ("alefsym", 0x2135), ("alpha", 0x3B1), ("amp", 0x26),
    ("and", 0x2227), ("ang", 0x2220), ("apos", 0x27), ("approx", 0x2248), ("aring", 0xE5),
    ("ast", 0x2A), ("asymp", 0x2248), ("atilde", 0xE3), ("auml", 0xE4), ("bdquo", 0x201E),
    ("beta", 0x3B2), ("brvbar", 0xA6), ("bsol", 0x5C), ("bull", 0x2022), ("bullet", 0x2022),
    ("cap", 0x2229), ("ccedil", 0xE7), ("cedil", 0xB8), ("cent", 0xA2), ("centerdot", 0xB7),
    ("check", 0x2713), ("chi", 0x3C7), ("circ", 0x2C6), ("clubs", 0x2663), ("colon", 0x3A),
    ("comma", 0x2C), ("commat", 0x40), ("cong", 0x2245), ("copy", 0xA9), ("copysr", 0x2117),
    ("crarr", 0x21B5), ("cross", 0x2717), ("cup", 0x222A), ("curren", 0xA4), ("dArr", 0x21D3),
    ("dagger", 0x2020), ("darr", 0x2193), ("dash", 0x2010), ("deg", 0xB0), ("delta", 0x3B4),
    ("diams", 0x2666), ("div", 0xF7), ("divide", 0xF7), ("dollar", 0x24), ("eacute", 0xE9),
    ("ecirc", 0xEA), ("egrave", 0xE8), ("empty", 0x2205), ("emsp", 0x2003), ("ensp", 0x2002),
    ("epsilon", 0x3B5), ("equals", 0x3D), ("equiv", 0x2261), ("eta", 0x3B7), ("eth", 0xF0),
    ("euml", 0xEB), ("euro", 0x20AC), ("excl", 0x21), ("exist", 0x2203), ("fnof", 0x192),
    ("forall", 0x2200), ("frac12", 0xBD), ("frac13", 0x2153), ("frac14", 0xBC), ("frac18", 0x215B),
    ("frac23", 0x2154), ("frac34", 0xBE), ("frasl", 0x2044), ("gamma", 0x3B3), ("ge", 0x2265),
    ("geq", 0x2265), ("grave", 0x60), ("gt", 0x3E), ("hArr", 0x21D4), ("hairsp", 0x200A),
    ("half", 0xBD), ("harr", 0x2194), ("hearts", 0x2665), ("hellip", 0x2026), ("horbar", 0x2015),
    ("hyphen", 0x2010), ("iacute", 0xED), ("icirc", 0xEE), ("iexcl", 0xA1), ("igrave", 0xEC),
    ("image", 0x2111), ("infin", 0x221E), ("int", 0x222B), ("iota", 0x3B9), ("iquest", 0xBF),
    ("isin", 0x2208), ("iuml", 0xEF), ("kappa", 0x3BA), ("lArr", 0x21D0), ("lambda", 0x3BB),
    ("lang", 0x2329), ("laquo", 0xAB), ("larr", 0x2190), ("lbrace", 0x7B), ("lbrack", 0x5B),
    ("lceil", 0x2308), ("lcub", 0x7B), ("ldquo", 0x201C), ("ldquor", 0x201E), ("le", 0x2264),
    ("leftarrow", 0x2190), ("leq", 0x2264), ("lfloor", 0x230A), ("lowast", 0x2217),
    ("lowbar", 0x5F), ("loz", 0x25CA), ("lpar", 0x28), ("lrm", 0x200E), ("lsaquo", 0x2039),
    ("lsqb", 0x5B), ("lsquo", 0x2018), ("lsquor", 0x201A), ("lt", 0x3C), ("macr", 0xAF),
    ("mdash", 0x2014), ("micro", 0xB5), ("midast", 0x2A), ("middot", 0xB7), ("minus", 0x2212),
    ("mldr", 0x2026), ("mu", 0x3BC), ("nabla", 0x2207), ("nbsp", 0xA0), ("ndash", 0x2013),
    ("ne", 0x2260), ("ni", 0x220B), ("nldr", 0x2025), ("not", 0xAC), ("notin", 0x2209),
    ("nsub", 0x2284), ("ntilde", 0xF1), ("nu", 0x3BD), ("num", 0x23), ("numero", 0x2116),
    ("numsp", 0x2007), ("oacute", 0xF3), ("ocirc", 0xF4), ("oelig", 0x153), ("ograve", 0xF2),
    ("ohm", 0x3A9), ("oline", 0x203E), ("omega", 0x3C9), ("omicron", 0x3BF), ("oplus", 0x2295),
    ("or", 0x2228), ("ordf", 0xAA), ("ordm", 0xBA), ("oslash", 0xF8), ("otilde", 0xF5),
    ("otimes", 0x2297), ("ouml", 0xF6), ("para", 0xB6), ("part", 0x2202), ("percnt", 0x25),
    ("period", 0x2E), ("permil", 0x2030), ("perp", 0x22A5), ("phi", 0x3C6), ("pi", 0x3C0),
    ("piv", 0x3D6), ("plus", 0x2B), ("plusmn", 0xB1), ("pm", 0xB1), ("pound", 0xA3),
    ("prime", 0x2032), ("prod", 0x220F), ("prop", 0x221D), ("psi", 0x3C8), ("puncsp", 0x2008),
    ("quest", 0x3F), ("quot", 0x22), ("rArr", 0x21D2), ("radic", 0x221A), ("rang", 0x232A),
    ("raquo", 0xBB), ("rarr", 0x2192), ("rbrace", 0x7D), ("rbrack", 0x5D), ("rceil", 0x2309),
    ("rcub", 0x7D), ("rdquo", 0x201D), ("rdquor", 0x201D), ("real", 0x211C), ("reg", 0xAE),
    ("rfloor", 0x230B), ("rho", 0x3C1), ("rightarrow", 0x2192), ("rlm", 0x200F), ("rpar", 0x29),
    ("rsaquo", 0x203A), ("rsqb", 0x5D), ("rsquo", 0x2019), ("rsquor", 0x2019), ("sbquo", 0x201A),
    ("scaron", 0x161), ("sdot", 0x22C5), ("sect", 0xA7), ("semi", 0x3B), ("shy", 0xAD),
    ("sigma", 0x3C3), ("sigmaf", 0x3C2), ("sim", 0x223C), ("sol", 0x2F), ("spades", 0x2660),
    ("star", 0x2606), ("starf", 0x2605), ("sub", 0x2282), ("sube", 0x2286), ("sum", 0x2211),
    ("sup", 0x2283), ("sup1", 0xB9), ("sup2", 0xB2), ("sup3", 0xB3), ("supe", 0x2287),
    ("szlig", 0xDF), ("tau", 0x3C4), ("there4", 0x2234), ("theta", 0x3B8), ("thetasym", 0x3D1),
    ("thinsp", 0x2009), ("thorn", 0xFE), ("tilde", 0x2DC), ("times", 0xD7), ("trade", 0x2122),
    ("uArr", 0x21D1), ("uacute", 0xFA), ("uarr", 0x2191), ("ucirc", 0xFB), ("ugrave", 0xF9),
    ("uml", 0xA8), ("upsih", 0x3D2), ("upsilon", 0x3C5), ("uuml", 0xFC), ("verbar", 0x7C),
    ("vert", 0x7C), ("weierp", 0x2118), ("xi", 0x3BE), ("yacute", 0xFD), ("yen", 0xA5),
    ("yuml", 0xFF), ("zeta", 0x3B6), ("zwj", 0x200D), ("zwnj", 0x200C),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_passes_through_borrowed() {
        let (text, note) = to_utf8("<?xml version=\"1.0\"?><a>é</a>".as_bytes(), None);
        assert!(matches!(text, Cow::Borrowed(_)));
        assert_eq!(text, "<?xml version=\"1.0\"?><a>é</a>");
        assert_eq!(note, None);
    }

    #[test]
    fn declared_latin1_is_decoded_and_redeclared() {
        let (text, note) = to_utf8(
            b"<?xml version='1.0' encoding='ISO-8859-1'?><a>caf\xE9</a>",
            None,
        );
        assert_eq!(text, "<?xml version='1.0' encoding='UTF-8'?><a>café</a>");
        assert_eq!(note, None);
        // windows-1252 proper: 0x92 is a right single quote, 0x80 the euro sign.
        let (text, _) = to_utf8(
            b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><a>Teva\x92s \x80</a>",
            None,
        );
        assert_eq!(
            text,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>Teva’s €</a>"
        );
    }

    #[test]
    fn the_http_charset_overrides_the_declaration() {
        let bytes = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>caf\xE9</a>";
        let (text, note) = to_utf8(bytes, Some("application/rss+xml; charset=\"ISO-8859-1\""));
        assert_eq!(
            text,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>café</a>"
        );
        assert_eq!(note, None);
        let (text, _) = to_utf8(
            b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xD0\x96</a>",
            Some("text/xml;charset=utf-8"),
        );
        assert_eq!(text, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>Ж</a>");
    }

    #[test]
    fn a_single_byte_charset_does_not_garble_valid_utf8() {
        let bytes = "<?xml version=\"1.0\" encoding=\"utf-8\"?><a>café</a>".as_bytes();
        let (text, note) = to_utf8(bytes, Some("text/xml; charset=ISO-8859-1"));
        assert_eq!(
            text,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><a>café</a>"
        );
        assert!(
            note.unwrap()
                .starts_with("Content-Type says ISO-8859-1 but")
        );
        let bytes = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>café</a>".as_bytes();
        let (text, note) = to_utf8(bytes, None);
        assert_eq!(
            text,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>café</a>"
        );
        assert!(note.unwrap().contains("valid UTF-8"));
        // Pure ASCII stays as declared, without a note.
        assert_eq!(
            to_utf8(b"<a>x</a>", Some("text/xml; charset=latin1")).1,
            None
        );
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let doc = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>é…</a>";
        let le: Vec<u8> = doc.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = doc.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let expected = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>é…</a>";
        for (bom, body) in [(&b"\xFF\xFE"[..], &le), (&b"\xFE\xFF"[..], &be)] {
            let bytes = [bom, body.as_slice()].concat();
            assert_eq!(to_utf8(&bytes, None).0, expected);
            // The BOM wins over a contradicting header.
            assert_eq!(
                to_utf8(&bytes, Some("text/xml; charset=iso-8859-1")).0,
                expected
            );
            assert_eq!(to_utf8(body, None).0, expected);
        }
        assert_eq!(to_utf8(&be, Some("text/xml; charset=utf-16")).0, expected);
    }

    #[test]
    fn utf8_bom_is_removed() {
        let (text, _) = to_utf8(b"\xEF\xBB\xBF<a/>", Some("text/xml; charset=windows-1252"));
        assert_eq!(text, "<a/>");
    }

    #[test]
    fn undeclared_non_utf8_is_read_as_windows_1252_and_bad_utf8_is_replaced() {
        let (text, note) = to_utf8(b"<a>caf\xE9</a>", None);
        assert_eq!(text, "<a>café</a>");
        assert!(note.unwrap().contains("windows-1252"));
        let (text, note) = to_utf8(
            b"<?xml version=\"1.0\" encoding=\"utf-8\"?><a>\xC3\xA9\xFF</a>",
            None,
        );
        assert_eq!(
            text,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><a>é\u{FFFD}</a>"
        );
        assert!(note.unwrap().contains("malformed UTF-8"));
    }

    #[test]
    fn unknown_or_impossible_labels_are_ignored() {
        let (text, note) = to_utf8(
            b"<?xml version=\"1.0\" encoding=\"klingon\"?><a/>",
            Some("text/xml; charset=bogus"),
        );
        assert_eq!(text, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a/>");
        let note = note.unwrap();
        assert!(
            note.contains("\"bogus\"") && note.contains("\"klingon\""),
            "{note}"
        );
        let (text, _) = to_utf8(b"<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>x</a>", None);
        assert_eq!(text, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>x</a>");
    }

    #[test]
    fn entity_table_is_sorted_and_resolves() {
        assert!(HTML_ENTITIES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(html_entity("hellip"), Some('…'));
        assert_eq!(html_entity("trade"), Some('™'));
        assert_eq!(html_entity("eacute"), Some('é'));
        assert_eq!(html_entity("Eacute"), Some('É'));
        assert_eq!(html_entity("nbsp"), Some('\u{A0}'));
        assert_eq!(html_entity("nosuch"), None);
    }

    #[test]
    fn never_panics_on_odd_bytes() {
        for bytes in [
            &b""[..],
            b"\xFF",
            b"\xFE",
            b"\x00",
            b"<?xml",
            b"<?xml encoding=",
            b"<?xml encoding=\"",
            b"\x3C\x00",
            b"<?xml encoding='x'?>\xFF",
        ] {
            let _ = to_utf8(bytes, Some("text/xml; charset"));
            let _ = to_utf8(bytes, Some(";charset=\"\""));
        }
    }
}

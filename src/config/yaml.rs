//! Strict YAML decoding: unknown keys are errors, and every error names the file and key path.

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Decodes `text` (the contents of `file`) into `T`, reporting the failing key path
/// (`sections[2].max_items`) and the parser's message on one line.
pub fn parse<T: DeserializeOwned>(file: &str, text: &str) -> Result<T> {
    // The key path is only known inside the closure; when decoding fails there, the wrapper
    // may report a different, later error (an unconsumed document), so keep the first one.
    let mut inner: Option<(String, String)> = None;
    let outcome = serde_saphyr::with_deserializer_from_str(text, |de| {
        serde_path_to_error::deserialize::<_, T>(de).map_err(|err| {
            let path = err.path().to_string();
            let message = err.inner().to_string();
            inner = Some((path, message));
            err.into_inner()
        })
    });
    match (outcome, inner) {
        (Ok(value), _) => Ok(value),
        (Err(_), Some((path, message))) => {
            let path = if path.is_empty() || path == "." {
                "-".to_string()
            } else {
                path
            };
            Err(Error::config(file, path, one_line(&message)))
        }
        (Err(err), None) => Err(Error::config(file, "-", one_line(&err.to_string()))),
    }
}

/// The parser's messages can carry a multi-line source snippet; keep the first meaningful line
/// and the location so the error stays one line.
fn one_line(message: &str) -> String {
    let mut lines = message.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("invalid YAML").to_string();
    let location = message
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("-->") || l.contains("line "))
        .filter(|l| *l != first);
    match location {
        Some(loc) => format!("{first} ({})", loc.trim_start_matches("-->").trim()),
        None => first,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        sections: Vec<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        id: String,
        max_items: u32,
    }

    #[test]
    fn typo_in_a_nested_key_names_file_path_and_key() {
        let text = "name: x\nsections:\n  - id: a\n    max_items: 3\n  - id: b\n    max_itmes: 4\n";
        let err = parse::<Outer>("clients/x.yaml", text)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("clients/x.yaml: sections[1]"), "{err}");
        assert!(err.contains("max_itmes"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn wrong_type_names_the_key_and_value() {
        let text = "name: x\nsections:\n  - id: a\n    max_items: ten\n";
        let err = parse::<Outer>("c.yaml", text).unwrap_err().to_string();
        assert!(err.starts_with("c.yaml: sections[0].max_items"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn broken_syntax_is_one_line() {
        let err = parse::<Outer>("c.yaml", "name: [unclosed\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.yaml: "), "{err}");
        assert!(err.contains("line 1"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }
}

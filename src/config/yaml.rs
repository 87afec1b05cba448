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
            Err(with_parser_line(Error::config(
                file,
                path,
                one_line(&message),
            )))
        }
        (Err(err), None) => Err(with_parser_line(Error::config(
            file,
            "-",
            one_line(&err.to_string()),
        ))),
    }
}

/// The parser says "line N" (or "line N column M") in its messages: keep it as the line.
fn with_parser_line(err: Error) -> Error {
    match err {
        Error::Config {
            file,
            path,
            line: None,
            message,
        } => Error::Config {
            line: line_in_message(&message),
            file,
            path,
            message,
        },
        other => other,
    }
}

fn line_in_message(message: &str) -> Option<u32> {
    let rest = &message[message.find("line ")? + 5..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// One step of a key path: `sections[2].max_items` is `sections`, `[2]`, `max_items`.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn steps(path: &str) -> Option<Vec<Step<'_>>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if !key.is_empty() {
            out.push(Step::Key(key));
        }
        while let Some(open) = rest.strip_prefix('[') {
            let close = open.find(']')?;
            out.push(Step::Index(open[..close].parse().ok()?));
            rest = &open[close + 1..];
        }
    }
    Some(out)
}

/// A content line: where it starts and the columns at which a mapping key may begin on it
/// (after each `- ` of a block sequence item).
struct Line<'a> {
    index: usize,
    indent: usize,
    text: &'a str,
}

impl Line<'_> {
    /// Columns at which a key can start: the indent, and after every leading `- `.
    fn key_columns(&self) -> Vec<(usize, &str)> {
        let mut out = vec![(self.indent, &self.text[self.indent..])];
        let mut col = self.indent;
        let mut rest = &self.text[self.indent..];
        while let Some(after) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("-\t")) {
            let trimmed = after.trim_start_matches(' ');
            col += rest.len() - trimmed.len();
            rest = trimmed;
            out.push((col, rest));
        }
        out
    }

    fn is_item(&self) -> bool {
        let t = &self.text[self.indent..];
        t == "-" || t.starts_with("- ")
    }
}

fn starts_with_key(text: &str, key: &str) -> bool {
    [
        format!("{key}:"),
        format!("\"{key}\":"),
        format!("'{key}':"),
    ]
    .iter()
    .any(|k| text.starts_with(k.as_str()))
}

/// The 1-based line of `path` (as serde_path_to_error and the validators write it) in the block
/// YAML `text`, or of its deepest part present there (a missing key points at its parent). Flow
/// collections are not walked: their key's own line is as deep as it goes.
pub fn key_line(text: &str, path: &str) -> Option<u32> {
    let lines: Vec<Line> = text
        .lines()
        .enumerate()
        .filter_map(|(index, text)| {
            let indent = text.len() - text.trim_start_matches(' ').len();
            let rest = text[indent..].trim_end();
            (!rest.is_empty() && !rest.starts_with('#') && rest != "---").then_some(Line {
                index,
                indent,
                text,
            })
        })
        .collect();
    let mut found: Option<usize> = None;
    // The lines of the current node, and the column its keys start at (None: the first line's).
    let (mut lo, mut hi, mut column) = (0, lines.len(), None::<usize>);
    for step in steps(path)? {
        let scope = &lines[lo..hi];
        match step {
            Step::Key(key) => {
                let col = column.unwrap_or_else(|| scope.first().map_or(0, |l| l.indent));
                let Some(at) = scope.iter().position(|l| {
                    l.key_columns()
                        .iter()
                        .any(|(c, t)| *c == col && starts_with_key(t, key))
                }) else {
                    break;
                };
                let start = lo + at;
                found = Some(lines[start].index);
                // The value: the following lines indented deeper than the key, or a sequence
                // written at the key's own indent (`key:` then `- a`).
                let end = lines[start + 1..hi]
                    .iter()
                    .position(|l| l.indent < col || (l.indent == col && !l.is_item()))
                    .map_or(hi, |p| start + 1 + p);
                (lo, hi, column) = (start + 1, end, None);
            }
            Step::Index(n) => {
                let Some(dash) = lines[lo..hi].iter().find(|l| l.is_item()).map(|l| l.indent)
                else {
                    break;
                };
                let items: Vec<usize> = (lo..hi)
                    .filter(|&i| lines[i].indent == dash && lines[i].is_item())
                    .collect();
                let Some(&start) = items.get(n) else { break };
                found = Some(lines[start].index);
                let end = items.get(n + 1).copied().unwrap_or(hi);
                // The item's first key sits after its dash, on the item's own line.
                let col = lines[start]
                    .key_columns()
                    .get(1)
                    .map_or(dash + 2, |(c, _)| *c);
                (lo, hi, column) = (start, end, Some(col));
            }
        }
    }
    found.map(|i| i as u32 + 1)
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
    fn key_line_finds_nested_keys_list_items_and_the_parent_of_a_missing_key() {
        let text = "\
# a comment
client_id: x
schedule:
  cron: cron(0 8 ? * MON *)
  timezone: Mars/Olympus
sections:
  - id: a
    max_items: 3
  - id: b

    max_items: 4
delivery:
  to:
  - a@example.com
  - b@example.com
  approval: {required: true}
";
        assert_eq!(key_line(text, "client_id"), Some(2));
        assert_eq!(key_line(text, "schedule.timezone"), Some(5));
        assert_eq!(key_line(text, "sections[0].id"), Some(7));
        assert_eq!(key_line(text, "sections[1].max_items"), Some(11));
        assert_eq!(key_line(text, "sections[1]"), Some(9));
        assert_eq!(key_line(text, "delivery.to[1]"), Some(15));
        // Not there: the deepest part that is.
        assert_eq!(key_line(text, "schedule.enabled"), Some(3));
        assert_eq!(key_line(text, "delivery.approval.timeout_hours"), Some(16));
        assert_eq!(key_line(text, "-"), None);
        // `id` of the second item is not the first item's.
        assert_eq!(key_line(text, "sections[1].id"), Some(9));
    }

    #[test]
    fn a_validation_error_carries_the_line_of_its_key() {
        let text = "name: x\nsections:\n  - id: a\n    max_items: 3\n";
        let err = Error::config("c.yaml", "sections[0].max_items", "must be at most 2")
            .with_line_in("c.yaml", text);
        assert_eq!(
            err.to_string(),
            "c.yaml: sections[0].max_items: must be at most 2 (line 4)"
        );
        // Another file's error is left alone.
        let err = Error::config("d.yaml", "name", "bad").with_line_in("c.yaml", text);
        assert_eq!(err.to_string(), "d.yaml: name: bad");
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

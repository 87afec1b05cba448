//! Data selection and shaping for JSONPath-flavoured ASL: the supported JSONPath subset (`$`,
//! `$.a.b`, `$.a[0]`, `$['a']`, and `$$` for the context object), InputPath/OutputPath, ResultPath
//! merging, payload templates (Parameters, ItemSelector, ResultSelector) with `.$` keys, and the
//! few intrinsic functions the local runner implements.
//!
//! Everything is compiled once when the definition loads, so a path or template the runner does
//! not support is refused up front rather than in the middle of an execution. Evaluation errors
//! are returned as plain cause strings; the runner turns them into `States.Runtime` failures
//! naming the state.

use serde_json::{Map, Value};

/// The input paths accept (`$...`) and the context object (`$$...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    Input,
    Context,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Field(String),
    Index(usize),
}

/// A compiled path that selects at most one value (AWS "reference path" plus bracket access).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Path {
    text: String,
    root: Root,
    segments: Vec<Segment>,
}

const PATH_SUPPORT: &str =
    "supported: $, $.field, $['field'], $[index], and $$ for the context object";

impl Path {
    /// Parses a path, including `$$` context paths. The error is a sentence fragment that follows
    /// `field "X" ...` in a definition error.
    pub(crate) fn parse(text: &str) -> Result<Path, String> {
        let refuse = |why: &str| {
            Err(format!(
                "has path \"{text}\", which the local runner does not support: {why} ({PATH_SUPPORT})"
            ))
        };
        let (root, rest) = if let Some(rest) = text.strip_prefix("$$") {
            (Root::Context, rest)
        } else if let Some(rest) = text.strip_prefix('$') {
            (Root::Input, rest)
        } else {
            return refuse("a path must start with \"$\"");
        };
        let chars: Vec<char> = rest.chars().collect();
        let mut segments = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '.' => {
                    i += 1;
                    if chars.get(i) == Some(&'.') {
                        return refuse("recursive descent \"..\" is not supported");
                    }
                    let start = i;
                    while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                        let c = chars[i];
                        if c.is_whitespace() || "*?@()]'\",".contains(c) {
                            return refuse(&format!(
                                "character '{c}' in a field name (wildcards, filters and \
                                 expressions are not supported)"
                            ));
                        }
                        i += 1;
                    }
                    if start == i {
                        return refuse("empty field name");
                    }
                    segments.push(Segment::Field(chars[start..i].iter().collect()));
                }
                '[' => {
                    i += 1;
                    match chars.get(i).copied() {
                        Some(quote @ ('\'' | '"')) => {
                            i += 1;
                            let mut name = String::new();
                            loop {
                                match chars.get(i).copied() {
                                    None => return refuse("unterminated quoted field name"),
                                    Some('\\') => {
                                        match chars.get(i + 1).copied() {
                                            Some(c) => name.push(c),
                                            None => {
                                                return refuse("unterminated quoted field name");
                                            }
                                        }
                                        i += 2;
                                    }
                                    Some(c) if c == quote => {
                                        i += 1;
                                        break;
                                    }
                                    Some(c) => {
                                        name.push(c);
                                        i += 1;
                                    }
                                }
                            }
                            if chars.get(i) != Some(&']') {
                                return refuse(
                                    "expected \"]\" after a quoted field name (unions are not supported)",
                                );
                            }
                            i += 1;
                            segments.push(Segment::Field(name));
                        }
                        Some(c) if c.is_ascii_digit() => {
                            let start = i;
                            while i < chars.len() && chars[i].is_ascii_digit() {
                                i += 1;
                            }
                            if chars.get(i) != Some(&']') {
                                return refuse(
                                    "only a plain non-negative index is supported inside [] \
                                     (no slices, unions or filters)",
                                );
                            }
                            let digits: String = chars[start..i].iter().collect();
                            let Ok(index) = digits.parse::<usize>() else {
                                return refuse("array index out of range");
                            };
                            i += 1;
                            segments.push(Segment::Index(index));
                        }
                        _ => {
                            return refuse(
                                "only [index] and ['field'] are supported inside [] (no \
                                 wildcards, slices, negative indexes or filters)",
                            );
                        }
                    }
                }
                c => return refuse(&format!("unexpected character '{c}'")),
            }
        }
        Ok(Path {
            text: text.to_string(),
            root,
            segments,
        })
    }

    /// Parses a path that must select from the state's own data (`$...`), for fields where AWS
    /// does not offer the context object.
    pub(crate) fn parse_input(text: &str) -> Result<Path, String> {
        let path = Path::parse(text)?;
        if path.root == Root::Context {
            return Err(format!(
                "has path \"{text}\": the context object ($$) cannot be used in this field"
            ));
        }
        Ok(path)
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The selected value, or `None` when the path matches nothing.
    pub(crate) fn select(&self, scope: &Scope<'_>) -> Option<Value> {
        match self.root {
            Root::Input => walk(scope.input, &self.segments).cloned(),
            Root::Context => scope.context.lookup(&self.segments),
        }
    }

    /// Like `select`, with the AWS-style cause when nothing matches.
    pub(crate) fn require(&self, scope: &Scope<'_>, field: &str) -> Result<Value, String> {
        self.select(scope)
            .ok_or_else(|| self.not_found(scope, field))
    }

    pub(crate) fn not_found(&self, scope: &Scope<'_>, field: &str) -> String {
        let (what, data) = match self.root {
            Root::Input => ("the input", abbreviate(scope.input)),
            Root::Context => ("the context object", String::new()),
        };
        let data = if data.is_empty() {
            String::new()
        } else {
            format!(" {data}")
        };
        format!(
            "the JSONPath \"{}\" specified for the field \"{field}\" could not be found in {what}{data}",
            self.text
        )
    }
}

fn walk<'v>(mut value: &'v Value, segments: &[Segment]) -> Option<&'v Value> {
    for segment in segments {
        value = match (segment, value) {
            (Segment::Field(name), Value::Object(map)) => map.get(name)?,
            (Segment::Index(index), Value::Array(items)) => items.get(*index)?,
            _ => return None,
        };
    }
    Some(value)
}

/// JSON of a value cut to a readable length for error causes.
pub(crate) fn abbreviate(value: &Value) -> String {
    const LIMIT: usize = 256;
    let text = value.to_string();
    if text.chars().count() <= LIMIT {
        text
    } else {
        let cut: String = text.chars().take(LIMIT).collect();
        format!("{cut}...")
    }
}

/// The context object (`$$`) of one state, built from borrowed parts; only the pieces a path
/// asks for are cloned.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    pub execution_input: &'a Value,
    pub execution_name: &'a str,
    pub execution_start_time: &'a str,
    pub state_name: &'a str,
    pub state_entered_time: &'a str,
    pub state_retry_count: u32,
    /// Present only while a Map state evaluates its ItemSelector, as on AWS.
    pub map_item: Option<(usize, &'a Value)>,
}

impl Context<'_> {
    fn lookup(&self, segments: &[Segment]) -> Option<Value> {
        let field = |s: &Segment, name: &str| matches!(s, Segment::Field(f) if f == name);
        // Avoid copying the whole execution input for the common `$$.Execution.Input.x`.
        if let [a, b, rest @ ..] = segments
            && field(a, "Execution")
            && field(b, "Input")
        {
            return walk(self.execution_input, rest).cloned();
        }
        if let [a, b, c, rest @ ..] = segments
            && field(a, "Map")
            && field(b, "Item")
            && field(c, "Value")
        {
            let (_, value) = self.map_item?;
            return walk(value, rest).cloned();
        }
        walk(&self.build(), segments).cloned()
    }

    fn build(&self) -> Value {
        let mut root = serde_json::json!({
            "Execution": {
                "Input": self.execution_input.clone(),
                "Name": self.execution_name,
                "StartTime": self.execution_start_time,
            },
            "State": {
                "Name": self.state_name,
                "EnteredTime": self.state_entered_time,
                "RetryCount": self.state_retry_count,
            },
        });
        if let (Some((index, value)), Value::Object(map)) = (self.map_item, &mut root) {
            map.insert(
                "Map".to_string(),
                serde_json::json!({ "Item": { "Index": index, "Value": value.clone() } }),
            );
        }
        root
    }
}

/// What paths are evaluated against: the data (`$`) and the context object (`$$`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'a> {
    pub input: &'a Value,
    pub context: &'a Context<'a>,
}

impl<'a> Scope<'a> {
    pub(crate) fn with_input(&self, input: &'a Value) -> Scope<'a> {
        Scope {
            input,
            context: self.context,
        }
    }
}

/// InputPath / OutputPath: absent means `$`; JSON `null` means an empty object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DataPath {
    Null,
    Path(Path),
}

impl DataPath {
    pub(crate) fn root() -> DataPath {
        DataPath::Path(Path {
            text: "$".to_string(),
            root: Root::Input,
            segments: Vec::new(),
        })
    }

    pub(crate) fn parse(value: &Value) -> Result<DataPath, String> {
        match value {
            Value::Null => Ok(DataPath::Null),
            Value::String(text) => Path::parse_input(text).map(DataPath::Path),
            other => Err(format!(
                "must be a path string or null, found {}",
                abbreviate(other)
            )),
        }
    }

    pub(crate) fn apply(&self, scope: &Scope<'_>, field: &str) -> Result<Value, String> {
        match self {
            DataPath::Null => Ok(Value::Object(Map::new())),
            DataPath::Path(path) => path.require(scope, field),
        }
    }
}

/// Where a state's result goes in its raw input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResultPath {
    /// `null`: the result is discarded and the raw input passes through.
    Discard,
    /// `$` or `$.a.b`; empty `fields` replaces the whole input with the result.
    Fields { text: String, fields: Vec<String> },
}

impl ResultPath {
    pub(crate) fn root() -> ResultPath {
        ResultPath::Fields {
            text: "$".to_string(),
            fields: Vec::new(),
        }
    }

    pub(crate) fn parse(value: &Value) -> Result<ResultPath, String> {
        let text = match value {
            Value::Null => return Ok(ResultPath::Discard),
            Value::String(text) => text,
            other => {
                return Err(format!(
                    "must be a reference path string or null, found {}",
                    abbreviate(other)
                ));
            }
        };
        let path = Path::parse_input(text)?;
        let mut fields = Vec::new();
        for segment in path.segments {
            match segment {
                Segment::Field(name) => fields.push(name),
                Segment::Index(_) => {
                    return Err(format!(
                        "has path \"{text}\", which the local runner does not support as a \
                         ResultPath: only $ and $.field.field... are supported"
                    ));
                }
            }
        }
        Ok(ResultPath::Fields {
            text: text.clone(),
            fields,
        })
    }

    /// Puts `result` into a copy of `raw_input`, creating missing intermediate objects.
    pub(crate) fn merge(&self, raw_input: &Value, result: Value) -> Result<Value, String> {
        let (text, fields) = match self {
            ResultPath::Discard => return Ok(raw_input.clone()),
            ResultPath::Fields { text, fields } => (text, fields),
        };
        let Some((last, parents)) = fields.split_last() else {
            return Ok(result);
        };
        let mut output = raw_input.clone();
        let mut target = &mut output;
        for (depth, name) in parents.iter().enumerate() {
            let Value::Object(map) = target else {
                return Err(cannot_merge(text, &fields[..depth], raw_input));
            };
            target = map
                .entry(name.clone())
                .or_insert_with(|| Value::Object(Map::new()));
        }
        let Value::Object(map) = target else {
            return Err(cannot_merge(text, parents, raw_input));
        };
        map.insert(last.clone(), result);
        Ok(output)
    }
}

fn cannot_merge(text: &str, at: &[String], raw_input: &Value) -> String {
    let location = if at.is_empty() {
        "$".to_string()
    } else {
        format!("$.{}", at.join("."))
    };
    format!(
        "unable to apply ResultPath \"{text}\" to the input {}: the value at \"{location}\" is not an object",
        abbreviate(raw_input)
    )
}

/// A compile error inside a template: `at` is the key path inside the template
/// (`body.url.$`), appended to the field name by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateError {
    pub at: String,
    pub problem: String,
}

/// A Parameters / ItemSelector / ResultSelector payload template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Template {
    Literal(Value),
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
    /// A `key.$` entry (or an ErrorPath/CausePath); `key` is the original key, for messages.
    Dynamic {
        key: String,
        expr: Expr,
    },
}

impl Template {
    pub(crate) fn compile(value: &Value) -> Result<Template, TemplateError> {
        compile_at(value, "")
    }

    pub(crate) fn render(&self, scope: &Scope<'_>) -> Result<Value, String> {
        match self {
            Template::Literal(value) => Ok(value.clone()),
            Template::Object(entries) => {
                let mut map = Map::new();
                for (key, template) in entries {
                    map.insert(key.clone(), template.render(scope)?);
                }
                Ok(Value::Object(map))
            }
            Template::Array(items) => items
                .iter()
                .map(|item| item.render(scope))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Template::Dynamic { key, expr } => expr.evaluate(scope, key),
        }
    }
}

fn join_at(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn compile_at(value: &Value, at: &str) -> Result<Template, TemplateError> {
    match value {
        Value::Object(map) => {
            let mut entries = Vec::with_capacity(map.len());
            let mut dynamic = false;
            for (key, item) in map {
                let here = join_at(at, key);
                if let Some(name) = key.strip_suffix(".$") {
                    if name.is_empty() {
                        return Err(TemplateError {
                            at: here,
                            problem: "is a \".$\" key without a field name".to_string(),
                        });
                    }
                    if map.contains_key(name) {
                        return Err(TemplateError {
                            at: here,
                            problem: format!(
                                "collides with the key \"{name}\" next to it (both produce \"{name}\")"
                            ),
                        });
                    }
                    let Value::String(text) = item else {
                        return Err(TemplateError {
                            at: here,
                            problem: "must be a string holding a path or an intrinsic function, \
                                      because its key ends in \".$\""
                                .to_string(),
                        });
                    };
                    let expr =
                        Expr::parse(text).map_err(|problem| TemplateError { at: here, problem })?;
                    dynamic = true;
                    entries.push((
                        name.to_string(),
                        Template::Dynamic {
                            key: key.clone(),
                            expr,
                        },
                    ));
                } else {
                    let template = compile_at(item, &here)?;
                    dynamic |= !matches!(template, Template::Literal(_));
                    entries.push((key.clone(), template));
                }
            }
            if dynamic {
                Ok(Template::Object(entries))
            } else {
                Ok(Template::Literal(value.clone()))
            }
        }
        Value::Array(items) => {
            let compiled = items
                .iter()
                .enumerate()
                .map(|(i, item)| compile_at(item, &format!("{at}[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            if compiled.iter().all(|t| matches!(t, Template::Literal(_))) {
                Ok(Template::Literal(value.clone()))
            } else {
                Ok(Template::Array(compiled))
            }
        }
        other => Ok(Template::Literal(other.clone())),
    }
}

/// The value of a `.$` key: a path or an intrinsic function call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Path(Path),
    Call(Call),
}

impl Expr {
    pub(crate) fn parse(text: &str) -> Result<Expr, String> {
        if text.starts_with("States.") {
            return Call::parse(text).map(Expr::Call);
        }
        if text.starts_with('$') {
            return Path::parse(text).map(Expr::Path);
        }
        Err(format!(
            "has value \"{text}\", which is neither a path (starting with \"$\") nor an intrinsic \
             function (starting with \"States.\")"
        ))
    }

    /// `field` is the key or field the expression came from, for the error cause.
    pub(crate) fn evaluate(&self, scope: &Scope<'_>, field: &str) -> Result<Value, String> {
        match self {
            Expr::Path(path) => path.require(scope, field),
            Expr::Call(call) => call.evaluate(scope, field),
        }
    }
}

const INTRINSIC_SUPPORT: &str = "supported: States.Format, States.StringToJson, \
                                 States.JsonToString, States.ArrayLength, States.Array";

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Function {
    /// The template of the first argument, split at its `{}` placeholders.
    Format(Vec<String>),
    StringToJson,
    JsonToString,
    ArrayLength,
    Array,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Literal(Value),
    Path(Path),
    Call(Call),
}

/// An intrinsic function call with its arguments compiled.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    text: String,
    function: Function,
    args: Vec<Arg>,
}

/// A string literal's characters, each marked when it was backslash-escaped (an escaped `{` is
/// not a placeholder in States.Format).
type Literal = Vec<(char, bool)>;

enum RawArg {
    Str(Literal),
    Other(Arg),
}

struct CallParser<'t> {
    text: &'t str,
    chars: Vec<char>,
    pos: usize,
}

impl Call {
    fn parse(text: &str) -> Result<Call, String> {
        let mut parser = CallParser {
            text,
            chars: text.chars().collect(),
            pos: 0,
        };
        let call = parser.call()?;
        parser.skip_ws();
        if parser.pos != parser.chars.len() {
            return Err(parser.error("unexpected text after the closing parenthesis"));
        }
        Ok(call)
    }

    fn evaluate(&self, scope: &Scope<'_>, field: &str) -> Result<Value, String> {
        let mut values = Vec::with_capacity(self.args.len());
        for arg in &self.args {
            values.push(match arg {
                Arg::Literal(value) => value.clone(),
                Arg::Path(path) => path.require(scope, field)?,
                Arg::Call(call) => call.evaluate(scope, field)?,
            });
        }
        let fail = |why: String| {
            Err(format!(
                "the intrinsic function \"{}\" of the field \"{field}\" failed: {why}",
                self.text
            ))
        };
        match &self.function {
            Function::Format(pieces) => {
                let mut out = String::new();
                for (i, piece) in pieces.iter().enumerate() {
                    out.push_str(piece);
                    // The template sits in args[0]; placeholder i takes args[i + 1].
                    if let Some(value) = values.get(i + 1)
                        && i + 1 < pieces.len()
                    {
                        match value {
                            Value::String(s) => out.push_str(s),
                            Value::Number(_) | Value::Bool(_) | Value::Null => {
                                out.push_str(&value.to_string())
                            }
                            other => {
                                return fail(format!(
                                    "argument {} is {}, but States.Format only takes strings, \
                                     numbers, booleans and null",
                                    i + 2,
                                    abbreviate(other)
                                ));
                            }
                        }
                    }
                }
                Ok(Value::String(out))
            }
            Function::StringToJson => match values.first() {
                Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                    Ok(value) => Ok(value),
                    Err(e) => fail(format!("the argument is not valid JSON: {e}")),
                },
                Some(other) => fail(format!(
                    "the argument must be a string, found {}",
                    abbreviate(other)
                )),
                None => fail("missing argument".to_string()),
            },
            Function::JsonToString => match values.first() {
                Some(value) => Ok(Value::String(value.to_string())),
                None => fail("missing argument".to_string()),
            },
            Function::ArrayLength => match values.first() {
                Some(Value::Array(items)) => Ok(Value::from(items.len())),
                Some(other) => fail(format!(
                    "the argument must be an array, found {}",
                    abbreviate(other)
                )),
                None => fail("missing argument".to_string()),
            },
            Function::Array => Ok(Value::Array(values)),
        }
    }
}

impl CallParser<'_> {
    fn error(&self, why: &str) -> String {
        format!(
            "has intrinsic function \"{}\" that cannot be parsed: {why} (at character {})",
            self.text,
            self.pos + 1
        )
    }

    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn call(&mut self) -> Result<Call, String> {
        let start = self.pos;
        let prefix: Vec<char> = "States.".chars().collect();
        if !self.chars[self.pos..].starts_with(&prefix) {
            return Err(self.error("expected \"States.\""));
        }
        self.pos += prefix.len();
        let name_start = self.pos;
        while self
            .chars
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_alphanumeric())
        {
            self.pos += 1;
        }
        let name: String = self.chars[name_start..self.pos].iter().collect();
        self.skip_ws();
        if self.chars.get(self.pos) != Some(&'(') {
            return Err(self.error("expected \"(\" after the function name"));
        }
        self.pos += 1;
        let mut raw = Vec::new();
        self.skip_ws();
        if self.chars.get(self.pos) == Some(&')') {
            self.pos += 1;
        } else {
            loop {
                raw.push(self.arg()?);
                self.skip_ws();
                match self.chars.get(self.pos) {
                    Some(',') => self.pos += 1,
                    Some(')') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.error("expected \",\" or \")\"")),
                }
            }
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        let arity = |wanted: usize, raw: &[RawArg]| {
            if raw.len() == wanted {
                Ok(())
            } else {
                Err(format!(
                    "has intrinsic function \"{text}\": States.{name} takes {wanted} argument(s), \
                     found {}",
                    raw.len()
                ))
            }
        };
        let function = match name.as_str() {
            "Format" => {
                let Some(RawArg::Str(template)) = raw.first() else {
                    return Err(format!(
                        "has intrinsic function \"{text}\": the first argument of States.Format \
                         must be a string literal"
                    ));
                };
                let pieces = split_placeholders(template);
                if pieces.len() != raw.len() {
                    return Err(format!(
                        "has intrinsic function \"{text}\": the template has {} placeholder(s) \
                         but {} value argument(s) follow it",
                        pieces.len() - 1,
                        raw.len() - 1
                    ));
                }
                Function::Format(pieces)
            }
            "StringToJson" => {
                arity(1, &raw)?;
                Function::StringToJson
            }
            "JsonToString" => {
                arity(1, &raw)?;
                Function::JsonToString
            }
            "ArrayLength" => {
                arity(1, &raw)?;
                Function::ArrayLength
            }
            "Array" => Function::Array,
            other => {
                return Err(format!(
                    "uses intrinsic function States.{other}, which is not supported by the local \
                     runner ({INTRINSIC_SUPPORT})"
                ));
            }
        };
        let args = raw
            .into_iter()
            .map(|arg| match arg {
                RawArg::Str(chars) => {
                    Arg::Literal(Value::String(chars.iter().map(|c| c.0).collect()))
                }
                RawArg::Other(arg) => arg,
            })
            .collect();
        Ok(Call {
            text,
            function,
            args,
        })
    }

    fn arg(&mut self) -> Result<RawArg, String> {
        self.skip_ws();
        match self.chars.get(self.pos).copied() {
            Some('\'') => {
                self.pos += 1;
                let mut literal = Vec::new();
                loop {
                    match self.chars.get(self.pos).copied() {
                        None => return Err(self.error("unterminated string literal")),
                        Some('\\') => {
                            let Some(c) = self.chars.get(self.pos + 1).copied() else {
                                return Err(self.error("unterminated string literal"));
                            };
                            literal.push((c, true));
                            self.pos += 2;
                        }
                        Some('\'') => {
                            self.pos += 1;
                            return Ok(RawArg::Str(literal));
                        }
                        Some(c) => {
                            literal.push((c, false));
                            self.pos += 1;
                        }
                    }
                }
            }
            Some('$') => {
                let start = self.pos;
                let mut depth = 0usize;
                let mut quote: Option<char> = None;
                while let Some(c) = self.chars.get(self.pos).copied() {
                    match (quote, c) {
                        (Some(q), c) if c == q => quote = None,
                        (Some(_), _) => {}
                        (None, '\'' | '"') if depth > 0 => quote = Some(c),
                        (None, '[') => depth += 1,
                        (None, ']') => depth = depth.saturating_sub(1),
                        (None, ',' | ')') if depth == 0 => break,
                        _ => {}
                    }
                    self.pos += 1;
                }
                let text: String = self.chars[start..self.pos].iter().collect();
                Path::parse(text.trim_end())
                    .map(|path| RawArg::Other(Arg::Path(path)))
                    .map_err(|why| {
                        format!(
                            "has intrinsic function \"{}\" whose argument {why}",
                            self.text
                        )
                    })
            }
            Some('S') => self.call().map(|call| RawArg::Other(Arg::Call(call))),
            Some(_) => {
                let start = self.pos;
                while self
                    .chars
                    .get(self.pos)
                    .is_some_and(|c| !matches!(c, ',' | ')') && !c.is_whitespace())
                {
                    self.pos += 1;
                }
                let token: String = self.chars[start..self.pos].iter().collect();
                match serde_json::from_str::<Value>(&token) {
                    Ok(value @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => {
                        Ok(RawArg::Other(Arg::Literal(value)))
                    }
                    _ => {
                        self.pos = start;
                        Err(self.error(&format!(
                            "argument \"{token}\" is not a string literal, number, boolean, null, \
                             path or intrinsic function"
                        )))
                    }
                }
            }
            None => Err(self.error("missing argument")),
        }
    }
}

/// Splits a States.Format template at unescaped `{}`; n placeholders give n + 1 pieces.
fn split_placeholders(template: &Literal) -> Vec<String> {
    let mut pieces = vec![String::new()];
    let mut i = 0;
    while i < template.len() {
        let (c, escaped) = template[i];
        if c == '{' && !escaped && template.get(i + 1) == Some(&('}', false)) {
            pieces.push(String::new());
            i += 2;
            continue;
        }
        if let Some(last) = pieces.last_mut() {
            last.push(c);
        }
        i += 1;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context<'a>(input: &'a Value, item: Option<(usize, &'a Value)>) -> Context<'a> {
        Context {
            execution_input: input,
            execution_name: "run-1",
            execution_start_time: "2026-11-23T08:00:00.000Z",
            state_name: "S",
            state_entered_time: "2026-11-23T08:00:01.000Z",
            state_retry_count: 0,
            map_item: item,
        }
    }

    fn select(path: &str, input: &Value) -> Option<Value> {
        let ctx = context(input, None);
        let scope = Scope {
            input,
            context: &ctx,
        };
        Path::parse(path).ok()?.select(&scope)
    }

    #[test]
    fn reference_paths_select_values() {
        let input = json!({"a": {"b": [10, {"c": "x"}]}, "odd key": 1, "k-1": 2});
        assert_eq!(select("$", &input), Some(input.clone()));
        assert_eq!(select("$.a.b[0]", &input), Some(json!(10)));
        assert_eq!(select("$.a.b[1].c", &input), Some(json!("x")));
        assert_eq!(select("$['odd key']", &input), Some(json!(1)));
        assert_eq!(select("$[\"a\"]['b'][1]", &input), Some(json!({"c": "x"})));
        assert_eq!(select("$.k-1", &input), Some(json!(2)));
        assert_eq!(select("$.a.missing", &input), None);
        assert_eq!(select("$.a.b[7]", &input), None);
        assert_eq!(select("$.a[0]", &input), None);
    }

    #[test]
    fn unsupported_paths_are_refused() {
        for bad in [
            "a.b",
            "$..a",
            "$.a[*]",
            "$.a.*",
            "$.a[-1]",
            "$.a[0:2]",
            "$.a[?(@.x)]",
            "$.a[0,1]",
            "$.",
            "$a",
            "$['a'",
        ] {
            let err = Path::parse(bad).expect_err(bad);
            assert!(err.contains(bad), "{err}");
        }
        assert!(Path::parse_input("$$.Execution.Input").is_err());
    }

    #[test]
    fn context_object_paths() {
        let input = json!({"x": 1});
        let exec_input = json!({"run": {"date": "2026-11-23"}});
        let item = json!({"id": 7});
        let ctx = context(&exec_input, Some((3, &item)));
        let scope = Scope {
            input: &input,
            context: &ctx,
        };
        let get = |p: &str| Path::parse(p).ok().and_then(|p| p.select(&scope));
        assert_eq!(
            get("$$.Execution.Input.run.date"),
            Some(json!("2026-11-23"))
        );
        assert_eq!(get("$$.Execution.Name"), Some(json!("run-1")));
        assert_eq!(
            get("$$.Execution.StartTime"),
            Some(json!("2026-11-23T08:00:00.000Z"))
        );
        assert_eq!(get("$$.State.Name"), Some(json!("S")));
        assert_eq!(get("$$.Map.Item.Index"), Some(json!(3)));
        assert_eq!(get("$$.Map.Item.Value.id"), Some(json!(7)));
        assert_eq!(get("$$.Execution.Id"), None);
        let whole = get("$$").unwrap_or_default();
        assert_eq!(whole["Execution"]["Input"], exec_input);
    }

    #[test]
    fn templates_expand_nested_dynamic_keys() {
        let template = Template::compile(&json!({
            "literal": "$.not.a.path",
            "name.$": "$.user.name",
            "nested": {"ids.$": "$.ids", "list": [{"first.$": "$.ids[0]"}, 5]},
            "exec.$": "$$.Execution.Name",
            "greeting.$": "States.Format('Hello {}, you have {} \\{new\\} items', $.user.name, $.count)",
            "parsed.$": "States.StringToJson($.raw)",
            "text.$": "States.JsonToString($.ids)",
            "len.$": "States.ArrayLength($.ids)",
            "arr.$": "States.Array('a', 1, true, null, $.count)"
        }))
        .unwrap_or_else(|e| panic!("{e:?}"));
        let input =
            json!({"user": {"name": "Ada"}, "ids": [4, 5], "count": 2, "raw": "{\"k\":[1]}"});
        let ctx = context(&input, None);
        let scope = Scope {
            input: &input,
            context: &ctx,
        };
        assert_eq!(
            template.render(&scope),
            Ok(json!({
                "literal": "$.not.a.path",
                "name": "Ada",
                "nested": {"ids": [4, 5], "list": [{"first": 4}, 5]},
                "exec": "run-1",
                "greeting": "Hello Ada, you have 2 {new} items",
                "parsed": {"k": [1]},
                "text": "[4,5]",
                "len": 2,
                "arr": ["a", 1, true, null, 2]
            }))
        );
    }

    #[test]
    fn template_missing_path_names_the_path_and_key() {
        let template = Template::compile(&json!({"a": {"url.$": "$.source.url"}}))
            .unwrap_or_else(|e| panic!("{e:?}"));
        let input = json!({"source": {}});
        let ctx = context(&input, None);
        let scope = Scope {
            input: &input,
            context: &ctx,
        };
        let err = template.render(&scope).expect_err("missing");
        assert!(err.contains("\"$.source.url\""), "{err}");
        assert!(err.contains("\"url.$\""), "{err}");
    }

    #[test]
    fn template_compile_errors() {
        let err = Template::compile(&json!({"a": {"h.$": "States.Hash($.x, 'SHA-256')"}}))
            .expect_err("hash");
        assert_eq!(err.at, "a.h.$");
        assert!(err.problem.contains("States.Hash"), "{}", err.problem);
        assert!(err.problem.contains("not supported"), "{}", err.problem);
        let err = Template::compile(&json!({"x.$": 3})).expect_err("non-string");
        assert_eq!(err.at, "x.$");
        let err = Template::compile(&json!({"x.$": "plain"})).expect_err("not a path");
        assert!(err.problem.contains("neither a path"), "{}", err.problem);
        let err = Template::compile(&json!({"x.$": "$.a[*]"})).expect_err("wildcard");
        assert!(err.problem.contains("$.a[*]"), "{}", err.problem);
        let err = Template::compile(&json!({"x.$": "States.Format('{} {}', $.a)"}))
            .expect_err("placeholder count");
        assert!(err.problem.contains("placeholder"), "{}", err.problem);
        let err = Template::compile(&json!({"x": 1, "x.$": "$.a"})).expect_err("colliding keys");
        assert!(err.problem.contains("collides"), "{}", err.problem);
    }

    #[test]
    fn data_paths_null_and_missing() {
        let input = json!({"a": 1});
        let ctx = context(&input, None);
        let scope = Scope {
            input: &input,
            context: &ctx,
        };
        assert_eq!(
            DataPath::parse(&Value::Null).and_then(|p| p.apply(&scope, "InputPath")),
            Ok(json!({}))
        );
        assert_eq!(
            DataPath::parse(&json!("$.a")).and_then(|p| p.apply(&scope, "OutputPath")),
            Ok(json!(1))
        );
        let err = DataPath::parse(&json!("$.b"))
            .and_then(|p| p.apply(&scope, "InputPath"))
            .expect_err("missing");
        assert!(
            err.contains("\"$.b\"") && err.contains("InputPath"),
            "{err}"
        );
    }

    #[test]
    fn result_path_merges() {
        let raw = json!({"a": {"keep": 1}, "n": 5});
        let at = |p: Value| ResultPath::parse(&p).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(at(json!("$")).merge(&raw, json!("r")), Ok(json!("r")));
        assert_eq!(
            at(json!("$.a.res")).merge(&raw, json!("r")),
            Ok(json!({"a": {"keep": 1, "res": "r"}, "n": 5}))
        );
        assert_eq!(
            at(json!("$.x.y.z")).merge(&raw, json!(true)),
            Ok(json!({"a": {"keep": 1}, "n": 5, "x": {"y": {"z": true}}}))
        );
        assert_eq!(
            at(json!("$.n")).merge(&raw, json!(6)),
            Ok(json!({"a": {"keep": 1}, "n": 6}))
        );
        assert_eq!(at(Value::Null).merge(&raw, json!("r")), Ok(raw.clone()));
        assert!(at(json!("$.n.deeper")).merge(&raw, json!(1)).is_err());
        assert!(at(json!("$.a")).merge(&json!([1]), json!(1)).is_err());
        assert!(ResultPath::parse(&json!("$.a[0]")).is_err());
        assert!(ResultPath::parse(&json!("$$.State")).is_err());
    }
}

//! The state machine definition: parsing the ASL JSON into typed states and refusing, at load
//! time, everything the local runner does not implement faithfully (other state types, JSONata,
//! timeouts, distributed maps, unknown fields, dangling `Next` targets...). A definition that
//! loads here runs with AWS semantics; one that would only half-work is rejected with an error
//! naming the state and the field.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::error::{AslError, names};
use super::path::{DataPath, Path, ResultPath, Template, abbreviate};

/// A parsed and validated state machine, ready for [`execute`](super::execute).
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub(crate) graph: Arc<Graph>,
}

/// One set of states with its entry point: the machine itself or a Map's item processor.
#[derive(Debug)]
pub(crate) struct Graph {
    pub start_at: String,
    pub states: HashMap<String, State>,
}

#[derive(Debug)]
pub(crate) struct State {
    pub name: String,
    pub kind: Kind,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Task(Task),
    Map(MapState),
    Pass(Pass),
    Choice(Choice),
    Succeed(Succeed),
    Fail(Fail),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Transition {
    Next(String),
    End,
}

#[derive(Debug)]
pub(crate) struct Task {
    pub resource: String,
    pub input_path: DataPath,
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    pub result_path: ResultPath,
    pub output_path: DataPath,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    pub transition: Transition,
}

/// How many iterations a Map runs at once: fixed in the definition, or read from the state's
/// input (`MaxConcurrencyPath`), so a deployment can set it without editing the file.
#[derive(Debug)]
pub(crate) enum MaxConcurrency {
    /// 0 means unlimited, as on AWS.
    Fixed(usize),
    Path(Path),
}

#[derive(Debug)]
pub(crate) struct MapState {
    pub input_path: DataPath,
    pub items_path: Path,
    /// ItemSelector, or the legacy Parameters field, which means the same on a Map.
    pub item_selector: Option<Template>,
    pub processor: Arc<Graph>,
    pub max_concurrency: MaxConcurrency,
    pub tolerated_failure_percentage: Option<f64>,
    pub tolerated_failure_count: Option<u64>,
    pub result_selector: Option<Template>,
    pub result_path: ResultPath,
    pub output_path: DataPath,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    pub transition: Transition,
}

#[derive(Debug)]
pub(crate) struct Pass {
    pub input_path: DataPath,
    pub parameters: Option<Template>,
    pub result: Option<Value>,
    pub result_path: ResultPath,
    pub output_path: DataPath,
    pub transition: Transition,
}

#[derive(Debug)]
pub(crate) struct Choice {
    pub input_path: DataPath,
    pub output_path: DataPath,
    pub choices: Vec<(Rule, String)>,
    pub default: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Succeed {
    pub input_path: DataPath,
    pub output_path: DataPath,
}

#[derive(Debug)]
pub(crate) struct Fail {
    pub error: FailText,
    pub cause: FailText,
}

/// Fail's Error/Cause, or ErrorPath/CausePath (a path or intrinsic, compiled as a template).
#[derive(Debug)]
pub(crate) enum FailText {
    Absent,
    Literal(String),
    Dynamic(Template),
}

#[derive(Debug, Clone)]
pub(crate) struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: f64,
    pub max_attempts: u32,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    pub full_jitter: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Catcher {
    pub error_equals: Vec<String>,
    pub next: String,
    pub result_path: ResultPath,
}

/// A Choice rule: a boolean combination or one comparison on `Variable`.
#[derive(Debug)]
pub(crate) enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    Test { variable: Path, test: Test },
}

#[derive(Debug)]
pub(crate) enum Test {
    Compare {
        kind: ValueKind,
        op: CmpOp,
        operand: Operand,
    },
    /// StringMatches with its `*` wildcards.
    Matches(String),
    Is {
        check: TypeCheck,
        expected: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueKind {
    String,
    Numeric,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Debug)]
pub(crate) enum Operand {
    Literal(Value),
    Path(Path),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeCheck {
    Null,
    Present,
    Numeric,
    String,
    Boolean,
    Timestamp,
}

const STATE_TYPES: &str = "Task, Map, Pass, Choice, Succeed, Fail";
const TASK_FIELDS: &[&str] = &[
    "Type",
    "Comment",
    "QueryLanguage",
    "Resource",
    "InputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "OutputPath",
    "Retry",
    "Catch",
    "Next",
    "End",
];
const MAP_FIELDS: &[&str] = &[
    "Type",
    "Comment",
    "QueryLanguage",
    "InputPath",
    "ItemsPath",
    "ItemSelector",
    "Parameters",
    "ItemProcessor",
    "Iterator",
    "MaxConcurrency",
    "MaxConcurrencyPath",
    "ToleratedFailurePercentage",
    "ToleratedFailureCount",
    "ResultSelector",
    "ResultPath",
    "OutputPath",
    "Retry",
    "Catch",
    "Next",
    "End",
];
const PASS_FIELDS: &[&str] = &[
    "Type",
    "Comment",
    "QueryLanguage",
    "InputPath",
    "Parameters",
    "Result",
    "ResultPath",
    "OutputPath",
    "Next",
    "End",
];
const CHOICE_FIELDS: &[&str] = &[
    "Type",
    "Comment",
    "QueryLanguage",
    "InputPath",
    "OutputPath",
    "Choices",
    "Default",
];
const SUCCEED_FIELDS: &[&str] = &[
    "Type",
    "Comment",
    "QueryLanguage",
    "InputPath",
    "OutputPath",
];
const FAIL_FIELDS: &[&str] = &[
    "Type",
    "Comment",
    "QueryLanguage",
    "Error",
    "ErrorPath",
    "Cause",
    "CausePath",
];
const MACHINE_FIELDS: &[&str] = &["Comment", "StartAt", "States", "Version", "QueryLanguage"];
const PROCESSOR_FIELDS: &[&str] = &["Comment", "ProcessorConfig", "StartAt", "States"];
const ITERATOR_FIELDS: &[&str] = &["Comment", "StartAt", "States"];
const RETRIER_FIELDS: &[&str] = &[
    "ErrorEquals",
    "IntervalSeconds",
    "MaxAttempts",
    "BackoffRate",
    "MaxDelaySeconds",
    "JitterStrategy",
    "Comment",
];
const CATCHER_FIELDS: &[&str] = &["ErrorEquals", "Next", "ResultPath", "Comment"];
const CHOICE_OPERATORS: &str = "StringEquals, StringLessThan, StringGreaterThan, \
    StringLessThanEquals, StringGreaterThanEquals, StringMatches, NumericEquals, NumericLessThan, \
    NumericGreaterThan, NumericLessThanEquals, NumericGreaterThanEquals, BooleanEquals, \
    TimestampEquals, TimestampLessThan, TimestampGreaterThan, TimestampLessThanEquals, \
    TimestampGreaterThanEquals (each also with a Path suffix except StringMatches), IsNull, \
    IsPresent, IsNumeric, IsString, IsBoolean, IsTimestamp, And, Or, Not";

/// AWS's limit on state names.
const MAX_STATE_NAME_CHARS: usize = 80;
const MAX_RETRY_ATTEMPTS: u64 = 99_999_999;
const MAX_INTERVAL_SECONDS: u64 = 99_999_999;
/// AWS caps MaxDelaySeconds just above one year.
pub(crate) const MAX_DELAY_SECONDS: u64 = 31_622_400;

impl StateMachine {
    /// Parses and validates a JSONPath-flavoured ASL definition, refusing anything the local
    /// runner cannot run with AWS semantics.
    pub fn from_json(text: &str) -> Result<StateMachine, AslError> {
        let value: Value = serde_json::from_str(text).map_err(|e| AslError::Json(e.to_string()))?;
        let Value::Object(obj) = value else {
            return Err(AslError::Json(
                "the definition must be a JSON object".to_string(),
            ));
        };
        let scope = Scope::Machine;
        for key in obj.keys() {
            if !MACHINE_FIELDS.contains(&key.as_str()) {
                return Err(scope.error(key, unsupported_field_problem(key, MACHINE_FIELDS)));
            }
        }
        if let Some(version) = obj.get("Version")
            && version != "1.0"
        {
            return Err(scope.error(
                "Version",
                format!("has value {}; only \"1.0\" exists", abbreviate(version)),
            ));
        }
        if let Some(comment) = obj.get("Comment")
            && !comment.is_string()
        {
            return Err(scope.error("Comment", "must be a string".to_string()));
        }
        check_query_language(obj.get("QueryLanguage"))
            .map_err(|p| scope.error("QueryLanguage", p))?;
        let graph = parse_graph(&obj, &scope)?;
        check_unique_names(&graph, &mut HashSet::new())?;
        Ok(StateMachine {
            graph: Arc::new(graph),
        })
    }

    /// Every Task Resource in the machine, nested Map processors included, deduplicated and
    /// sorted, so a caller can check it has a handler for each before running.
    pub fn task_resources(&self) -> Vec<String> {
        fn collect(graph: &Graph, out: &mut BTreeSet<String>) {
            for state in graph.states.values() {
                match &state.kind {
                    Kind::Task(task) => {
                        out.insert(task.resource.clone());
                    }
                    Kind::Map(map) => collect(&map.processor, out),
                    _ => {}
                }
            }
        }
        let mut out = BTreeSet::new();
        collect(&self.graph, &mut out);
        out.into_iter().collect()
    }
}

/// State names must be unique across the whole machine, Map processors included (as AWS
/// requires), which is also what lets events name a state by its name alone.
fn check_unique_names(graph: &Graph, seen: &mut HashSet<String>) -> Result<(), AslError> {
    let mut names: Vec<&String> = graph.states.keys().collect();
    names.sort();
    for name in names {
        if !seen.insert(name.clone()) {
            return Err(AslError::State {
                state: name.clone(),
                field: "(name)".to_string(),
                problem: "is used by more than one state; state names must be unique across the \
                          whole state machine, Map processors included"
                    .to_string(),
            });
        }
    }
    let mut maps: Vec<(&String, &State)> = graph.states.iter().collect();
    maps.sort_by(|a, b| a.0.cmp(b.0));
    for (_, state) in maps {
        if let Kind::Map(map) = &state.kind {
            check_unique_names(&map.processor, seen)?;
        }
    }
    Ok(())
}

/// Where graph-level fields (StartAt, States) live, for error messages.
enum Scope {
    Machine,
    /// The processor of a Map state: errors name the Map state and prefix the field.
    Processor {
        state: String,
        prefix: String,
    },
}

impl Scope {
    fn error(&self, field: &str, problem: String) -> AslError {
        match self {
            Scope::Machine => AslError::Machine {
                field: field.to_string(),
                problem,
            },
            Scope::Processor { state, prefix } => AslError::State {
                state: state.clone(),
                field: format!("{prefix}.{field}"),
                problem,
            },
        }
    }
}

fn unsupported_field_problem(field: &str, supported: &[&str]) -> String {
    let why = match field {
        "TimeoutSeconds" | "TimeoutSecondsPath" | "HeartbeatSeconds" | "HeartbeatSecondsPath" => {
            " because it would not be enforced"
        }
        "Arguments" | "Output" | "Assign" | "Condition" | "Items" => {
            " because JSONata and variables are not implemented"
        }
        _ => "",
    };
    format!(
        "is not supported by the local runner{why} (supported: {})",
        supported.join(", ")
    )
}

fn check_query_language(value: Option<&Value>) -> Result<(), String> {
    match value {
        None => Ok(()),
        Some(Value::String(s)) if s == "JSONPath" => Ok(()),
        Some(other) => Err(format!(
            "has value {}, which is not supported by the local runner (supported: \"JSONPath\"; \
             JSONata is not implemented)",
            abbreviate(other)
        )),
    }
}

fn parse_graph(obj: &Map<String, Value>, scope: &Scope) -> Result<Graph, AslError> {
    let start_at = match obj.get("StartAt") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(scope.error("StartAt", "must be a string".to_string())),
        None => return Err(scope.error("StartAt", "is missing".to_string())),
    };
    let states_obj = match obj.get("States") {
        Some(Value::Object(map)) if !map.is_empty() => map,
        Some(Value::Object(_)) => {
            return Err(scope.error("States", "must contain at least one state".to_string()));
        }
        Some(_) => return Err(scope.error("States", "must be an object".to_string())),
        None => return Err(scope.error("States", "is missing".to_string())),
    };
    let mut states = HashMap::with_capacity(states_obj.len());
    for (name, value) in states_obj {
        states.insert(name.clone(), parse_state(name, value)?);
    }
    if !states.contains_key(&start_at) {
        return Err(scope.error(
            "StartAt",
            format!("names state \"{start_at}\", which does not exist"),
        ));
    }
    // Sorted so that, with several dangling targets, the same one is reported every time.
    let mut names: Vec<&String> = states.keys().collect();
    names.sort();
    for name in names {
        let Some(state) = states.get(name) else {
            continue;
        };
        for (field, target) in targets(&state.kind) {
            if !states.contains_key(&target) {
                return Err(AslError::State {
                    state: name.clone(),
                    field,
                    problem: format!("names state \"{target}\", which does not exist"),
                });
            }
        }
    }
    Ok(Graph { start_at, states })
}

/// Every transition target of a state, with the field it comes from.
fn targets(kind: &Kind) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut add = |transition: &Transition, catch: &[Catcher]| {
        if let Transition::Next(next) = transition {
            out.push(("Next".to_string(), next.clone()));
        }
        for (i, catcher) in catch.iter().enumerate() {
            out.push((format!("Catch[{i}].Next"), catcher.next.clone()));
        }
    };
    match kind {
        Kind::Task(task) => add(&task.transition, &task.catch),
        Kind::Map(map) => add(&map.transition, &map.catch),
        Kind::Pass(pass) => add(&pass.transition, &[]),
        Kind::Choice(choice) => {
            for (i, (_, next)) in choice.choices.iter().enumerate() {
                out.push((format!("Choices[{i}].Next"), next.clone()));
            }
            if let Some(default) = &choice.default {
                out.push(("Default".to_string(), default.clone()));
            }
        }
        Kind::Succeed(_) | Kind::Fail(_) => {}
    }
    out
}

/// Field access on one state's JSON object, producing errors that name the state and field.
struct Fields<'a> {
    state: &'a str,
    obj: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn error(&self, field: &str, problem: impl Into<String>) -> AslError {
        AslError::State {
            state: self.state.to_string(),
            field: field.to_string(),
            problem: problem.into(),
        }
    }

    fn allow_only(&self, allowed: &[&str]) -> Result<(), AslError> {
        let mut keys: Vec<&String> = self.obj.keys().collect();
        keys.sort();
        for key in keys {
            if !allowed.contains(&key.as_str()) {
                return Err(self.error(key, unsupported_field_problem(key, allowed)));
            }
        }
        Ok(())
    }

    fn get(&self, field: &str) -> Option<&'a Value> {
        self.obj.get(field)
    }

    fn opt_str(&self, field: &str) -> Result<Option<&'a str>, AslError> {
        match self.obj.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.error(field, "must be a string")),
        }
    }

    fn req_str(&self, field: &str) -> Result<&'a str, AslError> {
        self.opt_str(field)?
            .ok_or_else(|| self.error(field, "is missing"))
    }

    fn transition(&self) -> Result<Transition, AslError> {
        let next = self.opt_str("Next")?;
        let end = match self.obj.get("End") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(self.error("End", "must be a boolean")),
        };
        match (next, end) {
            (Some(_), true) => Err(self.error("End", "cannot be true together with \"Next\"")),
            (Some(next), false) => Ok(Transition::Next(next.to_string())),
            (None, true) => Ok(Transition::End),
            (None, false) => Err(self.error(
                "Next",
                "is missing (a state needs \"Next\" or \"End\": true)",
            )),
        }
    }

    fn data_path(&self, field: &str) -> Result<DataPath, AslError> {
        match self.obj.get(field) {
            None => Ok(DataPath::root()),
            Some(value) => DataPath::parse(value).map_err(|p| self.error(field, p)),
        }
    }

    fn result_path(&self, field: &str) -> Result<ResultPath, AslError> {
        result_path_at(self, field, self.obj.get(field))
    }

    fn template(&self, field: &str) -> Result<Option<Template>, AslError> {
        self.obj
            .get(field)
            .map(|value| template_at(self, field, value))
            .transpose()
    }

    fn retry(&self) -> Result<Vec<Retrier>, AslError> {
        let Some(value) = self.obj.get("Retry") else {
            return Ok(Vec::new());
        };
        let Value::Array(items) = value else {
            return Err(self.error("Retry", "must be an array of retriers"));
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let at = format!("Retry[{i}]");
            out.push(self.retrier(&at, item, i + 1 == items.len())?);
        }
        Ok(out)
    }

    fn retrier(&self, at: &str, value: &Value, last: bool) -> Result<Retrier, AslError> {
        let Value::Object(obj) = value else {
            return Err(self.error(at, "must be an object"));
        };
        let field = |name: &str| format!("{at}.{name}");
        for key in obj.keys() {
            if !RETRIER_FIELDS.contains(&key.as_str()) {
                return Err(self.error(&field(key), unsupported_field_problem(key, RETRIER_FIELDS)));
            }
        }
        let error_equals = self.error_equals(at, obj, last)?;
        let int = |name: &str, min: u64, max: u64, default: u64| -> Result<u64, AslError> {
            match obj.get(name) {
                None => Ok(default),
                Some(v) => match v.as_u64() {
                    Some(n) if (min..=max).contains(&n) => Ok(n),
                    _ => Err(self.error(
                        &field(name),
                        format!(
                            "must be an integer from {min} to {max}, found {}",
                            abbreviate(v)
                        ),
                    )),
                },
            }
        };
        let interval_seconds = int("IntervalSeconds", 1, MAX_INTERVAL_SECONDS, 1)? as f64;
        let max_attempts =
            u32::try_from(int("MaxAttempts", 0, MAX_RETRY_ATTEMPTS, 3)?).unwrap_or(u32::MAX);
        let backoff_rate = match obj.get("BackoffRate") {
            None => 2.0,
            Some(v) => match v.as_f64() {
                Some(rate) if rate.is_finite() && rate >= 1.0 => rate,
                _ => {
                    return Err(self.error(
                        &field("BackoffRate"),
                        format!("must be a number >= 1.0, found {}", abbreviate(v)),
                    ));
                }
            },
        };
        let max_delay_seconds = match obj.get("MaxDelaySeconds") {
            None => None,
            Some(_) => Some(int("MaxDelaySeconds", 1, MAX_DELAY_SECONDS, 0)? as f64),
        };
        let full_jitter = match obj.get("JitterStrategy") {
            None => false,
            Some(Value::String(s)) if s == "NONE" => false,
            Some(Value::String(s)) if s == "FULL" => true,
            Some(v) => {
                return Err(self.error(
                    &field("JitterStrategy"),
                    format!("has value {}; supported: \"FULL\", \"NONE\"", abbreviate(v)),
                ));
            }
        };
        Ok(Retrier {
            error_equals,
            interval_seconds,
            max_attempts,
            backoff_rate,
            max_delay_seconds,
            full_jitter,
        })
    }

    fn catch(&self) -> Result<Vec<Catcher>, AslError> {
        let Some(value) = self.obj.get("Catch") else {
            return Ok(Vec::new());
        };
        let Value::Array(items) = value else {
            return Err(self.error("Catch", "must be an array of catchers"));
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let at = format!("Catch[{i}]");
            let Value::Object(obj) = item else {
                return Err(self.error(&at, "must be an object"));
            };
            for key in obj.keys() {
                if !CATCHER_FIELDS.contains(&key.as_str()) {
                    return Err(self.error(
                        &format!("{at}.{key}"),
                        unsupported_field_problem(key, CATCHER_FIELDS),
                    ));
                }
            }
            let error_equals = self.error_equals(&at, obj, i + 1 == items.len())?;
            let next = match obj.get("Next") {
                Some(Value::String(s)) => s.clone(),
                Some(_) => return Err(self.error(&format!("{at}.Next"), "must be a string")),
                None => return Err(self.error(&format!("{at}.Next"), "is missing")),
            };
            let result_path =
                result_path_at(self, &format!("{at}.ResultPath"), obj.get("ResultPath"))?;
            out.push(Catcher {
                error_equals,
                next,
                result_path,
            });
        }
        Ok(out)
    }

    fn error_equals(
        &self,
        at: &str,
        obj: &Map<String, Value>,
        last: bool,
    ) -> Result<Vec<String>, AslError> {
        let field = format!("{at}.ErrorEquals");
        let names = match obj.get("ErrorEquals") {
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| self.error(&field, "must contain only strings"))?,
            Some(_) => return Err(self.error(&field, "must be a non-empty array of error names")),
            None => return Err(self.error(&field, "is missing")),
        };
        if names.iter().any(|n| n == names::ALL) {
            if names.len() > 1 {
                return Err(self.error(&field, "must contain \"States.ALL\" alone"));
            }
            if !last {
                return Err(self.error(
                    &field,
                    format!("contains \"States.ALL\", so {at} must be the last in its list"),
                ));
            }
        }
        Ok(names)
    }
}

fn result_path_at(
    fields: &Fields<'_>,
    field: &str,
    value: Option<&Value>,
) -> Result<ResultPath, AslError> {
    match value {
        None => Ok(ResultPath::root()),
        Some(value) => ResultPath::parse(value).map_err(|p| fields.error(field, p)),
    }
}

fn template_at(fields: &Fields<'_>, field: &str, value: &Value) -> Result<Template, AslError> {
    Template::compile(value).map_err(|e| {
        let field = if e.at.is_empty() {
            field.to_string()
        } else {
            format!("{field}.{}", e.at)
        };
        fields.error(&field, e.problem)
    })
}

fn parse_state(name: &str, value: &Value) -> Result<State, AslError> {
    let error = |field: &str, problem: String| AslError::State {
        state: name.to_string(),
        field: field.to_string(),
        problem,
    };
    if name.chars().count() > MAX_STATE_NAME_CHARS {
        return Err(error(
            "(name)",
            format!("is longer than {MAX_STATE_NAME_CHARS} characters"),
        ));
    }
    let Value::Object(obj) = value else {
        return Err(error("(state)", "must be a JSON object".to_string()));
    };
    let f = Fields { state: name, obj };
    let state_type = f.req_str("Type")?;
    check_query_language(obj.get("QueryLanguage")).map_err(|p| f.error("QueryLanguage", p))?;
    if let Some(comment) = obj.get("Comment")
        && !comment.is_string()
    {
        return Err(f.error("Comment", "must be a string"));
    }
    let kind = match state_type {
        "Task" => {
            f.allow_only(TASK_FIELDS)?;
            let resource = f.req_str("Resource")?;
            if resource.is_empty() {
                return Err(f.error("Resource", "must not be empty"));
            }
            Kind::Task(Task {
                resource: resource.to_string(),
                input_path: f.data_path("InputPath")?,
                parameters: f.template("Parameters")?,
                result_selector: f.template("ResultSelector")?,
                result_path: f.result_path("ResultPath")?,
                output_path: f.data_path("OutputPath")?,
                retry: f.retry()?,
                catch: f.catch()?,
                transition: f.transition()?,
            })
        }
        "Map" => {
            f.allow_only(MAP_FIELDS)?;
            parse_map(&f)?
        }
        "Pass" => {
            f.allow_only(PASS_FIELDS)?;
            Kind::Pass(Pass {
                input_path: f.data_path("InputPath")?,
                parameters: f.template("Parameters")?,
                result: f.get("Result").cloned(),
                result_path: f.result_path("ResultPath")?,
                output_path: f.data_path("OutputPath")?,
                transition: f.transition()?,
            })
        }
        "Choice" => {
            f.allow_only(CHOICE_FIELDS)?;
            let Some(Value::Array(rules)) = f.get("Choices") else {
                return Err(f.error("Choices", "must be a non-empty array of choice rules"));
            };
            if rules.is_empty() {
                return Err(f.error("Choices", "must be a non-empty array of choice rules"));
            }
            let mut choices = Vec::with_capacity(rules.len());
            for (i, rule) in rules.iter().enumerate() {
                let at = format!("Choices[{i}]");
                let (rule, next) = parse_rule(&f, &at, rule, true)?;
                let next = next.ok_or_else(|| f.error(&format!("{at}.Next"), "is missing"))?;
                choices.push((rule, next));
            }
            Kind::Choice(Choice {
                input_path: f.data_path("InputPath")?,
                output_path: f.data_path("OutputPath")?,
                choices,
                default: f.opt_str("Default")?.map(str::to_string),
            })
        }
        "Succeed" => {
            f.allow_only(SUCCEED_FIELDS)?;
            Kind::Succeed(Succeed {
                input_path: f.data_path("InputPath")?,
                output_path: f.data_path("OutputPath")?,
            })
        }
        "Fail" => {
            f.allow_only(FAIL_FIELDS)?;
            Kind::Fail(Fail {
                error: fail_text(&f, "Error", "ErrorPath")?,
                cause: fail_text(&f, "Cause", "CausePath")?,
            })
        }
        other => {
            return Err(f.error(
                "Type",
                format!(
                    "has value \"{other}\", which is not supported by the local runner \
                     (supported: {STATE_TYPES})"
                ),
            ));
        }
    };
    Ok(State {
        name: name.to_string(),
        kind,
    })
}

fn fail_text(f: &Fields<'_>, literal: &str, path: &str) -> Result<FailText, AslError> {
    match (f.opt_str(literal)?, f.opt_str(path)?) {
        (Some(_), Some(_)) => {
            Err(f.error(path, format!("cannot be used together with \"{literal}\"")))
        }
        (Some(text), None) => Ok(FailText::Literal(text.to_string())),
        (None, Some(text)) => {
            // Compiled as a one-key template so it shares the `.$` machinery and messages.
            let template = template_at(f, path, &serde_json::json!({ "value.$": text })).map_err(
                |e| match e {
                    AslError::State { state, problem, .. } => AslError::State {
                        state,
                        field: path.to_string(),
                        problem,
                    },
                    other => other,
                },
            )?;
            let Template::Object(mut entries) = template else {
                return Err(f.error(path, "must be a path or an intrinsic function"));
            };
            match entries.pop() {
                Some((_, Template::Dynamic { expr, .. })) => {
                    Ok(FailText::Dynamic(Template::Dynamic {
                        key: path.to_string(),
                        expr,
                    }))
                }
                _ => Err(f.error(path, "must be a path or an intrinsic function")),
            }
        }
        (None, None) => Ok(FailText::Absent),
    }
}

fn parse_map(f: &Fields<'_>) -> Result<Kind, AslError> {
    let items_path = match f.get("ItemsPath") {
        None => Path::parse("$").map_err(|p| f.error("ItemsPath", p))?,
        Some(Value::String(text)) => Path::parse(text).map_err(|p| f.error("ItemsPath", p))?,
        Some(_) => return Err(f.error("ItemsPath", "must be a path string")),
    };
    let item_selector = match (f.template("ItemSelector")?, f.template("Parameters")?) {
        (Some(_), Some(_)) => {
            return Err(f.error(
                "Parameters",
                "cannot be used together with \"ItemSelector\" (Parameters is its legacy name)",
            ));
        }
        (selector, parameters) => selector.or(parameters),
    };
    let (processor_field, processor) = match (f.get("ItemProcessor"), f.get("Iterator")) {
        (Some(_), Some(_)) => {
            return Err(f.error(
                "Iterator",
                "cannot be used together with \"ItemProcessor\" (Iterator is its legacy name)",
            ));
        }
        (Some(p), None) => ("ItemProcessor", p),
        (None, Some(p)) => ("Iterator", p),
        (None, None) => return Err(f.error("ItemProcessor", "is missing")),
    };
    let Value::Object(processor_obj) = processor else {
        return Err(f.error(processor_field, "must be an object"));
    };
    let allowed = if processor_field == "ItemProcessor" {
        PROCESSOR_FIELDS
    } else {
        ITERATOR_FIELDS
    };
    for key in processor_obj.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(f.error(
                &format!("{processor_field}.{key}"),
                unsupported_field_problem(key, allowed),
            ));
        }
    }
    if let Some(config) = processor_obj.get("ProcessorConfig") {
        let Value::Object(config) = config else {
            return Err(f.error("ItemProcessor.ProcessorConfig", "must be an object"));
        };
        // Mode first: a DISTRIBUTED map is the thing to report, not its distributed-only fields.
        if let Some(mode) = config.get("Mode")
            && mode != "INLINE"
        {
            return Err(f.error(
                "ItemProcessor.ProcessorConfig.Mode",
                format!(
                    "has value {}, which is not supported by the local runner (supported: \"INLINE\")",
                    abbreviate(mode)
                ),
            ));
        }
        if let Some(other) = config.keys().find(|k| k.as_str() != "Mode") {
            return Err(f.error(
                &format!("ItemProcessor.ProcessorConfig.{other}"),
                unsupported_field_problem(other, &["Mode"]),
            ));
        }
    }
    let processor = parse_graph(
        processor_obj,
        &Scope::Processor {
            state: f.state.to_string(),
            prefix: processor_field.to_string(),
        },
    )?;
    let max_concurrency = match (f.get("MaxConcurrency"), f.get("MaxConcurrencyPath")) {
        (Some(_), Some(_)) => {
            return Err(f.error(
                "MaxConcurrencyPath",
                "cannot be used together with \"MaxConcurrency\"",
            ));
        }
        (None, None) => MaxConcurrency::Fixed(0),
        (Some(v), None) => MaxConcurrency::Fixed(
            v.as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| {
                    f.error(
                        "MaxConcurrency",
                        format!("must be a non-negative integer, found {}", abbreviate(v)),
                    )
                })?,
        ),
        (None, Some(Value::String(text))) => {
            MaxConcurrency::Path(Path::parse(text).map_err(|p| f.error("MaxConcurrencyPath", p))?)
        }
        (None, Some(_)) => return Err(f.error("MaxConcurrencyPath", "must be a path string")),
    };
    let tolerated_failure_percentage = match f.get("ToleratedFailurePercentage") {
        None => None,
        Some(v) => match v.as_f64() {
            Some(p) if (0.0..=100.0).contains(&p) => Some(p),
            _ => {
                return Err(f.error(
                    "ToleratedFailurePercentage",
                    format!("must be a number from 0 to 100, found {}", abbreviate(v)),
                ));
            }
        },
    };
    let tolerated_failure_count = match f.get("ToleratedFailureCount") {
        None => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| {
            f.error(
                "ToleratedFailureCount",
                format!("must be a non-negative integer, found {}", abbreviate(v)),
            )
        })?),
    };
    Ok(Kind::Map(MapState {
        input_path: f.data_path("InputPath")?,
        items_path,
        item_selector,
        processor: Arc::new(processor),
        max_concurrency,
        tolerated_failure_percentage,
        tolerated_failure_count,
        result_selector: f.template("ResultSelector")?,
        result_path: f.result_path("ResultPath")?,
        output_path: f.data_path("OutputPath")?,
        retry: f.retry()?,
        catch: f.catch()?,
        transition: f.transition()?,
    }))
}

/// Parses one choice rule; `top` rules carry `Next` (returned), nested ones must not.
fn parse_rule(
    f: &Fields<'_>,
    at: &str,
    value: &Value,
    top: bool,
) -> Result<(Rule, Option<String>), AslError> {
    let Value::Object(obj) = value else {
        return Err(f.error(at, "must be a choice rule object"));
    };
    let field = |name: &str| format!("{at}.{name}");
    let next = match obj.get("Next") {
        None => None,
        Some(_) if !top => {
            return Err(f.error(
                &field("Next"),
                "is only allowed on a top-level choice rule, not inside And/Or/Not",
            ));
        }
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(f.error(&field("Next"), "must be a string")),
    };
    if let Some(comment) = obj.get("Comment")
        && !comment.is_string()
    {
        return Err(f.error(&field("Comment"), "must be a string"));
    }
    let operators: Vec<&String> = obj
        .keys()
        .filter(|k| !matches!(k.as_str(), "Next" | "Comment" | "Variable"))
        .collect();
    let [operator] = operators.as_slice() else {
        let found = if operators.is_empty() {
            "none".to_string()
        } else {
            operators
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(f.error(
            at,
            format!("must have exactly one comparison operator or And/Or/Not, found: {found}"),
        ));
    };
    let operator = operator.as_str();
    let Some(operand) = obj.get(operator) else {
        return Err(f.error(at, "lost its operator while parsing"));
    };
    let rule = match operator {
        "And" | "Or" => {
            if obj.contains_key("Variable") {
                return Err(f.error(
                    &field("Variable"),
                    format!("cannot be used with \"{operator}\""),
                ));
            }
            let Value::Array(items) = operand else {
                return Err(f.error(&field(operator), "must be a non-empty array of rules"));
            };
            if items.is_empty() {
                return Err(f.error(&field(operator), "must be a non-empty array of rules"));
            }
            let mut rules = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                rules.push(parse_rule(f, &format!("{at}.{operator}[{i}]"), item, false)?.0);
            }
            if operator == "And" {
                Rule::And(rules)
            } else {
                Rule::Or(rules)
            }
        }
        "Not" => {
            if obj.contains_key("Variable") {
                return Err(f.error(&field("Variable"), "cannot be used with \"Not\""));
            }
            Rule::Not(Box::new(parse_rule(f, &field("Not"), operand, false)?.0))
        }
        _ => {
            let variable = match obj.get("Variable") {
                Some(Value::String(text)) => {
                    Path::parse(text).map_err(|p| f.error(&field("Variable"), p))?
                }
                Some(_) => return Err(f.error(&field("Variable"), "must be a path string")),
                None => return Err(f.error(&field("Variable"), "is missing")),
            };
            let test = parse_test(operator, operand).map_err(|p| f.error(&field(operator), p))?;
            Rule::Test { variable, test }
        }
    };
    Ok((rule, next))
}

fn parse_test(operator: &str, operand: &Value) -> Result<Test, String> {
    let type_check = match operator {
        "IsNull" => Some(TypeCheck::Null),
        "IsPresent" => Some(TypeCheck::Present),
        "IsNumeric" => Some(TypeCheck::Numeric),
        "IsString" => Some(TypeCheck::String),
        "IsBoolean" => Some(TypeCheck::Boolean),
        "IsTimestamp" => Some(TypeCheck::Timestamp),
        _ => None,
    };
    if let Some(check) = type_check {
        let Value::Bool(expected) = operand else {
            return Err("must be a boolean".to_string());
        };
        return Ok(Test::Is {
            check,
            expected: *expected,
        });
    }
    if operator == "StringMatches" {
        let Value::String(pattern) = operand else {
            return Err("must be a string pattern".to_string());
        };
        return Ok(Test::Matches(pattern.clone()));
    }
    let unsupported = || {
        Err(format!(
            "is not a comparison operator supported by the local runner (supported: {CHOICE_OPERATORS})"
        ))
    };
    let (base, is_path) = match operator.strip_suffix("Path") {
        Some(base) => (base, true),
        None => (operator, false),
    };
    let (kind, op_name) = if let Some(rest) = base.strip_prefix("String") {
        (ValueKind::String, rest)
    } else if let Some(rest) = base.strip_prefix("Numeric") {
        (ValueKind::Numeric, rest)
    } else if let Some(rest) = base.strip_prefix("Boolean") {
        (ValueKind::Boolean, rest)
    } else if let Some(rest) = base.strip_prefix("Timestamp") {
        (ValueKind::Timestamp, rest)
    } else {
        return unsupported();
    };
    let op = match op_name {
        "Equals" => CmpOp::Eq,
        "LessThan" => CmpOp::Lt,
        "GreaterThan" => CmpOp::Gt,
        "LessThanEquals" => CmpOp::Le,
        "GreaterThanEquals" => CmpOp::Ge,
        _ => return unsupported(),
    };
    if kind == ValueKind::Boolean && op != CmpOp::Eq {
        return unsupported();
    }
    let operand = if is_path {
        let Value::String(text) = operand else {
            return Err("must be a path string".to_string());
        };
        Operand::Path(Path::parse(text)?)
    } else {
        let ok = match kind {
            ValueKind::String => operand.is_string(),
            ValueKind::Numeric => operand.is_number(),
            ValueKind::Boolean => operand.is_boolean(),
            ValueKind::Timestamp => operand
                .as_str()
                .is_some_and(|s| parse_timestamp(s).is_some()),
        };
        if !ok {
            let wanted = match kind {
                ValueKind::String => "a string",
                ValueKind::Numeric => "a number",
                ValueKind::Boolean => "a boolean",
                ValueKind::Timestamp => "an RFC 3339 timestamp string",
            };
            return Err(format!("must be {wanted}, found {}", abbreviate(operand)));
        }
        Operand::Literal(operand.clone())
    };
    Ok(Test::Compare { kind, op, operand })
}

/// Timestamps as Choice rules compare them (RFC 3339, e.g. `2026-11-23T08:00:00Z`).
pub(crate) fn parse_timestamp(text: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(text).ok()
}

//! Executing a loaded state machine: the state-by-state loop, AWS input/output processing order,
//! Retry (with backoff slept on the injected clock) and Catch, Choice rule evaluation, and Map
//! iterations run as real tokio tasks bounded by MaxConcurrency.

use std::cmp::Ordering;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::SecondsFormat;
use serde_json::{Value, json};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::definition::{
    CmpOp, FailText, Graph, Kind, MAX_DELAY_SECONDS, MapState, MaxConcurrency, Operand, Retrier,
    Rule, State, StateMachine, Test, Transition, TypeCheck, ValueKind, parse_timestamp,
};
use super::error::{ExecutionFailure, names};
use super::path::{Context, Scope, abbreviate};
use crate::ports::clock::Clock;

/// Runs a Task's resource. Registered per resource string by the caller.
#[async_trait::async_trait]
pub trait TaskInvoker: Send + Sync {
    /// Runs the Task's resource on its effective input; an Err is a task failure whose `error` is
    /// the error name Retry/Catch match (like a Lambda errorType) and `cause` a message.
    async fn invoke(&self, resource: &str, input: Value) -> Result<Value, TaskFailure>;
}

/// A failed task invocation, as a Lambda reports `errorType` / `errorMessage`.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskFailure {
    pub error: String,
    pub cause: String,
}

/// What happened, for progress display and tests. `map_index` is the index of the innermost Map
/// item being processed, `None` outside any Map.
#[derive(Debug, Clone, PartialEq)]
pub enum ExecutionEvent {
    StateEntered {
        state: String,
        map_index: Option<usize>,
    },
    StateExited {
        state: String,
        map_index: Option<usize>,
    },
    TaskFailed {
        state: String,
        map_index: Option<usize>,
        error: String,
        cause: String,
    },
    RetryScheduled {
        state: String,
        map_index: Option<usize>,
        error: String,
        attempt: u32,
        delay: Duration,
    },
    CaughtError {
        state: String,
        map_index: Option<usize>,
        error: String,
        next: String,
    },
    MapStarted {
        state: String,
        items: usize,
        max_concurrency: usize,
    },
}

/// Receives events as they happen; called from Map iterations concurrently.
pub trait ExecutionObserver: Send + Sync {
    fn on_event(&self, event: &ExecutionEvent);
}

/// An observer that keeps every event, for tests and post-run summaries.
#[derive(Debug, Default)]
pub struct EventLog {
    events: Mutex<Vec<ExecutionEvent>>,
}

impl EventLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// The events so far, in the order they were reported.
    pub fn events(&self) -> Vec<ExecutionEvent> {
        self.events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl ExecutionObserver for EventLog {
    fn on_event(&self, event: &ExecutionEvent) {
        self.events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(event.clone());
    }
}

#[derive(Clone)]
pub struct RunOptions {
    /// `$$.Execution.Name`.
    pub execution_name: String,
    /// Seeds the RNG behind `JitterStrategy: FULL`, so a run's delays are reproducible.
    pub jitter_seed: u64,
    pub observer: Option<Arc<dyn ExecutionObserver>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            execution_name: "local".to_string(),
            jitter_seed: 0,
            observer: None,
        }
    }
}

impl fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunOptions")
            .field("execution_name", &self.execution_name)
            .field("jitter_seed", &self.jitter_seed)
            .field("observer", &self.observer.as_ref().map(|_| "..."))
            .finish()
    }
}

/// State transitions allowed per execution (Map iterations included) before the runner assumes
/// a loop and fails the execution with `States.Runtime`.
pub const DEFAULT_MAX_TRANSITIONS: usize = 10_000;

/// Runs `machine` on `input` until it succeeds or fails. Needs a tokio runtime (Map iterations are
/// spawned as tasks); every retry wait goes through `clock.sleep`.
pub async fn execute(
    machine: Arc<StateMachine>,
    invoker: Arc<dyn TaskInvoker>,
    clock: Arc<dyn Clock>,
    input: Value,
    options: RunOptions,
) -> Result<Value, ExecutionFailure> {
    execute_with_limit(
        machine,
        invoker,
        clock,
        input,
        options,
        DEFAULT_MAX_TRANSITIONS,
    )
    .await
}

/// [`execute`] with an explicit cap on state transitions.
pub async fn execute_with_limit(
    machine: Arc<StateMachine>,
    invoker: Arc<dyn TaskInvoker>,
    clock: Arc<dyn Clock>,
    input: Value,
    options: RunOptions,
    max_transitions: usize,
) -> Result<Value, ExecutionFailure> {
    let start_time = timestamp(clock.as_ref());
    let graph = machine.graph.clone();
    let shared = Arc::new(Shared {
        invoker,
        clock,
        observer: options.observer,
        execution_input: input.clone(),
        execution_name: options.execution_name,
        start_time,
        transitions: AtomicUsize::new(0),
        max_transitions,
    });
    run_graph(shared, graph, input, None, options.jitter_seed).await
}

/// What every state of one execution (all Map iterations included) shares.
struct Shared {
    invoker: Arc<dyn TaskInvoker>,
    clock: Arc<dyn Clock>,
    observer: Option<Arc<dyn ExecutionObserver>>,
    execution_input: Value,
    execution_name: String,
    start_time: String,
    transitions: AtomicUsize,
    max_transitions: usize,
}

fn timestamp(clock: &dyn Clock) -> String {
    clock.now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn runtime(state: &str, cause: impl fmt::Display) -> ExecutionFailure {
    ExecutionFailure {
        error: names::RUNTIME.to_string(),
        cause: format!("state \"{state}\": {cause}"),
    }
}

type GraphFuture = Pin<Box<dyn Future<Output = Result<Value, ExecutionFailure>> + Send>>;

/// Runs one graph (the machine, or one Map iteration) from its StartAt to an end.
fn run_graph(
    shared: Arc<Shared>,
    graph: Arc<Graph>,
    input: Value,
    map_index: Option<usize>,
    seed: u64,
) -> GraphFuture {
    Box::pin(async move {
        let mut frame = Frame {
            shared,
            map_index,
            rng: fastrand::Rng::with_seed(seed),
        };
        let mut current = graph.start_at.clone();
        let mut input = input;
        loop {
            let Some(state) = graph.states.get(&current) else {
                return Err(runtime(&current, "the state does not exist"));
            };
            frame.count_transition(&state.name)?;
            frame.emit(|| ExecutionEvent::StateEntered {
                state: state.name.clone(),
                map_index,
            });
            let step = frame.run_state(state, input).await?;
            frame.emit(|| ExecutionEvent::StateExited {
                state: state.name.clone(),
                map_index,
            });
            match step {
                Step::Next(next, output) => {
                    current = next;
                    input = output;
                }
                Step::End(output) => return Ok(output),
            }
        }
    })
}

enum Step {
    Next(String, Value),
    End(Value),
}

fn step(transition: &Transition, output: Value) -> Step {
    match transition {
        Transition::Next(next) => Step::Next(next.clone(), output),
        Transition::End => Step::End(output),
    }
}

/// One sequential thread of states: the execution itself or one Map iteration.
struct Frame {
    shared: Arc<Shared>,
    map_index: Option<usize>,
    /// Per-frame so that jitter draws do not depend on how parallel iterations interleave.
    rng: fastrand::Rng,
}

fn context<'a>(
    shared: &'a Shared,
    state: &'a str,
    entered: &'a str,
    retry_count: u32,
) -> Context<'a> {
    Context {
        execution_input: &shared.execution_input,
        execution_name: &shared.execution_name,
        execution_start_time: &shared.start_time,
        state_name: state,
        state_entered_time: entered,
        state_retry_count: retry_count,
        map_item: None,
    }
}

impl Frame {
    fn emit(&self, event: impl FnOnce() -> ExecutionEvent) {
        if let Some(observer) = &self.shared.observer {
            observer.on_event(&event());
        }
    }

    fn count_transition(&self, state: &str) -> Result<(), ExecutionFailure> {
        let count = self
            .shared
            .transitions
            .fetch_add(1, AtomicOrdering::Relaxed)
            .saturating_add(1);
        if count > self.shared.max_transitions {
            return Err(runtime(
                state,
                format!(
                    "the execution exceeded {} state transitions; the state machine probably loops",
                    self.shared.max_transitions
                ),
            ));
        }
        Ok(())
    }

    async fn run_state(&mut self, state: &State, raw: Value) -> Result<Step, ExecutionFailure> {
        let shared = self.shared.clone();
        let entered = timestamp(shared.clock.as_ref());
        let name = state.name.as_str();
        let ctx = context(&shared, name, &entered, 0);
        let scope = Scope {
            input: &raw,
            context: &ctx,
        };
        let rt = |cause: String| runtime(name, cause);
        match &state.kind {
            Kind::Pass(pass) => {
                let effective = pass.input_path.apply(&scope, "InputPath").map_err(rt)?;
                let effective = match &pass.parameters {
                    Some(template) => template.render(&scope.with_input(&effective)).map_err(rt)?,
                    None => effective,
                };
                let result = pass.result.clone().unwrap_or(effective);
                let merged = pass.result_path.merge(&raw, result).map_err(rt)?;
                let output = pass
                    .output_path
                    .apply(&scope.with_input(&merged), "OutputPath")
                    .map_err(rt)?;
                Ok(step(&pass.transition, output))
            }
            Kind::Choice(choice) => {
                let effective = choice.input_path.apply(&scope, "InputPath").map_err(rt)?;
                let effective_scope = scope.with_input(&effective);
                let mut target = None;
                for (rule, next) in &choice.choices {
                    if evaluate(rule, &effective_scope).map_err(rt)? {
                        target = Some(next);
                        break;
                    }
                }
                let Some(next) = target.or(choice.default.as_ref()) else {
                    return Err(ExecutionFailure {
                        error: names::NO_CHOICE_MATCHED.to_string(),
                        cause: format!(
                            "state \"{name}\": no choice rule matched the input {} and there is no Default",
                            abbreviate(&effective)
                        ),
                    });
                };
                let output = choice
                    .output_path
                    .apply(&effective_scope, "OutputPath")
                    .map_err(rt)?;
                Ok(Step::Next(next.clone(), output))
            }
            Kind::Succeed(succeed) => {
                let effective = succeed.input_path.apply(&scope, "InputPath").map_err(rt)?;
                let output = succeed
                    .output_path
                    .apply(&scope.with_input(&effective), "OutputPath")
                    .map_err(rt)?;
                Ok(Step::End(output))
            }
            Kind::Fail(fail) => {
                let text = |source: &FailText, field: &str| -> Result<String, ExecutionFailure> {
                    match source {
                        FailText::Absent => Ok(String::new()),
                        FailText::Literal(text) => Ok(text.clone()),
                        FailText::Dynamic(template) => match template.render(&scope) {
                            Ok(Value::String(s)) => Ok(s),
                            Ok(other) => Err(rt(format!(
                                "the field \"{field}\" must select a string, found {}",
                                abbreviate(&other)
                            ))),
                            Err(cause) => Err(rt(cause)),
                        },
                    }
                };
                Err(ExecutionFailure {
                    error: text(&fail.error, "ErrorPath")?,
                    cause: text(&fail.cause, "CausePath")?,
                })
            }
            Kind::Task(task) => {
                self.run_with_retry(
                    state,
                    &raw,
                    &entered,
                    &task.retry,
                    &task.catch,
                    &task.transition,
                )
                .await
            }
            Kind::Map(map) => {
                self.run_with_retry(
                    state,
                    &raw,
                    &entered,
                    &map.retry,
                    &map.catch,
                    &map.transition,
                )
                .await
            }
        }
    }

    /// Attempts a Task or Map state, retrying and catching per its Retry/Catch lists.
    async fn run_with_retry(
        &mut self,
        state: &State,
        raw: &Value,
        entered: &str,
        retry: &[Retrier],
        catch: &[super::definition::Catcher],
        transition: &Transition,
    ) -> Result<Step, ExecutionFailure> {
        // AWS keeps one attempt count per retrier.
        let mut attempts = vec![0u32; retry.len()];
        let mut retry_count = 0u32;
        loop {
            let outcome = match &state.kind {
                Kind::Task(task) => {
                    self.attempt_task(state, task, raw, entered, retry_count)
                        .await
                }
                Kind::Map(map) => {
                    self.attempt_map(state, map, raw, entered, retry_count)
                        .await
                }
                _ => Err(runtime(&state.name, "only Task and Map states can retry")),
            };
            let failure = match outcome {
                Ok(output) => return Ok(step(transition, output)),
                Err(failure) => failure,
            };
            if let Some(index) = retry
                .iter()
                .position(|r| error_matches(&r.error_equals, &failure.error))
            {
                let retrier = &retry[index];
                if attempts[index] < retrier.max_attempts {
                    attempts[index] += 1;
                    retry_count = retry_count.saturating_add(1);
                    let delay = self.delay(retrier, attempts[index]);
                    self.emit(|| ExecutionEvent::RetryScheduled {
                        state: state.name.clone(),
                        map_index: self.map_index,
                        error: failure.error.clone(),
                        attempt: attempts[index],
                        delay,
                    });
                    self.shared.clock.sleep(delay).await;
                    continue;
                }
            }
            if let Some(catcher) = catch
                .iter()
                .find(|c| error_matches(&c.error_equals, &failure.error))
            {
                let error_output = json!({"Error": failure.error, "Cause": failure.cause});
                let output = catcher
                    .result_path
                    .merge(raw, error_output)
                    .map_err(|cause| runtime(&state.name, cause))?;
                self.emit(|| ExecutionEvent::CaughtError {
                    state: state.name.clone(),
                    map_index: self.map_index,
                    error: failure.error.clone(),
                    next: catcher.next.clone(),
                });
                return Ok(Step::Next(catcher.next.clone(), output));
            }
            return Err(failure);
        }
    }

    /// The wait before retry number `attempt` (1-based) of `retrier`.
    fn delay(&mut self, retrier: &Retrier, attempt: u32) -> Duration {
        let cap = MAX_DELAY_SECONDS as f64;
        let exponent = f64::from(attempt.saturating_sub(1));
        let mut seconds = retrier.interval_seconds * retrier.backoff_rate.powf(exponent);
        if let Some(max) = retrier.max_delay_seconds {
            seconds = seconds.min(max);
        }
        // Without MaxDelaySeconds the backoff can overflow; nothing waits longer than an
        // execution may live (one year) anyway.
        if !seconds.is_finite() || seconds > cap {
            seconds = cap;
        }
        if retrier.full_jitter {
            seconds *= self.rng.f64();
        }
        Duration::try_from_secs_f64(seconds).unwrap_or(Duration::from_secs(MAX_DELAY_SECONDS))
    }

    async fn attempt_task(
        &self,
        state: &State,
        task: &super::definition::Task,
        raw: &Value,
        entered: &str,
        retry_count: u32,
    ) -> Result<Value, ExecutionFailure> {
        let name = state.name.as_str();
        let rt = |cause: String| runtime(name, cause);
        let ctx = context(&self.shared, name, entered, retry_count);
        let scope = Scope {
            input: raw,
            context: &ctx,
        };
        let effective = task.input_path.apply(&scope, "InputPath").map_err(rt)?;
        let effective = match &task.parameters {
            Some(template) => template.render(&scope.with_input(&effective)).map_err(rt)?,
            None => effective,
        };
        let result = match self.shared.invoker.invoke(&task.resource, effective).await {
            Ok(result) => result,
            Err(failure) => {
                self.emit(|| ExecutionEvent::TaskFailed {
                    state: name.to_string(),
                    map_index: self.map_index,
                    error: failure.error.clone(),
                    cause: failure.cause.clone(),
                });
                return Err(ExecutionFailure {
                    error: failure.error,
                    cause: failure.cause,
                });
            }
        };
        let result = match &task.result_selector {
            Some(template) => template.render(&scope.with_input(&result)).map_err(rt)?,
            None => result,
        };
        let merged = task.result_path.merge(raw, result).map_err(rt)?;
        task.output_path
            .apply(&scope.with_input(&merged), "OutputPath")
            .map_err(rt)
    }

    async fn attempt_map(
        &mut self,
        state: &State,
        map: &MapState,
        raw: &Value,
        entered: &str,
        retry_count: u32,
    ) -> Result<Value, ExecutionFailure> {
        let base_seed = self.rng.u64(..);
        let shared = self.shared.clone();
        let name = state.name.as_str();
        let rt = |cause: String| runtime(name, cause);
        let ctx = context(&shared, name, entered, retry_count);
        let scope = Scope {
            input: raw,
            context: &ctx,
        };
        let effective = map.input_path.apply(&scope, "InputPath").map_err(rt)?;
        let items = match map
            .items_path
            .require(&scope.with_input(&effective), "ItemsPath")
            .map_err(rt)?
        {
            Value::Array(items) => items,
            other => {
                return Err(rt(format!(
                    "the ItemsPath \"{}\" selected {}, which is not an array",
                    map.items_path.text(),
                    abbreviate(&other)
                )));
            }
        };
        let max_concurrency = match &map.max_concurrency {
            MaxConcurrency::Fixed(n) => *n,
            MaxConcurrency::Path(path) => {
                let value = path
                    .require(&scope.with_input(&effective), "MaxConcurrencyPath")
                    .map_err(rt)?;
                value
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| {
                        rt(format!(
                            "the MaxConcurrencyPath \"{}\" selected {}, which is not a non-negative integer",
                            path.text(),
                            abbreviate(&value)
                        ))
                    })?
            }
        };
        self.emit(|| ExecutionEvent::MapStarted {
            state: name.to_string(),
            items: items.len(),
            max_concurrency,
        });
        // All selectors are evaluated before any iteration starts: a bad path is a
        // States.Runtime that fails the execution anyway, so nothing should run first.
        let mut inputs = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            inputs.push(match &map.item_selector {
                Some(template) => {
                    let item_ctx = Context {
                        map_item: Some((index, item)),
                        ..ctx
                    };
                    template
                        .render(&Scope {
                            input: &effective,
                            context: &item_ctx,
                        })
                        .map_err(rt)?
                }
                None => item.clone(),
            });
        }
        let results = self
            .run_iterations(state, map, inputs, max_concurrency, base_seed)
            .await?;
        let result = Value::Array(results);
        let result = match &map.result_selector {
            Some(template) => template.render(&scope.with_input(&result)).map_err(rt)?,
            None => result,
        };
        let merged = map.result_path.merge(raw, result).map_err(rt)?;
        map.output_path
            .apply(&scope.with_input(&merged), "OutputPath")
            .map_err(rt)
    }

    /// Runs every iteration as a tokio task, at most MaxConcurrency at a time, and returns their
    /// outputs in item order.
    async fn run_iterations(
        &self,
        state: &State,
        map: &MapState,
        inputs: Vec<Value>,
        max_concurrency: usize,
        base_seed: u64,
    ) -> Result<Vec<Value>, ExecutionFailure> {
        let total = inputs.len();
        let permits = match max_concurrency {
            0 => total,
            limit => limit.min(total),
        }
        .clamp(1, Semaphore::MAX_PERMITS);
        let semaphore = Arc::new(Semaphore::new(permits));
        let tolerance = Tolerance {
            count: map.tolerated_failure_count,
            percentage: map.tolerated_failure_percentage,
            total,
        };
        let mut results: Vec<Option<Value>> = vec![None; total];
        // Permits are released by this loop, after it has seen the iteration's outcome, so that a
        // failure beyond tolerance is noticed before a freed slot could start another item.
        let mut held: Vec<Option<OwnedSemaphorePermit>> = (0..total).map(|_| None).collect();
        let mut failures = 0usize;
        // Dropping the set (on an early return) aborts the iterations still running.
        let mut running: JoinSet<(usize, Result<Value, ExecutionFailure>)> = JoinSet::new();
        let mut pending = inputs.into_iter().enumerate();
        let mut next_item = pending.next();
        loop {
            let joined = if next_item.is_some() {
                tokio::select! {
                    biased;
                    Some(joined) = running.join_next(), if !running.is_empty() => joined,
                    permit = semaphore.clone().acquire_owned() => {
                        let Ok(permit) = permit else {
                            return Err(runtime(&state.name, "the Map concurrency limiter closed"));
                        };
                        if let Some((index, input)) = next_item.take() {
                            let iteration = run_graph(
                                self.shared.clone(),
                                map.processor.clone(),
                                input,
                                Some(index),
                                mix_seed(base_seed, index),
                            );
                            running.spawn(async move { (index, iteration.await) });
                            if let Some(slot) = held.get_mut(index) {
                                *slot = Some(permit);
                            }
                        }
                        next_item = pending.next();
                        continue;
                    }
                }
            } else {
                match running.join_next().await {
                    Some(joined) => joined,
                    None => break,
                }
            };
            let (index, outcome) = joined.map_err(|e| {
                runtime(
                    &state.name,
                    format!("a Map iteration did not complete: {e}"),
                )
            })?;
            if let Some(slot) = held.get_mut(index) {
                *slot = None;
            }
            match outcome {
                Ok(output) => {
                    if let Some(slot) = results.get_mut(index) {
                        *slot = Some(output);
                    }
                }
                // AWS never lets a States.Runtime error be tolerated, retried or caught.
                Err(failure) if failure.error == names::RUNTIME => return Err(failure),
                Err(failure) => {
                    failures += 1;
                    if tolerance.exceeded(failures) {
                        return Err(if tolerance.is_configured() {
                            ExecutionFailure {
                                error: names::EXCEED_TOLERATED_FAILURE_THRESHOLD.to_string(),
                                cause: format!(
                                    "state \"{}\": {failures} of {total} iterations failed, more \
                                     than tolerated ({}); last failure: {}: {}",
                                    state.name,
                                    tolerance.describe(),
                                    failure.error,
                                    failure.cause
                                ),
                            }
                        } else {
                            failure
                        });
                    }
                    if let Some(slot) = results.get_mut(index) {
                        *slot = Some(json!({"Error": failure.error, "Cause": failure.cause}));
                    }
                }
            }
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or(Value::Null))
            .collect())
    }
}

/// A distinct, reproducible seed per Map iteration (splitmix64 finaliser).
fn mix_seed(base: u64, index: usize) -> u64 {
    let mut z = base.wrapping_add(
        (index as u64)
            .wrapping_add(1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

struct Tolerance {
    count: Option<u64>,
    percentage: Option<f64>,
    total: usize,
}

impl Tolerance {
    fn is_configured(&self) -> bool {
        self.count.is_some() || self.percentage.is_some()
    }

    /// Either threshold being exceeded fails the Map; without any, one failure does.
    fn exceeded(&self, failures: usize) -> bool {
        if !self.is_configured() {
            return failures > 0;
        }
        let over_count = self.count.is_some_and(|c| failures as u64 > c);
        let over_percentage = self
            .percentage
            .is_some_and(|p| failures as f64 * 100.0 > p * self.total as f64);
        over_count || over_percentage
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(count) = self.count {
            parts.push(format!("ToleratedFailureCount {count}"));
        }
        if let Some(percentage) = self.percentage {
            parts.push(format!("ToleratedFailurePercentage {percentage}"));
        }
        parts.join(", ")
    }
}

/// Whether a Retry/Catch `ErrorEquals` list handles `error`.
fn error_matches(error_equals: &[String], error: &str) -> bool {
    if error == names::RUNTIME {
        return false;
    }
    error_equals.iter().any(|name| {
        name == error
            || name == names::ALL
            || (name == names::TASK_FAILED && error != names::TIMEOUT)
    })
}

/// Evaluates a Choice rule; a comparison on a path that matches nothing is a runtime error, as
/// on AWS (only IsPresent may look at missing data).
fn evaluate(rule: &Rule, scope: &Scope<'_>) -> Result<bool, String> {
    match rule {
        Rule::And(rules) => {
            for rule in rules {
                if !evaluate(rule, scope)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Rule::Or(rules) => {
            for rule in rules {
                if evaluate(rule, scope)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Rule::Not(rule) => Ok(!evaluate(rule, scope)?),
        Rule::Test { variable, test } => {
            let value = variable.select(scope);
            if let Test::Is {
                check: TypeCheck::Present,
                expected,
            } = test
            {
                return Ok(value.is_some() == *expected);
            }
            let invalid = |path: &str| {
                format!(
                    "invalid path \"{path}\": the choice rule's path references a value that does \
                     not exist in the input {}",
                    abbreviate(scope.input)
                )
            };
            let Some(value) = value else {
                return Err(invalid(variable.text()));
            };
            match test {
                Test::Is { check, expected } => {
                    let is = match check {
                        TypeCheck::Null => value.is_null(),
                        TypeCheck::Present => true,
                        TypeCheck::Numeric => value.is_number(),
                        TypeCheck::String => value.is_string(),
                        TypeCheck::Boolean => value.is_boolean(),
                        TypeCheck::Timestamp => {
                            value.as_str().is_some_and(|s| parse_timestamp(s).is_some())
                        }
                    };
                    Ok(is == *expected)
                }
                Test::Matches(pattern) => Ok(value
                    .as_str()
                    .is_some_and(|text| string_matches(pattern, text))),
                Test::Compare { kind, op, operand } => {
                    let other = match operand {
                        Operand::Literal(v) => v.clone(),
                        Operand::Path(path) => {
                            path.select(scope).ok_or_else(|| invalid(path.text()))?
                        }
                    };
                    let ordering = compare(*kind, &value, &other);
                    Ok(ordering.is_some_and(|o| match op {
                        CmpOp::Eq => o == Ordering::Equal,
                        CmpOp::Lt => o == Ordering::Less,
                        CmpOp::Gt => o == Ordering::Greater,
                        CmpOp::Le => o != Ordering::Greater,
                        CmpOp::Ge => o != Ordering::Less,
                    }))
                }
            }
        }
    }
}

/// Orders two values of the compared kind; `None` (the rule is false) when either is another
/// type.
fn compare(kind: ValueKind, left: &Value, right: &Value) -> Option<Ordering> {
    match (kind, left, right) {
        // UTF-16 order, as the Java-based service compares strings.
        (ValueKind::String, Value::String(a), Value::String(b)) => {
            Some(a.encode_utf16().cmp(b.encode_utf16()))
        }
        (ValueKind::Numeric, Value::Number(a), Value::Number(b)) => {
            if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
                Some(x.cmp(&y))
            } else if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
                Some(x.cmp(&y))
            } else {
                a.as_f64()?.partial_cmp(&b.as_f64()?)
            }
        }
        (ValueKind::Boolean, Value::Bool(a), Value::Bool(b)) => {
            Some(if a == b { Ordering::Equal } else { a.cmp(b) })
        }
        (ValueKind::Timestamp, Value::String(a), Value::String(b)) => {
            Some(parse_timestamp(a)?.cmp(&parse_timestamp(b)?))
        }
        _ => None,
    }
}

/// StringMatches: `*` matches any run of characters; `\*` and `\\` are a literal `*` and `\`.
fn string_matches(pattern: &str, text: &str) -> bool {
    let mut tokens: Vec<Option<char>> = Vec::new(); // None is a wildcard
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => tokens.push(Some(chars.next().unwrap_or('\\'))),
            '*' => tokens.push(None),
            c => tokens.push(Some(c)),
        }
    }
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0usize, 0usize);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match tokens.get(p) {
            Some(Some(c)) if *c == text[t] => {
                p += 1;
                t += 1;
            }
            Some(None) => {
                backtrack = Some((p, t));
                p += 1;
            }
            _ => match backtrack {
                Some((star, start)) => {
                    p = star + 1;
                    t = start + 1;
                    backtrack = Some((star, start + 1));
                }
                None => return false,
            },
        }
    }
    tokens[p..].iter().all(Option::is_none)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_matches_wildcards_and_escapes() {
        assert!(string_matches("*.log", "server.log"));
        assert!(string_matches("a*b*c", "a-x-b-y-c"));
        assert!(!string_matches("a*b*c", "a-x-c"));
        assert!(string_matches("literal\\*star", "literal*star"));
        assert!(!string_matches("literal\\*star", "literalXstar"));
        assert!(string_matches("*", ""));
        assert!(string_matches("", ""));
        assert!(!string_matches("", "x"));
        assert!(string_matches("back\\\\slash", "back\\slash"));
    }

    #[test]
    fn error_matching_rules() {
        let list = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(error_matches(&list(&["States.ALL"]), "Throttled"));
        assert!(!error_matches(&list(&["States.ALL"]), "States.Runtime"));
        assert!(error_matches(&list(&["States.TaskFailed"]), "Throttled"));
        assert!(!error_matches(
            &list(&["States.TaskFailed"]),
            "States.Timeout"
        ));
        assert!(error_matches(&list(&["A", "B"]), "B"));
        assert!(!error_matches(&list(&["A"]), "B"));
    }

    #[test]
    fn tolerance_thresholds() {
        let t = |count, percentage| Tolerance {
            count,
            percentage,
            total: 10,
        };
        assert!(t(None, None).exceeded(1));
        assert!(!t(Some(2), None).exceeded(2));
        assert!(t(Some(2), None).exceeded(3));
        assert!(!t(None, Some(30.0)).exceeded(3));
        assert!(t(None, Some(30.0)).exceeded(4));
        assert!(t(Some(5), Some(10.0)).exceeded(2));
    }

    #[test]
    fn seeds_differ_per_iteration() {
        assert_ne!(mix_seed(1, 0), mix_seed(1, 1));
        assert_eq!(mix_seed(7, 3), mix_seed(7, 3));
    }
}

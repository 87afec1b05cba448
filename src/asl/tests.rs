//! End-to-end tests of the ASL runner: definitions in, executions out, on a virtual clock so
//! retry schedules are asserted exactly and nothing depends on wall-clock timing.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

use super::*;
use crate::ports::clock::VirtualClock;

type Handler = dyn Fn(&str, Value) -> Result<Value, TaskFailure> + Send + Sync;

/// Calls a closure for every task and records (resource, input) of each call.
struct FnInvoker {
    handler: Box<Handler>,
    calls: Mutex<Vec<(String, Value)>>,
}

impl FnInvoker {
    fn new(
        handler: impl Fn(&str, Value) -> Result<Value, TaskFailure> + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(FnInvoker {
            handler: Box::new(handler),
            calls: Mutex::new(Vec::new()),
        })
    }

    fn calls(&self) -> Vec<(String, Value)> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl TaskInvoker for FnInvoker {
    async fn invoke(&self, resource: &str, input: Value) -> Result<Value, TaskFailure> {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push((resource.to_string(), input.clone()));
        }
        (self.handler)(resource, input)
    }
}

fn fail(error: &str, cause: &str) -> TaskFailure {
    TaskFailure {
        error: error.to_string(),
        cause: cause.to_string(),
    }
}

fn clock() -> Arc<VirtualClock> {
    let start = Utc
        .with_ymd_and_hms(2026, 11, 23, 8, 0, 0)
        .single()
        .unwrap_or_default();
    Arc::new(VirtualClock::new(start))
}

fn machine(definition: &Value) -> Arc<StateMachine> {
    match StateMachine::from_json(&definition.to_string()) {
        Ok(machine) => Arc::new(machine),
        Err(e) => panic!("definition refused: {e}"),
    }
}

fn refusal(definition: &Value) -> String {
    match StateMachine::from_json(&definition.to_string()) {
        Ok(_) => panic!("definition accepted: {definition}"),
        Err(e) => e.to_string(),
    }
}

struct Run {
    result: Result<Value, ExecutionFailure>,
    clock: Arc<VirtualClock>,
    events: Vec<ExecutionEvent>,
}

async fn run_with(
    definition: &Value,
    invoker: Arc<dyn TaskInvoker>,
    input: Value,
    seed: u64,
) -> Run {
    let clock = clock();
    let log = Arc::new(EventLog::new());
    let options = RunOptions {
        execution_name: "test-run".to_string(),
        jitter_seed: seed,
        observer: Some(log.clone()),
    };
    let execution = execute(machine(definition), invoker, clock.clone(), input, options);
    // Only a safety net: turns a deadlock into a failure instead of a hung test.
    let result = match tokio::time::timeout(Duration::from_secs(30), execution).await {
        Ok(result) => result,
        Err(_) => panic!("execution did not finish"),
    };
    Run {
        result,
        clock,
        events: log.events(),
    }
}

async fn run(definition: &Value, invoker: Arc<dyn TaskInvoker>, input: Value) -> Run {
    run_with(definition, invoker, input, 0).await
}

fn echo() -> Arc<FnInvoker> {
    FnInvoker::new(|_, input| Ok(input))
}

fn ok(run: &Run) -> Value {
    match &run.result {
        Ok(value) => value.clone(),
        Err(e) => panic!("execution failed: {e}"),
    }
}

fn err(run: &Run) -> ExecutionFailure {
    match &run.result {
        Ok(value) => panic!("execution succeeded with {value}"),
        Err(e) => e.clone(),
    }
}

fn secs(values: &[u64]) -> Vec<Duration> {
    values.iter().map(|s| Duration::from_secs(*s)).collect()
}

// ---------------------------------------------------------------- paths and data flow

#[tokio::test]
async fn pass_result_with_result_path_and_context_object() {
    let def = json!({
        "StartAt": "Stamp",
        "States": {
            "Stamp": {
                "Type": "Pass",
                "Parameters": {
                    "run.$": "$$.Execution.Name",
                    "started.$": "$$.Execution.StartTime",
                    "state.$": "$$.State.Name",
                    "date.$": "$$.Execution.Input.date",
                    "nested": {"list": [{"d.$": "$.date"}, "literal"]}
                },
                "ResultPath": "$.meta",
                "Next": "Fixed"
            },
            "Fixed": {
                "Type": "Pass",
                "Result": {"ok": true},
                "ResultPath": "$.meta.status.check",
                "End": true
            }
        }
    });
    let run = run(&def, echo(), json!({"date": "2026-11-23"})).await;
    assert_eq!(
        ok(&run),
        json!({
            "date": "2026-11-23",
            "meta": {
                "run": "test-run",
                "started": "2026-11-23T08:00:00.000Z",
                "state": "Stamp",
                "date": "2026-11-23",
                "nested": {"list": [{"d": "2026-11-23"}, "literal"]},
                "status": {"check": {"ok": true}}
            }
        })
    );
}

#[tokio::test]
async fn task_input_output_processing_order() {
    let def = json!({
        "StartAt": "Work",
        "States": {
            "Work": {
                "Type": "Task",
                "Resource": "work",
                "InputPath": "$.job",
                "Parameters": {"source.$": "$.url", "fixed": 1},
                "ResultSelector": {"body.$": "$.payload.body"},
                "ResultPath": "$.job.out",
                "OutputPath": "$.job",
                "End": true
            }
        }
    });
    let invoker = FnInvoker::new(|_, input| {
        Ok(json!({"payload": {"body": input["source"].clone(), "noise": 1}, "status": 200}))
    });
    let run = run(
        &def,
        invoker.clone(),
        json!({"job": {"url": "https://x"}, "other": 2}),
    )
    .await;
    assert_eq!(
        invoker.calls(),
        vec![(
            "work".to_string(),
            json!({"source": "https://x", "fixed": 1})
        )]
    );
    assert_eq!(
        ok(&run),
        json!({"url": "https://x", "out": {"body": "https://x"}})
    );
}

#[tokio::test]
async fn null_paths_and_discarded_result() {
    let def = json!({
        "StartAt": "NoInput",
        "States": {
            "NoInput": {"Type": "Task", "Resource": "work", "InputPath": null, "ResultPath": null, "Next": "NoOutput"},
            "NoOutput": {"Type": "Pass", "OutputPath": null, "End": true}
        }
    });
    let invoker = FnInvoker::new(|_, _| Ok(json!("thrown away")));
    let run = run(&def, invoker.clone(), json!({"keep": 1})).await;
    assert_eq!(invoker.calls(), vec![("work".to_string(), json!({}))]);
    assert_eq!(ok(&run), json!({}));

    let def = json!({
        "StartAt": "Discard",
        "States": {"Discard": {"Type": "Task", "Resource": "work", "ResultPath": null, "End": true}}
    });
    let run = run_with(
        &def,
        FnInvoker::new(|_, _| Ok(json!(1))),
        json!({"keep": 1}),
        0,
    )
    .await;
    assert_eq!(ok(&run), json!({"keep": 1}));
}

#[tokio::test]
async fn missing_path_is_a_runtime_error_naming_path_and_state() {
    let def = json!({
        "StartAt": "Fetch",
        "States": {
            "Fetch": {
                "Type": "Task",
                "Resource": "fetch",
                "Parameters": {"url.$": "$.source.url"},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}],
                "End": true
            },
            "Handled": {"Type": "Succeed"}
        }
    });
    let invoker = echo();
    let run = run(&def, invoker.clone(), json!({"source": {}})).await;
    let failure = err(&run);
    assert_eq!(failure.error, "States.Runtime");
    assert!(failure.cause.contains("\"Fetch\""), "{}", failure.cause);
    assert!(failure.cause.contains("$.source.url"), "{}", failure.cause);
    // AWS never lets States.ALL catch States.Runtime, and the task never ran.
    assert!(invoker.calls().is_empty());

    let def = json!({
        "StartAt": "Out",
        "States": {"Out": {"Type": "Pass", "OutputPath": "$.nope", "End": true}}
    });
    let failure = err(&run_with(&def, echo(), json!({}), 0).await);
    assert_eq!(failure.error, "States.Runtime");
    assert!(failure.cause.contains("$.nope") && failure.cause.contains("OutputPath"));
}

// ---------------------------------------------------------------- Choice and Fail

fn choice_machine() -> Value {
    let target = |name: &str| json!({"Type": "Pass", "Result": name, "End": true});
    json!({
        "StartAt": "Route",
        "States": {
            "Route": {
                "Type": "Choice",
                "Choices": [
                    {"And": [
                        {"Variable": "$.kind", "StringEquals": "rss"},
                        {"Variable": "$.count", "NumericGreaterThan": 10}
                    ], "Next": "BigFeed"},
                    {"Variable": "$.count", "NumericLessThanEqualsPath": "$.limit", "Next": "WithinLimit"},
                    {"Or": [
                        {"Variable": "$.name", "StringMatches": "weekly-*"},
                        {"Variable": "$.flag", "BooleanEquals": true}
                    ], "Next": "Weekly"},
                    {"Not": {"Variable": "$.optional", "IsPresent": true}, "Next": "NoOptional"},
                    {"Variable": "$.optional", "IsNull": true, "Next": "NullOptional"}
                ],
                "Default": "Other"
            },
            "BigFeed": target("BigFeed"),
            "WithinLimit": target("WithinLimit"),
            "Weekly": target("Weekly"),
            "NoOptional": target("NoOptional"),
            "NullOptional": target("NullOptional"),
            "Other": target("Other")
        }
    })
}

#[tokio::test]
async fn choice_operators_and_default() {
    let def = choice_machine();
    let cases = [
        (
            json!({"kind": "rss", "count": 11, "limit": 0, "name": "x", "flag": false}),
            "BigFeed",
        ),
        (
            json!({"kind": "rss", "count": 5, "limit": 5, "name": "x", "flag": false}),
            "WithinLimit",
        ),
        (
            json!({"kind": "api", "count": 9, "limit": 1, "name": "weekly-ai", "flag": false}),
            "Weekly",
        ),
        (
            json!({"kind": "api", "count": 9, "limit": 1, "name": "daily", "flag": true}),
            "Weekly",
        ),
        (
            json!({"kind": "api", "count": 9, "limit": 1, "name": "daily", "flag": false}),
            "NoOptional",
        ),
        (
            json!({"kind": "api", "count": 9, "limit": 1, "name": "daily", "flag": false, "optional": null}),
            "NullOptional",
        ),
        (
            json!({"kind": "api", "count": 9, "limit": 1, "name": "daily", "flag": false, "optional": 3}),
            "Other",
        ),
        // A type mismatch makes a comparison false rather than an error.
        (
            json!({"kind": 5, "count": "9", "limit": 1, "name": 1, "flag": "yes", "optional": 3}),
            "Other",
        ),
    ];
    for (input, expected) in cases {
        let run = run(&def, echo(), input.clone()).await;
        assert_eq!(ok(&run), json!(expected), "input {input}");
    }
}

#[tokio::test]
async fn choice_without_match_or_with_missing_variable_fails() {
    let def = json!({
        "StartAt": "Route",
        "States": {
            "Route": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "Done"}]
            },
            "Done": {"Type": "Succeed"}
        }
    });
    let failure = err(&run(&def, echo(), json!({"n": 2})).await);
    assert_eq!(failure.error, "States.NoChoiceMatched");
    assert!(failure.cause.contains("\"Route\""), "{}", failure.cause);

    let failure = err(&run(&def, echo(), json!({"m": 2})).await);
    assert_eq!(failure.error, "States.Runtime");
    assert!(failure.cause.contains("$.n"), "{}", failure.cause);
}

#[tokio::test]
async fn timestamp_and_string_comparisons() {
    let def = json!({
        "StartAt": "Route",
        "States": {
            "Route": {
                "Type": "Choice",
                "Choices": [
                    {"And": [
                        {"Variable": "$.at", "TimestampGreaterThanEquals": "2026-11-23T00:00:00Z"},
                        {"Variable": "$.at", "IsTimestamp": true},
                        {"Variable": "$.word", "StringLessThan": "m"},
                        {"Variable": "$.word", "StringGreaterThanEqualsPath": "$.floor"}
                    ], "Next": "Yes"}
                ],
                "Default": "No"
            },
            "Yes": {"Type": "Pass", "Result": "yes", "End": true},
            "No": {"Type": "Pass", "Result": "no", "End": true}
        }
    });
    let yes = json!({"at": "2026-11-23T08:00:00+01:00", "word": "cat", "floor": "cat"});
    assert_eq!(ok(&run(&def, echo(), yes).await), json!("yes"));
    let no = json!({"at": "2026-11-22T23:59:59Z", "word": "cat", "floor": "cat"});
    assert_eq!(ok(&run(&def, echo(), no).await), json!("no"));
}

#[tokio::test]
async fn fail_state_reports_error_and_cause() {
    let def = json!({
        "StartAt": "Stop",
        "States": {"Stop": {"Type": "Fail", "Error": "Newsletter.Empty", "Cause": "no items matched"}}
    });
    let run = run(&def, echo(), json!({})).await;
    assert_eq!(
        err(&run),
        ExecutionFailure {
            error: "Newsletter.Empty".to_string(),
            cause: "no items matched".to_string()
        }
    );
    assert_eq!(err(&run).to_string(), "Newsletter.Empty: no items matched");

    let def = json!({
        "StartAt": "Stop",
        "States": {"Stop": {
            "Type": "Fail",
            "ErrorPath": "$.code",
            "CausePath": "States.Format('{} items failed', $.n)"
        }}
    });
    let run = run_with(&def, echo(), json!({"code": "Pipeline.Failed", "n": 3}), 0).await;
    assert_eq!(
        err(&run),
        ExecutionFailure {
            error: "Pipeline.Failed".to_string(),
            cause: "3 items failed".to_string()
        }
    );
}

// ---------------------------------------------------------------- Retry and Catch

fn flaky(failures: usize, error: &'static str) -> Arc<FnInvoker> {
    let seen = AtomicUsize::new(0);
    FnInvoker::new(move |_, _| {
        if seen.fetch_add(1, Ordering::SeqCst) < failures {
            Err(fail(error, "try again"))
        } else {
            Ok(json!({"fetched": true}))
        }
    })
}

fn retry_machine(retry: Value, catch: Value) -> Value {
    json!({
        "StartAt": "Fetch",
        "States": {
            "Fetch": {
                "Type": "Task",
                "Resource": "fetch",
                "ResultPath": "$.result",
                "Retry": retry,
                "Catch": catch,
                "End": true
            },
            "Recover": {"Type": "Pass", "End": true}
        }
    })
}

#[tokio::test]
async fn retry_backoff_schedule_goes_through_the_clock() {
    let def = retry_machine(
        json!([{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 2, "MaxAttempts": 3}]),
        json!([]),
    );
    let invoker = flaky(3, "Throttled");
    let run = run(&def, invoker.clone(), json!({"id": 1})).await;
    assert_eq!(ok(&run), json!({"id": 1, "result": {"fetched": true}}));
    assert_eq!(run.clock.sleeps(), secs(&[2, 4, 8]));
    assert_eq!(invoker.calls().len(), 4);
    let attempts: Vec<(u32, Duration)> = run
        .events
        .iter()
        .filter_map(|e| match e {
            ExecutionEvent::RetryScheduled { attempt, delay, .. } => Some((*attempt, *delay)),
            _ => None,
        })
        .collect();
    assert_eq!(
        attempts,
        vec![(1, secs(&[2])[0]), (2, secs(&[4])[0]), (3, secs(&[8])[0])]
    );
}

#[tokio::test]
async fn retry_defaults_and_max_delay_cap() {
    // Defaults: IntervalSeconds 1, BackoffRate 2, MaxAttempts 3.
    let def = retry_machine(json!([{"ErrorEquals": ["Throttled"]}]), json!([]));
    let run = run(&def, flaky(3, "Throttled"), json!({})).await;
    ok(&run);
    assert_eq!(run.clock.sleeps(), secs(&[1, 2, 4]));

    let def = retry_machine(
        json!([{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 3,
                 "MaxAttempts": 4, "MaxDelaySeconds": 5}]),
        json!([]),
    );
    let run = run_with(&def, flaky(4, "Throttled"), json!({}), 0).await;
    ok(&run);
    assert_eq!(run.clock.sleeps(), secs(&[2, 5, 5, 5]));
}

#[tokio::test]
async fn full_jitter_is_bounded_and_reproducible() {
    let def = retry_machine(
        json!([{"ErrorEquals": ["Throttled"], "IntervalSeconds": 4, "BackoffRate": 2,
                 "MaxAttempts": 5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}]),
        json!([]),
    );
    let first = run_with(&def, flaky(5, "Throttled"), json!({}), 42).await;
    ok(&first);
    let delays = first.clock.sleeps();
    let caps = secs(&[4, 8, 10, 10, 10]);
    assert_eq!(delays.len(), caps.len());
    for (delay, cap) in delays.iter().zip(&caps) {
        assert!(delay <= cap, "{delay:?} > {cap:?}");
    }
    // Jitter actually varies the delays.
    assert_ne!(delays, caps);
    let again = run_with(&def, flaky(5, "Throttled"), json!({}), 42).await;
    assert_eq!(again.clock.sleeps(), delays);
    let other = run_with(&def, flaky(5, "Throttled"), json!({}), 43).await;
    assert_ne!(other.clock.sleeps(), delays);
}

#[tokio::test]
async fn exhausted_retries_fall_to_catch_with_error_output() {
    let def = retry_machine(
        json!([{"ErrorEquals": ["Throttled"], "IntervalSeconds": 1, "MaxAttempts": 2}]),
        json!([{"ErrorEquals": ["Throttled"], "ResultPath": "$.error", "Next": "Recover"}]),
    );
    let invoker = flaky(usize::MAX, "Throttled");
    let run = run(&def, invoker.clone(), json!({"id": 7})).await;
    assert_eq!(
        ok(&run),
        json!({"id": 7, "error": {"Error": "Throttled", "Cause": "try again"}})
    );
    assert_eq!(invoker.calls().len(), 3);
    assert_eq!(run.clock.sleeps(), secs(&[1, 2]));
    assert_eq!(
        run.events,
        vec![
            ExecutionEvent::StateEntered {
                state: "Fetch".into(),
                map_index: None
            },
            ExecutionEvent::TaskFailed {
                state: "Fetch".into(),
                map_index: None,
                error: "Throttled".into(),
                cause: "try again".into()
            },
            ExecutionEvent::RetryScheduled {
                state: "Fetch".into(),
                map_index: None,
                error: "Throttled".into(),
                attempt: 1,
                delay: Duration::from_secs(1)
            },
            ExecutionEvent::TaskFailed {
                state: "Fetch".into(),
                map_index: None,
                error: "Throttled".into(),
                cause: "try again".into()
            },
            ExecutionEvent::RetryScheduled {
                state: "Fetch".into(),
                map_index: None,
                error: "Throttled".into(),
                attempt: 2,
                delay: Duration::from_secs(2)
            },
            ExecutionEvent::TaskFailed {
                state: "Fetch".into(),
                map_index: None,
                error: "Throttled".into(),
                cause: "try again".into()
            },
            ExecutionEvent::CaughtError {
                state: "Fetch".into(),
                map_index: None,
                error: "Throttled".into(),
                next: "Recover".into()
            },
            ExecutionEvent::StateExited {
                state: "Fetch".into(),
                map_index: None
            },
            ExecutionEvent::StateEntered {
                state: "Recover".into(),
                map_index: None
            },
            ExecutionEvent::StateExited {
                state: "Recover".into(),
                map_index: None
            },
        ]
    );
}

#[tokio::test]
async fn catch_default_result_path_replaces_input() {
    let def = retry_machine(
        json!([]),
        json!([{"ErrorEquals": ["States.TaskFailed"], "Next": "Recover"}]),
    );
    let run = run(&def, flaky(usize::MAX, "Boom"), json!({"id": 7})).await;
    assert_eq!(ok(&run), json!({"Error": "Boom", "Cause": "try again"}));
}

#[tokio::test]
async fn unmatched_errors_are_not_retried() {
    let def = retry_machine(
        json!([{"ErrorEquals": ["Throttled"], "IntervalSeconds": 1}]),
        json!([{"ErrorEquals": ["Throttled"], "Next": "Recover"}]),
    );
    let invoker = flaky(usize::MAX, "Forbidden");
    let run = run(&def, invoker.clone(), json!({})).await;
    assert_eq!(
        err(&run),
        ExecutionFailure {
            error: "Forbidden".into(),
            cause: "try again".into()
        }
    );
    assert_eq!(invoker.calls().len(), 1);
    assert!(run.clock.sleeps().is_empty());
}

#[tokio::test]
async fn states_all_and_per_retrier_counts() {
    // The first matching retrier is used; each keeps its own count.
    let def = retry_machine(
        json!([
            {"ErrorEquals": ["Throttled"], "IntervalSeconds": 3, "MaxAttempts": 1},
            {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "BackoffRate": 1, "MaxAttempts": 2}
        ]),
        json!([]),
    );
    let errors = Mutex::new(vec!["Throttled", "Other", "Throttled", "Other"].into_iter());
    let invoker = FnInvoker::new(
        move |_, _| match errors.lock().ok().and_then(|mut e| e.next()) {
            Some(name) => Err(fail(name, "x")),
            None => Ok(json!("done")),
        },
    );
    let run = run(&def, invoker.clone(), json!({})).await;
    // Throttled (retry 3s), Other (1s), Throttled (its retrier is exhausted) -> fails.
    assert_eq!(err(&run).error, "Throttled");
    assert_eq!(run.clock.sleeps(), secs(&[3, 1]));

    let def = retry_machine(
        json!([{"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}]),
        json!([]),
    );
    let run = run_with(&def, flaky(1, "Any"), json!({}), 0).await;
    assert_eq!(err(&run).error, "Any");
    assert!(run.clock.sleeps().is_empty());
}

#[tokio::test]
async fn retry_count_is_visible_in_context() {
    let def = json!({
        "StartAt": "Fetch",
        "States": {"Fetch": {
            "Type": "Task",
            "Resource": "fetch",
            "Parameters": {"attempt.$": "$$.State.RetryCount"},
            "Retry": [{"ErrorEquals": ["States.ALL"]}],
            "End": true
        }}
    });
    let invoker = flaky(2, "Flaky");
    ok(&run(&def, invoker.clone(), json!({})).await);
    let attempts: Vec<Value> = invoker
        .calls()
        .into_iter()
        .map(|(_, v)| v["attempt"].clone())
        .collect();
    assert_eq!(attempts, vec![json!(0), json!(1), json!(2)]);
}

// ---------------------------------------------------------------- Map

fn map_machine(extra: Value, processor_states: Value) -> Value {
    let mut map = json!({
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE"},
            "StartAt": "Work",
            "States": processor_states
        },
        "ResultPath": "$.results",
        "End": true
    });
    if let (Value::Object(map), Value::Object(extra)) = (&mut map, extra) {
        map.extend(extra);
    }
    json!({"StartAt": "Each", "States": {"Each": map}})
}

fn work_state() -> Value {
    json!({"Work": {"Type": "Task", "Resource": "work", "End": true}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn map_keeps_item_order_and_applies_item_selector() {
    let def = map_machine(
        json!({"ItemSelector": {
            "value.$": "$$.Map.Item.Value",
            "index.$": "$$.Map.Item.Index",
            "edition.$": "$.edition"
        }}),
        work_state(),
    );
    let invoker = FnInvoker::new(|_, input| {
        Ok(json!(format!(
            "{}#{}@{}",
            input["value"]["name"].as_str().unwrap_or("?"),
            input["index"],
            input["edition"]
        )))
    });
    let items: Vec<Value> = (0..20).map(|i| json!({"name": format!("n{i}")})).collect();
    let run = run(&def, invoker.clone(), json!({"items": items, "edition": 3})).await;
    let expected: Vec<Value> = (0..20).map(|i| json!(format!("n{i}#{i}@3"))).collect();
    assert_eq!(ok(&run)["results"], json!(expected));
    assert_eq!(invoker.calls().len(), 20);
    assert!(run.events.contains(&ExecutionEvent::MapStarted {
        state: "Each".into(),
        items: 20,
        max_concurrency: 0
    }));
    assert!(run.events.contains(&ExecutionEvent::StateEntered {
        state: "Work".into(),
        map_index: Some(19)
    }));
}

#[tokio::test]
async fn map_without_item_selector_and_empty_items() {
    let def = map_machine(json!({}), work_state());
    let run = run(&def, echo(), json!({"items": [1, "two", {"three": 3}]})).await;
    assert_eq!(ok(&run)["results"], json!([1, "two", {"three": 3}]));
    let run = run_with(&def, echo(), json!({"items": []}), 0).await;
    assert_eq!(ok(&run)["results"], json!([]));
    let failure = err(&run_with(&def, echo(), json!({"items": {"not": "array"}}), 0).await);
    assert_eq!(failure.error, "States.Runtime");
    assert!(failure.cause.contains("not an array"), "{}", failure.cause);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn map_max_concurrency_path_reads_the_limit_from_the_input() {
    let def = map_machine(
        json!({"MaxConcurrencyPath": "$.limits.items"}),
        work_state(),
    );
    let probe = Arc::new(ConcurrencyProbe {
        in_flight: AtomicUsize::new(0),
        max: AtomicUsize::new(0),
        barrier: tokio::sync::Barrier::new(3),
    });
    let items: Vec<Value> = (0..12).map(|i| json!(i)).collect();
    let run = run(
        &def,
        probe.clone(),
        json!({"items": items.clone(), "limits": {"items": 3}}),
    )
    .await;
    assert_eq!(ok(&run)["results"], json!(items));
    assert_eq!(probe.max.load(Ordering::SeqCst), 3);
    assert!(run.events.contains(&ExecutionEvent::MapStarted {
        state: "Each".into(),
        items: 12,
        max_concurrency: 3
    }));
    for bad in [
        json!({"items": [1]}),
        json!({"items": [1], "limits": {"items": "3"}}),
    ] {
        let failure = err(&run_with(&def, echo(), bad, 0).await);
        assert_eq!(failure.error, "States.Runtime");
        assert!(
            failure.cause.contains("MaxConcurrencyPath"),
            "{}",
            failure.cause
        );
    }
    let both = map_machine(
        json!({"MaxConcurrency": 2, "MaxConcurrencyPath": "$.n"}),
        work_state(),
    );
    assert!(refusal(&both).contains("cannot be used together"));
}

/// Counts in-flight invocations and holds each on a barrier of `width`, so the maximum observed
/// is exactly the concurrency the runner allows (a lower limit would deadlock, caught by the
/// timeout; a higher one would show up in the maximum).
struct ConcurrencyProbe {
    in_flight: AtomicUsize,
    max: AtomicUsize,
    barrier: tokio::sync::Barrier,
}

#[async_trait::async_trait]
impl TaskInvoker for ConcurrencyProbe {
    async fn invoke(&self, _resource: &str, input: Value) -> Result<Value, TaskFailure> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        self.barrier.wait().await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        Ok(input)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn map_max_concurrency_is_respected_and_reached() {
    for limit in [1usize, 3, 4] {
        let def = map_machine(json!({"MaxConcurrency": limit}), work_state());
        let probe = Arc::new(ConcurrencyProbe {
            in_flight: AtomicUsize::new(0),
            max: AtomicUsize::new(0),
            barrier: tokio::sync::Barrier::new(limit),
        });
        let items: Vec<Value> = (0..limit * 4).map(|i| json!(i)).collect();
        let run = run(&def, probe.clone(), json!({"items": items.clone()})).await;
        assert_eq!(ok(&run)["results"], json!(items));
        assert_eq!(
            probe.max.load(Ordering::SeqCst),
            limit,
            "MaxConcurrency {limit}"
        );
    }
}

#[tokio::test]
async fn map_iteration_failure_caught_inside_processor() {
    let def = map_machine(
        json!({}),
        json!({
            "Work": {
                "Type": "Task",
                "Resource": "work",
                "Catch": [{"ErrorEquals": ["Broken"], "ResultPath": "$.error", "Next": "Skip"}],
                "End": true
            },
            "Skip": {"Type": "Pass", "Parameters": {"skipped.$": "$.id"}, "End": true}
        }),
    );
    let invoker = FnInvoker::new(|_, input| {
        if input["id"] == json!(2) {
            Err(fail("Broken", "bad item"))
        } else {
            Ok(json!({"done": input["id"].clone()}))
        }
    });
    let run = run(
        &def,
        invoker,
        json!({"items": [{"id": 1}, {"id": 2}, {"id": 3}]}),
    )
    .await;
    assert_eq!(
        ok(&run)["results"],
        json!([{"done": 1}, {"skipped": 2}, {"done": 3}])
    );
    assert!(run.events.contains(&ExecutionEvent::CaughtError {
        state: "Work".into(),
        map_index: Some(1),
        error: "Broken".into(),
        next: "Skip".into()
    }));
}

fn failing_items(fail_ids: &'static [u64]) -> Arc<FnInvoker> {
    FnInvoker::new(move |_, input| {
        let id = input.as_u64().unwrap_or(u64::MAX);
        if fail_ids.contains(&id) {
            Err(fail("ItemFailed", &format!("item {id}")))
        } else {
            Ok(json!(id * 10))
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_tolerated_failures_within_and_beyond_threshold() {
    let items = json!({"items": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]});
    let def = map_machine(json!({"ToleratedFailurePercentage": 20}), work_state());
    let run = run(&def, failing_items(&[3, 7]), items.clone()).await;
    assert_eq!(
        ok(&run)["results"],
        json!([0, 10, 20, {"Error": "ItemFailed", "Cause": "item 3"}, 40, 50, 60,
               {"Error": "ItemFailed", "Cause": "item 7"}, 80, 90])
    );
    let failure = err(&run_with(&def, failing_items(&[1, 3, 7]), items.clone(), 0).await);
    assert_eq!(failure.error, "States.ExceedToleratedFailureThreshold");

    let def = map_machine(json!({"ToleratedFailureCount": 1}), work_state());
    ok(&run_with(&def, failing_items(&[5]), items.clone(), 0).await);
    let failure = err(&run_with(&def, failing_items(&[5, 6]), items.clone(), 0).await);
    assert_eq!(failure.error, "States.ExceedToleratedFailureThreshold");
    assert!(failure.cause.contains("\"Each\""), "{}", failure.cause);
}

#[tokio::test]
async fn map_failure_without_tolerance_fails_the_map_and_starts_nothing_new() {
    let def = map_machine(json!({"MaxConcurrency": 1}), work_state());
    let invoker = failing_items(&[1]);
    let run = run(&def, invoker.clone(), json!({"items": [0, 1, 2, 3, 4]})).await;
    assert_eq!(
        err(&run),
        ExecutionFailure {
            error: "ItemFailed".into(),
            cause: "item 1".into()
        }
    );
    assert_eq!(invoker.calls().len(), 2);

    // The Map state's own Catch handles the iteration's error as a whole.
    let def = map_machine(
        json!({"Catch": [{"ErrorEquals": ["ItemFailed"], "ResultPath": "$.failure", "Next": "After"}]}),
        work_state(),
    );
    let mut def = def;
    def["States"]["After"] = json!({"Type": "Pass", "End": true});
    let run = run_with(&def, failing_items(&[2]), json!({"items": [0, 1, 2]}), 0).await;
    assert_eq!(
        ok(&run),
        json!({"items": [0, 1, 2], "failure": {"Error": "ItemFailed", "Cause": "item 2"}})
    );
}

#[tokio::test]
async fn map_state_retry_reruns_all_iterations() {
    let def = map_machine(
        json!({"Retry": [{"ErrorEquals": ["ItemFailed"], "IntervalSeconds": 5}],
               "ResultSelector": {"count.$": "States.ArrayLength($)"}}),
        work_state(),
    );
    let calls = AtomicUsize::new(0);
    let invoker = FnInvoker::new(move |_, input| {
        // The very first call fails; everything after succeeds.
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            Err(fail("ItemFailed", "first"))
        } else {
            Ok(input)
        }
    });
    let def_items = json!({"items": [1]});
    let run = run(&def, invoker.clone(), def_items).await;
    assert_eq!(ok(&run)["results"], json!({"count": 1}));
    assert_eq!(run.clock.sleeps(), secs(&[5]));
    assert_eq!(invoker.calls().len(), 2);
}

#[tokio::test]
async fn nested_maps_and_legacy_fields() {
    let def = json!({
        "StartAt": "Outer",
        "States": {
            "Outer": {
                "Type": "Map",
                "ItemsPath": "$.groups",
                "Parameters": {"group.$": "$$.Map.Item.Value", "gi.$": "$$.Map.Item.Index"},
                "Iterator": {
                    "StartAt": "Inner",
                    "States": {
                        "Inner": {
                            "Type": "Map",
                            "ItemsPath": "$.group",
                            "ItemSelector": {"v.$": "$$.Map.Item.Value", "gi.$": "$.gi"},
                            "ItemProcessor": {
                                "StartAt": "Leaf",
                                "States": {"Leaf": {"Type": "Task", "Resource": "leaf", "End": true}}
                            },
                            "End": true
                        }
                    }
                },
                "End": true
            }
        }
    });
    let invoker = FnInvoker::new(|_, input| Ok(json!(format!("{}:{}", input["gi"], input["v"]))));
    let run = run(&def, invoker, json!({"groups": [[1, 2], [3]]})).await;
    assert_eq!(ok(&run), json!([["0:1", "0:2"], ["1:3"]]));
    let m = machine(&def);
    assert_eq!(m.task_resources(), vec!["leaf".to_string()]);
}

// ---------------------------------------------------------------- limits and resources

#[tokio::test]
async fn endless_loops_hit_the_transition_limit() {
    let def = json!({
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Pass", "Next": "A"}
        }
    });
    let result = execute_with_limit(
        machine(&def),
        echo(),
        clock(),
        json!({}),
        RunOptions::default(),
        50,
    )
    .await;
    match result {
        Err(failure) => {
            assert_eq!(failure.error, "States.Runtime");
            assert!(failure.cause.contains("exceeded 50"), "{}", failure.cause);
        }
        Ok(v) => panic!("loop finished with {v}"),
    }
}

#[test]
fn task_resources_are_deduplicated_and_sorted() {
    let def = json!({
        "StartAt": "B",
        "States": {
            "B": {"Type": "Task", "Resource": "fetch", "Next": "M"},
            "M": {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "X", "States": {
                    "X": {"Type": "Task", "Resource": "score", "Next": "Y"},
                    "Y": {"Type": "Task", "Resource": "fetch", "End": true}
                }},
                "Next": "A"
            },
            "A": {"Type": "Task", "Resource": "assemble", "End": true}
        }
    });
    assert_eq!(
        machine(&def).task_resources(),
        vec![
            "assemble".to_string(),
            "fetch".to_string(),
            "score".to_string()
        ]
    );
}

// ---------------------------------------------------------------- refusals

fn one_state(state: Value) -> Value {
    json!({"StartAt": "S", "States": {"S": state}})
}

#[test]
fn refuses_unsupported_state_types() {
    for kind in ["Parallel", "Wait"] {
        let message = refusal(&one_state(json!({"Type": kind, "End": true})));
        assert!(message.contains("state \"S\""), "{message}");
        assert!(message.contains("field \"Type\""), "{message}");
        assert!(message.contains(kind), "{message}");
        assert!(message.contains("not supported"), "{message}");
    }
}

#[test]
fn refuses_distributed_map() {
    let def = json!({"StartAt": "M", "States": {"M": {
        "Type": "Map",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "X",
            "States": {"X": {"Type": "Succeed"}}
        },
        "End": true
    }}});
    let message = refusal(&def);
    assert!(message.contains("state \"M\""), "{message}");
    assert!(
        message.contains("field \"ItemProcessor.ProcessorConfig.Mode\""),
        "{message}"
    );
    assert!(message.contains("DISTRIBUTED"), "{message}");
    assert!(message.contains("INLINE"), "{message}");
}

#[test]
fn refuses_unknown_and_unsupported_fields() {
    let message = refusal(
        &json!({"StartAt": "FetchSource", "States": {"FetchSource": {
            "Type": "Task", "Resource": "fetch", "HeartbeatSeconds": 30, "End": true
        }}}),
    );
    assert!(
        message.starts_with(
            "state \"FetchSource\": field \"HeartbeatSeconds\" is not supported by the local runner"
        ),
        "{message}"
    );
    assert!(message.contains("supported: Type, Comment"), "{message}");

    let cases = [
        (
            json!({"Type": "Task", "Resource": "r", "TimeoutSeconds": 5, "End": true}),
            "TimeoutSeconds",
        ),
        (
            json!({"Type": "Task", "Resource": "r", "Credentials": {}, "End": true}),
            "Credentials",
        ),
        (json!({"Type": "Pass", "Bogus": 1, "End": true}), "Bogus"),
        (
            json!({"Type": "Map", "ItemReader": {}, "ItemProcessor": {"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}, "End": true}),
            "ItemReader",
        ),
        (
            json!({"Type": "Task", "Resource": "r", "Retry": [{"ErrorEquals": ["A"], "Jitter": 1}], "End": true}),
            "Retry[0].Jitter",
        ),
    ];
    for (state, field) in cases {
        let message = refusal(&one_state(state));
        assert!(message.contains("state \"S\""), "{message}");
        assert!(message.contains(&format!("field \"{field}\"")), "{message}");
    }
    let message = refusal(
        &json!({"StartAt": "S", "TimeoutSeconds": 60, "States": {"S": {"Type": "Succeed"}}}),
    );
    assert!(message.contains("field \"TimeoutSeconds\""), "{message}");
}

#[test]
fn refuses_missing_targets() {
    let message = refusal(&json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "Nowhere"}
    }}));
    assert!(message.contains("state \"A\""), "{message}");
    assert!(message.contains("field \"Next\""), "{message}");
    assert!(message.contains("\"Nowhere\""), "{message}");

    let message = refusal(&json!({"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "r", "End": true,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Gone"}]}
    }}));
    assert!(message.contains("field \"Catch[0].Next\""), "{message}");

    let message = refusal(&json!({"StartAt": "Missing", "States": {"A": {"Type": "Succeed"}}}));
    assert!(message.contains("field \"StartAt\""), "{message}");

    let message = refusal(&json!({"States": {"A": {"Type": "Succeed"}}}));
    assert!(
        message.contains("field \"StartAt\" is missing"),
        "{message}"
    );

    // Unreachable states are fine.
    machine(&json!({"StartAt": "A", "States": {
        "A": {"Type": "Succeed"}, "Orphan": {"Type": "Pass", "End": true}
    }}));
}

#[test]
fn refuses_jsonata() {
    let message = refusal(
        &json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {"Type": "Succeed"}}}),
    );
    assert!(message.contains("field \"QueryLanguage\""), "{message}");
    assert!(message.contains("JSONata"), "{message}");

    let message = refusal(&one_state(
        json!({"Type": "Pass", "QueryLanguage": "JSONata", "End": true}),
    ));
    assert!(
        message.contains("state \"S\": field \"QueryLanguage\""),
        "{message}"
    );

    let message = refusal(&one_state(
        json!({"Type": "Task", "Resource": "r", "Arguments": {"a": "{% $x %}"}, "End": true}),
    ));
    assert!(
        message.contains("state \"S\": field \"Arguments\""),
        "{message}"
    );
    assert!(message.contains("JSONata"), "{message}");

    // Explicit JSONPath is the default and accepted.
    machine(
        &json!({"QueryLanguage": "JSONPath", "StartAt": "S", "States": {"S": {"Type": "Succeed"}}}),
    );
}

#[test]
fn refuses_bad_paths_templates_and_retry_lists() {
    let message = refusal(&one_state(
        json!({"Type": "Pass", "Parameters": {"h.$": "States.UUID()"}, "End": true}),
    ));
    assert!(message.contains("field \"Parameters.h.$\""), "{message}");
    assert!(message.contains("States.UUID"), "{message}");

    let message = refusal(&one_state(
        json!({"Type": "Pass", "InputPath": "$.a[*]", "End": true}),
    ));
    assert!(message.contains("field \"InputPath\""), "{message}");

    let message = refusal(&one_state(
        json!({"Type": "Pass", "ResultPath": "$.a[0]", "End": true}),
    ));
    assert!(message.contains("field \"ResultPath\""), "{message}");

    let message = refusal(&one_state(
        json!({"Type": "Task", "Resource": "r", "End": true, "Retry": [
            {"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["A"]}
        ]}),
    ));
    assert!(message.contains("Retry[0].ErrorEquals"), "{message}");

    let message = refusal(&one_state(
        json!({"Type": "Task", "Resource": "r", "End": true, "Retry": [
            {"ErrorEquals": ["A"], "BackoffRate": 0.5}
        ]}),
    ));
    assert!(message.contains("Retry[0].BackoffRate"), "{message}");

    let message = refusal(&one_state(json!({"Type": "Choice", "Choices": [
        {"Variable": "$.a", "StringContains": "x", "Next": "S"}
    ]})));
    assert!(message.contains("Choices[0].StringContains"), "{message}");

    let message = refusal(&one_state(json!({"Type": "Task", "Resource": "r"})));
    assert!(message.contains("\"Next\" is missing"), "{message}");

    let message = refusal(&json!({"StartAt": "M", "States": {"M": {
        "Type": "Map",
        "ItemProcessor": {"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "Y"}}},
        "End": true
    }}}));
    assert!(message.contains("state \"X\": field \"Next\""), "{message}");

    assert!(matches!(
        StateMachine::from_json("{not json"),
        Err(AslError::Json(_))
    ));
}

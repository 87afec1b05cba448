//! The Amazon States Language interpreter: definitions parsed and validated from arbitrary
//! text, and — since paths are only reachable through execution — JSONPath / reference path /
//! intrinsic-function handling exercised by running a small machine whose paths come from the
//! input (Pass, Choice and Task states, InputPath, Parameters, ResultSelector, ResultPath,
//! OutputPath, `$$` context), and any definition that loads run on a fixed input.
//!
//! Input: either a whole definition (first byte even), or (first byte odd) lines giving
//! InputPath, a Parameters/ResultSelector value (`x.$`), ResultPath, OutputPath, a Choice
//! Variable and the execution input as JSON.
#![no_main]

use std::sync::Arc;

use chrono::TimeZone;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use vectora_inbox::asl::{self, RunOptions, StateMachine, TaskFailure, TaskInvoker};
use vectora_inbox::ports::VirtualClock;

/// Returns its input: every Task resource.
struct Echo;

#[async_trait::async_trait]
impl TaskInvoker for Echo {
    async fn invoke(&self, resource: &str, input: Value) -> Result<Value, TaskFailure> {
        if resource == "fail" {
            return Err(TaskFailure {
                error: "Boom".into(),
                cause: "fuzz".into(),
            });
        }
        Ok(input)
    }
}

/// `ASL_FUZZ_DEBUG=1`: say why a templated definition was refused (to check seeds reach the
/// executor).
fn debug() -> bool {
    static DEBUG: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *DEBUG.get_or_init(|| std::env::var_os("ASL_FUZZ_DEBUG").is_some())
}

/// Enough for any small machine, small enough that loops end fast.
const MAX_TRANSITIONS: usize = 64;

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
}

fn run(machine: StateMachine, input: Value) {
    let clock = Arc::new(VirtualClock::new(
        chrono::Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap(),
    ));
    RUNTIME.with(|rt| {
        let _ = rt.block_on(asl::execute_with_limit(
            Arc::new(machine),
            Arc::new(Echo),
            clock,
            input,
            RunOptions::default(),
            MAX_TRANSITIONS,
        ));
    });
}

fn templated(text: &str) -> (String, Value) {
    let mut lines = text.splitn(6, '\n');
    let mut next = |default: &str| lines.next().unwrap_or(default).to_string();
    let input_path = next("$");
    let parameter = next("$.a");
    let result_path = next("$.r");
    let output_path = next("$");
    let variable = next("$.a");
    let input = serde_json::from_str(&next("")).unwrap_or_else(|_| {
        json!({"a": [1, "two", {"b": null}], "c": {"d.e": true, "f": 1.5e300}, "s": "2026-11-23T08:00:00Z"})
    });
    let definition = json!({
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Pass",
                "InputPath": input_path,
                "Parameters": {"x.$": parameter, "n.$": "$$.Execution.Name", "k": [1]},
                "ResultPath": result_path,
                "OutputPath": output_path,
                "Next": "C"
            },
            "C": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": variable, "IsPresent": true, "Next": "T"},
                    {"Variable": variable, "StringMatches": "*a*", "Next": "F"}
                ],
                "Default": "T"
            },
            "F": {
                "Type": "Task",
                "Resource": "fail",
                "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 2, "IntervalSeconds": 1}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": result_path, "Next": "T"}],
                "End": true
            },
            "T": {
                "Type": "Task",
                "Resource": "echo",
                "InputPath": input_path,
                "Parameters": {"y.$": parameter},
                "ResultSelector": {"z.$": parameter},
                "ResultPath": result_path,
                "OutputPath": output_path,
                "End": true
            }
        }
    });
    (definition.to_string(), input)
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(bytes);
    if selector & 1 == 0 {
        if let Ok(machine) = StateMachine::from_json(&text) {
            let _ = machine.task_resources();
            run(machine, json!({"client_id": "fuzz", "items": [1, 2, 3]}));
        }
    } else {
        let (definition, input) = templated(&text);
        match StateMachine::from_json(&definition) {
            Ok(machine) => run(machine, input),
            Err(e) if debug() => eprintln!("templated definition refused: {e}"),
            Err(_) => {}
        }
    }
});

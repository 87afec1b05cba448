//! Operating a deployed state machine: start a client's run with the input its schedule
//! sends, list recent runs, redrive a failed one (`vectora aws start|status|redrive`).
//!
//! The execution name derives from client and run date, so a second start of the same run is
//! refused by Step Functions instead of running the newsletter twice.

use aws_sdk_sfn::Client;
use chrono::NaiveDate;
use serde::Serialize;

use crate::aws::Failure;
use crate::error::{Error, Result};

/// The execution name of a client's run: `{client_id}-{run_date}` (Step Functions names allow
/// letters, digits, `-` and `_`, up to 80 characters; client ids are `[a-z0-9_]`).
pub fn execution_name(client_id: &str, run_date: NaiveDate) -> String {
    format!("{client_id}-{run_date}")
}

/// The execution input: what the client's schedule sends, plus the run date so a start for a
/// past date (a re-run) computes the same window as that day's schedule did.
pub fn execution_input(
    client_id: &str,
    period_days: Option<u32>,
    run_date: NaiveDate,
) -> serde_json::Value {
    let mut input = serde_json::Map::new();
    input.insert("client_id".into(), client_id.into());
    if let Some(days) = period_days {
        input.insert("period_days".into(), days.into());
    }
    input.insert("run_date".into(), run_date.to_string().into());
    serde_json::Value::Object(input)
}

/// What `start` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Started {
    pub execution_arn: String,
    pub name: String,
    /// False when this run had already been started: its existing execution is reported.
    pub new: bool,
}

/// One execution, as `status` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Execution {
    pub name: String,
    pub execution_arn: String,
    pub status: String,
    pub start_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive_count: Option<i32>,
}

fn sdk_error<E>(
    call: &str,
    target: &str,
    e: aws_sdk_sfn::error::SdkError<E, aws_sdk_sfn::config::http::HttpResponse>,
) -> Error
where
    E: aws_sdk_sfn::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let failure = Failure::of(&e);
    let hint = match failure.code.as_deref() {
        Some("StateMachineDoesNotExist") => {
            "check --state-machine-arn (or VECTORA_STATE_MACHINE_ARN): the stack's output StateMachineArn"
        }
        Some("ExecutionDoesNotExist") => "check the execution ARN (vectora aws status lists them)",
        Some("ExecutionNotRedrivable") => {
            "only a FAILED, TIMED_OUT or ABORTED execution that ended less than 14 days ago can be redriven"
        }
        Some("ExecutionLimitExceeded") => "too many running executions: wait, then start again",
        _ => "",
    };
    failure.into_error(&format!("Step Functions {call} {target}"), hint)
}

fn time(t: &aws_sdk_sfn::primitives::DateTime) -> String {
    chrono::DateTime::from_timestamp_millis(t.to_millis().unwrap_or(0))
        .map(|d| d.to_rfc3339())
        .unwrap_or_default()
}

/// Starts `name` with `input`; when an execution of that name already exists, reports it
/// instead (Step Functions refuses a same-name start with a different input, and returns the
/// existing execution for an identical one).
pub async fn start(
    client: &Client,
    state_machine_arn: &str,
    name: &str,
    input: &serde_json::Value,
) -> Result<Started> {
    let result = client
        .start_execution()
        .state_machine_arn(state_machine_arn)
        .name(name)
        .input(input.to_string())
        .send()
        .await;
    match result {
        Ok(out) => Ok(Started {
            execution_arn: out.execution_arn().to_string(),
            name: name.to_string(),
            new: true,
        }),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_execution_already_exists()) =>
        {
            Ok(Started {
                execution_arn: execution_arn(state_machine_arn, name)?,
                name: name.to_string(),
                new: false,
            })
        }
        Err(e) => Err(sdk_error("StartExecution", state_machine_arn, e)),
    }
}

/// `arn:aws:states:r:a:stateMachine:m` + name → `arn:aws:states:r:a:execution:m:name`.
pub fn execution_arn(state_machine_arn: &str, name: &str) -> Result<String> {
    let parts: Vec<&str> = state_machine_arn.split(':').collect();
    if parts.len() != 7 || parts[2] != "states" || parts[5] != "stateMachine" {
        return Err(Error::config(
            "--state-machine-arn",
            "-",
            format!(
                "{state_machine_arn:?} is not a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)"
            ),
        ));
    }
    Ok(format!(
        "{}:execution:{}:{name}",
        parts[..5].join(":"),
        parts[6]
    ))
}

/// The most recent executions (newest first), at most `limit`.
pub async fn status(
    client: &Client,
    state_machine_arn: &str,
    limit: i32,
) -> Result<Vec<Execution>> {
    let out = client
        .list_executions()
        .state_machine_arn(state_machine_arn)
        .max_results(limit)
        .send()
        .await
        .map_err(|e| sdk_error("ListExecutions", state_machine_arn, e))?;
    Ok(out
        .executions()
        .iter()
        .map(|e| Execution {
            name: e.name().to_string(),
            execution_arn: e.execution_arn().to_string(),
            status: e.status().as_str().to_string(),
            start_date: time(e.start_date()),
            stop_date: e.stop_date().map(time),
            redrive_count: e.redrive_count(),
        })
        .collect())
}

/// What one execution is doing, and why it failed if it did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Described {
    pub execution_arn: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<serde_json::Value>,
}

pub async fn describe(client: &Client, execution_arn: &str) -> Result<Described> {
    let out = client
        .describe_execution()
        .execution_arn(execution_arn)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeExecution", execution_arn, e))?;
    Ok(Described {
        execution_arn: execution_arn.to_string(),
        status: out.status().as_str().to_string(),
        error: out.error().map(str::to_string),
        cause: out.cause().map(str::to_string),
        output: out.output().and_then(|o| serde_json::from_str(o).ok()),
    })
}

/// Redrives a failed execution from the states that failed; returns when it restarted.
pub async fn redrive(client: &Client, execution_arn: &str) -> Result<String> {
    let out = client
        .redrive_execution()
        .execution_arn(execution_arn)
        .send()
        .await
        .map_err(|e| sdk_error("RedriveExecution", execution_arn, e))?;
    Ok(time(out.redrive_date()))
}

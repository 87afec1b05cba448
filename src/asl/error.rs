//! Errors of the ASL runner: `AslError` for a definition the local runner refuses (bad JSON,
//! invalid ASL, or ASL it does not implement), and `ExecutionFailure` for an execution that ended
//! in failure. Also the reserved `States.*` error names the runner raises or matches on.

/// A definition that cannot be run locally. Every variant names where the problem is, so a refusal
/// can be fixed without guessing (`state "Fetch": field "HeartbeatSeconds" is not supported ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AslError {
    #[error("state machine definition is not valid JSON: {0}")]
    Json(String),
    /// A problem in a top-level field of the state machine.
    #[error("state machine: field \"{field}\" {problem}")]
    Machine { field: String, problem: String },
    /// A problem in one state; `field` is a dotted path inside the state (`Retry[0].BackoffRate`).
    #[error("state \"{state}\": field \"{field}\" {problem}")]
    State {
        state: String,
        field: String,
        problem: String,
    },
}

/// How an execution failed: the error name and cause of the last unhandled error, as AWS reports
/// them for a failed execution.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct ExecutionFailure {
    pub error: String,
    pub cause: String,
}

/// Reserved error names, spelled once.
pub mod names {
    /// Wildcard matching every error except `States.Runtime` (AWS never lets it be handled).
    pub const ALL: &str = "States.ALL";
    /// Wildcard matching every error except `States.Timeout` (and `States.Runtime`).
    pub const TASK_FAILED: &str = "States.TaskFailed";
    pub const TIMEOUT: &str = "States.Timeout";
    /// Raised by the runner for bad paths, bad ResultPath targets and similar; never retried or
    /// caught, as on AWS.
    pub const RUNTIME: &str = "States.Runtime";
    pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
    pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
}

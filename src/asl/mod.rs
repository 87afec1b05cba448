//! A local interpreter for the Amazon States Language (JSONPath flavour), so the pipeline defined
//! in `statemachine/newsletter.asl.json` runs in-process with the same semantics Step Functions
//! gives it on AWS: Task states call an in-process [`TaskInvoker`], Retry waits go through the
//! [`Clock`](crate::ports::clock::Clock) port, and Map iterations run as parallel tokio tasks.
//!
//! Supported: Task, Map (INLINE), Pass, Choice, Succeed and Fail states; InputPath, Parameters /
//! ItemSelector, ResultSelector, ResultPath, OutputPath; Retry (with backoff, MaxDelaySeconds and
//! jitter) and Catch; the `$$` context object; States.Format, States.StringToJson,
//! States.JsonToString, States.ArrayLength and States.Array. Anything else (Parallel, Wait,
//! JSONata, timeouts, distributed maps, other intrinsics...) is refused when the definition loads,
//! with an error naming the state and the field, rather than run with different semantics.

mod definition;
mod error;
mod path;
mod runner;

#[cfg(test)]
mod tests;

pub use definition::StateMachine;
pub use error::{AslError, ExecutionFailure, names};
pub use runner::{
    DEFAULT_MAX_TRANSITIONS, EventLog, ExecutionEvent, ExecutionObserver, RunOptions, TaskFailure,
    TaskInvoker, execute, execute_with_limit,
};

//! The local runner: executes `statemachine/newsletter.asl.json` in-process, each `Task` calling
//! the step it names through [`steps::dispatch`] — the same handlers the Lambdas run.

use std::sync::Arc;

use async_trait::async_trait;

use crate::asl::{
    self, ExecutionFailure, ExecutionObserver, RunOptions, StateMachine, TaskFailure, TaskInvoker,
};
use crate::error::{Error, Result};
use crate::ports::Ports;
use crate::{journal, steps};

/// The state machine definition, compiled into the binary so `vectora run` works anywhere.
pub const DEFINITION: &str = include_str!("../statemachine/newsletter.asl.json");

/// The step a Task `Resource` names: `${GenerateSectionFunctionArn}` (the SAM substitution used
/// in the definition) → `generate-section`; a bare step name is accepted too.
pub fn step_for_resource(resource: &str) -> Option<&'static str> {
    let name = resource
        .strip_prefix("${")
        .and_then(|r| r.strip_suffix("FunctionArn}"))
        .map(camel_to_kebab)
        .unwrap_or_else(|| resource.to_string());
    steps::STEP_NAMES.iter().copied().find(|s| *s == name)
}

fn camel_to_kebab(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Parses the definition and checks every Task names a known step.
pub fn load_definition(text: &str) -> Result<StateMachine> {
    let machine = StateMachine::from_json(text)
        .map_err(|e| Error::config("statemachine/newsletter.asl.json", "-", e.to_string()))?;
    for resource in machine.task_resources() {
        if step_for_resource(&resource).is_none() {
            return Err(Error::config(
                "statemachine/newsletter.asl.json",
                "-",
                format!(
                    "Task resource {resource:?} names no step: expected ${{<Step>FunctionArn}} for one of {}",
                    steps::STEP_NAMES.join(", ")
                ),
            ));
        }
    }
    Ok(machine)
}

/// In-process Task handlers.
pub struct StepHandlers {
    ports: Ports,
    /// Skip steps whose journal shows the same input already succeeded (`--resume`).
    resume: bool,
}

impl StepHandlers {
    pub fn new(ports: Ports, resume: bool) -> Self {
        StepHandlers { ports, resume }
    }
}

#[async_trait]
impl TaskInvoker for StepHandlers {
    async fn invoke(
        &self,
        resource: &str,
        input: serde_json::Value,
    ) -> Result<serde_json::Value, TaskFailure> {
        let step = step_for_resource(resource).ok_or_else(|| TaskFailure {
            error: "States.Runtime".into(),
            cause: format!("unknown Task resource {resource:?}"),
        })?;
        journal::run_step(step, &self.ports, input, self.resume)
            .await
            .map_err(|e| TaskFailure {
                error: e.kind().name().to_string(),
                cause: e.to_string(),
            })
    }
}

/// Runs the state machine for one execution input, as Step Functions would.
pub async fn execute(
    definition: &str,
    ports: Ports,
    input: serde_json::Value,
    execution_name: &str,
    observer: Option<Arc<dyn ExecutionObserver>>,
) -> Result<std::result::Result<serde_json::Value, ExecutionFailure>> {
    execute_with(definition, ports, input, execution_name, observer, false).await
}

/// [`execute`], optionally resuming: steps already done with the same input are not run again.
pub async fn execute_with(
    definition: &str,
    ports: Ports,
    input: serde_json::Value,
    execution_name: &str,
    observer: Option<Arc<dyn ExecutionObserver>>,
    resume: bool,
) -> Result<std::result::Result<serde_json::Value, ExecutionFailure>> {
    let machine = Arc::new(load_definition(definition)?);
    let clock = ports.clock.clone();
    let invoker: Arc<dyn TaskInvoker> = Arc::new(StepHandlers::new(ports, resume));
    // The jitter seed derives from the execution name: reruns back off identically.
    let seed = execution_name
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
    let options = RunOptions {
        execution_name: execution_name.to_string(),
        jitter_seed: seed,
        observer,
    };
    Ok(asl::execute(machine, invoker, clock, input, options).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_map_to_steps() {
        assert_eq!(step_for_resource("${PlanFunctionArn}"), Some("plan"));
        assert_eq!(
            step_for_resource("${GenerateSectionFunctionArn}"),
            Some("generate-section")
        );
        assert_eq!(step_for_resource("match"), Some("match"));
        assert_eq!(step_for_resource("${NopeFunctionArn}"), None);
    }

    #[test]
    fn the_shipped_definition_loads_and_names_only_known_steps() {
        let machine = load_definition(DEFINITION).unwrap();
        let mut steps: Vec<&str> = machine
            .task_resources()
            .iter()
            .filter_map(|r| step_for_resource(r))
            .collect();
        steps.sort();
        steps.dedup();
        let mut all = crate::steps::STEP_NAMES.to_vec();
        all.sort();
        assert_eq!(steps, all);
    }
}

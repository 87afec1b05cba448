//! Running an external program (`sam deploy`): a port so that `promote` is tested by the
//! command line it would run, without SAM installed.

use async_trait::async_trait;

use crate::error::{Error, Result};

#[async_trait]
pub trait CommandRunner: Send + Sync {
    /// Runs `program args…` with the terminal's stdin/stdout/stderr; its exit code.
    async fn run(&self, program: &str, args: &[String]) -> Result<i32>;
}

/// The real one: a child process, inheriting the terminal.
pub struct ProcessRunner;

#[async_trait]
impl CommandRunner for ProcessRunner {
    async fn run(&self, program: &str, args: &[String]) -> Result<i32> {
        let (name, argv) = (program.to_string(), args.to_vec());
        // Blocking wait on a worker thread: the runtime's other tasks keep going.
        let status = tokio::task::spawn_blocking(move || {
            std::process::Command::new(&name).args(&argv).status()
        })
        .await
        .map_err(|e| Error::Internal(format!("waiting for {program}: {e}")))?
        .map_err(|e| {
            Error::Internal(format!(
                "could not run {program}: {e} (is it installed and on PATH?)"
            ))
        })?;
        Ok(status.code().unwrap_or(-1))
    }
}

//! The Lambda adapter: builds [`Ports`] from the function's environment and serves one step,
//! mapping every error to a `Diagnostic` whose `error_type` is the stable name the state
//! machine's `Retry`/`Catch` match.
//!
//! Environment: `VECTORA_CONFIG_STORE`, `VECTORA_DATA_STORE`, `VECTORA_NEWSLETTER_STORE` (where
//! each area lives), `VECTORA_METRICS_NAMESPACE` (default `VectoraInbox`), `VECTORA_EDITOR`
//! (`bedrock`, the default, or `template`), `VECTORA_BEDROCK_MODEL_ID` (overrides the client's).

use std::sync::Arc;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};

use crate::editorial::TemplateEditor;
use crate::error::Error;
use crate::ports::metrics::EmfMetrics;
use crate::ports::{Ports, Stores, SystemClock};
use crate::sources::{HttpFetcher, HttpLimits};
use crate::store::LocalDirStore;

/// A library error on its way out of a Lambda.
#[derive(Debug)]
pub struct StepFailure(pub Error);

impl From<StepFailure> for Diagnostic {
    fn from(failure: StepFailure) -> Diagnostic {
        Diagnostic {
            error_type: failure.0.kind().name().to_string(),
            error_message: failure.0.to_string(),
        }
    }
}

fn store_from_env(var: &str) -> Result<Arc<dyn crate::ports::ObjectStore>, Error> {
    let spec = std::env::var(var).map_err(|_| {
        Error::config(
            var,
            "-",
            format!("environment variable {var} is not set: set it to the store of this area"),
        )
    })?;
    if spec.starts_with("s3://") {
        return Err(Error::config(
            var,
            "-",
            format!("{spec:?}: S3 stores are not available in this build"),
        ));
    }
    Ok(Arc::new(LocalDirStore::new(spec)))
}

/// The ports a deployed function uses: HTTP(S) only (no `file://`), the template editor,
/// metrics as Embedded Metric Format lines on stdout.
pub async fn ports_from_env(step: &str) -> Result<Ports, Error> {
    let clock = Arc::new(SystemClock);
    let data = store_from_env("VECTORA_DATA_STORE")?;
    let editor: Arc<dyn crate::ports::Editor> = match std::env::var("VECTORA_EDITOR").as_deref() {
        // Only generate-section writes; the other functions never build a Bedrock client.
        _ if step != "generate-section" => Arc::new(TemplateEditor),
        Ok("template") => Arc::new(TemplateEditor),
        Ok("bedrock") | Err(_) => {
            // Lambda always sets AWS_REGION; the fallback only matters elsewhere.
            let client = crate::editorial::bedrock::client_from_env("eu-west-3").await;
            Arc::new(crate::editorial::BedrockEditor::new(client, data.clone()))
        }
        Ok(other) => {
            return Err(Error::config(
                "VECTORA_EDITOR",
                "-",
                format!("{other:?} is not an editor: expected bedrock or template"),
            ));
        }
    };
    let namespace =
        std::env::var("VECTORA_METRICS_NAMESPACE").unwrap_or_else(|_| "VectoraInbox".into());
    Ok(Ports {
        stores: Stores {
            config: store_from_env("VECTORA_CONFIG_STORE")?,
            data,
            newsletters: store_from_env("VECTORA_NEWSLETTER_STORE")?,
        },
        fetcher: Arc::new(HttpFetcher::new(HttpLimits::default())?),
        editor,
        metrics: Arc::new(EmfMetrics::new(namespace, std::io::stdout(), clock.clone())),
        secrets: secrets().await,
        clock,
    })
}

/// The NCBI key from SSM when `NCBI_API_KEY_SSM_PARAMETER` names its parameter, else from the
/// environment.
async fn secrets() -> Arc<dyn crate::ports::Secrets> {
    match std::env::var("NCBI_API_KEY_SSM_PARAMETER") {
        Ok(parameter) if !parameter.trim().is_empty() => {
            let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            let parameters = [(crate::ports::secrets::NCBI_API_KEY.to_string(), parameter)].into();
            Arc::new(crate::sources::SsmSecrets::new(
                aws_sdk_ssm::Client::new(&shared),
                parameters,
            ))
        }
        _ => Arc::new(crate::ports::secrets::EnvSecrets),
    }
}

/// Serves `step` until the Lambda runtime stops the process.
pub async fn serve(step: &'static str) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let ports = ports_from_env(step)
        .await
        .map_err(|e| lambda_runtime::Error::from(e.to_string()))?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let ports = ports.clone();
        // Journaled like a local run, so the run's step records exist on AWS too.
        async move {
            crate::journal::run_step(step, &ports, event.payload, false)
                .await
                .map_err(StepFailure)
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_carry_the_state_machine_error_names() {
        let d: Diagnostic = StepFailure(Error::Throttled("slow down".into())).into();
        assert_eq!(d.error_type, "Throttled");
        let d: Diagnostic = StepFailure(Error::config("clients/x.yaml", "name", "bad")).into();
        assert_eq!(d.error_type, "InvalidInput");
        assert_eq!(d.error_message, "clients/x.yaml: name: bad");
    }
}

//! The Lambda adapter: builds [`Ports`] from the function's environment and serves one step,
//! mapping every error to a `Diagnostic` whose `error_type` is the stable name the state
//! machine's `Retry`/`Catch` match.
//!
//! Environment (each function gets only what it uses; README "Lambda environment"):
//! `VECTORA_CONFIG_STORE`, `VECTORA_DATA_STORE`, `VECTORA_NEWSLETTER_STORE` (a directory or
//! `s3://bucket[/prefix]` per area), `VECTORA_METRICS_NAMESPACE` (assemble; default
//! `VectoraInbox`), `VECTORA_EDITOR` (generate-section: `bedrock`, the default, or `template`),
//! `VECTORA_BEDROCK_MODEL_ID` (overrides the client's), `NCBI_API_KEY_SSM_PARAMETER` (fetch),
//! `VECTORA_SOURCES_CONCURRENCY` / `VECTORA_SECTIONS_CONCURRENCY` (plan: the Map concurrency of
//! this deployment, default 4 and 2), `VECTORA_OFFLINE=1` (fetch replays recorded captures:
//! local emulation and conformance).

use std::sync::Arc;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};

use crate::aws::cloudwatch::CloudWatchMetrics;
use crate::editorial::TemplateEditor;
use crate::error::Error;
use crate::ports::fetcher::{FetchRequest, FetchResponse};
use crate::ports::metrics::MemoryMetrics;
use crate::ports::{Fetcher, ObjectStore, Ports, Stores, SystemClock};
use crate::sources::{CaptureFetcher, HttpFetcher, HttpLimits};
use crate::steps::Step;
use crate::store::{Opener, UnsetStore};

pub use crate::aws::cloudwatch::DEFAULT_NAMESPACE as DEFAULT_METRICS_NAMESPACE;

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

/// The store of one area, from its variable: a directory or `s3://bucket[/prefix]`. A function
/// deployed without an area (least privilege: only assemble writes newsletters) gets a store
/// that refuses every call and names the variable to set.
async fn store_from_env(
    opener: &mut Opener,
    var: &'static str,
) -> Result<Arc<dyn ObjectStore>, Error> {
    match std::env::var(var) {
        Ok(spec) => opener.open(var, &spec).await,
        Err(_) => Ok(Arc::new(UnsetStore::new(var))),
    }
}

/// The ports a deployed function uses: its stores, and only the adapters its step needs (the
/// choice is made at compile time, so a binary links no adapter it does not use): HTTP(S)
/// fetching (no `file://`) or, with `VECTORA_OFFLINE=1`, the recorded captures of the config
/// store (local emulation); the editor `VECTORA_EDITOR` names; CloudWatch `PutMetricData`.
pub async fn ports_from_env<S: Step>() -> Result<Ports, Error> {
    let clock = Arc::new(SystemClock);
    let mut opener = Opener::default();
    let config = store_from_env(&mut opener, "VECTORA_CONFIG_STORE").await?;
    let data = store_from_env(&mut opener, "VECTORA_DATA_STORE").await?;
    let newsletters = store_from_env(&mut opener, "VECTORA_NEWSLETTER_STORE").await?;
    let editor: Arc<dyn crate::ports::Editor> = if S::WRITES {
        match std::env::var("VECTORA_EDITOR").as_deref() {
            Ok("template") => Arc::new(TemplateEditor),
            Ok("bedrock") | Err(_) => {
                // Lambda always sets AWS_REGION; the fallback only matters elsewhere.
                let client =
                    crate::editorial::bedrock::client_from_env(crate::aws::DEFAULT_REGION).await;
                Arc::new(crate::editorial::BedrockEditor::new(client, data.clone()))
            }
            Ok(other) => {
                return Err(Error::config(
                    "VECTORA_EDITOR",
                    "-",
                    format!("{other:?} is not an editor: expected bedrock or template"),
                ));
            }
        }
    } else {
        Arc::new(TemplateEditor)
    };
    let (fetcher, secrets): (Arc<dyn Fetcher>, Arc<dyn crate::ports::Secrets>) = if S::FETCHES {
        let fetcher: Arc<dyn Fetcher> = match std::env::var("VECTORA_OFFLINE").as_deref() {
            Ok("1" | "true") => Arc::new(CaptureFetcher::new(config.clone())),
            Ok("0" | "false" | "") | Err(_) => Arc::new(HttpFetcher::new(HttpLimits::default())?),
            Ok(other) => {
                return Err(Error::config(
                    "VECTORA_OFFLINE",
                    "-",
                    format!("{other:?}: expected 1 (replay the recorded captures) or 0"),
                ));
            }
        };
        (fetcher, secrets().await)
    } else {
        (
            Arc::new(NoFetching(S::NAME)),
            Arc::new(crate::ports::secrets::EnvSecrets),
        )
    };
    let metrics: Arc<dyn crate::ports::MetricsSink> = if S::PUBLISHES {
        let namespace = std::env::var("VECTORA_METRICS_NAMESPACE")
            .ok()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_METRICS_NAMESPACE.into());
        Arc::new(CloudWatchMetrics::new(
            CloudWatchMetrics::client_from_env().await,
            namespace,
            clock.clone(),
        ))
    } else {
        Arc::new(MemoryMetrics::default())
    };
    Ok(Ports {
        stores: Stores {
            config,
            data,
            newsletters,
        },
        fetcher,
        editor,
        metrics,
        secrets,
        clock,
        concurrency: concurrency_from_env()?,
    })
}

/// The fetcher of a function whose step does not fetch.
struct NoFetching(&'static str);

#[async_trait::async_trait]
impl Fetcher for NoFetching {
    async fn fetch(&self, request: &FetchRequest) -> Result<FetchResponse, Error> {
        Err(Error::Internal(format!(
            "the {} function does not fetch (asked for {})",
            self.0, request.url
        )))
    }
}

/// The Map concurrency of this deployment (read by plan, which hands it to the state machine).
fn concurrency_from_env() -> Result<crate::ports::Concurrency, Error> {
    let defaults = crate::ports::Concurrency::default();
    let read = |var: &str, default: u32| match std::env::var(var) {
        Err(_) => Ok(default),
        Ok(v) => match v.trim().parse::<u32>() {
            Ok(n) if (1..=40).contains(&n) => Ok(n),
            _ => Err(Error::config(
                var,
                "-",
                format!("{v:?} is not a concurrency: expected a whole number from 1 to 40"),
            )),
        },
    };
    Ok(crate::ports::Concurrency {
        sources: read("VECTORA_SOURCES_CONCURRENCY", defaults.sources)?,
        sections: read("VECTORA_SECTIONS_CONCURRENCY", defaults.sections)?,
    })
}

/// The NCBI key from SSM when `NCBI_API_KEY_SSM_PARAMETER` names its parameter, else from the
/// environment.
async fn secrets() -> Arc<dyn crate::ports::Secrets> {
    match std::env::var("NCBI_API_KEY_SSM_PARAMETER") {
        Ok(parameter) if !parameter.trim().is_empty() => {
            let shared = crate::aws::load_config().await;
            let parameters = [(crate::ports::secrets::NCBI_API_KEY.to_string(), parameter)].into();
            Arc::new(crate::sources::SsmSecrets::new(
                aws_sdk_ssm::Client::new(&shared),
                parameters,
            ))
        }
        _ => Arc::new(crate::ports::secrets::EnvSecrets),
    }
}

/// Serves step `S` until the Lambda runtime stops the process.
pub async fn serve<S: Step>() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let ports = ports_from_env::<S>()
        .await
        .map_err(|e| lambda_runtime::Error::from(e.to_string()))?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let ports = ports.clone();
        // Journaled like a local run, so the run's step records exist on AWS too.
        async move {
            crate::journal::run_with(S::NAME, S::handle, &ports, event.payload, false)
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

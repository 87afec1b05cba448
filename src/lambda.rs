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
//! local emulation and conformance). The deliver function sends through SES (standard AWS
//! configuration chain).
//!
//! `sync-clients` (an S3 notification of the config bucket, not a step) reads
//! `VECTORA_CONFIG_STORE`, `VECTORA_SCHEDULE_GROUP`, `VECTORA_STATE_MACHINE_ARN`,
//! `VECTORA_SCHEDULER_ROLE_ARN`, `VECTORA_SCHEDULE_STATE` (ENABLED or DISABLED),
//! `VECTORA_ALARM_TOPIC_ARN` (optional) and `VECTORA_METRICS_NAMESPACE`.

use std::sync::Arc;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};

use crate::aws::cloudwatch::CloudWatchMetrics;
use crate::editorial::TemplateEditor;
use crate::error::Error;
use crate::ports::fetcher::{FetchRequest, FetchResponse};
use crate::ports::metrics::MemoryMetrics;
use crate::ports::{Fetcher, ObjectStore, Ports, Stores, SystemClock};
use crate::schedules::{Action, Scope, SyncSettings};
use crate::sources::{CaptureFetcher, HttpFetcher, HttpLimits};
use crate::steps::Step;
use crate::store::{Opener, S3Location, UnsetStore};

pub use crate::aws::cloudwatch::DEFAULT_METRICS_NAMESPACE;

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
    let mailer: Option<Arc<dyn crate::ports::Mailer>> = if S::MAILS {
        Some(Arc::new(crate::aws::ses::SesMailer::new(
            crate::aws::ses::SesMailer::client_from_env().await,
        )))
    } else {
        None
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
        mailer,
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
    fn medium(&self) -> &'static str {
        "none"
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

/// The S3 notification `sync-clients` receives.
pub use aws_lambda_events::event::s3::S3Event;

/// The configuration keys an S3 notification names, relative to the config store `location`.
/// S3 sends keys form-encoded (`+` for a space, `%xx` for the rest); records of another bucket,
/// outside the prefix, or of events other than ObjectCreated:* / ObjectRemoved:* are ignored.
pub fn changed_config_keys(event: &S3Event, location: &S3Location) -> Vec<String> {
    event
        .records
        .iter()
        .filter(|r| {
            r.event_name.as_deref().is_some_and(|name| {
                name.starts_with("ObjectCreated:") || name.starts_with("ObjectRemoved:")
            })
        })
        .filter(|r| r.s3.bucket.name.as_deref() == Some(location.bucket.as_str()))
        .filter_map(|r| r.s3.object.key.as_deref())
        .map(|key| {
            percent_encoding::percent_decode_str(&key.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
        .filter_map(|key| {
            key.strip_prefix(location.prefix.as_str())
                .map(str::to_string)
        })
        .collect()
}

/// One notification: the clients its keys concern are synced (every other client is left
/// alone). The same notification twice changes nothing the second time.
pub async fn sync_clients_for_event(
    event: &S3Event,
    location: &S3Location,
    config: &dyn ObjectStore,
    settings: &SyncSettings,
    schedules: &dyn crate::ports::ScheduleStore,
    alerts: &dyn crate::ports::Alerts,
) -> Result<Vec<Action>, Error> {
    let keys = changed_config_keys(event, location);
    let ids = crate::schedules::events::concerned_clients(config, &keys).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    crate::schedules::sync(
        config,
        &Scope::Clients(ids),
        &settings.deployment,
        schedules,
        alerts,
        false,
    )
    .await
}

fn required_env(var: &str, what: &str) -> Result<String, Error> {
    std::env::var(var)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| Error::config(var, "-", format!("not set: expected {what}")))
}

/// The sync's settings and config bucket (its address and its parsed location) from the
/// function's environment.
pub fn sync_settings_from_env() -> Result<(SyncSettings, String, S3Location), Error> {
    let spec = required_env(
        "VECTORA_CONFIG_STORE",
        "s3://BUCKET[/PREFIX] of the config bucket",
    )?;
    let location = S3Location::parse(&spec)
        .map_err(|message| Error::config("VECTORA_CONFIG_STORE", "-", message))?;
    let enabled = match required_env("VECTORA_SCHEDULE_STATE", "ENABLED or DISABLED")?.as_str() {
        "ENABLED" => true,
        "DISABLED" => false,
        other => {
            return Err(Error::config(
                "VECTORA_SCHEDULE_STATE",
                "-",
                format!("{other:?}: expected ENABLED or DISABLED"),
            ));
        }
    };
    let settings = SyncSettings::new(
        required_env("VECTORA_SCHEDULE_GROUP", "the stack's schedule group")?,
        required_env("VECTORA_STATE_MACHINE_ARN", "the state machine's ARN")?,
        required_env("VECTORA_SCHEDULER_ROLE_ARN", "the scheduler role's ARN")?,
        enabled,
        std::env::var("VECTORA_ALARM_TOPIC_ARN").ok(),
        std::env::var("VECTORA_METRICS_NAMESPACE")
            .ok()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_METRICS_NAMESPACE.into()),
    );
    Ok((settings, spec, location))
}

/// Serves `sync-clients` until the Lambda runtime stops the process. Each plan line is logged.
pub async fn serve_sync_clients() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let setup = async {
        let (settings, spec, location) = sync_settings_from_env()?;
        let config = Opener::default()
            .open("VECTORA_CONFIG_STORE", &spec)
            .await?;
        let (schedules, alerts) = crate::aws::scheduler::sync_adapters(&settings).await;
        Ok::<_, Error>((
            settings,
            location,
            config,
            Arc::new(schedules),
            Arc::new(alerts),
        ))
    };
    let (settings, location, config, schedules, alerts) = setup
        .await
        .map_err(|e| lambda_runtime::Error::from(e.to_string()))?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<S3Event>| {
        let (settings, location, config) = (settings.clone(), location.clone(), config.clone());
        let (schedules, alerts) = (schedules.clone(), alerts.clone());
        async move {
            let actions = sync_clients_for_event(
                &event.payload,
                &location,
                config.as_ref(),
                &settings,
                schedules.as_ref(),
                alerts.as_ref(),
            )
            .await
            .map_err(StepFailure)?;
            for a in &actions {
                lambda_runtime::tracing::info!(client_id = %a.client_id, action = ?a.action, reason = %a.reason, "sync");
            }
            Ok::<_, StepFailure>(serde_json::to_value(&actions).unwrap_or_default())
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

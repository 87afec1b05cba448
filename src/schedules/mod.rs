//! Clients as data: the schedule and the "no newsletter" alarm of every client follow its file.
//!
//! [`plan`] is pure: it compares what the client files want with what the schedule group holds
//! and says, per client, create, update, delete, unchanged or rejected. [`apply`] carries the
//! plan out through the ports. The `sync-clients` Lambda and `vectora aws sync-clients` both
//! go through [`sync`], so the two cannot disagree.

pub mod events;
pub mod memory;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::config::{self, ClientBundle};
use crate::error::{Error, Result};
use crate::ports::ObjectStore;
use crate::ports::schedules::{Alerts, Rejection, RetryPolicy, Schedule, ScheduleStore};

/// How long EventBridge retries starting an execution (the values the template's schedules had).
pub const RETRY: RetryPolicy = RetryPolicy {
    maximum_event_age_seconds: 3600,
    maximum_retry_attempts: 10,
};

/// What a deployment gives every schedule (stack outputs and the environment's setting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub state_machine_arn: String,
    pub scheduler_role_arn: String,
    /// The environment runs its schedules (prod); elsewhere they are created disabled.
    pub schedules_enabled: bool,
    /// The environment has alarms (an alarm topic): a running schedule gets a "no newsletter" alarm.
    pub alarms: bool,
}

/// Everything a sync needs besides the files: the deployment, the group, and where alerts go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSettings {
    /// The stack's schedule group (stack output ScheduleGroupName); alarm names start with it.
    pub group: String,
    pub deployment: Deployment,
    /// The alarm topic (stack output AlarmTopicArn): alarms and rejection notices go there.
    pub alarm_topic_arn: Option<String>,
    /// Namespace of the run metrics the alarms read and `ConfigRejected` is counted in.
    pub metrics_namespace: String,
}

impl SyncSettings {
    pub fn new(
        group: String,
        state_machine_arn: String,
        scheduler_role_arn: String,
        schedules_enabled: bool,
        alarm_topic_arn: Option<String>,
        metrics_namespace: String,
    ) -> Self {
        let alarm_topic_arn = alarm_topic_arn.filter(|t| !t.trim().is_empty());
        SyncSettings {
            group,
            deployment: Deployment {
                state_machine_arn,
                scheduler_role_arn,
                schedules_enabled,
                alarms: alarm_topic_arn.is_some(),
            },
            alarm_topic_arn,
            metrics_namespace,
        }
    }
}

/// What the client files want for one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Desired {
    /// A valid bundle and the schedule it asks for.
    Present(Schedule),
    /// The file (or a file it refers to) is invalid: nothing may change.
    Rejected(Rejection),
    /// The client file is gone.
    Absent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Create,
    Update,
    Delete,
    Unchanged,
    Rejected,
}

/// One line of the plan, printed as JSON by the CLI and logged by the Lambda.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    pub client_id: String,
    pub action: ActionKind,
    pub reason: String,
    #[serde(skip)]
    pub schedule: Option<Schedule>,
    #[serde(skip)]
    pub rejection: Option<Rejection>,
    /// The schedule already matches and only its alarm is put or deleted.
    #[serde(skip)]
    pub alarm_only: bool,
}

/// The schedule a valid bundle asks for.
pub fn desired_schedule(bundle: &ClientBundle, deployment: &Deployment) -> Schedule {
    let c = &bundle.client;
    Schedule {
        name: c.client_id.clone(),
        description: format!("Newsletter of {} ({})", c.client_id, c.name),
        expression: c.schedule.cron.clone(),
        timezone: c.schedule.timezone.clone(),
        flexible_window_minutes: c.schedule.flexible_window_minutes,
        enabled: deployment.schedules_enabled && c.schedule.enabled,
        target_arn: deployment.state_machine_arn.clone(),
        role_arn: deployment.scheduler_role_arn.clone(),
        input: serde_json::json!({"client_id": c.client_id, "period_days": c.period_days})
            .to_string(),
        retry: RETRY,
    }
}

/// Pure: one action per client named in `desired`, against the schedules `existing` holds.
/// A rejected client keeps whatever schedule it has; only schedules named in `desired` are
/// considered, so a partial sync (one S3 event) leaves every other client alone.
pub fn plan(
    desired: &BTreeMap<String, Desired>,
    existing: &BTreeMap<String, Schedule>,
) -> Vec<Action> {
    desired
        .iter()
        .filter_map(|(id, want)| {
            let have = existing.get(id);
            let (action, reason, schedule, rejection) = match (want, have) {
                (Desired::Present(s), None) => (
                    ActionKind::Create,
                    format!(
                        "no schedule {id} in the group yet: {} {}",
                        s.expression, s.timezone
                    ),
                    Some(s.clone()),
                    None,
                ),
                (Desired::Present(s), Some(h)) if s == h => (
                    ActionKind::Unchanged,
                    "the schedule matches the file".to_string(),
                    None,
                    None,
                ),
                (Desired::Present(s), Some(h)) => (
                    ActionKind::Update,
                    format!("differs in {}", differences(s, h).join(", ")),
                    Some(s.clone()),
                    None,
                ),
                (Desired::Rejected(r), _) => (
                    ActionKind::Rejected,
                    format!(
                        "{}: {}: {}{}",
                        r.file,
                        r.key_path,
                        r.message,
                        if have.is_some() {
                            " (the current schedule is kept)"
                        } else {
                            " (no schedule is created)"
                        }
                    ),
                    None,
                    Some(r.clone()),
                ),
                (Desired::Absent, Some(_)) => (
                    ActionKind::Delete,
                    format!("{} is gone", config::client_key(id)),
                    None,
                    None,
                ),
                (Desired::Absent, None) => return None,
            };
            Some(Action {
                client_id: id.clone(),
                action,
                reason,
                schedule,
                rejection,
                alarm_only: false,
            })
        })
        .collect()
}

fn differences(want: &Schedule, have: &Schedule) -> Vec<&'static str> {
    let fields: [(&'static str, bool); 9] = [
        ("description", want.description != have.description),
        ("cron", want.expression != have.expression),
        ("timezone", want.timezone != have.timezone),
        (
            "flexible_window_minutes",
            want.flexible_window_minutes != have.flexible_window_minutes,
        ),
        ("state", want.enabled != have.enabled),
        ("target", want.target_arn != have.target_arn),
        ("role", want.role_arn != have.role_arn),
        ("input", want.input != have.input),
        ("retry policy", want.retry != have.retry),
    ];
    fields.iter().filter(|(_, d)| *d).map(|(f, _)| *f).collect()
}

/// Pure: a schedule that matches its file but whose alarm does not match the environment (the
/// alarm topic was configured after the schedule was made, or the alarm was deleted by hand)
/// becomes an alarm-only update. `alarms` lists the clients that have one.
pub fn reconcile_alarms(
    actions: &mut [Action],
    desired: &BTreeMap<String, Desired>,
    alarms: &BTreeSet<String>,
) {
    for a in actions.iter_mut() {
        let (ActionKind::Unchanged, Some(Desired::Present(s))) =
            (a.action, desired.get(&a.client_id))
        else {
            continue;
        };
        let has = alarms.contains(&a.client_id);
        // A disabled schedule would hold its alarm in ALARM forever.
        let reason = match (s.enabled, has) {
            (true, false) => "the schedule matches the file; its no-newsletter alarm is missing",
            (false, true) => "the schedule is disabled; its no-newsletter alarm is removed",
            _ => continue,
        };
        a.action = ActionKind::Update;
        a.reason = reason.to_string();
        a.schedule = Some(s.clone());
        a.alarm_only = true;
    }
}

/// Carries the plan out. A rejection is reported (topic + metric) and changes nothing.
pub async fn apply(
    actions: &[Action],
    deployment: &Deployment,
    schedules: &dyn ScheduleStore,
    alerts: &dyn Alerts,
) -> Result<()> {
    for a in actions {
        match (a.action, &a.schedule, &a.rejection) {
            (ActionKind::Create | ActionKind::Update, Some(s), _) => {
                if a.action == ActionKind::Create {
                    schedules.create(s).await?;
                } else if !a.alarm_only {
                    schedules.update(s).await?;
                }
                // A disabled schedule would hold its alarm in ALARM forever.
                if deployment.alarms && s.enabled {
                    alerts.put_no_newsletter_alarm(&a.client_id).await?;
                } else if deployment.alarms && a.action == ActionKind::Update {
                    alerts.delete_no_newsletter_alarm(&a.client_id).await?;
                }
            }
            (ActionKind::Delete, _, _) => {
                schedules.delete(&a.client_id).await?;
                if deployment.alarms {
                    alerts.delete_no_newsletter_alarm(&a.client_id).await?;
                }
            }
            (ActionKind::Rejected, _, Some(r)) => alerts.config_rejected(r).await?,
            (ActionKind::Unchanged, _, _) => {}
            _ => {
                return Err(Error::Internal(format!(
                    "sync action {:?} for {} carries no schedule or rejection",
                    a.action, a.client_id
                )));
            }
        }
    }
    Ok(())
}

/// Which clients a sync looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every client file and every schedule in the group (the CLI).
    All,
    /// These clients only (an S3 event names them).
    Clients(BTreeSet<String>),
}

/// Reads the client files in `scope`, reads the group, plans, and applies unless `dry_run`.
pub async fn sync(
    config: &dyn ObjectStore,
    scope: &Scope,
    deployment: &Deployment,
    schedules: &dyn ScheduleStore,
    alerts: &dyn Alerts,
    dry_run: bool,
) -> Result<Vec<Action>> {
    let files: BTreeSet<String> = config::list_clients(config).await?.into_iter().collect();
    let ids: BTreeSet<String> = match scope {
        Scope::All => {
            let mut ids = files.clone();
            ids.extend(schedules.list().await?);
            ids
        }
        Scope::Clients(ids) => ids.clone(),
    };
    let mut desired = BTreeMap::new();
    let mut existing = BTreeMap::new();
    for id in &ids {
        let want = if files.contains(id) {
            match config::load_client(config, id).await {
                Ok(bundle) => Desired::Present(desired_schedule(&bundle, deployment)),
                Err(e) => Desired::Rejected(rejection(id, e)?),
            }
        } else {
            Desired::Absent
        };
        desired.insert(id.clone(), want);
        // No schedule can bear a name that is not a client id (and the service may refuse it).
        if !config::is_valid_id(id) {
            continue;
        }
        if let Some(s) = schedules.get(id).await? {
            existing.insert(id.clone(), s);
        }
    }
    let mut actions = plan(&desired, &existing);
    if deployment.alarms {
        reconcile_alarms(
            &mut actions,
            &desired,
            &alerts.no_newsletter_alarms().await?,
        );
    }
    if !dry_run {
        apply(&actions, deployment, schedules, alerts).await?;
    }
    Ok(actions)
}

/// A configuration error becomes a rejection; anything else (a store that fails) is not the
/// file's fault and fails the sync instead.
fn rejection(client_id: &str, err: Error) -> Result<Rejection> {
    match err {
        Error::Config {
            file,
            path,
            line,
            message,
        } => Ok(Rejection {
            client_id: client_id.to_string(),
            line,
            file,
            key_path: path,
            message,
        }),
        Error::InvalidEvent { message, .. } => Ok(Rejection {
            client_id: client_id.to_string(),
            file: config::client_key(client_id),
            key_path: "-".into(),
            line: None,
            message,
        }),
        other => Err(other),
    }
}

#[cfg(test)]
mod tests;

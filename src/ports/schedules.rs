//! The schedule store and the alerts a client sync drives: EventBridge Scheduler, CloudWatch
//! alarms and SNS on AWS (`crate::aws::scheduler`, `crate::aws::alerts`), memory in tests
//! and dry runs (`crate::schedules::memory`).

use std::collections::BTreeSet;

use async_trait::async_trait;
use serde::Serialize;

use crate::error::Result;

/// One client's schedule, every field the sync compares: what `GetSchedule` answers is read
/// back into this shape, so "unchanged" means "equal in full".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schedule {
    /// The client id: one schedule per client in the stack's group.
    pub name: String,
    pub description: String,
    /// `cron(...)` as in the client file.
    pub expression: String,
    pub timezone: String,
    /// `None`: the flexible time window is off (the run starts on time).
    pub flexible_window_minutes: Option<u32>,
    /// ENABLED when the environment enables schedules and the client file does.
    pub enabled: bool,
    /// The state machine the schedule starts.
    pub target_arn: String,
    /// The role EventBridge Scheduler assumes to start it.
    pub role_arn: String,
    /// The execution input, `{"client_id":…,"period_days":…}`.
    pub input: String,
    pub retry: RetryPolicy,
}

/// How long EventBridge keeps trying to start an execution that failed to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetryPolicy {
    pub maximum_event_age_seconds: i32,
    pub maximum_retry_attempts: i32,
}

/// The schedules of one schedule group; nothing outside that group is reachable through it.
#[async_trait]
pub trait ScheduleStore: Send + Sync {
    /// Names of every schedule in the group.
    async fn list(&self) -> Result<Vec<String>>;
    /// The schedule as the service holds it, `None` when there is none by that name.
    async fn get(&self, name: &str) -> Result<Option<Schedule>>;
    async fn create(&self, schedule: &Schedule) -> Result<()>;
    /// Replaces every field of an existing schedule.
    async fn update(&self, schedule: &Schedule) -> Result<()>;
    async fn delete(&self, name: &str) -> Result<()>;
}

/// A client file the sync refused, as an operator needs it to fix the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub client_id: String,
    /// The file at fault (a client, scope, scoring file or the catalogue).
    pub file: String,
    /// Key path inside it (`schedule.cron`), `-` for the whole file.
    pub key_path: String,
    /// Line of the fault when the YAML parser gave one.
    pub line: Option<u32>,
    /// What is wrong and what is expected.
    pub message: String,
}

/// The "no newsletter" alarm of each client and the notice of a rejected file.
#[async_trait]
pub trait Alerts: Send + Sync {
    /// Creates or replaces the client's "no newsletter" alarm.
    async fn put_no_newsletter_alarm(&self, client_id: &str) -> Result<()>;
    /// Deletes it; deleting an alarm that does not exist succeeds.
    async fn delete_no_newsletter_alarm(&self, client_id: &str) -> Result<()>;
    /// The clients that have a "no newsletter" alarm, so a sync can make one that is missing
    /// (an alarm topic configured after the schedules) without rewriting the others.
    async fn no_newsletter_alarms(&self) -> Result<BTreeSet<String>>;
    /// Tells the operator (alarm topic) and counts it (`ConfigRejected` metric).
    async fn config_rejected(&self, rejection: &Rejection) -> Result<()>;
}

//! The schedule store on EventBridge Scheduler: one schedule per client, named after it, in
//! the stack's schedule group. Every call names the group, so nothing outside it is touched.

use async_trait::async_trait;
use aws_sdk_scheduler::Client;
use aws_sdk_scheduler::types::{
    FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy as SdkRetryPolicy, ScheduleState,
    Target,
};

use crate::aws::Failure;
use crate::error::{Error, Result};
use crate::ports::schedules::{RetryPolicy, Schedule, ScheduleStore};

pub struct EventBridgeSchedules {
    client: Client,
    group: String,
}

impl EventBridgeSchedules {
    pub fn new(client: Client, group: impl Into<String>) -> Self {
        EventBridgeSchedules {
            client,
            group: group.into(),
        }
    }

    fn failure<E>(
        &self,
        op: &str,
        name: &str,
        err: &aws_sdk_scheduler::error::SdkError<
            E,
            aws_smithy_runtime_api::client::orchestrator::HttpResponse,
        >,
    ) -> Error
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    {
        Failure::of(err).into_error(
            &format!("EventBridge Scheduler {op} {}/{name}", self.group),
            "",
        )
    }
}

fn build_error(name: &str, err: impl std::fmt::Display) -> Error {
    Error::Internal(format!("schedule {name}: {err}"))
}

fn window(s: &Schedule) -> Result<FlexibleTimeWindow> {
    let builder = match s.flexible_window_minutes {
        Some(m) => FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Flexible)
            .maximum_window_in_minutes(m as i32),
        None => FlexibleTimeWindow::builder().mode(FlexibleTimeWindowMode::Off),
    };
    builder.build().map_err(|e| build_error(&s.name, e))
}

fn target(s: &Schedule) -> Result<Target> {
    Target::builder()
        .arn(&s.target_arn)
        .role_arn(&s.role_arn)
        .input(&s.input)
        .retry_policy(
            SdkRetryPolicy::builder()
                .maximum_event_age_in_seconds(s.retry.maximum_event_age_seconds)
                .maximum_retry_attempts(s.retry.maximum_retry_attempts)
                .build(),
        )
        .build()
        .map_err(|e| build_error(&s.name, e))
}

fn state(s: &Schedule) -> ScheduleState {
    if s.enabled {
        ScheduleState::Enabled
    } else {
        ScheduleState::Disabled
    }
}

#[async_trait]
impl ScheduleStore for EventBridgeSchedules {
    async fn list(&self) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_schedules()
                .group_name(&self.group)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| self.failure("ListSchedules", "*", &e))?;
            names.extend(
                page.schedules()
                    .iter()
                    .filter_map(|s| s.name().map(str::to_string)),
            );
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(names);
            }
        }
    }

    async fn get(&self, name: &str) -> Result<Option<Schedule>> {
        let out = match self
            .client
            .get_schedule()
            .group_name(&self.group)
            .name(name)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(self.failure("GetSchedule", name, &e)),
        };
        let target = out.target();
        let retry = target.and_then(|t| t.retry_policy());
        let window = out.flexible_time_window();
        Ok(Some(Schedule {
            name: out.name().unwrap_or(name).to_string(),
            description: out.description().unwrap_or_default().to_string(),
            expression: out.schedule_expression().unwrap_or_default().to_string(),
            // The service answers UTC when the schedule was created without a time zone.
            timezone: out
                .schedule_expression_timezone()
                .unwrap_or("UTC")
                .to_string(),
            flexible_window_minutes: window
                .filter(|w| w.mode() == &FlexibleTimeWindowMode::Flexible)
                .and_then(|w| w.maximum_window_in_minutes())
                .map(|m| m as u32),
            enabled: out.state() == Some(&ScheduleState::Enabled),
            target_arn: target.map(|t| t.arn().to_string()).unwrap_or_default(),
            role_arn: target.map(|t| t.role_arn().to_string()).unwrap_or_default(),
            input: target
                .and_then(|t| t.input())
                .unwrap_or_default()
                .to_string(),
            retry: RetryPolicy {
                maximum_event_age_seconds: retry
                    .and_then(|r| r.maximum_event_age_in_seconds())
                    .unwrap_or_default(),
                maximum_retry_attempts: retry
                    .and_then(|r| r.maximum_retry_attempts())
                    .unwrap_or_default(),
            },
        }))
    }

    async fn create(&self, s: &Schedule) -> Result<()> {
        self.client
            .create_schedule()
            .group_name(&self.group)
            .name(&s.name)
            .description(&s.description)
            .schedule_expression(&s.expression)
            .schedule_expression_timezone(&s.timezone)
            .flexible_time_window(window(s)?)
            .state(state(s))
            .target(target(s)?)
            .send()
            .await
            .map_err(|e| self.failure("CreateSchedule", &s.name, &e))?;
        Ok(())
    }

    async fn update(&self, s: &Schedule) -> Result<()> {
        self.client
            .update_schedule()
            .group_name(&self.group)
            .name(&s.name)
            .description(&s.description)
            .schedule_expression(&s.expression)
            .schedule_expression_timezone(&s.timezone)
            .flexible_time_window(window(s)?)
            .state(state(s))
            .target(target(s)?)
            .send()
            .await
            .map_err(|e| self.failure("UpdateSchedule", &s.name, &e))?;
        Ok(())
    }

    async fn delete(&self, name: &str) -> Result<()> {
        match self
            .client
            .delete_schedule()
            .group_name(&self.group)
            .name(name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // Already gone (a second delivery of the same event): the outcome is the one wanted.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(self.failure("DeleteSchedule", name, &e)),
        }
    }
}

/// The schedule store and alerts of a sync on AWS, every client from the standard
/// configuration chain (`AWS_ENDPOINT_URL_SCHEDULER`, `_CLOUDWATCH`, `_SNS` too).
pub async fn sync_adapters(
    settings: &crate::schedules::SyncSettings,
) -> (EventBridgeSchedules, crate::aws::alerts::AwsAlerts) {
    let config = crate::aws::load_config().await;
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&config);
    let metrics = std::sync::Arc::new(crate::aws::cloudwatch::CloudWatchMetrics::new(
        cloudwatch.clone(),
        &settings.metrics_namespace,
        std::sync::Arc::new(crate::ports::SystemClock),
    ));
    (
        EventBridgeSchedules::new(Client::new(&config), &settings.group),
        crate::aws::alerts::AwsAlerts::new(
            cloudwatch,
            aws_sdk_sns::Client::new(&config),
            metrics,
            &settings.metrics_namespace,
            &settings.group,
            settings.alarm_topic_arn.clone(),
        ),
    )
}

//! Alerts of the client sync on AWS: each client's "no newsletter" CloudWatch alarm (the shape
//! the template's per-client alarms had), and a rejected client file told to the alarm topic
//! (SNS) and counted as the `ConfigRejected` metric.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};

use crate::aws::Failure;
use crate::error::{Error, Result};
use crate::ports::metrics::{Metric, MetricsSink};
use crate::ports::schedules::{Alerts, Rejection};

/// Seven complete days without a published newsletter (CloudWatch caps an alarm's range at 7
/// days: Period × EvaluationPeriods ≤ 604,800 s); missing days count as breaching.
const ALARM_PERIOD_SECONDS: i32 = 86_400;
const ALARM_DAYS: i32 = 7;

pub struct AwsAlerts {
    cloudwatch: aws_sdk_cloudwatch::Client,
    sns: aws_sdk_sns::Client,
    metrics: Arc<dyn MetricsSink>,
    /// Namespace of the run metrics (`NewslettersPublished`, dimension ClientId).
    namespace: String,
    /// Alarm names start with it: `{prefix}-no-newsletter-{client_id}`.
    alarm_prefix: String,
    /// Where alarms and rejections go; without it no alarm is made and rejections are only
    /// counted.
    topic_arn: Option<String>,
}

impl AwsAlerts {
    pub fn new(
        cloudwatch: aws_sdk_cloudwatch::Client,
        sns: aws_sdk_sns::Client,
        metrics: Arc<dyn MetricsSink>,
        namespace: impl Into<String>,
        alarm_prefix: impl Into<String>,
        topic_arn: Option<String>,
    ) -> Self {
        AwsAlerts {
            cloudwatch,
            sns,
            metrics,
            namespace: namespace.into(),
            alarm_prefix: alarm_prefix.into(),
            topic_arn,
        }
    }

    pub fn alarm_name(&self, client_id: &str) -> String {
        format!("{}-no-newsletter-{client_id}", self.alarm_prefix)
    }

    fn topic(&self, what: &str) -> Result<&str> {
        self.topic_arn.as_deref().ok_or_else(|| {
            Error::Internal(format!(
                "{what} needs the alarm topic (VECTORA_ALARM_TOPIC_ARN) and none is set"
            ))
        })
    }
}

/// The notice an operator reads: what to fix, where.
pub fn rejection_message(r: &Rejection) -> String {
    let line = r.line.map(|l| format!("line {l}, ")).unwrap_or_default();
    format!(
        "The configuration of client {} was rejected; its schedule was left as it was.\n\
         File: {}\nKey: {}\n{}Problem: {}\n\
         Fix the file, check it with `vectora validate`, and upload it again.",
        r.client_id, r.file, r.key_path, line, r.message
    )
}

#[async_trait]
impl Alerts for AwsAlerts {
    async fn put_no_newsletter_alarm(&self, client_id: &str) -> Result<()> {
        let topic = self.topic("the no-newsletter alarm")?;
        let name = self.alarm_name(client_id);
        self.cloudwatch
            .put_metric_alarm()
            .alarm_name(&name)
            .alarm_description(format!(
                "No newsletter published for {client_id} in the last {ALARM_DAYS} days. Check its last execution (vectora aws status) and the schedule."
            ))
            .namespace(&self.namespace)
            .metric_name("NewslettersPublished")
            .dimensions(Dimension::builder().name("ClientId").value(client_id).build())
            .statistic(Statistic::Sum)
            .period(ALARM_PERIOD_SECONDS)
            .evaluation_periods(ALARM_DAYS)
            .datapoints_to_alarm(ALARM_DAYS)
            .threshold(1.0)
            .comparison_operator(ComparisonOperator::LessThanThreshold)
            .treat_missing_data("breaching")
            .alarm_actions(topic)
            .ok_actions(topic)
            .send()
            .await
            .map_err(|e| Failure::of(&e).into_error(&format!("CloudWatch PutMetricAlarm {name}"), ""))?;
        Ok(())
    }

    async fn delete_no_newsletter_alarm(&self, client_id: &str) -> Result<()> {
        let name = self.alarm_name(client_id);
        match self
            .cloudwatch
            .delete_alarms()
            .alarm_names(&name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found()) =>
            {
                Ok(())
            }
            Err(e) => {
                Err(Failure::of(&e).into_error(&format!("CloudWatch DeleteAlarms {name}"), ""))
            }
        }
    }

    async fn no_newsletter_alarms(&self) -> Result<BTreeSet<String>> {
        let prefix = self.alarm_name("");
        let mut clients = BTreeSet::new();
        let mut next: Option<String> = None;
        loop {
            let page = self
                .cloudwatch
                .describe_alarms()
                .alarm_name_prefix(&prefix)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| {
                    Failure::of(&e).into_error(&format!("CloudWatch DescribeAlarms {prefix}*"), "")
                })?;
            clients.extend(
                page.metric_alarms()
                    .iter()
                    .filter_map(|a| a.alarm_name()?.strip_prefix(&prefix))
                    .map(str::to_string),
            );
            match page.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => return Ok(clients),
            }
        }
    }

    async fn config_rejected(&self, r: &Rejection) -> Result<()> {
        self.metrics
            .publish(&r.client_id, &[Metric::count("ConfigRejected", 1)])
            .await?;
        let Some(topic) = &self.topic_arn else {
            return Ok(());
        };
        self.sns
            .publish()
            .topic_arn(topic)
            .subject(format!(
                "Vectora Inbox: configuration of {} rejected",
                r.client_id
            ))
            .message(rejection_message(r))
            .send()
            .await
            .map_err(|e| Failure::of(&e).into_error(&format!("SNS Publish {topic}"), ""))?;
        Ok(())
    }
}

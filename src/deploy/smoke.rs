//! The smoke test of a deployed stack (`vectora aws smoke`): start the canary client's run
//! through the same path as `vectora aws start`, wait for it, then check its status, its
//! newsletter, the metrics it published, and that a second start of the same run starts
//! nothing. One [`Check`] per line; the command exits non-zero when any failed.

use std::time::Duration;

use aws_sdk_cloudwatch::types::{DimensionFilter, RecentlyActive};
use chrono::NaiveDate;
use serde::Serialize;

use crate::aws::{Failure, sfn};
use crate::keys;
use crate::ports::ObjectStore;

/// The canary's client id: `fixtures/canary/clients/canary.yaml`, uploaded to the config bucket.
pub const CANARY_CLIENT: &str = "canary";

/// What the smoke test needs to reach: the stack's state machine, its newsletters area and
/// its metrics namespace.
pub struct Target<'a> {
    pub sfn: &'a aws_sdk_sfn::Client,
    pub cloudwatch: &'a aws_sdk_cloudwatch::Client,
    pub newsletters: &'a dyn ObjectStore,
    pub state_machine_arn: &'a str,
    pub namespace: &'a str,
}

/// Which run, and how long to wait for it.
pub struct Plan {
    pub client_id: String,
    pub run_date: NaiveDate,
    /// How long the run may take before the smoke test gives up on it.
    pub timeout: Duration,
    /// Pause between two DescribeExecution calls (and two ListMetrics calls).
    pub poll: Duration,
    /// ListMetrics calls before the metrics check fails: CloudWatch lists a metric some minutes
    /// after its first data point, so a run that just published may not be listed yet.
    pub metrics_attempts: u32,
}

impl Plan {
    /// The ListMetrics calls that fit in `wait_seconds` at one per `poll_seconds` (at least one).
    pub fn attempts(wait_seconds: u64, poll_seconds: u64) -> u32 {
        let n = wait_seconds.checked_div(poll_seconds).unwrap_or(0);
        u32::try_from(n).unwrap_or(u32::MAX).saturating_add(1)
    }
}

/// One line of the smoke test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub check: &'static str,
    pub passed: bool,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub execution_name: String,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.passed)
    }

    pub fn to_text(&self) -> String {
        let mut text = String::new();
        for c in &self.checks {
            let mark = if c.passed { "ok  " } else { "FAIL" };
            text.push_str(&format!("{mark} {:<12} {}\n", c.check, c.detail));
        }
        text.push_str(if self.passed() {
            "smoke test passed\n"
        } else {
            "smoke test FAILED\n"
        });
        text
    }

    fn push(&mut self, check: &'static str, passed: bool, detail: impl Into<String>) -> bool {
        self.checks.push(Check {
            check,
            passed,
            detail: detail.into(),
        });
        passed
    }
}

/// Runs every check in order; a check whose premise failed (no execution, a run that did not
/// succeed) ends the test there, since the next ones would only repeat its failure.
pub async fn run(target: &Target<'_>, plan: &Plan) -> Report {
    let name = sfn::execution_name(&plan.client_id, plan.run_date);
    let input = sfn::execution_input(&plan.client_id, None, plan.run_date);
    let mut report = Report {
        execution_name: name.clone(),
        checks: Vec::new(),
    };

    let started = match sfn::start(target.sfn, target.state_machine_arn, &name, &input).await {
        Ok(started) => started,
        Err(e) => {
            report.push("start", false, e.to_string());
            return report;
        }
    };
    let detail = if started.new {
        format!("started {}", started.execution_arn)
    } else {
        // Execution names are per run date: an earlier smoke of this date is what we check.
        format!(
            "{name} was already started (an earlier smoke of {}): checking that run; pass --date for a fresh one",
            plan.run_date
        )
    };
    report.push("start", true, detail);

    if !wait(target, plan, &started.execution_arn, &mut report).await {
        return report;
    }

    let key = keys::newsletter_file(&plan.client_id, plan.run_date, "newsletter.md");
    match target.newsletters.get(&key).await {
        Ok(Some(body)) if !body.is_empty() => {
            report.push("newsletter", true, format!("{key} ({} bytes)", body.len()))
        }
        Ok(Some(_)) => report.push(
            "newsletter",
            false,
            format!("{key} is empty: read the run's report.json beside it"),
        ),
        Ok(None) => report.push(
            "newsletter",
            false,
            format!(
                "{key} is missing from the newsletters area: check --newsletters names the stack's NewsletterBucketName output"
            ),
        ),
        Err(e) => report.push("newsletter", false, e.to_string()),
    };

    metrics(target, plan, &mut report).await;

    match sfn::start(target.sfn, target.state_machine_arn, &name, &input).await {
        Ok(again) if !again.new => report.push(
            "second start",
            true,
            format!("starting {name} again started nothing"),
        ),
        Ok(again) => report.push(
            "second start",
            false,
            format!(
                "starting {name} again started a new execution {}: the run would be written twice",
                again.execution_arn
            ),
        ),
        Err(e) => report.push("second start", false, e.to_string()),
    };
    report
}

/// Polls DescribeExecution until the run ends or `plan.timeout` passed; pushes the `status`
/// check and tells whether the run succeeded.
async fn wait(target: &Target<'_>, plan: &Plan, execution_arn: &str, report: &mut Report) -> bool {
    let deadline = tokio::time::Instant::now() + plan.timeout;
    loop {
        let described = match sfn::describe(target.sfn, execution_arn).await {
            Ok(d) => d,
            Err(e) => return report.push("status", false, e.to_string()),
        };
        match described.status.as_str() {
            "SUCCEEDED" => return report.push("status", true, "SUCCEEDED"),
            "RUNNING" | "PENDING_REDRIVE" => {
                if tokio::time::Instant::now() >= deadline {
                    return report.push(
                        "status",
                        false,
                        format!(
                            "still {} after {}s: raise --timeout, or follow it with vectora aws status {execution_arn}",
                            described.status,
                            plan.timeout.as_secs()
                        ),
                    );
                }
                tokio::time::sleep(plan.poll).await;
            }
            other => {
                return report.push(
                    "status",
                    false,
                    format!(
                        "{other}: {} {} (vectora aws status {execution_arn} for the whole execution)",
                        described.error.as_deref().unwrap_or("no error"),
                        described.cause.as_deref().unwrap_or("")
                    ),
                );
            }
        }
    }
}

/// The metrics assemble publishes under the namespace with dimension `ClientId`: ListMetrics,
/// restricted to those with data points in the last 3 hours (the run just published them).
async fn metrics(target: &Target<'_>, plan: &Plan, report: &mut Report) -> bool {
    let attempts = plan.metrics_attempts.max(1);
    let mut names = Vec::new();
    for attempt in 1..=attempts {
        match listed_metrics(target, plan).await {
            Ok(listed) => names = listed,
            Err(e) => return report.push("metrics", false, e),
        }
        if names.iter().any(|n| n == "ItemsAnalyzed") {
            return report.push(
                "metrics",
                true,
                format!(
                    "{} ClientId={}: {}",
                    target.namespace,
                    plan.client_id,
                    names.join(", ")
                ),
            );
        }
        if attempt < attempts {
            tokio::time::sleep(plan.poll).await;
        }
    }
    report.push(
        "metrics",
        false,
        format!(
            "no ItemsAnalyzed in {} for ClientId={} in the last 3 hours after {attempts} ListMetrics call(s) (found: {}): check --namespace is the stack's MetricsNamespace and assemble may call cloudwatch:PutMetricData, or raise --metrics-wait",
            target.namespace,
            plan.client_id,
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ),
    )
}

/// The metric names with data points in the last 3 hours, sorted.
async fn listed_metrics(target: &Target<'_>, plan: &Plan) -> Result<Vec<String>, String> {
    let listed = target
        .cloudwatch
        .list_metrics()
        .namespace(target.namespace)
        .dimensions(
            DimensionFilter::builder()
                .name("ClientId")
                .value(&plan.client_id)
                .build(),
        )
        .recently_active(RecentlyActive::Pt3H)
        .send()
        .await;
    match listed {
        Ok(out) => {
            let mut names: Vec<String> = out
                .metrics()
                .iter()
                .filter_map(|m| m.metric_name())
                .map(str::to_string)
                .collect();
            names.sort_unstable();
            names.dedup();
            Ok(names)
        }
        Err(e) => Err(Failure::of(&e)
            .into_error(&format!("CloudWatch ListMetrics {}", target.namespace), "")
            .to_string()),
    }
}

//! `vectora aws preflight`: reads the account a deployment is about to land in and refuses,
//! before CloudFormation sees anything, what would fail or misbehave there — a Lambda
//! reservation that leaves fewer than 10 unreserved executions (the incident that rolled back
//! the system this one replaces), Bedrock models the account cannot call or whose quotas are too
//! small for the clients that start together, an SES sandbox with unverified recipients, a
//! missing SSM parameter, a bucket name someone else holds.
//!
//! Domain logic only: the account is read through `ports::account`, the deployment comes as
//! parameters ([`Deployment`]) and the scheduled clients as [`ScheduledClient`]s (`plan`).

mod checks;
pub mod plan;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::ports::account::{
    AccountIdentity, BedrockAccess, BedrockQuotas, Buckets, LambdaAccount, Parameters,
    ScheduleGroups, SesAccount,
};

pub use plan::{ScheduledClient, scheduled_clients};

/// How bad a finding is. Any `Blocking` finding makes the preflight (and `promote`) refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Ok,
    Warning,
    Blocking,
}

/// One check's result: what was read, why it passes or fails, and what to do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// `lambda.reserved-concurrency`, `bedrock.access`, `ses.recipients`, …
    pub check: String,
    pub read: String,
    pub why: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fix: String,
}

impl Finding {
    fn new(severity: Severity, check: &str, read: String, why: String, fix: String) -> Self {
        Finding {
            severity,
            check: check.to_string(),
            read,
            why,
            fix,
        }
    }

    pub fn ok(check: &str, read: String, why: impl Into<String>) -> Self {
        Self::new(Severity::Ok, check, read, why.into(), String::new())
    }

    pub fn warning(check: &str, read: String, why: String, fix: impl Into<String>) -> Self {
        Self::new(Severity::Warning, check, read, why, fix.into())
    }

    pub fn blocking(check: &str, read: String, why: String, fix: impl Into<String>) -> Self {
        Self::new(Severity::Blocking, check, read, why, fix.into())
    }
}

/// Everything the preflight found for one environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub env: String,
    pub stack_name: String,
    pub blocking: usize,
    pub warnings: usize,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn new(deployment: &Deployment, findings: Vec<Finding>) -> Report {
        let count = |s| findings.iter().filter(|f| f.severity == s).count();
        Report {
            env: deployment.env.clone(),
            stack_name: deployment.stack_name.clone(),
            blocking: count(Severity::Blocking),
            warnings: count(Severity::Warning),
            findings,
        }
    }

    pub fn passed(&self) -> bool {
        self.blocking == 0
    }

    /// One line per finding, then a verdict line.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            let label = match f.severity {
                Severity::Ok => "ok      ",
                Severity::Warning => "WARNING ",
                Severity::Blocking => "BLOCKING",
            };
            out.push_str(&format!("{label} {}: {} — {}", f.check, f.read, f.why));
            if !f.fix.is_empty() {
                out.push_str(&format!(" Fix: {}", f.fix));
            }
            out.push('\n');
        }
        out.push_str(&format!(
            "preflight {} (stack {}): {} blocking, {} warning(s){}\n",
            self.env,
            self.stack_name,
            self.blocking,
            self.warnings,
            if self.passed() {
                ""
            } else {
                ": do not deploy until the blocking findings are fixed"
            }
        ));
        out
    }
}

/// The template parameters a preflight judges, with the template's own defaults
/// (`infra/template.yaml`; a test keeps the two in step) under the environment's samconfig
/// overrides and the command line's.
pub const TEMPLATE_DEFAULTS: &[(&str, &str)] = &[
    (
        "BedrockModelId",
        "eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
    ),
    ("Editor", "bedrock"),
    ("NcbiApiKeyParameterName", "default"),
    ("ReservedConcurrency", "0"),
    ("AlarmEmail", ""),
];

/// The functions of the template that get `ReservedConcurrency` when it is set (the steps and
/// deliver; sync-clients runs on a file change and reserves nothing), named
/// `vectora-inbox-{step}-{env}`. A test checks them against the template.
pub const RESERVING_FUNCTIONS: [&str; 8] = [
    "plan",
    "fetch",
    "normalize",
    "match",
    "score",
    "generate-section",
    "assemble",
    "deliver",
];

/// How many functions a reservation applies to.
pub const FUNCTIONS: i32 = RESERVING_FUNCTIONS.len() as i32;

/// AWS keeps this many executions unreserved in every account and refuses reservations that
/// would go below it.
pub const UNRESERVED_MINIMUM: i32 = 10;

/// One environment about to be deployed.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    /// dev, stage or prod.
    pub env: String,
    pub stack_name: String,
    /// Template parameters as the deployment would pass them (samconfig, then overrides).
    pub parameters: BTreeMap<String, String>,
}

impl Deployment {
    pub fn new(env: &str, stack_name: &str, parameters: BTreeMap<String, String>) -> Self {
        Deployment {
            env: env.to_string(),
            stack_name: stack_name.to_string(),
            parameters,
        }
    }

    /// The value the stack would get: given, else the template's default, else empty.
    pub fn param(&self, name: &str) -> &str {
        self.parameters
            .get(name)
            .map(String::as_str)
            .or_else(|| {
                TEMPLATE_DEFAULTS
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| *v)
            })
            .unwrap_or("")
    }

    /// The Map concurrencies of the template's `EnvSettings` (sources, sections).
    pub fn map_concurrency(&self) -> (i32, i32) {
        if self.env == "dev" { (2, 1) } else { (4, 2) }
    }
}

/// The account, read through its ports.
#[derive(Clone)]
pub struct Account {
    pub identity: Arc<dyn AccountIdentity>,
    pub lambda: Arc<dyn LambdaAccount>,
    pub bedrock: Arc<dyn BedrockAccess>,
    pub quotas: Arc<dyn BedrockQuotas>,
    pub ses: Arc<dyn SesAccount>,
    pub parameters: Arc<dyn Parameters>,
    pub buckets: Arc<dyn Buckets>,
    pub schedule_groups: Arc<dyn ScheduleGroups>,
}

/// Runs every check; `config_findings` are those found while reading the client bundle.
pub async fn run(
    deployment: &Deployment,
    clients: &[ScheduledClient],
    config_findings: Vec<Finding>,
    account: &Account,
) -> Report {
    let mut findings = config_findings;
    findings.extend(checks::lambda(deployment, clients, account.lambda.as_ref()).await);
    findings.extend(
        checks::bedrock(
            deployment,
            clients,
            account.bedrock.as_ref(),
            account.quotas.as_ref(),
        )
        .await,
    );
    findings.extend(checks::ses(deployment, clients, account.ses.as_ref()).await);
    findings.extend(checks::ssm(deployment, clients, account.parameters.as_ref()).await);
    findings.extend(
        checks::buckets(
            deployment,
            account.identity.as_ref(),
            account.buckets.as_ref(),
        )
        .await,
    );
    findings.push(checks::schedule_group(deployment, account.schedule_groups.as_ref()).await);
    findings.extend(checks::schedules_and_alarms(deployment, clients));
    Report::new(deployment, findings)
}

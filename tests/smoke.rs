//! `vectora aws smoke` against a loopback stack: a Step Functions endpoint speaking the JSON
//! 1.0 protocol (StartExecution, DescribeExecution) served in-test, the real S3-protocol
//! server of `tests/common`, and CloudWatch ListMetrics answered by aws-smithy-mocks (the SDK
//! speaks RPCv2-CBOR to it). Also: the canary bundle runs offline with the template editor.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_mocks::{mock, mock_client};
use chrono::NaiveDate;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use common::s3_server::{ACCESS_KEY, SECRET_KEY, s3_server};
use vectora_inbox::deploy::smoke::{self, Plan, Report, Target};
use vectora_inbox::ports::ObjectStore;
use vectora_inbox::runner;
use vectora_inbox::store::{S3Location, S3Store};

const STATE_MACHINE: &str = "arn:aws:states:eu-west-3:123456789012:stateMachine:vectora-inbox-dev";
const DATE: &str = "2026-11-23";

/// The statuses DescribeExecution answers in turn; the last one repeats.
#[derive(Default)]
struct SfnState {
    statuses: Vec<&'static str>,
    described: usize,
    /// Execution name → input of its first start.
    executions: HashMap<String, Value>,
    /// Every call: (X-Amz-Target operation, request body).
    calls: Vec<(String, Value)>,
}

/// A loopback Step Functions endpoint; returns its URL and its state.
async fn sfn_server(statuses: Vec<&'static str>) -> (String, Arc<Mutex<SfnState>>) {
    let state = Arc::new(Mutex::new(SfnState {
        statuses,
        ..SfnState::default()
    }));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let shared = state.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let state = shared.clone();
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    let state = state.clone();
                    async move {
                        let target = request
                            .headers()
                            .get("x-amz-target")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string();
                        let body = request.into_body().collect().await.unwrap().to_bytes();
                        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        let (status, reply) = answer(&mut state.lock().unwrap(), &target, body);
                        Ok::<_, std::convert::Infallible>(
                            hyper::Response::builder()
                                .status(status)
                                .header("content-type", "application/x-amz-json-1.0")
                                .body(Full::new(Bytes::from(reply.to_string())))
                                .unwrap(),
                        )
                    }
                },
            );
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(socket), service)
                    .await;
            });
        }
    });
    (endpoint, state)
}

/// What Step Functions answers: a same-name start is `ExecutionAlreadyExists` (the real
/// service returns the existing execution only for an identical input of a running one; the
/// smoke test must treat both as "started nothing").
fn answer(state: &mut SfnState, target: &str, body: Value) -> (u16, Value) {
    state.calls.push((target.to_string(), body.clone()));
    let arn = |name: &str| {
        format!("arn:aws:states:eu-west-3:123456789012:execution:vectora-inbox-dev:{name}")
    };
    match target {
        "AWSStepFunctions.StartExecution" => {
            let name = body["name"].as_str().unwrap_or_default().to_string();
            if state.executions.contains_key(&name) {
                return (
                    400,
                    json!({"__type": "ExecutionAlreadyExists", "message": format!("Execution Already Exists: '{}'", arn(&name))}),
                );
            }
            let input: Value =
                serde_json::from_str(body["input"].as_str().unwrap_or("null")).unwrap();
            state.executions.insert(name.clone(), input);
            (
                200,
                json!({"executionArn": arn(&name), "startDate": 1_795_420_800.0}),
            )
        }
        "AWSStepFunctions.DescribeExecution" => {
            let i = state.described.min(state.statuses.len() - 1);
            state.described += 1;
            let status = state.statuses[i];
            let mut out = json!({
                "executionArn": body["executionArn"],
                "stateMachineArn": STATE_MACHINE,
                "status": status,
                "startDate": 1_795_420_800.0,
            });
            if status == "FAILED" {
                out["error"] = json!("Config");
                out["cause"] = json!("clients/canary.yaml: sources: unknown source nowhere");
            }
            (200, out)
        }
        other => (
            400,
            json!({"__type": "UnknownOperationException", "message": other}),
        ),
    }
}

fn sfn_client(endpoint: &str) -> aws_sdk_sfn::Client {
    aws_sdk_sfn::Client::from_conf(
        aws_sdk_sfn::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_sfn::config::Region::new("eu-west-3"))
            .credentials_provider(aws_sdk_sfn::config::Credentials::new(
                ACCESS_KEY, SECRET_KEY, None, None, "test",
            ))
            .endpoint_url(endpoint)
            .build(),
    )
}

/// CloudWatch answering ListMetrics with these metric names for ClientId=canary.
fn cloudwatch(names: &'static [&'static str]) -> aws_sdk_cloudwatch::Client {
    let listed = mock!(aws_sdk_cloudwatch::Client::list_metrics)
        .match_requests(|r| {
            r.namespace() == Some("VectoraInbox")
                && r.dimensions()
                    .iter()
                    .any(|d| d.name() == Some("ClientId") && d.value() == Some("canary"))
        })
        .then_output(move || {
            aws_sdk_cloudwatch::operation::list_metrics::ListMetricsOutput::builder()
                .set_metrics(Some(
                    names
                        .iter()
                        .map(|n| {
                            aws_sdk_cloudwatch::types::Metric::builder()
                                .namespace("VectoraInbox")
                                .metric_name(*n)
                                .build()
                        })
                        .collect(),
                ))
                .build()
        });
    mock_client!(aws_sdk_cloudwatch, [&listed])
}

fn plan(timeout: Duration) -> Plan {
    Plan {
        client_id: "canary".into(),
        run_date: DATE.parse::<NaiveDate>().unwrap(),
        timeout,
        poll: Duration::ZERO,
        metrics_attempts: 1,
    }
}

struct Stack {
    sfn: aws_sdk_sfn::Client,
    state: Arc<Mutex<SfnState>>,
    newsletters: S3Store,
    _s3: common::s3_server::S3Server,
}

/// A loopback stack whose newsletters bucket holds the canary's newsletter when `written`.
async fn stack(statuses: Vec<&'static str>, written: bool) -> Stack {
    let s3 = s3_server().await;
    s3.bucket("newsletters");
    let newsletters = S3Store::new(s3.client(), S3Location::parse("s3://newsletters").unwrap());
    if written {
        newsletters
            .put(
                "canary/2026/11/23/newsletter.md",
                b"# Vectora Inbox canary\n".to_vec(),
                "text/markdown",
            )
            .await
            .unwrap();
    }
    let (endpoint, state) = sfn_server(statuses).await;
    Stack {
        sfn: sfn_client(&endpoint),
        state,
        newsletters,
        _s3: s3,
    }
}

async fn smoke(stack: &Stack, cloudwatch: &aws_sdk_cloudwatch::Client, plan: &Plan) -> Report {
    smoke::run(
        &Target {
            sfn: &stack.sfn,
            cloudwatch,
            newsletters: &stack.newsletters,
            state_machine_arn: STATE_MACHINE,
            namespace: "VectoraInbox",
        },
        plan,
    )
    .await
}

fn line(report: &Report, check: &str) -> (bool, String) {
    let c = report
        .checks
        .iter()
        .find(|c| c.check == check)
        .unwrap_or_else(|| panic!("no {check} line in\n{}", report.to_text()));
    (c.passed, c.detail.clone())
}

#[tokio::test]
async fn smoke_of_a_healthy_stack_passes_every_check_and_the_second_start_starts_nothing() {
    let stack = stack(vec!["RUNNING", "RUNNING", "SUCCEEDED"], true).await;
    let cw = cloudwatch(&["ItemsAnalyzed", "ItemsSelected", "RunDuration"]);
    let report = smoke(&stack, &cw, &plan(Duration::from_secs(60))).await;
    assert!(report.passed(), "{}", report.to_text());
    let checks: Vec<&str> = report.checks.iter().map(|c| c.check).collect();
    assert_eq!(
        checks,
        ["start", "status", "newsletter", "metrics", "second start"]
    );
    assert!(report.to_text().ends_with("smoke test passed\n"));

    let state = stack.state.lock().unwrap();
    // The run is started once, with the input `vectora aws start` sends, under its run name.
    assert_eq!(state.executions.len(), 1);
    assert_eq!(
        state.executions["canary-2026-11-23"],
        json!({"client_id": "canary", "run_date": DATE})
    );
    let ops: Vec<&str> = state.calls.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(
        ops,
        [
            "AWSStepFunctions.StartExecution",
            "AWSStepFunctions.DescribeExecution",
            "AWSStepFunctions.DescribeExecution",
            "AWSStepFunctions.DescribeExecution",
            "AWSStepFunctions.StartExecution",
        ]
    );
    assert_eq!(state.calls[4].1["name"], "canary-2026-11-23");
    assert!(
        line(&report, "newsletter")
            .1
            .contains("canary/2026/11/23/newsletter.md")
    );
    assert!(line(&report, "metrics").1.contains("ItemsAnalyzed"));
}

#[tokio::test]
async fn smoke_of_an_already_started_date_checks_that_run_instead_of_failing_start() {
    let stack = stack(vec!["SUCCEEDED"], true).await;
    stack
        .state
        .lock()
        .unwrap()
        .executions
        .insert("canary-2026-11-23".into(), json!({}));
    let cw = cloudwatch(&["ItemsAnalyzed"]);
    let report = smoke(&stack, &cw, &plan(Duration::from_secs(60))).await;
    assert!(report.passed(), "{}", report.to_text());
    assert!(line(&report, "start").1.contains("already started"));
}

#[tokio::test]
async fn smoke_reports_a_failed_run_with_its_error_and_stops_there() {
    let stack = stack(vec!["RUNNING", "FAILED"], false).await;
    let cw = cloudwatch(&["ItemsAnalyzed"]);
    let report = smoke(&stack, &cw, &plan(Duration::from_secs(60))).await;
    assert!(!report.passed());
    let (passed, detail) = line(&report, "status");
    assert!(!passed);
    assert!(
        detail.starts_with("FAILED: Config clients/canary.yaml"),
        "{detail}"
    );
    assert_eq!(report.checks.len(), 2, "{}", report.to_text());
    assert!(report.to_text().ends_with("smoke test FAILED\n"));
}

#[tokio::test]
async fn smoke_gives_up_on_a_run_still_running_at_the_timeout() {
    let stack = stack(vec!["RUNNING"], true).await;
    let cw = cloudwatch(&["ItemsAnalyzed"]);
    let report = smoke(&stack, &cw, &plan(Duration::ZERO)).await;
    let (passed, detail) = line(&report, "status");
    assert!(!passed);
    assert!(
        detail.contains("still RUNNING after 0s: raise --timeout"),
        "{detail}"
    );
    assert_eq!(stack.state.lock().unwrap().described, 1);
}

/// ListMetrics output with these names.
fn listed(names: &[&str]) -> aws_sdk_cloudwatch::operation::list_metrics::ListMetricsOutput {
    aws_sdk_cloudwatch::operation::list_metrics::ListMetricsOutput::builder()
        .set_metrics(Some(
            names
                .iter()
                .map(|n| {
                    aws_sdk_cloudwatch::types::Metric::builder()
                        .namespace("VectoraInbox")
                        .metric_name(*n)
                        .build()
                })
                .collect(),
        ))
        .build()
}

#[tokio::test]
async fn metrics_not_listed_yet_are_asked_again_until_they_are() {
    // CloudWatch lists a new metric minutes after its first data point: the first call after a
    // fresh stack's first run may find nothing.
    let stack = stack(vec!["SUCCEEDED"], true).await;
    let rule = mock!(aws_sdk_cloudwatch::Client::list_metrics)
        .sequence()
        .output(|| listed(&[]))
        .output(|| listed(&["ItemsAnalyzed", "RunDuration"]))
        .build();
    let cw = mock_client!(aws_sdk_cloudwatch, [&rule]);
    let plan = Plan {
        metrics_attempts: 3,
        ..plan(Duration::from_secs(60))
    };
    let report = smoke(&stack, &cw, &plan).await;
    assert!(report.passed(), "{}", report.to_text());
    assert_eq!(rule.num_calls(), 2, "asked until listed, not more");
    assert_eq!(Plan::attempts(900, 10), 91);
    assert_eq!(Plan::attempts(0, 10), 1);
    assert_eq!(Plan::attempts(900, 0), 1);
}

#[tokio::test]
async fn smoke_fails_the_lines_of_a_missing_newsletter_and_missing_metrics() {
    let stack = stack(vec!["SUCCEEDED"], false).await;
    let cw = cloudwatch(&[]);
    let report = smoke(&stack, &cw, &plan(Duration::from_secs(60))).await;
    assert!(!report.passed());
    let (passed, detail) = line(&report, "newsletter");
    assert!(!passed);
    assert!(
        detail.contains("canary/2026/11/23/newsletter.md is missing"),
        "{detail}"
    );
    let (passed, detail) = line(&report, "metrics");
    assert!(!passed);
    assert!(
        detail.contains("no ItemsAnalyzed in VectoraInbox for ClientId=canary"),
        "{detail}"
    );
    // The second start is still checked: each line stands on its own.
    assert!(line(&report, "second start").0);
}

#[tokio::test]
async fn canary_bundle_runs_offline_with_the_template_editor_beside_the_fixtures() {
    let config = tempfile::tempdir().unwrap();
    common::copy_tree(&common::fixtures(), config.path());
    std::fs::copy(
        common::fixtures().join("canary/clients/canary.yaml"),
        config.path().join("clients/canary.yaml"),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let (mut ports, metrics) = common::offline_ports(config.path(), out.path());
    // A deployment's own adapters (the network, Bedrock) refuse here: the canary's file alone
    // (replay_captures, editor.template_only) keeps its run inside the stack.
    ports.fetcher = Arc::new(NoNetwork);
    ports.editor = Arc::new(NoModel);
    let output = runner::execute(
        runner::DEFINITION,
        ports,
        json!({"client_id": "canary", "run_date": DATE}),
        "canary-test",
        None,
    )
    .await
    .expect("definition loads")
    .expect("execution succeeds");
    assert_eq!(output["sources_failed"], 0, "{output}");
    assert_eq!(output["bedrock_calls"], 0, "{output}");
    assert!(
        out.path()
            .join("newsletters/canary/2026/11/23/newsletter.md")
            .is_file()
    );
    assert!(
        metrics
            .published()
            .iter()
            .any(|(client, published)| client == "canary"
                && published.iter().any(|m| m.name == "ItemsAnalyzed"))
    );
}

/// A fetcher that refuses, as the network would in a stack that cannot reach the feed.
struct NoNetwork;

#[async_trait::async_trait]
impl vectora_inbox::ports::Fetcher for NoNetwork {
    async fn fetch(
        &self,
        request: &vectora_inbox::ports::fetcher::FetchRequest,
    ) -> vectora_inbox::Result<vectora_inbox::ports::fetcher::FetchResponse> {
        panic!("the canary reached for the network: {}", request.url)
    }

    fn medium(&self) -> &'static str {
        "network"
    }
}

/// An editor that refuses, as Bedrock would without model access.
struct NoModel;

#[async_trait::async_trait]
impl vectora_inbox::ports::Editor for NoModel {
    fn name(&self) -> &'static str {
        "bedrock"
    }

    async fn write_section(
        &self,
        brief: &vectora_inbox::ports::editor::SectionBrief<'_>,
    ) -> vectora_inbox::Result<vectora_inbox::model::SectionDraft> {
        panic!("the canary called the model for {}", brief.section.id)
    }
}

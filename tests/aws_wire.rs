//! The requests the real AWS SDK clients send for our calls, captured at the HTTP level
//! (CloudWatch speaks RPCv2-CBOR, Step Functions JSON 1.0: no local emulator answers the
//! first), and how their failures map to the state machine's error names.

use std::sync::Arc;

use aws_smithy_http_client::test_util::{CaptureRequestReceiver, capture_request};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_types::body::SdkBody;
use chrono::TimeZone;
use serde_json::{Value, json};

use vectora_inbox::aws::cloudwatch::CloudWatchMetrics;
use vectora_inbox::aws::sfn;
use vectora_inbox::ports::metrics::{Metric, MetricsSink, Unit};
use vectora_inbox::ports::{ObjectStore, VirtualClock};
use vectora_inbox::store::{S3Location, S3Store};

const STATE_MACHINE: &str =
    "arn:aws:states:eu-west-3:123456789012:stateMachine:vectora-inbox-newsletter-dev";

fn reply(
    status: u16,
    headers: &[(&str, &str)],
    body: impl Into<SdkBody>,
) -> http::Response<SdkBody> {
    let mut response = http::Response::builder().status(status);
    for (k, v) in headers {
        response = response.header(*k, *v);
    }
    response.body(body.into()).unwrap()
}

macro_rules! client_with {
    ($sdk:ident, $http:expr) => {
        $sdk::Client::from_conf(
            $sdk::Config::builder()
                .behavior_version_latest()
                .region($sdk::config::Region::new("eu-west-3"))
                .credentials_provider($sdk::config::Credentials::new(
                    "AKIDTEST", "secret", None, None, "test",
                ))
                .http_client($http)
                .build(),
        )
    };
}

fn json_body(request: CaptureRequestReceiver) -> (http::request::Parts, Value) {
    let request = request.expect_request();
    let body = request.body().bytes().expect("a buffered body").to_vec();
    let request = request.try_into_http1x().unwrap();
    let (parts, _) = request.into_parts();
    (parts, serde_json::from_slice(&body).unwrap())
}

/// CBOR → JSON, dropping tags (CloudWatch's timestamps are tag 1 epoch seconds).
fn cbor_to_json(value: ciborium::Value) -> Value {
    use ciborium::Value as C;
    match value {
        C::Integer(i) => json!(i128::from(i) as i64),
        C::Float(f) => json!(f),
        C::Text(s) => json!(s),
        C::Bool(b) => json!(b),
        C::Null => Value::Null,
        C::Tag(_, inner) => cbor_to_json(*inner),
        C::Array(items) => Value::Array(items.into_iter().map(cbor_to_json).collect()),
        C::Map(entries) => Value::Object(
            entries
                .into_iter()
                .map(|(k, v)| (k.as_text().unwrap().to_string(), cbor_to_json(v)))
                .collect(),
        ),
        other => panic!("unexpected CBOR value {other:?}"),
    }
}

#[tokio::test]
async fn put_metric_data_sends_every_figure_under_the_client_dimension() {
    let (http, request) = capture_request(Some(reply(
        200,
        &[
            ("smithy-protocol", "rpc-v2-cbor"),
            ("content-type", "application/cbor"),
        ],
        vec![0xa0u8], // {}
    )));
    let clock = Arc::new(VirtualClock::new(
        chrono::Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap(),
    ));
    let sink = CloudWatchMetrics::new(
        client_with!(aws_sdk_cloudwatch, http),
        "VectoraInbox",
        clock,
    );
    sink.publish(
        "lai_weekly",
        &[
            Metric::count("ItemsAnalyzed", 85),
            Metric {
                name: "RunDuration",
                value: 1234.0,
                unit: Unit::Milliseconds,
            },
            Metric {
                name: "BedrockCostUsd",
                value: 0.25,
                unit: Unit::None,
            },
        ],
    )
    .await
    .unwrap();

    let request = request.expect_request();
    let body = request.body().bytes().unwrap().to_vec();
    let (parts, _) = request.try_into_http1x().unwrap().into_parts();
    assert_eq!(parts.method, "POST");
    assert_eq!(
        parts.uri.to_string(),
        "https://monitoring.eu-west-3.amazonaws.com/service/GraniteServiceVersion20100801/operation/PutMetricData"
    );
    assert_eq!(parts.headers["smithy-protocol"], "rpc-v2-cbor");
    assert_eq!(parts.headers["content-type"], "application/cbor");
    assert!(
        parts.headers["authorization"]
            .to_str()
            .unwrap()
            .contains("/eu-west-3/monitoring/aws4_request"),
        "signed for CloudWatch in the run's region"
    );
    let decoded: ciborium::Value = ciborium::from_reader(body.as_slice()).unwrap();
    let dimension = json!([{"Name": "ClientId", "Value": "lai_weekly"}]);
    let at = 1_795_420_800.0;
    assert_eq!(
        cbor_to_json(decoded),
        json!({
            "Namespace": "VectoraInbox",
            "MetricData": [
                {"MetricName": "ItemsAnalyzed", "Dimensions": dimension, "Timestamp": at, "Value": 85.0, "Unit": "Count"},
                {"MetricName": "RunDuration", "Dimensions": dimension, "Timestamp": at, "Value": 1234.0, "Unit": "Milliseconds"},
                {"MetricName": "BedrockCostUsd", "Dimensions": dimension, "Timestamp": at, "Value": 0.25, "Unit": "None"},
            ]
        })
    );
}

#[tokio::test]
async fn put_metric_data_throttling_is_retried_by_the_state_machine() {
    let throttled = mock!(aws_sdk_cloudwatch::Client::put_metric_data).then_http_response(|| {
        aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(503).unwrap(),
            SdkBody::empty(),
        )
    });
    let client = mock_client!(
        aws_sdk_cloudwatch,
        RuleMode::Sequential,
        [&throttled],
        |c| c.retry_config(aws_sdk_cloudwatch::config::retry::RetryConfig::disabled())
    );
    let sink = CloudWatchMetrics::new(
        client,
        "VectoraInbox",
        Arc::new(vectora_inbox::ports::SystemClock),
    );
    let err = sink
        .publish("lai_weekly", &[Metric::count("ItemsAnalyzed", 1)])
        .await
        .unwrap_err();
    assert_eq!(err.kind().name(), "Throttled", "{err}");
    assert!(
        err.to_string()
            .contains("CloudWatch PutMetricData VectoraInbox"),
        "{err}"
    );
}

#[tokio::test]
async fn start_execution_sends_the_schedules_input_under_a_name_from_client_and_date() {
    let arn = "arn:aws:states:eu-west-3:123456789012:execution:vectora-inbox-newsletter-dev:lai_weekly-2026-11-23";
    let (http, request) = capture_request(Some(reply(
        200,
        &[("content-type", "application/x-amz-json-1.0")],
        format!(r#"{{"executionArn":"{arn}","startDate":1795420800.0}}"#),
    )));
    let client = client_with!(aws_sdk_sfn, http);
    let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let name = sfn::execution_name("lai_weekly", date);
    let input = sfn::execution_input("lai_weekly", Some(7), date);
    let started = sfn::start(&client, STATE_MACHINE, &name, &input)
        .await
        .unwrap();
    assert_eq!(
        started,
        sfn::Started {
            execution_arn: arn.into(),
            name: "lai_weekly-2026-11-23".into(),
            new: true
        }
    );
    let (parts, body) = json_body(request);
    assert_eq!(parts.method, "POST");
    assert_eq!(
        parts.uri.to_string(),
        "https://states.eu-west-3.amazonaws.com/"
    );
    assert_eq!(
        parts.headers["x-amz-target"],
        "AWSStepFunctions.StartExecution"
    );
    assert_eq!(parts.headers["content-type"], "application/x-amz-json-1.0");
    assert_eq!(
        body,
        json!({
            "stateMachineArn": STATE_MACHINE,
            "name": "lai_weekly-2026-11-23",
            "input": r#"{"client_id":"lai_weekly","period_days":7,"run_date":"2026-11-23"}"#,
        })
    );
}

#[tokio::test]
async fn a_second_start_of_the_same_run_reports_the_first() {
    let exists = mock!(aws_sdk_sfn::Client::start_execution).then_error(|| {
        aws_sdk_sfn::operation::start_execution::StartExecutionError::ExecutionAlreadyExists(
            aws_sdk_sfn::types::error::ExecutionAlreadyExists::builder()
                .message("Execution Already Exists: 'lai_weekly-2026-11-23'")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_sfn, [&exists]);
    let started = sfn::start(
        &client,
        STATE_MACHINE,
        "lai_weekly-2026-11-23",
        &json!({"client_id": "lai_weekly"}),
    )
    .await
    .unwrap();
    assert!(!started.new);
    assert_eq!(
        started.execution_arn,
        "arn:aws:states:eu-west-3:123456789012:execution:vectora-inbox-newsletter-dev:lai_weekly-2026-11-23"
    );
    assert_eq!(exists.num_calls(), 1);
}

#[tokio::test]
async fn redrive_execution_sends_the_execution_arn() {
    let arn = "arn:aws:states:eu-west-3:123456789012:execution:vectora-inbox-newsletter-dev:lai_weekly-2026-11-23";
    let (http, request) = capture_request(Some(reply(
        200,
        &[("content-type", "application/x-amz-json-1.0")],
        r#"{"redriveDate":1795424400.0}"#,
    )));
    let redriven = sfn::redrive(&client_with!(aws_sdk_sfn, http), arn)
        .await
        .unwrap();
    assert_eq!(redriven, "2026-11-23T09:00:00+00:00");
    let (parts, body) = json_body(request);
    assert_eq!(
        parts.headers["x-amz-target"],
        "AWSStepFunctions.RedriveExecution"
    );
    assert_eq!(body["executionArn"], arn);
    // The SDK adds an idempotency token: a retried redrive call is one redrive.
    assert_eq!(
        body["clientToken"].as_str().map(str::len),
        Some(36),
        "{body}"
    );
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
}

#[tokio::test]
async fn a_redrive_refused_says_which_executions_can_be_redriven() {
    let (http, _request) = capture_request(Some(reply(
        400,
        &[("content-type", "application/x-amz-json-1.0")],
        r#"{"__type":"com.amazonaws.swf.service.v2.model#ExecutionNotRedrivable","message":"Execution is RUNNING"}"#,
    )));
    let err = sfn::redrive(
        &client_with!(aws_sdk_sfn, http),
        "arn:aws:states:eu-west-3:1:execution:m:n",
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("ExecutionNotRedrivable"), "{err}");
    assert!(
        err.contains("only a FAILED, TIMED_OUT or ABORTED execution"),
        "{err}"
    );
}

#[tokio::test]
async fn a_missing_bucket_on_aws_is_named_with_what_to_do() {
    // What S3 itself answers (s3s-fs answers NoSuchKey instead).
    let (http, _request) = capture_request(Some(reply(
        404,
        &[("content-type", "application/xml")],
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>vectora-nowhere</BucketName></Error>",
    )));
    let store = S3Store::new(
        client_with!(aws_sdk_s3, http),
        S3Location::parse("s3://vectora-nowhere").unwrap(),
    );
    let err = store.get("clients/lai_weekly.yaml").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("\"vectora-nowhere\" does not exist"),
        "{err}"
    );
    assert_eq!(err.kind().name(), "InvalidInput");
}

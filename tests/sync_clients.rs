//! `vectora aws sync-clients` and the sync's AWS adapters on the wire: the exact Scheduler,
//! CloudWatch and SNS requests, and the CLI against a loopback server that speaks the
//! EventBridge Scheduler protocol and counts the calls (25 clients, then a second sync).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use aws_smithy_http_client::test_util::capture_request;
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use vectora_inbox::aws::alerts::AwsAlerts;
use vectora_inbox::aws::scheduler::EventBridgeSchedules;
use vectora_inbox::ports::metrics::MemoryMetrics;
use vectora_inbox::ports::schedules::{Alerts, Rejection, RetryPolicy, Schedule, ScheduleStore};

const GROUP: &str = "vectora-inbox-prod";
const STATE_MACHINE: &str = "arn:aws:states:eu-west-3:123456789012:stateMachine:vectora-inbox-prod";
const ROLE: &str = "arn:aws:iam::123456789012:role/vectora-inbox-scheduler-prod";
const TOPIC: &str = "arn:aws:sns:eu-west-3:123456789012:vectora-inbox-alarms-prod";

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

fn reply(status: u16, content_type: &str, body: impl Into<SdkBody>) -> http::Response<SdkBody> {
    http::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(body.into())
        .unwrap()
}

fn schedule() -> Schedule {
    Schedule {
        name: "lai_weekly".into(),
        description: "Newsletter of lai_weekly (LAI Weekly)".into(),
        expression: "cron(0 8 ? * MON *)".into(),
        timezone: "Europe/Paris".into(),
        flexible_window_minutes: Some(15),
        enabled: true,
        target_arn: STATE_MACHINE.into(),
        role_arn: ROLE.into(),
        input: r#"{"client_id":"lai_weekly","period_days":7}"#.into(),
        retry: RetryPolicy {
            maximum_event_age_seconds: 3600,
            maximum_retry_attempts: 10,
        },
    }
}

#[tokio::test]
async fn create_schedule_sends_the_whole_schedule_in_the_group() {
    let (http, request) = capture_request(Some(reply(
        200,
        "application/json",
        r#"{"ScheduleArn":"arn:aws:scheduler:eu-west-3:123456789012:schedule/vectora-inbox-prod/lai_weekly"}"#,
    )));
    let store = EventBridgeSchedules::new(client_with!(aws_sdk_scheduler, http), GROUP);
    store.create(&schedule()).await.unwrap();

    let request = request.expect_request();
    let body: Value = serde_json::from_slice(request.body().bytes().unwrap()).unwrap();
    let (parts, _) = request.try_into_http1x().unwrap().into_parts();
    assert_eq!(parts.method, "POST");
    assert_eq!(
        parts.uri.to_string(),
        "https://scheduler.eu-west-3.amazonaws.com/schedules/lai_weekly"
    );
    let mut body = body.as_object().unwrap().clone();
    assert!(body.remove("ClientToken").is_some(), "an idempotency token");
    assert_eq!(
        Value::Object(body),
        json!({
            "GroupName": GROUP,
            "Description": "Newsletter of lai_weekly (LAI Weekly)",
            "ScheduleExpression": "cron(0 8 ? * MON *)",
            "ScheduleExpressionTimezone": "Europe/Paris",
            "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
            "State": "ENABLED",
            "Target": {
                "Arn": STATE_MACHINE,
                "RoleArn": ROLE,
                "Input": "{\"client_id\":\"lai_weekly\",\"period_days\":7}",
                "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10}
            }
        })
    );
}

#[tokio::test]
async fn get_schedule_reads_back_what_create_sent_and_a_missing_one_is_none() {
    let answer = json!({
        "Arn": "arn:aws:scheduler:eu-west-3:123456789012:schedule/vectora-inbox-prod/lai_weekly",
        "GroupName": GROUP,
        "Name": "lai_weekly",
        "Description": "Newsletter of lai_weekly (LAI Weekly)",
        "ScheduleExpression": "cron(0 8 ? * MON *)",
        "ScheduleExpressionTimezone": "Europe/Paris",
        "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        "State": "ENABLED",
        "Target": {
            "Arn": STATE_MACHINE,
            "RoleArn": ROLE,
            "Input": "{\"client_id\":\"lai_weekly\",\"period_days\":7}",
            "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10}
        }
    });
    let (http, request) = capture_request(Some(reply(200, "application/json", answer.to_string())));
    let store = EventBridgeSchedules::new(client_with!(aws_sdk_scheduler, http), GROUP);
    assert_eq!(store.get("lai_weekly").await.unwrap(), Some(schedule()));
    let (parts, _) = request
        .expect_request()
        .try_into_http1x()
        .unwrap()
        .into_parts();
    assert_eq!(parts.method, "GET");
    assert_eq!(
        parts.uri.to_string(),
        "https://scheduler.eu-west-3.amazonaws.com/schedules/lai_weekly?groupName=vectora-inbox-prod"
    );

    let missing = http::Response::builder()
        .status(404)
        .header("content-type", "application/json")
        .header("x-amzn-ErrorType", "ResourceNotFoundException")
        .body(SdkBody::from(
            r#"{"Message":"Schedule gone does not exist."}"#,
        ))
        .unwrap();
    let (http, _request) = capture_request(Some(missing));
    let store = EventBridgeSchedules::new(client_with!(aws_sdk_scheduler, http), GROUP);
    assert_eq!(store.get("gone").await.unwrap(), None);
}

#[tokio::test]
async fn the_no_newsletter_alarm_has_the_shape_the_template_had() {
    let (http, request) = capture_request(Some(
        http::Response::builder()
            .status(200)
            .header("smithy-protocol", "rpc-v2-cbor")
            .header("content-type", "application/cbor")
            .body(SdkBody::from(vec![0xa0u8]))
            .unwrap(),
    ));
    let (sns_http, _) = capture_request(None);
    let alerts = AwsAlerts::new(
        client_with!(aws_sdk_cloudwatch, http),
        client_with!(aws_sdk_sns, sns_http),
        Arc::new(MemoryMetrics::default()),
        "VectoraInbox",
        GROUP,
        Some(TOPIC.into()),
    );
    alerts.put_no_newsletter_alarm("lai_weekly").await.unwrap();
    let request = request.expect_request();
    let body = request.body().bytes().unwrap().to_vec();
    let (parts, _) = request.try_into_http1x().unwrap().into_parts();
    assert_eq!(
        parts.uri.to_string(),
        "https://monitoring.eu-west-3.amazonaws.com/service/GraniteServiceVersion20100801/operation/PutMetricAlarm"
    );
    let decoded: ciborium::Value = ciborium::from_reader(body.as_slice()).unwrap();
    assert_eq!(
        cbor_to_json(decoded),
        json!({
            "AlarmName": "vectora-inbox-prod-no-newsletter-lai_weekly",
            "AlarmDescription": "No newsletter published for lai_weekly in the last 7 days. Check its last execution (vectora aws status) and the schedule.",
            "OKActions": [TOPIC],
            "AlarmActions": [TOPIC],
            "MetricName": "NewslettersPublished",
            "Namespace": "VectoraInbox",
            "Statistic": "Sum",
            "Dimensions": [{"Name": "ClientId", "Value": "lai_weekly"}],
            "Period": 86400,
            "EvaluationPeriods": 7,
            "DatapointsToAlarm": 7,
            "Threshold": 1.0,
            "ComparisonOperator": "LessThanThreshold",
            "TreatMissingData": "breaching"
        })
    );
}

#[tokio::test]
async fn a_rejection_is_published_to_the_topic_and_counted() {
    let (cw_http, _) = capture_request(None);
    let (http, request) = capture_request(Some(reply(
        200,
        "text/xml",
        "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult><MessageId>1</MessageId></PublishResult></PublishResponse>",
    )));
    let metrics = Arc::new(MemoryMetrics::default());
    let alerts = AwsAlerts::new(
        client_with!(aws_sdk_cloudwatch, cw_http),
        client_with!(aws_sdk_sns, http),
        metrics.clone(),
        "VectoraInbox",
        GROUP,
        Some(TOPIC.into()),
    );
    alerts
        .config_rejected(&Rejection {
            client_id: "lai_weekly".into(),
            file: "s3://config/clients/lai_weekly.yaml".into(),
            key_path: "schedule.cron".into(),
            line: Some(84),
            message: "\"0 8 * * 1\" is not an EventBridge cron expression".into(),
        })
        .await
        .unwrap();
    let request = request.expect_request();
    let body = String::from_utf8(request.body().bytes().unwrap().to_vec()).unwrap();
    let form: BTreeMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(form["Action"], "Publish");
    assert_eq!(form["TopicArn"], TOPIC);
    assert_eq!(
        form["Subject"],
        "Vectora Inbox: configuration of lai_weekly rejected"
    );
    assert_eq!(
        form["Message"],
        "The configuration of client lai_weekly was rejected; its schedule was left as it was.\n\
         File: s3://config/clients/lai_weekly.yaml\nKey: schedule.cron\nline 84, Problem: \"0 8 * * 1\" is not an EventBridge cron expression\n\
         Fix the file, check it with `vectora validate`, and upload it again."
    );
    let published = metrics.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].0, "lai_weekly");
    assert_eq!(published[0].1[0].name, "ConfigRejected");
}

/// CBOR → JSON, dropping tags.
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

/// A loopback EventBridge Scheduler: schedules by (group, name), every call counted by
/// operation. Enough of the REST-JSON protocol for List/Get/Create/Update/Delete.
#[derive(Default)]
struct FakeScheduler {
    schedules: Mutex<BTreeMap<(String, String), Value>>,
    calls: Mutex<BTreeMap<&'static str, usize>>,
    /// CloudWatch alarms by name.
    alarms: Mutex<BTreeSet<String>>,
}

impl FakeScheduler {
    fn calls(&self) -> BTreeMap<&'static str, usize> {
        self.calls.lock().unwrap().clone()
    }

    fn count(&self, op: &'static str) {
        *self.calls.lock().unwrap().entry(op).or_default() += 1;
    }

    /// CloudWatch (RPCv2-CBOR): the ConfigRejected count and the no-newsletter alarms.
    fn cloudwatch(&self, operation: &str, body: &[u8]) -> Value {
        let input = if body.is_empty() {
            json!({})
        } else {
            cbor_to_json(ciborium::from_reader(body).unwrap())
        };
        let mut alarms = self.alarms.lock().unwrap();
        match operation {
            "PutMetricData" => self.count("PutMetricData"),
            "PutMetricAlarm" => {
                self.count("PutMetricAlarm");
                alarms.insert(input["AlarmName"].as_str().unwrap().to_string());
            }
            "DeleteAlarms" => {
                self.count("DeleteAlarms");
                for name in input["AlarmNames"].as_array().unwrap() {
                    alarms.remove(name.as_str().unwrap());
                }
            }
            "DescribeAlarms" => {
                self.count("DescribeAlarms");
                let prefix = input["AlarmNamePrefix"].as_str().unwrap_or("");
                let found: Vec<Value> = alarms
                    .iter()
                    .filter(|a| a.starts_with(prefix))
                    .map(|a| json!({"AlarmName": a}))
                    .collect();
                return json!({"MetricAlarms": found});
            }
            other => panic!("unexpected CloudWatch operation {other}"),
        }
        json!({})
    }

    fn handle(&self, method: &str, target: &str, body: &[u8]) -> (u16, Value) {
        let url = url::Url::parse(&format!("http://x{target}")).unwrap();
        let query: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
        let path: Vec<&str> = url.path().trim_start_matches('/').split('/').collect();
        let not_found = |name: &str| {
            (
                404,
                json!({"Message": format!("Schedule {name} does not exist.")}),
            )
        };
        match (method, path.as_slice()) {
            ("GET", ["schedules"]) => {
                self.count("ListSchedules");
                let group = &query["ScheduleGroup"];
                let names: Vec<Value> = self
                    .schedules
                    .lock()
                    .unwrap()
                    .keys()
                    .filter(|(g, _)| g == group)
                    .map(|(g, n)| json!({"Name": n, "GroupName": g}))
                    .collect();
                (200, json!({"Schedules": names}))
            }
            ("GET", ["schedules", name]) => {
                self.count("GetSchedule");
                let key = (query["groupName"].clone(), name.to_string());
                match self.schedules.lock().unwrap().get(&key) {
                    Some(s) => (200, s.clone()),
                    None => not_found(name),
                }
            }
            ("POST" | "PUT", ["schedules", name]) => {
                let create = method == "POST";
                self.count(if create {
                    "CreateSchedule"
                } else {
                    "UpdateSchedule"
                });
                let mut s: Value = serde_json::from_slice(body).unwrap();
                let s_obj = s.as_object_mut().unwrap();
                s_obj.remove("ClientToken");
                s_obj.insert("Name".into(), json!(name));
                let key = (
                    s_obj["GroupName"].as_str().unwrap().to_string(),
                    name.to_string(),
                );
                let mut schedules = self.schedules.lock().unwrap();
                match (create, schedules.contains_key(&key)) {
                    (true, true) => (409, json!({"Message": "exists"})),
                    (false, false) => not_found(name),
                    _ => {
                        schedules.insert(key, s);
                        (
                            200,
                            json!({"ScheduleArn": format!("arn:aws:scheduler:eu-west-3:123456789012:schedule/x/{name}")}),
                        )
                    }
                }
            }
            ("DELETE", ["schedules", name]) => {
                self.count("DeleteSchedule");
                let key = (query["groupName"].clone(), name.to_string());
                match self.schedules.lock().unwrap().remove(&key) {
                    Some(_) => (200, json!({})),
                    None => not_found(name),
                }
            }
            _ => (
                400,
                json!({"Message": format!("unexpected {method} {target}")}),
            ),
        }
    }
}

async fn serve(fake: Arc<FakeScheduler>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let fake = fake.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut reader = BufReader::new(read);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = line.split_whitespace();
                    let (method, target) = (
                        parts.next().unwrap().to_string(),
                        parts.next().unwrap().to_string(),
                    );
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        reader.read_line(&mut header).await.unwrap();
                        if header.trim().is_empty() {
                            break;
                        }
                        if let Some((k, v)) = header.split_once(':')
                            && k.eq_ignore_ascii_case("content-length")
                        {
                            length = v.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).await.unwrap();
                    if let Some((_, operation)) = target.rsplit_once("/operation/") {
                        let answer = fake.cloudwatch(operation, &body);
                        let mut cbor = Vec::new();
                        ciborium::into_writer(&answer, &mut cbor).unwrap();
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nsmithy-protocol: rpc-v2-cbor\r\ncontent-type: application/cbor\r\ncontent-length: {}\r\n\r\n",
                            cbor.len()
                        );
                        write.write_all(head.as_bytes()).await.unwrap();
                        write.write_all(&cbor).await.unwrap();
                        continue;
                    }
                    let (status, answer) = fake.handle(&method, &target, &body);
                    let answer = answer.to_string();
                    let error = match status {
                        404 => "x-amzn-ErrorType: ResourceNotFoundException\r\n",
                        409 => "x-amzn-ErrorType: ConflictException\r\n",
                        400 => "x-amzn-ErrorType: ValidationException\r\n",
                        _ => "",
                    };
                    let head = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n{error}content-length: {}\r\n\r\n",
                        answer.len()
                    );
                    write.write_all(head.as_bytes()).await.unwrap();
                    write.write_all(answer.as_bytes()).await.unwrap();
                }
            });
        }
    });
    endpoint
}

/// A configuration directory with lai_weekly copied as `client_00` … (crons spread over the
/// morning), and the scopes, scoring rules and catalogue of the fixtures.
fn config_dir(root: &Path, clients: usize) {
    let fixtures = common::fixtures();
    for dir in ["scopes", "scoring"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
        for entry in std::fs::read_dir(fixtures.join(dir)).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), root.join(dir).join(entry.file_name())).unwrap();
        }
    }
    std::fs::create_dir_all(root.join("sources")).unwrap();
    std::fs::copy(
        fixtures.join("sources/catalog.yaml"),
        root.join("sources/catalog.yaml"),
    )
    .unwrap();
    std::fs::create_dir_all(root.join("clients")).unwrap();
    let template = std::fs::read_to_string(fixtures.join("clients/lai_weekly.yaml")).unwrap();
    for i in 0..clients {
        let id = format!("client_{i:02}");
        let text = template
            .replace("client_id: lai_weekly", &format!("client_id: {id}"))
            .replace(
                "cron(0 8 ? * MON *)",
                &format!("cron({} 8 ? * MON *)", i % 60),
            )
            .replace(
                "timezone: Europe/Paris",
                "timezone: Europe/Paris\n  flexible_window_minutes: 30",
            );
        std::fs::write(root.join(format!("clients/{id}.yaml")), text).unwrap();
    }
}

fn sync_clients(config: &Path, endpoint: &str) -> (bool, Vec<Value>, String) {
    sync_clients_with(config, endpoint, None, &[])
}

/// `vectora aws sync-clients`, with the alarm topic set or not, and extra flags (`--dry-run`).
fn sync_clients_with(
    config: &Path,
    endpoint: &str,
    topic: Option<&str>,
    flags: &[&str],
) -> (bool, Vec<Value>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vectora"));
    command
        .args(["aws", "sync-clients", "--config"])
        .arg(config)
        .args(flags);
    match topic {
        Some(t) => command.env("VECTORA_ALARM_TOPIC_ARN", t),
        None => command.env_remove("VECTORA_ALARM_TOPIC_ARN"),
    };
    let out = command
        .env("AWS_ENDPOINT_URL_SCHEDULER", endpoint)
        .env("AWS_ENDPOINT_URL_CLOUDWATCH", endpoint)
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "eu-west-3")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("VECTORA_SCHEDULE_GROUP", GROUP)
        .env("VECTORA_STATE_MACHINE_ARN", STATE_MACHINE)
        .env("VECTORA_SCHEDULER_ROLE_ARN", ROLE)
        .env("VECTORA_SCHEDULE_STATE", "ENABLED")
        .output()
        .unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        out.status.success(),
        lines,
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn actions(lines: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for l in lines {
        *counts
            .entry(l["action"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_five_clients_sync_with_counted_calls_and_the_second_sync_writes_nothing() {
    let fake = Arc::new(FakeScheduler::default());
    let endpoint = serve(fake.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    config_dir(dir.path(), 25);
    let config = dir.path().to_path_buf();

    let (ok, lines, err) = tokio::task::spawn_blocking({
        let (config, endpoint) = (config.clone(), endpoint.clone());
        move || sync_clients(&config, &endpoint)
    })
    .await
    .unwrap();
    assert!(ok, "{err}");
    assert_eq!(lines.len(), 25);
    assert_eq!(
        actions(&lines),
        BTreeMap::from([("create".to_string(), 25)])
    );
    assert_eq!(
        lines[0],
        json!({"client_id": "client_00", "action": "create",
               "reason": "no schedule client_00 in the group yet: cron(0 8 ? * MON *) Europe/Paris"})
    );
    // One list, one get per client (each answered "not found"), one create per client.
    assert_eq!(
        fake.calls(),
        BTreeMap::from([
            ("CreateSchedule", 25),
            ("GetSchedule", 25),
            ("ListSchedules", 1)
        ])
    );
    let stored =
        fake.schedules.lock().unwrap()[&(GROUP.to_string(), "client_07".to_string())].clone();
    assert_eq!(stored["ScheduleExpression"], "cron(7 8 ? * MON *)");
    assert_eq!(
        stored["FlexibleTimeWindow"],
        json!({"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 30})
    );
    assert_eq!(
        stored["Target"]["Input"],
        r#"{"client_id":"client_07","period_days":7}"#
    );

    let (ok, lines, err) = tokio::task::spawn_blocking({
        let (config, endpoint) = (config.clone(), endpoint.clone());
        move || sync_clients(&config, &endpoint)
    })
    .await
    .unwrap();
    assert!(ok, "{err}");
    assert_eq!(
        actions(&lines),
        BTreeMap::from([("unchanged".to_string(), 25)])
    );
    assert_eq!(
        fake.calls(),
        BTreeMap::from([
            ("CreateSchedule", 25),
            ("GetSchedule", 50),
            ("ListSchedules", 2)
        ]),
        "the second sync only reads"
    );

    // A broken file and a removed one: the broken client keeps its schedule, the removed one
    // loses it, the others are untouched.
    let broken = config.join("clients/client_03.yaml");
    let text = std::fs::read_to_string(&broken)
        .unwrap()
        .replace("cron(3 8 ? * MON *)", "0 8 * * 1");
    std::fs::write(&broken, text).unwrap();
    std::fs::remove_file(config.join("clients/client_04.yaml")).unwrap();
    let before =
        fake.schedules.lock().unwrap()[&(GROUP.to_string(), "client_03".to_string())].clone();
    let (ok, lines, err) = tokio::task::spawn_blocking(move || sync_clients(&config, &endpoint))
        .await
        .unwrap();
    assert!(ok, "{err}");
    assert_eq!(
        actions(&lines),
        BTreeMap::from([
            ("delete".to_string(), 1),
            ("rejected".to_string(), 1),
            ("unchanged".to_string(), 23)
        ])
    );
    let rejected = lines.iter().find(|l| l["action"] == "rejected").unwrap();
    assert_eq!(rejected["client_id"], "client_03");
    assert!(
        rejected["reason"].as_str().unwrap().contains(
            "client_03.yaml: schedule.cron: \"0 8 * * 1\" is not an EventBridge cron expression"
        ),
        "{rejected}"
    );
    assert_eq!(
        fake.schedules.lock().unwrap()[&(GROUP.to_string(), "client_03".to_string())],
        before
    );
    assert!(
        !fake
            .schedules
            .lock()
            .unwrap()
            .contains_key(&(GROUP.to_string(), "client_04".to_string()))
    );
    assert_eq!(fake.calls()["DeleteSchedule"], 1);
    assert_eq!(fake.calls()["PutMetricData"], 1, "the rejection is counted");
    assert!(!fake.calls().contains_key("UpdateSchedule"));
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_changes_nothing_and_an_alarm_topic_set_later_gives_each_client_its_alarm() {
    let fake = Arc::new(FakeScheduler::default());
    let endpoint = serve(fake.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    config_dir(dir.path(), 3);
    let config = dir.path().to_path_buf();
    let run = |topic: Option<&'static str>, flags: &'static [&'static str]| {
        let (config, endpoint) = (config.clone(), endpoint.clone());
        tokio::task::spawn_blocking(move || sync_clients_with(&config, &endpoint, topic, flags))
    };

    let (ok, lines, err) = run(None, &["--dry-run"]).await.unwrap();
    assert!(ok, "{err}");
    assert_eq!(actions(&lines), BTreeMap::from([("create".to_string(), 3)]));
    assert!(
        fake.schedules.lock().unwrap().is_empty(),
        "a dry run writes nothing"
    );

    let (ok, _, err) = run(None, &[]).await.unwrap();
    assert!(ok, "{err}");
    assert!(
        !fake.calls().contains_key("DescribeAlarms"),
        "no topic, no alarms"
    );
    assert_eq!(fake.schedules.lock().unwrap().len(), 3);

    let (ok, lines, err) = run(Some(TOPIC), &["--dry-run"]).await.unwrap();
    assert!(ok, "{err}");
    assert_eq!(actions(&lines), BTreeMap::from([("update".to_string(), 3)]));
    assert_eq!(
        lines[0]["reason"],
        "the schedule matches the file; its no-newsletter alarm is missing"
    );
    assert!(
        fake.alarms.lock().unwrap().is_empty(),
        "a dry run writes nothing"
    );

    let (ok, _, err) = run(Some(TOPIC), &[]).await.unwrap();
    assert!(ok, "{err}");
    assert_eq!(
        *fake.alarms.lock().unwrap(),
        BTreeSet::from([
            format!("{GROUP}-no-newsletter-client_00"),
            format!("{GROUP}-no-newsletter-client_01"),
            format!("{GROUP}-no-newsletter-client_02"),
        ])
    );
    assert!(
        !fake.calls().contains_key("UpdateSchedule"),
        "the schedules matched: only the alarms are made"
    );

    let (ok, lines, err) = run(Some(TOPIC), &[]).await.unwrap();
    assert!(ok, "{err}");
    assert_eq!(
        actions(&lines),
        BTreeMap::from([("unchanged".to_string(), 3)])
    );
    assert_eq!(
        fake.calls()["PutMetricAlarm"],
        3,
        "the second sync makes no alarm"
    );

    // A changed cron: UpdateSchedule sends the whole schedule again.
    let changed = config.join("clients/client_02.yaml");
    let text = std::fs::read_to_string(&changed)
        .unwrap()
        .replace("cron(2 8 ? * MON *)", "cron(15 9 ? * TUE *)");
    std::fs::write(&changed, text).unwrap();
    let (ok, lines, err) = run(Some(TOPIC), &[]).await.unwrap();
    assert!(ok, "{err}");
    assert_eq!(
        actions(&lines),
        BTreeMap::from([("unchanged".to_string(), 2), ("update".to_string(), 1)])
    );
    assert_eq!(lines[2]["reason"], "differs in cron");
    assert_eq!(fake.calls()["UpdateSchedule"], 1);
    let stored =
        fake.schedules.lock().unwrap()[&(GROUP.to_string(), "client_02".to_string())].clone();
    assert_eq!(stored["ScheduleExpression"], "cron(15 9 ? * TUE *)");
    assert_eq!(stored["Target"]["Arn"], STATE_MACHINE);

    std::fs::remove_file(config.join("clients/client_01.yaml")).unwrap();
    let (ok, lines, err) = run(Some(TOPIC), &[]).await.unwrap();
    assert!(ok, "{err}");
    assert_eq!(
        actions(&lines),
        BTreeMap::from([("delete".to_string(), 1), ("unchanged".to_string(), 2)])
    );
    assert_eq!(fake.calls()["DeleteAlarms"], 1);
    assert!(
        !fake
            .alarms
            .lock()
            .unwrap()
            .contains(&format!("{GROUP}-no-newsletter-client_01"))
    );
}

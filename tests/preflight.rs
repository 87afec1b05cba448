//! Deploying safely: `infra/samconfig.toml`, `vectora aws promote` (through a recording command
//! runner) and `vectora aws preflight` against recorded AWS answers: each SDK client of the real adapters
//! (`aws::account`) talks HTTP to an in-test function that answers as the service does on the
//! wire (REST-JSON, JSON 1.1, query XML), from a small description of the account. Each
//! misconfiguration the issue lists gives its finding, with the numbers and the fix.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use aws_smithy_http_client::test_util::infallible_client_fn;
use aws_smithy_types::body::SdkBody;
use serde_json::json;

use vectora_inbox::aws::account::{
    Bedrock, LambdaSettings, S3Buckets, SchedulerGroups, ServiceQuotas, Ses, Ssm, Sts,
};
use vectora_inbox::preflight::{
    self, Account, Deployment, Finding, Report, ScheduledClient, Severity,
};
use vectora_inbox::store::LocalDirStore;

const PROFILE: &str = "eu.anthropic.claude-sonnet-4-5-20250929-v1:0";
const MODEL: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";
const ACCOUNT: &str = "123456789012";

/// What the account answers.
#[derive(Clone)]
struct World {
    quota: i32,
    unreserved: i32,
    profile_exists: bool,
    model_authorized: bool,
    /// (code, name, value)
    quotas: Vec<(&'static str, String, f64)>,
    production_access: bool,
    verified: BTreeSet<String>,
    parameters: BTreeSet<String>,
    /// Buckets that exist, with the stack tag they carry (None: made by hand), and those another
    /// account holds.
    buckets: BTreeMap<String, Option<&'static str>>,
    foreign_buckets: BTreeSet<String>,
    /// What each of the stack's functions reserves today: None when the stack is not deployed.
    current_reserved: Option<i32>,
    /// The schedule group `vectora-inbox-{env}`: absent (None), or present with the stack that
    /// made it (Some(None): made by hand).
    group: Option<Option<&'static str>>,
}

impl World {
    /// An account where everything the fixture deployment needs is in place.
    fn healthy() -> World {
        World {
            quota: 1000,
            unreserved: 1000,
            profile_exists: true,
            model_authorized: true,
            quotas: vec![
                (
                    "L-RPM1",
                    "Cross-region model inference requests per minute for Anthropic Claude Sonnet 4.5 V1".into(),
                    200.0,
                ),
                (
                    "L-TPM1",
                    "Cross-Region InvokeModel tokens per minute for Anthropic Claude Sonnet 4.5 V1".into(),
                    200_000.0,
                ),
                ("L-OTHER", "On-demand model inference requests per minute for Anthropic Claude 3 Haiku".into(), 1.0),
            ],
            production_access: true,
            // The fixture client sends as newsletter@vectora.example.com: its domain is verified.
            verified: ["vectora.example.com".to_string()].into(),
            parameters: ["/vectora-inbox/dev/ncbi-api-key".to_string()].into(),
            group: None,
            current_reserved: None,
            buckets: BTreeMap::new(),
            foreign_buckets: BTreeSet::new(),
        }
    }
}

fn response(
    status: u16,
    headers: &[(&str, &str)],
    body: impl Into<SdkBody>,
) -> http::Response<SdkBody> {
    let mut r = http::Response::builder().status(status);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.body(body.into()).unwrap()
}

fn rest_json(status: u16, body: serde_json::Value) -> http::Response<SdkBody> {
    response(
        status,
        &[("content-type", "application/json")],
        body.to_string(),
    )
}

fn rest_error(status: u16, code: &str) -> http::Response<SdkBody> {
    response(
        status,
        &[
            ("content-type", "application/json"),
            ("x-amzn-errortype", code),
        ],
        json!({"message": format!("{code} (recorded)")}).to_string(),
    )
}

fn path(req: &http::Request<SdkBody>) -> String {
    percent_decode(req.uri().path())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
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

fn account(world: &World) -> Account {
    let w = world.clone();
    let lambda = infallible_client_fn(move |req| {
        let p = path(&req);
        if let Some(function) = p
            .strip_prefix("/2019-09-30/functions/")
            .and_then(|f| f.strip_suffix("/concurrency"))
        {
            assert!(function.starts_with("vectora-inbox-"), "{function}");
            return match w.current_reserved {
                None => rest_error(404, "ResourceNotFoundException"),
                Some(0) => rest_json(200, json!({})),
                Some(n) => rest_json(200, json!({"ReservedConcurrentExecutions": n})),
            };
        }
        assert_eq!(p, "/2016-08-19/account-settings");
        rest_json(
            200,
            json!({"AccountLimit": {"ConcurrentExecutions": w.quota, "UnreservedConcurrentExecutions": w.unreserved,
                   "TotalCodeSize": 80530636800u64, "CodeSizeUnzipped": 262144000, "CodeSizeZipped": 52428800},
                   "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0}}),
        )
    });
    let w = world.clone();
    let bedrock = infallible_client_fn(move |req| {
        let p = path(&req);
        if let Some(id) = p.strip_prefix("/inference-profiles/") {
            assert_eq!(id, PROFILE);
            if !w.profile_exists {
                return rest_error(404, "ResourceNotFoundException");
            }
            return rest_json(
                200,
                json!({
                "inferenceProfileName": "EU Claude Sonnet 4.5", "inferenceProfileId": PROFILE,
                "inferenceProfileArn": format!("arn:aws:bedrock:eu-west-3:{ACCOUNT}:inference-profile/{PROFILE}"),
                "status": "ACTIVE", "type": "SYSTEM_DEFINED",
                "models": [
                    {"modelArn": format!("arn:aws:bedrock:eu-west-3::foundation-model/{MODEL}")},
                    {"modelArn": format!("arn:aws:bedrock:eu-central-1::foundation-model/{MODEL}")}
                ]}),
            );
        }
        if let Some(id) = p.strip_prefix("/foundation-model-availability/") {
            assert_eq!(id, MODEL);
            let (auth, ent) = if w.model_authorized {
                ("AUTHORIZED", "AVAILABLE")
            } else {
                ("NOT_AUTHORIZED", "NOT_AVAILABLE")
            };
            return rest_json(
                200,
                json!({"modelId": MODEL, "agreementAvailability": {"status": "AVAILABLE"},
                "authorizationStatus": auth, "entitlementAvailability": ent, "regionAvailability": "AVAILABLE"}),
            );
        }
        if let Some(id) = p.strip_prefix("/foundation-models/") {
            assert_eq!(id, MODEL);
            return rest_json(
                200,
                json!({"modelDetails": {"modelArn": format!("arn:aws:bedrock:eu-west-3::foundation-model/{MODEL}"),
                "modelId": MODEL, "modelName": "Claude Sonnet 4.5", "providerName": "Anthropic"}}),
            );
        }
        panic!("unexpected Bedrock request {p}");
    });
    let w = world.clone();
    let quotas = infallible_client_fn(move |req| {
        let target = req
            .headers()
            .get("x-amz-target")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(target, "ServiceQuotasV20190624.ListServiceQuotas");
        let body: serde_json::Value = serde_json::from_slice(req.body().bytes().unwrap()).unwrap();
        assert_eq!(body["ServiceCode"], "bedrock");
        // Two pages: the adapter must follow NextToken.
        let (page, next) = if body.get("NextToken").is_none() {
            (&w.quotas[..1], Some("page2"))
        } else {
            (&w.quotas[1..], None)
        };
        let quotas: Vec<_> = page
            .iter()
            .map(|(code, name, value)| json!({"ServiceCode": "bedrock", "QuotaCode": code, "QuotaName": name, "Value": value}))
            .collect();
        let mut out = json!({"Quotas": quotas});
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        response(
            200,
            &[("content-type", "application/x-amz-json-1.1")],
            out.to_string(),
        )
    });
    let w = world.clone();
    let ses = infallible_client_fn(move |req| {
        let p = path(&req);
        if p == "/v2/email/account" {
            return rest_json(
                200,
                json!({"ProductionAccessEnabled": w.production_access, "SendingEnabled": true,
                "EnforcementStatus": "HEALTHY", "DedicatedIpAutoWarmupEnabled": false}),
            );
        }
        if let Some(id) = p.strip_prefix("/v2/email/identities/") {
            if w.verified.contains(id) {
                return rest_json(
                    200,
                    json!({"IdentityType": "EMAIL_ADDRESS", "VerifiedForSendingStatus": true, "FeedbackForwardingStatus": true}),
                );
            }
            return rest_error(404, "NotFoundException");
        }
        panic!("unexpected SES request {p}");
    });
    let w = world.clone();
    let ssm = infallible_client_fn(move |req| {
        assert_eq!(
            req.headers().get("x-amz-target").unwrap(),
            "AmazonSSM.GetParameter"
        );
        let body: serde_json::Value = serde_json::from_slice(req.body().bytes().unwrap()).unwrap();
        let name = body["Name"].as_str().unwrap();
        assert!(
            body.get("WithDecryption").is_none_or(|d| d == false),
            "the preflight never decrypts"
        );
        if w.parameters.contains(name) {
            response(200, &[("content-type", "application/x-amz-json-1.1")],
                json!({"Parameter": {"Name": name, "Type": "SecureString", "Value": "AQICAH…", "Version": 1}}).to_string())
        } else {
            response(
                400,
                &[("content-type", "application/x-amz-json-1.1")],
                json!({"__type": "ParameterNotFound", "message": ""}).to_string(),
            )
        }
    });
    let w = world.clone();
    let s3 = infallible_client_fn(move |req| {
        // Virtual-host style: the bucket is the host's first label.
        let host = req.uri().host().unwrap_or_default().to_string();
        let bucket = host.split('.').next().unwrap_or_default().to_string();
        if w.foreign_buckets.contains(&bucket) {
            return response(403, &[], "");
        }
        let Some(stack) = w.buckets.get(&bucket) else {
            assert_eq!(req.method(), "HEAD");
            return response(404, &[], "");
        };
        if req.method() == "HEAD" {
            return response(200, &[], "");
        }
        assert!(req.uri().query().unwrap_or_default().contains("tagging"));
        match stack {
            Some(stack) => response(
                200,
                &[("content-type", "application/xml")],
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>\
                     <Tag><Key>aws:cloudformation:stack-name</Key><Value>{stack}</Value></Tag></TagSet></Tagging>"
                ),
            ),
            None => response(
                404,
                &[("content-type", "application/xml")],
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchTagSet</Code><Message>The TagSet does not exist</Message></Error>",
            ),
        }
    });
    let sts = infallible_client_fn(move |_req| {
        response(
            200,
            &[("content-type", "text/xml")],
            format!(
                "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>\
             <Arn>arn:aws:iam::{ACCOUNT}:user/deployer</Arn><UserId>AIDATEST</UserId><Account>{ACCOUNT}</Account>\
             </GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
            ),
        )
    });
    let w = world.clone();
    let scheduler = infallible_client_fn(move |req| {
        let p = path(&req);
        if let Some(name) = p.strip_prefix("/schedule-groups/") {
            assert!(name.starts_with("vectora-inbox-"), "{name}");
            return match w.group {
                None => rest_error(404, "ResourceNotFoundException"),
                Some(_) => rest_json(
                    200,
                    json!({"Arn": format!("arn:aws:scheduler:eu-west-3:{ACCOUNT}:schedule-group/{name}"),
                           "Name": name, "State": "ACTIVE"}),
                ),
            };
        }
        if let Some(resource) = p.strip_prefix("/tags/") {
            assert_eq!(
                resource,
                format!("arn:aws:scheduler:eu-west-3:{ACCOUNT}:schedule-group/vectora-inbox-dev")
            );
            let tags: Vec<_> = w
                .group
                .flatten()
                .map(|stack| json!({"Key": "aws:cloudformation:stack-name", "Value": stack}))
                .into_iter()
                .collect();
            return rest_json(200, json!({"Tags": tags}));
        }
        panic!("unexpected Scheduler request {p}");
    });
    Account {
        schedule_groups: Arc::new(SchedulerGroups(client_with!(aws_sdk_scheduler, scheduler))),
        identity: Arc::new(Sts(client_with!(aws_sdk_sts, sts))),
        lambda: Arc::new(LambdaSettings(client_with!(aws_sdk_lambda, lambda))),
        bedrock: Arc::new(Bedrock(client_with!(aws_sdk_bedrock, bedrock))),
        quotas: Arc::new(ServiceQuotas(client_with!(aws_sdk_servicequotas, quotas))),
        ses: Arc::new(Ses(client_with!(aws_sdk_sesv2, ses))),
        parameters: Arc::new(Ssm(client_with!(aws_sdk_ssm, ssm))),
        buckets: Arc::new(S3Buckets(client_with!(aws_sdk_s3, s3))),
    }
}

fn dev(overrides: &[(&str, &str)]) -> Deployment {
    let mut parameters = BTreeMap::from([("Env".to_string(), "dev".to_string())]);
    for (k, v) in overrides {
        parameters.insert(k.to_string(), v.to_string());
    }
    Deployment::new("dev", "vectora-inbox-dev", parameters)
}

/// The deployment's clients from the fixture bundle, plus a copy of lai_weekly as `lai_daily`
/// (same schedule) when `two` is set.
async fn run(world: &World, deployment: &Deployment, config: &Path) -> Report {
    let store = LocalDirStore::new(config);
    let (clients, findings) = preflight::scheduled_clients(&store).await;
    preflight::run(deployment, &clients, findings, &account(world)).await
}

fn only<'a>(report: &'a Report, check: &str) -> Vec<&'a Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.check == check)
        .collect()
}

fn blocking<'a>(report: &'a Report, check: &str) -> &'a Finding {
    only(report, check)
        .into_iter()
        .find(|f| f.severity == Severity::Blocking)
        .unwrap_or_else(|| panic!("no blocking {check} finding in:\n{}", report.to_text()))
}

fn with_second_client(dir: &Path) {
    common::copy_tree(&common::fixtures(), dir);
    let text = std::fs::read_to_string(dir.join("clients/lai_weekly.yaml")).unwrap();
    std::fs::write(
        dir.join("clients/lai_daily.yaml"),
        text.replace("client_id: lai_weekly", "client_id: lai_daily"),
    )
    .unwrap();
}

#[tokio::test]
async fn a_healthy_account_with_a_quota_of_1000_passes() {
    let report = run(
        &World::healthy(),
        &dev(&[("ReservedConcurrency", "5")]),
        &common::fixtures(),
    )
    .await;
    assert!(report.passed(), "{}", report.to_text());
    let lambda = only(&report, "lambda.reserved-concurrency");
    assert_eq!(lambda[0].severity, Severity::Ok);
    assert!(
        lambda[0].why.contains("1000 unreserved − 8 × 5 = 960 ≥ 10"),
        "{}",
        lambda[0].why
    );
    // Buckets named with the account id STS gave.
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.read == format!("vectora-inbox-data-dev-{ACCOUNT}"))
    );
    // The quotas were found by name across both pages of ListServiceQuotas.
    assert!(
        only(&report, "bedrock.quota.tokens")[0]
            .read
            .contains("L-TPM1")
    );
}

#[tokio::test]
async fn a_quota_of_10_refuses_any_reservation_with_the_arithmetic() {
    let world = World {
        quota: 10,
        unreserved: 10,
        ..World::healthy()
    };
    let report = run(
        &world,
        &dev(&[("ReservedConcurrency", "1")]),
        &common::fixtures(),
    )
    .await;
    assert!(!report.passed());
    let f = blocking(&report, "lambda.reserved-concurrency");
    assert!(
        f.read
            .contains("ReservedConcurrency=1; account concurrency quota 10, unreserved 10"),
        "{}",
        f.read
    );
    assert!(
        f.why
            .contains("8 functions × 1 reserved = 8; 10 unreserved − 8 = 2, below the 10"),
        "{}",
        f.why
    );
    assert!(
        f.why
            .contains("on a quota of 10, every reservation is refused"),
        "{}",
        f.why
    );
    assert!(f.fix.contains("ReservedConcurrency=0"), "{}", f.fix);
    assert!(
        f.fix.contains("L-B99A9384") && f.fix.contains("at least 18"),
        "{}",
        f.fix
    );
    // The text output carries the same numbers, and the verdict.
    let text = report.to_text();
    assert!(
        text.contains("BLOCKING lambda.reserved-concurrency"),
        "{text}"
    );
    assert!(text.contains("1 blocking"), "{text}");
}

#[tokio::test]
async fn no_reservation_on_a_quota_of_10_passes_but_warns_when_clients_start_together() {
    let dir = tempfile::tempdir().unwrap();
    with_second_client(dir.path());
    let world = World {
        quota: 10,
        unreserved: 10,
        ..World::healthy()
    };
    let mut deployment = dev(&[]);
    deployment.env = "stage".into();
    deployment.parameters.insert("Env".into(), "stage".into());
    let world = World {
        parameters: ["/vectora-inbox/stage/ncbi-api-key".to_string()].into(),
        unreserved: 6,
        ..world
    };
    let report = run(&world, &deployment, dir.path()).await;
    assert!(report.passed(), "{}", report.to_text());
    let warning = only(&report, "lambda.concurrent-runs");
    assert_eq!(warning.len(), 1, "{}", report.to_text());
    assert!(
        warning[0].read.contains(
            "2 client(s) start at cron(0 8 ? * MON *) Europe/Paris (lai_daily, lai_weekly)"
        ),
        "{}",
        warning[0].read
    );
    assert!(
        warning[0]
            .why
            .contains("2 × 4 = 8 functions at once, more than the account's 6 unreserved"),
        "{}",
        warning[0].why
    );
}

#[tokio::test]
async fn bedrock_access_missing_is_blocking_with_the_console_fix() {
    let world = World {
        model_authorized: false,
        ..World::healthy()
    };
    let report = run(&world, &dev(&[]), &common::fixtures()).await;
    let f = blocking(&report, "bedrock.access");
    assert_eq!(f.read, format!("{PROFILE} → {MODEL}"));
    assert!(
        f.why.contains("NOT_AUTHORIZED") && f.why.contains("AccessDenied"),
        "{}",
        f.why
    );
    assert!(f.fix.contains("Model access"), "{}", f.fix);

    let world = World {
        profile_exists: false,
        ..World::healthy()
    };
    let report = run(&world, &dev(&[]), &common::fixtures()).await;
    let f = blocking(&report, "bedrock.profile");
    assert!(f.fix.contains("list-inference-profiles"), "{}", f.fix);
    // The template editor needs no Bedrock at all.
    let report = run(&world, &dev(&[("Editor", "template")]), &common::fixtures()).await;
    assert!(report.passed(), "{}", report.to_text());
}

#[tokio::test]
async fn a_bedrock_quota_too_small_for_the_clients_starting_together_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    with_second_client(dir.path());
    let mut world = World::healthy();
    // lai_weekly and lai_daily: 4 sections each, 12,000 + 2,000 tokens a call.
    world.quotas[1].2 = 100_000.0;
    let report = run(&world, &dev(&[]), dir.path()).await;
    let tokens = only(&report, "bedrock.quota.tokens");
    assert_eq!(
        tokens[0].severity,
        Severity::Warning,
        "{}",
        report.to_text()
    );
    assert!(
        tokens[0]
            .why
            .contains("up to 112000 tokens in the same minute"),
        "{}",
        tokens[0].why
    );
    assert!(
        tokens[0].fix.contains("L-TPM1 to at least 112000"),
        "{}",
        tokens[0].fix
    );
    assert!(
        tokens[0].read.contains("lai_daily, lai_weekly"),
        "{}",
        tokens[0].read
    );

    // Smaller than one call: every section would throttle, which blocks.
    world.quotas[1].2 = 10_000.0;
    let report = run(&world, &dev(&[]), &common::fixtures()).await;
    let f = blocking(&report, "bedrock.quota.tokens");
    assert!(
        f.why.contains("one call may need 14000 tokens"),
        "{}",
        f.why
    );
}

#[tokio::test]
async fn ses_in_the_sandbox_lists_the_unverified_recipients() {
    // lai_weekly's delivery block, as the fixture has it: the sender's domain is verified, the
    // archive address too; its To and Cc readers are not.
    let world = World {
        production_access: false,
        verified: [
            "vectora.example.com".to_string(),
            "archive@example.com".to_string(),
        ]
        .into(),
        ..World::healthy()
    };
    let clients = scheduled(&common::fixtures()).await;
    let lai = clients.iter().find(|c| c.id == "lai_weekly").unwrap();
    assert_eq!(
        lai.sender.as_deref(),
        Some("newsletter@vectora.example.com")
    );
    let report = preflight::run(&dev(&[]), &clients, Vec::new(), &account(&world)).await;
    let f = blocking(&report, "ses.recipients");
    assert!(
        f.why.contains(
            "not verified: bd-team@example.com (lai_weekly), chloe.dupont@example.com (lai_weekly)"
        ),
        "{}",
        f.why
    );
    assert!(!f.why.contains("archive@example.com"), "{}", f.why);
    assert!(f.fix.contains("production access"), "{}", f.fix);
    assert_eq!(only(&report, "ses.sender")[0].severity, Severity::Ok);

    // An unverified sender from SesIdentity blocks too.
    let report = preflight::run(
        &dev(&[("SesIdentity", "news@unknown.example")]),
        &clients[..0],
        Vec::new(),
        &account(&world),
    )
    .await;
    let f = blocking(&report, "ses.sender");
    assert!(
        f.fix
            .contains("create-email-identity --email-identity news@unknown.example"),
        "{}",
        f.fix
    );
}

async fn scheduled(config: &Path) -> Vec<ScheduledClient> {
    let (clients, findings) = preflight::scheduled_clients(&LocalDirStore::new(config)).await;
    assert!(findings.is_empty(), "{findings:?}");
    clients
}

#[tokio::test]
async fn a_missing_ncbi_key_parameter_is_blocking_with_the_put_parameter_fix() {
    let world = World {
        parameters: BTreeSet::new(),
        ..World::healthy()
    };
    let report = run(&world, &dev(&[]), &common::fixtures()).await;
    let f = blocking(&report, "ssm.ncbi-key");
    assert!(f.read.contains("NcbiApiKeyParameterName=default → /vectora-inbox/dev/ncbi-api-key; PubMed followed by lai_weekly"), "{}", f.read);
    assert!(
        f.fix.contains(
            "aws ssm put-parameter --name /vectora-inbox/dev/ncbi-api-key --type SecureString"
        ),
        "{}",
        f.fix
    );
}

#[tokio::test]
async fn a_client_file_that_does_not_load_is_blocking_and_a_paused_one_is_not_scheduled() {
    let dir = tempfile::tempdir().unwrap();
    with_second_client(dir.path());
    let daily = dir.path().join("clients/lai_daily.yaml");
    let text = std::fs::read_to_string(&daily).unwrap();
    std::fs::write(
        &daily,
        text.replace("timezone: Europe/Paris", "timezone: Mars/Olympus"),
    )
    .unwrap();
    let report = run(&World::healthy(), &dev(&[]), dir.path()).await;
    let f = blocking(&report, "config.client");
    assert!(f.read.ends_with("clients/lai_daily.yaml"), "{}", f.read);
    assert!(f.why.contains("Mars/Olympus"), "{}", f.why);
    assert!(f.fix.contains("vectora validate --config"), "{}", f.fix);

    // A client whose schedule is disabled is not counted among those that start.
    std::fs::write(
        &daily,
        text.replace(
            "timezone: Europe/Paris",
            "timezone: Europe/Paris\n  enabled: false",
        ),
    )
    .unwrap();
    let ids: Vec<String> = scheduled(dir.path())
        .await
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, ["glp1_obesity", "lai_weekly"]);
}

#[test]
fn template_defaults_match_the_template() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("infra/template.yaml"))
            .unwrap();
    for (name, default) in preflight::TEMPLATE_DEFAULTS {
        let block: Vec<&str> = text
            .lines()
            .skip_while(|l| l.trim_end() != format!("  {name}:"))
            .skip(1)
            .take_while(|l| l.starts_with("    "))
            .collect();
        let found = block
            .iter()
            .find_map(|l| l.trim().strip_prefix("Default: "))
            .unwrap_or_else(|| panic!("no Default for {name} in the template"));
        assert_eq!(found.trim_matches('"'), *default, "{name}");
    }
    // The functions a reservation applies to, as the arithmetic counts them.
    let reserving = text
        .lines()
        .filter(|l| {
            l.trim()
                .starts_with("ReservedConcurrentExecutions: !If [HasReservedConcurrency")
        })
        .count();
    assert_eq!(reserving, preflight::FUNCTIONS as usize);
    // And they are the functions the redeploy arithmetic reads the reservations of.
    for step in preflight::RESERVING_FUNCTIONS {
        assert!(
            text.contains(&format!("FunctionName: !Sub vectora-inbox-{step}-${{Env}}")),
            "{step}"
        );
    }
    // EnvSettings' Map concurrency, as Deployment::map_concurrency has it.
    for (env, (sources, sections)) in [("dev", (2, 1)), ("stage", (4, 2)), ("prod", (4, 2))] {
        let block: Vec<&str> = text
            .lines()
            .skip_while(|l| l.trim_end() != format!("    {env}:"))
            .skip(1)
            .take(2)
            .collect();
        assert_eq!(
            block[0].trim(),
            format!("SourcesConcurrency: \"{sources}\""),
            "{env}"
        );
        assert_eq!(
            block[1].trim(),
            format!("SectionsConcurrency: \"{sections}\""),
            "{env}"
        );
        assert_eq!(
            Deployment::new(env, "s", BTreeMap::new()).map_concurrency(),
            (sources, sections)
        );
    }
}

fn samconfig() -> (String, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("infra/samconfig.toml");
    (
        path.display().to_string(),
        std::fs::read_to_string(&path).unwrap(),
    )
}

#[test]
fn samconfig_has_dev_stage_and_prod_each_with_its_own_stack_and_env() {
    use vectora_inbox::deploy::samconfig;
    let (file, text) = samconfig();
    for env in ["dev", "stage", "prod"] {
        let e = samconfig::environment(&file, &text, env).unwrap();
        assert_eq!(e.stack_name, format!("vectora-inbox-{env}"));
        assert_eq!(e.parameters["Env"], env);
        assert_eq!(
            e.parameters["ReservedConcurrency"], "0",
            "{env}: no reservation by default"
        );
        assert_eq!(e.region.as_deref(), Some("eu-west-3"));
    }
    let err = samconfig::environment(&file, &text, "qa")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no such environment") && err.contains("dev, prod, stage"),
        "{err}"
    );
    // SAM's string form of parameter_overrides reads the same.
    let e = samconfig::environment(
        "s.toml",
        "[x.deploy.parameters]\nstack_name = \"s\"\nparameter_overrides = \"Env=x AlarmEmail=\\\"a@b.c\\\"\"\n",
        "x",
    )
    .unwrap();
    assert_eq!(e.parameters["AlarmEmail"], "a@b.c");
}

/// Records the command lines instead of running them.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<String>>);

#[async_trait::async_trait]
impl vectora_inbox::ports::command::CommandRunner for Recorder {
    async fn run(&self, program: &str, args: &[String]) -> vectora_inbox::Result<i32> {
        self.0
            .lock()
            .unwrap()
            .push(format!("{program} {}", args.join(" ")));
        Ok(0)
    }
}

#[tokio::test]
async fn promote_deploys_the_artifact_stage_runs_to_prod_and_refuses_when_preflight_fails() {
    use vectora_inbox::deploy::promote::{self, Source};
    let dir = tempfile::tempdir().unwrap();
    let packaged = dir.path().join("packaged.yaml");
    std::fs::write(&packaged, "Resources: {} # CodeUri: s3://artifacts/abc\n").unwrap();
    let records = dir.path().join("releases");
    let samconfig = Path::new("/repo/infra/samconfig.toml");
    let runner = Recorder::default();
    let passed = Report::new(&dev(&[]), Vec::new());
    let stage = Deployment::new("stage", "vectora-inbox-stage", BTreeMap::new());
    // prod with command-line overrides: every judged parameter reaches sam deploy.
    let prod = Deployment::new(
        "prod",
        "vectora-inbox-prod",
        BTreeMap::from([
            ("Env".to_string(), "prod".to_string()),
            ("AlarmEmail".to_string(), "ops@vectora.example".to_string()),
            ("SesIdentity".to_string(), "vectora.example".to_string()),
        ]),
    );

    let (file, sha) = promote::artifact(Source::File(&packaged), &records).unwrap();
    promote::promote(&file, &sha, samconfig, &stage, &passed, &runner, &records)
        .await
        .unwrap();
    let (file, sha2) = promote::artifact(Source::Env("stage"), &records).unwrap();
    assert_eq!(
        (file.as_path(), sha2.as_str()),
        (packaged.as_path(), sha.as_str())
    );

    // prod's preflight fails: nothing runs.
    let failed = Report::new(
        &dev(&[]),
        vec![Finding::blocking(
            "ssm.ncbi-key",
            "x".into(),
            "y".into(),
            "z",
        )],
    );
    let err = promote::promote(&file, &sha2, samconfig, &prod, &failed, &runner, &records)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("the preflight of prod found 1 blocking problem(s): nothing was deployed"),
        "{err}"
    );
    assert_eq!(runner.0.lock().unwrap().len(), 1);

    promote::promote(&file, &sha2, samconfig, &prod, &passed, &runner, &records)
        .await
        .unwrap();
    let p = packaged.display();
    assert_eq!(
        *runner.0.lock().unwrap(),
        [
            format!(
                "sam deploy --template-file {p} --config-file /repo/infra/samconfig.toml --config-env stage"
            ),
            format!(
                "sam deploy --template-file {p} --config-file /repo/infra/samconfig.toml --config-env prod --parameter-overrides AlarmEmail=ops@vectora.example Env=prod SesIdentity=vectora.example"
            ),
        ]
    );

    // A packaged file rewritten after stage got it is not stage's artifact any more.
    std::fs::write(&packaged, "Resources: {} # CodeUri: s3://artifacts/def\n").unwrap();
    let err = promote::artifact(Source::Env("stage"), &records)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("changed since it was deployed to stage"),
        "{err}"
    );
    let err = promote::artifact(Source::Env("dev"), &records)
        .unwrap_err()
        .to_string();
    assert!(err.contains("nothing recorded as deployed to dev"), "{err}");
}

#[tokio::test]
async fn a_schedule_group_made_by_hand_or_by_another_stack_is_blocking() {
    let report = run(&World::healthy(), &dev(&[]), &common::fixtures()).await;
    let f = &only(&report, "schedules.group")[0];
    assert_eq!(f.severity, Severity::Ok);
    assert_eq!(f.why, "free: the stack creates it");

    let world = World {
        group: Some(Some("vectora-inbox-dev")),
        ..World::healthy()
    };
    let report = run(&world, &dev(&[]), &common::fixtures()).await;
    assert_eq!(only(&report, "schedules.group")[0].severity, Severity::Ok);

    for (owner, says) in [
        (
            Some("old-newsletter"),
            "belongs to stack old-newsletter, not vectora-inbox-dev",
        ),
        (None, "no stack created it"),
    ] {
        let world = World {
            group: Some(owner),
            ..World::healthy()
        };
        let report = run(&world, &dev(&[]), &common::fixtures()).await;
        let f = blocking(&report, "schedules.group");
        assert_eq!(f.read, "schedule group vectora-inbox-dev");
        assert!(f.why.contains(says), "{}", f.why);
        assert!(f.why.contains("roll back"), "{}", f.why);
        assert!(
            f.fix
                .contains("aws scheduler delete-schedule-group --name vectora-inbox-dev"),
            "{}",
            f.fix
        );
    }
}

#[tokio::test]
async fn a_redeploy_counts_what_the_stack_already_reserves_once() {
    // Deployed with 5 each on a quota of 50: 8 × 5 = 40 reserved, 10 left unreserved. The same
    // reservation again is fine: the update gives back what it replaces.
    let world = World {
        quota: 50,
        unreserved: 10,
        current_reserved: Some(5),
        ..World::healthy()
    };
    let report = run(
        &world,
        &dev(&[("ReservedConcurrency", "5")]),
        &common::fixtures(),
    )
    .await;
    let f = &only(&report, "lambda.reserved-concurrency")[0];
    assert_eq!(f.severity, Severity::Ok, "{}", report.to_text());
    assert!(
        f.read
            .contains("this stack's functions reserve 40 today (given back by the update)"),
        "{}",
        f.read
    );
    assert!(
        f.why.contains("50 unreserved − 8 × 5 = 10 ≥ 10"),
        "{}",
        f.why
    );
    // One more each is refused, with the same arithmetic.
    let report = run(
        &world,
        &dev(&[("ReservedConcurrency", "6")]),
        &common::fixtures(),
    )
    .await;
    let f = blocking(&report, "lambda.reserved-concurrency");
    assert!(f.why.contains("50 unreserved − 48 = 2"), "{}", f.why);
}

#[tokio::test]
async fn bucket_names_held_by_another_stack_by_hand_or_by_another_account_are_blocking() {
    let name = |area: &str| format!("vectora-inbox-{area}-dev-{ACCOUNT}");
    let world = World {
        buckets: [
            (name("config"), Some("vectora-inbox-dev")),
            (name("data"), Some("old-newsletter")),
            (name("newsletters"), None),
        ]
        .into(),
        ..World::healthy()
    };
    let report = run(&world, &dev(&[]), &common::fixtures()).await;
    let found = only(&report, "s3.buckets");
    let of = |area: &str| *found.iter().find(|f| f.read == name(area)).unwrap();
    assert_eq!(of("config").severity, Severity::Ok);
    assert!(
        of("config").why.contains("owned by this stack"),
        "{}",
        of("config").why
    );
    assert_eq!(of("data").severity, Severity::Blocking);
    assert!(
        of("data")
            .why
            .contains("belongs to stack old-newsletter, not vectora-inbox-dev"),
        "{}",
        of("data").why
    );
    assert_eq!(of("newsletters").severity, Severity::Blocking);
    assert!(
        of("newsletters").why.contains("no stack created it"),
        "{}",
        of("newsletters").why
    );

    let world = World {
        foreign_buckets: [name("data")].into(),
        ..World::healthy()
    };
    let report = run(&world, &dev(&[]), &common::fixtures()).await;
    let f = blocking(&report, "s3.buckets");
    assert_eq!(f.read, name("data"));
    assert!(
        f.why.contains("another account owns this name"),
        "{}",
        f.why
    );
    assert!(f.fix.contains("check the profile"), "{}", f.fix);
}

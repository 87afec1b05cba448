//! The checks, one function per area of the account. Each turns what a port answered into
//! findings; a port that cannot answer (permissions, network) is a blocking finding too, since
//! an unchecked account is exactly what the preflight exists to prevent.

use std::collections::BTreeMap;

use crate::ports::account::{
    AccountIdentity, BedrockAccess, BedrockQuotas, BucketName, Buckets, LambdaAccount, Parameters,
    Quota, ScheduleGroupName, ScheduleGroups, SesAccount,
};
use crate::preflight::{
    Deployment, FUNCTIONS, Finding, RESERVING_FUNCTIONS, ScheduledClient, UNRESERVED_MINIMUM,
};

/// The Lambda concurrency quota's Service Quotas code (AWS Lambda, "Concurrent executions").
const LAMBDA_CONCURRENCY_QUOTA: &str = "L-B99A9384";

fn unreadable(check: &str, what: &str, e: crate::Error) -> Finding {
    Finding::blocking(
        check,
        what.to_string(),
        format!("could not be read: {e}"),
        "run the preflight with credentials that may read it (see README, \"Deploying on AWS\")",
    )
}

/// Clients grouped by start time, largest group first.
fn start_groups(clients: &[ScheduledClient]) -> Vec<(String, Vec<&ScheduledClient>)> {
    let mut groups: BTreeMap<String, Vec<&ScheduledClient>> = BTreeMap::new();
    for c in clients {
        groups.entry(c.start_key()).or_default().push(c);
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by_key(|(_, g)| std::cmp::Reverse(g.len()));
    groups
}

fn ids(group: &[&ScheduledClient]) -> String {
    group
        .iter()
        .map(|c| c.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn lambda(
    deployment: &Deployment,
    clients: &[ScheduledClient],
    account: &dyn LambdaAccount,
) -> Vec<Finding> {
    const CHECK: &str = "lambda.reserved-concurrency";
    let raw = deployment.param("ReservedConcurrency");
    let Ok(reserved) = raw.parse::<i32>() else {
        return vec![Finding::blocking(
            CHECK,
            format!("ReservedConcurrency={raw}"),
            "is not a whole number".into(),
            "set ReservedConcurrency to 0 (no reservation) or a whole number",
        )];
    };
    let settings = match account.concurrency().await {
        Ok(s) => s,
        Err(e) => return vec![unreadable(CHECK, "Lambda GetAccountSettings", e)],
    };
    let (quota, unreserved) = (settings.quota, settings.unreserved);
    let read = format!(
        "ReservedConcurrency={reserved}; account concurrency quota {quota}, unreserved {unreserved}"
    );
    let mut findings = Vec::new();
    if reserved > 0 {
        // Redeploying: what this stack's functions reserve today is already missing from the
        // unreserved count and is given back when the update replaces it.
        let mut current = 0;
        for step in RESERVING_FUNCTIONS {
            let name = format!("vectora-inbox-{step}-{}", deployment.env);
            match account.reserved_concurrency(&name).await {
                Ok(r) => current += r.unwrap_or(0),
                Err(e) => return vec![unreadable(CHECK, &name, e)],
            }
        }
        let unreserved = unreserved + current;
        let read = if current > 0 {
            format!(
                "{read}; this stack's functions reserve {current} today (given back by the update)"
            )
        } else {
            read.clone()
        };
        let total = FUNCTIONS * reserved;
        let left = unreserved - total;
        if left < UNRESERVED_MINIMUM {
            findings.push(Finding::blocking(
                CHECK,
                read.clone(),
                format!(
                    "{FUNCTIONS} functions × {reserved} reserved = {total}; {unreserved} unreserved − {total} = {left}, below the {UNRESERVED_MINIMUM} executions AWS keeps unreserved: CloudFormation would fail creating the functions and roll the stack back{}",
                    if quota <= UNRESERVED_MINIMUM {
                        format!(" (on a quota of {quota}, every reservation is refused)")
                    } else {
                        String::new()
                    }
                ),
                format!(
                    "deploy with ReservedConcurrency=0 (the default: the Map concurrency already bounds a run), or raise the account's Lambda concurrency quota ({LAMBDA_CONCURRENCY_QUOTA}) to at least {} through Service Quotas first",
                    quota + (UNRESERVED_MINIMUM - left)
                ),
            ));
        } else {
            findings.push(Finding::ok(
                CHECK,
                read.clone(),
                format!(
                    "{unreserved} unreserved − {FUNCTIONS} × {reserved} = {left} ≥ {UNRESERVED_MINIMUM}"
                ),
            ));
        }
    } else {
        findings.push(Finding::ok(
            CHECK,
            read.clone(),
            "no reservation: nothing for AWS to refuse",
        ));
    }
    // What the clients that start together use at once: each run fetches `sources` sources and
    // then writes `sections` sections at a time.
    let (sources, sections) = deployment.map_concurrency();
    let per_run = sources.max(sections);
    let (room, room_words) = if reserved > 0 {
        (reserved, format!("the {reserved} each function reserves"))
    } else {
        (
            unreserved,
            format!("the account's {unreserved} unreserved executions"),
        )
    };
    for (start, group) in start_groups(clients) {
        let demand = group.len() as i32 * per_run;
        if demand > room {
            findings.push(Finding::warning(
                "lambda.concurrent-runs",
                format!(
                    "{} client(s) start at {start} ({}); Map concurrency {sources} sources / {sections} sections in {}",
                    group.len(),
                    ids(&group),
                    deployment.env
                ),
                format!(
                    "together they run up to {} × {per_run} = {demand} functions at once, more than {room_words}: Lambda throttles and runs slow down behind retries",
                    group.len()
                ),
                "stagger the clients' schedule.cron, or raise the Lambda concurrency quota",
            ));
        }
    }
    findings
}

/// The quota whose name is `<kind> per minute for <model name>` for a cross-region profile.
fn quota_for<'a>(quotas: &'a [Quota], kind: &str, model_name: &str) -> Option<&'a Quota> {
    let model = model_name.to_lowercase();
    quotas.iter().find(|q| {
        let name = q.name.to_lowercase();
        name.starts_with("cross-region")
            && name
                .split_once(&format!("{kind} per minute for "))
                .is_some_and(|(_, rest)| rest.contains(&model))
    })
}

pub async fn bedrock(
    deployment: &Deployment,
    clients: &[ScheduledClient],
    access: &dyn BedrockAccess,
    quotas: &dyn BedrockQuotas,
) -> Vec<Finding> {
    if deployment.param("Editor") != "bedrock" {
        return vec![Finding::ok(
            "bedrock.access",
            format!("Editor={}", deployment.param("Editor")),
            "the template editor writes every section: Bedrock is not called",
        )];
    }
    let profile = deployment.param("BedrockModelId");
    let models = match access.inference_profile(profile).await {
        Ok(Some(models)) if !models.is_empty() => models,
        Ok(_) => {
            return vec![Finding::blocking(
                "bedrock.profile",
                format!("BedrockModelId={profile}"),
                "no such inference profile in this region: every section would fail and fall back to the template editor".into(),
                "pick a profile `aws bedrock list-inference-profiles` lists in the deployment region, and pass it as BedrockModelId",
            )];
        }
        Err(e) => {
            return vec![unreadable(
                "bedrock.profile",
                "Bedrock GetInferenceProfile",
                e,
            )];
        }
    };
    let mut findings = Vec::new();
    let mut model_name = None;
    for model in &models {
        match access.model_access(model).await {
            Ok(a) if a.usable() => {
                model_name = model_name.or(a.name.clone());
                findings.push(Finding::ok(
                    "bedrock.access",
                    format!("{profile} → {model}"),
                    format!("{}, {}", a.authorization, a.entitlement),
                ));
            }
            Ok(a) => findings.push(Finding::blocking(
                "bedrock.access",
                format!("{profile} → {model}"),
                format!(
                    "the account may not call this model (authorization {}, entitlement {}): every section would fail with AccessDenied",
                    a.authorization, a.entitlement
                ),
                "enable access to the model in the Bedrock console (Model access) for this account and region, then run the preflight again",
            )),
            Err(e) => findings.push(unreadable("bedrock.access", model, e)),
        }
    }
    let need_groups: Vec<_> = start_groups(clients)
        .into_iter()
        .map(|(start, group)| {
            let writing: Vec<_> = group
                .into_iter()
                .filter(|c| c.tokens_per_call.is_some())
                .collect();
            let calls: u64 = writing.iter().map(|c| u64::from(c.sections)).sum();
            let tokens: u64 = writing
                .iter()
                .map(|c| u64::from(c.sections) * c.tokens_per_call.unwrap_or(0))
                .sum();
            (start, writing, calls, tokens)
        })
        .filter(|(_, writing, _, _)| !writing.is_empty())
        .collect();
    if need_groups.is_empty() {
        return findings;
    }
    let Some(model_name) = model_name else {
        return findings;
    };
    let all = match quotas.bedrock_quotas().await {
        Ok(q) => q,
        Err(e) => {
            findings.push(unreadable("bedrock.quota", "Service Quotas for bedrock", e));
            return findings;
        }
    };
    let largest_call = clients
        .iter()
        .filter_map(|c| c.tokens_per_call)
        .max()
        .unwrap_or(0);
    for (kind, unit) in [("requests", "calls"), ("tokens", "tokens")] {
        let check = format!("bedrock.quota.{kind}");
        let Some(quota) = quota_for(&all, kind, &model_name) else {
            findings.push(Finding::warning(
                &check,
                format!("Service Quotas for bedrock, looking for \"Cross-Region … {kind} per minute for {model_name}\""),
                "no such quota found: the clients' need cannot be checked".into(),
                "look the quota up in the Service Quotas console (Amazon Bedrock) and compare it with what the scheduled clients need",
            ));
            continue;
        };
        let smallest = if kind == "requests" { 1 } else { largest_call };
        for (start, writing, calls, tokens) in &need_groups {
            let need = if kind == "requests" { *calls } else { *tokens };
            let read = format!(
                "{} ({}) = {} per minute; clients starting at {start}: {}",
                quota.name,
                quota.code,
                quota.value,
                ids(writing)
            );
            if quota.value < smallest as f64 {
                findings.push(Finding::blocking(
                    &check,
                    read,
                    format!(
                        "one call may need {smallest} {unit}, more than the quota allows in a minute: every section would be throttled and written by the template editor"
                    ),
                    format!("request an increase of {} to at least {need} in Service Quotas", quota.code),
                ));
            } else if quota.value < need as f64 {
                findings.push(Finding::warning(
                    &check,
                    read,
                    format!(
                        "their first calls need up to {need} {unit} in the same minute (sections × {}), more than the quota: sections wait behind throttling retries and may fall back to the template editor",
                        if kind == "requests" { "1 call" } else { "(max_input_tokens + max_tokens)" }
                    ),
                    format!(
                        "request an increase of {} to at least {need}, or stagger the clients' schedule.cron, or lower editor.bedrock.max_input_tokens",
                        quota.code
                    ),
                ));
            } else {
                findings.push(Finding::ok(&check, read, format!("need {need} {unit}")));
            }
        }
    }
    findings
}

/// Verified as an address, or through its domain.
async fn verified(ses: &dyn SesAccount, address: &str) -> crate::Result<bool> {
    if ses.identity_verified(address).await? == Some(true) {
        return Ok(true);
    }
    match address.rsplit_once('@') {
        Some((_, domain)) => Ok(ses.identity_verified(domain).await? == Some(true)),
        None => Ok(false),
    }
}

pub async fn ses(
    deployment: &Deployment,
    clients: &[ScheduledClient],
    ses: &dyn SesAccount,
) -> Vec<Finding> {
    let mut senders: Vec<(String, String)> = clients
        .iter()
        .filter_map(|c| {
            c.sender
                .clone()
                .map(|s| (s, format!("{}: delivery.from", c.id)))
        })
        .collect();
    let parameter = deployment.param("SesIdentity");
    if !parameter.is_empty() {
        senders.push((parameter.to_string(), "SesIdentity".into()));
    }
    let recipients: Vec<(&str, &str)> = clients
        .iter()
        .flat_map(|c| {
            c.recipients
                .iter()
                .map(move |r| (r.as_str(), c.id.as_str()))
        })
        .collect();
    if senders.is_empty() && recipients.is_empty() {
        return vec![Finding::ok(
            "ses",
            "SesIdentity and the clients' delivery blocks".into(),
            "no e-mail delivery configured: SES is not used",
        )];
    }
    let mut findings = Vec::new();
    if senders.is_empty() {
        findings.push(Finding::blocking(
            "ses.sender",
            "SesIdentity and the clients' delivery.from".into(),
            "recipients are configured but no sending identity".into(),
            "pass --parameter-overrides SesIdentity=ADDRESS-OR-DOMAIN (or set delivery.from)",
        ));
    }
    for (sender, from) in &senders {
        match verified(ses, sender).await {
            Ok(true) => findings.push(Finding::ok(
                "ses.sender",
                format!("{from}={sender}"),
                "verified for sending",
            )),
            Ok(false) => findings.push(Finding::blocking(
                "ses.sender",
                format!("{from}={sender}"),
                "neither the address nor its domain is a verified SES identity in this region: every send would be refused".into(),
                format!("aws sesv2 create-email-identity --email-identity {sender}, then confirm the e-mail (or publish the domain's DKIM records) and run the preflight again"),
            )),
            Err(e) => findings.push(unreadable("ses.sender", sender, e)),
        }
    }
    match ses.production_access().await {
        Ok(true) => findings.push(Finding::ok(
            "ses.sandbox",
            "SES GetAccount".into(),
            "out of the sandbox: any recipient can be sent to",
        )),
        Ok(false) => {
            let mut unverified = Vec::new();
            for (recipient, client) in &recipients {
                match verified(ses, recipient).await {
                    Ok(true) => {}
                    Ok(false) => unverified.push(format!("{recipient} ({client})")),
                    Err(e) => findings.push(unreadable("ses.recipients", recipient, e)),
                }
            }
            if unverified.is_empty() {
                findings.push(Finding::warning(
                    "ses.sandbox",
                    "SES GetAccount: in the sandbox".into(),
                    "every recipient is verified, but a new recipient will not receive anything and sending is capped at 200 messages a day".into(),
                    "request production access (SES console, Account dashboard) before adding recipients",
                ));
            } else {
                findings.push(Finding::blocking(
                    "ses.recipients",
                    format!("SES GetAccount: in the sandbox; {} recipient(s)", recipients.len()),
                    format!(
                        "in the sandbox SES only delivers to verified identities; not verified: {}",
                        unverified.join(", ")
                    ),
                    "request production access (SES console, Account dashboard), or verify each of them (aws sesv2 create-email-identity --email-identity ADDRESS)",
                ));
            }
        }
        Err(e) => findings.push(unreadable("ses.sandbox", "SES GetAccount", e)),
    }
    findings
}

pub async fn ssm(
    deployment: &Deployment,
    clients: &[ScheduledClient],
    parameters: &dyn Parameters,
) -> Vec<Finding> {
    let pubmed: Vec<&str> = clients
        .iter()
        .filter(|c| c.follows_pubmed)
        .map(|c| c.id.as_str())
        .collect();
    if pubmed.is_empty() {
        return Vec::new();
    }
    let configured = deployment.param("NcbiApiKeyParameterName");
    let name = match configured {
        "" => {
            return vec![Finding::warning(
                "ssm.ncbi-key",
                format!(
                    "NcbiApiKeyParameterName is empty; PubMed followed by {}",
                    pubmed.join(", ")
                ),
                "no NCBI key: PubMed answers at 3 requests a second and throttles the fetch".into(),
                "store a key (aws ssm put-parameter --type SecureString) and leave NcbiApiKeyParameterName at `default`",
            )];
        }
        "default" => format!("/vectora-inbox/{}/ncbi-api-key", deployment.env),
        other => other.to_string(),
    };
    let read = format!(
        "NcbiApiKeyParameterName={configured} → {name}; PubMed followed by {}",
        pubmed.join(", ")
    );
    match parameters.parameter_exists(&name).await {
        Ok(true) => vec![Finding::ok("ssm.ncbi-key", read, "the parameter exists")],
        Ok(false) => vec![Finding::blocking(
            "ssm.ncbi-key",
            read,
            "the parameter does not exist: fetch would fail every PubMed source with InvalidInput"
                .into(),
            format!(
                "aws ssm put-parameter --name {name} --type SecureString --value YOUR_NCBI_KEY (or pass NcbiApiKeyParameterName= to run without a key)"
            ),
        )],
        Err(e) => vec![unreadable("ssm.ncbi-key", &name, e)],
    }
}

pub async fn buckets(
    deployment: &Deployment,
    identity: &dyn AccountIdentity,
    buckets: &dyn Buckets,
) -> Vec<Finding> {
    let account = match identity.account_id().await {
        Ok(a) => a,
        Err(e) => return vec![unreadable("s3.buckets", "STS GetCallerIdentity", e)],
    };
    let mut findings = Vec::new();
    for area in ["config", "data", "newsletters"] {
        let name = format!("vectora-inbox-{area}-{}-{account}", deployment.env);
        let stack = &deployment.stack_name;
        findings.push(match buckets.bucket(&name).await {
            Ok(BucketName::Free) => Finding::ok("s3.buckets", name, "free: the stack creates it"),
            Ok(BucketName::Owned { stack: Some(s) }) if &s == stack => {
                Finding::ok("s3.buckets", name, format!("owned by this stack ({stack})"))
            }
            Ok(BucketName::Owned { stack: owner }) => Finding::blocking(
                "s3.buckets",
                name.clone(),
                format!(
                    "the bucket exists in this account but {}: CloudFormation cannot create a bucket that exists (the stack would roll back)",
                    match owner {
                        Some(s) => format!("belongs to stack {s}, not {stack}"),
                        None => "no stack created it".into(),
                    }
                ),
                format!("deploy with the stack that owns it, or empty and delete {name} (aws s3 rb s3://{name} --force) if nothing in it is needed, or import it into {stack}"),
            ),
            Ok(BucketName::Foreign) => Finding::blocking(
                "s3.buckets",
                name.clone(),
                "another account owns this name (HeadBucket: 403)".into(),
                "bucket names end with the account id, so this means the credentials are not the target account's: check the profile",
            ),
            Err(e) => unreadable("s3.buckets", &name, e),
        });
    }
    findings
}

/// The template creates the group `vectora-inbox-{env}`: a group of that name made by hand or by
/// another stack would roll the deployment back (CloudFormation cannot create what exists).
pub async fn schedule_group(deployment: &Deployment, groups: &dyn ScheduleGroups) -> Finding {
    let name = format!("vectora-inbox-{}", deployment.env);
    let read = format!("schedule group {name}");
    let stack = &deployment.stack_name;
    match groups.schedule_group(&name).await {
        Ok(ScheduleGroupName::Free) => {
            Finding::ok("schedules.group", read, "free: the stack creates it")
        }
        Ok(ScheduleGroupName::Owned { stack: Some(s) }) if &s == stack => Finding::ok(
            "schedules.group",
            read,
            format!("owned by this stack ({stack})"),
        ),
        Ok(ScheduleGroupName::Owned { stack: owner }) => Finding::blocking(
            "schedules.group",
            read,
            format!(
                "the group exists in this account and region but {}: CloudFormation cannot create a group that exists (the stack would roll back)",
                match owner {
                    Some(s) => format!("belongs to stack {s}, not {stack}"),
                    None => "no stack created it".into(),
                }
            ),
            format!(
                "deploy with the stack that owns it, or delete the group if its schedules are not needed (aws scheduler delete-schedule-group --name {name}: it deletes the schedules in it)"
            ),
        ),
        Err(e) => unreadable("schedules.group", &name, e),
    }
}

pub fn schedules_and_alarms(deployment: &Deployment, clients: &[ScheduledClient]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let email = deployment.param("AlarmEmail");
    let read = format!("AlarmEmail={email:?} in {}", deployment.env);
    let well_formed = email.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)
    });
    if email.is_empty() && deployment.env == "prod" {
        findings.push(Finding::warning(
            "alarms.email",
            read,
            "the alarms of prod notify nobody: a failed or missing newsletter goes unnoticed".into(),
            "pass AlarmEmail=ADDRESS (in infra/samconfig.toml's prod parameter_overrides) and confirm the SNS subscription e-mail",
        ));
    } else if !email.is_empty() && !well_formed {
        findings.push(Finding::blocking(
            "alarms.email",
            read,
            "not an e-mail address: CloudFormation refuses the parameter".into(),
            "write it as name@domain.tld",
        ));
    } else if !email.is_empty() {
        findings.push(Finding::ok(
            "alarms.email",
            read,
            "confirm the subscription e-mail SNS sends after the deploy",
        ));
    }
    let group = format!("vectora-inbox-{}", deployment.env);
    if clients.is_empty() && deployment.env == "prod" {
        findings.push(Finding::warning(
            "schedules",
            format!("schedule group {group}: the client files of --config"),
            "no client file with an enabled schedule: nothing will run in prod".into(),
            "upload clients/ID.yaml (and what it refers to) to the config bucket; sync-clients schedules it",
        ));
    } else {
        findings.push(Finding::ok(
            "schedules",
            format!("schedule group {group}"),
            format!(
                "{} client(s) scheduled{}",
                clients.len(),
                if deployment.env == "prod" {
                    ""
                } else {
                    " (schedules are DISABLED outside prod)"
                }
            ),
        ));
    }
    findings
}

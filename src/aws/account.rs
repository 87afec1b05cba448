//! The account facts the preflight reads (`ports::account`), from the AWS APIs that hold them:
//! Lambda `GetAccountSettings`, Bedrock `GetInferenceProfile` / `GetFoundationModel` /
//! `GetFoundationModelAvailability`, Service Quotas `ListServiceQuotas`, SES v2 `GetAccount` /
//! `GetEmailIdentity`, SSM `GetParameter`, S3 `HeadBucket` / `GetBucketTagging`, STS
//! `GetCallerIdentity`. "Not found" answers are facts, not errors; every other failure names
//! the call and what to grant.

use async_trait::async_trait;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::aws::Failure;
use crate::error::Result;
use crate::ports::account::{
    AccountIdentity, BedrockAccess, BedrockQuotas, BucketName, Buckets, LambdaAccount,
    LambdaConcurrency, ModelAccess, Parameters, Quota, ScheduleGroupName, ScheduleGroups,
    SesAccount,
};

fn failed<E>(
    call: &str,
    target: &str,
    permission: &str,
    e: SdkError<E, HttpResponse>,
) -> crate::Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    Failure::of(&e).into_error(
        &format!("{call} {target}"),
        &format!("the preflight's credentials need {permission}"),
    )
}

/// Was the answer a "no such thing" (by code or by HTTP 404)?
fn not_found<E>(e: &SdkError<E, HttpResponse>, codes: &[&str]) -> bool
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    e.code().is_some_and(|c| codes.contains(&c))
        || e.raw_response().is_some_and(|r| r.status().as_u16() == 404)
}

pub struct LambdaSettings(pub aws_sdk_lambda::Client);

#[async_trait]
impl LambdaAccount for LambdaSettings {
    async fn concurrency(&self) -> Result<LambdaConcurrency> {
        let out = self.0.get_account_settings().send().await.map_err(|e| {
            failed(
                "Lambda GetAccountSettings",
                "",
                "lambda:GetAccountSettings",
                e,
            )
        })?;
        let limit = out.account_limit();
        let quota = limit.map(|l| l.concurrent_executions()).unwrap_or(0);
        Ok(LambdaConcurrency {
            quota,
            unreserved: limit
                .and_then(|l| l.unreserved_concurrent_executions())
                .unwrap_or(quota),
        })
    }

    async fn reserved_concurrency(&self, function_name: &str) -> Result<Option<i32>> {
        match self
            .0
            .get_function_concurrency()
            .function_name(function_name)
            .send()
            .await
        {
            Ok(out) => Ok(out.reserved_concurrent_executions()),
            Err(e) if not_found(&e, &["ResourceNotFoundException"]) => Ok(None),
            Err(e) => Err(failed(
                "Lambda GetFunctionConcurrency",
                function_name,
                "lambda:GetFunctionConcurrency",
                e,
            )),
        }
    }
}

pub struct Bedrock(pub aws_sdk_bedrock::Client);

#[async_trait]
impl BedrockAccess for Bedrock {
    async fn inference_profile(&self, profile_id: &str) -> Result<Option<Vec<String>>> {
        match self
            .0
            .get_inference_profile()
            .inference_profile_identifier(profile_id)
            .send()
            .await
        {
            Ok(out) => Ok(Some(
                out.models()
                    .iter()
                    .filter_map(|m| m.model_arn())
                    // arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-…
                    .map(|arn| arn.rsplit('/').next().unwrap_or(arn).to_string())
                    .collect(),
            )),
            Err(e) if not_found(&e, &["ResourceNotFoundException"]) => Ok(None),
            Err(e) => Err(failed(
                "Bedrock GetInferenceProfile",
                profile_id,
                "bedrock:GetInferenceProfile",
                e,
            )),
        }
    }

    async fn model_access(&self, model_id: &str) -> Result<ModelAccess> {
        let availability = self
            .0
            .get_foundation_model_availability()
            .model_id(model_id)
            .send()
            .await
            .map_err(|e| {
                failed(
                    "Bedrock GetFoundationModelAvailability",
                    model_id,
                    "bedrock:GetFoundationModelAvailability",
                    e,
                )
            })?;
        // The display name is only for finding the model's quotas: its absence is not fatal.
        let name = match self
            .0
            .get_foundation_model()
            .model_identifier(model_id)
            .send()
            .await
        {
            Ok(out) => out
                .model_details()
                .and_then(|d| d.model_name())
                .map(str::to_string),
            Err(_) => None,
        };
        Ok(ModelAccess {
            model_id: model_id.to_string(),
            name,
            authorization: availability.authorization_status().as_str().to_string(),
            entitlement: availability.entitlement_availability().as_str().to_string(),
        })
    }
}

pub struct ServiceQuotas(pub aws_sdk_servicequotas::Client);

#[async_trait]
impl BedrockQuotas for ServiceQuotas {
    async fn bedrock_quotas(&self) -> Result<Vec<Quota>> {
        let mut quotas = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .0
                .list_service_quotas()
                .service_code("bedrock")
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| {
                    failed(
                        "Service Quotas ListServiceQuotas",
                        "bedrock",
                        "servicequotas:ListServiceQuotas",
                        e,
                    )
                })?;
            quotas.extend(out.quotas().iter().map(|q| Quota {
                code: q.quota_code().unwrap_or_default().to_string(),
                name: q.quota_name().unwrap_or_default().to_string(),
                value: q.value().unwrap_or(0.0),
            }));
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(quotas),
            }
        }
    }
}

pub struct Ses(pub aws_sdk_sesv2::Client);

#[async_trait]
impl SesAccount for Ses {
    async fn production_access(&self) -> Result<bool> {
        let out = self
            .0
            .get_account()
            .send()
            .await
            .map_err(|e| failed("SES GetAccount", "", "ses:GetAccount", e))?;
        Ok(out.production_access_enabled())
    }

    async fn identity_verified(&self, identity: &str) -> Result<Option<bool>> {
        match self
            .0
            .get_email_identity()
            .email_identity(identity)
            .send()
            .await
        {
            Ok(out) => Ok(Some(out.verified_for_sending_status())),
            Err(e) if not_found(&e, &["NotFoundException"]) => Ok(None),
            Err(e) => Err(failed(
                "SES GetEmailIdentity",
                identity,
                "ses:GetEmailIdentity",
                e,
            )),
        }
    }
}

pub struct Ssm(pub aws_sdk_ssm::Client);

#[async_trait]
impl Parameters for Ssm {
    async fn parameter_exists(&self, name: &str) -> Result<bool> {
        // Without decryption: the preflight needs to know it is there, not what it says.
        match self.0.get_parameter().name(name).send().await {
            Ok(_) => Ok(true),
            Err(e) if not_found(&e, &["ParameterNotFound"]) => Ok(false),
            Err(e) => Err(failed("SSM GetParameter", name, "ssm:GetParameter", e)),
        }
    }
}

pub struct S3Buckets(pub aws_sdk_s3::Client);

#[async_trait]
impl Buckets for S3Buckets {
    async fn bucket(&self, name: &str) -> Result<BucketName> {
        match self.0.head_bucket().bucket(name).send().await {
            Ok(_) => {}
            Err(e) if not_found(&e, &["NotFound", "NoSuchBucket"]) => return Ok(BucketName::Free),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 403) => {
                return Ok(BucketName::Foreign);
            }
            Err(e) => return Err(failed("S3 HeadBucket", name, "s3:ListBucket", e)),
        }
        let stack = match self.0.get_bucket_tagging().bucket(name).send().await {
            Ok(out) => out
                .tag_set()
                .iter()
                .find(|t| t.key() == "aws:cloudformation:stack-name")
                .map(|t| t.value().to_string()),
            Err(e) if e.code() == Some("NoSuchTagSet") => None,
            Err(e) => {
                return Err(failed(
                    "S3 GetBucketTagging",
                    name,
                    "s3:GetBucketTagging",
                    e,
                ));
            }
        };
        Ok(BucketName::Owned { stack })
    }
}

pub struct SchedulerGroups(pub aws_sdk_scheduler::Client);

#[async_trait]
impl ScheduleGroups for SchedulerGroups {
    async fn schedule_group(&self, name: &str) -> Result<ScheduleGroupName> {
        let arn = match self.0.get_schedule_group().name(name).send().await {
            Ok(out) => out.arn().unwrap_or_default().to_string(),
            Err(e) if not_found(&e, &["ResourceNotFoundException"]) => {
                return Ok(ScheduleGroupName::Free);
            }
            Err(e) => {
                return Err(failed(
                    "EventBridge Scheduler GetScheduleGroup",
                    name,
                    "scheduler:GetScheduleGroup",
                    e,
                ));
            }
        };
        let tags = self
            .0
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(|e| {
                failed(
                    "EventBridge Scheduler ListTagsForResource",
                    &arn,
                    "scheduler:ListTagsForResource",
                    e,
                )
            })?;
        let stack = tags
            .tags()
            .iter()
            .find(|t| t.key() == "aws:cloudformation:stack-name")
            .map(|t| t.value().to_string());
        Ok(ScheduleGroupName::Owned { stack })
    }
}

pub struct Sts(pub aws_sdk_sts::Client);

#[async_trait]
impl AccountIdentity for Sts {
    async fn account_id(&self) -> Result<String> {
        let out = self
            .0
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| failed("STS GetCallerIdentity", "", "working AWS credentials", e))?;
        Ok(out.account().unwrap_or_default().to_string())
    }
}

/// Every adapter, on one SDK configuration (the deployment's region).
pub fn account(sdk: &aws_config::SdkConfig) -> crate::preflight::Account {
    use std::sync::Arc;
    crate::preflight::Account {
        identity: Arc::new(Sts(aws_sdk_sts::Client::new(sdk))),
        lambda: Arc::new(LambdaSettings(aws_sdk_lambda::Client::new(sdk))),
        bedrock: Arc::new(Bedrock(aws_sdk_bedrock::Client::new(sdk))),
        quotas: Arc::new(ServiceQuotas(aws_sdk_servicequotas::Client::new(sdk))),
        ses: Arc::new(Ses(aws_sdk_sesv2::Client::new(sdk))),
        parameters: Arc::new(Ssm(aws_sdk_ssm::Client::new(sdk))),
        buckets: Arc::new(S3Buckets(aws_sdk_s3::Client::new(sdk))),
        schedule_groups: Arc::new(SchedulerGroups(aws_sdk_scheduler::Client::new(sdk))),
    }
}

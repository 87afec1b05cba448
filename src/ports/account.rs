//! What the preflight reads from an AWS account, one trait per fact: Lambda concurrency,
//! Bedrock model access, Bedrock quotas, SES sending status, SSM parameters, S3 bucket names,
//! the caller's account id. The AWS adapters live in `aws::account`; tests answer through the
//! same adapters on the wire.

use async_trait::async_trait;

use crate::error::Result;

/// `GetAccountSettings`: the account's concurrency quota and what is left unreserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LambdaConcurrency {
    pub quota: i32,
    pub unreserved: i32,
}

#[async_trait]
pub trait LambdaAccount: Send + Sync {
    async fn concurrency(&self) -> Result<LambdaConcurrency>;
    /// The function's reserved concurrency today; `None` when it reserves nothing or does not
    /// exist yet.
    async fn reserved_concurrency(&self, function_name: &str) -> Result<Option<i32>>;
}

/// A foundation model an inference profile routes to, and whether this account may call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelAccess {
    /// `anthropic.claude-sonnet-4-5-20250929-v1:0`.
    pub model_id: String,
    /// The model's display name (`Claude Sonnet 4.5`), which Bedrock's quota names use.
    pub name: Option<String>,
    /// `AUTHORIZED` / `NOT_AUTHORIZED`, as Bedrock says it.
    pub authorization: String,
    /// `AVAILABLE` / `NOT_AVAILABLE`.
    pub entitlement: String,
}

impl ModelAccess {
    pub fn usable(&self) -> bool {
        self.authorization == "AUTHORIZED" && self.entitlement == "AVAILABLE"
    }
}

#[async_trait]
pub trait BedrockAccess: Send + Sync {
    /// The foundation model ids an inference profile routes to; `None` when the profile does
    /// not exist in this region.
    async fn inference_profile(&self, profile_id: &str) -> Result<Option<Vec<String>>>;
    async fn model_access(&self, model_id: &str) -> Result<ModelAccess>;
}

/// One Service Quotas entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Quota {
    pub code: String,
    pub name: String,
    pub value: f64,
}

#[async_trait]
pub trait BedrockQuotas: Send + Sync {
    /// Every quota of the `bedrock` service in this region (ListServiceQuotas).
    async fn bedrock_quotas(&self) -> Result<Vec<Quota>>;
}

#[async_trait]
pub trait SesAccount: Send + Sync {
    /// True once the account is out of the SES sandbox.
    async fn production_access(&self) -> Result<bool>;
    /// Whether an identity (address or domain) is verified for sending; `None` when SES does
    /// not know it at all.
    async fn identity_verified(&self, identity: &str) -> Result<Option<bool>>;
}

#[async_trait]
pub trait Parameters: Send + Sync {
    async fn parameter_exists(&self, name: &str) -> Result<bool>;
}

/// What `HeadBucket` says about a bucket name from this account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketName {
    /// 404: nobody has it, the stack can create it.
    Free,
    /// 403: another account owns it.
    Foreign,
    /// 200: this account has it; the CloudFormation stack that created it, if any.
    Owned { stack: Option<String> },
}

#[async_trait]
pub trait Buckets: Send + Sync {
    async fn bucket(&self, name: &str) -> Result<BucketName>;
}

/// What EventBridge Scheduler says about a schedule group name in this account and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleGroupName {
    /// No such group: the stack creates it.
    Free,
    /// The group exists; the CloudFormation stack that created it, if any.
    Owned { stack: Option<String> },
}

#[async_trait]
pub trait ScheduleGroups: Send + Sync {
    async fn schedule_group(&self, name: &str) -> Result<ScheduleGroupName>;
}

#[async_trait]
pub trait AccountIdentity: Send + Sync {
    /// The 12-digit account id of the caller (bucket names end with it).
    async fn account_id(&self) -> Result<String>;
}

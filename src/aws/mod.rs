//! AWS plumbing shared by the adapters (S3 store, CloudWatch metrics, Step Functions
//! operations, SSM secrets): one way to load the SDK configuration and one way to turn an SDK
//! failure into the state machine's error names.

pub mod account;
pub mod alerts;
pub mod cloudwatch;
pub mod scheduler;
pub mod ses;
pub mod sfn;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::{Error, ErrorKind};

/// Where the CLI and the Lambdas run when nothing else says so: the region the seeds deploy to.
pub const DEFAULT_REGION: &str = "eu-west-3";

/// The standard configuration chain (env, profile, IMDS/ECS credentials, `AWS_ENDPOINT_URL_*`),
/// with [`DEFAULT_REGION`] when no region is configured.
pub async fn load_config() -> aws_config::SdkConfig {
    load_config_in(DEFAULT_REGION).await
}

/// [`load_config`] with another region to fall back on (a client's Bedrock region).
pub async fn load_config_in(region_fallback: &str) -> aws_config::SdkConfig {
    use aws_config::meta::region::RegionProviderChain;
    let region = RegionProviderChain::default_provider()
        .or_else(aws_config::Region::new(region_fallback.to_string()));
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(region)
        .load()
        .await
}

/// Error codes AWS services use for "slow down", across protocols.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "ServiceQuotaExceededException",
];

/// Error codes that mean the caller's identity or role is wrong: retrying cannot help.
const ACCESS_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
];

/// The code, HTTP status and message of an SDK failure, and the error name it maps to:
/// throttling and transient transport failures → `Throttled` (the state machine retries with
/// backoff), credentials and permissions → `InvalidInput` (never retried), anything else →
/// `Internal`.
pub(crate) struct Failure {
    pub kind: ErrorKind,
    pub code: Option<String>,
    pub status: Option<u16>,
    pub message: String,
}

impl Failure {
    pub fn of<E>(err: &SdkError<E, HttpResponse>) -> Failure
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        let code = err.code().map(str::to_string);
        let message = err
            .message()
            .map(str::to_string)
            .unwrap_or_else(|| DisplayErrorContext(err).to_string());
        let kind = match code.as_deref() {
            Some(c) if THROTTLING_CODES.contains(&c) => ErrorKind::Throttled,
            Some(c) if ACCESS_CODES.contains(&c) => ErrorKind::InvalidInput,
            _ if matches!(status, Some(429 | 503)) => ErrorKind::Throttled,
            _ if matches!(status, Some(403)) => ErrorKind::InvalidInput,
            _ if matches!(
                err,
                SdkError::TimeoutError(_) | SdkError::DispatchFailure(_)
            ) =>
            {
                ErrorKind::Throttled
            }
            _ => ErrorKind::Internal,
        };
        Failure {
            kind,
            code,
            status,
            message,
        }
    }

    /// `AccessDenied`, `HTTP 500`, or `no response` when the request never got an answer.
    pub fn label(&self) -> String {
        match (&self.code, self.status) {
            (Some(code), _) => code.clone(),
            (None, Some(status)) => format!("HTTP {status}"),
            (None, None) => "no response".to_string(),
        }
    }

    /// The library error, with `context` naming the call (`S3 PutObject s3://b/k`) and `hint`
    /// saying what to do.
    pub fn into_error(self, context: &str, hint: &str) -> Error {
        let hint = match self.kind {
            _ if !hint.is_empty() => format!(" ({hint})"),
            ErrorKind::InvalidInput => {
                " (check the AWS credentials and that the role allows this call)".to_string()
            }
            _ => String::new(),
        };
        Error::Aws {
            kind: self.kind,
            message: format!("{context}: {}: {}{hint}", self.label(), self.message),
        }
    }
}

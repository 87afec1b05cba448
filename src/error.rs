//! The library's one error type, and the stable error names the state machine matches.
//!
//! Every failure a step can produce maps to one of the names in DESIGN.md ("Error names the
//! state machine matches"): the ASL `Retry`/`Catch` blocks and the Lambda `Diagnostic.error_type`
//! both use [`ErrorKind::name`], so a renamed variant here cannot silently break the wiring.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The error names a step can fail with, as Step Functions sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorKind {
    /// AWS or model throttling: retried with backoff by the state machine.
    Throttled,
    /// One source could not be fetched or read: caught per source, never fatal to the run.
    SourceUnavailable,
    /// A bad event or configuration: retrying cannot help.
    InvalidInput,
    /// The model's answer failed validation: retried once, then the template editor takes over.
    LlmOutputRejected,
    /// A service quota is used up (Bedrock `ServiceQuotaExceededException`): not retried, since
    /// minutes of backoff do not refill it.
    QuotaExceeded,
    /// The model or its service failed transiently (5xx, not ready, timed out): retried with
    /// backoff like throttling, and told apart from it in reports.
    ModelUnavailable,
    /// A bug or an unexpected environment failure.
    Internal,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Throttled,
        ErrorKind::SourceUnavailable,
        ErrorKind::InvalidInput,
        ErrorKind::LlmOutputRejected,
        ErrorKind::QuotaExceeded,
        ErrorKind::ModelUnavailable,
        ErrorKind::Internal,
    ];

    /// The `errorType` string used in the ASL and in Lambda diagnostics.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Throttled => "Throttled",
            ErrorKind::SourceUnavailable => "SourceUnavailable",
            ErrorKind::InvalidInput => "InvalidInput",
            ErrorKind::LlmOutputRejected => "LlmOutputRejected",
            ErrorKind::QuotaExceeded => "QuotaExceeded",
            ErrorKind::ModelUnavailable => "ModelUnavailable",
            ErrorKind::Internal => "Internal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// ` (line N)` after a configuration message, unless the YAML parser's message already says where.
fn line_suffix(line: Option<u32>, message: &str) -> String {
    match line {
        Some(n) if !message.contains("line ") => format!(" (line {n})"),
        _ => String::new(),
    }
}

/// Everything that can go wrong in the library. Messages are one line and say what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration file is missing, unreadable or invalid.
    #[error("{file}: {path}: {message}{}", line_suffix(*.line, .message))]
    Config {
        file: String,
        /// Key path inside the file (`sections[2].max_items`), or `-` for the whole file.
        path: String,
        /// Line of the key (1-based) when the file's text was at hand to find it.
        line: Option<u32>,
        message: String,
    },

    /// A step event (Lambda input) that does not have the expected shape.
    #[error("invalid {step} input: {message}")]
    InvalidEvent { step: String, message: String },

    /// The object store failed.
    #[error("store {op} {key}: {message}")]
    Store {
        op: &'static str,
        key: String,
        message: String,
    },

    /// An object that an earlier step should have written is missing.
    #[error("missing object {key}: {hint}")]
    MissingObject { key: String, hint: String },

    /// A source could not be fetched or parsed.
    #[error("source {source_id}: {message}")]
    SourceUnavailable { source_id: String, message: String },

    /// Throttling from AWS or the model.
    #[error("throttled: {0}")]
    Throttled(String),

    /// An AWS service (Bedrock, SSM) failed or refused; `kind` says whether retrying can help.
    #[error("{message}")]
    Aws { kind: ErrorKind, message: String },

    /// An earlier send of this issue started and never recorded its outcome: it may have
    /// reached readers, so the deliver step refuses to guess (at most once) and says how to
    /// decide.
    #[error(
        "{receipt}: the send of message <{message_id}> started at {attempted_at} never recorded its outcome, so it may already have reached readers; check the recipients' inboxes (or the SES sending statistics), then run `vectora deliver --client {client_id} --date {run_date} --resend` only if it did not arrive"
    )]
    DeliveryUncertain {
        receipt: String,
        message_id: String,
        attempted_at: String,
        client_id: String,
        run_date: String,
    },

    /// A bug: an invariant did not hold.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config { .. } | Error::InvalidEvent { .. } | Error::DeliveryUncertain { .. } => {
                ErrorKind::InvalidInput
            }
            Error::SourceUnavailable { .. } => ErrorKind::SourceUnavailable,
            Error::Throttled(_) => ErrorKind::Throttled,
            Error::Aws { kind, .. } => *kind,
            Error::Store { .. } | Error::MissingObject { .. } | Error::Internal(_) => {
                ErrorKind::Internal
            }
        }
    }

    pub fn config(
        file: impl Into<String>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Config {
            file: file.into(),
            path: path.into(),
            line: None,
            message: message.into(),
        }
    }

    /// Gives a configuration error without a line the line of its key path in `text`, the
    /// contents of `file`; any other error is returned as it is.
    pub fn with_line_in(self, file: &str, text: &str) -> Self {
        match self {
            Error::Config {
                file: f,
                path,
                line: None,
                message,
            } if f == file => Error::Config {
                line: crate::config::yaml::key_line(text, &path),
                file: f,
                path,
                message,
            },
            other => other,
        }
    }

    pub fn source(source_id: impl Into<String>, message: impl Into<String>) -> Self {
        Error::SourceUnavailable {
            source_id: source_id.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

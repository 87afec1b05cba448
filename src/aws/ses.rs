//! The SES carrier: the raw MIME message through the SES v2 `SendEmail` API (`Content.Raw`),
//! the envelope's recipients in `Destination` (so Bcc stays out of the headers).
//!
//! The client comes from the standard configuration chain, so `AWS_ENDPOINT_URL_SESV2` points
//! it elsewhere (tests, a sandbox relay).

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};
use aws_smithy_runtime_api::client::result::SdkError;

use crate::aws::Failure;
use crate::error::Error;
use crate::ports::Mailer;
use crate::ports::mailer::{MailerKind, OutgoingMail, SendFailure};

pub struct SesMailer {
    client: Client,
}

impl SesMailer {
    pub fn new(client: Client) -> Self {
        SesMailer { client }
    }

    /// A client from the standard configuration chain, without SDK retries: a retried send
    /// whose first attempt went unanswered could deliver twice, and an answered refusal is
    /// retried by the state machine (`Throttled`) after the receipt says nothing left.
    pub async fn client_from_env() -> Client {
        let shared = crate::aws::load_config().await;
        Client::from_conf(
            aws_sdk_sesv2::config::Builder::from(&shared)
                .retry_config(aws_sdk_sesv2::config::retry::RetryConfig::disabled())
                .build(),
        )
    }
}

#[async_trait]
impl Mailer for SesMailer {
    fn name(&self) -> &'static str {
        "ses"
    }

    fn kind(&self) -> MailerKind {
        MailerKind::Send
    }

    async fn send(&self, mail: &OutgoingMail) -> Result<String, SendFailure> {
        let raw = RawMessage::builder()
            .data(Blob::new(mail.raw.clone()))
            .build()
            .map_err(|e| SendFailure {
                error: Error::Internal(format!("SES raw message: {e}")),
                uncertain: false,
            })?;
        let result = self
            .client
            .send_email()
            .from_email_address(&mail.from)
            .destination(
                Destination::builder()
                    .set_to_addresses(Some(mail.recipients.clone()))
                    .build(),
            )
            .content(EmailContent::builder().raw(raw).build())
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.message_id.unwrap_or_default()),
            Err(err) => {
                // An answer from SES (any status) means it did not take the message; no answer
                // means it may have.
                let uncertain = matches!(
                    err,
                    SdkError::TimeoutError(_)
                        | SdkError::DispatchFailure(_)
                        | SdkError::ResponseError(_)
                ) && err.raw_response().is_none();
                let failure = Failure::of(&err);
                let hint = match failure.code.as_deref() {
                    Some("MessageRejected" | "MailFromDomainNotVerifiedException") => {
                        "check that the From address is a verified SES identity and, in the SES sandbox, that every recipient is verified too"
                    }
                    Some("AccountSuspendedException" | "SendingPausedException") => {
                        "sending is paused on this account: see the SES console"
                    }
                    _ => "",
                };
                Err(SendFailure {
                    error: failure
                        .into_error(&format!("SES SendEmail <{}>", mail.message_id), hint),
                    uncertain,
                })
            }
        }
    }
}

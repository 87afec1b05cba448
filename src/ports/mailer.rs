//! The mailer port: hands a finished MIME message to whatever carries it (SES on AWS and with
//! `--deliver ses`, a `newsletter.eml` file with `--deliver eml`, an in-memory outbox in tests).

use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::Error;

/// A message ready to go: the raw RFC 5322 bytes and the envelope (Bcc included, which the
/// headers never name).
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingMail {
    pub client_id: String,
    pub run_date: chrono::NaiveDate,
    /// Our `Message-ID` (without angle brackets).
    pub message_id: String,
    /// The envelope sender (the From address).
    pub from: String,
    pub recipients: Vec<String>,
    pub raw: Vec<u8>,
}

/// How a mailer's sends count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailerKind {
    /// Nothing leaves the machine (`--deliver eml`): the Date is the run's, so identical runs
    /// write identical bytes, and no receipt is kept (a preview is not a delivery).
    Preview,
    /// Reaches readers: stamped with the send time, guarded by the `delivery.json` receipt.
    Send,
}

/// Why a send failed, and whether the message may have gone out anyway.
#[derive(Debug)]
pub struct SendFailure {
    pub error: Error,
    /// `true` when no answer came back (timeout, dropped connection): the carrier may have
    /// accepted the message, so sending again could deliver it twice.
    pub uncertain: bool,
}

#[async_trait]
pub trait Mailer: Send + Sync {
    /// `ses`, `eml`, `memory`: recorded in the receipt and the run summary.
    fn name(&self) -> &'static str;
    fn kind(&self) -> MailerKind;
    /// Sends (or writes) the message; returns the carrier's id for it (SES `MessageId`, the
    /// file written).
    async fn send(&self, mail: &OutgoingMail) -> Result<String, SendFailure>;
}

/// An outbox in memory: what tests read to count sends, and to check what left.
#[derive(Debug, Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<OutgoingMail>>,
}

impl MemoryMailer {
    pub fn sent(&self) -> Vec<OutgoingMail> {
        self.sent.lock().expect("outbox lock").clone()
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn kind(&self) -> MailerKind {
        MailerKind::Send
    }

    async fn send(&self, mail: &OutgoingMail) -> Result<String, SendFailure> {
        let mut sent = self.sent.lock().expect("outbox lock");
        sent.push(mail.clone());
        Ok(format!("memory-{}", sent.len()))
    }
}

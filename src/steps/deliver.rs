//! `deliver`: the assembled newsletter → one e-mail to the client's readers, exactly once.
//!
//! The `delivery.json` receipt next to the newsletter is read before anything is sent: a
//! re-run, a `--resume` or a redrive of the execution finds it and answers `already_sent`.
//! Just before the message is handed over, the receipt says `sending` with the message's
//! deterministic Message-ID; after, `sent` (with the carrier's id) or `failed` (the carrier
//! answered no: nothing left, retrying is safe). A receipt still saying `sending` means the
//! process stopped between the hand-over and the answer: the message may have left, so the
//! step fails with `DeliveryUncertain` rather than risk a second copy (README, "Delivery").

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use super::get_json;
use crate::config::{client_key, load_client};
use crate::delivery::{self, Addresses, MessageFacts, Receipt, ReceiptStatus};
use crate::error::{Error, Result};
use crate::keys;
use crate::ports::Ports;
use crate::ports::mailer::{MailerKind, OutgoingMail};
use crate::render::Newsletter;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverInput {
    pub client_id: String,
    pub run_date: NaiveDate,
    /// Send again even though the receipt says the issue left (`vectora deliver --resend`).
    #[serde(default)]
    pub resend: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Sent,
    /// `--deliver eml`: the message was written as a file, nothing was sent.
    Written,
    AlreadySent,
    Skipped,
}

/// The deliver step's result: the execution summary's `delivery`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliverOutput {
    pub status: DeliveryStatus,
    /// Why nothing was sent (`skipped`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// Our Message-ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The carrier's id (SES `MessageId`) or, for `eml`, the file written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_message_id: Option<String>,
    #[serde(default)]
    pub recipients: usize,
}

impl DeliverOutput {
    fn skipped(reason: impl Into<String>) -> Self {
        DeliverOutput {
            status: DeliveryStatus::Skipped,
            reason: Some(reason.into()),
            via: None,
            message_id: None,
            provider_message_id: None,
            recipients: 0,
        }
    }
}

pub async fn run(ports: &Ports, input: DeliverInput) -> Result<DeliverOutput> {
    let bundle = load_client(ports.stores.config.as_ref(), &input.client_id).await?;
    let file = client_key(&input.client_id);
    let Some(config) = bundle.client.delivery.as_ref() else {
        return Ok(DeliverOutput::skipped(format!(
            "{file} has no delivery block"
        )));
    };
    if !config.enabled {
        return Ok(DeliverOutput::skipped(format!(
            "{file}: delivery.enabled is false"
        )));
    }
    let Some(mailer) = ports.mailer.as_ref() else {
        return Ok(DeliverOutput::skipped(
            "this run does not deliver (--deliver none)",
        ));
    };
    let news = ports.stores.newsletters.as_ref();
    let (client_id, run_date) = (input.client_id.as_str(), input.run_date);
    let key = |name: &str| keys::newsletter_file(client_id, run_date, name);
    let Some(text) = news.get(&key("newsletter.md")).await? else {
        return Ok(DeliverOutput::skipped(format!(
            "no newsletter at {}: nothing was selected and {file} has send_empty: false (or assemble has not run)",
            news.locate(&key("newsletter.md"))
        )));
    };
    let html = news
        .get(&key("newsletter.html"))
        .await?
        .ok_or_else(|| Error::MissingObject {
            key: news.locate(&key("newsletter.html")),
            hint: "run the assemble step again".into(),
        })?;
    let doc: Newsletter =
        get_json(news, &key("newsletter.json"), "run the assemble step again").await?;
    let addresses = Addresses::of(&file, config)?;
    let recipients = addresses.recipients();

    let receipt_key = key("delivery.json");
    let sends = mailer.kind() == MailerKind::Send;
    let prior: Option<Receipt> = if sends {
        news
            .get(&receipt_key)
            .await?
            .map(|bytes| {
                serde_json::from_slice(&bytes).map_err(|e| {
                    Error::Internal(format!(
                        "{} is not a delivery receipt ({e}): fix or delete it, knowing whether the issue left",
                        news.locate(&receipt_key)
                    ))
                })
            })
            .transpose()?
    } else {
        None
    };
    let sent_before = match &prior {
        Some(r) if !input.resend && r.status == ReceiptStatus::Sent => {
            return Ok(DeliverOutput {
                status: DeliveryStatus::AlreadySent,
                reason: Some(format!(
                    "{} says it left at {}: `vectora deliver --resend` sends it again",
                    news.locate(&receipt_key),
                    r.sent_at.unwrap_or(r.attempted_at)
                )),
                via: Some(r.via.clone()),
                message_id: Some(r.message_id.clone()),
                provider_message_id: r.provider_message_id.clone(),
                recipients: r.recipients.len(),
            });
        }
        Some(r) if !input.resend && r.status == ReceiptStatus::Sending => {
            return Err(Error::DeliveryUncertain {
                receipt: news.locate(&receipt_key),
                message_id: r.message_id.clone(),
                attempted_at: r.attempted_at.to_rfc3339(),
                client_id: client_id.to_string(),
                run_date: run_date.to_string(),
            });
        }
        // A failed send left nothing; an uncertain one the operator chose to resend counts.
        Some(r) if r.status == ReceiptStatus::Failed => r.sends,
        Some(r) => r.sends.max(1),
        None => 0,
    };
    let message_id = delivery::message_id(client_id, run_date, sent_before + 1, &addresses.from);
    let now = ports.clock.now();
    // A preview carries the run's date, so identical runs write identical files.
    let date = if sends {
        now
    } else {
        run_date.and_time(NaiveTime::MIN).and_utc()
    };
    let raw = delivery::compose(
        config,
        &addresses,
        &MessageFacts {
            client_id,
            name: &bundle.client.name,
            period: &doc.period_label,
            run_date,
            message_id: &message_id,
            date,
            text: &String::from_utf8_lossy(&text),
            html: &String::from_utf8_lossy(&html),
        },
    )?;
    let mail = OutgoingMail {
        client_id: client_id.to_string(),
        run_date,
        message_id: message_id.clone(),
        from: addresses.from.address.clone(),
        recipients: recipients.clone(),
        raw,
    };
    let mut receipt = Receipt {
        status: ReceiptStatus::Sending,
        via: mailer.name().to_string(),
        message_id: message_id.clone(),
        provider_message_id: None,
        recipients: recipients.clone(),
        attempted_at: now,
        sent_at: None,
        sends: sent_before,
        error: None,
    };
    if sends {
        super::put_json(news, &receipt_key, &receipt).await?;
    }
    match mailer.send(&mail).await {
        Ok(provider_id) => {
            if sends {
                receipt.status = ReceiptStatus::Sent;
                receipt.provider_message_id = Some(provider_id.clone());
                receipt.sent_at = Some(ports.clock.now());
                receipt.sends = sent_before + 1;
                super::put_json(news, &receipt_key, &receipt).await?;
            }
            Ok(DeliverOutput {
                status: if sends {
                    DeliveryStatus::Sent
                } else {
                    DeliveryStatus::Written
                },
                reason: None,
                via: Some(mailer.name().to_string()),
                message_id: Some(message_id),
                provider_message_id: Some(provider_id),
                recipients: recipients.len(),
            })
        }
        Err(failure) => {
            // Without an answer the `sending` receipt stays: the message may have left.
            if sends && !failure.uncertain {
                receipt.status = ReceiptStatus::Failed;
                receipt.error = Some(failure.error.to_string());
                super::put_json(news, &receipt_key, &receipt).await?;
            }
            Err(failure.error)
        }
    }
}

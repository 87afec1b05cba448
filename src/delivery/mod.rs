//! Delivery by e-mail: the newsletter as a MIME message (`multipart/alternative`, the
//! Markdown as `text/plain`, the e-mail-ready HTML as `text/html`), the mailboxes and subject
//! of the client's `delivery` block, and the `delivery.json` receipt that makes sending
//! exactly-once. The `deliver` step (`steps::deliver`) puts them together; carriers live
//! behind the [`Mailer`](crate::ports::Mailer) port.

pub mod eml;

use chrono::{DateTime, NaiveDate, Utc};
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::url::URL;
use mail_builder::mime::MimePart;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::DeliveryConfig;
use crate::error::{Error, Result};

/// A mailbox as written in the client file: `address` or `Display Name <address>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

impl Mailbox {
    /// Parses a mailbox; the error says what is wrong in words a client-file author can act on.
    pub fn parse(value: &str) -> std::result::Result<Mailbox, String> {
        let value = value.trim();
        let (name, address) = match value.strip_suffix('>').and_then(|v| v.rsplit_once('<')) {
            Some((name, address)) => {
                let name = name.trim().trim_matches('"').trim();
                if name.chars().any(|c| c.is_control() || c == '"') {
                    return Err("the display name has a quote or a control character".into());
                }
                ((!name.is_empty()).then(|| name.to_string()), address.trim())
            }
            None => (None, value),
        };
        let (local, domain) = address
            .split_once('@')
            .ok_or("is not an e-mail address: expected address@domain or Name <address@domain>")?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"<>()[]\\,;:@\"".contains(&b));
        let domain_ok = domain.contains('.')
            && domain.len() <= 253
            && domain.split('.').all(|l| {
                !l.is_empty()
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !local_ok || !domain_ok {
            return Err(
                "is not an e-mail address: expected address@domain (ASCII, one @, a dotted domain)"
                    .into(),
            );
        }
        Ok(Mailbox {
            name,
            address: address.to_string(),
        })
    }

    pub fn domain(&self) -> &str {
        self.address.split_once('@').map_or("", |(_, d)| d)
    }

    fn header(&self) -> Address<'static> {
        Address::new_address(self.name.clone(), self.address.clone())
    }
}

/// The placeholders a subject may use.
const SUBJECT_PLACEHOLDERS: [&str; 3] = ["name", "period", "date"];

/// Checks a subject template: only `{name}`, `{period}` and `{date}`, braces balanced.
pub fn subject_placeholders(template: &str) -> std::result::Result<(), String> {
    if template.trim().is_empty() {
        return Err("must not be empty: e.g. \"{name} \u{2014} {period}\"".into());
    }
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("{template:?} opens a {{ it never closes"))?;
        let name = &after[..close];
        if !SUBJECT_PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "{template:?} uses {{{name}}}: expected only {{name}}, {{period}} or {{date}}"
            ));
        }
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("{template:?} closes a }} it never opened"));
    }
    Ok(())
}

/// The subject for one issue.
pub fn subject(template: &str, name: &str, period: &str, date: NaiveDate) -> String {
    template
        .replace("{name}", name)
        .replace("{period}", period)
        .replace("{date}", &date.to_string())
}

/// Our `Message-ID` for an issue: derived from client, run date and which send of it this is,
/// so a re-run composes the very same message and a resend is told apart from the first.
pub fn message_id(client_id: &str, run_date: NaiveDate, send: u32, from: &Mailbox) -> String {
    let resend = if send > 1 {
        format!(".resend-{send}")
    } else {
        String::new()
    };
    format!(
        "{client_id}.{run_date}{resend}.vectora-inbox@{}",
        from.domain()
    )
}

/// Everything of one message that does not come from the client file.
pub struct MessageFacts<'a> {
    pub client_id: &'a str,
    /// The newsletter's name, for `{name}` and `List-Id`.
    pub name: &'a str,
    pub period: &'a str,
    pub run_date: NaiveDate,
    pub message_id: &'a str,
    pub date: DateTime<Utc>,
    pub text: &'a str,
    pub html: &'a str,
}

/// The parsed mailboxes of a delivery block (validated when the client file was loaded).
pub struct Addresses {
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub bcc: Vec<Mailbox>,
    pub reply_to: Option<Mailbox>,
}

impl Addresses {
    pub fn of(file: &str, d: &DeliveryConfig) -> Result<Addresses> {
        let one = |path: &str, v: &str| {
            Mailbox::parse(v).map_err(|why| Error::config(file, path, format!("{v:?}: {why}")))
        };
        let many = |list: &str, vs: &[String]| {
            vs.iter()
                .enumerate()
                .map(|(i, v)| one(&format!("delivery.{list}[{i}]"), v))
                .collect::<Result<Vec<_>>>()
        };
        Ok(Addresses {
            from: one("delivery.from", &d.from)?,
            to: many("to", &d.to)?,
            cc: many("cc", &d.cc)?,
            bcc: many("bcc", &d.bcc)?,
            reply_to: d
                .reply_to
                .as_deref()
                .map(|r| one("delivery.reply_to", r))
                .transpose()?,
        })
    }

    /// Every address the envelope carries (Bcc included), in order, without repeats.
    pub fn recipients(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for m in self.to.iter().chain(&self.cc).chain(&self.bcc) {
            if !out.iter().any(|a| a.eq_ignore_ascii_case(&m.address)) {
                out.push(m.address.clone());
            }
        }
        out
    }
}

fn list(mailboxes: &[Mailbox]) -> Address<'static> {
    Address::new_list(mailboxes.iter().map(Mailbox::header).collect())
}

/// The MIME boundary: derived from the Message-ID (identical runs, identical bytes). `=_`
/// cannot occur in quoted-printable or base64 text, so no body line can look like it.
fn boundary(message_id: &str) -> String {
    let digest = Sha256::digest(message_id.as_bytes());
    format!("=_vectora_{}", hex::encode(&digest[..12]))
}

/// Builds the raw RFC 5322 message. Bcc recipients are left out of the headers: they travel
/// only in the envelope.
pub fn compose(d: &DeliveryConfig, to: &Addresses, facts: &MessageFacts<'_>) -> Result<Vec<u8>> {
    let subject = subject(&d.subject, facts.name, facts.period, facts.run_date);
    let mut message = MessageBuilder::new()
        .from(to.from.header())
        .to(list(&to.to))
        .subject(subject)
        .date(facts.date.timestamp())
        .message_id(facts.message_id.to_string())
        .header(
            "List-Id",
            Raw::new(format!(
                "<{}.vectora-inbox.{}>",
                facts.client_id,
                to.from.domain()
            )),
        );
    if !to.cc.is_empty() {
        message = message.cc(list(&to.cc));
    }
    if let Some(r) = &to.reply_to {
        message = message.reply_to(r.header());
    }
    if let Some(u) = &d.list_unsubscribe {
        message = message.header("List-Unsubscribe", URL::new(u.clone()));
    }
    let body = MimePart::new(
        ContentType::new("multipart/alternative").attribute("boundary", boundary(facts.message_id)),
        vec![
            MimePart::new("text/plain", facts.text.to_string()),
            MimePart::new("text/html", facts.html.to_string()),
        ],
    );
    message
        .body(body)
        .write_to_vec()
        .map_err(|e| Error::Internal(format!("composing the e-mail: {e}")))
}

/// Where a send stands, in `delivery.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// Written just before handing the message to the carrier: if it is still there, the
    /// process stopped before hearing back, and the message may or may not have left.
    Sending,
    Sent,
    /// The carrier refused: nothing left, sending again is safe.
    Failed,
}

/// `delivery.json`, next to the newsletter: read before every send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub status: ReceiptStatus,
    /// `ses`, or another carrier's name.
    pub via: String,
    /// Our Message-ID of the latest send.
    pub message_id: String,
    /// The carrier's id (SES `MessageId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_message_id: Option<String>,
    pub recipients: Vec<String>,
    pub attempted_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    /// How many times this issue has left (1, or more after `--resend`).
    pub sends: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailboxes_parse_with_and_without_a_name() {
        let m = Mailbox::parse("Équipe Veille <veille@example.com>").unwrap();
        assert_eq!(m.name.as_deref(), Some("Équipe Veille"));
        assert_eq!(m.address, "veille@example.com");
        assert_eq!(m.domain(), "example.com");
        assert_eq!(
            Mailbox::parse(" a.b+c@x.example ").unwrap().address,
            "a.b+c@x.example"
        );
        for bad in [
            "",
            "nobody",
            "a@b",
            "a b@c.com",
            "<a@b.com",
            "x@-a.com",
            "a@@b.com",
        ] {
            assert!(Mailbox::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn subject_templates_accept_only_known_placeholders() {
        assert!(subject_placeholders("{name} — {period}").is_ok());
        assert!(subject_placeholders("{name} {date}").is_ok());
        assert!(
            subject_placeholders("{nmae}")
                .unwrap_err()
                .contains("{nmae}")
        );
        assert!(subject_placeholders("{name").is_err());
        assert!(subject_placeholders("name}").is_err());
        assert!(subject_placeholders("  ").is_err());
        let date = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(
            subject("{name} ({date}) {period}", "N", "1–7 Dec", date),
            "N (2026-12-07) 1–7 Dec"
        );
    }

    #[test]
    fn message_ids_tell_a_resend_from_the_first_send() {
        let from = Mailbox::parse("n@news.example.com").unwrap();
        let date = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(
            message_id("lai_weekly", date, 1, &from),
            "lai_weekly.2026-12-07.vectora-inbox@news.example.com"
        );
        assert_eq!(
            message_id("lai_weekly", date, 2, &from),
            "lai_weekly.2026-12-07.resend-2.vectora-inbox@news.example.com"
        );
    }
}

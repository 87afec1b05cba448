//! The clients a deployment schedules, as the preflight needs them: when they start, how many
//! model calls and tokens a run asks for, whether they follow PubMed, who their newsletter goes
//! to. Read from the client bundle with the validated loader; the `delivery` block (`from`,
//! `to`, `cc`, `bcc`) is read leniently here because the client schema does not define it yet.

use serde::Deserialize;

use crate::config::{self, SourceKind};
use crate::ports::ObjectStore;
use crate::preflight::{Deployment, Finding};

/// One scheduled client.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledClient {
    pub id: String,
    /// `schedule.cron` and `schedule.timezone`: clients with the same pair start together.
    pub cron: String,
    pub timezone: String,
    /// Sections, each one model call at least.
    pub sections: u32,
    /// `editor.bedrock.max_input_tokens + max_tokens`: the most one call can use; `None`
    /// without an `editor.bedrock` block.
    pub tokens_per_call: Option<u64>,
    pub follows_pubmed: bool,
    /// `delivery.from`, when the client file has one.
    pub sender: Option<String>,
    /// `delivery.to`, `cc` and `bcc`.
    pub recipients: Vec<String>,
}

impl ScheduledClient {
    /// The start time that groups clients: the cron expression (whitespace-normalised) in its
    /// zone. Two different expressions that happen to fire together are not recognised.
    pub fn start_key(&self) -> String {
        format!(
            "{} {}",
            self.cron.split_whitespace().collect::<Vec<_>>().join(" "),
            self.timezone
        )
    }
}

#[derive(Deserialize, Default)]
struct Lenient {
    #[serde(default)]
    delivery: Option<Delivery>,
}

#[derive(Deserialize, Default)]
struct Delivery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Addresses,
    #[serde(default)]
    cc: Addresses,
    #[serde(default)]
    bcc: Addresses,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Addresses {
    One(String),
    Many(Vec<String>),
}

impl Default for Addresses {
    fn default() -> Self {
        Addresses::Many(Vec::new())
    }
}

impl Addresses {
    fn into_vec(self) -> Vec<String> {
        match self {
            Addresses::One(a) => vec![a],
            Addresses::Many(v) => v,
        }
    }
}

/// The clients of the deployment's schedule slots (`Client1Id`…), loaded from `store`; a slot
/// whose client does not load becomes a blocking finding (its schedule would start runs that
/// fail with InvalidInput).
pub async fn scheduled_clients(
    store: &dyn ObjectStore,
    deployment: &Deployment,
) -> (Vec<ScheduledClient>, Vec<Finding>) {
    let mut clients = Vec::new();
    let mut findings = Vec::new();
    for (id, slot) in deployment.client_slots() {
        let file = store.locate(&config::client_key(&id));
        let bundle = match config::load_client(store, &id).await {
            Ok(b) => b,
            Err(e) => {
                findings.push(Finding::blocking(
                    "config.client",
                    format!("{slot}={id}, {file}"),
                    format!("the client does not load: {e}"),
                    format!(
                        "fix the file (vectora validate --config {} checks it), or change {slot}",
                        store.locate("")
                    ),
                ));
                continue;
            }
        };
        let delivery = match store.get(&config::client_key(&id)).await {
            Ok(Some(bytes)) => {
                let text = String::from_utf8_lossy(&bytes);
                match config::yaml::parse::<Lenient>(&file, &text) {
                    Ok(l) => l.delivery.unwrap_or_default(),
                    Err(e) => {
                        findings.push(Finding::blocking(
                            "config.delivery",
                            file.clone(),
                            format!("the delivery block does not read: {e}"),
                            "write delivery as {from: ADDRESS, to: [ADDRESS…], cc: […], bcc: […]}",
                        ));
                        Delivery::default()
                    }
                }
            }
            _ => Delivery::default(),
        };
        let mut recipients = delivery.to.into_vec();
        recipients.extend(delivery.cc.into_vec());
        recipients.extend(delivery.bcc.into_vec());
        let c = &bundle.client;
        clients.push(ScheduledClient {
            id: id.clone(),
            cron: c.schedule.cron.clone(),
            timezone: c.schedule.timezone.clone(),
            sections: c.sections.len() as u32,
            tokens_per_call: c
                .editor
                .bedrock
                .as_ref()
                .map(|b| u64::from(b.max_input_tokens) + u64::from(b.max_tokens)),
            follows_pubmed: bundle.sources.iter().any(|s| s.kind == SourceKind::Pubmed),
            sender: delivery.from,
            recipients,
        });
    }
    (clients, findings)
}

//! The clients a deployment schedules, as the preflight needs them: when they start, how many
//! model calls and tokens a run asks for, whether they follow PubMed, who their newsletter goes
//! to. Read from the client files with the validated loader, as `sync-clients` reads them.

use crate::config::{self, SourceKind};
use crate::delivery::Addresses;
use crate::ports::ObjectStore;
use crate::preflight::Finding;

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
    /// The address of `delivery.from`, when delivery is enabled.
    pub sender: Option<String>,
    /// The addresses of `delivery.to`, `cc` and `bcc`.
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

/// The clients whose files are in `store` (`clients/*.yaml`) and whose schedule is enabled:
/// what `sync-clients` would schedule. A file that does not load is a blocking finding:
/// `sync-clients` would refuse it, and its client would keep its last schedule or get none.
pub async fn scheduled_clients(store: &dyn ObjectStore) -> (Vec<ScheduledClient>, Vec<Finding>) {
    let mut clients = Vec::new();
    let mut findings = Vec::new();
    let ids = match config::list_clients(store).await {
        Ok(ids) => ids,
        Err(e) => {
            findings.push(Finding::blocking(
                "config.client",
                store.locate("clients/"),
                format!("the client files cannot be listed: {e}"),
                "check --config (a directory or s3://BUCKET[/PREFIX] you can read)",
            ));
            return (clients, findings);
        }
    };
    for id in ids {
        let file = store.locate(&config::client_key(&id));
        let refused = |why: String| {
            Finding::blocking(
                "config.client",
                file.clone(),
                why,
                format!(
                    "fix the file (vectora validate --config {} checks it), or remove it",
                    store.locate("")
                ),
            )
        };
        let bundle = match config::load_client(store, &id).await {
            Ok(b) => b,
            Err(e) => {
                findings.push(refused(format!(
                    "the client does not load, so sync-clients refuses it: {e}"
                )));
                continue;
            }
        };
        let c = &bundle.client;
        if !c.schedule.enabled {
            continue;
        }
        let (sender, recipients) = match c.delivery.as_ref().filter(|d| d.enabled) {
            None => (None, Vec::new()),
            // Validated by the loader already; an error here would be a loader bug, reported
            // rather than panicked on.
            Some(d) => match Addresses::of(&file, d) {
                Ok(a) => (
                    Some(a.from.address),
                    a.to.into_iter()
                        .chain(a.cc)
                        .chain(a.bcc)
                        .map(|m| m.address)
                        .collect(),
                ),
                Err(e) => {
                    findings.push(refused(e.to_string()));
                    continue;
                }
            },
        };
        clients.push(ScheduledClient {
            id: id.clone(),
            cron: c.schedule.cron.clone(),
            timezone: c.schedule.timezone.clone(),
            sections: c.sections.len() as u32,
            tokens_per_call: c
                .editor
                .bedrock
                .as_ref()
                .filter(|_| !c.editor.template_only)
                .map(|b| u64::from(b.max_input_tokens) + u64::from(b.max_tokens)),
            follows_pubmed: bundle.sources.iter().any(|s| s.kind == SourceKind::Pubmed),
            sender,
            recipients,
        });
    }
    (clients, findings)
}

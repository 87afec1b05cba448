//! Ports: the traits that separate the domain from the world (store, fetcher, editor, clock,
//! metrics), and the bundle of them a step receives.
//!
//! A step never knows whether it runs in a Lambda or in the CLI: both build a [`Ports`] from
//! their own adapters (local directory or S3, HTTP or recorded captures, template editor or
//! Bedrock) and hand it to the same step function.

pub mod account;
pub mod clock;
pub mod command;
pub mod editor;
pub mod fetcher;
pub mod mailer;
pub mod metrics;
pub mod schedules;
pub mod secrets;
pub mod store;

use std::sync::Arc;

pub use clock::{Clock, SystemClock, VirtualClock};
pub use editor::Editor;
pub use fetcher::Fetcher;
pub use mailer::Mailer;
pub use metrics::MetricsSink;
pub use schedules::{Alerts, Schedule, ScheduleStore};
pub use secrets::Secrets;
pub use store::{ObjectStore, Stores};

/// Everything a step may use. Cheap to clone.
#[derive(Clone)]
pub struct Ports {
    pub stores: Stores,
    pub fetcher: Arc<dyn Fetcher>,
    /// The editor asked for; the template editor is always available as the fallback.
    pub editor: Arc<dyn Editor>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<dyn MetricsSink>,
    pub secrets: Arc<dyn Secrets>,
    /// What carries the newsletter to its readers; `None` (`--deliver none`, the default
    /// locally) makes the deliver step a no-op that says so.
    pub mailer: Option<Arc<dyn Mailer>>,
    /// How many sources and sections a run works on at once (a deployment setting).
    pub concurrency: Concurrency,
}

/// The Map states' concurrency, which plan hands to the state machine (`MaxConcurrencyPath`):
/// set per deployment (`VECTORA_SOURCES_CONCURRENCY`, `VECTORA_SECTIONS_CONCURRENCY` on the
/// plan function), not per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Concurrency {
    /// Sources fetched and normalized at once.
    pub sources: u32,
    /// Sections written at once (each a model call).
    pub sections: u32,
}

impl Default for Concurrency {
    fn default() -> Self {
        Concurrency {
            sources: 4,
            sections: 2,
        }
    }
}

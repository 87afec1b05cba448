//! Scoring rules (`scoring/{id}.yaml`): event types and their patterns, bonuses, penalties and
//! the relevance threshold. Every key here is read by `scoring`; none is decorative.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringRules {
    pub description: String,
    /// Minimum score of a relevant item.
    pub threshold: f64,
    /// When true, an item needs a trademark, a technology term, or a core or pure-player
    /// company to be relevant, whatever its score.
    pub require_lai_evidence: bool,
    /// In priority order: an item takes the first type with a title hit, else with a body hit.
    pub event_types: Vec<EventTypeRule>,
    /// Weight of items no event pattern fits (type `other`).
    pub other_weight: f64,
    pub bonuses: Bonuses,
    /// Points removed per exclusion category found (keys: the exclusion scope's categories).
    pub penalties: BTreeMap<String, f64>,
    pub route_guard: RouteGuard,
}

/// Negative evidence from non-injectable routes: a technology term within `window_words` of a
/// term of `category` does not count ("long-acting" next to "inhaler"), and when the title
/// names such a route, only a technology term is LAI evidence (a brand named in passing is not).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteGuard {
    /// An exclusion category of the client's exclusion list.
    pub category: String,
    pub window_words: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventTypeRule {
    pub id: String,
    pub weight: f64,
    pub patterns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bonuses {
    /// For the best-tier company found.
    pub company: TierBonus,
    pub trademark: f64,
    pub molecule: f64,
    pub technology: TechnologyBonus,
    /// Multiplies an entity bonus when the entity is named in the title.
    pub title_multiplier: f64,
    /// By catalogue tier ("1", "2", "3").
    pub source_tier: BTreeMap<String, f64>,
    pub recency: Recency,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierBonus {
    pub core: f64,
    pub pure_player: f64,
    pub hybrid: f64,
    pub other: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TechnologyBonus {
    pub strong: f64,
    pub medium: f64,
    pub weak: f64,
    /// Cap on the sum over distinct terms.
    pub max: f64,
}

/// Linear decay: `max` points for an item published on the run's last day, 0 at `days` old.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recency {
    pub max: f64,
    pub days: f64,
}

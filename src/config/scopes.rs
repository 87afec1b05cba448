//! Watch lists (`scopes/{id}.yaml`): companies, molecules, trademarks, technology terms,
//! exclusions.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyScope {
    pub description: String,
    pub companies: Vec<Company>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Company {
    pub name: String,
    pub tier: CompanyTier,
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// How central a company is to the client's field; scoring gives each tier its own bonus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompanyTier {
    Core,
    PurePlayer,
    Hybrid,
    Other,
}

impl CompanyTier {
    pub fn name(self) -> &'static str {
        match self {
            CompanyTier::Core => "core",
            CompanyTier::PurePlayer => "pure_player",
            CompanyTier::Hybrid => "hybrid",
            CompanyTier::Other => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoleculeScope {
    pub description: String,
    pub molecules: Vec<Molecule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Molecule {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrademarkScope {
    pub description: String,
    pub trademarks: Vec<Trademark>,
}

/// A brand. Naming it implies its molecule and its owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trademark {
    pub name: String,
    #[serde(default)]
    pub molecule: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TechnologyScope {
    pub description: String,
    pub technologies: Vec<Technology>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Technology {
    pub term: String,
    pub strength: Strength,
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// How much a technology term says about the client's field on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    Strong,
    Medium,
    Weak,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExclusionScope {
    pub description: String,
    pub exclusions: Vec<ExclusionGroup>,
}

/// Negative evidence: terms of one category (hr, financial_reporting, anti_route, ...), each
/// category priced by a penalty in the scoring rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExclusionGroup {
    pub category: String,
    pub terms: Vec<String>,
}

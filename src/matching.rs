//! Dictionary matching of the watch lists: one Aho-Corasick automaton over every company,
//! molecule, trademark, technology, exclusion and event-type term, run on folded text with
//! word boundaries.
//!
//! Folding (see [`crate::text::fold`]) makes case, accents, hyphens and ®/™ irrelevant; a match
//! must start and end on a word boundary, and may run on over a plural `s`/`es`. Overlapping
//! candidates resolve to the leftmost, then longest, valid match ("long-acting injectable" wins
//! over "long-acting"), which matters because a rejected longer match must not hide a valid
//! shorter one: that is why every overlapping match is examined before choosing.

use std::collections::{BTreeSet, HashMap};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::config::{CompanyTier, ScoringRules, Strength, WatchLists};
use crate::error::{Error, Result};
use crate::model::{Entities, Field, Hit, Item, TermKind};
use crate::text::fold;

/// Legal suffixes stripped from company names to form the variant a headline uses.
const LEGAL_SUFFIXES: &[&str] = &[
    "inc",
    "incorporated",
    "ltd",
    "limited",
    "plc",
    "ag",
    "se",
    "sa",
    "s a",
    "corp",
    "corporation",
    "co",
    "llc",
    "gmbh",
    "nv",
    "n v",
    "bv",
    "ab",
    "asa",
    "as",
    "spa",
    "s p a",
    "kk",
    "co ltd",
    "pharmaceuticals inc",
];

#[derive(Debug, Clone)]
struct TermInfo {
    kind: TermKind,
    entity: String,
    term: String,
}

/// The compiled watch lists of one client.
pub struct Matcher {
    automaton: AhoCorasick,
    /// Per automaton pattern: every watch-list term that folds to it.
    terms: Vec<Vec<TermInfo>>,
    trademark_links: HashMap<String, (Option<String>, Option<String>)>,
    event_order: Vec<String>,
    company_tiers: HashMap<String, CompanyTier>,
    technology_strengths: HashMap<String, Strength>,
    /// Exclusion category naming non-injectable routes, and how many words away from one of
    /// its terms a technology term stops counting.
    route_category: String,
    route_window: usize,
}

/// What the watch lists found in one item.
#[derive(Debug, Clone, PartialEq)]
pub struct Findings {
    pub entities: Entities,
    pub hits: Vec<Hit>,
    pub event_type: String,
    /// Technology terms not counted, and why (next to a non-injectable route).
    pub ignored: Vec<String>,
}

impl Findings {
    /// Whether any watch-list entity (not just an exclusion or an event word) was found.
    pub fn is_match(&self) -> bool {
        !self.entities.is_empty()
    }
}

impl Matcher {
    pub fn new(watch: &WatchLists, scoring: &ScoringRules) -> Result<Matcher> {
        let mut by_pattern: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut terms: Vec<Vec<TermInfo>> = Vec::new();
        let mut add = |pattern: String, info: TermInfo| {
            if pattern.is_empty() {
                return;
            }
            let index = *by_pattern.entry(pattern.clone()).or_insert_with(|| {
                patterns.push(pattern);
                terms.push(Vec::new());
                terms.len() - 1
            });
            let slot = &mut terms[index];
            if !slot
                .iter()
                .any(|t| t.kind == info.kind && t.entity == info.entity)
            {
                slot.push(info);
            }
        };
        let info = |kind, entity: &str, term: &str| TermInfo {
            kind,
            entity: entity.to_string(),
            term: term.to_string(),
        };

        for c in &watch.companies.companies {
            for name in std::iter::once(&c.name).chain(&c.aliases) {
                let folded = fold(name);
                if let Some(stripped) = strip_legal_suffix(name, &folded) {
                    add(stripped, info(TermKind::Company, &c.name, name));
                }
                add(folded, info(TermKind::Company, &c.name, name));
            }
        }
        for m in &watch.molecules.molecules {
            for name in std::iter::once(&m.name).chain(&m.aliases) {
                add(fold(name), info(TermKind::Molecule, &m.name, name));
            }
        }
        for t in &watch.trademarks.trademarks {
            add(fold(&t.name), info(TermKind::Trademark, &t.name, &t.name));
        }
        for t in &watch.technologies.technologies {
            for term in std::iter::once(&t.term).chain(&t.aliases) {
                add(fold(term), info(TermKind::Technology, &t.term, term));
            }
        }
        for g in &watch.exclusions.exclusions {
            for term in &g.terms {
                add(fold(term), info(TermKind::Exclusion, &g.category, term));
            }
        }
        for e in &scoring.event_types {
            for p in &e.patterns {
                add(fold(p), info(TermKind::Event, &e.id, p));
            }
        }

        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .map_err(|e| Error::Internal(format!("building the watch-list automaton: {e}")))?;
        Ok(Matcher {
            automaton,
            terms,
            trademark_links: watch
                .trademarks
                .trademarks
                .iter()
                .map(|t| (t.name.clone(), (t.molecule.clone(), t.owner.clone())))
                .collect(),
            event_order: scoring.event_types.iter().map(|e| e.id.clone()).collect(),
            route_category: scoring.route_guard.category.clone(),
            route_window: scoring.route_guard.window_words,
            company_tiers: watch
                .companies
                .companies
                .iter()
                .map(|c| (c.name.clone(), c.tier))
                .collect(),
            technology_strengths: watch
                .technologies
                .technologies
                .iter()
                .map(|t| (t.term.clone(), t.strength))
                .collect(),
        })
    }

    pub fn company_tier(&self, name: &str) -> Option<CompanyTier> {
        self.company_tiers.get(name).copied()
    }

    pub fn technology_strength(&self, term: &str) -> Option<Strength> {
        self.technology_strengths.get(term).copied()
    }

    /// Finds the watch-list terms of an item, in its title and in its body.
    pub fn find(&self, item: &Item) -> Findings {
        let mut body = if item.text.contains(&item.summary) {
            item.text.clone()
        } else {
            format!("{} {}", item.summary, item.text)
        };
        // The venue is part of what the item says about itself: "Journal of Controlled Release"
        // makes a PubMed article a publication.
        if let Some(venue) = &item.venue {
            body.push_str(" — ");
            body.push_str(venue);
        }
        let mut hits: BTreeSet<Hit> = BTreeSet::new();
        let mut ignored: BTreeSet<String> = BTreeSet::new();
        for (field, text) in [
            (Field::Title, item.title.as_str()),
            (Field::Body, body.as_str()),
        ] {
            let found = self.scan(&fold(text));
            // Where the text names a non-injectable route ("inhaled", "oral tablet").
            let routes: Vec<(usize, usize, &str)> = found
                .iter()
                .flat_map(|&(p, first, last)| {
                    self.terms[p]
                        .iter()
                        .filter(|t| {
                            t.kind == TermKind::Exclusion && t.entity == self.route_category
                        })
                        .map(move |t| (first, last, t.term.as_str()))
                })
                .collect();
            for (pattern, first, last) in found {
                for t in &self.terms[pattern] {
                    // "long-acting" next to "inhaler" is not an injectable.
                    if t.kind == TermKind::Technology {
                        let near = routes.iter().find(|(rf, rl, _)| {
                            let gap = if *rf > last {
                                rf - last
                            } else {
                                first.saturating_sub(*rl)
                            };
                            gap <= self.route_window
                        });
                        if let Some((_, _, route)) = near {
                            ignored.insert(format!(
                                "{} ({:?} next to {route:?} in {})",
                                t.entity,
                                t.term,
                                field.name()
                            ));
                            continue;
                        }
                    }
                    hits.insert(Hit {
                        kind: t.kind,
                        entity: t.entity.clone(),
                        term: t.term.clone(),
                        field,
                        implied: false,
                    });
                }
            }
        }
        // A brand implies its molecule and its owner: a headline naming only "Uzedy" is still
        // about risperidone and Teva.
        let implied: Vec<Hit> = hits
            .iter()
            .filter(|h| h.kind == TermKind::Trademark)
            .flat_map(|h| {
                let (molecule, owner) = self
                    .trademark_links
                    .get(&h.entity)
                    .cloned()
                    .unwrap_or_default();
                let m = molecule.map(|m| (TermKind::Molecule, m));
                let o = owner.map(|o| (TermKind::Company, o));
                m.into_iter().chain(o).map(move |(kind, entity)| Hit {
                    kind,
                    entity,
                    term: h.term.clone(),
                    field: h.field,
                    implied: true,
                })
            })
            .collect();
        for hit in implied {
            let named = hits
                .iter()
                .any(|h| h.kind == hit.kind && h.entity == hit.entity && h.field == hit.field);
            if !named {
                hits.insert(hit);
            }
        }

        let mut entities = Entities::default();
        for h in &hits {
            let set = match h.kind {
                TermKind::Company => &mut entities.companies,
                TermKind::Molecule => &mut entities.molecules,
                TermKind::Trademark => &mut entities.trademarks,
                TermKind::Technology => &mut entities.technologies,
                TermKind::Exclusion | TermKind::Event => continue,
            };
            set.insert(h.entity.clone());
        }
        let event_type = [Field::Title, Field::Body]
            .iter()
            .find_map(|field| {
                self.event_order.iter().find(|id| {
                    hits.iter()
                        .any(|h| h.kind == TermKind::Event && &h.entity == *id && h.field == *field)
                })
            })
            .cloned()
            .unwrap_or_else(|| "other".to_string());
        Findings {
            entities,
            hits: hits.into_iter().collect(),
            event_type,
            ignored: ignored.into_iter().collect(),
        }
    }

    /// The accepted matches in folded text — on word boundaries, non-overlapping, leftmost then
    /// longest — as (pattern id, first word index, last word index).
    fn scan(&self, folded: &str) -> Vec<(usize, usize, usize)> {
        let bytes = folded.as_bytes();
        let boundary_before = |start: usize| start == 0 || bytes[start - 1] == b' ';
        let boundary_at = |end: usize| end == bytes.len() || bytes[end] == b' ';
        let mut candidates: Vec<(usize, usize, usize)> = Vec::new();
        for m in self.automaton.find_overlapping_iter(folded) {
            if !boundary_before(m.start()) {
                continue;
            }
            let end = m.end();
            let end = if boundary_at(end) {
                end
            } else if bytes.get(end) == Some(&b's') && boundary_at(end + 1) {
                end + 1
            } else if bytes.get(end..end + 2) == Some(b"es") && boundary_at(end + 2) {
                end + 2
            } else {
                continue;
            };
            candidates.push((m.start(), end, m.pattern().as_usize()));
        }
        candidates.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut accepted = Vec::new();
        let mut covered_to = 0;
        for (start, end, pattern) in candidates {
            if start >= covered_to {
                // Folded text has exactly one space between words: counting spaces counts words.
                let first = bytes[..start].iter().filter(|b| **b == b' ').count();
                let last = first + bytes[start..end].iter().filter(|b| **b == b' ').count();
                accepted.push((pattern, first, last));
                covered_to = end;
            }
        }
        accepted
    }
}

/// The name without its trailing legal suffixes ("Hypothetical Bio Co., Ltd." → "hypothetical
/// bio"), longest suffix first. `None` when nothing was stripped or nothing would remain, and
/// for names ending in "& Co": there "Co" is part of the name (Merck & Co is not Merck KGaA).
fn strip_legal_suffix(original: &str, folded: &str) -> Option<String> {
    if original
        .trim_end_matches(['.', ' '])
        .to_ascii_lowercase()
        .ends_with("& co")
    {
        return None;
    }
    let mut suffixes: Vec<&str> = LEGAL_SUFFIXES.to_vec();
    suffixes.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut current = folded.to_string();
    while let Some(stripped) = suffixes.iter().find_map(|suffix| {
        let rest = current.strip_suffix(suffix)?.strip_suffix(' ')?;
        (!rest.is_empty()).then(|| rest.to_string())
    }) {
        current = stripped;
    }
    (current != folded).then_some(current)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::*;
    use crate::model::DateSource;
    use std::collections::BTreeMap;

    pub(crate) fn watch() -> WatchLists {
        WatchLists {
            companies: CompanyScope {
                description: String::new(),
                companies: vec![
                    Company {
                        name: "Teva Pharmaceutical".into(),
                        tier: CompanyTier::Hybrid,
                        aliases: vec!["Teva".into()],
                    },
                    Company {
                        name: "MedinCell".into(),
                        tier: CompanyTier::Core,
                        aliases: vec![],
                    },
                    Company {
                        name: "Camurus AB".into(),
                        tier: CompanyTier::Core,
                        aliases: vec![],
                    },
                ],
            },
            molecules: MoleculeScope {
                description: String::new(),
                molecules: vec![Molecule {
                    name: "risperidone".into(),
                    aliases: vec![],
                }],
            },
            trademarks: TrademarkScope {
                description: String::new(),
                trademarks: vec![Trademark {
                    name: "Uzedy".into(),
                    molecule: Some("risperidone".into()),
                    owner: Some("Teva Pharmaceutical".into()),
                }],
            },
            technologies: TechnologyScope {
                description: String::new(),
                technologies: vec![
                    Technology {
                        term: "long-acting injectable".into(),
                        strength: Strength::Strong,
                        aliases: vec![],
                    },
                    Technology {
                        term: "long-acting".into(),
                        strength: Strength::Medium,
                        aliases: vec![],
                    },
                    Technology {
                        term: "microsphere".into(),
                        strength: Strength::Medium,
                        aliases: vec![],
                    },
                    Technology {
                        term: "LAI".into(),
                        strength: Strength::Strong,
                        aliases: vec![],
                    },
                ],
            },
            exclusions: ExclusionScope {
                description: String::new(),
                exclusions: vec![
                    ExclusionGroup {
                        category: "hr".into(),
                        terms: vec!["appoints".into()],
                    },
                    ExclusionGroup {
                        category: "anti_route".into(),
                        terms: vec!["inhaled".into(), "oral tablet".into()],
                    },
                ],
            },
        }
    }

    pub(crate) fn rules() -> ScoringRules {
        ScoringRules {
            description: String::new(),
            threshold: 8.0,
            require_lai_evidence: true,
            event_types: vec![
                EventTypeRule {
                    id: "regulatory".into(),
                    weight: 7.0,
                    patterns: vec!["approves".into(), "label expansion".into()],
                },
                EventTypeRule {
                    id: "partnership".into(),
                    weight: 8.0,
                    patterns: vec!["license agreement".into()],
                },
            ],
            other_weight: 1.0,
            bonuses: Bonuses {
                company: TierBonus {
                    core: 5.0,
                    pure_player: 4.0,
                    hybrid: 1.5,
                    other: 0.5,
                },
                trademark: 4.0,
                molecule: 2.5,
                technology: TechnologyBonus {
                    strong: 3.0,
                    medium: 1.5,
                    weak: 0.5,
                    max: 6.0,
                },
                title_multiplier: 1.5,
                source_tier: BTreeMap::from([
                    ("1".into(), 2.0),
                    ("2".into(), 1.0),
                    ("3".into(), 0.0),
                ]),
                recency: Recency {
                    max: 2.0,
                    days: 7.0,
                },
            },
            penalties: BTreeMap::from([("hr".into(), 12.0), ("anti_route".into(), 6.0)]),
            route_guard: RouteGuard {
                category: "anti_route".into(),
                window_words: 3,
            },
        }
    }

    pub(crate) fn item(title: &str, text: &str) -> Item {
        Item {
            id: "x".into(),
            title: title.into(),
            url: "https://example.com/x".into(),
            published: None,
            date_source: DateSource::None,
            summary: text.into(),
            text: text.into(),
            authors: vec![],
            venue: None,
            source: "s".into(),
            also_in: vec![],
            title_source: Default::default(),
            url_source: Default::default(),
        }
    }

    fn matcher() -> Matcher {
        Matcher::new(&watch(), &rules()).unwrap()
    }

    #[test]
    fn brand_in_title_implies_molecule_and_owner() {
        let f = matcher().find(&item("FDA approves UZEDY® label expansion", "Details."));
        assert_eq!(f.entities.trademarks, BTreeSet::from(["Uzedy".to_string()]));
        assert_eq!(
            f.entities.molecules,
            BTreeSet::from(["risperidone".to_string()])
        );
        assert_eq!(
            f.entities.companies,
            BTreeSet::from(["Teva Pharmaceutical".to_string()])
        );
        assert_eq!(f.event_type, "regulatory");
        assert!(
            f.hits
                .iter()
                .any(|h| h.kind == TermKind::Company && h.implied)
        );
    }

    #[test]
    fn word_boundaries_hold_and_plurals_match() {
        let m = matcher();
        assert!(
            m.find(&item("Plaid results", "")).entities.is_empty(),
            "LAI inside plaid"
        );
        let f = m.find(&item("New microspheres platform", ""));
        assert_eq!(
            f.entities.technologies,
            BTreeSet::from(["microsphere".to_string()])
        );
    }

    #[test]
    fn longest_term_wins_and_hyphens_do_not_matter() {
        let f = matcher().find(&item("A long acting injectable for schizophrenia", ""));
        assert_eq!(
            f.entities.technologies,
            BTreeSet::from(["long-acting injectable".to_string()])
        );
    }

    #[test]
    fn legal_suffix_variants_match() {
        let f = matcher().find(&item("Camurus signs license agreement", ""));
        assert_eq!(
            f.entities.companies,
            BTreeSet::from(["Camurus AB".to_string()])
        );
        assert_eq!(f.event_type, "partnership");
    }

    #[test]
    fn long_acting_next_to_an_inhaled_route_is_not_injectable_evidence() {
        let f = matcher().find(&item(
            "Inhaled long-acting bronchodilator approved",
            "A long-acting injectable is not involved here at all, unlike the inhaled product.",
        ));
        assert!(
            f.entities.technologies.contains("long-acting injectable"),
            "far from the route"
        );
        assert!(
            !f.entities.technologies.contains("long-acting"),
            "next to inhaled"
        );
        assert_eq!(
            f.ignored,
            vec!["long-acting (\"long-acting\" next to \"inhaled\" in title)".to_string()]
        );
    }

    #[test]
    fn legal_suffixes_strip_longest_first_and_keep_and_co() {
        assert_eq!(
            strip_legal_suffix("Hypothetical Bio Co., Ltd.", "hypothetical bio co ltd").as_deref(),
            Some("hypothetical bio")
        );
        assert_eq!(strip_legal_suffix("Merck & Co", "merck co"), None);
        assert_eq!(
            strip_legal_suffix("Camurus AB", "camurus ab").as_deref(),
            Some("camurus")
        );
        assert_eq!(strip_legal_suffix("Inc", "inc"), None);
    }

    #[test]
    fn title_event_beats_body_event_and_exclusions_are_recorded() {
        let f = matcher().find(&item(
            "MedinCell appoints a new CFO",
            "after the license agreement",
        ));
        assert_eq!(
            f.event_type, "partnership",
            "only body hit: first type with a body hit"
        );
        assert!(
            f.hits.iter().any(|h| h.kind == TermKind::Exclusion
                && h.entity == "hr"
                && h.field == Field::Title)
        );
    }
}

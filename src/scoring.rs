//! Rule scoring: one score per matched item from the declared rules, with a breakdown line per
//! rule that fired and the decision's reasons in words.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::config::{CompanyTier, ScoringRules, Strength};
use crate::matching::Matcher;
use crate::model::{Field, Hit, MatchedItem, ScoreLine, ScoredItem, TermKind};

/// Scores items of one run.
pub struct Scorer<'a> {
    rules: &'a ScoringRules,
    matcher: &'a Matcher,
    /// End of the run's window: recency is measured from here.
    window_end: DateTime<Utc>,
}

impl<'a> Scorer<'a> {
    pub fn new(rules: &'a ScoringRules, matcher: &'a Matcher, window_end: DateTime<Utc>) -> Self {
        Scorer {
            rules,
            matcher,
            window_end,
        }
    }

    /// Scores one item; `source_tier` is its source's catalogue tier (1–3).
    pub fn score(&self, matched: MatchedItem, source_tier: u8) -> ScoredItem {
        let r = self.rules;
        let b = &r.bonuses;
        let mut lines: Vec<ScoreLine> = Vec::new();
        let mut line = |rule: &str, points: f64, detail: String| {
            if points != 0.0 {
                lines.push(ScoreLine {
                    rule: rule.to_string(),
                    points: round2(points),
                    detail,
                });
            }
        };
        let hits = &matched.hits;
        let in_title = |kind: TermKind, entity: &str| {
            hits.iter()
                .any(|h| h.kind == kind && h.entity == entity && h.field == Field::Title)
        };
        let multiplier = |kind: TermKind, entity: &str| {
            if in_title(kind, entity) {
                b.title_multiplier
            } else {
                1.0
            }
        };

        let event_weight = r
            .event_types
            .iter()
            .find(|e| e.id == matched.event_type)
            .map_or(r.other_weight, |e| e.weight);
        line(
            "event",
            event_weight,
            format!("event type {}", matched.event_type),
        );

        let best_company = matched
            .entities
            .companies
            .iter()
            .filter_map(|c| self.matcher.company_tier(c).map(|t| (t, c)))
            .min_by(|a, b| {
                a.0.cmp(&b.0).then_with(|| {
                    in_title(TermKind::Company, b.1).cmp(&in_title(TermKind::Company, a.1))
                })
            });
        if let Some((tier, name)) = best_company {
            let base = match tier {
                CompanyTier::Core => b.company.core,
                CompanyTier::PurePlayer => b.company.pure_player,
                CompanyTier::Hybrid => b.company.hybrid,
                CompanyTier::Other => b.company.other,
            };
            let m = multiplier(TermKind::Company, name);
            line(
                "company",
                base * m,
                format!("{name} ({} company{})", tier.name(), title_note(m)),
            );
        }
        if let Some(tm) =
            best_in_title(&matched.entities.trademarks, TermKind::Trademark, &in_title)
        {
            let m = multiplier(TermKind::Trademark, tm);
            line(
                "trademark",
                b.trademark * m,
                format!("{tm}{}", title_note(m)),
            );
        }
        if let Some(mol) = best_in_title(&matched.entities.molecules, TermKind::Molecule, &in_title)
        {
            let m = multiplier(TermKind::Molecule, mol);
            line(
                "molecule",
                b.molecule * m,
                format!("{mol}{}", title_note(m)),
            );
        }
        let mut tech = 0.0;
        let mut tech_terms = Vec::new();
        for t in &matched.entities.technologies {
            let base = match self.matcher.technology_strength(t) {
                Some(Strength::Strong) => b.technology.strong,
                Some(Strength::Medium) => b.technology.medium,
                Some(Strength::Weak) | None => b.technology.weak,
            };
            tech += base * multiplier(TermKind::Technology, t);
            tech_terms.push(t.as_str());
        }
        if tech > b.technology.max {
            tech = b.technology.max;
        }
        line("technology", tech, tech_terms.join(", "));

        let tier_bonus = b
            .source_tier
            .get(&source_tier.to_string())
            .copied()
            .unwrap_or(0.0);
        line(
            "source_tier",
            tier_bonus,
            format!("source tier {source_tier}"),
        );

        if let Some(published) = matched.item.published {
            let age_days = (self.window_end - published).num_seconds() as f64 / 86_400.0;
            let recency =
                (b.recency.max * (1.0 - age_days / b.recency.days)).clamp(0.0, b.recency.max);
            line(
                "recency",
                recency,
                format!("{age_days:.1} days before the end of the window"),
            );
        }

        let exclusion_hits: Vec<&Hit> = hits
            .iter()
            .filter(|h| h.kind == TermKind::Exclusion)
            .collect();
        let categories: BTreeSet<&str> = exclusion_hits.iter().map(|h| h.entity.as_str()).collect();
        for category in &categories {
            let terms: BTreeSet<&str> = exclusion_hits
                .iter()
                .filter(|h| h.entity == *category)
                .map(|h| h.term.as_str())
                .collect();
            let penalty = r.penalties.get(*category).copied().unwrap_or(0.0);
            line(
                "penalty",
                -penalty,
                format!(
                    "{category}: {}",
                    terms.into_iter().collect::<Vec<_>>().join(", ")
                ),
            );
        }

        let score = round2(lines.iter().map(|l| l.points).sum());
        // When the title names a non-injectable route, the item is about that route: only a
        // technology term (not a brand or company named in passing) shows it concerns LAIs.
        let route_in_title = hits.iter().any(|h| {
            h.kind == TermKind::Exclusion
                && h.entity == r.route_guard.category
                && h.field == Field::Title
        });
        let evidence = if route_in_title {
            !matched.entities.technologies.is_empty()
        } else {
            !matched.entities.trademarks.is_empty()
                || !matched.entities.technologies.is_empty()
                || matched.entities.companies.iter().any(|c| {
                    matches!(
                        self.matcher.company_tier(c),
                        Some(CompanyTier::Core | CompanyTier::PurePlayer)
                    )
                })
        };
        let mut reasons = Vec::new();
        let fired: Vec<String> = hits
            .iter()
            .filter(|h| !matches!(h.kind, TermKind::Event | TermKind::Exclusion))
            .map(describe_hit)
            .collect();
        if !fired.is_empty() {
            reasons.push(format!("found: {}", fired.join("; ")));
        }
        for i in &matched.ignored {
            reasons.push(format!("ignored technology term: {i}"));
        }
        for l in lines.iter().filter(|l| l.rule == "penalty") {
            reasons.push(format!("penalty {}: {}", l.points, l.detail));
        }
        let relevant = if score < r.threshold {
            reasons.push(format!(
                "dropped: score {score} is below the threshold {}",
                r.threshold
            ));
            false
        } else if r.require_lai_evidence && !evidence {
            reasons.push(
                "dropped: no LAI evidence (needs a trademark, a technology term, or a core or pure-player company)"
                    .to_string(),
            );
            false
        } else {
            reasons.push(format!(
                "relevant: score {score} reaches the threshold {}",
                r.threshold
            ));
            true
        };
        ScoredItem {
            matched,
            score,
            breakdown: lines,
            relevant,
            section: None,
            reasons,
        }
    }
}

/// Prefer an entity named in the title; otherwise the first by name (deterministic).
fn best_in_title<'s>(
    set: &'s BTreeSet<String>,
    kind: TermKind,
    in_title: &dyn Fn(TermKind, &str) -> bool,
) -> Option<&'s String> {
    set.iter()
        .find(|e| in_title(kind, e))
        .or_else(|| set.iter().next())
}

fn title_note(multiplier: f64) -> &'static str {
    if multiplier > 1.0 { ", in title" } else { "" }
}

fn describe_hit(h: &Hit) -> String {
    let field = match h.field {
        Field::Title => "title",
        Field::Body => "body",
    };
    let kind = match h.kind {
        TermKind::Company => "company",
        TermKind::Molecule => "molecule",
        TermKind::Trademark => "trademark",
        TermKind::Technology => "technology",
        TermKind::Exclusion => "exclusion",
        TermKind::Event => "event",
    };
    if h.implied {
        format!("{} ({kind}, implied by {:?} in {field})", h.entity, h.term)
    } else {
        format!("{} ({kind}, {:?} in {field})", h.entity, h.term)
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::tests::{item, rules, watch};
    use chrono::TimeZone;

    fn scored(title: &str, body: &str, tier: u8) -> ScoredItem {
        let rules = rules();
        let matcher = Matcher::new(&watch(), &rules).unwrap();
        let end = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap();
        let mut it = item(title, body);
        it.published = Some(Utc.with_ymd_and_hms(2026, 11, 19, 12, 0, 0).unwrap());
        let f = matcher.find(&it);
        let m = MatchedItem {
            item: it,
            entities: f.entities,
            hits: f.hits,
            event_type: f.event_type,
            ignored: vec![],
        };
        Scorer::new(&rules, &matcher, end).score(m, tier)
    }

    #[test]
    fn breakdown_sums_to_the_score_and_names_each_rule() {
        let s = scored(
            "FDA approves Uzedy label expansion",
            "A long-acting injectable of risperidone.",
            2,
        );
        let rules: Vec<&str> = s.breakdown.iter().map(|l| l.rule.as_str()).collect();
        assert_eq!(
            rules,
            [
                "event",
                "company",
                "trademark",
                "molecule",
                "technology",
                "source_tier",
                "recency"
            ]
        );
        // event 7 + Teva hybrid 1.5 * 1.5 (implied in title) + Uzedy 4 * 1.5 + risperidone 2.5 * 1.5
        // + long-acting injectable 3 + tier 1 + recency 2 * (1 - 3.5/7)
        assert_eq!(s.score, 7.0 + 2.25 + 6.0 + 3.75 + 3.0 + 1.0 + 1.0);
        assert!(s.relevant);
    }

    #[test]
    fn hr_noise_is_penalised_and_dropped_with_a_reason() {
        let s = scored(
            "MedinCell appoints a new CFO",
            "MedinCell, the LAI company.",
            1,
        );
        assert!(!s.relevant);
        assert!(
            s.breakdown
                .iter()
                .any(|l| l.rule == "penalty" && l.points == -12.0)
        );
        assert!(
            s.reasons.iter().any(|r| r.starts_with("dropped: score")),
            "{:?}",
            s.reasons
        );
    }

    #[test]
    fn a_brand_named_in_passing_by_an_oral_drug_story_is_not_lai_evidence() {
        let s = scored("FDA approves oral tablet rival to Uzedy", "Once a day.", 2);
        assert!(!s.relevant, "{:?}", s.reasons);
        assert!(
            s.reasons.iter().any(|r| r.contains("no LAI evidence")),
            "{:?}",
            s.reasons
        );
    }

    #[test]
    fn hybrid_company_alone_is_not_lai_evidence() {
        let s = scored("Teva approves license agreement for generic", "", 1);
        assert!(!s.relevant);
        assert!(
            s.reasons
                .iter()
                .any(|r| r.contains("no LAI evidence") || r.contains("below the threshold"))
        );
    }
}

//! Match + score throughput: 100k synthetic items against a watch list of several thousand
//! terms. A benchmark, not a test: `cargo bench --bench match_score` prints items/s and MB/s.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use vectora_inbox::config::*;
use vectora_inbox::matching::Matcher;
use vectora_inbox::model::{DateSource, Item, MatchedItem};
use vectora_inbox::scoring::Scorer;

const ITEMS: usize = 100_000;
const COMPANIES: usize = 3_000;
const MOLECULES: usize = 1_500;
const TRADEMARKS: usize = 1_000;

fn name(rng: &mut fastrand::Rng, syllables: usize) -> String {
    const S: [&str; 16] = [
        "ka", "ro", "mi", "lex", "ta", "vo", "zen", "pri", "dal", "nu", "sor", "fi", "gen", "tra",
        "bel", "quo",
    ];
    let mut n: String = (0..syllables).map(|_| S[rng.usize(..S.len())]).collect();
    n.push_str(&rng.u32(..100_000).to_string());
    n
}

fn main() {
    let mut rng = fastrand::Rng::with_seed(7);
    let companies: Vec<Company> = (0..COMPANIES)
        .map(|i| Company {
            name: format!("{} Therapeutics", name(&mut rng, 3)),
            tier: [
                CompanyTier::Core,
                CompanyTier::PurePlayer,
                CompanyTier::Hybrid,
                CompanyTier::Other,
            ][i % 4],
            aliases: vec![],
        })
        .collect();
    let molecules: Vec<Molecule> = (0..MOLECULES)
        .map(|_| Molecule {
            name: format!("{}mab", name(&mut rng, 3)),
            aliases: vec![],
        })
        .collect();
    let trademarks: Vec<Trademark> = (0..TRADEMARKS)
        .map(|i| Trademark {
            name: name(&mut rng, 2),
            molecule: Some(molecules[i % MOLECULES].name.clone()),
            owner: Some(companies[i % COMPANIES].name.clone()),
        })
        .collect();
    let tech = [
        "long-acting injectable",
        "depot",
        "microspheres",
        "in-situ gel",
        "implant",
        "once-monthly",
        "PLGA",
    ];
    let watch = WatchLists {
        companies: CompanyScope {
            description: String::new(),
            companies,
        },
        molecules: MoleculeScope {
            description: String::new(),
            molecules,
        },
        trademarks: TrademarkScope {
            description: String::new(),
            trademarks,
        },
        technologies: TechnologyScope {
            description: String::new(),
            technologies: tech
                .iter()
                .map(|t| Technology {
                    term: t.to_string(),
                    strength: Strength::Strong,
                    aliases: vec![],
                })
                .collect(),
        },
        exclusions: ExclusionScope {
            description: String::new(),
            exclusions: vec![
                ExclusionGroup {
                    category: "hr".into(),
                    terms: vec!["appoints".into(), "hiring".into()],
                },
                ExclusionGroup {
                    category: "anti_route".into(),
                    terms: vec!["oral tablet".into(), "inhaled".into()],
                },
            ],
        },
    };
    let rules = ScoringRules {
        description: String::new(),
        threshold: 10.0,
        require_lai_evidence: true,
        event_types: vec![
            EventTypeRule {
                id: "regulatory".into(),
                weight: 7.0,
                patterns: vec!["approves".into(), "NDA".into()],
            },
            EventTypeRule {
                id: "partnership".into(),
                weight: 8.0,
                patterns: vec!["license agreement".into(), "grant".into()],
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
            source_tier: BTreeMap::from([("1".into(), 2.0), ("2".into(), 1.0), ("3".into(), 0.0)]),
            recency: Recency {
                max: 2.0,
                days: 7.0,
            },
        },
        penalties: BTreeMap::from([("hr".into(), 12.0), ("anti_route".into(), 10.0)]),
        route_guard: RouteGuard {
            category: "anti_route".into(),
            window_words: 4,
        },
    };
    let terms = watch.companies.companies.len()
        + watch.molecules.molecules.len()
        + watch.trademarks.trademarks.len()
        + tech.len();

    let filler = "the company said in a statement that the programme continues as planned with results expected next year";
    let items: Vec<Item> = (0..ITEMS)
        .map(|i| {
            let c = &watch.companies.companies[rng.usize(..COMPANIES)].name;
            let m = &watch.molecules.molecules[rng.usize(..MOLECULES)].name;
            let t = &watch.trademarks.trademarks[rng.usize(..TRADEMARKS)].name;
            let title = match i % 4 {
                0 => format!("{c} approves {t} label expansion"),
                1 => format!(
                    "{c} signs license agreement for {} {m}",
                    tech[i % tech.len()]
                ),
                2 => format!("{c} appoints new chief executive"),
                _ => format!("Market update {i}"),
            };
            let text = format!(
                "{filler}. {c} develops {m} as a {} formulation. {filler}. {filler}.",
                tech[(i / 3) % tech.len()]
            );
            Item {
                id: format!("{i:016x}"),
                title,
                url: format!("https://example.com/{i}"),
                published: Some(Utc.with_ymd_and_hms(2026, 11, 18, 12, 0, 0).unwrap()),
                date_source: DateSource::Feed,
                summary: text.clone(),
                text,
                authors: vec![],
                venue: None,
                source: "bench".into(),
                also_in: vec![],
                title_source: Default::default(),
                url_source: Default::default(),
            }
        })
        .collect();
    let bytes: usize = items.iter().map(|i| i.title.len() + i.text.len()).sum();

    let started = Instant::now();
    let matcher = Matcher::new(&watch, &rules).expect("automaton");
    let build = started.elapsed();
    let scorer = Scorer::new(
        &rules,
        &matcher,
        Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap(),
    );
    let started = Instant::now();
    let mut relevant = 0usize;
    for item in items {
        let f = matcher.find(&item);
        let scored = scorer.score(
            MatchedItem {
                item,
                entities: f.entities,
                hits: f.hits,
                event_type: f.event_type,
                ignored: f.ignored,
            },
            2,
        );
        relevant += usize::from(scored.relevant);
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "watch list: {terms} terms (automaton built in {:.1} ms)",
        build.as_secs_f64() * 1e3
    );
    println!(
        "match + score: {ITEMS} items, {:.1} MB in {:.2} s → {:.0} items/s, {:.1} MB/s ({relevant} relevant)",
        bytes as f64 / 1e6,
        elapsed,
        ITEMS as f64 / elapsed,
        bytes as f64 / 1e6 / elapsed
    );
}

//! The evaluation harness: the relevance engine against analyst labels (fixtures/eval/).

mod common;

use vectora_inbox::classify::{Classifier, ClassifyInput};
use vectora_inbox::config::load_client;
use vectora_inbox::store::LocalDirStore;

/// Floors the engine must not fall below. The fixture set scores 1.0 on all three today; the
/// floors leave room for a label or two to be debated, not for a regression in kind.
const MIN_PRECISION: f64 = 0.95;
const MIN_RECALL: f64 = 0.95;
const MIN_SECTION_ACCURACY: f64 = 0.9;

fn eval_set() -> Vec<ClassifyInput> {
    let path = common::fixtures().join("eval/lai_weekly.jsonl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn relevance_engine_meets_its_floors_on_the_labelled_set() {
    let store = LocalDirStore::new(common::fixtures());
    let bundle = load_client(&store, "lai_weekly").await.unwrap();
    let classifier = Classifier::new(&bundle, common::FIXTURE_DATE.parse().unwrap()).unwrap();
    let set = eval_set();
    let eval = classifier.evaluate(&set);
    println!(
        "eval: {} items ({} relevant): precision {:.3}, recall {:.3}, section accuracy {:.3}",
        eval.items, eval.labelled_relevant, eval.precision, eval.recall, eval.section_accuracy
    );
    for m in &eval.misses {
        println!("  miss: {m}");
    }
    assert!(
        eval.items >= 80 && eval.labelled_relevant >= 30,
        "the set shrank: {eval:?}"
    );
    assert!(
        eval.precision >= MIN_PRECISION,
        "precision {:.3}: {:#?}",
        eval.precision,
        eval.misses
    );
    assert!(
        eval.recall >= MIN_RECALL,
        "recall {:.3}: {:#?}",
        eval.recall,
        eval.misses
    );
    assert!(
        eval.section_accuracy >= MIN_SECTION_ACCURACY,
        "sections {:.3}: {:#?}",
        eval.section_accuracy,
        eval.misses
    );
}

/// The kinds of items the replaced system got wrong must each be in the set, with the right
/// outcome — whatever the aggregate figures say.
#[tokio::test]
async fn the_old_systems_mistakes_are_each_labelled_and_classified_right() {
    let store = LocalDirStore::new(common::fixtures());
    let bundle = load_client(&store, "lai_weekly").await.unwrap();
    let classifier = Classifier::new(&bundle, common::FIXTURE_DATE.parse().unwrap()).unwrap();
    let set = eval_set();
    for (note, relevant, section) in [
        (
            "licence of a core company's platform",
            true,
            Some("partnerships_deals"),
        ),
        (
            "label expansion for an in-scope trademark",
            true,
            Some("regulatory_updates"),
        ),
        (
            "grant to a core company counts as a deal",
            true,
            Some("partnerships_deals"),
        ),
        ("NDA for an LAI form", true, Some("regulatory_updates")),
        ("hr: appointment at a core company", false, None),
        ("financial_reporting: half-year results", false, None),
        ("conference attendance", false, None),
        (
            "anti_route: oral reformulation of an in-scope molecule",
            false,
            None,
        ),
    ] {
        let item = set
            .iter()
            .find(|i| i.expected.as_ref().is_some_and(|e| e.note == note))
            .unwrap_or_else(|| panic!("no eval item labelled {note:?}"));
        let got = classifier.classify(item);
        assert_eq!(
            got.relevant, relevant,
            "{note}: {} → {:?}",
            item.title, got.reasons
        );
        assert_eq!(got.section.as_deref(), section, "{note}: {}", item.title);
    }
}

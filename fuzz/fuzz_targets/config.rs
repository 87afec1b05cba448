//! The configuration loader: every config type decoded from arbitrary YAML (strict keys, key
//! paths in errors), then the whole loader with validation — the fixture configuration in an
//! in-memory store with one of its files replaced by the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vectora_inbox::config::{
    self, Catalog, ClientConfig, CompanyScope, ExclusionScope, MoleculeScope, ScoringRules,
    TechnologyScope, TrademarkScope, yaml,
};
use vectora_inbox::normalize::html_page::PageSelectors;
use vectora_inbox::ports::ObjectStore;
use vectora_inbox::store::MemoryStore;

/// The fixture configuration: (key, contents).
const FIXTURE: [(&str, &str); 8] = [
    (
        "clients/lai_weekly.yaml",
        include_str!("../../fixtures/clients/lai_weekly.yaml"),
    ),
    (
        "sources/catalog.yaml",
        include_str!("../../fixtures/sources/catalog.yaml"),
    ),
    (
        "scopes/lai_companies.yaml",
        include_str!("../../fixtures/scopes/lai_companies.yaml"),
    ),
    (
        "scopes/lai_molecules.yaml",
        include_str!("../../fixtures/scopes/lai_molecules.yaml"),
    ),
    (
        "scopes/lai_trademarks.yaml",
        include_str!("../../fixtures/scopes/lai_trademarks.yaml"),
    ),
    (
        "scopes/lai_technologies.yaml",
        include_str!("../../fixtures/scopes/lai_technologies.yaml"),
    ),
    (
        "scopes/lai_exclusions.yaml",
        include_str!("../../fixtures/scopes/lai_exclusions.yaml"),
    ),
    (
        "scoring/lai_scoring.yaml",
        include_str!("../../fixtures/scoring/lai_scoring.yaml"),
    ),
];

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(bytes);
    let f = "fuzz.yaml";
    let _ = yaml::parse::<ClientConfig>(f, &text);
    let _ = yaml::parse::<Catalog>(f, &text);
    let _ = yaml::parse::<CompanyScope>(f, &text);
    let _ = yaml::parse::<MoleculeScope>(f, &text);
    let _ = yaml::parse::<TrademarkScope>(f, &text);
    let _ = yaml::parse::<TechnologyScope>(f, &text);
    let _ = yaml::parse::<ExclusionScope>(f, &text);
    let _ = yaml::parse::<ScoringRules>(f, &text);
    if let Ok(selectors) = yaml::parse::<PageSelectors>(f, &text) {
        let _ = selectors.validate();
    }

    // The loader: one fixture file (picked by the first byte) replaced by the raw bytes.
    let replaced = usize::from(selector) % FIXTURE.len();
    let store = MemoryStore::new();
    RUNTIME.with(|rt| {
        rt.block_on(async {
            for (i, (key, contents)) in FIXTURE.iter().enumerate() {
                let body = if i == replaced {
                    bytes.to_vec()
                } else {
                    contents.as_bytes().to_vec()
                };
                store.put(key, body, "application/yaml").await.unwrap();
            }
            let _ = config::load_client(&store, "lai_weekly").await;
        })
    });
});

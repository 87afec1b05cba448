//! Fetch once, serve every client: the two fixture clients for one date in one store fetch every
//! source they share once; a source whose request differs per client is not shared; and 10
//! clients made from the two, run concurrently in one store, each write the newsletter their run
//! alone writes.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::*;
use vectora_inbox::ports::Fetcher;
use vectora_inbox::ports::fetcher::{FetchRequest, FetchResponse};

const SHARED: [&str; 6] = [
    "camurus_news",
    "fiercepharma",
    "fiercebiotech",
    "endpoints",
    "biospace",
    "globenewswire_lai",
];

/// Counts the requests made per source, whoever makes them.
struct Counting {
    inner: Arc<dyn Fetcher>,
    calls: Mutex<BTreeMap<String, usize>>,
}

#[async_trait]
impl Fetcher for Counting {
    async fn fetch(&self, request: &FetchRequest) -> vectora_inbox::Result<FetchResponse> {
        *self
            .calls
            .lock()
            .unwrap()
            .entry(request.source_id.clone())
            .or_default() += 1;
        self.inner.fetch(request).await
    }
    fn medium(&self) -> &'static str {
        self.inner.medium()
    }
}

async fn run(ports: vectora_inbox::ports::Ports, client: &str) -> serde_json::Value {
    let input = serde_json::json!({"client_id": client, "run_date": FIXTURE_DATE});
    vectora_inbox::runner::execute(
        vectora_inbox::runner::DEFINITION,
        ports,
        input,
        &format!("{client}-test"),
        None,
    )
    .await
    .expect("definition loads")
    .unwrap_or_else(|f| panic!("{client} failed: {f:?}"))
}

fn issue(store: &Path, client: &str, file: &str) -> String {
    std::fs::read_to_string(store.join(format!("newsletters/{client}/2026/11/23/{file}")))
        .unwrap_or_else(|e| panic!("{client}/{file}: {e}"))
}

fn report(store: &Path, client: &str) -> serde_json::Value {
    serde_json::from_str(&issue(store, client, "report.json")).unwrap()
}

fn source<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source_id"] == id)
        .unwrap_or_else(|| panic!("{id} not in the report"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_on_one_date_fetch_every_shared_source_once() {
    let store = tempfile::tempdir().unwrap();
    let (mut ports, _) = offline_ports(&fixtures(), store.path());
    let counting = Arc::new(Counting {
        inner: ports.fetcher.clone(),
        calls: Mutex::new(BTreeMap::new()),
    });
    ports.fetcher = counting.clone();
    run(ports.clone(), "lai_weekly").await;
    run(ports, "glp1_obesity").await;

    // Every source was asked for once, shared or not (nanexa's listing and article pages and
    // PubMed's esearch/efetch are several documents of one fetch).
    let calls = counting.calls.lock().unwrap().clone();
    for id in SHARED
        .iter()
        .chain(&["globenewswire_obesity", "medincell_news"])
    {
        assert_eq!(calls.get(*id), Some(&1), "{id}: {calls:?}");
    }

    let first = report(store.path(), "lai_weekly");
    assert_eq!(
        first["fetches"],
        serde_json::json!({"fetched": 11, "not_modified": 0, "reused": 0, "failed": 0})
    );
    let second = report(store.path(), "glp1_obesity");
    assert_eq!(
        second["fetches"],
        serde_json::json!({"fetched": 1, "not_modified": 0, "reused": 6, "failed": 0})
    );
    for id in SHARED {
        let row = source(&second, id);
        assert_eq!(row["fetch"], "reused", "{row}");
        assert_eq!(row["reused_from"], "lai_weekly/2026-11-23", "{row}");
        // The reused items are the fetching run's, counted the same.
        assert_eq!(row["items"], source(&first, id)["items"], "{id}");
    }
    let own = source(&second, "globenewswire_obesity");
    assert_eq!(own["fetch"], "fetched");
    assert!(own["reused_from"].is_null());
    let html = issue(store.path(), "glp1_obesity", "report.html");
    // minijinja escapes `/` in HTML.
    assert!(html.contains("reused from lai_weekly&#x2f;2026-11-23"));
    assert!(html.contains("1 fetched · 0 not modified · 6 reused from another run · 0 failed"));

    // Reusing changes nothing in the newsletter: the same as glp1_obesity alone in a new store.
    let alone = tempfile::tempdir().unwrap();
    let (ports, _) = offline_ports(&fixtures(), alone.path());
    run(ports, "glp1_obesity").await;
    for file in ["newsletter.md", "newsletter.html", "newsletter.json"] {
        assert_eq!(
            issue(store.path(), "glp1_obesity", file),
            issue(alone.path(), "glp1_obesity", file),
            "{file}"
        );
    }
    assert!(issue(alone.path(), "glp1_obesity", "newsletter.md").contains("CagriSema"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_asked_differently_by_two_clients_is_fetched_by_each() {
    let config = tempfile::tempdir().unwrap();
    copy_tree(&fixtures(), config.path());
    let original = std::fs::read_to_string(config.path().join("clients/lai_weekly.yaml")).unwrap();
    let other = original
        .replace("\nclient_id: lai_weekly\n", "\nclient_id: lai_other\n")
        .replace("OR microspheres[tiab]", "OR implants[tiab]");
    assert_ne!(other, original);
    std::fs::write(config.path().join("clients/lai_other.yaml"), other).unwrap();
    let store = tempfile::tempdir().unwrap();
    let (ports, _) = offline_ports(config.path(), store.path());
    run(ports.clone(), "lai_weekly").await;
    run(ports, "lai_other").await;

    let second = report(store.path(), "lai_other");
    // Its own PubMed term is another request: fetched again. Everything else is shared.
    assert_eq!(source(&second, "pubmed_lai")["fetch"], "fetched");
    assert_eq!(source(&second, "endpoints")["fetch"], "reused");
    assert_eq!(second["fetches"]["reused"], 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_date_run_again_fetches_again_rather_than_reuse_its_own_fetch() {
    let store = tempfile::tempdir().unwrap();
    let (ports, _) = offline_ports(&fixtures(), store.path());
    run(ports.clone(), "glp1_obesity").await;
    run(ports, "glp1_obesity").await;
    let again = report(store.path(), "glp1_obesity");
    assert_eq!(again["fetches"]["reused"], 0);
    assert_eq!(again["fetches"]["fetched"], 7);
}

const CLIENTS: usize = 10;

/// Client `n` of the 10: even ones are copies of lai_weekly, odd ones of glp1_obesity.
fn client(n: usize) -> (String, &'static str) {
    let base = if n.is_multiple_of(2) {
        "lai_weekly"
    } else {
        "glp1_obesity"
    };
    (format!("{base}_{n:02}"), base)
}

/// The 10 client files, each a fixture client with its id changed.
fn write_clients(config: &Path) {
    for n in 0..CLIENTS {
        let (id, base) = client(n);
        let original =
            std::fs::read_to_string(config.join(format!("clients/{base}.yaml"))).unwrap();
        let from = format!("\nclient_id: {base}\n");
        assert_eq!(original.matches(&from).count(), 1, "{base} changed shape");
        let yaml = original.replace(&from, &format!("\nclient_id: {id}\n"));
        std::fs::write(config.join(format!("clients/{id}.yaml")), yaml).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_clients_at_once_in_one_store_each_write_what_their_lone_run_writes() {
    let config = tempfile::tempdir().unwrap();
    copy_tree(&fixtures(), config.path());
    write_clients(config.path());

    let shared = tempfile::tempdir().unwrap();
    let (ports, _) = offline_ports(config.path(), shared.path());
    let handles: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let ports = ports.clone();
            tokio::spawn(async move { run(ports, &client(n).0).await })
        })
        .collect();
    for joined in futures::future::join_all(handles).await {
        assert_eq!(joined.expect("task not panicked")["statusCode"], 200);
    }

    for n in 0..CLIENTS {
        let (id, _) = client(n);
        let alone = tempfile::tempdir().unwrap();
        let (ports, _) = offline_ports(config.path(), alone.path());
        run(ports, &id).await;
        for file in ["newsletter.md", "newsletter.html", "newsletter.json"] {
            assert_eq!(
                issue(shared.path(), &id, file),
                issue(alone.path(), &id, file),
                "{id}: {file}"
            );
        }
        assert_eq!(report(shared.path(), &id)["fetches"]["failed"], 0, "{id}");
    }
    // Which run reuses which depends on who publishes first; there is one publication per
    // source and request whatever the interleaving (11 sources of lai_weekly, plus the one
    // only glp1_obesity follows).
    let published = walk(&shared.path().join("shared/fetches"))
        .into_iter()
        .filter(|p| p.ends_with("published.json"))
        .count();
    assert_eq!(published, 11 + 1, "one publication per source and request");
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}

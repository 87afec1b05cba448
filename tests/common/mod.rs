//! Helpers shared by the integration tests: ports over a config directory and a temp store.

#![allow(dead_code)]

pub mod fake_bedrock;
pub mod fake_ses;
pub mod s3_server;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use vectora_inbox::editorial::TemplateEditor;
use vectora_inbox::ports::metrics::MemoryMetrics;
use vectora_inbox::ports::{Ports, Stores, SystemClock};
use vectora_inbox::runner;
use vectora_inbox::sources::CaptureFetcher;
use vectora_inbox::store::LocalDirStore;

pub const FIXTURE_DATE: &str = "2026-11-23";

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

pub fn offline_ports(config: &Path, out: &Path) -> (Ports, Arc<MemoryMetrics>) {
    let stores = Stores {
        config: Arc::new(LocalDirStore::new(config)),
        data: Arc::new(LocalDirStore::new(out)),
        newsletters: Arc::new(LocalDirStore::new(out.join("newsletters"))),
    };
    let metrics = Arc::new(MemoryMetrics::default());
    let ports = Ports {
        fetcher: Arc::new(CaptureFetcher::new(stores.config.clone())),
        stores,
        editor: Arc::new(TemplateEditor),
        clock: Arc::new(SystemClock),
        metrics: metrics.clone(),
        secrets: Arc::new(vectora_inbox::ports::secrets::EnvSecrets),
        mailer: None,
        concurrency: Default::default(),
    };
    (ports, metrics)
}

/// Runs the shipped state machine for `lai_weekly` on the fixture week.
pub async fn run_fixture(config: &Path, out: &Path) -> serde_json::Value {
    let (ports, _) = offline_ports(config, out);
    let input = serde_json::json!({"client_id": "lai_weekly", "run_date": FIXTURE_DATE});
    runner::execute(runner::DEFINITION, ports, input, "lai_weekly-test", None)
        .await
        .expect("definition loads")
        .expect("execution succeeds")
}

/// [`run_fixture`] with the deliver step carried by `mailer`, and with `--resume`'s skipping
/// when `resume`; the execution's failure is returned, not panicked on.
pub async fn run_fixture_delivering(
    config: &Path,
    out: &Path,
    mailer: Arc<dyn vectora_inbox::ports::Mailer>,
    resume: bool,
) -> Result<serde_json::Value, vectora_inbox::asl::ExecutionFailure> {
    let (mut ports, _) = offline_ports(config, out);
    ports.mailer = Some(mailer);
    let input = serde_json::json!({"client_id": "lai_weekly", "run_date": FIXTURE_DATE});
    runner::execute_with(
        runner::DEFINITION,
        ports,
        input,
        "lai_weekly-test",
        None,
        resume,
    )
    .await
    .expect("definition loads")
}

/// Copies a directory tree (to break one file of a fixture set without touching the original).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every file under `root`, as relative paths, sorted.
pub fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

//! Resume after a failure: the store refuses one write, the execution fails clearly, and
//! `--resume` completes it without refetching, with the same newsletter as an uninterrupted run.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use common::*;
use vectora_inbox::ports::fetcher::{FetchRequest, FetchResponse};
use vectora_inbox::ports::{Fetcher, ObjectStore};
use vectora_inbox::runner;

/// A store that fails the first write of a key ending with `suffix` (a full disk, a throttled
/// bucket), then behaves.
struct FailOnce {
    inner: Arc<dyn ObjectStore>,
    suffix: &'static str,
    failed: AtomicUsize,
}

#[async_trait]
impl ObjectStore for FailOnce {
    async fn get(&self, key: &str) -> vectora_inbox::Result<Option<Vec<u8>>> {
        self.inner.get(key).await
    }
    async fn put(&self, key: &str, body: Vec<u8>, ct: &str) -> vectora_inbox::Result<()> {
        if key.ends_with(self.suffix) && self.failed.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(vectora_inbox::Error::Store {
                op: "put",
                key: key.into(),
                message: "No space left on device".into(),
            });
        }
        self.inner.put(key, body, ct).await
    }
    async fn put_if_absent(
        &self,
        key: &str,
        body: Vec<u8>,
        ct: &str,
    ) -> vectora_inbox::Result<bool> {
        self.inner.put_if_absent(key, body, ct).await
    }
    async fn list(&self, prefix: &str) -> vectora_inbox::Result<Vec<String>> {
        self.inner.list(prefix).await
    }
    fn locate(&self, key: &str) -> String {
        self.inner.locate(key)
    }
}

/// Counts what is fetched.
struct Counting {
    inner: Arc<dyn Fetcher>,
    calls: AtomicUsize,
}

#[async_trait]
impl Fetcher for Counting {
    async fn fetch(&self, request: &FetchRequest) -> vectora_inbox::Result<FetchResponse> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.fetch(request).await
    }
    fn medium(&self) -> &'static str {
        self.inner.medium()
    }
}

fn input() -> serde_json::Value {
    serde_json::json!({"client_id": "lai_weekly", "run_date": FIXTURE_DATE})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_write_fails_the_run_clearly_and_resume_completes_it_without_refetching() {
    let out = tempfile::tempdir().unwrap();
    let (mut ports, _) = offline_ports(&fixtures(), out.path());
    let fetcher = Arc::new(Counting {
        inner: ports.fetcher.clone(),
        calls: AtomicUsize::new(0),
    });
    ports.fetcher = fetcher.clone();
    let healthy = ports.stores.data.clone();
    ports.stores.data = Arc::new(FailOnce {
        inner: healthy.clone(),
        suffix: "selection.json",
        failed: AtomicUsize::new(0),
    });
    let failure = runner::execute(runner::DEFINITION, ports.clone(), input(), "x", None)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(failure.error, "Internal");
    assert!(
        failure.cause.contains("selection.json") && failure.cause.contains("No space left"),
        "{}",
        failure.cause
    );
    let fetched = fetcher.calls.load(Ordering::SeqCst);
    assert!(fetched >= 11, "every source was fetched: {fetched}");
    let steps_dir = out.path().join("runs/lai_weekly/2026-11-23/steps");
    let before: Vec<(std::path::PathBuf, Vec<u8>)> = files(&steps_dir)
        .into_iter()
        .map(|f| (f.clone(), std::fs::read(steps_dir.join(&f)).unwrap()))
        .collect();
    let score: serde_json::Value =
        serde_json::from_slice(&std::fs::read(steps_dir.join("score.json")).unwrap()).unwrap();
    assert_eq!(score["status"], "failed");

    // Resume, on the same (now healthy) store.
    ports.stores.data = healthy;
    let output = runner::execute_with(runner::DEFINITION, ports, input(), "x", None, true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        fetcher.calls.load(Ordering::SeqCst),
        fetched,
        "nothing was refetched"
    );
    assert!(output["items_selected"].as_u64().unwrap() > 0);
    // Which steps ran again: fetch, normalize and match records are untouched; score re-ran.
    for (file, bytes) in &before {
        let name = file.to_string_lossy();
        let after = std::fs::read(steps_dir.join(file)).unwrap();
        if name.starts_with("fetch.") || name.starts_with("normalize.") || name == "match.json" {
            assert!(&after == bytes, "{name} ran again on resume");
        }
    }
    let score: serde_json::Value =
        serde_json::from_slice(&std::fs::read(steps_dir.join("score.json")).unwrap()).unwrap();
    assert_eq!(score["status"], "succeeded");

    // The same newsletter as a run that never failed.
    let clean = tempfile::tempdir().unwrap();
    run_fixture(&fixtures(), clean.path()).await;
    let md = |root: &std::path::Path| {
        std::fs::read(root.join("newsletters/lai_weekly/2026/11/23/newsletter.md")).unwrap()
    };
    assert!(
        md(out.path()) == md(clean.path()),
        "resumed newsletter differs from an uninterrupted run's"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_reruns_steps_whose_configuration_changed() {
    let config = tempfile::tempdir().unwrap();
    copy_tree(&fixtures(), config.path());
    let out = tempfile::tempdir().unwrap();
    let (ports, _) = offline_ports(config.path(), out.path());
    runner::execute(runner::DEFINITION, ports, input(), "x", None)
        .await
        .unwrap()
        .unwrap();
    // The analyst raises the threshold: nothing may be reused blindly.
    let path = config.path().join("scoring/lai_scoring.yaml");
    let text =
        std::fs::read_to_string(&path)
            .unwrap()
            .replacen("threshold: 10", "threshold: 1000", 1);
    std::fs::write(&path, text).unwrap();
    let (ports, _) = offline_ports(config.path(), out.path());
    let output = runner::execute_with(runner::DEFINITION, ports, input(), "x", None, true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        output["items_selected"], 0,
        "the new threshold applied: {output}"
    );
}

/// A real crash: `vectora run` is killed (SIGKILL) while it waits on the model, after fetch,
/// normalize, match and score are done; `--resume` then finishes the run without refetching
/// or redoing them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_process_is_completed_by_resume() {
    use common::fake_bedrock::{Model, bedrock_run_command, fake_bedrock};
    let hung = fake_bedrock(Model::Hang).await;
    let out = tempfile::tempdir().unwrap();
    let store = out.path().to_path_buf();
    let command = move |endpoint: String, resume: bool| {
        let mut c = bedrock_run_command(&store, &endpoint, resume);
        c.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        c
    };
    let mut child = command(hung.endpoint(), false).spawn().unwrap();
    // Wait (bounded) until the run is blocked in its first model call: everything before the
    // section Map is then done and journaled.
    let mut waited = 0;
    while hung.requests() == 0 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before calling the model"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
        assert!(waited < 1500, "the run never reached the model");
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let steps_dir = out.path().join("runs/lai_weekly/2026-11-23/steps");
    let before: Vec<(std::path::PathBuf, Vec<u8>)> = files(&steps_dir)
        .into_iter()
        .map(|f| (f.clone(), std::fs::read(steps_dir.join(&f)).unwrap()))
        .collect();
    assert!(
        before
            .iter()
            .any(|(f, _)| f.to_string_lossy() == "score.json")
    );
    assert!(
        !out.path()
            .join("newsletters/lai_weekly/2026/11/23/newsletter.md")
            .exists()
    );

    let good = fake_bedrock(Model::Good).await;
    let endpoint = good.endpoint();
    let resumed = tokio::task::spawn_blocking(move || command(endpoint, true).output().unwrap())
        .await
        .unwrap();
    assert!(resumed.status.success());
    let summary: serde_json::Value = serde_json::from_slice(&resumed.stdout).unwrap();
    assert_eq!(
        summary["bedrock_calls"].as_u64().unwrap(),
        summary["sections_generated"].as_u64().unwrap()
    );
    for (file, bytes) in &before {
        assert!(
            &std::fs::read(steps_dir.join(file)).unwrap() == bytes,
            "{} ran again after the crash",
            file.display()
        );
    }
    assert!(
        out.path()
            .join("newsletters/lai_weekly/2026/11/23/newsletter.md")
            .is_file()
    );
}

//! The S3 store through the real SDK client against a real S3-protocol server on loopback:
//! the object contract (put/get/list/overwrite, missing keys and buckets), and a whole
//! `vectora run --store s3://…`.

mod common;

use std::process::Command;

use common::s3_server::{read, s3_server};
use common::*;
use vectora_inbox::ports::ObjectStore;
use vectora_inbox::store::{S3Location, S3Store};

fn store(server: &common::s3_server::S3Server, spec: &str) -> S3Store {
    S3Store::new(server.client(), S3Location::parse(spec).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_get_list_overwrite_and_missing_keys() {
    let server = s3_server().await;
    let bucket = server.bucket("vectora-data");
    let store = store(&server, "s3://vectora-data/env/dev");
    store
        .put(
            "runs/c/2026-11-23/a.json",
            b"{}".to_vec(),
            "application/json",
        )
        .await
        .unwrap();
    store
        .put(
            "runs/c/2026-11-23/b/c.md",
            b"# hi".to_vec(),
            "text/markdown; charset=utf-8",
        )
        .await
        .unwrap();
    store
        .put("runs/d/x.json", b"1".to_vec(), "application/json")
        .await
        .unwrap();
    // Overwrite: the second version wins, whole.
    store
        .put(
            "runs/c/2026-11-23/a.json",
            b"{\"v\":2}".to_vec(),
            "application/json",
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .get("runs/c/2026-11-23/a.json")
            .await
            .unwrap()
            .unwrap(),
        b"{\"v\":2}"
    );
    assert_eq!(
        store.get("runs/c/2026-11-23/nope.json").await.unwrap(),
        None
    );
    // Listing is relative to the store's prefix, sorted, and limited to the asked prefix.
    assert_eq!(
        store.list("runs/c/").await.unwrap(),
        vec!["runs/c/2026-11-23/a.json", "runs/c/2026-11-23/b/c.md"]
    );
    assert_eq!(store.list("nothing/").await.unwrap(), Vec::<String>::new());
    // The keys land under the prefix, as real objects of the bucket.
    assert_eq!(read(&bucket.join("env/dev/runs/d/x.json")), b"1");
    assert_eq!(
        store.locate("runs/d/x.json"),
        "s3://vectora-data/env/dev/runs/d/x.json"
    );
    // Content types are stored, so S3 serves newsletters right.
    let head = server
        .client()
        .head_object()
        .bucket("vectora-data")
        .key("env/dev/runs/c/2026-11-23/b/c.md")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("text/markdown; charset=utf-8"));
    // Keys that could escape the prefix are refused before any request.
    assert!(store.get("../other/secret").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_only_write_publishes_once_and_never_replaces() {
    let server = s3_server().await;
    let bucket = server.bucket("vectora-data");
    let store = store(&server, "s3://vectora-data/env");
    let key = "shared/fetches/endpoints/0123/2026-11-16_2026-11-23/published.json";
    assert!(
        store
            .put_if_absent(key, b"{\"first\":1}".to_vec(), "application/json")
            .await
            .unwrap()
    );
    // The second writer is told it lost (S3 answers 412 to If-None-Match: *), and the first
    // object stands whole.
    assert!(
        !store
            .put_if_absent(key, b"{\"second\":2}".to_vec(), "application/json")
            .await
            .unwrap()
    );
    assert_eq!(read(&bucket.join(format!("env/{key}"))), b"{\"first\":1}");
    assert_eq!(
        store.get(key).await.unwrap().unwrap(),
        b"{\"first\":1}".to_vec()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_follows_continuation_pages() {
    let server = s3_server().await;
    server.bucket("vectora-data");
    let store = store(&server, "s3://vectora-data");
    // More than one ListObjectsV2 page (1000 keys per page).
    let keys: Vec<String> = (0..1005)
        .map(|i| format!("llm-cache/{i:05}.json"))
        .collect();
    futures::future::join_all(
        keys.iter()
            .map(|k| store.put(k, b"{}".to_vec(), "application/json")),
    )
    .await
    .into_iter()
    .collect::<Result<Vec<_>, _>>()
    .unwrap();
    assert_eq!(store.list("llm-cache/").await.unwrap(), keys);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bucket_is_named_with_what_to_do() {
    let server = s3_server().await;
    let store = store(&server, "s3://vectora-nowhere/x");
    // (GetObject and PutObject are left out: s3s-fs answers NoSuchKey to the first and
    // creates the folder for the second, where S3 answers NoSuchBucket to both; the CLI
    // checks the bucket up front either way.)
    for err in [
        store.list("").await.unwrap_err(),
        store.check().await.unwrap_err(),
    ] {
        let message = err.to_string();
        assert!(
            message.contains("\"vectora-nowhere\" does not exist") && message.contains("create it"),
            "{message}"
        );
        assert_eq!(err.kind().name(), "InvalidInput", "{message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_say_so() {
    let server = s3_server().await;
    server.bucket("vectora-data");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_s3::config::Region::new("eu-west-3"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "AKIDWRONG",
            "wrong",
            None,
            None,
            "test",
        ))
        .endpoint_url(&server.endpoint)
        .force_path_style(true)
        .build();
    let store = S3Store::new(
        aws_sdk_s3::Client::from_conf(config),
        S3Location::parse("s3://vectora-data").unwrap(),
    );
    let err = store.get("a.json").await.unwrap_err();
    assert_eq!(err.kind().name(), "InvalidInput", "{err}");
    assert!(err.to_string().contains("s3:GetObject"), "{err}");
}

fn vectora_run(server: &common::s3_server::S3Server, store: &str) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vectora"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "run",
            "--client",
            "lai_weekly",
            "--offline",
            "--date",
            FIXTURE_DATE,
            "--store",
            store,
        ])
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL");
    for (k, v) in server.env() {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_run_writes_the_same_newsletter_to_a_bucket_as_to_a_directory() {
    let server = s3_server().await;
    let bucket = server.bucket("vectora-out");
    let result = vectora_run(&server, "s3://vectora-out/dev");
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(summary["status"], "ok", "{summary}");

    let dir = tempfile::tempdir().unwrap();
    let reference = run_fixture(&fixtures(), dir.path()).await;
    assert_eq!(summary["items_selected"], reference["items_selected"]);
    let day = "newsletters/lai_weekly/2026/11/23";
    for file in ["newsletter.md", "newsletter.html", "newsletter.json"] {
        assert_eq!(
            read(&bucket.join("dev").join(day).join(file)),
            read(&dir.path().join(day).join(file)),
            "{file} differs between the bucket and the directory"
        );
    }
    // Run data and the step journal are in the bucket too (what a redrive reads back).
    let run = bucket.join("dev/runs/lai_weekly/2026-11-23");
    assert!(run.join("manifest.json").is_file());
    assert!(run.join("selection.json").is_file());
    assert!(run.join("steps").read_dir().unwrap().count() >= 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_into_a_missing_bucket_stops_before_any_work() {
    let server = s3_server().await;
    let result = vectora_run(&server, "s3://vectora-typo/dev");
    assert!(!result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("\"vectora-typo\" does not exist") && !stderr.contains("fetch"),
        "{stderr}"
    );
}

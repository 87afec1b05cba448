//! Many clients at once in one process: 20 copies of `lai_weekly` (only `client_id` differs) run
//! concurrently through ONE set of ports (one store directory, one fetcher, one editor, one
//! metrics sink), and each must produce exactly the newsletter a lone run produces; and 10
//! clients made from the two fixture clients, each equal to its run alone in its own store.

mod common;

use std::path::Path;

use common::*;

const CLIENTS: usize = 20;

fn client_id(n: usize) -> String {
    format!("lai_weekly_{n:02}")
}

/// `clients/lai_weekly_NN.yaml`: the fixture client with its id changed, everything else kept.
fn write_clients(config: &Path) {
    let original = std::fs::read_to_string(config.join("clients/lai_weekly.yaml")).unwrap();
    assert_eq!(
        original.matches("\nclient_id: lai_weekly\n").count(),
        1,
        "the fixture client changed shape"
    );
    for n in 1..=CLIENTS {
        let yaml = original.replace(
            "\nclient_id: lai_weekly\n",
            &format!("\nclient_id: {}\n", client_id(n)),
        );
        std::fs::write(config.join(format!("clients/{}.yaml", client_id(n))), yaml).unwrap();
    }
}

struct Outputs {
    summary: serde_json::Value,
    md: String,
    html: String,
    json: String,
    report: serde_json::Value,
}

fn outputs(store: &Path, client: &str, summary: serde_json::Value) -> Outputs {
    let dir = store.join(format!("newsletters/{client}/2026/11/23"));
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{client}/{name}: {e}"))
    };
    Outputs {
        summary,
        md: read("newsletter.md"),
        html: read("newsletter.html"),
        json: read("newsletter.json"),
        report: serde_json::from_str(&read("report.json")).unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_clients_run_concurrently_and_share_nothing_mutable() {
    let config = tempfile::tempdir().unwrap();
    copy_tree(&fixtures(), config.path());
    write_clients(config.path());
    let store = tempfile::tempdir().unwrap();
    let (ports, _metrics) = offline_ports(config.path(), store.path());

    let run = |client: String, ports: vectora_inbox::ports::Ports| async move {
        let input = serde_json::json!({"client_id": client, "run_date": FIXTURE_DATE});
        let name = format!("{client}-concurrent");
        let result = vectora_inbox::runner::execute(
            vectora_inbox::runner::DEFINITION,
            ports,
            input,
            &name,
            None,
        )
        .await
        .expect("definition loads");
        (client, result)
    };

    // The reference: the fixture client alone, in the same store.
    let (_, reference) = run("lai_weekly".to_string(), ports.clone()).await;
    let reference = outputs(
        store.path(),
        "lai_weekly",
        reference.expect("reference run"),
    );
    assert!(reference.summary["items_selected"].as_u64().unwrap() > 0);

    let handles: Vec<_> = (1..=CLIENTS)
        .map(|n| tokio::spawn(run(client_id(n), ports.clone())))
        .collect();
    let results = futures::future::join_all(handles).await;
    assert_eq!(results.len(), CLIENTS);

    let same = |client: &str, text: &str| text.replace(client, "lai_weekly");
    for (n, joined) in results.into_iter().enumerate() {
        let (client, result) = joined.expect("task not panicked");
        assert_eq!(client, client_id(n + 1));
        let summary = result.unwrap_or_else(|f| panic!("{client} failed: {f:?}"));
        assert_eq!(summary["statusCode"], 200, "{client}: {summary}");
        assert_eq!(summary["client_id"], client.as_str());
        let got = outputs(store.path(), &client, summary);

        // The execution summary: the same counts, its own output path.
        let mut summary = got.summary.clone();
        summary["client_id"] = "lai_weekly".into();
        summary["output_path"] = same(&client, summary["output_path"].as_str().unwrap()).into();
        assert_eq!(summary, reference.summary, "{client}: execution summary");

        assert!(
            got.md.starts_with("# LAI Intelligence Weekly\n"),
            "{client}"
        );
        assert_eq!(
            same(&client, &got.md),
            reference.md,
            "{client}: newsletter.md"
        );
        assert_eq!(
            same(&client, &got.html),
            reference.html,
            "{client}: newsletter.html"
        );
        assert_eq!(
            same(&client, &got.json),
            reference.json,
            "{client}: newsletter.json"
        );
        assert!(got.json.contains(&format!("\"client_id\": \"{client}\"")));

        assert_eq!(got.report["client_id"], client.as_str());
        for key in [
            "funnel",
            "sources",
            "decisions",
            "excluded",
            "config_digest",
        ] {
            let (a, b) = (&got.report[key], &reference.report[key]);
            assert!(!a.is_null(), "{client}: report.{key} missing");
            if key == "sources" {
                // The reference fetched every source; every other run reused its fetches.
                for s in a.as_array().unwrap() {
                    assert_eq!(s["fetch"], "reused", "{client}: {s}");
                    assert_eq!(s["reused_from"], "lai_weekly/2026-11-23", "{client}: {s}");
                }
                // Per-source timings and how the fetch was had differ from run to run;
                // everything else may not.
                assert_eq!(
                    without_timings(a),
                    without_timings(b),
                    "{client}: report.sources"
                );
            } else if key == "config_digest" {
                // The client file differs (its id), so the digest must differ too.
                assert_ne!(a, b, "{client}: config digest");
            } else {
                assert_eq!(a, b, "{client}: report.{key}");
            }
        }
    }

    // Every run wrote under its own keys: one newsletter folder and one run folder per client.
    let mut newsletters: Vec<String> = std::fs::read_dir(store.path().join("newsletters"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    newsletters.sort();
    let mut expected: Vec<String> = (1..=CLIENTS).map(client_id).collect();
    expected.insert(0, "lai_weekly".to_string());
    assert_eq!(newsletters, expected);
    let runs = std::fs::read_dir(store.path().join("runs"))
        .unwrap()
        .count();
    assert_eq!(runs, CLIENTS + 1);
}

fn without_timings(sources: &serde_json::Value) -> serde_json::Value {
    let mut sources = sources.clone();
    for s in sources.as_array_mut().unwrap() {
        let s = s.as_object_mut().unwrap();
        s.retain(|k, _| !k.ends_with("_ms") && k != "fetch" && k != "reused_from");
    }
    sources
}

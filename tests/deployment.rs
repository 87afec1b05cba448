//! The deployment as `infra/template.yaml` declares it, checked against the code: each function
//! gets only the store areas the template gives it (least privilege), and the whole state
//! machine still produces the same newsletter as a local run.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use common::*;
use serde_json::{Value, json};
use vectora_inbox::asl::{self, RunOptions, TaskFailure, TaskInvoker};
use vectora_inbox::ports::{ObjectStore, Ports, Stores};
use vectora_inbox::store::UnsetStore;

const AREAS: [&str; 3] = [
    "VECTORA_CONFIG_STORE",
    "VECTORA_DATA_STORE",
    "VECTORA_NEWSLETTER_STORE",
];

/// For each function of the template (by its `Binary`), the environment variables it gets.
fn template_environments() -> BTreeMap<String, Vec<String>> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("infra/template.yaml"))
            .unwrap();
    let mut functions = BTreeMap::new();
    // Resources are the two-space-indented keys; a function's block runs to the next one.
    let mut block: Vec<&str> = Vec::new();
    let mut flush = |block: &mut Vec<&str>| {
        if block
            .iter()
            .any(|l| l.trim() == "Type: AWS::Serverless::Function")
        {
            let binary = block
                .iter()
                .find_map(|l| l.trim().strip_prefix("Binary: "))
                .expect("a function without BuildProperties.Binary");
            let variables: Vec<String> = block
                .iter()
                .skip_while(|l| l.trim() != "Variables:")
                .skip(1)
                .take_while(|l| l.starts_with("          "))
                .filter_map(|l| l.trim().split_once(':').map(|(k, _)| k.to_string()))
                .filter(|k| k.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
                .collect();
            functions.insert(binary.to_string(), variables);
        }
        block.clear();
    };
    for line in text.lines() {
        let resource_key = line.starts_with("  ")
            && !line.starts_with("   ")
            && line.trim_end().ends_with(':')
            && !line.trim().starts_with('#');
        if resource_key || !line.starts_with(' ') {
            flush(&mut block);
        }
        block.push(line);
    }
    flush(&mut block);
    functions
}

#[test]
fn the_template_deploys_every_step_and_only_the_variables_the_code_reads() {
    let functions = template_environments();
    assert_eq!(functions.keys().map(String::as_str).collect::<Vec<_>>(), {
        // Every step, and the client sync the config bucket's notifications trigger.
        let mut steps = vectora_inbox::steps::STEP_NAMES.to_vec();
        steps.push("sync-clients");
        steps.sort();
        steps
    });
    let known = [
        &AREAS[..],
        &[
            "VECTORA_SOURCES_CONCURRENCY",
            "VECTORA_SECTIONS_CONCURRENCY",
            "NCBI_API_KEY_SSM_PARAMETER",
            "VECTORA_EDITOR",
            "VECTORA_BEDROCK_MODEL_ID",
            "VECTORA_METRICS_NAMESPACE",
            "VECTORA_SCHEDULE_GROUP",
            "VECTORA_STATE_MACHINE_ARN",
            "VECTORA_SCHEDULER_ROLE_ARN",
            "VECTORA_SCHEDULE_STATE",
            "VECTORA_ALARM_TOPIC_ARN",
        ],
    ]
    .concat();
    let lambda_source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lambda.rs"))
            .unwrap();
    for (function, variables) in &functions {
        for v in variables {
            assert!(
                known.contains(&v.as_str()),
                "{function}: {v} is not read by the code"
            );
            assert!(
                lambda_source.contains(v.as_str()),
                "{v} is not in src/lambda.rs"
            );
        }
    }
    assert_eq!(
        functions["assemble"]
            .iter()
            .filter(|v| v.as_str() == "VECTORA_NEWSLETTER_STORE")
            .count(),
        1
    );
    assert!(functions["plan"].contains(&"VECTORA_SOURCES_CONCURRENCY".to_string()));
}

/// Runs each step with the stores its function is given: an area the template leaves out is a
/// store that refuses every call.
struct DeployedSteps {
    per_step: BTreeMap<String, Ports>,
}

#[async_trait::async_trait]
impl TaskInvoker for DeployedSteps {
    async fn invoke(&self, resource: &str, input: Value) -> Result<Value, TaskFailure> {
        let step = vectora_inbox::runner::step_for_resource(resource).unwrap();
        vectora_inbox::journal::run_step(step, &self.per_step[step], input, false)
            .await
            .map_err(|e| TaskFailure {
                error: e.kind().name().to_string(),
                cause: e.to_string(),
            })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_function_works_with_only_the_stores_the_template_gives_it() {
    let out = tempfile::tempdir().unwrap();
    let (ports, _) = offline_ports(&fixtures(), out.path());
    let area = |name: &'static str, given: &[String], real: Arc<dyn ObjectStore>| {
        if given.iter().any(|v| v == name) {
            real
        } else {
            Arc::new(UnsetStore::new(name)) as Arc<dyn ObjectStore>
        }
    };
    let per_step = template_environments()
        .into_iter()
        .map(|(step, given)| {
            let stores = Stores {
                config: area(AREAS[0], &given, ports.stores.config.clone()),
                data: area(AREAS[1], &given, ports.stores.data.clone()),
                newsletters: area(AREAS[2], &given, ports.stores.newsletters.clone()),
            };
            (
                step,
                Ports {
                    stores,
                    ..ports.clone()
                },
            )
        })
        .collect();
    let machine = Arc::new(
        vectora_inbox::runner::load_definition(vectora_inbox::runner::DEFINITION).unwrap(),
    );
    let output = asl::execute(
        machine,
        Arc::new(DeployedSteps { per_step }),
        ports.clock.clone(),
        json!({"client_id": "lai_weekly", "run_date": FIXTURE_DATE}),
        RunOptions {
            execution_name: "lai_weekly-2026-11-23".into(),
            jitter_seed: 1,
            observer: None,
        },
    )
    .await
    .unwrap_or_else(|f| panic!("{}: {}", f.error, f.cause));
    assert_eq!(output["status"], "ok", "{output}");
    // Nothing failed quietly either: every source was fetched and read.
    assert_eq!(output["sources_failed"], 0, "{output}");

    let reference = tempfile::tempdir().unwrap();
    run_fixture(&fixtures(), reference.path()).await;
    let day = "newsletters/lai_weekly/2026/11/23";
    for file in ["newsletter.md", "newsletter.html"] {
        assert_eq!(
            std::fs::read(out.path().join(day).join(file)).unwrap(),
            std::fs::read(reference.path().join(day).join(file)).unwrap(),
            "{file}"
        );
    }
}

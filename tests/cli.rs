//! The `vectora` binary as a user runs it: exit codes, one-line errors, stdout contracts.

mod common;

use std::process::Command;

use common::*;

fn vectora() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vectora"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn stderr_line(out: &std::process::Output) -> String {
    let s = String::from_utf8_lossy(&out.stderr).to_string();
    let errors: Vec<&str> = s.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "expected one error line, got: {s}");
    errors[0].to_string()
}

#[test]
fn run_prints_the_execution_output_and_writes_the_newsletter() {
    let out = tempfile::tempdir().unwrap();
    let result = vectora()
        .args([
            "run",
            "--client",
            "lai_weekly",
            "--offline",
            "--date",
            FIXTURE_DATE,
            "--store",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let stdout = String::from_utf8(result.stdout).unwrap();
    let output: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(output["client_id"], "lai_weekly");
    assert_eq!(output["run_date"], FIXTURE_DATE);
    assert!(
        out.path()
            .join("newsletters/lai_weekly/2026/11/23/newsletter.html")
            .is_file()
    );
    assert!(
        String::from_utf8_lossy(&result.stderr).contains("▸ Plan"),
        "progress goes to stderr"
    );
}

#[test]
fn unknown_client_is_one_line_naming_it() {
    let out = tempfile::tempdir().unwrap();
    let result = vectora()
        .args([
            "run",
            "--client",
            "nobody",
            "--offline",
            "--date",
            FIXTURE_DATE,
            "--store",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(1));
    let line = stderr_line(&result);
    assert!(
        line.contains("InvalidInput") && line.contains("unknown client \"nobody\""),
        "{line}"
    );
}

#[test]
fn a_typo_in_the_client_config_names_file_and_key() {
    let config = tempfile::tempdir().unwrap();
    copy_tree(&fixtures(), config.path());
    let path = config.path().join("clients/lai_weekly.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("max_items_total:", "max_item_total:");
    std::fs::write(&path, text).unwrap();
    let result = vectora()
        .args(["validate", "--config"])
        .arg(config.path())
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(1));
    let line = stderr_line(&result);
    assert!(line.contains("lai_weekly.yaml: caps"), "{line}");
    assert!(line.contains("max_item_total"), "{line}");
}

#[test]
fn validate_accepts_the_shipped_configuration() {
    let result = vectora().args(["validate"]).output().unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(String::from_utf8_lossy(&result.stdout).contains("ok   client lai_weekly"));
}

#[test]
fn parse_prints_items_and_fails_cleanly_on_non_xml() {
    let result = vectora()
        .args([
            "parse",
            "fixtures/sources/captures/fiercepharma.xml",
            "--source-url",
            "https://www.fiercepharma.com/rss/xml",
        ])
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(result.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!lines.is_empty());
    for item in &lines {
        for key in [
            "title",
            "url",
            "published",
            "date_source",
            "summary",
            "text",
            "authors",
            "source",
        ] {
            assert!(item.get(key).is_some(), "{key} missing in {item}");
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.xml");
    std::fs::write(&bad, "not xml at all").unwrap();
    let result = vectora().arg("parse").arg(&bad).output().unwrap();
    assert_eq!(result.status.code(), Some(1));
    assert!(stderr_line(&result).contains("not a readable feed"));
}

#[test]
fn step_runs_one_step_as_its_lambda_would() {
    let out = tempfile::tempdir().unwrap();
    let event = out.path().join("plan.json");
    std::fs::write(
        &event,
        format!(r#"{{"client_id":"lai_weekly","run_date":"{FIXTURE_DATE}"}}"#),
    )
    .unwrap();
    let result = vectora()
        .args(["step", "plan", "--input"])
        .arg(&event)
        .arg("--store")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let output: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(
        output["manifest_key"],
        "runs/lai_weekly/2026-11-23/manifest.json"
    );
    assert!(
        out.path()
            .join("runs/lai_weekly/2026-11-23/manifest.json")
            .is_file()
    );

    // fetch, the next step, reads the plan's source list entry as its event.
    let fetch_event = serde_json::json!({"run": output["run"], "source": output["sources"][0]});
    std::fs::write(&event, fetch_event.to_string()).unwrap();
    let result = vectora()
        .args(["step", "fetch", "--offline", "--input"])
        .arg(&event)
        .arg("--store")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let fetched: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    let meta =
        std::fs::read_to_string(out.path().join(fetched["meta_key"].as_str().unwrap())).unwrap();
    let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
    assert!(
        out.path()
            .join(meta["documents"][0]["key"].as_str().unwrap())
            .is_file()
    );

    std::fs::write(&event, r#"{"client_id": 3}"#).unwrap();
    let result = vectora()
        .args(["step", "plan", "--input"])
        .arg(&event)
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(1));
    assert!(stderr_line(&result).contains("InvalidInput: invalid plan input: client_id"));
}

/// Answers one HTTP request with `body` and hands back what was asked (method line, headers
/// and body), as a Step Functions endpoint on loopback would.
fn one_answer(body: &'static str) -> (String, std::thread::JoinHandle<String>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(socket.try_clone().unwrap());
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let mut request_body = vec![0; length];
        reader.read_exact(&mut request_body).unwrap();
        let mut socket = socket;
        write!(
            socket,
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        head + &String::from_utf8(request_body).unwrap()
    });
    (endpoint, handle)
}

fn vectora_aws(endpoint: &str) -> Command {
    let mut c = vectora();
    c.env("AWS_ENDPOINT_URL_SFN", endpoint)
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "eu-west-3")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("VECTORA_STATE_MACHINE_ARN");
    c
}

#[test]
fn aws_start_names_the_execution_after_client_and_date() {
    let execution = "arn:aws:states:eu-west-3:123456789012:execution:vectora-inbox-newsletter-dev:lai_weekly-2026-11-23";
    let answer: &'static str = Box::leak(
        format!(r#"{{"executionArn":"{execution}","startDate":1795420800.0}}"#).into_boxed_str(),
    );
    let (endpoint, request) = one_answer(answer);
    let result = vectora_aws(&endpoint)
        .args([
            "aws",
            "start",
            "--client",
            "lai_weekly",
            "--date",
            FIXTURE_DATE,
        ])
        .env(
            "VECTORA_STATE_MACHINE_ARN",
            "arn:aws:states:eu-west-3:123456789012:stateMachine:vectora-inbox-newsletter-dev",
        )
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(printed["execution_arn"], execution);
    assert_eq!(printed["new"], true);
    let request = request.join().unwrap();
    assert!(
        request
            .to_ascii_lowercase()
            .contains("x-amz-target: awsstepfunctions.startexecution"),
        "{request}"
    );
    assert!(
        request.contains(r#""name":"lai_weekly-2026-11-23""#),
        "{request}"
    );
    assert!(
        request.contains(r#"{\"client_id\":\"lai_weekly\",\"run_date\":\"2026-11-23\"}"#),
        "{request}"
    );
}

#[test]
fn aws_commands_say_what_is_missing() {
    let result = vectora_aws("http://127.0.0.1:9")
        .args(["aws", "start", "--client", "lai_weekly"])
        .output()
        .unwrap();
    assert!(!result.status.success());
    assert!(
        stderr_line(&result).contains("--state-machine-arn or set VECTORA_STATE_MACHINE_ARN"),
        "{}",
        stderr_line(&result)
    );
    let result = vectora_aws("http://127.0.0.1:9")
        .args([
            "aws",
            "start",
            "--client",
            "LAI Weekly",
            "--state-machine-arn",
            "arn:aws:states:eu-west-3:1:stateMachine:m",
        ])
        .output()
        .unwrap();
    assert!(stderr_line(&result).contains("is not a client id"));
}

/// `vectora parse` piped into `vectora classify -`, as a user would type it.
fn parse_into_classify(classify_args: &[&str]) -> (usize, Vec<String>) {
    let parsed = vectora()
        .args(["parse", "fixtures/sources/captures/fiercepharma.xml"])
        .output()
        .unwrap();
    assert!(parsed.status.success());
    let items = String::from_utf8(parsed.stdout).unwrap();
    let mut classify = vectora()
        .args(["classify", "--client", "lai_weekly"])
        .args(classify_args)
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = classify.stdin.take().unwrap();
        stdin.write_all(items.as_bytes()).unwrap();
    }
    let out = classify.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    (items.lines().count(), lines)
}

fn relevant(lines: &[String]) -> usize {
    lines
        .iter()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["relevant"] == true)
        .count()
}

#[test]
fn parse_output_pipes_into_classify_on_standard_input() {
    let (items, lines) = parse_into_classify(&[]);
    assert!(items > 3, "{items}");
    assert_eq!(lines.len(), items, "one decision per parsed item, in order");
    // Without --date: relevance only, whatever today is.
    let judged_alone = relevant(&lines);
    assert!(judged_alone > 0);
    // The fixture week's run keeps what falls in its window; a run months later keeps nothing.
    let (_, in_week) = parse_into_classify(&["--date", FIXTURE_DATE]);
    assert!(relevant(&in_week) > 0);
    assert!(relevant(&in_week) <= judged_alone);
    let (_, later) = parse_into_classify(&["--date", "2027-06-01"]);
    assert_eq!(relevant(&later), 0);
    assert!(later[0].contains("outside the run window"), "{}", later[0]);
}

#[test]
fn classify_explain_puts_the_rules_that_fired_in_words() {
    let (_, lines) = parse_into_classify(&["--explain"]);
    let text = lines.join("\n");
    // A header line per item, then indented lines: the decision first, then what fired.
    assert!(lines[0].contains("<https://"), "{text}");
    assert!(
        lines[1].starts_with("  relevant: section ") || lines[1].starts_with("  not relevant:"),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("  company ") && l.contains(" in the ")),
        "{text}"
    );
    assert!(lines.iter().any(|l| l.starts_with("  rule ")), "{text}");
}

#[test]
fn classify_takes_plain_dates_and_says_what_a_bad_line_should_be() {
    let dir = tempfile::tempdir().unwrap();
    let items = dir.path().join("items.jsonl");
    std::fs::write(
        &items,
        concat!(
            r#"{"title":"Teva's Uzedy label expanded","url":"https://example.com/a","published":"2026-11-20","text":"Teva said the FDA approved a label expansion for Uzedy (risperidone).","source":"fiercepharma","extra":1}"#,
            "\n",
            r#"{"title":"No address","url":"","published":"2026-11-20","text":"Teva said the FDA approved Uzedy."}"#,
            "\n",
        ),
    )
    .unwrap();
    let out = vectora()
        .args(["classify", "--client", "lai_weekly", "--date", FIXTURE_DATE])
        .arg(&items)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["relevant"], true, "{}", lines[0]);
    assert_eq!(lines[1]["relevant"], false);
    assert!(lines[1]["reasons"].to_string().contains("no link to cite"));

    std::fs::write(
        &items,
        r#"{"title":"x","url":"https://e.com","published":"20 Nov"}"#,
    )
    .unwrap();
    let out = vectora()
        .args(["classify", "--client", "lai_weekly"])
        .arg(&items)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let line = stderr_line(&out);
    assert!(
        line.contains("line 1") && line.contains("2026-11-17"),
        "{line}"
    );
}

#[test]
fn aws_preflight_names_the_samconfig_environments_when_one_is_unknown() {
    let out = vectora_aws("http://127.0.0.1:9")
        .args(["aws", "preflight", "--env", "qa"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let line = stderr_line(&out);
    assert!(
        line.contains("infra/samconfig.toml: qa.deploy.parameters: no such environment (environments with deploy parameters: dev, prod, stage)"),
        "{line}"
    );
}

#[test]
fn aws_promote_refuses_an_environment_with_nothing_recorded_before_reading_the_account() {
    let records = tempfile::tempdir().unwrap();
    let out = vectora_aws("http://127.0.0.1:9")
        .args([
            "aws",
            "promote",
            "--from",
            "stage",
            "--to",
            "prod",
            "--records",
        ])
        .arg(records.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let line = stderr_line(&out);
    assert!(
        line.contains("nothing recorded as deployed to stage"),
        "{line}"
    );
}

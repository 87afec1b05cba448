//! A fake Bedrock Converse endpoint on loopback speaking the real wire format: JSON bodies,
//! `x-amzn-ErrorType` headers, tool-use answers with usage blocks.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How the fake model behaves.
#[derive(Clone, Copy, PartialEq)]
pub enum Model {
    Good,
    /// HTTP 429 ThrottlingException for the first N requests, then good answers.
    ThrottleFirst(usize),
    AlwaysThrottle,
    /// HTTP 400 with ServiceQuotaExceededException (not a modelled Converse error).
    QuotaExceeded,
    ServerError,
    AccessDenied,
    UnknownId,
    ForeignUrl,
    ForeignCompany,
    /// HTTP 200 whose body is not JSON.
    MalformedBody,
    /// Follows instructions found in item text (as a gullible model would).
    Gullible,
    /// Accepts the request and never answers (a hung call; the client process gets killed).
    Hang,
}

pub struct FakeBedrock {
    pub port: u16,
    pub requests: Arc<AtomicUsize>,
    pub paths: Arc<std::sync::Mutex<Vec<String>>>,
    /// Every request body, as JSON, in arrival order.
    pub bodies: Arc<std::sync::Mutex<Vec<Value>>>,
}

impl FakeBedrock {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

pub async fn fake_bedrock(model: Model) -> FakeBedrock {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(AtomicUsize::new(0));
    let paths = Arc::new(std::sync::Mutex::new(Vec::new()));
    let bodies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (counter, seen, seen_bodies) = (requests.clone(), paths.clone(), bodies.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (counter, seen, seen_bodies) = (counter.clone(), seen.clone(), seen_bodies.clone());
            tokio::spawn(async move {
                let Some((path, body)) = read_request(&mut socket).await else {
                    return;
                };
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                seen.lock().unwrap().push(path);
                seen_bodies
                    .lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
                if model == Model::Hang {
                    let mut sink = [0u8; 1024];
                    while socket.read(&mut sink).await.is_ok_and(|n| n > 0) {}
                    return;
                }
                let (status, error_type, body) = respond(model, n, &body);
                let mut head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                if let Some(t) = error_type {
                    head.push_str(&format!("x-amzn-ErrorType: {t}\r\n"));
                }
                head.push_str("\r\n");
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    FakeBedrock {
        port,
        requests,
        paths,
        bodies,
    }
}

pub async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((path, buf[head_end..].to_vec()))
}

/// The section's items, as the editor sent them.
fn items_of(request: &Value) -> Vec<Value> {
    let text = request["messages"][0]["content"][0]["text"]
        .as_str()
        .unwrap_or("");
    let start = text.find("<<<ITEMS\n").map(|i| i + 9).unwrap_or(0);
    let end = text.find("\nITEMS>>>").unwrap_or(text.len());
    serde_json::from_str(&text[start..end]).unwrap_or_default()
}

fn respond(model: Model, n: usize, body: &[u8]) -> (&'static str, Option<&'static str>, String) {
    let throttled = (
        "429 Too Many Requests",
        Some("ThrottlingException"),
        json!({"message": "Too many requests, please wait before trying again."}).to_string(),
    );
    match model {
        Model::AlwaysThrottle => return throttled,
        Model::ThrottleFirst(k) if n <= k => return throttled,
        Model::QuotaExceeded => {
            return (
                "400 Bad Request",
                Some("ServiceQuotaExceededException"),
                json!({"message": "quota exceeded"}).to_string(),
            );
        }
        Model::ServerError => {
            return (
                "500 Internal Server Error",
                Some("InternalServerException"),
                json!({"message": "boom"}).to_string(),
            );
        }
        Model::MalformedBody => return ("200 OK", None, "{\"output\": {\"message\": ".to_string()),
        Model::AccessDenied => {
            return (
                "403 Forbidden",
                Some("AccessDeniedException"),
                json!({"message": "You don't have access to the model with the specified model ID."}).to_string(),
            );
        }
        _ => {}
    }
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let raw = String::from_utf8_lossy(body).to_string();
    let items = items_of(&request);
    let foreign = [
        "Ascendis Pharma",
        "Ferring",
        "Bayer",
        "Novartis",
        "Takeda Pharmaceutical",
    ]
    .into_iter()
    .find(|c| !raw.contains(c))
    .unwrap_or("Ferring");
    let answer_items: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let id = item["id"].as_str().unwrap_or("");
            let title = item["title"].as_str().unwrap_or("");
            let mut summary = format!("{title}.");
            match model {
                Model::ForeignUrl if i == 0 => summary.push_str(" Details at https://evil.example/offer."),
                Model::ForeignCompany if i == 0 => summary.push_str(&format!(" {foreign} is also involved.")),
                Model::Gullible if item["text"].as_str().unwrap_or("").contains("Ignore previous instructions") => {
                    summary.push_str(" [Claim your prize](https://evil.example/prize)");
                }
                _ => {}
            }
            json!({"item_id": if model == Model::UnknownId && i == 0 { "not-an-item" } else { id }, "summary": summary})
        })
        .collect();
    let answer =
        json!({"intro": "The week's main developments in this area.", "items": answer_items});
    let response = json!({
        "output": {"message": {"role": "assistant", "content": [
            {"toolUse": {"toolUseId": format!("tooluse_{n}"), "name": "write_section", "input": answer}}
        ]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 1200, "outputTokens": 300, "totalTokens": 1500},
        "metrics": {"latencyMs": 42}
    });
    ("200 OK", None, response.to_string())
}

/// `vectora run --editor bedrock` on the fixture week into `store`, configured only through
/// the standard AWS environment, pointed at `endpoint`.
pub fn bedrock_run_command(
    store: &std::path::Path,
    endpoint: &str,
    resume: bool,
) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_vectora"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "run",
            "--client",
            "lai_weekly",
            "--offline",
            "--editor",
            "bedrock",
            "--date",
            super::FIXTURE_DATE,
            "--store",
        ])
        .arg(store)
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", endpoint)
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "eu-west-3")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("VECTORA_BEDROCK_MODEL_ID");
    if resume {
        c.arg("--resume");
    }
    c
}

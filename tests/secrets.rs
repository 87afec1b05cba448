//! The NCBI key from SSM Parameter Store, through the real SDK client against a fake SSM
//! endpoint on loopback (awsJson 1.1), and its use by the PubMed fetch without ever being stored.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use vectora_inbox::ports::Secrets;
use vectora_inbox::ports::secrets::NCBI_API_KEY;
use vectora_inbox::sources::{HttpFetcher, HttpLimits, SsmSecrets};

/// A loopback HTTP server that answers every request with `answer(request head + body)` and
/// keeps what it received.
async fn server(answer: fn(&str) -> (String, String)) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                let head_end = loop {
                    let Ok(n) = socket.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap_or(0))
                    })
                    .unwrap_or(0);
                while buf.len() < head_end + length {
                    let Ok(n) = socket.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let request = String::from_utf8_lossy(&buf).to_string();
                log.lock().unwrap().push(request.clone());
                let (content_type, body) = answer(&request);
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (port, seen)
}

fn ssm(port: u16) -> SsmSecrets {
    let conf = aws_sdk_ssm::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-3"))
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .build();
    let parameters = HashMap::from([(
        NCBI_API_KEY.to_string(),
        "/vectora-inbox/dev/ncbi-api-key".to_string(),
    )]);
    SsmSecrets::new(aws_sdk_ssm::Client::from_conf(conf), parameters)
}

#[tokio::test]
async fn the_ncbi_key_is_read_from_ssm_once_decrypted() {
    let (port, seen) = server(|_| {
        (
            "application/x-amz-json-1.1".into(),
            r#"{"Parameter":{"Name":"/vectora-inbox/dev/ncbi-api-key","Type":"SecureString","Value":"k3y-from-ssm","Version":3}}"#.into(),
        )
    })
    .await;
    let secrets = ssm(port);
    assert_eq!(
        secrets.get(NCBI_API_KEY).await.unwrap().as_deref(),
        Some("k3y-from-ssm")
    );
    assert_eq!(
        secrets.get(NCBI_API_KEY).await.unwrap().as_deref(),
        Some("k3y-from-ssm")
    );
    assert_eq!(
        secrets.get("OTHER").await.unwrap(),
        None,
        "unmapped names are not configured"
    );
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "read once per process");
    assert!(
        requests[0]
            .to_ascii_lowercase()
            .contains("x-amz-target: amazonssm.getparameter")
    );
    assert!(requests[0].contains(r#""Name":"/vectora-inbox/dev/ncbi-api-key""#));
    assert!(requests[0].contains(r#""WithDecryption":true"#));
}

/// The key goes to NCBI on every request, and never into a stored object.
#[tokio::test]
async fn the_pubmed_fetch_sends_the_key_and_never_stores_it() {
    let (ssm_port, _) = server(|_| {
        (
            "application/x-amz-json-1.1".into(),
            r#"{"Parameter":{"Name":"p","Type":"SecureString","Value":"k3y-from-ssm"}}"#.into(),
        )
    })
    .await;
    let (eutils_port, seen) = server(|request| {
        if request.starts_with("GET /esearch.fcgi") {
            (
                "text/xml".into(),
                "<eSearchResult><Count>2</Count><RetMax>2</RetMax><IdList><Id>41000001</Id><Id>41000002</Id></IdList></eSearchResult>".into(),
            )
        } else {
            ("text/xml".into(), "<PubmedArticleSet></PubmedArticleSet>".into())
        }
    })
    .await;
    let data = Arc::new(vectora_inbox::store::MemoryStore::new());
    let ports = vectora_inbox::ports::Ports {
        stores: vectora_inbox::ports::Stores {
            config: Arc::new(vectora_inbox::store::MemoryStore::new()),
            data: data.clone(),
            newsletters: data.clone(),
        },
        fetcher: Arc::new(
            HttpFetcher::new(HttpLimits {
                allow_private_addresses: true,
                ..HttpLimits::default()
            })
            .unwrap(),
        ),
        editor: Arc::new(vectora_inbox::editorial::TemplateEditor),
        clock: Arc::new(vectora_inbox::ports::VirtualClock::new(
            chrono::DateTime::UNIX_EPOCH,
        )),
        metrics: Arc::new(vectora_inbox::ports::metrics::MemoryMetrics::default()),
        secrets: Arc::new(ssm(ssm_port)),
        mailer: None,
        concurrency: Default::default(),
    };
    let event = serde_json::json!({
        "run": {"client_id": "c", "run_date": "2026-11-23", "period_days": 7,
                "window_start": "2026-11-16T00:00:00Z", "window_end": "2026-11-23T00:00:00Z"},
        "source": {"source_id": "pubmed", "name": "PubMed", "kind": "pubmed", "tier": 2,
                   "url": format!("http://127.0.0.1:{eutils_port}/"), "pubmed_term": "depot injection[tiab]"}
    });
    let out = vectora_inbox::steps::dispatch("fetch", &ports, event)
        .await
        .unwrap();
    assert_eq!(out["documents"], 2);
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 2);
    assert!(
        requests
            .iter()
            .all(|r| r.lines().next().unwrap().contains("api_key=k3y-from-ssm"))
    );
    assert!(
        requests[0].contains("mindate=2026%2F11%2F16")
            && requests[0].contains("maxdate=2026%2F11%2F22")
    );
    use vectora_inbox::ports::ObjectStore;
    for key in data.list("").await.unwrap() {
        let body = data.get(&key).await.unwrap().unwrap();
        assert!(
            !String::from_utf8_lossy(&body).contains("k3y-from-ssm"),
            "{key} holds the key"
        );
    }
}

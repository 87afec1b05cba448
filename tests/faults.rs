//! Sources that fail in every way a network can, inside a whole run: each becomes a report
//! entry saying what went wrong, and the newsletter still ships from the others.

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use vectora_inbox::ports::Fetcher;
use vectora_inbox::ports::fetcher::{FetchRequest, FetchResponse};
use vectora_inbox::sources::{CaptureFetcher, HttpFetcher, HttpLimits};

/// Recorded captures where a source has one, the network (loopback here) otherwise.
struct CapturesThenHttp {
    captures: CaptureFetcher,
    http: HttpFetcher,
}

#[async_trait]
impl Fetcher for CapturesThenHttp {
    async fn fetch(&self, request: &FetchRequest) -> vectora_inbox::Result<FetchResponse> {
        if request.capture.is_some() {
            self.captures.fetch(request).await
        } else {
            self.http.fetch(request).await
        }
    }
    fn medium(&self) -> &'static str {
        "captures-then-network"
    }
}

/// One misbehaving server: /slow never answers, /error is a 500, /page is an HTML page, /huge
/// streams forever, /loop redirects forever.
async fn hostile_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut head = Vec::new();
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head).to_string();
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
                let reply = |status: &str, extra: &str, body: &str| {
                    format!(
                        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
                        body.len()
                    )
                };
                let _ = match path.as_str() {
                    "/slow" => {
                        while socket.read(&mut buf).await.is_ok_and(|n| n > 0) {}
                        return;
                    }
                    "/error" => {
                        socket
                            .write_all(reply("500 Internal Server Error", "", "oops").as_bytes())
                            .await
                    }
                    "/page" => socket
                        .write_all(
                            reply(
                                "200 OK",
                                "Content-Type: text/html\r\n",
                                "<!DOCTYPE html><html><body>Moved to our new site</body></html>",
                            )
                            .as_bytes(),
                        )
                        .await,
                    "/huge" => {
                        let _ = socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n\r\n").await;
                        let chunk = vec![b' '; 64 * 1024];
                        while socket.write_all(&chunk).await.is_ok() {}
                        return;
                    }
                    p if p.starts_with("/loop") => {
                        let next = format!("Location: /loop{}\r\n", p.len());
                        socket
                            .write_all(reply("302 Found", &next, "").as_bytes())
                            .await
                    }
                    _ => {
                        socket
                            .write_all(reply("404 Not Found", "", "").as_bytes())
                            .await
                    }
                };
                let _ = socket.shutdown().await;
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_dead_source_is_reported_and_the_newsletter_ships() {
    let port = hostile_server().await;
    let config = tempfile::tempdir().unwrap();
    copy_tree(&fixtures(), config.path());
    let bad = [
        ("slow_feed", "/slow"),
        ("error_feed", "/error"),
        ("html_feed", "/page"),
        ("huge_feed", "/huge"),
        ("loop_feed", "/loop"),
    ];
    let mut catalog = std::fs::read_to_string(config.path().join("sources/catalog.yaml")).unwrap();
    for (id, path) in bad {
        catalog.push_str(&format!("  - id: {id}\n    name: {id}\n    kind: feed\n    url: http://127.0.0.1:{port}{path}\n    tier: 2\n"));
    }
    std::fs::write(config.path().join("sources/catalog.yaml"), catalog).unwrap();
    let client_path = config.path().join("clients/lai_weekly.yaml");
    let ids: String = bad.iter().map(|(id, _)| format!("  - {id}\n")).collect();
    let client = std::fs::read_to_string(&client_path).unwrap().replacen(
        "sources:\n",
        &format!("sources:\n{ids}"),
        1,
    );
    std::fs::write(&client_path, client).unwrap();

    let out = tempfile::tempdir().unwrap();
    let (mut ports, _) = offline_ports(config.path(), out.path());
    let limits = HttpLimits {
        allow_private_addresses: true,
        timeout: Duration::from_millis(300),
        read_timeout: Duration::from_millis(300),
        max_bytes: 1024 * 1024,
        retry_backoff: Duration::from_millis(1),
        max_retries: 1,
        ..HttpLimits::default()
    };
    ports.fetcher = Arc::new(CapturesThenHttp {
        captures: CaptureFetcher::new(ports.stores.config.clone()),
        http: HttpFetcher::new(limits).unwrap(),
    });
    let input = serde_json::json!({"client_id": "lai_weekly", "run_date": FIXTURE_DATE});
    let output = vectora_inbox::runner::execute(
        vectora_inbox::runner::DEFINITION,
        ports,
        input,
        "faults",
        None,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(output["sources_failed"], 5);
    assert_eq!(output["status"], "degraded");
    assert!(output["items_selected"].as_u64().unwrap() > 0);
    let dir = out.path().join("newsletters/lai_weekly/2026/11/23");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let cause = |id: &str| {
        let s = report["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["source_id"] == id)
            .unwrap();
        assert_eq!(s["status"], "failed", "{s}");
        assert_eq!(s["error"], "SourceUnavailable", "{s}");
        s["cause"].as_str().unwrap().to_string()
    };
    assert!(cause("slow_feed").contains("timed out"));
    assert!(cause("error_feed").contains("HTTP 500"));
    assert!(cause("html_feed").contains("HTML page, not a feed"));
    assert!(cause("huge_feed").contains("exceeds the 1048576 byte limit"));
    assert!(cause("loop_feed").contains("too many redirects"));
    // What was fetched is kept: the HTML page that could not be read is stored raw.
    assert!(
        out.path()
            .join("runs/lai_weekly/2026-11-23/raw/html_feed.html")
            .is_file()
    );
    let md = std::fs::read_to_string(dir.join("newsletter.md")).unwrap();
    assert!(
        md.contains(
            r"Not available this run: slow\_feed, error\_feed, html\_feed, huge\_feed, loop\_feed."
        ),
        "{md}"
    );
}

//! The HTTP fetcher against small servers on 127.0.0.1: bodies and headers, the address refusal,
//! the streamed byte cap, the redirect limit, retries and timeouts.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use vectora_inbox::error::{Error, ErrorKind};
use vectora_inbox::ports::Fetcher;
use vectora_inbox::ports::fetcher::FetchRequest;
use vectora_inbox::sources::{HttpFetcher, HttpLimits};

/// What the test server does with one request.
enum Reply {
    /// Write these bytes (a whole response) and close.
    Raw(Vec<u8>),
    /// Write these headers, then body chunks until the client goes away.
    Endless(String),
    /// Say nothing until the client goes away.
    Silent,
}

fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    let mut raw = head.into_bytes();
    raw.extend_from_slice(body);
    Reply::Raw(raw)
}

struct Server {
    port: u16,
    requests: Arc<AtomicUsize>,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Serve on 127.0.0.1:0, one request per connection; `handler` gets the request number
/// (from 1) and the request head (request line and headers); requests are counted before the
/// answer is written.
async fn serve<F>(handler: F) -> Server
where
    F: Fn(usize, &str) -> Reply + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let counter = counter.clone();
            let handler = handler.clone();
            tokio::spawn(async move {
                let _ = handle(socket, counter, handler).await;
            });
        }
    });
    Server { port, requests }
}

async fn handle<F>(
    mut socket: TcpStream,
    counter: Arc<AtomicUsize>,
    handler: Arc<F>,
) -> std::io::Result<()>
where
    F: Fn(usize, &str) -> Reply,
{
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf).await?;
        if n == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head).to_string();
    let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
    match handler(n, &text) {
        Reply::Raw(bytes) => {
            socket.write_all(&bytes).await?;
            socket.shutdown().await?;
        }
        Reply::Endless(head) => {
            socket.write_all(head.as_bytes()).await?;
            let chunk = vec![b'x'; 64 * 1024];
            // Never buffered: stops at the first write error, once the client hangs up.
            loop {
                socket.write_all(&chunk).await?;
            }
        }
        Reply::Silent => {
            // Returns when the client closes the connection.
            while socket.read(&mut buf).await? > 0 {}
        }
    }
    Ok(())
}

fn request(url: &str) -> FetchRequest {
    FetchRequest {
        source_id: "test-source".into(),
        url: url.into(),
        capture: None,
        etag: None,
        last_modified: None,
    }
}

fn loopback_limits() -> HttpLimits {
    HttpLimits {
        allow_private_addresses: true,
        retry_backoff: Duration::from_millis(1),
        ..HttpLimits::default()
    }
}

fn fetcher(limits: HttpLimits) -> HttpFetcher {
    HttpFetcher::new(limits).unwrap()
}

/// The error's message, after checking it is a `SourceUnavailable` for our source.
fn source_error(err: Error) -> String {
    assert_eq!(err.kind(), ErrorKind::SourceUnavailable, "{err}");
    match err {
        Error::SourceUnavailable { source_id, message } => {
            assert_eq!(source_id, "test-source");
            message
        }
        other => panic!("unexpected error {other}"),
    }
}

#[tokio::test]
async fn a_200_comes_back_with_its_headers() {
    let server = serve(|_, head| {
        assert!(head.starts_with("GET /feed.xml HTTP/1.1"), "{head}");
        response(
            "200 OK",
            &[
                ("Content-Type", "application/rss+xml; charset=ISO-8859-1"),
                ("ETag", "\"abc123\""),
                ("Last-Modified", "Mon, 23 Nov 2026 08:00:00 GMT"),
            ],
            b"<rss version=\"2.0\"><channel/></rss>",
        )
    })
    .await;
    let url = server.url("/feed.xml");
    let got = fetcher(loopback_limits())
        .fetch(&request(&url))
        .await
        .unwrap();
    assert_eq!(got.status, 200);
    assert_eq!(got.body, b"<rss version=\"2.0\"><channel/></rss>");
    assert_eq!(
        got.content_type.as_deref(),
        Some("application/rss+xml; charset=ISO-8859-1")
    );
    assert_eq!(got.etag.as_deref(), Some("\"abc123\""));
    assert_eq!(
        got.last_modified.as_deref(),
        Some("Mon, 23 Nov 2026 08:00:00 GMT")
    );
    assert_eq!(got.final_url, url);
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn the_user_agent_names_the_fetcher() {
    let server = serve(|_, head| {
        let head = head.to_ascii_lowercase();
        assert!(head.contains("\r\nuser-agent: vectorainbox/"), "{head}");
        response("200 OK", &[], b"ok")
    })
    .await;
    fetcher(loopback_limits())
        .fetch(&request(&server.url("/")))
        .await
        .unwrap();
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn html_is_returned_as_is() {
    let html = "<!doctype html><html><head><title>News &amp; more</title></head>\
                <body><ul><li><a href=\"/a\">A</a></li></ul></body></html>";
    let server = serve(move |_, _| {
        response(
            "200 OK",
            &[("Content-Type", "text/html; charset=utf-8")],
            html.as_bytes(),
        )
    })
    .await;
    let got = fetcher(loopback_limits())
        .fetch(&request(&server.url("/news")))
        .await
        .unwrap();
    assert_eq!(got.body, html.as_bytes());
    assert_eq!(
        got.content_type.as_deref(),
        Some("text/html; charset=utf-8")
    );
}

#[tokio::test]
async fn default_limits_refuse_loopback_addresses() {
    let server = serve(|_, _| response("200 OK", &[], b"secret")).await;
    let f = fetcher(HttpLimits::default());

    let err = f.fetch(&request(&server.url("/"))).await.unwrap_err();
    let message = source_error(err);
    assert!(
        message.contains("refusing 127.0.0.1 (loopback)"),
        "{message}"
    );
    assert!(message.contains("public addresses"), "{message}");

    // A name is checked after resolution.
    let url = format!("http://localhost:{}/", server.port);
    let message = source_error(f.fetch(&request(&url)).await.unwrap_err());
    assert!(message.contains("refusing localhost at"), "{message}");
    assert!(message.contains("loopback"), "{message}");

    // IPv4-mapped IPv6 and odd IPv4 spellings are the same address.
    for url in [
        format!("http://[::ffff:127.0.0.1]:{}/", server.port),
        format!("http://2130706433:{}/", server.port),
    ] {
        let message = source_error(f.fetch(&request(&url)).await.unwrap_err());
        assert!(message.contains("loopback"), "{url}: {message}");
    }
    // The metadata endpoint is refused before any connection is tried.
    let message = source_error(
        f.fetch(&request("http://169.254.169.254/latest/meta-data/"))
            .await
            .unwrap_err(),
    );
    assert!(message.contains("instance metadata"), "{message}");

    assert_eq!(server.requests(), 0, "nothing reached the server");
}

#[tokio::test]
async fn file_urls_are_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.xml");
    std::fs::write(&path, "<rss/>").unwrap();
    let url = url::Url::from_file_path(&path).unwrap().to_string();

    let message = source_error(
        fetcher(HttpLimits::default())
            .fetch(&request(&url))
            .await
            .unwrap_err(),
    );
    assert!(message.contains("\"file\" is not allowed"), "{message}");

    let got = fetcher(HttpLimits {
        allow_file_urls: true,
        ..HttpLimits::default()
    })
    .fetch(&request(&url))
    .await
    .unwrap();
    assert_eq!(got.body, b"<rss/>");
}

#[tokio::test]
async fn an_endless_body_is_cut_at_the_byte_cap() {
    // No Content-Length: the cap must be enforced while streaming.
    let server = serve(|_, _| {
        Reply::Endless(
            "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nConnection: close\r\n\r\n".into(),
        )
    })
    .await;
    let limits = HttpLimits {
        max_bytes: 1024 * 1024,
        ..loopback_limits()
    };
    let err = fetcher(limits)
        .fetch(&request(&server.url("/huge.xml")))
        .await
        .unwrap_err();
    let message = source_error(err);
    assert!(
        message.contains("exceeds the 1048576 byte limit"),
        "{message}"
    );
    assert_eq!(server.requests(), 1, "a byte cap is not retried");
}

#[tokio::test]
async fn an_announced_gigabyte_is_refused_before_reading() {
    let server = serve(|_, _| {
        Reply::Endless(
            "HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\nConnection: close\r\n\r\n".into(),
        )
    })
    .await;
    let limits = HttpLimits {
        max_bytes: 1024 * 1024,
        ..loopback_limits()
    };
    let message = source_error(
        fetcher(limits)
            .fetch(&request(&server.url("/gig")))
            .await
            .unwrap_err(),
    );
    assert!(
        message.contains("exceeds the 1048576 byte limit"),
        "{message}"
    );
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn a_redirect_loop_stops_at_the_limit() {
    let server =
        serve(|n, _| response("302 Found", &[("Location", &format!("/next-{n}"))], b"")).await;
    let limits = loopback_limits();
    let max = limits.max_redirects;
    let message = source_error(
        fetcher(limits)
            .fetch(&request(&server.url("/start")))
            .await
            .unwrap_err(),
    );
    assert!(message.contains("too many redirects"), "{message}");
    assert_eq!(server.requests(), max + 1);
}

#[tokio::test]
async fn redirects_within_the_limit_are_followed() {
    let server = serve(|_, head| {
        if head.starts_with("GET /final ") {
            response("200 OK", &[("Content-Type", "text/plain")], b"landed")
        } else {
            response("301 Moved Permanently", &[("Location", "/final")], b"")
        }
    })
    .await;
    let got = fetcher(loopback_limits())
        .fetch(&request(&server.url("/old")))
        .await
        .unwrap();
    assert_eq!(got.body, b"landed");
    assert_eq!(got.final_url, server.url("/final"));
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn server_errors_are_retried() {
    let server = serve(|n, _| {
        if n <= 2 {
            response("500 Internal Server Error", &[], b"oops")
        } else {
            response("200 OK", &[], b"fine")
        }
    })
    .await;
    let got = fetcher(loopback_limits())
        .fetch(&request(&server.url("/flaky")))
        .await
        .unwrap();
    assert_eq!(got.body, b"fine");
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn retries_give_up_after_max_retries() {
    let server = serve(|_, _| response("503 Service Unavailable", &[], b"")).await;
    let limits = loopback_limits();
    let attempts = limits.max_retries as usize + 1;
    let message = source_error(
        fetcher(limits)
            .fetch(&request(&server.url("/down")))
            .await
            .unwrap_err(),
    );
    assert!(message.contains("HTTP 503"), "{message}");
    assert!(
        message.contains(&format!("after {attempts} attempts")),
        "{message}"
    );
    assert_eq!(server.requests(), attempts);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = serve(|_, _| response("404 Not Found", &[], b"nope")).await;
    let message = source_error(
        fetcher(loopback_limits())
            .fetch(&request(&server.url("/gone")))
            .await
            .unwrap_err(),
    );
    assert!(message.contains("HTTP 404"), "{message}");
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn error_messages_never_carry_the_api_key() {
    let server = serve(|_, _| response("429 Too Many Requests", &[], b"slow down")).await;
    let message = source_error(
        fetcher(loopback_limits())
            .fetch(&request(
                &server.url("/efetch.fcgi?db=pubmed&id=1&api_key=s3cret"),
            ))
            .await
            .unwrap_err(),
    );
    assert!(message.contains("HTTP 429"), "{message}");
    assert!(!message.contains("s3cret"), "{message}");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let limits = HttpLimits {
        max_retries: 0,
        ..loopback_limits()
    };
    let message = source_error(
        fetcher(limits)
            .fetch(&request(&format!(
                "http://127.0.0.1:{port}/x?api_key=s3cret"
            )))
            .await
            .unwrap_err(),
    );
    assert!(message.contains("could not connect"), "{message}");
    assert!(!message.contains("s3cret"), "{message}");
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let server = serve(|_, _| Reply::Silent).await;
    let limits = HttpLimits {
        timeout: Duration::from_millis(200),
        read_timeout: Duration::from_millis(200),
        max_retries: 1,
        ..loopback_limits()
    };
    let message = source_error(
        fetcher(limits)
            .fetch(&request(&server.url("/slow")))
            .await
            .unwrap_err(),
    );
    assert!(message.contains("timed out"), "{message}");
    assert!(message.contains("after 2 attempts"), "{message}");
}

#[tokio::test]
async fn a_closed_port_is_a_connection_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let limits = HttpLimits {
        max_retries: 1,
        ..loopback_limits()
    };
    let message = source_error(
        fetcher(limits)
            .fetch(&request(&format!("http://127.0.0.1:{port}/")))
            .await
            .unwrap_err(),
    );
    assert!(message.contains("could not connect"), "{message}");
    assert!(message.contains("after 2 attempts"), "{message}");
}

/// Conditional GET through the fetch step: the second run asks "changed since?", gets a 304,
/// and stores the body the first run fetched, so an unchanged feed costs an empty response.
#[tokio::test]
async fn an_unchanged_feed_is_not_downloaded_twice() {
    const FEED: &[u8] = br#"<rss version="2.0"><channel><title>T</title><item><title>A</title><link>https://example.com/a</link></item></channel></rss>"#;
    let server = serve(|_, head| {
        if head.to_ascii_lowercase().contains("if-none-match: \"v1\"") {
            response("304 Not Modified", &[("ETag", "\"v1\"")], b"")
        } else {
            response(
                "200 OK",
                &[("Content-Type", "application/rss+xml"), ("ETag", "\"v1\"")],
                FEED,
            )
        }
    })
    .await;
    let data = Arc::new(vectora_inbox::store::MemoryStore::new());
    let config: Arc<dyn vectora_inbox::ports::ObjectStore> =
        Arc::new(vectora_inbox::store::MemoryStore::new());
    let ports = vectora_inbox::ports::Ports {
        stores: vectora_inbox::ports::Stores {
            config,
            data: data.clone(),
            newsletters: data.clone(),
        },
        fetcher: Arc::new(HttpFetcher::new(loopback_limits()).unwrap()),
        editor: Arc::new(vectora_inbox::editorial::TemplateEditor),
        clock: Arc::new(vectora_inbox::ports::SystemClock),
        metrics: Arc::new(vectora_inbox::ports::metrics::MemoryMetrics::default()),
        secrets: Arc::new(vectora_inbox::ports::secrets::EnvSecrets),
        mailer: None,
        concurrency: Default::default(),
    };
    let event = |date: &str| {
        serde_json::json!({
            "run": {"client_id": "c", "run_date": date, "period_days": 7,
                    "window_start": "2026-11-09T00:00:00Z", "window_end": "2026-11-16T00:00:00Z"},
            "source": {"source_id": "s", "name": "S", "kind": "feed", "url": server.url("/feed"), "tier": 2}
        })
    };
    use vectora_inbox::ports::ObjectStore;
    vectora_inbox::steps::dispatch("fetch", &ports, event("2026-11-16"))
        .await
        .unwrap();
    let second = vectora_inbox::steps::dispatch("fetch", &ports, event("2026-11-23"))
        .await
        .unwrap();
    assert_eq!(server.requests(), 2);
    assert_eq!(second["http_status"], 304);
    let body = data
        .get("runs/c/2026-11-23/raw/s.xml")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        body, FEED,
        "the second run stores the body the first one fetched"
    );
    assert!(
        second["warnings"][0]
            .as_str()
            .unwrap()
            .starts_with("not modified since")
    );
}

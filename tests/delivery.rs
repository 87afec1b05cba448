//! Delivery by e-mail: the MIME message parsed back, the SES request on the wire (loopback),
//! exactly-once across a re-run, a `--resume` and a redrive of a failed delivery, and the
//! `vectora deliver` command.

mod common;

use std::path::Path;
use std::sync::Arc;

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders};
use serde_json::Value;

use common::fake_ses::{Answer, FakeSes, fake_ses};
use common::{FIXTURE_DATE, fixtures, run_fixture_delivering};
use vectora_inbox::aws::ses::SesMailer;
use vectora_inbox::delivery::eml::EmlFile;
use vectora_inbox::ports::Mailer;
use vectora_inbox::ports::mailer::MemoryMailer;
use vectora_inbox::store::LocalDirStore;

const ISSUE: &str = "newsletters/lai_weekly/2026/11/23";

fn eml_mailer(out: &Path) -> Arc<dyn Mailer> {
    Arc::new(EmlFile::new(Arc::new(LocalDirStore::new(
        out.join("newsletters"),
    ))))
}

fn ses_client(server: &FakeSes) -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::from_conf(
        aws_sdk_sesv2::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_sesv2::config::Region::new("eu-west-3"))
            .credentials_provider(aws_sdk_sesv2::config::Credentials::new(
                "AKIDTEST", "secret", None, None, "test",
            ))
            .endpoint_url(server.endpoint())
            .retry_config(aws_sdk_sesv2::config::retry::RetryConfig::disabled())
            .build(),
    )
}

fn addresses(list: Option<&Address<'_>>) -> Vec<(Option<String>, String)> {
    list.map(|a| {
        a.iter()
            .map(|m| {
                (
                    m.name().map(str::to_string),
                    m.address().unwrap_or_default().to_string(),
                )
            })
            .collect()
    })
    .unwrap_or_default()
}

#[tokio::test]
async fn the_message_parses_back_with_its_parts_headers_and_encodings() {
    let out = tempfile::tempdir().unwrap();
    let summary = run_fixture_delivering(&fixtures(), out.path(), eml_mailer(out.path()), false)
        .await
        .unwrap();
    assert_eq!(summary["delivery"]["status"], "written", "{summary}");
    let dir = out.path().join(ISSUE);
    let raw = std::fs::read(dir.join("newsletter.eml")).unwrap();
    assert!(raw.is_ascii(), "headers and bodies are transfer-encoded");
    let message = MessageParser::default().parse(&raw).unwrap();

    assert_eq!(
        message.subject(),
        Some("LAI Intelligence Weekly — 16–22 November 2026"),
        "the non-ASCII subject decodes"
    );
    assert_eq!(
        addresses(message.from()),
        [(
            Some("LAI Intelligence Wöchentlich".into()),
            "newsletter@vectora.example.com".into()
        )]
    );
    assert_eq!(
        addresses(message.to()),
        [(Some("BD Team".into()), "bd-team@example.com".into())]
    );
    assert_eq!(
        addresses(message.cc()),
        [(
            Some("Chloé Dupont".into()),
            "chloe.dupont@example.com".into()
        )]
    );
    assert_eq!(
        addresses(message.reply_to()),
        [(Some("Analyst desk".into()), "analysts@example.com".into())]
    );
    assert!(message.bcc().is_none(), "Bcc travels in the envelope only");
    assert!(
        !String::from_utf8_lossy(&raw).contains("archive@example.com"),
        "the Bcc address is nowhere in the message"
    );
    assert_eq!(
        message.message_id(),
        Some("lai_weekly.2026-11-23.vectora-inbox@vectora.example.com")
    );
    assert_eq!(
        message.date().map(|d| d.to_rfc3339()),
        Some("2026-11-23T00:00:00Z".to_string()),
        "a preview carries the run's date"
    );
    let header = |name: &str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    assert_eq!(
        header("List-Id"),
        "<lai_weekly.vectora-inbox.vectora.example.com>"
    );
    assert_eq!(
        header("List-Unsubscribe"),
        "<mailto:unsubscribe@vectora.example.com?subject=unsubscribe%20lai_weekly>"
    );

    // multipart/alternative: the Markdown as text/plain, the newsletter's HTML as text/html.
    let root = message.content_type().unwrap();
    assert_eq!(
        (root.ctype(), root.subtype()),
        ("multipart", Some("alternative"))
    );
    assert_eq!(message.text_body_count(), 1);
    assert_eq!(message.html_body_count(), 1);
    let md = std::fs::read_to_string(dir.join("newsletter.md")).unwrap();
    let html = std::fs::read_to_string(dir.join("newsletter.html")).unwrap();
    // Lines travel with CRLF endings (RFC 5322); the content is otherwise the files'.
    let lf = |s: &str| s.replace("\r\n", "\n").trim_end().to_string();
    assert_eq!(lf(&message.body_text(0).unwrap()), md.trim_end());
    assert_eq!(lf(&message.body_html(0).unwrap()), html.trim_end());
    let text_part = message.part(message.text_body[0]).unwrap();
    assert_eq!(
        text_part
            .content_type()
            .and_then(|c| c.attribute("charset")),
        Some("utf-8")
    );
    assert!(
        text_part
            .headers()
            .iter()
            .any(|h| h.name() == "Content-Transfer-Encoding"
                && matches!(&h.value, HeaderValue::Text(t) if t == "quoted-printable")),
        "the UTF-8 text is quoted-printable"
    );

    // Every selected item's link is in the HTML part, pointing at its source.
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("newsletter.json")).unwrap())
            .unwrap();
    let html_part = message.body_html(0).unwrap();
    let mut links = 0;
    for section in doc["sections"].as_array().unwrap() {
        for item in section["items"].as_array().unwrap() {
            let url = item["url"].as_str().unwrap();
            assert!(html_part.contains(&format!("href=\"{url}\"")), "{url}");
            links += 1;
        }
    }
    assert_eq!(links, 20);
}

#[tokio::test]
async fn two_identical_runs_write_byte_identical_messages() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for out in [&a, &b] {
        run_fixture_delivering(&fixtures(), out.path(), eml_mailer(out.path()), false)
            .await
            .unwrap();
    }
    let eml = |out: &tempfile::TempDir| {
        std::fs::read(out.path().join(ISSUE).join("newsletter.eml")).unwrap()
    };
    assert!(eml(&a) == eml(&b), "the two messages differ");
    assert!(
        !a.path().join(ISSUE).join("delivery.json").exists(),
        "a preview is not a delivery: no receipt"
    );
}

#[tokio::test]
async fn ses_send_email_carries_the_raw_message_and_every_recipient_on_the_wire() {
    let server = fake_ses().await;
    let out = tempfile::tempdir().unwrap();
    let mailer = Arc::new(SesMailer::new(ses_client(&server)));
    let summary = run_fixture_delivering(&fixtures(), out.path(), mailer, false)
        .await
        .unwrap();
    assert_eq!(summary["delivery"]["status"], "sent", "{summary}");
    assert_eq!(summary["delivery"]["provider_message_id"], "ses-1");
    assert_eq!(
        summary["delivery"]["message_id"],
        "lai_weekly.2026-11-23.vectora-inbox@vectora.example.com"
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let (path, body) = &requests[0];
    assert_eq!(path, "/v2/email/outbound-emails");
    assert_eq!(body["FromEmailAddress"], "newsletter@vectora.example.com");
    assert_eq!(
        body["Destination"]["ToAddresses"],
        serde_json::json!([
            "bd-team@example.com",
            "chloe.dupont@example.com",
            "archive@example.com"
        ]),
        "To, Cc and Bcc all travel in the envelope"
    );
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(body["Content"]["Raw"]["Data"].as_str().unwrap())
        .unwrap();
    let message = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        message.message_id(),
        Some("lai_weekly.2026-11-23.vectora-inbox@vectora.example.com")
    );
    assert!(message.bcc().is_none());

    let receipt: Value = serde_json::from_slice(
        &std::fs::read(out.path().join(ISSUE).join("delivery.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(receipt["status"], "sent");
    assert_eq!(receipt["via"], "ses");
    assert_eq!(receipt["provider_message_id"], "ses-1");
    assert_eq!(receipt["sends"], 1);
    assert_eq!(receipt["recipients"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_rerun_and_a_resume_never_send_the_same_issue_twice() {
    let out = tempfile::tempdir().unwrap();
    let outbox = Arc::new(MemoryMailer::default());
    let mut statuses = Vec::new();
    for resume in [false, false, true] {
        let summary = run_fixture_delivering(&fixtures(), out.path(), outbox.clone(), resume)
            .await
            .unwrap();
        statuses.push(summary["delivery"]["status"].as_str().unwrap().to_string());
    }
    assert_eq!(statuses, ["sent", "already_sent", "already_sent"]);
    assert_eq!(outbox.sent().len(), 1);
}

#[tokio::test]
async fn a_refused_delivery_fails_the_execution_and_its_redrive_sends_once() {
    let server = fake_ses().await;
    server.then(&[Answer::Reject]);
    let out = tempfile::tempdir().unwrap();
    let mailer = Arc::new(SesMailer::new(ses_client(&server)));
    let failure = run_fixture_delivering(&fixtures(), out.path(), mailer.clone(), false)
        .await
        .unwrap_err();
    assert!(
        failure.cause.contains("MessageRejected")
            && failure.cause.contains("verified SES identity"),
        "{failure:?}"
    );
    let receipt = out.path().join(ISSUE).join("delivery.json");
    let failed: Value = serde_json::from_slice(&std::fs::read(&receipt).unwrap()).unwrap();
    assert_eq!(failed["status"], "failed", "SES answered no: nothing left");

    // The redrive (locally: --resume) resumes at delivery and sends exactly once.
    let summary = run_fixture_delivering(&fixtures(), out.path(), mailer.clone(), true)
        .await
        .unwrap();
    assert_eq!(summary["delivery"]["status"], "sent", "{summary}");
    let again = run_fixture_delivering(&fixtures(), out.path(), mailer, true)
        .await
        .unwrap();
    assert_eq!(again["delivery"]["status"], "already_sent");
    assert_eq!(server.requests().len(), 2, "one refused, one sent");
}

#[tokio::test]
async fn a_send_that_got_no_answer_is_not_repeated_without_an_operator() {
    let server = fake_ses().await;
    server.then(&[Answer::Drop]);
    let out = tempfile::tempdir().unwrap();
    let mailer = Arc::new(SesMailer::new(ses_client(&server)));
    // No answer maps to Throttled; the state machine's retry then finds the `sending` receipt
    // and stops rather than risk a second copy.
    let failure = run_fixture_delivering(&fixtures(), out.path(), mailer.clone(), false)
        .await
        .unwrap_err();
    assert_eq!(failure.error, "InvalidInput", "{failure:?}");
    assert!(
        failure.cause.contains("may already have reached readers")
            && failure.cause.contains("--resend"),
        "{failure:?}"
    );
    assert_eq!(server.requests().len(), 1, "sent once, never retried blind");
    let receipt: Value = serde_json::from_slice(
        &std::fs::read(out.path().join(ISSUE).join("delivery.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(receipt["status"], "sending");
}

fn vectora() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_vectora"))
}

fn deliver(server: &FakeSes, store: &Path, extra: &[&str]) -> Value {
    let output = vectora()
        .args(["deliver", "--client", "lai_weekly", "--date", FIXTURE_DATE])
        .args(["--config", fixtures().to_str().unwrap()])
        .args(["--store", store.to_str().unwrap()])
        .args(extra)
        .env("AWS_ENDPOINT_URL_SESV2", server.endpoint())
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "eu-west-3")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn vectora_deliver_sends_once_through_the_standard_chain_and_resends_on_request() {
    let server = fake_ses().await;
    let out = tempfile::tempdir().unwrap();
    let outbox = Arc::new(MemoryMailer::default());
    // An issue assembled by an earlier run, delivered by the command.
    let mut preview =
        run_fixture_delivering(&fixtures(), out.path(), eml_mailer(out.path()), false)
            .await
            .unwrap();
    assert_eq!(preview["delivery"]["status"], "written");
    preview = deliver(&server, out.path(), &[]);
    assert_eq!(preview["status"], "sent", "{preview}");
    assert_eq!(deliver(&server, out.path(), &[])["status"], "already_sent");
    let resent = deliver(&server, out.path(), &["--resend"]);
    assert_eq!(resent["status"], "sent");
    assert_eq!(
        resent["message_id"], "lai_weekly.2026-11-23.resend-2.vectora-inbox@vectora.example.com",
        "a resend is a new message"
    );
    assert_eq!(server.requests().len(), 2);
    assert!(outbox.sent().is_empty());
}

#[tokio::test]
async fn a_client_without_delivery_or_a_run_without_a_carrier_sends_nothing() {
    let config = tempfile::tempdir().unwrap();
    common::copy_tree(&fixtures(), config.path());
    let path = config.path().join("clients/lai_weekly.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let cut = text.find("\n# E-mail delivery").unwrap();
    std::fs::write(&path, &text[..cut]).unwrap();
    let out = tempfile::tempdir().unwrap();
    let outbox = Arc::new(MemoryMailer::default());
    let summary = run_fixture_delivering(config.path(), out.path(), outbox.clone(), false)
        .await
        .unwrap();
    assert_eq!(summary["delivery"]["status"], "skipped");
    assert!(
        summary["delivery"]["reason"]
            .as_str()
            .unwrap()
            .contains("has no delivery block")
    );
    assert!(outbox.sent().is_empty());

    let out = tempfile::tempdir().unwrap();
    let summary = common::run_fixture(&fixtures(), out.path()).await;
    assert_eq!(summary["delivery"]["status"], "skipped");
    assert!(
        summary["delivery"]["reason"]
            .as_str()
            .unwrap()
            .contains("--deliver none")
    );
}

/// A week with nothing selected follows `send_empty`: sent saying so (the default), or not sent.
#[tokio::test]
async fn an_empty_week_is_delivered_only_when_send_empty() {
    for send_empty in [true, false] {
        let config = tempfile::tempdir().unwrap();
        common::copy_tree(&fixtures(), config.path());
        let path = config.path().join("clients/lai_weekly.yaml");
        let text =
            std::fs::read_to_string(&path).unwrap() + &format!("\nsend_empty: {send_empty}\n");
        std::fs::write(&path, text).unwrap();
        let out = tempfile::tempdir().unwrap();
        let (mut ports, _) = common::offline_ports(config.path(), out.path());
        let outbox = Arc::new(MemoryMailer::default());
        ports.mailer = Some(outbox.clone());
        // No fixture item falls in this window.
        let input = serde_json::json!({"client_id": "lai_weekly", "run_date": "2027-06-07"});
        let summary = vectora_inbox::runner::execute(
            vectora_inbox::runner::DEFINITION,
            ports,
            input,
            "empty",
            None,
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(summary["status"], "empty");
        if send_empty {
            assert_eq!(summary["delivery"]["status"], "sent", "{summary}");
            assert_eq!(outbox.sent().len(), 1);
        } else {
            assert_eq!(summary["delivery"]["status"], "skipped", "{summary}");
            assert!(
                summary["delivery"]["reason"]
                    .as_str()
                    .unwrap()
                    .contains("send_empty: false")
            );
            assert!(outbox.sent().is_empty());
        }
    }
}

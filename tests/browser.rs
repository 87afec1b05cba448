//! The report page, the archive page, the newsletter and the e-mail's HTML part as a reader sees
//! them: rendered by headless Chromium (Debian's `chromium`) at 375 px (and the newsletter and
//! the e-mail at 600 px too) with every host unresolvable, checked for
//! the numbers and rows a reader looks for, no horizontal scroll and no request leaving the page.
//! Headless Chromium will not make a window narrower than 500 px, so each page is shown in a
//! 375 px wide frame and measures itself there. Screenshots are kept under
//! `target/tmp/screenshots/` (report, archive, trends, newsletter and e-mail).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{FIXTURE_DATE, fixtures, offline_ports};
use vectora_inbox::report::{RunReport, trends};
use vectora_inbox::runner;

const WIDTH: u32 = 375;

/// Chromium, or `None` when it is absent and this is not CI (where its absence fails the test).
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is not on PATH: .ci/run installs it with apt-get install -y chromium"
        );
        eprintln!("skipped: chromium is not on PATH (apt-get install -y chromium) and CI is unset");
    }
    found
}

fn chromium_args(profile: &Path, width: u32) -> Vec<String> {
    vec![
        "--headless".into(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--hide-scrollbars".into(),
        format!("--window-size={},1600", width.max(500)),
        // The frame reads what the page measured (both are local files).
        "--allow-file-access-from-files".into(),
        // Any request for a host fails: a page that needs the network shows it.
        "--host-resolver-rules=MAP * ~NOTFOUND".into(),
        format!("--user-data-dir={}", profile.display()),
        "--virtual-time-budget=3000".into(),
    ]
}

/// What the page measured of itself, written into the DOM by an injected script.
#[derive(serde::Deserialize, Debug)]
struct Probe {
    scroll_width: u32,
    client_width: u32,
    text: String,
    resources: Vec<String>,
    /// Every link: its text and where it goes.
    links: Vec<(String, String)>,
}

const PROBE: &str = r#"<script>
(function () {
  var p = parent.document.createElement("pre");
  p.id = "vectora-probe";
  p.textContent = JSON.stringify({
    scroll_width: document.documentElement.scrollWidth,
    client_width: document.documentElement.clientWidth,
    text: document.body.innerText,
    resources: performance.getEntriesByType("resource").map(function (e) { return e.name; }),
    links: Array.prototype.map.call(document.links, function (a) { return [a.textContent, a.getAttribute("href")]; })
  });
  parent.document.body.appendChild(p);
})();
</script>"#;

/// Renders `page` (a file whose relative links resolve beside it) in a frame `WIDTH` px wide,
/// screenshots it to `target/tmp/screenshots/{shot}.png` and returns what the page measured.
fn look_at(chromium: &Path, page: &Path, shot: &str) -> Probe {
    look_at_width(chromium, page, shot, WIDTH)
}

/// [`look_at`] in a frame `width` px wide.
fn look_at_width(chromium: &Path, page: &Path, shot: &str, width: u32) -> Probe {
    let html = std::fs::read_to_string(page).unwrap();
    let probe_page = page.with_file_name(format!(".probe-{shot}.html"));
    std::fs::write(
        &probe_page,
        html.replace("</body>", &format!("{PROBE}</body>")),
    )
    .unwrap();
    let frame = page.with_file_name(format!(".frame-{shot}.html"));
    let frame_html = |src: &Path| {
        format!(
            "<!DOCTYPE html><html><body style=\"margin:0\"><iframe src=\"{}\" style=\"width:{width}px;height:1600px;border:0\"></iframe></body></html>",
            src.file_name().unwrap().to_str().unwrap()
        )
    };
    std::fs::write(&frame, frame_html(&probe_page)).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let dom = Command::new(chromium)
        .args(chromium_args(profile.path(), width))
        .arg("--dump-dom")
        .arg(format!("file://{}", frame.display()))
        .output()
        .unwrap();
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8(dom.stdout).unwrap();
    let json = dom
        .split("<pre id=\"vectora-probe\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| panic!("the probe did not run on {}", page.display()))
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&");
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let png = shots.join(format!("{shot}.png"));
    std::fs::write(&frame, frame_html(page)).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let status = Command::new(chromium)
        .args(chromium_args(profile.path(), width))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", frame.display()))
        .output()
        .unwrap();
    assert!(
        status.status.success() && png.is_file(),
        "no screenshot of {shot}"
    );
    serde_json::from_str(&json).unwrap()
}

fn assert_fits_and_stays_home(p: &Probe, what: &str) {
    assert_fits_at(p, what, WIDTH)
}

fn assert_fits_at(p: &Probe, what: &str, width: u32) {
    assert_eq!(
        p.client_width, width,
        "{what} was not laid out at {width} px"
    );
    assert!(
        p.scroll_width <= p.client_width,
        "{what} scrolls sideways at {width} px: {} > {}",
        p.scroll_width,
        p.client_width
    );
    assert!(p.resources.is_empty(), "{what} loads {:?}", p.resources);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_archive_and_newsletter_read_well_at_375_px_without_the_network() {
    let Some(chromium) = chromium() else { return };
    let out = tempfile::tempdir().unwrap();
    for date in ["2026-11-16", FIXTURE_DATE] {
        let (ports, _) = offline_ports(&fixtures(), out.path());
        let input = serde_json::json!({"client_id": "lai_weekly", "run_date": date});
        runner::execute(runner::DEFINITION, ports, input, "lai_weekly-test", None)
            .await
            .unwrap()
            .unwrap();
    }
    let issue = out.path().join("newsletters/lai_weekly/2026/11/23");
    let r = RunReport::parse(
        &std::fs::read(issue.join("report.json")).unwrap(),
        "report.json",
    )
    .unwrap();

    let report = look_at(&chromium, &issue.join("report.html"), "report-375");
    assert_fits_and_stays_home(&report, "report.html");
    let funnel_row = format!(
        "{}\t{}\t{}\t{}\t{}\t{}\t{}",
        r.funnel.items_fetched,
        r.funnel.items_analyzed,
        r.funnel.items_unique,
        r.funnel.in_window(),
        r.funnel.items_matched,
        r.funnel.items_relevant,
        r.funnel.items_selected
    );
    assert!(
        report.text.contains(&funnel_row),
        "funnel {funnel_row} not shown"
    );
    for s in &r.sources {
        assert!(report.text.contains(&s.name), "{} not shown", s.name);
    }

    let index = look_at(
        &chromium,
        &out.path().join("newsletters/lai_weekly/index.html"),
        "archive-375",
    );
    assert_fits_and_stays_home(&index, "index.html");
    assert!(index.text.contains("2026-11-23") && index.text.contains("2026-11-16"));

    // `vectora report --format html`, saved beside the archive as a reader would save it.
    let news = vectora_inbox::store::LocalDirStore::new(out.path().join("newsletters"));
    let reports = trends::load(&news, "lai_weekly", 8).await.unwrap();
    let page = trends::render_trends(
        &trends::trends("lai_weekly", &reports),
        trends::Format::Html,
    )
    .unwrap();
    let trends_file = out.path().join("newsletters/lai_weekly/trends.html");
    std::fs::write(&trends_file, page).unwrap();
    let seen = look_at(&chromium, &trends_file, "trends-375");
    assert_fits_and_stays_home(&seen, "trends.html");
    for r in &reports {
        assert!(seen.text.contains(&format!(
            "{}\t{}\t{}\t{}\t{}",
            r.run_date,
            r.status,
            r.funnel.items_analyzed,
            r.funnel.items_matched,
            r.funnel.items_selected
        )));
    }

    let newsletter = look_at(&chromium, &issue.join("newsletter.html"), "newsletter-375");
    assert_fits_and_stays_home(&newsletter, "newsletter.html");
    let first = &r
        .decisions
        .iter()
        .find(|d| d.decision == "selected")
        .unwrap()
        .title;
    assert!(
        newsletter.text.contains(first.as_str()),
        "{first} not shown"
    );
}

/// The e-mail's HTML part and the web newsletter at 600 px (a desktop mail client's reading
/// pane) and 375 px (a phone): no sideways scroll, nothing fetched, every selected item linked
/// to its source with its title as the link text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_email_and_the_newsletter_read_well_at_600_and_375_px() {
    let Some(chromium) = chromium() else { return };
    let out = tempfile::tempdir().unwrap();
    let mailer = std::sync::Arc::new(vectora_inbox::delivery::eml::EmlFile::new(
        std::sync::Arc::new(vectora_inbox::store::LocalDirStore::new(
            out.path().join("newsletters"),
        )),
    ));
    common::run_fixture_delivering(&fixtures(), out.path(), mailer, false)
        .await
        .unwrap();
    let issue = out.path().join("newsletters/lai_weekly/2026/11/23");
    let raw = std::fs::read(issue.join("newsletter.eml")).unwrap();
    let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let part = issue.join("email-part.html");
    std::fs::write(&part, message.body_html(0).unwrap().as_bytes()).unwrap();
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(issue.join("newsletter.json")).unwrap()).unwrap();
    let items: Vec<(String, String)> = doc["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["items"].as_array().unwrap().iter())
        .map(|i| {
            (
                i["title"].as_str().unwrap().to_string(),
                i["url"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(items.len(), 20);
    for (page, name) in [
        (&part, "email"),
        (&issue.join("newsletter.html"), "newsletter"),
    ] {
        for width in [600, 375] {
            let seen = look_at_width(&chromium, page, &format!("{name}-{width}"), width);
            assert_fits_at(&seen, &format!("{name} at {width} px"), width);
            for (title, url) in &items {
                let to_it = |want: &dyn Fn(&str) -> bool| {
                    seen.links
                        .iter()
                        .any(|(text, href)| href == url && want(text))
                };
                assert!(
                    to_it(&|t| t == title),
                    "{name} at {width} px: no link {title:?} → {url}"
                );
                assert!(
                    to_it(&|t| t.starts_with("Read on ")),
                    "{name} at {width} px: no \"Read on …\" link to {url}"
                );
            }
            assert!(
                seen.links
                    .iter()
                    .all(|(_, href)| href.starts_with("https://")
                        || href.starts_with("http://")
                        || href.starts_with("mailto:")),
                "{name}: a link that goes nowhere a reader expects: {:?}",
                seen.links
            );
        }
    }
}

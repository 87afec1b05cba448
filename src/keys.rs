//! Every object key the pipeline reads or writes, derived from client, run date and step, so a
//! step run twice writes the same objects (DESIGN.md, "Deterministic keys, idempotent steps").

use chrono::{Datelike, NaiveDate};

pub fn run_prefix(client_id: &str, run_date: NaiveDate) -> String {
    format!("runs/{client_id}/{run_date}")
}

/// What the last fetch of a source returned (validators and where its body is), so the next
/// run can ask "changed since?" (conditional GET). Per source and request (`fetch` is the
/// digest of what makes a fetch identical, see `steps::shared`), shared by every client that
/// asks the same.
pub fn source_state(source_id: &str, fetch: &str) -> String {
    format!("state/sources/{source_id}/{fetch}.json")
}

/// The folder of one shared fetch: source, request digest, run window
/// (`shared/fetches/{source_id}/{fetch}/{first day}_{end day}`). Every run whose fetch has
/// these three in common uses what the first one published here.
pub fn shared_fetch(source_id: &str, fetch: &str, window: (NaiveDate, NaiveDate)) -> String {
    format!(
        "shared/fetches/{source_id}/{fetch}/{}_{}",
        window.0, window.1
    )
}

/// The pointer that publishes a shared fetch: created once, never replaced.
pub fn shared_publication(shared: &str) -> String {
    format!("{shared}/published.json")
}

/// A file of one publisher's payload: `attempt` names the publishing run and the payload's
/// digest, so two executions publishing at once never write one object with different bytes.
pub fn shared_payload(shared: &str, attempt: &str, file: &str) -> String {
    format!("{shared}/{attempt}/{file}")
}

pub fn manifest(client_id: &str, run_date: NaiveDate) -> String {
    format!("{}/manifest.json", run_prefix(client_id, run_date))
}

pub fn raw(client_id: &str, run_date: NaiveDate, source_id: &str, ext: &str) -> String {
    format!("{}/raw/{source_id}.{ext}", run_prefix(client_id, run_date))
}

pub fn raw_meta(client_id: &str, run_date: NaiveDate, source_id: &str) -> String {
    format!(
        "{}/raw/{source_id}.meta.json",
        run_prefix(client_id, run_date)
    )
}

pub fn normalized(client_id: &str, run_date: NaiveDate, source_id: &str) -> String {
    format!(
        "{}/normalized/{source_id}.jsonl",
        run_prefix(client_id, run_date)
    )
}

pub fn matched(client_id: &str, run_date: NaiveDate) -> String {
    format!("{}/matched.jsonl", run_prefix(client_id, run_date))
}

/// Items `match` left out (undated, outside the window, naming nothing), with the reason.
pub fn excluded(client_id: &str, run_date: NaiveDate) -> String {
    format!("{}/excluded.jsonl", run_prefix(client_id, run_date))
}

pub fn selection(client_id: &str, run_date: NaiveDate) -> String {
    format!("{}/selection.json", run_prefix(client_id, run_date))
}

pub fn draft(client_id: &str, run_date: NaiveDate, section_id: &str) -> String {
    format!(
        "{}/drafts/{section_id}.json",
        run_prefix(client_id, run_date)
    )
}

/// The model calls made for a section in the current execution (the attempts ledger), emptied
/// when the section's draft is written.
pub fn attempts(client_id: &str, run_date: NaiveDate, section_id: &str) -> String {
    format!(
        "{}/attempts/{section_id}.json",
        run_prefix(client_id, run_date)
    )
}

/// Folder of one newsletter in the newsletters area: `{client_id}/{yyyy}/{mm}/{dd}/`.
pub fn newsletter_dir(client_id: &str, run_date: NaiveDate) -> String {
    format!(
        "{client_id}/{:04}/{:02}/{:02}",
        run_date.year(),
        run_date.month(),
        run_date.day()
    )
}

pub fn newsletter_file(client_id: &str, run_date: NaiveDate, file: &str) -> String {
    format!("{}/{file}", newsletter_dir(client_id, run_date))
}

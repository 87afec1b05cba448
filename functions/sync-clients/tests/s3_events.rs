//! Real S3 notification documents (tests/events/) through the function's handler logic, with
//! the fixture configuration and the memory schedule group.

use vectora_inbox::lambda::{S3Event, changed_config_keys, sync_clients_for_event};
use vectora_inbox::ports::ScheduleStore;
use vectora_inbox::schedules::memory::{MemoryAlerts, MemorySchedules};
use vectora_inbox::schedules::{ActionKind, SyncSettings, desired_schedule};
use vectora_inbox::store::{LocalDirStore, S3Location};

const BUCKET: &str = "s3://vectora-inbox-config-prod-123456789012";

fn event(name: &str) -> S3Event {
    let path = format!("{}/tests/events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fixtures() -> LocalDirStore {
    LocalDirStore::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures"))
}

fn settings() -> SyncSettings {
    SyncSettings::new(
        "vectora-inbox-prod".into(),
        "arn:aws:states:eu-west-3:123456789012:stateMachine:vectora-inbox-newsletter-prod".into(),
        "arn:aws:iam::123456789012:role/vectora-inbox-scheduler-prod".into(),
        true,
        Some("arn:aws:sns:eu-west-3:123456789012:vectora-inbox-alarms-prod".into()),
        "VectoraInbox".into(),
    )
}

/// A group holding a schedule for a client whose file is gone.
async fn group_with_gone_client() -> MemorySchedules {
    let schedules = MemorySchedules::default();
    let bundle = vectora_inbox::config::load_client(&fixtures(), "lai_weekly")
        .await
        .unwrap();
    let mut gone = desired_schedule(&bundle, &settings().deployment);
    gone.name = "gone_client".into();
    schedules.create(&gone).await.unwrap();
    schedules
}

#[tokio::test]
async fn a_put_client_file_creates_its_schedule_and_the_same_event_twice_changes_nothing() {
    let location = S3Location::parse(BUCKET).unwrap();
    let (schedules, alerts) = (MemorySchedules::default(), MemoryAlerts::default());
    let (put, config, settings) = (event("put.json"), fixtures(), settings());
    let run = || sync_clients_for_event(&put, &location, &config, &settings, &schedules, &alerts);
    let first = run().await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(
        (first[0].client_id.as_str(), first[0].action),
        ("lai_weekly", ActionKind::Create)
    );
    assert_eq!(alerts.alarms(), ["lai_weekly"]);
    let writes = schedules.writes();
    let second = run().await.unwrap();
    assert_eq!(second[0].action, ActionKind::Unchanged);
    assert_eq!(schedules.writes(), writes);
}

#[tokio::test]
async fn a_deleted_client_file_deletes_its_schedule() {
    let location = S3Location::parse(BUCKET).unwrap();
    let (schedules, alerts) = (group_with_gone_client().await, MemoryAlerts::default());
    let actions = sync_clients_for_event(
        &event("delete.json"),
        &location,
        &fixtures(),
        &settings(),
        &schedules,
        &alerts,
    )
    .await
    .unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].action, ActionKind::Delete);
    assert!(schedules.snapshot().is_empty());
}

#[test]
fn encoded_keys_are_decoded_and_read_below_the_store_prefix() {
    let location = S3Location::parse("s3://vectora-team-configs/team configs").unwrap();
    assert_eq!(
        changed_config_keys(&event("encoded_keys.json"), &location),
        ["scopes/lai_companies.yaml"]
    );
}

#[tokio::test]
async fn a_scope_change_concerns_the_clients_that_refer_to_it() {
    let location = S3Location::parse("s3://vectora-team-configs/team configs").unwrap();
    let (schedules, alerts) = (MemorySchedules::default(), MemoryAlerts::default());
    let actions = sync_clients_for_event(
        &event("encoded_keys.json"),
        &location,
        &fixtures(),
        &settings(),
        &schedules,
        &alerts,
    )
    .await
    .unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].client_id, "lai_weekly");
}

#[tokio::test]
async fn several_records_are_handled_and_foreign_buckets_and_other_events_ignored() {
    let location = S3Location::parse(BUCKET).unwrap();
    let several = event("several_records.json");
    assert_eq!(
        changed_config_keys(&several, &location),
        ["scoring/lai_scoring.yaml", "clients/gone_client.yaml"]
    );
    let (schedules, alerts) = (group_with_gone_client().await, MemoryAlerts::default());
    let actions = sync_clients_for_event(
        &several,
        &location,
        &fixtures(),
        &settings(),
        &schedules,
        &alerts,
    )
    .await
    .unwrap();
    let kinds: Vec<_> = actions
        .iter()
        .map(|a| (a.client_id.as_str(), a.action))
        .collect();
    assert_eq!(
        kinds,
        [
            ("gone_client", ActionKind::Delete),
            ("lai_weekly", ActionKind::Create)
        ]
    );
}

#[tokio::test]
async fn a_file_named_as_no_client_can_be_is_rejected_aloud_not_ignored() {
    use vectora_inbox::ports::ObjectStore;
    let config = vectora_inbox::store::MemoryStore::new();
    let fixtures = fixtures();
    for key in fixtures.list("").await.unwrap() {
        let bytes = fixtures.get(&key).await.unwrap().unwrap();
        config.put(&key, bytes, "x").await.unwrap();
    }
    let text = fixtures
        .get("clients/lai_weekly.yaml")
        .await
        .unwrap()
        .unwrap();
    config
        .put("clients/LAI-Weekly.yaml", text, "x")
        .await
        .unwrap();
    let location = S3Location::parse(BUCKET).unwrap();
    let (schedules, alerts) = (MemorySchedules::default(), MemoryAlerts::default());
    let actions = sync_clients_for_event(
        &event("put_bad_name.json"),
        &location,
        &config,
        &settings(),
        &schedules,
        &alerts,
    )
    .await
    .unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].action, ActionKind::Rejected);
    let rejected = alerts.rejections();
    assert_eq!(rejected.len(), 1, "the operator is told");
    assert!(
        rejected[0].message.contains("not a valid id"),
        "{:?}",
        rejected[0]
    );
    assert!(schedules.snapshot().is_empty());
}

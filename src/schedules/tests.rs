//! The planner and the sync against the memory adapters, on client bundles made from the
//! lai_weekly fixture.

use super::memory::{MemoryAlerts, MemorySchedules};
use super::*;
use crate::ports::ObjectStore;
use crate::store::LocalDirStore;
use crate::store::MemoryStore;

fn deployment() -> Deployment {
    Deployment {
        state_machine_arn: "arn:aws:states:eu-west-3:123456789012:stateMachine:vectora-inbox-prod"
            .into(),
        scheduler_role_arn: "arn:aws:iam::123456789012:role/vectora-inbox-scheduler-prod".into(),
        schedules_enabled: true,
        alarms: true,
    }
}

/// The fixture configuration, with lai_weekly copied as `ids` (the original removed).
async fn config_with(ids: &[&str]) -> MemoryStore {
    let src = LocalDirStore::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"));
    let store = MemoryStore::new();
    let client =
        String::from_utf8(src.get("clients/lai_weekly.yaml").await.unwrap().unwrap()).unwrap();
    for k in src.list("").await.unwrap() {
        if k.starts_with("clients/") || k.starts_with("sources/") && k != config::CATALOG_KEY {
            continue;
        }
        let bytes = src.get(&k).await.unwrap().unwrap();
        store.put(&k, bytes, "x").await.unwrap();
    }
    for id in ids {
        put_client(
            &store,
            id,
            &client.replace("client_id: lai_weekly", &format!("client_id: {id}")),
        )
        .await;
    }
    store
}

async fn put_client(store: &MemoryStore, id: &str, text: &str) {
    store
        .put(&config::client_key(id), text.as_bytes().to_vec(), "x")
        .await
        .unwrap();
}

async fn client_text(store: &MemoryStore, id: &str) -> String {
    String::from_utf8(store.get(&config::client_key(id)).await.unwrap().unwrap()).unwrap()
}

fn kinds(actions: &[Action]) -> Vec<(String, ActionKind)> {
    actions
        .iter()
        .map(|a| (a.client_id.clone(), a.action))
        .collect()
}

#[tokio::test]
async fn the_second_sync_changes_nothing() {
    let config = config_with(&["alpha", "beta"]).await;
    let (schedules, alerts) = (MemorySchedules::default(), MemoryAlerts::default());
    let first = sync(
        &config,
        &Scope::All,
        &deployment(),
        &schedules,
        &alerts,
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        kinds(&first),
        [
            ("alpha".into(), ActionKind::Create),
            ("beta".into(), ActionKind::Create)
        ]
    );
    let alpha = &schedules.snapshot()["alpha"];
    assert_eq!(alpha.input, r#"{"client_id":"alpha","period_days":7}"#);
    assert_eq!(alpha.expression, "cron(0 8 ? * MON *)");
    assert_eq!(alpha.timezone, "Europe/Paris");
    assert!(alpha.enabled);
    assert_eq!(alerts.alarms(), ["alpha", "beta"]);
    let writes = schedules.writes();

    let second = sync(
        &config,
        &Scope::All,
        &deployment(),
        &schedules,
        &alerts,
        false,
    )
    .await
    .unwrap();
    assert!(
        second.iter().all(|a| a.action == ActionKind::Unchanged),
        "{second:?}"
    );
    assert_eq!(schedules.writes(), writes);
}

#[tokio::test]
async fn an_alarm_topic_configured_later_gives_unchanged_schedules_their_alarms() {
    let config = config_with(&["alpha", "beta"]).await;
    let (schedules, alerts) = (MemorySchedules::default(), MemoryAlerts::default());
    let without = Deployment {
        alarms: false,
        ..deployment()
    };
    sync(&config, &Scope::All, &without, &schedules, &alerts, false)
        .await
        .unwrap();
    assert!(alerts.alarms().is_empty());
    let writes = schedules.writes();

    // Dry run: the plan says so and nothing is made.
    let planned = sync(
        &config,
        &Scope::All,
        &deployment(),
        &schedules,
        &alerts,
        true,
    )
    .await
    .unwrap();
    assert_eq!(
        kinds(&planned),
        [
            ("alpha".into(), ActionKind::Update),
            ("beta".into(), ActionKind::Update)
        ]
    );
    assert!(
        planned[0].reason.contains("alarm is missing"),
        "{planned:?}"
    );
    assert!(alerts.alarms().is_empty());

    sync(
        &config,
        &Scope::All,
        &deployment(),
        &schedules,
        &alerts,
        false,
    )
    .await
    .unwrap();
    assert_eq!(alerts.alarms(), ["alpha", "beta"]);
    assert_eq!(
        schedules.writes(),
        writes,
        "the schedules were not rewritten"
    );
    let again = sync(
        &config,
        &Scope::All,
        &deployment(),
        &schedules,
        &alerts,
        false,
    )
    .await
    .unwrap();
    assert!(
        again.iter().all(|a| a.action == ActionKind::Unchanged),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_changed_schedule_is_updated_and_a_paused_client_loses_its_alarm() {
    let config = config_with(&["alpha"]).await;
    let (schedules, alerts) = (MemorySchedules::default(), MemoryAlerts::default());
    sync(
        &config,
        &Scope::All,
        &deployment(),
        &schedules,
        &alerts,
        false,
    )
    .await
    .unwrap();
    let text = client_text(&config, "alpha").await.replace(
        "timezone: Europe/Paris",
        "timezone: UTC\n  enabled: false\n  flexible_window_minutes: 30",
    );
    put_client(&config, "alpha", &text).await;
    let actions = sync(
        &config,
        &Scope::All,
        &deployment(),
        &schedules,
        &alerts,
        false,
    )
    .await
    .unwrap();
    assert_eq!(actions[0].action, ActionKind::Update);
    assert_eq!(
        actions[0].reason,
        "differs in timezone, flexible_window_minutes, state"
    );
    let alpha = &schedules.snapshot()["alpha"];
    assert!(!alpha.enabled);
    assert_eq!(alpha.flexible_window_minutes, Some(30));
    assert!(alerts.alarms().is_empty());
}

#[tokio::test]
async fn a_rejected_file_leaves_the_working_schedule_unchanged() {
    let config = config_with(&["alpha"]).await;
    let (schedules, alerts) = (MemorySchedules::default(), MemoryAlerts::default());
    sync(
        &config,
        &Scope::All,
        &deployment(),
        &schedules,
        &alerts,
        false,
    )
    .await
    .unwrap();
    let before = schedules.snapshot();
    let text = client_text(&config, "alpha")
        .await
        .replace("cron(0 8 ? * MON *)", "0 8 * * 1");
    put_client(&config, "alpha", &text).await;

    let actions = sync(
        &config,
        &Scope::All,
        &deployment(),
        &schedules,
        &alerts,
        false,
    )
    .await
    .unwrap();
    assert_eq!(actions[0].action, ActionKind::Rejected);
    assert!(
        actions[0]
            .reason
            .ends_with("(the current schedule is kept)"),
        "{}",
        actions[0].reason
    );
    assert_eq!(schedules.snapshot(), before);
    assert_eq!(alerts.alarms(), ["alpha"]);
    let rejected = alerts.rejections();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].file, "memory:clients/alpha.yaml");
    assert_eq!(rejected[0].key_path, "schedule.cron");
    // A semantic error has no parser location: the line is the key's own.
    let cron_line = text
        .lines()
        .position(|l| l.trim_start().starts_with("cron:"))
        .unwrap() as u32
        + 1;
    assert_eq!(rejected[0].line, Some(cron_line), "{:?}", rejected[0]);
    assert!(
        rejected[0].message.contains("expected cron("),
        "{}",
        rejected[0].message
    );
}

#[tokio::test]
async fn a_yaml_error_is_reported_with_its_line() {
    let config = config_with(&["alpha"]).await;
    put_client(&config, "alpha", "client_id: alpha\nname: [unclosed\n").await;
    let (schedules, alerts) = (MemorySchedules::default(), MemoryAlerts::default());
    let actions = sync(
        &config,
        &Scope::All,
        &deployment(),
        &schedules,
        &alerts,
        false,
    )
    .await
    .unwrap();
    assert_eq!(actions[0].action, ActionKind::Rejected);
    assert!(schedules.snapshot().is_empty());
    let r = &alerts.rejections()[0];
    assert!(r.line.is_some(), "{r:?}");
}

#[tokio::test]
async fn a_removed_file_deletes_the_schedule_and_its_alarm() {
    let config = config_with(&["alpha", "beta"]).await;
    let (schedules, alerts) = (MemorySchedules::default(), MemoryAlerts::default());
    sync(
        &config,
        &Scope::All,
        &deployment(),
        &schedules,
        &alerts,
        false,
    )
    .await
    .unwrap();
    let config = config_with(&["alpha"]).await;
    let actions = sync(
        &config,
        &Scope::All,
        &deployment(),
        &schedules,
        &alerts,
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        kinds(&actions),
        [
            ("alpha".into(), ActionKind::Unchanged),
            ("beta".into(), ActionKind::Delete)
        ]
    );
    assert_eq!(schedules.list().await.unwrap(), ["alpha"]);
    assert_eq!(alerts.alarms(), ["alpha"]);
}

#[tokio::test]
async fn a_partial_sync_touches_only_the_clients_it_names() {
    let config = config_with(&["alpha", "beta"]).await;
    let (schedules, alerts) = (MemorySchedules::default(), MemoryAlerts::default());
    let only_alpha = Scope::Clients(["alpha".to_string()].into());
    let actions = sync(
        &config,
        &only_alpha,
        &deployment(),
        &schedules,
        &alerts,
        false,
    )
    .await
    .unwrap();
    assert_eq!(kinds(&actions), [("alpha".into(), ActionKind::Create)]);
    assert_eq!(schedules.list().await.unwrap(), ["alpha"]);
}

#[tokio::test]
async fn outside_prod_schedules_are_created_disabled_without_alarms() {
    let config = config_with(&["alpha"]).await;
    let (schedules, alerts) = (MemorySchedules::default(), MemoryAlerts::default());
    let dev = Deployment {
        schedules_enabled: false,
        ..deployment()
    };
    sync(&config, &Scope::All, &dev, &schedules, &alerts, false)
        .await
        .unwrap();
    assert!(!schedules.snapshot()["alpha"].enabled);
    assert!(alerts.alarms().is_empty());
}

#[tokio::test]
async fn a_dry_run_writes_nothing() {
    let config = config_with(&["alpha"]).await;
    let (schedules, alerts) = (MemorySchedules::default(), MemoryAlerts::default());
    let actions = sync(
        &config,
        &Scope::All,
        &deployment(),
        &schedules,
        &alerts,
        true,
    )
    .await
    .unwrap();
    assert_eq!(actions[0].action, ActionKind::Create);
    assert_eq!(schedules.writes(), 0);
}

#[tokio::test]
async fn a_shared_file_concerns_the_clients_that_refer_to_it() {
    let config = config_with(&["alpha", "beta"]).await;
    let text = client_text(&config, "beta").await;
    let scoring = text
        .lines()
        .find_map(|l| l.strip_prefix("scoring: "))
        .unwrap()
        .to_string();
    put_client(
        &config,
        "beta",
        &text.replace(&format!("scoring: {scoring}"), "scoring: other"),
    )
    .await;
    let ids = events::concerned_clients(&config, &[config::scoring_key(&scoring)])
        .await
        .unwrap();
    assert_eq!(ids.into_iter().collect::<Vec<_>>(), ["alpha"]);
    let ids = events::concerned_clients(&config, &[config::CATALOG_KEY.to_string()])
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);
    let ids = events::concerned_clients(&config, &["clients/gamma.yaml".to_string()])
        .await
        .unwrap();
    assert_eq!(ids.into_iter().collect::<Vec<_>>(), ["gamma"]);
}

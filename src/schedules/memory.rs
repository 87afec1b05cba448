//! A schedule group and an alerts sink held in memory: the adapters of `--dry-run`'s plan,
//! of the planner's tests and of anyone running the sync without AWS. They behave as the
//! services do where the sync depends on it (create of an existing name and update or delete
//! of a missing one fail; deleting a missing alarm succeeds).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::ports::schedules::{Alerts, Rejection, Schedule, ScheduleStore};

#[derive(Default)]
pub struct MemorySchedules {
    schedules: Mutex<BTreeMap<String, Schedule>>,
    writes: Mutex<usize>,
}

impl MemorySchedules {
    pub fn snapshot(&self) -> BTreeMap<String, Schedule> {
        self.schedules.lock().expect("schedules lock").clone()
    }

    /// Creates, updates and deletes done so far.
    pub fn writes(&self) -> usize {
        *self.writes.lock().expect("writes lock")
    }

    fn write<T>(&self, f: impl FnOnce(&mut BTreeMap<String, Schedule>) -> Result<T>) -> Result<T> {
        let out = f(&mut self.schedules.lock().expect("schedules lock"))?;
        *self.writes.lock().expect("writes lock") += 1;
        Ok(out)
    }
}

fn conflict(what: &str, name: &str) -> Error {
    Error::Internal(format!("schedule {name}: {what}"))
}

#[async_trait]
impl ScheduleStore for MemorySchedules {
    async fn list(&self) -> Result<Vec<String>> {
        Ok(self.snapshot().into_keys().collect())
    }

    async fn get(&self, name: &str) -> Result<Option<Schedule>> {
        Ok(self.snapshot().get(name).cloned())
    }

    async fn create(&self, schedule: &Schedule) -> Result<()> {
        self.write(|m| {
            if m.contains_key(&schedule.name) {
                return Err(conflict(
                    "already exists (ConflictException)",
                    &schedule.name,
                ));
            }
            m.insert(schedule.name.clone(), schedule.clone());
            Ok(())
        })
    }

    async fn update(&self, schedule: &Schedule) -> Result<()> {
        self.write(|m| match m.get_mut(&schedule.name) {
            Some(s) => {
                *s = schedule.clone();
                Ok(())
            }
            None => Err(conflict(
                "does not exist (ResourceNotFoundException)",
                &schedule.name,
            )),
        })
    }

    async fn delete(&self, name: &str) -> Result<()> {
        self.write(|m| {
            m.remove(name)
                .map(|_| ())
                .ok_or_else(|| conflict("does not exist (ResourceNotFoundException)", name))
        })
    }
}

/// Alarms by client, and every rejection reported.
#[derive(Default)]
pub struct MemoryAlerts {
    alarms: Mutex<BTreeSet<String>>,
    rejections: Mutex<Vec<Rejection>>,
}

impl MemoryAlerts {
    pub fn alarms(&self) -> Vec<String> {
        self.alarms
            .lock()
            .expect("alarms lock")
            .iter()
            .cloned()
            .collect()
    }

    pub fn rejections(&self) -> Vec<Rejection> {
        self.rejections.lock().expect("rejections lock").clone()
    }
}

#[async_trait]
impl Alerts for MemoryAlerts {
    async fn put_no_newsletter_alarm(&self, client_id: &str) -> Result<()> {
        self.alarms
            .lock()
            .expect("alarms lock")
            .insert(client_id.to_string());
        Ok(())
    }

    async fn delete_no_newsletter_alarm(&self, client_id: &str) -> Result<()> {
        self.alarms.lock().expect("alarms lock").remove(client_id);
        Ok(())
    }

    async fn no_newsletter_alarms(&self) -> Result<BTreeSet<String>> {
        Ok(self
            .alarms
            .lock()
            .expect("alarms lock")
            .iter()
            .cloned()
            .collect())
    }

    async fn config_rejected(&self, rejection: &Rejection) -> Result<()> {
        self.rejections
            .lock()
            .expect("rejections lock")
            .push(rejection.clone());
        Ok(())
    }
}

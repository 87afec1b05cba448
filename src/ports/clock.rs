//! The clock port: "now" and "sleep", so retries and timings run on a virtual clock in tests.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Time as the pipeline sees it. Steps read `now` only for timings and defaults (a run date);
/// the ASL runner sleeps through it between retries, so a test can count backoff without waiting.
#[async_trait]
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    async fn sleep(&self, duration: Duration);
}

/// The wall clock and tokio's timer.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// A clock that only moves when slept on: `sleep` returns at once, advances `now` and records
/// the duration, so tests can assert the exact backoff schedule of a retry policy.
#[derive(Debug)]
pub struct VirtualClock {
    state: Mutex<VirtualState>,
}

#[derive(Debug)]
struct VirtualState {
    now: DateTime<Utc>,
    sleeps: Vec<Duration>,
}

impl VirtualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        VirtualClock {
            state: Mutex::new(VirtualState {
                now: start,
                sleeps: Vec::new(),
            }),
        }
    }

    /// Every duration slept so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.state.lock().expect("clock lock").sleeps.clone()
    }
}

#[async_trait]
impl Clock for VirtualClock {
    fn now(&self) -> DateTime<Utc> {
        self.state.lock().expect("clock lock").now
    }

    async fn sleep(&self, duration: Duration) {
        {
            let mut state = self.state.lock().expect("clock lock");
            state.now += chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX);
            state.sleeps.push(duration);
        }
        // Let other tasks run, as a real sleep would.
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[tokio::test]
    async fn virtual_clock_records_sleeps_and_advances() {
        let start = Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap();
        let clock = VirtualClock::new(start);
        clock.sleep(Duration::from_secs(2)).await;
        clock.sleep(Duration::from_millis(500)).await;
        assert_eq!(
            clock.sleeps(),
            vec![Duration::from_secs(2), Duration::from_millis(500)]
        );
        assert_eq!(clock.now(), start + chrono::Duration::milliseconds(2500));
    }
}

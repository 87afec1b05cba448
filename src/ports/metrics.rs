//! The metrics port, with an in-memory sink (CLI and tests); the CloudWatch sink the assemble
//! Lambda uses lives with the other AWS adapters (`aws::cloudwatch`).

use std::sync::Mutex;

use async_trait::async_trait;
use serde::Serialize;

use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Unit {
    Count,
    Milliseconds,
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metric {
    pub name: &'static str,
    pub value: f64,
    pub unit: Unit,
}

impl Metric {
    pub fn count(name: &'static str, value: impl Into<f64>) -> Self {
        Metric {
            name,
            value: value.into(),
            unit: Unit::Count,
        }
    }
}

/// Where a run's figures go.
#[async_trait]
pub trait MetricsSink: Send + Sync {
    async fn publish(&self, client_id: &str, metrics: &[Metric]) -> Result<()>;
}

/// Keeps what was published, for the CLI's summary and for tests.
#[derive(Debug, Default)]
pub struct MemoryMetrics {
    published: Mutex<Vec<(String, Vec<Metric>)>>,
}

impl MemoryMetrics {
    pub fn published(&self) -> Vec<(String, Vec<Metric>)> {
        self.published.lock().expect("metrics lock").clone()
    }
}

#[async_trait]
impl MetricsSink for MemoryMetrics {
    async fn publish(&self, client_id: &str, metrics: &[Metric]) -> Result<()> {
        self.published
            .lock()
            .expect("metrics lock")
            .push((client_id.to_string(), metrics.to_vec()));
        Ok(())
    }
}

//! The metrics port, with an in-memory sink (CLI and tests) and an Embedded Metric Format sink
//! (Lambda: a JSON line on stdout becomes CloudWatch metrics with no API call).

use std::io::Write;
use std::sync::Mutex;

use async_trait::async_trait;
use serde::Serialize;

use crate::error::{Error, Result};

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

/// CloudWatch Embedded Metric Format, written as one JSON line to a writer (stdout in Lambda).
pub struct EmfMetrics<W: Write + Send> {
    namespace: String,
    out: Mutex<W>,
    clock: std::sync::Arc<dyn crate::ports::Clock>,
}

impl<W: Write + Send> EmfMetrics<W> {
    pub fn new(
        namespace: impl Into<String>,
        out: W,
        clock: std::sync::Arc<dyn crate::ports::Clock>,
    ) -> Self {
        EmfMetrics {
            namespace: namespace.into(),
            out: Mutex::new(out),
            clock,
        }
    }

    /// The EMF document for one publication.
    pub fn document(&self, client_id: &str, metrics: &[Metric]) -> serde_json::Value {
        let mut doc = serde_json::Map::new();
        let definitions: Vec<_> = metrics
            .iter()
            .map(|m| serde_json::json!({"Name": m.name, "Unit": m.unit}))
            .collect();
        doc.insert(
            "_aws".into(),
            serde_json::json!({
                "Timestamp": self.clock.now().timestamp_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [["ClientId"]],
                    "Metrics": definitions,
                }],
            }),
        );
        doc.insert("ClientId".into(), client_id.into());
        for m in metrics {
            doc.insert(m.name.into(), m.value.into());
        }
        serde_json::Value::Object(doc)
    }
}

#[async_trait]
impl<W: Write + Send> MetricsSink for EmfMetrics<W> {
    async fn publish(&self, client_id: &str, metrics: &[Metric]) -> Result<()> {
        let line = self.document(client_id, metrics).to_string();
        let mut out = self.out.lock().expect("metrics lock");
        writeln!(out, "{line}")
            .and_then(|_| out.flush())
            .map_err(|e| Error::Internal(format!("writing metrics: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::VirtualClock;
    use chrono::TimeZone;

    #[tokio::test]
    async fn emf_line_declares_every_metric_under_the_client_dimension() {
        let clock = std::sync::Arc::new(VirtualClock::new(
            chrono::Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap(),
        ));
        let sink = EmfMetrics::new("VectoraInbox", Vec::new(), clock);
        sink.publish(
            "lai_weekly",
            &[
                Metric::count("ItemsAnalyzed", 42),
                Metric::count("SourcesFailed", 1),
            ],
        )
        .await
        .unwrap();
        let written = String::from_utf8(sink.out.into_inner().unwrap()).unwrap();
        let doc: serde_json::Value = serde_json::from_str(written.trim()).unwrap();
        assert_eq!(doc["ClientId"], "lai_weekly");
        assert_eq!(doc["ItemsAnalyzed"], 42.0);
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "VectoraInbox"
        );
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Metrics"][1]["Name"],
            "SourcesFailed"
        );
        assert_eq!(doc["_aws"]["Timestamp"], 1_795_420_800_000i64);
    }
}

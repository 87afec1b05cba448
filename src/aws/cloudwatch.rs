//! The CloudWatch metrics sink: a run's figures as one `PutMetricData` call under the
//! deployment's namespace, dimension `ClientId`. The alarms and the dashboard of
//! `infra/template.yaml` read these names.

use async_trait::async_trait;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};

use crate::aws::Failure;
use crate::error::{Error, Result};
use crate::ports::Clock;
use crate::ports::metrics::{Metric, MetricsSink, Unit};

/// Where the run's figures go unless `VECTORA_METRICS_NAMESPACE` says otherwise.
pub const DEFAULT_NAMESPACE: &str = "VectoraInbox";

/// CloudWatch takes at most 1000 values per request.
const MAX_DATA_PER_REQUEST: usize = 1000;

pub struct CloudWatchMetrics {
    client: Client,
    namespace: String,
    clock: std::sync::Arc<dyn Clock>,
}

impl CloudWatchMetrics {
    pub fn new(
        client: Client,
        namespace: impl Into<String>,
        clock: std::sync::Arc<dyn Clock>,
    ) -> Self {
        CloudWatchMetrics {
            client,
            namespace: namespace.into(),
            clock,
        }
    }

    /// A client from the standard configuration chain (`AWS_ENDPOINT_URL_CLOUDWATCH` too).
    pub async fn client_from_env() -> Client {
        Client::new(&crate::aws::load_config().await)
    }
}

fn unit(unit: Unit) -> StandardUnit {
    match unit {
        Unit::Count => StandardUnit::Count,
        Unit::Milliseconds => StandardUnit::Milliseconds,
        Unit::None => StandardUnit::None,
    }
}

#[async_trait]
impl MetricsSink for CloudWatchMetrics {
    async fn publish(&self, client_id: &str, metrics: &[Metric]) -> Result<()> {
        let now = self.clock.now();
        let timestamp = DateTime::from_millis(now.timestamp_millis());
        let dimension = Dimension::builder()
            .name("ClientId")
            .value(client_id)
            .build();
        let data: Vec<MetricDatum> = metrics
            .iter()
            .map(|m| {
                MetricDatum::builder()
                    .metric_name(m.name)
                    .value(m.value)
                    .unit(unit(m.unit))
                    .timestamp(timestamp)
                    .dimensions(dimension.clone())
                    .build()
            })
            .collect();
        for chunk in data.chunks(MAX_DATA_PER_REQUEST) {
            self.client
                .put_metric_data()
                .namespace(&self.namespace)
                .set_metric_data(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| -> Error {
                    Failure::of(&e).into_error(
                        &format!("CloudWatch PutMetricData {} ({client_id})", self.namespace),
                        "",
                    )
                })?;
        }
        Ok(())
    }
}

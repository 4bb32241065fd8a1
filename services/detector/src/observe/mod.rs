//! What the detector tells the outside about itself while it runs:
//! Prometheus metrics ([`metrics`]), counted as committed work
//! ([`ledger`]), readiness ([`health`]), and the HTTP endpoint that serves
//! both ([`server`]).
//!
//! Everything here but the server is plain synchronous state behind
//! atomics or a short mutex, updated by the Kafka shell (its event loop,
//! its rebalance callbacks and librdkafka's statistics callbacks) and read
//! by the server's tasks.

pub mod health;
pub mod ledger;
pub mod metrics;
pub mod server;

use std::sync::Arc;

/// The metrics and the health state that every part of the shell reports
/// to; cloning shares them.
#[derive(Clone, Default)]
pub struct Instruments {
    pub metrics: Arc<metrics::Metrics>,
    pub health: Arc<health::Health>,
}

impl Instruments {
    /// Fresh metrics at zero and a not-ready health state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Partitions left the assignment: they no longer count for readiness
    /// and their lag series go away.
    pub fn revoked(&self, partitions: &[(String, i32)]) {
        self.health.revoked(partitions);
        for (topic, partition) in partitions {
            self.metrics.consumer_lag.remove(&metrics::PartitionLabels {
                topic: topic.clone(),
                partition: *partition,
            });
        }
    }
}

//! Every metric `nvm-detector run` exports, named in this one place.
//!
//! Counters are registered without their `_total` suffix: the Prometheus
//! text encoder of `prometheus-client` appends it, so
//! [`RECORDS_CONSUMED`] is scraped as `nvm_records_consumed_total`.
//!
//! Counters of records, matches, alerts and windows count committed work:
//! they move when the transaction (or, at-least-once, the offset commit)
//! that made the work durable succeeds, so an aborted transaction's work is
//! counted once, when it is redone (see [`super::ledger`]). Transaction,
//! restore and librdkafka figures count attempts as they happen.
//!
//! [`END_TO_END_LATENCY`] runs from a record's Kafka timestamp (producer
//! create time, unless the topic sets log-append time) to the commit that
//! made its outputs and offset durable, for every record the windowing
//! stage consumes; it includes the time the record waited in Kafka. With a
//! repartition stage it starts at the repartitioned copy's timestamp.

use super::health::HealthSnapshot;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

pub const RECORDS_CONSUMED: &str = "nvm_records_consumed";
pub const RECORDS_DECODED: &str = "nvm_records_decoded";
pub const RECORDS_DEAD_LETTERED: &str = "nvm_records_dead_lettered";
pub const RECORDS_LATE: &str = "nvm_records_late";
pub const RULE_MATCHES: &str = "nvm_rule_matches";
pub const MATCHES_MISSING_BY_FIELD: &str = "nvm_rule_matches_missing_by_field";
pub const ALERTS_PUBLISHED: &str = "nvm_alerts_published";
pub const WINDOWS_CLOSED: &str = "nvm_windows_closed";
pub const GROUPS_OPEN: &str = "nvm_groups_open";
pub const TRANSACTIONS_COMMITTED: &str = "nvm_transactions_committed";
pub const TRANSACTIONS_ABORTED: &str = "nvm_transactions_aborted";
pub const COMMIT_DURATION: &str = "nvm_commit_duration_seconds";
pub const END_TO_END_LATENCY: &str = "nvm_end_to_end_latency_seconds";
pub const RESTORE_DURATION: &str = "nvm_restore_duration_seconds";
pub const RESTORE_RECORDS: &str = "nvm_restore_records";
pub const PARTITIONS_ASSIGNED: &str = "nvm_partitions_assigned";
pub const PARTITIONS_RESTORING: &str = "nvm_partitions_restoring";
pub const READY: &str = "nvm_ready";
pub const CONSUMER_LAG: &str = "nvm_consumer_lag_records";
pub const BROKER_UP: &str = "nvm_kafka_broker_up";
pub const BROKER_RTT: &str = "nvm_kafka_broker_rtt_seconds";
pub const PRODUCER_QUEUE_MESSAGES: &str = "nvm_kafka_producer_queue_messages";
pub const PRODUCER_QUEUE_BYTES: &str = "nvm_kafka_producer_queue_bytes";

/// A record source topic (input or repartition topic: at most two values).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TopicLabel {
    pub topic: String,
}

/// A dead-letter reason: a `DecodeError` code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: &'static str,
}

/// A detection rule, by its id (bounded by the rule set).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RuleLabel {
    pub rule_id: String,
}

/// An alert status: `new`, `update` or `final`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabel {
    pub status: &'static str,
}

/// An assigned input partition (bounded by the assignment).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartitionLabels {
    pub topic: String,
    pub partition: i32,
}

/// A broker as one of the detector's clients sees it (bounded by the
/// cluster's size).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BrokerLabels {
    pub client: &'static str,
    pub broker: String,
}

/// Handles to every exported metric, and the registry that encodes them.
pub struct Metrics {
    registry: Registry,
    pub records_consumed: Family<TopicLabel, Counter>,
    pub records_decoded: Counter,
    pub records_dead_lettered: Family<ReasonLabel, Counter>,
    pub records_late: Counter,
    pub rule_matches: Family<RuleLabel, Counter>,
    pub matches_missing_by_field: Counter,
    pub alerts_published: Family<StatusLabel, Counter>,
    pub windows_closed: Counter,
    pub groups_open: Gauge,
    pub transactions_committed: Counter,
    pub transactions_aborted: Counter,
    pub commit_duration: Histogram,
    pub end_to_end_latency: Histogram,
    pub restore_duration: Histogram,
    pub restore_records: Counter,
    pub partitions_assigned: Gauge,
    pub partitions_restoring: Gauge,
    pub ready: Gauge,
    pub consumer_lag: Family<PartitionLabels, Gauge>,
    pub broker_up: Family<BrokerLabels, Gauge>,
    pub broker_rtt: Family<BrokerLabels, Gauge<f64, AtomicU64>>,
    pub producer_queue_messages: Gauge,
    pub producer_queue_bytes: Gauge,
}

/// Commits take milliseconds to a few seconds (a slow broker, retries).
const COMMIT_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// From one commit interval (100 ms by default) up to an hour of backlog.
const LATENCY_BUCKETS: [f64; 16] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0,
];

/// A restore reads from nothing to millions of changelog records.
const RESTORE_BUCKETS: [f64; 10] = [0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0];

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric at zero, registered.
    pub fn new() -> Self {
        let mut metrics = Metrics {
            registry: Registry::default(),
            records_consumed: Family::default(),
            records_decoded: Counter::default(),
            records_dead_lettered: Family::default(),
            records_late: Counter::default(),
            rule_matches: Family::default(),
            matches_missing_by_field: Counter::default(),
            alerts_published: Family::default(),
            windows_closed: Counter::default(),
            groups_open: Gauge::default(),
            transactions_committed: Counter::default(),
            transactions_aborted: Counter::default(),
            commit_duration: Histogram::new(COMMIT_BUCKETS),
            end_to_end_latency: Histogram::new(LATENCY_BUCKETS),
            restore_duration: Histogram::new(RESTORE_BUCKETS),
            restore_records: Counter::default(),
            partitions_assigned: Gauge::default(),
            partitions_restoring: Gauge::default(),
            ready: Gauge::default(),
            consumer_lag: Family::default(),
            broker_up: Family::default(),
            broker_rtt: Family::default(),
            producer_queue_messages: Gauge::default(),
            producer_queue_bytes: Gauge::default(),
        };
        metrics.register_processing();
        metrics.register_durability();
        metrics.register_kafka();
        metrics
    }

    fn register_processing(&mut self) {
        let r = &mut self.registry;
        r.register(
            RECORDS_CONSUMED,
            "Records read from a source topic and committed as processed",
            self.records_consumed.clone(),
        );
        r.register(
            RECORDS_DECODED,
            "Records decoded into flow records by the windowing stage",
            self.records_decoded.clone(),
        );
        r.register(
            RECORDS_DEAD_LETTERED,
            "Records written to the dead-letter topic, by decode error code",
            self.records_dead_lettered.clone(),
        );
        r.register(
            RECORDS_LATE,
            "Records routed to the late topic because their window had closed",
            self.records_late.clone(),
        );
        r.register(
            RULE_MATCHES,
            "Records that matched a rule's search, by rule id",
            self.rule_matches.clone(),
        );
        r.register(
            MATCHES_MISSING_BY_FIELD,
            "Rule matches dropped because a BY field of the rule was missing",
            self.matches_missing_by_field.clone(),
        );
        r.register(
            ALERTS_PUBLISHED,
            "Alerts published, by status (new, update, final)",
            self.alerts_published.clone(),
        );
        r.register(
            WINDOWS_CLOSED,
            "Group windows closed (one per rule, BY key and window)",
            self.windows_closed.clone(),
        );
        r.register(
            GROUPS_OPEN,
            "Groups in open windows over the assigned partitions, as of the last commit",
            self.groups_open.clone(),
        );
        r.register(
            END_TO_END_LATENCY,
            "Time from a record's Kafka timestamp to the commit of its processing",
            self.end_to_end_latency.clone(),
        );
    }

    fn register_durability(&mut self) {
        let r = &mut self.registry;
        r.register(
            TRANSACTIONS_COMMITTED,
            "Transactions committed (at-least-once: offset commits after a flush)",
            self.transactions_committed.clone(),
        );
        r.register(
            TRANSACTIONS_ABORTED,
            "Transactions aborted; their work is redone from the last commit",
            self.transactions_aborted.clone(),
        );
        r.register(
            COMMIT_DURATION,
            "Time to commit or abort one batch of outputs, state and offsets",
            self.commit_duration.clone(),
        );
        r.register(
            RESTORE_DURATION,
            "Time to restore the window state of newly assigned partitions",
            self.restore_duration.clone(),
        );
        r.register(
            RESTORE_RECORDS,
            "Changelog records read while restoring window state",
            self.restore_records.clone(),
        );
        r.register(
            PARTITIONS_ASSIGNED,
            "Partitions assigned to this instance",
            self.partitions_assigned.clone(),
        );
        r.register(
            PARTITIONS_RESTORING,
            "Assigned partitions whose window state is being restored",
            self.partitions_restoring.clone(),
        );
        r.register(
            READY,
            "1 when /readyz answers 200, else 0",
            self.ready.clone(),
        );
    }

    fn register_kafka(&mut self) {
        let r = &mut self.registry;
        r.register(
            CONSUMER_LAG,
            "Records between the consumer's position and the end of an assigned partition",
            self.consumer_lag.clone(),
        );
        r.register(
            BROKER_UP,
            "1 while a client's connection to a broker is up, else 0",
            self.broker_up.clone(),
        );
        r.register(
            BROKER_RTT,
            "Average broker round-trip time over the last statistics interval; \
             a consumer's includes the time fetches wait for data on the broker",
            self.broker_rtt.clone(),
        );
        r.register(
            PRODUCER_QUEUE_MESSAGES,
            "Messages queued in the producer, not yet acknowledged",
            self.producer_queue_messages.clone(),
        );
        r.register(
            PRODUCER_QUEUE_BYTES,
            "Bytes of messages queued in the producer, not yet acknowledged",
            self.producer_queue_bytes.clone(),
        );
    }

    /// Copies the health state into its gauges (before each scrape).
    pub fn set_health(&self, health: &HealthSnapshot) {
        self.partitions_assigned.set(health.assigned as i64);
        self.partitions_restoring.set(health.restoring as i64);
        self.ready.set(i64::from(health.ready));
    }

    /// The Prometheus text format (version 0.0.4) of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::with_capacity(8 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry);
        text
    }
}

/// The `Content-Type` of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_exported_with_the_total_suffix_and_labels() {
        let metrics = Metrics::new();
        metrics
            .records_dead_lettered
            .get_or_create(&ReasonLabel { reason: "bad_json" })
            .inc();
        let text = metrics.encode();
        assert!(
            text.contains("nvm_records_dead_lettered_total{reason=\"bad_json\"} 1"),
            "{text}"
        );
        assert!(text.contains("# TYPE nvm_end_to_end_latency_seconds histogram"));
        assert!(text.contains("nvm_groups_open 0"), "{text}");
    }
}

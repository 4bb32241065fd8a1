//! librdkafka's statistics (`statistics.interval.ms`), turned into metrics
//! and into the broker-connection part of readiness.
//!
//! The consumer reports the lag of each assigned partition and its broker
//! connections; the producer reports its queue and its broker connections.
//! Lag series exist only for assigned partitions, so their number is
//! bounded by the assignment.

use crate::observe::metrics::{BrokerLabels, PartitionLabels};
use crate::observe::Instruments;
use rdkafka::error::KafkaError;
use rdkafka::statistics::{Broker, Partition, Statistics};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientConfig;

/// Which of the detector's clients reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Consumer,
    Producer,
}

impl Role {
    fn label(self) -> &'static str {
        match self {
            Role::Consumer => "consumer",
            Role::Producer => "producer",
        }
    }
}

/// One client's statistics callback target.
#[derive(Clone)]
pub struct StatsReporter {
    role: Role,
    interval_ms: u64,
    instruments: Instruments,
}

impl StatsReporter {
    /// For the input consumer: lag, brokers, and readiness's broker check.
    pub fn consumer(instruments: &Instruments, interval_ms: u64) -> Self {
        StatsReporter {
            role: Role::Consumer,
            interval_ms,
            instruments: instruments.clone(),
        }
    }

    /// For the output producer: its queue and brokers.
    pub fn producer(instruments: &Instruments, interval_ms: u64) -> Self {
        StatsReporter {
            role: Role::Producer,
            interval_ms,
            instruments: instruments.clone(),
        }
    }

    /// Asks librdkafka for statistics (a pass-through property applied
    /// later still wins).
    pub fn configure(&self, config: &mut ClientConfig) {
        config.set("statistics.interval.ms", self.interval_ms.to_string());
    }

    /// Takes in one statistics report.
    pub fn record(&self, stats: &Statistics) {
        let up = self.record_brokers(stats);
        match self.role {
            Role::Consumer => {
                self.record_lag(stats);
                self.instruments.health.broker_connection(up);
            }
            Role::Producer => {
                let metrics = &self.instruments.metrics;
                metrics.producer_queue_messages.set(stats.msg_cnt as i64);
                metrics.producer_queue_bytes.set(stats.msg_size as i64);
            }
        }
    }

    /// Takes in a client error: all brokers down makes the consumer not
    /// ready until a report shows a connection again. Without statistics
    /// no report would, so the error is then left to the log alone.
    pub fn on_error(&self, error: &KafkaError) {
        let all_down = matches!(error, KafkaError::Global(RDKafkaErrorCode::AllBrokersDown));
        if all_down && self.role == Role::Consumer && self.interval_ms > 0 {
            self.instruments.health.broker_connection(false);
        }
    }

    /// Sets each real broker's up gauge and round-trip time; returns
    /// whether any connection is up. The bootstrap and coordinator entries
    /// (node id -1) stand for connections to the same brokers.
    fn record_brokers(&self, stats: &Statistics) -> bool {
        let metrics = &self.instruments.metrics;
        let mut any_up = false;
        for broker in stats.brokers.values().filter(|b| b.nodeid >= 0) {
            let labels = BrokerLabels {
                client: self.role.label(),
                broker: broker.name.clone(),
            };
            let up = broker.state == "UP";
            any_up |= up;
            metrics.broker_up.get_or_create(&labels).set(i64::from(up));
            if let Some(seconds) = average_rtt_seconds(broker) {
                metrics.broker_rtt.get_or_create(&labels).set(seconds);
            }
        }
        any_up
    }

    fn record_lag(&self, stats: &Statistics) {
        let health = &self.instruments.health;
        let metrics = &self.instruments.metrics;
        for (topic, t) in &stats.topics {
            for (partition, p) in &t.partitions {
                if !health.is_assigned(topic, *partition) {
                    continue;
                }
                let Some(lag) = lag(p) else {
                    continue;
                };
                let labels = PartitionLabels {
                    topic: topic.clone(),
                    partition: *partition,
                };
                metrics.consumer_lag.get_or_create(&labels).set(lag);
            }
        }
    }
}

/// The lag behind the last record handed to the detector (`stored`: the
/// committed offsets go through the producer's transactions, which the
/// consumer's own `consumer_lag` does not see); before any record was
/// handed over, behind the committed offset; with neither, the whole
/// partition is unread (the consumer starts at the earliest offset).
/// librdkafka writes -1 for what it does not know.
fn lag(p: &Partition) -> Option<i64> {
    let end = if p.ls_offset >= 0 {
        p.ls_offset
    } else {
        p.hi_offset
    };
    let unread = (end >= 0 && p.lo_offset >= 0).then(|| end - p.lo_offset);
    [p.consumer_lag_stored, p.consumer_lag]
        .into_iter()
        .find(|l| *l >= 0)
        .or(unread)
}

/// librdkafka reports microseconds; nothing measured means no figure.
fn average_rtt_seconds(broker: &Broker) -> Option<f64> {
    let rtt = broker.rtt.as_ref().filter(|w| w.cnt > 0)?;
    Some(rtt.avg as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A trimmed statistics report of a consumer with one broker and a
    /// topic of two partitions.
    fn report(state: &str, lag0: i64) -> Statistics {
        let json = serde_json::json!({
            "name": "c", "client_id": "c", "type": "consumer", "ts": 0, "time": 0,
            "age": 0, "replyq": 0, "msg_cnt": 3, "msg_size": 300, "msg_max": 0,
            "msg_size_max": 0, "simple_cnt": 0, "metadata_cache_cnt": 0,
            "tx": 0, "tx_bytes": 0, "rx": 0, "rx_bytes": 0, "txmsgs": 0,
            "txmsg_bytes": 0, "rxmsgs": 0, "rxmsg_bytes": 0,
            "brokers": {
                "127.0.0.1:9092/1": broker("127.0.0.1:9092/1", 1, state),
                "127.0.0.1:9092/bootstrap": broker("127.0.0.1:9092/bootstrap", -1, "UP"),
            },
            "topics": {
                "in": {
                    "topic": "in", "age": 0, "metadata_age": 0,
                    "batchsize": window(0), "batchcnt": window(0),
                    "partitions": {
                        "0": partition(0, lag0),
                        "1": partition(1, 7),
                        "2": unread_partition(2, 9),
                    },
                },
            },
        });
        serde_json::from_value(json).expect("a valid statistics report")
    }

    fn broker(name: &str, nodeid: i32, state: &str) -> serde_json::Value {
        serde_json::json!({
            "name": name, "nodeid": nodeid, "nodename": "127.0.0.1:9092", "source": "learned",
            "state": state, "stateage": 0, "outbuf_cnt": 0, "outbuf_msg_cnt": 0,
            "waitresp_cnt": 0, "waitresp_msg_cnt": 0, "tx": 0, "txbytes": 0, "txerrs": 0,
            "txretries": 0, "txidle": 0, "req_timeouts": 0, "rx": 0, "rxbytes": 0,
            "rxerrs": 0, "rxcorriderrs": 0, "rxpartial": 0, "rxidle": 0, "req": {},
            "zbuf_grow": 0, "buf_grow": 0, "rtt": window(2500), "toppars": {},
        })
    }

    fn window(avg: i64) -> serde_json::Value {
        serde_json::json!({
            "min": 0, "max": 0, "avg": avg, "sum": 0, "cnt": 4, "stddev": 0,
            "hdrsize": 0, "p50": 0, "p75": 0, "p90": 0, "p95": 0, "p99": 0,
            "p99_99": 0, "outofrange": 0,
        })
    }

    fn partition(partition: i32, lag: i64) -> serde_json::Value {
        let mut p = unread_partition(partition, 0);
        p["consumer_lag_stored"] = lag.into();
        p
    }

    /// A partition of `records` records of which nothing was read.
    fn unread_partition(partition: i32, records: i64) -> serde_json::Value {
        serde_json::json!({
            "partition": partition, "broker": 1, "leader": 1, "desired": true,
            "unknown": false, "msgq_cnt": 0, "msgq_bytes": 0, "xmit_msgq_cnt": 0,
            "xmit_msgq_bytes": 0, "fetchq_cnt": 0, "fetchq_size": 0, "fetch_state": "active",
            "query_offset": 0, "next_offset": 0, "app_offset": 0, "stored_offset": 0,
            "committed_offset": -1001, "eof_offset": -1001, "lo_offset": 5,
            "hi_offset": 5 + records, "ls_offset": 5 + records,
            "consumer_lag": -1, "consumer_lag_stored": -1,
            "txmsgs": 0, "txbytes": 0, "rxmsgs": 0, "rxbytes": 0, "msgs": 0,
            "rx_ver_drops": 0, "msgs_inflight": 0, "next_ack_seq": 0, "next_err_seq": 0,
            "acked_msgid": 0,
        })
    }

    #[test]
    fn reports_lag_of_assigned_partitions_only() {
        let instruments = Instruments::new();
        instruments
            .health
            .assigned(&[("in".into(), 0), ("in".into(), 2)], 0);
        StatsReporter::consumer(&instruments, 1000).record(&report("UP", 42));
        let text = instruments.metrics.encode();
        let lag = |p: i32| format!("nvm_consumer_lag_records{{topic=\"in\",partition=\"{p}\"}}");
        assert!(text.contains(&format!("{} 42", lag(0))), "{text}");
        assert!(text.contains(&format!("{} 9", lag(2))), "{text}");
        assert!(!text.contains("partition=\"1\""), "{text}");
        let rtt = "nvm_kafka_broker_rtt_seconds{client=\"consumer\",broker=\"127.0.0.1:9092/1\"}";
        assert!(text.contains(&format!("{rtt} 0.0025")), "{text}");
        assert!(!text.contains("bootstrap"), "{text}");

        instruments.revoked(&[("in".into(), 0), ("in".into(), 2)]);
        assert!(!instruments
            .metrics
            .encode()
            .contains("nvm_consumer_lag_records{"));
    }

    #[test]
    fn a_consumer_without_a_broker_connection_is_not_ready() {
        let instruments = Instruments::new();
        instruments.health.assigned(&[("in".into(), 0)], 0);
        let reporter = StatsReporter::consumer(&instruments, 1000);
        reporter.record(&report("TRY_CONNECT", 0));
        assert!(instruments.health.readiness().is_err());
        reporter.record(&report("UP", 0));
        assert!(instruments.health.readiness().is_ok());
        reporter.on_error(&KafkaError::Global(RDKafkaErrorCode::AllBrokersDown));
        assert!(instruments.health.readiness().is_err());
    }

    #[test]
    fn the_producer_reports_its_queue_and_not_readiness() {
        let instruments = Instruments::new();
        StatsReporter::producer(&instruments, 1000).record(&report("DOWN", 0));
        let text = instruments.metrics.encode();
        assert!(
            text.contains("nvm_kafka_producer_queue_messages 3"),
            "{text}"
        );
        assert!(
            text.contains("nvm_kafka_producer_queue_bytes 300"),
            "{text}"
        );
        let up = "nvm_kafka_broker_up{client=\"producer\",broker=\"127.0.0.1:9092/1\"}";
        assert!(text.contains(&format!("{up} 0")), "{text}");
    }
}

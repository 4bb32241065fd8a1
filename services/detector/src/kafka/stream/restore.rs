//! Rebuilds partitions' window state from their changelog partitions before
//! their first record is processed.

use super::super::client::{ClientArgs, QuietEof};
use crate::engine::{EngineConfig, PartitionEngine};
use crate::window::changelog;
use anyhow::Context as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// Restored engines and what it took.
pub struct Restored {
    pub engines: HashMap<i32, PartitionEngine>,
    /// Changelog records read.
    pub records: u64,
    /// Open groups after the restore.
    pub groups: usize,
    pub elapsed: Duration,
}

/// Reads the changelog partitions of `partitions` from the beginning to
/// their committed end (read_committed) and rebuilds each one's engine.
///
/// # Errors
/// The changelog cannot be read, holds a record this build cannot decode
/// (named by partition and offset), or was kept with another window length.
pub fn restore(
    client: &ClientArgs,
    topic: &str,
    partitions: &[i32],
    config: &EngineConfig,
    now_ms: i64,
) -> anyhow::Result<Restored> {
    let started = Instant::now();
    let mut engines: HashMap<i32, PartitionEngine> = partitions
        .iter()
        .map(|p| (*p, PartitionEngine::new(config.clone())))
        .collect();
    let consumer = restore_consumer(client)?;

    // Partitions with nothing in them need no reading.
    let mut list = TopicPartitionList::new();
    for p in partitions {
        let (low, high) = watermarks(&consumer, topic, *p)
            .with_context(|| format!("reading the offsets of {topic}/{p}"))?;
        if high > low {
            list.add_partition_offset(topic, *p, Offset::Beginning)?;
        }
    }
    let mut records = 0;
    if list.count() > 0 {
        consumer
            .assign(&list)
            .context("assigning changelog partitions")?;
        records = read_to_end(&consumer, topic, list.count(), &mut engines)?;
    }

    for engine in engines.values_mut() {
        engine.resume_at(now_ms);
    }
    let groups = engines.values().map(|e| e.state().open_groups()).sum();
    Ok(Restored {
        engines,
        records,
        groups,
        elapsed: started.elapsed(),
    })
}

/// The partition's offsets. A changelog created moments ago may not be
/// known yet to the broker answering, or have no leader yet: that is
/// retried for a while.
fn watermarks(
    consumer: &BaseConsumer<QuietEof>,
    topic: &str,
    partition: i32,
) -> Result<(i64, i64), KafkaError> {
    use rdkafka::types::RDKafkaErrorCode::{
        LeaderNotAvailable, NotLeaderForPartition, UnknownPartition, UnknownTopicOrPartition,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match consumer.fetch_watermarks(topic, partition, Duration::from_secs(30)) {
            Err(e)
                if matches!(
                    e.rdkafka_error_code(),
                    Some(
                        UnknownPartition
                            | UnknownTopicOrPartition
                            | NotLeaderForPartition
                            | LeaderNotAvailable
                    )
                ) && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

fn restore_consumer(client: &ClientArgs) -> anyhow::Result<BaseConsumer<QuietEof>> {
    let config = client.consumer_config(|config| {
        config
            // Never joins or commits: partitions are assigned by hand.
            .set("group.id", "nvm-detector-restore")
            .set("enable.auto.commit", "false")
            .set("isolation.level", "read_committed")
            .set("enable.partition.eof", "true")
            .set("fetch.wait.max.ms", "10")
            .set("fetch.max.bytes", "52428800");
    })?;
    config
        .create_with_context(QuietEof)
        .context("creating the restore consumer")
}

fn read_to_end(
    consumer: &BaseConsumer<QuietEof>,
    topic: &str,
    partitions: usize,
    engines: &mut HashMap<i32, PartitionEngine>,
) -> anyhow::Result<u64> {
    let mut at_end = HashSet::new();
    let mut records = 0;
    while at_end.len() < partitions {
        match consumer.poll(Duration::from_millis(500)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(p))) => {
                at_end.insert(p);
            }
            Some(Err(e)) => return Err(e).context("reading the changelog"),
            Some(Ok(m)) => {
                let change = changelog::decode(m.key().unwrap_or_default(), m.payload())
                    .with_context(|| {
                        format!(
                            "changelog record {topic}/{} at offset {}",
                            m.partition(),
                            m.offset()
                        )
                    })?;
                let engine = engines
                    .get_mut(&m.partition())
                    .context("a record of a partition that was not asked for")?;
                engine.apply_change(change)?;
                records += 1;
            }
        }
    }
    Ok(records)
}

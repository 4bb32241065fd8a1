//! The broker side of the suite: topics and groups it creates and removes,
//! the plain consumer that sets the ceiling, a producer, and a reader of
//! whole topics. Everything talks to the local broker only.

use anyhow::{bail, Context as _};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A producer whose deliveries are polled by its own thread.
pub type KafkaProducer = ThreadedProducer<Deliveries>;

/// A record for [`send`]: its delivery opaque is 0, or a number whose
/// acknowledgement time [`Deliveries`] keeps.
pub type Record<'a> = BaseRecord<'a, [u8], [u8], usize>;

/// A record whose acknowledgement is only counted.
pub fn record(topic: &str) -> Record<'_> {
    BaseRecord::with_opaque_to(topic, 0)
}

/// Watches a producer's deliveries: counts failures (a `ThreadedProducer`
/// drops them otherwise) and notes when tagged records were acknowledged.
#[derive(Default)]
pub struct Deliveries {
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
    acked: Mutex<Vec<(usize, Instant)>>,
}

impl Deliveries {
    /// Records that were not delivered, and the first reason.
    pub fn failures(&self) -> (u64, Option<String>) {
        let first = self.first_error.lock().ok().and_then(|e| e.clone());
        (self.failed.load(Ordering::Relaxed), first)
    }

    /// Acknowledgement times of the tagged records so far.
    pub fn take_acked(&self) -> Vec<(usize, Instant)> {
        self.acked
            .lock()
            .map(|mut a| std::mem::take(&mut *a))
            .unwrap_or_default()
    }
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, tag: usize) {
        match result {
            Ok(_) if tag > 0 => {
                if let Ok(mut acked) = self.acked.lock() {
                    acked.push((tag, Instant::now()));
                }
            }
            Ok(_) => {}
            Err((e, _)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut first) = self.first_error.lock() {
                    first.get_or_insert_with(|| e.to_string());
                }
            }
        }
    }
}

/// Fails when the producer lost a record.
///
/// # Errors
/// At least one record was not delivered.
pub fn check_delivered(producer: &KafkaProducer) -> anyhow::Result<()> {
    match producer.context().failures() {
        (0, _) => Ok(()),
        (n, first) => bail!(
            "{n} records were not delivered (first: {})",
            first.unwrap_or_default()
        ),
    }
}

/// Where the broker is.
#[derive(Debug, Clone)]
pub struct Kafka {
    pub bootstrap: String,
}

fn block_on<F: std::future::Future>(future: F) -> anyhow::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting an async runtime")?;
    Ok(runtime.block_on(future))
}

impl Kafka {
    /// A client configuration for this broker.
    pub fn config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap);
        config
    }

    fn admin(&self) -> anyhow::Result<AdminClient<DefaultClientContext>> {
        self.config()
            .create()
            .context("creating a Kafka admin client")
    }

    /// Creates topics (name, partitions); existing ones are an error, as the
    /// suite's topic names are new every run.
    ///
    /// # Errors
    /// A topic that cannot be created.
    pub fn create_topics(&self, topics: &[(&str, i32)]) -> anyhow::Result<()> {
        self.create_with(topics, &[])
    }

    /// Creates topics whose records are never deleted for their age. Kafka
    /// Streams stamps output records with event time, which for generated
    /// data lies months back: the broker's 24 h retention would delete them
    /// at its next check.
    ///
    /// # Errors
    /// A topic that cannot be created.
    pub fn create_kept_topics(&self, topics: &[(&str, i32)]) -> anyhow::Result<()> {
        self.create_with(topics, &[("retention.ms", "-1")])
    }

    fn create_with(&self, topics: &[(&str, i32)], configs: &[(&str, &str)]) -> anyhow::Result<()> {
        let admin = self.admin()?;
        let new: Vec<NewTopic<'_>> = topics
            .iter()
            .map(|(name, partitions)| {
                let topic = NewTopic::new(name, *partitions, TopicReplication::Fixed(1));
                configs.iter().fold(topic, |t, (k, v)| t.set(k, v))
            })
            .collect();
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
        let results = block_on(admin.create_topics(&new, &options))??;
        for result in results {
            if let Err((name, code)) = result {
                bail!("creating topic {name}: {code}");
            }
        }
        Ok(())
    }

    /// Topics whose names start with `prefix`.
    ///
    /// # Errors
    /// Metadata that cannot be read.
    pub fn topics_with_prefix(&self, prefix: &str) -> anyhow::Result<Vec<String>> {
        let consumer: BaseConsumer = self.config().create()?;
        let metadata = consumer
            .fetch_metadata(None, Duration::from_secs(10))
            .context("reading cluster metadata")?;
        Ok(metadata
            .topics()
            .iter()
            .map(|t| t.name().to_owned())
            .filter(|n| n.starts_with(prefix))
            .collect())
    }

    /// Deletes topics; missing ones are fine.
    ///
    /// # Errors
    /// A deletion the broker refused for another reason.
    pub fn delete_topics(&self, names: &[String]) -> anyhow::Result<()> {
        if names.is_empty() {
            return Ok(());
        }
        let admin = self.admin()?;
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
        let results = block_on(admin.delete_topics(&names, &options))??;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::UnknownTopicOrPartition)) => {}
                Err((name, code)) => bail!("deleting topic {name}: {code}"),
            }
        }
        Ok(())
    }

    /// Consumer groups whose names start with `prefix`.
    ///
    /// # Errors
    /// The group list cannot be read.
    pub fn groups_with_prefix(&self, prefix: &str) -> anyhow::Result<Vec<String>> {
        let consumer: BaseConsumer = self.config().create()?;
        let list = consumer
            .fetch_group_list(None, Duration::from_secs(10))
            .context("listing consumer groups")?;
        Ok(list
            .groups()
            .iter()
            .map(|g| g.name().to_owned())
            .filter(|n| n.starts_with(prefix))
            .collect())
    }

    /// Deletes consumer groups; missing ones are fine. A group whose
    /// members have not left yet is retried for up to a minute.
    ///
    /// # Errors
    /// A deletion the broker refused for another reason.
    pub fn delete_groups(&self, names: &[String]) -> anyhow::Result<()> {
        let admin = self.admin()?;
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
        let mut left: Vec<&str> = names.iter().map(String::as_str).collect();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !left.is_empty() {
            let results = block_on(admin.delete_groups(&left, &options))??;
            let mut busy = Vec::new();
            for result in results {
                match result {
                    Ok(_)
                    | Err((_, RDKafkaErrorCode::GroupIdNotFound))
                    | Err((_, RDKafkaErrorCode::NotCoordinator)) => {}
                    Err((name, RDKafkaErrorCode::NonEmptyGroup)) if Instant::now() < deadline => {
                        busy.push(name)
                    }
                    Err((name, code)) => bail!("deleting group {name}: {code}"),
                }
            }
            left = names
                .iter()
                .map(String::as_str)
                .filter(|n| busy.iter().any(|b| b == n))
                .collect();
            if !left.is_empty() {
                std::thread::sleep(Duration::from_secs(2));
            }
        }
        Ok(())
    }

    /// Partitions of a topic.
    ///
    /// # Errors
    /// A topic that does not exist.
    pub fn partitions(&self, topic: &str) -> anyhow::Result<Vec<i32>> {
        let consumer: BaseConsumer = self.config().create()?;
        let partitions = nvm_detector::kafka::topics::partition_ids(&consumer, topic)?;
        if partitions.is_empty() {
            bail!("topic {topic} does not exist");
        }
        Ok(partitions)
    }

    /// Messages a topic holds (high minus low watermark, summed).
    ///
    /// # Errors
    /// A topic that does not exist.
    pub fn message_count(&self, topic: &str) -> anyhow::Result<u64> {
        let consumer: BaseConsumer = self.config().create()?;
        let mut total = 0;
        for p in self.partitions(topic)? {
            let (low, high) = consumer.fetch_watermarks(topic, p, Duration::from_secs(10))?;
            total += (high - low).max(0) as u64;
        }
        Ok(total)
    }

    /// Records of `topic` that consumer group `group` has not committed.
    ///
    /// # Errors
    /// Offsets that cannot be read.
    pub fn committed_lag(&self, topic: &str, group: &str) -> anyhow::Result<u64> {
        let mut config = self.config();
        config
            .set("group.id", group)
            .set("enable.auto.commit", "false");
        let consumer: BaseConsumer = config.create()?;
        let mut list = TopicPartitionList::new();
        let partitions = self.partitions(topic)?;
        for p in &partitions {
            list.add_partition_offset(topic, *p, Offset::Invalid)?;
        }
        let committed = consumer.committed_offsets(list, Duration::from_secs(10))?;
        let mut lag = 0;
        for p in partitions {
            let (low, high) = consumer.fetch_watermarks(topic, p, Duration::from_secs(10))?;
            let at = match committed.find_partition(topic, p).map(|e| e.offset()) {
                Some(Offset::Offset(o)) => o,
                _ => low,
            };
            lag += (high - at).max(0) as u64;
        }
        Ok(lag)
    }

    /// A producer configured like `nvm-detector replay`'s (idempotent, lz4),
    /// lingering `linger_ms`.
    ///
    /// # Errors
    /// A configuration librdkafka refuses.
    pub fn producer(&self, linger_ms: u32) -> anyhow::Result<KafkaProducer> {
        let mut config = self.config();
        config
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", linger_ms.to_string())
            .set("compression.type", "lz4");
        config
            .create_with_context(Deliveries::default())
            .context("creating a Kafka producer")
    }

    /// Reads a whole topic with read_committed until every partition is at
    /// its end and nothing came for `idle`.
    ///
    /// # Errors
    /// A topic that cannot be read.
    pub fn read_all(&self, topic: &str, idle: Duration) -> anyhow::Result<Vec<Vec<u8>>> {
        let consumer = self.reader(500)?;
        let partitions = self.partitions(topic)?;
        let mut list = TopicPartitionList::new();
        for p in &partitions {
            list.add_partition_offset(topic, *p, Offset::Beginning)?;
        }
        consumer.assign(&list)?;
        let mut at_end = HashSet::new();
        let mut out = Vec::new();
        let mut last = Instant::now();
        loop {
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(m)) => {
                    at_end.remove(&m.partition());
                    last = Instant::now();
                    out.push(m.payload().unwrap_or_default().to_vec());
                }
                Some(Err(KafkaError::PartitionEOF(p))) => {
                    at_end.insert(p);
                }
                Some(Err(e)) => return Err(e).context("reading a topic"),
                None => {}
            }
            if at_end.len() == partitions.len() && last.elapsed() >= idle {
                return Ok(out);
            }
        }
    }

    /// A read_committed consumer that never joins a group: partitions are
    /// assigned by hand. `fetch_wait_ms` bounds how long the broker holds a
    /// fetch while there is nothing new (librdkafka's default: 500).
    ///
    /// # Errors
    /// A configuration librdkafka refuses.
    pub fn reader(&self, fetch_wait_ms: u32) -> anyhow::Result<BaseConsumer> {
        let mut config = self.config();
        config
            .set("group.id", "nvm-benches-reader")
            .set("fetch.wait.max.ms", fetch_wait_ms.to_string())
            .set("enable.auto.commit", "false")
            .set("isolation.level", "read_committed")
            .set("enable.partition.eof", "true");
        config.create().context("creating a Kafka reader")
    }
}

/// Hands a record to the producer, polling it while its queue is full.
///
/// # Errors
/// Any refusal other than a full queue.
pub fn send(producer: &KafkaProducer, mut record: Record<'_>) -> anyhow::Result<()> {
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                std::thread::sleep(Duration::from_millis(1));
            }
            Err((e, _)) => return Err(e).context("producing a record"),
        }
    }
}

/// What the plain consumer read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsumeRun {
    pub records: u64,
    pub bytes: u64,
    /// From creating the consumer (group join included) to the last record.
    pub secs: f64,
    /// From creating the consumer to the first record.
    pub first_record_secs: f64,
    pub records_per_sec: f64,
}

/// The ceiling: a consumer in a fresh group, configured as the detector's
/// (read_committed, from the earliest offset, no auto commit), that only
/// reads every record of `topic` and touches its bytes.
///
/// # Errors
/// A consumer that cannot be created, or a read that fails or stalls.
pub fn consume_all(
    kafka: &Kafka,
    topic: &str,
    group: &str,
    expect: u64,
) -> anyhow::Result<ConsumeRun> {
    let started = Instant::now();
    let mut config = kafka.config();
    config
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", "read_committed")
        .set("enable.partition.eof", "false");
    let consumer: BaseConsumer = config.create().context("creating the consumer")?;
    consumer.subscribe(&[topic]).context("subscribing")?;

    let mut records = 0u64;
    let mut bytes = 0u64;
    let mut first = None;
    let mut last = Instant::now();
    while records < expect {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                records += 1;
                bytes += m
                    .payload()
                    .map_or(0, |p| std::hint::black_box(p).len() as u64);
                last = Instant::now();
                first.get_or_insert(last);
            }
            Some(Err(e)) => return Err(e).context("consuming"),
            None => {
                if last.elapsed() > Duration::from_secs(60) {
                    bail!("no record for 60 s after {records} of {expect}");
                }
            }
        }
    }
    let secs = last.duration_since(started).as_secs_f64();
    Ok(ConsumeRun {
        records,
        bytes,
        secs,
        first_record_secs: first.map_or(0.0, |f| f.duration_since(started).as_secs_f64()),
        records_per_sec: records as f64 / secs,
    })
}

/// The records of a file with the key `nvm-detector replay` gives them
/// (`src`; none for lines that do not decode), read before any timing.
///
/// # Errors
/// A file that cannot be read.
pub fn keyed_records(path: &std::path::Path) -> anyhow::Result<Vec<(Option<String>, Vec<u8>)>> {
    let corpus = crate::corpus::Corpus::load(path)?;
    let options = nvm_detector::decode::DecodeOptions::default();
    Ok(corpus
        .iter()
        .map(|line| {
            let key = nvm_detector::decode::decode(line, &options)
                .ok()
                .and_then(|r| r.first("src").map(str::to_owned));
            (key, line.to_vec())
        })
        .collect())
}

/// Produces every record to `topic` as fast as the broker takes them;
/// returns the seconds from the first send to the end of the flush.
///
/// # Errors
/// A producer that cannot be created or a record that is not delivered.
pub fn produce_all(
    kafka: &Kafka,
    topic: &str,
    records: &[(Option<String>, Vec<u8>)],
) -> anyhow::Result<f64> {
    let producer = kafka.producer(20)?;
    let started = Instant::now();
    for (key, payload) in records {
        let mut record = record(topic).payload(payload.as_slice());
        if let Some(key) = key {
            record = record.key(key.as_bytes());
        }
        send(&producer, record)?;
    }
    producer
        .flush(Duration::from_secs(120))
        .context("flushing the producer")?;
    let secs = started.elapsed().as_secs_f64();
    check_delivered(&producer)?;
    Ok(secs)
}

//! The output side of the shell: one producer, and the two ways its work is
//! made durable together with the input offsets.
//!
//! * Exactly-once: every output (alerts, dead letters, late records,
//!   changelog, repartitioned records) is written inside a Kafka transaction
//!   that also carries the consumer offsets; a crash aborts the open
//!   transaction, so read_committed consumers see each output once.
//! * At-least-once: outputs are flushed and acknowledged before the offsets
//!   are committed; a crash replays what was not committed, so an output may
//!   be written again (with the same alert id).

use super::super::client::ClientArgs;
use super::super::statistics::StatsReporter;
use anyhow::Context as _;
use rdkafka::consumer::ConsumerGroupMetadata;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::OwnedHeaders;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, TopicPartitionList};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tracing::warn;

/// How outputs and input offsets are made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Delivery {
    /// Kafka transactions: outputs, state and offsets commit together.
    ExactlyOnce,
    /// Flush outputs, then commit offsets; a crash may repeat outputs.
    AtLeastOnce,
}

/// Counts failed deliveries; at-least-once checks it before committing.
/// Also receives the producer's statistics.
#[derive(Default)]
pub struct DeliveryTracker {
    failed: AtomicU64,
    last_error: Mutex<Option<String>>,
    stats: Option<StatsReporter>,
}

impl ClientContext for DeliveryTracker {
    fn stats(&self, statistics: Statistics) {
        if let Some(reporter) = &self.stats {
            reporter.record(&statistics);
        }
    }
}

impl ProducerContext for DeliveryTracker {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((error, _)) = result {
            self.failed.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut last) = self.last_error.lock() {
                *last = Some(error.to_string());
            }
        }
    }
}

/// What a failed commit left behind.
#[derive(Debug)]
pub enum CommitError {
    /// The transaction was aborted: state and positions must be reset to
    /// the last commit, then processing goes on.
    Aborted(KafkaError),
    /// The producer is unusable (fenced: its epoch was bumped, by a newer
    /// instance or by the coordinator when a transaction timed out across
    /// a broker restart; or another fatal producer error). A new producer
    /// can take over after a reset.
    Fenced(anyhow::Error),
    /// Nothing can continue.
    Fatal(anyhow::Error),
}

/// A record to write.
pub struct Output<'a> {
    pub topic: &'a str,
    pub partition: Option<i32>,
    pub key: Option<&'a [u8]>,
    pub payload: Option<&'a [u8]>,
    pub headers: Option<OwnedHeaders>,
}

/// The producer and its delivery mode.
pub struct Sink {
    producer: ThreadedProducer<DeliveryTracker>,
    /// What the producer was made from, to replace it after a fencing.
    config: rdkafka::ClientConfig,
    stats: StatsReporter,
    delivery: Delivery,
    in_transaction: bool,
    /// A send failed inside the open transaction: it must be aborted.
    poisoned: Option<KafkaError>,
    timeout: Duration,
}

/// Attempts at a retriable transactional call before giving up on it.
const RETRIES: usize = 20;

impl Sink {
    /// Creates the producer; in exactly-once mode also initialises its
    /// transactions, which fences any older instance with the same id.
    ///
    /// # Errors
    /// The producer cannot be created or its transactions initialised.
    pub fn new(
        client: &ClientArgs,
        delivery: Delivery,
        transactional_id: &str,
        transaction_timeout_ms: u64,
        stats: StatsReporter,
    ) -> anyhow::Result<Self> {
        let config = client.producer_config(|config| {
            stats.configure(config);
            config
                .set("enable.idempotence", "true")
                .set("acks", "all")
                .set("linger.ms", "5")
                .set("compression.type", "lz4");
            if delivery == Delivery::ExactlyOnce {
                config
                    .set("transactional.id", transactional_id)
                    .set("transaction.timeout.ms", transaction_timeout_ms.to_string());
            }
        })?;
        let producer = create(&config, &stats)?;
        let mut sink = Sink {
            producer,
            config,
            stats,
            delivery,
            in_transaction: false,
            poisoned: None,
            timeout: Duration::from_secs(30),
        };
        sink.init()?;
        Ok(sink)
    }

    /// In exactly-once mode, initialises the producer's transactions,
    /// which fences any older producer with the same transactional id.
    fn init(&mut self) -> anyhow::Result<()> {
        if self.delivery == Delivery::ExactlyOnce {
            let (producer, timeout) = (&self.producer, self.timeout);
            retry("initialising transactions", || {
                producer.init_transactions(timeout)
            })
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("initialising Kafka transactions (does the cluster support them?)")?;
        }
        Ok(())
    }

    /// Replaces a producer that [`CommitError::Fenced`] left unusable; what
    /// it had in flight is lost, so the caller resets to the last commit.
    ///
    /// # Errors
    /// The new producer cannot be created or initialised.
    pub fn renew(&mut self) -> anyhow::Result<()> {
        self.producer = create(&self.config, &self.stats)?;
        self.in_transaction = false;
        self.poisoned = None;
        self.init()
    }

    fn tracker(&self) -> &DeliveryTracker {
        self.producer.context()
    }

    /// Queues one record, opening a transaction first when needed. Waits
    /// while the producer's queue is full.
    pub fn send(&mut self, out: Output<'_>) {
        if self.delivery == Delivery::ExactlyOnce && !self.in_transaction {
            if let Err(e) = self.producer.begin_transaction() {
                self.poisoned.get_or_insert(e);
                return;
            }
            self.in_transaction = true;
        }
        let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(out.topic);
        if let Some(p) = out.partition {
            record = record.partition(p);
        }
        if let Some(k) = out.key {
            record = record.key(k);
        }
        if let Some(v) = out.payload {
            record = record.payload(v);
        }
        if let Some(h) = out.headers {
            record = record.headers(h);
        }
        loop {
            match self.producer.send(record) {
                Ok(()) => return,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    self.producer.poll(Duration::from_millis(5));
                }
                Err((e, _)) => {
                    self.poisoned.get_or_insert(e);
                    return;
                }
            }
        }
    }

    /// Makes everything sent so far durable together with `offsets`.
    ///
    /// # Errors
    /// [`CommitError::Aborted`] when the work was rolled back and must be
    /// redone; [`CommitError::Fatal`] when the instance must stop.
    pub fn commit(
        &mut self,
        offsets: &TopicPartitionList,
        group: Option<&ConsumerGroupMetadata>,
        commit_offsets: impl FnOnce(&TopicPartitionList) -> Result<(), KafkaError>,
    ) -> Result<(), CommitError> {
        match self.delivery {
            Delivery::AtLeastOnce => self.commit_at_least_once(offsets, commit_offsets),
            Delivery::ExactlyOnce => self.commit_transaction(offsets, group),
        }
    }

    fn commit_at_least_once(
        &mut self,
        offsets: &TopicPartitionList,
        commit_offsets: impl FnOnce(&TopicPartitionList) -> Result<(), KafkaError>,
    ) -> Result<(), CommitError> {
        if let Some(e) = self.poisoned.take() {
            return Err(CommitError::Fatal(anyhow::anyhow!(
                "queueing an output failed: {e}"
            )));
        }
        self.drain_queue();
        self.producer
            .flush(self.timeout)
            .map_err(|e| CommitError::Fatal(anyhow::anyhow!("flushing outputs: {e}")))?;
        let failed = self.tracker().failed.swap(0, Ordering::Relaxed);
        if failed > 0 {
            let last = self
                .tracker()
                .last_error
                .lock()
                .ok()
                .and_then(|l| l.clone());
            return Err(CommitError::Fatal(anyhow::anyhow!(
                "{failed} output record(s) were not delivered (last error: {})",
                last.unwrap_or_default()
            )));
        }
        if offsets.count() > 0 {
            commit_offsets(offsets)
                .map_err(|e| CommitError::Fatal(anyhow::anyhow!("committing offsets: {e}")))?;
        }
        Ok(())
    }

    fn commit_transaction(
        &mut self,
        offsets: &TopicPartitionList,
        group: Option<&ConsumerGroupMetadata>,
    ) -> Result<(), CommitError> {
        if let Some(e) = self.poisoned.take() {
            self.abort();
            return Err(classify(e));
        }
        if offsets.count() > 0 && !self.in_transaction {
            self.producer.begin_transaction().map_err(classify)?;
            self.in_transaction = true;
        }
        if !self.in_transaction {
            return Ok(());
        }
        if offsets.count() > 0 {
            let Some(group) = group else {
                self.abort();
                return Err(CommitError::Fatal(anyhow::anyhow!(
                    "the consumer has no group metadata to commit offsets with"
                )));
            };
            let sent = retry("sending offsets to the transaction", || {
                self.producer
                    .send_offsets_to_transaction(offsets, group, self.timeout)
            })
            .map_err(classify);
            if let Err(e) = sent {
                self.abort();
                return Err(e);
            }
        }
        self.drain_queue();
        let committed = retry("committing the transaction", || {
            self.producer.commit_transaction(self.timeout)
        });
        match committed {
            Ok(()) => {
                self.in_transaction = false;
                Ok(())
            }
            Err(e) => {
                let e = classify(e);
                if matches!(e, CommitError::Aborted(_)) {
                    self.abort();
                }
                Err(e)
            }
        }
    }

    /// Waits until the queued records are delivered, with librdkafka's own
    /// flush: it returns as soon as the queue is empty, whereas the flush
    /// that rust-rdkafka runs inside `commit_transaction` polls in 100 ms
    /// slices and, with anything in flight, sleeps a whole slice. After this
    /// that flush finds nothing to wait for. A failure here is left to
    /// the flush that follows (in `commit_transaction`, or at least once
    /// before the offsets are committed), which reports it.
    fn drain_queue(&self) {
        use rdkafka::client::Client;
        let client: &Client<DeliveryTracker> = self.producer.client();
        let timeout_ms = i32::try_from(self.timeout.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: the pointer is the live producer handle owned by
        // `self.producer`, and rd_kafka_flush is thread-safe.
        unsafe {
            rdkafka::bindings::rd_kafka_flush(client.native_ptr(), timeout_ms);
        }
    }

    /// Rolls back the open transaction, if any.
    pub fn abort(&mut self) {
        self.poisoned = None;
        if !self.in_transaction {
            return;
        }
        if let Err(e) = self.producer.abort_transaction(self.timeout) {
            warn!(error = %e, "aborting the transaction failed");
        }
        self.in_transaction = false;
    }

    /// Waits for queued records (at shutdown).
    pub fn flush(&self) -> Result<(), KafkaError> {
        self.producer.flush(Duration::from_secs(10))
    }
}

fn create(
    config: &rdkafka::ClientConfig,
    stats: &StatsReporter,
) -> anyhow::Result<ThreadedProducer<DeliveryTracker>> {
    config
        .create_with_context(DeliveryTracker {
            stats: Some(stats.clone()),
            ..DeliveryTracker::default()
        })
        .context("creating the Kafka producer")
}

/// Retries a transactional call while librdkafka says a retry may help.
fn retry(what: &str, mut call: impl FnMut() -> Result<(), KafkaError>) -> Result<(), KafkaError> {
    let mut attempt = 0;
    loop {
        match call() {
            Err(KafkaError::Transaction(e)) if e.is_retriable() && attempt < RETRIES => {
                attempt += 1;
                warn!(error = %e, attempt, "{what} failed; retrying");
                std::thread::sleep(Duration::from_millis(200 * attempt.min(10) as u64));
            }
            other => return other,
        }
    }
}

/// Sorts a transactional failure into "abort and redo" or "stop".
fn classify(e: KafkaError) -> CommitError {
    match &e {
        KafkaError::Transaction(t) if t.is_fatal() => {
            CommitError::Fenced(anyhow::anyhow!("fatal transaction error: {t}"))
        }
        KafkaError::Transaction(t) if t.txn_requires_abort() || t.is_retriable() => {
            CommitError::Aborted(e)
        }
        _ => CommitError::Aborted(e),
    }
}

//! The shell's state and its one way of making progress durable.
//!
//! [`Core`] owns the partition engines, the offsets processed, and the
//! [`Sink`]. Both the event loop and the consumer's rebalance callbacks
//! drive it (behind one mutex), so a revocation commits exactly what the
//! loop would have, and an assignment restores state before the loop sees a
//! record of the new partitions.

use super::super::client::ClientArgs;
use super::super::output::{alert_headers, dead_letter_headers, late_headers, Source};
use super::restore::restore;
use super::sink::{CommitError, Output, Sink};
use crate::alert::Alert;
use crate::decode::{decode, DecodeError};
use crate::engine::{Counters, Disposition, EngineConfig, PartitionEngine};
use crate::observe::ledger::Ledger;
use crate::observe::Instruments;
use crate::window::changelog;
use rdkafka::consumer::{Consumer, ConsumerContext};
use rdkafka::message::{Headers, Message, OwnedMessage};
use rdkafka::{Offset, TopicPartitionList};
use std::collections::HashMap;
use std::time::Instant;
use tracing::{info, warn};

/// The topics one detector instance works with.
#[derive(Debug, Clone)]
pub struct Topology {
    pub input: String,
    pub alerts: String,
    pub dlq: String,
    pub late: String,
    /// Compacted topic of window state, one partition per state partition.
    pub changelog: String,
    /// When set, input records are re-keyed by `repartition_by` through this
    /// topic, whose partitions then carry the state.
    pub repartition: Option<String>,
    pub repartition_by: String,
    /// Partitions of the input and (when re-keying) repartition topics: all
    /// that the group reads.
    pub read_partitions: usize,
}

impl Topology {
    /// The topic whose partitions own window state.
    pub fn state_topic(&self) -> &str {
        self.repartition.as_deref().unwrap_or(&self.input)
    }
}

/// Wall-clock milliseconds: the engine's processing time.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Everything the shell keeps between records.
pub struct Core {
    config: EngineConfig,
    topology: Topology,
    client: ClientArgs,
    sink: Sink,
    engines: HashMap<i32, PartitionEngine>,
    /// Next offset to commit, per (topic, partition).
    offsets: HashMap<(String, i32), i64>,
    /// Something was processed or produced since the last commit.
    uncommitted: bool,
    /// The last transaction was aborted: positions and state must go back
    /// to the last commit before anything else is processed.
    needs_reset: bool,
    /// When the producer was last replaced after a fencing.
    renewals: Vec<Instant>,
    /// Partitions being restored: not ready.
    restoring: usize,
    retired: Counters,
    alerts: Vec<Alert>,
    instruments: Instruments,
    /// Work done since the last commit, counted once it is committed.
    ledger: Ledger,
}

impl Core {
    /// A core with no partitions yet.
    pub fn new(
        config: EngineConfig,
        topology: Topology,
        client: ClientArgs,
        sink: Sink,
        instruments: Instruments,
    ) -> Self {
        let rule_ids = config.rules.rules().iter().map(|r| r.meta.id.clone());
        let ledger = Ledger::new(rule_ids.collect(), &instruments.metrics);
        Core {
            config,
            topology,
            client,
            sink,
            engines: HashMap::new(),
            offsets: HashMap::new(),
            uncommitted: false,
            needs_reset: false,
            renewals: Vec::new(),
            restoring: 0,
            retired: Counters::default(),
            alerts: Vec::new(),
            instruments,
            ledger,
        }
    }

    /// Where this core reports.
    pub fn instruments(&self) -> &Instruments {
        &self.instruments
    }

    /// Whether every assigned partition's state is restored.
    pub fn is_ready(&self) -> bool {
        self.restoring == 0
    }

    /// Whether the last commit was rolled back and the work must be redone.
    pub fn needs_reset(&self) -> bool {
        self.needs_reset
    }

    /// Routes one consumed message.
    pub fn on_message(&mut self, message: &OwnedMessage) {
        if self.needs_reset {
            // Work since the last commit was aborted (during a revocation):
            // the reset moves back to the committed offsets, so this record
            // is read again then, on top of the restored state.
            return;
        }
        let key = (message.topic().to_owned(), message.partition());
        if self
            .offsets
            .get(&key)
            .is_some_and(|next| message.offset() < *next)
        {
            return; // already processed: a fetch from before a reset
        }
        self.offsets.insert(key, message.offset() + 1);
        self.uncommitted = true;
        self.ledger.pending().consumed(message.topic());

        if self.topology.repartition.is_some() && message.topic() == self.topology.input {
            self.forward(message);
        } else {
            self.process(message);
        }
    }

    /// Stage one of a repartitioned topology: re-key the record by the
    /// state key so that a group's records meet in one partition.
    fn forward(&mut self, message: &OwnedMessage) {
        let payload = message.payload().unwrap_or_default();
        let source = source_of(message);
        let record = match decode(payload, &self.config.decode) {
            Ok(record) => record,
            Err(error) => return self.dead_letter(payload, message.key(), &error, &source),
        };
        let key = record
            .first(&self.topology.repartition_by)
            .map(str::as_bytes);
        let headers = super::super::output::source_headers(&source);
        let topic = self.topology.repartition.clone().unwrap_or_default();
        self.sink.send(Output {
            topic: &topic,
            partition: None,
            key,
            payload: Some(payload),
            headers: Some(headers),
        });
    }

    /// Runs a record through its partition's engine and sends the outputs.
    fn process(&mut self, message: &OwnedMessage) {
        let payload = message.payload().unwrap_or_default();
        let partition = message.partition();
        let config = &self.config;
        let engine = self
            .engines
            .entry(partition)
            .or_insert_with(|| PartitionEngine::new(config.clone()));
        let disposition = engine.on_message(payload, now_ms(), &mut self.alerts);
        let watermark = engine.state().watermark_ms();
        let source = original_source(message);
        // A repartitioned record carries the time it was forwarded.
        if let Some(timestamp_ms) = message.timestamp().to_millis() {
            self.ledger.pending().processed(timestamp_ms);
        }

        match disposition {
            Disposition::DeadLetter(error) => {
                self.dead_letter(payload, message.key(), &error, &source)
            }
            Disposition::Late { time_ms } => {
                let headers = late_headers(time_ms, watermark, &source);
                let topic = self.topology.late.clone();
                self.sink.send(Output {
                    topic: &topic,
                    partition: None,
                    key: message.key(),
                    payload: Some(payload),
                    headers: Some(headers),
                });
            }
            Disposition::Processed(_) => {}
        }
        self.send_alerts();
    }

    fn dead_letter(
        &mut self,
        payload: &[u8],
        key: Option<&[u8]>,
        error: &DecodeError,
        source: &Source<'_>,
    ) {
        self.ledger.pending().dead_lettered(error.code());
        let headers = dead_letter_headers(error, source);
        let topic = self.topology.dlq.clone();
        self.sink.send(Output {
            topic: &topic,
            partition: None,
            key,
            payload: Some(payload),
            headers: Some(headers),
        });
    }

    fn send_alerts(&mut self) {
        let alerts = std::mem::take(&mut self.alerts);
        for alert in &alerts {
            let payload = serde_json::to_vec(&alert.document).unwrap_or_default();
            let key = alert.id.to_string();
            self.sink.send(Output {
                topic: &self.topology.alerts,
                partition: None,
                key: Some(key.as_bytes()),
                payload: Some(&payload),
                headers: Some(alert_headers(alert)),
            });
            self.uncommitted = true;
        }
        self.alerts = alerts;
        self.alerts.clear();
    }

    /// Processing time passes: held updates and idle watermarks.
    pub fn on_tick(&mut self) {
        let now = now_ms();
        for engine in self.engines.values_mut() {
            engine.on_tick(now, &mut self.alerts);
        }
        self.send_alerts();
    }

    /// End of a bounded run: every window closes.
    pub fn close_all(&mut self) {
        for engine in self.engines.values_mut() {
            engine.close_all(&mut self.alerts);
        }
        self.send_alerts();
    }

    /// Writes the state changes and commits them with the outputs and the
    /// input offsets. An aborted transaction marks the core for a reset.
    ///
    /// # Errors
    /// Only fatal failures (fenced, or at-least-once outputs undelivered).
    pub fn commit<C: ConsumerContext>(
        &mut self,
        consumer: &impl Consumer<C>,
    ) -> anyhow::Result<()> {
        if self.needs_reset {
            // Committing now would carry offsets past records whose outputs
            // were aborted; the reset comes first.
            return Ok(());
        }
        self.write_changes();
        if !self.uncommitted {
            return Ok(());
        }
        let offsets = self.offset_list();
        let group = consumer.group_metadata();
        let started = Instant::now();
        let committed = self.sink.commit(&offsets, group.as_ref(), |list| {
            consumer.commit(list, rdkafka::consumer::CommitMode::Sync)
        });
        let metrics = &self.instruments.metrics;
        match committed {
            Ok(()) => {
                metrics
                    .commit_duration
                    .observe(started.elapsed().as_secs_f64());
                metrics.transactions_committed.inc();
                self.ledger
                    .committed(self.engines.iter().map(|(p, e)| (*p, e)), metrics, now_ms());
                self.uncommitted = false;
                Ok(())
            }
            Err(CommitError::Aborted(e)) => {
                metrics
                    .commit_duration
                    .observe(started.elapsed().as_secs_f64());
                metrics.transactions_aborted.inc();
                warn!(error = %e, "transaction aborted; resuming from the last commit");
                self.needs_reset = true;
                Ok(())
            }
            Err(CommitError::Fenced(e)) => {
                metrics.transactions_aborted.inc();
                self.renew_producer(e)
            }
            Err(CommitError::Fatal(e)) => Err(e),
        }
    }

    /// Replaces a fenced producer and resets to the last commit, unless
    /// fencings come so often that another live instance must be using
    /// the same transactional id: then this one stops.
    fn renew_producer(&mut self, error: anyhow::Error) -> anyhow::Result<()> {
        const WINDOW: std::time::Duration = std::time::Duration::from_secs(60);
        const MOST: usize = 3;
        let now = Instant::now();
        self.renewals.retain(|at| now.duration_since(*at) < WINDOW);
        if self.renewals.len() >= MOST {
            return Err(error.context(format!(
                "the producer was fenced {} times within {}s: is another instance running with the same instance id?",
                MOST + 1,
                WINDOW.as_secs()
            )));
        }
        self.renewals.push(now);
        warn!(error = %format!("{error:#}"), "producer fenced; replacing it and resuming from the last commit");
        self.sink.renew()?;
        self.needs_reset = true;
        Ok(())
    }

    fn write_changes(&mut self) {
        let topic = self.topology.changelog.clone();
        let mut partitions: Vec<i32> = self.engines.keys().copied().collect();
        partitions.sort_unstable();
        for partition in partitions {
            let Some(engine) = self.engines.get_mut(&partition) else {
                continue;
            };
            let changes = engine.drain_changes();
            if changes.is_empty() {
                continue;
            }
            self.uncommitted = true;
            for change in &changes {
                let (key, value) = changelog::encode(change);
                self.sink.send(Output {
                    topic: &topic,
                    partition: Some(partition),
                    key: Some(&key),
                    payload: value.as_deref(),
                    headers: None,
                });
            }
        }
    }

    fn offset_list(&self) -> TopicPartitionList {
        let mut list = TopicPartitionList::new();
        for ((topic, partition), next) in &self.offsets {
            let _ = list.add_partition_offset(topic, *partition, Offset::Offset(*next));
        }
        list
    }

    /// Partitions assigned: restores the state partitions among them.
    ///
    /// # Errors
    /// The changelog cannot be read or decoded.
    pub fn on_assign(&mut self, assigned: &[(String, i32)]) -> anyhow::Result<()> {
        let state_topic = self.topology.state_topic().to_owned();
        let partitions: Vec<i32> = assigned
            .iter()
            .filter(|(t, _)| *t == state_topic)
            .map(|(_, p)| *p)
            .collect();
        let health = self.instruments.health.clone();
        health.assigned(assigned, partitions.len());
        if partitions.is_empty() {
            return Ok(());
        }
        self.restoring += partitions.len();
        let restored = restore(
            &self.client,
            &self.topology.changelog,
            &partitions,
            &self.config,
            now_ms(),
        );
        self.restoring -= partitions.len();
        // A failed restore stops the instance; it stays not ready until then.
        let restored = restored?;
        info!(
            partitions = ?partitions,
            records = restored.records,
            groups = restored.groups,
            elapsed_ms = restored.elapsed.as_millis() as u64,
            "state restored"
        );
        let metrics = &self.instruments.metrics;
        metrics
            .restore_duration
            .observe(restored.elapsed.as_secs_f64());
        metrics.restore_records.inc_by(restored.records);
        self.engines.extend(restored.engines);
        self.set_groups_gauge();
        // Only now, after the log line: whoever sees ready can find it.
        health.restore_finished(partitions.len());
        Ok(())
    }

    fn set_groups_gauge(&self) {
        let open: usize = self.engines.values().map(|e| e.state().open_groups()).sum();
        self.instruments.metrics.groups_open.set(open as i64);
    }

    /// Partitions revoked: their work is committed (with everything else
    /// in flight), then their state is dropped.
    ///
    /// # Errors
    /// A fatal commit failure.
    pub fn on_revoke<C: ConsumerContext>(
        &mut self,
        consumer: &impl Consumer<C>,
        revoked: &[(String, i32)],
    ) -> anyhow::Result<()> {
        let outcome = self.commit(consumer);
        for key in revoked {
            self.offsets.remove(key);
            if key.0 == self.topology.state_topic() {
                if let Some(engine) = self.engines.remove(&key.1) {
                    self.retired = self.retired + *engine.counters();
                }
                self.ledger.forget(key.1);
            }
        }
        self.instruments.revoked(revoked);
        self.set_groups_gauge();
        outcome
    }

    /// After an aborted transaction: forget everything since the last
    /// commit, move the consumer back to the committed offsets and restore
    /// state from the changelog.
    ///
    /// # Errors
    /// Offsets cannot be read or the state cannot be restored.
    pub fn reset<C: ConsumerContext>(&mut self, consumer: &impl Consumer<C>) -> anyhow::Result<()> {
        self.sink.abort();
        self.alerts.clear();
        self.ledger.reset();
        let assignment = consumer.assignment()?;
        let committed =
            consumer.committed_offsets(assignment.clone(), std::time::Duration::from_secs(30))?;
        let mut seek = TopicPartitionList::new();
        self.offsets.clear();
        for element in committed.elements() {
            let offset = match element.offset() {
                Offset::Offset(o) => {
                    self.offsets
                        .insert((element.topic().to_owned(), element.partition()), o);
                    Offset::Offset(o)
                }
                _ => Offset::Beginning,
            };
            seek.add_partition_offset(element.topic(), element.partition(), offset)?;
        }
        if seek.count() > 0 {
            consumer.seek_partitions(seek, std::time::Duration::from_secs(30))?;
        }
        for (_, engine) in self.engines.drain() {
            self.retired = self.retired + *engine.counters();
        }
        let assigned: Vec<(String, i32)> = assignment
            .elements()
            .iter()
            .map(|e| (e.topic().to_owned(), e.partition()))
            .collect();
        self.on_assign(&assigned)?;
        self.needs_reset = false;
        self.uncommitted = false;
        info!("resumed from the last commit");
        Ok(())
    }

    /// Totals over live and retired partitions.
    pub fn totals(&self) -> Counters {
        self.engines
            .values()
            .map(|e| *e.counters())
            .fold(self.retired, |sum, c| sum + c)
    }

    /// Waits for queued records (at shutdown).
    pub fn flush(&self) {
        if let Err(e) = self.sink.flush() {
            warn!(error = %e, "flushing the producer at shutdown");
        }
    }

    /// Rolls back anything not committed (after a failure).
    pub fn abort(&mut self) {
        self.sink.abort();
    }
}

fn source_of(message: &OwnedMessage) -> Source<'_> {
    Source {
        topic: message.topic(),
        partition: message.partition(),
        offset: message.offset(),
    }
}

/// For a repartitioned record, the input position recorded in its headers;
/// otherwise the message's own.
fn original_source(message: &OwnedMessage) -> Source<'_> {
    let own = source_of(message);
    let Some(headers) = message.headers() else {
        return own;
    };
    let find = |name: &str| {
        headers
            .iter()
            .find(|h| h.key == name)
            .and_then(|h| h.value)
            .and_then(|v| std::str::from_utf8(v).ok())
    };
    use super::super::output::header;
    let (Some(topic), Some(partition), Some(offset)) = (
        find(header::SOURCE_TOPIC),
        find(header::SOURCE_PARTITION).and_then(|p| p.parse().ok()),
        find(header::SOURCE_OFFSET).and_then(|o| o.parse().ok()),
    ) else {
        return own;
    };
    Source {
        topic,
        partition,
        offset,
    }
}

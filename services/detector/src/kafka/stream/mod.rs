//! `nvm-detector run`: the streaming shell.
//!
//! One consumer in a consumer group reads the input topic; each assigned
//! partition gets its own [`PartitionEngine`]. Alerts, dead-letter and late
//! records are produced as records are processed; every commit interval the
//! shell waits for those deliveries and then commits the input offsets, so a
//! crash replays (never loses) what was not yet committed: at-least-once.
//! Revocation does the same for the partitions being taken away before their
//! state is dropped.

use super::client::ClientArgs;
use super::output::{alert_headers, dead_letter_headers, late_headers, Source};
use crate::cli::EngineArgs;
use crate::engine::{Counters, Disposition, EngineConfig, PartitionEngine};
use anyhow::Context as _;
use clap::Args;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Message, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use std::collections::{HashMap, HashSet};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tracing::{debug, info, warn};

/// Settings of `run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub topics: TopicNames,
    /// Consumer group; instances with the same group share the partitions.
    #[arg(long, env = "NVM_GROUP_ID", default_value = "nvm-detector")]
    pub group_id: String,
    /// How often outputs are flushed and input offsets committed, ms.
    #[arg(long, env = "NVM_COMMIT_INTERVAL_MS", default_value_t = 100)]
    pub commit_interval_ms: u64,
    /// Least time between two `update` alerts of one group, seconds.
    #[arg(long, env = "NVM_UPDATE_INTERVAL_SECS", default_value_t = crate::window::DEFAULT_UPDATE_INTERVAL_MS / 1000)]
    pub update_interval_secs: i64,
    /// After this long without records, a partition's watermark follows the
    /// wall clock so that its windows still close, seconds.
    #[arg(long, env = "NVM_IDLE_TIMEOUT_SECS", default_value_t = crate::window::DEFAULT_IDLE_TIMEOUT_MS / 1000)]
    pub idle_timeout_secs: i64,
    /// Bounded run: once every assigned partition is read to its end and
    /// nothing arrived for this long, close all windows (emitting their
    /// `final` alerts), commit and exit. For demos and backfills, ms.
    #[arg(long, env = "NVM_EXIT_WHEN_IDLE_MS")]
    pub exit_when_idle_ms: Option<u64>,
}

/// The topics the detector reads and writes.
#[derive(Debug, Clone, Args)]
pub struct TopicNames {
    /// Topic of NVM flow records.
    #[arg(long, env = "NVM_INPUT_TOPIC", default_value = "nvm.flows")]
    pub input_topic: String,
    /// Topic alerts are published to, keyed by alert id.
    #[arg(long, env = "NVM_ALERTS_TOPIC", default_value = "nvm.alerts")]
    pub alerts_topic: String,
    /// Topic of messages that could not be decoded.
    #[arg(long, env = "NVM_DLQ_TOPIC", default_value = "nvm.flows.dlq")]
    pub dlq_topic: String,
    /// Topic of records that arrived after their window closed.
    #[arg(long, env = "NVM_LATE_TOPIC", default_value = "nvm.flows.late")]
    pub late_topic: String,
}

/// Runs the detector until a signal (or, in a bounded run, the end of input).
///
/// # Errors
/// Invalid settings, rules that do not compile, or a Kafka failure that
/// retrying cannot fix.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: RunArgs) -> anyhow::Result<ExitCode> {
    check(&args)?;
    let config = args.engine.engine_config(
        args.update_interval_secs * 1000,
        args.idle_timeout_secs * 1000,
    )?;
    log_startup(&args, &config);
    super::topics::ensure_outputs(&args.client, &args.topics).await?;

    let mut shell = Shell::new(&args, config)?;
    let outcome = shell.run().await;
    shell.shut_down(outcome.is_ok()).await;
    outcome.map(|()| ExitCode::SUCCESS)
}

fn check(args: &RunArgs) -> anyhow::Result<()> {
    if args.commit_interval_ms == 0 {
        anyhow::bail!("--commit-interval-ms must be positive");
    }
    if args.update_interval_secs < 0 {
        anyhow::bail!("--update-interval-secs must not be negative");
    }
    if args.idle_timeout_secs <= 0 {
        anyhow::bail!("--idle-timeout-secs must be positive");
    }
    if args.group_id.trim().is_empty() {
        anyhow::bail!("--group-id must not be empty");
    }
    Ok(())
}

fn log_startup(args: &RunArgs, config: &EngineConfig) {
    let rules: Vec<String> = config
        .rules
        .rules()
        .iter()
        .map(|r| r.meta.to_string())
        .collect();
    info!(
        version = env!("CARGO_PKG_VERSION"),
        bootstrap = %args.client.bootstrap_servers,
        properties = ?args.client.redacted_properties(),
        group = %args.group_id,
        input = %args.topics.input_topic,
        alerts = %args.topics.alerts_topic,
        dlq = %args.topics.dlq_topic,
        late = %args.topics.late_topic,
        window_ms = config.windows.window_ms,
        allowed_lateness_ms = config.windows.allowed_lateness_ms,
        update_interval_ms = config.windows.update_interval_ms,
        idle_timeout_ms = config.windows.idle_timeout_ms,
        commit_interval_ms = args.commit_interval_ms,
        bounded = args.exit_when_idle_ms.is_some(),
        ?rules,
        "starting nvm-detector"
    );
}

/// Wall-clock milliseconds: the engine's processing time.
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Per-partition engines and the offsets they have processed; shared with
/// the rebalance callback, which runs inside the consumer's poll.
struct Partitions {
    config: EngineConfig,
    engines: HashMap<i32, PartitionEngine>,
    /// Next offset to commit, per partition.
    next_offsets: HashMap<i32, i64>,
    /// Totals of partitions no longer assigned.
    retired: Counters,
}

impl Partitions {
    fn engine(&mut self, partition: i32) -> &mut PartitionEngine {
        let config = &self.config;
        self.engines
            .entry(partition)
            .or_insert_with(|| PartitionEngine::new(config.clone()))
    }

    fn totals(&self) -> Counters {
        self.engines
            .values()
            .map(|e| *e.counters())
            .fold(self.retired, add_counters)
    }
}

fn add_counters(a: Counters, b: Counters) -> Counters {
    Counters {
        records: a.records + b.records,
        dead_lettered: a.dead_lettered + b.dead_lettered,
        late: a.late + b.late,
        matched: a.matched + b.matched,
        missing_by_field: a.missing_by_field + b.missing_by_field,
        alerts_new: a.alerts_new + b.alerts_new,
        alerts_update: a.alerts_update + b.alerts_update,
        alerts_final: a.alerts_final + b.alerts_final,
        filtered: a.filtered + b.filtered,
    }
}

fn lock(partitions: &Mutex<Partitions>) -> MutexGuard<'_, Partitions> {
    // A panic elsewhere cannot leave the maps half-updated in a way that
    // matters more than stopping would; keep going with what is there.
    partitions.lock().unwrap_or_else(|e| e.into_inner())
}

/// Consumer callbacks: revocation commits what the leaving partitions
/// produced before their state is dropped.
struct ShellContext {
    partitions: Arc<Mutex<Partitions>>,
    producer: FutureProducer,
    input_topic: String,
}

impl ClientContext for ShellContext {}

impl ConsumerContext for ShellContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            self.on_revoke(consumer, list);
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => {
                info!(partitions = ?partition_ids(list), "partitions assigned")
            }
            Rebalance::Error(e) => warn!(error = %e, "rebalance failed"),
            Rebalance::Revoke(_) => {}
        }
    }
}

impl ShellContext {
    fn on_revoke(&self, consumer: &BaseConsumer<Self>, list: &TopicPartitionList) {
        let revoked = partition_ids(list);
        // Outputs first, offsets second: at-least-once.
        if let Err(e) = self.producer.flush(Duration::from_secs(30)) {
            warn!(error = %e, "flushing outputs of revoked partitions failed; they will be replayed");
            return;
        }
        let mut partitions = lock(&self.partitions);
        let mut offsets = TopicPartitionList::new();
        for p in &revoked {
            if let Some(next) = partitions.next_offsets.remove(p) {
                let _ = offsets.add_partition_offset(&self.input_topic, *p, Offset::Offset(next));
            }
            if let Some(engine) = partitions.engines.remove(p) {
                partitions.retired = add_counters(partitions.retired, *engine.counters());
            }
        }
        drop(partitions);
        if offsets.count() > 0 {
            if let Err(e) = consumer.commit(&offsets, CommitMode::Sync) {
                warn!(error = %e, "committing revoked partitions failed; they will be replayed");
            }
        }
        info!(partitions = ?revoked, "partitions revoked");
    }
}

fn partition_ids(list: &TopicPartitionList) -> Vec<i32> {
    list.elements().iter().map(|e| e.partition()).collect()
}

/// A record to produce, owned so that no lock is held while producing.
struct Outgoing {
    topic: String,
    key: Option<Vec<u8>>,
    payload: Vec<u8>,
    headers: OwnedHeaders,
}

/// State of a bounded run: which partitions are read to their end.
struct Bounded {
    idle: Duration,
    at_end: HashSet<i32>,
    last_message: Instant,
}

struct Shell {
    consumer: StreamConsumer<ShellContext>,
    producer: FutureProducer,
    partitions: Arc<Mutex<Partitions>>,
    topics: TopicNames,
    commit_interval: Duration,
    pending: Vec<DeliveryFuture>,
    outgoing: Vec<Outgoing>,
    uncommitted: bool,
    bounded: Option<Bounded>,
    last_report: Instant,
}

impl Shell {
    fn new(args: &RunArgs, config: EngineConfig) -> anyhow::Result<Self> {
        let producer = producer(&args.client)?;
        let partitions = Arc::new(Mutex::new(Partitions {
            config,
            engines: HashMap::new(),
            next_offsets: HashMap::new(),
            retired: Counters::default(),
        }));
        let context = ShellContext {
            partitions: partitions.clone(),
            producer: producer.clone(),
            input_topic: args.topics.input_topic.clone(),
        };
        let consumer = consumer(args, context)?;
        consumer
            .subscribe(&[&args.topics.input_topic])
            .context("subscribing to the input topic")?;
        Ok(Shell {
            consumer,
            producer,
            partitions,
            topics: args.topics.clone(),
            commit_interval: Duration::from_millis(args.commit_interval_ms),
            pending: Vec::new(),
            outgoing: Vec::new(),
            uncommitted: false,
            bounded: args.exit_when_idle_ms.map(|ms| Bounded {
                idle: Duration::from_millis(ms),
                at_end: HashSet::new(),
                last_message: Instant::now(),
            }),
            last_report: Instant::now(),
        })
    }

    /// The event loop: each branch calls one method.
    async fn run(&mut self) -> anyhow::Result<()> {
        let mut tick = tokio::time::interval(self.commit_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let shutdown = shutdown_signal();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                message = self.consumer.recv() => {
                    let message = message.map(|m| m.detach());
                    self.on_receive(message).await?
                }
                _ = tick.tick() => {
                    if self.on_tick().await? {
                        info!("input drained; closing all windows");
                        return self.finish_bounded().await;
                    }
                }
                _ = &mut shutdown => {
                    info!("shutdown requested");
                    return Ok(());
                }
            }
        }
    }

    async fn on_receive(
        &mut self,
        message: Result<rdkafka::message::OwnedMessage, KafkaError>,
    ) -> anyhow::Result<()> {
        match message {
            Ok(message) => {
                let source = Source {
                    topic: message.topic(),
                    partition: message.partition(),
                    offset: message.offset(),
                };
                let key = message.key().map(<[u8]>::to_vec);
                self.on_message(message.payload().unwrap_or_default(), key, &source);
            }
            Err(KafkaError::PartitionEOF(partition)) => {
                if let Some(bounded) = &mut self.bounded {
                    bounded.at_end.insert(partition);
                }
            }
            Err(e) => warn!(error = %e, "consumer error; retrying"),
        }
        self.produce_outgoing().await
    }

    /// Runs one message through its partition's engine and queues outputs.
    fn on_message(&mut self, payload: &[u8], key: Option<Vec<u8>>, source: &Source<'_>) {
        let mut alerts = Vec::new();
        let mut partitions = lock(&self.partitions);
        let engine = partitions.engine(source.partition);
        let disposition = engine.on_message(payload, now_ms(), &mut alerts);
        let watermark = engine.state().watermark_ms();
        partitions
            .next_offsets
            .insert(source.partition, source.offset + 1);
        drop(partitions);

        match disposition {
            Disposition::DeadLetter(error) => {
                debug!(
                    partition = source.partition,
                    offset = source.offset,
                    reason = error.code(),
                    "dead-lettering"
                );
                self.outgoing.push(Outgoing {
                    topic: self.topics.dlq_topic.clone(),
                    key,
                    payload: payload.to_vec(),
                    headers: dead_letter_headers(&error, source),
                });
            }
            Disposition::Late { time_ms } => self.outgoing.push(Outgoing {
                topic: self.topics.late_topic.clone(),
                key,
                payload: payload.to_vec(),
                headers: late_headers(time_ms, watermark, source),
            }),
            Disposition::Processed(_) => {}
        }
        self.queue_alerts(alerts);
        self.uncommitted = true;
        if let Some(bounded) = &mut self.bounded {
            bounded.at_end.remove(&source.partition);
            bounded.last_message = Instant::now();
        }
    }

    fn queue_alerts(&mut self, alerts: Vec<crate::alert::Alert>) {
        for alert in alerts {
            let payload = serde_json::to_vec(&alert.document).unwrap_or_default();
            self.outgoing.push(Outgoing {
                topic: self.topics.alerts_topic.clone(),
                key: Some(alert.id.to_string().into_bytes()),
                payload,
                headers: alert_headers(&alert),
            });
        }
    }

    /// Hands queued outputs to the producer, waiting when its queue is full.
    async fn produce_outgoing(&mut self) -> anyhow::Result<()> {
        for out in std::mem::take(&mut self.outgoing) {
            let mut record = FutureRecord::to(&out.topic)
                .payload(&out.payload)
                .headers(out.headers.clone());
            if let Some(key) = &out.key {
                record = record.key(key);
            }
            loop {
                match self.producer.send_result(record) {
                    Ok(delivery) => {
                        self.pending.push(delivery);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        record = back;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err((e, _)) => return Err(e).context("queueing an output record"),
                }
            }
        }
        Ok(())
    }

    /// Periodic work: held updates and idle watermarks, then a commit.
    /// Returns true when a bounded run has read all its input.
    async fn on_tick(&mut self) -> anyhow::Result<bool> {
        let mut alerts = Vec::new();
        {
            let mut partitions = lock(&self.partitions);
            let now = now_ms();
            for engine in partitions.engines.values_mut() {
                engine.on_tick(now, &mut alerts);
            }
        }
        self.queue_alerts(alerts);
        self.produce_outgoing().await?;
        self.commit().await?;
        self.report_progress();
        Ok(self.input_drained())
    }

    /// Waits for every output to be acknowledged, then commits the input
    /// offsets of the records that produced them.
    async fn commit(&mut self) -> anyhow::Result<()> {
        if !self.uncommitted && self.pending.is_empty() {
            return Ok(());
        }
        let offsets = self.offsets_to_commit();
        for delivery in self.pending.drain(..) {
            match delivery.await {
                Ok(Ok(_)) => {}
                Ok(Err((e, _))) => return Err(e).context("an output record was not delivered"),
                Err(_) => anyhow::bail!("the producer dropped an output record"),
            }
        }
        if offsets.count() > 0 {
            self.consumer
                .commit(&offsets, CommitMode::Async)
                .context("committing input offsets")?;
        }
        self.uncommitted = false;
        Ok(())
    }

    fn offsets_to_commit(&self) -> TopicPartitionList {
        let partitions = lock(&self.partitions);
        let mut list = TopicPartitionList::new();
        for (p, next) in &partitions.next_offsets {
            let _ = list.add_partition_offset(&self.topics.input_topic, *p, Offset::Offset(*next));
        }
        list
    }

    fn input_drained(&self) -> bool {
        let Some(bounded) = &self.bounded else {
            return false;
        };
        let assigned = match self.consumer.assignment() {
            Ok(list) => partition_ids(&list),
            Err(_) => return false,
        };
        !assigned.is_empty()
            && assigned.iter().all(|p| bounded.at_end.contains(p))
            && bounded.last_message.elapsed() >= bounded.idle
    }

    /// End of a bounded run: every window closes and its final is sent.
    async fn finish_bounded(&mut self) -> anyhow::Result<()> {
        let mut alerts = Vec::new();
        {
            let mut partitions = lock(&self.partitions);
            for engine in partitions.engines.values_mut() {
                engine.close_all(&mut alerts);
            }
        }
        self.queue_alerts(alerts);
        self.produce_outgoing().await?;
        self.commit().await
    }

    fn report_progress(&mut self) {
        if self.last_report.elapsed() < Duration::from_secs(30) {
            return;
        }
        self.last_report = Instant::now();
        let totals = lock(&self.partitions).totals();
        info!(?totals, "progress");
    }

    /// Drains what is in flight and leaves the group. Each phase logs once.
    /// After a failure nothing is committed: the uncommitted input is
    /// replayed by whoever takes the partitions next.
    async fn shut_down(&mut self, commit: bool) {
        if commit {
            info!("shutdown: committing in-flight work");
            if let Err(e) = self.produce_outgoing().await.and(self.commit().await) {
                warn!(error = %e, "shutdown: in-flight work not committed; it will be replayed");
            }
        }
        if let Err(e) = self.producer.flush(Duration::from_secs(10)) {
            warn!(error = %e, "shutdown: producer flush incomplete");
        }
        let totals = lock(&self.partitions).totals();
        self.consumer.unsubscribe();
        info!(?totals, "shutdown complete");
    }
}

fn producer(client: &ClientArgs) -> anyhow::Result<FutureProducer> {
    let mut config = client.config();
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("compression.type", "lz4");
    client.apply_overrides(&mut config);
    config.create().context("creating the Kafka producer")
}

fn consumer(args: &RunArgs, context: ShellContext) -> anyhow::Result<StreamConsumer<ShellContext>> {
    let mut config = args.client.config();
    config
        .set("group.id", &args.group_id)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", "read_committed")
        .set(
            "enable.partition.eof",
            args.exit_when_idle_ms.is_some().to_string(),
        );
    args.client.apply_overrides(&mut config);
    config
        .create_with_context(context)
        .context("creating the Kafka consumer")
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

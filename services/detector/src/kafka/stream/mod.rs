//! `nvm-detector run`: the streaming shell.
//!
//! A consumer in a consumer group reads the input topic; each assigned
//! partition has its own [`PartitionEngine`](crate::engine::PartitionEngine)
//! whose window state is written to a compacted changelog topic and
//! restored from it when the partition is assigned. Every commit interval
//! the outputs, the state changes and the input offsets are made durable
//! together ([`sink`]): in one Kafka transaction (exactly-once, default) or
//! flushed before the offsets are committed (at-least-once).
//!
//! The event loop only chooses between the next message, the commit tick
//! and a shutdown signal; each branch calls one method.

mod core;
mod restore;
mod signals;
mod sink;

pub use self::core::Topology;
pub use signals::EXIT_SHUTDOWN_TIMEOUT;
pub use sink::Delivery;

use self::core::Core;
use super::client::ClientArgs;
use super::connect::{check_connection, CONNECT_TIMEOUT};
use super::statistics::StatsReporter;
use super::topics::{ensure_internal, ensure_outputs, partition_count, TopicSpec};
use crate::cli::EngineArgs;
use crate::engine::EngineConfig;
use crate::observe::server::MetricsArgs;
use crate::observe::Instruments;
use anyhow::Context as _;
use clap::Args;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, TopicPartitionList};
use sink::Sink;
use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tracing::{error, info, warn};

/// Settings of `run`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Stream")]
pub struct RunArgs {
    /// Consumer group; instances with the same group share the partitions.
    /// Also names the internal topics (`<group>.changelog`, `<group>.repartition`).
    #[arg(long, env = "NVM_GROUP_ID", default_value = "nvm-detector")]
    pub group_id: String,
    /// Delivery guarantee of alerts, dead letters, late records and state.
    #[arg(long, env = "NVM_DELIVERY", value_enum, default_value_t = Delivery::ExactlyOnce)]
    pub delivery: Delivery,
    /// This instance's stable name within the group; with exactly-once it
    /// forms the transactional id `<group>-<instance>`, so a restarted
    /// instance fences its former self. Defaults to the host name.
    #[arg(long, env = "NVM_INSTANCE_ID")]
    pub instance_id: Option<String>,
    /// Static group membership (`group.instance.id` = instance id): a
    /// restarted instance takes its partitions back at once, without a
    /// rebalance; a stopped one keeps them until its session times out.
    #[arg(long, env = "NVM_STATIC_MEMBERSHIP")]
    pub static_membership: bool,
    /// How often outputs, state and input offsets are committed, ms. Bounds
    /// both latency and the work redone after a crash.
    #[arg(long, env = "NVM_COMMIT_INTERVAL_MS", default_value_t = 100)]
    pub commit_interval_ms: u64,
    /// Broker-side timeout of an open transaction, ms: how long a crashed
    /// instance's transaction can hold back read_committed readers.
    #[arg(long, env = "NVM_TRANSACTION_TIMEOUT_MS", default_value_t = 10_000)]
    pub transaction_timeout_ms: u64,
    /// Re-key input records by this field through an internal repartition
    /// topic before windowing, for input topics not keyed by host.
    #[arg(long, env = "NVM_REPARTITION_BY")]
    pub repartition_by: Option<String>,
    /// Partitions of the repartition topic (default: those of the input).
    #[arg(long, env = "NVM_REPARTITION_PARTITIONS")]
    pub repartition_partitions: Option<i32>,
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
    /// On SIGTERM or SIGINT: how long the drain (commit of the work in
    /// flight, producer flush, leaving the group) may take before the
    /// process exits anyway with code 124, ms. A second signal exits at once
    /// with 128 + the signal number.
    #[arg(long, env = "NVM_SHUTDOWN_TIMEOUT_MS", default_value_t = 30_000)]
    pub shutdown_timeout_ms: u64,
    // The sections below come last: a flattened section's heading carries on
    // to the flags declared after it.
    #[command(flatten, next_help_heading = "Kafka")]
    pub client: ClientArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub topics: TopicNames,
    #[command(flatten)]
    pub metrics: MetricsArgs,
}

/// The topics the detector reads and writes.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Topics")]
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
    let mut config = args.engine.engine_config(
        args.update_interval_secs * 1000,
        args.idle_timeout_secs * 1000,
    )?;
    // The repartition stage keys records by a field no rule may read.
    if let Some(field) = &args.repartition_by {
        config.decode.keep = config.decode.keep.and(field);
    }
    let instance = args.instance_id.clone().unwrap_or_else(host_name);
    log_startup(&args, &config, &instance);
    let instruments = Instruments::new();
    crate::observe::server::start(&args.metrics, instruments.clone()).await?;
    let input = &args.topics.input_topic;
    tokio::task::block_in_place(|| check_connection(&args.client, input, CONNECT_TIMEOUT))?;
    let topology = prepare_topics(&args).await?;

    let transactional_id = format!("{}-{instance}", args.group_id);
    let statistics_ms = args.metrics.kafka_statistics_interval_ms;
    let sink = Sink::new(
        &args.client,
        args.delivery,
        &transactional_id,
        args.transaction_timeout_ms,
        StatsReporter::producer(&instruments, statistics_ms),
    )?;
    let core = Core::new(
        config,
        topology.clone(),
        args.client.clone(),
        sink,
        instruments,
    );
    let mut shell = Shell::new(&args, core, &topology, &instance)?;
    let outcome = shell.run().await;
    shell.shut_down(outcome.is_ok());
    outcome.map(|()| ExitCode::SUCCESS)
}

/// Checks the settings of `run` that a flag's parser alone cannot; each
/// message names the setting as flag and as `section.key` of the file.
///
/// # Errors
/// The first invalid setting.
pub fn check(args: &RunArgs) -> anyhow::Result<()> {
    let bad = |flag: &str, section: &str, why: &str| {
        Err(anyhow::anyhow!(
            "--{flag} (`{section}.{}`) {why}",
            flag.replace('-', "_")
        ))
    };
    args.client.validate()?;
    if args.commit_interval_ms == 0 {
        return bad("commit-interval-ms", "stream", "must be positive");
    }
    if args.update_interval_secs < 0 {
        return bad("update-interval-secs", "stream", "must not be negative");
    }
    if args.idle_timeout_secs <= 0 {
        return bad("idle-timeout-secs", "stream", "must be positive");
    }
    if args.group_id.trim().is_empty() {
        return bad("group-id", "stream", "must not be empty");
    }
    if args.transaction_timeout_ms < 1000 {
        return bad("transaction-timeout-ms", "stream", "must be at least 1000");
    }
    if args.repartition_partitions.is_some_and(|n| n < 1) {
        return bad("repartition-partitions", "stream", "must be at least 1");
    }
    if args
        .instance_id
        .as_deref()
        .is_some_and(|i| i.trim().is_empty())
    {
        return bad("instance-id", "stream", "must not be empty");
    }
    if args.shutdown_timeout_ms == 0 {
        return bad("shutdown-timeout-ms", "stream", "must be positive");
    }
    for (flag, topic) in [
        ("input-topic", &args.topics.input_topic),
        ("alerts-topic", &args.topics.alerts_topic),
        ("dlq-topic", &args.topics.dlq_topic),
        ("late-topic", &args.topics.late_topic),
    ] {
        if topic.trim().is_empty() {
            return bad(flag, "topics", "must not be empty");
        }
    }
    Ok(())
}

fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "nvm-detector".to_owned())
}

fn log_startup(args: &RunArgs, config: &EngineConfig, instance: &str) {
    let rules: Vec<String> = config
        .rules
        .rules()
        .iter()
        .map(|r| r.meta.to_string())
        .collect();
    info!(
        version = env!("CARGO_PKG_VERSION"),
        bootstrap = %args.client.bootstrap_servers,
        security = %args.client.security.summary(),
        properties = ?args.client.redacted_properties(),
        group = %args.group_id,
        instance,
        delivery = ?args.delivery,
        input = %args.topics.input_topic,
        alerts = %args.topics.alerts_topic,
        dlq = %args.topics.dlq_topic,
        late = %args.topics.late_topic,
        repartition_by = ?args.repartition_by,
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

/// Creates the output topics if missing, and the internal topics sized to
/// the partitions that carry state.
async fn prepare_topics(args: &RunArgs) -> anyhow::Result<Topology> {
    ensure_outputs(&args.client, &args.topics).await?;
    let input = &args.topics.input_topic;
    let input_partitions = partition_count(&args.client, input)?.with_context(|| {
        format!("input topic {input} does not exist (create it, e.g. with `nvm-detector topics`)")
    })?;

    let group = &args.group_id;
    let repartition = args
        .repartition_by
        .as_ref()
        .map(|_| format!("{group}.repartition"));
    let state_partitions = match &repartition {
        Some(name) => {
            let partitions = args.repartition_partitions.unwrap_or(input_partitions);
            ensure_internal(&args.client, internal(name, partitions, false)).await?;
            partitions
        }
        None => input_partitions,
    };
    let changelog = format!("{group}.changelog");
    ensure_internal(&args.client, internal(&changelog, state_partitions, true)).await?;
    Ok(Topology {
        input: input.clone(),
        alerts: args.topics.alerts_topic.clone(),
        dlq: args.topics.dlq_topic.clone(),
        late: args.topics.late_topic.clone(),
        read_partitions: (input_partitions
            + if repartition.is_some() {
                state_partitions
            } else {
                0
            }) as usize,
        changelog,
        repartition,
        repartition_by: args.repartition_by.clone().unwrap_or_default(),
    })
}

fn internal(name: &str, partitions: i32, compacted: bool) -> TopicSpec {
    TopicSpec {
        name: name.to_owned(),
        partitions,
        replication: 1,
        compacted,
    }
}

fn lock(core: &Mutex<Core>) -> MutexGuard<'_, Core> {
    // A panic while holding the lock leaves nothing half-written that a
    // reset would not undo; keep going with what is there.
    core.lock().unwrap_or_else(|e| e.into_inner())
}

/// Consumer callbacks: revocation commits the work in flight, assignment
/// restores state, both before the loop sees another record.
struct ShellContext {
    core: Arc<Mutex<Core>>,
    /// A failure inside a callback, handed to the loop.
    failure: Arc<Mutex<Option<anyhow::Error>>>,
    stats: StatsReporter,
}

impl ClientContext for ShellContext {
    fn stats(&self, statistics: Statistics) {
        self.stats.record(&statistics);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.stats.on_error(&error);
        super::client::log_client_error(error, reason);
    }
}

impl ConsumerContext for ShellContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let revoked = partitions(list);
            let outcome = lock(&self.core).on_revoke(consumer, &revoked);
            self.keep(outcome);
            info!(partitions = ?revoked, "partitions revoked");
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => {
                let assigned = partitions(list);
                info!(partitions = ?assigned, "partitions assigned");
                let outcome = lock(&self.core).on_assign(&assigned);
                self.keep(outcome);
            }
            Rebalance::Error(e) => warn!(error = %e, "rebalance failed"),
            Rebalance::Revoke(_) => {}
        }
    }
}

impl ShellContext {
    fn keep(&self, outcome: anyhow::Result<()>) {
        if let Err(e) = outcome {
            error!(error = %format!("{e:#}"), "rebalance handling failed");
            if let Ok(mut failure) = self.failure.lock() {
                failure.get_or_insert(e);
            }
        }
    }
}

fn partitions(list: &TopicPartitionList) -> Vec<(String, i32)> {
    list.elements()
        .iter()
        .map(|e| (e.topic().to_owned(), e.partition()))
        .collect()
}

/// State of a bounded run: which partitions are read to their end.
struct Bounded {
    idle: Duration,
    /// Partitions the group reads; a bounded run ends only once it holds
    /// them all (members that died keep theirs until their session ends).
    expected: usize,
    waiting_logged: bool,
    at_end: HashSet<(String, i32)>,
    last_message: Instant,
}

struct Shell {
    consumer: StreamConsumer<ShellContext>,
    core: Arc<Mutex<Core>>,
    failure: Arc<Mutex<Option<anyhow::Error>>>,
    commit_interval: Duration,
    shutdown_timeout: Duration,
    bounded: Option<Bounded>,
    last_report: Instant,
}

impl Shell {
    fn new(
        args: &RunArgs,
        core: Core,
        topology: &Topology,
        instance: &str,
    ) -> anyhow::Result<Self> {
        let stats = StatsReporter::consumer(
            core.instruments(),
            args.metrics.kafka_statistics_interval_ms,
        );
        let core = Arc::new(Mutex::new(core));
        let failure = Arc::new(Mutex::new(None));
        let context = ShellContext {
            core: core.clone(),
            failure: failure.clone(),
            stats,
        };
        let consumer = consumer(args, context, instance)?;
        let mut topics = vec![topology.input.as_str()];
        topics.extend(topology.repartition.as_deref());
        consumer.subscribe(&topics).context("subscribing")?;
        Ok(Shell {
            consumer,
            core,
            failure,
            commit_interval: Duration::from_millis(args.commit_interval_ms),
            shutdown_timeout: Duration::from_millis(args.shutdown_timeout_ms),
            bounded: args.exit_when_idle_ms.map(|ms| Bounded {
                idle: Duration::from_millis(ms),
                expected: topology.read_partitions,
                waiting_logged: false,
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
        let health = lock(&self.core).instruments().health.clone();
        let shutdown = signals::watch_signals(self.shutdown_timeout, health);
        loop {
            tokio::select! {
                message = self.consumer.recv() => {
                    let message = message.map(|m| m.detach());
                    self.on_receive(message)?;
                }
                _ = tick.tick() => {
                    if self.on_tick()? {
                        info!("input drained; closing all windows");
                        return self.finish_bounded();
                    }
                }
                () = shutdown.notified() => return Ok(()),
            }
        }
    }

    fn on_receive(&mut self, message: Result<OwnedMessage, KafkaError>) -> anyhow::Result<()> {
        self.check_failure()?;
        match message {
            Ok(message) => {
                lock(&self.core).on_message(&message);
                if let Some(bounded) = &mut self.bounded {
                    bounded
                        .at_end
                        .remove(&(message.topic().to_owned(), message.partition()));
                    bounded.last_message = Instant::now();
                }
            }
            Err(KafkaError::PartitionEOF(partition)) => self.on_partition_end(partition),
            Err(e) => warn!(error = %e, "consumer error; retrying"),
        }
        Ok(())
    }

    /// librdkafka names only the partition at its end; the topic is found
    /// in the assignment (the input and the repartition topic may both
    /// have that partition number, so both are marked).
    fn on_partition_end(&mut self, partition: i32) {
        let Some(bounded) = &mut self.bounded else {
            return;
        };
        if let Ok(list) = self.consumer.assignment() {
            for (topic, p) in partitions(&list) {
                if p == partition {
                    bounded.at_end.insert((topic, p));
                }
            }
        }
    }

    fn check_failure(&self) -> anyhow::Result<()> {
        match self.failure.lock().ok().and_then(|mut f| f.take()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Periodic work: held updates and idle watermarks, a commit, a reset
    /// after an aborted transaction. Returns true when a bounded run has
    /// read all its input.
    fn on_tick(&mut self) -> anyhow::Result<bool> {
        self.check_failure()?;
        let consumer = &self.consumer;
        tokio::task::block_in_place(|| {
            let mut core = lock(&self.core);
            core.on_tick();
            core.commit(consumer)?;
            if core.needs_reset() {
                core.reset(consumer)?;
            }
            anyhow::Ok(())
        })?;
        self.report_progress();
        Ok(self.input_drained())
    }

    fn input_drained(&mut self) -> bool {
        let Some(bounded) = &mut self.bounded else {
            return false;
        };
        let assigned = match self.consumer.assignment() {
            Ok(list) => partitions(&list),
            Err(_) => return false,
        };
        let drained = !assigned.is_empty()
            && lock(&self.core).is_ready()
            && assigned.iter().all(|p| bounded.at_end.contains(p))
            && bounded.last_message.elapsed() >= bounded.idle;
        if drained && assigned.len() < bounded.expected {
            if !bounded.waiting_logged {
                bounded.waiting_logged = true;
                warn!(
                    assigned = assigned.len(),
                    expected = bounded.expected,
                    "bounded run: what is assigned is read, but other members (perhaps crashed ones, until their session times out) hold the other partitions; waiting for them"
                );
            }
            return false;
        }
        drained
    }

    /// End of a bounded run: every window closes and its final is sent.
    fn finish_bounded(&mut self) -> anyhow::Result<()> {
        let consumer = &self.consumer;
        tokio::task::block_in_place(|| {
            let mut core = lock(&self.core);
            core.close_all();
            core.commit(consumer)?;
            if core.needs_reset() {
                anyhow::bail!("the final commit was aborted; run again to finish");
            }
            Ok(())
        })
    }

    fn report_progress(&mut self) {
        if self.last_report.elapsed() < Duration::from_secs(30) {
            return;
        }
        self.last_report = Instant::now();
        let totals = lock(&self.core).totals();
        info!(?totals, "progress");
    }

    /// Commits what is in flight (unless the run failed: then it is rolled
    /// back and replayed by whoever takes the partitions) and leaves the group.
    fn shut_down(&mut self, commit: bool) {
        let consumer = &self.consumer;
        let mut core = lock(&self.core);
        if commit {
            info!("shutdown: committing in-flight work");
            let committed = tokio::task::block_in_place(|| core.commit(consumer));
            if let Err(e) = committed {
                warn!(error = %format!("{e:#}"), "shutdown: in-flight work not committed; it will be replayed");
            }
        } else {
            core.abort();
        }
        core.flush();
        let totals = core.totals();
        drop(core);
        self.consumer.unsubscribe();
        info!(?totals, "shutdown complete");
    }
}

fn consumer(
    args: &RunArgs,
    context: ShellContext,
    instance: &str,
) -> anyhow::Result<StreamConsumer<ShellContext>> {
    let config = args.client.consumer_config(|config| {
        context.stats.configure(config);
        if args.static_membership {
            config.set("group.instance.id", instance);
        }
        config
            .set("group.id", &args.group_id)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("isolation.level", "read_committed")
            .set("partition.assignment.strategy", "cooperative-sticky")
            .set(
                "enable.partition.eof",
                args.exit_when_idle_ms.is_some().to_string(),
            );
    })?;
    config
        .create_with_context(context)
        .context("creating the Kafka consumer")
}

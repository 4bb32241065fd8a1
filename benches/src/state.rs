//! Window state: memory per open group, measured in-process with the
//! counting allocator, and the time `nvm-detector run` takes to restore
//! open groups from its changelog when it starts.

use crate::alloc::Counting;
use crate::detector::{stop_child, Detector, Mode, RunTopics};
use crate::kafka::{check_delivered, record, send, Kafka};
use crate::latency::{probe_line, probe_src};
use crate::sys;
use anyhow::{bail, Context as _};
use nvm_detector::alert::Alert;
use nvm_detector::engine::{EngineConfig, PartitionEngine};
use nvm_detector::window::changelog;
use nvm_detector::window::{Change, GroupId, GroupState, Meta};
use rdkafka::producer::Producer;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{Duration, Instant};

/// 2026-07-14T09:00:00Z: every group of a measurement in one window.
const WINDOW_START_MS: i64 = 1_784_019_600_000;

/// Memory held per open group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupMemory {
    pub groups: u64,
    pub open_groups: usize,
    /// Heap the engine holds per group, by the counting allocator.
    pub heap_bytes_per_group: f64,
    /// Resident memory growth per group.
    pub rss_bytes_per_group: Option<f64>,
}

/// Opens `groups` groups (one rclone record each, each from its own host,
/// all in one window) in one engine, drains its changelog bookkeeping as
/// the shell does at each commit, and divides the memory it then holds.
pub fn group_memory(config: &EngineConfig, groups: u64) -> GroupMemory {
    let lines: Vec<Vec<u8>> = (0..groups)
        .map(|i| probe_line(i, WINDOW_START_MS + (i % 3_000_000) as i64))
        .collect();
    let rss_before = sys::rss_bytes();
    let counting = Counting::start();
    let mut engine = PartitionEngine::new(config.clone());
    let mut alerts: Vec<Alert> = Vec::with_capacity(4);
    let now_ms = WINDOW_START_MS;
    for line in &lines {
        engine.on_message(line, now_ms, &mut alerts);
        alerts.clear();
    }
    drop(engine.drain_changes());
    let counted = counting.stop();
    let rss_after = sys::rss_bytes();
    let open_groups = engine.state().open_groups();
    let per_group = |bytes: f64| bytes / groups.max(1) as f64;
    GroupMemory {
        groups,
        open_groups,
        heap_bytes_per_group: per_group(counted.live_bytes as f64),
        rss_bytes_per_group: match (rss_before, rss_after) {
            (Some(b), Some(a)) => Some(per_group(a.saturating_sub(b) as f64)),
            _ => None,
        },
    }
}

/// A restore of `groups` groups after a restart.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreRun {
    pub groups: u64,
    /// Restored groups, as the detector logs them.
    pub restored_groups: u64,
    /// Changelog records the detector read to restore them.
    pub changelog_records: u64,
    /// The detector's own restore time (`state restored`, `elapsed_ms`).
    pub restore_secs: f64,
    /// From spawning the restarted detector to its `state restored`.
    pub startup_secs: f64,
}

/// Gives a detector a changelog of `groups` open groups, starts it, and
/// times the restore.
///
/// The changelog is written directly, with the detector's own codec and
/// the state its engine builds for an rclone record: the same bytes it
/// would write after taking one such record per group, without making it
/// process (and alert on) a million records first.
///
/// # Errors
/// Kafka failures, or a detector that does not restore its state.
pub fn restore(
    detector: &Detector,
    config: &EngineConfig,
    topics: &RunTopics,
    group: &str,
    groups: u64,
    logs: &Path,
) -> anyhow::Result<RestoreRun> {
    let kafka = &detector.kafka;
    let partitions = kafka.partitions(&topics.input)?.len() as i32;

    // First life: the detector creates its topics, the changelog among them.
    let mode = Mode::default();
    let mut first = detector.start(topics, group, mode, &logs.join("create.log"))?;
    stop_child(&mut first);
    write_changelog(
        kafka,
        config,
        &format!("{group}.changelog"),
        partitions,
        groups,
    )?;

    // Second life: restore.
    let log = logs.join("restore.log");
    let started = Instant::now();
    let mut second = detector.start(topics, group, mode, &log)?;
    let restored = wait_restored(&log, Duration::from_secs(1800));
    let startup_secs = started.elapsed().as_secs_f64();
    stop_child(&mut second);
    let restored = restored?;
    Ok(RestoreRun {
        groups,
        restored_groups: restored.groups,
        changelog_records: restored.records,
        restore_secs: restored.elapsed_ms as f64 / 1000.0,
        startup_secs,
    })
}

/// Writes `groups` open groups, spread over the partitions, and each
/// partition's meta record, as the detector's changelog holds them.
fn write_changelog(
    kafka: &Kafka,
    config: &EngineConfig,
    topic: &str,
    partitions: i32,
    groups: u64,
) -> anyhow::Result<()> {
    let (group, state, meta) = template(config)?;
    let src = config.rules.rules()[0]
        .plan
        .stats
        .by
        .iter()
        .position(|f| f == "src")
        .context("the rule does not group by src")?;
    let producer = kafka.producer(20)?;
    for i in 0..groups {
        let mut id = group.clone();
        id.key[src] = probe_src(i);
        let (key, value) = changelog::encode(&Change::Group(id, Some(state.clone())));
        let partition = (i % partitions as u64) as i32;
        let mut out = record(topic).partition(partition).key(&key);
        if let Some(value) = &value {
            out = out.payload(value);
        }
        send(&producer, out)?;
    }
    let (key, value) = changelog::encode(&Change::Meta(meta));
    for partition in 0..partitions {
        let mut out = record(topic).partition(partition).key(&key);
        if let Some(value) = &value {
            out = out.payload(value);
        }
        send(&producer, out)?;
    }
    producer
        .flush(Duration::from_secs(300))
        .context("flushing the changelog")?;
    check_delivered(&producer)
}

/// The group, state and meta changes the engine records for one rclone
/// record.
fn template(config: &EngineConfig) -> anyhow::Result<(GroupId, GroupState, Meta)> {
    let mut engine = PartitionEngine::new(config.clone());
    let mut alerts: Vec<Alert> = Vec::new();
    engine.on_message(
        &probe_line(0, WINDOW_START_MS),
        WINDOW_START_MS,
        &mut alerts,
    );
    let mut group = None;
    let mut meta = None;
    for change in engine.drain_changes() {
        match change {
            Change::Group(id, Some(state)) => group = Some((id, state)),
            Change::Meta(m) => meta = Some(m),
            Change::Group(_, None) => {}
        }
    }
    match (group, meta) {
        (Some((id, state)), Some(meta)) => Ok((id, state, meta)),
        _ => bail!("the rclone record opened no group"),
    }
}

/// What the detector's `state restored` log lines report, summed.
struct Restored {
    groups: u64,
    records: u64,
    elapsed_ms: u64,
}

/// Waits for the detector's `state restored` log lines.
fn wait_restored(log: &Path, timeout: Duration) -> anyhow::Result<Restored> {
    let started = Instant::now();
    while started.elapsed() < timeout {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let restores: Vec<serde_json::Value> = text
            .lines()
            .filter(|l| l.contains("state restored"))
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if !restores.is_empty() {
            let sum = |name: &str| -> u64 {
                restores
                    .iter()
                    .map(|v| v["fields"][name].as_u64().unwrap_or(0))
                    .sum()
            };
            return Ok(Restored {
                groups: sum("groups"),
                records: sum("records"),
                elapsed_ms: sum("elapsed_ms"),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!(
        "no `state restored` in {} within {} s",
        log.display(),
        timeout.as_secs()
    )
}

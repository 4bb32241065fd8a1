//! The engine alone: `PartitionEngine::on_message` over lines held in
//! memory, on one thread, with the bundled rules and the stream's window
//! settings. What it costs per record, in time, allocations and memory.

use crate::alloc::Counting;
use crate::corpus::Corpus;
use crate::sys;
use nvm_detector::alert::Alert;
use nvm_detector::engine::{EngineConfig, PartitionEngine};
use nvm_detector::rule::RuleSet;
use nvm_detector::window::WindowConfig;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The engine as `nvm-detector run` configures it by default.
///
/// # Errors
/// Rules that do not load.
pub fn stream_config(rules_dir: &Path) -> anyhow::Result<EngineConfig> {
    let rules = RuleSet::load(rules_dir)?;
    Ok(EngineConfig {
        // As `run` decodes: only the fields the rules read.
        decode: nvm_detector::decode::DecodeOptions {
            keep: nvm_detector::decode::Keep::only(rules.field_names()),
            ..Default::default()
        },
        rules: Arc::new(rules),
        windows: WindowConfig::default(),
    })
}

/// One timed pass over a corpus.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EngineRun {
    pub records: u64,
    pub bytes: u64,
    pub wall_secs: f64,
    pub cpu_secs: f64,
    pub records_per_sec: f64,
    /// Records per second of this thread's CPU time: the rate of one core
    /// whatever else the machine runs.
    pub records_per_cpu_sec: f64,
    pub bytes_per_sec: f64,
    pub dead_lettered: u64,
    pub late: u64,
    pub matched: u64,
    pub alerts: u64,
    /// Peak resident memory of the pass above the resident memory before
    /// it (the corpus is already loaded), if Linux let the peak be reset.
    pub peak_rss_growth_bytes: Option<u64>,
    /// From a second, counted pass (counting slows it, so it is not timed).
    pub allocations_per_record: Option<f64>,
    pub allocated_bytes_per_record: Option<f64>,
    /// Highest heap in use above the start of the counted pass.
    pub peak_heap_growth_bytes: Option<i64>,
}

/// Processing time as the shell gives it: the wall clock, read every few
/// records so that reading it costs nothing measurable.
struct Clock {
    base_ms: i64,
    started: Instant,
    now_ms: i64,
}

impl Clock {
    fn new() -> Clock {
        let base_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        Clock {
            base_ms,
            started: Instant::now(),
            now_ms: base_ms,
        }
    }

    fn now_ms(&mut self, i: usize) -> i64 {
        if i % 256 == 0 {
            self.now_ms = self.base_ms + self.started.elapsed().as_millis() as i64;
        }
        self.now_ms
    }
}

/// Runs every line through a fresh engine; returns the engine and the
/// alerts rendered (alerts are counted and dropped as they come).
fn pass(config: &EngineConfig, corpus: &Corpus) -> (PartitionEngine, u64) {
    let mut engine = PartitionEngine::new(config.clone());
    let mut alerts: Vec<Alert> = Vec::with_capacity(16);
    let mut clock = Clock::new();
    let mut rendered = 0u64;
    for (i, line) in corpus.iter().enumerate() {
        let now = clock.now_ms(i);
        std::hint::black_box(engine.on_message(line, now, &mut alerts));
        rendered += alerts.len() as u64;
        alerts.clear();
    }
    engine.close_all(&mut alerts);
    rendered += alerts.len() as u64;
    (engine, rendered)
}

/// Warms up on the first lines, then times one pass over the whole corpus
/// and counts allocations in a second one.
pub fn run(config: &EngineConfig, corpus: &Corpus, count_allocations: bool) -> EngineRun {
    let warm_lines = corpus.len().min(50_000);
    let warm = Corpus::from_bytes(
        corpus
            .iter()
            .take(warm_lines)
            .flat_map(|l| l.iter().copied().chain(std::iter::once(b'\n')))
            .collect(),
    );
    std::hint::black_box(pass(config, &warm));
    drop(warm);

    let rss_before = sys::rss_bytes();
    let peak_reset = sys::reset_peak_rss();
    let cpu_before = sys::thread_cpu_time();
    let started = Instant::now();
    let (engine, alerts) = pass(config, corpus);
    let wall = started.elapsed().as_secs_f64();
    let cpu = (sys::thread_cpu_time() - cpu_before).as_secs_f64();
    let peak_rss_growth_bytes = match (peak_reset, rss_before, sys::peak_rss_bytes()) {
        (true, Some(before), Some(peak)) => Some(peak.saturating_sub(before)),
        _ => None,
    };
    let counters = *engine.counters();
    drop(engine);

    let records = corpus.len() as u64;
    let bytes = corpus.bytes();
    let mut run = EngineRun {
        records,
        bytes,
        wall_secs: wall,
        cpu_secs: cpu,
        records_per_sec: records as f64 / wall,
        records_per_cpu_sec: records as f64 / cpu,
        bytes_per_sec: bytes as f64 / wall,
        dead_lettered: counters.dead_lettered,
        late: counters.late,
        matched: counters.matched,
        alerts,
        peak_rss_growth_bytes,
        allocations_per_record: None,
        allocated_bytes_per_record: None,
        peak_heap_growth_bytes: None,
    };
    if count_allocations && Counting::installed() {
        let counting = Counting::start();
        let (engine, _) = pass(config, corpus);
        let counted = counting.read();
        drop(engine);
        counting.stop();
        run.allocations_per_record = Some(counted.allocations as f64 / records as f64);
        run.allocated_bytes_per_record = Some(counted.allocated_bytes as f64 / records as f64);
        run.peak_heap_growth_bytes = Some(counted.peak_live_bytes);
    }
    run
}

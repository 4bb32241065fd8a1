//! The whole comparison, in order: corpora, the engine offline, the broker
//! (producer and plain consumer), the detector end to end, the Kafka
//! Streams peer (checked first, then timed), latency, and state. Every
//! measurement runs `runs` times and reports the median.
//!
//! Topics, consumer groups and Kafka Streams application ids all start with
//! one prefix per suite run (`nvmbench.<unix seconds>`), and are deleted at
//! the end, so runs never see each other's data.

mod latency;
mod peer;
mod state;
mod throughput;

use crate::corpus::{self, Encoding, Spec};
use crate::detector::{Capabilities, Detector};
use crate::kafka::Kafka;
use crate::peer::Peer;
use crate::report::{Measurement, Ratio, Results, Target, Unavailable};
use crate::{machine, report};
use anyhow::{bail, Context as _};
use serde::de::DeserializeOwned;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

pub use peer::closing_line;

/// Sizes of one suite run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Sizes {
    pub smoke: bool,
    pub runs: usize,
    /// Records of each offline engine corpus (JSON, key=value).
    pub engine_records: u64,
    /// Records of the topic every Kafka throughput run reads (mixed). Rates
    /// are taken from the first record to the last, so they do not need a
    /// long topic; at the detector's current 4,000 records/s (commit-bound)
    /// a million would take four minutes per run.
    pub topic_records: u64,
    /// Records of the sample the peer is checked on (mixed).
    pub sample_records: u64,
    /// Rclone sessions in the sample: each yields a row or two to compare.
    pub sample_rclone_sessions: usize,
    pub input_partitions: i32,
    /// Latency at the target rate, in every delivery mode.
    pub latency: crate::latency::Settings,
    /// Further input rates at which exactly-once latency is measured: one
    /// the detector keeps up with shows its latency unsaturated.
    pub latency_extra_rates: Vec<u64>,
    pub state_groups: u64,
    pub restore_groups: Vec<u64>,
    pub peer_threads: u32,
    /// An extra exactly-once end-to-end configuration with this commit
    /// interval (the default is 100 ms).
    pub long_commit_interval_ms: Option<u64>,
}

impl Sizes {
    /// The full suite: a million records offline, `runs` runs.
    pub fn full(runs: usize) -> Sizes {
        Sizes {
            smoke: false,
            runs,
            engine_records: 1_000_000,
            topic_records: 300_000,
            sample_records: 100_000,
            sample_rclone_sessions: 200,
            input_partitions: 6,
            latency: crate::latency::Settings {
                rate: 20_000,
                warmup_secs: 5,
                measure_secs: 30,
                probe_every: 200,
            },
            latency_extra_rates: vec![1_000],
            state_groups: 100_000,
            restore_groups: vec![100_000, 1_000_000],
            peer_threads: 2,
            long_commit_interval_ms: Some(1000),
        }
    }

    /// Tiny sizes that only keep the suite working (two to three minutes).
    pub fn smoke(runs: usize) -> Sizes {
        Sizes {
            smoke: true,
            runs,
            engine_records: 20_000,
            topic_records: 20_000,
            sample_records: 10_000,
            sample_rclone_sessions: 40,
            input_partitions: 3,
            latency: crate::latency::Settings {
                rate: 2_000,
                warmup_secs: 2,
                measure_secs: 3,
                probe_every: 50,
            },
            latency_extra_rates: vec![500],
            state_groups: 5_000,
            restore_groups: vec![2_000],
            peer_threads: 2,
            long_commit_interval_ms: Some(1000),
        }
    }
}

/// Where things are.
#[derive(Debug, Clone)]
pub struct Paths {
    pub repo: PathBuf,
    /// `target/release`.
    pub bin_dir: PathBuf,
    /// Scratch space: corpora, logs, Kafka Streams state.
    pub work: PathBuf,
    /// Where `<timestamp>.json` and `latest.json` are written.
    pub results_dir: PathBuf,
}

/// Runs the suite and writes the results; returns them and the path of
/// the timestamped file.
///
/// # Errors
/// Anything that stops the suite from measuring at all; a part that
/// cannot run is reported as unavailable instead.
pub fn run(paths: &Paths, sizes: &Sizes, bootstrap: &str) -> anyhow::Result<(Results, PathBuf)> {
    let started = Instant::now();
    let suite = Suite::new(paths, sizes, bootstrap)?;
    let outcome = suite.measure_all();
    suite.clean_up();
    let mut results = outcome?;
    results.suite_secs = started.elapsed().as_secs_f64();
    results.machine.load_average_end = crate::sys::load_average();
    let path = results.write_to(&paths.results_dir)?;
    Ok((results, path))
}

struct Suite<'a> {
    paths: &'a Paths,
    sizes: &'a Sizes,
    kafka: Kafka,
    detector: Detector,
    capabilities: Capabilities,
    peer: Peer,
    prefix: String,
    logs: PathBuf,
}

/// Everything measured so far.
#[derive(Default)]
struct Collected {
    measurements: Vec<Measurement>,
    ratios: Vec<Ratio>,
    checks: Vec<report::Check>,
    unavailable: Vec<Unavailable>,
}

impl Collected {
    fn median(&self, name: &str) -> Option<f64> {
        self.measurements
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.median)
    }

    /// Adds the ratio of two medians measured before.
    fn ratio(&mut self, numerator: &str, denominator: &str, target: f64, note: Option<String>) {
        let (Some(n), Some(d)) = (self.median(numerator), self.median(denominator)) else {
            return;
        };
        let value = n / d;
        self.ratios.push(Ratio {
            name: format!("{} / {}", short_name(numerator), short_name(denominator)),
            numerator: numerator.to_owned(),
            denominator: denominator.to_owned(),
            value,
            target: Some(Target::at_least(target, value)),
            note,
        });
    }

    fn unavailable(&mut self, name: &str, reason: impl Into<String>) {
        let reason = reason.into();
        eprintln!("nvm-bench: not measured: {name}: {reason}");
        self.unavailable.push(Unavailable {
            name: name.to_owned(),
            reason,
        });
    }
}

/// A measurement's name without its unit suffix.
fn short_name(name: &str) -> &str {
    name.strip_suffix(".records_per_sec").unwrap_or(name)
}

/// Offline engine throughput goal, records per CPU second (one core).
const ENGINE_TARGET: f64 = 500_000.0;
/// End to end, as a share of the plain consumer.
const CEILING_SHARE_TARGET: f64 = 0.5;
/// End to end, as a multiple of the Kafka Streams peer.
const PEER_MULTIPLE_TARGET: f64 = 3.0;
/// Latency goal, p99 in ms.
const P99_TARGET_MS: f64 = 250.0;

const MIB: f64 = 1024.0 * 1024.0;

fn progress(what: &str) {
    eprintln!("nvm-bench: {what}");
}

impl<'a> Suite<'a> {
    fn new(paths: &'a Paths, sizes: &'a Sizes, bootstrap: &str) -> anyhow::Result<Suite<'a>> {
        let kafka = Kafka {
            bootstrap: bootstrap.to_owned(),
        };
        let detector = Detector {
            bin: paths.bin_dir.join("nvm-detector"),
            rules: paths.repo.join("rules"),
            kafka: kafka.clone(),
        };
        if !detector.bin.is_file() {
            bail!(
                "{} is missing: build it with cargo build --release -p nvm-detector",
                detector.bin.display()
            );
        }
        let capabilities = detector.capabilities()?;
        let peer = Peer {
            target: paths.repo.join("benches/streams-peer/target"),
            kafka: kafka.clone(),
            threads: sizes.peer_threads,
        };
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let prefix = format!("nvmbench.{stamp}");
        let logs = paths.work.join(&prefix);
        std::fs::create_dir_all(&logs)?;
        progress(&format!("logs and scratch files in {}", logs.display()));
        Ok(Suite {
            paths,
            sizes,
            kafka,
            detector,
            capabilities,
            peer,
            prefix,
            logs,
        })
    }

    fn name(&self, suffix: &str) -> String {
        format!("{}.{suffix}", self.prefix)
    }

    /// Runs `nvm-bench SUBCOMMAND ARGS` and reads the JSON it prints.
    fn child<T: DeserializeOwned>(&self, args: &[&str]) -> anyhow::Result<T> {
        let me = std::env::current_exe().context("locating nvm-bench")?;
        let out = Command::new(me)
            .args(args)
            .env("KAFKA_BOOTSTRAP", &self.kafka.bootstrap)
            .output()
            .with_context(|| format!("running nvm-bench {}", args.join(" ")))?;
        if !out.status.success() {
            bail!(
                "nvm-bench {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .unwrap_or("");
        serde_json::from_str(line)
            .with_context(|| format!("reading the output of nvm-bench {}", args.join(" ")))
    }

    fn rules_arg(&self) -> String {
        self.detector.rules.display().to_string()
    }

    fn measure_all(&self) -> anyhow::Result<Results> {
        let machine = machine::describe(&self.paths.repo);
        let mut c = Collected::default();
        let corpora = self.corpora()?;

        self.engine(&corpora, &mut c)?;
        let topic = self.name("flows");
        self.fill(&topic, &corpora.mixed, &mut c)?;
        self.ceiling(&topic, &mut c)?;
        self.end_to_end(&topic, &mut c)?;
        self.streams_peer(&topic, &corpora.sample, &mut c)?;
        self.latency(&corpora.paced, &mut c)?;
        self.state(&mut c)?;

        let file_name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
        let settings = json!({
            "sizes": self.sizes,
            "detector": self.capabilities,
            "corpora": {
                "generator": "nvm-gen (library), default fleet, time span and rclone mix",
                "engine_json": file_name(&corpora.json),
                "engine_kv": file_name(&corpora.kv),
                "topic": file_name(&corpora.mixed),
                "sample": file_name(&corpora.sample),
                "latency_load": file_name(&corpora.paced),
            },
            "broker": self.kafka.bootstrap,
        });
        Ok(Results {
            format: report::FORMAT,
            machine,
            settings,
            measurements: c.measurements,
            ratios: c.ratios,
            checks: c.checks,
            unavailable: c.unavailable,
            suite_secs: 0.0,
        })
    }

    fn corpora(&self) -> anyhow::Result<Corpora> {
        let dir = self.paths.work.join("corpus");
        let gen = |encoding, records, seed| -> anyhow::Result<PathBuf> {
            let spec = Spec {
                encoding,
                records,
                seed,
                rclone_sessions: None,
            };
            progress(&format!("generating {}", spec.file_name()));
            corpus::generate(&dir, &spec)
        };
        let s = self.sizes;
        // The sample has many rclone sessions: rows are what it checks.
        let sample = Spec {
            encoding: Encoding::Mixed,
            records: s.sample_records,
            seed: 4,
            rclone_sessions: Some(s.sample_rclone_sessions),
        };
        progress(&format!("generating {}", sample.file_name()));
        // The paced load sends this many; rclone records become probes.
        let l = &s.latency;
        let paced = l.rate * (l.warmup_secs + l.measure_secs) * 11 / 10 + 1000;
        Ok(Corpora {
            json: gen(Encoding::Json, s.engine_records, 1)?,
            kv: gen(Encoding::Kv, s.engine_records, 2)?,
            mixed: gen(Encoding::Mixed, s.topic_records, 3)?,
            sample: corpus::generate(&dir, &sample)?,
            paced: gen(Encoding::Mixed, paced, 5)?,
        })
    }

    /// The delivery modes to measure: each value of `--delivery`, or the
    /// build's only mode when it has no such flag.
    fn modes(&self) -> Vec<(String, Option<String>)> {
        if self.capabilities.delivery_modes.is_empty() {
            return vec![("at-least-once".to_owned(), None)];
        }
        self.capabilities
            .delivery_modes
            .iter()
            .map(|m| (m.clone(), Some(m.clone())))
            .collect()
    }

    /// The configurations measured end to end: each delivery mode with the
    /// default commit interval, then exactly-once with a longer one, which
    /// shows how much of the time commits take.
    fn variants(&self) -> Vec<throughput::Variant> {
        let mut variants: Vec<throughput::Variant> = self
            .modes()
            .into_iter()
            .map(|(name, delivery)| throughput::Variant {
                name,
                delivery,
                commit_interval_ms: None,
            })
            .collect();
        let exactly_once = self
            .capabilities
            .delivery_modes
            .iter()
            .any(|m| m == "exactly-once");
        if let (Some(ms), true) = (self.sizes.long_commit_interval_ms, exactly_once) {
            variants.push(throughput::Variant {
                name: format!("exactly-once-commit-{ms}ms"),
                delivery: Some("exactly-once".to_owned()),
                commit_interval_ms: Some(ms),
            });
        }
        variants
    }

    /// Deletes this run's topics and consumer groups.
    fn clean_up(&self) {
        progress("deleting this run's topics and consumer groups");
        match self.kafka.topics_with_prefix(&self.prefix) {
            Ok(topics) => {
                if let Err(e) = self.kafka.delete_topics(&topics) {
                    eprintln!("nvm-bench: warning: deleting topics: {e:#}");
                }
            }
            Err(e) => eprintln!("nvm-bench: warning: listing topics: {e:#}"),
        }
        match self.kafka.groups_with_prefix(&self.prefix) {
            Ok(groups) => {
                if let Err(e) = self.kafka.delete_groups(&groups) {
                    eprintln!("nvm-bench: warning: deleting consumer groups: {e:#}");
                }
            }
            Err(e) => eprintln!("nvm-bench: warning: listing consumer groups: {e:#}"),
        }
    }
}

struct Corpora {
    json: PathBuf,
    kv: PathBuf,
    mixed: PathBuf,
    sample: PathBuf,
    paced: PathBuf,
}

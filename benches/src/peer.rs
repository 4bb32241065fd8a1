//! The Kafka Streams peer (`benches/streams-peer`): running it, and checking
//! that its final rows are the detector's before any speed is compared.

use crate::detector::wait_with_timeout;
use crate::kafka::Kafka;
use anyhow::{bail, Context as _};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The Kafka Streams release the peer is built with (its `pom.xml`).
pub const KAFKA_STREAMS_VERSION: &str = "4.1.1";

/// Unusable input records get a negative event time, which Kafka Streams
/// drops with a warning per record; they are counted instead.
const QUIET_RECORD_QUEUE: &str =
    "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.streams.processor.internals.RecordQueue=error";

/// What one peer run reads and writes.
#[derive(Debug, Clone)]
pub struct RunSpec<'a> {
    pub input: &'a str,
    pub output: &'a str,
    /// Kafka Streams' `application.id`: its consumer group and the prefix
    /// of its internal topics.
    pub app_id: &'a str,
    /// Input records to take before closing.
    pub expect: u64,
    pub linger: Duration,
    pub state_dir: &'a Path,
    pub log: &'a Path,
}

/// The built peer: `mvn package` output.
#[derive(Debug, Clone)]
pub struct Peer {
    /// `benches/streams-peer/target`.
    pub target: PathBuf,
    pub kafka: Kafka,
    /// Stream threads (Kafka Streams' `num.stream.threads`).
    pub threads: u32,
}

/// One peer run.
#[derive(Debug, Clone, Serialize)]
pub struct PeerRun {
    /// From spawning the JVM to its exit (after it processed every record
    /// and closed, committing): startup, rebalance, processing, close.
    pub secs: f64,
    /// What the peer measured itself, from its `main`: first RUNNING (tasks
    /// assigned), all records through the filter, and closed.
    pub running_secs: f64,
    pub done_secs: f64,
    pub closed_secs: f64,
    pub records: u64,
    pub invalid: u64,
}

impl PeerRun {
    /// From RUNNING to the last record through: processing alone, as the
    /// plain consumer's first-to-last record.
    pub fn steady_secs(&self) -> Option<f64> {
        (self.running_secs > 0.0 && self.done_secs > self.running_secs)
            .then_some(self.done_secs - self.running_secs)
    }
}

/// The peer's JSON line on stdout.
#[derive(serde::Deserialize)]
struct Reported {
    records: u64,
    invalid: u64,
    done: bool,
    running_s: f64,
    done_s: f64,
    closed_s: f64,
}

impl Peer {
    /// Whether `mvn package` has been run.
    pub fn is_built(&self) -> bool {
        self.target.join("streams-peer.jar").is_file() && self.target.join("lib").is_dir()
    }

    /// Runs the peer until it has taken `spec.expect` records, then (after
    /// `spec.linger`, for rows still in flight) lets it close.
    ///
    /// # Errors
    /// A JVM that fails, times out or reports no completion.
    pub fn run(&self, spec: &RunSpec<'_>) -> anyhow::Result<PeerRun> {
        let classpath = format!(
            "{}:{}",
            self.target.join("streams-peer.jar").display(),
            self.target.join("lib/*").display()
        );
        let log = spec.log;
        let log_file = std::fs::File::create(log)?;
        let started = Instant::now();
        let child = Command::new("java")
            .args(["-Xms1g", "-Xmx2g", "-XX:+UseG1GC"])
            .arg("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn")
            .arg(QUIET_RECORD_QUEUE)
            .args(["-cp", &classpath, "nvm.peer.Main"])
            .args(["--bootstrap", &self.kafka.bootstrap])
            .args(["--input", spec.input, "--output", spec.output])
            .args(["--app-id", spec.app_id])
            .args(["--threads", &self.threads.to_string()])
            .args(["--expect", &spec.expect.to_string()])
            .args(["--linger-ms", &spec.linger.as_millis().to_string()])
            .arg("--state-dir")
            .arg(spec.state_dir)
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .context("starting the Kafka Streams peer (java)")?;
        let mut child = child;
        let status = wait_with_timeout(&mut child, Duration::from_secs(1800))?;
        let secs = started.elapsed().as_secs_f64();
        let mut stdout = String::new();
        if let Some(mut out) = child.stdout.take() {
            std::io::Read::read_to_string(&mut out, &mut stdout)?;
        }
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .unwrap_or("");
        let reported: Reported = serde_json::from_str(line).with_context(|| {
            format!(
                "the peer reported no result ({status}); log: {}",
                log.display()
            )
        })?;
        if !status.success() || !reported.done {
            bail!("the peer did not finish ({status}); log: {}", log.display());
        }
        Ok(PeerRun {
            secs,
            running_secs: reported.running_s,
            done_secs: reported.done_s,
            closed_secs: reported.closed_s,
            records: reported.records,
            invalid: reported.invalid,
        })
    }
}

/// The outcome of comparing final rows.
#[derive(Debug, Clone, Serialize)]
pub struct Equivalence {
    pub detector_rows: usize,
    pub peer_rows: usize,
    pub identical: bool,
    /// A few rows only one side has, canonical JSON.
    pub only_detector: Vec<String>,
    pub only_peer: Vec<String>,
}

/// Compares rows as sets of canonical JSON (keys sorted).
pub fn compare(detector: &[serde_json::Value], peer: &[serde_json::Value]) -> Equivalence {
    let a: BTreeSet<String> = detector.iter().map(canonical).collect();
    let b: BTreeSet<String> = peer.iter().map(canonical).collect();
    let only = |x: &BTreeSet<String>, y: &BTreeSet<String>| -> Vec<String> {
        x.difference(y).take(5).cloned().collect()
    };
    Equivalence {
        detector_rows: detector.len(),
        peer_rows: peer.len(),
        identical: a == b && detector.len() == peer.len(),
        only_detector: only(&a, &b),
        only_peer: only(&b, &a),
    }
}

/// JSON text with every object's keys sorted.
pub fn canonical(value: &serde_json::Value) -> String {
    fn sorted(value: &serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let mut out = serde_json::Map::new();
                for k in keys {
                    out.insert(k.clone(), sorted(&map[k]));
                }
                serde_json::Value::Object(out)
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(sorted).collect())
            }
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_compare_as_sets_whatever_their_key_order() {
        let a = [
            json!({"src": "h1", "dest_port": ["443"]}),
            json!({"src": "h2"}),
        ];
        let b = [
            json!({"src": "h2"}),
            json!({"dest_port": ["443"], "src": "h1"}),
        ];
        assert!(compare(&a, &b).identical);
    }

    #[test]
    fn a_differing_value_makes_rows_differ() {
        let a = [json!({"src": "h1", "dest_port": ["443", "80"]})];
        let b = [json!({"src": "h1", "dest_port": ["80", "443"]})];
        let result = compare(&a, &b);
        assert!(!result.identical);
        assert_eq!(result.only_detector.len(), 1);
        assert_eq!(result.only_peer.len(), 1);
    }
}

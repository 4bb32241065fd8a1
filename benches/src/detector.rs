//! Drives the `nvm-detector` binary as an operator would: `replay` fills
//! topics, `run` detects (bounded or not), `scan` gives the batch answer.
//! Its logs are read as JSON (`NVM_LOG_FORMAT=json`) for lifecycle events.

use crate::kafka::Kafka;
use anyhow::{bail, Context as _};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The detector's binary and rules.
#[derive(Debug, Clone)]
pub struct Detector {
    pub bin: PathBuf,
    pub rules: PathBuf,
    pub kafka: Kafka,
}

/// The topics one `run` reads and writes.
#[derive(Debug, Clone)]
pub struct RunTopics {
    pub input: String,
    pub alerts: String,
    pub dlq: String,
    pub late: String,
}

impl RunTopics {
    /// Output topics named after `prefix`.
    pub fn named(input: &str, prefix: &str) -> RunTopics {
        RunTopics {
            input: input.to_owned(),
            alerts: format!("{prefix}.alerts"),
            dlq: format!("{prefix}.dlq"),
            late: format!("{prefix}.late"),
        }
    }
}

/// How one `run` is configured beyond its topics and group.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mode<'a> {
    /// `--delivery`; the build's default when `None`.
    pub delivery: Option<&'a str>,
    /// `--commit-interval-ms`; the default (100) when `None`.
    pub commit_interval_ms: Option<u64>,
}

/// A bounded run's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    /// From spawning the process to its exit, minus the idle wait that ends
    /// a bounded run: startup, group join, processing, final commit.
    pub secs: f64,
    pub wall_secs: f64,
    /// From its `partitions assigned` to its `input drained` log lines,
    /// minus the idle wait: processing alone, as the plain consumer's
    /// first-to-last record.
    pub steady_secs: Option<f64>,
    /// Records the detector says it processed (its shutdown totals).
    pub records: Option<u64>,
}

/// What `run --help` says this build can do.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Capabilities {
    /// Values of `--delivery`; empty when the flag does not exist (the
    /// build is at-least-once only).
    pub delivery_modes: Vec<String>,
    pub bounded: bool,
    /// Whether window state is kept in (and restored from) a changelog.
    pub changelog: bool,
}

impl Detector {
    fn command(&self) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .env("NVM_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .env("KAFKA_BOOTSTRAP", &self.kafka.bootstrap);
        command
    }

    /// Reads `run --help`.
    ///
    /// # Errors
    /// A binary that does not run.
    pub fn capabilities(&self) -> anyhow::Result<Capabilities> {
        let out = self
            .command()
            .args(["run", "--help"])
            .output()
            .with_context(|| format!("running {} run --help", self.bin.display()))?;
        let help = String::from_utf8_lossy(&out.stdout);
        Ok(Capabilities {
            delivery_modes: flag_values(&help, "--delivery"),
            bounded: help.contains("--exit-when-idle-ms"),
            changelog: help.to_lowercase().contains("changelog"),
        })
    }

    /// `replay`: publishes a file as fast as the broker takes it.
    /// Returns the wall time.
    ///
    /// # Errors
    /// A replay that fails.
    pub fn replay(&self, topic: &str, file: &Path) -> anyhow::Result<f64> {
        let started = Instant::now();
        let status = self
            .command()
            .env("RUST_LOG", "warn")
            .args(["replay", "--topic", topic, "--rate", "0"])
            .arg(file)
            .status()
            .context("running nvm-detector replay")?;
        if !status.success() {
            bail!("nvm-detector replay failed: {status}");
        }
        Ok(started.elapsed().as_secs_f64())
    }

    fn run_command(&self, topics: &RunTopics, group: &str, mode: Mode<'_>) -> Command {
        let mut command = self.command();
        command
            .arg("run")
            .arg("--rules")
            .arg(&self.rules)
            .args(["--input-topic", &topics.input])
            .args(["--alerts-topic", &topics.alerts])
            .args(["--dlq-topic", &topics.dlq])
            .args(["--late-topic", &topics.late])
            .args(["--group-id", group]);
        if let Some(delivery) = mode.delivery {
            command.args(["--delivery", delivery]);
        }
        if let Some(ms) = mode.commit_interval_ms {
            command.args(["--commit-interval-ms", &ms.to_string()]);
        }
        command
    }

    /// A bounded run over what the input topic holds, from spawn to exit.
    ///
    /// # Errors
    /// A run that fails or exceeds `timeout`.
    pub fn bounded_run(
        &self,
        topics: &RunTopics,
        group: &str,
        mode: Mode<'_>,
        log: &Path,
        timeout: Duration,
    ) -> anyhow::Result<RunOutcome> {
        let idle_ms = 1000;
        let log_file = std::fs::File::create(log)?;
        let started = Instant::now();
        let mut child = self
            .run_command(topics, group, mode)
            .args(["--exit-when-idle-ms", &idle_ms.to_string()])
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .context("starting nvm-detector run")?;
        let status = wait_with_timeout(&mut child, timeout)?;
        let wall = started.elapsed().as_secs_f64();
        if !status.success() {
            bail!("nvm-detector run failed ({status}); log: {}", log.display());
        }
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let idle_secs = idle_ms as f64 / 1000.0;
        let steady_secs = match (
            log_time(&text, "partitions assigned"),
            log_time(&text, "input drained; closing all windows"),
        ) {
            (Some(from), Some(to)) => Some((to - from).as_secs_f64() - idle_secs),
            _ => None,
        };
        Ok(RunOutcome {
            secs: wall - idle_secs,
            wall_secs: wall,
            steady_secs,
            records: shutdown_records(&text),
        })
    }

    /// Starts an unbounded run and waits until its partitions are assigned
    /// and their state restored.
    ///
    /// # Errors
    /// A run that exits early or is not ready within 60 s.
    pub fn start(
        &self,
        topics: &RunTopics,
        group: &str,
        mode: Mode<'_>,
        log: &Path,
    ) -> anyhow::Result<Child> {
        let log_file = std::fs::File::create(log)?;
        let mut child = self
            .run_command(topics, group, mode)
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .context("starting nvm-detector run")?;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if let Some(status) = child.try_wait()? {
                bail!(
                    "nvm-detector run exited early ({status}); log: {}",
                    log.display()
                );
            }
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if text.contains("state restored") {
                return Ok(child);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        stop_child(&mut child);
        bail!(
            "nvm-detector run was not ready in 60 s; log: {}",
            log.display()
        )
    }

    /// `scan`: the `result` object of every final alert.
    ///
    /// # Errors
    /// A scan that fails or prints something that is not an alert.
    pub fn scan_results(&self, file: &Path) -> anyhow::Result<Vec<serde_json::Value>> {
        let out = self
            .command()
            .env("RUST_LOG", "warn")
            .arg("scan")
            .arg("--rules")
            .arg(&self.rules)
            .arg(file)
            .stderr(Stdio::null())
            .output()
            .context("running nvm-detector scan")?;
        if !out.status.success() {
            bail!("nvm-detector scan failed: {}", out.status);
        }
        let mut results = Vec::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let doc: serde_json::Value =
                serde_json::from_str(line).context("reading scan output")?;
            let Some(result) = doc.get("result") else {
                bail!("a scan alert has no `result`");
            };
            results.push(result.clone());
        }
        Ok(results)
    }
}

/// Stops a child this program started: SIGTERM, then a kill after 30 s.
pub fn stop_child(child: &mut Child) {
    crate::sys::terminate(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits for a child; kills it past `timeout`.
///
/// # Errors
/// The timeout passed.
pub fn wait_with_timeout(
    child: &mut Child,
    timeout: Duration,
) -> anyhow::Result<std::process::ExitStatus> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            bail!("gave up after {} s", timeout.as_secs());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The values a flag accepts, from clap's help: `[possible values: a, b]`
/// or a `Possible values:` list of `- a: …` lines.
pub fn flag_values(help: &str, flag: &str) -> Vec<String> {
    let mut lines = help
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(flag));
    let Some(first) = lines.next() else {
        return vec![];
    };
    let mut block = vec![first];
    block.extend(
        lines.take_while(|l| !l.trim_start().starts_with('-') || l.trim_start().starts_with("- ")),
    );
    let text = block.join("\n");
    if let Some(start) = text.find("[possible values: ") {
        let rest = &text[start + "[possible values: ".len()..];
        let end = rest.find(']').unwrap_or(rest.len());
        return rest[..end]
            .split(',')
            .map(|v| v.trim().to_owned())
            .collect();
    }
    block
        .iter()
        .filter_map(|l| l.trim_start().strip_prefix("- "))
        .map(|v| v.split(':').next().unwrap_or(v).trim().to_owned())
        .collect()
}

/// The time of the first JSON log line whose message is `message`.
pub fn log_time(log: &str, message: &str) -> Option<std::time::Duration> {
    let needle = format!("\"message\":\"{message}\"");
    let line = log.lines().find(|l| l.contains(&needle))?;
    let doc: serde_json::Value = serde_json::from_str(line).ok()?;
    let time = chrono::DateTime::parse_from_rfc3339(doc["timestamp"].as_str()?).ok()?;
    let micros = u64::try_from(time.timestamp_micros()).ok()?;
    Some(std::time::Duration::from_micros(micros))
}

/// `records` from the totals of the detector's last log line that has them.
pub fn shutdown_records(log: &str) -> Option<u64> {
    log.lines()
        .rev()
        .filter(|l| l.contains("records: "))
        .find_map(|l| {
            let at = l.find("records: ")? + "records: ".len();
            let digits: String = l[at..].chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_possible_values_in_short_help() {
        let help = "Options:\n      --delivery <DELIVERY>  Guarantee [default: exactly-once] [possible values: at-least-once, exactly-once]\n      --x <X>  other\n";
        assert_eq!(
            flag_values(help, "--delivery"),
            ["at-least-once", "exactly-once"]
        );
    }

    #[test]
    fn reads_possible_values_in_long_help() {
        let help = "      --delivery <DELIVERY>\n          Guarantee\n\n          Possible values:\n          - at-least-once: flush, then commit\n          - exactly-once:  one transaction\n\n          [default: exactly-once]\n\n      --instance-id <ID>\n";
        assert_eq!(
            flag_values(help, "--delivery"),
            ["at-least-once", "exactly-once"]
        );
    }

    #[test]
    fn a_missing_flag_has_no_values() {
        assert!(flag_values("      --group-id <G>\n", "--delivery").is_empty());
    }

    #[test]
    fn reads_the_time_of_a_log_message() {
        let log = concat!(
            r#"{"timestamp":"2026-12-04T16:24:39.667355Z","level":"INFO","fields":{"message":"partitions assigned"}}"#,
            "\n",
            r#"{"timestamp":"2026-12-04T16:25:25.120407Z","level":"INFO","fields":{"message":"input drained; closing all windows"}}"#,
        );
        let from = log_time(log, "partitions assigned").unwrap();
        let to = log_time(log, "input drained; closing all windows").unwrap();
        assert_eq!((to - from).as_micros(), 45_453_052);
        assert_eq!(log_time(log, "shutdown complete"), None);
    }

    #[test]
    fn reads_records_from_shutdown_totals() {
        let log = r#"{"fields":{"message":"shutdown complete","totals":"Counters { records: 1234, dead_lettered: 0 }"}}"#;
        assert_eq!(shutdown_records(log), Some(1234));
        assert_eq!(shutdown_records("nothing"), None);
    }
}

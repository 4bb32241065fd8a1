//! The command line: `run` (stream), `scan` (files), `replay` (files to a
//! topic), `topics` (create the topics), `alerts` (print an alerts topic).

use crate::decode::DecodeOptions;
use crate::engine::EngineConfig;
use crate::rule::RuleSet;
use crate::window::WindowConfig;
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(
    name = "nvm-detector",
    version,
    about = "Splunk-style detections over Cisco NVM flow records on Kafka"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Consume flow records from Kafka and publish alerts.
    Run(crate::kafka::stream::RunArgs),
    /// Run the detections over files of records and print final alerts.
    Scan(ScanArgs),
    /// Publish files of records to a topic at a chosen rate.
    Replay(crate::kafka::replay::ReplayArgs),
    /// Create the input, alerts, dead-letter and late topics.
    Topics(crate::kafka::topics::TopicsArgs),
    /// Print the alerts on an alerts topic, one JSON document per line.
    Alerts(crate::kafka::tail::AlertsArgs),
    /// Compile the rules and point out where they match less than meant.
    Lint(LintArgs),
}

#[derive(Debug, Args)]
struct LintArgs {
    /// Rules directory: macros.yml and detections/*.yml.
    #[arg(long, env = "NVM_RULES", default_value = "rules")]
    rules: PathBuf,
}

/// Engine settings shared by `run` and `scan`.
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    /// Rules directory: macros.yml and detections/*.yml.
    #[arg(long, env = "NVM_RULES", default_value = "rules")]
    pub rules: PathBuf,
    /// Tumbling window length, seconds (aligned to epoch multiples).
    #[arg(long, env = "NVM_WINDOW_SECS", default_value_t = crate::window::DEFAULT_WINDOW_MS / 1000)]
    pub window_secs: i64,
    /// How long after a window's end its records are still accepted, seconds.
    #[arg(long, env = "NVM_ALLOWED_LATENESS_SECS", default_value_t = crate::window::DEFAULT_ALLOWED_LATENESS_MS / 1000)]
    pub allowed_lateness_secs: i64,
    /// Largest message decoded; larger ones are dead-lettered, bytes.
    #[arg(long, env = "NVM_MAX_RECORD_BYTES", default_value_t = crate::decode::DEFAULT_MAX_RECORD_BYTES)]
    pub max_record_bytes: usize,
}

impl EngineArgs {
    /// Loads the rules and checks the settings.
    ///
    /// # Errors
    /// A rules error (naming file, line and column) or an invalid setting
    /// (naming the flag).
    pub fn engine_config(
        &self,
        update_interval_ms: i64,
        idle_timeout_ms: i64,
    ) -> anyhow::Result<EngineConfig> {
        if self.window_secs <= 0 {
            anyhow::bail!("--window-secs must be positive, got {}", self.window_secs);
        }
        if self.allowed_lateness_secs < 0 {
            anyhow::bail!(
                "--allowed-lateness-secs must not be negative, got {}",
                self.allowed_lateness_secs
            );
        }
        if self.max_record_bytes == 0 {
            anyhow::bail!("--max-record-bytes must be positive");
        }
        let rules = RuleSet::load(&self.rules).context("loading rules")?;
        Ok(EngineConfig {
            rules: Arc::new(rules),
            decode: DecodeOptions {
                max_record_bytes: self.max_record_bytes,
            },
            windows: WindowConfig {
                window_ms: self.window_secs * 1000,
                allowed_lateness_ms: self.allowed_lateness_secs * 1000,
                update_interval_ms,
                idle_timeout_ms,
            },
        })
    }
}

#[derive(Debug, Args)]
struct ScanArgs {
    #[command(flatten)]
    engine: EngineArgs,
    /// Files of records, one per line, either encoding.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::telemetry::init_logging();
    let result = match cli.command {
        Command::Scan(args) => scan(args),
        Command::Run(args) => crate::kafka::stream::run(args),
        Command::Replay(args) => crate::kafka::replay::run(args),
        Command::Topics(args) => crate::kafka::topics::run(args),
        Command::Alerts(args) => crate::kafka::tail::run(args),
        Command::Lint(args) => lint(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn scan(args: ScanArgs) -> anyhow::Result<ExitCode> {
    // No processing time passes in a scan: no updates, no idleness.
    let config = args.engine.engine_config(i64::MAX, i64::MAX)?;
    let report = crate::scan::scan_files(&config, &args.files)?;

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for alert in &report.finals {
        serde_json::to_writer(&mut out, &alert.document)?;
        std::io::Write::write_all(&mut out, b"\n")?;
    }
    std::io::Write::flush(&mut out)?;
    for r in report.rejected.iter().chain(&report.late) {
        eprintln!("{}:{}: {}", r.file, r.line, r.reason);
    }
    let c = report.counters;
    eprintln!(
        "scanned {} records: {} final alerts, {} malformed, {} late, {} matches without a BY field",
        c.records,
        report.finals.len(),
        c.dead_lettered,
        c.late,
        c.missing_by_field
    );
    Ok(ExitCode::SUCCESS)
}

/// Compiles every rule (a failure is the exit code 2 of any error) and
/// prints the lint findings; findings alone do not fail the command.
fn lint(args: LintArgs) -> anyhow::Result<ExitCode> {
    let rules = RuleSet::load(&args.rules).context("loading rules")?;
    for rule in rules.rules() {
        let findings = crate::lint::lint(rule);
        println!(
            "{}: {} ({} findings)",
            rule.path.display(),
            rule.meta,
            findings.len()
        );
        for finding in findings {
            println!("  {finding}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

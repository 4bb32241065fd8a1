//! The command line: `run` (stream), `scan` (files), `replay` (files to a
//! topic), `topics` (create the topics), `alerts` (print an alerts topic).

use crate::config::ConfigFile;
use crate::decode::{DecodeOptions, Keep};
use crate::engine::EngineConfig;
use crate::rule::RuleSet;
use crate::window::WindowConfig;
use anyhow::Context;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::ffi::OsString;
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
    #[command(flatten)]
    log: crate::telemetry::LogArgs,
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
    /// Check a configuration file, or print the effective configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate a configuration file (keys, values, rules) without connecting.
    Check {
        /// The TOML configuration file of `run`.
        file: PathBuf,
    },
    /// Print the configuration `run` would use with the same flags,
    /// environment and `--config` file, secrets redacted.
    Show(Box<crate::kafka::stream::RunArgs>),
}

#[derive(Debug, Args)]
struct LintArgs {
    /// Rules directory: macros.yml and detections/*.yml.
    #[arg(long, env = "NVM_RULES", default_value = "rules")]
    rules: PathBuf,
}

/// Engine settings shared by `run` and `scan`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Engine")]
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
    /// Records whose event time is further ahead of the wall clock are
    /// dead-lettered (`future_time`): one would otherwise close every open
    /// window of its partition. 0 accepts any time, seconds.
    #[arg(long, env = "NVM_MAX_FUTURE_SECS", default_value_t = (crate::decode::DEFAULT_MAX_FUTURE_MS / 1000) as u64)]
    pub max_future_secs: u64,
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
            anyhow::bail!(
                "--window-secs (`engine.window_secs`) must be positive, got {}",
                self.window_secs
            );
        }
        if self.allowed_lateness_secs < 0 {
            anyhow::bail!(
                "--allowed-lateness-secs (`engine.allowed_lateness_secs`) must not be negative, got {}",
                self.allowed_lateness_secs
            );
        }
        if self.max_record_bytes == 0 {
            anyhow::bail!("--max-record-bytes (`engine.max_record_bytes`) must be positive");
        }
        let rules = RuleSet::load(&self.rules).context("loading rules")?;
        Ok(EngineConfig {
            decode: DecodeOptions {
                max_record_bytes: self.max_record_bytes,
                keep: Keep::only(rules.field_names()),
                max_future_ms: (self.max_future_secs > 0).then(|| {
                    i64::try_from(self.max_future_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
                }),
            },
            rules: Arc::new(rules),
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
    let mut argv: Vec<OsString> = std::env::args_os().collect();
    let from_file = match apply_config_file(&mut argv) {
        Ok(flags) => flags,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let matches = Cli::command().get_matches_from(argv);
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    crate::telemetry::init_logging(&cli.log);
    let result = match cli.command {
        Command::Scan(args) => scan(args),
        Command::Run(args) => crate::kafka::stream::run(args),
        Command::Replay(args) => crate::kafka::replay::run(args),
        Command::Topics(args) => crate::kafka::topics::run(args),
        Command::Alerts(args) => crate::kafka::tail::run(args),
        Command::Lint(args) => lint(args),
        Command::Config(ConfigCommand::Check { file }) => config_check(&file),
        Command::Config(ConfigCommand::Show(_)) => config_show(&matches, &from_file),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", crate::secret::redact(&format!("{e:#}")));
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

/// The subcommand of `argv` whose flags a configuration file may set:
/// its position and the command describing those flags.
fn configurable(argv: &[OsString]) -> Option<usize> {
    let first = argv
        .iter()
        .skip(1)
        .position(|a| !a.to_string_lossy().starts_with('-'))?
        + 1;
    match argv[first].to_str()? {
        "run" | "topics" | "replay" | "alerts" => Some(first + 1),
        "config" if argv.get(first + 1).is_some_and(|a| a == "show") => Some(first + 2),
        _ => None,
    }
}

/// The `run` command with its flags, global ones included.
pub fn run_command() -> clap::Command {
    let mut command = Cli::command();
    command.build();
    command
        .find_subcommand("run")
        .cloned()
        .unwrap_or_else(|| clap::Command::new("run"))
}

/// Applies the `--config` file to `argv` of a command that takes one;
/// returns the flags it set. The file is checked against `run`, which has
/// every setting; other commands take the settings they have.
fn apply_config_file(argv: &mut Vec<OsString>) -> anyhow::Result<Vec<String>> {
    let Some(at) = configurable(argv) else {
        return Ok(Vec::new());
    };
    let Some(path) = crate::config::config_path(&argv[at..]) else {
        return Ok(Vec::new());
    };
    let run = run_command();
    let file = ConfigFile::load(&path, &run)?;
    let mut root = Cli::command();
    root.build();
    let names: Vec<String> = argv[1..at]
        .iter()
        .filter(|a| !a.to_string_lossy().starts_with('-'))
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut target = &root;
    for name in &names {
        if let Some(sub) = target.find_subcommand(name) {
            target = sub;
        }
    }
    let mut tail = argv.split_off(at);
    let applied = file.apply(target, &mut tail);
    argv.extend(tail);
    Ok(applied)
}

/// The settings `run` would start with for `argv` (from the program name
/// on), its `--config` file and the environment applied.
///
/// # Errors
/// A bad configuration file or a flag or value the command line refuses.
pub fn run_args_from(mut argv: Vec<OsString>) -> anyhow::Result<crate::kafka::stream::RunArgs> {
    apply_config_file(&mut argv)?;
    let cli = Cli::try_parse_from(argv).map_err(|e| {
        let text = e.to_string();
        anyhow::anyhow!("{}", text.trim().trim_start_matches("error: "))
    })?;
    match cli.command {
        Command::Run(args) => Ok(args),
        _ => anyhow::bail!("not a `run` command line"),
    }
}

/// `config check FILE`: the file, then everything `run` checks before it
/// connects (settings and rules), with the environment applied as `run` would.
fn config_check(file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let argv: Vec<OsString> = vec![
        "nvm-detector".into(),
        "run".into(),
        "--config".into(),
        file.into(),
    ];
    let args = run_args_from(argv)?;
    crate::kafka::stream::check(&args)?;
    // librdkafka checks property names and values when a client is made;
    // making one does not connect.
    let consumer = args.client.consumer_config(|_| {})?;
    let _: rdkafka::consumer::BaseConsumer = consumer
        .create()
        .context("the consumer properties (`kafka.properties`, `kafka.consumer_properties`)")?;
    let producer = args.client.producer_config(|_| {})?;
    let _: rdkafka::producer::BaseProducer = producer
        .create()
        .context("the producer properties (`kafka.properties`, `kafka.producer_properties`)")?;
    let config = args.engine.engine_config(
        args.update_interval_secs * 1000,
        args.idle_timeout_secs * 1000,
    )?;
    println!(
        "{}: ok ({} rules from {})",
        file.display(),
        config.rules.rules().len(),
        args.engine.rules.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `config show`: the effective settings of `run` as a configuration file.
fn config_show(matches: &ArgMatches, from_file: &[String]) -> anyhow::Result<ExitCode> {
    let Some(("config", config)) = matches.subcommand() else {
        anyhow::bail!("internal: not a config command");
    };
    let Some(("show", show)) = config.subcommand() else {
        anyhow::bail!("internal: not config show");
    };
    let mut command = Cli::command();
    command.build();
    let show_command = command
        .find_subcommand("config")
        .and_then(|c| c.find_subcommand("show"))
        .cloned()
        .unwrap_or_else(|| clap::Command::new("show"));
    print!("{}", crate::config::render(&show_command, show, from_file));
    Ok(ExitCode::SUCCESS)
}

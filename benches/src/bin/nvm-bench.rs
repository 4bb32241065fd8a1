//! `nvm-bench`: the benchmark suite's driver. `ops/bench.sh` builds
//! everything and calls `nvm-bench suite`; the other subcommands are the
//! parts the suite runs in processes of their own.

use clap::{Parser, Subcommand};
use nvm_benches::alloc::CountingAlloc;
use nvm_benches::corpus::Corpus;
use nvm_benches::suite::{Paths, Sizes};
use nvm_benches::{kafka, offline, state};
use std::path::PathBuf;
use std::process::ExitCode;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[derive(Debug, Parser)]
#[command(name = "nvm-bench", about = "Benchmarks of nvm-detector")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the whole comparison and writes the results.
    Suite {
        /// Tiny sizes and one run: keeps the suite working, measures nothing.
        #[arg(long)]
        smoke: bool,
        /// Runs of each measurement (default 3; 1 with --smoke).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=25))]
        runs: Option<u64>,
        /// Records of each engine corpus (default 1,000,000; 20,000 with
        /// --smoke).
        #[arg(long)]
        engine_records: Option<u64>,
        /// Records of the topic the Kafka throughput runs read (default
        /// 300,000; 20,000 with --smoke).
        #[arg(long)]
        topic_records: Option<u64>,
        /// Open groups whose restore is timed; repeatable (default 100,000
        /// and 1,000,000; 2,000 with --smoke).
        #[arg(long = "restore-groups")]
        restore_groups: Vec<u64>,
        /// The repository root.
        #[arg(long, default_value = ".")]
        repo: PathBuf,
        /// Where the release binaries are (default REPO/target/release).
        #[arg(long)]
        bin_dir: Option<PathBuf>,
        /// Where `<date>.json` and `latest.json` go (default
        /// benches/results; target/nvm-benches/results with --smoke).
        #[arg(long)]
        results_dir: Option<PathBuf>,
    },
    /// The engine over one corpus, on this thread; prints JSON.
    Engine {
        #[arg(long)]
        corpus: PathBuf,
        #[arg(long, default_value = "rules")]
        rules: PathBuf,
        /// Skips the second, allocation-counting pass (for profiling the
        /// timed pass alone).
        #[arg(long)]
        no_allocation_count: bool,
    },
    /// A plain consumer reading a topic; prints JSON.
    Consume {
        #[arg(long)]
        topic: String,
        #[arg(long)]
        group: String,
        #[arg(long)]
        expect: u64,
    },
    /// Heap and resident memory per open group; prints JSON.
    StateMemory {
        #[arg(long)]
        groups: u64,
        #[arg(long, default_value = "rules")]
        rules: PathBuf,
    },
}

fn bootstrap() -> String {
    std::env::var("KAFKA_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:9092".to_owned())
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(value)?);
    Ok(())
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Suite {
            smoke,
            runs,
            engine_records,
            topic_records,
            restore_groups,
            repo,
            bin_dir,
            results_dir,
        } => {
            let runs = runs.map(|r| r as usize);
            let mut sizes = if smoke {
                Sizes::smoke(runs.unwrap_or(1))
            } else {
                Sizes::full(runs.unwrap_or(3))
            };
            if let Some(records) = engine_records {
                sizes.engine_records = records;
            }
            if let Some(records) = topic_records {
                sizes.topic_records = records;
            }
            if !restore_groups.is_empty() {
                sizes.restore_groups = restore_groups;
            }
            let repo = std::fs::canonicalize(&repo)?;
            let default_dir = if smoke {
                "target/nvm-benches/results"
            } else {
                "benches/results"
            };
            let results_dir = results_dir.unwrap_or_else(|| PathBuf::from(default_dir));
            let paths = Paths {
                bin_dir: bin_dir.unwrap_or_else(|| repo.join("target/release")),
                work: repo.join("target/nvm-benches"),
                results_dir: repo.join(results_dir),
                repo,
            };
            let (results, path) = nvm_benches::suite::run(&paths, &sizes, &bootstrap())?;
            println!("{}", results.table());
            println!("results written to {}", path.display());
        }
        Command::Engine {
            corpus,
            rules,
            no_allocation_count,
        } => {
            let config = offline::stream_config(&rules)?;
            let corpus = Corpus::load(&corpus)?;
            print_json(&offline::run(&config, &corpus, !no_allocation_count))?;
        }
        Command::Consume {
            topic,
            group,
            expect,
        } => {
            let kafka = kafka::Kafka {
                bootstrap: bootstrap(),
            };
            print_json(&kafka::consume_all(&kafka, &topic, &group, expect)?)?;
        }
        Command::StateMemory { groups, rules } => {
            let config = offline::stream_config(&rules)?;
            print_json(&state::group_memory(&config, groups))?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nvm-bench: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

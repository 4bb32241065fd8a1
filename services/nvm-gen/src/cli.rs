//! Command-line interface: flags map one to one onto [`Config`].

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;

use crate::config::{self, Config, Encoding};
use crate::generator::write_all;
use crate::summary;

/// Generate realistic Cisco NVM flow records, reproducibly.
#[derive(Parser, Debug)]
#[command(name = "nvm-gen", version, about)]
pub struct Cli {
    /// Flow records to write, late ones included, malformed lines not.
    #[arg(long, default_value_t = config::default_count())]
    pub count: u64,
    /// Random seed; the same flags always give the same bytes.
    #[arg(long, default_value_t = config::default_seed())]
    pub seed: u64,
    /// Endpoints in the fleet.
    #[arg(long, default_value_t = config::default_hosts())]
    pub hosts: usize,
    /// Start of the time span, epoch seconds.
    #[arg(long, default_value_t = config::default_start_secs())]
    pub start: u64,
    /// Length of the time span in seconds.
    #[arg(long, default_value_t = config::default_duration_secs())]
    pub duration_secs: u64,
    /// Wire encoding of the records.
    #[arg(long, value_enum, default_value_t = Encoding::Mixed)]
    pub encoding: Encoding,
    /// Records of cached flows delivered hours late at the end.
    #[arg(long, default_value_t = config::default_late())]
    pub late: u64,
    /// Broken lines to inject at random positions.
    #[arg(long, default_value_t = 0)]
    pub malformed: u64,
    /// Rclone sessions (default: one per 500 records, at most 10).
    #[arg(long)]
    pub rclone_sessions: Option<usize>,
    /// Write here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Print a summary of the run to standard error.
    #[arg(long)]
    pub summary: bool,
}

impl Cli {
    pub fn config(&self) -> Config {
        Config {
            count: self.count,
            seed: self.seed,
            hosts: self.hosts,
            start_secs: self.start,
            duration_secs: self.duration_secs,
            encoding: self.encoding,
            late: self.late,
            malformed: self.malformed,
            rclone_sessions: self.rclone_sessions,
        }
    }
}

/// Runs the generator as the command line asks.
///
/// # Errors
///
/// Invalid flags, or an output that cannot be created or written. A closed
/// pipe (`nvm-gen | head`) is not an error.
pub fn run(cli: &Cli) -> anyhow::Result<()> {
    let config = cli.config();
    config.validate()?;
    let result = match &cli.output {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("creating {}", path.display()))?;
            write_all(&config, &mut BufWriter::new(file))
        }
        None => write_all(&config, &mut io::stdout().lock()),
    };
    let generator = match result {
        Ok(generator) => generator,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
        Err(e) => return Err(e).context("writing records"),
    };
    if cli.summary {
        let text = summary::render(generator.stats(), generator.sessions(), generator.fleet());
        io::stderr()
            .write_all(text.as_bytes())
            .context("writing summary")?;
    }
    Ok(())
}

//! Offline scan: the stream's engine over files, for rule authors.
//!
//! Every line is one record of either encoding. All files form one ordered
//! input, as if they were one partition, and the end of input closes every
//! window, so each group yields its `final` alert.

use crate::alert::Alert;
use crate::engine::{Counters, Disposition, EngineConfig, PartitionEngine};
use std::io::BufRead;
use std::path::Path;

/// A line that could not be used, for the report on stderr.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

/// Everything a scan produced.
#[derive(Debug, Default)]
pub struct ScanReport {
    /// Final alerts, in the order windows closed.
    pub finals: Vec<Alert>,
    pub rejected: Vec<Rejected>,
    /// Records that arrived after their window closed.
    pub late: Vec<Rejected>,
    pub counters: Counters,
}

/// Scans readers of newline-separated records.
///
/// # Errors
/// Only I/O errors reading the input.
pub fn scan_readers<R: BufRead>(
    config: &EngineConfig,
    inputs: impl IntoIterator<Item = (String, R)>,
) -> std::io::Result<ScanReport> {
    let mut engine = PartitionEngine::new(config.clone());
    let mut report = ScanReport::default();
    let mut alerts = Vec::new();
    for (name, mut reader) in inputs {
        let mut line = Vec::with_capacity(2048);
        let mut number = 0;
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            number += 1;
            // The record is the line without its end, as `replay` sends it.
            for end in [b'\n', b'\r'] {
                if line.last() == Some(&end) {
                    line.pop();
                }
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let note = |reason: String| Rejected {
                file: name.clone(),
                line: number,
                reason,
            };
            match engine.on_message(&line, 0, &mut alerts) {
                Disposition::DeadLetter(e) => report.rejected.push(note(e.to_string())),
                Disposition::Late { time_ms } => report.late.push(note(format!(
                    "late record: event time {} is behind a closed window",
                    crate::alert::rfc3339(time_ms)
                ))),
                Disposition::Processed(_) => {}
            }
            keep_finals(&mut alerts, &mut report.finals);
        }
    }
    engine.close_all(&mut alerts);
    keep_finals(&mut alerts, &mut report.finals);
    report.counters = *engine.counters();
    Ok(report)
}

fn keep_finals(alerts: &mut Vec<Alert>, finals: &mut Vec<Alert>) {
    finals.extend(
        alerts
            .drain(..)
            .filter(|a| a.status == crate::window::Status::Final),
    );
}

/// Scans files by path.
///
/// # Errors
/// A file that cannot be opened or read.
pub fn scan_files(
    config: &EngineConfig,
    paths: &[impl AsRef<Path>],
) -> std::io::Result<ScanReport> {
    let mut inputs = Vec::with_capacity(paths.len());
    for path in paths {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| {
            std::io::Error::new(e.kind(), format!("opening {}: {e}", path.display()))
        })?;
        inputs.push((path.display().to_string(), std::io::BufReader::new(file)));
    }
    scan_readers(config, inputs)
}

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
            if read_line(&mut reader, &mut line)? == 0 {
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

/// Appends the next line, with its end, to `line`; returns how many bytes
/// it read (0 at the end of input). `BufRead::read_until`, with the
/// vectorised `memchr` looking for the line end.
fn read_line<R: BufRead>(reader: &mut R, line: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut read = 0;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let (ended, used) = match memchr::memchr(b'\n', available) {
            Some(at) => (true, at + 1),
            None => (available.is_empty(), available.len()),
        };
        line.extend_from_slice(&available[..used]);
        reader.consume(used);
        read += used;
        if ended {
            return Ok(read);
        }
    }
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

#[cfg(test)]
mod tests {
    use super::read_line;
    use std::io::BufReader;

    #[test]
    fn reads_lines_across_buffer_refills_with_or_without_a_last_end() {
        let text = b"first line\r\nx\n\nlast without end";
        let mut reader = BufReader::with_capacity(4, &text[..]);
        let mut lines = vec![];
        loop {
            let mut line = vec![];
            let read = read_line(&mut reader, &mut line).unwrap();
            assert_eq!(read, line.len());
            if read == 0 {
                break;
            }
            lines.push(String::from_utf8(line).unwrap());
        }
        assert_eq!(lines, ["first line\r\n", "x\n", "\n", "last without end"]);
    }
}

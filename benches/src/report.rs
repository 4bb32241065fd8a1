//! The results document (`benches/results/latest.json`) and the table the
//! suite prints. The layout is documented in `benches/README.md`; bump
//! [`FORMAT`] on any incompatible change.

use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Version of the results layout.
pub const FORMAT: &str = "nvm-benches/1";

/// The median: the middle run, or the mean of the two middle ones.
pub fn median(runs: &[f64]) -> f64 {
    if runs.is_empty() {
        return f64::NAN;
    }
    let mut sorted = runs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Higher,
    Lower,
}

/// A goal a median is reported against (never asserted).
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// `>=` or `<`.
    pub op: &'static str,
    pub value: f64,
    pub met: bool,
}

impl Target {
    pub fn at_least(value: f64, actual: f64) -> Target {
        Target {
            op: ">=",
            value,
            met: actual >= value,
        }
    }

    pub fn below(value: f64, actual: f64) -> Target {
        Target {
            op: "<",
            value,
            met: actual < value,
        }
    }
}

/// One measured quantity: every run and their median.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    pub name: String,
    pub unit: String,
    pub runs: Vec<f64>,
    pub median: f64,
    pub better: Better,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Measurement {
    pub fn new(name: &str, unit: &str, better: Better, runs: Vec<f64>) -> Measurement {
        Measurement {
            name: name.to_owned(),
            unit: unit.to_owned(),
            median: median(&runs),
            runs,
            better,
            target: None,
            note: None,
        }
    }

    pub fn note(mut self, note: impl Into<String>) -> Measurement {
        self.note = Some(note.into());
        self
    }

    /// Reports the median against a goal of at least `value`.
    pub fn at_least(mut self, value: f64) -> Measurement {
        self.target = Some(Target::at_least(value, self.median));
        self
    }

    /// Reports the median against a goal of less than `value`.
    pub fn below(mut self, value: f64) -> Measurement {
        self.target = Some(Target::below(value, self.median));
        self
    }
}

/// A ratio of two measurements' medians.
#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    pub name: String,
    pub numerator: String,
    pub denominator: String,
    pub value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A correctness check a comparison depends on.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub detail: serde_json::Value,
}

/// Something the suite could not measure, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Unavailable {
    pub name: String,
    pub reason: String,
}

/// Where the numbers were taken.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub nproc: usize,
    pub memory_bytes: Option<u64>,
    pub cpu_model: Option<String>,
    /// When the suite started, RFC 3339 UTC.
    pub date: String,
    pub git_commit: Option<String>,
    /// Whether the work tree had uncommitted changes.
    pub git_dirty: Option<bool>,
    pub kernel: Option<String>,
    /// Load averages (1, 5, 15 min) when the suite started and ended: the
    /// machine may be shared, and a busy one lowers every wall-clock rate.
    pub load_average_start: Option<[f64; 3]>,
    pub load_average_end: Option<[f64; 3]>,
}

/// The whole document.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub format: &'static str,
    pub machine: Machine,
    /// The sizes and settings the suite ran with.
    pub settings: serde_json::Value,
    pub measurements: Vec<Measurement>,
    pub ratios: Vec<Ratio>,
    pub checks: Vec<Check>,
    pub unavailable: Vec<Unavailable>,
    /// Wall time of the whole suite.
    pub suite_secs: f64,
}

impl Results {
    pub fn measurement(&self, name: &str) -> Option<&Measurement> {
        self.measurements.iter().find(|m| m.name == name)
    }

    /// Writes the document, pretty-printed, to `DIR/<date>.json` and
    /// `DIR/latest.json`; returns the first path.
    ///
    /// # Errors
    /// A file that cannot be written.
    pub fn write_to(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        // File names without colons: `2026-12-04T15-44-47Z.json`.
        let path = dir.join(format!("{}.json", self.machine.date.replace(':', "-")));
        std::fs::write(&path, &text)?;
        std::fs::write(dir.join("latest.json"), &text)?;
        Ok(path)
    }

    /// The table printed at the end of a run.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let m = &self.machine;
        let _ = writeln!(
            out,
            "machine: {} cores, {:.1} GiB, {}; {} ; commit {}{}",
            m.nproc,
            m.memory_bytes.unwrap_or(0) as f64 / GIB,
            m.cpu_model.as_deref().unwrap_or("unknown CPU"),
            m.date,
            m.git_commit
                .as_deref()
                .map_or("unknown", |c| &c[..c.len().min(12)]),
            if m.git_dirty == Some(true) {
                " (dirty)"
            } else {
                ""
            },
        );
        let _ = writeln!(out);
        let rows: Vec<[String; 5]> = self
            .measurements
            .iter()
            .map(|m| {
                [
                    m.name.clone(),
                    format!("{} {}", human(m.median), m.unit),
                    m.runs
                        .iter()
                        .map(|r| human(*r))
                        .collect::<Vec<_>>()
                        .join(" / "),
                    target_text(m.target.as_ref(), &m.unit),
                    m.note.clone().unwrap_or_default(),
                ]
            })
            .collect();
        table(
            &mut out,
            ["measurement", "median", "runs", "target", "note"],
            &rows,
        );
        if !self.ratios.is_empty() {
            let _ = writeln!(out);
            let rows: Vec<[String; 5]> = self
                .ratios
                .iter()
                .map(|r| {
                    [
                        r.name.clone(),
                        format!("{}x", ratio_text(r.value)),
                        format!("{} / {}", r.numerator, r.denominator),
                        target_text(r.target.as_ref(), "x"),
                        r.note.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            table(
                &mut out,
                ["ratio", "value", "of medians", "target", "note"],
                &rows,
            );
        }
        if !self.checks.is_empty() {
            let _ = writeln!(out);
            for c in &self.checks {
                let verdict = if c.passed { "ok" } else { "FAILED" };
                let _ = writeln!(out, "check {}: {verdict}", c.name);
            }
        }
        for u in &self.unavailable {
            let _ = writeln!(out, "not measured: {}: {}", u.name, u.reason);
        }
        out
    }
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// A ratio with two significant digits at least: `2.41`, `0.066`.
fn ratio_text(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    if x.abs() >= 0.1 || x == 0.0 {
        return format!("{x:.2}");
    }
    let decimals = (-x.abs().log10()).ceil() as usize + 1;
    format!("{x:.decimals$}")
}

fn target_text(target: Option<&Target>, unit: &str) -> String {
    match target {
        None => String::new(),
        Some(t) => {
            let verdict = if t.met { "met" } else { "MISSED" };
            format!("{} {} {unit}: {verdict}", t.op, human(t.value))
        }
    }
}

/// Numbers as people read them: thousands separated, three significant
/// digits for small ones.
pub fn human(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    if x.abs() >= 999.5 {
        let whole = x.round() as i64;
        let digits = whole.unsigned_abs().to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        return if whole < 0 {
            format!("-{grouped}")
        } else {
            grouped
        };
    }
    if x.abs() >= 100.0 {
        return format!("{x:.0}");
    }
    if x.abs() >= 10.0 {
        return format!("{x:.1}");
    }
    format!("{x:.2}")
}

fn table<const N: usize>(out: &mut String, header: [&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut String, cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", padded.join("  ").trim_end());
    };
    line(out, header.to_vec());
    line(
        out,
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    );
    for row in rows {
        line(out, row.iter().map(String::as_str).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_is_the_middle_run_or_the_mean_of_two() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[7.0]), 7.0);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn human_numbers_group_thousands() {
        assert_eq!(human(1_234_567.4), "1,234,567");
        assert_eq!(human(512.3), "512");
        assert_eq!(human(999.97), "1,000");
        assert_eq!(human(12.345), "12.3");
        assert_eq!(human(0.5), "0.50");
        assert_eq!(human(f64::NAN), "n/a");
    }

    #[test]
    fn small_ratios_keep_two_significant_digits() {
        assert_eq!(ratio_text(2.414), "2.41");
        assert_eq!(ratio_text(0.0066), "0.0066");
        assert_eq!(ratio_text(0.034), "0.034");
        assert_eq!(ratio_text(f64::NAN), "n/a");
    }

    #[test]
    fn targets_say_whether_the_median_meets_them() {
        let m =
            Measurement::new("x", "records/s", Better::Higher, vec![1.0, 5.0, 3.0]).at_least(4.0);
        assert!(!m.target.unwrap().met);
        let m = Measurement::new("y", "ms", Better::Lower, vec![100.0]).below(250.0);
        assert!(m.target.unwrap().met);
    }
}

//! What a run wrote: counts by encoding, version and stage, where the late
//! and malformed lines are, and each rclone session with its lines. The
//! data set's README is written from this, and `--summary` prints it.

use std::fmt::Write as _;

use crate::encode::{self, Format};
use crate::fleet::Fleet;
use crate::flow::{Report, Stage};
use crate::malformed::Kind;
use crate::model::{Host, Os};
use crate::rclone::Session;
use crate::timefmt::iso8601;
use crate::traffic::UNKNOWN_HOST;

/// A planned rclone session, as documentation sees it.
pub struct SessionInfo {
    pub label: String,
    pub host: String,
    pub host_ip: String,
    pub os: Os,
    pub process_name: &'static str,
    pub process_path: String,
    pub pid: u32,
    pub args: String,
    pub parent_name: &'static str,
    pub start_ms: u64,
    pub expect: &'static str,
}

impl SessionInfo {
    pub fn of(session: &Session, fleet: &Fleet) -> SessionInfo {
        let host = &fleet.hosts[session.host];
        let p = &session.process;
        SessionInfo {
            label: session.label.clone(),
            host: host.name.clone(),
            host_ip: host.ip.clone(),
            os: host.os(),
            process_name: p.name,
            process_path: p.path.clone(),
            pid: p.pid,
            args: p.args.clone(),
            parent_name: p.parent.as_ref().map_or("", |pp| pp.name),
            start_ms: session.start_ms,
            expect: session.expect,
        }
    }
}

/// Where a session's records ended up.
#[derive(Default, Clone)]
pub struct SessionLines {
    pub records: u64,
    pub late: u64,
    pub first_line: u64,
    pub last_line: u64,
    pub first_event_ms: u64,
    pub last_end_ms: u64,
    pub dests: Vec<(&'static str, u16)>,
}

/// Running counts of a run.
#[derive(Default)]
pub struct Stats {
    pub lines: u64,
    pub records: u64,
    pub late: u64,
    pub kv: u64,
    pub json: u64,
    /// Records of `nvzFlow_v3`, `_v9` and `_v11`.
    pub versions: [u64; 3],
    /// Records by `fsg`: end, start, periodic.
    pub stages: [u64; 3],
    pub http: u64,
    pub unknown_dest: u64,
    pub without_integrity: u64,
    pub max_line_bytes: usize,
    pub first_event_ms: u64,
    pub last_event_ms: u64,
    /// Largest step back in event time between consecutive on-time records.
    pub max_disorder_ms: u64,
    pub late_lines: Vec<(u64, u64)>,
    pub malformed: Vec<(u64, Kind)>,
    pub sessions: Vec<SessionLines>,
}

impl Stats {
    pub fn new(sessions: usize) -> Stats {
        Stats {
            sessions: vec![SessionLines::default(); sessions],
            first_event_ms: u64::MAX,
            ..Stats::default()
        }
    }

    pub fn count_line(&mut self, bytes: usize) {
        self.lines += 1;
        self.max_line_bytes = self.max_line_bytes.max(bytes);
    }

    pub fn count_malformed(&mut self, kind: Kind) {
        self.malformed.push((self.lines + 1, kind));
    }

    pub fn count_record(&mut self, r: &Report, host: &Host, format: Format, late: bool) {
        let line = self.lines + 1;
        self.records += 1;
        if format.is_json() {
            self.json += 1;
        } else {
            self.kv += 1;
        }
        self.versions[version_index(encode::version(host, format))] += 1;
        self.stages[stage_index(r.stage)] += 1;
        self.http += u64::from(r.conn.http.is_some());
        self.unknown_dest += u64::from(r.conn.dest_name == UNKNOWN_HOST);
        self.without_integrity += u64::from(host.legacy || r.conn.process.integrity.is_none());
        if late {
            self.late += 1;
            self.late_lines.push((line, r.start_ms));
        } else {
            self.track_order(r.start_ms);
        }
        if let Some(i) = r.conn.session {
            track_session(&mut self.sessions[usize::from(i)], r, line, late);
        }
    }

    fn track_order(&mut self, event_ms: u64) {
        self.max_disorder_ms = self
            .max_disorder_ms
            .max(self.last_event_ms.saturating_sub(event_ms));
        self.first_event_ms = self.first_event_ms.min(event_ms);
        self.last_event_ms = self.last_event_ms.max(event_ms);
    }
}

fn track_session(s: &mut SessionLines, r: &Report, line: u64, late: bool) {
    if s.records == 0 {
        s.first_line = line;
        s.first_event_ms = r.start_ms;
    }
    s.records += 1;
    s.late += u64::from(late);
    s.last_line = line;
    s.first_event_ms = s.first_event_ms.min(r.start_ms);
    s.last_end_ms = s.last_end_ms.max(r.end_ms);
    let dest = (r.conn.dest, r.conn.dport);
    if !s.dests.contains(&dest) {
        s.dests.push(dest);
    }
}

fn version_index(fv: &str) -> usize {
    match fv {
        "nvzFlow_v3" => 0,
        "nvzFlow_v9" => 1,
        _ => 2,
    }
}

fn stage_index(stage: Stage) -> usize {
    match stage {
        Stage::End => 0,
        Stage::Start => 1,
        Stage::Periodic => 2,
    }
}

/// A plain-text description of a finished run.
pub fn render(stats: &Stats, sessions: &[SessionInfo], fleet: &Fleet) -> String {
    let mut out = String::new();
    render_counts(&mut out, stats, fleet);
    render_sessions(&mut out, stats, sessions);
    out
}

fn render_counts(out: &mut String, s: &Stats, fleet: &Fleet) {
    let kinds = |os: Os| fleet.hosts.iter().filter(|h| h.os() == os).count();
    let legacy = fleet.hosts.iter().filter(|h| h.legacy).count();
    let _ = writeln!(
        out,
        "lines: {} ({} records, {} malformed)",
        s.lines,
        s.records,
        s.malformed.len()
    );
    let _ = writeln!(
        out,
        "hosts: {} (windows {}, of which {legacy} legacy nvzFlow_v3; macos {}; linux {})",
        fleet.hosts.len(),
        kinds(Os::Windows),
        kinds(Os::MacOs),
        kinds(Os::Linux)
    );
    let _ = writeln!(
        out,
        "encodings: kv {}, json {}; versions: v3 {}, v9 {}, v11 {}",
        s.kv, s.json, s.versions[0], s.versions[1], s.versions[2]
    );
    let _ = writeln!(
        out,
        "stages: end (fsg 0) {}, start (fsg 1) {}, periodic (fsg 2) {}",
        s.stages[0], s.stages[1], s.stages[2]
    );
    let _ = writeln!(
        out,
        "http {}, dh Unknown {}, without pil {}; longest line {} bytes",
        s.http, s.unknown_dest, s.without_integrity, s.max_line_bytes
    );
    if s.first_event_ms <= s.last_event_ms {
        let _ = writeln!(
            out,
            "on-time event times: {} .. {} (at most {} ms out of order)",
            iso8601((s.first_event_ms / 1000) as i64),
            iso8601((s.last_event_ms / 1000) as i64),
            s.max_disorder_ms
        );
    }
    for (line, event_ms) in &s.late_lines {
        let _ = writeln!(
            out,
            "late: line {line}, event {}",
            iso8601((event_ms / 1000) as i64)
        );
    }
    for (line, kind) in &s.malformed {
        let _ = writeln!(out, "malformed: line {line}, {}", kind.name());
    }
}

fn render_sessions(out: &mut String, stats: &Stats, sessions: &[SessionInfo]) {
    let total: u64 = stats.sessions.iter().map(|s| s.records).sum();
    let _ = writeln!(out, "rclone sessions: {} ({total} records)", sessions.len());
    for (info, lines) in sessions.iter().zip(&stats.sessions) {
        let dests: Vec<String> = lines
            .dests
            .iter()
            .map(|(d, p)| format!("{d}:{p}"))
            .collect();
        let _ = writeln!(
            out,
            "- {} on {} ({}, {:?}): {} pid {} parent {}\n  args: {:?}\n  time: {} .. {}; {} records ({} late), lines {}..{}; dests {}\n  expect: {}",
            info.label,
            info.host,
            info.host_ip,
            info.os,
            info.process_path,
            info.pid,
            info.parent_name,
            info.args,
            iso8601((lines.first_event_ms / 1000) as i64),
            iso8601((lines.last_end_ms / 1000) as i64),
            lines.records,
            lines.late,
            lines.first_line,
            lines.last_line,
            dests.join(", "),
            info.expect
        );
    }
}

//! The streaming generator: plans the run once (fleet, rclone sessions,
//! late records), then writes one line per call, choosing between a
//! malformed line, the next on-time record, and, at the end, the late ones.

use std::collections::VecDeque;
use std::io::{self, Write};

use crate::config::{Config, ConfigError, Encoding};
use crate::encode::{self, Format};
use crate::fleet::Fleet;
use crate::flow::{Flow, Report};
use crate::malformed::{Injector, Kind};
use crate::rclone::{self, Session};
use crate::rng::{Rng, Stream};
use crate::scenario::{self, Timeline};
use crate::summary::{SessionInfo, Stats};

/// What kind of line [`Generator::next_into`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    Record,
    /// A cached record delivered after all others.
    Late,
    Malformed(Kind),
}

/// Streams the lines of one run.
pub struct Generator {
    fleet: Fleet,
    timeline: Timeline,
    late: VecDeque<Report>,
    injector: Injector,
    format_rng: Rng,
    encoding: Encoding,
    on_time_left: u64,
    lines_left: u64,
    last_event_ms: u64,
    sessions: Vec<SessionInfo>,
    stats: Stats,
}

impl Generator {
    /// Plans a run.
    ///
    /// # Errors
    ///
    /// When `config` fails [`Config::validate`].
    pub fn new(config: &Config) -> Result<Generator, ConfigError> {
        config.validate()?;
        let seed = config.seed;
        let mut fleet = Fleet::build(&mut Rng::new(seed, Stream::Fleet), config.hosts);
        let (start_ms, duration_ms) = (config.start_ms(), config.duration_ms());

        let wanted = config
            .rclone_sessions
            .unwrap_or_else(|| rclone::default_sessions(config.count));
        let mut session_rng = Rng::new(seed, Stream::Sessions);
        let sessions = rclone::plan(&mut session_rng, &mut fleet, start_ms, duration_ms, wanted);
        let (scripted, cached) = split_cached(&sessions, config.late);

        let mut late_rng = Rng::new(seed, Stream::Late);
        let late = scenario::late_reports(
            &mut late_rng,
            &mut fleet,
            start_ms,
            duration_ms,
            &cached,
            config.late,
        );

        let on_time = config.count - config.late;
        let scripted_records: u64 = scripted.iter().map(Flow::report_count).sum();
        let background = on_time.saturating_sub(scripted_records);
        let traffic_rng = Rng::new(seed, Stream::Traffic);
        let timeline = Timeline::new(traffic_rng, start_ms, duration_ms, background, scripted);

        let infos = sessions
            .iter()
            .map(|s| SessionInfo::of(s, &fleet))
            .collect::<Vec<_>>();
        Ok(Generator {
            stats: Stats::new(infos.len()),
            sessions: infos,
            fleet,
            timeline,
            late: late.into(),
            injector: Injector::new(Rng::new(seed, Stream::Malformed), config.malformed),
            format_rng: Rng::new(seed, Stream::Format),
            encoding: config.encoding,
            on_time_left: on_time,
            lines_left: config.count + config.malformed,
            last_event_ms: start_ms,
        })
    }

    /// Appends the next line, without its newline, to `out`; `None` once
    /// the run is complete.
    pub fn next_into(&mut self, out: &mut Vec<u8>) -> Option<LineKind> {
        if self.lines_left == 0 {
            return None;
        }
        let start = out.len();
        let kind = if self.injector.due(self.lines_left) {
            let kind = self.injector.write(out, &self.fleet, self.last_event_ms);
            self.stats.count_malformed(kind);
            LineKind::Malformed(kind)
        } else if self.on_time_left > 0 {
            self.on_time_left -= 1;
            let report = self.timeline.next(&mut self.fleet);
            self.last_event_ms = self.last_event_ms.max(report.start_ms);
            self.emit(out, &report, false);
            LineKind::Record
        } else {
            let report = self.late.pop_front()?;
            self.emit(out, &report, true);
            LineKind::Late
        };
        self.lines_left -= 1;
        self.stats.count_line(out.len() - start);
        Some(kind)
    }

    fn emit(&mut self, out: &mut Vec<u8>, report: &Report, late: bool) {
        let format = self.pick_format();
        let relay_lag_s = u64::from(self.format_rng.chance(0.15));
        let host = &self.fleet.hosts[report.conn.host];
        encode::write_record(out, report, host, format, relay_lag_s);
        self.stats.count_record(report, host, format, late);
    }

    fn pick_format(&mut self) -> Format {
        let json = match self.encoding {
            Encoding::Kv => false,
            Encoding::Json => true,
            Encoding::Mixed => self.format_rng.chance(0.5),
        };
        match (json, self.format_rng.chance(0.4)) {
            (false, _) => Format::Kv,
            (true, true) => Format::JsonSpaced,
            (true, false) => Format::JsonCompact,
        }
    }

    /// The endpoints of this run.
    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    /// The planned rclone sessions.
    pub fn sessions(&self) -> &[SessionInfo] {
        &self.sessions
    }

    /// Counts of what has been written so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

impl Iterator for Generator {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        let mut line = Vec::with_capacity(1200);
        self.next_into(&mut line).map(|_| line)
    }
}

/// Sessions' connections for the timeline, and those cached off-network
/// for the late section. Cached flows only go late when the late budget
/// can hold all their records; otherwise they are delivered in time.
fn split_cached(sessions: &[Session], late_budget: u64) -> (Vec<Flow>, Vec<Flow>) {
    let mut scripted: Vec<Flow> = sessions
        .iter()
        .flat_map(|s| s.flows.iter().cloned())
        .collect();
    let mut cached = Vec::new();
    let mut budget = late_budget;
    for flow in sessions.iter().flat_map(|s| s.cached.iter().cloned()) {
        if flow.report_count() <= budget {
            budget -= flow.report_count();
            cached.push(flow);
        } else {
            scripted.push(flow);
        }
    }
    (scripted, cached)
}

/// Writes a whole run to `out`, one line each, and returns its stats.
///
/// # Errors
///
/// Configuration errors come back as `InvalidInput`; write errors as they
/// happen.
pub fn write_all<W: Write>(config: &Config, out: &mut W) -> io::Result<Generator> {
    let mut generator =
        Generator::new(config).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    // Lines are gathered into chunks so the writer sees few large writes.
    let mut chunk = Vec::with_capacity(1 << 20);
    while generator.next_into(&mut chunk).is_some() {
        chunk.push(b'\n');
        if chunk.len() >= 1 << 20 {
            out.write_all(&chunk)?;
            chunk.clear();
        }
    }
    out.write_all(&chunk)?;
    out.flush()?;
    Ok(generator)
}

//! Connections and the records NVM writes about them.
//!
//! A [`Flow`] is one connection from start to end. NVM reports it in
//! stages: a start record (`fsg` 1, zero bytes) when a TCP connection is
//! established, if the host's profile asks for one; a periodic record
//! (`fsg` 2) every [`PERIODIC_MS`] while it stays open; and an end record
//! (`fsg` 0). Each periodic or end record covers the interval since the
//! previous report, so a record's event time (`fss`) stays close to when it
//! was exported and one long connection yields several records that a
//! `stats` search groups back together.

use std::sync::Arc;

use crate::model::Process;
use crate::net::{Http, Proto};
use crate::rng::Rng;

/// How often NVM reports a connection that stays open.
pub const PERIODIC_MS: u64 = 300_000;

/// Which of a host's addresses a connection left from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Office,
    Office6,
    /// A home network while off the trusted network (cached flows).
    Home,
}

/// The fixed facts of one connection.
#[derive(Clone)]
pub struct Conn {
    pub host: usize,
    pub process: Arc<Process>,
    pub proto: Proto,
    pub source: Source,
    pub sport: u16,
    pub dest: &'static str,
    pub dport: u16,
    /// `dh`: the resolved name, or `Unknown`.
    pub dest_name: &'static str,
    pub http: Option<(&'static str, &'static Http)>,
    /// Index of the rclone session this connection belongs to.
    pub session: Option<u16>,
}

/// A connection with its timing and volume.
#[derive(Clone)]
pub struct Flow {
    pub conn: Arc<Conn>,
    pub start_ms: u64,
    pub duration_ms: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub report_start: bool,
    /// Whether the client sends periodic reports; old clients only
    /// report a flow once it ends.
    pub report_periodic: bool,
}

/// The `fsg` report stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    End = 0,
    Start = 1,
    Periodic = 2,
}

/// One flow record, before encoding.
#[derive(Clone)]
pub struct Report {
    pub conn: Arc<Conn>,
    pub stage: Stage,
    pub start_ms: u64,
    pub end_ms: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// When the collector exported it: the syslog header time.
    pub export_ms: u64,
}

impl Flow {
    /// How many records [`Flow::reports`] will return.
    pub fn report_count(&self) -> u64 {
        let start = u64::from(self.report_start && self.conn.proto == Proto::Tcp);
        let periodic = match self.report_periodic {
            true => self.duration_ms.saturating_sub(1) / PERIODIC_MS,
            false => 0,
        };
        start + periodic + 1
    }

    /// The records NVM writes for this flow, in event-time order.
    pub fn reports(&self, rng: &mut Rng) -> Vec<Report> {
        let mut out = Vec::with_capacity(2 + (self.duration_ms / PERIODIC_MS) as usize);
        if self.report_start && self.conn.proto == Proto::Tcp {
            out.push(self.start_report(rng));
        }
        let end_ms = self.start_ms + self.duration_ms;
        let mut from = self.start_ms;
        while self.report_periodic && end_ms - from > PERIODIC_MS {
            out.push(self.interval_report(rng, Stage::Periodic, from, from + PERIODIC_MS));
            from += PERIODIC_MS;
        }
        out.push(self.interval_report(rng, Stage::End, from, end_ms));
        out
    }

    fn start_report(&self, rng: &mut Rng) -> Report {
        // The connection was just established: no payload yet, and NVM
        // stamps the end a few milliseconds after the start.
        let end_ms = self.start_ms + rng.range(0, 30);
        Report {
            conn: self.conn.clone(),
            stage: Stage::Start,
            start_ms: self.start_ms,
            end_ms,
            bytes_in: 0,
            bytes_out: 0,
            export_ms: end_ms + export_delay(rng),
        }
    }

    fn interval_report(&self, rng: &mut Rng, stage: Stage, from: u64, to: u64) -> Report {
        Report {
            conn: self.conn.clone(),
            stage,
            start_ms: from,
            end_ms: to,
            bytes_in: self.share(self.bytes_in, from, to),
            bytes_out: self.share(self.bytes_out, from, to),
            export_ms: to + export_delay(rng),
        }
    }

    /// The part of `total` bytes that falls in `[from, to)`, spreading the
    /// total evenly so the records of one flow add up to it exactly.
    fn share(&self, total: u64, from: u64, to: u64) -> u64 {
        let span = u128::from(self.duration_ms.max(1));
        let at = |t: u64| (u128::from(total) * u128::from(t - self.start_ms) / span) as u64;
        if to - self.start_ms >= self.duration_ms {
            return total - at(from);
        }
        at(to) - at(from)
    }
}

/// Time between a report's end and its export by the collector.
fn export_delay(rng: &mut Rng) -> u64 {
    rng.range(300, 6000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Account;
    use crate::rng::Stream;

    fn flow(duration_ms: u64, proto: Proto, report_start: bool) -> Flow {
        let process = Arc::new(Process {
            name: "chrome.exe",
            path: String::new(),
            args: String::new(),
            pid: 1,
            hash: Arc::from(""),
            puid: String::new(),
            integrity: None,
            account: Arc::new(Account::new("", "u", 2)),
            module: None,
            parent: None,
        });
        let conn = Arc::new(Conn {
            host: 0,
            process,
            proto,
            source: Source::Office,
            sport: 50000,
            dest: "192.0.2.1",
            dport: 443,
            dest_name: "example.org",
            http: None,
            session: None,
        });
        Flow {
            conn,
            start_ms: 1_000_000,
            duration_ms,
            bytes_in: 1_000_003,
            bytes_out: 77,
            report_start,
            report_periodic: true,
        }
    }

    #[test]
    fn long_flows_get_periodic_reports_whose_bytes_add_up() {
        let reports = flow(1_000_000, Proto::Tcp, true).reports(&mut Rng::new(1, Stream::Traffic));
        let stages: Vec<_> = reports.iter().map(|r| r.stage).collect();
        use Stage::*;
        assert_eq!(stages, [Start, Periodic, Periodic, Periodic, End]);
        assert_eq!(reports.iter().map(|r| r.bytes_in).sum::<u64>(), 1_000_003);
        assert_eq!(reports.iter().map(|r| r.bytes_out).sum::<u64>(), 77);
        assert_eq!(reports.last().unwrap().end_ms, 2_000_000);
        for d in [1, 300_000, 300_001, 600_000, 1_000_000] {
            let f = flow(d, Proto::Tcp, true);
            let n = f.reports(&mut Rng::new(1, Stream::Traffic)).len() as u64;
            assert_eq!(f.report_count(), n, "duration {d}");
        }
    }

    #[test]
    fn udp_and_end_only_hosts_get_no_start_report() {
        let mut rng = Rng::new(1, Stream::Traffic);
        assert_eq!(flow(10, Proto::Udp, true).reports(&mut rng).len(), 1);
        assert_eq!(flow(10, Proto::Tcp, false).reports(&mut rng).len(), 1);
        assert_eq!(flow(10, Proto::Tcp, true).reports(&mut rng).len(), 2);
    }
}

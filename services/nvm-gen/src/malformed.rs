//! Deliberately broken lines for dead-letter testing: truncated JSON, a
//! JSON record whose `fss` is not a number, a syslog line with no key=value
//! pairs, binary garbage (still one line), and a line over 64 KiB.
//!
//! Positions are chosen by selection sampling, so exactly the requested
//! number appear, spread uniformly, without knowing them in advance. The
//! injector has its own random stream and only reads the fleet, so the
//! records around the broken lines are the same as without them.

use std::sync::Arc;

use crate::encode::{self, Format};
use crate::fleet::Fleet;
use crate::flow::Report;
use crate::model::{Os, Process};
use crate::rng::{stable_hash_hex, Rng};
use crate::timefmt;
use crate::traffic;

/// Lines above this size are "oversize" for the consumer.
pub const OVERSIZE_BYTES: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    TruncatedJson,
    NonNumericFss,
    SyslogWithoutPairs,
    Garbage,
    Oversize,
}

impl Kind {
    const CYCLE: [Kind; 5] = [
        Kind::TruncatedJson,
        Kind::NonNumericFss,
        Kind::SyslogWithoutPairs,
        Kind::Garbage,
        Kind::Oversize,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::TruncatedJson => "truncated JSON",
            Kind::NonNumericFss => "JSON with non-numeric fss",
            Kind::SyslogWithoutPairs => "syslog line without key=value pairs",
            Kind::Garbage => "binary garbage",
            Kind::Oversize => "oversize line (> 64 KiB)",
        }
    }
}

/// Decides where broken lines go and writes them.
pub struct Injector {
    rng: Rng,
    remaining: u64,
    written: usize,
}

impl Injector {
    pub fn new(rng: Rng, count: u64) -> Injector {
        Injector {
            rng,
            remaining: count,
            written: 0,
        }
    }

    /// Whether the next line is a broken one, given `lines_left` lines
    /// (including this one) still to write.
    pub fn due(&mut self, lines_left: u64) -> bool {
        if self.remaining == 0 {
            return false;
        }
        let due = self.rng.below(lines_left) < self.remaining;
        self.remaining -= u64::from(due);
        due
    }

    /// Writes the next broken line; kinds take turns so a handful of lines
    /// covers them all.
    pub fn write(&mut self, out: &mut Vec<u8>, fleet: &Fleet, at_ms: u64) -> Kind {
        let kind = Kind::CYCLE[self.written % Kind::CYCLE.len()];
        self.written += 1;
        match kind {
            Kind::TruncatedJson => self.truncated_json(out, fleet, at_ms),
            Kind::NonNumericFss => self.non_numeric_fss(out, fleet, at_ms),
            Kind::SyslogWithoutPairs => syslog_without_pairs(out, fleet, at_ms),
            Kind::Garbage => self.garbage(out),
            Kind::Oversize => self.oversize(out, fleet, at_ms),
        }
        kind
    }

    /// A plausible record from a Windows host with process context, when
    /// the fleet has one.
    fn sample(&mut self, fleet: &Fleet, at_ms: u64) -> Report {
        let mut fallback = None;
        for _ in 0..64 {
            let host = fleet.pick_host(&mut self.rng);
            let h = &fleet.hosts[host];
            let Some(flow) = traffic::sample_flow(&mut self.rng, fleet, host, at_ms) else {
                continue;
            };
            if h.os() == Os::Windows && !h.legacy {
                return flow.reports(&mut self.rng).remove(0);
            }
            fallback.get_or_insert(flow);
        }
        let flow = fallback.expect("a fleet with at least one running process");
        flow.reports(&mut self.rng).remove(0)
    }

    fn truncated_json(&mut self, out: &mut Vec<u8>, fleet: &Fleet, at_ms: u64) {
        let line = self.json_line(fleet, at_ms);
        let text = String::from_utf8(line).expect("records are UTF-8");
        let mut cut = text.len() * (30 + self.rng.below(60) as usize) / 100;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        out.extend_from_slice(&text.as_bytes()[..cut]);
    }

    /// A record whose `fss` holds an ISO timestamp instead of seconds.
    fn non_numeric_fss(&mut self, out: &mut Vec<u8>, fleet: &Fleet, at_ms: u64) {
        let line = self.json_line(fleet, at_ms);
        let iso = timefmt::iso8601((at_ms / 1000) as i64);
        out.extend_from_slice(&replace_json_value(&line, "fss", &iso));
    }

    fn json_line(&mut self, fleet: &Fleet, at_ms: u64) -> Vec<u8> {
        let report = self.sample(fleet, at_ms);
        let mut line = Vec::new();
        let host = &fleet.hosts[report.conn.host];
        encode::write_record(&mut line, &report, host, Format::JsonCompact, 0);
        line
    }

    fn garbage(&mut self, out: &mut Vec<u8>) {
        let len = self.rng.range(60, 240);
        for _ in 0..len {
            // Any byte but NUL, CR and LF: still one line, still not text.
            let b = self.rng.range(1, 255) as u8;
            out.push(if b == b'\n' || b == b'\r' { 0xFF } else { b });
        }
    }

    /// A PowerShell record with a huge `-EncodedCommand`, a shape real
    /// endpoints produce and consumers must cap.
    fn oversize(&mut self, out: &mut Vec<u8>, fleet: &Fleet, at_ms: u64) {
        let start = out.len();
        let mut report = self.sample(fleet, at_ms);
        let blob = self.base64ish(OVERSIZE_BYTES + 4096);
        let original = &report.conn.process;
        let process = Process {
            name: "powershell.exe",
            path: r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe".to_owned(),
            args: format!(" -NoProfile -WindowStyle Hidden -EncodedCommand {blob}"),
            pid: original.pid + 4,
            hash: Arc::from(stable_hash_hex("win/powershell.exe")),
            puid: self.rng.hex_upper(32),
            integrity: original.integrity,
            account: original.account.clone(),
            module: None,
            parent: original.parent.clone(),
        };
        let mut conn = (*report.conn).clone();
        conn.process = Arc::new(process);
        report.conn = Arc::new(conn);
        let host = &fleet.hosts[report.conn.host];
        encode::write_record(out, &report, host, Format::JsonSpaced, 0);
        // Legacy records have no `parg` to carry the blob.
        if out.len() - start <= OVERSIZE_BYTES {
            out.extend_from_slice(blob.as_bytes());
        }
    }

    fn base64ish(&mut self, len: usize) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        (0..len)
            .map(|_| ALPHABET[self.rng.below(64) as usize] as char)
            .collect()
    }
}

fn syslog_without_pairs(out: &mut Vec<u8>, fleet: &Fleet, at_ms: u64) {
    let secs = (at_ms / 1000) as i64;
    let collector = fleet
        .hosts
        .first()
        .map_or("nvm-col-hq01", |h| h.site.collector);
    timefmt::write_syslog(out, secs);
    out.extend_from_slice(b" 127.0.0.1 ");
    timefmt::write_syslog(out, secs);
    out.push(b' ');
    out.extend_from_slice(collector.as_bytes());
    out.extend_from_slice(
        b"  nvzflow collector: template 262 unknown for exporter, record skipped",
    );
}

/// `line` with the JSON string value of `key` replaced by `value`.
fn replace_json_value(line: &[u8], key: &str, value: &str) -> Vec<u8> {
    let needle = format!("\"{key}\"");
    let Some(at) = find(line, needle.as_bytes()) else {
        return line.to_vec();
    };
    let after_key = at + needle.len();
    let Some(open) = line[after_key..].iter().position(|&b| b == b'"') else {
        return line.to_vec();
    };
    let value_start = after_key + open + 1;
    let Some(len) = line[value_start..].iter().position(|&b| b == b'"') else {
        return line.to_vec();
    };
    let mut out = line[..value_start].to_vec();
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(&line[value_start + len..]);
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;

    #[test]
    fn replaces_a_json_string_value() {
        let line = br#"{ "fv": "x", "fss": "1784016000", "fst": "y" }"#;
        let out = replace_json_value(line, "fss", "2026-07-14T08:00:00Z");
        assert_eq!(
            out,
            br#"{ "fv": "x", "fss": "2026-07-14T08:00:00Z", "fst": "y" }"#
        );
    }

    #[test]
    fn injects_exactly_the_requested_number() {
        let mut injector = Injector::new(Rng::new(1, Stream::Malformed), 7);
        let hits = (1..=100u64)
            .rev()
            .filter(|&left| injector.due(left))
            .count();
        assert_eq!(hits, 7);
    }

    #[test]
    fn every_kind_is_one_line_and_oversize_is_big() {
        let fleet = Fleet::build(&mut Rng::new(2, Stream::Fleet), 20);
        let mut injector = Injector::new(Rng::new(2, Stream::Malformed), 5);
        for _ in 0..5 {
            let mut out = Vec::new();
            let kind = injector.write(&mut out, &fleet, 1_784_016_000_000);
            assert!(!out.contains(&b'\n') && !out.contains(&b'\r'), "{kind:?}");
            if kind == Kind::TruncatedJson {
                assert!(serde_json::from_slice::<serde_json::Value>(&out).is_err());
            }
            if kind == Kind::Oversize {
                assert!(out.len() > OVERSIZE_BYTES);
            }
        }
    }
}

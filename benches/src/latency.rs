//! Alert latency: how long from producing a matching record to its `new`
//! alert being readable (read_committed) on the alerts topic, while the
//! detector runs unbounded under a steady load of non-matching records.
//!
//! Each probe is an rclone record from a host of its own (`src`
//! 100.64.x.y), so it opens a group of its own and its `new` alert names
//! it. Its event time is the highest the load has reached, so it is never
//! late and never closes a window by itself.

use crate::corpus::Corpus;
use crate::kafka::{check_delivered, record, send, Kafka};
use anyhow::{bail, Context as _};
use nvm_detector::decode::{decode, DecodeOptions};
use nvm_detector::rule::RuleSet;
use rdkafka::consumer::Consumer;
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Load and probe settings.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Records per second, probes included.
    pub rate: u64,
    /// Load before the first probe.
    pub warmup_secs: u64,
    /// Load with probes.
    pub measure_secs: u64,
    /// One record in this many is a probe.
    pub probe_every: u64,
}

/// How long to wait for the alerts of the last probes once the load ends.
pub const STRAGGLERS_SECS: u64 = 15;

/// What one latency run saw. Percentiles are of the probes seen: when some
/// were not, they are lower bounds.
#[derive(Debug, Clone, Serialize)]
pub struct LatencyRun {
    pub probes_sent: u64,
    pub probes_seen: u64,
    /// Input records the detector had not committed when the load ended.
    pub lag_at_end: Option<u64>,
    /// Input records per second the detector committed during the load:
    /// what it kept up with.
    pub processed_rate: Option<f64>,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Records per second actually produced while probing.
    pub achieved_rate: f64,
    /// From a probe's send to its acknowledgement by the broker (linger,
    /// batching and the broker's write): the part of the latency that is
    /// not the detector's.
    pub acked_p50_ms: f64,
    pub acked_p99_ms: f64,
    /// From a probe's send to the detector producing its alert (the alert
    /// record's timestamp): consuming and processing.
    pub produced_p50_ms: f64,
    pub produced_p99_ms: f64,
    /// From the alert produced to readable with read_committed: the
    /// commit (transaction or flush) and the read.
    pub readable_after_produced_p50_ms: f64,
    pub readable_after_produced_p99_ms: f64,
}

/// Non-matching records to load the detector with.
pub struct Load {
    /// (key, line index, event time).
    records: Vec<(Option<Vec<u8>>, usize, i64)>,
    corpus: Corpus,
}

impl Load {
    /// The usable, non-matching lines of a corpus, keyed by `src` as
    /// `nvm-detector replay` keys them.
    pub fn from_corpus(corpus: Corpus, rules: &RuleSet) -> Load {
        let options = DecodeOptions::default();
        let mut records = Vec::with_capacity(corpus.len());
        for (i, line) in corpus.iter().enumerate() {
            let Ok(record) = decode(line, &options) else {
                continue;
            };
            if rules.rules().iter().any(|r| r.plan.filter.matches(&record)) {
                continue;
            }
            let key = record.first("src").map(|s| s.as_bytes().to_vec());
            records.push((key, i, record.time_ms()));
        }
        Load { records, corpus }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// The source address of probe `i` (in 100.64.0.0/10: four million of them).
pub fn probe_src(i: u64) -> String {
    format!("100.{}.{}.{}", 64 + (i >> 16), (i >> 8) & 255, i & 255)
}

/// The probe number of a source address, if it is a probe's.
pub fn probe_index(src: &str) -> Option<u64> {
    let mut octets = src.split('.').map(|o| o.parse::<u64>().ok());
    let (Some(Some(100)), Some(Some(b)), Some(Some(c)), Some(Some(d)), None) = (
        octets.next(),
        octets.next(),
        octets.next(),
        octets.next(),
        octets.next(),
    ) else {
        return None;
    };
    if !(64..128).contains(&b) || c > 255 || d > 255 {
        return None;
    }
    Some(((b - 64) << 16) | (c << 8) | d)
}

/// A probe: an rclone copy to a UNC path and a `remote:` that every branch
/// of the rule's filter accepts, with every BY field present. Each probe
/// number is a host of its own, so each probe opens a group of its own.
pub fn probe_line(i: u64, time_ms: i64) -> Vec<u8> {
    let secs = time_ms.div_euclid(1000);
    let record = serde_json::json!({
        "fv": "nvzFlow_v11", "pr": "6", "sa": probe_src(i), "sp": "50123",
        "da": "66.203.125.15", "dp": "443", "fd": "1",
        "fss": secs.to_string(), "fes": secs.to_string(),
        "fsms": time_ms.to_string(), "fems": time_ms.to_string(),
        "dh": "g.api.mega.co.nz", "udid": "5103565E9CB929406529532B6D0B9E8273954B74",
        "liuid": "CORP\\probe", "pn": "rclone.exe",
        "ph": "0D9D5A4D0D1E3B0F2C6B6F0E35AF1D9F5E4A9A0E9C1F0B7A6D3C2B1A09F8E7D6",
        "pid": "4242", "ppath": "C:\\ProgramData\\rclone\\rclone.exe",
        "parg": " copy \\\\FILESRV01\\Finance remote:exfil/finance --transfers 16",
        "ppn": "cmd.exe", "ppid": "4100", "pppath": "C:\\Windows\\System32\\cmd.exe",
        "pparg": "/c sync.bat",
        "pph": "41871DADE953D9F40F4AA445FC19982AB59D263C8AA93D7F67A1451663A09A57",
        "pil": "12288", "ppil": "12288", "ibc": "1200", "obc": "48000000",
    });
    record.to_string().into_bytes()
}

/// Probe send times (ns since `base`; 0 = not sent), which probes were
/// seen, and their latencies: whole, and split at the moment the detector
/// produced the alert (the alert record's timestamp, the same clock).
struct Probes {
    base: Instant,
    /// `base` on the wall clock, epoch ms.
    base_wall_ms: f64,
    sent_ns: Vec<AtomicU64>,
    seen: Vec<AtomicBool>,
    latencies_ms: Mutex<Vec<f64>>,
    /// (send to alert produced, alert produced to readable), ms.
    split_ms: Mutex<Vec<(f64, f64)>>,
}

impl Probes {
    fn new(count: u64) -> Probes {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1e3);
        Probes {
            base: Instant::now(),
            base_wall_ms: wall,
            sent_ns: (0..count).map(|_| AtomicU64::new(0)).collect(),
            seen: (0..count).map(|_| AtomicBool::new(false)).collect(),
            latencies_ms: Mutex::new(Vec::new()),
            split_ms: Mutex::new(Vec::new()),
        }
    }

    fn mark_sent(&self, i: u64) {
        let at = self.base.elapsed().as_nanos() as u64;
        self.sent_ns[i as usize].store(at.max(1), Ordering::Relaxed);
    }

    fn sent_at(&self, i: usize) -> Option<Instant> {
        let ns = self.sent_ns.get(i)?.load(Ordering::Relaxed);
        (ns > 0).then(|| self.base + Duration::from_nanos(ns))
    }

    /// A `new` alert for `src`, produced at `produced_ms` (epoch ms),
    /// became readable now.
    fn saw(&self, src: &str, produced_ms: Option<i64>) {
        let Some(i) = probe_index(src) else { return };
        let Some(sent) = self.sent_at(i as usize) else {
            return; // not ours
        };
        if self.seen[i as usize].swap(true, Ordering::Relaxed) {
            return; // seen already
        }
        let ms = sent.elapsed().as_secs_f64() * 1e3;
        self.latencies_ms
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(ms);
        if let Some(produced) = produced_ms {
            let sent_wall = self.base_wall_ms + (sent - self.base).as_secs_f64() * 1e3;
            let to_detector = produced as f64 - sent_wall;
            self.split_ms
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((to_detector, ms - to_detector));
        }
    }

    fn seen_count(&self) -> u64 {
        self.latencies_ms.lock().map_or(0, |l| l.len() as u64)
    }
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Loads `input` at the set rate with probes and measures them on `alerts`.
/// The detector must already be running on `input`.
///
/// # Errors
/// A load too small for the settings, or a Kafka failure.
pub fn run(
    kafka: &Kafka,
    topics: (&str, &str),
    group: &str,
    load: &Load,
    settings: &Settings,
) -> anyhow::Result<LatencyRun> {
    let (input, alerts) = topics;
    let total = settings.rate * (settings.warmup_secs + settings.measure_secs);
    if (load.len() as u64) < total {
        bail!("the load has {} records; {} are needed", load.len(), total);
    }
    let probes_max = settings.rate * settings.measure_secs / settings.probe_every + 1;
    let probes = Arc::new(Probes::new(probes_max));
    let stop = Arc::new(AtomicBool::new(false));
    let reader = spawn_reader(kafka, alerts, probes.clone(), stop.clone())?;

    let sent = produce(kafka, input, load, settings, &probes);
    let sent = match sent {
        Ok(sent) => sent,
        Err(e) => {
            stop.store(true, Ordering::Relaxed);
            let _ = reader.join();
            return Err(e);
        }
    };

    // How far behind the detector was when the load ended.
    let lag = kafka.committed_lag(input, group).ok();

    // Wait for the stragglers, then stop reading.
    let deadline = Instant::now() + Duration::from_secs(STRAGGLERS_SECS);
    while Instant::now() < deadline {
        if probes.seen_count() >= sent.probes {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    reader
        .join()
        .map_err(|_| anyhow::anyhow!("the alerts reader panicked"))??;

    let mut latencies = probes
        .latencies_ms
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .clone();
    latencies.sort_by(f64::total_cmp);
    let mut acked = sent.acked_ms;
    acked.sort_by(f64::total_cmp);
    let split = probes
        .split_ms
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .clone();
    let mut to_alert: Vec<f64> = split.iter().map(|s| s.0).collect();
    let mut to_readable: Vec<f64> = split.iter().map(|s| s.1).collect();
    to_alert.sort_by(f64::total_cmp);
    to_readable.sort_by(f64::total_cmp);
    let processed_rate = lag.map(|lag| {
        let secs = (settings.warmup_secs + settings.measure_secs) as f64;
        sent.records.saturating_sub(lag) as f64 / secs
    });
    Ok(LatencyRun {
        probes_sent: sent.probes,
        probes_seen: latencies.len() as u64,
        lag_at_end: lag,
        processed_rate,
        p50_ms: percentile(&latencies, 50.0),
        p99_ms: percentile(&latencies, 99.0),
        max_ms: latencies.last().copied().unwrap_or(f64::NAN),
        achieved_rate: sent.measured_rate,
        acked_p50_ms: percentile(&acked, 50.0),
        acked_p99_ms: percentile(&acked, 99.0),
        produced_p50_ms: percentile(&to_alert, 50.0),
        produced_p99_ms: percentile(&to_alert, 99.0),
        readable_after_produced_p50_ms: percentile(&to_readable, 50.0),
        readable_after_produced_p99_ms: percentile(&to_readable, 99.0),
    })
}

struct Sent {
    /// Records sent, probes included.
    records: u64,
    probes: u64,
    measured_rate: f64,
    /// Send to acknowledgement of each probe.
    acked_ms: Vec<f64>,
}

/// The paced producer: every millisecond or so it sends what is due.
fn produce(
    kafka: &Kafka,
    input: &str,
    load: &Load,
    settings: &Settings,
    probes: &Probes,
) -> anyhow::Result<Sent> {
    // librdkafka's default linger (5 ms): a collector batches too.
    let producer = kafka.producer(5)?;
    let warmup = Duration::from_secs(settings.warmup_secs);
    let end = warmup + Duration::from_secs(settings.measure_secs);
    let mut next_load = 0usize;
    let mut next_probe = 0u64;
    let mut max_event_ms = i64::MIN;
    let mut sent = 0u64;
    let mut measured_from = None;
    let started = Instant::now();
    loop {
        let elapsed = started.elapsed();
        if elapsed >= end {
            break;
        }
        let due = (elapsed.as_secs_f64() * settings.rate as f64) as u64;
        while sent < due {
            sent += 1;
            let probing = elapsed >= warmup;
            if probing
                && sent % settings.probe_every == 0
                && (next_probe as usize) < probes.sent_ns.len()
            {
                measured_from.get_or_insert((sent, Instant::now()));
                let line = probe_line(next_probe, max_event_ms.max(0));
                let key = probe_src(next_probe);
                probes.mark_sent(next_probe);
                // Tags are probe numbers plus one: 0 is an untagged record.
                let probe = BaseRecord::with_opaque_to(input, next_probe as usize + 1)
                    .key(key.as_bytes())
                    .payload(line.as_slice());
                send(&producer, probe)?;
                next_probe += 1;
                continue;
            }
            let (key, index, time) = &load.records[next_load];
            next_load += 1;
            max_event_ms = max_event_ms.max(*time);
            let mut filler = record(input).payload(load.corpus.line(*index));
            if let Some(key) = key {
                filler = filler.key(key.as_slice());
            }
            send(&producer, filler)?;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    let measured_rate = match measured_from {
        Some((first, at)) => (sent - first) as f64 / at.elapsed().as_secs_f64(),
        None => 0.0,
    };
    producer
        .flush(Duration::from_secs(30))
        .context("flushing the load")?;
    check_delivered(&producer)?;
    let acked_ms = producer
        .context()
        .take_acked()
        .into_iter()
        .filter_map(|(tag, at)| {
            let sent = probes.sent_at(tag - 1)?;
            Some(at.saturating_duration_since(sent).as_secs_f64() * 1e3)
        })
        .collect();
    Ok(Sent {
        records: sent,
        probes: next_probe,
        measured_rate,
        acked_ms,
    })
}

/// Reads the alerts topic (read_committed, from the start) until `stop`,
/// timing every probe's `new` alert.
fn spawn_reader(
    kafka: &Kafka,
    alerts: &str,
    probes: Arc<Probes>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<std::thread::JoinHandle<anyhow::Result<()>>> {
    // A short fetch wait keeps the reader's own polling out of the
    // measured latency; alerts are few, so it costs nothing.
    let consumer = kafka.reader(10)?;
    let mut list = TopicPartitionList::new();
    for p in kafka.partitions(alerts)? {
        list.add_partition_offset(alerts, p, Offset::Beginning)?;
    }
    consumer.assign(&list)?;
    Ok(std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let Some(message) = consumer.poll(Duration::from_millis(20)) else {
                continue;
            };
            let message = match message {
                Ok(m) => m,
                Err(rdkafka::error::KafkaError::PartitionEOF(_)) => continue,
                Err(e) => return Err(e).context("reading alerts"),
            };
            let Some(payload) = message.payload() else {
                continue;
            };
            let Ok(doc) = serde_json::from_slice::<serde_json::Value>(payload) else {
                continue;
            };
            if doc["status"] != "new" {
                continue;
            }
            if let Some(src) = doc["group"]["src"].as_str() {
                probes.saw(src, message.timestamp().to_millis());
            }
        }
        Ok(())
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nvm_detector::decode::decode;

    #[test]
    fn probe_sources_round_trip() {
        for i in [0, 1, 255, 256, 4095, 65_536, 1_000_000] {
            assert_eq!(probe_index(&probe_src(i)), Some(i));
        }
        assert_eq!(probe_index("10.10.0.1"), None);
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), 50.0);
        assert_eq!(percentile(&values, 99.0), 99.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
    }

    #[test]
    fn probes_match_the_bundled_rule_with_every_by_field() {
        let rules_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
        let rules = RuleSet::load(&rules_dir).unwrap();
        let record = decode(&probe_line(3, 1_784_019_600_250), &Default::default()).unwrap();
        let rule = &rules.rules()[0];
        assert!(rule.plan.filter.matches(&record));
        assert!(nvm_detector::stats::group_keys(&rule.plan.stats, &record).is_some());
        assert_eq!(record.first("src"), Some("100.64.0.3"));
    }
}

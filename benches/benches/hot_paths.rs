//! Criterion micro-benchmarks of the engine's hot paths, per record, on
//! generated records of the realistic mix (rclone rare):
//!
//! - `decode`: bytes to a normalised record, per encoding (the library's
//!   `decode`, parse and normalise together);
//! - `decode_stage/json_parse`: the JSON parse alone (the same serde_json
//!   call the decoder makes first), so `decode/json` minus it is the cost of
//!   building the record;
//! - `normalise`: that building step alone, through the public API (the
//!   decoder's own normalise module is private; this is its model: owned
//!   fields in, native and CIM names inserted, derived fields added);
//! - `match`: the bundled rule's filter on decoded records;
//! - `state`: window state updates (`WindowState::process`) for the mix, for
//!   a record folded into an open group and for one opening a group;
//! - `engine`: `PartitionEngine::on_message`, all of the above in one.
//!
//! `cargo bench -p nvm-benches --bench hot_paths [FILTER]`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use nvm_benches::corpus::{self, Corpus, Encoding, Spec};
use nvm_benches::latency::probe_line;
use nvm_detector::alert::Alert;
use nvm_detector::decode::{cim_name, decode, transport_name, DecodeOptions};
use nvm_detector::engine::{EngineConfig, PartitionEngine};
use nvm_detector::record::{Record, Value};
use nvm_detector::rule::{Rule, RuleSet};
use nvm_detector::stats::{group_keys, Aggregate};
use nvm_detector::window::{Emission, WindowConfig, WindowState};
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Records per benchmark iteration: enough that the mix, not one record,
/// is measured.
const LINES: usize = 1000;

/// Processing time given to the windows (2026-07-14T09:00:00Z).
const NOW_MS: i64 = 1_784_019_600_000;

struct Fixture {
    config: EngineConfig,
    json: Corpus,
    kv: Corpus,
    /// The decoded records of both corpora, each in its time order.
    records: Vec<Record>,
    /// How many of `records` are the JSON corpus's (the first ones).
    json_records: usize,
    /// A record the rule matches, with every BY field.
    rclone: Record,
}

impl Fixture {
    fn new() -> Fixture {
        let rules_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
        let rules = RuleSet::load(&rules_dir).expect("the bundled rules load");
        let config = EngineConfig {
            rules: Arc::new(rules),
            decode: DecodeOptions::default(),
            windows: WindowConfig::default(),
        };
        let json = generated(Encoding::Json, 11);
        let kv = generated(Encoding::Kv, 12);
        let options = DecodeOptions::default();
        let decoded = |c: &Corpus| -> Vec<Record> {
            c.iter().filter_map(|l| decode(l, &options).ok()).collect()
        };
        let mut records = decoded(&json);
        let json_records = records.len();
        records.extend(decoded(&kv));
        let rclone = decode(&probe_line(1, NOW_MS), &options).expect("the probe decodes");
        Fixture {
            config,
            json,
            kv,
            records,
            json_records,
            rclone,
        }
    }

    fn rule(&self) -> &Rule {
        &self.config.rules.rules()[0]
    }
}

fn generated(encoding: Encoding, seed: u64) -> Corpus {
    let spec = Spec {
        encoding,
        records: LINES as u64,
        seed,
        rclone_sessions: None,
    };
    corpus::in_memory(&spec).expect("the generator runs")
}

fn decoding(c: &mut Criterion, f: &Fixture) {
    let options = DecodeOptions::default();
    let mut group = c.benchmark_group("decode");
    for (name, corpus) in [("json", &f.json), ("kv", &f.kv)] {
        group.throughput(Throughput::Elements(corpus.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                for line in corpus.iter() {
                    let _ = black_box(decode(black_box(line), &options));
                }
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("decode_stage");
    group.throughput(Throughput::Elements(f.json.len() as u64));
    group.bench_function("json_parse", |b| {
        b.iter(|| {
            for line in f.json.iter() {
                let text = std::str::from_utf8(line).unwrap_or_default();
                let parsed: Result<serde_json::Map<String, serde_json::Value>, _> =
                    serde_json::from_str(text);
                let _ = black_box(parsed);
            }
        })
    });
    group.finish();
}

/// Raw fields of a JSON line as the decoder hands them to normalisation:
/// owned keys and values, absent markers removed.
fn raw_fields(line: &[u8]) -> Vec<(String, Value)> {
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(line).unwrap_or_default();
    map.into_iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::String(s) if !matches!(s.as_str(), "" | "''" | "'") => {
                Some((k, Value::One(s)))
            }
            _ => None,
        })
        .collect()
}

/// The normalisation step through the public API: every native key and
/// its CIM names, then the derived fields, into a fresh record.
fn normalise_model(fields: Vec<(String, Value)>) -> Record {
    let find = |name: &str| fields.iter().find(|(k, _)| k == name);
    let time_ms = find("fsms")
        .and_then(|(_, v)| v.first()?.parse::<i64>().ok())
        .unwrap_or(0);
    let mut record = Record::new(time_ms, nvm_detector::record::Encoding::Json);
    for (key, value) in fields {
        for name in cim_name(&key) {
            record.insert(*name, value.clone());
        }
        record.insert(key, value);
    }
    if let Some(pr) = record.first("pr") {
        let transport = transport_name(pr).to_owned();
        record.insert("transport", Value::One(transport));
    }
    let number = |r: &Record, k: &str| r.first(k).and_then(|v| v.parse::<u64>().ok());
    if let (Some(i), Some(o)) = (number(&record, "ibc"), number(&record, "obc")) {
        record.insert("bytes", Value::One((i + o).to_string()));
    }
    for (out, path, name, args) in [
        ("process", "ppath", "pn", "parg"),
        ("parent_process", "pppath", "ppn", "pparg"),
    ] {
        let Some(image) = record.first(path).or_else(|| record.first(name)) else {
            continue;
        };
        let line = match record.first(args) {
            None => image.to_owned(),
            Some(a) if a.starts_with(char::is_whitespace) => format!("{image}{a}"),
            Some(a) => format!("{image} {a}"),
        };
        record.insert(out, Value::One(line));
    }
    record.insert("sourcetype", Value::One("cisco:nvm:flowdata:v2".into()));
    let time = nvm_detector::spl::format_epoch_secs(time_ms);
    record.insert("_time", Value::One(time));
    record
}

fn normalising(c: &mut Criterion, f: &Fixture) {
    let fields: Vec<Vec<(String, Value)>> = f.json.iter().map(raw_fields).collect();
    let mut group = c.benchmark_group("normalise");
    group.throughput(Throughput::Elements(fields.len() as u64));
    group.bench_function("json_model", |b| {
        b.iter_batched(
            || fields.clone(),
            |fields| {
                for one in fields {
                    black_box(normalise_model(one));
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn matching(c: &mut Criterion, f: &Fixture) {
    let filter = &f.rule().plan.filter;
    let mut group = c.benchmark_group("match");
    group.throughput(Throughput::Elements(f.records.len() as u64));
    group.bench_function("rule_filter_mix", |b| {
        b.iter(|| {
            for record in &f.records {
                black_box(filter.matches(black_box(record)));
            }
        })
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("rule_filter_rclone", |b| {
        b.iter(|| black_box(filter.matches(black_box(&f.rclone))))
    });
    let spec = &f.rule().plan.stats;
    group.bench_function("group_keys_rclone", |b| {
        b.iter(|| black_box(group_keys(spec, black_box(&f.rclone))))
    });
    group.finish();
}

fn state_updates(c: &mut Criterion, f: &Fixture) {
    let rules = &f.config.rules;
    let windows = f.config.windows;
    let mut group = c.benchmark_group("state");

    // Each corpus in its time order into fresh state: filters, watermark,
    // closings. (One after the other, the second would be mostly late.)
    let (json, kv) = f.records.split_at(f.json_records);
    for (name, records) in [("process_mix_json", json), ("process_mix_kv", kv)] {
        group.throughput(Throughput::Elements(records.len() as u64));
        group.bench_function(name, |b| {
            b.iter_batched(
                || (WindowState::new(windows), Vec::<Emission>::new()),
                |(mut state, mut out)| {
                    for record in records {
                        black_box(state.process(rules, record, NOW_MS, &mut out));
                        out.clear();
                    }
                    state
                },
                BatchSize::LargeInput,
            )
        });
    }

    // One more record of an open group, inside the update interval.
    group.throughput(Throughput::Elements(1));
    let mut open = WindowState::new(windows);
    let mut out = Vec::new();
    open.process(rules, &f.rclone, NOW_MS, &mut out);
    group.bench_function("process_fold_open_group", |b| {
        b.iter(|| {
            out.clear();
            black_box(open.process(rules, &f.rclone, NOW_MS + 1, &mut out))
        })
    });

    // A record opening its group: a `new` emission with the aggregate.
    group.bench_function("process_open_group", |b| {
        b.iter_batched(
            || (WindowState::new(windows), Vec::<Emission>::new()),
            |(mut state, mut out)| {
                black_box(state.process(rules, &f.rclone, NOW_MS, &mut out));
                (state, out)
            },
            BatchSize::SmallInput,
        )
    });

    let spec = &f.rule().plan.stats;
    let mut agg = Aggregate::new(spec);
    group.bench_function("aggregate_add", |b| {
        b.iter(|| agg.add(spec, black_box(&f.rclone)))
    });
    group.finish();
}

fn engine(c: &mut Criterion, f: &Fixture) {
    let mut group = c.benchmark_group("engine");
    for (name, corpus) in [("json", &f.json), ("kv", &f.kv)] {
        group.throughput(Throughput::Elements(corpus.len() as u64));
        group.bench_function(name, |b| {
            b.iter_batched(
                || PartitionEngine::new(f.config.clone()),
                |mut engine| {
                    let mut alerts: Vec<Alert> = Vec::new();
                    for line in corpus.iter() {
                        black_box(engine.on_message(line, NOW_MS, &mut alerts));
                        alerts.clear();
                    }
                    engine
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

fn hot_paths(c: &mut Criterion) {
    let fixture = Fixture::new();
    decoding(c, &fixture);
    normalising(c, &fixture);
    matching(c, &fixture);
    state_updates(c, &fixture);
    engine(c, &fixture);
}

criterion_group! {
    name = benches;
    // Short runs: the machines this runs on are small and often shared.
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);
    targets = hot_paths
}
criterion_main!(benches);

//! Properties of generated output: determinism, line shape, both
//! encodings, rclone sessions, late and malformed lines.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{decode, generate, small_config, Fields, Wire};
use nvm_gen::{Config, Encoding, LineKind};

fn records(config: &Config) -> Vec<(Wire, Fields)> {
    generate(config)
        .iter()
        .filter(|l| !matches!(l.kind, LineKind::Malformed(_)))
        .map(|l| decode(&l.bytes).expect("record lines decode"))
        .collect()
}

#[test]
fn same_arguments_give_identical_bytes() {
    let config = small_config();
    let a: Vec<_> = generate(&config).into_iter().map(|l| l.bytes).collect();
    let b: Vec<_> = generate(&config).into_iter().map(|l| l.bytes).collect();
    assert!(a == b, "two runs differ");
    let other = Config { seed: 1, ..config };
    let c: Vec<_> = generate(&other).into_iter().map(|l| l.bytes).collect();
    assert!(a != c, "seed has no effect");
}

#[test]
fn every_line_is_a_single_line() {
    for line in generate(&small_config()) {
        assert!(
            !line.bytes.contains(&b'\n') && !line.bytes.contains(&b'\r'),
            "{:?} line spans lines",
            line.kind
        );
    }
}

#[test]
fn json_lines_parse_and_hold_only_string_values() {
    let config = Config {
        encoding: Encoding::Json,
        ..small_config()
    };
    for line in generate(&config) {
        if matches!(line.kind, LineKind::Malformed(_)) {
            continue;
        }
        let value: serde_json::Value = serde_json::from_slice(&line.bytes).expect("valid JSON");
        let object = value.as_object().expect("an object");
        assert!(object
            .values()
            .all(|v| v.as_str().is_some_and(|s| !s.is_empty())));
        assert!(["nvzFlow_v11", "nvzFlow_v3"].contains(&object["fv"].as_str().unwrap()));
    }
}

#[test]
fn kv_lines_carry_the_expected_keys() {
    let config = Config {
        encoding: Encoding::Kv,
        ..small_config()
    };
    let always = [
        "fv", "pr", "sa", "sp", "da", "dp", "fss", "fes", "udid", "liuid", "ibc", "obc", "dh",
    ];
    let with_process = [
        "fst", "fet", "fsms", "fems", "pn", "pid", "ph", "ppath", "parg", "puid", "fsg", "hh",
        "mnl", "aliul",
    ];
    for (wire, fields) in records(&config) {
        assert_eq!(wire, Wire::Kv);
        for key in always {
            assert!(fields.contains_key(key), "missing {key}: {fields:?}");
        }
        if fields["fv"] == "nvzFlow_v9" {
            for key in with_process {
                assert!(fields.contains_key(key), "missing {key}: {fields:?}");
            }
        }
    }
}

#[test]
fn v3_records_have_no_process_context() {
    let all = records(&small_config());
    let v3: Vec<_> = all
        .iter()
        .filter(|(_, f)| f["fv"] == "nvzFlow_v3")
        .collect();
    assert!(!v3.is_empty(), "no legacy records");
    for (_, fields) in v3 {
        for key in [
            "pid", "parg", "pil", "ppath", "pppath", "pn", "ph", "fsms", "fsg",
        ] {
            assert!(!fields.contains_key(key), "v3 record has {key}");
        }
    }
}

#[test]
fn timestamps_agree_with_each_other() {
    for (_, f) in records(&small_config()) {
        let fss: u64 = f["fss"].parse().unwrap();
        let fes: u64 = f["fes"].parse().unwrap();
        assert!(fss <= fes);
        if let (Some(fsms), Some(fems)) = (f.get("fsms"), f.get("fems")) {
            assert_eq!(fsms.parse::<u64>().unwrap() / 1000, fss);
            assert_eq!(fems.parse::<u64>().unwrap() / 1000, fes);
        }
    }
}

#[test]
fn windows_hosts_report_integrity_and_others_do_not() {
    let all = records(&small_config());
    let levels: BTreeSet<_> = all
        .iter()
        .filter_map(|(_, f)| f.get("pil").cloned())
        .collect();
    assert_eq!(levels, ["12288", "16384", "8192"].map(String::from).into());
    let unix = all
        .iter()
        .filter(|(_, f)| f.get("ppath").is_some_and(|p| p.starts_with('/')));
    for (_, f) in unix {
        assert!(!f.contains_key("pil") && !f.contains_key("ppil"));
    }
}

#[test]
fn encodings_only_change_the_wire_not_the_flows() {
    let flows = |encoding| -> Vec<(String, String, String)> {
        let config = Config {
            encoding,
            ..small_config()
        };
        records(&config)
            .into_iter()
            .map(|(_, f)| (f["fss"].clone(), f["sp"].clone(), f["obc"].clone()))
            .collect()
    };
    assert_eq!(flows(Encoding::Kv), flows(Encoding::Json));
    assert_eq!(flows(Encoding::Kv), flows(Encoding::Mixed));
}

/// Records whose process is rclone, by image name or by its arguments.
fn rclone_groups(records: &[(Wire, Fields)]) -> BTreeMap<(String, String), Vec<&Fields>> {
    let mut groups: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for (_, f) in records {
        let args = f.get("parg").map_or("", String::as_str);
        let named = f.get("pn").is_some_and(|n| n.starts_with("rclone"));
        if named || args.contains("--transfers") {
            groups
                .entry((f["udid"].clone(), f["pid"].clone()))
                .or_default()
                .push(f);
        }
    }
    groups
}

#[test]
fn a_default_run_has_rclone_sessions_on_different_hosts() {
    let all = records(&Config::default());
    let groups = rclone_groups(&all);
    assert_eq!(groups.len(), 10, "sessions: {:?}", groups.keys());
    let hosts: BTreeSet<_> = groups.keys().map(|(udid, _)| udid).collect();
    assert_eq!(hosts.len(), 10);
    for records in groups.values() {
        let stages: BTreeSet<_> = records.iter().map(|f| f["fsg"].as_str()).collect();
        assert!(stages.contains("0") && stages.contains("1"), "{stages:?}");
        let pargs: BTreeSet<_> = records.iter().map(|f| &f["parg"]).collect();
        assert_eq!(pargs.len(), 1, "one process, one command line");
    }
    let share = groups.values().map(Vec::len).sum::<usize>() as f64 / all.len() as f64;
    assert!(share < 0.01, "rclone share {share}");
    let names: BTreeSet<_> = groups.values().map(|r| r[0]["pn"].as_str()).collect();
    for name in ["rclone.exe", "rclone", "svchosts.exe", "winupd.exe"] {
        assert!(names.contains(name), "{names:?}");
    }
}

#[test]
fn malformed_lines_are_as_many_as_asked() {
    for n in [0, 1, 5, 23] {
        let config = Config {
            malformed: n,
            ..small_config()
        };
        let lines = generate(&config);
        assert_eq!(lines.len() as u64, config.count + n);
        let broken = lines
            .iter()
            .filter(|l| matches!(l.kind, LineKind::Malformed(_)));
        assert_eq!(broken.count() as u64, n);
        let rejected = lines.iter().filter(|l| is_rejected(&l.bytes)).count() as u64;
        assert_eq!(rejected, n, "lines a consumer must dead-letter");
    }
}

/// What a strict consumer refuses: undecodable, non-numeric `fss`, or over
/// 64 KiB.
fn is_rejected(line: &[u8]) -> bool {
    match decode(line) {
        None => true,
        Some((_, f)) => line.len() > 64 * 1024 || f["fss"].parse::<u64>().is_err(),
    }
}

#[test]
fn late_records_come_last_and_hours_after_the_fact() {
    let config = small_config();
    let lines = generate(&config);
    let late: Vec<_> = lines
        .iter()
        .rev()
        .take_while(|l| l.kind != LineKind::Record)
        .collect();
    let late: Vec<_> = late.iter().filter(|l| l.kind == LineKind::Late).collect();
    assert_eq!(late.len() as u64, config.late);
    let end = config.start_secs + config.duration_secs;
    for line in late {
        let (_, f) = decode(&line.bytes).unwrap();
        let fss: u64 = f["fss"].parse().unwrap();
        assert!(
            fss + 3600 < end,
            "late record only {}s before the end",
            end - fss
        );
    }
}

#[test]
fn large_runs_stay_in_time_order_within_seconds() {
    let config = Config {
        count: 20_000,
        late: 0,
        ..Config::default()
    };
    let mut latest = 0u64;
    for (_, f) in records(&config) {
        // v3 records only have whole seconds, which costs up to one more.
        let (t, slack) = match f.get("fsms") {
            Some(ms) => (ms.parse::<u64>().unwrap(), 5_000),
            None => (f["fss"].parse::<u64>().unwrap() * 1000, 6_000),
        };
        assert!(
            t + slack >= latest,
            "{t} is more than {slack} ms before {latest}"
        );
        latest = latest.max(t);
    }
}

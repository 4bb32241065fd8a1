//! Property: however records are partitioned, and wherever a partition's
//! process crashes and restores from its changelog, the final alerts equal
//! those of a scan of the same records.
//!
//! The changelog is modelled as exactly-once processing keeps it: changes
//! and outputs of a segment count only once the segment commits; a crash
//! throws away everything since the last commit, restores state from the
//! changelog (through the byte codec) and replays from the committed offset.

mod common;

use common::{flow, scan_config, T0};
use nvm_detector::alert::Alert;
use nvm_detector::engine::PartitionEngine;
use nvm_detector::scan::scan_readers;
use nvm_detector::window::changelog;
use nvm_detector::window::{Change, Status};
use proptest::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;

const HOSTS: [&str; 5] = ["10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4", "10.1.0.5"];
const PROCESSES: [(&str, &str); 4] = [
    ("rclone.exe", "copy C:\\data mega:bk"),
    ("winupd.exe", r" copy \\fs\share ftp:drop"),
    ("chrome.exe", "--type=renderer"),
    ("RCLONE.EXE", "lsd remote:"),
];

#[derive(Debug, Clone)]
struct Flow {
    secs: i64,
    host: usize,
    process: usize,
    port: u16,
}

fn line(f: &Flow) -> String {
    let (pn, parg) = PROCESSES[f.process];
    flow(
        T0 + f.secs,
        HOSTS[f.host],
        pn,
        parg,
        &f.port.to_string(),
        &[],
    )
}

/// Records over three hours with disorder well inside the allowed lateness,
/// so that any partitioning sees the same windows close.
fn flows(late: bool) -> impl Strategy<Value = Vec<Flow>> {
    let one = (
        0i64..10_800,
        0..HOSTS.len(),
        0..PROCESSES.len(),
        prop::sample::select(vec![443u16, 80, 21]),
    )
        .prop_map(|(secs, host, process, port)| Flow {
            secs,
            host,
            process,
            port,
        });
    prop::collection::vec(one, 1..60).prop_map(move |mut v| {
        v.sort_by_key(|f| f.secs);
        // Local disorder: neighbours less than five minutes apart swap, so
        // no record falls behind a closed window however they are split.
        for i in (1..v.len()).step_by(3) {
            if v[i].secs - v[i - 1].secs < 300 {
                v.swap(i - 1, i);
            }
        }
        if late {
            // A cached flow two hours behind its host's latest record.
            if let Some(last) = v.last().cloned() {
                v.push(Flow {
                    secs: (last.secs - 7_200).max(0),
                    ..last
                });
            }
        }
        v
    })
}

/// What a crash-restart schedule says at each step.
#[derive(Debug, Clone, Copy)]
enum Step {
    Process,
    Commit,
    Crash,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step =
        prop_oneof![6 => Just(Step::Process), 2 => Just(Step::Commit), 1 => Just(Step::Crash)];
    prop::collection::vec(step, 0..200)
}

fn finals_by_id(alerts: impl IntoIterator<Item = Alert>) -> BTreeMap<String, Value> {
    alerts
        .into_iter()
        .filter(|a| a.status == Status::Final)
        .map(|a| (a.id.to_string(), a.document))
        .collect()
}

fn scan(lines: &[String]) -> BTreeMap<String, Value> {
    let text = lines.join("\n");
    let report = scan_readers(&scan_config(), [("p".to_owned(), text.as_bytes())]).unwrap();
    finals_by_id(report.finals)
}

/// Runs one partition under a crash schedule; returns its committed finals.
fn run_partition(lines: &[String], schedule: &[Step]) -> Vec<Alert> {
    let config = scan_config();
    let mut changelog: Vec<(Vec<u8>, Option<Vec<u8>>)> = vec![];
    let mut committed = vec![];
    let mut pending = vec![];
    let mut engine = PartitionEngine::new(config.clone());
    let (mut next, mut committed_offset) = (0, 0);
    let mut schedule = schedule.iter();

    while next < lines.len() {
        match schedule.next().copied().unwrap_or(Step::Process) {
            Step::Process => {
                engine.on_message(lines[next].as_bytes(), 0, &mut pending);
                next += 1;
            }
            Step::Commit => {
                changelog.extend(engine.drain_changes().iter().map(changelog::encode));
                committed.append(&mut pending);
                committed_offset = next;
            }
            Step::Crash => {
                pending.clear();
                let changes: Vec<Change> = changelog
                    .iter()
                    .map(|(k, v)| changelog::decode(k, v.as_deref()).unwrap())
                    .collect();
                engine = PartitionEngine::restored(config.clone(), changes, 0).unwrap();
                next = committed_offset;
            }
        }
    }
    engine.close_all(&mut pending);
    committed.append(&mut pending);
    committed
}

fn streamed(flows: &[Flow], partitions: usize, schedules: &[Vec<Step>]) -> BTreeMap<String, Value> {
    let mut finals = BTreeMap::new();
    for p in 0..partitions {
        let lines: Vec<String> = flows
            .iter()
            .filter(|f| f.host % partitions == p)
            .map(line)
            .collect();
        let alerts = run_partition(&lines, &schedules[p % schedules.len()]);
        let before = finals.len();
        let count = alerts.iter().filter(|a| a.status == Status::Final).count();
        finals.extend(finals_by_id(alerts));
        assert_eq!(
            finals.len(),
            before + count,
            "a final alert was emitted twice"
        );
    }
    finals
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn finals_survive_any_partitioning_and_crash_points(
        flows in flows(false),
        partitions in 1usize..=4,
        schedules in prop::collection::vec(steps(), 1..=4),
    ) {
        let lines: Vec<String> = flows.iter().map(line).collect();
        prop_assert_eq!(streamed(&flows, partitions, &schedules), scan(&lines));
    }

    #[test]
    fn late_records_are_judged_per_partition_as_an_uninterrupted_run(
        flows in flows(true),
        partitions in 1usize..=4,
        schedules in prop::collection::vec(steps(), 1..=4),
    ) {
        let mut expected = BTreeMap::new();
        for p in 0..partitions {
            let lines: Vec<String> =
                flows.iter().filter(|f| f.host % partitions == p).map(line).collect();
            expected.extend(scan(&lines));
        }
        prop_assert_eq!(streamed(&flows, partitions, &schedules), expected);
    }
}

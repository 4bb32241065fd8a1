//! The metrics and health endpoint of a detector running on a real broker:
//! counters that move as records are committed, dead letters counted by
//! reason, lag per assigned partition, and readiness that waits for the
//! window state to be restored.

use nvm_detector::kafka::client::ClientArgs;
use nvm_detector::kafka::topics::{ensure_internal, TopicSpec};
use nvm_detector::window::{changelog, Change, GroupId};
use nvm_detector_tests::*;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::ClientConfig;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

/// 2026-07-14T09:00:00Z.
const T0: i64 = 1_784_019_600;

const WAIT: Duration = Duration::from_secs(90);

fn flow(secs: i64, host: &str, pn: &str) -> String {
    json!({
        "fv": "nvzFlow_v11", "pr": "6", "sa": host, "sp": "50000", "da": "66.203.125.15",
        "dp": "443", "dh": "g.api.mega.co.nz", "fss": secs.to_string(),
        "fsms": format!("{secs}000"), "pn": pn, "ppath": format!(r"C:\Tools\{pn}"),
        "parg": r"copy \\fs01\finance remote:exfil", "pid": "4242", "ph": "AA11",
        "pil": "12288", "pppath": r"C:\Windows\System32\cmd.exe", "ppil": "12288",
    })
    .to_string()
}

/// A detector that runs until stopped, serving on a free port whose
/// address it writes to `address_file`.
fn run_args(topics: &TestTopics, address_file: &Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "run",
        "--group-id",
        &topics.group,
        "--metrics-listen",
        "127.0.0.1:0",
        "--metrics-listen-file",
        &address_file.display().to_string(),
        "--kafka-statistics-interval-ms",
        "500",
        // Windows close by event time alone, whatever the test's pace.
        "--idle-timeout-secs",
        "3600",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(topics.flags());
    args
}

fn replay(topics: &TestTopics, name: &str, lines: &[String]) {
    replay_file(topics, &temp_file(name, lines));
}

fn dead_letters(scrape: &Scrape, reason: &str) -> f64 {
    let series = format!("nvm_records_dead_lettered_total{{reason=\"{reason}\"}}");
    scrape.get(&series).unwrap_or(0.0)
}

fn alerts(scrape: &Scrape, status: &str) -> f64 {
    let series = format!("nvm_alerts_published_total{{status=\"{status}\"}}");
    scrape.get(&series).unwrap_or(0.0)
}

#[test]
fn metrics_move_with_committed_records_and_count_dead_letters_by_reason() {
    let topics = TestTopics::unique("metrics");
    topics.create(3);
    let address_file = temp_path(&format!("{}.addr", topics.group));
    let detector = spawn("metrics", &run_args(&topics, &address_file));
    let endpoint = Endpoint::from_file(&address_file, WAIT);
    assert_eq!(endpoint.get("/healthz").status, 200);

    let start = endpoint.wait_for(WAIT, "ready", |s| s.get("nvm_ready") == Some(1.0));
    assert_eq!(start.sum("nvm_records_consumed_total"), 0.0);
    assert_eq!(endpoint.get("/readyz").status, 200);

    // One host's rclone twice, a flow no rule matches, two malformed lines.
    replay(
        &topics,
        "metrics-a.log",
        &[
            flow(T0 + 10, "10.9.0.1", "rclone.exe"),
            flow(T0 + 20, "10.9.0.1", "rclone.exe"),
            "{\"fv\":\"nvzFlow_v11\",\"fss\":".to_owned(),
            flow(T0 + 30, "10.9.0.1", "chrome.exe"),
            "<13>Jul 14 09:00:00 host sshd[12]: not a flow".to_owned(),
        ],
    );
    let first = endpoint.wait_for(WAIT, "first batch counted", |s| {
        s.sum("nvm_records_consumed_total") >= 5.0
            && s.get("nvm_records_decoded_total") >= Some(3.0)
    });
    assert_eq!(
        first.sum("nvm_records_consumed_total"),
        5.0,
        "{}",
        first.text
    );
    assert_eq!(first.get("nvm_records_decoded_total"), Some(3.0));
    assert_eq!(dead_letters(&first, "bad_json"), 1.0, "{}", first.text);
    assert_eq!(dead_letters(&first, "no_fields"), 1.0, "{}", first.text);
    assert_eq!(first.sum("nvm_rule_matches_total"), 2.0, "{}", first.text);
    assert_eq!(alerts(&first, "new"), 1.0, "{}", first.text);
    assert_eq!(first.get("nvm_groups_open"), Some(1.0));
    assert!(first.get("nvm_transactions_committed_total") >= Some(1.0));
    assert_eq!(first.get("nvm_transactions_aborted_total"), Some(0.0));

    // A second host; the first host's partition moves two hours on, which
    // closes its window and makes its next first-hour record late.
    replay(
        &topics,
        "metrics-b.log",
        &[
            flow(T0 + 40, "10.9.0.2", "rclone.exe"),
            flow(T0 + 7_200, "10.9.0.1", "chrome.exe"),
            flow(T0 + 50, "10.9.0.1", "rclone.exe"),
            "{\"fv\":".to_owned(),
        ],
    );
    let second = endpoint.wait_for(WAIT, "second batch counted", |s| {
        s.sum("nvm_records_consumed_total") >= 9.0 && s.get("nvm_records_late_total") >= Some(1.0)
    });
    assert_eq!(
        second.sum("nvm_records_consumed_total"),
        9.0,
        "{}",
        second.text
    );
    assert_eq!(second.get("nvm_records_decoded_total"), Some(6.0));
    assert_eq!(second.get("nvm_records_late_total"), Some(1.0));
    assert_eq!(dead_letters(&second, "bad_json"), 2.0, "{}", second.text);
    assert_eq!(dead_letters(&second, "no_fields"), 1.0);
    assert_eq!(second.sum("nvm_rule_matches_total"), 3.0, "{}", second.text);
    assert_eq!(alerts(&second, "new"), 2.0, "{}", second.text);
    assert!(alerts(&second, "final") >= 1.0, "{}", second.text);
    assert!(second.get("nvm_windows_closed_total") >= Some(1.0));
    let latency = second.get("nvm_end_to_end_latency_seconds_count");
    assert_eq!(latency, Some(9.0), "{}", second.text);
    assert!(
        second.get("nvm_transactions_committed_total")
            > first.get("nvm_transactions_committed_total")
    );
    assert_eq!(second.get("nvm_restore_duration_seconds_count"), Some(1.0));

    // librdkafka's statistics: one lag series per assigned partition, all
    // read to the end; the consumer's broker connection is up.
    let lagged = endpoint.wait_for(WAIT, "lag of every partition read", |s| {
        s.series("nvm_consumer_lag_records").len() == 3 && s.sum("nvm_consumer_lag_records") == 0.0
    });
    for series in lagged.series("nvm_consumer_lag_records") {
        assert!(
            series.contains(&format!("topic=\"{}\"", topics.input)),
            "{series}"
        );
    }
    let up = "nvm_kafka_broker_up{client=\"consumer\"";
    assert!(lagged
        .text
        .lines()
        .any(|l| l.starts_with(up) && l.ends_with(" 1")));

    detector.terminate(Duration::from_secs(60));
}

/// Changelog records to restore: enough that reading them takes a while.
const RESTORED: usize = 250_000;

#[test]
fn readiness_turns_true_only_after_the_state_is_restored() {
    let topics = TestTopics::unique("ready");
    topics.create(1);
    let changelog = format!("{}.changelog", topics.group);
    write_changelog(&changelog, RESTORED);

    let address_file = temp_path(&format!("{}.addr", topics.group));
    let detector = spawn("ready", &run_args(&topics, &address_file));
    let endpoint = Endpoint::from_file(&address_file, WAIT);

    // Every answer until the first 200 is a 503 with a reason.
    let started = Instant::now();
    let mut reasons: Vec<String> = Vec::new();
    loop {
        let response = endpoint.get("/readyz");
        if response.status == 200 {
            break;
        }
        assert_eq!(response.status, 503, "{response:?}");
        if reasons.last() != Some(&response.body) {
            reasons.push(response.body);
        }
        assert!(
            started.elapsed() < WAIT,
            "never ready; answers {reasons:?}\n{}",
            detector.log()
        );
        std::thread::sleep(Duration::from_millis(10));
    }

    // Readiness follows the restore's log line, never precedes it.
    let log = detector.log();
    let restored = log
        .lines()
        .find(|l| l.contains("state restored"))
        .unwrap_or_else(|| panic!("ready before the restore finished:\n{log}"));
    assert!(
        restored.contains(&format!("records={RESTORED} ")),
        "{restored}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("not ready: restoring")),
        "no answer while restoring: {reasons:?}"
    );

    let scrape = endpoint.scrape();
    assert_eq!(
        scrape.get("nvm_restore_records_total"),
        Some(RESTORED as f64)
    );
    assert_eq!(scrape.get("nvm_restore_duration_seconds_count"), Some(1.0));
    assert_eq!(scrape.get("nvm_partitions_assigned"), Some(1.0));
    assert_eq!(scrape.get("nvm_partitions_restoring"), Some(0.0));
    assert_eq!(scrape.get("nvm_ready"), Some(1.0));

    detector.terminate(Duration::from_secs(60));
}

/// Fills the single partition of a new changelog with `records` window
/// closures (tombstones), as a long-running detector leaves behind.
fn write_changelog(topic: &str, records: usize) {
    let client = ClientArgs::new(bootstrap_servers());
    let spec = TopicSpec {
        name: topic.to_owned(),
        partitions: 1,
        replication: 1,
        compacted: true,
    };
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime
        .block_on(ensure_internal(&client, spec))
        .expect("creating the changelog topic");

    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap_servers())
        .set("linger.ms", "50")
        .set("compression.type", "lz4")
        .create()
        .expect("creating a producer");
    for i in 0..records {
        let group = GroupId {
            window_start_ms: T0 * 1000,
            rule_id: "r1".into(),
            key: vec![format!("10.{}.{}.{}", i / 65_536, i / 256 % 256, i % 256)],
        };
        let (key, value) = changelog::encode(&Change::Group(group, None));
        assert!(value.is_none(), "a closed window is a tombstone");
        let mut record: BaseRecord<'_, [u8], [u8]> =
            BaseRecord::to(topic).partition(0).key(&key[..]);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((e, _)) => panic!("producing the changelog: {e}"),
            }
        }
    }
    producer
        .flush(Duration::from_secs(120))
        .expect("flushing the changelog");
}

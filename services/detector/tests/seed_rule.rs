//! The seed detection, end to end through the engine, row for row against
//! what Splunk's search semantics give for hand-made records.

mod common;

use common::{flow, scan_config, shared, T0};
use nvm_detector::scan::scan_readers;
use serde_json::{json, Value};

#[test]
fn bundled_rule_carries_the_seed_search_verbatim() {
    let seed = std::fs::read_to_string(shared().join("seed/rclone-detection.txt")).unwrap();
    let start = seed
        .find("`cisco_network_visibility_module_flowdata`")
        .unwrap();
    let filter = "`cisco_nvm___rclone_execution_with_network_activity_filter`";
    let end = seed.find(filter).unwrap() + filter.len();

    let rules = common::bundled_rules();
    let rule = &rules.rules()[0];
    let file = std::fs::read_to_string(&rule.path).unwrap();
    let yaml: serde_yaml::Value = serde_yaml::from_str(&file).unwrap();
    assert_eq!(yaml["search"].as_str().unwrap(), &seed[start..end]);
    assert_eq!(rule.meta.id, "719f8c78-b20d-4bb9-8c33-6d1a762e7a9a");
    assert_eq!(rule.meta.tags.mitre_attack_id, ["T1567.002"]);
}

fn finals(lines: &[String]) -> (Vec<Value>, nvm_detector::engine::Counters) {
    let text = lines.join("\n");
    let report = scan_readers(&scan_config(), [("t".to_owned(), text.as_bytes())]).unwrap();
    let docs = report.finals.into_iter().map(|a| a.document).collect();
    (docs, report.counters)
}

fn by_process(docs: &[Value], pn: &str) -> Vec<Value> {
    docs.iter()
        .filter(|d| d["result"]["process_name"] == pn)
        .cloned()
        .collect()
}

const UNC_COPY: &str = r"copy \\fs01\finance remote:exfil/finance --transfers 16";

#[test]
fn rclone_by_name_gives_one_row_per_group_with_splunk_values() {
    let lines = [
        flow(T0 + 70, "10.20.0.11", "rclone.exe", UNC_COPY, "80", &[]),
        flow(
            T0 + 10,
            "10.20.0.11",
            "rclone.exe",
            UNC_COPY,
            "443",
            &[("dh", "mega.nz")],
        ),
        flow(T0 + 30, "10.20.0.11", "rclone.exe", UNC_COPY, "443", &[]),
    ];
    let (docs, _) = finals(&lines);
    assert_eq!(docs.len(), 1);
    let d = &docs[0];
    assert_eq!(d["count"], 3);
    assert_eq!(d["status"], "final");
    assert_eq!(
        d["window"],
        json!({"start": "2026-07-14T09:00:00Z", "end": "2026-07-14T10:00:00Z"})
    );
    let expected = json!({
        "parent_process_integrity_level": "12288",
        "parent_process_path": r"C:\Windows\System32\cmd.exe",
        "parent_process_arguments": ["/c run.bat"],
        "parent_process_hash": ["BB22"],
        "process_integrity_level": "12288",
        "process_path": r"C:\Users\Public\rclone.exe",
        "process_name": "rclone.exe",
        "process_arguments": [UNC_COPY],
        "process_hash": ["AA11"],
        "process_id": "4242",
        "additional_logged_in_users_list": [],
        "module_name_list": [],
        "module_hash_list": [],
        "src": "10.20.0.11",
        "dest_hostname": ["g.api.mega.co.nz", "mega.nz"],
        "dest": "66.203.125.15",
        "dest_port": ["443", "80"],
        "transport": "tcp",
        "firstTime": "2026-07-14T09:00:10",
        "lastTime": "2026-07-14T09:01:10",
    });
    assert_eq!(d["result"], expected);
    // Columns come in the table's order.
    let columns: Vec<&String> = d["result"].as_object().unwrap().keys().collect();
    let table: Vec<&String> = expected.as_object().unwrap().keys().collect();
    assert_eq!(columns, table);
    assert_eq!(
        d["message"],
        format!("Rclone was executed on 10.20.0.11 using flags {UNC_COPY} and connected to g.api.mega.co.nz, mega.nz over 443, 80.")
    );
    assert_eq!(
        d["risk"]["objects"][0],
        json!({"field": "src", "value": "10.20.0.11", "type": "system", "score": 20})
    );
}

#[test]
fn process_names_compare_case_insensitively() {
    let (docs, _) = finals(&[flow(T0, "10.0.0.1", "RClone.EXE", "version", "443", &[])]);
    assert_eq!(docs.len(), 1);
}

#[test]
fn renamed_binaries_match_only_through_the_argument_branches() {
    let lines = [
        // Branch 2: " copy " needs the leading space, and two backslashes.
        flow(
            T0,
            "10.0.0.2",
            "winupd.exe",
            r" copy \\fs01\hr mega:bk -q",
            "443",
            &[],
        ),
        flow(
            T0,
            "10.0.0.3",
            "svc1.exe",
            r"copy \\fs01\hr mega:bk -q",
            "443",
            &[],
        ),
        flow(
            T0,
            "10.0.0.4",
            "svc2.exe",
            r" copy C:\hr mega:bk -q",
            "443",
            &[],
        ),
        // Branch 3: ends with --transfers; sftp: matches *ftp:*.
        flow(
            T0,
            "10.0.0.5",
            "svc3.exe",
            "move D:\\x sftp:site --ignore-existing --auto-confirm --transfers",
            "22",
            &[],
        ),
        flow(
            T0,
            "10.0.0.6",
            "svc4.exe",
            "move D:\\x sftp:site --ignore-existing --auto-confirm --transfers 8",
            "22",
            &[],
        ),
        flow(T0, "10.0.0.7", "chrome.exe", "--type=renderer", "443", &[]),
    ];
    let (docs, _) = finals(&lines);
    let mut names: Vec<&str> = docs
        .iter()
        .map(|d| d["result"]["process_name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["svc3.exe", "winupd.exe"]);
    assert_eq!(
        by_process(&docs, "svc3.exe")[0]["result"]["dest_port"],
        json!(["22"])
    );
}

#[test]
fn matches_missing_a_by_field_are_counted_not_alerted() {
    let lines = [
        flow(
            T0,
            "10.0.0.8",
            "rclone.exe",
            "copy a b",
            "443",
            &[("pil", "")],
        ),
        flow(
            T0,
            "10.0.0.9",
            "rclone.exe",
            "copy a b",
            "443",
            &[("pppath", "")],
        ),
    ];
    let (docs, counters) = finals(&lines);
    assert!(docs.is_empty());
    assert_eq!(counters.matched, 2);
    assert_eq!(counters.missing_by_field, 2);
}

#[test]
fn groups_split_by_process_id_and_by_hour() {
    let lines = [
        flow(T0 + 5, "10.0.0.1", "rclone.exe", "copy", "443", &[]),
        flow(
            T0 + 6,
            "10.0.0.1",
            "rclone.exe",
            "copy",
            "443",
            &[("pid", "9")],
        ),
        flow(T0 + 3_600, "10.0.0.1", "rclone.exe", "copy", "443", &[]),
    ];
    let (docs, _) = finals(&lines);
    assert_eq!(docs.len(), 3);
    let ids: std::collections::HashSet<&str> = docs
        .iter()
        .map(|d| d["alert_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
}

#[test]
fn the_same_input_always_gives_the_same_alert_ids() {
    let lines = [flow(T0, "10.0.0.1", "rclone.exe", "copy", "443", &[])];
    let (a, _) = finals(&lines);
    let (b, _) = finals(&lines);
    assert_eq!(a[0]["alert_id"], b[0]["alert_id"]);
    assert_eq!(a, b);
}

#[test]
fn key_value_and_json_encodings_of_one_flow_give_the_same_row() {
    let json_line = flow(
        T0,
        "10.0.0.1",
        "rclone.exe",
        r#"copy "C:\a b" mega:x"#,
        "443",
        &[],
    );
    let v: serde_json::Map<String, Value> = serde_json::from_str(&json_line).unwrap();
    let pairs: Vec<String> = v
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.as_str().unwrap().replace('"', "\\\"")))
        .collect();
    let kv_line = format!(
        "Jul 14 09:00:05 127.0.0.1 Jul 14 09:00:05 host1  {}",
        pairs.join(" ")
    );
    let (a, _) = finals(&[json_line]);
    let (b, _) = finals(&[kv_line]);
    assert_eq!(a, b);
    assert_eq!(
        a[0]["result"]["process_arguments"],
        json!([r#"copy "C:\a b" mega:x"#])
    );
}

#[test]
fn lint_points_out_the_published_rules_known_weaknesses() {
    let rules = common::bundled_rules();
    let findings = nvm_detector::lint::lint(&rules.rules()[0]);
    let has = |code: &str, needle: &str| {
        findings
            .iter()
            .any(|f| f.code == code && f.message.contains(needle))
    };
    assert!(has("option-anchored-at-end", "--transfers"));
    assert!(has("needs-leading-space", "copy"));
    assert!(has("open-remote-name", "sftp:"));
    assert!(has("literal-image-name", "rclone.exe"));
    assert!(has("by-field-often-missing", "process_integrity_level"));
    let unique: std::collections::HashSet<_> = findings.iter().map(|f| &f.message).collect();
    assert_eq!(unique.len(), findings.len(), "no finding twice");
}

#[test]
fn scan_measures_a_record_without_its_line_end() {
    let mut config = scan_config();
    let record = flow(T0, "10.0.0.9", "rclone.exe", " copy a remote:b", "443", &[]);
    config.decode.max_record_bytes = record.len();
    let text = format!("{record}\r\n{record}\n{record}");
    let report = scan_readers(&config, [("t".to_owned(), text.as_bytes())]).unwrap();
    assert_eq!(
        report.counters.dead_lettered, 0,
        "a record of exactly the limit is accepted whatever ends its line: {:?}",
        report.rejected
    );
    assert_eq!(report.finals.len(), 1);
    assert_eq!(report.finals[0].document["count"], 3);

    config.decode.max_record_bytes = record.len() - 1;
    let report = scan_readers(&config, [("t".to_owned(), text.as_bytes())]).unwrap();
    assert_eq!(report.counters.dead_lettered, 3);
}

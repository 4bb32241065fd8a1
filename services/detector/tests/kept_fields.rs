//! Decoding keeps only the fields the rules read, and that changes nothing
//! the engine produces.

mod common;

use common::bundled_rules;
use nvm_detector::decode::Keep;

#[test]
fn the_seed_rule_reads_every_field_it_filters_groups_aggregates_shows_and_mentions() {
    let rules = bundled_rules();
    let names = rules.field_names();
    let rule = &rules.rules()[0];
    let plan = &rule.plan;

    let mut wanted: Vec<&str> = vec!["sourcetype", "process_name", "process_arguments", "_time"];
    wanted.extend(plan.stats.by.iter().map(String::as_str));
    wanted.extend(plan.stats.aggs.iter().filter_map(|a| a.field.as_deref()));
    for command in &plan.post {
        if let nvm_detector::spl::RowCommand::Table(columns) = command {
            wanted.extend(columns.iter().map(String::as_str));
        }
    }
    let rba = rule
        .meta
        .rba
        .as_ref()
        .expect("the seed rule has a risk block");
    wanted.extend(rba.message.split('$').skip(1).step_by(2));
    wanted.extend(rba.risk_objects.iter().map(|o| o.field.as_str()));

    for name in wanted {
        assert!(names.contains(name), "`{name}` is not among {names:?}");
    }
    for name in ["aliul", "module_hash_list", "transport", "dest_port"] {
        assert!(names.contains(name), "`{name}` is not among {names:?}");
    }
    for unread in ["udid", "fst", "flow_start_time", "process_guid", "sp"] {
        assert!(!names.contains(unread), "`{unread}` is read by no rule");
    }
}

/// Scans the bundled data set, keeping `keep`.
fn scan_bundled(keep: Keep) -> nvm_detector::scan::ScanReport {
    let mut config = common::scan_config();
    config.decode.keep = keep;
    let path = common::repo().join("data/nvm-flows.log");
    nvm_detector::scan::scan_files(&config, &[path]).expect("the bundled data set reads")
}

#[test]
fn keeping_only_what_rules_read_gives_the_same_scan_of_the_bundled_data() {
    let full = scan_bundled(Keep::All);
    let kept = scan_bundled(Keep::only(bundled_rules().field_names()));

    assert!(!full.finals.is_empty(), "the data set raises alerts");
    let documents = |r: &nvm_detector::scan::ScanReport| -> Vec<serde_json::Value> {
        r.finals.iter().map(|a| a.document.clone()).collect()
    };
    assert_eq!(documents(&kept), documents(&full));
    assert_eq!(kept.rejected, full.rejected);
    assert_eq!(kept.late, full.late);
    assert_eq!(kept.counters, full.counters);
}

/// Every alert (new, update, final) an engine emits over the bundled data,
/// with updates let through on every record, keeping `keep`.
fn every_alert(keep: Keep) -> Vec<serde_json::Value> {
    let mut config = common::scan_config();
    config.decode.keep = keep;
    config.windows.update_interval_ms = 0;
    let mut engine = nvm_detector::engine::PartitionEngine::new(config);
    let text = std::fs::read(common::repo().join("data/nvm-flows.log")).unwrap();
    let mut alerts = vec![];
    for (now_ms, line) in (0..).zip(text.split(|b| *b == b'\n')) {
        engine.on_message(line, now_ms, &mut alerts);
    }
    engine.close_all(&mut alerts);
    alerts.into_iter().map(|a| a.document).collect()
}

#[test]
fn records_that_pass_a_filter_carry_everything_their_alerts_show() {
    let full = every_alert(Keep::All);
    let kept = every_alert(Keep::only(bundled_rules().field_names()));
    assert!(full.len() > full.iter().filter(|d| d["status"] == "final").count());
    assert_eq!(kept, full);
}

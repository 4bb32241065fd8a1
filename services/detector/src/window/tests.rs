//! Window boundaries with hand-made records and a hand-moved clock.

use super::*;
use crate::record::{Encoding, Record, Value};
use crate::rule::{compile, RuleSet};
use crate::spl::Macros;
use std::path::Path;

const HOUR: i64 = 3_600_000;
const MIN: i64 = 60_000;
/// 2026-07-14T08:00:00Z, an hour boundary.
const T0: i64 = 1_784_016_000_000;

fn rules() -> RuleSet {
    let text = r#"
name: test
id: r1
version: 1
type: TTP
search: pn="rclone*" | stats count values(dp) as ports min(_time) as first by sa pid
"#;
    let rule = compile(Path::new("test.yml"), text, &Macros::default()).unwrap();
    RuleSet::from_rules(vec![rule])
}

fn record(time_ms: i64, host: &str, pn: &str, port: &str) -> Record {
    let mut r = Record::new(time_ms, Encoding::Json);
    for (k, v) in [("sa", host), ("pn", pn), ("dp", port), ("pid", "7")] {
        r.insert(k, Value::One(v.into()));
    }
    r.insert("_time", Value::One(crate::spl::format_epoch_secs(time_ms)));
    r
}

fn config() -> WindowConfig {
    WindowConfig {
        window_ms: HOUR,
        allowed_lateness_ms: 10 * MIN,
        update_interval_ms: 10_000,
        idle_timeout_ms: MIN,
    }
}

fn statuses(out: &[Emission]) -> Vec<(Status, u64)> {
    out.iter().map(|e| (e.status, e.agg.events)).collect()
}

#[test]
fn first_match_of_a_group_emits_new_at_once() {
    let (rules, mut state, mut out) = (rules(), WindowState::new(config()), vec![]);
    let outcome = state.process(
        &rules,
        &record(T0 + 5, "h1", "rclone.exe", "443"),
        0,
        &mut out,
    );
    assert_eq!(outcome.matched_rules, 1);
    assert_eq!(statuses(&out), [(Status::New, 1)]);
    assert_eq!(out[0].group.key, ["h1", "7"]);
    assert_eq!(out[0].group.window_start_ms, T0);
    assert_eq!(out[0].window_end_ms, T0 + HOUR);
}

#[test]
fn updates_are_held_back_until_the_interval_passes() {
    let (rules, mut state, mut out) = (rules(), WindowState::new(config()), vec![]);
    state.process(&rules, &record(T0, "h1", "rclone.exe", "443"), 0, &mut out);
    state.process(
        &rules,
        &record(T0 + 1, "h1", "rclone.exe", "80"),
        1_000,
        &mut out,
    );
    state.tick(&rules, 9_999, &mut out);
    assert_eq!(
        statuses(&out),
        [(Status::New, 1)],
        "nothing before the interval"
    );

    state.tick(&rules, 10_000, &mut out);
    assert_eq!(statuses(&out), [(Status::New, 1), (Status::Update, 2)]);
    state.tick(&rules, 30_000, &mut out);
    assert_eq!(out.len(), 2, "no update without new records");

    state.process(
        &rules,
        &record(T0 + 2, "h1", "rclone.exe", "80"),
        30_001,
        &mut out,
    );
    assert_eq!(
        statuses(&out).last(),
        Some(&(Status::Update, 3)),
        "interval passed: at once"
    );
}

#[test]
fn a_window_closes_when_the_watermark_passes_its_end_plus_lateness() {
    let (rules, mut state, mut out) = (rules(), WindowState::new(config()), vec![]);
    state.process(
        &rules,
        &record(T0 + 10, "h1", "rclone.exe", "443"),
        0,
        &mut out,
    );
    state.process(
        &rules,
        &record(T0 + 20, "h1", "rclone.exe", "80"),
        0,
        &mut out,
    );
    // An unrelated record moves event time to just before end + lateness.
    state.process(
        &rules,
        &record(T0 + HOUR + 10 * MIN - 1, "h2", "chrome.exe", "443"),
        0,
        &mut out,
    );
    assert!(out.iter().all(|e| e.status != Status::Final));

    state.process(
        &rules,
        &record(T0 + HOUR + 10 * MIN, "h2", "chrome.exe", "443"),
        0,
        &mut out,
    );
    let last = out.last().unwrap();
    assert_eq!((last.status, last.agg.events), (Status::Final, 2));
    assert_eq!(state.open_groups(), 0);
}

#[test]
fn records_behind_a_closed_window_are_late_and_change_nothing() {
    let (rules, mut state, mut out) = (rules(), WindowState::new(config()), vec![]);
    state.process(
        &rules,
        &record(T0 + 2 * HOUR, "h1", "rclone.exe", "443"),
        0,
        &mut out,
    );
    let before = out.len();

    let outcome = state.process(
        &rules,
        &record(T0 + 5, "h1", "rclone.exe", "443"),
        0,
        &mut out,
    );
    assert!(outcome.late);
    assert_eq!(outcome.matched_rules, 0);
    assert_eq!(out.len(), before);

    // Within the allowed lateness of the previous window: still accepted.
    let outcome = state.process(
        &rules,
        &record(T0 + HOUR + 55 * MIN, "h3", "rclone.exe", "1"),
        0,
        &mut out,
    );
    assert!(!outcome.late);
}

#[test]
fn an_idle_partition_ages_its_watermark_with_the_wall_clock() {
    let (rules, mut state, mut out) = (rules(), WindowState::new(config()), vec![]);
    state.process(
        &rules,
        &record(T0 + 50 * MIN, "h1", "rclone.exe", "443"),
        0,
        &mut out,
    );
    state.tick(&rules, MIN - 1, &mut out);
    assert_eq!(state.watermark_ms(), Some(T0 + 50 * MIN), "not idle yet");

    // 20 idle minutes carry the watermark past end + lateness (T0 + 70 min).
    state.tick(&rules, 20 * MIN, &mut out);
    assert_eq!(statuses(&out), [(Status::New, 1), (Status::Final, 1)]);
}

#[test]
fn close_all_emits_a_final_for_every_open_window_in_window_order() {
    let (rules, mut state, mut out) = (rules(), WindowState::new(config()), vec![]);
    state.process(
        &rules,
        &record(T0 + HOUR, "h2", "rclone.exe", "443"),
        0,
        &mut out,
    );
    state.process(
        &rules,
        &record(T0 + 5 * MIN, "h1", "rclone.exe", "443"),
        0,
        &mut out,
    );
    out.clear();
    state.close_all(&rules, &mut out);
    let windows: Vec<i64> = out.iter().map(|e| e.group.window_start_ms).collect();
    assert_eq!(windows, [T0, T0 + HOUR]);
    assert!(out.iter().all(|e| e.status == Status::Final));
}

#[test]
fn windows_align_to_whole_hours_of_epoch_time() {
    let c = config();
    assert_eq!(c.window_start(T0 + HOUR - 1), T0);
    assert_eq!(c.window_start(T0 + HOUR), T0 + HOUR);
    assert_eq!(c.window_start(-1), -HOUR);
}

#[test]
fn a_match_missing_a_by_field_is_counted_and_grouped_nowhere() {
    let (rules, mut state, mut out) = (rules(), WindowState::new(config()), vec![]);
    let mut r = Record::new(T0, Encoding::Json);
    r.insert("pn", Value::One("rclone".into()));
    r.insert("sa", Value::One("h1".into()));
    let outcome = state.process(&rules, &r, 0, &mut out);
    assert_eq!((outcome.matched_rules, outcome.missing_by_field), (1, 1));
    assert!(out.is_empty());
    assert_eq!(state.open_groups(), 0);
}

#[test]
fn a_multivalue_by_field_puts_the_record_in_each_group() {
    let (rules, mut state, mut out) = (rules(), WindowState::new(config()), vec![]);
    let mut r = record(T0, "h1", "rclone.exe", "443");
    r.insert("sa", Value::Many(vec!["a".into(), "b".into()]));
    state.process(&rules, &r, 0, &mut out);
    let keys: Vec<&str> = out.iter().map(|e| e.group.key[0].as_str()).collect();
    assert_eq!(keys, ["a", "b"]);
}

#[test]
fn aggregates_follow_splunk_ordering_rules() {
    let (rules, mut state, mut out) = (rules(), WindowState::new(config()), vec![]);
    for (t, port) in [(T0 + 3_500, "80"), (T0 + 1_250, "443"), (T0 + 2_000, "80")] {
        state.process(&rules, &record(t, "h1", "rclone.exe", port), 0, &mut out);
    }
    out.clear();
    state.close_all(&rules, &mut out);
    let spec = &rules.rules()[0].plan.stats;
    let row = crate::stats::stats_row(spec, &out[0].group.key, &out[0].agg);
    use crate::stats::RowValue;
    assert_eq!(row.get("count"), Some(&RowValue::Number(3.0)));
    // values() are distinct and sorted as strings: "443" before "80".
    assert_eq!(
        row.get("ports"),
        Some(&RowValue::Multi(vec!["443".into(), "80".into()]))
    );
    // min() compares numerically.
    assert_eq!(row.get("first"), Some(&RowValue::Number(1_784_016_001.25)));
}

#[test]
fn changes_carry_each_touched_group_once_and_tombstone_closed_ones() {
    let (rules, mut state, mut out) = (rules(), WindowState::new(config()), vec![]);
    state.process(&rules, &record(T0, "h1", "rclone.exe", "443"), 0, &mut out);
    state.process(
        &rules,
        &record(T0 + 1, "h1", "rclone.exe", "80"),
        0,
        &mut out,
    );
    let changes = state.drain_changes();
    assert_eq!(changes.len(), 2, "one group, one meta: {changes:?}");
    assert!(matches!(&changes[0], Change::Group(_, Some(s)) if s.agg.events == 2 && s.pending));
    assert!(state.drain_changes().is_empty());

    state.process(
        &rules,
        &record(T0 + 2 * HOUR, "h2", "chrome.exe", "443"),
        0,
        &mut out,
    );
    let changes = state.drain_changes();
    assert!(changes
        .iter()
        .any(|c| matches!(c, Change::Group(g, None) if g.key[0] == "h1")));
    assert!(
        matches!(changes.last(), Some(Change::Meta(m)) if m.watermark_ms == Some(T0 + 2 * HOUR))
    );
}

#[test]
fn restoring_from_changes_rebuilds_the_same_state() {
    let (rules, mut state, mut out) = (rules(), WindowState::new(config()), vec![]);
    state.process(&rules, &record(T0, "h1", "rclone.exe", "443"), 0, &mut out);
    state.process(
        &rules,
        &record(T0 + 5, "h1", "rclone.exe", "80"),
        1,
        &mut out,
    );
    let mut restored = WindowState::new(config());
    for change in state.drain_changes() {
        restored.apply(change).unwrap();
    }
    assert_eq!(
        restored.groups().collect::<Vec<_>>(),
        state.groups().collect::<Vec<_>>()
    );
    assert_eq!(restored.watermark_ms(), state.watermark_ms());

    // The held update survives the restore.
    let mut later = vec![];
    restored.tick(&rules, 10_001, &mut later);
    assert_eq!(statuses(&later), [(Status::Update, 2)]);
}

#[test]
fn restoring_state_kept_with_another_window_length_is_refused() {
    let mut state = WindowState::new(config());
    let meta = Meta {
        window_ms: 5 * MIN,
        max_event_ms: None,
        watermark_ms: None,
    };
    assert_eq!(
        state.apply(Change::Meta(meta)),
        Err(WindowMismatch {
            found: 5 * MIN,
            configured: HOUR
        })
    );
}

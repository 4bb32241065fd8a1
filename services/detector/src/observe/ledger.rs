//! Counting committed work, so that the counters agree with what the
//! output topics hold under exactly-once.
//!
//! What happens between two commits is held back: the shell notes what only
//! it sees in [`Pending`] (records consumed, dead letters by reason, Kafka
//! timestamps for the latency), and the engines keep running totals. When a
//! commit succeeds, [`Ledger::committed`] moves the pending notes and each
//! engine's growth since the previous commit into the exported metrics.
//! When a transaction is aborted, the shell rebuilds its engines from the
//! changelog and re-reads from the committed offsets; [`Ledger::reset`]
//! forgets the held-back work with them, so it is counted once, when it is
//! done again and committed.

use super::metrics::{Metrics, ReasonLabel, RuleLabel, StatusLabel, TopicLabel};
use crate::engine::{Counters, PartitionEngine};
use std::collections::HashMap;

/// What the shell saw since the last commit.
#[derive(Debug, Default)]
pub struct Pending {
    consumed: Vec<(String, u64)>,
    dead_lettered: Vec<(&'static str, u64)>,
    /// Kafka timestamps (ms) of records the engines processed, run-length
    /// encoded: records of one producer batch share a timestamp.
    timestamps_ms: Vec<(i64, u64)>,
}

impl Pending {
    /// A record was read from `topic`.
    pub fn consumed(&mut self, topic: &str) {
        match self.consumed.iter_mut().find(|(t, _)| t == topic) {
            Some((_, n)) => *n += 1,
            None => self.consumed.push((topic.to_owned(), 1)),
        }
    }

    /// A record was dead-lettered with this decode error code.
    pub fn dead_lettered(&mut self, reason: &'static str) {
        match self.dead_lettered.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => self.dead_lettered.push((reason, 1)),
        }
    }

    /// An engine processed a record with this Kafka timestamp.
    pub fn processed(&mut self, timestamp_ms: i64) {
        match self.timestamps_ms.last_mut() {
            Some((last, n)) if *last == timestamp_ms => *n += 1,
            _ => self.timestamps_ms.push((timestamp_ms, 1)),
        }
    }

    fn clear(&mut self) {
        self.consumed.clear();
        self.dead_lettered.clear();
        self.timestamps_ms.clear();
    }

    fn count(&mut self, metrics: &Metrics, now_ms: i64) {
        for (topic, n) in self.consumed.drain(..) {
            metrics
                .records_consumed
                .get_or_create(&TopicLabel { topic })
                .inc_by(n);
        }
        for (reason, n) in self.dead_lettered.drain(..) {
            metrics
                .records_dead_lettered
                .get_or_create(&ReasonLabel { reason })
                .inc_by(n);
        }
        for (timestamp_ms, n) in self.timestamps_ms.drain(..) {
            // A producer's clock may run ahead of ours.
            let seconds = (now_ms - timestamp_ms).max(0) as f64 / 1000.0;
            for _ in 0..n {
                metrics.end_to_end_latency.observe(seconds);
            }
        }
    }
}

/// An engine's totals as of the last commit.
#[derive(Debug, Clone, Default)]
struct Baseline {
    counters: Counters,
    rule_matches: Vec<u64>,
}

/// Held-back work and the engine totals already counted.
#[derive(Debug)]
pub struct Ledger {
    rule_ids: Vec<String>,
    pending: Pending,
    baselines: HashMap<i32, Baseline>,
}

const STATUSES: [&str; 3] = ["new", "update", "final"];

impl Ledger {
    /// A ledger for these rules (by index); their series start at zero so
    /// that dashboards show every rule and status from the start.
    pub fn new(rule_ids: Vec<String>, metrics: &Metrics) -> Self {
        for rule_id in &rule_ids {
            let label = RuleLabel {
                rule_id: rule_id.clone(),
            };
            let _ = metrics.rule_matches.get_or_create(&label);
        }
        for status in STATUSES {
            let _ = metrics
                .alerts_published
                .get_or_create(&StatusLabel { status });
        }
        Ledger {
            rule_ids,
            pending: Pending::default(),
            baselines: HashMap::new(),
        }
    }

    /// Where the shell notes what it sees.
    pub fn pending(&mut self) -> &mut Pending {
        &mut self.pending
    }

    /// A commit succeeded: counts the pending notes and each engine's
    /// growth since the last commit, and sets the open-groups gauge.
    pub fn committed<'a>(
        &mut self,
        engines: impl IntoIterator<Item = (i32, &'a PartitionEngine)>,
        metrics: &Metrics,
        now_ms: i64,
    ) {
        self.pending.count(metrics, now_ms);
        let mut groups = 0;
        for (partition, engine) in engines {
            let baseline = self.baselines.entry(partition).or_default();
            let grown = growth(&baseline.counters, engine.counters());
            count_engine(metrics, &grown);
            let matches = engine.state().rule_matches();
            count_matches(metrics, &self.rule_ids, &baseline.rule_matches, matches);
            baseline.counters = *engine.counters();
            baseline.rule_matches.clear();
            baseline.rule_matches.extend_from_slice(matches);
            groups += engine.state().open_groups();
        }
        metrics.groups_open.set(groups as i64);
    }

    /// A partition's engine is gone (revoked after a commit): its totals
    /// no longer matter.
    pub fn forget(&mut self, partition: i32) {
        self.baselines.remove(&partition);
    }

    /// The work since the last commit will be redone by engines rebuilt
    /// from the changelog: forgets it, and the old engines' totals.
    pub fn reset(&mut self) {
        self.pending.clear();
        self.baselines.clear();
    }
}

fn growth(before: &Counters, now: &Counters) -> Counters {
    Counters {
        records: now.records.saturating_sub(before.records),
        dead_lettered: now.dead_lettered.saturating_sub(before.dead_lettered),
        late: now.late.saturating_sub(before.late),
        matched: now.matched.saturating_sub(before.matched),
        missing_by_field: now.missing_by_field.saturating_sub(before.missing_by_field),
        alerts_new: now.alerts_new.saturating_sub(before.alerts_new),
        alerts_update: now.alerts_update.saturating_sub(before.alerts_update),
        alerts_final: now.alerts_final.saturating_sub(before.alerts_final),
        filtered: now.filtered.saturating_sub(before.filtered),
        windows_closed: now.windows_closed.saturating_sub(before.windows_closed),
    }
}

/// Dead letters are counted by the shell, which knows their reason; the
/// engine's records minus its dead letters are the records it decoded.
fn count_engine(metrics: &Metrics, grown: &Counters) {
    metrics
        .records_decoded
        .inc_by(grown.records.saturating_sub(grown.dead_lettered));
    metrics.records_late.inc_by(grown.late);
    metrics
        .matches_missing_by_field
        .inc_by(grown.missing_by_field);
    metrics.windows_closed.inc_by(grown.windows_closed);
    let alerts = [grown.alerts_new, grown.alerts_update, grown.alerts_final];
    for (status, n) in STATUSES.into_iter().zip(alerts) {
        if n > 0 {
            metrics
                .alerts_published
                .get_or_create(&StatusLabel { status })
                .inc_by(n);
        }
    }
}

fn count_matches(metrics: &Metrics, rule_ids: &[String], before: &[u64], now: &[u64]) {
    for (index, total) in now.iter().enumerate() {
        let grown = total.saturating_sub(before.get(index).copied().unwrap_or(0));
        let Some(rule_id) = rule_ids.get(index) else {
            continue;
        };
        if grown > 0 {
            let label = RuleLabel {
                rule_id: rule_id.clone(),
            };
            metrics.rule_matches.get_or_create(&label).inc_by(grown);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::DecodeOptions;
    use crate::engine::EngineConfig;
    use crate::rule::{compile, RuleSet};
    use crate::spl::Macros;
    use crate::window::WindowConfig;
    use std::sync::Arc;

    /// 2026-07-14T08:00:00Z.
    const T0_SECS: i64 = 1_784_016_000;

    fn fresh_engine() -> PartitionEngine {
        let text = "name: test\nid: r1\nversion: 1\ntype: TTP\n\
                    search: pn=\"rclone*\" | stats count by sa\n";
        let rule = compile(std::path::Path::new("r1.yml"), text, &Macros::default()).unwrap();
        PartitionEngine::new(EngineConfig {
            rules: Arc::new(RuleSet::from_rules(vec![rule])),
            decode: DecodeOptions::default(),
            windows: WindowConfig::default(),
        })
    }

    fn flow(secs: i64, host: &str, pn: &str) -> Vec<u8> {
        format!(r#"{{"fv":"nvzFlow_v11","sa":"{host}","pn":"{pn}","fss":"{secs}"}}"#).into_bytes()
    }

    fn value(metrics: &Metrics, series: &str) -> f64 {
        let text = metrics.encode();
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0)
    }

    fn feed(engine: &mut PartitionEngine, ledger: &mut Ledger, payload: &[u8]) {
        ledger.pending().consumed("in");
        ledger.pending().processed(1_000);
        if let crate::engine::Disposition::DeadLetter(e) =
            engine.on_message(payload, 0, &mut Vec::new())
        {
            ledger.pending().dead_lettered(e.code());
        }
    }

    #[test]
    fn counts_work_only_when_it_is_committed() {
        let metrics = Metrics::new();
        let mut ledger = Ledger::new(vec!["r1".into()], &metrics);
        let mut engine = fresh_engine();
        feed(&mut engine, &mut ledger, &flow(T0_SECS, "h1", "rclone.exe"));
        feed(&mut engine, &mut ledger, b"{not json");
        assert_eq!(
            value(&metrics, "nvm_records_consumed_total{topic=\"in\"}"),
            0.0
        );

        ledger.committed([(0, &engine)], &metrics, 1_500);
        let consumed = "nvm_records_consumed_total{topic=\"in\"}";
        assert_eq!(value(&metrics, consumed), 2.0);
        assert_eq!(value(&metrics, "nvm_records_decoded_total"), 1.0);
        let dlq = "nvm_records_dead_lettered_total{reason=\"bad_json\"}";
        assert_eq!(value(&metrics, dlq), 1.0);
        assert_eq!(
            value(&metrics, "nvm_rule_matches_total{rule_id=\"r1\"}"),
            1.0
        );
        let new = "nvm_alerts_published_total{status=\"new\"}";
        assert_eq!(value(&metrics, new), 1.0);
        assert_eq!(value(&metrics, "nvm_groups_open"), 1.0);
        assert_eq!(value(&metrics, "nvm_end_to_end_latency_seconds_count"), 2.0);
        assert_eq!(value(&metrics, "nvm_end_to_end_latency_seconds_sum"), 1.0);

        // Committing again without new work changes nothing.
        ledger.committed([(0, &engine)], &metrics, 2_000);
        assert_eq!(value(&metrics, consumed), 2.0);
        assert_eq!(value(&metrics, "nvm_records_decoded_total"), 1.0);

        engine.close_all(&mut Vec::new());
        ledger.committed([(0, &engine)], &metrics, 2_000);
        assert_eq!(value(&metrics, "nvm_windows_closed_total"), 1.0);
        let finals = "nvm_alerts_published_total{status=\"final\"}";
        assert_eq!(value(&metrics, finals), 1.0);
        assert_eq!(value(&metrics, "nvm_groups_open"), 0.0);
    }

    #[test]
    fn aborted_work_is_counted_once_when_it_is_redone() {
        let metrics = Metrics::new();
        let mut ledger = Ledger::new(vec!["r1".into()], &metrics);
        let mut engine = fresh_engine();
        feed(&mut engine, &mut ledger, &flow(T0_SECS, "h1", "rclone.exe"));
        ledger.committed([(0, &engine)], &metrics, 0);

        // Processed, then aborted: the shell rebuilds the engine.
        feed(
            &mut engine,
            &mut ledger,
            &flow(T0_SECS + 1, "h2", "rclone.exe"),
        );
        ledger.reset();
        let mut rebuilt = fresh_engine();
        feed(
            &mut rebuilt,
            &mut ledger,
            &flow(T0_SECS + 1, "h2", "rclone.exe"),
        );
        ledger.committed([(0, &rebuilt)], &metrics, 0);

        let consumed = "nvm_records_consumed_total{topic=\"in\"}";
        assert_eq!(value(&metrics, consumed), 2.0);
        assert_eq!(
            value(&metrics, "nvm_rule_matches_total{rule_id=\"r1\"}"),
            2.0
        );
        let new = "nvm_alerts_published_total{status=\"new\"}";
        assert_eq!(value(&metrics, new), 2.0);
    }
}

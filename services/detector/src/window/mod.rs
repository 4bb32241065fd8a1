//! Per-partition windowed state: tumbling event-time windows of groups.
//!
//! Plain synchronous code with no runtime and no Kafka, so every window
//! boundary can be tested with hand-made records and a hand-moved clock.
//! The shell owns one [`WindowState`] per input partition, feeds it records
//! with the current processing time, and turns the [`Emission`]s it returns
//! into alerts.
//!
//! Time has two axes. Event time (the flow's start) places a record in a
//! window and drives the watermark: the highest event time the partition has
//! seen. Processing time (`now_ms`, wall clock) paces `update` alerts and lets
//! an idle partition's watermark move on, so that a quiet partition does not
//! hold its windows open forever.

pub mod changelog;

use crate::record::Record;
use crate::rule::RuleSet;
use crate::stats::{group_keys, Aggregate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One hour, aligned to whole hours of epoch time: Splunk's schedule.
pub const DEFAULT_WINDOW_MS: i64 = 3_600_000;
/// Splunk's scheduled search lags event time by ten minutes to let
/// stragglers land; the same margin is the default allowed lateness.
pub const DEFAULT_ALLOWED_LATENESS_MS: i64 = 600_000;
/// At most one `update` alert per group per ten seconds.
pub const DEFAULT_UPDATE_INTERVAL_MS: i64 = 10_000;
/// A partition that received nothing for a minute starts ageing its
/// watermark with the wall clock.
pub const DEFAULT_IDLE_TIMEOUT_MS: i64 = 60_000;

/// Window settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowConfig {
    pub window_ms: i64,
    pub allowed_lateness_ms: i64,
    pub update_interval_ms: i64,
    pub idle_timeout_ms: i64,
}

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            window_ms: DEFAULT_WINDOW_MS,
            allowed_lateness_ms: DEFAULT_ALLOWED_LATENESS_MS,
            update_interval_ms: DEFAULT_UPDATE_INTERVAL_MS,
            idle_timeout_ms: DEFAULT_IDLE_TIMEOUT_MS,
        }
    }
}

impl WindowConfig {
    /// The start of the window holding an event time.
    pub fn window_start(&self, time_ms: i64) -> i64 {
        time_ms.div_euclid(self.window_ms) * self.window_ms
    }
}

/// Identity of a group: window first, so closing windows pops the front.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GroupId {
    pub window_start_ms: i64,
    pub rule_id: String,
    /// The BY field values, in BY order.
    pub key: Vec<String>,
}

/// A group's aggregate and its emission bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupState {
    pub agg: Aggregate,
    /// Processing time of the last `new` or `update` emitted.
    pub last_emit_ms: i64,
    /// Records arrived since the last alert; an `update` is held back.
    #[serde(default)]
    pub pending: bool,
}

/// What an alert reports about a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The group's first matching record in its window.
    New,
    /// More records arrived since the last alert.
    Update,
    /// The window closed; this is the row Splunk would give.
    Final,
}

/// A group whose alert is due.
#[derive(Debug, Clone, PartialEq)]
pub struct Emission {
    pub status: Status,
    /// Index of the rule in the rule set.
    pub rule: usize,
    pub window_end_ms: i64,
    pub group: GroupId,
    pub agg: Aggregate,
}

/// What became of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    /// Its window had already closed: route it to the late topic.
    pub late: bool,
    /// Rules whose filter it matched.
    pub matched_rules: u32,
    /// Rules it matched but could not be grouped by (a BY field missing).
    pub missing_by_field: u32,
}

/// The windows of one input partition.
#[derive(Debug, Clone)]
pub struct WindowState {
    config: WindowConfig,
    groups: BTreeMap<GroupId, GroupState>,
    /// Groups with records not yet reported by an alert.
    dirty: BTreeSet<GroupId>,
    /// Highest event time seen.
    max_event_ms: Option<i64>,
    /// Effective watermark: `max_event_ms`, aged by idleness; never falls.
    watermark_ms: Option<i64>,
    /// Processing time of the last record.
    last_record_at_ms: Option<i64>,
    /// Groups changed (or closed) since changes were last drained.
    changed: BTreeSet<GroupId>,
    /// Whether the watermark moved since changes were last drained.
    meta_changed: bool,
    /// Records matched, per rule index, since this state was created: for
    /// metrics only, so not part of the changelog.
    rule_matches: Vec<u64>,
}

impl WindowState {
    /// Empty state.
    pub fn new(config: WindowConfig) -> Self {
        WindowState {
            config,
            groups: BTreeMap::new(),
            dirty: BTreeSet::new(),
            max_event_ms: None,
            watermark_ms: None,
            last_record_at_ms: None,
            changed: BTreeSet::new(),
            meta_changed: false,
            rule_matches: Vec::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &WindowConfig {
        &self.config
    }

    /// The effective watermark, if any record was seen.
    pub fn watermark_ms(&self) -> Option<i64> {
        self.watermark_ms
    }

    /// Records matched so far, by rule index (shorter than the rule set
    /// when the last rules never matched).
    pub fn rule_matches(&self) -> &[u64] {
        &self.rule_matches
    }

    /// Groups in open windows.
    pub fn open_groups(&self) -> usize {
        self.groups.len()
    }

    /// The open groups, window by window.
    pub fn groups(&self) -> impl Iterator<Item = (&GroupId, &GroupState)> {
        self.groups.iter()
    }

    /// Whether a record with this event time belongs to a closed window.
    pub fn is_late(&self, time_ms: i64) -> bool {
        let end = self.config.window_start(time_ms) + self.config.window_ms;
        self.watermark_ms
            .is_some_and(|wm| end + self.config.allowed_lateness_ms <= wm)
    }

    /// Folds a record into every group it belongs to, then closes the
    /// windows its event time pushes past the watermark.
    pub fn process(
        &mut self,
        rules: &RuleSet,
        record: &Record,
        now_ms: i64,
        out: &mut Vec<Emission>,
    ) -> Outcome {
        let matches = |index: usize| rules.rules()[index].plan.filter.matches(record);
        self.process_where(rules, record, now_ms, out, matches)
    }

    /// [`WindowState::process`] for a caller that has tested the rules'
    /// filters already: `matches` tells, by rule index, which hold.
    pub fn process_where(
        &mut self,
        rules: &RuleSet,
        record: &Record,
        now_ms: i64,
        out: &mut Vec<Emission>,
        mut matches: impl FnMut(usize) -> bool,
    ) -> Outcome {
        let time = record.time_ms();
        let mut outcome = Outcome::default();
        self.last_record_at_ms = Some(now_ms);
        if self.is_late(time) {
            outcome.late = true;
            return outcome;
        }

        let window_start_ms = self.config.window_start(time);
        for (index, rule) in rules.rules().iter().enumerate() {
            if !matches(index) {
                continue;
            }
            outcome.matched_rules += 1;
            self.count_match(index);
            let Some(keys) = group_keys(&rule.plan.stats, record) else {
                outcome.missing_by_field += 1;
                continue;
            };
            for key in keys {
                let group = GroupId {
                    window_start_ms,
                    rule_id: rule.meta.id.clone(),
                    key,
                };
                self.fold(index, rules, group, record, now_ms, out);
            }
        }

        self.max_event_ms = Some(self.max_event_ms.map_or(time, |m| m.max(time)));
        self.raise_watermark(time);
        self.close_due(rules, out);
        outcome
    }

    fn count_match(&mut self, index: usize) {
        if self.rule_matches.len() <= index {
            self.rule_matches.resize(index + 1, 0);
        }
        self.rule_matches[index] += 1;
    }

    fn fold(
        &mut self,
        index: usize,
        rules: &RuleSet,
        group: GroupId,
        record: &Record,
        now_ms: i64,
        out: &mut Vec<Emission>,
    ) {
        let spec = &rules.rules()[index].plan.stats;
        let window_end_ms = group.window_start_ms + self.config.window_ms;
        let status = match self.groups.get_mut(&group) {
            Some(state) => {
                state.agg.add(spec, record);
                if now_ms - state.last_emit_ms < self.config.update_interval_ms {
                    state.pending = true;
                    self.dirty.insert(group.clone());
                    self.changed.insert(group);
                    return;
                }
                state.last_emit_ms = now_ms;
                state.pending = false;
                Status::Update
            }
            None => {
                let mut agg = Aggregate::new(spec);
                agg.add(spec, record);
                let state = GroupState {
                    agg,
                    last_emit_ms: now_ms,
                    pending: false,
                };
                self.groups.insert(group.clone(), state);
                Status::New
            }
        };
        self.dirty.remove(&group);
        self.changed.insert(group.clone());
        let agg = self.groups[&group].agg.clone();
        out.push(Emission {
            status,
            rule: index,
            window_end_ms,
            group,
            agg,
        });
    }

    /// Time passes without records: ages an idle partition's watermark,
    /// emits updates that were held back, and closes windows now due.
    pub fn tick(&mut self, rules: &RuleSet, now_ms: i64, out: &mut Vec<Emission>) {
        if let (Some(last), Some(max)) = (self.last_record_at_ms, self.max_event_ms) {
            let idle = now_ms - last;
            if idle >= self.config.idle_timeout_ms {
                self.raise_watermark(max.saturating_add(idle));
            }
        }
        self.emit_held_updates(rules, now_ms, out);
        self.close_due(rules, out);
    }

    fn emit_held_updates(&mut self, rules: &RuleSet, now_ms: i64, out: &mut Vec<Emission>) {
        let interval = self.config.update_interval_ms;
        let due: Vec<GroupId> = self
            .dirty
            .iter()
            .filter(|g| {
                self.groups
                    .get(*g)
                    .is_some_and(|s| now_ms - s.last_emit_ms >= interval)
            })
            .cloned()
            .collect();
        for group in due {
            self.dirty.remove(&group);
            let Some(index) = rule_index(rules, &group.rule_id) else {
                continue;
            };
            let Some(state) = self.groups.get_mut(&group) else {
                continue;
            };
            state.last_emit_ms = now_ms;
            state.pending = false;
            self.changed.insert(group.clone());
            out.push(Emission {
                status: Status::Update,
                rule: index,
                window_end_ms: group.window_start_ms + self.config.window_ms,
                agg: state.agg.clone(),
                group,
            });
        }
    }

    fn raise_watermark(&mut self, to: i64) {
        let raised = self.watermark_ms.map_or(to, |w| w.max(to));
        if self.watermark_ms != Some(raised) {
            self.watermark_ms = Some(raised);
            self.meta_changed = true;
        }
    }

    /// Emits `final` for every group whose window end plus the allowed
    /// lateness the watermark has reached.
    fn close_due(&mut self, rules: &RuleSet, out: &mut Vec<Emission>) {
        let Some(wm) = self.watermark_ms else { return };
        let horizon = wm - self.config.allowed_lateness_ms - self.config.window_ms;
        while let Some(entry) = self.groups.first_entry() {
            if entry.key().window_start_ms > horizon {
                break;
            }
            let (group, state) = entry.remove_entry();
            self.finish(rules, group, state, out);
        }
    }

    /// End of input (a bounded run): every open window closes now.
    pub fn close_all(&mut self, rules: &RuleSet, out: &mut Vec<Emission>) {
        while let Some((group, state)) = self.groups.pop_first() {
            self.finish(rules, group, state, out);
        }
    }

    fn finish(
        &mut self,
        rules: &RuleSet,
        group: GroupId,
        state: GroupState,
        out: &mut Vec<Emission>,
    ) {
        self.dirty.remove(&group);
        // The changelog must learn that the window closed (a tombstone).
        self.changed.insert(group.clone());
        let Some(index) = rule_index(rules, &group.rule_id) else {
            return;
        };
        out.push(Emission {
            status: Status::Final,
            rule: index,
            window_end_ms: group.window_start_ms + self.config.window_ms,
            group,
            agg: state.agg,
        });
    }
}

/// One change to a partition's state, as its changelog records it.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A group's new state, or `None` once its window closed.
    Group(GroupId, Option<GroupState>),
    /// The partition's watermark and the window length it was kept with.
    Meta(Meta),
}

/// Partition-wide state that outlives any one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub window_ms: i64,
    pub max_event_ms: Option<i64>,
    pub watermark_ms: Option<i64>,
}

/// Restoring state that was kept with other window settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state was kept with {found} ms windows but window length is now {configured} ms; use a new consumer group (or delete its changelog) to change it")]
pub struct WindowMismatch {
    pub found: i64,
    pub configured: i64,
}

impl WindowState {
    /// Changes since the last call, each group once with its latest state.
    pub fn drain_changes(&mut self) -> Vec<Change> {
        let mut changes: Vec<Change> = std::mem::take(&mut self.changed)
            .into_iter()
            .map(|g| {
                let state = self.groups.get(&g).cloned();
                Change::Group(g, state)
            })
            .collect();
        if std::mem::take(&mut self.meta_changed) {
            changes.push(Change::Meta(self.meta()));
        }
        changes
    }

    /// Whether anything changed since changes were last drained.
    pub fn has_changes(&self) -> bool {
        self.meta_changed || !self.changed.is_empty()
    }

    /// The partition-wide state.
    pub fn meta(&self) -> Meta {
        Meta {
            window_ms: self.config.window_ms,
            max_event_ms: self.max_event_ms,
            watermark_ms: self.watermark_ms,
        }
    }

    /// Applies a change read back from the changelog (restore). Applying a
    /// changelog in order rebuilds the state that wrote it.
    ///
    /// # Errors
    /// State kept with another window length.
    pub fn apply(&mut self, change: Change) -> Result<(), WindowMismatch> {
        match change {
            Change::Group(group, Some(state)) => {
                if state.pending {
                    self.dirty.insert(group.clone());
                } else {
                    self.dirty.remove(&group);
                }
                self.groups.insert(group, state);
            }
            Change::Group(group, None) => {
                self.dirty.remove(&group);
                self.groups.remove(&group);
            }
            Change::Meta(meta) => {
                if meta.window_ms != self.config.window_ms {
                    return Err(WindowMismatch {
                        found: meta.window_ms,
                        configured: self.config.window_ms,
                    });
                }
                self.max_event_ms = meta.max_event_ms;
                self.watermark_ms = meta.watermark_ms;
            }
        }
        Ok(())
    }

    /// Starts the idle clock after a restore: no record has been seen by
    /// this process yet, so idleness counts from now.
    pub fn resume_at(&mut self, now_ms: i64) {
        if self.max_event_ms.is_some() {
            self.last_record_at_ms = Some(now_ms);
        }
    }
}

fn rule_index(rules: &RuleSet, id: &str) -> Option<usize> {
    rules.rules().iter().position(|r| r.meta.id == id)
}

#[cfg(test)]
mod tests;

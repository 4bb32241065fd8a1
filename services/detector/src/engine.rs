//! The detection engine for one input partition: decode, match, window,
//! render. `scan` and the Kafka shell both drive it, so they cannot disagree.

use crate::alert::{render, Alert};
use crate::decode::{decode, DecodeError, DecodeOptions, Keep};
use crate::rule::RuleSet;
use crate::window::{Change, Emission, Outcome, WindowConfig, WindowMismatch, WindowState};
use std::sync::Arc;

/// Settings shared by every partition.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub rules: Arc<RuleSet>,
    pub decode: DecodeOptions,
    pub windows: WindowConfig,
}

/// What happened to one message; the caller routes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Disposition {
    /// Not a usable record: dead-letter it with this reason.
    DeadLetter(DecodeError),
    /// Its window had closed: route it to the late topic.
    Late { time_ms: i64 },
    /// Folded into the windows.
    Processed(Outcome),
}

/// Running totals of one partition's engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub records: u64,
    pub dead_lettered: u64,
    pub late: u64,
    pub matched: u64,
    /// Matches that no stats row can hold because a BY field was missing.
    pub missing_by_field: u64,
    pub alerts_new: u64,
    pub alerts_update: u64,
    pub alerts_final: u64,
    /// Emissions whose row the rule's post-stats search dropped.
    pub filtered: u64,
    /// Group windows closed (one per rule, BY key and window), whether or
    /// not the post-stats search kept their row.
    pub windows_closed: u64,
}

/// Totals of several engines (the partitions an instance held).
impl std::ops::Add for Counters {
    type Output = Counters;

    fn add(self, other: Counters) -> Counters {
        Counters {
            records: self.records + other.records,
            dead_lettered: self.dead_lettered + other.dead_lettered,
            late: self.late + other.late,
            matched: self.matched + other.matched,
            missing_by_field: self.missing_by_field + other.missing_by_field,
            alerts_new: self.alerts_new + other.alerts_new,
            alerts_update: self.alerts_update + other.alerts_update,
            alerts_final: self.alerts_final + other.alerts_final,
            filtered: self.filtered + other.filtered,
            windows_closed: self.windows_closed + other.windows_closed,
        }
    }
}

/// One partition's engine: its windows and counters.
#[derive(Debug, Clone)]
pub struct PartitionEngine {
    config: EngineConfig,
    /// How a message is decoded first: when records keep only what rules
    /// read, only the fields the rules' filters test. A record that passes
    /// a filter is decoded again with everything its stats need; records
    /// that pass none (nearly all) never pay for those fields.
    screen: Option<DecodeOptions>,
    /// Indexes of the rules whose filter the current record passed.
    matching: Vec<usize>,
    state: WindowState,
    counters: Counters,
    emissions: Vec<Emission>,
}

impl PartitionEngine {
    /// A fresh partition.
    pub fn new(config: EngineConfig) -> Self {
        let state = WindowState::new(config.windows);
        PartitionEngine {
            screen: screen_options(&config),
            matching: Vec::with_capacity(config.rules.len()),
            config,
            state,
            counters: Counters::default(),
            emissions: Vec::with_capacity(16),
        }
    }

    /// Decodes and processes one message, appending due alerts to `alerts`.
    pub fn on_message(
        &mut self,
        bytes: &[u8],
        now_ms: i64,
        alerts: &mut Vec<Alert>,
    ) -> Disposition {
        self.counters.records += 1;
        let options = self.screen.as_ref().unwrap_or(&self.config.decode);
        let mut record = match decode(bytes, options) {
            Ok(record) => record,
            Err(error) => return self.dead_letter(error),
        };

        let rules = &self.config.rules;
        self.matching.clear();
        let passed = rules.rules().iter().map(|r| r.plan.filter.matches(&record));
        self.matching
            .extend(passed.enumerate().filter_map(|(i, pass)| pass.then_some(i)));
        if self.screen.is_some() && !self.matching.is_empty() {
            // Both decodings check the same things, so this one succeeds.
            record = match decode(bytes, &self.config.decode) {
                Ok(record) => record,
                Err(error) => return self.dead_letter(error),
            };
        }

        let matching = &self.matching;
        let outcome = self.state.process_where(
            &self.config.rules,
            &record,
            now_ms,
            &mut self.emissions,
            |index| matching.contains(&index),
        );
        self.counters.matched += u64::from(outcome.matched_rules);
        self.counters.missing_by_field += u64::from(outcome.missing_by_field);
        self.render_emissions(alerts);
        if outcome.late {
            self.counters.late += 1;
            return Disposition::Late {
                time_ms: record.time_ms(),
            };
        }
        Disposition::Processed(outcome)
    }

    fn dead_letter(&mut self, error: DecodeError) -> Disposition {
        self.counters.dead_lettered += 1;
        Disposition::DeadLetter(error)
    }

    /// Lets processing time pass (held updates, idle watermark).
    pub fn on_tick(&mut self, now_ms: i64, alerts: &mut Vec<Alert>) {
        self.state
            .tick(&self.config.rules, now_ms, &mut self.emissions);
        self.render_emissions(alerts);
    }

    /// End of a bounded input: closes every open window.
    pub fn close_all(&mut self, alerts: &mut Vec<Alert>) {
        self.state
            .close_all(&self.config.rules, &mut self.emissions);
        self.render_emissions(alerts);
    }

    fn render_emissions(&mut self, alerts: &mut Vec<Alert>) {
        for emission in self.emissions.drain(..) {
            if emission.status == crate::window::Status::Final {
                self.counters.windows_closed += 1;
            }
            let Some(alert) = render(&self.config.rules, &emission) else {
                self.counters.filtered += 1;
                continue;
            };
            match alert.status {
                crate::window::Status::New => self.counters.alerts_new += 1,
                crate::window::Status::Update => self.counters.alerts_update += 1,
                crate::window::Status::Final => self.counters.alerts_final += 1,
            }
            alerts.push(alert);
        }
    }

    /// Rebuilds a partition from its changelog, in changelog order.
    ///
    /// # Errors
    /// State kept with another window length.
    pub fn restored(
        config: EngineConfig,
        changes: impl IntoIterator<Item = Change>,
        now_ms: i64,
    ) -> Result<Self, WindowMismatch> {
        let mut engine = PartitionEngine::new(config);
        for change in changes {
            engine.state.apply(change)?;
        }
        engine.state.resume_at(now_ms);
        Ok(engine)
    }

    /// Applies one change read back from the changelog.
    ///
    /// # Errors
    /// State kept with another window length.
    pub fn apply_change(&mut self, change: Change) -> Result<(), WindowMismatch> {
        self.state.apply(change)
    }

    /// Starts the idle clock once a restore is complete.
    pub fn resume_at(&mut self, now_ms: i64) {
        self.state.resume_at(now_ms);
    }

    /// State changes since the last call, for the changelog.
    pub fn drain_changes(&mut self) -> Vec<Change> {
        self.state.drain_changes()
    }

    /// The running totals.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The window state (for snapshots and inspection).
    pub fn state(&self) -> &WindowState {
        &self.state
    }
}

/// The decoding of a first look at a message: only the kept fields that
/// the rules' filters test. `None` when records keep every field.
fn screen_options(config: &EngineConfig) -> Option<DecodeOptions> {
    let Keep::Only(kept) = &config.decode.keep else {
        return None;
    };
    let tested = config.rules.filter_field_names();
    let names = tested.into_iter().filter(|name| kept.keeps(name));
    Some(DecodeOptions {
        keep: Keep::only(names),
        ..config.decode.clone()
    })
}

//! Throughput parts of the suite: the engine offline, the producer that
//! fills the topic, the plain consumer (the ceiling) and the detector end
//! to end in each delivery mode.

use super::{progress, Collected, Corpora, Suite, CEILING_SHARE_TARGET, ENGINE_TARGET, MIB};
use crate::detector::{Mode, RunOutcome, RunTopics};
use crate::kafka::ConsumeRun;
use crate::offline::EngineRun;
use crate::report::{human, Better, Measurement};
use anyhow::bail;
use std::path::Path;
use std::time::Duration;

impl Suite<'_> {
    /// a. The engine offline, one process per run (clean memory figures).
    pub(super) fn engine(&self, corpora: &Corpora, c: &mut Collected) -> anyhow::Result<()> {
        for (label, file) in [("json", &corpora.json), ("kv", &corpora.kv)] {
            let mut runs: Vec<EngineRun> = Vec::new();
            for k in 1..=self.sizes.runs {
                let corpus = file.display().to_string();
                let rules = self.rules_arg();
                let run: EngineRun =
                    self.child(&["engine", "--corpus", &corpus, "--rules", &rules])?;
                progress(&format!(
                    "engine {label} run {k}/{}: {} records per CPU second",
                    self.sizes.runs,
                    human(run.records_per_cpu_sec)
                ));
                runs.push(run);
            }
            engine_measurements(label, &runs, c);
        }
        Ok(())
    }

    /// b. The librdkafka producer rate that fills the topic: keyed by
    /// `src`, idempotent, lz4, as `nvm-detector replay` sends.
    pub(super) fn fill(&self, topic: &str, file: &Path, c: &mut Collected) -> anyhow::Result<()> {
        let records = crate::kafka::keyed_records(file)?;
        let partitions = self.sizes.input_partitions;
        let mut rates = Vec::new();
        for k in 1..=self.sizes.runs {
            // The first run fills the topic every later part reads; the
            // others write to a scratch topic, deleted at once.
            let target = if k == 1 {
                topic.to_owned()
            } else {
                self.name(&format!("fill{k}"))
            };
            self.kafka.create_topics(&[(&target, partitions)])?;
            let secs = crate::kafka::produce_all(&self.kafka, &target, &records)?;
            let held = self.kafka.message_count(&target)?;
            if held != records.len() as u64 {
                bail!(
                    "{target} holds {held} records after producing {}",
                    records.len()
                );
            }
            if k > 1 {
                self.kafka.delete_topics(&[target])?;
            }
            let rate = records.len() as f64 / secs;
            progress(&format!(
                "producer run {k}/{}: {} records/s",
                self.sizes.runs,
                human(rate)
            ));
            rates.push(rate);
        }
        let note = format!(
            "rdkafka ThreadedProducer, keyed by src, idempotent, acks=all, lz4, linger 20 ms; \
             {} records, {partitions} partitions; first send to flushed",
            records.len()
        );
        c.measurements.push(
            Measurement::new(
                "kafka.produce.records_per_sec",
                "records/s",
                Better::Higher,
                rates,
            )
            .note(note),
        );
        Ok(())
    }

    /// b. The ceiling: a plain rdkafka consumer that only reads the topic.
    pub(super) fn ceiling(&self, topic: &str, c: &mut Collected) -> anyhow::Result<()> {
        let records = self.sizes.topic_records.to_string();
        let mut rates = Vec::new();
        let mut whole = Vec::new();
        for k in 1..=self.sizes.runs {
            let group = self.name(&format!("ceiling{k}"));
            let args = [
                "consume", "--topic", topic, "--group", &group, "--expect", &records,
            ];
            let run: ConsumeRun = self.child(&args)?;
            let steady = run.records as f64 / (run.secs - run.first_record_secs);
            progress(&format!(
                "plain consumer run {k}/{}: {} records/s",
                self.sizes.runs,
                human(steady)
            ));
            rates.push(steady);
            whole.push(run.records_per_sec);
        }
        let note = "rdkafka BaseConsumer, fresh group, read_committed; \
                    from the first record to the last";
        c.measurements.push(
            Measurement::new(
                "kafka.consume.records_per_sec",
                "records/s",
                Better::Higher,
                rates,
            )
            .note(note),
        );
        c.measurements.push(
            Measurement::new(
                "kafka.consume.with_join_records_per_sec",
                "records/s",
                Better::Higher,
                whole,
            )
            .note("from creating the consumer (group join included) to the last record"),
        );
        Ok(())
    }

    /// c. The detector end to end, bounded, per configuration.
    pub(super) fn end_to_end(&self, topic: &str, c: &mut Collected) -> anyhow::Result<()> {
        if !self.capabilities.bounded {
            c.unavailable(
                "detector.e2e",
                "this build of nvm-detector run has no --exit-when-idle-ms",
            );
            return Ok(());
        }
        for variant in self.variants() {
            let mut steady = Vec::new();
            let mut whole = Vec::new();
            let mut notes = Vec::new();
            for k in 1..=self.sizes.runs {
                let outcome = self.bounded_run(topic, &variant, k, &mut notes)?;
                let records = self.sizes.topic_records as f64;
                let rate = records / outcome.steady_secs.unwrap_or(outcome.secs);
                progress(&format!(
                    "detector {} run {k}/{}: {} records/s",
                    variant.name,
                    self.sizes.runs,
                    human(rate)
                ));
                steady.push(rate);
                whole.push(records / outcome.secs);
            }
            self.e2e_measurements(&variant, steady, whole, notes, c);
        }
        Ok(())
    }

    /// One bounded run, retried once with a fresh group when it fails: a
    /// failure is reported in the note, never hidden.
    fn bounded_run(
        &self,
        topic: &str,
        variant: &Variant,
        k: usize,
        notes: &mut Vec<String>,
    ) -> anyhow::Result<RunOutcome> {
        let mut attempt = |suffix: &str| -> anyhow::Result<RunOutcome> {
            let prefix = self.name(&format!("det-{}-{k}{suffix}", variant.name));
            let topics = RunTopics::named(topic, &prefix);
            let log = self
                .logs
                .join(format!("detector-{}-{k}{suffix}.log", variant.name));
            let timeout = Duration::from_secs(1800);
            let outcome =
                self.detector
                    .bounded_run(&topics, &prefix, variant.mode(), &log, timeout)?;
            let expected = self.sizes.topic_records;
            match outcome.records {
                Some(seen) if seen < expected => bail!(
                    "the detector processed {seen} of {expected} records; log: {}",
                    log.display()
                ),
                Some(seen) if seen > expected => {
                    notes.push(format!("run {k} processed {seen} records (replays)"))
                }
                _ => {}
            }
            Ok(outcome)
        };
        match attempt("") {
            Ok(outcome) => Ok(outcome),
            Err(e) => {
                eprintln!("nvm-bench: detector run failed, retrying once: {e:#}");
                let outcome = attempt("-retry")?;
                notes.push(format!("run {k} failed once and was retried: {e:#}"));
                Ok(outcome)
            }
        }
    }

    fn e2e_measurements(
        &self,
        variant: &Variant,
        steady: Vec<f64>,
        whole: Vec<f64>,
        notes: Vec<String>,
        c: &mut Collected,
    ) {
        let name = format!("detector.e2e.{}.records_per_sec", variant.name);
        let tick_ms = variant.commit_interval_ms.unwrap_or(100);
        let mut note = format!(
            "nvm-detector run --exit-when-idle-ms 1000{}; from `partitions assigned` \
             to `input drained` minus the idle wait (the end is seen at a commit tick: \
             +-{tick_ms} ms)",
            variant.flags()
        );
        for extra in notes {
            note = format!("{note}; {extra}");
        }
        c.measurements
            .push(Measurement::new(&name, "records/s", Better::Higher, steady).note(note));
        c.measurements.push(
            Measurement::new(
                &format!(
                    "detector.e2e.{}.spawn_to_exit_records_per_sec",
                    variant.name
                ),
                "records/s",
                Better::Higher,
                whole,
            )
            .note("from spawn to exit (startup, group join, final commit) minus the idle wait"),
        );
        c.ratio(
            &name,
            "kafka.consume.records_per_sec",
            CEILING_SHARE_TARGET,
            variant.caveat(),
        );
    }
}

/// One configuration of the detector measured end to end.
pub(super) struct Variant {
    pub name: String,
    pub delivery: Option<String>,
    pub commit_interval_ms: Option<u64>,
}

impl Variant {
    pub fn mode(&self) -> Mode<'_> {
        Mode {
            delivery: self.delivery.as_deref(),
            commit_interval_ms: self.commit_interval_ms,
        }
    }

    fn flags(&self) -> String {
        let mut flags = String::new();
        if let Some(delivery) = &self.delivery {
            flags.push_str(&format!(" --delivery {delivery}"));
        }
        if let Some(ms) = self.commit_interval_ms {
            flags.push_str(&format!(" --commit-interval-ms {ms}"));
        }
        flags
    }

    /// A note for ratios of a configuration that is not the default.
    pub fn caveat(&self) -> Option<String> {
        self.commit_interval_ms
            .map(|ms| format!("commit interval {ms} ms instead of the default 100 ms"))
    }
}

/// The medians of one encoding's engine runs.
fn engine_measurements(label: &str, runs: &[EngineRun], c: &mut Collected) {
    let pick =
        |f: &dyn Fn(&EngineRun) -> Option<f64>| -> Vec<f64> { runs.iter().filter_map(f).collect() };
    let name = |what: &str| format!("engine.{label}.{what}");
    let first = &runs[0];
    let counts = format!(
        "{} records, {} dead-lettered, {} late, {} matched, {} alerts; one thread",
        first.records, first.dead_lettered, first.late, first.matched, first.alerts
    );
    let per_cpu = pick(&|r| Some(r.records_per_cpu_sec));
    c.measurements.push(
        Measurement::new(
            &name("records_per_cpu_sec"),
            "records/s/core",
            Better::Higher,
            per_cpu,
        )
        .at_least(ENGINE_TARGET)
        .note(counts),
    );
    let wall = pick(&|r| Some(r.records_per_sec));
    c.measurements.push(
        Measurement::new(&name("records_per_sec"), "records/s", Better::Higher, wall)
            .note("wall clock: lower than per CPU second when the machine is busy"),
    );
    let bytes = pick(&|r| Some(r.bytes as f64 / r.cpu_secs / MIB));
    let per_record = first.bytes as f64 / first.records as f64;
    c.measurements.push(
        Measurement::new(&name("bytes_per_cpu_sec"), "MiB/s", Better::Higher, bytes)
            .note(format!("{per_record:.0} bytes per record")),
    );
    let allocations = pick(&|r| r.allocations_per_record.map(|a| a * 1e6));
    if allocations.is_empty() {
        c.unavailable(
            &name("allocations_per_million"),
            "the counting allocator is not installed",
        );
    } else {
        c.measurements.push(Measurement::new(
            &name("allocations_per_million"),
            "allocations",
            Better::Lower,
            allocations,
        ));
        c.measurements.push(Measurement::new(
            &name("allocated_bytes_per_record"),
            "bytes",
            Better::Lower,
            pick(&|r| r.allocated_bytes_per_record),
        ));
        c.measurements.push(
            Measurement::new(
                &name("peak_heap_growth"),
                "MiB",
                Better::Lower,
                pick(&|r| r.peak_heap_growth_bytes.map(|b| b as f64 / MIB)),
            )
            .note("highest heap in use above the loaded corpus"),
        );
    }
    let rss = pick(&|r| r.peak_rss_growth_bytes.map(|b| b as f64 / MIB));
    if !rss.is_empty() {
        c.measurements.push(
            Measurement::new(&name("peak_rss_growth"), "MiB", Better::Lower, rss)
                .note("VmHWM above VmRSS with the corpus loaded"),
        );
    }
}

//! Latency in the suite: the detector runs unbounded under a paced load
//! with probes, once per delivery mode and run.

use super::{progress, Collected, Suite, P99_TARGET_MS};
use crate::corpus::Corpus;
use crate::detector::{stop_child, Mode, RunTopics};
use crate::latency::{self, LatencyRun, Load};
use crate::report::{human, Better, Measurement};
use std::path::Path;

impl Suite<'_> {
    /// e. Latency, per delivery mode, with the detector running unbounded.
    pub(super) fn latency(&self, mixed: &Path, c: &mut Collected) -> anyhow::Result<()> {
        let rules = nvm_detector::rule::RuleSet::load(&self.detector.rules)?;
        let load = Load::from_corpus(Corpus::load(mixed)?, &rules);
        for (mode, flag) in self.modes() {
            let mut runs = Vec::new();
            for k in 1..=self.sizes.runs {
                let run = self.latency_run(&load, &mode, flag.as_deref(), k)?;
                progress(&format!(
                    "latency {mode} run {k}/{}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms \
                     ({} of {} probes, {} records/s)",
                    self.sizes.runs,
                    run.p50_ms,
                    run.p99_ms,
                    run.max_ms,
                    run.probes_seen,
                    run.probes_sent,
                    human(run.achieved_rate)
                ));
                runs.push(run);
            }
            self.latency_measurements(&mode, &runs, c);
        }
        Ok(())
    }

    fn latency_run(
        &self,
        load: &Load,
        mode: &str,
        delivery: Option<&str>,
        k: usize,
    ) -> anyhow::Result<LatencyRun> {
        let prefix = self.name(&format!("lat-{mode}-{k}"));
        let topics = RunTopics::named(&format!("{prefix}.flows"), &prefix);
        self.kafka.create_topics(&[
            (&topics.input, self.sizes.input_partitions),
            (&topics.alerts, 3),
            (&topics.dlq, 1),
            (&topics.late, 1),
        ])?;
        let log = self.logs.join(format!("latency-{mode}-{k}.log"));
        let mode = Mode {
            delivery,
            commit_interval_ms: None,
        };
        let mut child = self.detector.start(&topics, &prefix, mode, &log)?;
        let settings = &self.sizes.latency;
        let run = latency::run(&self.kafka, &topics.input, &topics.alerts, load, settings);
        stop_child(&mut child);
        run
    }

    fn latency_measurements(&self, mode: &str, runs: &[LatencyRun], c: &mut Collected) {
        let s = &self.sizes.latency;
        let pick = |f: fn(&LatencyRun) -> f64| -> Vec<f64> { runs.iter().map(f).collect() };
        let name = |what: &str| format!("latency.{mode}.{what}");
        let stated = format!(
            "target rate {} records/s (1 in {} a probe), {} s measured after {} s of load",
            s.rate, s.probe_every, s.measure_secs, s.warmup_secs
        );
        let missing: u64 = runs.iter().map(|r| r.probes_sent - r.probes_seen).sum();
        let p50 = Measurement::new(&name("p50_ms"), "ms", Better::Lower, pick(|r| r.p50_ms));
        c.measurements.push(p50.note(stated));
        let mut p99 = Measurement::new(&name("p99_ms"), "ms", Better::Lower, pick(|r| r.p99_ms))
            .below(P99_TARGET_MS);
        if missing > 0 {
            p99 = p99.note(format!(
                "{missing} probes never alerted within 15 s (not in the percentiles)"
            ));
        }
        c.measurements.push(p99);
        c.measurements.push(Measurement::new(
            &name("max_ms"),
            "ms",
            Better::Lower,
            pick(|r| r.max_ms),
        ));
        c.measurements.push(
            Measurement::new(
                &name("input_rate"),
                "records/s",
                Better::Higher,
                pick(|r| r.achieved_rate),
            )
            .note("achieved while probing"),
        );
        c.measurements.push(
            Measurement::new(
                &name("acked_p99_ms"),
                "ms",
                Better::Lower,
                pick(|r| r.acked_p99_ms),
            )
            .note("probe send to broker acknowledgement: the producer's and broker's share"),
        );
    }
}

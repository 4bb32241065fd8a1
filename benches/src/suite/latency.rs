//! Latency in the suite: the detector runs unbounded under a paced load
//! with probes, once per delivery mode and run.

use super::{progress, Collected, Suite, P99_TARGET_MS};
use crate::corpus::Corpus;
use crate::detector::{stop_child, Mode, RunTopics};
use crate::latency::{self, LatencyRun, Load, Settings};
use crate::report::{human, Better, Measurement};
use std::path::Path;

impl Suite<'_> {
    /// e. Latency, per delivery mode at the target rate, then exactly-once
    /// at the extra rates, with the detector running unbounded.
    pub(super) fn latency(&self, paced: &Path, c: &mut Collected) -> anyhow::Result<()> {
        let rules = nvm_detector::rule::RuleSet::load(&self.detector.rules)?;
        let load = Load::from_corpus(Corpus::load(paced)?, &rules);
        let target = &self.sizes.latency;
        let mut points: Vec<(String, Option<String>, Settings)> = self
            .modes()
            .into_iter()
            .map(|(mode, delivery)| (mode, delivery, target.clone()))
            .collect();
        if let Some((_, delivery, _)) = points.iter().find(|(m, _, _)| m == "exactly-once") {
            let delivery = delivery.clone();
            for &rate in &self.sizes.latency_extra_rates {
                let settings = Settings {
                    rate,
                    probe_every: (rate / 100).max(20),
                    ..target.clone()
                };
                let name = format!("exactly-once.at_{rate}rps");
                points.push((name, delivery.clone(), settings));
            }
        }
        for (name, delivery, settings) in points {
            let mut runs = Vec::new();
            for k in 1..=self.sizes.runs {
                let run = self.latency_run(&load, &name, delivery.as_deref(), &settings, k)?;
                progress(&format!(
                    "latency {name} run {k}/{}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms \
                     ({} of {} probes, {} records/s in, {} records/s processed)",
                    self.sizes.runs,
                    run.p50_ms,
                    run.p99_ms,
                    run.max_ms,
                    run.probes_seen,
                    run.probes_sent,
                    human(run.achieved_rate),
                    run.processed_rate.map_or("n/a".into(), human),
                ));
                runs.push(run);
            }
            self.latency_measurements(&name, &settings, &runs, c);
        }
        Ok(())
    }

    fn latency_run(
        &self,
        load: &Load,
        name: &str,
        delivery: Option<&str>,
        settings: &Settings,
        k: usize,
    ) -> anyhow::Result<LatencyRun> {
        let prefix = self.name(&format!("lat-{name}-{k}"));
        let topics = RunTopics::named(&format!("{prefix}.flows"), &prefix);
        self.kafka.create_topics(&[
            (&topics.input, self.sizes.input_partitions),
            (&topics.alerts, 3),
            (&topics.dlq, 1),
            (&topics.late, 1),
        ])?;
        let log = self.logs.join(format!("latency-{name}-{k}.log"));
        let mode = Mode {
            delivery,
            commit_interval_ms: None,
        };
        let mut child = self.detector.start(&topics, &prefix, mode, &log)?;
        let io = (topics.input.as_str(), topics.alerts.as_str());
        let run = latency::run(&self.kafka, io, &prefix, load, settings);
        stop_child(&mut child);
        run
    }

    fn latency_measurements(
        &self,
        point: &str,
        s: &Settings,
        runs: &[LatencyRun],
        c: &mut Collected,
    ) {
        let pick = |f: fn(&LatencyRun) -> f64| -> Vec<f64> { runs.iter().map(f).collect() };
        let name = |what: &str| format!("latency.{point}.{what}");
        let stated = format!(
            "input rate {} records/s (1 in {} a probe), {} s measured after {} s of load",
            s.rate, s.probe_every, s.measure_secs, s.warmup_secs
        );
        let sent: u64 = runs.iter().map(|r| r.probes_sent).sum();
        let missing: u64 = runs.iter().map(|r| r.probes_sent - r.probes_seen).sum();
        let p50 = Measurement::new(&name("p50_ms"), "ms", Better::Lower, pick(|r| r.p50_ms));
        c.measurements.push(p50.note(stated));
        let mut p99 = Measurement::new(&name("p99_ms"), "ms", Better::Lower, pick(|r| r.p99_ms));
        if s.rate == self.sizes.latency.rate {
            p99 = p99.below(P99_TARGET_MS);
        }
        if missing > 0 {
            p99 = p99.note(format!(
                "LOWER BOUND: {missing} of {sent} probes had no alert {} s after the load \
                 ended and are not in the percentiles",
                latency::STRAGGLERS_SECS
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
            .note("produced while probing"),
        );
        let processed: Vec<f64> = runs.iter().filter_map(|r| r.processed_rate).collect();
        if !processed.is_empty() {
            c.measurements.push(
                Measurement::new(
                    &name("processed_rate"),
                    "records/s",
                    Better::Higher,
                    processed,
                )
                .note("input records the detector committed per second of load"),
            );
        }
        let split = [
            (
                "to_alert_produced_p50_ms",
                "send to the detector producing the alert (consume and process)",
                pick(|r| r.produced_p50_ms),
            ),
            ("to_alert_produced_p99_ms", "", pick(|r| r.produced_p99_ms)),
            (
                "alert_to_readable_p50_ms",
                "alert produced to readable with read_committed (the commit)",
                pick(|r| r.readable_after_produced_p50_ms),
            ),
            (
                "alert_to_readable_p99_ms",
                "",
                pick(|r| r.readable_after_produced_p99_ms),
            ),
        ];
        for (what, note, runs) in split {
            let m = Measurement::new(&name(what), "ms", Better::Lower, runs);
            c.measurements
                .push(if note.is_empty() { m } else { m.note(note) });
        }
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

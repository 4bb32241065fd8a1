//! The Kafka Streams peer in the suite: its rows are checked against
//! `nvm-detector scan` on a sample first, then its speed is measured on
//! the topic the detector read. Differing rows void the comparison.

use super::{progress, Collected, Suite, PEER_MULTIPLE_TARGET};
use crate::corpus::Corpus;
use crate::kafka::{check_delivered, record, send};
use crate::peer;
use crate::report::{human, Better, Check, Measurement};
use anyhow::Context as _;
use rdkafka::producer::Producer;
use serde_json::json;
use std::path::Path;
use std::time::Duration;

impl Suite<'_> {
    /// d. The Kafka Streams peer: same rows first, then speed.
    pub(super) fn streams_peer(
        &self,
        topic: &str,
        sample: &Path,
        c: &mut Collected,
    ) -> anyhow::Result<()> {
        if !self.peer.is_built() {
            c.unavailable(
                "peer",
                "benches/streams-peer is not built (mvn -f benches/streams-peer/pom.xml package)",
            );
            return Ok(());
        }
        let equivalent = self.peer_equivalence(sample, c)?;

        let mut rates = Vec::new();
        let mut whole = Vec::new();
        for k in 1..=self.sizes.runs {
            let app = self.name(&format!("peer{k}"));
            let output = self.name(&format!("peer{k}.rows"));
            self.kafka.create_kept_topics(&[(&output, 1)])?;
            let run = self.peer.run(&peer::RunSpec {
                input: topic,
                output: &output,
                app_id: &app,
                expect: self.sizes.topic_records,
                linger: Duration::ZERO,
                state_dir: &self.logs.join(format!("peer{k}-state")),
                log: &self.logs.join(format!("peer{k}.log")),
            })?;
            let records = self.sizes.topic_records as f64;
            let rate = records / run.steady_secs().unwrap_or(run.secs);
            progress(&format!(
                "kafka streams peer run {k}/{}: {} records/s",
                self.sizes.runs,
                human(rate)
            ));
            rates.push(rate);
            whole.push(records / run.secs);
        }
        let mut note = format!(
            "Kafka Streams {}, exactly_once_v2, {} stream threads; \
             from first RUNNING to the last record through the filter",
            peer::KAFKA_STREAMS_VERSION,
            self.sizes.peer_threads
        );
        if !equivalent {
            note = format!("VOID (rows differ from scan): {note}");
        }
        c.measurements.push(
            Measurement::new("peer.records_per_sec", "records/s", Better::Higher, rates).note(note),
        );
        c.measurements.push(
            Measurement::new(
                "peer.spawn_to_exit_records_per_sec",
                "records/s",
                Better::Higher,
                whole,
            )
            .note("from JVM spawn to exit (startup, rebalance, close)"),
        );
        for variant in self.variants() {
            let caveat = if equivalent {
                variant.caveat()
            } else {
                Some("VOID: the peer's rows differ from scan's".to_owned())
            };
            c.ratio(
                &format!("detector.e2e.{}.records_per_sec", variant.name),
                "peer.records_per_sec",
                PEER_MULTIPLE_TARGET,
                caveat,
            );
        }
        Ok(())
    }

    /// Runs the peer over the sample (one partition, so that stream time is
    /// the scan's) and compares its rows with `nvm-detector scan`'s.
    fn peer_equivalence(&self, sample: &Path, c: &mut Collected) -> anyhow::Result<bool> {
        let input = self.name("sample");
        let output = self.name("sample.rows");
        self.kafka.create_topics(&[(&input, 1)])?;
        self.kafka.create_kept_topics(&[(&output, 1)])?;
        let records = crate::kafka::keyed_records(sample)?;
        crate::kafka::produce_all(&self.kafka, &input, &records)?;
        let lines = records.len() as u64;
        let closing = closing_line(&Corpus::load(sample)?);
        let producer = self.kafka.producer(0)?;
        send(&producer, record(&input).partition(0).payload(&closing))?;
        producer.flush(Duration::from_secs(30))?;
        check_delivered(&producer)?;

        let run = self.peer.run(&peer::RunSpec {
            input: &input,
            output: &output,
            app_id: &self.name("peer-sample"),
            expect: lines + 1,
            linger: Duration::from_secs(5),
            state_dir: &self.logs.join("peer-sample-state"),
            log: &self.logs.join("peer-sample.log"),
        })?;
        let peer_rows: Vec<serde_json::Value> = self
            .kafka
            .read_all(&output, Duration::from_secs(2))?
            .iter()
            .map(|p| serde_json::from_slice(p))
            .collect::<Result<_, _>>()
            .context("reading the peer's rows")?;
        let scan_rows = self.detector.scan_results(sample)?;
        let result = peer::compare(&scan_rows, &peer_rows);
        let identical = result.identical && result.detector_rows > 0;
        if identical {
            progress(&format!(
                "peer check: {} rows, identical to nvm-detector scan",
                result.detector_rows
            ));
        } else {
            eprintln!(
                "\nnvm-bench: THE PEER COMPARISON IS VOID: the Kafka Streams peer's rows differ \
                 from nvm-detector scan's ({} vs {} rows)\nonly scan: {:#?}\nonly peer: {:#?}\n",
                result.detector_rows, result.peer_rows, result.only_detector, result.only_peer
            );
        }
        c.checks.push(Check {
            name: "peer_rows_equal_scan_rows".into(),
            passed: identical,
            detail: json!({
                "sample_records": lines,
                "peer_records": run.records,
                "peer_invalid": run.invalid,
                "comparison": result,
            }),
        });
        Ok(identical)
    }
}

/// A record no rule matches, a day after the latest event of `corpus`:
/// produced to a partition, it moves stream time past every window the
/// partition has open, so that they close.
pub fn closing_line(corpus: &Corpus) -> Vec<u8> {
    let latest = corpus
        .iter()
        .filter_map(|l| nvm_detector::decode::decode(l, &Default::default()).ok())
        .map(|r| r.time_ms())
        .max()
        .unwrap_or(0);
    let ms = latest + 86_400_000;
    json!({
        "fv": "nvzFlow_v11", "pr": "17", "sa": "192.0.2.10", "sp": "53000",
        "da": "192.0.2.53", "dp": "53", "fss": (ms / 1000).to_string(), "fsms": ms.to_string(),
        "pn": "dns-closing-probe", "pid": "1",
    })
    .to_string()
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closing_line_is_a_day_after_the_latest_record_and_matches_no_rule() {
        let corpus = Corpus::from_bytes(
            br#"{"fv":"nvzFlow_v11","sa":"10.0.0.1","fsms":"1000","pn":"a.exe"}
{"fv":"nvzFlow_v11","sa":"10.0.0.2","fsms":"5000","pn":"b.exe"}"#
                .to_vec(),
        );
        let line = closing_line(&corpus);
        let record = nvm_detector::decode::decode(&line, &Default::default()).unwrap();
        assert_eq!(record.time_ms(), 5000 + 86_400_000);
        let rules_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
        let rules = nvm_detector::rule::RuleSet::load(&rules_dir).unwrap();
        assert!(rules
            .rules()
            .iter()
            .all(|r| !r.plan.filter.matches(&record)));
    }
}

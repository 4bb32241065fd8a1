//! Keeps the offline half of the suite working without a broker: a small
//! generated corpus through the engine pass, and the results document
//! written and read back. Nothing here looks at a timing.

use nvm_benches::corpus::{self, Encoding, Spec};
use nvm_benches::offline;
use nvm_benches::report::{Better, Measurement, Results, FORMAT};
use std::path::Path;

fn rules_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules")
}

#[test]
fn an_engine_pass_counts_every_generated_record_of_each_encoding() {
    let config = offline::stream_config(&rules_dir()).unwrap();
    for (encoding, seed) in [(Encoding::Json, 1), (Encoding::Kv, 2)] {
        let spec = Spec {
            encoding,
            records: 1500,
            seed,
            rclone_sessions: None,
        };
        let corpus = corpus::in_memory(&spec).unwrap();
        let run = offline::run(&config, &corpus, false);
        assert_eq!(run.records, 1500);
        assert_eq!(run.dead_lettered, 0, "generated records all decode");
        assert!(run.matched > 0, "the realistic mix holds some rclone");
        assert!(run.alerts > 0);
        assert!(run.bytes > 0);
        assert!(run.allocations_per_record.is_none(), "counting was off");
    }
}

#[test]
fn results_are_written_twice_and_read_back_with_their_format() {
    let dir = std::env::temp_dir().join(format!("nvm-benches-results-{}", std::process::id()));
    let results = Results {
        format: FORMAT,
        machine: nvm_benches::machine::describe(Path::new(env!("CARGO_MANIFEST_DIR"))),
        settings: serde_json::json!({ "smoke": true }),
        measurements: vec![Measurement::new(
            "x.records_per_sec",
            "records/s",
            Better::Higher,
            vec![3.0, 1.0],
        )
        .at_least(2.0)],
        ratios: vec![],
        checks: vec![],
        unavailable: vec![],
        suite_secs: 1.0,
    };
    let path = results.write_to(&dir).unwrap();
    let stamped: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let latest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("latest.json")).unwrap()).unwrap();
    assert_eq!(stamped, latest);
    assert_eq!(stamped["format"], FORMAT);
    assert_eq!(stamped["measurements"][0]["median"], 2.0);
    assert_eq!(stamped["measurements"][0]["target"]["met"], true);
    assert!(results.table().contains("x.records_per_sec"));
    std::fs::remove_dir_all(&dir).unwrap();
}

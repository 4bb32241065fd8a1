//! Every alert the engine emits (new, update, final) fits the published
//! schemas: JSON Schema for the JSON documents, and Avro, by encoding and
//! decoding each document with `schemas/alert.avsc`.

mod common;

use common::{flow, repo, T0};
use nvm_detector::alert::Alert;
use nvm_detector::engine::{EngineConfig, PartitionEngine};
use nvm_detector::window::WindowConfig;
use serde_json::Value;
use std::sync::Arc;

/// Alerts of every status: updates are let through on every record.
fn alerts() -> Vec<Alert> {
    let config = EngineConfig {
        rules: Arc::new(common::bundled_rules()),
        decode: Default::default(),
        windows: WindowConfig {
            update_interval_ms: 0,
            ..WindowConfig::default()
        },
    };
    let mut engine = PartitionEngine::new(config);
    let mut out = vec![];
    let lines = [
        flow(
            T0,
            "10.0.0.1",
            "rclone.exe",
            r"copy \\fs\x mega:y",
            "443",
            &[],
        ),
        flow(
            T0 + 1,
            "10.0.0.1",
            "rclone.exe",
            r"copy \\fs\x mega:y",
            "80",
            &[("aliul", "CORP\\svc")],
        ),
        flow(
            T0 + 2,
            "10.0.0.2",
            "rclone.exe",
            "lsd remote:",
            "443",
            &[("mnl", "a.dll"), ("dh", "")],
        ),
    ];
    for line in &lines {
        engine.on_message(line.as_bytes(), 0, &mut out);
    }
    engine.close_all(&mut out);
    out
}

fn schema(name: &str) -> String {
    std::fs::read_to_string(repo().join("schemas").join(name)).unwrap()
}

#[test]
fn alerts_of_every_status_validate_against_the_json_schema() {
    let schema: Value = serde_json::from_str(&schema("alert.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let alerts = alerts();
    let statuses: std::collections::BTreeSet<&str> = alerts
        .iter()
        .map(|a| a.document["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        ["final", "new", "update"]
    );
    for alert in &alerts {
        let errors: Vec<String> = validator
            .iter_errors(&alert.document)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{errors:?}\n{}", alert.document);
    }
}

#[test]
fn the_json_schema_rejects_a_document_that_breaks_it() {
    let schema: Value = serde_json::from_str(&schema("alert.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut doc = alerts().remove(0).document;
    doc["status"] = "closed".into();
    assert!(!validator.is_valid(&doc));
}

#[test]
fn alerts_round_trip_through_the_avro_schema() {
    let schema = apache_avro::Schema::parse_str(&schema("alert.avsc")).unwrap();
    for alert in alerts() {
        let value = apache_avro::types::Value::from(alert.document.clone())
            .resolve(&schema)
            .unwrap_or_else(|e| panic!("{e}\n{}", alert.document));
        let bytes = apache_avro::to_avro_datum(&schema, value).unwrap();
        let back = apache_avro::from_avro_datum(&schema, &mut bytes.as_slice(), None).unwrap();
        let apache_avro::types::Value::Record(fields) = back else {
            panic!("not a record")
        };
        let id = fields
            .iter()
            .find(|(n, _)| n == "alert_id")
            .map(|(_, v)| v.clone());
        let expected = alert.id;
        assert!(
            matches!(id, Some(apache_avro::types::Value::Uuid(u)) if u == expected)
                || matches!(id, Some(apache_avro::types::Value::String(ref s)) if *s == expected.to_string()),
            "{id:?}"
        );
    }
}

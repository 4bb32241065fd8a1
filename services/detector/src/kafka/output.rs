//! What the shell writes besides alerts: dead-letter and late records, with
//! headers that say why and where each came from.

use crate::alert::Alert;
use crate::decode::DecodeError;
use rdkafka::message::{Header, OwnedHeaders};

/// Header names, in one place.
pub mod header {
    pub const DLQ_REASON: &str = "nvm.dlq.reason";
    pub const DLQ_ERROR: &str = "nvm.dlq.error";
    pub const SOURCE_TOPIC: &str = "nvm.source.topic";
    pub const SOURCE_PARTITION: &str = "nvm.source.partition";
    pub const SOURCE_OFFSET: &str = "nvm.source.offset";
    pub const LATE_EVENT_TIME: &str = "nvm.late.event_time";
    pub const LATE_WATERMARK: &str = "nvm.late.watermark";
    pub const ALERT_STATUS: &str = "nvm.alert.status";
    pub const RULE_ID: &str = "nvm.rule.id";
}

/// Where an input message came from.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
}

/// Headers naming only where a message came from (repartitioned records).
pub fn source_headers(source: &Source<'_>) -> OwnedHeaders {
    with_source(OwnedHeaders::new_with_capacity(3), source)
}

fn with_source(headers: OwnedHeaders, source: &Source<'_>) -> OwnedHeaders {
    headers
        .insert(text(header::SOURCE_TOPIC, source.topic))
        .insert(text(
            header::SOURCE_PARTITION,
            &source.partition.to_string(),
        ))
        .insert(text(header::SOURCE_OFFSET, &source.offset.to_string()))
}

fn text<'a>(key: &'a str, value: &'a str) -> Header<'a, &'a str> {
    Header {
        key,
        value: Some(value),
    }
}

/// Headers of a dead-lettered message.
pub fn dead_letter_headers(error: &DecodeError, source: &Source<'_>) -> OwnedHeaders {
    let headers = OwnedHeaders::new_with_capacity(5)
        .insert(text(header::DLQ_REASON, error.code()))
        .insert(text(header::DLQ_ERROR, &error.to_string()));
    with_source(headers, source)
}

/// Headers of a late record.
pub fn late_headers(time_ms: i64, watermark_ms: Option<i64>, source: &Source<'_>) -> OwnedHeaders {
    let watermark = watermark_ms.map_or_else(String::new, crate::alert::rfc3339);
    let headers = OwnedHeaders::new_with_capacity(5)
        .insert(text(
            header::LATE_EVENT_TIME,
            &crate::alert::rfc3339(time_ms),
        ))
        .insert(text(header::LATE_WATERMARK, &watermark));
    with_source(headers, source)
}

/// Headers of an alert: its status and rule, so consumers can route without
/// parsing the document.
pub fn alert_headers(alert: &Alert) -> OwnedHeaders {
    let status = serde_json::to_value(alert.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let rule = alert.document["rule"]["id"].as_str().unwrap_or_default();
    OwnedHeaders::new_with_capacity(2)
        .insert(text(header::ALERT_STATUS, &status))
        .insert(text(header::RULE_ID, rule))
}

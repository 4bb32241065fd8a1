//! Alert documents: what SIEM and SOAR consumers read from the alerts topic.
//!
//! An alert's id is a name-based UUID (v5) of the rule id, the window start
//! and the group key, so the same input always yields the same id: a replay,
//! restart or rebalance re-emits an id the consumer already has, and the
//! consumer upserts instead of opening a second incident.

use crate::rule::{Rule, RuleSet};
use crate::stats::{apply_row_commands, stats_row, Row, RowValue};
use crate::window::{Emission, GroupId, Status};
use chrono::{DateTime, SecondsFormat};
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// Version of the alert document layout; bumped on incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Namespace of alert ids (fixed forever: changing it changes every id).
const ALERT_NAMESPACE: Uuid = Uuid::from_u128(0x8a1c_54e2_3f0b_4c6d_9e27_5b1d_0c4a_7f39);

/// The stable id of a group's alert.
pub fn alert_id(group: &GroupId) -> Uuid {
    // Length-prefixed parts keep the name unambiguous whatever the values hold.
    let mut name = String::with_capacity(128);
    let mut push = |part: &str| {
        name.push_str(&part.len().to_string());
        name.push(':');
        name.push_str(part);
    };
    push(&group.rule_id);
    push(&group.window_start_ms.to_string());
    for value in &group.key {
        push(value);
    }
    Uuid::new_v5(&ALERT_NAMESPACE, name.as_bytes())
}

/// An alert ready to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub id: Uuid,
    pub status: Status,
    pub document: Value,
}

/// Renders an emission; `None` when the rule's row commands (its `_filter`
/// macro, say) drop the row.
pub fn render(rules: &RuleSet, emission: &Emission) -> Option<Alert> {
    let rule = &rules.rules()[emission.rule];
    let stats = stats_row(&rule.plan.stats, &emission.group.key, &emission.agg);
    let row = apply_row_commands(&rule.plan.post, stats.clone())?;
    let id = alert_id(&emission.group);

    let mut doc = Map::new();
    doc.insert("schema_version".into(), json!(SCHEMA_VERSION));
    doc.insert("alert_id".into(), json!(id.to_string()));
    doc.insert("status".into(), json!(emission.status));
    doc.insert("rule".into(), rule_json(rule));
    doc.insert(
        "window".into(),
        json!({
            "start": rfc3339(emission.group.window_start_ms),
            "end": rfc3339(emission.window_end_ms),
        }),
    );
    doc.insert("group".into(), group_json(rule, &emission.group));
    doc.insert("count".into(), json!(emission.agg.events));
    doc.insert("risk".into(), risk_json(rule, &row, &stats));
    doc.insert("message".into(), json!(message(rule, &row, &stats)));
    doc.insert("result".into(), row_json(&row));
    Some(Alert {
        id,
        status: emission.status,
        document: Value::Object(doc),
    })
}

fn rule_json(rule: &Rule) -> Value {
    let meta = &rule.meta;
    json!({
        "id": meta.id,
        "name": meta.name,
        "version": meta.version,
        "type": meta.kind,
        "mitre_attack_id": meta.tags.mitre_attack_id,
    })
}

fn group_json(rule: &Rule, group: &GroupId) -> Value {
    let fields = rule.plan.stats.by.iter().zip(&group.key);
    Value::Object(fields.map(|(f, v)| (f.clone(), json!(v))).collect())
}

fn risk_json(rule: &Rule, row: &Row, stats: &Row) -> Value {
    let Some(rba) = &rule.meta.rba else {
        return Value::Null;
    };
    let objects: Vec<Value> = rba
        .risk_objects
        .iter()
        .map(|o| {
            json!({
                "field": o.field,
                "value": field_text(row, stats, &o.field),
                "type": o.kind,
                "score": o.score,
            })
        })
        .collect();
    let threats: Vec<Value> = rba
        .threat_objects
        .iter()
        .map(|t| json!({"field": t.field, "type": t.kind, "values": field_values(row, stats, &t.field)}))
        .collect();
    let score = rba.risk_objects.iter().map(|o| o.score).max().unwrap_or(0);
    json!({ "score": score, "objects": objects, "threat_objects": threats })
}

/// Values of a field from the output row, else from the stats row.
fn field_values(row: &Row, stats: &Row, field: &str) -> Vec<String> {
    match row.get(field) {
        Some(_) => row.texts(field),
        None => stats.texts(field),
    }
}

fn field_text(row: &Row, stats: &Row, field: &str) -> String {
    field_values(row, stats, field).join(", ")
}

/// Substitutes `$field$` in the risk message; multivalue fields are joined
/// with ", ", an absent field renders empty.
fn message(rule: &Rule, row: &Row, stats: &Row) -> String {
    let Some(rba) = &rule.meta.rba else {
        return rule.meta.name.clone();
    };
    let mut out = String::with_capacity(rba.message.len() + 64);
    let mut parts = rba.message.split('$');
    out.push_str(parts.next().unwrap_or(""));
    let mut in_field = true;
    for part in parts {
        if in_field {
            out.push_str(&field_text(row, stats, part));
        } else {
            out.push_str(part);
        }
        in_field = !in_field;
    }
    out
}

fn row_json(row: &Row) -> Value {
    let columns = row.columns.iter().map(|(name, value)| {
        let value = match value {
            RowValue::Null => Value::Null,
            RowValue::Text(t) => json!(t),
            RowValue::Number(n) if n.fract() == 0.0 && n.abs() < 9e15 => json!(*n as i64),
            RowValue::Number(n) => json!(n),
            RowValue::Multi(vs) => json!(vs),
        };
        (name.clone(), value)
    });
    Value::Object(columns.collect())
}

/// Epoch milliseconds as RFC 3339 UTC (`2026-07-14T08:00:00Z`).
pub fn rfc3339(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| ms.to_string())
}

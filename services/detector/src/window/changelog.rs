//! The changelog codec: how window state changes are written to (and read
//! back from) a compacted Kafka topic.
//!
//! Keys identify what changed and never change format, because compaction
//! keeps the latest value per key bytes: `["g", window_start_ms, rule_id,
//! [by values…]]` for a group, `["m"]` for the partition's meta record.
//! Values are JSON objects carrying a format version `v`; a closed window's
//! group is a tombstone (no value). A reader accepts every version up to its
//! own and refuses newer ones rather than misreading them.

use super::{Change, GroupId, GroupState, Meta};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The value format this build writes.
pub const FORMAT_VERSION: u64 = 1;

/// A changelog record that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangelogError {
    #[error("changelog key is not a state key: {0}")]
    BadKey(String),
    #[error("changelog value is malformed: {0}")]
    BadValue(String),
    #[error("changelog value has format version {found}; this build reads up to {FORMAT_VERSION}")]
    NewerFormat { found: u64 },
    #[error("the meta record cannot be deleted")]
    MetaTombstone,
}

#[derive(Serialize, Deserialize)]
struct GroupValue {
    v: u64,
    state: GroupState,
}

#[derive(Serialize, Deserialize)]
struct MetaValue {
    v: u64,
    meta: Meta,
}

/// Encodes a change as a record key and value (`None`: tombstone).
pub fn encode(change: &Change) -> (Vec<u8>, Option<Vec<u8>>) {
    match change {
        Change::Group(group, state) => {
            let key = json!(["g", group.window_start_ms, group.rule_id, group.key]);
            let value = state.as_ref().map(|state| {
                let value = GroupValue {
                    v: FORMAT_VERSION,
                    state: state.clone(),
                };
                serde_json::to_vec(&value).expect("state serialises")
            });
            (key.to_string().into_bytes(), value)
        }
        Change::Meta(meta) => {
            let value = MetaValue {
                v: FORMAT_VERSION,
                meta: *meta,
            };
            let bytes = serde_json::to_vec(&value).expect("meta serialises");
            (b"[\"m\"]".to_vec(), Some(bytes))
        }
    }
}

/// Decodes a record read back from the changelog.
///
/// # Errors
/// A key or value this build cannot read, including a newer format.
pub fn decode(key: &[u8], value: Option<&[u8]>) -> Result<Change, ChangelogError> {
    let key: Value =
        serde_json::from_slice(key).map_err(|e| ChangelogError::BadKey(e.to_string()))?;
    let bad_key = || ChangelogError::BadKey(key.to_string());
    let parts = key.as_array().ok_or_else(bad_key)?;
    match parts.first().and_then(Value::as_str) {
        Some("m") => {
            let value = value.ok_or(ChangelogError::MetaTombstone)?;
            let meta: MetaValue = versioned(value)?;
            Ok(Change::Meta(meta.meta))
        }
        Some("g") if parts.len() == 4 => {
            let group = GroupId {
                window_start_ms: parts[1].as_i64().ok_or_else(bad_key)?,
                rule_id: parts[2].as_str().ok_or_else(bad_key)?.to_owned(),
                key: serde_json::from_value(parts[3].clone()).map_err(|_| bad_key())?,
            };
            let state = match value {
                None => None,
                Some(bytes) => Some(versioned::<GroupValue>(bytes)?.state),
            };
            Ok(Change::Group(group, state))
        }
        _ => Err(bad_key()),
    }
}

/// Parses a value after checking its format version.
fn versioned<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ChangelogError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| ChangelogError::BadValue(e.to_string()))?;
    let version = value
        .get("v")
        .and_then(Value::as_u64)
        .ok_or_else(|| ChangelogError::BadValue("no format version `v`".into()))?;
    if version > FORMAT_VERSION {
        return Err(ChangelogError::NewerFormat { found: version });
    }
    serde_json::from_value(value).map_err(|e| ChangelogError::BadValue(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Aggregate, Cell};

    fn group() -> GroupId {
        GroupId {
            window_start_ms: 1_784_016_000_000,
            rule_id: "r1".into(),
            key: vec!["10.0.0.1".into(), r"C:\x y\z.exe".into()],
        }
    }

    fn state() -> GroupState {
        GroupState {
            agg: Aggregate {
                events: 3,
                cells: vec![
                    Cell::Count(3),
                    Cell::Extreme {
                        num: Some(1_784_016_001.25),
                        text: None,
                    },
                    Cell::Values(["443".to_owned(), "80".to_owned()].into()),
                ],
            },
            last_emit_ms: 42,
            pending: true,
        }
    }

    #[test]
    fn groups_and_meta_round_trip() {
        let changes = [
            Change::Group(group(), Some(state())),
            Change::Group(group(), None),
            Change::Meta(Meta {
                window_ms: 3_600_000,
                max_event_ms: Some(5),
                watermark_ms: Some(7),
            }),
        ];
        for change in changes {
            let (key, value) = encode(&change);
            assert_eq!(decode(&key, value.as_deref()), Ok(change));
        }
    }

    #[test]
    fn a_group_keeps_one_key_whatever_its_state() {
        let (a, _) = encode(&Change::Group(group(), Some(state())));
        let (b, none) = encode(&Change::Group(group(), None));
        assert_eq!(a, b, "compaction needs identical key bytes");
        assert!(none.is_none(), "closed windows are tombstones");
    }

    #[test]
    fn reads_older_values_without_the_newer_fields() {
        // Version 1 values written before `pending` existed.
        let value =
            br#"{"v":1,"state":{"agg":{"events":1,"cells":[{"Count":1}]},"last_emit_ms":9}}"#;
        let (key, _) = encode(&Change::Group(group(), None));
        let Change::Group(_, Some(state)) = decode(&key, Some(value)).unwrap() else {
            panic!("expected a group")
        };
        assert!(!state.pending);
    }

    #[test]
    fn refuses_values_from_a_newer_format() {
        let (key, _) = encode(&Change::Group(group(), None));
        let err = decode(&key, Some(br#"{"v":2,"state":{}}"#)).unwrap_err();
        assert_eq!(err, ChangelogError::NewerFormat { found: 2 });
        assert!(matches!(
            decode(b"[\"x\"]", None),
            Err(ChangelogError::BadKey(_))
        ));
    }
}

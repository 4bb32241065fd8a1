//! The flat JSON encoding: `{"fv":"nvzFlow_v11","pr":"6",…}`.
//!
//! Values are strings in practice; numbers and booleans are accepted as their
//! text, arrays of scalars become multivalue fields, `null` and empty strings
//! mean absent. A nested object is not NVM and is rejected.

use super::{DecodeError, RawField};
use crate::record::Value;
use serde_json::Value as Json;

pub(super) fn fields(text: &str) -> Result<Vec<RawField>, DecodeError> {
    let Entries(object) =
        serde_json::from_str(text).map_err(|e| DecodeError::Json(e.to_string()))?;

    let mut fields = Vec::with_capacity(object.len());
    for (key, value) in object {
        if let Some(value) = field_value(&key, value)? {
            fields.push((key, value));
        }
    }
    Ok(fields)
}

/// An object's members in order, repeated keys included: a repeated key
/// is a multivalue field, as Splunk reads it, not an overwrite that would
/// let a later value hide an earlier one.
struct Entries(Vec<(String, Json)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Entries, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(64));
                while let Some(entry) = map.next_entry::<String, Json>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

fn field_value(key: &str, value: Json) -> Result<Option<Value>, DecodeError> {
    let value = match value {
        Json::Array(items) => {
            let mut values = Vec::with_capacity(items.len());
            for item in items {
                if let Some(text) = scalar_text(key, item)? {
                    values.push(text);
                }
            }
            match values.len() {
                0 => None,
                1 => values.pop().map(Value::One),
                _ => Some(Value::Many(values)),
            }
        }
        other => scalar_text(key, other)?.map(Value::One),
    };
    Ok(value)
}

fn scalar_text(key: &str, value: Json) -> Result<Option<String>, DecodeError> {
    let text = match value {
        Json::Null => return Ok(None),
        Json::String(s) => s,
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::Array(_) | Json::Object(_) => {
            return Err(DecodeError::NestedJson {
                field: key.to_owned(),
            })
        }
    };
    Ok(super::kv::present(text))
}

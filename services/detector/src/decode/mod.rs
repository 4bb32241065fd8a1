//! Bytes in, a normalised [`Record`] out, or a typed reason it could not be.
//!
//! The encoding is detected per message: a flat JSON object (newer NVM
//! collectors) or `key="value"` pairs behind syslog headers (older ones).
//! Nothing here knows about Kafka; a [`DecodeError`] becomes a dead-letter
//! record in the shell and a stderr line in `scan`.

mod bytes;
mod json;
mod json_scan;
mod keep;
mod kv;
mod normalise;
mod raw;

use crate::record::{Encoding, Record};
use std::sync::Arc;

pub use keep::KeptFields;
pub use normalise::{cim_name, transport_name};

/// Messages larger than this are dead-lettered unread. The largest real NVM
/// records (long command lines, module lists) are a few KiB; 64 KiB leaves a
/// wide margin while bounding what one hostile message can cost.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 64 * 1024;

/// Why a message is not a usable NVM flow record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("record of {size} bytes exceeds the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    #[error("empty message")]
    Empty,
    #[error("message is not valid UTF-8 (first bad byte at {offset})")]
    NotUtf8 { offset: usize },
    #[error("malformed JSON: {0}")]
    Json(String),
    #[error("JSON value of field `{field}` is an object; NVM records are flat")]
    NestedJson { field: String },
    #[error("no key=value pairs found")]
    NoFields,
    #[error("malformed key=value text at byte {offset}: {what}")]
    KeyValue { offset: usize, what: &'static str },
    #[error("not an NVM flow record: no `fv` (flow version) field")]
    NotNvm,
    #[error("field `{field}` must be a whole number of {unit}, got {value:?}")]
    BadTime {
        field: &'static str,
        unit: &'static str,
        value: String,
    },
    #[error("record has no event time (neither `fsms` nor `fss`)")]
    MissingTime,
}

impl DecodeError {
    /// A short, stable code for headers and metric labels.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::TooLarge { .. } => "too_large",
            DecodeError::Empty => "empty",
            DecodeError::NotUtf8 { .. } => "not_utf8",
            DecodeError::Json(_) => "bad_json",
            DecodeError::NestedJson { .. } => "nested_json",
            DecodeError::NoFields => "no_fields",
            DecodeError::KeyValue { .. } => "bad_key_value",
            DecodeError::NotNvm => "not_nvm",
            DecodeError::BadTime { .. } => "bad_time",
            DecodeError::MissingTime => "missing_time",
        }
    }
}

/// Decoding limits, and which fields records keep.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    pub max_record_bytes: usize,
    pub keep: Keep,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            keep: Keep::All,
        }
    }
}

/// Which fields a decoded record holds. Both give the same dead-letter
/// reasons and, for every kept name, the same values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Keep {
    /// Every native key, its normalised names and the derived fields:
    /// for tests, inspection and tools that print records.
    #[default]
    All,
    /// Only these names; the engine keeps what its rules read.
    Only(Arc<KeptFields>),
}

impl Keep {
    /// Keeps only `names`.
    pub fn only<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Keep {
        Keep::Only(Arc::new(KeptFields::new(names)))
    }

    /// Also keeps `name` (a no-op when everything is kept).
    pub fn and(self, name: &str) -> Keep {
        match self {
            Keep::All => Keep::All,
            Keep::Only(kept) => {
                let names = kept.names().iter().map(String::as_str);
                Keep::only(names.chain([name]))
            }
        }
    }
}

/// A raw field as decoded, before normalisation: a native key and its
/// values, with absent markers (`''`, `'`, empty) already removed.
pub(crate) type RawField = (String, crate::record::Value);

/// Decodes one message of either encoding into a normalised record.
///
/// # Errors
/// Returns the first reason the message is not a usable flow record.
pub fn decode(bytes: &[u8], options: &DecodeOptions) -> Result<Record, DecodeError> {
    if bytes.len() > options.max_record_bytes {
        return Err(DecodeError::TooLarge {
            size: bytes.len(),
            limit: options.max_record_bytes,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| DecodeError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if text.is_empty() {
        return Err(DecodeError::Empty);
    }

    let Keep::Only(kept) = &options.keep else {
        return decode_all(text);
    };
    if let Some(record) = keep::decode(text, kept) {
        return Ok(record);
    }
    let mut record = decode_all(text)?;
    record.retain(|name| kept.keeps(name));
    Ok(record)
}

/// Decodes every field of trimmed, non-empty text.
fn decode_all(text: &str) -> Result<Record, DecodeError> {
    let (encoding, fields) = if text.starts_with('{') {
        (Encoding::Json, json::fields(text)?)
    } else {
        (Encoding::KeyValue, kv::fields(text)?)
    };
    normalise::record(encoding, fields)
}

#[cfg(test)]
mod tests;

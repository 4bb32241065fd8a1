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
    #[error("no key=\"value\" pairs found (NVM quotes every value)")]
    NoFields,
    #[error("malformed key=value text at byte {offset}: {what}")]
    KeyValue { offset: usize, what: &'static str },
    #[error("not an NVM flow record: no `fv` (flow version) field")]
    NotNvm,
    #[error("field `{field}` must be a whole number of {unit} up to the year 9999, got {value:?}")]
    BadTime {
        field: &'static str,
        unit: &'static str,
        value: String,
    },
    #[error("record has no event time (neither `fsms` nor `fss`)")]
    MissingTime,
    #[error("event time {time} is more than {limit_secs} s ahead of the clock")]
    FutureTime { time: String, limit_secs: i64 },
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
            DecodeError::FutureTime { .. } => "future_time",
        }
    }
}

/// Decoding limits, and which fields records keep.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    pub max_record_bytes: usize,
    pub keep: Keep,
    /// How far ahead of the wall clock an event time may be, ms; `None`
    /// accepts any time. A record from the future would move its
    /// partition's watermark past every open window and make the records
    /// of every other host on the partition late, so it is dead-lettered
    /// instead (Splunk likewise refuses times past `MAX_DAYS_HENCE`).
    pub max_future_ms: Option<i64>,
}

/// Default of [`DecodeOptions::max_future_ms`]: two days, Splunk's default
/// `MAX_DAYS_HENCE`.
pub const DEFAULT_MAX_FUTURE_MS: i64 = 2 * 86_400_000;

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            keep: Keep::All,
            max_future_ms: Some(DEFAULT_MAX_FUTURE_MS),
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

    let record = match &options.keep {
        Keep::All => decode_all(text)?,
        Keep::Only(kept) => match keep::decode(text, kept) {
            Some(record) => record,
            None => {
                let mut record = decode_all(text)?;
                record.retain(|name| kept.keeps(name));
                record
            }
        },
    };
    if let Some(limit) = options.max_future_ms {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        if record.time_ms() > now_ms.saturating_add(limit) {
            return Err(DecodeError::FutureTime {
                time: crate::alert::rfc3339(record.time_ms()),
                limit_secs: limit / 1000,
            });
        }
    }
    Ok(record)
}

/// Decodes every field of trimmed, non-empty text.
fn decode_all(text: &str) -> Result<Record, DecodeError> {
    let (encoding, fields) = if text.starts_with('{') {
        (Encoding::Json, json::fields(text)?)
    } else {
        match kv::fields(text) {
            Ok(fields) => (Encoding::KeyValue, fields),
            // `[…]`, `42`, `"text"`: JSON, but not an object.
            Err(DecodeError::NoFields)
                if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() =>
            {
                return Err(DecodeError::Json(
                    "a JSON value that is not an object".to_owned(),
                ));
            }
            Err(e) => return Err(e),
        }
    };
    normalise::record(encoding, fields)
}

#[cfg(test)]
mod tests;

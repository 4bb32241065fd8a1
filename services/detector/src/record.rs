//! A decoded, normalised NVM flow record: a flat bag of fields.
//!
//! Splunk fields may hold several values (a multivalue field matches when any
//! of its values matches), so every field is a small list of strings. Records
//! keep both the native short keys (`sa`, `parg`) and their normalised CIM
//! names (`src`, `process_arguments`), because rules use both.

use foldhash::{HashMap, HashMapExt};
use std::borrow::Cow;

/// Which wire encoding a record arrived in; it also names the record's
/// Splunk sourcetype, which the input macro selects on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `key="value"` pairs behind syslog headers (older collectors).
    KeyValue,
    /// A flat JSON object of strings (newer collectors).
    Json,
}

impl Encoding {
    /// The sourcetype Splunk's add-on gives records of this encoding.
    pub fn sourcetype(self) -> &'static str {
        match self {
            Encoding::KeyValue => "cisco:nvm:flowdata",
            Encoding::Json => "cisco:nvm:flowdata:v2",
        }
    }
}

/// One field's values; almost always exactly one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    One(String),
    Many(Vec<String>),
}

impl Value {
    /// All values as a slice, single or multi.
    pub fn as_slice(&self) -> &[String] {
        match self {
            Value::One(v) => std::slice::from_ref(v),
            Value::Many(vs) => vs,
        }
    }

    /// All values, owned.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Value::One(v) => vec![v],
            Value::Many(vs) => vs,
        }
    }

    /// The first value, which is the value of a single-valued field.
    pub fn first(&self) -> Option<&str> {
        self.as_slice().first().map(String::as_str)
    }
}

/// A field name: the normalised and derived names are static text, so
/// only keys outside the NVM field table cost an allocation.
pub type Name = Cow<'static, str>;

/// A flow record after decoding and normalisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    fields: HashMap<Name, Value>,
    /// Event time in epoch milliseconds: the flow's start.
    time_ms: i64,
    encoding: Encoding,
}

impl Record {
    /// A record with no fields yet; decoders fill it.
    pub fn new(time_ms: i64, encoding: Encoding) -> Self {
        Record::with_capacity(time_ms, encoding, 96)
    }

    /// A record with room for `fields` fields.
    pub fn with_capacity(time_ms: i64, encoding: Encoding, fields: usize) -> Self {
        Record {
            fields: HashMap::with_capacity(fields),
            time_ms,
            encoding,
        }
    }

    /// Event time in epoch milliseconds.
    pub fn time_ms(&self) -> i64 {
        self.time_ms
    }

    /// The encoding the record arrived in.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The values of a field, or `None` when the field is absent.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }

    /// The first value of a field.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::first)
    }

    /// Sets a field, replacing any value it had.
    pub fn insert(&mut self, name: impl Into<String>, value: Value) {
        self.fields.insert(Cow::Owned(name.into()), value);
    }

    /// Sets a field by a name that may be static, replacing any value.
    pub fn insert_name(&mut self, name: Name, value: Value) {
        self.fields.insert(name, value);
    }

    /// Keeps only the fields whose name passes `keep`.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.fields.retain(|name, _| keep(name));
    }

    /// Every field, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// How many fields the record holds (native and normalised).
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the record holds no field at all.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

//! Test helpers: generate a run into memory and decode its lines the way a
//! consumer would (key=value with `\"` as the only escape, or JSON).

#![allow(dead_code)]

use std::collections::BTreeMap;

use nvm_gen::{Config, Generator, LineKind};

/// One generated line with what the generator says it is.
pub struct Line {
    pub kind: LineKind,
    pub bytes: Vec<u8>,
}

pub fn generate(config: &Config) -> Vec<Line> {
    let mut generator = Generator::new(config).expect("valid config");
    let mut lines = Vec::new();
    loop {
        let mut bytes = Vec::new();
        match generator.next_into(&mut bytes) {
            Some(kind) => lines.push(Line { kind, bytes }),
            None => return lines,
        }
    }
}

pub type Fields = BTreeMap<String, String>;

/// How a record line was encoded.
#[derive(Debug, PartialEq, Eq)]
pub enum Wire {
    Kv,
    Json,
}

/// Decodes a record line; `None` for anything that is not a record.
pub fn decode(line: &[u8]) -> Option<(Wire, Fields)> {
    let text = std::str::from_utf8(line).ok()?;
    if text.starts_with('{') {
        let value: serde_json::Value = serde_json::from_str(text).ok()?;
        let object = value.as_object()?;
        let fields = object
            .iter()
            .map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect::<Option<Fields>>()?;
        return Some((Wire::Json, fields));
    }
    parse_kv(text).map(|f| (Wire::Kv, f))
}

/// Parses `<hdr> <hdr>  k="v" k="v"`; empty placeholders become "".
pub fn parse_kv(text: &str) -> Option<Fields> {
    let start = text.find("  fv=")? + 2;
    let mut rest = &text[start..];
    let mut fields = Fields::new();
    while !rest.is_empty() {
        let eq = rest.find("=\"")?;
        let key = rest[..eq].trim_start().to_owned();
        let (value, after) = kv_value(&rest[eq + 2..])?;
        let value = if value == "''" || value == "'" {
            String::new()
        } else {
            value
        };
        fields.insert(key, value);
        rest = after;
    }
    Some(fields)
}

fn kv_value(s: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if s[i + 1..].starts_with('"') => {
                value.push('"');
                chars.next();
            }
            '"' => return Some((value, &s[i + 1..])),
            c => value.push(c),
        }
    }
    None
}

/// A small run that still has every kind of line.
pub fn small_config() -> Config {
    Config {
        count: 3000,
        hosts: 80,
        malformed: 5,
        ..Config::default()
    }
}

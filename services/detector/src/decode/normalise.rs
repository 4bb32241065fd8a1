//! Native NVM keys to the Splunk CIM names rules use, plus derived fields.
//!
//! Both names are kept: rules written against the add-on use `src` and
//! `process_arguments`, while others use native keys such as `aliul`.

use super::{DecodeError, RawField};
use crate::record::{Encoding, Record, Value};
use std::borrow::Cow;

/// Native key → normalised names, from the NVM field table.
const CIM_NAMES: &[(&str, &[&str])] = &[
    ("fv", &["flow_version"]),
    ("pr", &["protocol_identifier"]),
    ("sa", &["src", "src_ip"]),
    ("sp", &["src_port"]),
    ("da", &["dest", "dest_ip"]),
    ("dp", &["dest_port"]),
    ("dh", &["dest_hostname"]),
    ("ds", &["flow_dns_suffix"]),
    ("fd", &["direction"]),
    ("fss", &["flow_start_sec"]),
    ("fes", &["flow_end_sec"]),
    ("fsms", &["flow_start_msec"]),
    ("fems", &["flow_end_msec"]),
    ("fst", &["flow_start_time"]),
    ("fet", &["flow_end_time"]),
    ("fsg", &["flow_report_stage"]),
    ("ibc", &["bytes_in"]),
    ("obc", &["bytes_out"]),
    ("liuid", &["logged_in_user"]),
    ("liuida", &["logged_in_user_authority"]),
    ("liuidp", &["logged_in_user_principal"]),
    ("liuat", &["logged_in_user_account_type"]),
    ("pa", &["process_account"]),
    ("paa", &["process_account_authority"]),
    ("pap", &["process_account_principal"]),
    ("puat", &["process_account_type"]),
    ("pn", &["process_name"]),
    ("ppath", &["process_path"]),
    ("parg", &["process_arguments"]),
    ("pid", &["process_id"]),
    ("ph", &["process_hash"]),
    ("pil", &["process_integrity_level"]),
    ("puid", &["process_guid"]),
    ("ppn", &["parent_process_name"]),
    ("pppath", &["parent_process_path"]),
    ("pparg", &["parent_process_arguments"]),
    ("ppid", &["parent_process_id"]),
    ("pph", &["parent_process_hash"]),
    ("ppil", &["parent_process_integrity_level"]),
    ("ppa", &["parent_process_account"]),
    ("ppuat", &["parent_process_account_type"]),
    ("mnl", &["module_name_list"]),
    ("mhl", &["module_hash_list"]),
    ("hh", &["http_host"]),
    ("hm", &["http_method"]),
    ("ht", &["uri_path"]),
    ("iid", &["src_interface"]),
];

/// The normalised names of a native key (empty for keys without one).
pub fn cim_name(native: &str) -> &'static [&'static str] {
    CIM_NAMES
        .iter()
        .find(|(key, _)| *key == native)
        .map_or(&[], |(_, names)| names)
}

/// The transport name of an IP protocol number; others keep the number.
pub fn transport_name(protocol: &str) -> &str {
    match protocol {
        "6" => "tcp",
        "17" => "udp",
        "1" | "58" => "icmp",
        other => other,
    }
}

/// Native keys the field table gives no normalised name, but which rules
/// may use (`aliul`) or which every record carries (`udid`).
const OTHER_KEYS: &[&str] = &["udid", "aliul"];

/// The derived fields, in the order [`derive`] computes them.
pub(super) const DERIVED: [&str; 6] = [
    "transport",
    "bytes",
    "process",
    "parent_process",
    "sourcetype",
    "_time",
];

/// Every native key of the field table with its normalised names.
pub(super) fn native_keys() -> impl Iterator<Item = (&'static str, &'static [&'static str])> {
    CIM_NAMES.iter().copied()
}

/// `name` as static text when it is a name decoding knows (a native key,
/// a normalised or a derived name), so records need not allocate it.
pub(super) fn static_name(name: &str) -> Option<&'static str> {
    let table = CIM_NAMES
        .iter()
        .flat_map(|(key, names)| std::iter::once(key).chain(names.iter()));
    table
        .chain(OTHER_KEYS)
        .chain(DERIVED.iter())
        .find(|known| **known == name)
        .copied()
}

/// Builds the normalised record from raw fields.
pub(super) fn record(encoding: Encoding, fields: Vec<RawField>) -> Result<Record, DecodeError> {
    if !fields.iter().any(|(k, _)| k == "fv") {
        return Err(DecodeError::NotNvm);
    }
    let find = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.first())
    };
    let time_ms = event_time_ms(find("fss"), find("fsms"))?;

    let mut record = Record::new(time_ms, encoding);
    // A repeated key adds values (Splunk's multivalue field) rather than
    // replacing them, so a value cannot be hidden by a later one.
    let mut merged: Vec<RawField> = Vec::with_capacity(fields.len());
    for (key, value) in fields {
        match merged.iter_mut().find(|(k, _)| *k == key) {
            Some((_, existing)) => {
                let mut values = std::mem::replace(existing, Value::Many(Vec::new())).into_vec();
                values.extend(value.into_vec());
                *existing = Value::Many(values);
            }
            None => merged.push((key, value)),
        }
    }
    for (key, value) in merged {
        for name in cim_name(&key) {
            record.insert_name(Cow::Borrowed(name), value.clone());
        }
        record.insert(key, value);
    }
    let derived = derive(|key| record.first(key), encoding, time_ms, [true; 6]);
    for (name, value) in DERIVED.iter().zip(derived) {
        if let Some(value) = value {
            record.insert_name(Cow::Borrowed(name), Value::One(value));
        }
    }
    Ok(record)
}

/// Event time is the flow's start: `fsms` when present, else `fss`. Both
/// must be numbers when present: a record whose clock fields disagree in
/// kind is broken, even if the one used would parse. The text times
/// (`fst`) and the syslog header are never used.
pub(super) fn event_time_ms(fss: Option<&str>, fsms: Option<&str>) -> Result<i64, DecodeError> {
    let secs = fss
        .map(|secs| whole_number(secs, "fss", "seconds"))
        .transpose()?;
    if let Some(text) = fsms {
        let ms = whole_number(text, "fsms", "milliseconds")?;
        return within_calendar(ms, "fsms", "milliseconds", text);
    }
    if let Some(secs) = secs {
        let ms = secs.checked_mul(1000).unwrap_or(i64::MAX);
        return within_calendar(ms, "fss", "seconds", &secs.to_string());
    }
    Err(DecodeError::MissingTime)
}

/// The last millisecond of year 9999: later times have no calendar date for
/// windows and alerts to carry.
const LAST_TIME_MS: i64 = 253_402_300_799_999;

fn within_calendar(
    ms: i64,
    field: &'static str,
    unit: &'static str,
    text: &str,
) -> Result<i64, DecodeError> {
    if ms > LAST_TIME_MS {
        return Err(DecodeError::BadTime {
            field,
            unit,
            value: text.chars().take(64).collect(),
        });
    }
    Ok(ms)
}

fn whole_number(text: &str, field: &'static str, unit: &'static str) -> Result<i64, DecodeError> {
    if let Some(n) = plain_digits(text) {
        return Ok(n);
    }
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| DecodeError::BadTime {
            field,
            unit,
            value: text.chars().take(64).collect(),
        })
}

/// The value of 1 to 18 ASCII digits, the form clock fields take; what
/// `parse` would give, without its generality. Anything else is `None`.
fn plain_digits(text: &str) -> Option<i64> {
    let digits = text.as_bytes();
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
}

/// Fields computed from others, in [`DERIVED`] order: transport, bytes,
/// process, parent_process, sourcetype and `_time` (epoch seconds,
/// fractional, as Splunk keeps it). `first` reads a native key's first
/// value; only the fields `wanted` marks are computed.
pub(super) fn derive<'v>(
    first: impl Fn(&str) -> Option<&'v str>,
    encoding: Encoding,
    time_ms: i64,
    wanted: [bool; 6],
) -> [Option<String>; 6] {
    let [transport, bytes, process, parent, sourcetype, time] = wanted;
    let number = |key: &str| -> Option<u64> { first(key)?.trim().parse().ok() };
    [
        transport
            .then(|| first("pr").map(|pr| transport_name(pr).to_owned()))
            .flatten(),
        bytes
            .then(|| Some((number("ibc")? + number("obc")?).to_string()))
            .flatten(),
        process
            .then(|| command_line(&first, "ppath", "pn", "parg"))
            .flatten(),
        parent
            .then(|| command_line(&first, "pppath", "ppn", "pparg"))
            .flatten(),
        sourcetype.then(|| encoding.sourcetype().to_owned()),
        time.then(|| crate::spl::format_epoch_secs(time_ms)),
    ]
}

/// The image path (or name) followed by the arguments.
fn command_line<'v>(
    first: &impl Fn(&str) -> Option<&'v str>,
    path: &str,
    name: &str,
    args: &str,
) -> Option<String> {
    let image = first(path).or_else(|| first(name))?;
    let Some(args) = first(args) else {
        return Some(image.to_owned());
    };
    if args.starts_with(char::is_whitespace) {
        Some(format!("{image}{args}"))
    } else {
        Some(format!("{image} {args}"))
    }
}

//! Native NVM keys to the Splunk CIM names rules use, plus derived fields.
//!
//! Both names are kept: rules written against the add-on use `src` and
//! `process_arguments`, while others use native keys such as `aliul`.

use super::{DecodeError, RawField};
use crate::record::{Encoding, Record, Value};

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

/// Builds the normalised record from raw fields.
pub(super) fn record(encoding: Encoding, fields: Vec<RawField>) -> Result<Record, DecodeError> {
    if !fields.iter().any(|(k, _)| k == "fv") {
        return Err(DecodeError::NotNvm);
    }
    let time_ms = event_time_ms(&fields)?;

    let mut record = Record::new(time_ms, encoding);
    for (key, value) in fields {
        for name in cim_name(&key) {
            record.insert(*name, value.clone());
        }
        record.insert(key, value);
    }
    derive(&mut record);
    Ok(record)
}

/// Event time is the flow's start: `fsms` when present, else `fss`. Both
/// must be numbers when present: a record whose clock fields disagree in
/// kind is broken, even if the one used would parse. The text times
/// (`fst`) and the syslog header are never used.
fn event_time_ms(fields: &[RawField]) -> Result<i64, DecodeError> {
    let find = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.first())
    };
    let secs = find("fss")
        .map(|secs| whole_number(secs, "fss", "seconds"))
        .transpose()?;
    if let Some(ms) = find("fsms") {
        return whole_number(ms, "fsms", "milliseconds");
    }
    if let Some(secs) = secs {
        return secs.checked_mul(1000).ok_or(DecodeError::BadTime {
            field: "fss",
            unit: "seconds",
            value: secs.to_string(),
        });
    }
    Err(DecodeError::MissingTime)
}

fn whole_number(text: &str, field: &'static str, unit: &'static str) -> Result<i64, DecodeError> {
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

/// Fields computed from others: transport, bytes, process, parent_process,
/// sourcetype and `_time` (epoch seconds, fractional, as Splunk keeps it).
fn derive(record: &mut Record) {
    if let Some(pr) = record.first("pr") {
        let transport = transport_name(pr).to_owned();
        record.insert("transport", Value::One(transport));
    }
    if let (Some(i), Some(o)) = (number(record, "ibc"), number(record, "obc")) {
        record.insert("bytes", Value::One((i + o).to_string()));
    }
    if let Some(process) = command_line(record, "ppath", "pn", "parg") {
        record.insert("process", Value::One(process));
    }
    if let Some(parent) = command_line(record, "pppath", "ppn", "pparg") {
        record.insert("parent_process", Value::One(parent));
    }
    let sourcetype = record.encoding().sourcetype();
    record.insert("sourcetype", Value::One(sourcetype.to_owned()));
    let time = crate::spl::format_epoch_secs(record.time_ms());
    record.insert("_time", Value::One(time));
}

fn number(record: &Record, key: &str) -> Option<u64> {
    record.first(key)?.trim().parse().ok()
}

/// The image path (or name) followed by the arguments.
fn command_line(record: &Record, path: &str, name: &str, args: &str) -> Option<String> {
    let image = record.first(path).or_else(|| record.first(name))?;
    let Some(args) = record.first(args) else {
        return Some(image.to_owned());
    };
    if args.starts_with(char::is_whitespace) {
        Some(format!("{image}{args}"))
    } else {
        Some(format!("{image} {args}"))
    }
}

//! The configuration file of `run`.
//!
//! Every setting of `run` is a command-line flag with an environment
//! variable (see `nvm-detector run --help`), and every one of them can also
//! be written in a TOML file given with `--config FILE` (or `NVM_CONFIG`).
//! The file has one table per help section, and in it one key per flag,
//! spelled with underscores:
//!
//! ```toml
//! [kafka]
//! bootstrap_servers = "broker-1:9092,broker-2:9092"
//! [kafka.consumer_properties]
//! "fetch.max.bytes" = "52428800"
//! [engine]
//! window_secs = 3600
//! ```
//!
//! A flag wins over its environment variable, which wins over the file,
//! which wins over the default. Unknown tables or keys and values the flag
//! would refuse stop startup with a message naming the key.
//!
//! The file is applied before the command line is parsed: its settings
//! become flags appended to the arguments, skipped where the flag or its
//! environment variable is already given. Parsing and validation are then
//! the command line's own, so the file can never mean something a flag
//! could not.

use anyhow::{bail, Context as _};
use clap::{Arg, ArgAction, Command};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Environment variable naming the configuration file.
pub const CONFIG_ENV: &str = "NVM_CONFIG";

/// Keys of tables that map to a repeatable `key=value` flag.
const PROPERTY_TABLES: [(&str, &str); 3] = [
    ("properties", "kafka-property"),
    ("consumer_properties", "consumer-property"),
    ("producer_properties", "producer-property"),
];

/// One setting read from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// `section.key` as written.
    pub key: String,
    /// The flag's long name.
    pub flag: String,
    /// Values to pass, one per occurrence of the flag; `None` for a switch.
    pub values: Vec<Option<String>>,
}

/// A parsed and checked configuration file.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub settings: Vec<Setting>,
}

/// The section a flag belongs to: its help heading, lowercased, with
/// spaces as underscores.
pub fn section_of(arg: &Arg) -> Option<String> {
    arg.get_help_heading()
        .map(|h| h.to_ascii_lowercase().replace(' ', "_"))
}

/// The file key of a flag.
pub fn key_of(arg: &Arg) -> Option<String> {
    arg.get_long().map(|l| l.replace('-', "_"))
}

/// Settable arguments of a (built) command: those with a long flag and a
/// section, except help and version.
pub fn settable(command: &Command) -> Vec<&Arg> {
    command
        .get_arguments()
        .filter(|a| {
            !matches!(
                a.get_action(),
                ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version
            )
        })
        .filter(|a| a.get_long().is_some() && section_of(a).is_some())
        .filter(|a| a.get_long() != Some("config"))
        .collect()
}

impl ConfigFile {
    /// Reads and checks `path` against the flags of `command`.
    ///
    /// # Errors
    /// An unreadable file, invalid TOML, an unknown section or key, or a
    /// value the flag refuses; each message names the file and the key.
    pub fn load(path: &Path, command: &Command) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the configuration file {}", path.display()))?;
        Self::parse(&text, path, command)
    }

    /// Parses configuration text; `path` only names it in messages.
    ///
    /// # Errors
    /// As [`ConfigFile::load`].
    pub fn parse(text: &str, path: &Path, command: &Command) -> anyhow::Result<Self> {
        let shown = path.display();
        let table: toml::Table = toml::from_str(text)
            .map_err(|e| anyhow::anyhow!("{shown}: {}", e.to_string().trim()))?;
        let args = settable(command);
        let mut by_key: BTreeMap<(String, String), &Arg> = BTreeMap::new();
        for arg in &args {
            if let (Some(section), Some(key)) = (section_of(arg), key_of(arg)) {
                by_key.insert((section, key), arg);
            }
        }
        let sections: Vec<String> = {
            let mut s: Vec<String> = by_key.keys().map(|(s, _)| s.clone()).collect();
            s.dedup();
            s
        };

        let mut settings = Vec::new();
        for (section, body) in &table {
            let Some(body) = body.as_table() else {
                bail!(
                    "{shown}: `{section}` must be a table such as [{section}]; sections are {}",
                    sections.join(", ")
                );
            };
            if !sections.contains(section) {
                bail!(
                    "{shown}: unknown section [{section}]; sections are {}",
                    sections.join(", ")
                );
            }
            for (key, value) in body {
                let name = format!("{section}.{key}");
                if let Some((_, flag)) = PROPERTY_TABLES.iter().find(|(k, _)| k == key) {
                    let Some(arg) = args.iter().find(|a| a.get_long() == Some(flag)) else {
                        bail!("{shown}: unknown key `{name}`");
                    };
                    settings.push(property_setting(&name, value, arg, &shown)?);
                    continue;
                }
                let Some(arg) = by_key.get(&(section.clone(), key.clone())) else {
                    let known: Vec<&str> = by_key
                        .keys()
                        .filter(|(s, _)| s == section)
                        .map(|(_, k)| k.as_str())
                        .collect();
                    bail!(
                        "{shown}: unknown key `{name}`; keys of [{section}] are {}",
                        known.join(", ")
                    );
                };
                settings.push(scalar_setting(&name, value, arg, &shown)?);
            }
        }
        Ok(ConfigFile {
            path: path.to_owned(),
            settings,
        })
    }

    /// Puts the file's settings into `argv` (the arguments after the
    /// subcommand), except those given by flag or environment; returns the
    /// flags it set. Repeatable flags (the property lists) are merged: the
    /// file's come first, so the command line's win on the same property.
    pub fn apply(&self, command: &Command, argv: &mut Vec<OsString>) -> Vec<String> {
        let mut extra: Vec<OsString> = Vec::new();
        let mut applied = Vec::new();
        for setting in &self.settings {
            let Some(arg) = command
                .get_arguments()
                .find(|a| a.get_long() == Some(setting.flag.as_str()))
            else {
                continue;
            };
            let repeatable = matches!(arg.get_action(), ArgAction::Append);
            if !repeatable && given(arg, argv) {
                continue;
            }
            // `--flag=value`, so that a value starting with `-` stays a value.
            for value in &setting.values {
                extra.push(match value {
                    Some(v) => format!("--{}={v}", setting.flag).into(),
                    None => format!("--{}", setting.flag).into(),
                });
            }
            applied.push(setting.flag.clone());
        }
        argv.splice(0..0, extra);
        applied
    }
}

/// Whether the flag is on the command line or its variable in the environment.
fn given(arg: &Arg, argv: &[OsString]) -> bool {
    if arg.get_env().is_some_and(|e| std::env::var_os(e).is_some()) {
        return true;
    }
    let long = arg.get_long().map(|l| format!("--{l}"));
    let short = arg.get_short().map(|s| format!("-{s}"));
    argv.iter().filter_map(|a| a.to_str()).any(|a| {
        long.as_deref()
            .is_some_and(|l| a == l || a.starts_with(&format!("{l}=")))
            || short.as_deref().is_some_and(|s| a.starts_with(s))
    })
}

fn scalar_setting(
    name: &str,
    value: &toml::Value,
    arg: &Arg,
    shown: &std::path::Display<'_>,
) -> anyhow::Result<Setting> {
    let flag = arg.get_long().unwrap_or_default().to_owned();
    let switch = matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse);
    if switch {
        let Some(on) = value.as_bool() else {
            bail!("{shown}: `{name}` must be true or false, got {value}");
        };
        return Ok(Setting {
            key: name.to_owned(),
            flag,
            values: if on { vec![None] } else { Vec::new() },
        });
    }
    let text = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        other => bail!(
            "{shown}: `{name}` must be a string or a number, got {}",
            other.type_str()
        ),
    };
    check_value(name, &text, arg, shown)?;
    Ok(Setting {
        key: name.to_owned(),
        flag,
        values: vec![Some(text)],
    })
}

fn property_setting(
    name: &str,
    value: &toml::Value,
    arg: &Arg,
    shown: &std::path::Display<'_>,
) -> anyhow::Result<Setting> {
    let Some(table) = value.as_table() else {
        bail!("{shown}: `{name}` must be a table of librdkafka properties");
    };
    let mut values = Vec::new();
    for (key, v) in table {
        let text = match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => bail!(
                "{shown}: `{name}.{key}` must be a string, number or boolean, got {}",
                other.type_str()
            ),
        };
        let pair = format!("{key}={text}");
        check_value(&format!("{name}.{key}"), &pair, arg, shown)?;
        values.push(Some(pair));
    }
    Ok(Setting {
        key: name.to_owned(),
        flag: arg.get_long().unwrap_or_default().to_owned(),
        values,
    })
}

/// Runs the flag's own value parser, so the file refuses what the flag refuses.
fn check_value(
    name: &str,
    text: &str,
    arg: &Arg,
    shown: &std::path::Display<'_>,
) -> anyhow::Result<()> {
    let flag = format!("--{}", arg.get_long().unwrap_or_default());
    let probe = Command::new("check")
        .no_binary_name(true)
        .arg(arg.clone().required(false));
    if let Err(e) = probe.try_get_matches_from([format!("{flag}={text}")]) {
        let reason = e.to_string();
        let reason = reason
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_owned();
        let redacted = if crate::kafka::client::is_secret(name) {
            "***"
        } else {
            text
        };
        bail!("{shown}: `{name}` = {redacted:?} is not valid: {reason}");
    }
    Ok(())
}

/// The `--config FILE` (or `--config=FILE`) in `argv`, else `NVM_CONFIG`.
pub fn config_path(argv: &[OsString]) -> Option<PathBuf> {
    let mut iter = argv.iter();
    while let Some(a) = iter.next() {
        if a == "--" {
            break;
        }
        if a == "--config" {
            return iter.next().map(PathBuf::from);
        }
        if let Some(path) = a.to_str().and_then(|s| s.strip_prefix("--config=")) {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os(CONFIG_ENV).map(PathBuf::from)
}

/// The effective settings of `matches` (parsed by `command`) as a
/// configuration file, each with where it came from; secrets redacted.
pub fn render(command: &Command, matches: &clap::ArgMatches, from_file: &[String]) -> String {
    use clap::parser::ValueSource;
    use std::fmt::Write as _;
    let mut sections: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for arg in settable(command) {
        let (Some(section), Some(key)) = (section_of(arg), key_of(arg)) else {
            continue;
        };
        let long = arg.get_long().unwrap_or_default();
        let id = arg.get_id().as_str();
        let source = match matches.value_source(id) {
            Some(ValueSource::DefaultValue) => "default".to_owned(),
            Some(ValueSource::EnvVariable) => {
                format!(
                    "env {}",
                    arg.get_env()
                        .map(|e| e.to_string_lossy())
                        .unwrap_or_default()
                )
            }
            Some(ValueSource::CommandLine) if from_file.iter().any(|f| f == long) => {
                "file".to_owned()
            }
            Some(ValueSource::CommandLine) => "flag".to_owned(),
            _ => "unset".to_owned(),
        };
        let raw: Vec<String> = matches
            .get_raw(id)
            .map(|v| v.map(|s| s.to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        if let Some((table, _)) = PROPERTY_TABLES.iter().find(|(_, f)| *f == long) {
            let lines = tables.entry(format!("{section}.{table}")).or_default();
            for pair in raw {
                let (k, v) = pair.split_once('=').unwrap_or((pair.as_str(), ""));
                let v = if crate::kafka::client::is_secret(k) {
                    "***"
                } else {
                    v
                };
                lines.push(format!("{:?} = {:?}", k, v));
            }
            continue;
        }
        let value = match raw.as_slice() {
            [] if matches!(arg.get_action(), ArgAction::SetTrue) => "false".to_owned(),
            [] => {
                sections
                    .entry(section)
                    .or_default()
                    .push(format!("# {key} = ({source})"));
                continue;
            }
            [one] if crate::kafka::client::is_secret(&key) && !key.ends_with("_file") => {
                format!("{:?}", redact(one))
            }
            [one] if one.parse::<i64>().is_ok() || one == "true" || one == "false" => one.clone(),
            [one] => format!("{one:?}"),
            many => format!("{many:?}"),
        };
        sections
            .entry(section)
            .or_default()
            .push(format!("{key} = {value}   # {source}"));
    }
    let mut out = String::new();
    for (section, lines) in sections {
        let _ = writeln!(out, "[{section}]");
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out);
        let prefix = format!("{section}.");
        for (table, lines) in tables.iter().filter(|(t, _)| t.starts_with(&prefix)) {
            if lines.is_empty() {
                continue;
            }
            let _ = writeln!(out, "[{table}]");
            for line in lines {
                let _ = writeln!(out, "{line}");
            }
            let _ = writeln!(out);
        }
    }
    out
}

fn redact(value: &str) -> &str {
    if value.is_empty() {
        ""
    } else {
        "***"
    }
}

#[cfg(test)]
mod tests;

//! Detection rules in Splunk's security-content format, compiled to plans.
//!
//! A rules directory holds `macros.yml` (a list of macro definitions the
//! user may edit) and `detections/*.yml` (one detection per file). Each
//! detection's `search:` text is macro-expanded and parsed, never retyped:
//! a parse error names the rule file, line and column.

use crate::spl::{self, MacroDef, Macros, Plan};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// The risk-based-alerting block of a detection.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Rba {
    /// Message with `$field$` placeholders.
    pub message: String,
    #[serde(default)]
    pub risk_objects: Vec<RiskObject>,
    #[serde(default)]
    pub threat_objects: Vec<ThreatObject>,
}

/// The entity a detection raises risk on.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct RiskObject {
    pub field: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub score: u32,
}

/// An indicator attached to the risk event.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ThreatObject {
    pub field: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// The `tags` block (only what alerts carry is read).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Tags {
    #[serde(default)]
    pub mitre_attack_id: Vec<String>,
    #[serde(default)]
    pub analytic_story: Vec<String>,
    #[serde(default)]
    pub security_domain: Option<String>,
}

/// A detection file. Security content carries many more keys (author,
/// references, drilldowns…); they are accepted and ignored.
#[derive(Debug, Clone, Deserialize)]
struct DetectionFile {
    name: String,
    id: String,
    version: serde_yaml::Value,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    description: Option<String>,
    search: String,
    #[serde(default)]
    rba: Option<Rba>,
    #[serde(default)]
    tags: Tags,
}

/// What an alert says about the rule that raised it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleMeta {
    pub id: String,
    pub name: String,
    pub version: String,
    pub kind: String,
    pub description: Option<String>,
    pub rba: Option<Rba>,
    pub tags: Tags,
}

/// A compiled detection.
#[derive(Debug, Clone)]
pub struct Rule {
    pub meta: RuleMeta,
    pub plan: Plan,
    /// The file it came from.
    pub path: PathBuf,
}

/// Every rule of a rules directory.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

/// A rule set that cannot be loaded; always names the file.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    // The I/O error is part of the message, not a source, so that error
    // chains do not print it twice.
    #[error("reading {path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{dir}: no detections found under detections/*.yml")]
    Empty { dir: PathBuf },
}

impl RuleSet {
    /// Loads `DIR/macros.yml` (optional) and every `DIR/detections/*.yml`.
    ///
    /// # Errors
    /// Unreadable files, YAML errors, search parse errors, missing fields
    /// and duplicate rule ids, each naming the file (and line and column).
    pub fn load(dir: &Path) -> Result<RuleSet, RuleError> {
        let macros = load_macros(&dir.join("macros.yml"))?;
        let detections = dir.join("detections");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&detections)
            .map_err(|error| RuleError::Io {
                path: detections.clone(),
                error,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")))
            .collect();
        paths.sort();

        let mut rules = Vec::with_capacity(paths.len());
        for path in paths {
            let text = read(&path)?;
            rules.push(compile(&path, &text, &macros)?);
        }
        if rules.is_empty() {
            return Err(RuleError::Empty {
                dir: dir.to_owned(),
            });
        }
        check_unique_ids(&rules)?;
        Ok(RuleSet { rules })
    }

    /// Builds a rule set from already compiled rules (tests, benchmarks).
    pub fn from_rules(rules: Vec<Rule>) -> RuleSet {
        RuleSet { rules }
    }

    /// The rules, in file name order; alerts refer to them by index.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// How many rules there are.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Every field name some rule reads: what decoding must keep.
    pub fn field_names(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for rule in &self.rules {
            rule.add_field_names(&mut out);
        }
        out
    }

    /// Every field name some rule's base search tests.
    pub fn filter_field_names(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for rule in &self.rules {
            rule.plan.filter.add_field_names(&mut out);
        }
        out
    }
}

impl Rule {
    /// Adds the names the rule's search and its alert read to `out`: the
    /// plan's fields and columns, and those the risk block names.
    pub fn add_field_names(&self, out: &mut BTreeSet<String>) {
        self.plan.add_field_names(out);
        let Some(rba) = &self.meta.rba else { return };
        // `$field$` placeholders: every second piece between dollars, as
        // the alert renders them.
        out.extend(rba.message.split('$').skip(1).step_by(2).map(str::to_owned));
        out.extend(rba.risk_objects.iter().map(|o| o.field.clone()));
        out.extend(rba.threat_objects.iter().map(|t| t.field.clone()));
    }
}

fn read(path: &Path) -> Result<String, RuleError> {
    std::fs::read_to_string(path).map_err(|error| RuleError::Io {
        path: path.to_owned(),
        error,
    })
}

/// Reads a macros file: a YAML list of `{name, definition, arguments}`.
///
/// # Errors
/// Unreadable or malformed files. A missing file is an empty set.
pub fn load_macros(path: &Path) -> Result<Macros, RuleError> {
    let mut macros = Macros::default();
    if !path.exists() {
        return Ok(macros);
    }
    let text = read(path)?;
    let defs: Vec<MacroDef> = serde_yaml::from_str(&text).map_err(|e| yaml_error(path, &e))?;
    for def in defs {
        macros.define(def);
    }
    Ok(macros)
}

/// Compiles one detection file's text.
///
/// # Errors
/// YAML errors, missing fields and search parse errors with line and column.
pub fn compile(path: &Path, text: &str, macros: &Macros) -> Result<Rule, RuleError> {
    let file: DetectionFile = serde_yaml::from_str(text).map_err(|e| yaml_error(path, &e))?;
    let invalid = |message: String| RuleError::Invalid {
        path: path.to_owned(),
        message,
    };
    if file.id.trim().is_empty() {
        return Err(invalid("`id` is empty".into()));
    }
    let macros = with_default_filters(macros, &file.search);

    let syntax = |offset: usize, message: String, in_macro: Option<&str>| {
        let (line, column) = search_position(text, &file.search, offset);
        let message = match in_macro {
            Some(name) => format!("in macro `{name}`: {message}"),
            None => message,
        };
        RuleError::Syntax {
            path: path.to_owned(),
            line,
            column,
            message,
        }
    };
    let expanded = macros
        .expand(&file.search)
        .map_err(|e| syntax(e.offset, e.message, None))?;
    let plan = spl::parse(&expanded.text).map_err(|e| {
        let (offset, in_macro) = expanded.origin(e.offset.min(expanded.text.len()));
        syntax(offset, e.message, in_macro)
    })?;
    crate::stats::check_plan(&plan).map_err(invalid)?;
    check_rba(&file, &plan).map_err(invalid)?;

    Ok(Rule {
        meta: RuleMeta {
            id: file.id.trim().to_owned(),
            name: file.name,
            version: version_text(&file.version),
            kind: file.kind,
            description: file.description,
            rba: file.rba,
            tags: file.tags,
        },
        plan,
        path: path.to_owned(),
    })
}

/// A rule's `<name>_filter` macro is where a team puts its tuning; when the
/// macros file does not define it, it keeps everything (`search *`).
fn with_default_filters(macros: &Macros, search: &str) -> Macros {
    let mut macros = macros.clone();
    for name in search.split('`').skip(1).step_by(2) {
        let name = name.trim();
        if name.ends_with("_filter") && !macros.contains(name, 0) {
            macros.define(MacroDef {
                name: name.to_owned(),
                definition: "search *".into(),
                arguments: vec![],
                description: None,
            });
        }
    }
    macros
}

/// The risk message may only name fields the result rows have.
fn check_rba(file: &DetectionFile, plan: &Plan) -> Result<(), String> {
    let Some(rba) = &file.rba else {
        return Ok(());
    };
    let columns = crate::stats::output_columns(plan);
    for object in &rba.risk_objects {
        if !columns.iter().any(|c| c == &object.field) {
            return Err(format!(
                "rba risk object field `{}` is not a column of the search result",
                object.field
            ));
        }
    }
    Ok(())
}

fn version_text(version: &serde_yaml::Value) -> String {
    match version {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Number(n) => n.to_string(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

fn yaml_error(path: &Path, e: &serde_yaml::Error) -> RuleError {
    let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
    RuleError::Syntax {
        path: path.to_owned(),
        line,
        column,
        message: e.to_string(),
    }
}

/// Maps an offset in the search text to a line and column of the file.
/// The search's own line is looked up in the file after the `search:` key;
/// block scalars keep lines intact, so this is exact for them.
fn search_position(file: &str, search: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(search.len());
    let before = &search[..offset];
    let search_line = before.matches('\n').count();
    let column_in_line = before.len() - before.rfind('\n').map_or(0, |i| i + 1);
    let line_text = search.lines().nth(search_line).unwrap_or("");

    let key_line = file
        .lines()
        .position(|l| l.trim_start().starts_with("search:"))
        .unwrap_or(0);
    let found = (!line_text.trim().is_empty())
        .then(|| {
            file.lines()
                .enumerate()
                .skip(key_line)
                .find_map(|(i, l)| l.find(line_text).map(|col| (i, col)))
        })
        .flatten();
    match found {
        Some((line, col)) => (line + 1, col + column_in_line + 1),
        None => (key_line + 1, 1),
    }
}

fn check_unique_ids(rules: &[Rule]) -> Result<(), RuleError> {
    for (i, rule) in rules.iter().enumerate() {
        if let Some(other) = rules[..i].iter().find(|r| r.meta.id == rule.meta.id) {
            return Err(RuleError::Invalid {
                path: rule.path.clone(),
                message: format!(
                    "rule id {} is also used by {}",
                    rule.meta.id,
                    other.path.display()
                ),
            });
        }
    }
    Ok(())
}

impl fmt::Display for RuleMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} v{})", self.name, self.id, self.version)
    }
}

//! `stats … by …` aggregation and the row commands that follow it.
//!
//! An [`Aggregate`] is one group's running state; it is plain data so that
//! window state can be snapshotted and restored. [`Row`] is what Splunk would
//! print for the group: BY columns first, then the aggregations, then
//! `convert`, `table`, `fields` and `search` applied in order.

use crate::record::Record;
use crate::spl::eval::Fields;
use crate::spl::{Agg, AggFunc, ConvertFunc, Plan, RowCommand, StatsSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A group's running aggregation, one cell per `stats` function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    /// Events folded in (what `count` reports).
    pub events: u64,
    pub cells: Vec<Cell>,
}

/// The running value of one aggregation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Cell {
    Count(u64),
    Distinct(BTreeSet<String>),
    /// Splunk's min/max compare numerically when values are numbers and by
    /// text otherwise; a number always wins over text.
    Extreme {
        num: Option<f64>,
        text: Option<String>,
    },
    Sum(f64),
    Values(BTreeSet<String>),
}

impl Aggregate {
    /// An empty aggregate for a stats spec.
    pub fn new(spec: &StatsSpec) -> Self {
        let cells = spec.aggs.iter().map(|a| empty_cell(a.func)).collect();
        Aggregate { events: 0, cells }
    }

    /// Folds one record in.
    pub fn add(&mut self, spec: &StatsSpec, record: &Record) {
        self.events += 1;
        for (agg, cell) in spec.aggs.iter().zip(&mut self.cells) {
            add_to_cell(agg, cell, record);
        }
    }
}

fn empty_cell(func: AggFunc) -> Cell {
    match func {
        AggFunc::Count => Cell::Count(0),
        AggFunc::DistinctCount => Cell::Distinct(BTreeSet::new()),
        AggFunc::Min | AggFunc::Max => Cell::Extreme {
            num: None,
            text: None,
        },
        AggFunc::Sum => Cell::Sum(0.0),
        AggFunc::Values => Cell::Values(BTreeSet::new()),
    }
}

fn add_to_cell(agg: &Agg, cell: &mut Cell, record: &Record) {
    let values = match &agg.field {
        Some(field) => match record.get(field) {
            Some(v) => v.as_slice(),
            None => return,
        },
        None => {
            if let Cell::Count(n) = cell {
                *n += 1;
            }
            return;
        }
    };
    for value in values {
        match cell {
            Cell::Count(n) => *n += 1,
            Cell::Distinct(set) | Cell::Values(set) => {
                if !set.contains(value.as_str()) {
                    set.insert(value.clone());
                }
            }
            Cell::Extreme { num, text } => {
                let keep_min = agg.func == AggFunc::Min;
                fold_extreme(num, text, value, keep_min);
            }
            Cell::Sum(total) => {
                if let Ok(n) = value.trim().parse::<f64>() {
                    *total += n;
                }
            }
        }
    }
}

fn fold_extreme(num: &mut Option<f64>, text: &mut Option<String>, value: &str, min: bool) {
    if let Ok(n) = value.trim().parse::<f64>() {
        let better = num.is_none_or(|cur| if min { n < cur } else { n > cur });
        if better {
            *num = Some(n);
        }
        return;
    }
    let better = text
        .as_deref()
        .is_none_or(|cur| if min { value < cur } else { value > cur });
    if better {
        *text = Some(value.to_owned());
    }
}

/// The values a record contributes to the BY columns: one key per
/// combination of values (a multivalue BY field splits the record across
/// groups, as Splunk does). `None` when a BY field is missing: Splunk puts
/// such a record in no row at all.
pub fn group_keys(spec: &StatsSpec, record: &Record) -> Option<Vec<Vec<String>>> {
    let mut keys: Vec<Vec<String>> = vec![Vec::with_capacity(spec.by.len())];
    for field in &spec.by {
        let values = record.get(field)?.as_slice();
        if let [only] = values {
            keys.iter_mut().for_each(|k| k.push(only.clone()));
            continue;
        }
        keys = keys
            .into_iter()
            .flat_map(|k| {
                values.iter().map(move |v| {
                    let mut k = k.clone();
                    k.push(v.clone());
                    k
                })
            })
            .collect();
    }
    Some(keys)
}

/// One cell of a result row.
#[derive(Debug, Clone, PartialEq)]
pub enum RowValue {
    Null,
    Text(String),
    Number(f64),
    Multi(Vec<String>),
}

/// A result row: ordered columns, as Splunk's table shows them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row {
    pub columns: Vec<(String, RowValue)>,
}

impl Row {
    /// The value of a column.
    pub fn get(&self, name: &str) -> Option<&RowValue> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    fn set(&mut self, name: &str, value: RowValue) {
        match self.columns.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value,
            None => self.columns.push((name.to_owned(), value)),
        }
    }

    /// A column's values as text (empty for null), for messages.
    pub fn texts(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            None | Some(RowValue::Null) => vec![],
            Some(RowValue::Text(t)) => vec![t.clone()],
            Some(RowValue::Number(n)) => vec![number_text(*n)],
            Some(RowValue::Multi(vs)) => vs.clone(),
        }
    }
}

impl Fields for Row {
    fn any_value(&self, name: &str, test: &mut dyn FnMut(&str) -> bool) -> Option<bool> {
        match self.get(name)? {
            RowValue::Null => None,
            RowValue::Multi(vs) if vs.is_empty() => None,
            RowValue::Multi(vs) => Some(vs.iter().any(|v| test(v))),
            RowValue::Text(t) => Some(test(t)),
            RowValue::Number(n) => Some(test(&number_text(*n))),
        }
    }
}

/// Numbers print as Splunk prints them: integers without a fraction.
pub fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// The stats row of a group, before the row commands.
pub fn stats_row(spec: &StatsSpec, key: &[String], agg: &Aggregate) -> Row {
    let mut columns = Vec::with_capacity(spec.by.len() + spec.aggs.len());
    for (field, value) in spec.by.iter().zip(key) {
        columns.push((field.clone(), RowValue::Text(value.clone())));
    }
    for (a, cell) in spec.aggs.iter().zip(&agg.cells) {
        columns.push((a.output.clone(), cell_value(cell)));
    }
    Row { columns }
}

fn cell_value(cell: &Cell) -> RowValue {
    match cell {
        Cell::Count(n) => RowValue::Number(*n as f64),
        Cell::Distinct(set) => RowValue::Number(set.len() as f64),
        Cell::Extreme { num: Some(n), .. } => RowValue::Number(*n),
        Cell::Extreme {
            text: Some(t),
            num: None,
        } => RowValue::Text(t.clone()),
        Cell::Extreme { .. } => RowValue::Null,
        Cell::Sum(total) => RowValue::Number(*total),
        Cell::Values(set) => RowValue::Multi(set.iter().cloned().collect()),
    }
}

/// Applies the commands after `stats`; `None` when a `search` drops the row.
pub fn apply_row_commands(commands: &[RowCommand], mut row: Row) -> Option<Row> {
    for command in commands {
        match command {
            RowCommand::Convert {
                timeformat,
                conversions,
            } => {
                for c in conversions {
                    let converted = match (c.func, row.get(&c.field)) {
                        (ConvertFunc::Ctime, Some(v)) => ctime(v, timeformat),
                        (_, None) => continue,
                    };
                    row.set(&c.output, converted);
                }
            }
            RowCommand::Table(names) => {
                let columns = names
                    .iter()
                    .map(|n| (n.clone(), row.get(n).cloned().unwrap_or(RowValue::Null)))
                    .collect();
                row = Row { columns };
            }
            RowCommand::Fields { remove, names } => {
                row.columns.retain(|(n, _)| names.contains(n) != *remove);
            }
            RowCommand::Search(expr) => {
                if !expr.matches(&row) {
                    return None;
                }
            }
        }
    }
    Some(row)
}

/// `ctime`: epoch seconds to text, fractions dropped, in UTC.
fn ctime(value: &RowValue, format: &str) -> RowValue {
    let one = |text: &str| -> Option<String> {
        let secs = text.trim().parse::<f64>().ok()?.floor() as i64;
        let time = chrono::DateTime::from_timestamp(secs, 0)?;
        let mut out = String::new();
        std::fmt::Write::write_fmt(&mut out, format_args!("{}", time.format(format))).ok()?;
        Some(out)
    };
    match value {
        RowValue::Number(n) => one(&n.to_string()).map_or(value.clone(), RowValue::Text),
        RowValue::Text(t) => one(t).map_or(value.clone(), RowValue::Text),
        RowValue::Multi(vs) => RowValue::Multi(
            vs.iter()
                .map(|v| one(v).unwrap_or_else(|| v.clone()))
                .collect(),
        ),
        RowValue::Null => RowValue::Null,
    }
}

/// The columns a plan's rows end with, in order.
pub fn output_columns(plan: &Plan) -> Vec<String> {
    let mut columns: Vec<String> = plan.stats.by.clone();
    columns.extend(plan.stats.aggs.iter().map(|a| a.output.clone()));
    for command in &plan.post {
        match command {
            RowCommand::Convert { conversions, .. } => {
                for c in conversions {
                    if !columns.contains(&c.output) {
                        columns.push(c.output.clone());
                    }
                }
            }
            RowCommand::Table(names) => columns = names.clone(),
            RowCommand::Fields { remove, names } => {
                columns.retain(|c| names.contains(c) != *remove)
            }
            RowCommand::Search(_) => {}
        }
    }
    columns
}

/// Checks what the parser cannot: that every `timeformat` is valid.
///
/// # Errors
/// The first invalid time format.
pub fn check_plan(plan: &Plan) -> Result<(), String> {
    for command in &plan.post {
        if let RowCommand::Convert { timeformat, .. } = command {
            let invalid = chrono::format::StrftimeItems::new(timeformat)
                .any(|item| matches!(item, chrono::format::Item::Error));
            if invalid {
                return Err(format!("invalid timeformat {timeformat:?}"));
            }
        }
    }
    Ok(())
}

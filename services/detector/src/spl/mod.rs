//! The subset of Splunk's search processing language (SPL) that detections
//! over flow records use, parsed once into a [`Plan`].
//!
//! Macros are expanded textually first ([`macros`]), as Splunk does; the
//! expanded text is then lexed and parsed ([`parser`]). Evaluation of the
//! filter expression lives in [`eval`]; aggregation and the commands after
//! `stats` live in [`crate::stats`].

pub mod eval;
mod fields;
pub mod lexer;
pub mod macros;
pub mod parser;
pub mod pattern;

pub use macros::{MacroDef, Macros};
pub use parser::{parse, ParseError};
pub use pattern::Pattern;

/// A compiled search: the base filter, its aggregation and what follows.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The base search (and any `search` commands before `stats`).
    pub filter: Expr,
    /// The aggregation that groups matching records into rows.
    pub stats: StatsSpec,
    /// Commands applied to each aggregated row, in order.
    pub post: Vec<RowCommand>,
}

/// A boolean search expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `*`: every record.
    All,
    /// `field=pattern`, `field!=pattern`, `field<value`….
    Compare {
        field: String,
        op: CmpOp,
        pattern: Pattern,
    },
    /// `field IN (p1, p2, …)`: an OR of `field=p`.
    In {
        field: String,
        patterns: Vec<Pattern>,
    },
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

/// Comparison operators of the `search` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// `stats <aggregations> by <fields>`.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsSpec {
    pub aggs: Vec<Agg>,
    pub by: Vec<String>,
}

/// One aggregation and the column it fills.
#[derive(Debug, Clone, PartialEq)]
pub struct Agg {
    pub func: AggFunc,
    /// The input field; `None` only for a bare `count`.
    pub field: Option<String>,
    /// The output column (`as` name, else Splunk's default `func(field)`).
    pub output: String,
}

/// Aggregation functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFunc {
    Count,
    DistinctCount,
    Min,
    Max,
    Sum,
    Values,
}

/// Commands that transform an aggregated row.
#[derive(Debug, Clone, PartialEq)]
pub enum RowCommand {
    /// `convert timeformat=… ctime(field) [as name]`.
    Convert {
        timeformat: String,
        conversions: Vec<Conversion>,
    },
    /// `table f1 f2 …`: select and order the columns.
    Table(Vec<String>),
    /// `fields f1 f2 …` or `fields - f1 …`.
    Fields { remove: bool, names: Vec<String> },
    /// `search <expr>`: keep the row when it matches.
    Search(Expr),
}

/// One `convert` function application.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    pub func: ConvertFunc,
    pub field: String,
    pub output: String,
}

/// `convert` functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvertFunc {
    /// Epoch seconds → text in `timeformat`.
    Ctime,
}

/// Renders epoch milliseconds as Splunk keeps `_time`: seconds with the
/// fraction when there is one (`1750954134.331`).
pub fn format_epoch_secs(ms: i64) -> String {
    let (secs, frac) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    if frac == 0 {
        return secs.to_string();
    }
    let frac = format!("{frac:03}");
    format!("{secs}.{}", frac.trim_end_matches('0'))
}

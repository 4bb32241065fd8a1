//! The field names a compiled search reads.
//!
//! Decoding can skip every field no rule reads, so a plan reports the names
//! it touches: the base filter, the `stats` inputs and BY fields (read from
//! records), and the names the commands after `stats` use (read from rows).
//! Row names are included too: a name that is only a column costs nothing
//! when no record carries it, and a record field that a later command reads
//! back can then never be missed.

use super::{Expr, Plan, RowCommand};
use std::collections::BTreeSet;

impl Expr {
    /// Adds every field the expression tests to `out`.
    pub fn add_field_names(&self, out: &mut BTreeSet<String>) {
        match self {
            Expr::All => {}
            Expr::Compare { field, .. } | Expr::In { field, .. } => {
                out.insert(field.clone());
            }
            Expr::Not(inner) => inner.add_field_names(out),
            Expr::And(items) | Expr::Or(items) => {
                items.iter().for_each(|e| e.add_field_names(out));
            }
        }
    }
}

impl Plan {
    /// Adds every field and column name the plan reads or writes to `out`.
    pub fn add_field_names(&self, out: &mut BTreeSet<String>) {
        self.filter.add_field_names(out);
        out.extend(self.stats.by.iter().cloned());
        for agg in &self.stats.aggs {
            out.extend(agg.field.iter().cloned());
            out.insert(agg.output.clone());
        }
        for command in &self.post {
            match command {
                RowCommand::Convert { conversions, .. } => {
                    for c in conversions {
                        out.insert(c.field.clone());
                        out.insert(c.output.clone());
                    }
                }
                RowCommand::Table(names) | RowCommand::Fields { names, .. } => {
                    out.extend(names.iter().cloned());
                }
                RowCommand::Search(expr) => expr.add_field_names(out),
            }
        }
    }

    /// The names [`Plan::add_field_names`] reports, as a set.
    pub fn field_names(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.add_field_names(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::spl::parse;

    fn names(search: &str) -> Vec<String> {
        parse(search).unwrap().field_names().into_iter().collect()
    }

    #[test]
    fn reports_filter_stats_and_row_command_names() {
        let got = names(
            "a=1 (NOT b=2 OR c IN (x, y)) d>3 \
             | stats count min(t) as first values(v) by g h \
             | convert ctime(first) as shown | table g shown | search count>1",
        );
        let want = [
            "a",
            "b",
            "c",
            "count",
            "d",
            "first",
            "g",
            "h",
            "shown",
            "t",
            "v",
            "values(v)",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn a_search_for_everything_reads_only_its_stats_fields() {
        assert_eq!(names("* | stats count by src"), ["count", "src"]);
    }
}

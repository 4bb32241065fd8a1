//! Evaluates a search expression against anything that has fields: a flow
//! record in the base search, an aggregated row after `stats`.
//!
//! A missing field never equals anything (`field=x` and `field="*"` are
//! false), so `NOT field=x` is true for it; a multivalue field matches when
//! any of its values does.

use super::{CmpOp, Expr, Pattern};
use crate::record::Record;

/// Something whose fields a search can test.
pub trait Fields {
    /// Calls `test` on each value of `name` until one returns true.
    /// Returns `None` when the field is absent, else whether any matched.
    fn any_value(&self, name: &str, test: &mut dyn FnMut(&str) -> bool) -> Option<bool>;
}

impl Fields for Record {
    fn any_value(&self, name: &str, test: &mut dyn FnMut(&str) -> bool) -> Option<bool> {
        let values = self.get(name)?.as_slice();
        Some(values.iter().any(|v| test(v)))
    }
}

impl Expr {
    /// Whether the expression holds for `item`.
    pub fn matches(&self, item: &dyn Fields) -> bool {
        match self {
            Expr::All => true,
            Expr::Compare { field, op, pattern } => compare(item, field, *op, pattern),
            Expr::In { field, patterns } => {
                let mut test = |v: &str| super::pattern::any_matches(patterns, v);
                item.any_value(field, &mut test).unwrap_or(false)
            }
            Expr::Not(inner) => !inner.matches(item),
            Expr::And(terms) => terms.iter().all(|t| t.matches(item)),
            Expr::Or(terms) => terms.iter().any(|t| t.matches(item)),
        }
    }
}

fn compare(item: &dyn Fields, field: &str, op: CmpOp, pattern: &Pattern) -> bool {
    match op {
        CmpOp::Eq => item.any_value(field, &mut |v| pattern.matches(v)),
        // `field!=x` needs the field: it is "present and not x".
        CmpOp::Ne => item
            .any_value(field, &mut |v| pattern.matches(v))
            .map(|any| !any),
        _ => item.any_value(field, &mut |v| ordered(v, op, pattern.source())),
    }
    .unwrap_or(false)
}

/// `<`, `<=`, `>`, `>=`: numeric when both sides are numbers, else by text.
fn ordered(value: &str, op: CmpOp, bound: &str) -> bool {
    let ordering = match (value.trim().parse::<f64>(), bound.trim().parse::<f64>()) {
        (Ok(a), Ok(b)) => a.partial_cmp(&b),
        _ => Some(value.cmp(bound)),
    };
    let Some(ordering) = ordering else {
        return false;
    };
    match op {
        CmpOp::Lt => ordering.is_lt(),
        CmpOp::Le => ordering.is_le(),
        CmpOp::Gt => ordering.is_gt(),
        CmpOp::Ge => ordering.is_ge(),
        CmpOp::Eq | CmpOp::Ne => unreachable!("handled by pattern matching"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Encoding, Value};
    use crate::spl::parse;

    fn record(fields: &[(&str, &[&str])]) -> Record {
        let mut r = Record::new(0, Encoding::Json);
        for (k, vs) in fields {
            let value = match vs {
                [one] => Value::One((*one).into()),
                many => Value::Many(many.iter().map(|s| (*s).into()).collect()),
            };
            r.insert(*k, value);
        }
        r
    }

    fn holds(search: &str, r: &Record) -> bool {
        parse(&format!("{search} | stats count by x"))
            .unwrap()
            .filter
            .matches(r)
    }

    #[test]
    fn missing_fields_never_match_but_not_of_them_does() {
        let r = record(&[("a", &["1"])]);
        assert!(!holds("b=*", &r));
        assert!(!holds("b!=1", &r));
        assert!(holds("NOT b=1", &r));
        assert!(!holds("b IN (*)", &r));
    }

    #[test]
    fn multivalue_fields_match_when_any_value_does() {
        let r = record(&[("m", &["x.dll", "y.dll"])]);
        assert!(holds("m=y.DLL", &r));
        assert!(!holds("m!=y.dll", &r));
    }

    #[test]
    fn ordered_comparisons_are_numeric_for_numbers() {
        let r = record(&[("port", &["443"])]);
        assert!(holds("port>80", &r));
        assert!(holds("port<=443", &r));
        assert!(!holds("port<1000 port>500", &r));
    }
}

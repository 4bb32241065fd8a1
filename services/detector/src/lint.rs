//! Rule lint: points out where a search quietly matches less (or more) than
//! its author likely meant. Findings never change what a rule does: the
//! engine reproduces Splunk's meaning, weaknesses included.

use crate::rule::Rule;
use crate::spl::{CmpOp, Expr, Pattern};
use std::fmt;

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: &'static str,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.code, self.message)
    }
}

/// BY fields that Windows-only or newer records carry; grouping by them
/// drops every record that lacks them.
const PLATFORM_FIELDS: &[(&str, &str)] = &[
    (
        "process_integrity_level",
        "macOS and Linux hosts and nvzFlow_v3 records",
    ),
    (
        "parent_process_integrity_level",
        "macOS and Linux hosts and nvzFlow_v3 records",
    ),
    ("process_id", "nvzFlow_v3 records"),
    (
        "parent_process_path",
        "nvzFlow_v3 records and processes whose parent exited",
    ),
    ("process_path", "nvzFlow_v3 records"),
];

/// Lints a compiled rule.
pub fn lint(rule: &Rule) -> Vec<Finding> {
    let mut findings = vec![];
    visit(&rule.plan.filter, &mut |field, pattern| {
        check_pattern(field, pattern, &mut findings)
    });
    for field in &rule.plan.stats.by {
        if let Some((_, who)) = PLATFORM_FIELDS.iter().find(|(f, _)| f == field) {
            findings.push(Finding {
                code: "by-field-often-missing",
                message: format!(
                    "grouping by `{field}` drops matching records that lack it ({who}); \
                     Splunk puts such records in no row"
                ),
            });
        }
    }
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| seen.insert(f.message.clone()));
    findings
}

fn visit(expr: &Expr, f: &mut impl FnMut(&str, &Pattern)) {
    match expr {
        Expr::All => {}
        Expr::Compare { field, op, pattern } => {
            if matches!(op, CmpOp::Eq | CmpOp::Ne) {
                f(field, pattern);
            }
        }
        Expr::In { field, patterns } => patterns.iter().for_each(|p| f(field, p)),
        Expr::Not(inner) => visit(inner, f),
        Expr::And(items) | Expr::Or(items) => items.iter().for_each(|e| visit(e, f)),
    }
}

fn check_pattern(field: &str, pattern: &Pattern, findings: &mut Vec<Finding>) {
    let text = pattern.source();
    let mut add = |code, message| findings.push(Finding { code, message });

    // "*--transfers": the option must be the very last argument.
    if text.starts_with('*') && !text.ends_with('*') {
        if let Some(option) = text
            .rsplit(' ')
            .next()
            .filter(|w| w.trim_start_matches('*').starts_with('-'))
        {
            add(
                "option-anchored-at-end",
                format!(
                    "{field}=\"{text}\" matches only when `{}` is the last argument; an option \
                     that takes a value never is (did you mean \"{text}*\"?)",
                    option.trim_start_matches('*')
                ),
            );
        }
    }
    // "* copy *": needs a space before the word, which the arguments may not have.
    if field_is_arguments(field) && text.starts_with("* ") && !text.starts_with("* *") {
        add(
            "needs-leading-space",
            format!(
                "{field}=\"{text}\" needs a space before `{}`, but process arguments may not \
                 start with one (the image path is not part of them)",
                text[2..].trim_end_matches('*').trim()
            ),
        );
    }
    // "*ftp:*": an open start also matches longer names.
    if text.starts_with('*') && text.ends_with(":*") && text.len() > 3 {
        let name = &text[1..text.len() - 1];
        let example = if name.eq_ignore_ascii_case("ftp:") {
            " (for example `sftp:`)".to_owned()
        } else {
            String::new()
        };
        add(
            "open-remote-name",
            format!(
                "{field}=\"{text}\" also matches any remote whose name ends in `{name}`{example}; \
                 remote names are chosen by the user"
            ),
        );
    }
    // process_name="x.exe": renamed binaries and non-Windows builds escape it.
    if field == "process_name"
        && pattern.is_literal()
        && text.to_ascii_lowercase().ends_with(".exe")
    {
        add(
            "literal-image-name",
            format!(
                "process_name=\"{text}\" misses a renamed binary and builds without `.exe` \
                 (macOS, Linux)"
            ),
        );
    }
}

fn field_is_arguments(field: &str) -> bool {
    matches!(
        field,
        "process_arguments" | "parg" | "parent_process_arguments" | "pparg"
    )
}

//! Search macros, expanded textually before parsing as Splunk does.
//!
//! `` `name` `` and `` `name(a, b)` `` are replaced by the definition of
//! `name` with the matching arity, `$arg$` substituted. Expansion is
//! recursive (bounded), and every expanded character keeps a link to the
//! place in the original search that produced it, so parse errors point at
//! the rule file, not at text the user never wrote.

use serde::Deserialize;
use std::collections::HashMap;

/// Maximum nesting of macros inside macros.
const MAX_DEPTH: usize = 16;

/// One macro definition, as in a macros file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MacroDef {
    pub name: String,
    pub definition: String,
    #[serde(default)]
    pub arguments: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// The macros known to a rule set, by name and arity.
#[derive(Debug, Clone, Default)]
pub struct Macros {
    defs: HashMap<(String, usize), MacroDef>,
}

/// Where a run of expanded text came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// Start of the run in the expanded text.
    pub expanded: usize,
    /// Start of the run in the original search text (for a macro, the
    /// position of its call).
    pub original: usize,
    /// The macro the run came from, if any.
    pub from_macro: Option<String>,
}

/// Expanded search text and the map back to the original.
#[derive(Debug, Clone)]
pub struct Expanded {
    pub text: String,
    pub spans: Vec<Span>,
}

impl Expanded {
    /// Maps an offset in the expanded text back to the original search, and
    /// names the macro when the offset lies in one's expansion.
    pub fn origin(&self, offset: usize) -> (usize, Option<&str>) {
        let span = self
            .spans
            .iter()
            .rev()
            .find(|s| s.expanded <= offset)
            .expect("the first span starts at 0");
        match &span.from_macro {
            Some(name) => (span.original, Some(name)),
            None => (span.original + (offset - span.expanded), None),
        }
    }
}

/// A macro that could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct MacroError {
    /// Offset of the macro call in the original search.
    pub offset: usize,
    pub message: String,
}

impl Macros {
    /// Adds (or replaces) a definition.
    pub fn define(&mut self, def: MacroDef) {
        self.defs
            .insert((def.name.clone(), def.arguments.len()), def);
    }

    /// Whether a macro of this name and arity exists.
    pub fn contains(&self, name: &str, arity: usize) -> bool {
        self.defs.contains_key(&(name.to_owned(), arity))
    }

    /// Expands every macro call in `search`.
    ///
    /// # Errors
    /// An unknown macro, a wrong argument count, an unclosed backtick or
    /// nesting deeper than 16 levels.
    pub fn expand(&self, search: &str) -> Result<Expanded, MacroError> {
        self.expand_at(search, 0)
    }

    fn expand_at(&self, search: &str, depth: usize) -> Result<Expanded, MacroError> {
        let mut out = Expanded {
            text: String::with_capacity(search.len() * 2),
            spans: vec![],
        };
        let mut literal_start = 0;
        let mut pos = 0;
        let mut in_quotes = false;
        let bytes = search.as_bytes();
        while pos < bytes.len() {
            match bytes[pos] {
                b'\\' if in_quotes => pos += 1,
                b'"' => in_quotes = !in_quotes,
                b'`' if !in_quotes => {
                    push_literal(&mut out, search, literal_start, pos);
                    let (call, end) = call_at(search, pos)?;
                    let text = self.expand_call(&call, pos, depth)?;
                    out.spans.push(Span {
                        expanded: out.text.len(),
                        original: pos,
                        from_macro: Some(call.name.clone()),
                    });
                    out.text.push_str(&text);
                    pos = end;
                    literal_start = end;
                    continue;
                }
                _ => {}
            }
            pos += 1;
        }
        push_literal(&mut out, search, literal_start, search.len());
        if out.spans.is_empty() {
            out.spans.push(Span {
                expanded: 0,
                original: 0,
                from_macro: None,
            });
        }
        Ok(out)
    }

    /// Expands one call (recursively), returning its full text.
    fn expand_call(&self, call: &Call, offset: usize, depth: usize) -> Result<String, MacroError> {
        let error = |message: String| MacroError { offset, message };
        if depth >= MAX_DEPTH {
            return Err(error(format!(
                "macro `{}` nests deeper than {MAX_DEPTH} levels",
                call.name
            )));
        }
        let def = self
            .defs
            .get(&(call.name.clone(), call.args.len()))
            .ok_or_else(|| error(self.unknown(call)))?;

        let mut body = def.definition.clone();
        for (param, value) in def.arguments.iter().zip(&call.args) {
            body = body.replace(&format!("${param}$"), value);
        }
        // Nested calls inside the definition are attributed to this call.
        let inner = self
            .expand_at(&body, depth + 1)
            .map_err(|e| error(e.message))?;
        Ok(inner.text)
    }

    fn unknown(&self, call: &Call) -> String {
        let arities: Vec<usize> = self
            .defs
            .keys()
            .filter(|(n, _)| *n == call.name)
            .map(|(_, a)| *a)
            .collect();
        if arities.is_empty() {
            format!("unknown macro `{}`", call.name)
        } else {
            format!(
                "macro `{}` takes {:?} argument(s), called with {}",
                call.name,
                arities,
                call.args.len()
            )
        }
    }
}

fn push_literal(out: &mut Expanded, search: &str, from: usize, to: usize) {
    if from >= to {
        return;
    }
    out.spans.push(Span {
        expanded: out.text.len(),
        original: from,
        from_macro: None,
    });
    out.text.push_str(&search[from..to]);
}

/// A parsed macro call.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Call {
    name: String,
    args: Vec<String>,
}

/// Parses the call starting with the backtick at `pos`; returns it and the
/// offset just past the closing backtick.
fn call_at(search: &str, pos: usize) -> Result<(Call, usize), MacroError> {
    let rest = &search[pos + 1..];
    let close = rest.find('`').ok_or(MacroError {
        offset: pos,
        message: "unclosed macro call (missing closing backtick)".into(),
    })?;
    let inner = rest[..close].trim();
    let call = match inner.find('(') {
        Some(open) if inner.ends_with(')') => Call {
            name: inner[..open].trim().to_owned(),
            args: split_args(&inner[open + 1..inner.len() - 1]),
        },
        _ => Call {
            name: inner.to_owned(),
            args: vec![],
        },
    };
    if call.name.is_empty() {
        return Err(MacroError {
            offset: pos,
            message: "empty macro name".into(),
        });
    }
    Ok((call, pos + 1 + close + 1))
}

/// Splits macro arguments on top-level commas, outside quotes.
fn split_args(text: &str) -> Vec<String> {
    if text.trim().is_empty() {
        return vec![];
    }
    let mut args = vec![];
    let mut current = String::new();
    let mut in_quotes = false;
    for c in text.chars() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                current.push(c);
            }
            ',' if !in_quotes => args.push(std::mem::take(&mut current).trim().to_owned()),
            c => current.push(c),
        }
    }
    args.push(current.trim().to_owned());
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn macros() -> Macros {
        let mut m = Macros::default();
        m.define(MacroDef {
            name: "input".into(),
            definition: "sourcetype=\"x*\"".into(),
            arguments: vec![],
            description: None,
        });
        m.define(MacroDef {
            name: "ctime".into(),
            definition: "convert ctime($field$)".into(),
            arguments: vec!["field".into()],
            description: None,
        });
        m.define(MacroDef {
            name: "outer".into(),
            definition: "`input` a=1".into(),
            arguments: vec![],
            description: None,
        });
        m
    }

    #[test]
    fn expands_plain_argument_and_nested_macros() {
        let e = macros()
            .expand("`input` b=2 | `ctime(t)` | `outer`")
            .unwrap();
        assert_eq!(
            e.text,
            "sourcetype=\"x*\" b=2 | convert ctime(t) | sourcetype=\"x*\" a=1"
        );
    }

    #[test]
    fn maps_expanded_offsets_back_to_the_search() {
        let e = macros().expand("`input` b=2").unwrap();
        let b = e.text.find("b=2").unwrap();
        assert_eq!(e.origin(b), (8, None));
        assert_eq!(e.origin(2), (0, Some("input")));
    }

    #[test]
    fn leaves_backticks_inside_quotes_alone() {
        let e = macros().expand("a=\"`input`\"").unwrap();
        assert_eq!(e.text, "a=\"`input`\"");
    }

    #[test]
    fn stops_self_referencing_macros() {
        let mut m = macros();
        m.define(MacroDef {
            name: "loop".into(),
            definition: "a `loop`".into(),
            arguments: vec![],
            description: None,
        });
        let err = m.expand("`loop`").unwrap_err();
        assert!(err.message.contains("deeper than"), "{}", err.message);
    }

    #[test]
    fn reports_unknown_macros_and_wrong_arity() {
        let err = macros().expand("x `nope`").unwrap_err();
        assert_eq!(err.offset, 2);
        assert!(err.message.contains("unknown macro `nope`"));
        let err = macros().expand("`ctime`").unwrap_err();
        assert!(
            err.message.contains("takes [1] argument"),
            "{}",
            err.message
        );
    }
}

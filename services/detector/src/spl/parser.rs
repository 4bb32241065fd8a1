//! Parses macro-expanded search text into a [`Plan`].
//!
//! Precedence follows Splunk's `search` command: NOT binds tightest, then
//! OR, then AND (explicit or implied by whitespace), so `a=1 b=2 OR c=3`
//! reads `a=1 AND (b=2 OR c=3)`. Operators are upper case; anything else is
//! a field name or a value.

use super::lexer::{lex, Tok, Token};
use super::{
    Agg, AggFunc, CmpOp, Conversion, ConvertFunc, Expr, Pattern, Plan, RowCommand, StatsSpec,
};

/// A parse failure at a byte offset of the expanded search text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

/// Parses a full search pipeline.
///
/// # Errors
/// Unsupported commands or syntax, a missing `stats`, or a lexing error.
pub fn parse(text: &str) -> Result<Plan, ParseError> {
    let tokens = lex(text).map_err(|e| ParseError {
        offset: e.offset,
        message: e.message,
    })?;
    let end = text.len();
    let mut filters = vec![];
    let mut stats = None;
    let mut post = vec![];

    for (i, (segment, end)) in split_pipeline(&tokens, end).into_iter().enumerate() {
        let mut p = Parser {
            tokens: segment,
            pos: 0,
            end,
        };
        let command = p.command_name(i == 0);
        match (command.as_deref(), stats.is_some()) {
            (Some("search"), false) => filters.push(p.expression_to_end()?),
            (Some("search"), true) => post.push(RowCommand::Search(p.expression_to_end()?)),
            (Some("stats"), false) => stats = Some(p.stats()?),
            (Some("stats"), true) => {
                return Err(p.error_here("only one `stats` command is supported"))
            }
            (Some(_), false) => {
                return Err(p.error_at_start("commands other than `search` must follow `stats`"))
            }
            (Some("convert"), true) => post.push(p.convert()?),
            (Some("table"), true) => post.push(RowCommand::Table(p.field_list()?)),
            (Some("fields"), true) => post.push(p.fields()?),
            (Some(other), true) => {
                return Err(p.error_at_start(&format!("unsupported command `{other}`")))
            }
            (None, _) => return Err(p.error_here("empty command between pipes")),
        }
    }

    let Some(stats) = stats else {
        return Err(ParseError {
            offset: 0,
            message: "the search needs a `stats … by …` command: alerts are aggregated rows".into(),
        });
    };
    let filter = match filters.len() {
        1 => filters.pop().unwrap_or(Expr::All),
        _ => Expr::And(filters),
    };
    Ok(Plan {
        filter,
        stats,
        post,
    })
}

/// Splits the tokens at pipes; each command ends where its pipe stands.
fn split_pipeline(tokens: &[Token], text_end: usize) -> Vec<(&[Token], usize)> {
    let mut segments = vec![];
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        if token.kind == Tok::Pipe {
            segments.push((&tokens[start..i], token.offset));
            start = i + 1;
        }
    }
    segments.push((&tokens[start..], text_end));
    segments
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    /// Offset reported for errors at the end of the segment.
    end: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a Tok> {
        self.tokens.get(self.pos).map(|t| &t.kind)
    }

    fn peek_at(&self, ahead: usize) -> Option<&'a Tok> {
        self.tokens.get(self.pos + ahead).map(|t| &t.kind)
    }

    fn next(&mut self) -> Option<&'a Tok> {
        let t = self.peek();
        self.pos += usize::from(t.is_some());
        t
    }

    fn offset(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |t| t.offset)
    }

    fn error_here(&self, message: &str) -> ParseError {
        ParseError {
            offset: self.offset(),
            message: message.to_owned(),
        }
    }

    fn error_at_start(&self, message: &str) -> ParseError {
        ParseError {
            offset: self.tokens.first().map_or(self.end, |t| t.offset),
            message: message.to_owned(),
        }
    }

    fn unexpected(&self, wanted: &str) -> ParseError {
        let found = self
            .peek()
            .map_or("the end of the command".into(), Tok::describe);
        self.error_here(&format!("expected {wanted}, found {found}"))
    }

    fn expect(&mut self, tok: &Tok, wanted: &str) -> Result<(), ParseError> {
        if self.peek() == Some(tok) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(wanted))
        }
    }

    fn at_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w == word)
    }

    fn at_word_ci(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    /// The command name, lower-cased. The first segment is an implied
    /// `search` unless it names a command.
    fn command_name(&mut self, first: bool) -> Option<String> {
        match self.peek() {
            Some(Tok::Word(w)) if is_command(w) => {
                self.pos += 1;
                Some(w.to_ascii_lowercase())
            }
            Some(_) if first => Some("search".into()),
            Some(Tok::Word(w)) => Some(w.to_ascii_lowercase()),
            _ => None,
        }
    }

    fn expression_to_end(&mut self) -> Result<Expr, ParseError> {
        if self.peek().is_none() {
            return Err(self.error_here("empty search"));
        }
        let expr = self.and()?;
        if self.peek().is_some() {
            return Err(self.unexpected("a search term"));
        }
        Ok(expr)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut terms = vec![self.or()?];
        while !matches!(self.peek(), None | Some(Tok::RParen)) {
            if self.at_word("AND") {
                self.next();
            }
            terms.push(self.or()?);
        }
        Ok(collapse(terms, Expr::And))
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut items = vec![self.not()?];
        while self.at_word("OR") {
            self.next();
            items.push(self.not()?);
        }
        Ok(collapse(items, Expr::Or))
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        if self.at_word("NOT") {
            self.next();
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        match self.peek() {
            Some(Tok::LParen) => {
                self.next();
                if self.peek() == Some(&Tok::RParen) {
                    return Err(self.error_here("empty parentheses"));
                }
                let inner = self.and()?;
                self.expect(&Tok::RParen, "`)`")?;
                Ok(inner)
            }
            Some(Tok::Word(w)) if w == "*" && !self.next_is_operator() => {
                self.next();
                Ok(Expr::All)
            }
            Some(Tok::Word(w)) if matches!(w.as_str(), "AND" | "OR") => {
                Err(self.unexpected("a search term"))
            }
            Some(Tok::Word(_)) if self.next_is_operator() => self.comparison(),
            Some(Tok::Word(_)) if matches!(self.peek_at(1), Some(Tok::Word(w)) if w == "IN") => {
                self.in_list()
            }
            Some(Tok::Word(_) | Tok::Quoted(_)) => Err(self
                .error_here("bare search terms are not supported; compare a field (field=value)")),
            _ => Err(self.unexpected("a search term")),
        }
    }

    fn next_is_operator(&self) -> bool {
        matches!(
            self.peek_at(1),
            Some(Tok::Eq | Tok::Ne | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge)
        )
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        let field = self.word("a field name")?;
        let op = match self.next() {
            Some(Tok::Eq) => CmpOp::Eq,
            Some(Tok::Ne) => CmpOp::Ne,
            Some(Tok::Lt) => CmpOp::Lt,
            Some(Tok::Le) => CmpOp::Le,
            Some(Tok::Gt) => CmpOp::Gt,
            Some(Tok::Ge) => CmpOp::Ge,
            _ => unreachable!("checked by next_is_operator"),
        };
        let value = self.value()?;
        Ok(Expr::Compare {
            field,
            op,
            pattern: Pattern::new(&value),
        })
    }

    fn in_list(&mut self) -> Result<Expr, ParseError> {
        let field = self.word("a field name")?;
        self.next(); // IN
        self.expect(&Tok::LParen, "`(` after IN")?;
        let mut patterns = vec![];
        loop {
            patterns.push(Pattern::new(&self.value()?));
            match self.peek() {
                Some(Tok::Comma) => self.pos += 1,
                Some(Tok::RParen) => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.unexpected("`,` or `)` in the IN list")),
            }
        }
        Ok(Expr::In { field, patterns })
    }

    fn value(&mut self) -> Result<String, ParseError> {
        match self.peek() {
            Some(Tok::Word(w) | Tok::Quoted(w)) => {
                self.next();
                Ok(w.clone())
            }
            _ => Err(self.unexpected("a value")),
        }
    }

    fn word(&mut self, what: &str) -> Result<String, ParseError> {
        match self.peek() {
            Some(Tok::Word(w)) => {
                self.next();
                Ok(w.clone())
            }
            _ => Err(self.unexpected(what)),
        }
    }

    fn stats(&mut self) -> Result<StatsSpec, ParseError> {
        let mut aggs = vec![];
        while self.peek().is_some() && !self.at_word_ci("by") {
            if self.peek() == Some(&Tok::Comma) {
                self.next();
                continue;
            }
            aggs.push(self.aggregation()?);
        }
        if aggs.is_empty() {
            return Err(self.error_here("`stats` needs at least one aggregation"));
        }
        if !self.at_word_ci("by") {
            return Err(self.error_here("`stats` needs a `by` clause: alerts are per group"));
        }
        self.next();
        let by = self.field_list()?;
        Ok(StatsSpec { aggs, by })
    }

    fn aggregation(&mut self) -> Result<Agg, ParseError> {
        let name_offset = self.offset();
        let name = self.word("an aggregation such as count or values(field)")?;
        let func = match name.to_ascii_lowercase().as_str() {
            "count" | "c" => AggFunc::Count,
            "dc" | "distinct_count" => AggFunc::DistinctCount,
            "min" => AggFunc::Min,
            "max" => AggFunc::Max,
            "sum" => AggFunc::Sum,
            "values" => AggFunc::Values,
            _ => {
                return Err(ParseError {
                    offset: name_offset,
                    message: format!("unsupported stats function `{name}`"),
                })
            }
        };
        let field = if self.peek() == Some(&Tok::LParen) {
            self.next();
            let field = self.word("a field name")?;
            self.expect(&Tok::RParen, "`)`")?;
            Some(field)
        } else if func == AggFunc::Count {
            None
        } else {
            return Err(self.unexpected(&format!("`(` after {name}")));
        };
        let output = if self.at_word_ci("as") {
            self.next();
            self.word("a column name after `as`")?
        } else {
            match &field {
                Some(f) => format!("{name}({f})"),
                None => name.clone(),
            }
        };
        Ok(Agg {
            func,
            field,
            output,
        })
    }

    fn field_list(&mut self) -> Result<Vec<String>, ParseError> {
        let mut names = vec![];
        while let Some(tok) = self.peek() {
            match tok {
                Tok::Comma => {
                    self.next();
                }
                Tok::Word(w) => {
                    names.push(w.clone());
                    self.next();
                }
                _ => return Err(self.unexpected("a field name")),
            }
        }
        if names.is_empty() {
            return Err(self.error_here("expected at least one field name"));
        }
        Ok(names)
    }

    fn fields(&mut self) -> Result<RowCommand, ParseError> {
        let remove = match self.peek() {
            Some(Tok::Word(w)) if w == "-" || w == "+" => {
                let remove = w == "-";
                self.next();
                remove
            }
            _ => false,
        };
        Ok(RowCommand::Fields {
            remove,
            names: self.field_list()?,
        })
    }

    fn convert(&mut self) -> Result<RowCommand, ParseError> {
        // Splunk's default when no timeformat is given.
        let mut timeformat = "%m/%d/%Y %H:%M:%S".to_owned();
        let mut conversions = vec![];
        while self.peek().is_some() {
            if self.at_word_ci("timeformat") && self.peek_at(1) == Some(&Tok::Eq) {
                self.pos += 2;
                timeformat = self.value()?;
                continue;
            }
            let offset = self.offset();
            let func = self.word("a conversion such as ctime(field)")?;
            let func = match func.to_ascii_lowercase().as_str() {
                "ctime" => ConvertFunc::Ctime,
                _ => {
                    return Err(ParseError {
                        offset,
                        message: format!("unsupported convert function `{func}`"),
                    })
                }
            };
            self.expect(&Tok::LParen, "`(`")?;
            let field = self.word("a field name")?;
            self.expect(&Tok::RParen, "`)`")?;
            let output = if self.at_word_ci("as") {
                self.next();
                self.word("a field name after `as`")?
            } else {
                field.clone()
            };
            conversions.push(Conversion {
                func,
                field,
                output,
            });
        }
        if conversions.is_empty() {
            return Err(self.error_here("`convert` needs a conversion such as ctime(field)"));
        }
        Ok(RowCommand::Convert {
            timeformat,
            conversions,
        })
    }
}

fn is_command(word: &str) -> bool {
    matches!(
        word.to_ascii_lowercase().as_str(),
        "search" | "stats" | "convert" | "table" | "fields" | "eval" | "where" | "rename"
    )
}

fn collapse(mut items: Vec<Expr>, join: fn(Vec<Expr>) -> Expr) -> Expr {
    if items.len() == 1 {
        items.pop().expect("one item")
    } else {
        join(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(field: &str, value: &str) -> Expr {
        Expr::Compare {
            field: field.into(),
            op: CmpOp::Eq,
            pattern: Pattern::new(value),
        }
    }

    fn filter(search: &str) -> Expr {
        parse(&format!("{search} | stats count by a"))
            .unwrap()
            .filter
    }

    #[test]
    fn or_binds_tighter_than_implicit_and() {
        assert_eq!(
            filter("a=1 b=2 OR c=3"),
            Expr::And(vec![
                cmp("a", "1"),
                Expr::Or(vec![cmp("b", "2"), cmp("c", "3")])
            ])
        );
    }

    #[test]
    fn not_applies_to_the_next_term_only() {
        assert_eq!(
            filter("NOT a=1 b=2"),
            Expr::And(vec![Expr::Not(Box::new(cmp("a", "1"))), cmp("b", "2")])
        );
    }

    #[test]
    fn in_lists_take_wildcards() {
        assert_eq!(
            filter(r#"x IN ("*a*", b)"#),
            Expr::In {
                field: "x".into(),
                patterns: vec![Pattern::new("*a*"), Pattern::new("b")]
            }
        );
    }

    #[test]
    fn lowercase_or_is_a_value_not_an_operator() {
        let err = parse("a=1 or b=2 | stats count by a").unwrap_err();
        assert!(err.message.contains("bare search terms"), "{}", err.message);
    }

    #[test]
    fn stats_defaults_column_names_like_splunk() {
        let plan = parse("* | stats count min(_time) values(x) as xs by a, b").unwrap();
        let names: Vec<_> = plan.stats.aggs.iter().map(|a| a.output.as_str()).collect();
        assert_eq!(names, ["count", "min(_time)", "xs"]);
        assert_eq!(plan.stats.by, ["a", "b"]);
    }

    #[test]
    fn post_stats_commands_keep_their_order() {
        let plan = parse(
            r#"* | stats count by a | convert timeformat="%Y" ctime(t) | table a t | search *"#,
        )
        .unwrap();
        assert_eq!(plan.post.len(), 3);
        assert!(matches!(plan.post[2], RowCommand::Search(Expr::All)));
    }

    #[test]
    fn errors_point_at_the_offending_token() {
        let err = parse("a=1 (b=2 | stats count by a").unwrap_err();
        assert_eq!(err.message, "expected `)`, found the end of the command");
        let err = parse("a=1 | eval x=1 | stats count by a").unwrap_err();
        assert_eq!(err.offset, 6);
        let err = parse("a=1").unwrap_err();
        assert!(err.message.contains("needs a `stats"));
    }
}

//! Tokens of the search language, with byte offsets for error messages.

/// A token and where it starts in the (macro-expanded) search text.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: Tok,
    pub offset: usize,
}

/// Token kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An unquoted word: a field name, keyword, command or bare value.
    Word(String),
    /// A double-quoted string, escapes resolved.
    Quoted(String),
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LParen,
    RParen,
    Comma,
    Pipe,
}

impl Tok {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Word(w) => format!("`{w}`"),
            Tok::Quoted(q) => format!("\"{q}\""),
            Tok::Eq => "`=`".into(),
            Tok::Ne => "`!=`".into(),
            Tok::Lt => "`<`".into(),
            Tok::Le => "`<=`".into(),
            Tok::Gt => "`>`".into(),
            Tok::Ge => "`>=`".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Pipe => "`|`".into(),
        }
    }
}

/// A lexing failure at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    pub offset: usize,
    pub message: String,
}

fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '=' | '!' | '<' | '>' | '(' | ')' | ',' | '|' | '"')
}

/// Splits search text into tokens.
///
/// # Errors
/// An unterminated quoted string, or a `!` not followed by `=`.
pub fn lex(text: &str) -> Result<Vec<Token>, LexError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(offset, c)) = chars.peek() {
        let single = |kind| Token { kind, offset };
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '"' => {
                chars.next();
                tokens.push(Token {
                    kind: Tok::Quoted(quoted(&mut chars, offset)?),
                    offset,
                });
            }
            '=' | '(' | ')' | ',' | '|' => {
                chars.next();
                tokens.push(single(match c {
                    '=' => Tok::Eq,
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    ',' => Tok::Comma,
                    _ => Tok::Pipe,
                }));
            }
            '!' | '<' | '>' => {
                chars.next();
                let with_eq = chars.next_if(|&(_, n)| n == '=').is_some();
                let kind = match (c, with_eq) {
                    ('!', true) => Tok::Ne,
                    ('<', false) => Tok::Lt,
                    ('<', true) => Tok::Le,
                    ('>', false) => Tok::Gt,
                    ('>', true) => Tok::Ge,
                    _ => {
                        return Err(LexError {
                            offset,
                            message: "`!` must be followed by `=`".into(),
                        })
                    }
                };
                tokens.push(single(kind));
            }
            _ => {
                let mut word = String::new();
                while let Some((_, c)) = chars.next_if(|&(_, c)| is_word_char(c)) {
                    word.push(c);
                }
                tokens.push(single(Tok::Word(word)));
            }
        }
    }
    Ok(tokens)
}

/// Reads a quoted string after its opening quote. `\\` is one backslash and
/// `\"` a quote; any other backslash stays as written.
fn quoted(
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    start: usize,
) -> Result<String, LexError> {
    let mut out = String::new();
    while let Some((_, c)) = chars.next() {
        match c {
            '"' => return Ok(out),
            '\\' => match chars.next_if(|&(_, n)| n == '\\' || n == '"') {
                Some((_, escaped)) => out.push(escaped),
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    Err(LexError {
        offset: start,
        message: "unterminated quoted string".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Tok> {
        lex(text).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn four_backslashes_in_a_quoted_string_are_two() {
        assert_eq!(kinds(r#""*\\\\*""#), vec![Tok::Quoted(r"*\\*".into())]);
    }

    #[test]
    fn escaped_quotes_and_lone_backslashes() {
        assert_eq!(kinds(r#""a\"b\c""#), vec![Tok::Quoted(r#"a"b\c"#.into())]);
    }

    #[test]
    fn operators_and_words() {
        assert_eq!(
            kinds("a!=1 b<=2 min(_time)"),
            vec![
                Tok::Word("a".into()),
                Tok::Ne,
                Tok::Word("1".into()),
                Tok::Word("b".into()),
                Tok::Le,
                Tok::Word("2".into()),
                Tok::Word("min".into()),
                Tok::LParen,
                Tok::Word("_time".into()),
                Tok::RParen,
            ]
        );
    }

    #[test]
    fn unterminated_strings_report_where_they_start() {
        let err = lex("a=\"abc").unwrap_err();
        assert_eq!(err.offset, 2);
    }
}

//! A borrowing scanner for the flat JSON objects NVM collectors send.
//!
//! It reads a strict subset of JSON: one object whose values are strings,
//! integers, `true`, `false`, `null` or arrays of those; strings without
//! `\u` escapes; no control characters anywhere; a single space is the only
//! whitespace between tokens. Whatever it accepts, serde_json reads the same
//! way. Anything else (nested objects, fractions, tabs, `\u`, any error)
//! makes it give up, and the caller hands the message to the serde_json
//! decoder, which also words the error of a broken record.

use super::bytes::find_either;
use super::raw::RawText;

/// Calls `on` with each key and raw value in order. Returns false when the
/// text is outside the subset or `on` returned false.
pub(super) fn fields<'a>(text: &'a str, mut on: impl FnMut(&'a str, RawText<'a>) -> bool) -> bool {
    if has_control_byte(text.as_bytes()) {
        return false;
    }
    let mut cursor = Cursor { text, pos: 0 };
    cursor.object(&mut on).is_some()
}

/// Calls `on` with each item of an array that [`fields`] accepted.
pub(super) fn array_items<'a>(array: &'a str, mut on: impl FnMut(RawText<'a>)) {
    let mut cursor = Cursor {
        text: array,
        pos: 0,
    };
    // The array was validated when its record was scanned.
    let _ = cursor.array(&mut on);
}

/// Undoes the escapes a string that [`fields`] accepted may hold.
pub(super) fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let unescaped = match chars.next() {
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some('n') => '\n',
            Some('r') => '\r',
            Some('t') => '\t',
            Some(other) => other,
            None => break,
        };
        out.push(unescaped);
    }
    out
}

/// Whether any byte is below 0x20. Written as a branch-free fold over
/// blocks so that it compiles to vector instructions.
fn has_control_byte(bytes: &[u8]) -> bool {
    bytes
        .chunks(64)
        .any(|block| block.iter().fold(0u8, |seen, &b| seen | u8::from(b < 0x20)) != 0)
}

struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn eat(&mut self, expected: u8) -> Option<()> {
        (self.bump()? == expected).then_some(())
    }

    fn skip_space(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    fn object(&mut self, on: &mut impl FnMut(&'a str, RawText<'a>) -> bool) -> Option<()> {
        self.eat(b'{')?;
        self.skip_space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return self.at_end();
        }
        loop {
            let key = match self.string()? {
                RawText::Plain(key) => key,
                _ => return None,
            };
            self.skip_space();
            self.eat(b':')?;
            self.skip_space();
            let value = match self.peek()? {
                b'[' => {
                    let start = self.pos;
                    self.array(&mut |_| {})?;
                    RawText::JsonArray(&self.text[start..self.pos])
                }
                _ => self.scalar()?,
            };
            if !on(key, value) {
                return None;
            }
            self.skip_space();
            match self.bump()? {
                b',' => self.skip_space(),
                b'}' => return self.at_end(),
                _ => return None,
            }
        }
    }

    fn at_end(&self) -> Option<()> {
        (self.pos == self.text.len()).then_some(())
    }

    fn array(&mut self, on: &mut impl FnMut(RawText<'a>)) -> Option<()> {
        self.eat(b'[')?;
        self.skip_space();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Some(());
        }
        loop {
            on(self.scalar()?);
            self.skip_space();
            match self.bump()? {
                b',' => self.skip_space(),
                b']' => return Some(()),
                _ => return None,
            }
        }
    }

    fn scalar(&mut self) -> Option<RawText<'a>> {
        match self.peek()? {
            b'"' => self.string(),
            b't' => self.word("true").map(RawText::Plain),
            b'f' => self.word("false").map(RawText::Plain),
            b'n' => self.word("null").map(|_| RawText::Null),
            b'-' | b'0'..=b'9' => self.integer(),
            _ => None,
        }
    }

    fn word(&mut self, word: &'static str) -> Option<&'a str> {
        let end = self.pos + word.len();
        let found = self.text.get(self.pos..end)?;
        if found != word {
            return None;
        }
        self.pos = end;
        Some(found)
    }

    /// `-?(0|[1-9][0-9]*)`. What follows must be a delimiter, which the
    /// caller checks: a fraction, exponent or leading zero then fails.
    fn integer(&mut self) -> Option<RawText<'a>> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let digits = self.pos;
        match self.bump()? {
            b'0' => {}
            b'1'..=b'9' => {
                while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    self.pos += 1;
                }
            }
            _ => return None,
        }
        // Far below where a double overflows, which serde_json rejects.
        if self.pos - digits > 300 {
            return None;
        }
        Some(RawText::JsonInteger(&self.text[start..self.pos]))
    }

    /// A string at the opening quote: its body, plain or with escapes.
    #[inline]
    fn string(&mut self) -> Option<RawText<'a>> {
        self.eat(b'"')?;
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let mut escaped = false;
        loop {
            let at = find_either(bytes, self.pos, b'"', b'\\')?;
            if bytes[at] == b'"' {
                self.pos = at + 1;
                break;
            }
            match bytes.get(at + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                _ => return None,
            }
            escaped = true;
            self.pos = at + 2;
        }
        let body = &self.text[start..self.pos - 1];
        Some(if escaped {
            RawText::JsonEscaped(body)
        } else {
            RawText::Plain(body)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> Option<Vec<(&str, RawText<'_>)>> {
        let mut out = vec![];
        fields(text, |k, v| {
            out.push((k, v));
            true
        })
        .then_some(out)
    }

    #[test]
    fn reads_flat_objects_of_strings_arrays_and_literals() {
        let got =
            scan(r#"{ "fv": "v", "n": 12, "a": ["x", null, true], "e": "C:\\W", "z": null }"#)
                .unwrap();
        assert_eq!(
            got,
            [
                ("fv", RawText::Plain("v")),
                ("n", RawText::JsonInteger("12")),
                ("a", RawText::JsonArray(r#"["x", null, true]"#)),
                ("e", RawText::JsonEscaped(r"C:\\W")),
                ("z", RawText::Null),
            ]
        );
        assert_eq!(scan("{}").unwrap(), []);
        assert_eq!(unescape(r#"C:\\W\"x\/\n"#), "C:\\W\"x/\n");
    }

    #[test]
    fn gives_up_outside_the_subset() {
        for text in [
            r#"{"a":"b",}"#,
            r#"{"a":"b"} x"#,
            r#"{"a":{"b":"c"}}"#,
            r#"{"a":[["b"]]}"#,
            r#"{"a":1.5}"#,
            r#"{"a":1e3}"#,
            r#"{"a":01}"#,
            r#"{"a":-}"#,
            r#"{"a":"\u0041"}"#,
            r#"{"a\"":"b"}"#,
            "{\"a\":\t\"b\"}",
            "{\"a\":\"b\u{1}\"}",
            r#"{"a":"b""#,
            r#"{"a" "b"}"#,
            r#"{"a":tru}"#,
            r#"{"a":nulls}"#,
        ] {
            assert!(scan(text).is_none(), "{text}");
        }
    }

    #[test]
    fn stops_when_asked() {
        assert!(!fields(r#"{"a":"b"}"#, |_, _| false));
    }
}

//! The key=value syslog encoding of older NVM collectors.
//!
//! `Jun 26 16:09:18 127.0.0.1 Jun 26 16:09:18 host  fv="nvzFlow_v9" pr="6" …`
//!
//! Values are double-quoted and a quote inside one is written `\"`, but
//! backslashes are not escaped (`C:\Windows\…`), so a value may legitimately
//! end in a backslash. The closing quote is therefore recognised by what
//! follows it (end of line, or whitespace and the next `key=`), not by what
//! precedes it. Some collectors single-quote values; `''` and `'` mean empty.

use super::bytes::find_byte;
use super::raw::{RawText, Resolved};
use super::{DecodeError, RawField};
use std::borrow::Cow;

pub(super) fn fields(text: &str) -> Result<Vec<RawField>, DecodeError> {
    let mut fields = Vec::with_capacity(64);
    pairs(text, |key, raw| {
        if let Some(value) = raw.resolve().and_then(Resolved::into_value) {
            fields.push((key.to_owned(), value));
        }
        true
    })?;
    Ok(fields)
}

/// Calls `on` with each pair's key and undecoded value, in order, and
/// stops early when `on` returns false. Values are [`RawText::Plain`]
/// (unquoted) or [`RawText::Quoted`].
///
/// # Errors
/// Text without pairs, or malformed pairs up to the point `on` stopped.
pub(super) fn pairs<'a>(
    text: &'a str,
    mut on: impl FnMut(&'a str, RawText<'a>) -> bool,
) -> Result<(), DecodeError> {
    let bytes = text.as_bytes();
    let mut pos = first_pair(bytes).ok_or(DecodeError::NoFields)?;
    while pos < bytes.len() {
        if bytes[pos].is_ascii_whitespace() {
            pos += 1;
            continue;
        }
        let (key, value, next) = pair(text, pos)?;
        if !on(key, value) {
            break;
        }
        pos = next;
    }
    Ok(())
}

/// Maps the encodings' empty markers to "absent".
pub(super) fn present(value: String) -> Option<String> {
    (!is_absent(&value)).then_some(value)
}

/// Whether a value is one of the encodings' empty markers.
pub(super) fn is_absent(value: &str) -> bool {
    matches!(value, "" | "''" | "'")
}

/// The bytes keys are made of: ASCII letters, digits and `_`.
const KEY_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric() || b == b'_' as usize;
        b += 1;
    }
    table
};

fn is_key_byte(b: u8) -> bool {
    KEY_BYTES[usize::from(b)]
}

/// Where the key starting at `from` ends (`from` itself when none does).
fn key_end(bytes: &[u8], from: usize) -> usize {
    let mut end = from;
    while bytes.get(end).is_some_and(|&b| is_key_byte(b)) {
        end += 1;
    }
    end
}

/// Finds where the pairs begin: the first `key=` that starts a token and is
/// followed by a quote. Syslog headers never contain one.
fn first_pair(bytes: &[u8]) -> Option<usize> {
    let mut token_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b.is_ascii_whitespace() {
            token_start = i + 1;
            continue;
        }
        if b == b'='
            && i > token_start
            && bytes[token_start..i].iter().all(|&c| is_key_byte(c))
            && matches!(bytes.get(i + 1), Some(b'"') | Some(b'\''))
        {
            return Some(token_start);
        }
    }
    None
}

/// Parses `key="value"` at `pos`; returns the key, the value still
/// escaped and the position after the pair.
fn pair(text: &str, pos: usize) -> Result<(&str, RawText<'_>, usize), DecodeError> {
    let bytes = text.as_bytes();
    let key_end = key_end(bytes, pos);
    if key_end == pos || bytes.get(key_end) != Some(&b'=') {
        return Err(DecodeError::KeyValue {
            offset: pos,
            what: "expected key=",
        });
    }
    let key = &text[pos..key_end];
    let value_start = key_end + 1;

    match bytes.get(value_start) {
        Some(&quote @ (b'"' | b'\'')) => {
            let close =
                closing_quote(bytes, value_start + 1, quote).ok_or(DecodeError::KeyValue {
                    offset: value_start,
                    what: "unterminated quoted value",
                })?;
            let raw = &text[value_start + 1..close];
            Ok((key, RawText::Quoted { raw, quote }, close + 1))
        }
        _ => {
            // Unquoted value: runs to the next whitespace.
            let end = value_start
                + bytes[value_start..]
                    .iter()
                    .take_while(|b| !b.is_ascii_whitespace())
                    .count();
            Ok((key, RawText::Plain(&text[value_start..end]), end))
        }
    }
}

/// The index of the quote that closes a value opened just before `from`.
fn closing_quote(bytes: &[u8], from: usize, quote: u8) -> Option<usize> {
    let mut i = from;
    while let Some(at) = find_byte(bytes, i, quote) {
        if ends_value(bytes, at + 1) {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// Whether `pos` (just after a quote) is the end of a value: end of text, or
/// whitespace followed by another `key=` or the end. A `key=` followed by an
/// escaped quote (`pn=\"`) is text inside the value: NVM escapes the quotes
/// of a command line, so `parg="x\" pn=\"y"` is one argument string, not a
/// second `pn` that could hide the first.
fn ends_value(bytes: &[u8], pos: usize) -> bool {
    let Some(first) = bytes.get(pos) else {
        return true;
    };
    if !first.is_ascii_whitespace() {
        return false;
    }
    let mut next = pos + 1;
    while bytes.get(next).is_some_and(u8::is_ascii_whitespace) {
        next += 1;
    }
    if next == bytes.len() {
        return true;
    }
    let end = key_end(bytes, next);
    end > next
        && bytes.get(end) == Some(&b'=')
        && !(bytes.get(end + 1) == Some(&b'\\') && matches!(bytes.get(end + 2), Some(b'"' | b'\'')))
}

/// Undoes `\"` (or `\'` in single-quoted values); every other backslash is
/// literal, as Windows paths arrive unescaped.
pub(super) fn unescape(raw: &str, quote: u8) -> Cow<'_, str> {
    let bytes = raw.as_bytes();
    let mut from = 0;
    let escaped = loop {
        match find_byte(bytes, from, b'\\') {
            Some(at) if bytes.get(at + 1) == Some(&quote) => break true,
            Some(at) => from = at + 1,
            None => break false,
        }
    };
    if !escaped {
        return Cow::Borrowed(raw);
    }
    let quote = quote as char;
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&quote) {
            continue;
        }
        out.push(c);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &str) -> Vec<(String, String)> {
        fields(text)
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, v.first().unwrap().to_owned()))
            .collect()
    }

    #[test]
    fn skips_syslog_headers_and_reads_pairs() {
        let got = map("Jun 26 16:09:18 127.0.0.1 Jun 26 16:09:18 h1  fv=\"nvzFlow_v9\" pr=\"6\"");
        assert_eq!(
            got,
            vec![
                ("fv".into(), "nvzFlow_v9".into()),
                ("pr".into(), "6".into())
            ]
        );
    }

    #[test]
    fn keeps_windows_backslashes_and_a_trailing_backslash() {
        let got = map(r#"x fv="v" ppath="C:\Windows\system32\" pid="1""#);
        assert_eq!(got[1].1, r"C:\Windows\system32\");
        assert_eq!(got[2].1, "1");
    }

    #[test]
    fn unescapes_quotes_inside_values() {
        let got = map(r#"fv="v" parg=" /i \"https://x/y.msi\"" ppid="9""#);
        assert_eq!(got[1].1, r#" /i "https://x/y.msi""#);
        assert_eq!(got[2].1, "9");
    }

    #[test]
    fn an_escaped_key_inside_a_value_stays_in_it() {
        let got = map(r#"fv="v" pn="rclone.exe" parg="x\" pn=\"notepad.exe" ppid="5""#);
        assert_eq!(
            got,
            vec![
                ("fv".into(), "v".into()),
                ("pn".into(), "rclone.exe".into()),
                ("parg".into(), r#"x" pn="notepad.exe"#.into()),
                ("ppid".into(), "5".into()),
            ]
        );
    }

    #[test]
    fn drops_empty_markers() {
        let got = map(r#"fv="v" hh="''" hm="'" ht="" aliul='' pn='cmd.exe'"#);
        assert_eq!(
            got,
            vec![("fv".into(), "v".into()), ("pn".into(), "cmd.exe".into())]
        );
    }

    #[test]
    fn rejects_unterminated_values_and_text_without_pairs() {
        assert!(matches!(
            fields("fv=\"abc pr=1"),
            Err(DecodeError::KeyValue { .. })
        ));
        assert_eq!(fields("just a syslog line"), Err(DecodeError::NoFields));
    }
}

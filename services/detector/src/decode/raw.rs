//! A field's value as it sits in the message, decoded only on demand.
//!
//! Scanners hand out borrowed slices of the message; a value is unescaped
//! (and allocated) only when a kept field needs it, so the many fields no
//! rule reads cost a slice each and nothing more.

use super::{json_scan, kv};
use crate::record::Value;
use std::borrow::Cow;

/// A value before unescaping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RawText<'a> {
    /// Text to take as it is: an unquoted key=value value, a JSON string
    /// without escapes, `true` or `false`.
    Plain(&'a str),
    /// A quoted key=value value, which may hold `\` before its quote.
    Quoted { raw: &'a str, quote: u8 },
    /// A JSON string body holding backslash escapes other than `\u`.
    JsonEscaped(&'a str),
    /// A JSON integer, as written.
    JsonInteger(&'a str),
    /// A JSON array of scalars, brackets included, already validated.
    JsonArray(&'a str),
    /// JSON `null`.
    Null,
}

/// A value after unescaping, with the encodings' empty markers removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) enum Resolved<'a> {
    #[default]
    Absent,
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl<'a> RawText<'a> {
    /// The value's text. `None` for a number serde_json would print in
    /// another form than it was written (`-0`, `1e3`, beyond 64 bits):
    /// only the full decoder can say what such a field holds.
    pub(super) fn resolve(self) -> Option<Resolved<'a>> {
        if let RawText::JsonArray(array) = self {
            return resolve_array(array);
        }
        let text = self.scalar_text()?;
        Some(match text {
            Some(text) if !kv::is_absent(&text) => Resolved::One(text),
            _ => Resolved::Absent,
        })
    }

    /// A scalar's text; `Some(None)` for null.
    fn scalar_text(self) -> Option<Option<Cow<'a, str>>> {
        let text = match self {
            RawText::Plain(text) => Cow::Borrowed(text),
            RawText::Quoted { raw, quote } => kv::unescape(raw, quote),
            RawText::JsonEscaped(raw) => Cow::Owned(json_scan::unescape(raw)),
            // Up to 19 digits always fits a u64, which prints as written
            // (JSON allows no leading zeros).
            RawText::JsonInteger(digits) if !digits.starts_with('-') && digits.len() <= 19 => {
                Cow::Borrowed(digits)
            }
            RawText::JsonInteger(_) | RawText::JsonArray(_) => return None,
            RawText::Null => return Some(None),
        };
        Some(Some(text))
    }
}

/// An array's present items: none is absent, one is a single value.
fn resolve_array(array: &str) -> Option<Resolved<'_>> {
    let mut items = Vec::new();
    let mut readable = true;
    json_scan::array_items(array, |item| match item.scalar_text() {
        Some(Some(text)) if !kv::is_absent(&text) => items.push(text),
        Some(_) => {}
        None => readable = false,
    });
    if !readable {
        return None;
    }
    Some(match items.len() {
        0 => Resolved::Absent,
        1 => Resolved::One(items.swap_remove(0)),
        _ => Resolved::Many(items),
    })
}

impl Resolved<'_> {
    /// The first value, which is the value of a single-valued field.
    pub(super) fn first(&self) -> Option<&str> {
        match self {
            Resolved::Absent => None,
            Resolved::One(text) => Some(text),
            Resolved::Many(texts) => texts.first().map(|t| &**t),
        }
    }

    /// Whether the field is present.
    pub(super) fn is_present(&self) -> bool {
        !matches!(self, Resolved::Absent)
    }

    /// The owned field value; `None` when absent.
    pub(super) fn into_value(self) -> Option<Value> {
        match self {
            Resolved::Absent => None,
            Resolved::One(text) => Some(Value::One(text.into_owned())),
            Resolved::Many(texts) => Some(Value::Many(
                texts.into_iter().map(Cow::into_owned).collect(),
            )),
        }
    }
}

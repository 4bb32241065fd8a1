//! Values that must never be shown: passwords read from files or the
//! environment. Wrapping them in [`Secret`] makes every accidental
//! formatting (a `Debug` of a settings struct, an error message, a log
//! field) print `***` instead of the value; only [`Secret::expose`] gives
//! the value out, at the one place it is handed to the Kafka client.

use std::fmt;

/// A secret string whose `Debug` and `Display` print `***`.
///
/// It has no `Serialize` and no `Deref` on purpose: getting the value out
/// takes a call to [`Secret::expose`] that can be searched for.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// What a secret prints as.
pub const MASK: &str = "***";

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        remember(&value);
        Secret(value)
    }

    /// The value itself, for the Kafka client configuration only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_a_mask_whatever_the_format() {
        let secret = Secret::new("hunter2");
        for shown in [
            format!("{secret}"),
            format!("{secret:?}"),
            format!("{secret:#?}"),
            format!("{secret:>20}"),
            format!("{:?}", Some(&secret)),
        ] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains(MASK), "{shown}");
        }
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn stays_masked_inside_derived_debug() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Settings {
            user: String,
            password: Secret,
        }
        let settings = Settings {
            user: "alice".into(),
            password: Secret::new("s3cr3t-value"),
        };
        let shown = format!("{settings:?}");
        assert!(shown.contains("alice"));
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
    }
}

/// Secret values this process was given, so that text from elsewhere (a
/// librdkafka error quoting a property back) can be cleaned before it is
/// printed.
static KNOWN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Remembers a secret value for [`redact`]. Values shorter than four
/// characters are not remembered: masking them would garble ordinary text.
pub fn remember(value: &str) {
    if value.len() < 4 {
        return;
    }
    let mut known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    if !known.iter().any(|k| k == value) {
        known.push(value.to_owned());
    }
}

/// `text` with every remembered secret value replaced by [`MASK`].
pub fn redact(text: &str) -> String {
    let known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_owned();
    for secret in known.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), MASK);
        }
    }
    out
}

#[cfg(test)]
mod redact_tests {
    use super::*;

    #[test]
    fn remembered_values_are_masked_in_any_text() {
        remember("tok3n-value");
        remember("ab");
        let text = "config error: sasl.oauthbearer.client.secret tok3n-value (ab)";
        assert_eq!(
            redact(text),
            "config error: sasl.oauthbearer.client.secret *** (ab)"
        );
    }
}

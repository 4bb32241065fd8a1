//! Splunk's wildcard values: `*` matches any run of characters (spaces and
//! backslashes included), the pattern covers the whole value, and values
//! compare case-insensitively. There is no other wildcard and no escape.

/// A compiled `field=value` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The pattern as written (after string unescaping), for lint and errors.
    source: String,
    /// Lower-cased literal pieces between the `*`s.
    parts: Vec<String>,
    starts_open: bool,
    ends_open: bool,
}

impl Pattern {
    /// Compiles a pattern; `*` is the only special character.
    pub fn new(source: &str) -> Self {
        let lower = source.to_lowercase();
        let parts = lower
            .split('*')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        Pattern {
            source: source.to_owned(),
            parts,
            starts_open: lower.starts_with('*'),
            ends_open: lower.ends_with('*'),
        }
    }

    /// The pattern text as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the pattern is exactly `*` (or `**`…): anything present.
    pub fn is_match_all(&self) -> bool {
        self.parts.is_empty() && self.starts_open
    }

    /// Whether the pattern holds no wildcard at all.
    pub fn is_literal(&self) -> bool {
        !self.source.contains('*')
    }

    /// Whole-value, case-insensitive match.
    pub fn matches(&self, value: &str) -> bool {
        if value.is_ascii() {
            self.matches_lowered(value, |a, b| a.eq_ignore_ascii_case(b))
        } else {
            let lower = value.to_lowercase();
            self.matches_lowered(&lower, |a, b| a == b)
        }
    }

    fn matches_lowered(&self, value: &str, eq: impl Fn(&[u8], &[u8]) -> bool) -> bool {
        let value = value.as_bytes();
        if self.parts.is_empty() {
            // "" matches only "", "*" matches anything.
            return self.starts_open || value.is_empty();
        }
        let mut rest = value;
        let last = self.parts.len() - 1;
        for (i, part) in self.parts.iter().enumerate() {
            let part = part.as_bytes();
            let anchored_start = i == 0 && !self.starts_open;
            let anchored_end = i == last && !self.ends_open;
            if anchored_start {
                if rest.len() < part.len() || !eq(&rest[..part.len()], part) {
                    return false;
                }
                if anchored_end {
                    return rest.len() == part.len();
                }
                rest = &rest[part.len()..];
            } else if anchored_end {
                // The last piece must sit at the very end; leftmost matching of
                // the earlier pieces leaves the most room for it.
                return rest.len() >= part.len() && eq(&rest[rest.len() - part.len()..], part);
            } else {
                match find(rest, part, &eq) {
                    Some(at) => rest = &rest[at + part.len()..],
                    None => return false,
                }
            }
        }
        true
    }
}

fn find(haystack: &[u8], needle: &[u8], eq: &impl Fn(&[u8], &[u8]) -> bool) -> Option<usize> {
    if needle.len() > haystack.len() {
        return None;
    }
    (0..=haystack.len() - needle.len()).find(|&i| eq(&haystack[i..i + needle.len()], needle))
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    fn m(p: &str, v: &str) -> bool {
        Pattern::new(p).matches(v)
    }

    #[test]
    fn literal_patterns_cover_the_whole_value_case_insensitively() {
        assert!(m("rclone.exe", "RClone.EXE"));
        assert!(!m("rclone.exe", "rclone.exe.bak"));
        assert!(!m("rclone.exe", "xrclone.exe"));
        assert!(m("", ""));
        assert!(!m("", "x"));
    }

    #[test]
    fn star_matches_any_run_including_spaces_and_backslashes() {
        assert!(m("* copy *", "rclone copy a b"));
        assert!(!m("* copy *", "copy a b"), "needs the leading space");
        assert!(m(r"*\\*", r"copy \\srv\share x"));
        assert!(!m(r"*\\*", r"copy C:\data x"));
        assert!(m("*--transfers", "a --transfers"));
        assert!(!m("*--transfers", "a --transfers 16"));
        assert!(m("*", ""));
        assert!(m("a*a", "aa"));
        assert!(!m("a*a", "a"));
        assert!(m("*ab*ab", "xxabyyab"));
        assert!(m("*ftp:*", "copy x SFTP:bucket"));
    }

    #[test]
    fn non_ascii_values_compare_by_lowercase() {
        assert!(m("*ÄRGER*", "kein ärger hier"));
    }
}

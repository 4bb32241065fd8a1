//! Splunk's wildcard values: `*` matches any run of characters (spaces and
//! backslashes included), the pattern covers the whole value, and values
//! compare case-insensitively. There is no other wildcard and no escape.

use memchr::memmem::Finder;

/// Values this long or shorter are lower-cased on the stack.
const STACK_VALUE_BYTES: usize = 512;

/// A compiled `field=value` pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The pattern as written (after string unescaping), for lint and errors.
    source: String,
    /// Lower-cased literal pieces between the `*`s.
    parts: Vec<Part>,
    starts_open: bool,
    ends_open: bool,
    /// Whether a piece floats between two `*`s and must be searched for,
    /// rather than compared at the start or the end of the value.
    searches: bool,
}

/// One literal piece, and a substring searcher built for it once.
#[derive(Debug, Clone)]
struct Part {
    lower: Box<[u8]>,
    finder: Finder<'static>,
}

/// Patterns are equal when written alike: everything else follows.
impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

impl Pattern {
    /// Compiles a pattern; `*` is the only special character.
    pub fn new(source: &str) -> Self {
        let lower = source.to_lowercase();
        let parts: Vec<Part> = lower
            .split('*')
            .filter(|p| !p.is_empty())
            .map(|p| Part {
                lower: p.as_bytes().into(),
                finder: Finder::new(p.as_bytes()).into_owned(),
            })
            .collect();
        let starts_open = lower.starts_with('*');
        let ends_open = lower.ends_with('*');
        let anchored = usize::from(!starts_open) + usize::from(!ends_open);
        Pattern {
            source: source.to_owned(),
            searches: parts.len() > anchored,
            parts,
            starts_open,
            ends_open,
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

    /// Whole-value, case-insensitive match: ASCII values compare ASCII
    /// case-insensitively, others by their Unicode lower case.
    pub fn matches(&self, value: &str) -> bool {
        any_matches(std::slice::from_ref(self), value)
    }

    /// The match proper. `eq` compares a piece of the value with a
    /// lower-cased piece of the pattern; when the pattern searches, the
    /// value must already be lower-cased, as the searchers compare exactly.
    fn matches_lowered(&self, value: &[u8], eq: impl Fn(&[u8], &[u8]) -> bool) -> bool {
        if self.parts.is_empty() {
            // "" matches only "", "*" matches anything.
            return self.starts_open || value.is_empty();
        }
        let mut rest = value;
        let last = self.parts.len() - 1;
        for (i, part) in self.parts.iter().enumerate() {
            let piece = &*part.lower;
            let anchored_start = i == 0 && !self.starts_open;
            let anchored_end = i == last && !self.ends_open;
            if anchored_start {
                if rest.len() < piece.len() || !eq(&rest[..piece.len()], piece) {
                    return false;
                }
                if anchored_end {
                    return rest.len() == piece.len();
                }
                rest = &rest[piece.len()..];
            } else if anchored_end {
                // The last piece must sit at the very end; leftmost matching of
                // the earlier pieces leaves the most room for it.
                return rest.len() >= piece.len() && eq(&rest[rest.len() - piece.len()..], piece);
            } else {
                match part.finder.find(rest) {
                    Some(at) => rest = &rest[at + piece.len()..],
                    None => return false,
                }
            }
        }
        true
    }
}

/// Whether any of `patterns` matches `value` (see [`Pattern::matches`]).
/// The value is lower-cased at most once for all of them.
pub fn any_matches(patterns: &[Pattern], value: &str) -> bool {
    if !value.is_ascii() {
        let lower = value.to_lowercase();
        return patterns
            .iter()
            .any(|p| p.matches_lowered(lower.as_bytes(), |a, b| a == b));
    }
    if !patterns.iter().any(|p| p.searches) {
        // Only comparisons at the ends: no need to copy the value.
        let eq = <[u8]>::eq_ignore_ascii_case;
        return patterns
            .iter()
            .any(|p| p.matches_lowered(value.as_bytes(), eq));
    }
    with_ascii_lowercase(value.as_bytes(), |lower| {
        patterns
            .iter()
            .any(|p| p.matches_lowered(lower, |a, b| a == b))
    })
}

/// Calls `f` with the ASCII lower case of `value`, on the stack when short.
fn with_ascii_lowercase<R>(value: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    if value.len() > STACK_VALUE_BYTES {
        return f(&value.to_ascii_lowercase());
    }
    let mut buf = [0u8; STACK_VALUE_BYTES];
    let lower = &mut buf[..value.len()];
    for (to, from) in lower.iter_mut().zip(value) {
        *to = from.to_ascii_lowercase();
    }
    f(lower)
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
        assert!(m("ärger*", "ÄRGER!"));
        assert!(!m("*ärger*", "kein aerger hier"));
    }

    #[test]
    fn searched_pieces_ignore_case_in_short_and_long_values() {
        let long = format!("{} --Remote: x", "a".repeat(2 * super::STACK_VALUE_BYTES));
        assert!(m("*remote:*", &long));
        assert!(m("*REMOTE:*", "copy Remote:bucket"));
        assert!(m("c*y*T", "COPY it"));
        assert!(!m("c*y*t", "copy"));
        assert!(m("*a*b*", "xAyBz"));
        assert!(!m("*b*a*", "xAyBz"));
    }

    #[test]
    fn the_kelvin_sign_folds_to_an_ascii_k() {
        // U+212A lower-cases to "k": the pattern then matches ASCII values.
        assert!(m("*\u{212a}*", "a K b"));
        assert!(m("\u{212a}", "k"));
    }
}

#[cfg(test)]
mod equivalence {
    use super::Pattern;
    use proptest::prelude::*;

    /// The plain definition: lower-case both sides (ASCII-only for ASCII
    /// values), then try every way the pieces can sit.
    fn reference(pattern: &str, value: &str) -> bool {
        let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
        let value: Vec<char> = if value.is_ascii() {
            value.to_ascii_lowercase().chars().collect()
        } else {
            value.to_lowercase().chars().collect()
        };
        fn go(p: &[char], v: &[char]) -> bool {
            match p.split_first() {
                None => v.is_empty(),
                Some(('*', rest)) => (0..=v.len()).any(|i| go(rest, &v[i..])),
                Some((c, rest)) => v.first() == Some(c) && go(rest, &v[1..]),
            }
        }
        go(&pattern, &value)
    }

    const ALPHABET: &[char] = &[
        'a', 'A', 'b', 'B', ' ', '\\', 'ä', 'Ä', 'K', 'k', '\u{212a}',
    ];

    fn text(max: usize, star: bool) -> impl Strategy<Value = String> {
        let mut chars = ALPHABET.to_vec();
        if star {
            chars.extend(['*', '*']);
        }
        proptest::collection::vec(proptest::sample::select(chars), 0..max)
            .prop_map(|cs| cs.into_iter().collect())
    }

    proptest! {
        #[test]
        fn matches_as_the_plain_definition_does(pattern in text(8, true), value in text(12, false)) {
            prop_assert_eq!(
                Pattern::new(&pattern).matches(&value),
                reference(&pattern, &value),
                "{:?} against {:?}", pattern, value
            );
        }

        #[test]
        fn a_list_matches_when_one_of_its_patterns_does(
            patterns in proptest::collection::vec(text(6, true), 0..4),
            value in text(12, false),
        ) {
            let compiled: Vec<Pattern> = patterns.iter().map(|p| Pattern::new(p)).collect();
            prop_assert_eq!(
                super::any_matches(&compiled, &value),
                patterns.iter().any(|p| reference(p, &value))
            );
        }
    }
}

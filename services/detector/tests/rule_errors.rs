//! Rule files that cannot be used say which file, line and column.

use nvm_detector::rule::RuleSet;
use std::path::Path;

fn rules_dir(search: &str) -> tempdir::Dir {
    let dir = tempdir::Dir::new();
    std::fs::create_dir(dir.path().join("detections")).unwrap();
    std::fs::write(
        dir.path().join("macros.yml"),
        "- name: input\n  definition: sourcetype=\"cisco:nvm:flowdata*\"\n",
    )
    .unwrap();
    let text = format!(
        "name: broken\nid: b-1\nversion: 1\ntype: TTP\nsearch: |-\n{}\n",
        search
            .lines()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    std::fs::write(dir.path().join("detections/broken.yml"), text).unwrap();
    dir
}

fn error(search: &str) -> String {
    let dir = rules_dir(search);
    RuleSet::load(dir.path()).unwrap_err().to_string()
}

fn file_part(message: &str) -> &str {
    let at = message.find("broken.yml").expect("names the file");
    &message[at..]
}

#[test]
fn a_syntax_error_names_file_line_and_column() {
    let message = error("`input`\n  (pn=\"a\" OR\n| stats count by sa");
    // The search starts on line 6; the unclosed group ends at the pipe.
    assert_eq!(
        file_part(&message),
        "broken.yml:8:3: expected a search term, found the end of the command"
    );
}

#[test]
fn an_error_after_a_macro_points_into_the_original_text() {
    let message = error("`input` pn=\"a\" | stats count by sa | eval x=1");
    assert_eq!(
        file_part(&message),
        "broken.yml:6:40: unsupported command `eval`"
    );
}

#[test]
fn an_unknown_macro_is_named() {
    let message = error("pn=a `nope` | stats count by sa");
    assert_eq!(file_part(&message), "broken.yml:6:8: unknown macro `nope`");
}

#[test]
fn a_search_without_stats_is_refused() {
    assert!(error("`input` pn=a").contains("needs a `stats"));
}

#[test]
fn a_missing_rules_directory_is_named() {
    let err = RuleSet::load(Path::new("/nonexistent/rules"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/rules/detections"), "{err}");
}

/// A temporary directory removed on drop (no extra dependency needed).
mod tempdir {
    use std::path::{Path, PathBuf};

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new() -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let n = N.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!("nvm-rules-{}-{n}", std::process::id()));
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

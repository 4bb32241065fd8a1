use super::*;
use crate::cli::{run_args_from, run_command};

fn parse(text: &str) -> anyhow::Result<ConfigFile> {
    ConfigFile::parse(text, Path::new("detector.toml"), &run_command())
}

fn error(text: &str) -> String {
    format!("{:#}", parse(text).expect_err("the file should be refused"))
}

fn file_with(text: &str) -> tempfile_path::TempPath {
    tempfile_path::write(text)
}

/// A configuration file in the system's temporary directory, removed on drop.
mod tempfile_path {
    use std::path::PathBuf;

    pub struct TempPath(pub PathBuf);

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    pub fn write(text: &str) -> TempPath {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "nvm-detector-config-{}-{}.toml",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let mut f = std::fs::File::create(&path).expect("temp file");
        std::io::Write::write_all(&mut f, text.as_bytes()).expect("write");
        TempPath(path)
    }
}

fn argv(extra: &[&str]) -> Vec<OsString> {
    ["nvm-detector", "run"]
        .iter()
        .chain(extra)
        .map(OsString::from)
        .collect()
}

#[test]
fn every_setting_of_run_has_a_section() {
    let command = run_command();
    let unsectioned: Vec<&str> = command
        .get_arguments()
        .filter(|a| {
            a.get_long()
                .is_some_and(|l| !["config", "help", "version"].contains(&l))
        })
        .filter(|a| section_of(a).is_none())
        .filter_map(|a| a.get_long())
        .collect();
    assert!(
        unsectioned.is_empty(),
        "flags without a section: {unsectioned:?}"
    );
}

#[test]
fn unknown_section_and_key_are_named() {
    let e = error("[engnie]\nwindow_secs = 60\n");
    assert!(e.contains("unknown section [engnie]"), "{e}");
    assert!(e.contains("engine"), "the message lists the sections: {e}");

    let e = error("[engine]\nwindow_sec = 60\n");
    assert!(e.contains("unknown key `engine.window_sec`"), "{e}");
    assert!(e.contains("window_secs"), "the message lists the keys: {e}");

    let e = error("[stream]\nwindow_secs = 60\n");
    assert!(
        e.contains("unknown key `stream.window_secs`"),
        "keys live in their own section: {e}"
    );
}

#[test]
fn invalid_values_name_key_and_reason() {
    let e = error("[engine]\nwindow_secs = \"an hour\"\n");
    assert!(e.contains("detector.toml"), "{e}");
    assert!(e.contains("`engine.window_secs`"), "{e}");
    assert!(e.contains("an hour"), "{e}");

    let e = error("[stream]\ndelivery = \"twice\"\n");
    assert!(
        e.contains("`stream.delivery`") && e.contains("twice"),
        "{e}"
    );

    let e = error("[stream]\nstatic_membership = \"yes\"\n");
    assert!(
        e.contains("`stream.static_membership` must be true or false"),
        "{e}"
    );

    let e = error("[engine]\nwindow_secs = [1, 2]\n");
    assert!(e.contains("must be a string or a number"), "{e}");

    let e = error("window_secs = 60\n");
    assert!(e.contains("must be a table"), "{e}");

    let e = error("[engine\n");
    assert!(
        e.starts_with("detector.toml:"),
        "TOML syntax errors name the file: {e}"
    );
}

#[test]
fn file_settings_reach_run_and_flags_win() {
    let file = file_with(
        "[engine]\nwindow_secs = 600\nallowed_lateness_secs = 30\n\
         [stream]\ngroup_id = \"from-file\"\nstatic_membership = true\ncommit_interval_ms = 250\n\
         [topics]\ninput_topic = \"flows.file\"\n\
         [kafka.consumer_properties]\n\"fetch.min.bytes\" = 1024\n",
    );
    let path = file.0.to_string_lossy().into_owned();
    let args = run_args_from(argv(&["--config", &path, "--window-secs", "120"])).expect("parses");
    assert_eq!(args.engine.window_secs, 120, "the flag wins over the file");
    assert_eq!(args.engine.allowed_lateness_secs, 30);
    assert_eq!(args.group_id, "from-file");
    assert!(args.static_membership);
    assert_eq!(args.commit_interval_ms, 250);
    assert_eq!(args.topics.input_topic, "flows.file");
    assert_eq!(
        args.topics.alerts_topic, "nvm.alerts",
        "unset keys keep their defaults"
    );
    let debug = format!("{:?}", args.client);
    assert!(debug.contains("fetch.min.bytes"), "{debug}");
}

#[test]
fn config_flag_with_equals_and_missing_file() {
    let file = file_with("[stream]\ngroup_id = \"g-equals\"\n");
    let path = file.0.to_string_lossy().into_owned();
    let args = run_args_from(argv(&[&format!("--config={path}")])).expect("parses");
    assert_eq!(args.group_id, "g-equals");

    let e = run_args_from(argv(&["--config", "/nonexistent/detector.toml"])).expect_err("missing");
    assert!(
        format!("{e:#}").contains("/nonexistent/detector.toml"),
        "{e:#}"
    );
}

#[test]
fn rendering_redacts_secrets() {
    let command = run_command();
    let matches = command
        .clone()
        .try_get_matches_from([
            "run",
            "-X",
            "sasl.password=hunter2",
            "-X",
            "client.id=visible",
            "--group-id",
            "g1",
        ])
        .expect("parses");
    let text = render(&command, &matches, &[]);
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("\"sasl.password\" = \"***\""), "{text}");
    assert!(text.contains("\"client.id\" = \"visible\""), "{text}");
    assert!(text.contains("group_id = \"g1\"   # flag"), "{text}");
    assert!(text.contains("window_secs = 3600   # default"), "{text}");
    // What is printed reads back as a configuration file.
    let reread = parse(&text).expect("config show output is a valid file");
    assert!(reread.settings.iter().any(|s| s.key == "stream.group_id"));
}

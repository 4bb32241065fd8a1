//! `nvm-detector config check`, as an operator runs it: every mistake
//! stops it with the file and key named, and no secret is printed.

use std::process::Command;

fn check(text: &str) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!("nvm-config-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!(
        "{:x}.toml",
        text.len() * 31 + text.bytes().map(usize::from).sum::<usize>()
    ));
    std::fs::write(&path, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nvm-detector"))
        .args(["config", "check"])
        .arg(&path)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .env_remove("NVM_CONFIG")
        .output()
        .expect("running nvm-detector");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn a_good_file_passes() {
    let (ok, out) = check("[stream]\ngroup_id = \"g\"\n[engine]\nwindow_secs = 1800\n");
    assert!(ok, "{out}");
    assert!(out.contains("ok (1 rules"), "{out}");
}

#[test]
fn mistakes_name_the_key() {
    for (text, expected) in [
        (
            "[engine]\nwindow_sec = 60\n",
            "unknown key `engine.window_sec`",
        ),
        ("[engine]\nwindow_secs = \"x\"\n", "`engine.window_secs`"),
        (
            "[engine]\nwindow_secs = -5\n",
            "`engine.window_secs`) must be positive",
        ),
        ("[stream]\ndelivery = \"twice\"\n", "`stream.delivery`"),
        (
            "[kafka.properties]\n\"bogus.prop\" = \"1\"\n",
            "No such configuration property",
        ),
    ] {
        let (ok, out) = check(text);
        assert!(!ok, "accepted:\n{text}");
        assert!(
            out.contains(expected),
            "for\n{text}\nexpected `{expected}` in:\n{out}"
        );
    }
}

#[test]
fn secrets_quoted_back_by_the_client_are_masked() {
    // This build of librdkafka has no OAuth support, so it refuses the
    // property and quotes its value back in the error.
    let (ok, out) =
        check("[kafka.properties]\n\"sasl.oauthbearer.client.secret\" = \"tok3n-value\"\n");
    assert!(!ok, "{out}");
    assert!(out.contains("sasl.oauthbearer.client.secret"), "{out}");
    assert!(!out.contains("tok3n-value"), "{out}");
}

//! Kafka security on the real broker: the whole job (topics, replay, the
//! detector, reading alerts back) over SCRAM-SHA-512 and over mutual TLS;
//! a wrong SCRAM password refused at once with a message that names what
//! to check and shows no password.
//!
//! The listeners and credentials come from `ops/kafka.sh security-env`.
//! Against another cluster (KAFKA_BOOTSTRAP elsewhere, or a container) the
//! broker tests say why and skip.

use nvm_detector::kafka::client::ClientArgs;
use nvm_detector::kafka::security::{SaslMechanism, SecurityProtocol};
use nvm_detector::secret::Secret;
use nvm_detector_tests::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// 2026-07-14T09:00:00Z.
const T0: i64 = 1_784_019_600;

/// What `ops/kafka.sh security-env` prints, by key.
struct Listeners(BTreeMap<String, String>);

impl Listeners {
    fn get(&self, key: &str) -> String {
        self.0
            .get(key)
            .cloned()
            .unwrap_or_else(|| panic!("ops/kafka.sh security-env printed no {key}"))
    }

    fn path(&self, key: &str) -> PathBuf {
        PathBuf::from(self.get(key))
    }

    fn password(&self) -> String {
        std::fs::read_to_string(self.path("LOCAL_KAFKA_SASL_PASSWORD_FILE"))
            .expect("reading the SASL password file")
            .trim_end()
            .to_owned()
    }

    /// Flags of every command for SCRAM-SHA-512 over SASL_PLAINTEXT.
    fn scram_flags(&self) -> Vec<String> {
        vec![
            "--bootstrap-servers".into(),
            self.get("LOCAL_KAFKA_SASL_PLAINTEXT"),
            "--security-protocol".into(),
            "sasl_plaintext".into(),
            "--sasl-mechanism".into(),
            "SCRAM-SHA-512".into(),
            "--sasl-username".into(),
            self.get("LOCAL_KAFKA_SASL_USERNAME"),
            "--sasl-password-file".into(),
            self.get("LOCAL_KAFKA_SASL_PASSWORD_FILE"),
        ]
    }

    /// Flags for TLS with a client certificate whose key is encrypted.
    fn mutual_tls_flags(&self) -> Vec<String> {
        vec![
            "--bootstrap-servers".into(),
            self.get("LOCAL_KAFKA_SSL"),
            "--security-protocol".into(),
            "ssl".into(),
            "--ssl-ca-location".into(),
            self.get("LOCAL_KAFKA_SSL_CA_LOCATION"),
            "--ssl-certificate-location".into(),
            self.get("LOCAL_KAFKA_SSL_CERTIFICATE_LOCATION"),
            "--ssl-key-location".into(),
            self.get("LOCAL_KAFKA_SSL_ENCRYPTED_KEY_LOCATION"),
            "--ssl-key-password-file".into(),
            self.get("LOCAL_KAFKA_SSL_KEY_PASSWORD_FILE"),
        ]
    }

    /// In-process reader settings for SCRAM-SHA-256 over SASL_SSL, a third
    /// way in, the password set as if it came from KAFKA_SASL_PASSWORD.
    fn scram_over_tls_client(&self) -> ClientArgs {
        let mut client = ClientArgs::new(self.get("LOCAL_KAFKA_SASL_SSL"));
        client.security.security_protocol = Some(SecurityProtocol::SaslSsl);
        client.security.sasl_mechanism = Some(SaslMechanism::ScramSha256);
        client.security.sasl_username = Some(self.get("LOCAL_KAFKA_SASL_USERNAME"));
        client.security.sasl_password_env = Some(Secret::new(self.password()));
        client.security.ssl_ca_location = Some(self.path("LOCAL_KAFKA_SSL_CA_LOCATION"));
        client
    }
}

/// The local broker's security listeners, or `None` (with the reason
/// printed) when the tests run against a cluster that is not ours.
fn local_listeners() -> Option<Listeners> {
    let bootstrap = bootstrap_servers();
    let out = Command::new(repo().join("ops/kafka.sh"))
        .arg("security-env")
        .output()
        .expect("running ops/kafka.sh security-env");
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => {}
        Some(3) => {
            eprintln!(
                "skipped: the broker at {bootstrap} is not the local one of ops/kafka.sh \
                 (which is not running), so its security listeners are unknown"
            );
            return None;
        }
        _ => panic!(
            "ops/kafka.sh security-env failed ({}): {stderr}",
            out.status
        ),
    }
    let listeners = Listeners(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    );
    let local = listeners.get("LOCAL_KAFKA_PLAINTEXT");
    if local != bootstrap {
        eprintln!(
            "skipped: KAFKA_BOOTSTRAP={bootstrap} is not the local broker ({local}) whose \
             SASL and TLS listeners ops/kafka.sh configures"
        );
        return None;
    }
    Some(listeners)
}

fn rclone_flow(secs: i64, port: &str) -> String {
    json!({
        "fv": "nvzFlow_v11", "pr": "6", "sa": "10.20.0.7", "sp": "51000",
        "da": "198.51.100.20", "dp": port, "dh": "files.example.net",
        "fss": secs.to_string(), "fsms": format!("{secs}000"),
        "pn": "rclone.exe", "ppath": r"C:\Users\ops\rclone.exe",
        "parg": r"copy \\nas01\hr remote:backup --transfers 8",
        "pid": "7100", "ph": "BB22", "pil": "12288",
        "pppath": r"C:\Windows\System32\cmd.exe", "ppil": "12288",
    })
    .to_string()
}

fn args(parts: &[&[String]]) -> Vec<String> {
    parts.concat()
}

fn words(text: &[&str]) -> Vec<String> {
    text.iter().map(|s| s.to_string()).collect()
}

fn succeed(name: &str, out: Output) -> String {
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{name} failed: {}\n{log}", out.status);
    log
}

/// Topics, records, the detector and the alerts, all through `security`
/// flags; returns every log the commands wrote.
fn detect_through(listeners: &Listeners, prefix: &str, security: &[String]) -> String {
    let topics = TestTopics::unique(prefix);
    let limit = Duration::from_secs(120);
    let mut logs = String::new();

    let create = args(&[
        &words(&["topics", "--partitions", "2"]),
        &topics.flags(),
        security,
    ]);
    logs += &succeed("topics", run_detector(&create, limit));

    let lines: Vec<String> = [(10, "443"), (20, "80"), (30, "443")]
        .iter()
        .map(|(s, p)| rclone_flow(T0 + s, p))
        .collect();
    let file = temp_file(&format!("{prefix}.log"), &lines);
    let replay = args(&[
        &words(&[
            "replay",
            "--topic",
            &topics.input,
            &file.display().to_string(),
        ]),
        security,
    ]);
    logs += &succeed("replay", run_detector(&replay, limit));

    let run = args(&[
        &words(&[
            "run",
            "--group-id",
            &topics.group,
            "--exit-when-idle-ms",
            "1500",
        ]),
        &topics.flags(),
        security,
    ]);
    let log = succeed("run", run_detector(&run, limit));
    assert!(log.contains("input drained"), "{log}");
    logs += &log;

    let alerts = documents(&read_with(
        &listeners.scram_over_tls_client(),
        &topics.alerts,
    ));
    let finals: Vec<_> = alerts.iter().filter(|d| d["status"] == "final").collect();
    assert_eq!(finals.len(), 1, "{alerts:#?}");
    assert_eq!(finals[0]["count"], 3);
    logs
}

#[test]
fn the_detector_runs_over_scram_sha_512() {
    let Some(listeners) = local_listeners() else {
        return;
    };
    let logs = detect_through(&listeners, "scram", &listeners.scram_flags());
    assert!(
        logs.contains("sasl SCRAM-SHA-512"),
        "startup log names the mechanism\n{logs}"
    );
    assert!(
        !logs.contains(&listeners.password()),
        "the password was logged\n{logs}"
    );
}

#[test]
fn the_detector_runs_over_mutual_tls() {
    let Some(listeners) = local_listeners() else {
        return;
    };
    let logs = detect_through(&listeners, "mtls", &listeners.mutual_tls_flags());
    let key_password = std::fs::read_to_string(listeners.path("LOCAL_KAFKA_SSL_KEY_PASSWORD_FILE"))
        .expect("reading the key password");
    assert!(
        !logs.contains(key_password.trim_end()),
        "the key password was logged\n{logs}"
    );
}

#[test]
fn a_wrong_scram_password_fails_fast_without_showing_it() {
    let Some(listeners) = local_listeners() else {
        return;
    };
    let wrong = format!("wrong-{}", uuid::Uuid::new_v4().simple());
    let topics = TestTopics::unique("badpw");
    let mut flags = listeners.scram_flags();
    // The password comes from the environment instead of the file.
    flags.truncate(flags.len() - 2);
    let run = args(&[
        &words(&["run", "--group-id", &topics.group]),
        &topics.flags(),
        &flags,
    ]);

    let started = Instant::now();
    let env = [
        ("KAFKA_SASL_PASSWORD", wrong.as_str()),
        ("RUST_LOG", "debug"),
    ];
    let out = run_detector_with_env(&run, &env, Duration::from_secs(60));
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success(),
        "the detector accepted a wrong password\n{output}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "a wrong password should fail at once, not after retries ({:?})",
        started.elapsed()
    );
    assert!(output.contains("kafka authentication failed"), "{output}");
    assert!(
        output.contains("KAFKA_SASL_PASSWORD"),
        "names where the password came from\n{output}"
    );
    assert!(
        !output.contains(&wrong),
        "the wrong password was shown\n{output}"
    );
    assert!(
        !output.contains(&listeners.password()),
        "the password was shown\n{output}"
    );
}

#[test]
fn settings_that_cannot_work_stop_startup_naming_the_flag() {
    let missing = std::env::temp_dir().join("nvm-no-such-password-file");
    let missing = missing.display().to_string();
    let cases: [(&[&str], &str); 3] = [
        (
            &[
                "--security-protocol",
                "sasl_ssl",
                "--sasl-mechanism",
                "PLAIN",
            ],
            "--sasl-username (KAFKA_SASL_USERNAME)",
        ),
        (
            &[
                "--security-protocol",
                "sasl_plaintext",
                "--sasl-mechanism",
                "SCRAM-SHA-256",
                "--sasl-username",
                "u",
                "--sasl-password-file",
                &missing,
            ],
            "cannot read --sasl-password-file (KAFKA_SASL_PASSWORD_FILE)",
        ),
        (
            &[
                "--security-protocol",
                "ssl",
                "--ssl-certificate-location",
                "c.pem",
            ],
            "needs --ssl-key-location (KAFKA_SSL_KEY_LOCATION)",
        ),
    ];
    for (flags, expected) in cases {
        let out = run_detector(
            &args(&[&words(&["topics"]), &words(flags)]),
            Duration::from_secs(30),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}\n{stderr}");
        assert!(stderr.contains(expected), "{flags:?}: {stderr}");
    }
}

#[test]
fn a_secret_never_prints() {
    let secret = Secret::new("correct-horse-battery");
    let mut client = ClientArgs::new("127.0.0.1:1");
    client.security.sasl_password_env = Some(secret.clone());
    client.properties = vec![("sasl.password".into(), "correct-horse-battery".into())];
    let shown = [
        format!("{secret}"),
        format!("{secret:?}"),
        format!("{client:?}"),
        format!("{client:#?}"),
        client.redacted_properties().join(","),
        client.security.summary(),
    ];
    for text in shown {
        assert!(!text.contains("correct-horse-battery"), "{text}");
    }
    assert_eq!(secret.expose(), "correct-horse-battery");
}

//! Support for the end-to-end tests: a real broker, unique topics, and the
//! real `nvm-detector` binary run as users run it.

mod broker;

pub use broker::bootstrap_servers;

use nvm_detector::kafka::client::ClientArgs;
use nvm_detector::kafka::tail::{read_topic, ReadMessage};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The shared material beside the repository (or `NVM_SHARED_DIR`).
pub fn shared() -> PathBuf {
    std::env::var_os("NVM_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared"))
}

/// The `nvm-detector` binary of this build, built on first use if the test
/// run did not build it already.
pub fn detector_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable path");
        // target/<profile>/deps/<test> → target/<profile>/nvm-detector
        let profile_dir = exe.parent().and_then(Path::parent).expect("target dir");
        let bin = profile_dir.join("nvm-detector");
        if !bin.exists() {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "-p", "nvm-detector", "--bin", "nvm-detector"])
                .current_dir(repo())
                .status()
                .expect("running cargo build");
            assert!(status.success(), "building nvm-detector failed");
        }
        bin
    })
}

/// Topic and group names unique to one test run.
#[derive(Debug, Clone)]
pub struct TestTopics {
    pub input: String,
    pub alerts: String,
    pub dlq: String,
    pub late: String,
    pub group: String,
}

impl TestTopics {
    /// Fresh names with a random suffix.
    pub fn unique(prefix: &str) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let id = &id[..12];
        TestTopics {
            input: format!("{prefix}-{id}.flows"),
            alerts: format!("{prefix}-{id}.alerts"),
            dlq: format!("{prefix}-{id}.dlq"),
            late: format!("{prefix}-{id}.late"),
            group: format!("{prefix}-{id}-detector"),
        }
    }

    /// The topic flags of `run` and `topics`.
    pub fn flags(&self) -> Vec<String> {
        [
            ("--input-topic", &self.input),
            ("--alerts-topic", &self.alerts),
            ("--dlq-topic", &self.dlq),
            ("--late-topic", &self.late),
        ]
        .iter()
        .flat_map(|(f, v)| [f.to_string(), v.to_string()])
        .collect()
    }

    /// Creates the four topics, the input with `partitions` partitions.
    pub fn create(&self, partitions: u32) {
        let mut args = vec!["topics".to_owned(), "--partitions".into(), partitions.to_string()];
        args.extend(self.flags());
        run_ok(&args, Duration::from_secs(60));
    }
}

/// Runs the detector binary with `args` against the test broker; kills it
/// and fails the test after `timeout`.
pub fn run_detector(args: &[String], timeout: Duration) -> Output {
    let mut child = Command::new(detector_bin())
        .args(args)
        .env("KAFKA_BOOTSTRAP", bootstrap_servers())
        .env("RUST_LOG", "info")
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting nvm-detector");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("waiting for nvm-detector").is_some() {
            return child.wait_with_output().expect("collecting output");
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let out = child.wait_with_output().expect("collecting output");
            panic!(
                "nvm-detector {args:?} did not finish within {timeout:?}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Like [`run_detector`], and the command must succeed.
pub fn run_ok(args: &[String], timeout: Duration) -> Output {
    let out = run_detector(args, timeout);
    assert!(
        out.status.success(),
        "nvm-detector {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Everything committed on a topic.
pub fn read(topic: &str) -> Vec<ReadMessage> {
    let client = ClientArgs {
        bootstrap_servers: bootstrap_servers(),
        properties: vec![],
    };
    read_topic(&client, topic, Duration::from_millis(500)).expect("reading a topic")
}

/// The JSON documents of messages.
pub fn documents(messages: &[ReadMessage]) -> Vec<serde_json::Value> {
    messages
        .iter()
        .map(|m| serde_json::from_slice(&m.payload).expect("alert is JSON"))
        .collect()
}

/// Writes lines to a temporary file and returns its path.
pub fn temp_file(name: &str, lines: &[String]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nvm-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").expect("writing temp file");
    path
}

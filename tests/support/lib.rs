//! Support for the end-to-end tests: a real broker, unique topics, and the
//! real `nvm-detector` binary run as users run it.

mod broker;
mod observe;

pub use broker::bootstrap_servers;
pub use observe::{Endpoint, Response, Scrape};

use nvm_detector::kafka::client::ClientArgs;
use nvm_detector::kafka::tail::{read_topic, ReadMessage};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
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

/// The detector's command line as built by this crate (`bin/detector.rs`):
/// cargo builds a package's binaries before its integration tests, so the
/// tests never run a stale `nvm-detector`.
pub fn detector_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/<bin>
    let profile_dir = exe.parent().and_then(Path::parent).expect("target dir");
    profile_dir.join("nvm-detector-under-test")
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
        let mut args = vec![
            "topics".to_owned(),
            "--partitions".into(),
            partitions.to_string(),
        ];
        args.extend(self.flags());
        run_ok(&args, Duration::from_secs(60));
    }
}

/// Detectors under test serve metrics on a free port, so that several of
/// them (and other test runs on the machine) never compete for the default
/// one; a `--metrics-listen` flag still wins.
const METRICS_LISTEN: &str = "127.0.0.1:0";

/// Runs the detector binary with `args` against the test broker; kills it
/// and fails the test after `timeout`.
pub fn run_detector(args: &[String], timeout: Duration) -> Output {
    run_detector_with_env(args, &[], timeout)
}

/// Like [`run_detector`], with extra environment variables (which win
/// over the defaults, `RUST_LOG=info` included).
pub fn run_detector_with_env(args: &[String], env: &[(&str, &str)], timeout: Duration) -> Output {
    let mut child = Command::new(detector_bin())
        .args(args)
        .env("KAFKA_BOOTSTRAP", bootstrap_servers())
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .env("NVM_METRICS_LISTEN", METRICS_LISTEN)
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting nvm-detector");
    let started = Instant::now();
    loop {
        if child
            .try_wait()
            .expect("waiting for nvm-detector")
            .is_some()
        {
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
    read_with(&ClientArgs::new(bootstrap_servers()), topic)
}

/// Everything committed on a topic, read with these client settings.
pub fn read_with(client: &ClientArgs, topic: &str) -> Vec<ReadMessage> {
    read_topic(client, topic, Duration::from_millis(500)).expect("reading a topic")
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
    let path = temp_path(name);
    std::fs::write(&path, lines.join("\n") + "\n").expect("writing temp file");
    path
}

/// A path in this test process's temporary directory (nothing is created
/// at it).
pub fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nvm-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

/// A detector (or replay) process running in the background.
pub struct Running {
    child: std::process::Child,
    name: String,
}

/// Starts the detector binary in the background; its log goes to
/// `<temp>/<name>.log` (shown when a test fails).
pub fn spawn(name: &str, args: &[String]) -> Running {
    let dir = std::env::temp_dir().join(format!("nvm-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).expect("log file");
    let child = Command::new(detector_bin())
        .args(args)
        .env("KAFKA_BOOTSTRAP", bootstrap_servers())
        .env("RUST_LOG", "info")
        .env("NVM_METRICS_LISTEN", METRICS_LISTEN)
        .current_dir(repo())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("starting nvm-detector");
    Running {
        child,
        name: name.to_owned(),
    }
}

impl Running {
    /// SIGKILL: the process dies without any chance to clean up.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for a graceful exit (which must be 0).
    pub fn terminate(mut self, timeout: Duration) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let status = self.wait(timeout);
        assert!(
            status.success(),
            "{} exited with {status} after SIGTERM\n{}",
            self.name,
            self.log()
        );
    }

    /// Sends a signal (`TERM`, `INT`, ...) without waiting.
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([format!("-{name}"), pid])
            .status()
            .expect("kill");
        assert!(sent.success(), "could not send SIG{name} to {}", self.name);
    }

    /// Waits for the process to exit by itself.
    pub fn wait(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting") {
                return status;
            }
            if started.elapsed() > timeout {
                let _ = self.child.kill();
                panic!(
                    "{} did not exit within {timeout:?}\n{}",
                    self.name,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The process's log so far.
    pub fn log(&self) -> String {
        let path = std::env::temp_dir()
            .join(format!("nvm-e2e-{}", std::process::id()))
            .join(format!("{}.log", self.name));
        std::fs::read_to_string(path).unwrap_or_default()
    }
}

/// Final alerts by id from a topic; fails if any id appears twice.
pub fn finals_once(topic: &str) -> std::collections::BTreeMap<String, serde_json::Value> {
    let mut finals = std::collections::BTreeMap::new();
    for doc in documents(&read(topic)) {
        if doc["status"] != "final" {
            continue;
        }
        let id = doc["alert_id"].as_str().expect("alert id").to_owned();
        if let Some(previous) = finals.insert(id.clone(), doc) {
            panic!("final alert {id} published twice:\n{previous}");
        }
    }
    finals
}

/// Final alerts by id that `nvm-detector scan` gives for a file.
pub fn scan_finals(file: &Path) -> std::collections::BTreeMap<String, serde_json::Value> {
    let out = run_ok(
        &["scan".to_owned(), file.display().to_string()],
        Duration::from_secs(120),
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("scan prints JSON"))
        .map(|d| (d["alert_id"].as_str().expect("alert id").to_owned(), d))
        .collect()
}

/// Lines of scan's stderr report: (malformed, late).
pub fn scan_rejections(file: &Path) -> (usize, usize) {
    let out = run_ok(
        &["scan".to_owned(), file.display().to_string()],
        Duration::from_secs(120),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let late = stderr
        .lines()
        .filter(|l| l.contains(": late record"))
        .count();
    let file_lines = stderr
        .lines()
        .filter(|l| l.starts_with(&file.display().to_string()))
        .count();
    (file_lines - late, late)
}

/// A small deterministic generator (xorshift), so a failing run can be
/// repeated from its printed seed.
pub struct Rng(u64);

impl Rng {
    /// From a seed (0 is replaced).
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// A seed from the environment (`NVM_TEST_SEED`) or the clock, printed.
pub fn seed() -> u64 {
    let seed = std::env::var("NVM_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    eprintln!("NVM_TEST_SEED={seed}");
    seed
}

/// The outputs of a finished run over `data`: every `final` alert exactly
/// once and equal to `scan`'s, each malformed record dead-lettered once,
/// each late record routed once.
pub fn assert_outputs_match_scan(topics: &TestTopics, data: &Path) {
    let expected = scan_finals(data);
    let got = finals_once(&topics.alerts);
    assert_eq!(
        got.len(),
        expected.len(),
        "finals: got {}, scan {}",
        got.len(),
        expected.len()
    );
    for (id, doc) in &expected {
        assert_eq!(got.get(id), Some(doc), "final {id} differs from scan");
    }
    let (malformed, late) = scan_rejections(data);
    assert_eq!(
        read(&topics.dlq).len(),
        malformed,
        "each malformed record dead-lettered once"
    );
    assert_eq!(
        read(&topics.late).len(),
        late,
        "each late record routed once"
    );
}

/// The arguments of `replay`: `file` to the input topic of `topics`, at
/// `rate` records per second (0: as fast as the broker takes them).
pub fn replay_args(topics: &TestTopics, file: &Path, rate: u32) -> Vec<String> {
    vec![
        "replay".to_owned(),
        "--topic".into(),
        topics.input.clone(),
        "--rate".into(),
        rate.to_string(),
        file.display().to_string(),
    ]
}

/// Publishes `file` to the input topic of `topics` and waits until it is done.
pub fn replay_file(topics: &TestTopics, file: &Path) {
    run_ok(&replay_args(topics, file, 0), Duration::from_secs(120));
}

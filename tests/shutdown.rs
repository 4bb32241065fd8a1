//! Stopping the detector: SIGTERM drains and loses nothing; a drain that
//! cannot finish (the broker frozen) ends at the shutdown deadline, or at
//! once on a second signal, with their own exit codes. The runs are
//! configured through a configuration file, as a deployment would. Kept in
//! its own test binary because it freezes the shared local broker.

use nvm_detector_tests::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn data() -> PathBuf {
    repo().join("data/nvm-flows.log")
}

/// A configuration file for a run on `topics` as instance `instance`.
fn config_file(topics: &TestTopics, instance: &str, extra: &str) -> PathBuf {
    let text = format!(
        "[stream]\ngroup_id = {group:?}\ninstance_id = {instance:?}\nidle_timeout_secs = 3600\n{extra}\n\
         [topics]\ninput_topic = {input:?}\nalerts_topic = {alerts:?}\ndlq_topic = {dlq:?}\nlate_topic = {late:?}\n\
         [kafka.properties]\n\"session.timeout.ms\" = 6000\n\"heartbeat.interval.ms\" = 500\n",
        group = topics.group,
        input = topics.input,
        alerts = topics.alerts,
        dlq = topics.dlq,
        late = topics.late,
    );
    temp_file(&format!("{}-{instance}.toml", topics.group), &[text])
}

fn run_with(config: &Path) -> Vec<String> {
    vec![
        "run".to_owned(),
        "--config".into(),
        config.display().to_string(),
    ]
}

fn replay(topics: &TestTopics, rate: u32) -> Running {
    spawn(
        &format!("replay-{}", topics.group),
        &replay_args(topics, &data(), rate),
    )
}

/// Waits until the alerts topic holds at least one alert.
fn await_first_alert(topics: &TestTopics, detector: &Running) {
    let started = Instant::now();
    while read(&topics.alerts).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "no alert within 90 s\n{}",
            detector.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The two tests take turns: one freezes the broker the other uses.
static BROKER: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn sigterm_drains_and_loses_nothing() {
    let _turn = BROKER.lock().unwrap_or_else(|e| e.into_inner());
    let topics = TestTopics::unique("sigterm");
    topics.create(3);
    let mut replay = replay(&topics, 800);

    let mut first = spawn(
        "sigterm-first",
        &run_with(&config_file(&topics, "first", "")),
    );
    await_first_alert(&topics, &first);
    first.signal("TERM");
    let status = first.wait(Duration::from_secs(60));
    let log = first.log();
    assert!(status.success(), "SIGTERM exits 0, got {status}\n{log}");
    for phase in [
        "shutdown requested",
        "committing in-flight work",
        "shutdown complete",
    ] {
        assert!(log.contains(phase), "no `{phase}` in the log:\n{log}");
    }
    assert!(
        log.contains(&format!("group={}", topics.group)),
        "the configuration file was not used:\n{log}"
    );

    assert!(
        replay.wait(Duration::from_secs(120)).success(),
        "replay failed"
    );
    let config = config_file(&topics, "second", "exit_when_idle_ms = 2000");
    let mut second = spawn("sigterm-second", &run_with(&config));
    let status = second.wait(Duration::from_secs(240));
    assert!(
        status.success(),
        "draining instance failed\n{}",
        second.log()
    );
    assert_outputs_match_scan(&topics, &data());
}

/// The local broker's process, frozen with SIGSTOP until dropped.
struct FrozenBroker(String);

impl FrozenBroker {
    fn freeze() -> Option<Self> {
        let pid = std::fs::read_to_string(repo().join(".kafka/kafka.pid")).ok()?;
        let pid = pid.trim().to_owned();
        let local = Command::new(repo().join("ops/kafka.sh"))
            .arg("bootstrap")
            .output()
            .ok()?;
        if String::from_utf8_lossy(&local.stdout).trim() != bootstrap_servers() {
            return None;
        }
        let stopped = Command::new("kill").args(["-STOP", &pid]).status().ok()?;
        stopped.success().then_some(FrozenBroker(pid))
    }
}

impl Drop for FrozenBroker {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-CONT", &self.0]).status();
    }
}

#[test]
fn a_stuck_drain_ends_at_the_deadline_or_at_a_second_signal() {
    let _turn = BROKER.lock().unwrap_or_else(|e| e.into_inner());
    let topics = TestTopics::unique("stuck");
    topics.create(3);
    let mut replay = replay(&topics, 2000);
    let deadline = spawn(
        "stuck-deadline",
        &run_with(&config_file(
            &topics,
            "deadline",
            "shutdown_timeout_ms = 2000",
        )),
    );
    let second = spawn(
        "stuck-second",
        &run_with(&config_file(
            &topics,
            "second",
            "shutdown_timeout_ms = 600000",
        )),
    );
    await_first_alert(&topics, &deadline);

    let Some(frozen) = FrozenBroker::freeze() else {
        eprintln!(
            "skipped: the broker at {} is not the local one this test can freeze",
            bootstrap_servers()
        );
        return;
    };
    deadline.signal("TERM");
    second.signal("TERM");
    std::thread::sleep(Duration::from_secs(1));
    second.signal("INT");
    let mut deadline = deadline;
    let mut second = second;
    let second_status = second.wait(Duration::from_secs(30));
    let deadline_status = deadline.wait(Duration::from_secs(30));
    drop(frozen);
    let _ = replay.wait(Duration::from_secs(120));

    assert_eq!(
        second_status.code(),
        Some(130),
        "a second signal (SIGINT) exits at once with 128 + 2\n{}",
        second.log()
    );
    assert!(second.log().contains("second signal during shutdown"));
    assert_eq!(
        deadline_status.code(),
        Some(124),
        "a drain that cannot finish ends at the deadline\n{}",
        deadline.log()
    );
    assert!(deadline.log().contains("shutdown deadline passed"));
}

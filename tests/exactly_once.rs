//! Exactly-once on a real broker: detector processes killed with SIGKILL
//! mid-stream, and instances joining and leaving the group mid-stream,
//! still publish every final alert exactly once, identical to `scan`.

use nvm_detector_tests::*;
use std::time::Duration;

fn data() -> std::path::PathBuf {
    repo().join("data/nvm-flows.log")
}

fn run_args(topics: &TestTopics, instance: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "run".to_owned(),
        "--group-id".into(),
        topics.group.clone(),
        "--instance-id".into(),
        instance.into(),
        // Windows must close by event time alone, whatever the test's pace.
        "--idle-timeout-secs".into(),
        "3600".into(),
        "-X".into(),
        "session.timeout.ms=6000".into(),
        "-X".into(),
        "heartbeat.interval.ms=500".into(),
    ];
    args.extend(topics.flags());
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn replay(topics: &TestTopics, rate: u32) -> Running {
    spawn("replay", &replay_args(topics, &data(), rate))
}

/// Runs one more instance until the input is drained and every window has
/// closed, then checks the alerts topic against scan.
fn drain_and_check(topics: &TestTopics) {
    let mut last = spawn(
        "drain",
        &run_args(topics, "drain", &["--exit-when-idle-ms", "2000"]),
    );
    let status = last.wait(Duration::from_secs(240));
    assert!(status.success(), "draining instance failed\n{}", last.log());

    assert_outputs_match_scan(topics, &data());
}

#[test]
fn sigkilled_detectors_publish_every_final_alert_exactly_once() {
    let mut rng = Rng::new(seed());
    let topics = TestTopics::unique("crash");
    topics.create(3);
    let mut replay = replay(&topics, 300);

    let mut restored_state = 0;
    for round in 0..6 {
        let detector = spawn(
            &format!("crash-{round}"),
            &run_args(&topics, "crashy", &["--static-membership"]),
        );
        std::thread::sleep(Duration::from_millis(2_000 + rng.below(3_000)));
        let log = detector.log();
        assert!(
            log.contains("state restored"),
            "round {round} never started:\n{log}"
        );
        restored_state += usize::from(round > 0 && !log.contains("records=0 "));
        detector.kill();
    }
    assert!(
        restored_state > 0,
        "no restarted instance restored any state"
    );
    assert!(
        replay.wait(Duration::from_secs(120)).success(),
        "replay failed"
    );
    drain_and_check(&topics);
}

#[test]
fn instances_joining_and_leaving_share_the_work_exactly_once() {
    let topics = TestTopics::unique("rebalance");
    topics.create(6);
    let mut replay = replay(&topics, 600);

    let a = spawn("a", &run_args(&topics, "a", &[]));
    let b = spawn("b", &run_args(&topics, "b", &[]));
    std::thread::sleep(Duration::from_secs(3));
    let c = spawn("c", &run_args(&topics, "c", &[]));
    std::thread::sleep(Duration::from_secs(3));
    a.terminate(Duration::from_secs(60));

    assert!(
        replay.wait(Duration::from_secs(120)).success(),
        "replay failed"
    );
    std::thread::sleep(Duration::from_secs(2));
    b.terminate(Duration::from_secs(60));
    c.terminate(Duration::from_secs(60));
    drain_and_check(&topics);
}

#[test]
fn unkeyed_input_is_rekeyed_through_the_repartition_topic_exactly_once() {
    // One input partition keeps the records in event-time order as they are
    // spread over three repartition partitions, so that lateness is the
    // same as in `scan`'s file order (with several input partitions it
    // depends on how their reading interleaves).
    let topics = TestTopics::unique("rekey");
    topics.create(1);
    let mut args = replay_args(&topics, &data(), 0);
    args.extend(["--key-field".to_owned(), "none".to_owned()]);
    run_ok(&args, Duration::from_secs(120));

    let rekey = ["--repartition-by", "src", "--repartition-partitions", "3"];
    let first = spawn("rekey-first", &run_args(&topics, "rekey", &rekey));
    std::thread::sleep(Duration::from_secs(4));
    first.kill();
    let mut last = spawn(
        "rekey-drain",
        &run_args(
            &topics,
            "rekey",
            &[
                rekey[0],
                rekey[1],
                rekey[2],
                rekey[3],
                "--exit-when-idle-ms",
                "2000",
            ],
        ),
    );
    let status = last.wait(Duration::from_secs(240));
    assert!(status.success(), "draining instance failed\n{}", last.log());
    assert!(
        last.log()
            .contains(&format!("{}.repartition", topics.group)),
        "records did not go through the repartition topic\n{}",
        last.log()
    );
    assert_outputs_match_scan(&topics, &data());
}

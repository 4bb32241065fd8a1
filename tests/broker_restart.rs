//! A broker restart in the middle of a run: the detector rides it out by
//! itself (aborting and redoing what was in flight) and the final alerts are
//! still exactly those of `scan`. Kept in its own test binary because it
//! takes the shared local broker down.

use nvm_detector_tests::*;
use std::process::Command;
use std::time::Duration;

#[test]
fn the_detector_recovers_by_itself_from_a_broker_restart() {
    let local = Command::new(repo().join("ops/kafka.sh"))
        .arg("bootstrap")
        .output()
        .expect("ops/kafka.sh");
    let local = String::from_utf8_lossy(&local.stdout).trim().to_owned();
    if bootstrap_servers() != local {
        eprintln!(
            "skipped: the broker at {} is not the local one this test can restart",
            bootstrap_servers()
        );
        return;
    }
    let data = repo().join("data/nvm-flows.log");
    let topics = TestTopics::unique("restart");
    topics.create(3);

    let mut args = vec![
        "run".to_owned(),
        "--group-id".into(),
        topics.group.clone(),
        "--instance-id".into(),
        "survivor".into(),
        "--idle-timeout-secs".into(),
        "3600".into(),
        "--exit-when-idle-ms".into(),
        "3000".into(),
    ];
    args.extend(topics.flags());
    let mut detector = spawn("survivor", &args);
    let mut replay = spawn(
        "replay",
        &[
            "replay".to_owned(),
            "--topic".into(),
            topics.input.clone(),
            "--rate".into(),
            "400".into(),
            data.display().to_string(),
        ],
    );

    std::thread::sleep(Duration::from_secs(5));
    let restart = Command::new(repo().join("ops/kafka.sh"))
        .arg("restart")
        .output()
        .expect("restarting the broker");
    assert!(
        restart.status.success(),
        "{}",
        String::from_utf8_lossy(&restart.stderr)
    );

    assert!(
        replay.wait(Duration::from_secs(180)).success(),
        "replay failed\n{}",
        replay.log()
    );
    let status = detector.wait(Duration::from_secs(240));
    assert!(
        status.success(),
        "the detector did not recover\n{}",
        detector.log()
    );

    let expected = scan_finals(&data);
    let got = finals_once(&topics.alerts);
    assert_eq!(got, expected);
}

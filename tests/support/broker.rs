//! Where the integration tests find their Kafka broker.
//!
//! In order of precedence:
//! 1. `KAFKA_BOOTSTRAP` set: that cluster is used as is (this is what `ops/test.sh` does).
//! 2. `NVM_TEST_BROKER=testcontainers` (needs `--features testcontainers` and a Docker
//!    engine): a throwaway `apache/kafka` container, removed when the test process exits.
//! 3. Otherwise the project's local broker is started with `ops/kafka.sh start` (once per
//!    process) and left running for the next test binary; `ops/kafka.sh stop` ends it.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Bootstrap address of a Kafka cluster the tests may use, starting one if needed.
///
/// Panics with an explanation when no broker can be provided.
pub fn bootstrap_servers() -> String {
    if let Some(bootstrap) = env_non_empty("KAFKA_BOOTSTRAP") {
        return bootstrap;
    }
    // The outcome is kept, failures included, so later tests fail fast instead of
    // each waiting for a broker that will not come up.
    static BOOTSTRAP: OnceLock<Result<String, String>> = OnceLock::new();
    let outcome = BOOTSTRAP.get_or_init(|| {
        std::panic::catch_unwind(|| match env_non_empty("NVM_TEST_BROKER").as_deref() {
            Some("testcontainers") => container::start(),
            None | Some("local") => start_local_broker(),
            Some(other) => panic!(
                "NVM_TEST_BROKER={other:?} is not supported; use \"local\" (default) or \"testcontainers\""
            ),
        })
        .map_err(|payload| panic_message(payload.as_ref()))
    });
    match outcome {
        Ok(bootstrap) => bootstrap.clone(),
        Err(message) => panic!("no Kafka broker for the tests: {message}"),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "broker start-up panicked".to_string()
    }
}

fn env_non_empty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives one level below the repository root")
        .to_path_buf()
}

/// Runs `ops/kafka.sh start` (idempotent) and asks the script for the address it used.
fn start_local_broker() -> String {
    let script = repo_root().join("ops").join("kafka.sh");
    // The script detaches the broker from our stdout/stderr, so capturing output cannot hang.
    let start = Command::new(&script)
        .arg("start")
        .output()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", script.display()));
    if !start.status.success() {
        panic!(
            "`{} start` failed ({}); set KAFKA_BOOTSTRAP to use another cluster.\n--- stdout\n{}\n--- stderr\n{}",
            script.display(),
            start.status,
            String::from_utf8_lossy(&start.stdout),
            String::from_utf8_lossy(&start.stderr),
        );
    }
    let bootstrap = Command::new(&script)
        .arg("bootstrap")
        .output()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", script.display()));
    let address = String::from_utf8_lossy(&bootstrap.stdout)
        .trim()
        .to_string();
    if !bootstrap.status.success() || address.is_empty() {
        // Same default as the script, in case it printed nothing useful.
        let port = env_non_empty("KAFKA_PORT").unwrap_or_else(|| "9092".to_string());
        return format!("127.0.0.1:{port}");
    }
    address
}

#[cfg(not(feature = "testcontainers"))]
mod container {
    pub(super) fn start() -> String {
        panic!(
            "NVM_TEST_BROKER=testcontainers needs the `testcontainers` feature: \
             cargo test -p nvm-detector-tests --features testcontainers"
        )
    }
}

#[cfg(feature = "testcontainers")]
mod container {
    use std::process::Command;
    use std::sync::OnceLock;
    use std::time::Duration;

    use testcontainers::runners::AsyncRunner;
    use testcontainers::ImageExt;
    use testcontainers_modules::kafka::apache::{Kafka, KAFKA_PORT};

    /// Same Kafka line as ops/kafka.sh and docker-compose.yml.
    const KAFKA_TAG: &str = "4.1.1";

    static CONTAINER_ID: OnceLock<String> = OnceLock::new();

    extern "C" {
        fn atexit(callback: extern "C" fn()) -> std::os::raw::c_int;
    }

    /// Statics are never dropped, so the container is removed from an exit hook instead.
    extern "C" fn remove_container() {
        if let Some(id) = CONTAINER_ID.get() {
            let _ = Command::new("docker")
                .args(["rm", "--force", "--volumes", id])
                .output();
        }
    }

    pub(super) fn start() -> String {
        // A dedicated thread with its own runtime: callers may already be inside a tokio
        // runtime, where blocking on another one would panic.
        std::thread::spawn(start_on_own_runtime)
            .join()
            .unwrap_or_else(|payload| std::panic::resume_unwind(payload))
    }

    fn start_on_own_runtime() -> String {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime for testcontainers");
        runtime.block_on(async {
            // The JVM image of Apache Kafka, with the single-node settings transactions and
            // consumer groups need (the module's defaults only cover the offsets topic).
            let request = Kafka::default()
                .with_jvm_image()
                .with_tag(KAFKA_TAG)
                .with_env_var("KAFKA_NODE_ID", "1")
                .with_env_var("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
                .with_env_var("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
                .with_env_var("KAFKA_MIN_INSYNC_REPLICAS", "1")
                .with_env_var("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR", "1")
                .with_env_var("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR", "1")
                .with_env_var("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0")
                .with_env_var("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
                .with_env_var("KAFKA_NUM_PARTITIONS", "1")
                .with_startup_timeout(Duration::from_secs(120));
            let container = request.start().await.unwrap_or_else(|e| {
                panic!("could not start an apache/kafka:{KAFKA_TAG} container (is a Docker engine running?): {e}")
            });
            let host = container
                .get_host()
                .await
                .unwrap_or_else(|e| panic!("Kafka container host: {e}"));
            let port = container
                .get_host_port_ipv4(KAFKA_PORT)
                .await
                .unwrap_or_else(|e| panic!("Kafka container port: {e}"));

            let id = container.id().to_string();
            if CONTAINER_ID.set(id).is_ok() {
                // SAFETY: registers a plain `extern "C"` function with no captured state.
                unsafe {
                    atexit(remove_container);
                }
            }
            // Keep it running for the whole process; `remove_container` cleans up at exit.
            std::mem::forget(container);
            format!("{host}:{port}")
        })
    }
}

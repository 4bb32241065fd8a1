//! Signals and the shutdown deadline of `run`.

use std::sync::Arc;
use std::time::Duration;
use tracing::{error, info, warn};

/// Exit code when the shutdown deadline passes before the drain is done.
pub const EXIT_SHUTDOWN_TIMEOUT: u8 = 124;

/// Watches for SIGTERM and SIGINT apart from the event loop, which may be
/// blocked in a commit: the first signal is logged, starts the deadline and
/// wakes the loop to drain; a second one ends the process at once with
/// 128 + its number. The deadline ends it with [`EXIT_SHUTDOWN_TIMEOUT`],
/// so a drain that hangs (a broker gone for good) never outlives what its
/// supervisor allows.
pub(super) fn watch_signals(
    deadline: Duration,
    health: Arc<crate::observe::health::Health>,
) -> Arc<tokio::sync::Notify> {
    let requested = Arc::new(tokio::sync::Notify::new());
    let wake = requested.clone();
    tokio::spawn(async move {
        let Some(mut signals) = Signals::new() else {
            warn!("cannot watch for signals; stop the process with SIGKILL");
            return;
        };
        let signal = signals.next().await;
        info!(
            signal,
            deadline_ms = deadline.as_millis() as u64,
            "shutdown requested; draining"
        );
        health.shutting_down();
        start_deadline(deadline);
        // A stored permit: the loop sees it even if it is busy right now.
        wake.notify_one();
        let signal = signals.next().await;
        error!(
            signal,
            "second signal during shutdown; exiting now, in-flight work is left to be replayed"
        );
        std::process::exit(128 + signal);
    });
    requested
}

/// SIGTERM and SIGINT.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Option<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Some(Signals {
                term: signal(SignalKind::terminate()).ok()?,
                int: signal(SignalKind::interrupt()).ok()?,
            })
        }
        #[cfg(not(unix))]
        {
            Some(Signals {})
        }
    }

    /// The next signal's number.
    async fn next(&mut self) -> i32 {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => 2,
                _ = self.term.recv() => 15,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            2
        }
    }
}

fn start_deadline(deadline: Duration) {
    let spawned = std::thread::Builder::new()
        .name("shutdown-deadline".into())
        .spawn(move || {
            std::thread::sleep(deadline);
            error!(
                deadline_ms = deadline.as_millis() as u64,
                "shutdown deadline passed; exiting, in-flight work is left to be replayed"
            );
            std::process::exit(i32::from(EXIT_SHUTDOWN_TIMEOUT));
        });
    if let Err(e) = spawned {
        warn!(error = %e, "could not start the shutdown deadline");
    }
}

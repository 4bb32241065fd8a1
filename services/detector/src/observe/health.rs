//! What `/readyz` answers: ready once this instance has partitions, every
//! one of them has its window state restored, and its consumer is
//! connected to the cluster.
//!
//! An instance of a group with more members than input partitions gets no
//! assignment and so never becomes ready. That is deliberate: it does no
//! work, and an orchestrator that waits for readiness during a rolling
//! update should not count it as serving.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Mutex, MutexGuard};

/// Why the instance is not ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReady {
    /// No partition is assigned (starting, rebalancing, or shutting down).
    Unassigned,
    /// This many partitions are still having their state restored.
    Restoring(usize),
    /// The consumer has no connection to any broker.
    BrokerDown,
    /// A shutdown signal arrived; the instance is draining.
    ShuttingDown,
}

impl fmt::Display for NotReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotReady::Unassigned => f.write_str("no partitions assigned"),
            NotReady::Restoring(n) => write!(f, "restoring state of {n} partition(s)"),
            NotReady::BrokerDown => f.write_str("not connected to the kafka cluster"),
            NotReady::ShuttingDown => f.write_str("shutting down"),
        }
    }
}

/// The health state at one moment, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthSnapshot {
    pub assigned: usize,
    pub restoring: usize,
    pub ready: bool,
}

#[derive(Debug, Default)]
struct State {
    assigned: BTreeSet<(String, i32)>,
    restoring: usize,
    broker_up: bool,
    shutting_down: bool,
}

/// Readiness inputs, updated by the consumer's callbacks and read by the
/// HTTP server.
#[derive(Debug, Default)]
pub struct Health {
    state: Mutex<State>,
}

impl Health {
    /// Not ready: nothing assigned, no broker connection seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update is a single assignment; a panic cannot leave one half done.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Partitions were added to the assignment, and the state of
    /// `restoring` of them is about to be restored: one step, so that no
    /// reader sees the partitions assigned but not yet restoring. Joining
    /// the group needed the cluster, so the connection is up.
    pub fn assigned(&self, partitions: &[(String, i32)], restoring: usize) {
        let mut state = self.lock();
        state.assigned.extend(partitions.iter().cloned());
        state.restoring += restoring;
        state.broker_up = true;
    }

    /// Partitions were taken from the assignment (revoked or lost).
    pub fn revoked(&self, partitions: &[(String, i32)]) {
        let mut state = self.lock();
        for p in partitions {
            state.assigned.remove(p);
        }
    }

    /// Whether a partition is assigned.
    pub fn is_assigned(&self, topic: &str, partition: i32) -> bool {
        self.lock()
            .assigned
            .iter()
            .any(|(t, p)| *p == partition && t == topic)
    }

    /// The restore of `partitions` state partitions ended (done or failed).
    pub fn restore_finished(&self, partitions: usize) {
        let mut state = self.lock();
        state.restoring = state.restoring.saturating_sub(partitions);
    }

    /// The consumer's connection to the cluster went up or down.
    pub fn broker_connection(&self, up: bool) {
        self.lock().broker_up = up;
    }

    /// A shutdown began: never ready again.
    pub fn shutting_down(&self) {
        self.lock().shutting_down = true;
    }

    /// `Ok` when ready, else the first reason it is not.
    ///
    /// # Errors
    /// The reason the instance is not ready.
    pub fn readiness(&self) -> Result<(), NotReady> {
        readiness(&self.lock())
    }

    /// The current state, for the metrics.
    pub fn snapshot(&self) -> HealthSnapshot {
        let state = self.lock();
        HealthSnapshot {
            assigned: state.assigned.len(),
            restoring: state.restoring,
            ready: readiness(&state).is_ok(),
        }
    }
}

fn readiness(state: &State) -> Result<(), NotReady> {
    if state.shutting_down {
        return Err(NotReady::ShuttingDown);
    }
    if state.assigned.is_empty() {
        return Err(NotReady::Unassigned);
    }
    if state.restoring > 0 {
        return Err(NotReady::Restoring(state.restoring));
    }
    if !state.broker_up {
        return Err(NotReady::BrokerDown);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shutdown_ends_readiness_for_good() {
        let health = Health::new();
        health.assigned(&[("t".to_owned(), 0)], 0);
        assert_eq!(health.readiness(), Ok(()));
        health.shutting_down();
        assert_eq!(health.readiness(), Err(NotReady::ShuttingDown));
        health.assigned(&[("t".to_owned(), 1)], 0);
        assert_eq!(health.readiness(), Err(NotReady::ShuttingDown));
    }

    fn partitions(ps: &[i32]) -> Vec<(String, i32)> {
        ps.iter().map(|p| ("in".to_owned(), *p)).collect()
    }

    #[test]
    fn is_not_ready_before_any_assignment() {
        let health = Health::new();
        health.broker_connection(true);
        assert_eq!(health.readiness(), Err(NotReady::Unassigned));
    }

    #[test]
    fn is_ready_only_once_every_restore_has_finished() {
        let health = Health::new();
        health.assigned(&partitions(&[0, 1]), 2);
        assert_eq!(health.readiness(), Err(NotReady::Restoring(2)));
        health.assigned(&partitions(&[2]), 1);
        health.restore_finished(2);
        assert_eq!(health.readiness(), Err(NotReady::Restoring(1)));
        health.restore_finished(1);
        assert_eq!(health.readiness(), Ok(()));
    }

    #[test]
    fn is_not_ready_while_disconnected_and_after_losing_every_partition() {
        let health = Health::new();
        health.assigned(&partitions(&[0, 1]), 0);
        health.broker_connection(false);
        assert_eq!(health.readiness(), Err(NotReady::BrokerDown));
        health.broker_connection(true);
        assert!(health.snapshot().ready);

        health.revoked(&partitions(&[0]));
        assert!(health.is_assigned("in", 1) && !health.is_assigned("in", 0));
        health.revoked(&partitions(&[1]));
        assert_eq!(health.readiness(), Err(NotReady::Unassigned));
        assert_eq!(health.snapshot().assigned, 0);
    }
}

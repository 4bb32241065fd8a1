//! State in the suite: memory per open group (in a process of its own)
//! and the restore of a changelog of many open groups after a restart.

use super::{progress, Collected, Suite};
use crate::detector::RunTopics;
use crate::report::{human, median, Better, Measurement};
use crate::state::{self, GroupMemory};
use anyhow::bail;

impl Suite<'_> {
    /// f. State: memory per open group; restore time when the build has a
    /// changelog.
    pub(super) fn state(&self, c: &mut Collected) -> anyhow::Result<()> {
        self.group_memory(c)?;
        if !self.capabilities.changelog {
            for n in &self.sizes.restore_groups {
                c.unavailable(
                    &format!("state.restore_{n}_groups_secs"),
                    "nvm-detector run has no changelog restore (nothing in `run --help`)",
                );
            }
            return Ok(());
        }
        for &n in &self.sizes.restore_groups {
            self.restore(n, c)?;
        }
        Ok(())
    }

    fn group_memory(&self, c: &mut Collected) -> anyhow::Result<()> {
        let groups = self.sizes.state_groups.to_string();
        let mut heap = Vec::new();
        let mut rss = Vec::new();
        for _ in 0..self.sizes.runs {
            let rules = self.rules_arg();
            let args = ["state-memory", "--groups", &groups, "--rules", &rules];
            let m: GroupMemory = self.child(&args)?;
            if m.open_groups as u64 != m.groups {
                bail!("{} of {} groups stayed open", m.open_groups, m.groups);
            }
            heap.push(m.heap_bytes_per_group);
            rss.extend(m.rss_bytes_per_group);
        }
        progress(&format!(
            "state: {} bytes of heap per group",
            human(median(&heap))
        ));
        c.measurements.push(
            Measurement::new("state.heap_bytes_per_group", "bytes", Better::Lower, heap).note(
                format!(
                    "{groups} groups of one rclone record each, one window; counting allocator"
                ),
            ),
        );
        if !rss.is_empty() {
            c.measurements.push(
                Measurement::new("state.rss_bytes_per_group", "bytes", Better::Lower, rss)
                    .note("resident memory growth over the same fill"),
            );
        }
        Ok(())
    }

    /// Fills, stops and restarts a detector holding `n` open groups.
    fn restore(&self, n: u64, c: &mut Collected) -> anyhow::Result<()> {
        let mut secs = Vec::new();
        let mut startup = Vec::new();
        let runs = self.sizes.runs;
        let config = crate::offline::stream_config(&self.detector.rules)?;
        for k in 1..=runs {
            let prefix = self.name(&format!("restore{n}-{k}"));
            let topics = RunTopics::named(&format!("{prefix}.flows"), &prefix);
            self.kafka
                .create_topics(&[(&topics.input, self.sizes.input_partitions)])?;
            let dir = self.logs.join(format!("restore{n}-{k}"));
            std::fs::create_dir_all(&dir)?;
            let run = state::restore(&self.detector, &config, &topics, &prefix, n, &dir)?;
            if run.restored_groups != n {
                bail!(
                    "restored {} of {n} groups; logs in {}",
                    run.restored_groups,
                    dir.display()
                );
            }
            progress(&format!(
                "restore of {n} groups run {k}/{runs}: {:.2} s ({} changelog records)",
                run.restore_secs, run.changelog_records
            ));
            secs.push(run.restore_secs);
            startup.push(run.startup_secs);
            // Each of these topics holds up to a million records.
            let _ = self
                .kafka
                .delete_topics(&self.kafka.topics_with_prefix(&prefix)?);
        }
        c.measurements.push(
            Measurement::new(
                &format!("state.restore_{n}_groups_secs"),
                "s",
                Better::Lower,
                secs,
            )
            .note(format!(
                "the detector's own `state restored` elapsed_ms over {} partitions; \
                 changelog written with its codec, one record per group",
                self.sizes.input_partitions
            )),
        );
        c.measurements.push(
            Measurement::new(
                &format!("state.restart_{n}_groups_secs"),
                "s",
                Better::Lower,
                startup,
            )
            .note("from spawning the restarted detector to its last `state restored`"),
        );
        Ok(())
    }
}

//! The machine and the code a run measured: cores, memory, CPU model, date,
//! git commit, and how busy the machine was.

use crate::report::Machine;
use crate::sys;
use std::path::Path;
use std::process::Command;

/// Describes this machine and the repository at `repo`.
pub fn describe(repo: &Path) -> Machine {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(repo)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let kernel = Command::new("uname")
        .arg("-r")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    Machine {
        nproc: sys::nproc(),
        memory_bytes: sys::mem_total_bytes(),
        cpu_model: sys::cpu_model(),
        date: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        git_commit: git(&["rev-parse", "HEAD"]),
        git_dirty: git(&["status", "--porcelain"]).map(|s| !s.is_empty()),
        kernel,
        load_average_start: sys::load_average(),
        load_average_end: None,
    }
}

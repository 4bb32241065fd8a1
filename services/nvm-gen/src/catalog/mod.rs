//! The software catalogue: which binaries run on which kind of host, how
//! they are started (path, arguments, account, parent) and whom they talk to.
//!
//! Entries are data, not code, so the traffic mix can be read and tuned in
//! one place. `weight` is an entry's share of its host's flows; an entry
//! with weight 0 only ever appears as a parent.

mod unix;
mod windows;

use crate::model::Os;
use crate::net::Target;

/// The account a process runs as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunAs {
    /// The logged-in user, medium integrity on Windows.
    User,
    /// The logged-in user with an elevated token (high integrity).
    Elevated,
    System,
    LocalService,
    NetworkService,
    Root,
    /// A named Unix service account (`_mdnsresponder`, `systemd-resolve`).
    Daemon(&'static str),
}

/// Where in the pid space a process usually lands: boot-time services get
/// low pids, per-session programs higher ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PidHint {
    Fixed(u32),
    Boot,
    Service,
    Session,
}

/// One run of a short-lived tool: its arguments and the connection they
/// cause. Tools such as curl.exe get a new pid for every invocation.
pub struct Invocation {
    pub args: &'static str,
    pub target: Target,
}

/// A binary and how it behaves on a host.
pub struct ImageSpec {
    /// Catalogue key; parents are referred to by it.
    pub key: &'static str,
    /// Which binary this is; instances of one binary share `ph`.
    pub binary: &'static str,
    pub os: Os,
    pub name: &'static str,
    /// Full image path; `{user}` expands to the account name.
    pub path: &'static str,
    /// Alternatives for long-lived processes, one picked per host; may hold
    /// the placeholders listed in `fleet::expand`.
    pub args: &'static [&'static str],
    pub run_as: RunAs,
    pub pid: PidHint,
    pub parent: Option<&'static str>,
    /// The DLL NVM lists in `mnl` (svchost service hosts).
    pub module: Option<&'static str>,
    pub targets: &'static [Target],
    /// Non-empty for tools that start afresh per use.
    pub invocations: &'static [Invocation],
    pub weight: u64,
    pub presence_pct: u8,
    pub on_servers: bool,
    pub on_workstations: bool,
}

impl ImageSpec {
    /// Defaults that entries override with `..ImageSpec::BASE`.
    pub const BASE: ImageSpec = ImageSpec {
        key: "",
        binary: "",
        os: Os::Windows,
        name: "",
        path: "",
        args: &[""],
        run_as: RunAs::User,
        pid: PidHint::Session,
        parent: None,
        module: None,
        targets: &[],
        invocations: &[],
        weight: 0,
        presence_pct: 100,
        on_servers: false,
        on_workstations: true,
    };

    /// Whether this entry is a tool that gets a new process per use.
    pub fn spawns(&self) -> bool {
        !self.invocations.is_empty()
    }
}

/// Every catalogue entry, Windows first.
pub fn all() -> impl Iterator<Item = &'static ImageSpec> {
    windows::SPECS.iter().chain(unix::SPECS.iter()).copied()
}

/// The entry with catalogue key `key`.
///
/// # Panics
///
/// When `key` is not in the catalogue, which is a bug in the tables.
pub fn spec(key: &str) -> &'static ImageSpec {
    all()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("catalogue has no entry {key:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parent_reference_resolves() {
        for s in all() {
            if let Some(parent) = s.parent {
                assert_eq!(spec(parent).os, s.os, "{} -> {parent}", s.key);
            }
        }
    }

    #[test]
    fn keys_are_unique_and_tools_have_no_fixed_targets() {
        let keys: Vec<_> = all().map(|s| s.key).collect();
        for (i, k) in keys.iter().enumerate() {
            assert!(!keys[i + 1..].contains(k), "duplicate key {k}");
        }
        for s in all().filter(|s| s.spawns()) {
            assert!(s.targets.is_empty(), "{}", s.key);
        }
    }
}

//! What a flow record talks about: sites, hosts, accounts and the process
//! instances running on hosts. [`crate::fleet`] builds them once per run;
//! flows then share them through `Arc`, so a process keeps one pid, one
//! `puid` and one parent for as long as it lives.

use std::sync::Arc;

use crate::catalog::ImageSpec;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Os {
    Windows,
    MacOs,
    Linux,
}

/// The role of an endpoint; it decides its name, software and activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKind {
    Desktop,
    Laptop,
    Server,
    Mac,
    Linux,
}

impl HostKind {
    pub fn os(self) -> Os {
        match self {
            HostKind::Mac => Os::MacOs,
            HostKind::Linux => Os::Linux,
            _ => Os::Windows,
        }
    }
}

/// An office network: address prefix, DNS suffix, local time zone (which
/// `fst`/`fet` are written in) and the collector that exports its flows.
pub struct Site {
    pub name: &'static str,
    pub prefix: [u8; 2],
    pub v6_prefix: &'static str,
    pub dns_suffix: &'static str,
    pub utc_offset_min: i32,
    pub collector: &'static str,
    /// How this site's key=value collector writes an empty value: most
    /// write `''`, an older one writes `'`.
    pub kv_empty: &'static str,
}

pub static SITES: [Site; 3] = [
    Site {
        name: "hq",
        prefix: [10, 10],
        v6_prefix: "2001:db8:10:",
        dns_suffix: "corp.example.com",
        utc_offset_min: 0,
        collector: "nvm-col-hq01",
        kv_empty: "''",
    },
    Site {
        name: "blr",
        prefix: [10, 20],
        v6_prefix: "2001:db8:20:",
        dns_suffix: "blr.corp.example.com",
        utc_offset_min: 330,
        collector: "nvm-col-blr01",
        kv_empty: "'",
    },
    Site {
        name: "nyc",
        prefix: [10, 30],
        v6_prefix: "2001:db8:30:",
        dns_suffix: "nyc.corp.example.com",
        utc_offset_min: -240,
        collector: "nvm-col-nyc01",
        kv_empty: "''",
    },
];

/// A user or service account as NVM splits it: `DOMAIN\user`, its two
/// halves, and an account type code. The codes follow the public examples
/// (2 for a user, 8194 for an elevated one); 1 for built-in service
/// accounts is this generator's choice.
pub struct Account {
    pub full: String,
    pub authority: String,
    pub principal: String,
    pub type_code: u16,
}

impl Account {
    pub fn new(authority: &str, principal: &str, type_code: u16) -> Account {
        let full = if authority.is_empty() {
            principal.to_owned()
        } else {
            format!("{authority}\\{principal}")
        };
        Account {
            full,
            authority: authority.to_owned(),
            principal: principal.to_owned(),
            type_code,
        }
    }
}

/// The loaded module NVM reports for a process (svchost's service DLL).
pub struct Module {
    pub name: &'static str,
    pub hash: String,
}

/// One running process instance.
pub struct Process {
    pub name: &'static str,
    pub path: String,
    /// Arguments without the image path, exactly as `parg` carries them.
    pub args: String,
    pub pid: u32,
    /// Shared by every instance of the same binary.
    pub hash: Arc<str>,
    pub puid: String,
    /// Windows integrity RID; `None` where the concept does not exist.
    pub integrity: Option<u16>,
    pub account: Arc<Account>,
    pub module: Option<Arc<Module>>,
    pub parent: Option<Arc<Process>>,
}

/// Something on a host that opens connections: a long-lived process, or a
/// tool that starts afresh (new pid) for each use.
pub enum Activity {
    Running(Arc<Process>, &'static ImageSpec),
    Spawn(&'static ImageSpec),
}

impl Activity {
    pub fn spec(&self) -> &'static ImageSpec {
        match self {
            Activity::Running(_, spec) | Activity::Spawn(spec) => spec,
        }
    }
}

/// One endpoint with NVM installed.
pub struct Host {
    pub name: String,
    pub kind: HostKind,
    pub dept: &'static str,
    pub site: &'static Site,
    pub udid: String,
    pub ip: String,
    pub ip6: Option<String>,
    /// Address on a home network, used for flows cached while roaming.
    pub home_ip: String,
    pub iid: u16,
    pub user: Arc<Account>,
    pub aliul: String,
    /// Old NVM client: writes `nvzFlow_v3` records without process context.
    pub legacy: bool,
    /// Whether this host's NVM profile reports flow starts (`fsg` 1) as
    /// well as ends.
    pub reports_start: bool,
    /// Relative share of all flows that this host opens.
    pub weight: u64,
    pub activities: Vec<Activity>,
    /// Long-lived instances by catalogue key, to find parents.
    pub instances: Vec<(&'static str, Arc<Process>)>,
    /// Next pid for a freshly started process; only grows, so short-lived
    /// processes never reuse a pid within a run.
    pub next_pid: u32,
}

impl Host {
    pub fn os(&self) -> Os {
        self.kind.os()
    }

    /// The long-lived instance of catalogue entry `key`, if running.
    pub fn instance(&self, key: &str) -> Option<&Arc<Process>> {
        self.instances
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, p)| p)
    }
}

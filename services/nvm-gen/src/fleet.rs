//! Builds the endpoints of a run: names, addresses, users, and the process
//! instances each one runs, drawn from [`crate::catalog`]. Everything here
//! comes from the fleet's own random stream, so the same `--seed` and
//! `--hosts` give the same fleet whatever `--count` is.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::catalog::{self, ImageSpec, PidHint, RunAs};
use crate::model::{Account, Activity, Host, HostKind, Module, Os, Process, SITES};
use crate::rng::{stable_hash_hex, Rng};

pub const DOMAIN: &str = "CORP";

const DEPTS: [&str; 8] = ["FIN", "HR", "ENG", "SAL", "MKT", "OPS", "LEG", "IT"];
const SERVER_NAMES: [&str; 8] = [
    "APP-SRV01",
    "BKP-SRV01",
    "RDS-SRV01",
    "SQL-SRV01",
    "WEB-SRV01",
    "PRN-SRV01",
    "APP-SRV02",
    "BKP-SRV02",
];
/// Macs cluster in engineering and marketing.
const MAC_DEPTS: [&str; 4] = ["ENG", "MKT", "ENG", "SAL"];
const LINUX_ROLES: [&str; 5] = ["build", "dev", "ml", "ci", "data"];

const FIRST_NAMES: [&str; 40] = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Priya",
    "Arjun",
    "Ananya",
    "Rahul",
    "Kavya",
    "Vikram",
    "Wei",
    "Mei",
    "Hiroshi",
    "Yuki",
    "Olga",
    "Ivan",
    "Fatima",
    "Omar",
    "Lucas",
    "Sofia",
    "Mateo",
    "Camila",
    "Noah",
    "Emma",
    "Zoë",
    "Jörg",
];
const LAST_NAMES: [&str; 40] = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Sharma",
    "Patel",
    "Iyer",
    "Reddy",
    "Nair",
    "Chen",
    "Wang",
    "Tanaka",
    "Sato",
    "Petrova",
    "Ivanov",
    "Haddad",
    "Silva",
    "Costa",
    "Rossi",
    "Novak",
    "Kowalski",
    "Okafor",
    "Müller",
    "Núñez",
];
const DOCS: [&str; 6] = [
    "Q3 forecast.docx",
    "Board update July.docx",
    "Vendor contract - draft.docx",
    "Onboarding checklist.docx",
    "Résumé.docx",
    "Incident review 2026-07.docx",
];

/// All endpoints of a run.
pub struct Fleet {
    pub hosts: Vec<Host>,
    cumulative_weight: Vec<u64>,
    hashes: HashMap<&'static str, Arc<str>>,
    modules: HashMap<&'static str, Arc<Module>>,
}

impl Fleet {
    /// Builds `count` hosts from `rng`.
    pub fn build(rng: &mut Rng, count: usize) -> Fleet {
        let mut fleet = Fleet {
            hosts: Vec::with_capacity(count),
            cumulative_weight: Vec::with_capacity(count),
            hashes: HashMap::new(),
            modules: HashMap::new(),
        };
        let mut names = Names::default();
        for kind in plan_kinds(rng, count) {
            let host = new_host(rng, kind, &mut names);
            fleet.push(host);
            fleet.install_software(rng, fleet.hosts.len() - 1);
        }
        fleet
    }

    fn push(&mut self, host: Host) {
        let total = self.cumulative_weight.last().copied().unwrap_or(0);
        self.cumulative_weight.push(total + host.weight);
        self.hosts.push(host);
    }

    /// A host drawn in proportion to its activity weight.
    pub fn pick_host(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative_weight.last().copied().unwrap_or(0);
        let ticket = rng.below(total);
        self.cumulative_weight.partition_point(|&c| c <= ticket)
    }

    /// Starts a fresh process of `spec` on host `host` (a tool run, or an
    /// rclone session's process) with `args`; it gets the host's next pid.
    pub fn spawn(
        &mut self,
        rng: &mut Rng,
        host: usize,
        spec: &'static ImageSpec,
        args: &str,
    ) -> Arc<Process> {
        let pid = next_pid(rng, &mut self.hosts[host]);
        let parent = spec.parent.map(|key| self.instance(rng, host, key));
        let args = vary_leading_space(rng, args);
        Arc::new(self.process(rng, host, spec, args, pid, parent))
    }

    /// Builds a process for an image that is not in the catalogue (a
    /// renamed or unusual binary) with an explicit parent and account.
    pub fn custom_process(&mut self, rng: &mut Rng, host: usize, custom: Custom) -> Arc<Process> {
        let pid = next_pid(rng, &mut self.hosts[host]);
        let hash = self.hash_of(custom.binary);
        let host = &self.hosts[host];
        Arc::new(Process {
            name: custom.name,
            path: expand(custom.path, host, rng),
            args: expand(custom.args, host, rng),
            pid,
            hash,
            puid: rng.hex_upper(32),
            integrity: integrity(host.os(), custom.run_as),
            account: account(host, custom.run_as),
            module: None,
            parent: custom.parent,
        })
    }

    /// The long-lived instance of catalogue entry `key` on `host`, started
    /// (with its own parents) on first use.
    pub fn instance(&mut self, rng: &mut Rng, host: usize, key: &'static str) -> Arc<Process> {
        if let Some(p) = self.hosts[host].instance(key) {
            return p.clone();
        }
        let spec = catalog::spec(key);
        let parent = spec.parent.map(|k| self.instance(rng, host, k));
        let pid = long_lived_pid(rng, &self.hosts[host], spec.pid);
        let template = *rng.pick(spec.args);
        let args = expand(template, &self.hosts[host], rng);
        let args = vary_leading_space(rng, &args);
        let process = Arc::new(self.process(rng, host, spec, args, pid, parent));
        self.hosts[host].instances.push((key, process.clone()));
        process
    }

    fn process(
        &mut self,
        rng: &mut Rng,
        host: usize,
        spec: &'static ImageSpec,
        args: String,
        pid: u32,
        parent: Option<Arc<Process>>,
    ) -> Process {
        let module = spec.module.map(|m| self.module_of(m));
        let hash = self.hash_of(spec.binary);
        let host = &self.hosts[host];
        Process {
            name: spec.name,
            path: expand(spec.path, host, rng),
            args,
            pid,
            hash,
            puid: rng.hex_upper(32),
            integrity: integrity(host.os(), spec.run_as),
            account: account(host, spec.run_as),
            module,
            parent,
        }
    }

    fn hash_of(&mut self, binary: &'static str) -> Arc<str> {
        self.hashes
            .entry(binary)
            .or_insert_with(|| match binary {
                // The kernel's System process has no image to hash.
                "" => Arc::from(""),
                b => Arc::from(stable_hash_hex(b)),
            })
            .clone()
    }

    fn module_of(&mut self, name: &'static str) -> Arc<Module> {
        self.modules
            .entry(name)
            .or_insert_with(|| {
                let hash = stable_hash_hex(&format!("module/{name}"));
                Arc::new(Module { name, hash })
            })
            .clone()
    }

    /// Decides which catalogue entries run on host `index` and starts the
    /// long-lived ones.
    fn install_software(&mut self, rng: &mut Rng, index: usize) {
        let specs: Vec<_> = catalog::all()
            .filter(|s| runs_on(s, &self.hosts[index]))
            .filter(|s| rng.below(100) < u64::from(s.presence_pct))
            .collect();
        for spec in specs {
            let activity = if spec.spawns() {
                if let Some(parent) = spec.parent {
                    self.instance(rng, index, parent);
                }
                Activity::Spawn(spec)
            } else {
                Activity::Running(self.instance(rng, index, spec.key), spec)
            };
            self.hosts[index].activities.push(activity);
        }
    }
}

/// An image outside the catalogue, for [`Fleet::custom_process`].
pub struct Custom {
    pub name: &'static str,
    pub path: &'static str,
    pub binary: &'static str,
    pub args: &'static str,
    pub run_as: RunAs,
    pub parent: Option<Arc<Process>>,
}

fn runs_on(spec: &ImageSpec, host: &Host) -> bool {
    let role_ok = match host.kind {
        HostKind::Server => spec.on_servers,
        _ => spec.on_workstations,
    };
    spec.os == host.os() && spec.weight > 0 && role_ok
}

/// Host kinds in proportions typical of an office: mostly Windows
/// desktops and laptops, a few servers, Macs and Linux machines.
fn plan_kinds(rng: &mut Rng, count: usize) -> Vec<HostKind> {
    let share = |pct: usize| (count * pct + 50) / 100;
    let (macs, linux, servers) = (share(9), share(5), share(6));
    let windows = count.saturating_sub(macs + linux + servers);
    let laptops = windows * 45 / 100;
    let mut kinds = Vec::with_capacity(count);
    kinds.extend(std::iter::repeat_n(HostKind::Laptop, laptops));
    kinds.extend(std::iter::repeat_n(HostKind::Desktop, windows - laptops));
    kinds.extend(std::iter::repeat_n(HostKind::Server, servers));
    kinds.extend(std::iter::repeat_n(HostKind::Mac, macs));
    kinds.extend(std::iter::repeat_n(HostKind::Linux, linux));
    kinds.truncate(count);
    rng.shuffle(&mut kinds);
    kinds
}

/// Names, addresses and users already taken.
#[derive(Default)]
struct Names {
    hosts: HashSet<String>,
    users: HashSet<String>,
    ips: HashSet<String>,
    servers: usize,
}

fn new_host(rng: &mut Rng, kind: HostKind, names: &mut Names) -> Host {
    let dept = pick_dept(rng, kind);
    let site = if kind == HostKind::Server {
        &SITES[0]
    } else {
        &SITES[rng.weighted([60u64, 25, 15].into_iter())]
    };
    let name = host_name(rng, kind, dept, names);
    let (user, aliul) = host_users(rng, kind, &name, names);
    let ip = unique_ip(rng, site.prefix, names);
    let ip6 = (kind != HostKind::Server && rng.chance(0.25)).then(|| {
        format!(
            "{}{:x}::{:x}",
            site.v6_prefix,
            rng.range(16, 90),
            rng.range(2, 4000)
        )
    });
    // A 2018 client reports each flow once, at its end.
    let legacy = kind == HostKind::Desktop && rng.chance(0.07);
    Host {
        reports_start: !legacy && rng.chance(0.75),
        legacy,
        weight: base_weight(kind) * rng.range(5, 15),
        udid: rng.hex_upper(40),
        home_ip: format!("192.168.{}.{}", rng.pick(&[0, 1, 178]), rng.range(2, 254)),
        iid: *rng.pick(interface_indexes(kind)),
        next_pid: first_spawn_pid(rng, kind.os()),
        activities: Vec::new(),
        instances: Vec::new(),
        name,
        kind,
        dept,
        site,
        ip,
        ip6,
        user: Arc::new(user),
        aliul,
    }
}

fn pick_dept(rng: &mut Rng, kind: HostKind) -> &'static str {
    match kind {
        HostKind::Mac => MAC_DEPTS[rng.below(MAC_DEPTS.len() as u64) as usize],
        HostKind::Linux => "ENG",
        HostKind::Server => "IT",
        _ => DEPTS[rng.weighted([10u64, 6, 14, 10, 6, 8, 3, 5].into_iter())],
    }
}

fn base_weight(kind: HostKind) -> u64 {
    match kind {
        HostKind::Desktop => 10,
        HostKind::Laptop => 9,
        HostKind::Server => 3,
        HostKind::Mac => 9,
        HostKind::Linux => 6,
    }
}

fn interface_indexes(kind: HostKind) -> &'static [u16] {
    match kind {
        HostKind::Desktop | HostKind::Server => &[4, 6, 7, 11, 12, 13, 16],
        HostKind::Laptop => &[17, 18, 19, 21, 22],
        HostKind::Mac => &[4, 6, 14],
        HostKind::Linux => &[2, 3],
    }
}

fn host_name(rng: &mut Rng, kind: HostKind, dept: &str, names: &mut Names) -> String {
    loop {
        let name = match kind {
            HostKind::Desktop => format!("WS-{dept}-{:03}", rng.range(1, 999)),
            HostKind::Laptop => format!("LT-{dept}-{:03}", rng.range(1, 999)),
            HostKind::Mac => format!("MAC-{dept}-{:03}", rng.range(1, 999)),
            HostKind::Linux => format!("lnx-{}-{:02}", rng.pick(&LINUX_ROLES), rng.range(1, 99)),
            HostKind::Server => server_name(names.servers),
        };
        if names.hosts.insert(name.clone()) {
            names.servers += usize::from(kind == HostKind::Server);
            return name;
        }
    }
}

fn server_name(index: usize) -> String {
    match SERVER_NAMES.get(index) {
        Some(name) => (*name).to_owned(),
        None => format!("APP-SRV{:02}", index + 3),
    }
}

/// The logged-in user and the additional logged-in users (`aliul`).
fn host_users(rng: &mut Rng, kind: HostKind, host: &str, names: &mut Names) -> (Account, String) {
    let person = unique_user(rng, names);
    match kind {
        HostKind::Server => {
            let user = if host.starts_with("BKP") {
                "svc-backup".to_owned()
            } else {
                format!("adm-{person}")
            };
            let other = format!("{DOMAIN}\\adm-{}", unique_user(rng, names));
            (Account::new(DOMAIN, &user, 2), other)
        }
        HostKind::Mac | HostKind::Linux => (Account::new("", &person, 2), String::new()),
        _ => (Account::new(DOMAIN, &person, 2), String::new()),
    }
}

fn unique_user(rng: &mut Rng, names: &mut Names) -> String {
    let first = rng.pick(&FIRST_NAMES);
    let last = rng.pick(&LAST_NAMES).to_lowercase();
    let initial: String = first
        .chars()
        .next()
        .into_iter()
        .flat_map(char::to_lowercase)
        .collect();
    let base = format!("{initial}{last}");
    let mut candidate = base.clone();
    let mut n = 1;
    while !names.users.insert(candidate.clone()) {
        n += 1;
        candidate = format!("{base}{n}");
    }
    candidate
}

fn unique_ip(rng: &mut Rng, prefix: [u8; 2], names: &mut Names) -> String {
    loop {
        let ip = format!(
            "{}.{}.{}.{}",
            prefix[0],
            prefix[1],
            rng.range(16, 90),
            rng.range(2, 254)
        );
        if names.ips.insert(ip.clone()) {
            return ip;
        }
    }
}

/// Expands catalogue placeholders: `{user}`, `{num}`, `{big}`, `{hex5}`,
/// `{hex8}` and `{doc}`. Text without braces is returned as is.
pub fn expand(template: &str, host: &Host, rng: &mut Rng) -> String {
    if !template.contains('{') {
        return template.to_owned();
    }
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        match placeholder(name, host, rng) {
            Some(value) => out.push_str(&value),
            // Not ours (e.g. curl's `%{http_code}`): keep it verbatim.
            None => out.push_str(&rest[open..=open + close]),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

fn placeholder(name: &str, host: &Host, rng: &mut Rng) -> Option<String> {
    Some(match name {
        "user" => host.user.principal.clone(),
        "num" => rng.range(1000, 9999).to_string(),
        "big" => rng
            .range(1_000_000_000_000_000_000, 9_999_999_999_999_999_999)
            .to_string(),
        "hex5" => rng.hex_lower(5),
        "hex8" => rng.hex_lower(8),
        "doc" => (*rng.pick(&DOCS)).to_owned(),
        _ => return None,
    })
}

/// NVM keeps whatever follows the image path in the command line, so
/// `parg` sometimes starts with a space and sometimes does not.
fn vary_leading_space(rng: &mut Rng, args: &str) -> String {
    if args.starts_with(' ') && rng.chance(0.25) {
        args.trim_start().to_owned()
    } else {
        args.to_owned()
    }
}

fn integrity(os: Os, run_as: RunAs) -> Option<u16> {
    if os != Os::Windows {
        return None;
    }
    Some(match run_as {
        RunAs::User => 8192,
        RunAs::Elevated => 12288,
        _ => 16384,
    })
}

/// The account a process of `run_as` has on `host`.
pub fn account(host: &Host, run_as: RunAs) -> Arc<Account> {
    let nt = |who: &str| Arc::new(Account::new("NT AUTHORITY", who, 1));
    match run_as {
        RunAs::User => host.user.clone(),
        RunAs::Elevated => Arc::new(Account::new(
            &host.user.authority,
            &host.user.principal,
            8194,
        )),
        RunAs::System => nt("SYSTEM"),
        RunAs::LocalService => nt("LOCAL SERVICE"),
        RunAs::NetworkService => nt("NETWORK SERVICE"),
        RunAs::Root => Arc::new(Account::new("", "root", 1)),
        RunAs::Daemon(name) => Arc::new(Account::new("", name, 1)),
    }
}

fn long_lived_pid(rng: &mut Rng, host: &Host, hint: PidHint) -> u32 {
    let windows = host.os() == Os::Windows;
    let (lo, hi) = match (hint, windows) {
        (PidHint::Fixed(pid), _) => return pid,
        (PidHint::Boot, true) => (500, 1100),
        (PidHint::Service, true) => (1100, 9000),
        (PidHint::Session, true) => (2000, 19_000),
        (PidHint::Boot, false) => (80, 700),
        (PidHint::Service, false) => (300, 3000),
        (PidHint::Session, false) => (1000, 29_000),
    };
    loop {
        let pid = rng.range(lo, hi) as u32;
        let pid = if windows { pid & !3 } else { pid };
        if host.instances.iter().all(|(_, p)| p.pid != pid) {
            return pid;
        }
    }
}

/// Freshly started processes get pids above every long-lived one.
fn first_spawn_pid(rng: &mut Rng, os: Os) -> u32 {
    match os {
        Os::Windows => 20_000 + (rng.range(0, 4000) as u32 & !3),
        _ => 30_000 + rng.range(0, 4000) as u32,
    }
}

fn next_pid(rng: &mut Rng, host: &mut Host) -> u32 {
    let pid = host.next_pid;
    host.next_pid += match host.os() {
        Os::Windows => (rng.range(1, 300) as u32) * 4,
        _ => rng.range(1, 900) as u32,
    };
    pid
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;

    fn fleet(hosts: usize) -> Fleet {
        Fleet::build(&mut Rng::new(42, Stream::Fleet), hosts)
    }

    #[test]
    fn builds_the_requested_mix_of_hosts() {
        let f = fleet(200);
        assert_eq!(f.hosts.len(), 200);
        let count = |k| f.hosts.iter().filter(|h| h.kind == k).count();
        assert_eq!(count(HostKind::Mac), 18);
        assert_eq!(count(HostKind::Linux), 10);
        assert!(f.hosts.iter().any(|h| h.legacy));
        assert!(
            f.hosts.iter().all(|h| !h.activities.is_empty()),
            "idle host"
        );
    }

    #[test]
    fn long_lived_pids_are_unique_per_host() {
        for host in fleet(60).hosts {
            let mut pids: Vec<_> = host.instances.iter().map(|(_, p)| p.pid).collect();
            pids.sort_unstable();
            pids.dedup();
            assert_eq!(pids.len(), host.instances.len(), "{}", host.name);
        }
    }

    #[test]
    fn expand_fills_known_placeholders_and_keeps_others() {
        let f = fleet(1);
        let mut rng = Rng::new(1, Stream::Fleet);
        let out = expand(
            r#"-w "%{http_code}" C:\Users\{user}"#,
            &f.hosts[0],
            &mut rng,
        );
        assert!(out.starts_with(r#"-w "%{http_code}" C:\Users\"#), "{out}");
        assert!(out.ends_with(&f.hosts[0].user.principal));
    }
}

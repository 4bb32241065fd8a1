//! Windows software: the service host and its services, browsers, Office,
//! updaters, Defender, and the command-line tools users and scheduled tasks
//! run. Paths and argument shapes follow what these programs really use.

use super::{ImageSpec, Invocation, PidHint, RunAs};
use crate::net::*;

pub static SPECS: &[&ImageSpec] = &[
    &SERVICES,
    &EXPLORER,
    &SCHEDULE,
    &CMD,
    &CHROME_MAIN,
    &CHROME_NET,
    &EDGE_MAIN,
    &EDGE_NET,
    &FIREFOX,
    &DNSCACHE,
    &WUAUSERV,
    &W32TIME,
    &WPN_USER,
    &CRYPTSVC,
    &NLASVC,
    &DIAGTRACK,
    &BITS,
    &DEFENDER,
    &GOOGLE_UPDATER,
    &EDGE_UPDATER,
    &OUTLOOK_APP,
    &WORD,
    &TEAMS_APP,
    &ONEDRIVE,
    &CURL,
    &PS_TASK,
    &PS_USER,
    &PS_ADMIN,
    &KERNEL,
];

const SVCHOST: &str = r"C:\Windows\System32\svchost.exe";

pub static SERVICES: ImageSpec = ImageSpec {
    key: "services",
    binary: "win/services.exe",
    name: "services.exe",
    path: r"C:\Windows\System32\services.exe",
    run_as: RunAs::System,
    pid: PidHint::Boot,
    on_servers: true,
    ..ImageSpec::BASE
};

pub static EXPLORER: ImageSpec = ImageSpec {
    key: "explorer",
    binary: "win/explorer.exe",
    name: "explorer.exe",
    path: r"C:\Windows\explorer.exe",
    on_servers: true,
    ..ImageSpec::BASE
};

pub static SCHEDULE: ImageSpec = ImageSpec {
    key: "svchost-schedule",
    binary: "win/svchost.exe",
    name: "svchost.exe",
    path: SVCHOST,
    args: &["-k netsvcs -p -s Schedule"],
    run_as: RunAs::System,
    pid: PidHint::Service,
    parent: Some("services"),
    module: Some("schedsvc.dll"),
    on_servers: true,
    ..ImageSpec::BASE
};

pub static CMD: ImageSpec = ImageSpec {
    key: "cmd",
    binary: "win/cmd.exe",
    name: "cmd.exe",
    path: r"C:\Windows\system32\cmd.exe",
    args: &["", r#" /k "C:\Program Files\Git\cmd\start-ssh-agent.cmd""#],
    parent: Some("explorer"),
    on_servers: true,
    ..ImageSpec::BASE
};

const CHROME_PATH: &str = r"C:\Program Files\Google\Chrome\Application\chrome.exe";
const EDGE_PATH: &str = r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe";

pub static CHROME_MAIN: ImageSpec = ImageSpec {
    key: "chrome-main",
    binary: "win/chrome.exe",
    name: "chrome.exe",
    path: CHROME_PATH,
    args: &["", " --profile-directory=Default"],
    parent: Some("explorer"),
    ..ImageSpec::BASE
};

/// Chromium browsers make their connections from the network-service
/// utility process, a child of the browser process.
pub static CHROME_NET: ImageSpec = ImageSpec {
    key: "chrome-net",
    binary: "win/chrome.exe",
    name: "chrome.exe",
    path: CHROME_PATH,
    args: &[" --type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-US --service-sandbox-type=none --mojo-platform-channel-handle={num} --field-trial-handle={num},i,{big},{big},262144 --variations-seed-version /prefetch:11"],
    parent: Some("chrome-main"),
    targets: BROWSING,
    weight: 200,
    presence_pct: 70,
    ..ImageSpec::BASE
};

pub static EDGE_MAIN: ImageSpec = ImageSpec {
    key: "edge-main",
    binary: "win/msedge.exe",
    name: "msedge.exe",
    path: EDGE_PATH,
    args: &[
        " --profile-directory=Default",
        " --no-startup-window --win-session-start",
    ],
    parent: Some("explorer"),
    ..ImageSpec::BASE
};

pub static EDGE_NET: ImageSpec = ImageSpec {
    key: "edge-net",
    binary: "win/msedge.exe",
    name: "msedge.exe",
    path: EDGE_PATH,
    args: &[" --type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-GB --service-sandbox-type=none --noerrdialogs --mojo-platform-channel-handle={num} --field-trial-handle={num},i,{big},{big},262144 /prefetch:3"],
    parent: Some("edge-main"),
    targets: EDGE_BROWSING,
    weight: 120,
    presence_pct: 85,
    ..ImageSpec::BASE
};

pub static FIREFOX: ImageSpec = ImageSpec {
    key: "firefox",
    binary: "win/firefox.exe",
    name: "firefox.exe",
    path: r"C:\Program Files\Mozilla Firefox\firefox.exe",
    args: &[
        "",
        r#" -profile "C:\Users\{user}\AppData\Roaming\Mozilla\Firefox\Profiles\{hex8}.default-release""#,
    ],
    parent: Some("explorer"),
    targets: FIREFOX_BROWSING,
    weight: 120,
    presence_pct: 22,
    ..ImageSpec::BASE
};

/// Shared shape of the svchost.exe service hosts below.
const SERVICE_HOST: ImageSpec = ImageSpec {
    binary: "win/svchost.exe",
    name: "svchost.exe",
    path: SVCHOST,
    run_as: RunAs::System,
    pid: PidHint::Service,
    parent: Some("services"),
    on_servers: true,
    ..ImageSpec::BASE
};

pub static DNSCACHE: ImageSpec = ImageSpec {
    key: "svchost-dnscache",
    args: &["-k NetworkService -p -s Dnscache"],
    run_as: RunAs::NetworkService,
    module: Some("dnsrslvr.dll"),
    targets: &[on(&DNS_SERVERS, 53, Proto::Udp, Traffic::Dns, 1)],
    weight: 70,
    ..SERVICE_HOST
};

pub static WUAUSERV: ImageSpec = ImageSpec {
    key: "svchost-wuauserv",
    args: &["-k netsvcs -p -s wuauserv"],
    module: Some("wuaueng.dll"),
    targets: &[
        tls(&WU_DELIVERY, Traffic::Api, 5),
        tls(&WU_SLS, Traffic::Api, 3),
        http(&WU_TLU, &WU_FILES, 2),
    ],
    weight: 14,
    ..SERVICE_HOST
};

pub static W32TIME: ImageSpec = ImageSpec {
    key: "svchost-w32time",
    args: &["-k LocalService -s W32Time"],
    run_as: RunAs::LocalService,
    module: Some("w32time.dll"),
    targets: &[
        on(&DC01, 123, Proto::Udp, Traffic::Ntp, 4),
        on(&WIN_TIME, 123, Proto::Udp, Traffic::Ntp, 1),
    ],
    weight: 4,
    ..SERVICE_HOST
};

/// Per-user services carry a random suffix and run as the user.
pub static WPN_USER: ImageSpec = ImageSpec {
    key: "svchost-wpnuser",
    args: &["-k UnistackSvcGroup -s WpnUserService_{hex5}"],
    run_as: RunAs::User,
    module: Some("wpnuserservice.dll"),
    targets: &[tls(&WNS, Traffic::Long, 3), tls(&WNS, Traffic::Api, 2)],
    weight: 10,
    on_servers: false,
    ..SERVICE_HOST
};

pub static CRYPTSVC: ImageSpec = ImageSpec {
    key: "svchost-cryptsvc",
    args: &["-k NetworkService -p -s CryptSvc"],
    run_as: RunAs::NetworkService,
    module: Some("cryptsvc.dll"),
    targets: &[
        http(&CTLDL, &CTL_CAB, 4),
        http(&CTLDL, &DISALLOWED_CAB, 3),
        http(&DIGICERT_OCSP, &OCSP_GET, 4),
    ],
    weight: 12,
    ..SERVICE_HOST
};

pub static NLASVC: ImageSpec = ImageSpec {
    key: "svchost-nlasvc",
    args: &["-k NetworkService -p -s NlaSvc"],
    run_as: RunAs::NetworkService,
    module: Some("nlasvc.dll"),
    targets: &[http(&NCSI, &NCSI_TXT, 1)],
    weight: 5,
    ..SERVICE_HOST
};

pub static DIAGTRACK: ImageSpec = ImageSpec {
    key: "svchost-diagtrack",
    args: &["-k utcsvc -p"],
    module: Some("diagtrack.dll"),
    targets: &[
        tls(&WIN_EVENTS, Traffic::Api, 5),
        tls(&WIN_SETTINGS, Traffic::Api, 2),
    ],
    weight: 14,
    ..SERVICE_HOST
};

pub static BITS: ImageSpec = ImageSpec {
    key: "svchost-bits",
    args: &["-k netsvcs -p -s BITS"],
    module: Some("qmgr.dll"),
    targets: &[
        tls(&WU_DELIVERY, Traffic::Download, 2),
        http(&WU_TLU, &WU_FILES, 1),
    ],
    weight: 4,
    ..SERVICE_HOST
};

pub static DEFENDER: ImageSpec = ImageSpec {
    key: "msmpeng",
    binary: "win/MsMpEng.exe",
    name: "MsMpEng.exe",
    path: r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.25050.5-0\MsMpEng.exe",
    run_as: RunAs::System,
    pid: PidHint::Service,
    parent: Some("services"),
    targets: &[
        tls(&DEFENDER_CLOUD, Traffic::Api, 8),
        tls(&DEFENDER_UPDATES, Traffic::Download, 2),
        tls(&SMARTSCREEN, Traffic::Api, 1),
    ],
    weight: 30,
    on_servers: true,
    ..ImageSpec::BASE
};

/// Updaters are started by the Task Scheduler service for each check.
const UPDATER: ImageSpec = ImageSpec {
    run_as: RunAs::System,
    parent: Some("svchost-schedule"),
    weight: 6,
    on_servers: true,
    ..ImageSpec::BASE
};

pub static GOOGLE_UPDATER: ImageSpec = ImageSpec {
    key: "googleupdate",
    binary: "win/GoogleUpdate.exe",
    name: "GoogleUpdate.exe",
    path: r"C:\Program Files (x86)\Google\Update\GoogleUpdate.exe",
    invocations: &[
        Invocation {
            args: " /ua /installsource scheduler",
            target: tls(&GOOGLE_UPDATE, Traffic::Api, 4),
        },
        Invocation {
            args: " /ua /installsource scheduler",
            target: tls(&GOOGLE_DL, Traffic::Download, 1),
        },
    ],
    presence_pct: 70,
    on_servers: false,
    ..UPDATER
};

pub static EDGE_UPDATER: ImageSpec = ImageSpec {
    key: "edgeupdate",
    binary: "win/MicrosoftEdgeUpdate.exe",
    name: "MicrosoftEdgeUpdate.exe",
    path: r"C:\Program Files (x86)\Microsoft\EdgeUpdate\MicrosoftEdgeUpdate.exe",
    invocations: &[
        Invocation {
            args: " /ua /installsource scheduler",
            target: tls(&EDGE_UPDATE, Traffic::Api, 3),
        },
        Invocation {
            args: " /c",
            target: tls(&EDGE_SVC, Traffic::Api, 1),
        },
    ],
    ..UPDATER
};

const OFFICE16: ImageSpec = ImageSpec {
    parent: Some("explorer"),
    presence_pct: 90,
    ..ImageSpec::BASE
};

pub static OUTLOOK_APP: ImageSpec = ImageSpec {
    key: "outlook",
    binary: "win/OUTLOOK.EXE",
    name: "OUTLOOK.EXE",
    path: r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE",
    args: &["", " /recycle"],
    targets: &[
        tls(&OUTLOOK, Traffic::Long, 4),
        tls(&OUTLOOK, Traffic::Api, 8),
        tls(&SUBSTRATE, Traffic::Api, 4),
        tls(&MS_LOGIN, Traffic::Api, 3),
        tls(&OFFICE_CLIENT, Traffic::Api, 1),
    ],
    weight: 50,
    ..OFFICE16
};

pub static WORD: ImageSpec = ImageSpec {
    key: "winword",
    binary: "win/WINWORD.EXE",
    name: "WINWORD.EXE",
    path: r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE",
    args: &[
        r#" /n "C:\Users\{user}\OneDrive - Example Corp\Documents\{doc}""#,
        " /n /dde",
        r#" /n "\\filesrv01.corp.example.com\Shared\{doc}""#,
    ],
    targets: &[
        tls(&OFFICE_CLIENT, Traffic::Api, 5),
        tls(&OFFICE_ROAMING, Traffic::Api, 4),
        tls(&SHAREPOINT, Traffic::Download, 4),
        tls(&MS_LOGIN, Traffic::Api, 2),
    ],
    weight: 15,
    presence_pct: 75,
    ..OFFICE16
};

pub static TEAMS_APP: ImageSpec = ImageSpec {
    key: "ms-teams",
    binary: "win/ms-teams.exe",
    name: "ms-teams.exe",
    path: r"C:\Program Files\WindowsApps\MSTeams_25153.1010.3727.5483_x64__8wekyb3d8bbwe\ms-teams.exe",
    args: &["", " msteams:system-initiated"],
    targets: &[
        tls(&TEAMS, Traffic::Api, 10),
        tls(&TEAMS, Traffic::Long, 3),
        tls(&TEAMS_PRESENCE, Traffic::Api, 5),
        tls(&MS_LOGIN, Traffic::Api, 2),
        on(&TEAMS_RELAY, 3478, Proto::Udp, Traffic::Media, 2),
        on(&TEAMS_RELAY, 3479, Proto::Udp, Traffic::Media, 1),
        on(&TEAMS_RELAY, 3480, Proto::Udp, Traffic::Media, 1),
    ],
    weight: 45,
    ..OFFICE16
};

pub static ONEDRIVE: ImageSpec = ImageSpec {
    key: "onedrive",
    binary: "win/OneDrive.exe",
    name: "OneDrive.exe",
    path: r"C:\Users\{user}\AppData\Local\Microsoft\OneDrive\OneDrive.exe",
    args: &[" /background"],
    targets: &[
        tls(&SHAREPOINT_MY, Traffic::Upload, 4),
        tls(&SHAREPOINT_MY, Traffic::Download, 3),
        tls(&ONEDRIVE_API, Traffic::Long, 1),
        tls(&ONEDRIVE_API, Traffic::Api, 4),
        tls(&MS_LOGIN, Traffic::Api, 2),
    ],
    weight: 35,
    ..OFFICE16
};

pub static CURL: ImageSpec = ImageSpec {
    key: "curl-win",
    binary: "win/curl.exe",
    name: "curl.exe",
    path: r"C:\Windows\System32\curl.exe",
    parent: Some("cmd"),
    invocations: &[
        Invocation {
            args: r#" -s -o NUL -w "%{http_code}" https://intranet.corp.example.com/health"#,
            target: tls(&INTRANET, Traffic::Api, 3),
        },
        Invocation {
            args: " -sSL https://api.github.com/repos/PowerShell/PowerShell/releases/latest",
            target: tls(&GITHUB_API, Traffic::Api, 2),
        },
        Invocation {
            args: " -fSLO https://github.com/git-for-windows/git/releases/download/v2.50.1.windows.1/PortableGit-2.50.1-64-bit.7z.exe",
            target: tls(&GITHUB, Traffic::Download, 1),
        },
        Invocation {
            args: " -k -u svc-monitor https://wiki.corp.example.com/rest/api/space",
            target: tls(&WIKI, Traffic::Api, 2),
        },
    ],
    weight: 8,
    presence_pct: 60,
    on_servers: true,
    ..ImageSpec::BASE
};

const POWERSHELL: ImageSpec = ImageSpec {
    binary: "win/powershell.exe",
    name: "powershell.exe",
    path: r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
    ..ImageSpec::BASE
};

pub static PS_TASK: ImageSpec = ImageSpec {
    key: "powershell-task",
    run_as: RunAs::System,
    parent: Some("svchost-schedule"),
    invocations: &[
        Invocation {
            args: r" -NoProfile -NonInteractive -ExecutionPolicy Bypass -File C:\ProgramData\CorpIT\Send-Inventory.ps1",
            target: tls(&INTRANET, Traffic::Api, 3),
        },
        Invocation {
            args: r#" -ExecutionPolicy Bypass -Command "& {Update-MpSignature -UpdateSource MicrosoftUpdateServer}""#,
            target: tls(&DEFENDER_UPDATES, Traffic::Download, 1),
        },
    ],
    weight: 6,
    on_servers: true,
    ..POWERSHELL
};

pub static PS_USER: ImageSpec = ImageSpec {
    key: "powershell-user",
    parent: Some("explorer"),
    invocations: &[
        Invocation {
            args: r#" -NoExit -Command "Install-Module -Name Az.Accounts -Scope CurrentUser""#,
            target: tls(&PSGALLERY, Traffic::Download, 1),
        },
        Invocation {
            args: " -NoLogo",
            target: tls(&INTRANET, Traffic::Api, 2),
        },
    ],
    weight: 4,
    presence_pct: 40,
    ..POWERSHELL
};

/// An administrator's elevated console: the high-integrity traffic an
/// ordinary day has, next to which elevated rclone must stand out.
pub static PS_ADMIN: ImageSpec = ImageSpec {
    key: "powershell-admin",
    run_as: RunAs::Elevated,
    parent: Some("explorer"),
    invocations: &[
        Invocation {
            args: r" -NoProfile -ExecutionPolicy Bypass -File C:\Tools\Invoke-Maintenance.ps1",
            target: tls(&INTRANET, Traffic::Api, 2),
        },
        Invocation {
            args: r#" -Command "Update-Module -Name PSWindowsUpdate -Force""#,
            target: tls(&PSGALLERY, Traffic::Download, 1),
        },
    ],
    weight: 3,
    presence_pct: 25,
    on_servers: true,
    ..POWERSHELL
};

/// SMB client traffic belongs to the kernel's "System" process, pid 4,
/// which has no image path and no parent.
pub static KERNEL: ImageSpec = ImageSpec {
    key: "system",
    binary: "",
    name: "System",
    path: "",
    run_as: RunAs::System,
    pid: PidHint::Fixed(4),
    targets: &[
        on(&FILESRV01, 445, Proto::Tcp, Traffic::Smb, 3),
        on(&FILESRV02, 445, Proto::Tcp, Traffic::Smb, 2),
        on(&FILESRV03, 445, Proto::Tcp, Traffic::Smb, 1),
        on(&NAS01, 445, Proto::Tcp, Traffic::Smb, 1),
    ],
    weight: 30,
    on_servers: true,
    ..ImageSpec::BASE
};

static BROWSING: &[Target] = &[
    tls(&GOOGLE, Traffic::Web, 10),
    quic(&GOOGLE, 6),
    tls(&YOUTUBE, Traffic::Web, 4),
    quic(&YOUTUBE, 3),
    tls(&GSTATIC, Traffic::Web, 5),
    tls(&GOOGLE_ACCOUNTS, Traffic::Api, 2),
    tls(&GMAIL, Traffic::Web, 2),
    tls(&GMAIL, Traffic::Long, 1),
    tls(&GITHUB, Traffic::Web, 4),
    tls(&STACKOVERFLOW, Traffic::Web, 4),
    tls(&WIKIPEDIA, Traffic::Web, 3),
    tls(&LINKEDIN, Traffic::Web, 3),
    tls(&BBC, Traffic::Web, 2),
    tls(&JSDELIVR, Traffic::Web, 3),
    tls(&SALESFORCE, Traffic::Web, 3),
    tls(&SALESFORCE, Traffic::Long, 1),
    tls(&OFFICE_WWW, Traffic::Web, 3),
    tls(&SHAREPOINT, Traffic::Web, 3),
    tls(&INTRANET, Traffic::Web, 4),
    tls(&WIKI, Traffic::Web, 3),
    tls(&ZOOM, Traffic::Web, 1),
    tls(&AMAZON, Traffic::Web, 1),
    tls(&BING, Traffic::Web, 1),
];

static EDGE_BROWSING: &[Target] = &[
    tls(&BING, Traffic::Web, 6),
    tls(&OFFICE_WWW, Traffic::Web, 6),
    tls(&SHAREPOINT, Traffic::Web, 5),
    tls(&MS_LOGIN, Traffic::Api, 3),
    tls(&EDGE_SVC, Traffic::Api, 2),
    tls(&SMARTSCREEN, Traffic::Api, 3),
    tls(&GOOGLE, Traffic::Web, 3),
    tls(&INTRANET, Traffic::Web, 5),
    tls(&WIKI, Traffic::Web, 3),
    tls(&SALESFORCE, Traffic::Web, 3),
    tls(&LINKEDIN, Traffic::Web, 2),
    tls(&WIKIPEDIA, Traffic::Web, 2),
    tls(&JSDELIVR, Traffic::Web, 2),
    tls(&YOUTUBE, Traffic::Web, 1),
];

static FIREFOX_BROWSING: &[Target] = &[
    tls(&GOOGLE, Traffic::Web, 8),
    tls(&GSTATIC, Traffic::Web, 3),
    tls(&GITHUB, Traffic::Web, 5),
    tls(&GITHUB_OBJECTS, Traffic::Download, 1),
    tls(&STACKOVERFLOW, Traffic::Web, 5),
    tls(&WIKIPEDIA, Traffic::Web, 4),
    tls(&BBC, Traffic::Web, 2),
    tls(&INTRANET, Traffic::Web, 3),
    tls(&WIKI, Traffic::Web, 3),
    http(&LENCR_OCSP, &OCSP_POST, 3),
    http(&DIGICERT_OCSP, &OCSP_POST, 1),
];

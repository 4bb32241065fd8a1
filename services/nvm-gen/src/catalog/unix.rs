//! macOS and Linux software. These hosts have no integrity levels, parents
//! are launchd, systemd or a shell, and image names carry no `.exe`.

use super::{ImageSpec, Invocation, PidHint, RunAs};
use crate::model::Os;
use crate::net::*;

pub static SPECS: &[&ImageSpec] = &[
    &LAUNCHD,
    &ZSH,
    &SAFARI,
    &WEBKIT_NET,
    &CHROME_MAC,
    &CHROME_HELPER,
    &TEAMS_MAC,
    &ONEDRIVE_MAC,
    &APSD,
    &NSURLSESSIOND,
    &MDNSRESPONDER,
    &OSASCRIPT,
    &CURL_MAC,
    &PYTHON_MAC,
    &SYSTEMD,
    &SYSTEMD_USER,
    &BASH,
    &APT_GET,
    &GIT,
    &RESOLVED,
    &CHRONYD,
    &NETWORK_MANAGER,
    &FIREFOX_LINUX,
    &DOCKERD,
    &APT_HTTP,
    &CURL_LINUX,
    &PYTHON_LINUX,
    &SSH,
];

const MAC: ImageSpec = ImageSpec {
    os: Os::MacOs,
    ..ImageSpec::BASE
};

pub static LAUNCHD: ImageSpec = ImageSpec {
    key: "launchd",
    binary: "mac/launchd",
    name: "launchd",
    path: "/sbin/launchd",
    run_as: RunAs::Root,
    pid: PidHint::Fixed(1),
    ..MAC
};

pub static ZSH: ImageSpec = ImageSpec {
    key: "zsh",
    binary: "mac/zsh",
    name: "zsh",
    path: "/bin/zsh",
    args: &["-zsh", " -l"],
    ..MAC
};

pub static SAFARI: ImageSpec = ImageSpec {
    key: "safari",
    binary: "mac/Safari",
    name: "Safari",
    path: "/Applications/Safari.app/Contents/MacOS/Safari",
    args: &[""],
    parent: Some("launchd"),
    targets: MAC_BROWSING,
    weight: 40,
    ..MAC
};

/// Safari's page loads go through WebKit's networking XPC service.
pub static WEBKIT_NET: ImageSpec = ImageSpec {
    key: "webkit-net",
    binary: "mac/com.apple.WebKit.Networking",
    name: "com.apple.WebKit.Networking",
    path: "/System/Library/Frameworks/WebKit.framework/Versions/A/XPCServices/com.apple.WebKit.Networking.xpc/Contents/MacOS/com.apple.WebKit.Networking",
    parent: Some("launchd"),
    targets: MAC_BROWSING,
    weight: 110,
    ..MAC
};

pub static CHROME_MAC: ImageSpec = ImageSpec {
    key: "chrome-main-mac",
    binary: "mac/Google Chrome",
    name: "Google Chrome",
    path: "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    parent: Some("launchd"),
    ..MAC
};

pub static CHROME_HELPER: ImageSpec = ImageSpec {
    key: "chrome-helper-mac",
    binary: "mac/Google Chrome Helper",
    name: "Google Chrome Helper",
    path: "/Applications/Google Chrome.app/Contents/Frameworks/Google Chrome Framework.framework/Versions/138.0.7204.101/Helpers/Google Chrome Helper.app/Contents/MacOS/Google Chrome Helper",
    args: &[" --type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-GB --service-sandbox-type=network --seatbelt-client={num} --field-trial-handle={num},i,{big},{big},262144 --shared-files"],
    parent: Some("chrome-main-mac"),
    targets: MAC_BROWSING,
    weight: 90,
    presence_pct: 60,
    ..MAC
};

pub static TEAMS_MAC: ImageSpec = ImageSpec {
    key: "msteams-mac",
    binary: "mac/MSTeams",
    name: "MSTeams",
    path: "/Applications/Microsoft Teams.app/Contents/MacOS/MSTeams",
    parent: Some("launchd"),
    targets: &[
        tls(&TEAMS, Traffic::Api, 10),
        tls(&TEAMS, Traffic::Long, 3),
        tls(&TEAMS_PRESENCE, Traffic::Api, 4),
        on(&TEAMS_RELAY, 3478, Proto::Udp, Traffic::Media, 2),
    ],
    weight: 35,
    presence_pct: 85,
    ..MAC
};

pub static ONEDRIVE_MAC: ImageSpec = ImageSpec {
    key: "onedrive-mac",
    binary: "mac/OneDrive",
    name: "OneDrive",
    path: "/Applications/OneDrive.app/Contents/MacOS/OneDrive",
    parent: Some("launchd"),
    targets: &[
        tls(&SHAREPOINT_MY, Traffic::Upload, 3),
        tls(&ONEDRIVE_API, Traffic::Api, 4),
    ],
    weight: 15,
    presence_pct: 70,
    ..MAC
};

pub static APSD: ImageSpec = ImageSpec {
    key: "apsd",
    binary: "mac/apsd",
    name: "apsd",
    path: "/System/Library/PrivateFrameworks/ApplePushService.framework/apsd",
    run_as: RunAs::Root,
    pid: PidHint::Boot,
    parent: Some("launchd"),
    targets: &[on(&APPLE_PUSH, 5223, Proto::Tcp, Traffic::Long, 1)],
    weight: 6,
    ..MAC
};

pub static NSURLSESSIOND: ImageSpec = ImageSpec {
    key: "nsurlsessiond",
    binary: "mac/nsurlsessiond",
    name: "nsurlsessiond",
    path: "/usr/libexec/nsurlsessiond",
    pid: PidHint::Service,
    parent: Some("launchd"),
    targets: &[
        tls(&ICLOUD, Traffic::Api, 4),
        tls(&APPLE_MESU, Traffic::Download, 1),
        tls(&APPLE_SWSCAN, Traffic::Api, 2),
    ],
    weight: 15,
    ..MAC
};

pub static MDNSRESPONDER: ImageSpec = ImageSpec {
    key: "mdnsresponder",
    binary: "mac/mDNSResponder",
    name: "mDNSResponder",
    path: "/usr/sbin/mDNSResponder",
    run_as: RunAs::Daemon("_mdnsresponder"),
    pid: PidHint::Boot,
    parent: Some("launchd"),
    targets: &[on(&DNS_SERVERS, 53, Proto::Udp, Traffic::Dns, 1)],
    weight: 50,
    ..MAC
};

pub static OSASCRIPT: ImageSpec = ImageSpec {
    key: "osascript",
    binary: "mac/osascript",
    name: "osascript",
    path: "/usr/bin/osascript",
    parent: Some("launchd"),
    invocations: &[
        Invocation {
            args: " /Library/Application Support/CorpIT/heartbeat.scpt",
            target: tls(&INTRANET, Traffic::Api, 2),
        },
        Invocation {
            args: " -l JavaScript /Library/Application Support/CorpIT/inventory.js",
            target: tls(&INTRANET, Traffic::Api, 1),
        },
    ],
    weight: 6,
    ..MAC
};

pub static CURL_MAC: ImageSpec = ImageSpec {
    key: "curl-mac",
    binary: "mac/curl",
    name: "curl",
    path: "/usr/bin/curl",
    parent: Some("zsh"),
    invocations: &[
        Invocation {
            args: " -fsSL https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh",
            target: tls(&GITHUB_RAW, Traffic::Download, 2),
        },
        Invocation {
            args: " -s https://api.github.com/repos/cli/cli/releases/latest",
            target: tls(&GITHUB_API, Traffic::Api, 2),
        },
        Invocation {
            args: " -sI http://captive.apple.com/hotspot-detect.html",
            target: http(&APPLE_CAPTIVE, &APPLE_HOTSPOT, 1),
        },
    ],
    weight: 6,
    presence_pct: 70,
    ..MAC
};

pub static PYTHON_MAC: ImageSpec = ImageSpec {
    key: "python3-mac",
    binary: "mac/python3",
    name: "python3",
    path: "/usr/bin/python3",
    parent: Some("zsh"),
    invocations: &[
        Invocation {
            args: " -m pip install --upgrade requests",
            target: tls(&PYPI, Traffic::Api, 2),
        },
        Invocation {
            args: " -m pip download boto3",
            target: tls(&PYPI_FILES, Traffic::Download, 1),
        },
    ],
    weight: 5,
    presence_pct: 50,
    ..MAC
};

const LINUX: ImageSpec = ImageSpec {
    os: Os::Linux,
    ..ImageSpec::BASE
};

pub static SYSTEMD: ImageSpec = ImageSpec {
    key: "systemd",
    binary: "linux/systemd",
    name: "systemd",
    path: "/usr/lib/systemd/systemd",
    args: &[" --system --deserialize=41"],
    run_as: RunAs::Root,
    pid: PidHint::Fixed(1),
    ..LINUX
};

pub static SYSTEMD_USER: ImageSpec = ImageSpec {
    key: "systemd-user",
    binary: "linux/systemd",
    name: "systemd",
    path: "/usr/lib/systemd/systemd",
    args: &[" --user"],
    ..LINUX
};

pub static BASH: ImageSpec = ImageSpec {
    key: "bash",
    binary: "linux/bash",
    name: "bash",
    path: "/usr/bin/bash",
    args: &["", " --login"],
    ..LINUX
};

pub static APT_GET: ImageSpec = ImageSpec {
    key: "apt-get",
    binary: "linux/apt-get",
    name: "apt-get",
    path: "/usr/bin/apt-get",
    args: &[" update", " -qq update"],
    run_as: RunAs::Root,
    ..LINUX
};

pub static GIT: ImageSpec = ImageSpec {
    key: "git",
    binary: "linux/git",
    name: "git",
    path: "/usr/bin/git",
    args: &[" pull --ff-only", " fetch --all --prune"],
    parent: Some("bash"),
    ..LINUX
};

pub static RESOLVED: ImageSpec = ImageSpec {
    key: "systemd-resolved",
    binary: "linux/systemd-resolved",
    name: "systemd-resolved",
    path: "/usr/lib/systemd/systemd-resolved",
    run_as: RunAs::Daemon("systemd-resolve"),
    pid: PidHint::Boot,
    parent: Some("systemd"),
    targets: &[on(&DNS_SERVERS, 53, Proto::Udp, Traffic::Dns, 1)],
    weight: 45,
    ..LINUX
};

pub static CHRONYD: ImageSpec = ImageSpec {
    key: "chronyd",
    binary: "linux/chronyd",
    name: "chronyd",
    path: "/usr/sbin/chronyd",
    args: &[" -F 1"],
    run_as: RunAs::Daemon("_chrony"),
    pid: PidHint::Boot,
    parent: Some("systemd"),
    targets: &[on(&UBUNTU_NTP, 123, Proto::Udp, Traffic::Ntp, 1)],
    weight: 4,
    ..LINUX
};

pub static NETWORK_MANAGER: ImageSpec = ImageSpec {
    key: "networkmanager",
    binary: "linux/NetworkManager",
    name: "NetworkManager",
    path: "/usr/sbin/NetworkManager",
    args: &[" --no-daemon"],
    run_as: RunAs::Root,
    pid: PidHint::Boot,
    parent: Some("systemd"),
    targets: &[http(&UBUNTU_CONNCHECK, &UBUNTU_CHECK, 1)],
    weight: 3,
    ..LINUX
};

pub static FIREFOX_LINUX: ImageSpec = ImageSpec {
    key: "firefox-linux",
    binary: "linux/firefox",
    name: "firefox",
    path: "/usr/lib/firefox/firefox",
    parent: Some("systemd-user"),
    targets: &[
        tls(&GOOGLE, Traffic::Web, 6),
        tls(&GITHUB, Traffic::Web, 6),
        tls(&STACKOVERFLOW, Traffic::Web, 5),
        tls(&WIKIPEDIA, Traffic::Web, 2),
        tls(&INTRANET, Traffic::Web, 3),
        tls(&WIKI, Traffic::Web, 3),
        tls(&OUTLOOK, Traffic::Long, 1),
        http(&LENCR_OCSP, &OCSP_POST, 2),
    ],
    weight: 45,
    presence_pct: 60,
    ..LINUX
};

pub static DOCKERD: ImageSpec = ImageSpec {
    key: "dockerd",
    binary: "linux/dockerd",
    name: "dockerd",
    path: "/usr/bin/dockerd",
    args: &[" -H fd:// --containerd=/run/containerd/containerd.sock"],
    run_as: RunAs::Root,
    pid: PidHint::Boot,
    parent: Some("systemd"),
    targets: &[
        tls(&DOCKER_REGISTRY, Traffic::Api, 3),
        tls(&DOCKER_CDN, Traffic::Download, 2),
    ],
    weight: 10,
    presence_pct: 50,
    ..LINUX
};

pub static APT_HTTP: ImageSpec = ImageSpec {
    key: "apt-http",
    binary: "linux/apt-methods-http",
    name: "http",
    path: "/usr/lib/apt/methods/http",
    run_as: RunAs::Daemon("_apt"),
    parent: Some("apt-get"),
    invocations: &[
        Invocation {
            args: "",
            target: http(&UBUNTU_ARCHIVE, &APT_INRELEASE, 2),
        },
        Invocation {
            args: "",
            target: http(&UBUNTU_SECURITY, &APT_SECURITY, 1),
        },
    ],
    weight: 8,
    ..LINUX
};

pub static CURL_LINUX: ImageSpec = ImageSpec {
    key: "curl-linux",
    binary: "linux/curl",
    name: "curl",
    path: "/usr/bin/curl",
    parent: Some("bash"),
    invocations: &[
        Invocation {
            args: " -sSfL https://pypi.org/simple/requests/",
            target: tls(&PYPI, Traffic::Api, 1),
        },
        Invocation {
            args: " -fsSL https://raw.githubusercontent.com/nvm-sh/nvm/v0.40.3/install.sh",
            target: tls(&GITHUB_RAW, Traffic::Download, 1),
        },
        Invocation {
            args: " -s -o /dev/null -w %{http_code} https://intranet.corp.example.com/health",
            target: tls(&INTRANET, Traffic::Api, 2),
        },
    ],
    weight: 6,
    ..LINUX
};

pub static PYTHON_LINUX: ImageSpec = ImageSpec {
    key: "python3-linux",
    binary: "linux/python3",
    name: "python3",
    path: "/usr/bin/python3",
    parent: Some("bash"),
    invocations: &[
        Invocation {
            args: " -m pip install -r requirements.txt",
            target: tls(&PYPI_FILES, Traffic::Download, 2),
        },
        Invocation {
            args: " /opt/tools/sync_tickets.py --since 1h",
            target: tls(&INTRANET, Traffic::Api, 1),
        },
    ],
    weight: 6,
    ..LINUX
};

pub static SSH: ImageSpec = ImageSpec {
    key: "ssh",
    binary: "linux/ssh",
    name: "ssh",
    path: "/usr/bin/ssh",
    parent: Some("git"),
    invocations: &[Invocation {
        args: " git@github.com git-upload-pack 'platform/deploy-tools.git'",
        target: on(&GITHUB, 22, Proto::Tcp, Traffic::Ssh, 1),
    }],
    weight: 5,
    ..LINUX
};

static MAC_BROWSING: &[Target] = &[
    tls(&GOOGLE, Traffic::Web, 8),
    tls(&GSTATIC, Traffic::Web, 3),
    tls(&APPLE_WWW, Traffic::Web, 2),
    tls(&ICLOUD, Traffic::Api, 2),
    tls(&GITHUB, Traffic::Web, 4),
    tls(&STACKOVERFLOW, Traffic::Web, 3),
    tls(&WIKIPEDIA, Traffic::Web, 3),
    tls(&LINKEDIN, Traffic::Web, 2),
    tls(&OFFICE_WWW, Traffic::Web, 3),
    tls(&SALESFORCE, Traffic::Web, 2),
    tls(&INTRANET, Traffic::Web, 3),
    tls(&YOUTUBE, Traffic::Web, 2),
];

//! Remote endpoints: names an endpoint resolves (`dh`) and the addresses
//! behind them (`da`), plus the ways a process talks to them.
//!
//! Public addresses are plausible for the named service but illustrative;
//! attacker infrastructure uses the documentation ranges 198.51.100.0/24 and
//! 203.0.113.0/24 and internal servers use 10.10.0.0/16, so no real party is
//! named as hostile.

/// A remote service: its DNS name (empty when reached by bare address, which
/// NVM reports as `Unknown`) and the addresses it resolves to.
pub struct Dest {
    pub name: &'static str,
    pub v4: &'static [&'static str],
    pub v6: &'static [&'static str],
}

/// IP protocol numbers as NVM writes them in `pr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Tcp = 6,
    Udp = 17,
}

/// A plain-HTTP request line, reported as `hm`/`hh`/`ht`.
pub struct Http {
    pub method: &'static str,
    pub path: &'static str,
}

/// What a connection looks like on the wire; it decides its duration and
/// byte counts (see `traffic::shape`).
#[derive(Clone, Copy)]
pub enum Traffic {
    Web,
    Api,
    Long,
    Upload,
    Download,
    Dns,
    Ntp,
    Media,
    Smb,
    Ssh,
    Http(&'static Http),
}

/// One way a process uses a destination, with a relative weight.
pub struct Target {
    pub dest: &'static Dest,
    pub port: u16,
    pub proto: Proto,
    pub traffic: Traffic,
    pub weight: u16,
}

/// HTTPS over TCP 443.
pub const fn tls(dest: &'static Dest, traffic: Traffic, weight: u16) -> Target {
    Target {
        dest,
        port: 443,
        proto: Proto::Tcp,
        traffic,
        weight,
    }
}

/// QUIC: HTTP/3 over UDP 443 (Chromium browsers to Google, mostly).
pub const fn quic(dest: &'static Dest, weight: u16) -> Target {
    Target {
        dest,
        port: 443,
        proto: Proto::Udp,
        traffic: Traffic::Web,
        weight,
    }
}

/// Plain HTTP on port 80.
pub const fn http(dest: &'static Dest, req: &'static Http, weight: u16) -> Target {
    Target {
        dest,
        port: 80,
        proto: Proto::Tcp,
        traffic: Traffic::Http(req),
        weight,
    }
}

/// Any other port and protocol.
pub const fn on(
    dest: &'static Dest,
    port: u16,
    proto: Proto,
    traffic: Traffic,
    weight: u16,
) -> Target {
    Target {
        dest,
        port,
        proto,
        traffic,
        weight,
    }
}

macro_rules! dest {
    ($id:ident, $name:expr, [$($v4:expr),*]) => {
        dest!($id, $name, [$($v4),*], []);
    };
    ($id:ident, $name:expr, [$($v4:expr),*], [$($v6:expr),*]) => {
        pub static $id: Dest = Dest { name: $name, v4: &[$($v4),*], v6: &[$($v6),*] };
    };
}

// Search, video and general web.
dest!(
    GOOGLE,
    "www.google.com",
    ["142.250.185.4", "142.250.74.100"],
    ["2a00:1450:4001:82a::2004"]
);
dest!(
    YOUTUBE,
    "www.youtube.com",
    ["142.250.186.174", "172.217.16.206"],
    ["2a00:1450:4001:80e::200e"]
);
dest!(
    GSTATIC,
    "fonts.gstatic.com",
    ["142.250.184.227"],
    ["2a00:1450:4001:813::2003"]
);
dest!(GOOGLE_ACCOUNTS, "accounts.google.com", ["142.250.186.109"]);
dest!(
    GMAIL,
    "mail.google.com",
    ["142.250.186.69"],
    ["2a00:1450:4001:829::2005"]
);
dest!(GOOGLE_UPDATE, "update.googleapis.com", ["142.250.185.131"]);
dest!(GOOGLE_DL, "dl.google.com", ["142.250.181.206"]);
dest!(GITHUB, "github.com", ["140.82.121.4", "140.82.121.3"]);
dest!(GITHUB_API, "api.github.com", ["140.82.121.6"]);
dest!(
    GITHUB_RAW,
    "raw.githubusercontent.com",
    ["185.199.110.133", "185.199.108.133"]
);
dest!(
    GITHUB_OBJECTS,
    "objects.githubusercontent.com",
    ["185.199.109.133"]
);
dest!(
    STACKOVERFLOW,
    "stackoverflow.com",
    ["104.18.32.7", "172.64.155.249"]
);
dest!(
    WIKIPEDIA,
    "en.wikipedia.org",
    ["185.15.59.224"],
    ["2a02:ec80:300:ed1a::1"]
);
dest!(LINKEDIN, "www.linkedin.com", ["13.107.42.14"]);
dest!(BBC, "www.bbc.co.uk", ["151.101.0.81", "151.101.64.81"]);
dest!(JSDELIVR, "cdn.jsdelivr.net", ["151.101.1.229"]);
dest!(
    SALESFORCE,
    "examplecorp.my.salesforce.com",
    ["101.53.160.50"]
);
dest!(ZOOM, "zoom.us", ["170.114.52.2"]);
dest!(AMAZON, "www.amazon.com", ["18.66.97.39"]);
dest!(
    BING,
    "www.bing.com",
    ["13.107.21.200"],
    ["2620:1ec:c11::200"]
);
dest!(DIGICERT_OCSP, "ocsp.digicert.com", ["192.229.211.108"]);
dest!(LENCR_OCSP, "r11.o.lencr.org", ["23.215.0.136"]);
dest!(PSGALLERY, "www.powershellgallery.com", ["13.107.246.40"]);

// Microsoft 365 and Windows services.
dest!(
    MS_LOGIN,
    "login.microsoftonline.com",
    ["20.190.159.4", "40.126.31.67"]
);
dest!(
    OUTLOOK,
    "outlook.office365.com",
    ["52.97.211.18", "40.99.150.66"],
    ["2603:1026:c0b:5::2"]
);
dest!(SUBSTRATE, "substrate.office.com", ["52.96.88.146"]);
dest!(OFFICE_WWW, "www.office.com", ["13.107.6.156"]);
dest!(OFFICE_CLIENT, "officeclient.microsoft.com", ["52.109.8.21"]);
dest!(
    OFFICE_ROAMING,
    "roaming.officeapps.live.com",
    ["52.109.16.5"]
);
dest!(TEAMS, "teams.microsoft.com", ["52.113.194.132"]);
dest!(
    TEAMS_PRESENCE,
    "presence.teams.microsoft.com",
    ["52.114.132.43"]
);
dest!(TEAMS_RELAY, "", ["52.112.193.9", "52.115.223.7"]);
dest!(SHAREPOINT, "examplecorp.sharepoint.com", ["13.107.138.10"]);
dest!(
    SHAREPOINT_MY,
    "examplecorp-my.sharepoint.com",
    ["13.107.136.10"]
);
dest!(ONEDRIVE_API, "skyapi.onedrive.live.com", ["13.107.42.12"]);
dest!(DEFENDER_CLOUD, "wdcp.microsoft.com", ["20.50.201.195"]);
dest!(
    DEFENDER_UPDATES,
    "definitionupdates.microsoft.com",
    ["20.54.89.106"]
);
dest!(
    SMARTSCREEN,
    "nav.smartscreen.microsoft.com",
    ["20.49.150.241"]
);
dest!(
    WIN_SETTINGS,
    "settings-win.data.microsoft.com",
    ["20.42.65.92"]
);
dest!(WIN_EVENTS, "v10.events.data.microsoft.com", ["20.42.73.29"]);
dest!(WNS, "client.wns.windows.com", ["20.199.120.182"]);
dest!(
    WU_DELIVERY,
    "fe3cr.delivery.mp.microsoft.com",
    ["20.62.190.185"]
);
dest!(WU_SLS, "slscr.update.microsoft.com", ["20.12.23.50"]);
dest!(
    WU_TLU,
    "7.tlu.dl.delivery.mp.microsoft.com",
    ["152.195.38.76"]
);
dest!(CTLDL, "ctldl.windowsupdate.com", ["199.232.210.172"]);
dest!(NCSI, "www.msftconnecttest.com", ["13.107.4.52"]);
dest!(EDGE_SVC, "edge.microsoft.com", ["13.107.21.239"]);
dest!(
    EDGE_UPDATE,
    "msedge.api.cdp.microsoft.com",
    ["20.190.151.70"]
);
dest!(WIN_TIME, "time.windows.com", ["20.101.57.9"]);

// Apple.
dest!(APPLE_PUSH, "5-courier.push.apple.com", ["17.57.146.20"]);
dest!(ICLOUD, "gateway.icloud.com", ["17.248.185.68"]);
dest!(APPLE_SWSCAN, "swscan.apple.com", ["17.253.53.207"]);
dest!(APPLE_MESU, "mesu.apple.com", ["17.253.53.205"]);
dest!(APPLE_CAPTIVE, "captive.apple.com", ["17.253.17.201"]);
dest!(APPLE_WWW, "www.apple.com", ["23.40.44.29"]);

// Linux and developer tooling.
dest!(
    UBUNTU_ARCHIVE,
    "archive.ubuntu.com",
    ["91.189.91.81", "185.125.190.36"]
);
dest!(UBUNTU_SECURITY, "security.ubuntu.com", ["91.189.91.82"]);
dest!(UBUNTU_NTP, "ntp.ubuntu.com", ["185.125.190.57"]);
dest!(
    UBUNTU_CONNCHECK,
    "connectivity-check.ubuntu.com",
    ["185.125.190.49"]
);
dest!(PYPI, "pypi.org", ["151.101.0.223"]);
dest!(PYPI_FILES, "files.pythonhosted.org", ["151.101.1.55"]);
dest!(DOCKER_REGISTRY, "registry-1.docker.io", ["54.227.20.253"]);
dest!(
    DOCKER_CDN,
    "production.cloudflare.docker.com",
    ["104.16.100.207"]
);

// Inside the company.
dest!(DNS_SERVERS, "", ["10.10.0.10", "10.10.0.11"]);
dest!(DC01, "dc01.corp.example.com", ["10.10.0.10"]);
dest!(FILESRV01, "filesrv01.corp.example.com", ["10.10.5.21"]);
dest!(FILESRV02, "filesrv02.corp.example.com", ["10.10.5.22"]);
dest!(FILESRV03, "filesrv03.corp.example.com", ["10.10.5.23"]);
dest!(NAS01, "nas01.corp.example.com", ["10.10.5.40"]);
dest!(INTRANET, "intranet.corp.example.com", ["10.10.1.50"]);
dest!(WIKI, "wiki.corp.example.com", ["10.10.1.51"]);

// Cloud storage that rclone sessions talk to.
dest!(MEGA_API, "g.api.mega.co.nz", ["31.216.148.11"]);
dest!(
    MEGA_STORAGE_A,
    "gfs270n155.userstorage.mega.co.nz",
    ["66.203.125.14"]
);
dest!(
    MEGA_STORAGE_B,
    "gfs208n136.userstorage.mega.co.nz",
    ["66.203.127.12"]
);
dest!(WASABI, "s3.wasabisys.com", ["38.27.106.14"]);
dest!(
    WASABI_EU,
    "s3.eu-central-1.wasabisys.com",
    ["130.117.252.11"]
);
dest!(DROPBOX_API, "api.dropboxapi.com", ["162.125.64.19"]);
dest!(DROPBOX_CONTENT, "content.dropboxapi.com", ["162.125.65.14"]);
dest!(
    S3_BACKUPS,
    "examplecorp-backups.s3.eu-west-1.amazonaws.com",
    ["52.218.48.186"]
);
dest!(S3_EU_WEST, "s3.eu-west-1.amazonaws.com", ["52.218.40.10"]);
dest!(DROP_FTP_A, "", ["203.0.113.57"]);
dest!(DROP_FTP_B, "", ["203.0.113.140"]);
dest!(DROP_SFTP, "", ["198.51.100.23"]);

// Plain-HTTP requests seen in ordinary traffic.
pub static CTL_CAB: Http = Http {
    method: "GET",
    path: "/msdownload/update/v3/static/trustedr/en/authrootstl.cab",
};
pub static DISALLOWED_CAB: Http = Http {
    method: "GET",
    path: "/msdownload/update/v3/static/trustedr/en/disallowedcertstl.cab",
};
pub static OCSP_GET: Http = Http {
    method: "GET",
    path: "/MFEwTzBNMEswSTAJBgUrDgMCGgUABBSAUQYBMq2awn1Rh6Doh%2FsBYgFV7gQUA95QNVbRTLtm8KPiGxvDl7I90VUCEAJ0LqoXyo4hxxe7H%2Fz9DKA%3D",
};
pub static OCSP_POST: Http = Http {
    method: "POST",
    path: "/",
};
pub static NCSI_TXT: Http = Http {
    method: "GET",
    path: "/connecttest.txt",
};
pub static WU_FILES: Http = Http {
    method: "GET",
    path: "/filestreamingservice/files/6f1d2b9e-44c1-4a7e-9c3f-0d6e2b8a91c4?P1=1784019522&P2=404&P3=2&P4=kQ3w",
};
pub static APPLE_HOTSPOT: Http = Http {
    method: "GET",
    path: "/hotspot-detect.html",
};
pub static APT_INRELEASE: Http = Http {
    method: "GET",
    path: "/ubuntu/dists/noble-updates/InRelease",
};
pub static APT_SECURITY: Http = Http {
    method: "GET",
    path: "/ubuntu/dists/noble-security/InRelease",
};
pub static UBUNTU_CHECK: Http = Http {
    method: "HEAD",
    path: "/",
};

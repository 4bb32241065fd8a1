//! The two wire encodings of a flow record, following
//! `shared/docs/nvm-format.md` and the key order of the public examples.
//!
//! * key=value syslog (`nvzFlow_v9`): two syslog headers, then ` key="value"`
//!   pairs; a `"` inside a value is written `\"`, backslashes stay as they
//!   are, and an empty value is written `''` (or `'` by the older collector).
//! * flat JSON (`nvzFlow_v11`): every value a string, empty fields absent,
//!   compact or with spaces after separators as some collectors print it.
//!
//! Legacy clients write `nvzFlow_v3` with no process context in either
//! encoding. Everything writes straight into the caller's buffer.

use crate::flow::{Report, Source};
use crate::model::{Host, Process};
use crate::timefmt;

/// How one line is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Kv,
    JsonCompact,
    JsonSpaced,
}

impl Format {
    pub fn is_json(self) -> bool {
        self != Format::Kv
    }
}

/// Declares the short NVM keys with their name and the literal text that
/// introduces each in the two encodings, so writing a key is one copy.
macro_rules! keys {
    ($($key:ident => $name:literal,)*) => {
        /// Short NVM keys, in no particular order; see the `*_KEYS` lists.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Key {
            $($key,)*
        }

        impl Key {
            pub fn name(self) -> &'static str {
                match self {
                    $(Key::$key => $name,)*
                }
            }

            /// ` key="`
            fn kv_prefix(self) -> &'static [u8] {
                match self {
                    $(Key::$key => concat!(" ", $name, "=\"").as_bytes(),)*
                }
            }

            /// `"key":"`, or `"key": "` when spaced.
            fn json_prefix(self, spaced: bool) -> &'static [u8] {
                match (self, spaced) {
                    $(
                        (Key::$key, false) => concat!("\"", $name, "\":\"").as_bytes(),
                        (Key::$key, true) => concat!("\"", $name, "\": \"").as_bytes(),
                    )*
                }
            }
        }
    };
}

keys! {
    Fv => "fv",
    Pr => "pr",
    Sa => "sa",
    Sp => "sp",
    Da => "da",
    Dp => "dp",
    Fd => "fd",
    Fss => "fss",
    Fst => "fst",
    Fes => "fes",
    Fet => "fet",
    Hh => "hh",
    Hm => "hm",
    Ht => "ht",
    Udid => "udid",
    Liuid => "liuid",
    Liuida => "liuida",
    Liuidp => "liuidp",
    Liuat => "liuat",
    Pa => "pa",
    Paa => "paa",
    Pap => "pap",
    Puat => "puat",
    Pn => "pn",
    Ph => "ph",
    Pid => "pid",
    Ppath => "ppath",
    Parg => "parg",
    Puid => "puid",
    Ppn => "ppn",
    Ppid => "ppid",
    Pppath => "pppath",
    Pparg => "pparg",
    Pph => "pph",
    Ppa => "ppa",
    Ppuat => "ppuat",
    Ppil => "ppil",
    Ibc => "ibc",
    Obc => "obc",
    Ds => "ds",
    Dh => "dh",
    Iid => "iid",
    Mnl => "mnl",
    Mhl => "mhl",
    Fsms => "fsms",
    Fems => "fems",
    Pil => "pil",
    Fsg => "fsg",
    Aliul => "aliul",
    Eveuuid => "eveuuid",
}

use Key::*;

/// Key order of the key=value collector (the v9 example, plus `pparg`).
pub const KV_KEYS: &[Key] = &[
    Fv, Pr, Sa, Sp, Da, Dp, Fd, Fss, Fst, Fes, Fet, Hh, Hm, Ht, Udid, Liuid, Liuida, Liuidp, Liuat,
    Pa, Paa, Pap, Puat, Pn, Ph, Ppa, Ppuat, Ppn, Pph, Ibc, Obc, Ds, Dh, Iid, Mnl, Mhl, Fsms, Fems,
    Pid, Ppath, Parg, Ppid, Pppath, Pparg, Aliul, Pil, Ppil, Fsg, Puid,
];

/// Key order of the JSON collector (the v11 example, plus the account
/// halves, parent account, hash and arguments, and `aliul`).
pub const JSON_KEYS: &[Key] = &[
    Fv, Pr, Sa, Sp, Da, Dp, Fd, Fss, Fst, Fes, Fet, Hh, Hm, Ht, Udid, Liuid, Liuida, Liuidp, Liuat,
    Pa, Paa, Pap, Puat, Pn, Ph, Pid, Ppath, Parg, Ppn, Ppid, Pppath, Pparg, Ppa, Ppuat, Pph, Ibc,
    Obc, Ds, Dh, Iid, Mnl, Mhl, Aliul, Fsms, Fems, Pil, Ppil, Fsg, Puid, Eveuuid,
];

/// What a 2018 client reports: the flow and the user, no process.
pub const V3_KEYS: &[Key] = &[
    Fv, Pr, Sa, Sp, Da, Dp, Fss, Fes, Udid, Liuid, Liuida, Liuidp, Ibc, Obc, Ds, Dh, Iid,
];

/// The keys a record of `format` from `host` carries, in order.
pub fn keys_for(host: &Host, format: Format) -> &'static [Key] {
    match (host.legacy, format) {
        (true, _) => V3_KEYS,
        (false, Format::Kv) => KV_KEYS,
        (false, _) => JSON_KEYS,
    }
}

/// `fv` for a record of `format` from `host`.
pub fn version(host: &Host, format: Format) -> &'static str {
    match (host.legacy, format) {
        (true, _) => "nvzFlow_v3",
        (false, Format::Kv) => "nvzFlow_v9",
        (false, _) => "nvzFlow_v11",
    }
}

/// A field's value. `Text("")` is an empty value (written `''` in key=value,
/// left out of JSON); `Absent` fields are left out of both.
enum Val<'a> {
    Text(&'a str),
    Num(u64),
    Time(u64),
    Absent,
}

/// Appends one record as one line (without the newline).
///
/// `relay_lag_s` is how much later the relay's outer syslog header is than
/// the collector's inner one.
pub fn write_record(out: &mut Vec<u8>, r: &Report, host: &Host, format: Format, relay_lag_s: u64) {
    // One reservation up front keeps the many small appends below from
    // reallocating; typical records are about 1.1 KB.
    out.reserve(2048);
    match format {
        Format::Kv => write_kv(out, r, host, relay_lag_s),
        Format::JsonCompact => write_json(out, r, host, false),
        Format::JsonSpaced => write_json(out, r, host, true),
    }
}

fn write_kv(out: &mut Vec<u8>, r: &Report, host: &Host, relay_lag_s: u64) {
    let export_s = (r.export_ms / 1000) as i64;
    timefmt::write_syslog(out, export_s + relay_lag_s as i64);
    out.extend_from_slice(b" 127.0.0.1 ");
    timefmt::write_syslog(out, export_s);
    out.push(b' ');
    out.extend_from_slice(host.site.collector.as_bytes());
    out.push(b' ');
    let fv = version(host, Format::Kv);
    for &key in keys_for(host, Format::Kv) {
        let val = value(key, r, host, fv);
        if matches!(val, Val::Absent) {
            continue;
        }
        out.extend_from_slice(key.kv_prefix());
        match val {
            Val::Text("") => out.extend_from_slice(host.site.kv_empty.as_bytes()),
            Val::Text(s) => push_kv_escaped(out, s),
            other => push_plain(out, other, host),
        }
        out.push(b'"');
    }
}

fn write_json(out: &mut Vec<u8>, r: &Report, host: &Host, spaced: bool) {
    let (open, sep, close): (&[u8], &[u8], &[u8]) = if spaced {
        (b"{ ", b", ", b" }")
    } else {
        (b"{", b",", b"}")
    };
    out.extend_from_slice(open);
    let fv = version(host, Format::JsonCompact);
    let mut first = true;
    for &key in keys_for(host, Format::JsonCompact) {
        let val = value(key, r, host, fv);
        if matches!(val, Val::Absent | Val::Text("")) {
            continue;
        }
        if !first {
            out.extend_from_slice(sep);
        }
        first = false;
        out.extend_from_slice(key.json_prefix(spaced));
        match val {
            Val::Text(s) => push_json_escaped(out, s),
            other => push_plain(out, other, host),
        }
        out.push(b'"');
    }
    out.extend_from_slice(close);
}

/// Values that never need escaping: numbers and rendered times.
fn push_plain(out: &mut Vec<u8>, val: Val, host: &Host) {
    match val {
        Val::Num(n) => push_u64(out, n),
        Val::Time(secs) => timefmt::write_ctime(out, secs as i64, host.site.utc_offset_min),
        Val::Text(s) => out.extend_from_slice(s.as_bytes()),
        Val::Absent => {}
    }
}

fn value<'a>(key: Key, r: &'a Report, host: &'a Host, fv: &'static str) -> Val<'a> {
    let conn = &*r.conn;
    let process = &*conn.process;
    match key {
        Fv => Val::Text(fv),
        Pr => Val::Num(conn.proto as u64),
        Sa => Val::Text(source_address(host, conn.source)),
        Sp => Val::Num(u64::from(conn.sport)),
        Da => Val::Text(conn.dest),
        Dp => Val::Num(u64::from(conn.dport)),
        // NVM writes 1 on the outbound flows this generator models.
        Fd => Val::Num(1),
        Fss => Val::Num(r.start_ms / 1000),
        Fst => Val::Time(r.start_ms / 1000),
        Fes => Val::Num(r.end_ms / 1000),
        Fet => Val::Time(r.end_ms / 1000),
        Hh => Val::Text(conn.http.map_or("", |(host, _)| host)),
        Hm => Val::Text(conn.http.map_or("", |(_, req)| req.method)),
        Ht => Val::Text(conn.http.map_or("", |(_, req)| req.path)),
        Udid => Val::Text(&host.udid),
        Liuid => Val::Text(&host.user.full),
        Liuida => Val::Text(&host.user.authority),
        Liuidp => Val::Text(&host.user.principal),
        Liuat => Val::Num(u64::from(host.user.type_code)),
        Ibc => Val::Num(r.bytes_in),
        Obc => Val::Num(r.bytes_out),
        Ds => Val::Text(match conn.source {
            Source::Home => "",
            _ => host.site.dns_suffix,
        }),
        Dh => Val::Text(conn.dest_name),
        Iid => Val::Num(u64::from(host.iid)),
        Fsms => Val::Num(r.start_ms),
        Fems => Val::Num(r.end_ms),
        Fsg => Val::Num(r.stage as u64),
        Aliul => Val::Text(&host.aliul),
        Eveuuid => Val::Text("00000000000000000000000000000000"),
        _ => process_value(key, process),
    }
}

fn process_value(key: Key, p: &Process) -> Val<'_> {
    match key {
        Pa => Val::Text(&p.account.full),
        Paa => Val::Text(&p.account.authority),
        Pap => Val::Text(&p.account.principal),
        Puat => Val::Num(u64::from(p.account.type_code)),
        Pn => Val::Text(p.name),
        Ph => Val::Text(&p.hash),
        Pid => Val::Num(u64::from(p.pid)),
        Ppath => Val::Text(&p.path),
        Parg => Val::Text(&p.args),
        Puid => Val::Text(&p.puid),
        Pil => p.integrity.map_or(Val::Absent, |v| Val::Num(u64::from(v))),
        Mnl => Val::Text(p.module.as_ref().map_or("", |m| m.name)),
        Mhl => Val::Text(p.module.as_ref().map_or("", |m| &m.hash)),
        _ => match &p.parent {
            Some(parent) => parent_value(key, parent),
            None => Val::Absent,
        },
    }
}

fn parent_value(key: Key, p: &Process) -> Val<'_> {
    match key {
        Ppn => Val::Text(p.name),
        Ppid => Val::Num(u64::from(p.pid)),
        Pppath => Val::Text(&p.path),
        // The public examples omit `pparg` when the parent has none.
        Pparg if p.args.is_empty() => Val::Absent,
        Pparg => Val::Text(&p.args),
        Pph => Val::Text(&p.hash),
        Ppa => Val::Text(&p.account.full),
        Ppuat => Val::Num(u64::from(p.account.type_code)),
        Ppil => p.integrity.map_or(Val::Absent, |v| Val::Num(u64::from(v))),
        _ => Val::Absent,
    }
}

fn source_address(host: &Host, source: Source) -> &str {
    match (source, &host.ip6) {
        (Source::Office6, Some(v6)) => v6,
        (Source::Home, _) => &host.home_ip,
        _ => &host.ip,
    }
}

/// Only `"` is escaped; Windows paths keep single backslashes.
fn push_kv_escaped(out: &mut Vec<u8>, s: &str) {
    let mut rest = s.as_bytes();
    while let Some(quote) = memchr::memchr(b'"', rest) {
        out.extend_from_slice(&rest[..quote]);
        out.extend_from_slice(b"\\\"");
        rest = &rest[quote + 1..];
    }
    out.extend_from_slice(rest);
}

fn push_json_escaped(out: &mut Vec<u8>, s: &str) {
    let mut rest = s.as_bytes();
    // Copy runs of plain bytes at once; Windows paths make escapes common.
    while let Some(at) = rest
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
    {
        out.extend_from_slice(&rest[..at]);
        match rest[at] {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xF)]);
            }
        }
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
}

/// Decimal digits without going through `fmt`.
pub fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_escapes_only_quotes() {
        let mut out = Vec::new();
        push_kv_escaped(&mut out, r#" /n "C:\Users\x\a.docx""#);
        assert_eq!(out, br#" /n \"C:\Users\x\a.docx\""#);
    }

    #[test]
    fn json_escapes_quotes_backslashes_and_controls() {
        let mut out = Vec::new();
        push_json_escaped(&mut out, "a\"b\\c\u{1}");
        assert_eq!(out, br#"a\"b\\c\u0001"#);
    }

    #[test]
    fn prints_integers() {
        for n in [0, 7, 10, 443, u64::MAX] {
            let mut out = Vec::new();
            push_u64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }

    #[test]
    fn v3_keys_carry_no_process_context() {
        for key in [Pn, Pid, Parg, Pil, Ppath, Pppath, Ph, Puid, Fsms, Fsg] {
            assert!(!V3_KEYS.contains(&key), "{key:?}");
        }
    }
}

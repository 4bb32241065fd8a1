//! Decoding and normalisation, on the public examples and on hostile input.

use super::*;
use crate::record::Value;
use std::path::PathBuf;

/// The shared example records live beside the repository.
fn example(name: &str) -> Vec<u8> {
    let dir = std::env::var_os("NVM_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let path = dir.join("data/nvm-examples").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn ok(bytes: &[u8]) -> Record {
    decode(bytes, &DecodeOptions::default()).unwrap()
}

#[test]
fn decodes_the_public_key_value_example() {
    let r = ok(&example("kv-syslog-nvzflow-v9.log"));
    assert_eq!(r.encoding(), Encoding::KeyValue);
    assert_eq!(r.time_ms(), 1_750_954_134_331);
    assert_eq!(r.first("src"), Some("172.16.3.110"));
    assert_eq!(r.first("sa"), Some("172.16.3.110"));
    assert_eq!(r.first("dest"), Some("140.82.112.3"));
    assert_eq!(r.first("dest_hostname"), Some("github.com"));
    assert_eq!(r.first("transport"), Some("tcp"));
    assert_eq!(
        r.first("process_path"),
        Some(r"C:\Windows\system32\msiexec.exe")
    );
    assert_eq!(
        r.first("parent_process_path"),
        Some(r"C:\Windows\system32\cmd.exe")
    );
    assert_eq!(
        r.first("logged_in_user"),
        Some(r"EC2AMAZ-E56LIG5\Administrator")
    );
    let parg = r.first("process_arguments").unwrap();
    assert!(parg.starts_with(r#" /i "https://github.com/"#), "{parg}");
    assert!(parg.ends_with(r#".msi""#), "{parg}");
    assert_eq!(r.first("process_integrity_level"), Some("12288"));
    assert_eq!(r.first("sourcetype"), Some("cisco:nvm:flowdata"));
    assert_eq!(r.first("_time"), Some("1750954134.331"));
    for absent in ["hh", "http_host", "mnl", "module_name_list", "aliul"] {
        assert!(r.get(absent).is_none(), "{absent} should be absent");
    }
    assert_eq!(
        r.first("process"),
        Some(&*format!(r"C:\Windows\system32\msiexec.exe{parg}"))
    );
}

#[test]
fn decodes_the_public_json_example() {
    let r = ok(&example("json-nvzflow-v11.jsonl"));
    assert_eq!(r.encoding(), Encoding::Json);
    assert_eq!(r.time_ms(), 1_784_017_733_536);
    assert_eq!(r.first("process_name"), Some("svchost.exe"));
    assert_eq!(r.first("module_name_list"), Some("wpnuserservice.dll"));
    assert_eq!(r.first("parent_process_integrity_level"), Some("16384"));
    assert_eq!(r.first("http_method"), Some("GET"));
    assert_eq!(r.first("uri_path"), Some("/en-GB/livetile/preinstall"));
    assert_eq!(r.first("bytes"), Some("7873"));
    assert_eq!(r.first("sourcetype"), Some("cisco:nvm:flowdata:v2"));
    assert_eq!(
        r.first("process"),
        Some(r"C:\Windows\System32\svchost.exe -k UnistackSvcGroup -s WpnUserService")
    );
}

#[test]
fn event_time_falls_back_to_flow_start_seconds() {
    let r = ok(br#"{"fv":"nvzFlow_v3","fss":"1750954134","sa":"10.1.1.1"}"#);
    assert_eq!(r.time_ms(), 1_750_954_134_000);
    assert!(
        r.get("process_id").is_none(),
        "v3 records carry no process context"
    );
}

#[test]
fn maps_protocol_numbers_to_transport_names() {
    for (pr, name) in [
        ("6", "tcp"),
        ("17", "udp"),
        ("1", "icmp"),
        ("58", "icmp"),
        ("47", "47"),
    ] {
        let r = ok(format!(r#"{{"fv":"v","fss":"1","pr":"{pr}"}}"#).as_bytes());
        assert_eq!(r.first("transport"), Some(name));
        assert_eq!(r.first("protocol_identifier"), Some(pr));
    }
}

#[test]
fn json_arrays_become_multivalue_fields_and_empties_are_absent() {
    let r = ok(br#"{"fv":"v","fss":"1","mnl":["a.dll","b.dll"],"dh":"","aliul":null}"#);
    assert_eq!(
        r.get("module_name_list"),
        Some(&Value::Many(vec!["a.dll".into(), "b.dll".into()]))
    );
    assert!(r.get("dh").is_none());
    assert!(r.get("aliul").is_none());
}

fn reason(bytes: &[u8]) -> &'static str {
    decode(bytes, &DecodeOptions::default()).unwrap_err().code()
}

#[test]
fn rejects_what_is_not_a_usable_flow_record() {
    assert_eq!(reason(b""), "empty");
    assert_eq!(reason(b"  \n"), "empty");
    assert_eq!(reason(b"{\"fv\":\"v\",\"fss\":"), "bad_json");
    assert_eq!(reason(b"[1,2]"), "bad_json");
    assert_eq!(reason(br#"{"fv":"v","fss":"12:00"}"#), "bad_time");
    assert_eq!(reason(br#"{"fv":"v","fsms":"-5"}"#), "bad_time");
    assert_eq!(
        reason(br#"{"fv":"v","fss":"2026-07-14T08:00:00Z","fsms":"1784016000000"}"#),
        "bad_time",
        "a non-numeric fss is broken even when fsms is there"
    );
    assert_eq!(reason(br#"{"fv":"v"}"#), "missing_time");
    assert_eq!(reason(br#"{"pr":"6","fss":"1"}"#), "not_nvm");
    assert_eq!(
        reason(br#"{"fv":"v","fss":"1","x":{"y":"z"}}"#),
        "nested_json"
    );
    assert_eq!(
        reason(b"Jun 26 16:09:18 host sshd[1]: session opened"),
        "no_fields"
    );
    assert_eq!(reason(b"fv=\"v\" fss=\"1"), "bad_key_value");
    assert_eq!(reason(&[b'{', 0xff, 0xfe, b'}']), "not_utf8");
}

#[test]
fn rejects_oversized_messages_before_reading_them() {
    let options = DecodeOptions {
        max_record_bytes: 16,
        ..DecodeOptions::default()
    };
    let err = decode(br#"{"fv":"nvzFlow_v11","fss":"1"}"#, &options).unwrap_err();
    assert_eq!(
        err,
        DecodeError::TooLarge {
            size: 30,
            limit: 16
        }
    );
}

#[test]
fn a_repeated_key_adds_values_instead_of_hiding_one() {
    let json = ok(br#"{"fv":"v","fss":"1","pn":"rclone.exe","pn":"notepad.exe"}"#);
    assert_eq!(
        json.get("process_name").map(Value::as_slice),
        Some(&["rclone.exe".to_owned(), "notepad.exe".to_owned()][..])
    );
    let kv = ok(br#"fv="v" fss="1" pn="rclone.exe" pid="4" pn="notepad.exe""#);
    assert_eq!(
        kv.get("pn").map(Value::as_slice),
        Some(&["rclone.exe".to_owned(), "notepad.exe".to_owned()][..])
    );
    let only = DecodeOptions {
        keep: Keep::only(["process_name"]),
        ..DecodeOptions::default()
    };
    let kept = decode(br#"{"fv":"v","fss":"1","pn":"rclone.exe","pn":"x"}"#, &only).unwrap();
    assert_eq!(
        kept.get("process_name").map(|v| v.as_slice().len()),
        Some(2)
    );
}

#[test]
fn times_beyond_the_clock_or_the_calendar_are_refused() {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let at = |ms: i64| format!(r#"{{"fv":"v","fsms":"{ms}"}}"#);
    assert_eq!(
        reason(at(now_ms + 3 * 86_400_000).as_bytes()),
        "future_time"
    );
    assert!(decode(at(now_ms + 3_600_000).as_bytes(), &DecodeOptions::default()).is_ok());
    assert_eq!(reason(at(i64::MAX).as_bytes()), "bad_time");
    assert_eq!(
        reason(br#"{"fv":"v","fss":"9223372036854775807"}"#),
        "bad_time"
    );

    let any_time = DecodeOptions {
        max_future_ms: None,
        ..DecodeOptions::default()
    };
    let far = at(now_ms + 3 * 86_400_000);
    assert!(decode(far.as_bytes(), &any_time).is_ok());
    let err = decode(at(253_402_300_800_000).as_bytes(), &any_time).unwrap_err();
    assert_eq!(
        err.code(),
        "bad_time",
        "past year 9999 even with no future limit"
    );
}

#[test]
fn json_that_is_not_an_object_is_bad_json() {
    for text in [&b"[1,2,3]"[..], b"42", b"null", b"\"rclone.exe\"", b"true"] {
        assert_eq!(
            reason(text),
            "bad_json",
            "{}",
            String::from_utf8_lossy(text)
        );
    }
    assert_eq!(reason(b"sa=10.0.0.1 pn=rclone.exe"), "no_fields");
}

//! Keeping only some fields gives exactly the full record without the
//! others, and the same errors, whatever the message holds.

use super::super::{decode, DecodeOptions, Keep};
use super::KeptFields;

/// The rclone rule's names, and smaller and odder sets.
fn name_sets() -> Vec<Vec<&'static str>> {
    vec![
        vec![
            "sourcetype",
            "process_name",
            "process_arguments",
            "_time",
            "parent_process_arguments",
            "parent_process_hash",
            "process_hash",
            "module_name_list",
            "module_hash_list",
            "dest_port",
            "aliul",
            "dest_hostname",
            "src",
            "dest",
            "parent_process_path",
            "parent_process_integrity_level",
            "process_path",
            "process_integrity_level",
            "process_id",
            "transport",
            "firstTime",
            "lastTime",
        ],
        vec!["src"],
        vec![],
        vec![
            "bytes",
            "process",
            "parent_process",
            "pr",
            "fss",
            "fsms",
            "fv",
            "eveuuid",
        ],
        vec![
            "sa",
            "src",
            "x",
            "a_rather_long_field_name",
            "flow_version",
            "udid",
        ],
    ]
}

fn messages() -> Vec<String> {
    let kv = r#"Jun 26 16:09:18 127.0.0.1 Jun 26 16:09:18 h1  fv="nvzFlow_v9" pr="6" sa="10.0.0.1" da="1.2.3.4" dp="443" fss="1750954134" fsms="1750954134331" ibc="10" obc="32" pn="rclone.exe" ppath="C:\rclone\" parg=" copy \"a b\" mega:x" ppn='cmd.exe' pparg="''" aliul='' udid="ABC" eveuuid="0""#;
    let json = r#"{ "fv": "nvzFlow_v11", "pr": "17", "sa": "10.0.0.2", "fss": "1784016000", "fsms": "1784016000250", "pn": "x.exe", "ppath": "C:\\x.exe", "parg": "-a \"q\"", "mnl": ["a.dll", "", null, "b.dll"], "mhl": ["H1"], "pil": "", "ppid": null, "dh": true, "ibc": 5, "obc": 7, "udid": "ABC" }"#;
    let mut out = vec![kv.to_owned(), json.to_owned()];
    out.extend(
        [
            // Repeated keys: JSON keeps the last value at the first place,
            // key=value keeps every pair in order.
            r#"{"fv":"v","fss":"1","sa":"a","src":"b","sa":"c"}"#,
            r#"{"fv":"v","fss":"1","fss":"2"}"#,
            r#"{"fv":"v","fss":"x","fss":"2"}"#,
            r#"{"fv":"v","fss":"1","x":{"y":"z"},"x":"s"}"#,
            r#"fv="v" fss="1" fss="2" sa="a""#,
            r#"fv="v" fss="1" sa="a" src="b""#,
            r#"fv="v" fss="1" src="b" sa="a""#,
            // Shapes only the full decoder reads.
            "{\"fv\":\"v\",\t\"fss\":\"1\"}",
            r#"{"fv":"v","fss":"1","pr":-0,"ibc":1e2,"obc":1.5}"#,
            r#"{"fv":"v","fss":"1","sa":"\u0041"}"#,
            r#"{"fv":"v","fss":"1","sa":18446744073709551616}"#,
            r#"{"fv":"v","fss":"1","dp":443,"sp":-1}"#,
            r#"{"fv":"","fss":"1"}"#,
            r#"{"fv":["v"],"fss":["1","2"],"fsms":[]}"#,
            r#"{"fv":"v","fsms":["", "7"]}"#,
            r#"{"fv":"v","fss":"1","transport":"kept","sourcetype":"x","bytes":"3"}"#,
            r#"{"fv":"v","fss":"1","ibc":"18446744073709551615","obc":"0"}"#,
            // Errors, whose reasons must not change.
            "",
            "   ",
            r#"{"fv":"v","fss":"#,
            r#"{"fv":"v","fss":"1",}"#,
            r#"{"fv":"v","fss":"1"} trailing"#,
            r#"{"fv":"v","fss":"1","x":{"y":"z"}}"#,
            r#"{"fv":"v","fss":"1","x":[["y"]]}"#,
            r#"{"fv":"v","fss":"12:00"}"#,
            r#"{"fv":"v","fsms":"-5"}"#,
            r#"{"fv":"v","fss":"2026-07-14T08:00:00Z","fsms":"1784016000000"}"#,
            r#"{"fv":"v"}"#,
            r#"{"pr":"6","fss":"1"}"#,
            "[1,2]",
            "Jun 26 16:09:18 host sshd[1]: session opened",
            "fv=\"v\" fss=\"1",
            "fv=\"v\" fss=\"1\" =x",
            "fv=\"v\" fss=\"1\" pr=6 sa=a\\b",
            "\u{feff} fv=\"v\" fss=\"1\" ",
        ]
        .map(str::to_owned),
    );
    out
}

#[test]
fn kept_decoding_is_full_decoding_without_the_other_fields() {
    let full = DecodeOptions::default();
    for names in name_sets() {
        let kept = DecodeOptions {
            keep: Keep::only(names.iter().copied()),
            ..DecodeOptions::default()
        };
        for message in messages() {
            let want = decode(message.as_bytes(), &full).map(|mut r| {
                r.retain(|n| names.contains(&n));
                r
            });
            let got = decode(message.as_bytes(), &kept);
            assert_eq!(got, want, "{message} keeping {names:?}");
        }
    }
}

#[test]
fn keeps_native_keys_for_normalised_names_and_inputs_for_derived_ones() {
    let kept = KeptFields::new(["src", "process"]);
    for key in ["sa", "ppath", "pn", "parg", "fv", "fss", "fsms"] {
        assert!(kept.keys.get(key).is_some(), "{key}");
    }
    for key in ["da", "udid", "fst"] {
        assert!(kept.keys.get(key).is_none(), "{key}");
    }
    assert!(kept.keeps("src") && !kept.keeps("sa"));
}

#[test]
fn the_seed_example_keeps_its_rule_fields_only() {
    let names = &name_sets()[0];
    let options = DecodeOptions {
        keep: Keep::only(names.iter().copied()),
        ..DecodeOptions::default()
    };
    let record = decode(messages()[0].as_bytes(), &options).unwrap();
    assert_eq!(record.first("src"), Some("10.0.0.1"));
    assert_eq!(record.first("transport"), Some("tcp"));
    assert_eq!(
        record.first("process_arguments"),
        Some(r#" copy "a b" mega:x"#)
    );
    assert_eq!(record.first("_time"), Some("1750954134.331"));
    assert!(record.get("sa").is_none() && record.get("udid").is_none());
    assert!(record.iter().all(|(name, _)| names.contains(&name)));
}

#[test]
fn ordinary_records_take_the_borrowing_path() {
    let kept = KeptFields::new(name_sets()[0].iter().copied());
    let all = messages();
    for message in &all[..2] {
        assert!(super::decode(message.trim(), &kept).is_some(), "{message}");
    }
    for repeated in &all[2..7] {
        assert!(super::decode(repeated, &kept).is_none(), "{repeated}");
    }
}

mod generated {
    use super::*;
    use proptest::prelude::*;

    const KEYS: &[&str] = &[
        "fv",
        "fss",
        "fsms",
        "sa",
        "src",
        "pr",
        "ibc",
        "obc",
        "pn",
        "ppath",
        "parg",
        "transport",
        "process",
        "x",
        "mnl",
    ];
    const JSON_VALUES: &[&str] = &[
        r#""1""#,
        r#""17""#,
        r#""""#,
        r#""''""#,
        r#""'""#,
        "null",
        "true",
        "5",
        "-1",
        "0",
        "1.5",
        r#"["a",""]"#,
        r#"["b"]"#,
        "[]",
        r#"[null,"c",2]"#,
        r#"{"y":"z"}"#,
        r#""a\\b""#,
        r#""q\"r""#,
        r#""\u0041""#,
        r#"" x""#,
        r#""12:00""#,
    ];
    const KV_VALUES: &[&str] = &[
        r#""1""#,
        r#""17""#,
        r#""""#,
        r#""''""#,
        "''",
        "'",
        "'a'",
        r#""a\"b""#,
        "1",
        r#""C:\x\""#,
        r#""a b""#,
        r#"" x""#,
        r#""12:00""#,
        "\"open",
    ];

    fn render(fields: &[(usize, usize)], json: bool, spaced: bool) -> String {
        let sep = if spaced { ", " } else { "," };
        if json {
            let pairs: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!(r#""{}":{}"#, KEYS[*k], JSON_VALUES[*v % JSON_VALUES.len()]))
                .collect();
            return format!("{{{}}}", pairs.join(sep));
        }
        let pairs: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}={}", KEYS[*k], KV_VALUES[*v % KV_VALUES.len()]))
            .collect();
        format!("Jul 14 08:00:03 host  {}", pairs.join(" "))
    }

    proptest! {
        #[test]
        fn any_message_decodes_alike_kept_or_full(
            mut fields in proptest::collection::vec((3..KEYS.len(), 0..64usize), 0..10),
            stamped in 0..4u8,
            json in any::<bool>(),
            spaced in any::<bool>(),
            kept_mask in any::<u16>(),
        ) {
            let names: Vec<&str> = KEYS
                .iter()
                .enumerate()
                .filter(|(i, _)| kept_mask & (1 << i) != 0)
                .map(|(_, k)| *k)
                .chain(["src", "process", "bytes", "_time", "sourcetype"])
                .collect();
            // Most messages carry a version and a clock, so that both the
            // records and the errors get their share.
            if stamped > 0 {
                fields.insert(0, (0, 0));
                fields.insert(usize::from(stamped) % fields.len(), (1, 0));
            }
            let message = render(&fields, json, spaced);
            let full = decode(message.as_bytes(), &DecodeOptions::default()).map(|mut r| {
                r.retain(|n| names.contains(&n));
                r
            });
            let options = DecodeOptions {
                keep: Keep::only(names.iter().copied()),
                ..DecodeOptions::default()
            };
            prop_assert_eq!(decode(message.as_bytes(), &options), full, "{}", message);
        }
    }
}

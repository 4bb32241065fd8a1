//! Paths and fixtures shared by the detector's integration tests.
#![allow(dead_code)]

use nvm_detector::engine::EngineConfig;
use nvm_detector::rule::RuleSet;
use nvm_detector::window::WindowConfig;
use std::path::PathBuf;
use std::sync::Arc;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared material beside the repository (or `NVM_SHARED_DIR`).
pub fn shared() -> PathBuf {
    std::env::var_os("NVM_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared"))
}

/// The bundled rules.
pub fn bundled_rules() -> RuleSet {
    RuleSet::load(&repo().join("rules")).expect("bundled rules load")
}

/// An engine over the bundled rules with scan's settings.
pub fn scan_config() -> EngineConfig {
    EngineConfig {
        rules: Arc::new(bundled_rules()),
        decode: Default::default(),
        windows: WindowConfig {
            update_interval_ms: i64::MAX,
            idle_timeout_ms: i64::MAX,
            ..WindowConfig::default()
        },
    }
}

/// 2026-07-14T09:00:00Z.
pub const T0: i64 = 1_784_019_600;

/// A JSON NVM record of a Windows process making one flow. `extra` adds or
/// overrides fields; an empty value removes the field.
pub fn flow(
    secs: i64,
    host: &str,
    pn: &str,
    parg: &str,
    port: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut fields = serde_json::Map::new();
    let base = [
        ("fv", "nvzFlow_v11".to_owned()),
        ("pr", "6".to_owned()),
        ("sa", host.to_owned()),
        ("sp", "50123".to_owned()),
        ("da", "66.203.125.15".to_owned()),
        ("dp", port.to_owned()),
        ("dh", "g.api.mega.co.nz".to_owned()),
        ("fss", secs.to_string()),
        ("fsms", format!("{secs}250")),
        ("pn", pn.to_owned()),
        ("ppath", format!(r"C:\Users\Public\{pn}")),
        ("parg", parg.to_owned()),
        ("pid", "4242".to_owned()),
        ("ph", "AA11".to_owned()),
        ("pil", "12288".to_owned()),
        ("pppath", r"C:\Windows\System32\cmd.exe".to_owned()),
        ("pparg", "/c run.bat".to_owned()),
        ("pph", "BB22".to_owned()),
        ("ppil", "12288".to_owned()),
    ];
    for (k, v) in base {
        fields.insert(k.to_owned(), v.into());
    }
    for (k, v) in extra {
        if v.is_empty() {
            fields.remove(*k);
        } else {
            fields.insert((*k).to_owned(), (*v).into());
        }
    }
    serde_json::Value::Object(fields).to_string()
}

use super::*;

/// A file under a directory of its own, removed with the directory.
struct TempFile {
    dir: PathBuf,
    path: PathBuf,
}

impl TempFile {
    fn with(text: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("nvm-security-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("file");
        std::fs::write(&path, text).expect("temp file");
        TempFile { dir, path }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn no_passthrough(_: &str) -> Option<String> {
    None
}

fn scram(password_file: &TempFile) -> SecurityArgs {
    SecurityArgs {
        security_protocol: Some(SecurityProtocol::SaslPlaintext),
        sasl_mechanism: Some(SaslMechanism::ScramSha512),
        sasl_username: Some("alice".into()),
        sasl_password_file: Some(password_file.path.clone()),
        ..SecurityArgs::default()
    }
}

fn error_of(args: &SecurityArgs) -> String {
    args.resolve(no_passthrough)
        .expect_err("settings should be refused")
        .to_string()
}

#[test]
fn reads_the_password_file_without_its_line_ending() {
    let file = TempFile::with("s3cret-pw\r\n");
    let security = scram(&file).resolve(no_passthrough).unwrap();
    let mut config = ClientConfig::new();
    security.apply(&mut config);
    assert_eq!(config.get("sasl.password"), Some("s3cret-pw"));
    assert_eq!(config.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
    assert_eq!(config.get("sasl.username"), Some("alice"));
    assert_eq!(config.get("security.protocol"), Some("sasl_plaintext"));
    assert!(!format!("{security:?}").contains("s3cret-pw"));
}

#[test]
fn a_mechanism_without_a_username_names_the_flag_and_variable() {
    let file = TempFile::with("pw-value-1");
    let args = SecurityArgs {
        sasl_username: None,
        ..scram(&file)
    };
    let message = error_of(&args);
    assert!(
        message.contains("--sasl-username (KAFKA_SASL_USERNAME)"),
        "{message}"
    );
    assert!(!message.contains("pw-value-1"), "{message}");
}

#[test]
fn a_mechanism_without_a_password_names_both_sources() {
    let file = TempFile::with("unused");
    let args = SecurityArgs {
        sasl_password_file: None,
        ..scram(&file)
    };
    let message = error_of(&args);
    assert!(message.contains("--sasl-password-file"), "{message}");
    assert!(message.contains("KAFKA_SASL_PASSWORD"), "{message}");
}

#[test]
fn a_password_from_both_file_and_environment_is_refused() {
    let file = TempFile::with("pw-in-file");
    let args = SecurityArgs {
        sasl_password_env: Some(Secret::new("pw-in-env")),
        ..scram(&file)
    };
    let message = error_of(&args);
    assert!(message.contains("given twice"), "{message}");
    assert!(!message.contains("pw-in-"), "{message}");
}

#[test]
fn a_password_from_the_environment_is_used() {
    let file = TempFile::with("unused");
    let args = SecurityArgs {
        sasl_password_file: None,
        sasl_password_env: Some(Secret::new("from-env")),
        ..scram(&file)
    };
    let mut config = ClientConfig::new();
    args.resolve(no_passthrough).unwrap().apply(&mut config);
    assert_eq!(config.get("sasl.password"), Some("from-env"));
}

#[test]
fn an_unreadable_password_file_names_the_flag_and_path() {
    let file = TempFile::with("x");
    let missing = file.dir.join("no-such-file");
    let args = SecurityArgs {
        sasl_password_file: Some(missing.clone()),
        ..scram(&file)
    };
    let message = error_of(&args);
    assert!(message.contains("--sasl-password-file"), "{message}");
    assert!(
        message.contains(&missing.display().to_string()),
        "{message}"
    );
}

#[test]
fn an_empty_password_file_is_refused() {
    let file = TempFile::with("\n");
    let message = error_of(&scram(&file));
    assert!(message.contains("--sasl-password-file"), "{message}");
    assert!(message.contains("is empty"), "{message}");
}

#[test]
fn a_sasl_protocol_needs_a_mechanism_unless_a_property_names_one() {
    let args = SecurityArgs {
        security_protocol: Some(SecurityProtocol::SaslSsl),
        ..SecurityArgs::default()
    };
    let message = error_of(&args);
    assert!(
        message.contains("--sasl-mechanism (KAFKA_SASL_MECHANISM)"),
        "{message}"
    );

    let gssapi = |key: &str| (key == "sasl.mechanism").then(|| "GSSAPI".to_owned());
    assert!(args.resolve(gssapi).is_ok());
}

#[test]
fn sasl_settings_without_a_sasl_protocol_are_refused() {
    let file = TempFile::with("pw");
    let args = SecurityArgs {
        security_protocol: None,
        ..scram(&file)
    };
    let message = error_of(&args);
    assert!(message.contains("--sasl-mechanism"), "{message}");
    assert!(message.contains("sasl_plaintext or sasl_ssl"), "{message}");

    // A protocol given as a pass-through property counts.
    let sasl = |key: &str| (key == "security.protocol").then(|| "SASL_PLAINTEXT".to_owned());
    assert!(args.resolve(sasl).is_ok());
}

#[test]
fn tls_settings_without_a_tls_protocol_are_refused() {
    let ca = TempFile::with("ca");
    let args = SecurityArgs {
        security_protocol: Some(SecurityProtocol::Plaintext),
        ssl_ca_location: Some(ca.path.clone()),
        ..SecurityArgs::default()
    };
    let message = error_of(&args);
    assert!(
        message.contains("--ssl-ca-location (KAFKA_SSL_CA_LOCATION)"),
        "{message}"
    );
    assert!(message.contains("ssl or sasl_ssl"), "{message}");
}

#[test]
fn a_certificate_without_its_key_is_refused() {
    let cert = TempFile::with("cert");
    let args = SecurityArgs {
        security_protocol: Some(SecurityProtocol::Ssl),
        ssl_certificate_location: Some(cert.path.clone()),
        ..SecurityArgs::default()
    };
    let message = error_of(&args);
    assert!(
        message.contains("needs --ssl-key-location (KAFKA_SSL_KEY_LOCATION)"),
        "{message}"
    );

    let key_only = SecurityArgs {
        ssl_certificate_location: None,
        ssl_key_location: Some(cert.path.clone()),
        ..args
    };
    let message = error_of(&key_only);
    assert!(
        message.contains("needs --ssl-certificate-location"),
        "{message}"
    );
}

#[test]
fn a_key_password_needs_a_key() {
    let password = TempFile::with("kp");
    let args = SecurityArgs {
        security_protocol: Some(SecurityProtocol::Ssl),
        ssl_key_password_file: Some(password.path.clone()),
        ..SecurityArgs::default()
    };
    let message = error_of(&args);
    assert!(message.contains("--ssl-key-password-file"), "{message}");
    assert!(message.contains("needs --ssl-key-location"), "{message}");
}

#[test]
fn an_unreadable_ca_file_names_the_flag() {
    let dir = TempFile::with("");
    let args = SecurityArgs {
        security_protocol: Some(SecurityProtocol::Ssl),
        ssl_ca_location: Some(dir.dir.join("missing-ca.pem")),
        ..SecurityArgs::default()
    };
    let message = error_of(&args);
    assert!(
        message.contains("cannot read --ssl-ca-location"),
        "{message}"
    );
}

#[test]
fn mutual_tls_sets_the_paths_and_key_password() {
    let cert = TempFile::with("cert");
    let key = TempFile::with("key");
    let key_password = TempFile::with("key-pw-value\n");
    let args = SecurityArgs {
        security_protocol: Some(SecurityProtocol::Ssl),
        ssl_ca_location: Some(cert.path.clone()),
        ssl_certificate_location: Some(cert.path.clone()),
        ssl_key_location: Some(key.path.clone()),
        ssl_key_password_file: Some(key_password.path.clone()),
        ..SecurityArgs::default()
    };
    let security = args.resolve(no_passthrough).unwrap();
    let mut config = ClientConfig::new();
    security.apply(&mut config);
    let key_path = key.path.display().to_string();
    assert_eq!(config.get("security.protocol"), Some("ssl"));
    assert_eq!(config.get("ssl.key.location"), Some(key_path.as_str()));
    assert_eq!(config.get("ssl.key.password"), Some("key-pw-value"));
    assert!(!format!("{security:?} {config:?}").contains("key-pw-value"));
    assert!(!args.summary().contains("key-pw-value"));
}

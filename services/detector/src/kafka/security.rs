//! How the Kafka clients authenticate: TLS (server verification, client
//! certificates) and SASL (PLAIN, SCRAM-SHA-256/512), as flags with
//! environment variables.
//!
//! Passwords come from a file or the environment, never from a flag value
//! (which `ps` would show), and are held as [`Secret`]s. The settings are
//! checked as a whole before any client is made: a combination that cannot
//! work stops startup with a message naming the flag and its variable.

use crate::secret::Secret;
use clap::{Args, ValueEnum};
use rdkafka::ClientConfig;
use std::path::{Path, PathBuf};

/// The environment variable that may hold the SASL password.
pub const SASL_PASSWORD_ENV: &str = "KAFKA_SASL_PASSWORD";

/// Where the security flags appear in `--help`.
const HEADING: &str = "Kafka security";

const PROTOCOL: &str = "--security-protocol (KAFKA_SECURITY_PROTOCOL)";
const MECHANISM: &str = "--sasl-mechanism (KAFKA_SASL_MECHANISM)";
const USERNAME: &str = "--sasl-username (KAFKA_SASL_USERNAME)";
const PASSWORD_FILE: &str = "--sasl-password-file (KAFKA_SASL_PASSWORD_FILE)";
const CA: &str = "--ssl-ca-location (KAFKA_SSL_CA_LOCATION)";
const CERTIFICATE: &str = "--ssl-certificate-location (KAFKA_SSL_CERTIFICATE_LOCATION)";
const PASSWORD_SOURCES: &str =
    "a password: --sasl-password-file (KAFKA_SASL_PASSWORD_FILE) or KAFKA_SASL_PASSWORD";
const KEY: &str = "--ssl-key-location (KAFKA_SSL_KEY_LOCATION)";
const KEY_PASSWORD_FILE: &str = "--ssl-key-password-file (KAFKA_SSL_KEY_PASSWORD_FILE)";

/// The security flags of every command that talks to Kafka.
#[derive(Debug, Clone, Default, Args)]
pub struct SecurityArgs {
    /// Protocol to talk to the brokers with (librdkafka's default is plaintext).
    #[arg(help_heading = HEADING, long, env = "KAFKA_SECURITY_PROTOCOL")]
    #[arg(value_enum, ignore_case = true)]
    pub security_protocol: Option<SecurityProtocol>,
    /// SASL mechanism; needs --sasl-username and a password.
    #[arg(help_heading = HEADING, long, env = "KAFKA_SASL_MECHANISM")]
    #[arg(value_enum, ignore_case = true)]
    pub sasl_mechanism: Option<SaslMechanism>,
    /// SASL user name.
    #[arg(help_heading = HEADING, long, env = "KAFKA_SASL_USERNAME")]
    pub sasl_username: Option<String>,
    /// File holding the SASL password (a trailing newline is ignored). The
    /// password may instead come from the KAFKA_SASL_PASSWORD variable; it is
    /// never taken as a flag value, which other users could read in `ps`.
    #[arg(help_heading = HEADING, long, env = "KAFKA_SASL_PASSWORD_FILE", value_name = "PATH")]
    pub sasl_password_file: Option<PathBuf>,
    /// The SASL password from KAFKA_SASL_PASSWORD, read when the command line is parsed.
    #[arg(skip = password_from_env())]
    pub sasl_password_env: Option<Secret>,
    /// CA certificate(s) (PEM) to verify the brokers with, instead of the system's.
    #[arg(help_heading = HEADING, long, env = "KAFKA_SSL_CA_LOCATION", value_name = "PATH")]
    pub ssl_ca_location: Option<PathBuf>,
    /// Client certificate (PEM) for brokers that require one; needs --ssl-key-location.
    #[arg(help_heading = HEADING, long, env = "KAFKA_SSL_CERTIFICATE_LOCATION")]
    #[arg(value_name = "PATH")]
    pub ssl_certificate_location: Option<PathBuf>,
    /// Private key (PEM) of the client certificate.
    #[arg(help_heading = HEADING, long, env = "KAFKA_SSL_KEY_LOCATION", value_name = "PATH")]
    pub ssl_key_location: Option<PathBuf>,
    /// File holding the password of an encrypted --ssl-key-location.
    #[arg(help_heading = HEADING, long, env = "KAFKA_SSL_KEY_PASSWORD_FILE", value_name = "PATH")]
    pub ssl_key_password_file: Option<PathBuf>,
}

/// librdkafka's `security.protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SecurityProtocol {
    #[value(name = "plaintext")]
    Plaintext,
    #[value(name = "ssl")]
    Ssl,
    #[value(name = "sasl_plaintext")]
    SaslPlaintext,
    #[value(name = "sasl_ssl")]
    SaslSsl,
}

impl SecurityProtocol {
    fn as_str(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "plaintext",
            SecurityProtocol::Ssl => "ssl",
            SecurityProtocol::SaslPlaintext => "sasl_plaintext",
            SecurityProtocol::SaslSsl => "sasl_ssl",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        SecurityProtocol::from_str(text, true).ok()
    }

    fn uses_sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        )
    }

    fn uses_tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }
}

/// The SASL mechanisms that work with a user name and password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SaslMechanism {
    #[value(name = "PLAIN")]
    Plain,
    #[value(name = "SCRAM-SHA-256")]
    ScramSha256,
    #[value(name = "SCRAM-SHA-512")]
    ScramSha512,
}

impl SaslMechanism {
    fn as_str(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// Security settings that cannot work together, or files that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error("{setting} is only used with {PROTOCOL} {protocols}")]
    Unused {
        setting: &'static str,
        protocols: &'static str,
    },
    #[error("{needed_by} needs {setting}")]
    Missing {
        setting: &'static str,
        needed_by: String,
    },
    #[error(
        "the SASL password is given twice, by {PASSWORD_FILE} and by {SASL_PASSWORD_ENV}; keep one"
    )]
    PasswordTwice,
    #[error("{setting} is empty")]
    Empty { setting: String },
    #[error("cannot read {setting} {path}: {source}")]
    Unreadable {
        setting: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Settings checked and secrets read, ready to go into a client configuration.
#[derive(Debug, Clone, Default)]
pub struct Security {
    protocol: Option<SecurityProtocol>,
    mechanism: Option<SaslMechanism>,
    username: Option<String>,
    password: Option<Secret>,
    ca: Option<PathBuf>,
    certificate: Option<PathBuf>,
    key: Option<PathBuf>,
    key_password: Option<Secret>,
}

impl SecurityArgs {
    /// Checks the settings and reads the password files.
    ///
    /// `passthrough` looks up a pass-through (`-X`) property: a protocol or
    /// SASL mechanism given that way counts as given (e.g. GSSAPI, which
    /// has no flag of its own).
    ///
    /// # Errors
    /// A combination that cannot work, naming the flag and its variable, or
    /// a file that cannot be read.
    pub fn resolve(
        &self,
        passthrough: impl Fn(&str) -> Option<String>,
    ) -> Result<Security, SecurityError> {
        let protocol = self
            .security_protocol
            .or_else(|| passthrough("security.protocol").and_then(|p| SecurityProtocol::parse(&p)))
            .unwrap_or(SecurityProtocol::Plaintext);
        if !protocol.uses_sasl() {
            self.check_no_sasl()?;
        }
        if !protocol.uses_tls() {
            self.check_no_tls()?;
        }
        let mechanism_elsewhere =
            passthrough("sasl.mechanism").is_some() || passthrough("sasl.mechanisms").is_some();
        if protocol.uses_sasl() && self.sasl_mechanism.is_none() && !mechanism_elsewhere {
            return Err(SecurityError::Missing {
                setting: MECHANISM,
                needed_by: format!("{PROTOCOL} {}", protocol.as_str()),
            });
        }
        let password = self.sasl_password()?;
        if let Some(mechanism) = self.sasl_mechanism {
            let needed_by = format!("{MECHANISM} {}", mechanism.as_str());
            if self.sasl_username.as_deref().is_none_or(str::is_empty) {
                return Err(SecurityError::Missing {
                    setting: USERNAME,
                    needed_by,
                });
            }
            if password.is_none() {
                return Err(SecurityError::Missing {
                    setting: PASSWORD_SOURCES,
                    needed_by,
                });
            }
        }
        self.check_tls_files()?;
        Ok(Security {
            protocol: self.security_protocol,
            mechanism: self.sasl_mechanism,
            username: self.sasl_username.clone(),
            password,
            ca: self.ssl_ca_location.clone(),
            certificate: self.ssl_certificate_location.clone(),
            key: self.ssl_key_location.clone(),
            key_password: read_secret(self.ssl_key_password_file.as_deref(), KEY_PASSWORD_FILE)?,
        })
    }

    /// A one-line account of the settings for the startup log, without secrets.
    pub fn summary(&self) -> String {
        let mut parts = vec![self
            .security_protocol
            .map_or("protocol from properties or plaintext", |p| p.as_str())
            .to_owned()];
        if let Some(mechanism) = self.sasl_mechanism {
            parts.push(format!("sasl {}", mechanism.as_str()));
        }
        if let Some(user) = &self.sasl_username {
            parts.push(format!("user {user}"));
        }
        if self.sasl_password_file.is_some() {
            parts.push("password from file".into());
        } else if self.sasl_password_env.is_some() {
            parts.push(format!("password from {SASL_PASSWORD_ENV}"));
        }
        for (name, path) in [
            ("ca", &self.ssl_ca_location),
            ("certificate", &self.ssl_certificate_location),
            ("key", &self.ssl_key_location),
        ] {
            if let Some(path) = path {
                parts.push(format!("{name} {}", path.display()));
            }
        }
        parts.join(", ")
    }

    fn check_no_sasl(&self) -> Result<(), SecurityError> {
        let given = [
            (self.sasl_mechanism.is_some(), MECHANISM),
            (self.sasl_username.is_some(), USERNAME),
            (self.sasl_password_file.is_some(), PASSWORD_FILE),
            (self.sasl_password_env.is_some(), SASL_PASSWORD_ENV),
        ];
        match given.iter().find(|(set, _)| *set) {
            Some((_, setting)) => Err(SecurityError::Unused {
                setting,
                protocols: "sasl_plaintext or sasl_ssl",
            }),
            None => Ok(()),
        }
    }

    fn check_no_tls(&self) -> Result<(), SecurityError> {
        let given = [
            (self.ssl_ca_location.is_some(), CA),
            (self.ssl_certificate_location.is_some(), CERTIFICATE),
            (self.ssl_key_location.is_some(), KEY),
            (self.ssl_key_password_file.is_some(), KEY_PASSWORD_FILE),
        ];
        match given.iter().find(|(set, _)| *set) {
            Some((_, setting)) => Err(SecurityError::Unused {
                setting,
                protocols: "ssl or sasl_ssl",
            }),
            None => Ok(()),
        }
    }

    fn sasl_password(&self) -> Result<Option<Secret>, SecurityError> {
        match (&self.sasl_password_file, &self.sasl_password_env) {
            (Some(_), Some(_)) => Err(SecurityError::PasswordTwice),
            (Some(path), None) => read_secret(Some(path), PASSWORD_FILE),
            (None, Some(secret)) if secret.is_empty() => Err(SecurityError::Empty {
                setting: SASL_PASSWORD_ENV.to_owned(),
            }),
            (None, env) => Ok(env.clone()),
        }
    }

    /// A certificate and its key come together; every file must be readable
    /// now rather than fail later inside librdkafka with a vaguer message.
    fn check_tls_files(&self) -> Result<(), SecurityError> {
        match (&self.ssl_certificate_location, &self.ssl_key_location) {
            (Some(_), None) => {
                return Err(SecurityError::Missing {
                    setting: KEY,
                    needed_by: CERTIFICATE.to_owned(),
                })
            }
            (None, Some(_)) => {
                return Err(SecurityError::Missing {
                    setting: CERTIFICATE,
                    needed_by: KEY.to_owned(),
                })
            }
            _ => {}
        }
        if self.ssl_key_password_file.is_some() && self.ssl_key_location.is_none() {
            return Err(SecurityError::Missing {
                setting: KEY,
                needed_by: KEY_PASSWORD_FILE.to_owned(),
            });
        }
        for (path, setting) in [
            (&self.ssl_ca_location, CA),
            (&self.ssl_certificate_location, CERTIFICATE),
            (&self.ssl_key_location, KEY),
        ] {
            if let Some(path) = path {
                check_readable(path, setting)?;
            }
        }
        Ok(())
    }
}

impl Security {
    /// Sets the librdkafka properties of these settings; unset ones are left
    /// to librdkafka's defaults or the pass-through properties.
    pub fn apply(&self, config: &mut ClientConfig) {
        if let Some(protocol) = self.protocol {
            config.set("security.protocol", protocol.as_str());
        }
        if let Some(mechanism) = self.mechanism {
            config.set("sasl.mechanism", mechanism.as_str());
        }
        if let Some(username) = &self.username {
            config.set("sasl.username", username);
        }
        if let Some(password) = &self.password {
            config.set("sasl.password", password.expose());
        }
        let paths = [
            ("ssl.ca.location", &self.ca),
            ("ssl.certificate.location", &self.certificate),
            ("ssl.key.location", &self.key),
        ];
        for (key, path) in paths {
            if let Some(path) = path {
                config.set(key, path.display().to_string());
            }
        }
        if let Some(password) = &self.key_password {
            config.set("ssl.key.password", password.expose());
        }
    }
}

fn password_from_env() -> Option<Secret> {
    std::env::var_os(SASL_PASSWORD_ENV).map(|v| Secret::new(v.to_string_lossy()))
}

fn check_readable(path: &Path, setting: &'static str) -> Result<(), SecurityError> {
    std::fs::File::open(path)
        .map(drop)
        .map_err(|source| SecurityError::Unreadable {
            setting,
            path: path.to_owned(),
            source,
        })
}

/// Reads a password file; only the line ending at its end is dropped.
fn read_secret(
    path: Option<&Path>,
    setting: &'static str,
) -> Result<Option<Secret>, SecurityError> {
    let Some(path) = path else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path).map_err(|source| SecurityError::Unreadable {
        setting,
        path: path.to_owned(),
        source,
    })?;
    let value = text.strip_suffix('\n').unwrap_or(&text);
    let value = value.strip_suffix('\r').unwrap_or(value);
    if value.is_empty() {
        return Err(SecurityError::Empty {
            setting: format!("{setting} {}", path.display()),
        });
    }
    Ok(Some(Secret::new(value)))
}

#[cfg(test)]
#[path = "security_tests.rs"]
mod tests;

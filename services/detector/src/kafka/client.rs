//! Connection settings shared by every command that talks to Kafka, and
//! the one place their librdkafka configurations are built.
//!
//! A client's configuration is layered, later layers winning: the
//! bootstrap servers, the caller's defaults for that client, the security
//! settings ([`super::security`]), the `-X` properties, and last the
//! properties of the client's role (`--consumer-property` or
//! `--producer-property`), so a deployment can override anything without
//! a consumer property reaching a producer, where librdkafka would warn
//! that it is ignored.

use super::security::{SecurityArgs, SecurityError};
use crate::secret::MASK;
use clap::Args;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;
use rdkafka::{ClientConfig, ClientContext};
use std::fmt;

/// Where the cluster is, how to authenticate, and any librdkafka property
/// to pass through. Its `Debug` masks secret properties.
#[derive(Clone, Args)]
pub struct ClientArgs {
    /// TOML configuration file: one table per section of this help, one
    /// key per flag with `_` for `-`; a command takes the settings it has.
    /// Flags and environment variables win over it. See `nvm-detector
    /// config show`.
    #[arg(long, env = crate::config::CONFIG_ENV, value_name = "FILE", help_heading = "Configuration file")]
    pub config: Option<std::path::PathBuf>,
    /// Bootstrap servers of the Kafka cluster.
    #[arg(long, env = "KAFKA_BOOTSTRAP", default_value = "127.0.0.1:9092")]
    pub bootstrap_servers: String,
    #[command(flatten)]
    pub security: SecurityArgs,
    /// A librdkafka property for every client, `key=value`; repeatable
    /// (e.g. `-X client.id=nvm-detector`).
    #[arg(short = 'X', long = "kafka-property")]
    #[arg(value_name = "KEY=VALUE", value_parser = parse_property)]
    pub properties: Vec<(String, String)>,
    /// A librdkafka property for consumers only, `key=value`; repeatable;
    /// wins over -X (e.g. `--consumer-property fetch.max.bytes=1048576`).
    #[arg(long = "consumer-property", value_name = "KEY=VALUE", value_parser = parse_property)]
    pub consumer_properties: Vec<(String, String)>,
    /// A librdkafka property for producers only, `key=value`; repeatable;
    /// wins over -X (e.g. `--producer-property linger.ms=20`).
    #[arg(long = "producer-property", value_name = "KEY=VALUE", value_parser = parse_property)]
    pub producer_properties: Vec<(String, String)>,
}

/// What a client is for, which decides the pass-through properties it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Consumer,
    Producer,
    /// Topic creation: only the `-X` properties.
    Admin,
}

fn parse_property(text: &str) -> Result<(String, String), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{}` is not key=value", redact_text(text)))?;
    if key.trim().is_empty() {
        return Err("a property has an empty key".to_owned());
    }
    if is_secret(key) {
        crate::secret::remember(value);
    }
    Ok((key.trim().to_owned(), value.to_owned()))
}

/// A malformed property is echoed only when it cannot hold a secret.
fn redact_text(text: &str) -> &str {
    if is_secret(text) {
        MASK
    } else {
        text
    }
}

impl ClientArgs {
    /// Plaintext settings for `bootstrap_servers` with nothing passed through.
    pub fn new(bootstrap_servers: impl Into<String>) -> Self {
        ClientArgs {
            config: None,
            bootstrap_servers: bootstrap_servers.into(),
            security: SecurityArgs::default(),
            properties: Vec::new(),
            consumer_properties: Vec::new(),
            producer_properties: Vec::new(),
        }
    }

    /// Checks the security settings and that their files can be read; run
    /// at startup so a mistake stops the command before it does anything.
    ///
    /// # Errors
    /// The first problem, naming the flag and its environment variable.
    pub fn validate(&self) -> Result<(), SecurityError> {
        self.security.resolve(|key| self.property(key)).map(drop)
    }

    /// The configuration of a consumer; `defaults` sets what the caller
    /// needs unless the user overrides it.
    ///
    /// # Errors
    /// As [`ClientArgs::validate`].
    pub fn consumer_config(
        &self,
        defaults: impl FnOnce(&mut ClientConfig),
    ) -> Result<ClientConfig, SecurityError> {
        self.config_for(Role::Consumer, defaults)
    }

    /// The configuration of a producer, as [`ClientArgs::consumer_config`].
    ///
    /// # Errors
    /// As [`ClientArgs::validate`].
    pub fn producer_config(
        &self,
        defaults: impl FnOnce(&mut ClientConfig),
    ) -> Result<ClientConfig, SecurityError> {
        self.config_for(Role::Producer, defaults)
    }

    /// The configuration of an admin client (topic creation).
    ///
    /// # Errors
    /// As [`ClientArgs::validate`].
    pub fn admin_config(&self) -> Result<ClientConfig, SecurityError> {
        self.config_for(Role::Admin, |_| {})
    }

    /// Builds the layered configuration described in the module docs.
    /// Password files are read on each call, so a rotated password is
    /// picked up by the next client made.
    ///
    /// # Errors
    /// As [`ClientArgs::validate`].
    pub fn config_for(
        &self,
        role: Role,
        defaults: impl FnOnce(&mut ClientConfig),
    ) -> Result<ClientConfig, SecurityError> {
        let security = self.security.resolve(|key| self.property(key))?;
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap_servers);
        defaults(&mut config);
        security.apply(&mut config);
        for (key, value) in self.properties.iter().chain(self.role_properties(role)) {
            config.set(key, value);
        }
        Ok(config)
    }

    fn role_properties(&self, role: Role) -> &[(String, String)] {
        match role {
            Role::Consumer => &self.consumer_properties,
            Role::Producer => &self.producer_properties,
            Role::Admin => &[],
        }
    }

    /// The last `-X` value of `key`.
    fn property(&self, key: &str) -> Option<String> {
        self.properties
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    /// The pass-through properties with secrets masked, for logs; those of
    /// one role carry its name (`consumer:fetch.max.bytes=...`).
    pub fn redacted_properties(&self) -> Vec<String> {
        let tagged = [
            ("", &self.properties),
            ("consumer:", &self.consumer_properties),
            ("producer:", &self.producer_properties),
        ];
        tagged
            .into_iter()
            .flat_map(|(tag, list)| list.iter().map(move |(k, v)| (tag, k, v)))
            .map(|(tag, k, v)| {
                let shown = if is_secret(k) { MASK } else { v.as_str() };
                format!("{tag}{k}={shown}")
            })
            .collect()
    }
}

impl fmt::Debug for ClientArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientArgs")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("security", &self.security)
            .field("properties", &self.redacted_properties())
            .finish()
    }
}

/// Client callbacks for readers that watch for partition ends: librdkafka
/// reports each end as a "global error", which is news, not trouble.
#[derive(Debug, Default, Clone, Copy)]
pub struct QuietEof;

impl ClientContext for QuietEof {
    fn error(&self, error: KafkaError, reason: &str) {
        log_client_error(error, reason);
    }
}

impl ConsumerContext for QuietEof {}

/// Logs a librdkafka client error, except the partition-end notices.
pub fn log_client_error(error: KafkaError, reason: &str) {
    let end = matches!(
        error,
        KafkaError::PartitionEOF(_)
            | KafkaError::Global(rdkafka::types::RDKafkaErrorCode::PartitionEOF)
    );
    if end {
        return;
    }
    // A broker that is down is reported by every client thread again and
    // again; one line per kind of error every 10 s is enough.
    static LIMIT: std::sync::LazyLock<crate::telemetry::RateLimit> =
        std::sync::LazyLock::new(|| {
            crate::telemetry::RateLimit::new(std::time::Duration::from_secs(10))
        });
    if let Some(suppressed) = LIMIT.allow(&error.to_string()) {
        tracing::warn!(error = %error, reason, suppressed, "kafka client error");
    }
}

/// Whether a librdkafka property holds a secret.
pub fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "password",
        "secret",
        "sasl.oauthbearer.config",
        "ssl.key.pem",
        "token",
    ]
    .iter()
    .any(|s| key.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_properties() -> ClientArgs {
        ClientArgs {
            properties: vec![
                ("sasl.password".into(), "hunter2".into()),
                ("security.protocol".into(), "SASL_SSL".into()),
                ("sasl.mechanism".into(), "PLAIN".into()),
                ("client.id".into(), "everyone".into()),
            ],
            consumer_properties: vec![
                ("fetch.max.bytes".into(), "1048576".into()),
                ("client.id".into(), "consumer".into()),
            ],
            producer_properties: vec![
                ("linger.ms".into(), "20".into()),
                ("ssl.key.password".into(), "keypw".into()),
            ],
            ..ClientArgs::new("b")
        }
    }

    #[test]
    fn masks_secret_properties() {
        let args = with_properties();
        let shown = format!("{} {args:?}", args.redacted_properties().join(" "));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("keypw"), "{shown}");
        assert!(shown.contains("security.protocol=SASL_SSL"));
        assert!(shown.contains("consumer:fetch.max.bytes=1048576"));
        assert!(shown.contains("producer:ssl.key.password=***"));
    }

    #[test]
    fn role_properties_reach_only_their_role_and_win_over_x() {
        let args = with_properties();
        let consumer = args.consumer_config(|c| {
            c.set("client.id", "default");
        });
        let consumer = consumer.unwrap();
        assert_eq!(consumer.get("client.id"), Some("consumer"));
        assert_eq!(consumer.get("fetch.max.bytes"), Some("1048576"));
        assert_eq!(consumer.get("linger.ms"), None);

        let producer = args.producer_config(|_| {}).unwrap();
        assert_eq!(producer.get("client.id"), Some("everyone"));
        assert_eq!(producer.get("linger.ms"), Some("20"));
        assert_eq!(producer.get("fetch.max.bytes"), None);

        let admin = args.admin_config().unwrap();
        assert_eq!(admin.get("client.id"), Some("everyone"));
        assert_eq!(admin.get("linger.ms"), None);
        assert_eq!(admin.get("bootstrap.servers"), Some("b"));
    }

    #[test]
    fn pass_through_properties_win_over_the_callers_defaults() {
        let args = ClientArgs {
            properties: vec![("isolation.level".into(), "read_uncommitted".into())],
            ..ClientArgs::new("b")
        };
        let config = args
            .consumer_config(|c| {
                c.set("isolation.level", "read_committed");
            })
            .unwrap();
        assert_eq!(config.get("isolation.level"), Some("read_uncommitted"));
    }

    #[test]
    fn a_malformed_secret_property_is_not_echoed() {
        let message = parse_property("sasl.password:hunter2").unwrap_err();
        assert!(!message.contains("hunter2"), "{message}");
        assert!(parse_property("=x").is_err());
        assert_eq!(
            parse_property(" a = b=c").unwrap(),
            ("a".to_owned(), " b=c".to_owned())
        );
    }
}

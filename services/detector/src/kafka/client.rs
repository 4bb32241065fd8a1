//! Connection settings shared by every command that talks to Kafka.

use clap::Args;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;
use rdkafka::{ClientConfig, ClientContext};

/// Where the cluster is and any librdkafka property to pass through.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// Bootstrap servers of the Kafka cluster.
    #[arg(long, env = "KAFKA_BOOTSTRAP", default_value = "127.0.0.1:9092")]
    pub bootstrap_servers: String,
    /// A librdkafka property, `key=value`; repeatable (e.g. `-X security.protocol=SSL`).
    #[arg(short = 'X', long = "kafka-property", value_parser = parse_property)]
    pub properties: Vec<(String, String)>,
}

fn parse_property(text: &str) -> Result<(String, String), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not key=value"))?;
    if key.trim().is_empty() {
        return Err(format!("`{text}` has an empty key"));
    }
    Ok((key.trim().to_owned(), value.to_owned()))
}

impl ClientArgs {
    /// A client configuration with the bootstrap servers and pass-through
    /// properties applied (those win over the caller's defaults when the
    /// caller applies them last with [`ClientArgs::apply_overrides`]).
    pub fn config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap_servers);
        config
    }

    /// Applies the pass-through properties on top of `config`.
    pub fn apply_overrides(&self, config: &mut ClientConfig) {
        for (key, value) in &self.properties {
            config.set(key, value);
        }
    }

    /// The pass-through properties with secrets masked, for logs.
    pub fn redacted_properties(&self) -> Vec<String> {
        self.properties
            .iter()
            .map(|(k, v)| {
                if is_secret(k) {
                    format!("{k}=***")
                } else {
                    format!("{k}={v}")
                }
            })
            .collect()
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
    if !end {
        tracing::warn!(error = %error, reason, "kafka client error");
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

    #[test]
    fn masks_secret_properties() {
        let args = ClientArgs {
            bootstrap_servers: "b".into(),
            properties: vec![
                ("sasl.password".into(), "hunter2".into()),
                ("security.protocol".into(), "SASL_SSL".into()),
            ],
        };
        let shown = args.redacted_properties().join(" ");
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("security.protocol=SASL_SSL"));
    }
}

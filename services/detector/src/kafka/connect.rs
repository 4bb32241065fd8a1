//! The first contact with the cluster. librdkafka retries every failed
//! connection in the background, a wrong password or an untrusted
//! certificate included, so a command would otherwise wait on a timeout
//! and end with a vague one. Here such failures stop startup at once with
//! a message saying which settings to check: no retry can fix them, the
//! user must act.

use super::client::{log_client_error, ClientArgs};
use super::security::SecurityError;
use rdkafka::client::DefaultClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientContext;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long startup waits for a broker to answer; the same bound as the
/// metadata calls that follow it.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the cluster could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Settings(#[from] SecurityError),
    #[error("creating the kafka client")]
    Client(#[source] KafkaError),
    #[error(
        "cannot load the tls client key: {reason}; check --ssl-key-location and \
         --ssl-key-password-file (a wrong key password shows as \"PEM lib\")"
    )]
    TlsKey { reason: String },
    #[error(
        "kafka authentication failed at {bootstrap}: {reason}; check --sasl-mechanism, \
         --sasl-username and the password (--sasl-password-file or KAFKA_SASL_PASSWORD)"
    )]
    Authentication { bootstrap: String, reason: String },
    #[error(
        "tls connection to {bootstrap} failed: {reason}; check --ssl-ca-location, \
         --ssl-certificate-location and --ssl-key-location"
    )]
    Tls { bootstrap: String, reason: String },
    #[error("no kafka broker answered at {bootstrap} within {waited:?}: {last_error}")]
    Unreachable {
        bootstrap: String,
        waited: Duration,
        last_error: String,
    },
}

/// Client callbacks that keep the first failure retrying cannot fix.
#[derive(Default)]
struct Watch {
    fatal: Mutex<Option<(RDKafkaErrorCode, String)>>,
}

impl ClientContext for Watch {
    fn error(&self, error: KafkaError, reason: &str) {
        match error.rdkafka_error_code() {
            Some(code @ (RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SSL)) => {
                self.keep(code, reason)
            }
            _ => log_client_error(error, reason),
        }
    }

    /// A broker that refuses the client's certificate (or its absence)
    /// answers with a TLS alert after the handshake; librdkafka reports
    /// that only as a log line of a failed connection, not as an error.
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        if fac == "FAIL" && message.contains("SSL alert number") {
            self.keep(RDKafkaErrorCode::SSL, message);
        }
        DefaultClientContext.log(level, fac, message);
    }
}

impl ConsumerContext for Watch {}

impl Watch {
    fn keep(&self, code: RDKafkaErrorCode, reason: &str) {
        if let Ok(mut fatal) = self.fatal.lock() {
            fatal.get_or_insert_with(|| (code, reason.to_owned()));
        }
    }

    fn take(&self) -> Option<(RDKafkaErrorCode, String)> {
        self.fatal.lock().ok().and_then(|mut f| f.take())
    }
}

/// Reads the metadata of `topic` (which need not exist) with the consumer
/// settings, within `timeout`.
///
/// # Errors
/// Invalid settings, a failed authentication or TLS handshake (at once),
/// or no answer within `timeout`.
pub fn check_connection(
    client: &ClientArgs,
    topic: &str,
    timeout: Duration,
) -> Result<(), ConnectError> {
    let mut config = client.consumer_config(|_| {})?;
    // The connection failures the watch looks for are logged at error level.
    if (config.log_level as i32) < RDKafkaLogLevel::Error as i32 {
        config.set_log_level(RDKafkaLogLevel::Error);
    }
    let consumer: BaseConsumer<Watch> = config
        .create_with_context(Watch::default())
        .map_err(client_error)?;
    let bootstrap = client.bootstrap_servers.clone();
    let started = Instant::now();
    loop {
        let last_error = match consumer.fetch_metadata(Some(topic), Duration::from_secs(1)) {
            Ok(_) => return Ok(()),
            Err(e) => e.to_string(),
        };
        // Polling serves the client's events, which runs the error callback.
        let _ = consumer.poll(Duration::from_millis(100));
        if let Some((code, reason)) = consumer.context().take() {
            return Err(fatal(code, reason, bootstrap));
        }
        if started.elapsed() >= timeout {
            return Err(ConnectError::Unreachable {
                bootstrap,
                waited: timeout,
                last_error,
            });
        }
    }
}

/// librdkafka loads the key when the client is made; a key it cannot
/// decrypt only says "PEM lib", so the message says what to check.
fn client_error(error: KafkaError) -> ConnectError {
    match error {
        KafkaError::ClientCreation(reason) if reason.contains("ssl.key") => {
            ConnectError::TlsKey { reason }
        }
        other => ConnectError::Client(other),
    }
}

fn fatal(code: RDKafkaErrorCode, reason: String, bootstrap: String) -> ConnectError {
    match code {
        RDKafkaErrorCode::Authentication => ConnectError::Authentication { bootstrap, reason },
        _ => ConnectError::Tls { bootstrap, reason },
    }
}

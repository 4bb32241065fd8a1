//! `nvm-detector alerts`: prints what a topic holds, read with
//! read_committed, one JSON document per line. The demo and the tests use
//! [`read_topic`] to see what the detector published.

use super::client::{ClientArgs, QuietEof};
use super::connect::{check_connection, CONNECT_TIMEOUT};
use anyhow::Context;
use clap::Args;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Settings of `alerts`.
#[derive(Debug, Args)]
pub struct AlertsArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The topic to print.
    #[arg(long, env = "NVM_ALERTS_TOPIC", default_value = "nvm.alerts")]
    pub topic: String,
    /// Only alerts of this status (new, update or final).
    #[arg(long)]
    pub status: Option<String>,
    /// Stop once every partition is read to its end (ms to wait for more).
    #[arg(long, default_value_t = 1000)]
    pub idle_ms: u64,
}

/// A message read back from a topic.
#[derive(Debug, Clone)]
pub struct ReadMessage {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub payload: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

impl ReadMessage {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads every committed message of `topic` from the beginning until each
/// partition is at its end and `idle` passed with nothing new.
///
/// # Errors
/// Connection or metadata failures.
pub fn read_topic(
    client: &ClientArgs,
    topic: &str,
    idle: Duration,
) -> anyhow::Result<Vec<ReadMessage>> {
    let config = client.consumer_config(|config| {
        config
            .set(
                "group.id",
                format!("nvm-detector-reader-{}", std::process::id()),
            )
            .set("enable.auto.commit", "false")
            .set("isolation.level", "read_committed")
            .set("enable.partition.eof", "true")
            .set("fetch.wait.max.ms", "50");
    })?;
    let consumer: BaseConsumer<QuietEof> = config
        .create_with_context(QuietEof)
        .context("creating a reader")?;

    let partitions = super::topics::partition_ids(&consumer, topic)?;
    if partitions.is_empty() {
        anyhow::bail!("topic {topic} does not exist or has no partitions");
    }
    let mut list = TopicPartitionList::new();
    for p in &partitions {
        list.add_partition_offset(topic, *p, Offset::Beginning)?;
    }
    consumer.assign(&list)?;

    let mut at_end = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut last = Instant::now();
    loop {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                at_end.remove(&m.partition());
                last = Instant::now();
                out.push(read_message(&m));
            }
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                at_end.insert(p);
            }
            Some(Err(e)) => return Err(e).context("reading the topic"),
            None => {}
        }
        if at_end.len() == partitions.len() && last.elapsed() >= idle {
            return Ok(out);
        }
    }
}

fn read_message<M: Message>(m: &M) -> ReadMessage {
    let headers = m
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| {
                    let value = h.value.map(|v| String::from_utf8_lossy(v).into_owned());
                    (h.key.to_owned(), value.unwrap_or_default())
                })
                .collect()
        })
        .unwrap_or_default();
    ReadMessage {
        partition: m.partition(),
        offset: m.offset(),
        key: m.key().map(<[u8]>::to_vec),
        payload: m.payload().unwrap_or_default().to_vec(),
        headers,
    }
}

/// `nvm-detector alerts`.
///
/// # Errors
/// As [`read_topic`], or a broken stdout.
pub fn run(args: AlertsArgs) -> anyhow::Result<ExitCode> {
    check_connection(&args.client, &args.topic, CONNECT_TIMEOUT)?;
    let messages = read_topic(
        &args.client,
        &args.topic,
        Duration::from_millis(args.idle_ms),
    )?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for m in messages {
        let wanted = args
            .status
            .as_deref()
            .is_none_or(|s| m.header(super::output::header::ALERT_STATUS) == Some(s));
        if wanted {
            out.write_all(&m.payload)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

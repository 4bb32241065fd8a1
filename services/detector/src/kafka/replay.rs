//! `nvm-detector replay`: publishes files of NVM records to a topic, one
//! message per line, at a chosen rate. Lines are sent as they are, broken
//! ones included, so that the detector's dead-letter path sees them too.

use super::client::ClientArgs;
use super::connect::{check_connection, CONNECT_TIMEOUT};
use crate::decode::{decode, DecodeOptions};
use anyhow::Context;
use clap::Args;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use std::collections::VecDeque;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tracing::info;

/// Settings of `replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Topic to publish to.
    #[arg(long, env = "NVM_INPUT_TOPIC", default_value = "nvm.flows")]
    pub topic: String,
    /// Records per second; 0 sends as fast as the broker takes them.
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Field whose value keys each message (so one host's records share a
    /// partition); `none` for unkeyed messages. Undecodable lines are unkeyed.
    #[arg(long, default_value = "src")]
    pub key_field: String,
    /// Files of records, one per line.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Deliveries in flight before the sender waits for the oldest.
const MAX_IN_FLIGHT: usize = 50_000;

/// Publishes the files.
///
/// # Errors
/// Unreadable files or a record the broker did not accept.
pub fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    check_connection(&args.client, &args.topic, CONNECT_TIMEOUT)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let sent = runtime.block_on(replay(&args))?;
    info!(records = sent, topic = %args.topic, "replay done");
    Ok(ExitCode::SUCCESS)
}

async fn replay(args: &ReplayArgs) -> anyhow::Result<u64> {
    let config = args.client.producer_config(|config| {
        config
            .set("enable.idempotence", "true")
            .set("linger.ms", "20")
            .set("compression.type", "lz4");
    })?;
    let producer: FutureProducer = config.create().context("creating the Kafka producer")?;

    let started = Instant::now();
    let mut in_flight = VecDeque::new();
    let mut sent = 0u64;
    for path in &args.files {
        let file =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        for line in std::io::BufReader::new(file).split(b'\n') {
            let mut line = line.with_context(|| format!("reading {}", path.display()))?;
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            pace(args.rate, sent, started).await;
            let key = key_of(&line, &args.key_field);
            send(
                &producer,
                &args.topic,
                key.as_deref(),
                &line,
                &mut in_flight,
            )
            .await?;
            sent += 1;
        }
    }
    for delivery in in_flight {
        confirm(delivery).await?;
    }
    producer.flush(Duration::from_secs(30))?;
    Ok(sent)
}

/// Sleeps until the schedule allows record number `sent`.
async fn pace(rate: u64, sent: u64, started: Instant) {
    if rate == 0 {
        return;
    }
    let due = Duration::from_secs_f64(sent as f64 / rate as f64);
    let elapsed = started.elapsed();
    if due > elapsed + Duration::from_millis(2) {
        tokio::time::sleep(due - elapsed).await;
    }
}

fn key_of(line: &[u8], field: &str) -> Option<Vec<u8>> {
    if field == "none" {
        return None;
    }
    let record = decode(line, &DecodeOptions::default()).ok()?;
    record.first(field).map(|v| v.as_bytes().to_vec())
}

async fn send(
    producer: &FutureProducer,
    topic: &str,
    key: Option<&[u8]>,
    payload: &[u8],
    in_flight: &mut VecDeque<DeliveryFuture>,
) -> anyhow::Result<()> {
    let mut record = FutureRecord::to(topic).payload(payload);
    if let Some(key) = key {
        record = record.key(key);
    }
    loop {
        if in_flight.len() >= MAX_IN_FLIGHT {
            if let Some(oldest) = in_flight.pop_front() {
                confirm(oldest).await?;
            }
        }
        match producer.send_result(record) {
            Ok(delivery) => {
                in_flight.push_back(delivery);
                return Ok(());
            }
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                match in_flight.pop_front() {
                    Some(oldest) => confirm(oldest).await?,
                    None => tokio::time::sleep(Duration::from_millis(5)).await,
                }
            }
            Err((e, _)) => return Err(e).context("queueing a record"),
        }
    }
}

async fn confirm(delivery: DeliveryFuture) -> anyhow::Result<()> {
    match delivery.await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((e, _))) => Err(e).context("a record was not delivered"),
        Err(_) => anyhow::bail!("the producer dropped a record"),
    }
}

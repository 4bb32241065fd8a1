//! Topic creation: `nvm-detector topics`, and the output topics `run`
//! creates when they are missing.

use super::client::ClientArgs;
use super::connect::{check_connection, CONNECT_TIMEOUT};
use super::stream::TopicNames;
use anyhow::Context;
use clap::Args;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;
use std::process::ExitCode;
use std::time::Duration;
use tracing::info;

/// Settings of `topics`.
#[derive(Debug, Args)]
pub struct TopicsArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub topics: TopicNames,
    /// Partitions of the input topic (and of the dead-letter and late
    /// topics, which mirror it).
    #[arg(long, default_value_t = 6)]
    pub partitions: i32,
    /// Partitions of the alerts topic.
    #[arg(long, default_value_t = 3)]
    pub alert_partitions: i32,
    /// Replication factor of every topic.
    #[arg(long, default_value_t = 1)]
    pub replication: i32,
}

/// A topic to create.
#[derive(Debug, Clone)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    pub replication: i32,
    /// Log compaction: keep the latest record per key (state changelogs).
    pub compacted: bool,
}

/// `nvm-detector topics`: creates every topic that does not exist yet.
///
/// # Errors
/// A topic that cannot be created for a reason other than existing already.
pub fn run(args: TopicsArgs) -> anyhow::Result<ExitCode> {
    if args.partitions < 1 || args.alert_partitions < 1 || args.replication < 1 {
        anyhow::bail!("--partitions, --alert-partitions and --replication must be at least 1");
    }
    check_connection(&args.client, &args.topics.input_topic, CONNECT_TIMEOUT)?;
    let t = &args.topics;
    let spec = |name: &str, partitions| TopicSpec {
        name: name.to_owned(),
        partitions,
        replication: args.replication,
        compacted: false,
    };
    let specs = [
        spec(&t.input_topic, args.partitions),
        spec(&t.alerts_topic, args.alert_partitions),
        spec(&t.dlq_topic, args.partitions),
        spec(&t.late_topic, args.partitions),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(create(&args.client, &specs))?;
    Ok(ExitCode::SUCCESS)
}

/// Creates the topics that do not exist; existing ones are left as they are.
///
/// # Errors
/// Any creation failure other than "already exists".
pub async fn create(client: &ClientArgs, specs: &[TopicSpec]) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = client
        .admin_config()?
        .create()
        .context("creating the Kafka admin client")?;
    let new: Vec<NewTopic<'_>> = specs
        .iter()
        .map(|s| {
            let topic = NewTopic::new(
                &s.name,
                s.partitions,
                TopicReplication::Fixed(s.replication),
            );
            if s.compacted {
                topic.set("cleanup.policy", "compact")
            } else {
                topic
            }
        })
        .collect();
    let options = AdminOptions::new()
        .operation_timeout(Some(Duration::from_secs(30)))
        .request_timeout(Some(Duration::from_secs(30)));
    let results = admin
        .create_topics(&new, &options)
        .await
        .context("creating topics")?;
    for result in results {
        match result {
            Ok(name) => info!(topic = %name, "topic created"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => anyhow::bail!("creating topic {name}: {code}"),
        }
    }
    Ok(())
}

/// The detector's output topics, created with one partition each when
/// missing (a deployment that cares creates them itself, sized).
///
/// # Errors
/// As [`create`].
pub async fn ensure_outputs(client: &ClientArgs, topics: &TopicNames) -> anyhow::Result<()> {
    let specs: Vec<TopicSpec> = [&topics.alerts_topic, &topics.dlq_topic, &topics.late_topic]
        .into_iter()
        .map(|name| TopicSpec {
            name: name.clone(),
            partitions: 1,
            replication: 1,
            compacted: false,
        })
        .collect();
    create(client, &specs).await
}

/// The number of partitions of a topic, `None` when it does not exist.
///
/// # Errors
/// The cluster's metadata cannot be read.
pub fn partition_count(client: &ClientArgs, topic: &str) -> anyhow::Result<Option<i32>> {
    let consumer: rdkafka::consumer::BaseConsumer = client
        .consumer_config(|_| {})?
        .create()
        .context("creating a metadata client")?;
    let ids = partition_ids(&consumer, topic)?;
    Ok((!ids.is_empty()).then_some(ids.len() as i32))
}

/// The partition ids of a topic, empty when it does not exist.
///
/// # Errors
/// The cluster's metadata cannot be read.
pub fn partition_ids<C: rdkafka::consumer::ConsumerContext>(
    consumer: &rdkafka::consumer::BaseConsumer<C>,
    topic: &str,
) -> anyhow::Result<Vec<i32>> {
    use rdkafka::consumer::Consumer;
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(30))
        .with_context(|| format!("reading the metadata of {topic}"))?;
    Ok(metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic && t.error().is_none())
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect())
}

/// Creates an internal topic with `partitions` partitions, or checks that
/// the existing one has exactly that many: state partitions map one to one.
///
/// # Errors
/// Creation fails, or the topic exists with another partition count.
pub async fn ensure_internal(client: &ClientArgs, spec: TopicSpec) -> anyhow::Result<()> {
    match partition_count(client, &spec.name)? {
        Some(n) if n == spec.partitions => Ok(()),
        Some(n) => anyhow::bail!(
            "internal topic {} has {n} partitions but needs {}: it must match the partitions of              the topic the state is kept for (delete it or use another --group-id)",
            spec.name,
            spec.partitions
        ),
        None => create(client, &[spec]).await,
    }
}

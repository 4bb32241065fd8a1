package nvm.peer;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.StreamPartitioner;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * The rclone detection as a Kafka Streams application, for the benchmark
 * suite: decode, filter, group by the rule's BY fields in tumbling one-hour
 * event-time windows (epoch-aligned, ten minutes of grace), and publish each
 * group's final row when its window closes, with exactly-once processing.
 *
 * <p>Runs until it has taken {@code --expect} input records through the
 * filter, then (after {@code --linger-ms}, for rows still on their way)
 * closes, committing, and prints one JSON line of timings on stdout: when
 * it first ran (tasks assigned), when every record was through, and when it
 * had closed, in seconds from the start of {@code main}.
 */
public final class Main {
    private Main() {}

    /** Input messages that are not usable records (dropped at the source). */
    static final AtomicLong INVALID = new AtomicLong();

    /** When the application first reached RUNNING (its tasks assigned), or 0. */
    static final AtomicLong RUNNING_NS = new AtomicLong();

    public static void main(String[] argv) throws InterruptedException {
        long startedNs = System.nanoTime();
        Map<String, String> args = parse(argv);
        long expect = Long.parseLong(args.getOrDefault("expect", "0"));
        long lingerMs = Long.parseLong(args.getOrDefault("linger-ms", "0"));
        long timeoutMs = Long.parseLong(args.getOrDefault("timeout-secs", "1800")) * 1000;

        Topology topology = topology(args.get("input"), args.get("output"));
        KafkaStreams streams = new KafkaStreams(topology, properties(args));
        streams.setUncaughtExceptionHandler(
                e -> {
                    System.err.println("streams-peer: stream thread failed: " + e);
                    return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler
                            .StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
                });
        streams.setStateListener(
                (now, before) -> {
                    if (now == KafkaStreams.State.RUNNING) {
                        RUNNING_NS.compareAndSet(0, System.nanoTime());
                    }
                });
        streams.start();

        long doneNs = 0;
        boolean timedOut = false;
        while (true) {
            long seen = DetectProcessor.PROCESSED.get() + INVALID.get();
            if (expect > 0 && seen >= expect) {
                doneNs = System.nanoTime();
                break;
            }
            if (streams.state() == KafkaStreams.State.ERROR
                    || streams.state() == KafkaStreams.State.NOT_RUNNING
                    || (System.nanoTime() - startedNs) / 1_000_000 > timeoutMs) {
                timedOut = true;
                break;
            }
            Thread.sleep(5);
        }
        if (lingerMs > 0 && !timedOut) {
            Thread.sleep(lingerMs);
        }
        // Leaving the group lets the suite delete it at once; otherwise its
        // members linger until their session times out.
        streams.close(new KafkaStreams.CloseOptions().timeout(Duration.ofSeconds(120)).leaveGroup(true));
        long closedNs = System.nanoTime();
        streams.cleanUp();

        long runningNs = RUNNING_NS.get();
        System.out.printf(
                "{\"records\":%d,\"invalid\":%d,\"done\":%s,\"running_s\":%.3f,\"done_s\":%.3f,"
                        + "\"closed_s\":%.3f}%n",
                DetectProcessor.PROCESSED.get(),
                INVALID.get(),
                !timedOut,
                (runningNs == 0 ? 0 : runningNs - startedNs) / 1e9,
                (doneNs == 0 ? 0 : doneNs - startedNs) / 1e9,
                (closedNs - startedNs) / 1e9);
        System.exit(timedOut ? 1 : 0);
    }

    static Topology topology(String input, String output) {
        Duration window = Duration.ofHours(1);
        Duration grace = Duration.ofMinutes(10);
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(
                        input,
                        Consumed.with(Serdes.ByteArray(), Codec.flows())
                                .withTimestampExtractor(new EventTime()))
                .process(() -> new DetectProcessor(window.toMillis(), grace.toMillis()))
                .repartition(
                        Repartitioned.with(Codec.groupKeys(), Codec.aggregates())
                                .withName("groups")
                                .withStreamPartitioner(new GroupPartitioner()))
                .groupByKey(Grouped.with(Codec.groupKeys(), Codec.aggregates()))
                .windowedBy(TimeWindows.ofSizeAndGrace(window, grace))
                .aggregate(
                        Aggregate::new,
                        (key, one, agg) -> agg.add(one),
                        Materialized.with(Codec.groupKeys(), Codec.aggregates()))
                .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
                .toStream()
                .filter((windowed, agg) -> !windowed.key().heartbeat)
                .map(
                        (windowed, agg) ->
                                KeyValue.pair(
                                        String.join("|", windowed.key().values),
                                        Rows.json(windowed.key(), agg)))
                .to(output, Produced.with(Serdes.String(), Serdes.String()));
        return builder.build();
    }

    static Properties properties(Map<String, String> args) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, args.get("app-id"));
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args.getOrDefault("bootstrap", "127.0.0.1:9092"));
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, args.getOrDefault("threads", "2"));
        props.put(StreamsConfig.STATE_DIR_CONFIG, args.get("state-dir"));
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        return props;
    }

    /** Event time: the decoded record's; -1 (skipped by Streams) for unusable messages. */
    static final class EventTime implements TimestampExtractor {
        @Override
        public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
            if (record.value() instanceof Flow) {
                return ((Flow) record.value()).eventMs;
            }
            INVALID.incrementAndGet();
            return -1;
        }
    }

    /** Groups by hash of their key; the heartbeat goes to every partition. */
    static final class GroupPartitioner implements StreamPartitioner<GroupKey, Aggregate> {
        @Override
        public Optional<Set<Integer>> partitions(String topic, GroupKey key, Aggregate value, int n) {
            if (key.heartbeat) {
                Set<Integer> all = new HashSet<>();
                for (int p = 0; p < n; p++) {
                    all.add(p);
                }
                return Optional.of(all);
            }
            int hash = Utils.toPositive(Utils.murmur2(Codec.groupKeyBytes(key)));
            return Optional.of(Set.of(hash % n));
        }
    }

    /** {@code --name value} pairs. */
    private static Map<String, String> parse(String[] argv) {
        Map<String, String> args = new HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            if (!argv[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --name value, got " + argv[i]);
            }
            args.put(argv[i].substring(2), argv[i + 1]);
        }
        for (String required : new String[] {"input", "output", "app-id", "state-dir"}) {
            if (!args.containsKey(required)) {
                throw new IllegalArgumentException("missing --" + required);
            }
        }
        return args;
    }
}

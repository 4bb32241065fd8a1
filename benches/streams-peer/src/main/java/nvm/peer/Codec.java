package nvm.peer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Serdes of the topology: flow records in (decoded once, by the source), and
 * compact binary group keys and aggregates for the repartition topic, the
 * window store and its changelog.
 */
final class Codec {
    private Codec() {}

    /** Input values: decoded at the source; {@code null} for unusable messages. */
    static Serde<Flow> flows() {
        Serializer<Flow> unused =
                (topic, flow) -> {
                    throw new UnsupportedOperationException("flows are only read");
                };
        Deserializer<Flow> decode = (topic, bytes) -> Decoder.decode(bytes);
        return Serdes.serdeFrom(unused, decode);
    }

    static Serde<GroupKey> groupKeys() {
        Serializer<GroupKey> write = (topic, key) -> key == null ? null : groupKeyBytes(key);
        Deserializer<GroupKey> read =
                (topic, bytes) -> {
                    if (bytes == null) {
                        return null;
                    }
                    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
                        if (in.readBoolean()) {
                            return GroupKey.HEARTBEAT;
                        }
                        return GroupKey.of(readStrings(in));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                };
        return Serdes.serdeFrom(write, read);
    }

    /** A group key's bytes; the partitioner hashes the same bytes. */
    static byte[] groupKeyBytes(GroupKey key) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeBoolean(key.heartbeat);
            writeStrings(out, key.values);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static Serde<Aggregate> aggregates() {
        Serializer<Aggregate> write =
                (topic, agg) -> {
                    if (agg == null) {
                        return null;
                    }
                    ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
                    try (DataOutputStream out = new DataOutputStream(bytes)) {
                        out.writeLong(agg.count);
                        out.writeLong(agg.minMs);
                        out.writeLong(agg.maxMs);
                        out.writeInt(agg.values.size());
                        for (Set<String> set : agg.values) {
                            writeStrings(out, new ArrayList<>(set));
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    return bytes.toByteArray();
                };
        Deserializer<Aggregate> read =
                (topic, bytes) -> {
                    if (bytes == null) {
                        return null;
                    }
                    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
                        Aggregate agg = new Aggregate();
                        agg.count = in.readLong();
                        agg.minMs = in.readLong();
                        agg.maxMs = in.readLong();
                        int sets = in.readInt();
                        for (int i = 0; i < sets; i++) {
                            agg.values.get(i).addAll(readStrings(in));
                        }
                        return agg;
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                };
        return Serdes.serdeFrom(write, read);
    }

    private static void writeStrings(DataOutputStream out, List<String> strings) throws IOException {
        out.writeInt(strings.size());
        for (String s : strings) {
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            out.writeInt(utf8.length);
            out.write(utf8);
        }
    }

    private static List<String> readStrings(DataInputStream in) throws IOException {
        int n = in.readInt();
        List<String> strings = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byte[] utf8 = new byte[in.readInt()];
            in.readFully(utf8);
            strings.add(new String(utf8, StandardCharsets.UTF_8));
        }
        return strings;
    }
}

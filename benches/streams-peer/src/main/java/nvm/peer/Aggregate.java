package nvm.peer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;

/**
 * One group's running {@code stats}: {@code count}, {@code min(_time)},
 * {@code max(_time)} and the rule's {@code values(...)} aggregations. A
 * contribution (what one record adds) is an aggregate of that one record, so
 * both travel with the same serde.
 */
public final class Aggregate {
    /**
     * Splunk's values() sorts in string order; the detector sorts by UTF-8
     * bytes, which is code point order (String.compareTo is UTF-16 order).
     */
    static final Comparator<String> CODE_POINT_ORDER =
            (a, b) -> {
                int n = Math.min(a.length(), b.length());
                int i = 0;
                while (i < n) {
                    int ca = a.codePointAt(i);
                    int cb = b.codePointAt(i);
                    if (ca != cb) {
                        return Integer.compare(ca, cb);
                    }
                    i += Character.charCount(ca);
                }
                return Integer.compare(a.length(), b.length());
            };

    public long count;
    public long minMs = Long.MAX_VALUE;
    public long maxMs = Long.MIN_VALUE;
    /** One sorted set of distinct values per values() aggregation, in stats order. */
    public final List<TreeSet<String>> values = new ArrayList<>(Fields.VALUES.length);

    public Aggregate() {
        for (int i = 0; i < Fields.VALUES.length; i++) {
            values.add(new TreeSet<>(CODE_POINT_ORDER));
        }
    }

    /** What one record adds to its group. */
    static Aggregate of(Flow flow) {
        Aggregate one = new Aggregate();
        one.count = 1;
        one.minMs = flow.eventMs;
        one.maxMs = flow.eventMs;
        for (int i = 0; i < Fields.VALUES.length; i++) {
            List<String> field = flow.get(Fields.VALUES[i]);
            if (field != null) {
                one.values.get(i).addAll(field);
            }
        }
        return one;
    }

    /** A heartbeat contributes nothing but its timestamp. */
    static Aggregate heartbeat(long timeMs) {
        Aggregate beat = new Aggregate();
        beat.minMs = timeMs;
        beat.maxMs = timeMs;
        return beat;
    }

    /** Folds another aggregate in; returns this. */
    Aggregate add(Aggregate other) {
        count += other.count;
        minMs = Math.min(minMs, other.minMs);
        maxMs = Math.max(maxMs, other.maxMs);
        for (int i = 0; i < values.size(); i++) {
            values.get(i).addAll(other.values.get(i));
        }
        return this;
    }
}

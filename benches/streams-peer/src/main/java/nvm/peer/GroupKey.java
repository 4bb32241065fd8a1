package nvm.peer;

import java.util.List;

/**
 * The BY values of a group, in BY order; or the heartbeat, a key of its own
 * that carries stream time to the aggregation (see {@link DetectProcessor}).
 */
public final class GroupKey {
    /** The BY values; empty for the heartbeat. */
    public final List<String> values;

    public final boolean heartbeat;

    private GroupKey(List<String> values, boolean heartbeat) {
        this.values = values;
        this.heartbeat = heartbeat;
    }

    public static final GroupKey HEARTBEAT = new GroupKey(List.of(), true);

    public static GroupKey of(List<String> values) {
        return new GroupKey(List.copyOf(values), false);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GroupKey
                && ((GroupKey) o).heartbeat == heartbeat
                && ((GroupKey) o).values.equals(values);
    }

    @Override
    public int hashCode() {
        return values.hashCode() * 31 + (heartbeat ? 1 : 0);
    }
}

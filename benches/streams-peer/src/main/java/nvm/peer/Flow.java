package nvm.peer;

import java.util.List;

/**
 * The fields of one decoded NVM flow record that the rclone detection reads,
 * plus its event time. Every slot holds the field's values (almost always
 * one) or {@code null} when the field is absent.
 */
public final class Flow {
    /** Event time in epoch milliseconds: {@code fsms}, else {@code fss * 1000}. */
    public final long eventMs;
    /** Values by {@link Fields} slot; {@code null} means absent. */
    public final List<String>[] slots;

    Flow(long eventMs, List<String>[] slots) {
        this.eventMs = eventMs;
        this.slots = slots;
    }

    /** The values of a slot, or {@code null} when absent. */
    public List<String> get(int slot) {
        return slots[slot];
    }
}

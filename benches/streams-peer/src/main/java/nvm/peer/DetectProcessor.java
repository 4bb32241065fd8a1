package nvm.peer;

import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Per input task: filters records with the rule and keys each match by its
 * group, forwarding what it adds to the group's aggregate.
 *
 * <p>It also forwards a heartbeat whenever the task's event time crosses a
 * point where some window closes (window end plus grace). A window closes
 * when stream time passes that point, and in the detector the time of every
 * record counts, matching or not; but only matches would reach the
 * aggregation after the repartition, so without heartbeats a window would
 * stay open until the next match. One heartbeat per hour of event time per
 * task costs nothing measurable.
 */
final class DetectProcessor implements Processor<byte[], Flow, GroupKey, Aggregate> {
    /** Records this process has run through the filter, over all tasks. */
    static final AtomicLong PROCESSED = new AtomicLong();

    private final long windowMs;
    private final long graceMs;
    private ProcessorContext<GroupKey, Aggregate> context;
    /** Closing points crossed so far by this task's records. */
    private long lastClosingPoint = Long.MIN_VALUE;

    DetectProcessor(long windowMs, long graceMs) {
        this.windowMs = windowMs;
        this.graceMs = graceMs;
    }

    @Override
    public void init(ProcessorContext<GroupKey, Aggregate> context) {
        this.context = context;
    }

    @Override
    public void process(Record<byte[], Flow> record) {
        Flow flow = record.value();
        if (flow != null) {
            if (RcloneRule.matches(flow)) {
                Aggregate one = Aggregate.of(flow);
                for (GroupKey key : RcloneRule.groupKeys(flow)) {
                    context.forward(record.withKey(key).withValue(one));
                }
            }
            beat(record);
        }
        PROCESSED.incrementAndGet();
    }

    private void beat(Record<byte[], Flow> record) {
        long closingPoint = Math.floorDiv(record.timestamp() - graceMs, windowMs);
        if (closingPoint <= lastClosingPoint) {
            return;
        }
        lastClosingPoint = closingPoint;
        Aggregate beat = Aggregate.heartbeat(record.timestamp());
        context.forward(record.withKey(GroupKey.HEARTBEAT).withValue(beat));
    }
}

package nvm.peer;

import java.util.ArrayList;
import java.util.List;

/**
 * The base search of "Cisco NVM - Rclone Execution With Network Activity"
 * (rules/detections/cisco_nvm_rclone_execution_with_network_activity.yml),
 * transcribed by hand:
 *
 * <pre>
 * sourcetype="cisco:nvm:flowdata*"
 * ( process_name="rclone.exe"
 *   OR ( process_arguments="* copy *" process_arguments="*\\\\*"
 *        process_arguments IN ("*remote:*", "*mega:*", "*ftp:*", "*ftp1:*") )
 *   OR ( process_arguments IN ("*remote:*", "*mega:*", "*ftp:*", "*ftp1:*")
 *        process_arguments="*--transfers" process_arguments="*--ignore-existing*"
 *        process_arguments="*--auto-confirm*" ) )
 * </pre>
 *
 * <p>Every decoded record has an NVM sourcetype, so the first term always
 * holds. In the quoted search string {@code \\} is one backslash: the
 * pattern {@code *\\*} means "contains two consecutive backslashes".
 */
final class RcloneRule {
    private RcloneRule() {}

    private static final Wildcard RCLONE = new Wildcard("rclone.exe");
    private static final Wildcard COPY = new Wildcard("* copy *");
    private static final Wildcard UNC = new Wildcard("*\\\\*");
    private static final Wildcard TRANSFERS = new Wildcard("*--transfers");
    private static final Wildcard IGNORE_EXISTING = new Wildcard("*--ignore-existing*");
    private static final Wildcard AUTO_CONFIRM = new Wildcard("*--auto-confirm*");
    private static final Wildcard[] REMOTES = {
        new Wildcard("*remote:*"), new Wildcard("*mega:*"), new Wildcard("*ftp:*"), new Wildcard("*ftp1:*"),
    };

    /** Whether the record passes the rule's filter. */
    static boolean matches(Flow flow) {
        if (RCLONE.matchesAny(flow.get(Fields.PROCESS_NAME))) {
            return true;
        }
        List<String> args = flow.get(Fields.PROCESS_ARGUMENTS);
        if (args == null) {
            return false;
        }
        if (COPY.matchesAny(args) && UNC.matchesAny(args) && anyRemote(args)) {
            return true;
        }
        return anyRemote(args)
                && TRANSFERS.matchesAny(args)
                && IGNORE_EXISTING.matchesAny(args)
                && AUTO_CONFIRM.matchesAny(args);
    }

    private static boolean anyRemote(List<String> args) {
        for (Wildcard remote : REMOTES) {
            if (remote.matchesAny(args)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The group keys of a matching record: one per combination of BY values
     * (a multivalue BY field splits the record, as in Splunk), or none when a
     * BY field is missing, for then Splunk puts the record in no row.
     */
    static List<GroupKey> groupKeys(Flow flow) {
        List<List<String>> keys = new ArrayList<>();
        keys.add(new ArrayList<>(Fields.BY.length));
        for (int slot : Fields.BY) {
            List<String> values = flow.get(slot);
            if (values == null) {
                return List.of();
            }
            if (slot == Fields.PROTOCOL) {
                // transport: derived from the first protocol number.
                values = List.of(Fields.transport(values.get(0)));
            }
            if (values.size() == 1) {
                for (List<String> key : keys) {
                    key.add(values.get(0));
                }
                continue;
            }
            List<List<String>> split = new ArrayList<>(keys.size() * values.size());
            for (List<String> key : keys) {
                for (String value : values) {
                    List<String> longer = new ArrayList<>(key);
                    longer.add(value);
                    split.add(longer);
                }
            }
            keys = split;
        }
        List<GroupKey> out = new ArrayList<>(keys.size());
        for (List<String> key : keys) {
            out.add(GroupKey.of(key));
        }
        return out;
    }
}

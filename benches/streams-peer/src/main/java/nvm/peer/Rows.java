package nvm.peer;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Set;

/**
 * A closed group as the rule's result row, in the columns and order of its
 * {@code table} command, as one JSON object: BY values as strings, values()
 * as sorted arrays of distinct strings, and firstTime/lastTime as
 * {@code %Y-%m-%dT%H:%M:%S} (UTC) of the least and greatest event second.
 */
final class Rows {
    private Rows() {}

    private static final DateTimeFormatter CTIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);

    /** The rule's table columns, in order. */
    private static final String[] TABLE = {
        "parent_process_integrity_level", "parent_process_path", "parent_process_arguments",
        "parent_process_hash", "process_integrity_level", "process_path", "process_name",
        "process_arguments", "process_hash", "process_id", "additional_logged_in_users_list",
        "module_name_list", "module_hash_list", "src", "dest_hostname", "dest", "dest_port",
        "transport", "firstTime", "lastTime",
    };

    static String json(GroupKey key, Aggregate agg) {
        StringBuilder out = new StringBuilder(1024).append('{');
        for (int i = 0; i < TABLE.length; i++) {
            if (i > 0) {
                out.append(',');
            }
            string(out, TABLE[i]);
            out.append(':');
            column(out, TABLE[i], key, agg);
        }
        return out.append('}').toString();
    }

    private static void column(StringBuilder out, String name, GroupKey key, Aggregate agg) {
        if (name.equals("firstTime")) {
            string(out, ctime(agg.minMs));
            return;
        }
        if (name.equals("lastTime")) {
            string(out, ctime(agg.maxMs));
            return;
        }
        for (int i = 0; i < Fields.BY_COLUMNS.length; i++) {
            if (Fields.BY_COLUMNS[i].equals(name)) {
                string(out, key.values.get(i));
                return;
            }
        }
        for (int i = 0; i < Fields.VALUES_COLUMNS.length; i++) {
            if (Fields.VALUES_COLUMNS[i].equals(name)) {
                array(out, agg.values.get(i));
                return;
            }
        }
        out.append("null");
    }

    /** Epoch milliseconds to text, fractions of the second dropped. */
    static String ctime(long ms) {
        return CTIME.format(Instant.ofEpochSecond(Math.floorDiv(ms, 1000)));
    }

    private static void array(StringBuilder out, Set<String> values) {
        out.append('[');
        boolean first = true;
        for (String v : values) {
            if (!first) {
                out.append(',');
            }
            first = false;
            string(out, v);
        }
        out.append(']');
    }

    static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"':
                    out.append("\\\"");
                    break;
                case '\\':
                    out.append("\\\\");
                    break;
                case '\n':
                    out.append("\\n");
                    break;
                case '\r':
                    out.append("\\r");
                    break;
                case '\t':
                    out.append("\\t");
                    break;
                default:
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
            }
        }
        out.append('"');
    }
}

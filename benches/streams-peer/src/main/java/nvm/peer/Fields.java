package nvm.peer;

import java.util.HashMap;
import java.util.Map;

/**
 * The fields the rclone detection reads, as slots, and which wire keys fill
 * them. A slot is filled by its native NVM key or by its normalised (CIM)
 * name; when a record carries both, the later one in the record wins, as in
 * the detector, whose record map is filled in record order.
 */
public final class Fields {
    private Fields() {}

    // BY fields, in the rule's BY order.
    public static final int SRC = 0;
    public static final int DEST = 1;
    public static final int PARENT_PROCESS_PATH = 2;
    public static final int PARENT_PROCESS_INTEGRITY_LEVEL = 3;
    public static final int PROCESS_PATH = 4;
    public static final int PROCESS_NAME = 5;
    public static final int PROCESS_INTEGRITY_LEVEL = 6;
    public static final int PROCESS_ID = 7;
    /** The IP protocol number; {@code transport} is derived from it. */
    public static final int PROTOCOL = 8;

    // Fields of values() aggregations, in the rule's stats order.
    public static final int PARENT_PROCESS_ARGUMENTS = 9;
    public static final int PROCESS_ARGUMENTS = 10;
    public static final int PARENT_PROCESS_HASH = 11;
    public static final int PROCESS_HASH = 12;
    public static final int MODULE_NAME_LIST = 13;
    public static final int MODULE_HASH_LIST = 14;
    public static final int DEST_PORT = 15;
    public static final int ALIUL = 16;
    public static final int DEST_HOSTNAME = 17;

    public static final int COUNT = 18;

    /** The slots of the BY fields, in BY order ({@code transport} last). */
    public static final int[] BY = {
        SRC, DEST, PARENT_PROCESS_PATH, PARENT_PROCESS_INTEGRITY_LEVEL, PROCESS_PATH,
        PROCESS_NAME, PROCESS_INTEGRITY_LEVEL, PROCESS_ID, PROTOCOL,
    };

    /** The output column of each BY field, in BY order. */
    public static final String[] BY_COLUMNS = {
        "src", "dest", "parent_process_path", "parent_process_integrity_level", "process_path",
        "process_name", "process_integrity_level", "process_id", "transport",
    };

    /** The slots of the values() aggregations, in stats order. */
    public static final int[] VALUES = {
        PARENT_PROCESS_ARGUMENTS, PROCESS_ARGUMENTS, PARENT_PROCESS_HASH, PROCESS_HASH,
        MODULE_NAME_LIST, MODULE_HASH_LIST, DEST_PORT, ALIUL, DEST_HOSTNAME,
    };

    /** The output column of each values() aggregation, in stats order. */
    public static final String[] VALUES_COLUMNS = {
        "parent_process_arguments", "process_arguments", "parent_process_hash", "process_hash",
        "module_name_list", "module_hash_list", "dest_port", "additional_logged_in_users_list",
        "dest_hostname",
    };

    /** Wire key to slot: native keys and their normalised names. */
    private static final Map<String, Integer> KEYS = new HashMap<>();

    static {
        key(SRC, "sa", "src");
        key(DEST, "da", "dest");
        key(PARENT_PROCESS_PATH, "pppath", "parent_process_path");
        key(PARENT_PROCESS_INTEGRITY_LEVEL, "ppil", "parent_process_integrity_level");
        key(PROCESS_PATH, "ppath", "process_path");
        key(PROCESS_NAME, "pn", "process_name");
        key(PROCESS_INTEGRITY_LEVEL, "pil", "process_integrity_level");
        key(PROCESS_ID, "pid", "process_id");
        key(PROTOCOL, "pr");
        key(PARENT_PROCESS_ARGUMENTS, "pparg", "parent_process_arguments");
        key(PROCESS_ARGUMENTS, "parg", "process_arguments");
        key(PARENT_PROCESS_HASH, "pph", "parent_process_hash");
        key(PROCESS_HASH, "ph", "process_hash");
        key(MODULE_NAME_LIST, "mnl", "module_name_list");
        key(MODULE_HASH_LIST, "mhl", "module_hash_list");
        key(DEST_PORT, "dp", "dest_port");
        key(ALIUL, "aliul");
        key(DEST_HOSTNAME, "dh", "dest_hostname");
    }

    private static void key(int slot, String... names) {
        for (String name : names) {
            KEYS.put(name, slot);
        }
    }

    /** The slot a wire key fills, or -1 when the detection does not read it. */
    public static int slotOf(String key) {
        Integer slot = KEYS.get(key);
        return slot == null ? -1 : slot;
    }

    /** The transport name of an IP protocol number; others keep the number. */
    public static String transport(String protocol) {
        switch (protocol) {
            case "6":
                return "tcp";
            case "17":
                return "udp";
            case "1":
            case "58":
                return "icmp";
            default:
                return protocol;
        }
    }
}

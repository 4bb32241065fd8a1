package nvm.peer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Bytes to a {@link Flow}, for both encodings of NVM flow records, with the
 * detector's rules (docs/nvm-format.md): a flat JSON object, or key="value"
 * pairs behind syslog headers where {@code \"} is a quote, every other
 * backslash is literal, and {@code ''} or {@code '} mean empty. A message that
 * is not a usable record decodes to {@code null}.
 */
public final class Decoder {
    private Decoder() {}

    /** The detector's default limit: larger messages are dead-lettered unread. */
    static final int MAX_RECORD_BYTES = 64 * 1024;

    private static final ThreadLocal<CharsetDecoder> UTF8 =
            ThreadLocal.withInitial(
                    () ->
                            StandardCharsets.UTF_8
                                    .newDecoder()
                                    .onMalformedInput(CodingErrorAction.REPORT)
                                    .onUnmappableCharacter(CodingErrorAction.REPORT));

    /** Decodes one message; {@code null} when it is not a usable flow record. */
    public static Flow decode(byte[] bytes) {
        if (bytes == null || bytes.length > MAX_RECORD_BYTES) {
            return null;
        }
        String text;
        try {
            CharBuffer chars = UTF8.get().decode(ByteBuffer.wrap(bytes));
            text = trim(chars.toString());
        } catch (CharacterCodingException e) {
            return null;
        }
        if (text.isEmpty()) {
            return null;
        }
        boolean json = text.charAt(0) == '{';
        Builder builder = new Builder(json);
        boolean ok = json ? JsonFields.read(text, builder) : KvFields.read(text, builder);
        return ok ? builder.build() : null;
    }

    /** Unicode White_Space and the byte order mark, off both ends. */
    static String trim(String text) {
        int start = 0;
        int end = text.length();
        while (start < end && isTrimmed(text.charAt(start))) {
            start++;
        }
        while (end > start && isTrimmed(text.charAt(end - 1))) {
            end--;
        }
        return text.substring(start, end);
    }

    private static boolean isTrimmed(char c) {
        return c == '\uFEFF' || isWhiteSpace(c);
    }

    /** The Unicode White_Space property (what Rust's char::is_whitespace tests). */
    static boolean isWhiteSpace(char c) {
        if (c <= ' ') {
            return c == ' ' || (c >= '\t' && c <= '\r');
        }
        switch (c) {
            case '\u0085':
            case '\u00A0':
            case '\u1680':
            case '\u2028':
            case '\u2029':
            case '\u202F':
            case '\u205F':
            case '\u3000':
                return true;
            default:
                return c >= '\u2000' && c <= '\u200A';
        }
    }

    /** Maps the encodings' empty markers to "absent". */
    static boolean present(String value) {
        return !(value.isEmpty() || value.equals("''") || value.equals("'"));
    }

    /**
     * Collects fields as a decoder reads them, in record order: the slots the
     * detection reads, whether {@code fv} was present, and the {@code fsms}
     * and {@code fss} values (event time).
     *
     * <p>The two encodings differ on repeated keys, as in the detector. A JSON
     * object keeps one value per key, the last, even an empty one. Key=value
     * text keeps every present pair: the last present value fills a field,
     * but the event time comes from the first.
     */
    static final class Builder {
        @SuppressWarnings("unchecked")
        private final List<String>[] slots = new List[Fields.COUNT];

        private final boolean lastWins;
        private boolean hasVersion;
        private String fsms;
        private String fss;

        Builder(boolean lastWins) {
            this.lastWins = lastWins;
        }

        /** Whether a key's value is needed; others are only validated. */
        boolean wants(String key) {
            return Fields.slotOf(key) >= 0 || key.equals("fv") || key.equals("fsms") || key.equals("fss");
        }

        /** A field whose values are already stripped of empty markers; none means absent. */
        void add(String key, List<String> values) {
            boolean absent = values.isEmpty();
            if (absent && !lastWins) {
                return;
            }
            String first = absent ? null : values.get(0);
            switch (key) {
                case "fv":
                    hasVersion = !absent;
                    break;
                case "fsms":
                    if (lastWins || fsms == null) {
                        fsms = first;
                    }
                    break;
                case "fss":
                    if (lastWins || fss == null) {
                        fss = first;
                    }
                    break;
                default:
                    break;
            }
            int slot = Fields.slotOf(key);
            if (slot >= 0) {
                slots[slot] = absent ? null : values;
            }
        }

        /** One single value; an empty marker means absent. */
        void addOne(String key, String value) {
            List<String> one = new ArrayList<>(1);
            if (present(value)) {
                one.add(value);
            }
            add(key, one);
        }

        /** The record, or {@code null} without {@code fv} or a valid event time. */
        Flow build() {
            if (!hasVersion) {
                return null;
            }
            long eventMs;
            if (fsms != null) {
                eventMs = wholeNumber(fsms);
                if (eventMs < 0) {
                    return null;
                }
            } else if (fss != null) {
                long secs = wholeNumber(fss);
                if (secs < 0 || secs > Long.MAX_VALUE / 1000) {
                    return null;
                }
                eventMs = secs * 1000;
            } else {
                return null;
            }
            return new Flow(eventMs, slots);
        }

        /** A non-negative whole number, or -1. */
        private static long wholeNumber(String text) {
            try {
                return Math.max(-1, Long.parseLong(trim(text)));
            } catch (NumberFormatException e) {
                return -1;
            }
        }
    }
}

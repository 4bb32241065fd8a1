package nvm.peer;

/**
 * The key=value syslog encoding of older NVM collectors:
 * {@code Jun 26 16:09:18 127.0.0.1 Jun 26 16:09:18 host  fv="nvzFlow_v9" pr="6" ...}
 *
 * <p>Values are double-quoted (some collectors single-quote them) and a quote
 * inside one is written {@code \"}, but backslashes are not escaped
 * ({@code C:\Windows\...}), so a value may end in a backslash. A closing quote
 * is therefore recognised by what follows it: the end of the text, or
 * whitespace and the next {@code key=}. The same rules as the detector's.
 */
final class KvFields {
    private KvFields() {}

    /** Reads the pairs into the builder; false when the text is not usable. */
    static boolean read(String text, Decoder.Builder builder) {
        int pos = firstPair(text);
        if (pos < 0) {
            return false;
        }
        int n = text.length();
        while (pos < n) {
            if (isSpace(text.charAt(pos))) {
                pos++;
                continue;
            }
            pos = pair(text, pos, builder);
            if (pos < 0) {
                return false;
            }
        }
        return true;
    }

    /** ASCII whitespace as Rust's u8::is_ascii_whitespace has it (no \u000B). */
    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
    }

    private static boolean isKeyChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    }

    /** Where the pairs begin: the first token that is {@code key=} and a quote. */
    private static int firstPair(String text) {
        int tokenStart = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (isSpace(c)) {
                tokenStart = i + 1;
                continue;
            }
            if (c == '=' && i > tokenStart && allKeyChars(text, tokenStart, i) && i + 1 < text.length()) {
                char q = text.charAt(i + 1);
                if (q == '"' || q == '\'') {
                    return tokenStart;
                }
            }
        }
        return -1;
    }

    private static boolean allKeyChars(String text, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!isKeyChar(text.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /** Reads the pair at {@code pos}; returns the position after it, or -1. */
    private static int pair(String text, int pos, Decoder.Builder builder) {
        int n = text.length();
        int keyEnd = pos;
        while (keyEnd < n && isKeyChar(text.charAt(keyEnd))) {
            keyEnd++;
        }
        if (keyEnd == pos || keyEnd >= n || text.charAt(keyEnd) != '=') {
            return -1;
        }
        String key = text.substring(pos, keyEnd);
        int valueStart = keyEnd + 1;
        boolean wanted = builder.wants(key);

        char q = valueStart < n ? text.charAt(valueStart) : '\0';
        if (q == '"' || q == '\'') {
            int close = closingQuote(text, valueStart + 1, q);
            if (close < 0) {
                return -1;
            }
            if (wanted) {
                builder.addOne(key, unescape(text.substring(valueStart + 1, close), q));
            }
            return close + 1;
        }
        // Unquoted value: runs to the next whitespace.
        int end = valueStart;
        while (end < n && !isSpace(text.charAt(end))) {
            end++;
        }
        if (wanted) {
            builder.addOne(key, text.substring(valueStart, end));
        }
        return end;
    }

    private static int closingQuote(String text, int from, char quote) {
        for (int i = from; i < text.length(); i++) {
            if (text.charAt(i) == quote && endsValue(text, i + 1)) {
                return i;
            }
        }
        return -1;
    }

    /** Whether {@code pos}, just after a quote, ends a value. */
    private static boolean endsValue(String text, int pos) {
        int n = text.length();
        if (pos >= n) {
            return true;
        }
        if (!isSpace(text.charAt(pos))) {
            return false;
        }
        int next = pos;
        while (next < n && isSpace(text.charAt(next))) {
            next++;
        }
        if (next >= n) {
            return true;
        }
        int keyEnd = next;
        while (keyEnd < n && isKeyChar(text.charAt(keyEnd))) {
            keyEnd++;
        }
        return keyEnd > next && keyEnd < n && text.charAt(keyEnd) == '=';
    }

    /** Undoes {@code \"} (or {@code \'}); every other backslash is literal. */
    private static String unescape(String raw, char quote) {
        if (raw.indexOf("\\" + quote) < 0) {
            return raw;
        }
        StringBuilder out = new StringBuilder(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '\\' && i + 1 < raw.length() && raw.charAt(i + 1) == quote) {
                continue;
            }
            out.append(c);
        }
        return out.toString();
    }
}

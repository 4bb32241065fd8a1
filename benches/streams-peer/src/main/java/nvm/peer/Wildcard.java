package nvm.peer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A value pattern of Splunk's {@code search} command: {@code *} matches any
 * run of characters (spaces and backslashes included), the pattern covers the
 * whole value, and values compare case-insensitively. There is no other
 * wildcard and no escape.
 */
final class Wildcard {
    /** Lower-cased literal pieces between the stars. */
    private final String[] parts;
    private final boolean startsOpen;
    private final boolean endsOpen;

    Wildcard(String pattern) {
        String lower = pattern.toLowerCase(Locale.ROOT);
        List<String> pieces = new ArrayList<>();
        for (String piece : lower.split("\\*", -1)) {
            if (!piece.isEmpty()) {
                pieces.add(piece);
            }
        }
        parts = pieces.toArray(new String[0]);
        startsOpen = lower.startsWith("*");
        endsOpen = lower.endsWith("*");
    }

    /** Whether any of the values matches; false for an absent field. */
    boolean matchesAny(List<String> values) {
        if (values == null) {
            return false;
        }
        for (String value : values) {
            if (matches(value)) {
                return true;
            }
        }
        return false;
    }

    /** Whole-value, case-insensitive match. */
    boolean matches(String value) {
        boolean ascii = isAscii(value);
        String v = ascii ? value : value.toLowerCase(Locale.ROOT);
        if (parts.length == 0) {
            return startsOpen || v.isEmpty();
        }
        int from = 0;
        int last = parts.length - 1;
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            boolean anchoredStart = i == 0 && !startsOpen;
            boolean anchoredEnd = i == last && !endsOpen;
            int rest = v.length() - from;
            if (anchoredStart) {
                if (rest < part.length() || !v.regionMatches(ascii, from, part, 0, part.length())) {
                    return false;
                }
                if (anchoredEnd) {
                    return rest == part.length();
                }
                from += part.length();
            } else if (anchoredEnd) {
                // The last piece must sit at the very end; leftmost matching of
                // the earlier pieces leaves the most room for it.
                int at = v.length() - part.length();
                return at >= from && v.regionMatches(ascii, at, part, 0, part.length());
            } else {
                int at = find(v, from, part, ascii);
                if (at < 0) {
                    return false;
                }
                from = at + part.length();
            }
        }
        return true;
    }

    private static int find(String haystack, int from, String needle, boolean ignoreCase) {
        if (!ignoreCase) {
            return haystack.indexOf(needle, from);
        }
        int lastStart = haystack.length() - needle.length();
        for (int i = from; i <= lastStart; i++) {
            if (haystack.regionMatches(true, i, needle, 0, needle.length())) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }
}

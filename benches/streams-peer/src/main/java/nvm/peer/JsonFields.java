package nvm.peer;

import java.util.ArrayList;
import java.util.List;

/**
 * The flat JSON encoding: {@code {"fv":"nvzFlow_v11","pr":"6",...}}.
 *
 * <p>As in the detector: values are strings in practice; numbers and booleans
 * count as their text, arrays of scalars are multivalue fields, {@code null}
 * and empty strings mean absent, and a nested object (or an array inside an
 * array) makes the whole message unusable. The parser is strict JSON: a
 * message the detector's parser rejects is rejected here too. Values of keys
 * the detection does not read are validated but not kept.
 */
final class JsonFields {
    private final String text;
    private int pos;

    private JsonFields(String text) {
        this.text = text;
    }

    /** Reads an object into the builder; false when the text is not usable. */
    static boolean read(String text, Decoder.Builder builder) {
        try {
            new JsonFields(text).object(builder);
            return true;
        } catch (Bad e) {
            return false;
        }
    }

    /** Malformed or nested JSON; no stack trace, it is control flow. */
    private static final class Bad extends Exception {
        private static final Bad INSTANCE = new Bad();

        private Bad() {
            super(null, null, false, false);
        }
    }

    private void object(Decoder.Builder builder) throws Bad {
        expect('{');
        space();
        if (peek() == '}') {
            pos++;
            end();
            return;
        }
        while (true) {
            space();
            String key = string(true);
            space();
            expect(':');
            space();
            boolean wanted = builder.wants(key);
            List<String> values = value(wanted);
            if (wanted) {
                builder.add(key, values);
            }
            space();
            char c = next();
            if (c == '}') {
                end();
                return;
            }
            if (c != ',') {
                throw Bad.INSTANCE;
            }
        }
    }

    /** A field's present values (empty when absent or not kept). */
    private List<String> value(boolean keep) throws Bad {
        List<String> values = new ArrayList<>(1);
        if (peek() == '[') {
            pos++;
            space();
            if (peek() == ']') {
                pos++;
                return values;
            }
            while (true) {
                space();
                scalar(keep, values);
                space();
                char c = next();
                if (c == ']') {
                    return values;
                }
                if (c != ',') {
                    throw Bad.INSTANCE;
                }
            }
        }
        scalar(keep, values);
        return values;
    }

    /** One scalar; its text is added to {@code out} when kept and present. */
    private void scalar(boolean keep, List<String> out) throws Bad {
        char c = peek();
        String text;
        if (c == '"') {
            text = string(keep);
        } else if (c == 'n') {
            literal("null");
            return;
        } else if (c == 't') {
            literal("true");
            text = "true";
        } else if (c == 'f') {
            literal("false");
            text = "false";
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            text = number();
        } else {
            // An object or an array inside an array: not a flat NVM record.
            throw Bad.INSTANCE;
        }
        if (keep && Decoder.present(text)) {
            out.add(text);
        }
    }

    /** A string; its unescaped text when {@code keep}, else "" after validating it. */
    private String string(boolean keep) throws Bad {
        expect('"');
        int start = pos;
        // Fast path: no escapes.
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == '"') {
                String s = keep ? text.substring(start, pos) : "";
                pos++;
                return s;
            }
            if (c == '\\') {
                break;
            }
            if (c < 0x20) {
                throw Bad.INSTANCE;
            }
            pos++;
        }
        StringBuilder out = new StringBuilder(pos - start + 16);
        out.append(text, start, pos);
        while (true) {
            char c = next();
            if (c == '"') {
                return keep ? out.toString() : "";
            }
            if (c < 0x20) {
                throw Bad.INSTANCE;
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            char e = next();
            switch (e) {
                case '"':
                case '\\':
                case '/':
                    out.append(e);
                    break;
                case 'b':
                    out.append('\b');
                    break;
                case 'f':
                    out.append('\f');
                    break;
                case 'n':
                    out.append('\n');
                    break;
                case 'r':
                    out.append('\r');
                    break;
                case 't':
                    out.append('\t');
                    break;
                case 'u':
                    unicode(out);
                    break;
                default:
                    throw Bad.INSTANCE;
            }
        }
    }

    /** {@code \\uXXXX}, pairing surrogates; a lone surrogate is an error. */
    private void unicode(StringBuilder out) throws Bad {
        char c = (char) hex4();
        if (Character.isHighSurrogate(c)) {
            if (next() != '\\' || next() != 'u') {
                throw Bad.INSTANCE;
            }
            char low = (char) hex4();
            if (!Character.isLowSurrogate(low)) {
                throw Bad.INSTANCE;
            }
            out.append(c).append(low);
        } else if (Character.isLowSurrogate(c)) {
            throw Bad.INSTANCE;
        } else {
            out.append(c);
        }
    }

    private int hex4() throws Bad {
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(next(), 16);
            if (d < 0) {
                throw Bad.INSTANCE;
            }
            v = v * 16 + d;
        }
        return v;
    }

    /** A JSON number, as written (integers are what NVM collectors write). */
    private String number() throws Bad {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        if (peek() == '0') {
            pos++;
        } else if (digits() == 0) {
            throw Bad.INSTANCE;
        }
        if (peek() == '.') {
            pos++;
            if (digits() == 0) {
                throw Bad.INSTANCE;
            }
        }
        if (peek() == 'e' || peek() == 'E') {
            pos++;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (digits() == 0) {
                throw Bad.INSTANCE;
            }
        }
        return text.substring(start, pos);
    }

    private int digits() {
        int start = pos;
        while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
            pos++;
        }
        return pos - start;
    }

    private void literal(String word) throws Bad {
        if (!text.startsWith(word, pos)) {
            throw Bad.INSTANCE;
        }
        pos += word.length();
    }

    /** Only whitespace may follow the object. */
    private void end() throws Bad {
        space();
        if (pos != text.length()) {
            throw Bad.INSTANCE;
        }
    }

    private void space() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private char peek() {
        return pos < text.length() ? text.charAt(pos) : '\0';
    }

    private char next() throws Bad {
        if (pos >= text.length()) {
            throw Bad.INSTANCE;
        }
        return text.charAt(pos++);
    }

    private void expect(char c) throws Bad {
        if (next() != c) {
            throw Bad.INSTANCE;
        }
    }
}

package dev.amalgam.scan;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The header of a {@code .npy} file, decided as NumPy decides it ({@code numpy/lib/format.py}:
 * {@code _read_array_header} evaluates the header with {@code ast.literal_eval}, requires exactly the
 * keys descr, fortran_order and shape, then {@code descr_to_dtype}; {@code read_array} unpickles the
 * data when {@code dtype.hasobject}). Whether the dtype holds objects is derived structurally from
 * the descr, with dtype strings parsed like {@code numpy/_core/src/multiarray/descriptor.c}
 * ({@code _convert_from_str}: comma strings, a byte-order character, one type character, a kind
 * with a size, or a name from {@code sctypeDict}). A descr string we do not know is not guessed:
 * the header is reported as unscannable.
 */
final class NpyHeader {
    /** sctypeDict names of object_ (NumPy 1.24: 'O', 'object', 'object_', 'object0'). */
    private static final Set<String> OBJECT_NAMES = Set.of("O", "object", "object_", "object0");
    /** Known names of dtypes without objects (NumPy 1.x and 2.x sctypeDict, lower case). */
    private static final Set<String> PLAIN_NAMES = Set.of("bool", "bool8", "bool_", "byte", "bytes", "bytes0", "bytes_",
            "cdouble", "cfloat", "clongdouble", "clongfloat", "complex", "complex128", "complex256", "complex64", "complex_",
            "csingle", "datetime64", "double", "float", "float128", "float16", "float32", "float64", "float96", "float_",
            "half", "int", "int0", "int16", "int32", "int64", "int8", "int_", "intc", "intp", "long", "longcomplex",
            "longdouble", "longfloat", "longlong", "short", "single", "singlecomplex", "str", "str0", "str_", "string_",
            "timedelta64", "ubyte", "uint", "uint0", "uint16", "uint32", "uint64", "uint8", "uintc", "uintp", "ulong",
            "ulonglong", "unicode", "unicode_", "ushort", "void", "void0", "complex192", "a", "c");
    /** Python's tokenizer refuses more than 200 nested brackets; deeper than this is refused, not guessed. */
    private static final int MAX_NESTING = 1000;
    private static final Pattern KIND_SIZE = Pattern.compile("[biufcSaUVmMeEgG]\\d+(\\[[A-Za-z0-9,.]*\\])?");
    private static final Pattern TIME = Pattern.compile("(datetime64|timedelta64|[mM]8?)(\\[[A-Za-z0-9,.]*\\])?");
    /** numpy/_core/_internal.py _commastring: one item of a comma string. */
    private static final Pattern COMMA_ITEM = Pattern.compile(
            "(?<order1>[<>|=]?)(?<repeats> *[(]?[ ,0-9]*[)]? *)(?<order2>[<>|=]?)(?<dtype>[A-Za-z0-9.?]*(?:\\[[a-zA-Z0-9,.]+\\])?)");

    /**
     * @param descr the descr as written (for messages)
     * @param hasObject the array is stored as a pickle
     * @param dataStart offset of the array data
     * @param problem why the header cannot be judged, or null
     */
    record Result(String descr, boolean hasObject, int dataStart, String problem) {
        static Result problem(String why) {
            return new Result(null, false, 0, why);
        }
    }

    private static final class Unknown extends RuntimeException {
        Unknown(String m) {
            super(m, null, false, false);
        }
    }

    private NpyHeader() {
    }

    static Result read(byte[] d) {
        if (d.length < 10) return Result.problem("truncated .npy header");
        int major = d[6] & 0xff;
        int hlen;
        int start;
        if (major == 1) {
            hlen = (d[8] & 0xff) | ((d[9] & 0xff) << 8);
            start = 10;
        } else if (major == 2 || major == 3) {
            if (d.length < 12) return Result.problem("truncated .npy header");
            hlen = ByteBuffer.wrap(d, 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            start = 12;
        } else {
            return Result.problem("unknown .npy version " + major);
        }
        if (hlen < 0 || hlen > d.length - start) return Result.problem("the header length exceeds the file");
        // format.py: latin1 for versions 1 and 2, utf8 for version 3
        String header = new String(d, start, hlen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Object parsed;
        try {
            parsed = new PyLiteral(header, major < 3).parseAll();
        } catch (Unknown e) {
            return Result.problem(e.getMessage());
        } catch (PyLiteral.Invalid e) {
            // literal_eval fails, so np.load fails before reading any data
            return new Result(header.strip(), false, start + hlen, null);
        }
        if (!(parsed instanceof Map<?, ?> m) || !m.keySet().equals(Set.of("descr", "fortran_order", "shape"))) {
            return new Result(header.strip(), false, start + hlen, null); // _read_array_header raises ValueError
        }
        Object descr = m.get("descr");
        try {
            return new Result(PyLiteral.repr(descr), hasObject(descr, 0), start + hlen, null);
        } catch (Unknown e) {
            return Result.problem("cannot decide the dtype " + PyLiteral.repr(descr) + ": " + e.getMessage());
        }
    }

    /** descr_to_dtype(descr).hasobject, over-approximated where NumPy would raise. */
    static boolean hasObject(Object descr, int depth) {
        if (depth > 64) throw new Unknown("nested too deeply");
        if (descr instanceof String s) return stringHasObject(s);
        if (descr instanceof PyLiteral.Tuple t) {
            if (t.items().size() < 2) return false; // descr[1] raises IndexError
            // numpy.dtype((dt, descr[1])): descr[1] is a shape, or (over-approximated) another dtype-like
            return hasObject(t.items().get(0), depth + 1) || !isShape(t.items().get(1)) && hasObjectOrInvalid(t.items().get(1), depth);
        }
        List<Object> fields = iterate(descr);
        if (fields == null) return false; // not iterable: TypeError
        boolean any = false;
        for (Object field : fields) {
            List<Object> parts = iterate(field);
            if (parts == null || parts.size() < 2 || parts.size() > 3) continue; // unpacking fails: ValueError / TypeError
            if (descr instanceof PyLiteral.PySet || field instanceof PyLiteral.PySet) { // unordered: any element may land anywhere
                for (Object p : parts) any |= hasObjectOrInvalid(p, depth);
                continue;
            }
            any |= hasObject(parts.get(1), depth + 1);
            if (parts.size() == 3 && !isShape(parts.get(2))) any |= hasObjectOrInvalid(parts.get(2), depth);
        }
        return any;
    }

    private static boolean hasObjectOrInvalid(Object o, int depth) {
        try {
            return hasObject(o, depth + 1);
        } catch (Unknown e) {
            return false; // not a dtype at all: NumPy raises
        }
    }

    private static boolean isShape(Object o) {
        if (o instanceof Long || o instanceof BigInteger) return true;
        return o instanceof PyLiteral.Tuple t && t.items().stream().allMatch(x -> x instanceof Long || x instanceof BigInteger);
    }

    /** What {@code for x in value} yields, or null when the value is not iterable. */
    private static List<Object> iterate(Object v) {
        return switch (v) {
            case String s -> s.codePoints().mapToObj(Character::toString).map(Object.class::cast).toList();
            case PyLiteral.Tuple t -> t.items();
            case PyLiteral.PyList l -> l.items();
            case PyLiteral.PySet s -> s.items();
            case Map<?, ?> m -> new ArrayList<>(m.keySet());
            case byte[] b -> {
                List<Object> out = new ArrayList<>();
                for (byte x : b) out.add((long) (x & 0xff));
                yield out;
            }
            default -> null;
        };
    }

    /** numpy.dtype(str).hasobject; throws Unknown for a string we cannot place. */
    static boolean stringHasObject(String type) {
        if (type.isEmpty()) return false; // invalid
        if (isCommaString(type)) {
            // _convert_from_commastring: each item is order + dtype, with optional repeats
            Matcher m = COMMA_ITEM.matcher(type);
            int pos = 0;
            boolean any = false;
            while (pos < type.length()) {
                if (!m.find(pos) || m.start() != pos) throw new Unknown("malformed comma string");
                String order = !m.group("order1").isEmpty() ? m.group("order1") : m.group("order2");
                String dt = m.group("dtype");
                if (dt.isEmpty() && m.end() == pos) throw new Unknown("malformed comma string");
                any |= stringHasObject(order + dt);
                pos = m.end();
                Matcher sep = Pattern.compile("\\s*,\\s*|\\s+$").matcher(type);
                if (pos < type.length()) {
                    if (!sep.find(pos) || sep.start() != pos) throw new Unknown("malformed comma string");
                    pos = sep.end();
                }
            }
            return any;
        }
        String t = type;
        if ("<>=|".indexOf(t.charAt(0)) >= 0) t = t.substring(1);
        if (t.isEmpty()) return false;
        if (t.length() == 1) {
            if (t.equals("O")) return true;
            if ("?bBhHiIlLqQpPefdgFDGSaUVmMcn".contains(t)) return false;
            throw new Unknown("type code '" + t + "'");
        }
        if (t.matches("O\\d+")) return true; // 'O8', 'O4': kind + size
        if (KIND_SIZE.matcher(t).matches() || TIME.matcher(t).matches()) return false;
        if (OBJECT_NAMES.contains(type) || OBJECT_NAMES.contains(t)) return true;
        if (PLAIN_NAMES.contains(t.toLowerCase(Locale.ROOT))) return false;
        throw new Unknown("type name '" + type + "'");
    }

    /** descriptor.c _check_for_commastring. */
    private static boolean isCommaString(String t) {
        int n = t.length();
        if (Character.isDigit(t.charAt(0)) || n > 1 && "<>=|".indexOf(t.charAt(0)) >= 0 && Character.isDigit(t.charAt(1))) return true;
        if (n > 1 && t.startsWith("()") || n > 3 && "<>=|".indexOf(t.charAt(0)) >= 0 && t.startsWith("()", 1)) return true;
        if (t.charAt(0) == '(' || n > 1 && "<>=|".indexOf(t.charAt(0)) >= 0 && t.charAt(1) == '(') return true;
        int sq = 0;
        for (int i = 0; i < n; i++) {
            char c = t.charAt(i);
            if (c == ',' && sq == 0) return true;
            if (c == '[') sq++;
            if (c == ']') sq--;
        }
        return false;
    }

    /** Python literals as {@code ast.literal_eval} accepts them (the subset .npy headers can use). */
    static final class PyLiteral {
        record Tuple(List<Object> items) {
        }

        record PyList(List<Object> items) {
        }

        record PySet(List<Object> items) {
        }

        /** Python's None. */
        enum None { NONE }

        static final class Invalid extends RuntimeException {
            Invalid(String m) {
                super(m, null, false, false);
            }
        }

        private final String s;
        private final boolean py2Longs;
        private int pos;

        PyLiteral(String s, boolean py2Longs) {
            this.s = s;
            this.py2Longs = py2Longs;
        }

        Object parseAll() {
            Object v = expr(0);
            ws();
            if (pos != s.length()) throw new Invalid("trailing characters");
            return v;
        }

        private Object expr(int depth) {
            if (depth > MAX_NESTING) throw new Unknown("the header is nested more deeply than we follow");
            Object v = unary(depth);
            while (true) { // number + number / number - number (complex literals)
                ws();
                if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-') && v instanceof Number) {
                    pos++;
                    if (!(unary(depth) instanceof Number)) throw new Invalid("operand");
                    v = 0.0;
                } else {
                    return v;
                }
            }
        }

        private Object unary(int depth) {
            ws();
            if (pos < s.length() && (s.charAt(pos) == '-' || s.charAt(pos) == '+')) {
                pos++;
                Object v = unary(depth + 1);
                if (!(v instanceof Number)) throw new Invalid("unary operand");
                return v;
            }
            return atom(depth);
        }

        private Object atom(int depth) {
            ws();
            if (pos >= s.length()) throw new Invalid("unexpected end");
            char c = s.charAt(pos);
            if (c == '(') {
                pos++;
                List<Object> items = new ArrayList<>();
                boolean comma = false;
                while (true) {
                    ws();
                    if (peek(')')) { pos++; break; }
                    items.add(expr(depth + 1));
                    ws();
                    if (peek(',')) { pos++; comma = true; } else { expect(')'); break; }
                }
                if (items.size() == 1 && !comma) return items.getFirst();
                return new Tuple(items);
            }
            if (c == '[' || c == '{') {
                pos++;
                char close = c == '[' ? ']' : '}';
                List<Object> items = new ArrayList<>();
                Map<Object, Object> map = new LinkedHashMap<>();
                boolean isDict = false;
                while (true) {
                    ws();
                    if (peek(close)) { pos++; break; }
                    Object k = expr(depth + 1);
                    ws();
                    if (c == '{' && peek(':')) {
                        pos++;
                        isDict = true;
                        map.remove(k); // a later duplicate key wins, like a dict display
                        map.put(k, expr(depth + 1));
                    } else {
                        if (isDict) throw new Invalid("mixed dict and set");
                        items.add(k);
                    }
                    ws();
                    if (peek(',')) pos++; else { expect(close); break; }
                }
                if (c == '[') return new PyList(items);
                if (isDict || items.isEmpty()) return map;
                return new PySet(items);
            }
            if (s.startsWith("set()", pos)) { pos += 5; return new PySet(List.of()); }
            if (c == '"' || c == '\'' || Character.isLetter(c)) {
                int save = pos;
                String word = identifier();
                String prefix = word.toLowerCase(Locale.ROOT);
                if (pos < s.length() && (s.charAt(pos) == '"' || s.charAt(pos) == '\'') && prefix.matches("|r|u|b|br|rb")) {
                    pos = save + word.length();
                    return strings(prefix);
                }
                return switch (word) {
                    case "True" -> Boolean.TRUE;
                    case "False" -> Boolean.FALSE;
                    case "None" -> None.NONE;
                    default -> throw new Invalid("name " + word);
                };
            }
            if (Character.isDigit(c) || c == '.') return number();
            throw new Invalid("unexpected character");
        }

        /** One or more adjacent string literals (implicit concatenation). */
        private Object strings(String firstPrefix) {
            StringBuilder text = new StringBuilder();
            Boolean bytes = null;
            String prefix = firstPrefix;
            while (true) {
                boolean b = prefix.contains("b");
                if (bytes != null && bytes != b) throw new Invalid("mixing bytes and str");
                bytes = b;
                text.append(stringBody(prefix.contains("r"), b));
                int save = pos;
                ws();
                int p2 = pos;
                String w = pos < s.length() && Character.isLetter(s.charAt(pos)) ? identifier() : "";
                if (pos < s.length() && (s.charAt(pos) == '"' || s.charAt(pos) == '\'') && w.toLowerCase(Locale.ROOT).matches("|r|u|b|br|rb")) {
                    prefix = w.toLowerCase(Locale.ROOT);
                    continue;
                }
                pos = p2 == save ? save : save;
                break;
            }
            if (bytes) return text.toString().getBytes(StandardCharsets.ISO_8859_1);
            return text.toString();
        }

        private String stringBody(boolean raw, boolean bytes) {
            char q = s.charAt(pos);
            boolean triple = s.startsWith(String.valueOf(q).repeat(3), pos);
            pos += triple ? 3 : 1;
            StringBuilder b = new StringBuilder();
            while (true) {
                if (pos >= s.length()) throw new Invalid("unterminated string");
                char c = s.charAt(pos);
                if (triple ? s.startsWith(String.valueOf(q).repeat(3), pos) : c == q) {
                    pos += triple ? 3 : 1;
                    return b.toString();
                }
                if (!triple && c == '\n') throw new Invalid("newline in string");
                if (c != '\\') {
                    b.append(c);
                    pos++;
                    continue;
                }
                if (pos + 1 >= s.length()) throw new Invalid("unterminated string");
                char e = s.charAt(pos + 1);
                if (raw) {
                    b.append(c).append(e);
                    pos += 2;
                    continue;
                }
                pos += 2;
                switch (e) {
                    case '\n' -> { }
                    case '\\', '\'', '"' -> b.append(e);
                    case 'a' -> b.append('\007');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'v' -> b.append('\013');
                    case 'x' -> b.appendCodePoint(hex(2));
                    case 'u', 'U' -> {
                        if (bytes) { b.append('\\').append(e); break; }
                        b.appendCodePoint(hex(e == 'u' ? 4 : 8));
                    }
                    case 'N' -> {
                        if (bytes) { b.append("\\N"); break; }
                        int end = s.indexOf('}', pos);
                        if (!peek('{') || end < 0) throw new Invalid("malformed \\N escape");
                        int cp;
                        try {
                            cp = Character.codePointOf(s.substring(pos + 1, end));
                        } catch (IllegalArgumentException ex) {
                            throw new Invalid("unknown character name");
                        }
                        b.appendCodePoint(cp);
                        pos = end + 1;
                    }
                    default -> {
                        if (e >= '0' && e <= '7') {
                            int v = e - '0';
                            for (int k = 0; k < 2 && pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '7'; k++) {
                                v = v * 8 + (s.charAt(pos++) - '0');
                            }
                            b.appendCodePoint(v);
                        } else {
                            b.append('\\').append(e);
                        }
                    }
                }
            }
        }

        private int hex(int n) {
            if (pos + n > s.length()) throw new Invalid("truncated escape");
            String h = s.substring(pos, pos + n);
            if (!h.matches("[0-9a-fA-F]+")) throw new Invalid("bad escape");
            pos += n;
            long v = Long.parseLong(h, 16);
            if (v > Character.MAX_CODE_POINT) throw new Invalid("escape out of range");
            return (int) v;
        }

        private Object number() {
            Matcher m = Pattern.compile("0[xX](_?[0-9a-fA-F])+|0[oO](_?[0-7])+|0[bB](_?[01])+"
                    + "|((\\d(_?\\d)*)?\\.\\d(_?\\d)*|\\d(_?\\d)*\\.?)([eE][+-]?\\d(_?\\d)*)?[jJ]?").matcher(s);
            if (!m.find(pos) || m.start() != pos || m.end() == pos) throw new Invalid("number");
            String t = m.group().replace("_", "");
            pos = m.end();
            if (py2Longs && pos < s.length() && (s.charAt(pos) == 'L' || s.charAt(pos) == 'l')) pos++; // _filter_header
            if (t.matches("\\d+")) {
                if (t.length() > 1 && t.startsWith("0") && !t.matches("0+")) throw new Invalid("leading zeros");
                return t.length() < 18 ? (Object) Long.parseLong(t) : new BigInteger(t);
            }
            if (t.matches("0[xXoObB].*")) return new BigInteger(t.substring(2), "xXoObB".indexOf(t.charAt(1)) / 2 == 0 ? 16
                    : "xXoObB".indexOf(t.charAt(1)) / 2 == 1 ? 8 : 2);
            return 0.0;
        }

        private String identifier() {
            int start = pos;
            while (pos < s.length() && (Character.isLetterOrDigit(s.charAt(pos)) || s.charAt(pos) == '_')) pos++;
            return s.substring(start, pos);
        }

        private void ws() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
                    pos++;
                } else if (c == '\\' && pos + 1 < s.length() && s.charAt(pos + 1) == '\n') {
                    pos += 2;
                } else if (c == '#') {
                    while (pos < s.length() && s.charAt(pos) != '\n') pos++;
                } else {
                    return;
                }
            }
        }

        private boolean peek(char c) {
            return pos < s.length() && s.charAt(pos) == c;
        }

        private void expect(char c) {
            if (!peek(c)) throw new Invalid("expected " + c);
            pos++;
        }

        static String repr(Object v) {
            return switch (v) {
                case String str -> "'" + str + "'";
                case Tuple t -> "(" + String.join(", ", t.items().stream().map(PyLiteral::repr).toList()) + (t.items().size() == 1 ? ",)" : ")");
                case PyList l -> "[" + String.join(", ", l.items().stream().map(PyLiteral::repr).toList()) + "]";
                case PySet l -> "{" + String.join(", ", l.items().stream().map(PyLiteral::repr).toList()) + "}";
                case Map<?, ?> m -> "{" + String.join(", ", m.entrySet().stream().map(e -> repr(e.getKey()) + ": " + repr(e.getValue())).toList()) + "}";
                case byte[] b -> "b'" + new String(b, StandardCharsets.ISO_8859_1) + "'";
                case null -> "None";
                default -> String.valueOf(v);
            };
        }
    }
}

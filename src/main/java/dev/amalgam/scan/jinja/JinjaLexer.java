package dev.amalgam.scan.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tokens of a Jinja template with the default delimiters, as {@code jinja2/lexer.py} produces them:
 * text, {@code {{ }}} and {@code {% %}} tags (whitespace control {@code -}/{@code +} accepted),
 * comments dropped, {@code {% raw %}} blocks kept as text, and inside tags names, strings (escapes
 * decoded like Jinja's {@code unicode-escape}), numbers and operators. A closing delimiter only ends
 * a tag when no bracket is open, as in Jinja ({@code {{ {'a': {'b': 1}} }}}).
 */
final class JinjaLexer {
    enum Type { TEXT, VAR_BEGIN, VAR_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INT, FLOAT, OP, EOF }

    record Token(Type type, String value, int line) {
        boolean is(Type t, String v) {
            return type == t && value.equals(v);
        }

        boolean isOp(String v) {
            return is(Type.OP, v);
        }

        boolean isName(String v) {
            return is(Type.NAME, v);
        }
    }

    private static final Pattern RAW_START = Pattern.compile("\\{%[-+]?\\s*raw\\s*[-+]?%}");
    private static final Pattern RAW_END = Pattern.compile("\\{%[-+]?\\s*endraw\\s*[-+]?%}");
    private static final Pattern NUMBER = Pattern.compile(
            "(?i)(?<float>(\\d+_)*\\d+((\\.(\\d+_)*\\d+)?e[+\\-]?(\\d+_)*\\d+|\\.(\\d+_)*\\d+))"
                    + "|(?<int>0b(_?[01])+|0o(_?[0-7])+|0x(_?[\\da-f])+|[1-9](_?\\d)*|0(_?0)*)");
    private static final String[] OPERATORS = {"//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]",
        "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"};

    private final String s;
    private int pos;
    private int line = 1;
    private final List<Token> out = new ArrayList<>();

    private JinjaLexer(String s) {
        this.s = s;
    }

    static List<Token> tokenize(String template) {
        JinjaLexer l = new JinjaLexer(template);
        l.run();
        return l.out;
    }

    private void run() {
        while (pos < s.length()) {
            int next = nextTagStart(pos);
            if (next < 0) {
                text(s.length());
                break;
            }
            text(next);
            Matcher raw = RAW_START.matcher(s).region(next, s.length());
            if (raw.lookingAt()) {
                Matcher end = RAW_END.matcher(s);
                if (!end.find(raw.end())) throw new TemplateSyntaxError(line, "a raw block is never closed");
                advanceTo(raw.end());
                text(end.start());
                advanceTo(end.end());
                continue;
            }
            char kind = s.charAt(next + 1);
            advanceTo(next + 2);
            if (pos < s.length() && (s.charAt(pos) == '-' || s.charAt(pos) == '+')) pos++;
            if (kind == '#') {
                int end = s.indexOf("#}", pos);
                if (end < 0) throw new TemplateSyntaxError(line, "a comment is never closed");
                advanceTo(end + 2);
                continue;
            }
            boolean block = kind == '%';
            out.add(new Token(block ? Type.BLOCK_BEGIN : Type.VAR_BEGIN, block ? "{%" : "{{", line));
            insideTag(block ? "%}" : "}}");
            out.add(new Token(block ? Type.BLOCK_END : Type.VAR_END, block ? "%}" : "}}", line));
        }
        out.add(new Token(Type.EOF, "", line));
    }

    private int nextTagStart(int from) {
        int i = from;
        while (true) {
            int j = s.indexOf('{', i);
            if (j < 0 || j + 1 >= s.length()) return -1;
            char c = s.charAt(j + 1);
            if (c == '{' || c == '%' || c == '#') return j;
            i = j + 1;
        }
    }

    private void text(int end) {
        if (end > pos) out.add(new Token(Type.TEXT, s.substring(pos, end), line));
        advanceTo(end);
    }

    private void advanceTo(int p) {
        for (int i = pos; i < p && i < s.length(); i++) if (s.charAt(i) == '\n') line++;
        pos = p;
    }

    private void insideTag(String close) {
        int depth = 0;
        while (true) {
            if (pos >= s.length()) throw new TemplateSyntaxError(line, "a tag is never closed (expected " + close + ")");
            char c = s.charAt(pos);
            if (Character.isWhitespace(c)) {
                advanceTo(pos + 1);
                continue;
            }
            if (depth == 0) {
                if (s.startsWith(close, pos)) {
                    advanceTo(pos + 2);
                    return;
                }
                if ((c == '-' || c == '+') && s.startsWith(close, pos + 1)) {
                    advanceTo(pos + 3);
                    return;
                }
            }
            if (c == '\'' || c == '"') {
                string(c);
                continue;
            }
            Matcher num = NUMBER.matcher(s).region(pos, s.length());
            if (Character.isDigit(c) && num.lookingAt()) {
                boolean afterDot = !out.isEmpty() && out.getLast().isOp(".");
                if (afterDot && num.group("float") != null) { // matrix.0.1: an index, not a float (Jinja's (?<!\.))
                    int start = pos;
                    while (pos < s.length() && Character.isDigit(s.charAt(pos))) pos++;
                    out.add(new Token(Type.INT, s.substring(start, pos), line));
                    continue;
                }
                boolean isFloat = num.group("float") != null;
                out.add(new Token(isFloat ? Type.FLOAT : Type.INT, num.group().replace("_", ""), line));
                advanceTo(num.end());
                continue;
            }
            if (Character.isLetter(c) || c == '_') {
                int start = pos;
                while (pos < s.length() && (Character.isLetterOrDigit(s.charAt(pos)) || s.charAt(pos) == '_')) pos++;
                out.add(new Token(Type.NAME, s.substring(start, pos), line));
                continue;
            }
            String op = null;
            for (String o : OPERATORS) {
                if (s.startsWith(o, pos)) {
                    op = o;
                    break;
                }
            }
            if (op == null) throw new TemplateSyntaxError(line, "unexpected character '" + c + "'");
            if (op.equals("(") || op.equals("[") || op.equals("{")) depth++;
            if (op.equals(")") || op.equals("]") || op.equals("}")) {
                if (depth == 0) throw new TemplateSyntaxError(line, "unexpected '" + op + "'");
                depth--;
            }
            out.add(new Token(Type.OP, op, line));
            advanceTo(pos + op.length());
        }
    }

    /** A string literal, decoded like Jinja: unicode-escape after normalising newlines. */
    private void string(char q) {
        int start = line;
        int i = pos + 1;
        StringBuilder raw = new StringBuilder();
        while (true) {
            if (i >= s.length()) throw new TemplateSyntaxError(start, "a string is never closed");
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                raw.append(c).append(s.charAt(i + 1));
                i += 2;
                continue;
            }
            if (c == q) break;
            raw.append(c);
            i++;
        }
        advanceTo(i + 1);
        out.add(new Token(Type.STRING, unescape(raw.toString().replace("\r\n", "\n").replace('\r', '\n'), start), start));
    }

    /** Python's unicode-escape codec: the escapes a Jinja string literal may use to spell a name. */
    static String unescape(String r, int line) {
        StringBuilder b = new StringBuilder(r.length());
        for (int i = 0; i < r.length(); i++) {
            char c = r.charAt(i);
            if (c != '\\' || i + 1 >= r.length()) {
                b.append(c);
                continue;
            }
            char e = r.charAt(++i);
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
                case 'x', 'u', 'U' -> {
                    int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    String h = r.substring(i + 1, Math.min(r.length(), i + 1 + n));
                    if (h.length() != n || !h.matches("[0-9a-fA-F]+")) throw new TemplateSyntaxError(line, "truncated \\" + e + " escape");
                    long cp = Long.parseLong(h, 16);
                    if (cp > Character.MAX_CODE_POINT) throw new TemplateSyntaxError(line, "escape out of range");
                    b.appendCodePoint((int) cp);
                    i += n;
                }
                case 'N' -> {
                    int end = r.indexOf('}', i);
                    if (i + 1 >= r.length() || r.charAt(i + 1) != '{' || end < 0) throw new TemplateSyntaxError(line, "malformed \\N escape");
                    try {
                        b.appendCodePoint(Character.codePointOf(r.substring(i + 2, end)));
                    } catch (IllegalArgumentException ex) {
                        throw new TemplateSyntaxError(line, "unknown character name in \\N escape");
                    }
                    i = end;
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        int v = e - '0';
                        for (int k = 0; k < 2 && i + 1 < r.length() && r.charAt(i + 1) >= '0' && r.charAt(i + 1) <= '7'; k++) {
                            v = v * 8 + (r.charAt(++i) - '0');
                        }
                        b.appendCodePoint(v);
                    } else {
                        b.append('\\').append(e);
                    }
                }
            }
        }
        return b.toString();
    }
}

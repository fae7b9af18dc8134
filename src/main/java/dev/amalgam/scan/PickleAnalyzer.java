package dev.amalgam.scan;

import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A static pickle analyser that follows CPython's C unpickler ({@code Modules/_pickle.c}, the one
 * {@code pickle.load}, {@code torch.load} and {@code np.load} use) opcode by opcode, with an
 * emulated object stack, a separate mark stack and a memo, exactly as the C code splits them.
 * Every import (GLOBAL, INST, STACK_GLOBAL with operands from any push or memo path) and every
 * call-capable opcode (REDUCE, INST, OBJ, NEWOBJ, NEWOBJ_EX, BUILD) is judged; nothing is executed.
 *
 * <p>The rule for fidelity: never stricter than CPython. The analysis stops only where the C
 * unpickler stops too (data ends, unknown opcode, protocol above 5, stack underflow against the
 * current mark, a memo key never stored, an unquoted STRING, a negative length) or at a resource
 * cap; then the pickle is reported unscannable and every finding made before is kept. Where CPython
 * is lenient, so are we: PROTO may appear anywhere, no PROTO at all is protocol 0, FRAME lengths are
 * only checked against the data ({@code load_frame} reads the frame and rewinds), POP directly after
 * MARK pops the mark ({@code load_pop}), INT/LONG/FLOAT lines are not validated.
 *
 * <p>Two reading modes, both judged (findings are the union): the whole pickle in memory
 * ({@code pickle.loads}), and a file without {@code peek()} such as the {@code io.BytesIO} that
 * {@code torch/serialization.py _load} wraps around {@code data.pkl}. In the second,
 * {@code _Unpickler_ReadImpl} and {@code _Unpickler_Readline} replace the input buffer when a read
 * runs past it: after a FRAME, an argument or line that straddles the frame's end is read from the
 * bytes after the frame, and the frame's remaining bytes are skipped. The second mode is only run
 * when the pickle has a FRAME (without one both read the same bytes).
 */
public final class PickleAnalyzer {
    static final int MAX_OPCODES = 20_000_000;
    static final int MAX_MEMO = 1_000_000;
    static final int MAX_STACK = 1_000_000;
    static final int MAX_MARKS = 100_000;
    /** {@code HIGHEST_PROTOCOL} of CPython 3.8 and later; {@code load_proto} rejects anything above. */
    static final int HIGHEST_PROTOCOL = 5;

    /** What emulation knows about a stack value. */
    private sealed interface Value {
    }

    /** A Python {@code str} (what STACK_GLOBAL accepts: {@code PyUnicode_CheckExact}). */
    private record Str(String s) implements Value {
    }

    private record Global(String module, String name, boolean allowed) implements Value {
    }

    /** The result of calling a global (allowed or not), or anything else we do not model (from == null). */
    private record Obj(Global from) implements Value {
    }

    private static final Value OTHER = new Obj(null);

    private final byte[] data;
    private final String file;
    private final List<Finding> findings;
    private final boolean streamed;
    private int pos;
    /** End of the unpickler's input buffer: the whole data in memory, or what the last file read returned. */
    private int bufEnd;
    private boolean sawFrame;
    private final List<Value> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Value> memo = new HashMap<>();
    private final List<String> ints = new ArrayList<>();
    private int unsafeCalls;

    private PickleAnalyzer(byte[] data, int start, String file, List<Finding> findings, boolean streamed) {
        this.data = data;
        this.pos = start;
        this.file = file;
        this.findings = findings;
        this.streamed = streamed;
        this.bufEnd = streamed ? start : data.length;
    }

    /**
     * Result of one pickle.
     *
     * @param end the byte after STOP (or where the analysis stopped)
     * @param complete CPython's {@code load()} would return a value here
     * @param literalInts integers pushed as literals (a legacy torch magic number)
     * @param unsafeCalls calls or BUILDs made on something not allowlisted: the payload a loader runs
     * @param ranOut the analysis stopped because the data ended (more bytes might complete it)
     */
    public record Result(int end, boolean complete, List<String> literalInts, int unsafeCalls, boolean ranOut) {
    }

    /** Analyses the pickle starting at {@code start} in both reading modes; adds findings; never throws on bad input. */
    public static Result analyze(byte[] data, int start, String file, List<Finding> findings) {
        List<Finding> inMemory = new ArrayList<>();
        PickleAnalyzer a = new PickleAnalyzer(data, start, file, inMemory, false);
        Result r = a.runGuarded();
        if (!a.sawFrame) {
            findings.addAll(inMemory);
            return r;
        }
        List<Finding> fromFile = new ArrayList<>();
        Result s = new PickleAnalyzer(data, start, file, fromFile, true).runGuarded();
        boolean anyComplete = r.complete() || s.complete();
        for (Finding f : inMemory) if (!(anyComplete && f.unscannable())) findings.add(f);
        for (Finding f : fromFile) {
            if (anyComplete && f.unscannable()) continue;
            boolean known = inMemory.stream().anyMatch(g -> g.rule().equals(f.rule()) && Objects.equals(g.detail(), f.detail()));
            if (!known) findings.add(f);
        }
        Result base = r.complete() || !s.complete() ? r : s;
        return new Result(base.end(), anyComplete, base.literalInts(), Math.max(r.unsafeCalls(), s.unsafeCalls()), r.ranOut());
    }

    private Result runGuarded() {
        try {
            return run();
        } catch (Broken e) {
            findings.add(new Finding(file, Rule.UNSCANNABLE_PICKLE,
                    "the pickle cannot be analysed to its end: " + e.getMessage(), "offset " + pos));
            return new Result(pos, false, List.of(), unsafeCalls, e.ranOut);
        }
    }

    private static final class Broken extends RuntimeException {
        final boolean ranOut;

        Broken(String m) {
            this(m, false);
        }

        Broken(String m, boolean ranOut) {
            super(m, null, false, false);
            this.ranOut = ranOut;
        }
    }

    private Result run() {
        int count = 0;
        while (true) {
            if (++count > MAX_OPCODES) throw new Broken("more than " + MAX_OPCODES + " opcodes");
            int at = pos;
            int op = u8();
            switch (op) {
                case 0x80 -> { // PROTO: load_proto accepts it anywhere, only the version is checked
                    int v = u8();
                    if (v > HIGHEST_PROTOCOL) throw new Broken("unsupported pickle protocol " + v);
                }
                case 0x95 -> { // FRAME: load_frame reads frame_len bytes (they must exist) and rewinds; never enforced
                    sawFrame = true;
                    long len = u64();
                    if (len < 0 || len > data.length - pos) throw new Broken("truncated (FRAME of " + len + " bytes)", true);
                    ensure((int) len);
                }
                case '.' -> { // STOP: load() pops the result, honouring the mark fence
                    if (stack.size() <= fence()) throw new Broken("nothing to return at STOP (stack underflow)");
                    return new Result(pos, true, ints, unsafeCalls, false);
                }
                case '(' -> {
                    if (marks.size() >= MAX_MARKS) throw new Broken("too deeply nested (marks)");
                    marks.add(stack.size());
                }
                case '0' -> { // POP: a MARK right at the top is popped instead (load_pop)
                    if (!marks.isEmpty() && marks.getLast() == stack.size()) marks.removeLast();
                    else pop();
                }
                case '1' -> popMark();
                case '2' -> push(top());
                case 'F', 'L' -> { line(); push(OTHER); }
                case 'I' -> { ints.add(line().strip()); push(OTHER); }
                case 'J' -> { ints.add(Integer.toString((int) u32())); push(OTHER); }
                case 'K' -> { ints.add(Integer.toString(u8())); push(OTHER); }
                case 'M' -> { ints.add(Integer.toString(u16())); push(OTHER); }
                case 0x8a -> { skip(u8()); ints.add("long1"); push(OTHER); }
                case 0x8b -> { skip(signedLen32("LONG")); push(OTHER); }
                case 'G' -> { skip(8); push(OTHER); }
                case 'N', 0x88, 0x89 -> push(OTHER);
                case 'S' -> push(new Str(stringOpcode(line())));
                case 'V' -> push(new Str(rawUnicodeEscape(line(StandardCharsets.ISO_8859_1)))); // raw-unicode-escape: bytes are code points
                case 'T' -> push(new Str(text(signedLen32("BINSTRING"))));
                case 'U' -> push(new Str(text(u8())));
                case 'X' -> push(new Str(text(len32())));
                case 0x8c -> push(new Str(text(u8())));
                case 0x8d -> push(new Str(text(len64())));
                case 'B' -> { skip(len32()); push(OTHER); }
                case 'C' -> { skip(u8()); push(OTHER); }
                case 0x8e, 0x96 -> { skip(len64()); push(OTHER); }
                case 0x97 -> push(OTHER); // NEXT_BUFFER: out-of-band data (an error unless the loader passes buffers)
                case 0x98 -> top(); // READONLY_BUFFER
                case '}', ']', ')', 0x8f -> push(OTHER);
                case 'd', 'l', 't', 0x91 -> { popMark(); push(OTHER); }
                case 0x85 -> { pop(); push(OTHER); }
                case 0x86 -> { pop(); pop(); push(OTHER); }
                case 0x87 -> { pop(); pop(); pop(); push(OTHER); }
                case 'a' -> { pop(); top(); }
                case 'e', 'u', 0x90 -> { popMark(); top(); }
                case 's' -> { pop(); pop(); top(); }
                case 'p' -> memoPut(memoKey(line(), "PUT"));
                case 'q' -> memoPut(u8());
                case 'r' -> memoPut(u32());
                case 0x94 -> memoPut(memo.size());
                case 'g' -> push(memoGet(memoKey(line(), "GET")));
                case 'h' -> push(memoGet(u8()));
                case 'j' -> push(memoGet(u32()));
                case 'c' -> { // GLOBAL module\nname\n
                    String module = line();
                    String name = line();
                    push(global(module, name, at));
                }
                case 0x93 -> { // STACK_GLOBAL: name, then module, both must be str
                    Value name = pop();
                    Value module = pop();
                    if (!(module instanceof Str m) || !(name instanceof Str n)) {
                        findings.add(new Finding(file, Rule.PICKLE_UNRESOLVED_GLOBAL,
                                "STACK_GLOBAL with an operand that is not a plain string: the import cannot be known",
                                "offset " + at));
                        push(new Global("?", "?", false));
                    } else {
                        push(global(m.s(), n.s(), at));
                    }
                }
                case 'i' -> { // INST: load_inst takes the mark first, then reads the names, imports and calls
                    int m = popMarkIndex();
                    String module = line();
                    String name = line();
                    Global g = global(module, name, at);
                    stack.subList(m, stack.size()).clear();
                    call(g, "INST", at);
                }
                case 'o' -> { // OBJ: mark, cls, args...
                    int m = popMarkIndex();
                    if (stack.size() - m < 1) throw new Broken("OBJ without a class (stack underflow)");
                    Value cls = stack.get(m);
                    stack.subList(m, stack.size()).clear();
                    call(cls, "OBJ", at);
                }
                case 'R' -> { pop(); call(pop(), "REDUCE", at); }
                case 0x81 -> { pop(); call(pop(), "NEWOBJ", at); }
                case 0x92 -> { pop(); pop(); call(pop(), "NEWOBJ_EX", at); }
                case 'b' -> build(at);
                case 'P' -> { line(); push(OTHER); }
                case 'Q' -> { pop(); push(OTHER); }
                case 0x82, 0x83, 0x84 -> { // EXT1/2/4: an extension registry import, unknowable statically
                    skip(op == 0x82 ? 1 : op == 0x83 ? 2 : 4);
                    findings.add(new Finding(file, Rule.PICKLE_EXTENSION,
                            "EXT opcode: imports an object from the copyreg extension registry, which cannot be checked",
                            "offset " + at));
                    push(new Global("copyreg", "extension", false));
                }
                default -> throw new Broken(String.format("unknown opcode 0x%02x", op));
            }
        }
    }

    /**
     * BUILD (load_build): pops the state and applies it to the object below, by its
     * {@code __setstate__} or by writing into its {@code __dict__} and attributes. Only objects made
     * by an allowlisted constructor may receive state; an imported class or function itself
     * ({@code torch.FloatStorage}) would have its attributes overwritten.
     */
    private void build(int at) {
        if (stack.size() - 2 < fence()) throw new Broken("stack underflow at BUILD");
        pop();
        Value target = top();
        if (target instanceof Obj o && o.from() != null && o.from().allowed()) return;
        unsafeCalls++;
        String what = switch (target) {
            case Global g -> "sets attributes on the imported object " + g.module() + "." + g.name() + " itself";
            case Obj o when o.from() != null -> "sets state on an object of the disallowed class " + o.from().module() + "."
                    + o.from().name() + ", which may call its __setstate__";
            default -> "sets state on a value that no allowlisted constructor made";
        };
        String detail = (target instanceof Global g ? g.module() + "." + g.name() + " at " : target instanceof Obj o
                && o.from() != null ? o.from().module() + "." + o.from().name() + " at " : "at ") + "offset " + at;
        findings.add(new Finding(file, Rule.PICKLE_CALL, "BUILD " + what, detail));
    }

    private Global global(String module, String name, int at) {
        boolean ok = PickleImports.allowed(module, name);
        if (!ok) {
            Finding.Severity s = PickleImports.severity(module, name);
            findings.add(new Finding(file, s == Finding.Severity.CRITICAL ? Rule.PICKLE_DANGEROUS_IMPORT : Rule.PICKLE_UNKNOWN_IMPORT,
                    PickleImports.explain(module, name, s), module + "." + name + " at offset " + at));
        }
        return new Global(module, name, ok);
    }

    private void call(Value callable, String opcode, int at) {
        if (callable instanceof Global g) {
            if (!g.allowed()) unsafeCalls++;
            push(new Obj(g));
            return;
        }
        unsafeCalls++;
        findings.add(new Finding(file, Rule.PICKLE_CALL,
                opcode + " calls something that is not an allowed import (a computed callable)", "offset " + at));
        push(OTHER);
    }

    // --- stack and memo: one object stack, one mark stack; the top mark is a fence (Pdata.fence)

    private int fence() {
        return marks.isEmpty() ? 0 : marks.getLast();
    }

    private void push(Value v) {
        if (stack.size() >= MAX_STACK) throw new Broken("stack larger than " + MAX_STACK);
        stack.add(v);
    }

    private Value pop() {
        if (stack.size() <= fence()) throw new Broken("stack underflow");
        return stack.removeLast();
    }

    private Value top() {
        if (stack.size() <= fence()) throw new Broken("stack underflow");
        return stack.getLast();
    }

    private void popMark() {
        int m = popMarkIndex();
        stack.subList(m, stack.size()).clear();
    }

    private int popMarkIndex() {
        if (marks.isEmpty()) throw new Broken("could not find MARK");
        return marks.removeLast();
    }

    private void memoPut(long key) {
        if (memo.size() >= MAX_MEMO && !memo.containsKey(key)) throw new Broken("memo larger than " + MAX_MEMO);
        memo.put(key, top());
    }

    private Value memoGet(long key) {
        Value v = memo.get(key);
        if (v == null) throw new Broken("memo key " + key + " was never stored");
        return v;
    }

    /** PUT/GET keys: {@code PyLong_FromString(s, NULL, 10)}: whitespace, sign, digits with single underscores. */
    private static long memoKey(String line, String opcode) {
        String s = line.strip();
        if (!s.matches("[+-]?[0-9](_?[0-9])*")) throw new Broken("invalid " + opcode + " argument");
        String digits = s.replace("_", "").replace("+", "");
        if (digits.startsWith("-")) throw new Broken("negative " + opcode + " argument");
        if (digits.length() > 18) throw new Broken(opcode + " argument too large");
        return Long.parseLong(digits);
    }

    // --- reading

    /**
     * {@code _Unpickler_Read(n)}: from the buffer when it holds n more bytes; otherwise (reading a
     * file) the rest of the buffer is dropped and n fresh bytes are read after it.
     */
    private void ensure(int n) {
        if (n <= bufEnd - pos) return;
        if (streamed) {
            pos = bufEnd;
            if (n > data.length - pos) throw new Broken("truncated", true);
            bufEnd = pos + n;
            return;
        }
        throw new Broken("truncated", true);
    }

    private long le(int n) {
        ensure(n);
        long v = 0;
        for (int i = 0; i < n; i++) v |= (long) (data[pos + i] & 0xff) << (8 * i);
        pos += n;
        return v;
    }

    private int u8() {
        return (int) le(1);
    }

    private int u16() {
        return (int) le(2);
    }

    private long u32() {
        return le(4);
    }

    private long u64() {
        return le(8);
    }

    private int signedLen32(String opcode) {
        int n = (int) u32();
        if (n < 0) throw new Broken(opcode + " with a negative byte count");
        return n;
    }

    private int len32() {
        long n = u32();
        if (n > data.length) throw new Broken("truncated", true);
        return (int) n;
    }

    private int len64() {
        long n = u64();
        if (n < 0 || n > data.length) throw new Broken("truncated", true);
        return (int) n;
    }

    private void skip(int n) {
        ensure(n);
        pos += n;
    }

    private String text(int n) {
        ensure(n);
        String s = new String(data, pos, n, StandardCharsets.UTF_8);
        pos += n;
        return s;
    }

    /**
     * A line without its newline ({@code _Unpickler_Readline}): from the buffer when it holds a
     * newline; reading a file, otherwise the rest of the buffer is dropped and {@code readline()}
     * reads on after it. A missing newline is truncation.
     */
    private String line() {
        return line(StandardCharsets.UTF_8);
    }

    private String line(Charset charset) {
        int nl = indexOfNewline(pos, bufEnd);
        if (nl < 0) {
            if (!streamed) throw new Broken("truncated line", true);
            pos = bufEnd;
            nl = indexOfNewline(pos, data.length);
            if (nl < 0) throw new Broken("truncated line", true);
            bufEnd = nl + 1;
        }
        String s = new String(data, pos, nl - pos, charset);
        pos = nl + 1;
        return s;
    }

    private int indexOfNewline(int from, int to) {
        for (int i = from; i < to; i++) {
            if (data[i] == '\n') return i;
            if (i - from > 1 << 20) throw new Broken("line longer than 1 MiB");
        }
        return -1;
    }

    /** STRING (load_string): the outermost quotes are stripped, then Python escapes decoded (PyBytes_DecodeEscape). */
    static String stringOpcode(String s) {
        if (s.length() < 2 || s.charAt(0) != s.charAt(s.length() - 1) || (s.charAt(0) != '\'' && s.charAt(0) != '"')) {
            throw new Broken("the STRING opcode argument must be quoted");
        }
        return decodeEscapes(s.substring(1, s.length() - 1).getBytes(StandardCharsets.UTF_8));
    }

    private static String decodeEscapes(byte[] b) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (int i = 0; i < b.length; i++) {
            int c = b[i] & 0xff;
            if (c != '\\' || i + 1 >= b.length) {
                if (c == '\\') throw new Broken("STRING ends with a lone backslash");
                o.write(c);
                continue;
            }
            int e = b[++i] & 0xff;
            switch (e) {
                case '\n' -> { }
                case '\\', '\'', '"' -> o.write(e);
                case 'a' -> o.write(7);
                case 'b' -> o.write(8);
                case 'f' -> o.write(12);
                case 'n' -> o.write(10);
                case 'r' -> o.write(13);
                case 't' -> o.write(9);
                case 'v' -> o.write(11);
                case 'x' -> {
                    if (i + 2 >= b.length || Character.digit(b[i + 1], 16) < 0 || Character.digit(b[i + 2], 16) < 0) {
                        throw new Broken("invalid \\x escape in STRING");
                    }
                    o.write(Character.digit(b[i + 1], 16) * 16 + Character.digit(b[i + 2], 16));
                    i += 2;
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        int v = e - '0';
                        for (int k = 0; k < 2 && i + 1 < b.length && b[i + 1] >= '0' && b[i + 1] <= '7'; k++) v = v * 8 + (b[++i] - '0');
                        o.write(v & 0xff);
                    } else {
                        o.write('\\');
                        o.write(e);
                    }
                }
            }
        }
        return o.toString(StandardCharsets.UTF_8);
    }

    /** UNICODE (load_unicode): raw-unicode-escape, i.e. only backslash-u and backslash-U escapes are decoded. */
    static String rawUnicodeEscape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length() && (s.charAt(i + 1) == 'u' || s.charAt(i + 1) == 'U')) {
                int n = s.charAt(i + 1) == 'u' ? 4 : 8;
                if (i + 2 + n > s.length()) throw new Broken("truncated \\uXXXX escape in UNICODE");
                String hex = s.substring(i + 2, i + 2 + n);
                if (!hex.matches("[0-9a-fA-F]+")) throw new Broken("truncated \\uXXXX escape in UNICODE");
                long cp = Long.parseLong(hex, 16);
                if (cp > Character.MAX_CODE_POINT) throw new Broken("\\Uxxxxxxxx out of range in UNICODE");
                b.appendCodePoint((int) cp);
                i += 1 + n;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}

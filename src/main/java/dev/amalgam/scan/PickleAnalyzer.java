package dev.amalgam.scan;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A static pickle analyser (protocols 0-5): walks the opcodes with a stack and memo emulation,
 * resolving every import (GLOBAL, INST, STACK_GLOBAL with operands from any push or memo path)
 * and every call-capable opcode (REDUCE, INST, OBJ, NEWOBJ, NEWOBJ_EX, BUILD). Nothing is ever
 * executed. Anything it cannot follow (truncation, unknown opcode, a broken FRAME, limits) is
 * reported as unscannable, never as clean; findings made before such a point are kept.
 */
public final class PickleAnalyzer {
    static final int MAX_OPCODES = 20_000_000;
    static final int MAX_MEMO = 1_000_000;
    static final int MAX_STACK = 1_000_000;
    static final int MAX_MARKS = 100_000;

    /** What emulation knows about a stack value. */
    private sealed interface Value {
    }

    private record Str(String s) implements Value {
    }

    private record Global(String module, String name, boolean allowed) implements Value {
    }

    /** The result of calling a global (allowed or not) or anything else we do not model. */
    private record Obj(Global from) implements Value {
    }

    private record Mark() implements Value {
    }

    private static final Value OTHER = new Obj(null);
    private static final Value MARK = new Mark();

    private final byte[] data;
    private final String file;
    private final List<Finding> findings;
    private int pos;

    private PickleAnalyzer(byte[] data, int start, String file, List<Finding> findings) {
        this.data = data;
        this.pos = start;
        this.file = file;
        this.findings = findings;
    }

    /** Result of one pickle: where it ended (the byte after STOP), and whether it was followed to its end. */
    public record Result(int end, boolean complete, List<String> literalInts) {
    }

    /** Analyses the pickle starting at {@code start}; adds findings; never throws on bad input. */
    public static Result analyze(byte[] data, int start, String file, List<Finding> findings) {
        PickleAnalyzer a = new PickleAnalyzer(data, start, file, findings);
        try {
            return a.run(start);
        } catch (Broken e) {
            findings.add(new Finding(file, "unscannable.pickle", Finding.Severity.HIGH,
                    "the pickle cannot be analysed to its end: " + e.getMessage(), "offset " + a.pos));
            return new Result(a.pos, false, List.of());
        }
    }

    /** True when the bytes form one complete pickle from the start (used to spot polyglots). */
    public static boolean isCompletePickle(byte[] data) {
        List<Finding> ignored = new ArrayList<>();
        Result r = analyze(data, 0, "", ignored);
        return r.complete() && ignored.stream().noneMatch(Finding::unscannable);
    }

    private static final class Broken extends RuntimeException {
        Broken(String m) {
            super(m, null, false, false);
        }
    }

    private final List<Value> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Value> memo = new HashMap<>();
    private final List<String> ints = new ArrayList<>();

    private Result run(int start) {
        long frameEnd = -1;
        int count = 0;
        while (true) {
            if (frameEnd >= 0 && pos > frameEnd) throw new Broken("an opcode crosses the end of its FRAME");
            if (frameEnd >= 0 && pos == frameEnd) frameEnd = -1;
            if (++count > MAX_OPCODES) throw new Broken("more than " + MAX_OPCODES + " opcodes");
            int at = pos;
            int op = u8();
            switch (op) {
                case 0x80 -> { // PROTO
                    int v = u8();
                    if (at != start) throw new Broken("PROTO is only valid at the start");
                    if (v > 5) throw new Broken("unknown pickle protocol " + v);
                }
                case 0x95 -> { // FRAME
                    if (frameEnd >= 0) throw new Broken("FRAME inside another FRAME");
                    long len = u64();
                    if (len < 0 || pos + len > data.length) throw new Broken("FRAME length " + len + " exceeds the data");
                    frameEnd = pos + len;
                }
                case '.' -> { // STOP
                    if (frameEnd >= 0 && pos != frameEnd) throw new Broken("STOP before the end of its FRAME");
                    return new Result(pos, true, ints);
                }
                case '(' -> {
                    if (marks.size() >= MAX_MARKS) throw new Broken("too deeply nested (marks)");
                    marks.add(stack.size());
                }
                case '0' -> pop();
                case '1' -> popMark();
                case '2' -> push(peek());
                case 'F', 'L' -> { line(); push(OTHER); }
                case 'I' -> { ints.add(line()); push(OTHER); }
                case 'J' -> { ints.add(Integer.toString(s32())); push(OTHER); }
                case 'K' -> { ints.add(Integer.toString(u8())); push(OTHER); }
                case 'M' -> { ints.add(Integer.toString(u16())); push(OTHER); }
                case 0x8a -> { skip(u8()); ints.add("long1"); push(OTHER); }
                case 0x8b -> { skip(len32()); push(OTHER); }
                case 'G' -> { skip(8); push(OTHER); }
                case 'N', 0x88, 0x89 -> push(OTHER);
                case 'S' -> push(new Str(unquote(line())));
                case 'V' -> push(new Str(line()));
                case 'T' -> push(new Str(text(len32())));
                case 'U' -> push(new Str(text(u8())));
                case 'X' -> push(new Str(text(len32())));
                case 0x8c -> push(new Str(text(u8())));
                case 0x8d -> push(new Str(text(len64())));
                case 'B' -> { skip(len32()); push(OTHER); }
                case 'C' -> { skip(u8()); push(OTHER); }
                case 0x8e, 0x96 -> { skip(len64()); push(OTHER); }
                case 0x97, 0x98 -> {
                    if (op == 0x97) push(OTHER); else peek();
                }
                case '}', ']', ')', 0x8f -> push(OTHER);
                case 'd', 'l', 't', 0x91 -> { popMark(); push(OTHER); }
                case 0x85 -> { pop(); push(OTHER); }
                case 0x86 -> { pop(); pop(); push(OTHER); }
                case 0x87 -> { pop(); pop(); pop(); push(OTHER); }
                case 'a' -> { pop(); peek(); }
                case 'e', 'u', 0x90 -> { popMark(); peek(); }
                case 's' -> { pop(); pop(); peek(); }
                case 'p' -> memoPut(Long.parseLong(checkedInt(line())));
                case 'q' -> memoPut(u8());
                case 'r' -> memoPut(u32());
                case 0x94 -> memoPut(memo.size());
                case 'g' -> push(memoGet(Long.parseLong(checkedInt(line()))));
                case 'h' -> push(memoGet(u8()));
                case 'j' -> push(memoGet(u32()));
                case 'c' -> { // GLOBAL module\nname\n
                    String module = line();
                    String name = line();
                    push(global(module, name, at));
                }
                case 0x93 -> { // STACK_GLOBAL
                    Value name = pop();
                    Value module = pop();
                    if (!(module instanceof Str m) || !(name instanceof Str n)) {
                        findings.add(new Finding(file, "pickle.unresolved-global", Finding.Severity.CRITICAL,
                                "STACK_GLOBAL with an operand that is not a plain string: the import cannot be known",
                                "offset " + at));
                        push(new Global("?", "?", false));
                    } else {
                        push(global(m.s(), n.s(), at));
                    }
                }
                case 'i' -> { // INST module\nname\n: import + call
                    String module = line();
                    String name = line();
                    Global g = global(module, name, at);
                    popMark();
                    call(g, "INST", at);
                }
                case 'o' -> { // OBJ: mark, cls, args...
                    int m = popMarkIndex();
                    if (stack.size() - m < 1) throw new Broken("OBJ without a class");
                    Value cls = stack.get(m);
                    stack.subList(m, stack.size()).clear();
                    call(cls, "OBJ", at);
                }
                case 'R' -> { pop(); call(pop(), "REDUCE", at); }
                case 0x81 -> { pop(); call(pop(), "NEWOBJ", at); }
                case 0x92 -> { pop(); pop(); call(pop(), "NEWOBJ_EX", at); }
                case 'b' -> { // BUILD: state applied to the object (may call __setstate__)
                    pop();
                    Value obj = peek();
                    if (obj instanceof Obj o && o.from() != null && !o.from().allowed()) {
                        findings.add(new Finding(file, "pickle.call", Finding.Severity.HIGH,
                                "BUILD sets state on an object of a disallowed class, which may call its __setstate__",
                                o.from().module() + "." + o.from().name() + " at offset " + at));
                    }
                }
                case 'P' -> { line(); push(OTHER); }
                case 'Q' -> { pop(); push(OTHER); }
                case 0x82, 0x83, 0x84 -> { // EXT1/2/4: an extension registry import, unknowable statically
                    skip(op == 0x82 ? 1 : op == 0x83 ? 2 : 4);
                    findings.add(new Finding(file, "pickle.extension", Finding.Severity.CRITICAL,
                            "EXT opcode: imports an object from the copyreg extension registry, which cannot be checked",
                            "offset " + at));
                    push(new Global("copyreg", "extension", false));
                }
                default -> throw new Broken(String.format("unknown opcode 0x%02x", op));
            }
        }
    }

    private Global global(String module, String name, int at) {
        boolean ok = PickleImports.allowed(module, name);
        if (!ok) {
            Finding.Severity s = PickleImports.severity(module, name);
            findings.add(new Finding(file, s == Finding.Severity.CRITICAL ? "pickle.dangerous-import" : "pickle.unknown-import",
                    s, PickleImports.explain(module, name, s), module + "." + name + " at offset " + at));
        }
        return new Global(module, name, ok);
    }

    private void call(Value callable, String opcode, int at) {
        if (callable instanceof Global g) {
            push(new Obj(g));
            return;
        }
        findings.add(new Finding(file, "pickle.call", Finding.Severity.HIGH,
                opcode + " calls something that is not an allowed import (a computed callable)", "offset " + at));
        push(OTHER);
    }

    // --- stack and memo

    private void push(Value v) {
        if (stack.size() >= MAX_STACK) throw new Broken("stack larger than " + MAX_STACK);
        stack.add(v);
    }

    private Value pop() {
        int floor = marks.isEmpty() ? 0 : marks.getLast();
        if (stack.size() <= floor) throw new Broken("stack underflow");
        return stack.removeLast();
    }

    private Value peek() {
        if (stack.isEmpty()) throw new Broken("stack underflow");
        return stack.getLast();
    }

    private void popMark() {
        int m = popMarkIndex();
        stack.subList(m, stack.size()).clear();
    }

    private int popMarkIndex() {
        if (marks.isEmpty()) throw new Broken("no MARK to pop");
        return marks.removeLast();
    }

    private void memoPut(long key) {
        if (memo.size() >= MAX_MEMO && !memo.containsKey(key)) throw new Broken("memo larger than " + MAX_MEMO);
        memo.put(key, peek());
    }

    private Value memoGet(long key) {
        Value v = memo.get(key);
        if (v == null) throw new Broken("memo key " + key + " was never stored");
        return v;
    }

    // --- reading

    private int u8() {
        if (pos >= data.length) throw new Broken("truncated");
        return data[pos++] & 0xff;
    }

    private int u16() {
        return u8() | (u8() << 8);
    }

    private long u32() {
        return (u8() | (u8() << 8) | (u8() << 16) | ((long) u8() << 24));
    }

    private int s32() {
        return (int) u32();
    }

    private long u64() {
        long v = 0;
        for (int i = 0; i < 8; i++) v |= (long) u8() << (8 * i);
        return v;
    }

    private int len32() {
        long n = u32();
        if (n > data.length - pos) throw new Broken("length " + n + " exceeds the data");
        return (int) n;
    }

    private int len64() {
        long n = u64();
        if (n < 0 || n > data.length - pos) throw new Broken("length " + n + " exceeds the data");
        return (int) n;
    }

    private void skip(int n) {
        if (n < 0 || n > data.length - pos) throw new Broken("truncated");
        pos += n;
    }

    private String text(int n) {
        if (n < 0 || n > data.length - pos) throw new Broken("truncated");
        String s = new String(data, pos, n, StandardCharsets.UTF_8);
        pos += n;
        return s;
    }

    private String line() {
        int start = pos;
        while (pos < data.length && data[pos] != '\n') {
            if (pos - start > 1 << 20) throw new Broken("line longer than 1 MiB");
            pos++;
        }
        if (pos >= data.length) throw new Broken("truncated line");
        String s = new String(data, start, pos - start, StandardCharsets.UTF_8);
        pos++;
        return s;
    }

    private static String checkedInt(String s) {
        if (!s.matches("-?\\d{1,18}")) throw new Broken("invalid integer '" + s + "'");
        return s;
    }

    private static String unquote(String s) {
        if (s.length() >= 2 && (s.charAt(0) == '\'' || s.charAt(0) == '"') && s.charAt(s.length() - 1) == s.charAt(0)) {
            return s.substring(1, s.length() - 1);
        }
        throw new Broken("STRING operand is not quoted");
    }
}

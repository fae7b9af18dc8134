package dev.amalgam.scan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Differential check against CPython: generated pickles (the tricky opcodes of issue 15 included:
 * POP after MARK, FRAMEs that end mid-opcode, PROTO anywhere or nowhere, text memo keys, escaped
 * strings) are given to CPython's C unpickler with every import intercepted
 * ({@code src/test/resources/scan/unpickle_imports.py.txt}; nothing is imported or run), and to
 * our emulator. Whatever CPython imports outside the allowlist must be reported, and a pickle
 * CPython loads must never be "could not scan". Skipped when no python3 is installed.
 */
class PickleDifferentialTest {
    /** More cases or another seed for a longer hunt: -Damalgam.scan.diffCases=20000 -Damalgam.scan.diffSeed=7. */
    private static final int CASES = Integer.getInteger("amalgam.scan.diffCases", 1500);
    private static final String[][] GLOBALS = {{"os", "system"}, {"posix", "system"}, {"collections", "OrderedDict"},
        {"torch._utils", "_rebuild_tensor_v2"}, {"builtins", "getattr"}, {"__builtin__", "eval"}, {"evil", "Thing"},
        {"torch", "FloatStorage"}, {"copy_reg", "_reconstructor"}, {"builtins", "set"}, {"subprocess", "Popen"}};

    @TempDir
    Path tmp;

    @Test
    void everyImportCPythonMakesIsReportedAndNothingCPythonLoadsIsUnscannable() throws Exception {
        Assumptions.assumeTrue(python(), "python3 with the C unpickler is not installed");
        SplittableRandom rnd = new SplittableRandom(Long.getLong("amalgam.scan.diffSeed", 15));
        Map<String, byte[]> cases = new HashMap<>();
        for (int i = 0; i < CASES; i++) {
            byte[] p = generate(rnd);
            if (rnd.nextInt(5) == 0) p = mutate(p, rnd);
            String name = String.format("case%05d", i);
            cases.put(name, p);
            Files.write(tmp.resolve(name), p);
        }
        Path script = Path.of(getClass().getResource("/scan/unpickle_imports.py.txt").toURI());
        Process proc = new ProcessBuilder("python3", script.toString(), tmp.toString()).redirectErrorStream(false).start();
        proc.getOutputStream().close();
        byte[] out = proc.getInputStream().readAllBytes();
        String err = new String(proc.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(proc.waitFor(5, TimeUnit.MINUTES));
        assertEquals(0, proc.exitValue(), err);
        ObjectMapper json = new ObjectMapper();
        int loaded = 0;
        int importing = 0;
        for (String line : new String(out, StandardCharsets.UTF_8).lines().toList()) {
            JsonNode r = json.readTree(line);
            String name = r.get("file").asText();
            byte[] p = cases.get(name);
            List<Finding> ours = new ArrayList<>();
            Scanner.content(p, name, Format.PICKLE, 0, ours);
            boolean ok = r.get("ok").asBoolean();
            if (ok) {
                loaded++;
                if (ours.stream().anyMatch(f -> f.rule().equals("unscannable.pickle"))) {
                    fail("CPython loads " + name + " but we could not scan it: " + ours + " " + hex(p));
                }
            }
            for (JsonNode imp : r.get("imports")) {
                String module = imp.get(0).asText();
                String global = imp.get(1).asText();
                if (PickleImports.allowed(module, global)) continue;
                importing++;
                boolean reported = ours.stream().anyMatch(f -> (f.rule().startsWith("pickle.")) && f.detail() != null
                        && f.detail().startsWith(module + "." + global + " at offset"));
                if (!reported) fail("CPython imports " + module + "." + global + " from " + name + ", we report " + ours + " " + hex(p));
            }
        }
        assertEquals(CASES, cases.size());
        assertTrue(loaded > CASES / 4, "the generator should mostly make loadable pickles: " + loaded);
        assertTrue(importing > CASES / 4, "and many with imports: " + importing);
    }

    private static boolean python() {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import _pickle").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    /** A pickle built opcode by opcode while tracking what CPython's stack would hold, so most are loadable. */
    static byte[] generate(SplittableRandom rnd) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        List<Character> stack = new ArrayList<>(); // 's' str, 'g' global, 'c' callable result, 'd' dict, 'l' list, 'o' other
        List<Integer> marks = new ArrayList<>();
        int memo = 0;
        if (rnd.nextInt(3) > 0) o.writeBytes(new byte[] {(byte) 0x80, (byte) rnd.nextInt(6)});
        int steps = 3 + rnd.nextInt(25);
        for (int i = 0; i < steps; i++) {
            int fence = marks.isEmpty() ? 0 : marks.getLast();
            int above = stack.size() - fence;
            switch (rnd.nextInt(20)) {
                case 0 -> { o.write('('); marks.add(stack.size()); }
                case 1 -> { // POP: pops a mark sitting on top (load_pop)
                    if (!marks.isEmpty() && marks.getLast() == stack.size()) { o.write('0'); marks.removeLast(); }
                    else if (above > 0) { o.write('0'); stack.removeLast(); }
                }
                case 2 -> { // a string, in one of the encodings
                    String s = rnd.nextBoolean() ? GLOBALS[rnd.nextInt(GLOBALS.length)][0] : GLOBALS[rnd.nextInt(GLOBALS.length)][1];
                    writeString(o, s, rnd);
                    stack.add('s');
                }
                case 3 -> { // STACK_GLOBAL from two strings pushed now
                    String[] g = GLOBALS[rnd.nextInt(GLOBALS.length)];
                    writeString(o, g[0], rnd);
                    writeString(o, g[1], rnd);
                    o.write(0x93);
                    stack.add('g');
                }
                case 4 -> { // GLOBAL
                    String[] g = GLOBALS[rnd.nextInt(GLOBALS.length)];
                    o.writeBytes(("c" + g[0] + "\n" + g[1] + "\n").getBytes(StandardCharsets.UTF_8));
                    stack.add('g');
                }
                case 5 -> { // REDUCE: callable, args tuple
                    if (above >= 1 && stack.getLast() == 'g') { o.write(')'); o.write('R'); stack.set(stack.size() - 1, 'c'); }
                }
                case 6 -> { // memo put in one of the spellings
                    if (above > 0) {
                        switch (rnd.nextInt(4)) {
                            case 0 -> o.writeBytes(("p" + memo + "\n").getBytes());
                            case 1 -> o.writeBytes(("p " + (memo >= 10 ? memo / 10 + "_" + memo % 10 : memo) + "\n").getBytes());
                            case 2 -> { o.write('q'); o.write(memo); }
                            default -> { o.write('r'); o.writeBytes(new byte[] {(byte) memo, 0, 0, 0}); }
                        }
                        memo++;
                    }
                }
                case 7 -> { // memo get
                    if (memo > 0) {
                        int k = rnd.nextInt(memo);
                        if (rnd.nextBoolean()) o.writeBytes(("g" + k + "\n").getBytes()); else { o.write('h'); o.write(k); }
                        stack.add('o');
                    }
                }
                case 8 -> { o.write(rnd.nextBoolean() ? 'N' : ']'); stack.add(rnd.nextBoolean() ? 'o' : 'l'); }
                case 9 -> { o.write('}'); stack.add('d'); }
                case 10 -> { // TUPLE / LIST / DICT-less close of the current mark
                    if (!marks.isEmpty()) {
                        o.write(rnd.nextBoolean() ? 't' : 'l');
                        int m = marks.removeLast();
                        while (stack.size() > m) stack.removeLast();
                        stack.add('o');
                    }
                }
                case 11 -> { // FRAME of a random, possibly straddling, length
                    int len = rnd.nextInt(12);
                    o.write(0x95);
                    o.writeBytes(new byte[] {(byte) len, 0, 0, 0, 0, 0, 0, 0});
                    // the frame must exist in the data: pad with harmless NONE+POP pairs if needed at the end
                }
                case 12 -> o.writeBytes(new byte[] {(byte) 0x80, (byte) rnd.nextInt(6)}); // PROTO anywhere
                case 13 -> { if (above > 0) { o.write('2'); stack.add(stack.getLast()); } }
                case 14 -> { // BUILD on the object below (state on top)
                    if (above >= 1) { o.write('}'); o.write('b'); }
                }
                case 15 -> { // INST with the current mark
                    if (!marks.isEmpty()) {
                        String[] g = GLOBALS[rnd.nextInt(GLOBALS.length)];
                        o.writeBytes(("i" + g[0] + "\n" + g[1] + "\n").getBytes());
                        int m = marks.removeLast();
                        while (stack.size() > m) stack.removeLast();
                        stack.add('c');
                    }
                }
                case 16 -> { // APPEND to a list below
                    if (above >= 2 && stack.get(stack.size() - 2) == 'l') { o.write('a'); stack.removeLast(); }
                }
                case 17 -> { // POP_MARK
                    if (!marks.isEmpty()) {
                        o.write('1');
                        int m = marks.removeLast();
                        while (stack.size() > m) stack.removeLast();
                    }
                }
                case 18 -> { o.writeBytes(("I" + rnd.nextInt(100) + "\n").getBytes()); stack.add('o'); }
                default -> { // NEWOBJ on a global
                    if (above >= 1 && stack.getLast() == 'g') { o.write(')'); o.write(0x81); stack.set(stack.size() - 1, 'c'); }
                }
            }
        }
        if (stack.size() <= (marks.isEmpty() ? 0 : marks.getLast())) o.write('N');
        o.write('.');
        o.writeBytes(new byte[12]); // trailing bytes: FRAMEs near the end must find their length in the data
        return o.toByteArray();
    }

    private static void writeString(ByteArrayOutputStream o, String s, SplittableRandom rnd) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        switch (rnd.nextInt(6)) {
            case 0 -> { o.write(0x8c); o.write(b.length); o.writeBytes(b); }
            case 1 -> { o.write('X'); o.writeBytes(new byte[] {(byte) b.length, 0, 0, 0}); o.writeBytes(b); }
            case 2 -> { // UNICODE with raw-unicode-escapes for some letters
                StringBuilder v = new StringBuilder("V");
                for (char c : s.toCharArray()) v.append(rnd.nextInt(3) == 0 ? String.format("\\u%04x", (int) c) : String.valueOf(c));
                o.writeBytes((v + "\n").getBytes(StandardCharsets.UTF_8));
            }
            case 3 -> { // STRING with Python escapes
                StringBuilder v = new StringBuilder("S'");
                for (char c : s.toCharArray()) v.append(rnd.nextInt(3) == 0 ? String.format("\\x%02x", (int) c) : String.valueOf(c));
                o.writeBytes((v + "'\n").getBytes(StandardCharsets.UTF_8));
            }
            case 4 -> { o.write('U'); o.write(b.length); o.writeBytes(b); }
            default -> { o.write(0x8d); o.writeBytes(new byte[] {(byte) b.length, 0, 0, 0, 0, 0, 0, 0}); o.writeBytes(b); }
        }
    }

    private static byte[] mutate(byte[] p, SplittableRandom rnd) {
        byte[] m = p.clone();
        int at = rnd.nextInt(m.length);
        m[at] = (byte) "()0N.2R}]tlqhpgc\u0093\u0095\u0080b".charAt(rnd.nextInt(20));
        return m;
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) s.append(String.format("%02x", x));
        return s.toString();
    }
}

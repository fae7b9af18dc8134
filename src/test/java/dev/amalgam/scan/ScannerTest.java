package dev.amalgam.scan;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One test per bypass technique, plus benign real-shaped files that must stay clean. */
class ScannerTest {
    @TempDir
    Path tmp;

    private ScanReport scanBytes(String name, byte[] content) throws Exception {
        Path f = tmp.resolve(name);
        Files.createDirectories(f.getParent());
        Files.write(f, content);
        return Scanner.scan(f);
    }

    private static boolean has(ScanReport r, String rule, String detailPart) {
        return r.findings().stream().anyMatch(f -> f.rule().equals(rule) && (detailPart == null
                || (f.detail() != null && f.detail().contains(detailPart)) || f.message().contains(detailPart)));
    }

    // --- benign files stay clean

    @Test
    void torchStateDictPickleIsClean() throws Exception {
        ScanReport r = scanBytes("data.pkl", Pickles.stateDict());
        assertEquals(ScanReport.Verdict.CLEAN, r.verdict(), r.findings().toString());
    }

    @Test
    void torchZipCheckpointIsClean() throws Exception {
        ScanReport r = scanBytes("pytorch_model.bin", torchZip(Pickles.stateDict(), "archive/data.pkl"));
        assertEquals(ScanReport.Verdict.CLEAN, r.verdict(), r.findings().toString());
    }

    @Test
    void safetensorsAndConfigsAreClean() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("model"));
        Files.write(dir.resolve("model.safetensors"), safetensors());
        Files.writeString(dir.resolve("config.json"), "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":8}");
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"chat_template\":\"{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}{% endfor %}\"}");
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\":{\"type\":\"BPE\"}}");
        ScanReport r = Scanner.scan(dir);
        assertEquals(ScanReport.Verdict.CLEAN, r.verdict(), r.findings().toString());
        assertEquals(4, r.files().size());
    }

    // --- bypasses

    @Test
    void osSystemViaGlobalAndReduce() throws Exception {
        ScanReport r = scanBytes("evil.pkl", Pickles.osSystem());
        assertEquals(ScanReport.Verdict.FINDINGS, r.verdict());
        assertTrue(has(r, "pickle.dangerous-import", "os.system"), r.findings().toString());
    }

    @Test
    void stackGlobalWithOperandsFromTheMemo() throws Exception {
        byte[] p = Pickles.proto(4).str("posix").memoize().str("system").memoize().op('0').op('0')
                .binget(0).binget(1).stackGlobal().str("id").tuple1().reduce().stop().bytes();
        ScanReport r = scanBytes("memo.pkl", p);
        assertTrue(has(r, "pickle.dangerous-import", "posix.system"), r.findings().toString());
    }

    @Test
    void stackGlobalWithANonStringOperandIsDangerous() throws Exception {
        byte[] p = Pickles.proto(4).str("os").int1(7).stackGlobal().stop().bytes();
        ScanReport r = scanBytes("nonstr.pkl", p);
        assertTrue(has(r, "pickle.unresolved-global", null), r.findings().toString());
    }

    @Test
    void dottedQualnameOnAnAllowedModuleIsNotAllowed() throws Exception {
        byte[] p = Pickles.proto(4).str("torch._utils").str("_rebuild_tensor_v2.__globals__").stackGlobal().stop().bytes();
        ScanReport r = scanBytes("dotted.pkl", p);
        assertTrue(has(r, "pickle.dangerous-import", "_rebuild_tensor_v2.__globals__"), r.findings().toString());
    }

    @Test
    void universalResolversAndOperatorGadgets() throws Exception {
        for (String[] g : new String[][] {{"builtins", "getattr"}, {"pkgutil", "resolve_name"}, {"pydoc", "locate"},
                {"_operator", "attrgetter"}, {"operator", "methodcaller"}, {"torch", "load"}, {"torch.hub", "load"},
                {"runpy", "run_path"}, {"__builtin__", "eval"}}) {
            ScanReport r = scanBytes(g[0] + "-" + g[1] + ".pkl",
                    Pickles.proto(2).global(g[0], g[1]).str("x").tuple1().reduce().stop().bytes());
            assertTrue(has(r, "pickle.dangerous-import", g[0] + "." + g[1]), g[0] + "." + g[1] + ": " + r.findings());
        }
    }

    @Test
    void unknownClassViaInstObjNewobjAndBuild() throws Exception {
        byte[] inst = Pickles.proto(0).mark().str("x").raw("iamodule\nSomeClass\n".getBytes()).stop().bytes();
        inst[0] = '('; // protocol 0: no PROTO
        byte[] inst0 = Arrays.copyOfRange(inst, 2, inst.length);
        ScanReport r = scanBytes("inst.pkl", inst0);
        assertTrue(has(r, "pickle.unknown-import", "amodule.SomeClass"), r.findings().toString());
        byte[] newobj = Pickles.proto(2).global("evil", "Thing").emptyTuple().op(0x81).emptyDict().build().stop().bytes();
        ScanReport r2 = scanBytes("newobj.pkl", newobj);
        assertTrue(has(r2, "pickle.unknown-import", "evil.Thing"));
        assertTrue(has(r2, "pickle.call", "evil.Thing"), "BUILD on a disallowed class counts: " + r2.findings());
    }

    @Test
    void extOpcodesAreDangerous() throws Exception {
        ScanReport r = scanBytes("ext.pkl", Pickles.proto(2).op(0x82).op(1).emptyTuple().reduce().stop().bytes());
        assertTrue(has(r, "pickle.extension", null), r.findings().toString());
    }

    /** nullifAI: the malicious part comes first, then a broken tail that makes naive scanners give up. */
    @Test
    void brokenPickleAfterThePayloadStillReportsThePayload() throws Exception {
        byte[] good = Pickles.proto(2).global("os", "system").str("id").tuple1().reduce().bytes();
        byte[] broken = Arrays.copyOf(good, good.length + 3);
        broken[good.length] = (byte) 0xff; // unknown opcode, no STOP
        ScanReport r = scanBytes("nullifai.pkl", broken);
        assertEquals(ScanReport.Verdict.FINDINGS, r.verdict());
        assertTrue(has(r, "pickle.dangerous-import", "os.system"));
        assertTrue(r.findings().stream().anyMatch(Finding::unscannable), "the broken tail is reported too");
    }

    @Test
    void truncatedAndUnknownOpcodesAreNeverClean() throws Exception {
        byte[] sd = Pickles.stateDict();
        ScanReport r = scanBytes("trunc.pkl", Arrays.copyOf(sd, sd.length - 5));
        assertEquals(ScanReport.Verdict.COULD_NOT_SCAN, r.verdict(), r.findings().toString());
        ScanReport r2 = scanBytes("unknown.pkl", Pickles.proto(2).op(0xf0).stop().bytes());
        assertNotEquals(ScanReport.Verdict.CLEAN, r2.verdict());
    }

    @Test
    void protoInTheMiddleIsAcceptedAsCPythonDoesAndFramesBeyondTheDataAreRefused() throws Exception {
        ScanReport r = scanBytes("proto2.pkl", Pickles.proto(2).none().op(0x80).op(2).stop().bytes());
        assertEquals(ScanReport.Verdict.CLEAN, r.verdict(), r.findings().toString());
        byte[] frame = Pickles.proto(4).op(0x95).raw(new byte[] {50, 0, 0, 0, 0, 0, 0, 0}).none().stop().bytes();
        ScanReport r2 = scanBytes("frame.pkl", frame);
        assertTrue(has(r2, "unscannable.pickle", "FRAME"), r2.findings().toString());
    }

    @Test
    void pickleUnderAnyNameInsideAZipIsScanned() throws Exception {
        ScanReport r = scanBytes("model.bin", torchZip(Pickles.osSystem(), "archive/not-a-pickle.txt"));
        assertTrue(has(r, "pickle.dangerous-import", "os.system"), r.findings().toString());
        assertTrue(r.findings().stream().anyMatch(f -> f.file().contains("!archive/not-a-pickle.txt")));
    }

    @Test
    void zipWhoseCentralDirectoryAndLocalHeadersDisagree() throws Exception {
        byte[] zip = torchZip(Pickles.stateDict(), "archive/data.pkl");
        // rename the local header's file name (same length) so the loader and a central-directory scanner see different names
        byte[] name = "archive/data.pkl".getBytes(StandardCharsets.UTF_8);
        int at = indexOf(zip, name);
        System.arraycopy("archive/evil.pkl".getBytes(StandardCharsets.UTF_8), 0, zip, at, name.length);
        ScanReport r = scanBytes("tricky.bin", zip);
        assertTrue(has(r, "zip.inconsistent", "local header names"), r.findings().toString());
    }

    @Test
    void extensionThatLiesAboutTheContent() throws Exception {
        ScanReport r = scanBytes("weights.safetensors", Pickles.stateDict());
        assertTrue(has(r, "format.extension-mismatch", null), r.findings().toString());
    }

    @Test
    void polyglotSafetensorsWithAZipAppended() throws Exception {
        byte[] st = safetensors();
        byte[] zip = torchZip(Pickles.osSystem(), "a/data.pkl");
        byte[] both = Arrays.copyOf(st, st.length + zip.length);
        System.arraycopy(zip, 0, both, st.length, zip.length);
        ScanReport r = scanBytes("poly.safetensors", both);
        assertNotEquals(ScanReport.Verdict.CLEAN, r.verdict(), r.findings().toString());
    }

    @Test
    void repositoryCodeRemoteCodeAndTemplateEscapes() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("repo"));
        Files.writeString(dir.resolve("modeling_evil.py"), "import os\nos.system('id')\n");
        Files.writeString(dir.resolve("config.json"), "{\"auto_map\":{\"AutoModel\":\"modeling_evil.Evil\"}}");
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"chat_template\":\"{{ ''.__class__.__mro__[1].__subclasses__() }}\"}");
        Files.write(dir.resolve("libevil.so"), new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0});
        ScanReport r = Scanner.scan(dir);
        assertTrue(has(r, "code.file", ".py"));
        assertTrue(has(r, "config.remote-code", null));
        assertTrue(has(r, "template.sandbox-escape", null));
        assertTrue(has(r, "code.native", null));
    }

    @Test
    void compressedArchivesCannotBeScanned() throws Exception {
        ScanReport r = scanBytes("weights.tar.gz", new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0});
        assertEquals(ScanReport.Verdict.COULD_NOT_SCAN, r.verdict());
        assertEquals(2, r.exitCode());
    }

    @Test
    void numpyObjectArraysCarryPickles() throws Exception {
        String header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }";
        header = header + " ".repeat(63 - (10 + header.length()) % 64) + "\n";
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) header.length(), 0});
        o.writeBytes(header.getBytes(StandardCharsets.ISO_8859_1));
        o.writeBytes(Pickles.osSystem());
        ScanReport r = scanBytes("arr.npy", o.toByteArray());
        assertTrue(has(r, "numpy.object-array", null));
        assertTrue(has(r, "pickle.dangerous-import", "os.system"), r.findings().toString());
    }

    @Test
    void ggufLicenseIsReported() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(200).order(ByteOrder.LITTLE_ENDIAN);
        b.put("GGUF".getBytes()).putInt(3).putLong(0).putLong(1);
        byte[] key = "general.license".getBytes();
        b.putLong(key.length).put(key).putInt(8);
        byte[] v = "apache-2.0".getBytes();
        b.putLong(v.length).put(v);
        ScanReport r = scanBytes("m.gguf", Arrays.copyOf(b.array(), b.position()));
        assertEquals(ScanReport.Verdict.CLEAN, r.verdict(), r.findings().toString());
        assertTrue(has(r, "gguf.license", "apache-2.0"));
        ScanReport t = scanBytes("t.gguf", Arrays.copyOf(b.array(), b.position() - 4));
        assertEquals(ScanReport.Verdict.COULD_NOT_SCAN, t.verdict());
    }

    @Test
    void legacyTorchMagicMustBeALiteral() throws Exception {
        byte[] magicAsCall = Pickles.proto(2).global("builtins", "int").str("1").tuple1().reduce().stop().bytes();
        byte[] file = concat(magicAsCall, Pickles.proto(2).int1(1).stop().bytes(), Pickles.stateDict());
        ScanReport r = scanBytes("legacy.pt", file);
        assertTrue(has(r, "torch.magic-not-literal", null), r.findings().toString());
    }

    /** Mutations of the fixtures: no exception escapes, and a mutated malicious file is never clean. */
    @Test
    void fuzzedPicklesNeverThrowAndMaliciousOnesAreNeverClean() throws Exception {
        SplittableRandom rnd = new SplittableRandom(42);
        byte[][] seeds = {Pickles.stateDict(), Pickles.osSystem(), torchZip(Pickles.osSystem(), "archive/data.pkl")};
        for (int i = 0; i < 600; i++) {
            int s = i % seeds.length;
            byte[] m = seeds[s].clone();
            int edits = 1 + rnd.nextInt(4);
            for (int e = 0; e < edits; e++) {
                switch (rnd.nextInt(3)) {
                    case 0 -> m[rnd.nextInt(m.length)] = (byte) rnd.nextInt(256);
                    case 1 -> m = Arrays.copyOf(m, Math.max(1, rnd.nextInt(m.length)));
                    default -> {
                        int at = rnd.nextInt(m.length);
                        byte[] n = new byte[m.length + 1];
                        System.arraycopy(m, 0, n, 0, at);
                        n[at] = (byte) rnd.nextInt(256);
                        System.arraycopy(m, at, n, at + 1, m.length - at);
                        m = n;
                    }
                }
            }
            List<Finding> out = new ArrayList<>();
            Scanner.content(m, "fuzz", Format.sniff(m, m.length), 0, out);
            if (s == 1 && Format.sniff(m, m.length) == Format.PICKLE && indexOf(m, "system".getBytes()) >= 0
                    && indexOf(m, "os\n".getBytes()) >= 0) {
                assertTrue(!out.isEmpty(), "mutated malicious pickle judged clean: " + Arrays.toString(m));
            }
        }
    }

    // --- fixtures

    static byte[] torchZip(byte[] pickle, String pickleName) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            stored(z, pickleName, pickle);
            stored(z, "archive/data/0", new byte[16]);
            stored(z, "archive/version", "3\n".getBytes());
        }
        return bytes.toByteArray();
    }

    private static void stored(ZipOutputStream z, String name, byte[] data) throws Exception {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        z.putNextEntry(e);
        z.write(data);
        z.closeEntry();
    }

    static byte[] safetensors() {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"__metadata__\":{\"format\":\"pt\"}}";
        while ((header.length() + 8) % 8 != 0) header += " ";
        ByteBuffer b = ByteBuffer.allocate(8 + header.length() + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length()).put(header.getBytes()).putFloat(1f).putFloat(2f);
        return b.array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) o.writeBytes(p);
        return o.toByteArray();
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }
}

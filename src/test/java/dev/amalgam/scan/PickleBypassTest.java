package dev.amalgam.scan;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pickle bypass classes of issue 15, each built from its technique (text pickles under any
 * name, CPython's unpickler semantics, BUILD on allowlisted globals), and the real checkpoints
 * that must stay clean (fixtures made by PyTorch and NumPy, see src/test/resources/scan/README.md).
 */
class PickleBypassTest {
    @TempDir
    Path tmp;

    /** Protocol 0: {@code os.system('id')} with no PROTO opcode, as pickle.dumps(..., protocol=0) writes it. */
    static final byte[] TEXT_PAYLOAD = "cos\nsystem\n(S'id'\ntR.".getBytes(StandardCharsets.US_ASCII);

    private ScanReport scan(String name, byte[] content) throws Exception {
        Path f = tmp.resolve(name);
        Files.createDirectories(f.getParent());
        Files.write(f, content);
        return Scanner.scan(f);
    }

    private static void assertDangerous(ScanReport r, String global) {
        assertEquals(ScanReport.Verdict.FINDINGS, r.verdict(), r.findings().toString());
        assertTrue(r.findings().stream().anyMatch(f -> f.rule().equals("pickle.dangerous-import") && f.detail().contains(global)),
                r.findings().toString());
    }

    private static void assertClean(ScanReport r) {
        assertEquals(ScanReport.Verdict.CLEAN, r.verdict(), r.findings().toString());
    }

    // --- class 1: text pickles wherever a loader would read them

    @Test
    void protocol0DataPklInATorchZipIsAnalysed() throws Exception {
        ScanReport r = scan("pytorch_model.bin", ScannerTest.torchZip(TEXT_PAYLOAD, "archive/data.pkl"));
        assertDangerous(r, "os.system");
        assertTrue(r.findings().stream().anyMatch(f -> f.file().equals("pytorch_model.bin!archive/data.pkl")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"model.pkl", "README.md", "vocab.txt", "tokenizer.model", "weights.bin", "notes"})
    void protocol0PickleUnderAnyNameIsAPickle(String name) throws Exception {
        assertDangerous(scan(name, TEXT_PAYLOAD), "os.system");
    }

    @Test
    void protocol1BinaryPickleWithoutProtoIsAPickle() throws Exception {
        // protocol 1: EMPTY_DICT BINPUT, then GLOBAL + BINUNICODE + TUPLE1... written without PROTO
        byte[] p = new Pickles().op('c').raw("posix\nsystem\n".getBytes()).op('q').op(0).binunicode("id").tuple1().reduce()
                .stop().bytes();
        assertDangerous(scan("tokenizer.model", p), "posix.system");
        assertDangerous(scan("legacy.pt", p), "posix.system");
    }

    @Test
    void legacyTorchFileMadeOfTextPickles() throws Exception {
        byte[] magic = "L119547037146038801333356L\n.".getBytes(StandardCharsets.US_ASCII);
        byte[] file = concat(magic, "I1001\n.".getBytes(), TEXT_PAYLOAD, new byte[] {1, 2, 3});
        assertDangerous(scan("model.pt", file), "os.system");
    }

    @Test
    void brokenTextPickleStillRunsItsPayload() throws Exception {
        byte[] nullifai = concat(Arrays.copyOf(TEXT_PAYLOAD, TEXT_PAYLOAD.length - 1), "\u00ff garbage".getBytes(StandardCharsets.UTF_8));
        assertDangerous(scan("README.md", nullifai), "os.system");
    }

    @Test
    void ordinaryTextFilesAreNotPickles() throws Exception {
        assertClean(scan("vocab.txt", "cat\ndog\nfish\n(\n.\n".getBytes()));
        assertClean(scan("README.md", "# Model\n\nc'est la vie.\n".getBytes()));
        assertClean(scan("merges.txt", "#version: 0.2\nĠ t\n".getBytes(StandardCharsets.UTF_8)));
    }

    // --- class 2: CPython's unpickler semantics (Modules/_pickle.c)

    @Test
    void popDirectlyAfterMarkPopsTheMark() throws Exception {
        byte[] p = Pickles.proto(2).mark().op('0').global("os", "system").str("id").tuple1().reduce().stop().bytes();
        assertDangerous(scan("popmark.pkl", p), "os.system");
    }

    @Test
    void opcodesStraddlingTheEndOfAFrameAreFine() throws Exception {
        byte[] body = Pickles.proto(4).global("os", "system").str("id").tuple1().reduce().stop().bytes();
        byte[] p = concat(new byte[] {(byte) 0x80, 4, (byte) 0x95, 3, 0, 0, 0, 0, 0, 0, 0}, Arrays.copyOfRange(body, 2, body.length));
        assertDangerous(scan("frame.pkl", p), "os.system");
        byte[] nested = concat(new byte[] {(byte) 0x80, 4, (byte) 0x95, 11, 0, 0, 0, 0, 0, 0, 0, (byte) 0x95, 1, 0, 0, 0, 0, 0, 0, 0},
                Arrays.copyOfRange(body, 2, body.length));
        assertDangerous(scan("frame2.pkl", nested), "os.system");
    }

    @Test
    void protoInTheMiddleOfTheStream() throws Exception {
        byte[] p = Pickles.proto(2).none().op('0').op(0x80).op(5).global("os", "system").str("id").tuple1().reduce().stop().bytes();
        assertDangerous(scan("midproto.pkl", p), "os.system");
        byte[] late = concat(TEXT_PAYLOAD, new byte[0]);
        late = concat("N0\u0080\u0003".getBytes(StandardCharsets.ISO_8859_1), late);
        assertDangerous(scan("late.pkl", late), "os.system");
    }

    @Test
    void memoKeysAndStringsAreReadAsCPythonReadsThem() throws Exception {
        // PUT/GET take PyLong_FromString(s, 10): spaces, signs and underscores; STRING decodes escapes; UNICODE \\u escapes
        byte[] p = ("(S'o\\x73'\np 1_0\n0V\\u0073ystem\np +7\n0g10\ng 7\n\u0093N0.").getBytes(StandardCharsets.ISO_8859_1);
        p = concat(p, new byte[0]);
        ScanReport r = scan("memo.pkl", concat(new byte[] {(byte) 0x80, 4}, Arrays.copyOfRange(p, 1, p.length)));
        assertDangerous(r, "os.system");
    }

    @Test
    void fixImportsMapsPython2NamesForSeverity() throws Exception {
        byte[] p = "c__builtin__\neval\n(S'1'\ntR.".getBytes();
        assertDangerous(scan("py2.pkl", p), "__builtin__.eval");
    }

    // --- class 7: BUILD only on objects of allowlisted constructors

    @Test
    void buildOnAnAllowlistedGlobalItself() throws Exception {
        byte[] p = Pickles.proto(2).global("torch", "FloatStorage").emptyDict().str("__reduce__").none().setitemOne().build()
                .stop().bytes();
        ScanReport r = scan("build.pkl", p);
        assertEquals(ScanReport.Verdict.FINDINGS, r.verdict(), r.findings().toString());
        assertTrue(r.findings().stream().anyMatch(f -> f.rule().equals("pickle.call") && f.detail().contains("torch.FloatStorage")),
                r.findings().toString());
        byte[] onList = Pickles.proto(2).op(']').emptyDict().build().stop().bytes();
        assertEquals(ScanReport.Verdict.FINDINGS, scan("build2.pkl", onList).verdict());
    }

    // --- classes 8 and 9: real checkpoints are not flagged

    @ParameterizedTest
    @ValueSource(strings = {"torch_batchnorm.pt", "torch_int8_fp16.pt", "torch_linear.pt", "torch_linear_proto0.pt",
            "torch_linear_proto1.pt", "torch_linear_legacy.pt", "numpy_float.npy", "numpy_structured.npy", "numpy_arrays.npz",
            "header_640.safetensors", "header_128.safetensors"})
    void realFilesMadeByPyTorchAndNumPyAreClean(String name) throws Exception {
        assertClean(Scanner.scan(fixture(name)));
    }

    @Test
    void numpyObjectArrayFromNumPyIsReported() throws Exception {
        ScanReport r = Scanner.scan(fixture("numpy_object.npy"));
        assertTrue(r.findings().stream().anyMatch(f -> f.rule().equals("numpy.object-array")), r.findings().toString());
    }

    @Test
    void storagesThatLookLikeProtoAreRawBytes() throws Exception {
        for (byte[] storage : new byte[][] {{(byte) 0x80, 0, 0, 0, 0, 0, 0, 0}, {(byte) 0x80, 2, 3, 4}, {0x00, (byte) 0x80, 5}}) {
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            try (var z = new java.util.zip.ZipOutputStream(o)) {
                z.putNextEntry(new java.util.zip.ZipEntry("archive/data.pkl"));
                z.write(Pickles.stateDict());
                z.putNextEntry(new java.util.zip.ZipEntry("archive/data/0"));
                z.write(storage);
            }
            assertClean(scan("m.bin", o.toByteArray()));
        }
    }

    // --- names as given

    @Test
    void filesAreNamedByThePathAsGiven() throws Exception {
        Path sub = Files.createDirectories(tmp.resolve("sub"));
        Files.write(sub.resolve("x.pkl"), Pickles.osSystem());
        Files.write(tmp.resolve("x.pkl"), Pickles.osSystem());
        ScanReport a = Scanner.scan(sub.resolve("x.pkl"), "sub/x.pkl");
        ScanReport b = Scanner.scan(tmp.resolve("x.pkl"), "x.pkl");
        ScanReport c = Scanner.scan(sub, "sub");
        assertEquals("sub/x.pkl", a.findings().getFirst().file());
        assertEquals("x.pkl", b.findings().getFirst().file());
        assertEquals("sub/x.pkl", c.findings().getFirst().file());
        assertEquals("x.pkl", Scanner.scan(sub).findings().getFirst().file());
    }

    static Path fixture(String name) throws Exception {
        return Path.of(PickleBypassTest.class.getResource("/scan/" + name).toURI());
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) o.writeBytes(p);
        return o.toByteArray();
    }
}

package dev.amalgam.scan;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** NumPy object dtypes under any spelling, templates wherever they live, auto_map in every config, and the rule table. */
class RepositoryRulesTest {
    @TempDir
    Path tmp;

    private static final String EVIL_TEMPLATE = "{{ lipsum['__glo' ~ 'bals__']['os'].popen('id').read() }}";

    private ScanReport scan(String name, byte[] content) throws Exception {
        Path f = tmp.resolve(name);
        Files.createDirectories(f.getParent());
        Files.write(f, content);
        return Scanner.scan(f);
    }

    private static boolean has(ScanReport r, String rule) {
        return r.findings().stream().anyMatch(f -> f.rule().equals(rule));
    }

    // --- class 3: NumPy object arrays decided like descr_to_dtype

    static byte[] npy(String header, byte[] data) {
        String h = header + " ".repeat(63 - (10 + header.length()) % 64) + "\n";
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        byte[] hb = h.getBytes(StandardCharsets.ISO_8859_1);
        o.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) hb.length, (byte) (hb.length >> 8)});
        o.writeBytes(hb);
        o.writeBytes(data);
        return o.toByteArray();
    }

    @ParameterizedTest
    @ValueSource(strings = {"'|O'", "'O'", "'O8'", "'<O'", "'=O'", "'object'", "'object_'", "'object0'", "('O', (1,))",
        "('object', 2)", "[('a', '<f4'), ('b', 'O')]", "[('a', '<f4', (2,)), ('b', '|O', (3,))]", "'i4,O'", "'(2,)O'", "'2O'",
        "'ob' 'ject'", "'\\x4f'", "'\\117'", "'\\N{LATIN CAPITAL LETTER O}'", "u'O'", "{'aO': 1}", "[('a', [('b', 'O')])]",
        "[(('title', 'a'), 'O')]", "['xO']", "('<i8', 'O')"})
    void objectDtypesUnderAnySpellingCarryAPickle(String descr) throws Exception {
        String header = "{'descr': " + descr + ", 'fortran_order': False, 'shape': (1,), }";
        ScanReport r = scan("a.npy", npy(header, Pickles.osSystem()));
        assertTrue(has(r, "numpy.object-array"), descr + ": " + r.findings());
        assertTrue(has(r, "pickle.dangerous-import"), descr + ": " + r.findings());
    }

    @ParameterizedTest
    @ValueSource(strings = {"'<f4'", "'|u1'", "'<M8[ns]'", "'float32'", "[('a', '<f4'), ('b', '<i8', (2,))]", "'<U10'", "'|b1'",
        "'i4,f8'", "('<f4', (2, 2))"})
    void plainDtypesAreData(String descr) throws Exception {
        String header = "{'descr': " + descr + ", 'fortran_order': False, 'shape': (2,), }";
        ScanReport r = scan("a.npy", npy(header, new byte[64]));
        assertEquals(ScanReport.Verdict.CLEAN, r.verdict(), descr + ": " + r.findings());
    }

    @Test
    void aLaterDuplicateDescrKeyWinsAsInAPythonDict() throws Exception {
        String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'descr': 'O'}";
        assertTrue(has(scan("dup.npy", npy(header, Pickles.osSystem())), "numpy.object-array"));
    }

    @Test
    void anUnknownDtypeNameIsNotGuessed() throws Exception {
        String header = "{'descr': 'mystery_type', 'fortran_order': False, 'shape': (1,), }";
        assertEquals(ScanReport.Verdict.COULD_NOT_SCAN, scan("u.npy", npy(header, new byte[8])).verdict());
    }

    // --- classes 4 and 5: chat templates wherever they live

    @Test
    void templatesInEveryPlaceAreJudged() throws Exception {
        ObjectMapper json = new ObjectMapper();
        assertTrue(has(scan("chat_template.jinja", EVIL_TEMPLATE.getBytes()), "template.sandbox-escape"));
        assertTrue(has(scan("additional_chat_templates/tool_use.jinja", EVIL_TEMPLATE.getBytes()), "template.sandbox-escape"));
        assertTrue(has(scan("chat_template.json", json.writeValueAsBytes(Map.of("chat_template", EVIL_TEMPLATE))),
                "template.sandbox-escape"));
        assertTrue(has(scan("tokenizer_config.json", json.writeValueAsBytes(Map.of("chat_template",
                java.util.List.of(Map.of("name", "default", "template", "{{ x }}"), Map.of("name", "tool_use", "template", EVIL_TEMPLATE))))),
                "template.sandbox-escape"));
        assertTrue(has(scan("processor_config.json", json.writeValueAsBytes(Map.of("chat_template", EVIL_TEMPLATE))),
                "template.sandbox-escape"));
        ScanReport g = scan("model.gguf", gguf("tokenizer.chat_template", EVIL_TEMPLATE));
        assertTrue(has(g, "template.sandbox-escape"), g.findings().toString());
        assertTrue(g.findings().stream().anyMatch(f -> f.file().equals("model.gguf!tokenizer.chat_template")));
        assertEquals(ScanReport.Verdict.CLEAN, scan("ok.gguf", gguf("tokenizer.chat_template",
                "{% for m in messages %}{{ m['content'] }}{% endfor %}")).verdict());
    }

    @Test
    void aTemplateOurParserRejectsIsNotClean() throws Exception {
        ScanReport r = scan("chat_template.jinja", "{% for m in messages %}{{ m }}".getBytes());
        assertEquals(ScanReport.Verdict.COULD_NOT_SCAN, r.verdict(), r.findings().toString());
    }

    static byte[] gguf(String key, String value) {
        ByteBuffer b = ByteBuffer.allocate(64 + key.length() + value.length() * 3).order(ByteOrder.LITTLE_ENDIAN);
        b.put("GGUF".getBytes()).putInt(3).putLong(0).putLong(1);
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        byte[] v = value.getBytes(StandardCharsets.UTF_8);
        b.putLong(k.length).put(k).putInt(8).putLong(v.length).put(v);
        return Arrays.copyOf(b.array(), b.position());
    }

    // --- class 6: auto_map in every config transformers reads

    @ParameterizedTest
    @ValueSource(strings = {"config.json", "tokenizer_config.json", "preprocessor_config.json", "processor_config.json",
        "feature_extractor_config.json", "image_processor_config.json", "video_preprocessor_config.json", "adapter_config.json",
        "sub/generation_config.json"})
    void autoMapInAnyConfigIsRemoteCode(String name) throws Exception {
        String body = name.contains("adapter") ? "{\"auto_mapping\": {\"base_model_class\": \"X\"}}"
                : "{\"auto_map\": {\"AutoProcessor\": \"other/repo--processing_evil.EvilProcessor\"}}";
        ScanReport r = scan(name, body.getBytes());
        assertTrue(has(r, "config.remote-code"), name + ": " + r.findings());
    }

    @Test
    void invalidJsonSaysWhereWithoutParserInternals() throws Exception {
        ScanReport r = scan("config.json", "{\"a\": 1,, }".getBytes());
        Finding f = r.findings().getFirst();
        assertEquals("json.invalid", f.rule());
        assertTrue(f.detail().startsWith("line 1, column"), f.detail());
        assertFalse(f.toString().contains("StreamReadFeature") || f.toString().contains("INCLUDE_SOURCE"), f.toString());
    }

    // --- archives whose contents loaders read, and Keras code

    @Test
    void gzipAndTarContentsAreJudgedLikeFiles() throws Exception {
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (var z = new java.util.zip.GZIPOutputStream(gz)) {
            z.write(PickleBypassTest.TEXT_PAYLOAD);
        }
        ScanReport r = scan("model.pkl.gz", gz.toByteArray());
        assertTrue(r.findings().stream().anyMatch(f -> f.rule().equals("pickle.dangerous-import") && f.file().equals("model.pkl.gz!model.pkl")),
                r.findings().toString());
        // the oldest torch format: a tar whose 'pickle' member torch.load unpickles
        ScanReport t = scan("old.pt", tar("pickle", Pickles.osSystem()));
        assertTrue(t.findings().stream().anyMatch(f -> f.rule().equals("pickle.dangerous-import") && f.file().equals("old.pt!pickle")),
                t.findings().toString());
        assertEquals(ScanReport.Verdict.CLEAN, scan("ok.tar", tar("data.pkl", Pickles.stateDict())).verdict());
    }

    static byte[] tar(String member, byte[] content) {
        byte[] header = new byte[512];
        System.arraycopy(member.getBytes(StandardCharsets.US_ASCII), 0, header, 0, member.length());
        byte[] size = String.format("%011o", content.length).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(size, 0, header, 124, size.length);
        header[156] = '0';
        System.arraycopy("ustar".getBytes(StandardCharsets.US_ASCII), 0, header, 257, 5);
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(header);
        o.writeBytes(content);
        o.writeBytes(new byte[(512 - content.length % 512) % 512 + 1024]);
        return o.toByteArray();
    }

    @Test
    void kerasLambdaLayersAreCode() throws Exception {
        String config = "{\"class_name\": \"Functional\", \"config\": {\"layers\": [{\"class_name\": \"Lambda\", "
                + "\"config\": {\"name\": \"l\", \"function\": {\"class_name\": \"__lambda__\", \"config\": {\"code\": \"4wEAAA\"}}}}]}}";
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        try (var z = new java.util.zip.ZipOutputStream(o)) {
            z.putNextEntry(new java.util.zip.ZipEntry("config.json"));
            z.write(config.getBytes());
            z.putNextEntry(new java.util.zip.ZipEntry("metadata.json"));
            z.write("{\"keras_version\": \"3.0.0\"}".getBytes());
        }
        assertTrue(has(scan("model.keras", o.toByteArray()), "code.keras-lambda"));
        byte[] h5 = PickleBypassTest.concat(new byte[] {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'}, new byte[100],
                ("model_config" + config).getBytes(), new byte[100]);
        assertTrue(has(scan("model.h5", h5), "code.keras-lambda"));
    }

    // --- exit codes and the documented rule table

    @Test
    void everyRuleIdIsListedInSecurityMdAndTheTableIsGenerated() throws Exception {
        String doc = Files.readString(Path.of("docs/security.md"));
        assertTrue(doc.contains(Rule.markdownTable()), "docs/security.md must contain Rule.markdownTable() verbatim");
        for (Rule r : Rule.values()) assertTrue(doc.contains("`" + r.id() + "`"), r.id());
    }

    @Test
    void exitCodesFollowTheDocumentedRule() {
        for (Rule rule : Rule.values()) {
            ScanReport alone = new ScanReport(java.util.List.of("f"), java.util.List.of(new Finding("f", rule, "m", null)));
            assertEquals(rule.exitCode(), alone.exitCode(), rule.id());
        }
        ScanReport both = new ScanReport(java.util.List.of("f"), java.util.List.of(new Finding("f", Rule.UNSCANNABLE_PICKLE, "m", null),
                new Finding("f", Rule.PICKLE_DANGEROUS_IMPORT, "m", null)));
        assertEquals(1, both.exitCode());
    }
}

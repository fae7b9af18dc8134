package dev.amalgam.registry;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TarExtractorTest {
    @TempDir
    Path tmp;

    private final TarExtractor extractor = new TarExtractor(1 << 30);

    /** A tar made by the real tar command, with a long (pax/GNU) path and a nested folder. */
    @Test
    void extractsWhatGnuTarWrites() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src/model"));
        Files.writeString(src.resolve("config.json"), "{\"architectures\":[\"LlamaForCausalLM\"]}");
        byte[] weights = new byte[70_000];
        for (int i = 0; i < weights.length; i++) weights[i] = (byte) (i * 31);
        Files.write(src.resolve("model.safetensors"), weights);
        String longDir = "d".repeat(120);
        Files.createDirectories(src.resolve(longDir));
        Files.writeString(src.resolve(longDir + "/tokenizer.json"), "{}");
        for (String format : new String[] {"gnu", "pax", "ustar"}) {
            if (format.equals("ustar")) Files.delete(src.resolve(longDir + "/tokenizer.json"));
            if (format.equals("ustar")) Files.delete(src.resolve(longDir));
            Path tar = tmp.resolve(format + ".tar");
            Process p = new ProcessBuilder("tar", "--format=" + format, "-cf", tar.toString(), "-C", src.toString(), ".")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertEquals(0, p.waitFor(), out);
            Path dest = Files.createDirectories(tmp.resolve("out-" + format));
            Map<String, Long> files;
            try (InputStream in = Files.newInputStream(tar)) {
                files = extractor.extract(in, dest);
            }
            assertArrayEquals(weights, Files.readAllBytes(dest.resolve("model.safetensors")), format);
            assertEquals(70_000L, files.get("model.safetensors"));
            assertTrue(files.containsKey("config.json"));
            if (!format.equals("ustar")) {
                assertEquals("{}", Files.readString(dest.resolve(longDir + "/tokenizer.json")), format);
            }
        }
    }

    @Test
    void refusesSymlinks() throws Exception {
        byte[] tar = archive(entry("evil", '2', new byte[0], "/etc/passwd"));
        assertRefused(tar, "links are not allowed");
    }

    @Test
    void refusesPathTraversal() {
        assertRefused(archive(entry("../../etc/cron.d/x", '0', "x".getBytes(), "")), "'..'");
        assertRefused(archive(entry("/abs/path", '0', "x".getBytes(), "")), "absolute");
    }

    @Test
    void refusesDevicesAndDuplicates() {
        assertRefused(archive(entry("dev", '3', new byte[0], "")), "not allowed");
        assertRefused(archive(entry("a.json", '0', "1".getBytes(), ""), entry("a.json", '0', "2".getBytes(), "")), "duplicate");
    }

    @Test
    void refusesCorruptChecksumsAndTruncation() {
        byte[] good = archive(entry("a.bin", '0', new byte[1000], ""));
        byte[] corrupt = good.clone();
        corrupt[10] ^= 1;
        assertRefused(corrupt, "checksum");
        assertRefused(Arrays.copyOf(good, 512 + 600), "truncated");
        assertRefused(Arrays.copyOf(good, 300), "truncated");
        assertRefused("not a tar file at all, just some text".repeat(20).getBytes(), "checksum");
    }

    @Test
    void enforcesTheSizeLimitWhileReading() {
        byte[] tar = archive(entry("big.bin", '0', new byte[5000], ""));
        var e = assertThrows(RegistryException.class,
                () -> new TarExtractor(4096).extract(new ByteArrayInputStream(tar), tmp));
        assertEquals(RegistryException.Kind.TOO_LARGE, e.kind());
        assertFalse(Files.exists(tmp.resolve("big.bin")), "nothing written past the check");
    }

    @Test
    void octalAndBase256Numbers() {
        byte[] h = new byte[512];
        System.arraycopy("0000017\0".getBytes(), 0, h, 124, 8);
        assertEquals(15, TarExtractor.number(h, 124, 12));
        h[124] = (byte) 0x80;
        Arrays.fill(h, 125, 136, (byte) 0);
        h[135] = 1;
        h[134] = 2;
        assertEquals(0x0201, TarExtractor.number(h, 124, 12));
        byte[] bad = new byte[512];
        System.arraycopy("00009\0".getBytes(), 0, bad, 124, 6);
        assertThrows(RegistryException.class, () -> TarExtractor.number(bad, 124, 12));
    }

    private void assertRefused(byte[] tar, String expected) {
        var e = assertThrows(RegistryException.class, () -> extractor.extract(new ByteArrayInputStream(tar),
                Files.createTempDirectory(tmp, "x")));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    // --- a minimal ustar writer for hostile fixtures

    private static byte[] entry(String name, char type, byte[] data, String link) {
        byte[] h = new byte[512];
        put(h, 0, name);
        put(h, 100, "0000644");
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        put(h, 124, String.format("%011o", data.length));
        put(h, 136, "00000000000");
        h[156] = (byte) type;
        put(h, 157, link);
        put(h, 257, "ustar");
        h[262] = 0;
        put(h, 263, "00");
        Arrays.fill(h, 148, 156, (byte) ' ');
        int sum = 0;
        for (byte b : h) sum += b & 0xff;
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        h[155] = ' ';
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(h);
        out.writeBytes(data);
        out.writeBytes(new byte[(512 - data.length % 512) % 512]);
        return out.toByteArray();
    }

    private static byte[] archive(byte[]... entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] e : entries) out.writeBytes(e);
        out.writeBytes(new byte[1024]);
        return out.toByteArray();
    }

    private static void put(byte[] h, int off, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(b, 0, h, off, b.length);
    }
}

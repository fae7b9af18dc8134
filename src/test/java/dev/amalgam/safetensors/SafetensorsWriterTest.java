package dev.amalgam.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class SafetensorsWriterTest {
    @TempDir
    Path dir;

    private static final List<TensorSpec> SPECS = List.of(
            new TensorSpec("model.embed_tokens.weight", DType.BF16, new long[]{4, 3}),
            new TensorSpec("model.layers.0.w", DType.F32, new long[]{5}),
            new TensorSpec("model.norm.weight", DType.F16, new long[]{3}));

    private Path writeModel(String name) throws IOException {
        Path out = dir.resolve(name);
        Files.createDirectories(out);
        try (var w = SafetensorsWriter.create(out, SPECS, 30); Arena a = Arena.ofConfined()) {
            for (TensorSpec s : SPECS) {
                MemorySegment seg = a.allocate(s.byteSize());
                for (long i = 0; i < s.byteSize(); i++) seg.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 7 + s.name().length()));
                // two halves, second first: positional writes may come in any order
                long half = s.byteSize() / 2;
                w.write(s.name(), half, seg.asSlice(half));
                w.write(s.name(), 0, seg.asSlice(0, half));
            }
            w.finish();
        }
        return out;
    }

    @Test
    void writesShardsIndexAndPaddedHeadersThatReadBack() throws IOException {
        Path out = writeModel("m");
        assertTrue(Files.exists(out.resolve("model-00001-of-00002.safetensors")));
        assertTrue(Files.exists(out.resolve("model-00002-of-00002.safetensors")));
        var index = new ObjectMapper().readTree(out.resolve(SafetensorsModel.INDEX).toFile());
        assertEquals(24 + 20 + 6, index.get("metadata").get("total_size").asLong());
        assertEquals("model-00002-of-00002.safetensors", index.get("weight_map").get("model.norm.weight").asText());
        try (var m = SafetensorsModel.open(out)) {
            for (SafetensorsFile f : m.files()) {
                assertEquals(0, f.header().headerLength() % 8, "header padded to 8 bytes");
                assertEquals(java.util.Map.of("format", "pt"), f.header().metadata());
            }
            Tensor t = m.tensor("model.layers.0.w");
            assertEquals(DType.F32, t.dtype());
            assertEquals((byte) (3 * 7 + t.name().length()), t.data().get(ValueLayout.JAVA_BYTE, 3));
        }
    }

    @Test
    void identicalInputGivesIdenticalBytes() throws IOException {
        Path a = writeModel("a");
        Path b = writeModel("b");
        for (String f : List.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", SafetensorsModel.INDEX)) {
            assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f);
        }
    }

    @Test
    void finishRefusesIncompleteTensors() throws IOException {
        try (var w = SafetensorsWriter.create(dir, SPECS, 1000)) {
            var e = assertThrows(IllegalStateException.class, w::finish);
            assertTrue(e.getMessage().contains("model.embed_tokens.weight"));
        }
    }

    @Test
    void parsesShardSizes() {
        assertEquals(5_000_000_000L, SafetensorsWriter.parseSize("5GB"));
        assertEquals(2L << 30, SafetensorsWriter.parseSize("2GiB"));
        assertEquals(500_000_000L, SafetensorsWriter.parseSize("500MB"));
        assertEquals(123, SafetensorsWriter.parseSize("123"));
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.parseSize("lots"));
    }

    @Test
    void stagedDirectoryAppearsOnlyOnCommit() throws IOException {
        Path target = dir.resolve("out");
        try (var st = StagedDirectory.begin(target)) {
            Files.writeString(st.path().resolve("x"), "1");
            assertFalse(Files.exists(target));
        }
        assertFalse(Files.exists(target), "an uncommitted stage leaves nothing behind");
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            assertEquals(0, s.count(), "staging folder removed");
        }
        try (var st = StagedDirectory.begin(target)) {
            Files.writeString(st.path().resolve("x"), "1");
            st.commit();
        }
        assertEquals("1", Files.readString(target.resolve("x")));
        assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> StagedDirectory.begin(target));
    }

}

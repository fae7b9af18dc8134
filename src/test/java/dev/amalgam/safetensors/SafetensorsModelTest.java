package dev.amalgam.safetensors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class SafetensorsModelTest {
    @TempDir
    Path dir;

    private void shard(String file, String... names) throws IOException {
        StringBuilder h = new StringBuilder("{");
        for (int i = 0; i < names.length; i++) {
            if (i > 0) h.append(',');
            h.append('"').append(names[i]).append("\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[")
                    .append(i).append(',').append(i + 1).append("]}");
        }
        byte[] hb = h.append('}').toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + hb.length + names.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(hb.length).put(hb);
        for (int i = 0; i < names.length; i++) b.put((byte) (i + 7));
        Files.write(dir.resolve(file), b.array());
    }

    @Test
    void opensShardedModelThroughIndex() throws IOException {
        shard("model-00001-of-00002.safetensors", "a", "b");
        shard("model-00002-of-00002.safetensors", "c");
        Files.writeString(dir.resolve(SafetensorsModel.INDEX), "{\"metadata\":{\"total_size\":3},\"weight_map\":"
                + "{\"c\":\"model-00002-of-00002.safetensors\",\"a\":\"model-00001-of-00002.safetensors\","
                + "\"b\":\"model-00001-of-00002.safetensors\"}}");
        try (var m = SafetensorsModel.open(dir)) {
            assertEquals(List.of("a", "b", "c"), m.names());
            assertEquals(8, m.tensor("b").data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void opensSingleFileModel() throws IOException {
        shard("model.safetensors", "x");
        try (var m = SafetensorsModel.open(dir)) {
            assertTrue(m.has("x"));
        }
    }

    @Test
    void rejectsIndexNamingMissingTensor() throws IOException {
        shard("s1.safetensors", "a");
        Files.writeString(dir.resolve(SafetensorsModel.INDEX),
                "{\"weight_map\":{\"a\":\"s1.safetensors\",\"q\":\"s1.safetensors\"}}");
        var e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsModel.open(dir));
        assertEquals(Violation.BAD_INDEX, e.violation());
        assertTrue(e.getMessage().contains("q is not in s1.safetensors"), e.getMessage());
    }

    @Test
    void rejectsShardTensorMissingFromIndex() throws IOException {
        shard("s1.safetensors", "a", "b");
        Files.writeString(dir.resolve(SafetensorsModel.INDEX), "{\"weight_map\":{\"a\":\"s1.safetensors\"}}");
        var e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsModel.open(dir));
        assertTrue(e.getMessage().contains("b in s1.safetensors is not listed"), e.getMessage());
    }

    @Test
    void rejectsShardPathsLeavingTheFolder() throws IOException {
        Files.writeString(dir.resolve(SafetensorsModel.INDEX), "{\"weight_map\":{\"a\":\"../x.safetensors\"}}");
        var e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsModel.open(dir));
        assertEquals(Violation.BAD_INDEX, e.violation());
    }
}

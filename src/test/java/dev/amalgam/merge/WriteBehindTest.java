package dev.amalgam.merge;

import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.SafetensorsModel;
import dev.amalgam.safetensors.SafetensorsWriter;
import dev.amalgam.safetensors.TensorSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The output written on a thread of its own: every byte lands, and a failed write is never lost. */
class WriteBehindTest {
    @Test
    void buffersFilledInTurnsLandAtTheirOffsets(@TempDir Path dir) throws IOException {
        int n = 1 << 16;
        List<TensorSpec> specs = List.of(new TensorSpec("a", DType.F32, new long[]{n}), new TensorSpec("b", DType.F32, new long[]{n}));
        try (SafetensorsWriter writer = SafetensorsWriter.create(dir, specs, 1L << 40)) {
            try (WriteBehind out = new WriteBehind(writer)) {
                WriteBehind.Buffers buffers = new WriteBehind.Buffers();
                // blocks written out of order, alternating tensors, through the two buffers
                int block = 4096;
                for (int k = n / block - 1; k >= 0; k--) {
                    for (String name : List.of("a", "b")) {
                        MemorySegment buf = buffers.take(block * 4L);
                        for (int i = 0; i < block; i++) {
                            int e = k * block + i;
                            buf.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, name.equals("a") ? e : -e);
                        }
                        buffers.hand(out, name, (long) k * block * 4, block * 4L);
                    }
                }
            }
            writer.finish();
        }
        try (SafetensorsModel m = SafetensorsModel.open(dir)) {
            MemorySegment a = m.tensor("a").data(), b = m.tensor("b").data();
            for (int e = 0; e < n; e++) {
                assertEquals(e, a.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, e));
                assertEquals(-e, b.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, e));
            }
        }
    }

    @Test
    void aFailedWriteFailsTheNextHandOverAndTheClose(@TempDir Path dir) throws IOException {
        List<TensorSpec> specs = List.of(new TensorSpec("a", DType.F32, new long[]{16}));
        try (SafetensorsWriter writer = SafetensorsWriter.create(dir, specs, 1L << 40);
             Arena arena = Arena.ofConfined()) {
            WriteBehind out = new WriteBehind(writer);
            WriteBehind.Buffers buffers = new WriteBehind.Buffers();
            buffers.take(128);
            buffers.hand(out, "a", 0, 128); // 128 bytes into a 64-byte tensor, queued
            // the next write waits, and fails: with the failure itself or as refused after it
            IOException waited = assertThrows(IOException.class, () -> out.write("a", 0, arena.allocate(64)));
            assertTrue(waited.getMessage().contains("outside the tensor") || waited.getMessage().contains("earlier write"),
                    waited.getMessage());
            buffers.take(64);
            IOException later = assertThrows(IOException.class, () -> buffers.hand(out, "a", 0, 64));
            assertTrue(later.getMessage().contains("earlier write of the output failed"), later.getMessage());
            IOException closed = assertThrows(IOException.class, out::close);
            assertTrue(closed.getMessage().contains("outside the tensor"), closed.getMessage());
            assertThrows(IOException.class, () -> out.submit("a", 0, arena.allocate(64)), "no write after close");
        }
    }
}

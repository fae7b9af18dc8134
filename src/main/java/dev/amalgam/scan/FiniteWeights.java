package dev.amalgam.scan;

import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.SafetensorsFile;
import dev.amalgam.safetensors.Tensor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Checks that every floating-point tensor of a model holds only finite values (no NaN, no
 * infinity), reading the mapped files without copying. Reports the first offending tensor per file.
 */
public final class FiniteWeights {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private FiniteWeights() {
    }

    /** The names of tensors with a NaN or an infinity, as {@code file: tensor}; empty when all are finite. */
    public static List<String> nonFinite(Path folder) throws IOException {
        List<String> bad = new ArrayList<>();
        try (Stream<Path> s = Files.walk(folder)) {
            for (Path p : (Iterable<Path>) s.sorted()::iterator) {
                if (!p.getFileName().toString().endsWith(".safetensors") || !Files.isRegularFile(p)) continue;
                try (SafetensorsFile f = SafetensorsFile.open(p)) {
                    for (String name : f.header().names()) {
                        Tensor t = f.tensor(name);
                        if (!finite(t.dtype(), t.data())) bad.add(folder.relativize(p) + ": " + name);
                    }
                }
            }
        }
        return bad;
    }

    /** True when no element is NaN or infinite (exponent bits all ones); non-float dtypes are finite. */
    public static boolean finite(DType dtype, MemorySegment data) {
        long n = data.byteSize();
        switch (dtype) {
            case BF16 -> {
                for (long i = 0; i + 2 <= n; i += 2) if ((data.get(U16, i) & 0x7F80) == 0x7F80) return false;
            }
            case F16 -> {
                for (long i = 0; i + 2 <= n; i += 2) if ((data.get(U16, i) & 0x7C00) == 0x7C00) return false;
            }
            case F32 -> {
                for (long i = 0; i + 4 <= n; i += 4) if ((data.get(U32, i) & 0x7F800000) == 0x7F800000) return false;
            }
            case F64 -> {
                for (long i = 0; i + 8 <= n; i += 8) {
                    if ((data.get(U64, i) & 0x7FF0000000000000L) == 0x7FF0000000000000L) return false;
                }
            }
            default -> {
                return true;
            }
        }
        return true;
    }
}

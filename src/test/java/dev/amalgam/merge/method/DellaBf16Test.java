package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.Kernels;
import dev.amalgam.merge.kernel.MergeKernels;
import dev.amalgam.merge.recipe.ParameterDef;
import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.FloatFormats;
import dev.amalgam.safetensors.Tensor;
import dev.amalgam.safetensors.TensorInfo;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * della over BF16 models written as BF16 takes the TIES output pass of the BF16 kernels; it must
 * drop what the step-by-step pass drops (until 2026-12-02 it merged the whole task vectors there).
 */
class DellaBf16Test {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int ROWS = 8, COLS = 512, N = ROWS * COLS;

    @Test
    void writtenAsBf16ItDropsAsTheStepByStepPassDoes() {
        for (String method : List.of("della", "della_linear")) {
            for (boolean rescale : new boolean[]{true, false}) {
                byte[] stepwise = merge(method, rescale, false), direct = merge(method, rescale, true);
                assertArrayEquals(stepwise, direct, method + " rescale=" + rescale);
            }
        }
    }

    @Test
    void mostElementsOfASparseDellaStayTheBase() {
        byte[] out = merge("della", false, true);
        MemorySegment got = MemorySegment.ofArray(out), base = inputs().getFirst();
        int same = 0;
        for (int i = 0; i < N; i++) if (got.getAtIndex(SHORT, i) == base.getAtIndex(SHORT, i)) same++;
        // density 0.2 of each of two task vectors: about 0.8² of the elements keep the base
        assertTrue(same > N / 2, same + " of " + N + " elements equal the base");
    }

    private static List<MemorySegment> inputs() {
        Random r = new Random(5);
        List<MemorySegment> out = new ArrayList<>();
        for (int j = 0; j < 3; j++) {
            MemorySegment seg = MemorySegment.ofArray(new short[N]);
            for (int i = 0; i < N; i++) seg.setAtIndex(SHORT, i, FloatFormats.f32ToBf16((float) r.nextGaussian()));
            out.add(seg);
        }
        return out;
    }

    private static byte[] merge(String name, boolean rescale, boolean direct) {
        MergeMethod m = MergeMethods.find(name).orElseThrow();
        Map<String, Object> globals = new HashMap<>();
        for (ParameterDef p : m.parameters()) if (p.defaultValue() != null) globals.put(p.name(), p.defaultValue());
        globals.put("rescale", rescale);
        List<MemorySegment> xs = inputs();
        List<TensorContext.Input> in = new ArrayList<>();
        for (int j = 0; j < xs.size(); j++) {
            var info = new TensorInfo("t", DType.BF16, new long[]{ROWS, COLS}, 0, 2L * N);
            Map<String, Object> p = j == 0 ? Map.of() : Map.of("weight", 1.0, "density", 0.2, "epsilon", 0.1);
            in.add(new TensorContext.Input("m" + j, new Tensor(info, xs.get(j), "m" + j), j == 0, p));
        }
        byte[] out = new byte[2 * N];
        MemorySegment dst = MemorySegment.ofArray(out);
        MergeKernels k = Kernels.get();
        TensorContext.Sink sink = direct ? new TensorContext.Sink() {
            public void accept(long from, float[] v, int len) {
                k.store(v, len, dst, DType.BF16, from);
            }

            public DType directDtype() {
                return DType.BF16;
            }

            public MemorySegment reserve(long from, int len) {
                return dst.asSlice(from * 2, len * 2L);
            }
        } : (from, v, len) -> k.store(v, len, dst, DType.BF16, from);
        m.merge(new TensorContext("t", in, globals, k, 9L, sink));
        return out;
    }
}

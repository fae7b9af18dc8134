package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.Kernels;
import dev.amalgam.merge.kernel.MagnitudeSelect;
import dev.amalgam.merge.kernel.MergeKernels;
import dev.amalgam.merge.kernel.ScalarKernels;
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
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** TIES over a tensor large enough for the sampled selection: exactly the sorted top-k, lowest index on ties. */
class TiesLargeTensorTest {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void keepsExactlyTheSortedTopK() {
        int n = (1 << 20) + 37;
        double density = 0.3;
        Random r = new Random(41);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment base = arena.allocate(2L * n), ft = arena.allocate(2L * n);
            float[] b = new float[n], d = new float[n];
            for (int i = 0; i < n; i++) {
                short bb = FloatFormats.f32ToBf16((float) r.nextGaussian() * 0.02f);
                // BF16 fine-tune: deltas of a few units in the last place, so many equal magnitudes
                short ff = FloatFormats.f32ToBf16(FloatFormats.bf16ToF32(bb) + (float) r.nextGaussian() * 0.0005f);
                base.setAtIndex(SHORT, i, bb);
                ft.setAtIndex(SHORT, i, ff);
                b[i] = FloatFormats.bf16ToF32(bb);
                d[i] = FloatFormats.bf16ToF32(ff) - b[i];
            }
            long k = (long) (density * n);
            long[] order = new long[n];
            for (int i = 0; i < n; i++) order[i] = (long) (0x7fffffff - MagnitudeSelect.key(d[i])) << 32 | i;
            Arrays.sort(order);
            boolean[] keep = new boolean[n];
            for (int j = 0; j < k; j++) keep[(int) order[j]] = true;
            byte[] expected = new byte[2 * n];
            MemorySegment e = MemorySegment.ofArray(expected);
            for (int i = 0; i < n; i++) {
                float mixed = keep[i] && d[i] != 0f ? d[i] : 0f;
                e.setAtIndex(SHORT, i, FloatFormats.f32ToBf16(b[i] + mixed));
            }
            MergeMethod ties = MergeMethods.find("ties").orElseThrow();
            Map<String, Object> globals = new HashMap<>();
            for (ParameterDef p : ties.parameters()) if (p.defaultValue() != null) globals.put(p.name(), p.defaultValue());
            for (MergeKernels kernels : new MergeKernels[]{new ScalarKernels(), Kernels.vectorOrNull()}) {
                for (boolean direct : new boolean[]{false, true}) {
                    MemorySegment out = arena.allocate(2L * n);
                    var info = new TensorInfo("t", DType.BF16, new long[]{n}, 0, 2L * n);
                    List<TensorContext.Input> in = List.of(
                            new TensorContext.Input("base", new Tensor(info, base, "base"), true, Map.of()),
                            new TensorContext.Input("ft", new Tensor(info, ft, "ft"), false, Map.of("weight", 1.0, "density", density)));
                    TensorContext.Sink sink = direct ? new TensorContext.Sink() {
                        public void accept(long from, float[] v, int len) {
                            kernels.store(v, len, out, DType.BF16, from);
                        }

                        public DType directDtype() {
                            return DType.BF16;
                        }

                        public MemorySegment reserve(long from, int len) {
                            return out.asSlice(from * 2, len * 2L);
                        }
                    } : (from, v, len) -> kernels.store(v, len, out, DType.BF16, from);
                    ties.merge(new TensorContext("t", in, globals, kernels, 1L, sink));
                    assertEquals(-1, e.mismatch(out), kernels.name() + " direct=" + direct);
                }
            }
        }
    }
}

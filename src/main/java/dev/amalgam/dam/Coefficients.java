package dev.amalgam.dam;

import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.SafetensorsModel;
import dev.amalgam.safetensors.SafetensorsWriter;
import dev.amalgam.safetensors.Tensor;
import dev.amalgam.safetensors.TensorSpec;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DAM coefficients as a model folder, the input artefact of {@code merge_method: dam}: for each
 * merged tensor an F32 tensor of the same name and shape [models, columns] (row m scales model
 * m's columns; columns are the last dimension, or the elements of a 1-D tensor), written as a
 * standard safetensors model so that the registry can register, hash and record it like a model.
 */
public record Coefficients(Map<String, float[][]> byTensor) {
    /** {@code __metadata__} key naming what the file holds. */
    public static final String KIND_KEY = "amalgam";
    public static final String KIND = "dam-coefficients";

    public Coefficients {
        byTensor = Collections.unmodifiableMap(new LinkedHashMap<>(byTensor));
    }

    public int models() {
        return byTensor.values().iterator().next().length;
    }

    /** Writes the tensors (in map order) into {@code dir}; returns the files written. */
    public List<Path> write(Path dir) throws IOException {
        List<TensorSpec> specs = new ArrayList<>();
        for (var e : byTensor.entrySet()) {
            specs.add(new TensorSpec(e.getKey(), DType.F32, new long[]{e.getValue().length, e.getValue()[0].length}));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put(KIND_KEY, KIND);
        try (var w = SafetensorsWriter.create(dir, specs, SafetensorsWriter.DEFAULT_SHARD_SIZE, metadata);
             Arena arena = Arena.ofConfined()) {
            for (var e : byTensor.entrySet()) {
                float[][] rows = e.getValue();
                int cols = rows[0].length;
                MemorySegment buf = arena.allocate((long) rows.length * cols * 4, 8);
                for (int m = 0; m < rows.length; m++) {
                    MemorySegment.copy(rows[m], 0, buf, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
                            (long) m * cols * 4, cols);
                }
                w.write(e.getKey(), 0, buf);
            }
            return w.finish();
        }
    }

    /** Reads a coefficients folder (any float dtype, widened to F32). */
    public static Coefficients read(Path dir) throws IOException {
        Map<String, float[][]> out = new LinkedHashMap<>();
        try (SafetensorsModel model = SafetensorsModel.open(dir)) {
            for (String name : model.names()) {
                Tensor t = model.tensor(name);
                if (t.info().rank() != 2 || !t.dtype().isMergeFloat()) {
                    throw new IllegalArgumentException(dir + ": " + name + " is " + t.info() + ", not a float [models, columns] tensor");
                }
                int m = Math.toIntExact(t.info().dim(0)), cols = Math.toIntExact(t.info().dim(1));
                float[][] rows = new float[m][cols];
                for (int i = 0; i < m; i++) Weights.load(t, (long) i * cols, rows[i]);
                out.put(name, rows);
            }
        }
        return new Coefficients(out);
    }
}

package dev.amalgam.safetensors;

import java.lang.foreign.MemorySegment;

/** A tensor's header entry and its bytes: a read-only slice of a mapped file, never a copy. */
public record Tensor(TensorInfo info, MemorySegment data, String file) {
    public String name() {
        return info.name();
    }

    public DType dtype() {
        return info.dtype();
    }

    public long elementCount() {
        return info.elementCount();
    }
}

package dev.amalgam.safetensors;

import java.util.Locale;
import java.util.Optional;

/**
 * The element types of the safetensors format, with their size in bits. Sub-byte types
 * (F4, F6) are packed, so a tensor's byte size is only defined when its bit count divides by 8.
 */
public enum DType {
    BOOL(8), F4(4), F6_E2M3(6), F6_E3M2(6), U8(8), I8(8), F8_E5M2(8), F8_E4M3(8), F8_E8M0(8),
    I16(16), U16(16), F16(16), BF16(16), I32(32), U32(32), F32(32), F64(64), I64(64), U64(64),
    C64(64);

    private final int bits;

    DType(int bits) {
        this.bits = bits;
    }

    public int bits() {
        return bits;
    }

    /** Byte size of one element; only meaningful for whole-byte types. */
    public int byteSize() {
        return bits / 8;
    }

    /** True for the float types the merge core computes on (read and written natively). */
    public boolean isMergeFloat() {
        return this == F32 || this == F16 || this == BF16;
    }

    /**
     * Whether converting a value of this merge float type to {@code to} can change it: F32 to a
     * 16-bit type, and between the two 16-bit types (BF16 has the range, F16 the precision).
     * Widening to F32 is exact.
     */
    public boolean roundsTo(DType to) {
        return isMergeFloat() && to.isMergeFloat() && this != to && to != F32;
    }

    public static Optional<DType> of(String name) {
        for (DType d : values()) {
            if (d.name().equals(name)) return Optional.of(d);
        }
        return Optional.empty();
    }

    /** Maps a transformers/mergekit dtype name (bfloat16, float16, float32) to a dtype. */
    public static Optional<DType> fromTorchName(String name) {
        // mergekit accepts its names with torch's module prefix too ("torch.bfloat16")
        if (name.startsWith("torch.")) name = name.substring("torch.".length());
        return Optional.ofNullable(switch (name) {
            case "bfloat16", "bf16" -> BF16;
            case "float16", "fp16", "half" -> F16;
            case "float32", "fp32", "float" -> F32;
            default -> null;
        });
    }

    /** The transformers {@code torch_dtype} name of a merge float type. */
    public String torchName() {
        return switch (this) {
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            case F32 -> "float32";
            case F64 -> "float64";
            default -> name().toLowerCase(Locale.ROOT);
        };
    }
}

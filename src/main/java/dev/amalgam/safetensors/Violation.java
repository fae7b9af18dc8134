package dev.amalgam.safetensors;

/**
 * The rules a safetensors file can break, each with a stable id so that scanners and tests can
 * tell them apart without parsing messages.
 */
public enum Violation {
    FILE_TOO_SHORT("file is shorter than the 8-byte header length"),
    HEADER_TOO_LARGE("header length exceeds the 100,000,000 byte limit"),
    HEADER_PAST_EOF("header length points past the end of the file"),
    HEADER_NOT_UTF8("header is not valid UTF-8"),
    HEADER_NOT_JSON("header is not valid JSON"),
    HEADER_NOT_OBJECT("header is not a JSON object"),
    DUPLICATE_KEY("header has a duplicate key"),
    BAD_METADATA("__metadata__ must map strings to strings"),
    BAD_ENTRY("tensor entry is malformed"),
    UNKNOWN_DTYPE("unknown dtype"),
    BAD_SHAPE("shape entries must be non-negative integers"),
    SIZE_OVERFLOW("element count times dtype size overflows"),
    SIZE_MISMATCH("data_offsets length does not equal element count times dtype size"),
    BAD_OFFSETS("data_offsets must be two non-negative integers, begin <= end"),
    OFFSETS_NOT_CONTIGUOUS("tensor data is not contiguous (gap or overlap, or not starting at 0)"),
    DATA_SIZE_MISMATCH("tensor data does not cover the data section exactly"),
    BAD_INDEX("sharded index is malformed or inconsistent");

    private final String description;

    Violation(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}

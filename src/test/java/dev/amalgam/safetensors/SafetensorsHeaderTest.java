package dev.amalgam.safetensors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SafetensorsHeaderTest {
    @TempDir
    Path dir;

    /** A file with the given header text (as UTF-8) and data bytes. */
    private Path file(String header, int dataBytes) throws IOException {
        return file(header.getBytes(StandardCharsets.UTF_8), dataBytes);
    }

    private Path file(byte[] header, int dataBytes) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        Path p = dir.resolve("t" + System.nanoTime() + ".safetensors");
        Files.write(p, b.array());
        return p;
    }

    private Violation violation(Path p) {
        var e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsHeader.parse(p));
        assertEquals(p.toString(), e.file());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        // the mapped entry point must agree with the header-only one
        var e2 = assertThrows(SafetensorsFormatException.class, () -> SafetensorsFile.open(p).close());
        assertEquals(e.violation(), e2.violation());
        return e.violation();
    }

    @Test
    void parsesValidHeaderWithMetadata() throws IOException {
        Path p = file("{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[8,20]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}  ", 20);
        SafetensorsHeader h = SafetensorsHeader.parse(p);
        assertEquals(Map.of("format", "pt"), h.metadata());
        assertEquals("a", h.tensors().get(0).name(), "tensors come in offset order");
        assertEquals(6, h.tensor("b").elementCount());
        assertEquals(DType.BF16, h.tensor("b").dtype());
        try (var f = SafetensorsFile.open(p)) {
            assertEquals(12, f.tensor("b").data().byteSize());
            assertNull(f.tensor("missing"));
        }
    }

    @Test
    void acceptsEmptyTensorList() throws IOException {
        assertTrue(SafetensorsHeader.parse(file("{}", 0)).tensors().isEmpty());
    }

    @Test
    void acceptsZeroSizedTensors() throws IOException {
        Path p = file("{\"z\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[0,0]},"
                + "\"a\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]}}", 1);
        assertEquals(2, SafetensorsHeader.parse(p).tensors().size());
    }

    @Test
    void rejectsFileShorterThanLengthPrefix() throws IOException {
        Path p = dir.resolve("short.safetensors");
        Files.write(p, new byte[5]);
        assertEquals(Violation.FILE_TOO_SHORT, violation(p));
    }

    @Test
    void rejectsHeaderLengthOverLimit() throws IOException {
        Path p = dir.resolve("huge.safetensors");
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(100_000_001L);
        Files.write(p, b.array());
        assertEquals(Violation.HEADER_TOO_LARGE, violation(p));
        ByteBuffer neg = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L);
        Files.write(p, neg.array());
        assertEquals(Violation.HEADER_TOO_LARGE, violation(p));
    }

    @Test
    void rejectsHeaderLengthPastEndOfFile() throws IOException {
        Path p = dir.resolve("past.safetensors");
        ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putLong(10).put("{}  ".getBytes());
        Files.write(p, b.array());
        assertEquals(Violation.HEADER_PAST_EOF, violation(p));
    }

    @Test
    void rejectsInvalidUtf8() throws IOException {
        byte[] h = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        assertEquals(Violation.HEADER_NOT_UTF8, violation(file(h, 0)));
    }

    @Test
    void rejectsInvalidJson() throws IOException {
        assertEquals(Violation.HEADER_NOT_JSON, violation(file("{\"a\":", 0)));
        assertEquals(Violation.HEADER_NOT_JSON, violation(file("{} {}", 0)));
    }

    @Test
    void rejectsNonObjectHeader() throws IOException {
        assertEquals(Violation.HEADER_NOT_OBJECT, violation(file("[1,2]", 0)));
    }

    @Test
    void rejectsDuplicateKeys() throws IOException {
        String e = "{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}";
        assertEquals(Violation.DUPLICATE_KEY, violation(file("{\"a\":" + e + ",\"a\":" + e + "}", 1)));
    }

    @Test
    void rejectsNonStringMetadata() throws IOException {
        assertEquals(Violation.BAD_METADATA, violation(file("{\"__metadata__\":{\"n\":1}}", 0)));
        assertEquals(Violation.BAD_METADATA, violation(file("{\"__metadata__\":[]}", 0)));
    }

    @Test
    void rejectsMalformedEntries() throws IOException {
        assertEquals(Violation.BAD_ENTRY, violation(file("{\"a\":3}", 0)));
        assertEquals(Violation.BAD_ENTRY, violation(file("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1)));
        assertEquals(Violation.BAD_ENTRY,
                violation(file("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":1}}", 1)));
    }

    @Test
    void rejectsUnknownDtype() throws IOException {
        assertEquals(Violation.UNKNOWN_DTYPE,
                violation(file("{\"a\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", 16)));
    }

    @Test
    void rejectsNegativeOrFractionalShape() throws IOException {
        assertEquals(Violation.BAD_SHAPE,
                violation(file("{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0)));
        assertEquals(Violation.BAD_SHAPE,
                violation(file("{\"a\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,1]}}", 1)));
        assertEquals(Violation.BAD_SHAPE,
                violation(file("{\"a\":{\"dtype\":\"U8\",\"shape\":\"1\",\"data_offsets\":[0,1]}}", 1)));
    }

    @Test
    void rejectsElementCountOverflow() throws IOException {
        assertEquals(Violation.SIZE_OVERFLOW, violation(file(
                "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8)));
    }

    @Test
    void rejectsSizeNotMatchingOffsets() throws IOException {
        assertEquals(Violation.SIZE_MISMATCH,
                violation(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4)));
    }

    @Test
    void rejectsBadOffsets() throws IOException {
        assertEquals(Violation.BAD_OFFSETS,
                violation(file("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[2,1]}}", 2)));
        assertEquals(Violation.BAD_OFFSETS,
                violation(file("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", 1)));
    }

    @Test
    void rejectsGapsAndOverlaps() throws IOException {
        assertEquals(Violation.OFFSETS_NOT_CONTIGUOUS, violation(file(
                "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2)));
        assertEquals(Violation.OFFSETS_NOT_CONTIGUOUS, violation(file(
                "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
                        + "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[1,3]}}", 3)));
        assertEquals(Violation.OFFSETS_NOT_CONTIGUOUS, violation(file(
                "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                        + "\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[2,3]}}", 3)));
    }

    @Test
    void rejectsDataSectionNotCoveredExactly() throws IOException {
        assertEquals(Violation.DATA_SIZE_MISMATCH, violation(file(
                "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 3)));
        assertEquals(Violation.DATA_SIZE_MISMATCH, violation(file(
                "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 2)));
    }
}

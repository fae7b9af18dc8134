package dev.amalgam.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A validated safetensors header. Parsing enforces every rule of the format and reports the
 * first violation as a {@link SafetensorsFormatException}; once built, a header is trusted:
 * offsets are contiguous from 0 and cover the data section exactly.
 */
public final class SafetensorsHeader {
    /** The format's limit on the JSON header size. */
    public static final long MAX_HEADER_LENGTH = 100_000_000L;
    private static final Set<String> ENTRY_KEYS = Set.of("dtype", "shape", "data_offsets");
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final long headerLength;
    private final List<TensorInfo> tensors;
    private final Map<String, TensorInfo> byName;
    private final Map<String, String> metadata;

    private SafetensorsHeader(long headerLength, List<TensorInfo> tensors, Map<String, String> metadata) {
        this.headerLength = headerLength;
        this.tensors = List.copyOf(tensors);
        var m = new LinkedHashMap<String, TensorInfo>();
        for (TensorInfo t : tensors) m.put(t.name(), t);
        this.byName = Collections.unmodifiableMap(m);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** Reads and validates only the header of a file: tensor data is neither read nor mapped. */
    public static SafetensorsHeader parse(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            String source = file.toString();
            if (size < 8) throw new SafetensorsFormatException(source, Violation.FILE_TOO_SHORT, size + " bytes");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long n = checkLength(source, lenBuf.getLong(0), size);
            ByteBuffer header = ByteBuffer.allocate((int) n);
            readFully(ch, header, 8);
            return parse(source, header.array(), size);
        }
    }

    /** Validates the header of a whole file already in memory (or mapped). */
    public static SafetensorsHeader parse(MemorySegment file, String source) throws SafetensorsFormatException {
        long size = file.byteSize();
        if (size < 8) throw new SafetensorsFormatException(source, Violation.FILE_TOO_SHORT, size + " bytes");
        long n = checkLength(source, file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0), size);
        byte[] header = file.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
        return parse(source, header, size);
    }

    private static long checkLength(String source, long n, long fileSize) throws SafetensorsFormatException {
        // an unsigned value above Long.MAX_VALUE reads as negative: it is too large as well
        if (n < 0 || n > MAX_HEADER_LENGTH) {
            throw new SafetensorsFormatException(source, Violation.HEADER_TOO_LARGE, Long.toUnsignedString(n) + " bytes");
        }
        if (8 + n > fileSize) {
            throw new SafetensorsFormatException(source, Violation.HEADER_PAST_EOF,
                    "header length " + n + ", file size " + fileSize);
        }
        return n;
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos + buf.position());
            if (r < 0) throw new EOFException("unexpected end of file");
        }
    }

    private static SafetensorsHeader parse(String source, byte[] headerBytes, long fileSize) throws SafetensorsFormatException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(headerBytes)).toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsFormatException(source, Violation.HEADER_NOT_UTF8, e.getMessage());
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (MismatchedInputException e) {
            if (e.getOriginalMessage().startsWith("Duplicate field")) {
                throw new SafetensorsFormatException(source, Violation.DUPLICATE_KEY, e.getOriginalMessage());
            }
            throw new SafetensorsFormatException(source, Violation.HEADER_NOT_JSON, e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw new SafetensorsFormatException(source, Violation.HEADER_NOT_JSON, e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsFormatException(source, Violation.HEADER_NOT_OBJECT,
                    root == null ? "empty" : root.getNodeType().toString().toLowerCase(Locale.ROOT));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorInfo> tensors = new ArrayList<>();
        for (var field : root.properties()) {
            String name = field.getKey();
            JsonNode value = field.getValue();
            if (name.equals("__metadata__")) {
                readMetadata(source, value, metadata);
            } else {
                tensors.add(readEntry(source, name, value));
            }
        }
        long dataSize = fileSize - 8 - headerBytes.length;
        checkLayout(source, tensors, dataSize);
        return new SafetensorsHeader(headerBytes.length, tensors, metadata);
    }

    private static void readMetadata(String source, JsonNode value, Map<String, String> out) throws SafetensorsFormatException {
        if (!value.isObject()) {
            throw new SafetensorsFormatException(source, Violation.BAD_METADATA, "not an object");
        }
        for (var e : value.properties()) {
            if (!e.getValue().isTextual()) {
                throw new SafetensorsFormatException(source, Violation.BAD_METADATA,
                        "value of \"" + e.getKey() + "\" is " + e.getValue().getNodeType().toString().toLowerCase(Locale.ROOT));
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static TensorInfo readEntry(String source, String name, JsonNode v) throws SafetensorsFormatException {
        if (!v.isObject()) throw new SafetensorsFormatException(source, Violation.BAD_ENTRY, name + ": not an object");
        for (var key : (Iterable<String>) v::fieldNames) {
            if (!ENTRY_KEYS.contains(key)) {
                throw new SafetensorsFormatException(source, Violation.BAD_ENTRY, name + ": unknown key \"" + key + "\"");
            }
        }
        for (String key : ENTRY_KEYS) {
            if (!v.has(key)) throw new SafetensorsFormatException(source, Violation.BAD_ENTRY, name + ": missing \"" + key + "\"");
        }
        JsonNode dt = v.get("dtype");
        DType dtype = dt.isTextual() ? DType.of(dt.textValue()).orElse(null) : null;
        if (dtype == null) throw new SafetensorsFormatException(source, Violation.UNKNOWN_DTYPE, name + ": " + dt);

        JsonNode sh = v.get("shape");
        if (!sh.isArray()) throw new SafetensorsFormatException(source, Violation.BAD_SHAPE, name + ": not an array");
        long[] shape = new long[sh.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
                throw new SafetensorsFormatException(source, Violation.BAD_SHAPE, name + ": " + sh);
            }
            shape[i] = d.longValue();
        }
        JsonNode off = v.get("data_offsets");
        if (!off.isArray() || off.size() != 2 || !isLong(off.get(0)) || !isLong(off.get(1))
                || off.get(0).longValue() < 0 || off.get(1).longValue() < off.get(0).longValue()) {
            throw new SafetensorsFormatException(source, Violation.BAD_OFFSETS, name + ": " + off);
        }
        long begin = off.get(0).longValue();
        long end = off.get(1).longValue();
        long bytes;
        try {
            long elements = 1;
            for (long d : shape) elements = Math.multiplyExact(elements, d);
            long bits = Math.multiplyExact(elements, (long) dtype.bits());
            if (bits % 8 != 0) {
                throw new SafetensorsFormatException(source, Violation.SIZE_MISMATCH,
                        name + ": " + elements + " elements of " + dtype + " do not fill whole bytes");
            }
            bytes = bits / 8;
        } catch (ArithmeticException e) {
            throw new SafetensorsFormatException(source, Violation.SIZE_OVERFLOW, name + ": shape " + sh + " of " + dtype);
        }
        if (bytes != end - begin) {
            throw new SafetensorsFormatException(source, Violation.SIZE_MISMATCH,
                    name + ": shape " + sh + " of " + dtype + " needs " + bytes + " bytes, data_offsets span " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static boolean isLong(JsonNode n) {
        return n != null && n.isIntegralNumber() && n.canConvertToLong();
    }

    /** Offsets must tile [0, dataSize) exactly: sorted, starting at 0, no gaps, no overlaps. */
    private static void checkLayout(String source, List<TensorInfo> tensors, long dataSize) throws SafetensorsFormatException {
        tensors.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end)
                .thenComparing(TensorInfo::name));
        long expected = 0;
        for (TensorInfo t : tensors) {
            if (t.begin() != expected) {
                throw new SafetensorsFormatException(source, Violation.OFFSETS_NOT_CONTIGUOUS,
                        t.name() + " begins at " + t.begin() + (t.begin() > expected ? ", gap after " : ", overlaps data before ") + expected);
            }
            expected = t.end();
        }
        if (expected != dataSize) {
            throw new SafetensorsFormatException(source, Violation.DATA_SIZE_MISMATCH,
                    "tensors cover " + expected + " bytes, data section has " + dataSize);
        }
    }

    public long headerLength() {
        return headerLength;
    }

    /** Offset of the data section from the start of the file. */
    public long dataStart() {
        return 8 + headerLength;
    }

    /** Tensors in file (offset) order. */
    public List<TensorInfo> tensors() {
        return tensors;
    }

    public TensorInfo tensor(String name) {
        return byName.get(name);
    }

    public Set<String> names() {
        return byName.keySet();
    }

    public Map<String, String> metadata() {
        return metadata;
    }
}

package dev.amalgam.safetensors;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes a sharded safetensors model whose layout is fixed up front: shards are cut in the given
 * tensor order at {@code shardSize}, headers (padded to 8 bytes, {@code {"format":"pt"}}) are
 * written first, and tensor bytes are then written by position, so several threads can fill
 * different tensors (or chunks of one tensor) at once. Same specs and bytes in, same files out.
 */
public final class SafetensorsWriter implements AutoCloseable {
    /** Hugging Face's default shard size (decimal GB, as the Hub counts). */
    public static final long DEFAULT_SHARD_SIZE = 5_000_000_000L;

    private record Slot(TensorSpec spec, int shard, long position, AtomicLong written) {
    }

    private final Path dir;
    private final List<String> shardNames;
    private final List<FileChannel> channels = new ArrayList<>();
    private final Map<String, Slot> slots = new LinkedHashMap<>();
    private final long totalSize;
    private boolean finished;

    private SafetensorsWriter(Path dir, List<TensorSpec> specs, long shardSize, Map<String, String> metadata) throws IOException {
        this.dir = dir;
        List<List<TensorSpec>> shards = new ArrayList<>();
        List<TensorSpec> current = new ArrayList<>();
        long currentBytes = 0;
        long total = 0;
        for (TensorSpec s : specs) {
            long size = s.byteSize();
            if (!current.isEmpty() && currentBytes + size > shardSize) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(s);
            currentBytes += size;
            total += size;
        }
        if (!current.isEmpty() || shards.isEmpty()) shards.add(current);
        this.totalSize = total;
        this.shardNames = new ArrayList<>();
        int n = shards.size();
        try {
            for (int i = 0; i < n; i++) {
                String name = String.format("model-%05d-of-%05d.safetensors", i + 1, n);
                shardNames.add(name);
                openShard(i, dir.resolve(name), shards.get(i), metadata);
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    public static SafetensorsWriter create(Path dir, List<TensorSpec> specs, long shardSize, Map<String, String> metadata) throws IOException {
        var seen = new HashMap<String, Boolean>();
        for (TensorSpec s : specs) {
            if (seen.put(s.name(), true) != null) throw new IllegalArgumentException("duplicate tensor " + s.name());
        }
        if (shardSize <= 0) throw new IllegalArgumentException("shard size must be positive");
        return new SafetensorsWriter(dir, specs, shardSize, metadata);
    }

    public static SafetensorsWriter create(Path dir, List<TensorSpec> specs, long shardSize) throws IOException {
        return create(dir, specs, shardSize, Map.of("format", "pt"));
    }

    private void openShard(int index, Path file, List<TensorSpec> tensors, Map<String, String> metadata) throws IOException {
        byte[] header = header(tensors, metadata);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ);
        channels.add(ch);
        ByteBuffer prefix = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
        prefix.putLong(header.length).put(header).flip();
        while (prefix.hasRemaining()) ch.write(prefix, prefix.position());
        long pos = 8 + header.length;
        for (TensorSpec t : tensors) {
            slots.put(t.name(), new Slot(t, index, pos, new AtomicLong()));
            pos += t.byteSize();
        }
        if (pos > 8 + header.length) {
            // size the file now so positional writes land in a file of its final length
            ch.write(ByteBuffer.allocate(1), pos - 1);
        }
    }

    /** The JSON header, key order as given, padded with spaces to a multiple of 8 bytes. */
    static byte[] header(List<TensorSpec> tensors, Map<String, String> metadata) throws IOException {
        var out = new ByteArrayOutputStream();
        try (JsonGenerator g = new JsonFactory().createGenerator(out, JsonEncoding.UTF8)) {
            g.writeStartObject();
            if (!metadata.isEmpty()) {
                g.writeObjectFieldStart("__metadata__");
                for (var e : metadata.entrySet()) g.writeStringField(e.getKey(), e.getValue());
                g.writeEndObject();
            }
            long offset = 0;
            for (TensorSpec t : tensors) {
                g.writeObjectFieldStart(t.name());
                g.writeStringField("dtype", t.dtype().name());
                g.writeArrayFieldStart("shape");
                for (long d : t.shape()) g.writeNumber(d);
                g.writeEndArray();
                g.writeArrayFieldStart("data_offsets");
                g.writeNumber(offset);
                offset += t.byteSize();
                g.writeNumber(offset);
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndObject();
        }
        int pad = (8 - out.size() % 8) % 8;
        for (int i = 0; i < pad; i++) out.write(' ');
        return out.toByteArray();
    }

    public TensorSpec spec(String name) {
        Slot s = slot(name);
        return s.spec();
    }

    private Slot slot(String name) {
        Slot s = slots.get(name);
        if (s == null) throw new IllegalArgumentException("no tensor " + name + " in the output plan");
        return s;
    }

    /** Writes {@code bytes} at byte {@code offset} of the named tensor; safe from several threads. */
    public void write(String name, long offset, MemorySegment bytes) throws IOException {
        Slot s = slot(name);
        long len = bytes.byteSize();
        if (offset < 0 || offset + len > s.spec().byteSize()) {
            throw new IllegalArgumentException(name + ": write of " + len + " bytes at " + offset + " outside the tensor");
        }
        ByteBuffer buf = bytes.asByteBuffer();
        FileChannel ch = channels.get(s.shard());
        long pos = s.position() + offset;
        while (buf.hasRemaining()) ch.write(buf, pos + buf.position());
        s.written().addAndGet(len);
    }

    /** Checks every tensor was written in full, syncs, writes the index; returns the files written. */
    public List<Path> finish() throws IOException {
        for (Slot s : slots.values()) {
            if (s.written().get() != s.spec().byteSize()) {
                throw new IllegalStateException(s.spec().name() + ": " + s.written().get() + " of "
                        + s.spec().byteSize() + " bytes written");
            }
        }
        for (FileChannel ch : channels) ch.force(true);
        close();
        var weightMap = new LinkedHashMap<String, String>();
        slots.forEach((name, s) -> weightMap.put(name, shardNames.get(s.shard())));
        var index = new LinkedHashMap<String, Object>();
        index.put("metadata", Map.of("total_size", totalSize));
        index.put("weight_map", weightMap);
        Path indexFile = dir.resolve(SafetensorsModel.INDEX);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(indexFile.toFile(), index);
        finished = true;
        List<Path> files = new ArrayList<>();
        for (String s : shardNames) files.add(dir.resolve(s));
        files.add(indexFile);
        return files;
    }

    public long totalSize() {
        return totalSize;
    }

    public boolean finished() {
        return finished;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (FileChannel ch : channels) {
            try {
                ch.close();
            } catch (IOException e) {
                if (first == null) first = e;
            }
        }
        channels.clear();
        if (first != null) throw first;
    }

    /** Parses a shard size such as {@code 5GB}, {@code 500MB}, {@code 2GiB} or a byte count. */
    public static long parseSize(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT);
        long mult = 1;
        String[][] units = {{"KIB", "1024"}, {"MIB", "1048576"}, {"GIB", "1073741824"}, {"TIB", "1099511627776"},
                {"KB", "1000"}, {"MB", "1000000"}, {"GB", "1000000000"}, {"TB", "1000000000000"}, {"B", "1"}};
        for (String[] u : units) {
            if (t.endsWith(u[0])) {
                mult = Long.parseLong(u[1]);
                t = t.substring(0, t.length() - u[0].length()).trim();
                break;
            }
        }
        try {
            double v = Double.parseDouble(t);
            if (!(v > 0)) throw new NumberFormatException();
            return (long) (v * mult);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: \"" + text + "\" (use e.g. 5GB, 500MB, 2GiB)");
        }
    }
}

package dev.amalgam.safetensors;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One memory-mapped safetensors file. The whole file is mapped with FFM (no 2 GiB limit) and
 * tensors are slices of the mapping; closing the file unmaps it, after which those slices must
 * not be touched (the shared arena makes that an exception, not a crash).
 */
public final class SafetensorsFile implements AutoCloseable {
    private final Path path;
    private final Arena arena;
    private final MemorySegment mapping;
    private final SafetensorsHeader header;
    private final FileChannel channel;

    private SafetensorsFile(Path path, Arena arena, MemorySegment mapping, SafetensorsHeader header, FileChannel channel) {
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        this.header = header;
        this.channel = channel;
    }

    public static SafetensorsFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            SafetensorsHeader header = SafetensorsHeader.parse(seg, path.toString());
            return new SafetensorsFile(path, arena, seg, header, ch);
        } catch (IOException | RuntimeException e) {
            arena.close();
            ch.close();
            throw e;
        }
    }

    /**
     * Copies bytes [offset, offset + dst.byteSize()) of the named tensor into {@code dst} (a
     * native segment) with positional reads: a streaming pass reads through the page cache
     * without faulting the mapping in page by page. Safe from several threads.
     */
    public void read(String name, long offset, MemorySegment dst) throws IOException {
        TensorInfo info = header.tensor(name);
        if (info == null) throw new IllegalArgumentException(path + " has no tensor " + name);
        if (offset < 0 || offset + dst.byteSize() > info.byteSize()) {
            throw new IllegalArgumentException(name + ": read of " + dst.byteSize() + " bytes at " + offset + " outside the tensor");
        }
        ByteBuffer b = dst.asByteBuffer();
        long pos = header.dataStart() + info.begin() + offset;
        while (b.hasRemaining()) {
            if (channel.read(b, pos + b.position()) < 0) throw new EOFException(path + " ended inside tensor " + name);
        }
    }

    public Path path() {
        return path;
    }

    public SafetensorsHeader header() {
        return header;
    }

    /** The named tensor, or null when this file has no such tensor. */
    public Tensor tensor(String name) {
        TensorInfo info = header.tensor(name);
        if (info == null) return null;
        long start = header.dataStart() + info.begin();
        return new Tensor(info, mapping.asSlice(start, info.byteSize()).asReadOnly(), path.toString());
    }

    @Override
    public void close() {
        arena.close();
        try {
            channel.close();
        } catch (IOException e) {
            // read-only channel: nothing was written that could be lost
        }
    }
}

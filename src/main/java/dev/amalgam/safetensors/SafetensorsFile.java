package dev.amalgam.safetensors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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

    private SafetensorsFile(Path path, Arena arena, MemorySegment mapping, SafetensorsHeader header) {
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        this.header = header;
    }

    public static SafetensorsFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            SafetensorsHeader header = SafetensorsHeader.parse(seg, path.toString());
            return new SafetensorsFile(path, arena, seg, header);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
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
    }
}

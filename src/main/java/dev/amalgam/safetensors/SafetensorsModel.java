package dev.amalgam.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The tensors of a model folder: either sharded ({@value #INDEX} with a {@code weight_map}) or
 * a single {@code model.safetensors}. The index must agree with the shards exactly: every listed
 * tensor is in its shard, and every tensor of a shard is listed for that shard.
 */
public final class SafetensorsModel implements AutoCloseable {
    public static final String INDEX = "model.safetensors.index.json";
    public static final String SINGLE = "model.safetensors";
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

    private final Path dir;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byTensor;

    private SafetensorsModel(Path dir, List<SafetensorsFile> files, Map<String, SafetensorsFile> byTensor) {
        this.dir = dir;
        this.files = files;
        this.byTensor = byTensor;
    }

    /** True when the folder holds safetensors weights in a layout this class can open. */
    public static boolean isModelFolder(Path dir) {
        return Files.isRegularFile(dir.resolve(INDEX)) || Files.isRegularFile(dir.resolve(SINGLE));
    }

    public static SafetensorsModel open(Path dir) throws IOException {
        Path index = dir.resolve(INDEX);
        if (Files.isRegularFile(index)) return openSharded(dir, index);
        Path single = dir.resolve(SINGLE);
        if (Files.isRegularFile(single)) {
            SafetensorsFile f = SafetensorsFile.open(single);
            var map = new LinkedHashMap<String, SafetensorsFile>();
            for (TensorInfo t : f.header().tensors()) map.put(t.name(), f);
            return new SafetensorsModel(dir, List.of(f), map);
        }
        try (Stream<Path> s = Files.list(dir)) {
            if (s.noneMatch(p -> p.getFileName().toString().endsWith(".safetensors"))) {
                throw new NoSuchFileException(dir + ": no safetensors weights (" + SINGLE + " or " + INDEX + ")");
            }
        }
        throw new SafetensorsFormatException(dir.toString(), Violation.BAD_INDEX,
                "several .safetensors files but no " + INDEX);
    }

    private static SafetensorsModel openSharded(Path dir, Path index) throws IOException {
        String src = index.toString();
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (JsonProcessingException e) {
            throw new SafetensorsFormatException(src, Violation.BAD_INDEX, e.getOriginalMessage());
        }
        JsonNode wm = root == null ? null : root.get("weight_map");
        if (wm == null || !wm.isObject()) {
            throw new SafetensorsFormatException(src, Violation.BAD_INDEX, "no weight_map object");
        }
        Map<String, List<String>> byShard = new TreeMap<>();
        for (var e : wm.properties()) {
            if (!e.getValue().isTextual()) {
                throw new SafetensorsFormatException(src, Violation.BAD_INDEX, e.getKey() + ": shard name is not a string");
            }
            String shard = e.getValue().textValue();
            if (shard.contains("/") || shard.contains("\\") || shard.startsWith(".")) {
                throw new SafetensorsFormatException(src, Violation.BAD_INDEX, e.getKey() + ": shard name \"" + shard + "\" leaves the folder");
            }
            byShard.computeIfAbsent(shard, k -> new ArrayList<>()).add(e.getKey());
        }
        List<SafetensorsFile> files = new ArrayList<>();
        Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
        try {
            for (var e : byShard.entrySet()) {
                SafetensorsFile f = SafetensorsFile.open(dir.resolve(e.getKey()));
                files.add(f);
                for (String name : e.getValue()) {
                    if (f.header().tensor(name) == null) {
                        throw new SafetensorsFormatException(src, Violation.BAD_INDEX, name + " is not in " + e.getKey());
                    }
                }
                if (f.header().tensors().size() != e.getValue().size()) {
                    for (TensorInfo t : f.header().tensors()) {
                        if (!e.getValue().contains(t.name())) {
                            throw new SafetensorsFormatException(src, Violation.BAD_INDEX,
                                    t.name() + " in " + e.getKey() + " is not listed in the weight_map");
                        }
                    }
                }
            }
            // keep file order (shard, offset) so iteration is deterministic and sequential on disk
            for (SafetensorsFile f : files) {
                for (TensorInfo t : f.header().tensors()) byTensor.put(t.name(), f);
            }
        } catch (IOException | RuntimeException ex) {
            files.forEach(SafetensorsFile::close);
            throw ex;
        }
        return new SafetensorsModel(dir, files, byTensor);
    }

    public Path dir() {
        return dir;
    }

    /** Tensor names in storage order (shard by shard, offset order within a shard). */
    public List<String> names() {
        return List.copyOf(byTensor.keySet());
    }

    public boolean has(String name) {
        return byTensor.containsKey(name);
    }

    public TensorInfo info(String name) {
        SafetensorsFile f = byTensor.get(name);
        return f == null ? null : f.header().tensor(name);
    }

    /** The named tensor, or null when the model has none. */
    public Tensor tensor(String name) {
        SafetensorsFile f = byTensor.get(name);
        return f == null ? null : f.tensor(name);
    }

    /** Copies bytes of the named tensor into {@code dst} by positional reads (see {@link SafetensorsFile#read}). */
    public void read(String name, long offset, MemorySegment dst) throws IOException {
        SafetensorsFile f = byTensor.get(name);
        if (f == null) throw new IllegalArgumentException(dir + " has no tensor " + name);
        f.read(name, offset, dst);
    }

    public List<SafetensorsFile> files() {
        return Collections.unmodifiableList(files);
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}

package dev.amalgam.scan;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.amalgam.safetensors.SafetensorsFormatException;
import dev.amalgam.safetensors.SafetensorsHeader;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.DataFormatException;
import java.util.zip.GZIPInputStream;

/**
 * The fail-closed static scanner: every file of a model, judged by its content. Nothing is ever
 * loaded, deserialised or executed. {@link #scan(Path)} never throws for bad content: every problem
 * becomes a finding, and what cannot be analysed is "could not scan", never clean.
 */
public final class Scanner {
    static final int HEAD = 64 * 1024;
    static final long MAX_IN_MEMORY = 1L << 30;
    static final int MAX_ZIP_DEPTH = 3;
    /** Text files are read whole (configs, templates) up to this size. */
    static final long MAX_TEXT = 64L << 20;
    /** Pickles followed one after another in one file (a legacy torch file has five). */
    static final int MAX_PICKLES = 64;
    /** {@code <archive>/data/<key>}: a tensor storage in a torch zip, raw bytes. */
    private static final Pattern TORCH_STORAGE = Pattern.compile("[^/]+/data/[^/]+");
    private static final Set<String> CODE_EXTENSIONS = Set.of(".py", ".pyc", ".pyw", ".sh", ".bash", ".zsh", ".ps1", ".bat",
            ".cmd", ".js", ".mjs", ".rb", ".pl", ".lua", ".so", ".dll", ".dylib", ".exe", ".ipynb", ".jar", ".class");
    /** Python's json module (what transformers uses) accepts NaN and Infinity; so do we. */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    private Scanner() {
    }

    /** Scans a file or every file under a folder (symbolic links are findings, never followed). */
    public static ScanReport scan(Path path) throws IOException {
        return scan(path, null);
    }

    /**
     * Scans a file or a folder and names files as the user gave them: a file by {@code display}, a
     * folder's files by {@code display/relative-path}. With {@code display == null} a file is named
     * by its file name and a folder's files by their path relative to it (the registry's view).
     */
    public static ScanReport scan(Path path, String display) throws IOException {
        List<Finding> findings = new ArrayList<>();
        List<String> files = new ArrayList<>();
        if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
            String prefix = display == null || display.isEmpty() ? "" : display.endsWith("/") ? display : display + "/";
            try (Stream<Path> s = Files.walk(path)) {
                for (Path p : (Iterable<Path>) s.sorted()::iterator) {
                    String rel = path.relativize(p).toString().replace('\\', '/');
                    if (rel.isEmpty() || rel.equals(".git") || rel.startsWith(".git/")) continue;
                    if (Files.isSymbolicLink(p)) {
                        findings.add(new Finding(prefix + rel, Rule.FILE_SYMLINK,
                                "symbolic link: it could point anywhere on the loading machine", null));
                    } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                        files.add(prefix + rel);
                        scanFile(p, prefix + rel, findings);
                    }
                }
            }
        } else if (Files.isSymbolicLink(path)) {
            findings.add(new Finding(display != null ? display : path.getFileName().toString(), Rule.FILE_SYMLINK,
                    "symbolic link: it could point anywhere on the loading machine", null));
        } else if (Files.isRegularFile(path)) {
            String name = display != null ? display : path.getFileName().toString();
            files.add(name);
            scanFile(path, name, findings);
        } else {
            throw new NoSuchFileException(path.toString());
        }
        return new ScanReport(files, findings);
    }

    /** The format of a file by its content, as a lower-case name (safetensors, pickle, zip, gguf, text, ...). */
    public static String formatOf(Path file) throws IOException {
        long size = Files.size(file);
        return Format.sniff(head(file, size), size).name().toLowerCase(Locale.ROOT);
    }

    static void scanFile(Path file, String name, List<Finding> out) {
        try {
            long size = Files.size(file);
            byte[] head = head(file, size);
            Format f = Format.sniff(head, size);
            switch (f) {
                case SAFETENSORS -> {
                    checkName(name, f, out);
                    safetensors(file, name, size, out);
                    polyglotPickle(whole(file, head, size, name, out), name, f, out);
                }
                case GGUF -> {
                    checkName(name, f, out);
                    gguf(file, name, size, out);
                    polyglotPickle(whole(file, head, size, name, out), name, f, out);
                }
                case PICKLE, ZIP, NUMPY, TEXT, GZIP, TAR -> {
                    if (f == Format.TEXT && size > MAX_TEXT && !judgedText(name)) {
                        // a large text file (a dataset, a vocabulary): only a pickle hiding in it matters
                        content(whole(file, head, size, name, out), name, f, 0, out);
                        return;
                    }
                    long cap = f == Format.TEXT ? MAX_TEXT : MAX_IN_MEMORY;
                    if (size > cap) {
                        checkName(name, f, out);
                        out.add(new Finding(name, Rule.UNSCANNABLE_TOO_LARGE, f.label() + " file larger than "
                                + (cap >> 20) + " MiB: it is not read into memory", size + " bytes"));
                        return;
                    }
                    content(size == head.length ? head : Files.readAllBytes(file), name, f, 0, out);
                }
                default -> {
                    boolean hdf5 = head.length >= 4 && (head[0] & 0xff) == 0x89 && head[1] == 'H' && head[2] == 'D' && head[3] == 'F';
                    content(hdf5 ? prefix(file, size, MAX_TEXT) : whole(file, head, size, name, out), name, f, 0, out);
                }
            }
        } catch (IOException e) {
            out.add(new Finding(name, Rule.UNSCANNABLE_IO, "cannot read the file: " + e.getMessage(), null));
        }
    }

    /**
     * The bytes a pickle loader could consume from the start of a file we otherwise only sniff: the
     * head, or the whole file (up to 1 GiB) when the head starts what could be a pickle that runs
     * past it.
     */
    private static byte[] whole(Path file, byte[] head, long size, String name, List<Finding> out) throws IOException {
        if (size == head.length) return head;
        PickleAnalyzer.Result r = PickleAnalyzer.analyze(head, 0, name, new ArrayList<>());
        if (!r.ranOut()) return head;
        if (size > MAX_IN_MEMORY) {
            out.add(new Finding(name, Rule.UNSCANNABLE_TOO_LARGE,
                    "the file starts like a pickle and is larger than 1 GiB: it is not read into memory", size + " bytes"));
            return head;
        }
        return Files.readAllBytes(file);
    }

    private static byte[] prefix(Path file, long size, long max) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes((int) Math.min(max, size));
        }
    }

    private static byte[] head(Path file, long size) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes((int) Math.min(HEAD, size));
        }
    }

    private static void checkName(String name, Format f, List<Finding> out) {
        String lower = name.toLowerCase(Locale.ROOT);
        for (String ext : CODE_EXTENSIONS) {
            if (lower.endsWith(ext)) {
                out.add(new Finding(name, ext.equals(".ipynb") ? Rule.CODE_NOTEBOOK : Rule.CODE_FILE,
                        "executable code in a model repository (runs with trust_remote_code or by hand)", ext));
                break;
            }
        }
        Set<Format> expected = Format.expectedFor(name);
        if (expected != null && !expected.contains(f)) {
            out.add(new Finding(name, Rule.FORMAT_EXTENSION_MISMATCH,
                    "the name says " + Format.labels(expected) + " but the content is " + f.label(), null));
        }
    }

    /**
     * Judges bytes of a known format (a whole file, or a member of an archive). Content that a pickle
     * loader accepts is analysed as a pickle whatever its name or apparent format: text that
     * unpickles (protocols 0 and 1 have no PROTO opcode) is a pickle, any other format that also
     * unpickles is a polyglot.
     */
    static void content(byte[] data, String name, Format f, int depth, List<Finding> out) {
        switch (f) {
            case PICKLE -> {
                checkName(name, f, out);
                pickles(data, name, out);
            }
            case TEXT, BINARY -> {
                if (isPickle(data, name)) {
                    checkName(name, Format.PICKLE, out);
                    pickles(data, name, out);
                } else {
                    checkName(name, f, out);
                    if (f == Format.TEXT) text(data, name, out);
                    else if (depth == 0) binary(data, name, out); // inside archives: data the loader reads raw
                }
            }
            default -> {
                checkName(name, f, out);
                polyglotPickle(data, name, f, out);
                switch (f) {
                    case ZIP -> zip(data, name, depth, out);
                    case NUMPY -> numpy(data, name, out);
                    case GZIP -> gzip(data, name, depth, out);
                    case TAR -> tar(data, name, depth, out);
                    case BZIP2, XZ, SEVENZIP -> out.add(new Finding(name, Rule.UNSCANNABLE_ARCHIVE,
                            "a " + f.label() + " archive: its content cannot be inspected; unpack it and register the files", null));
                    case ELF, MACHO, PE -> out.add(new Finding(name, Rule.CODE_NATIVE,
                            "a native executable or library (" + f.label() + ")", null));
                    default -> {
                        // safetensors and GGUF: headers are checked from the file
                    }
                }
            }
        }
    }

    /**
     * Whether a pickle loader accepts these bytes: CPython's unpickler returns a value, or it runs
     * a call on something not allowlisted before it stops (the payload of a "broken" pickle runs).
     */
    static boolean isPickle(byte[] data, String name) {
        if (data.length == 0) return false;
        PickleAnalyzer.Result r = PickleAnalyzer.analyze(data, 0, name, new ArrayList<>());
        return r.complete() || r.unsafeCalls() > 0;
    }

    private static void polyglotPickle(byte[] data, String name, Format f, List<Finding> out) {
        if (!isPickle(data, name)) return;
        out.add(new Finding(name, Rule.FORMAT_POLYGLOT, "the file is " + f.label() + " AND a pickle a loader accepts", null));
        pickles(data, name, out);
    }

    /**
     * A sequence of pickles: a plain pickle, or a legacy torch file (magic number, protocol, system
     * info, the state, the storage keys, then raw storage bytes; {@code torch/serialization.py
     * _legacy_load} unpickles them one after another). The first pickle must be complete; after
     * it, pickles are followed as long as a loader would accept them, and raw bytes end the scan.
     */
    static void pickles(byte[] data, String name, List<Finding> out) {
        if (data.length == 0) {
            out.add(new Finding(name, Rule.UNSCANNABLE_PICKLE, "empty pickle", null));
            return;
        }
        int before = out.size();
        PickleAnalyzer.Result first = PickleAnalyzer.analyze(data, 0, name, out);
        if (!first.complete()) return;
        boolean firstClean = out.size() == before && !first.literalInts().isEmpty();
        int pos = first.end();
        for (int count = 1; pos < data.length && count < MAX_PICKLES; count++) {
            List<Finding> next = new ArrayList<>();
            PickleAnalyzer.Result r = PickleAnalyzer.analyze(data, pos, name, next);
            if (!r.complete() && r.unsafeCalls() == 0) break; // raw storage bytes follow
            if (count == 1 && !firstClean) {
                out.add(new Finding(name, Rule.TORCH_MAGIC_NOT_LITERAL,
                        "the first pickle of a legacy torch file must be a plain magic number", null));
            }
            out.addAll(next);
            if (!r.complete()) break;
            pos = r.end();
        }
    }

    static void zip(byte[] data, String name, int depth, List<Finding> out) {
        if (depth >= MAX_ZIP_DEPTH) {
            out.add(new Finding(name, Rule.UNSCANNABLE_NESTING, "archives nested too deeply", null));
            return;
        }
        ZipArchive z = ZipArchive.read(ByteBuffer.wrap(data));
        for (String p : z.problems) {
            out.add(new Finding(name, Rule.ZIP_INCONSISTENT, "the zip's central directory and local headers disagree or are broken", p));
        }
        if (z.central.isEmpty() && !z.problems.isEmpty()) {
            out.add(new Finding(name, Rule.UNSCANNABLE_ZIP, "cannot list the zip's members", null));
            return;
        }
        for (ZipArchive.Entry e : z.central) {
            String member = name + "!" + e.name();
            if (e.name().endsWith("/") && e.size() == 0) continue; // a directory entry
            byte[] content;
            try {
                content = z.content(e);
            } catch (DataFormatException ex) {
                out.add(new Finding(member, Rule.UNSCANNABLE_ZIP_MEMBER, "cannot extract the member: " + ex.getMessage(), null));
                continue;
            } catch (RuntimeException ex) {
                out.add(new Finding(member, Rule.UNSCANNABLE_ZIP_MEMBER, "cannot extract the member: its data lies outside the file", null));
                continue;
            }
            if (TORCH_STORAGE.matcher(e.name()).matches()) {
                // torch/serialization.py _load: storages are read as raw bytes (zip_file.get_storage_from_record),
                // never unpickled; only <archive>/data.pkl goes through the unpickler.
                continue;
            }
            if (e.name().toLowerCase(Locale.ROOT).endsWith(".pkl")) { // data.pkl, constants.pkl: what loaders unpickle
                checkName(member, Format.PICKLE, out);
                pickles(content, member, out);
                continue;
            }
            content(content, member, Format.sniff(content, content.length), depth + 1, out);
        }
    }

    /**
     * A gzip stream: its content is judged like a file (pandas.read_pickle and joblib unpickle
     * {@code .pkl.gz} files), named {@code archive.gz!inner}.
     */
    static void gzip(byte[] data, String name, int depth, List<Finding> out) {
        if (depth >= MAX_ZIP_DEPTH) {
            out.add(new Finding(name, Rule.UNSCANNABLE_NESTING, "archives nested too deeply", null));
            return;
        }
        byte[] inner;
        try (var in = new GZIPInputStream(new ByteArrayInputStream(data))) {
            inner = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, MAX_IN_MEMORY + 1));
        } catch (IOException e) {
            out.add(new Finding(name, Rule.UNSCANNABLE_ARCHIVE, "a gzip stream that cannot be decompressed", null));
            return;
        }
        if (inner.length > MAX_IN_MEMORY) {
            out.add(new Finding(name, Rule.UNSCANNABLE_TOO_LARGE, "decompresses to more than 1 GiB", null));
            return;
        }
        String base = name.substring(Math.max(name.lastIndexOf('/'), name.lastIndexOf('!')) + 1);
        String innerName = base.toLowerCase(Locale.ROOT).endsWith(".tgz") ? base.substring(0, base.length() - 4) + ".tar"
                : base.toLowerCase(Locale.ROOT).endsWith(".gz") ? base.substring(0, base.length() - 3) : base + ".content";
        content(inner, name + "!" + innerName, Format.sniff(inner, inner.length), depth + 1, out);
    }

    /**
     * An uncompressed tar (POSIX ustar, GNU long names, pax headers): every regular member is judged
     * like a file. {@code torch/serialization.py _legacy_load} opens the oldest torch format as a
     * tar and unpickles its {@code pickle}, {@code tensors} and {@code storages} members.
     */
    static void tar(byte[] d, String name, int depth, List<Finding> out) {
        if (depth >= MAX_ZIP_DEPTH) {
            out.add(new Finding(name, Rule.UNSCANNABLE_NESTING, "archives nested too deeply", null));
            return;
        }
        int pos = 0;
        String longName = null;
        while (true) {
            if (pos + 512 > d.length) {
                out.add(new Finding(name, Rule.UNSCANNABLE_ARCHIVE, "a tar archive that ends inside a header", "offset " + pos));
                return;
            }
            boolean zero = true;
            for (int i = pos; i < pos + 512 && zero; i++) zero = d[i] == 0;
            if (zero) return; // end of archive
            long size = tarNumber(d, pos + 124, 12);
            int type = d[pos + 156];
            String memberName = longName != null ? longName : tarString(d, pos + 345, 155).isEmpty() ? tarString(d, pos, 100)
                    : tarString(d, pos + 345, 155) + "/" + tarString(d, pos, 100);
            longName = null;
            int dataStart = pos + 512;
            if (size < 0 || size > d.length - dataStart) {
                out.add(new Finding(name, Rule.UNSCANNABLE_ARCHIVE, "a tar member larger than the archive", memberName));
                return;
            }
            byte[] body = Arrays.copyOfRange(d, dataStart, dataStart + (int) size);
            switch (type) {
                case 'L' -> longName = tarString(body, 0, body.length);
                case 'x', 'g' -> { } // pax headers: metadata only
                case '0', 0, '7' -> content(body, name + "!" + memberName, Format.sniff(body, body.length), depth + 1, out);
                case '1', '2' -> out.add(new Finding(name + "!" + memberName, Rule.FILE_SYMLINK,
                        "a link inside the archive: it could point anywhere when extracted", null));
                default -> { } // directories, devices, fifos: no content
            }
            pos = dataStart + (int) ((size + 511) / 512 * 512);
        }
    }

    private static long tarNumber(byte[] d, int at, int len) {
        if ((d[at] & 0x80) != 0) { // base-256 (GNU) for large sizes
            long v = d[at] & 0x7f;
            for (int i = 1; i < len; i++) v = (v << 8) | (d[at + i] & 0xff);
            return v;
        }
        String s = tarString(d, at, len).strip();
        if (s.isEmpty()) return 0;
        try {
            return Long.parseLong(s, 8);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String tarString(byte[] d, int at, int len) {
        int end = at;
        while (end < at + len && end < d.length && d[end] != 0) end++;
        return new String(d, at, end - at, StandardCharsets.UTF_8);
    }

    static void numpy(byte[] d, String name, List<Finding> out) {
        NpyHeader.Result h = NpyHeader.read(d);
        if (h.problem() != null) {
            out.add(new Finding(name, Rule.UNSCANNABLE_NUMPY, h.problem(), null));
            return;
        }
        if (h.hasObject()) {
            out.add(new Finding(name, Rule.NUMPY_OBJECT_ARRAY,
                    "the dtype holds Python objects: NumPy stores the array as a pickle", h.descr()));
            if (h.dataStart() < d.length) pickles(Arrays.copyOfRange(d, h.dataStart(), d.length), name, out);
        }
    }

    static void text(byte[] d, String name, List<Finding> out) {
        String s = new String(d, StandardCharsets.UTF_8);
        String base = name.substring(Math.max(name.lastIndexOf('/'), name.lastIndexOf('!')) + 1).toLowerCase(Locale.ROOT);
        if (s.startsWith("#!")) {
            out.add(new Finding(name, Rule.CODE_SCRIPT, "a script (starts with #!)", s.lines().findFirst().orElse("")));
        }
        if (base.endsWith(".jinja") || base.endsWith(".jinja2") || base.endsWith(".j2")) {
            ChatTemplates.judge(s, name, out);
            return;
        }
        if (!judgedText(base)) return;
        JsonNode n;
        try {
            n = JSON.readTree(d);
        } catch (JsonProcessingException e) {
            var at = e.getLocation();
            out.add(new Finding(name, Rule.JSON_INVALID, "not valid JSON", (at == null ? "" : "line " + at.getLineNr()
                    + ", column " + at.getColumnNr() + ": ") + e.getOriginalMessage().lines().findFirst().orElse("")));
            return;
        } catch (IOException e) {
            out.add(new Finding(name, Rule.JSON_INVALID, "not valid JSON", null));
            return;
        }
        if (n == null) return;
        // transformers reads auto_map from config.json, tokenizer_config.json and every processor config
        // (dynamic_module_utils.get_class_from_dynamic_module: "module.Class" or "repo--module.Class",
        // the latter fetching another repository's code); PEFT's adapter_config.json uses auto_mapping.
        for (String key : List.of("auto_map", "auto_mapping", "custom_pipelines")) {
            List<JsonNode> found = n.findValues(key);
            for (JsonNode v : found) {
                out.add(new Finding(name, Rule.CONFIG_REMOTE_CODE,
                        key + ": loading needs trust_remote_code, i.e. runs code from " + (v.toString().contains("--")
                                ? "another repository" : "the repository"), v.toString()));
            }
        }
        kerasLambda(n, name, out);
        JsonNode tpl = n.get("chat_template");
        if (tpl != null) {
            if (tpl.isTextual()) {
                ChatTemplates.judge(tpl.asText(), name, out);
            } else if (tpl.isArray()) { // [{"name": ..., "template": ...}]
                for (JsonNode t : tpl) {
                    JsonNode text = t.get("template");
                    if (text != null && text.isTextual()) ChatTemplates.judge(text.asText(), name, out);
                    else out.add(new Finding(name, Rule.UNSCANNABLE_TEMPLATE, "a chat_template entry without a template string", null));
                }
            } else if (!tpl.isNull()) {
                out.add(new Finding(name, Rule.UNSCANNABLE_TEMPLATE, "chat_template is neither a string nor a list of templates", null));
            }
        }
    }

    /** Text files whose whole content is judged: configurations and chat templates. */
    private static boolean judgedText(String name) {
        String base = name.substring(Math.max(name.lastIndexOf('/'), name.lastIndexOf('!')) + 1).toLowerCase(Locale.ROOT);
        return base.endsWith("config.json") || base.equals("chat_template.json") || base.endsWith(".jinja")
                || base.endsWith(".jinja2") || base.endsWith(".j2");
    }

    /** Keras layers {"class_name": "Lambda", "config": {"function": ...}} anywhere in a model config. */
    private static void kerasLambda(JsonNode n, String name, List<Finding> out) {
        for (JsonNode cls : n.findParents("class_name")) {
            if (cls.get("class_name").asText().equals("Lambda")) {
                JsonNode cfg = cls.get("config");
                out.add(new Finding(name, Rule.CODE_KERAS_LAMBDA, "a Keras Lambda layer: Python code that runs when the model loads",
                        cfg != null && cfg.has("name") ? "layer " + cfg.get("name").asText() : null));
                return;
            }
        }
    }

    private static final Pattern KERAS_LAMBDA = Pattern.compile("\"class_name\"\\s*:\\s*\"Lambda\"");

    static void binary(byte[] head, String name, List<Finding> out) {
        String base = name.substring(Math.max(name.lastIndexOf('/'), name.lastIndexOf('!')) + 1);
        if (head.length >= 8 && (head[0] & 0xff) == 0x89 && head[1] == 'H' && head[2] == 'D' && head[3] == 'F') {
            // HDF5 (Keras .h5): the model_config attribute is JSON text inside the file
            if (KERAS_LAMBDA.matcher(new String(head, StandardCharsets.ISO_8859_1)).find()) {
                out.add(new Finding(name, Rule.CODE_KERAS_LAMBDA, "a Keras Lambda layer: Python code that runs when the model loads", null));
            }
        }
        if (base.endsWith(".model") || image(head)) return; // SentencePiece protobufs, images: data
        out.add(new Finding(name, Rule.UNSCANNABLE_UNKNOWN_FORMAT, "binary content of no known format: it cannot be judged", null));
    }

    private static boolean image(byte[] h) {
        return h.length > 8 && ((h[0] & 0xff) == 0x89 && h[1] == 'P' && h[2] == 'N' && h[3] == 'G'
                || (h[0] & 0xff) == 0xff && (h[1] & 0xff) == 0xd8
                || h[0] == 'G' && h[1] == 'I' && h[2] == 'F');
    }

    static void safetensors(Path file, String name, long size, List<Finding> out) {
        try {
            SafetensorsHeader.parse(file);
        } catch (SafetensorsFormatException e) {
            out.add(new Finding(name, Rule.SAFETENSORS_INVALID,
                    "invalid safetensors: " + e.violation().name().toLowerCase(Locale.ROOT).replace('_', '-'), e.detail()));
        } catch (IOException e) {
            out.add(new Finding(name, Rule.UNSCANNABLE_IO, "cannot read the file: " + e.getMessage(), null));
            return;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            int tail = (int) Math.min(size, 65_557);
            ByteBuffer b = ByteBuffer.allocate(tail);
            ch.read(b, size - tail);
            byte[] t = b.array();
            for (int i = t.length - 22; i >= 0; i--) {
                if (t[i] == 'P' && t[i + 1] == 'K' && t[i + 2] == 5 && t[i + 3] == 6) {
                    out.add(new Finding(name, Rule.FORMAT_POLYGLOT, "the file is valid safetensors AND carries a zip archive at its end", null));
                    break;
                }
            }
        } catch (IOException e) {
            out.add(new Finding(name, Rule.UNSCANNABLE_IO, "cannot read the file: " + e.getMessage(), null));
        }
    }

    static void gguf(Path file, String name, long size, List<Finding> out) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            int len = (int) Math.min(size, 64L << 20);
            ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining() && ch.read(b) > 0) {
                // read the metadata region
            }
            b.flip();
            Gguf.readMetadata(b, name, out);
        } catch (IOException e) {
            out.add(new Finding(name, Rule.UNSCANNABLE_IO, "cannot read the file: " + e.getMessage(), null));
        }
    }
}

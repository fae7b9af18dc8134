package dev.amalgam.scan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.safetensors.SafetensorsFormatException;
import dev.amalgam.safetensors.SafetensorsHeader;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.DataFormatException;

/**
 * The fail-closed static scanner: every file of a model, judged by its content. Nothing is ever
 * loaded, deserialised or executed. {@link #scan(Path)} never throws for bad content: every problem
 * becomes a finding, and what cannot be analysed is "could not scan", never clean.
 */
public final class Scanner {
    static final int HEAD = 64 * 1024;
    static final long MAX_IN_MEMORY = 1L << 30;
    static final int MAX_ZIP_DEPTH = 3;
    private static final Set<String> CODE_EXTENSIONS = Set.of(".py", ".pyc", ".pyw", ".sh", ".bash", ".zsh", ".ps1", ".bat",
            ".cmd", ".js", ".mjs", ".rb", ".pl", ".lua", ".so", ".dll", ".dylib", ".exe", ".ipynb", ".jar", ".class");
    private static final Pattern JINJA_ESCAPE = Pattern.compile(
            "__(class|mro|subclasses|globals|builtins|import|init|base|bases|code|dict|getattribute|reduce|reduce_ex)__|\\bos\\.|\\beval\\b|\\bexec\\b|popen|\\bsystem\\s*\\(");
    private static final ObjectMapper JSON = new ObjectMapper();

    private Scanner() {
    }

    /** Scans a file or every file under a folder (symbolic links are findings, never followed). */
    public static ScanReport scan(Path path) throws IOException {
        List<Finding> findings = new ArrayList<>();
        List<String> files = new ArrayList<>();
        if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> s = Files.walk(path)) {
                for (Path p : (Iterable<Path>) s.sorted()::iterator) {
                    String rel = path.relativize(p).toString().replace('\\', '/');
                    if (rel.isEmpty() || rel.equals(".git") || rel.startsWith(".git/")) continue;
                    if (Files.isSymbolicLink(p)) {
                        findings.add(new Finding(rel, "file.symlink", Finding.Severity.HIGH,
                                "symbolic link: it could point anywhere on the loading machine", null));
                    } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                        files.add(rel);
                        scanFile(p, rel, findings);
                    }
                }
            }
        } else if (Files.isSymbolicLink(path)) {
            findings.add(new Finding(path.getFileName().toString(), "file.symlink", Finding.Severity.HIGH,
                    "symbolic link: it could point anywhere on the loading machine", null));
        } else if (Files.isRegularFile(path)) {
            String name = path.getFileName().toString();
            files.add(name);
            scanFile(path, name, findings);
        } else {
            throw new java.nio.file.NoSuchFileException(path.toString());
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
            checkName(name, f, out);
            switch (f) {
                case SAFETENSORS -> safetensors(file, name, head, size, out);
                case PICKLE, ZIP, NUMPY -> {
                    if (size > MAX_IN_MEMORY) {
                        out.add(new Finding(name, "unscannable.too-large", Finding.Severity.HIGH,
                                f + " file larger than 1 GiB: convert it to safetensors", size + " bytes"));
                        return;
                    }
                    byte[] all = Files.readAllBytes(file);
                    content(all, name, f, 0, out);
                }
                case GGUF -> gguf(file, name, size, out);
                default -> content(head, name, f, 0, out);
            }
        } catch (IOException e) {
            out.add(new Finding(name, "unscannable.io", Finding.Severity.HIGH, "cannot read the file: " + e.getMessage(), null));
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
                out.add(new Finding(name, ext.equals(".ipynb") ? "code.notebook" : "code.file", Finding.Severity.HIGH,
                        "executable code in a model repository (runs with trust_remote_code or by hand)", ext));
                break;
            }
        }
        Set<Format> expected = Format.expectedFor(name);
        if (expected != null && !expected.contains(f)) {
            out.add(new Finding(name, "format.extension-mismatch", Finding.Severity.HIGH,
                    "the name says " + expected + " but the content is " + f, null));
        }
    }

    /** Judges bytes of a known format (a whole file, or a member of an archive). */
    static void content(byte[] data, String name, Format f, int depth, List<Finding> out) {
        switch (f) {
            case PICKLE -> pickles(data, name, out);
            case ZIP -> zip(data, name, depth, out);
            case NUMPY -> numpy(data, name, out);
            case GZIP, BZIP2, XZ, SEVENZIP, TAR -> out.add(new Finding(name, "unscannable.archive", Finding.Severity.HIGH,
                    "a " + f + " archive: its content cannot be inspected; unpack it and register the files", null));
            case ELF, MACHO, PE -> out.add(new Finding(name, "code.native", Finding.Severity.CRITICAL,
                    "a native executable or library (" + f + ")", null));
            case TEXT -> text(data, name, out);
            case BINARY -> binary(data, name, out);
            case SAFETENSORS, GGUF -> {
                // handled from the file (headers are parsed there)
            }
        }
    }

    /** A sequence of pickles (legacy torch files hold five, then raw storage bytes). */
    static void pickles(byte[] data, String name, List<Finding> out) {
        int pos = 0;
        int count = 0;
        PickleAnalyzer.Result first = null;
        while (pos < data.length && count < 5) {
            int before = out.size();
            PickleAnalyzer.Result r = PickleAnalyzer.analyze(data, pos, name, out);
            if (count == 0) first = r;
            count++;
            if (!r.complete()) return;
            if (count == 1 && r.end() < data.length && (out.size() > before || r.literalInts().isEmpty())
                    && startsPickle(data, r.end())) {
                out.add(new Finding(name, "torch.magic-not-literal", Finding.Severity.HIGH,
                        "the first pickle of a legacy torch file must be a plain magic number", null));
            }
            pos = r.end();
            if (!startsPickle(data, pos)) break; // raw storage data follows
        }
        if (first == null) out.add(new Finding(name, "unscannable.pickle", Finding.Severity.HIGH, "empty pickle", null));
    }

    private static boolean startsPickle(byte[] d, int pos) {
        return pos < d.length && ((d[pos] & 0xff) == 0x80 || d[pos] == '(' || d[pos] == 'c' || d[pos] == ']' || d[pos] == '}');
    }

    static void zip(byte[] data, String name, int depth, List<Finding> out) {
        if (depth >= MAX_ZIP_DEPTH) {
            out.add(new Finding(name, "unscannable.nesting", Finding.Severity.HIGH, "archives nested too deeply", null));
            return;
        }
        ZipArchive z = ZipArchive.read(ByteBuffer.wrap(data));
        for (String p : z.problems) {
            out.add(new Finding(name, "zip.inconsistent", Finding.Severity.HIGH,
                    "the zip's central directory and local headers disagree or are broken", p));
        }
        if (z.central.isEmpty() && !z.problems.isEmpty()) {
            out.add(new Finding(name, "unscannable.zip", Finding.Severity.HIGH, "cannot list the zip's members", null));
            return;
        }
        for (ZipArchive.Entry e : z.central) {
            String member = name + "!" + e.name();
            byte[] content;
            try {
                content = z.content(e);
            } catch (DataFormatException | RuntimeException ex) {
                out.add(new Finding(member, "unscannable.zip-member", Finding.Severity.HIGH,
                        "cannot extract the member: " + ex.getMessage(), null));
                continue;
            }
            byte[] head = content.length > HEAD ? java.util.Arrays.copyOf(content, HEAD) : content;
            Format f = Format.sniff(head, content.length);
            String lower = e.name().toLowerCase(Locale.ROOT);
            for (String ext : CODE_EXTENSIONS) {
                if (lower.endsWith(ext)) {
                    out.add(new Finding(member, "code.file", Finding.Severity.HIGH, "executable code inside the archive", ext));
                    break;
                }
            }
            if (f == Format.BINARY || f == Format.TEXT) continue; // tensor storages, version files
            content(content, member, f, depth + 1, out);
        }
    }

    static void numpy(byte[] d, String name, List<Finding> out) {
        if (d.length < 10) {
            out.add(new Finding(name, "unscannable.numpy", Finding.Severity.HIGH, "truncated .npy header", null));
            return;
        }
        int major = d[6] & 0xff;
        int hlen;
        int start;
        if (major == 1) {
            hlen = (d[8] & 0xff) | ((d[9] & 0xff) << 8);
            start = 10;
        } else if (major == 2 || major == 3) {
            if (d.length < 12) {
                out.add(new Finding(name, "unscannable.numpy", Finding.Severity.HIGH, "truncated .npy header", null));
                return;
            }
            hlen = ByteBuffer.wrap(d, 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            start = 12;
        } else {
            out.add(new Finding(name, "unscannable.numpy", Finding.Severity.HIGH, "unknown .npy version " + major, null));
            return;
        }
        if (hlen < 0 || start + hlen > d.length) {
            out.add(new Finding(name, "unscannable.numpy", Finding.Severity.HIGH, "header length exceeds the file", null));
            return;
        }
        String header = new String(d, start, hlen, StandardCharsets.ISO_8859_1);
        if (header.matches("(?s).*'descr'\\s*:\\s*'[|<>=]?O.*") || header.contains("'descr': [")) {
            out.add(new Finding(name, "numpy.object-array", Finding.Severity.HIGH,
                    "an object (or structured) array: NumPy stores it as a pickle", header.strip()));
            if (start + hlen < d.length) pickles(java.util.Arrays.copyOfRange(d, start + hlen, d.length), name, out);
        }
    }

    static void text(byte[] d, String name, List<Finding> out) {
        String s = new String(d, StandardCharsets.UTF_8);
        String base = name.contains("/") ? name.substring(name.lastIndexOf('/') + 1) : name;
        if (s.startsWith("#!")) {
            out.add(new Finding(name, "code.script", Finding.Severity.HIGH, "a script (starts with #!)", s.lines().findFirst().orElse("")));
        }
        if (base.equals("config.json") || base.equals("tokenizer_config.json")) {
            JsonNode n;
            try {
                n = JSON.readTree(d);
            } catch (IOException e) {
                out.add(new Finding(name, "json.invalid", Finding.Severity.WARNING, "not valid JSON", e.getMessage()));
                return;
            }
            if (n != null && n.has("auto_map")) {
                out.add(new Finding(name, "config.remote-code", Finding.Severity.HIGH,
                        "auto_map: loading needs trust_remote_code, i.e. runs code from the repository", n.get("auto_map").toString()));
            }
            JsonNode tpl = n == null ? null : n.get("chat_template");
            if (tpl != null) {
                String all = tpl.toString();
                var m = JINJA_ESCAPE.matcher(all);
                if (m.find()) {
                    out.add(new Finding(name, "template.sandbox-escape", Finding.Severity.CRITICAL,
                            "the chat template reaches Python internals (Jinja sandbox escape)", m.group()));
                }
            }
        }
    }

    static void binary(byte[] head, String name, List<Finding> out) {
        String base = name.contains("/") ? name.substring(name.lastIndexOf('/') + 1) : name;
        if (base.endsWith(".model") || image(head)) return; // SentencePiece protobufs, images: data
        out.add(new Finding(name, "unscannable.unknown-format", Finding.Severity.WARNING,
                "binary content of no known format: it cannot be judged", null));
    }

    private static boolean image(byte[] h) {
        return h.length > 8 && ((h[0] & 0xff) == 0x89 && h[1] == 'P' && h[2] == 'N' && h[3] == 'G'
                || (h[0] & 0xff) == 0xff && (h[1] & 0xff) == 0xd8
                || h[0] == 'G' && h[1] == 'I' && h[2] == 'F');
    }

    static void safetensors(Path file, String name, byte[] head, long size, List<Finding> out) {
        try {
            SafetensorsHeader.parse(file);
        } catch (SafetensorsFormatException e) {
            out.add(new Finding(name, "safetensors.invalid", Finding.Severity.HIGH,
                    "invalid safetensors: " + e.violation().name().toLowerCase(Locale.ROOT).replace('_', '-'), e.detail()));
        } catch (IOException e) {
            out.add(new Finding(name, "unscannable.io", Finding.Severity.HIGH, "cannot read the file: " + e.getMessage(), null));
            return;
        }
        if (PickleAnalyzer.isCompletePickle(head)) {
            out.add(new Finding(name, "format.polyglot", Finding.Severity.CRITICAL, "the file is valid safetensors AND a pickle", null));
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            int tail = (int) Math.min(size, 65_557);
            ByteBuffer b = ByteBuffer.allocate(tail);
            ch.read(b, size - tail);
            byte[] t = b.array();
            for (int i = t.length - 22; i >= 0; i--) {
                if (t[i] == 'P' && t[i + 1] == 'K' && t[i + 2] == 5 && t[i + 3] == 6) {
                    out.add(new Finding(name, "format.polyglot", Finding.Severity.CRITICAL,
                            "the file is valid safetensors AND carries a zip archive at its end", null));
                    break;
                }
            }
        } catch (IOException e) {
            out.add(new Finding(name, "unscannable.io", Finding.Severity.HIGH, "cannot read the file: " + e.getMessage(), null));
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
            out.add(new Finding(name, "unscannable.io", Finding.Severity.HIGH, "cannot read the file: " + e.getMessage(), null));
        }
    }
}

package dev.amalgam.hub;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The files of one revision of a Hugging Face model repository on disk: a snapshot in a local
 * Hub cache ({@code models--ORG--NAME/snapshots/REVISION/}, whose entries are symbolic links into
 * the model's {@code blobs/}), the cache's model folder with a ref ({@code refs/main}), or a plain
 * downloaded repository folder. Every link is resolved to a regular file inside the model's folder;
 * a link that escapes it, dangles, loops or names a folder is refused, never followed.
 */
public final class HubSnapshot {
    /** More entries than any model repository has: a walk past it is refused rather than run unbounded. */
    static final int MAX_ENTRIES = 100_000;
    private static final int MAX_DEPTH = 32;
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern REF_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,99}");
    public static final String CARD = "README.md";
    public static final String CONFIG = "config.json";

    /** One file of the snapshot: its path in the repository and the regular file holding its bytes. */
    public record File(String path, Path real) {
    }

    private final Path folder;
    private final HubId id;
    private final List<File> files;

    private HubSnapshot(Path folder, HubId id, List<File> files) {
        this.folder = folder;
        this.id = id;
        this.files = List.copyOf(files);
    }

    /** The folder the files were read from (a snapshot folder, or the plain folder). */
    public Path folder() {
        return folder;
    }

    /** The repository and revision when the cache layout names them; empty for a plain folder. */
    public Optional<HubId> id() {
        return Optional.ofNullable(id);
    }

    /** Every file, sorted by path. */
    public List<File> files() {
        return files;
    }

    public Optional<File> file(String path) {
        return files.stream().filter(f -> f.path().equals(path)).findFirst();
    }

    /** Whether the folder is part of a Hub cache: a model folder {@code models--ORG--NAME} or one of its snapshots. */
    public static boolean isCacheLayout(Path path) {
        Path p = path.toAbsolutePath().normalize();
        if (isModelFolder(p)) return true;
        Path parent = p.getParent();
        return parent != null && parent.getFileName() != null && parent.getFileName().toString().equals("snapshots")
                && parent.getParent() != null && isModelFolder(parent.getParent());
    }

    /**
     * Opens a snapshot. {@code revision} (a commit or a ref under {@code refs/}, default {@code main})
     * picks the snapshot of a cache model folder; for a snapshot folder it must agree with the
     * folder's name when given; a plain folder takes none.
     */
    public static HubSnapshot open(Path path, String revision) {
        Path p = path.toAbsolutePath().normalize();
        if (!Files.isDirectory(p)) throw new HubException("not a folder: " + path);
        if (isModelFolder(p)) {
            HubId repo = repoOf(p);
            String commit = resolveRevision(p, revision == null ? "main" : revision);
            Path snapshot = p.resolve("snapshots").resolve(commit);
            if (!Files.isDirectory(snapshot, LinkOption.NOFOLLOW_LINKS)) {
                throw new HubException("missing snapshot: " + p.getFileName() + "/snapshots/" + commit
                        + " does not exist (snapshots present: " + String.join(", ", children(p.resolve("snapshots")))
                        + "); download that revision again");
            }
            return new HubSnapshot(snapshot, repo.at(commit), walk(snapshot, realOf(p)));
        }
        if (isCacheLayout(p)) {
            Path model = p.getParent().getParent();
            String commit = p.getFileName().toString();
            if (revision != null && !revision.equals(commit)) {
                String resolved = COMMIT.matcher(revision).matches() ? revision : resolveRevision(model, revision);
                if (!resolved.equals(commit)) {
                    throw new HubException("revision " + revision + " is not the snapshot " + commit + " that was named");
                }
            }
            if (!COMMIT.matcher(commit).matches()) {
                throw new HubException("snapshot folder name '" + commit + "' is not a commit hash (40 hex digits)");
            }
            return new HubSnapshot(p, repoOf(model).at(commit), walk(p, realOf(model)));
        }
        if (revision != null) {
            throw new HubException(path + " is a plain folder, not a Hub cache: it has no revisions to choose from;"
                    + " name its source with ORG/NAME@REVISION instead");
        }
        return new HubSnapshot(p, null, walk(p, realOf(p)));
    }

    /** Hard-links (or, across file systems, copies) every file into {@code target}, which holds no links afterwards. */
    public void materialize(Path target) throws IOException {
        for (File f : files) {
            Path out = target.resolve(f.path()).normalize();
            if (!out.startsWith(target)) throw new HubException("path escapes the target: " + f.path());
            Files.createDirectories(out.getParent());
            try {
                Files.createLink(out, f.real());
            } catch (IOException | UnsupportedOperationException e) {
                Files.copy(f.real(), out, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    /** Reads a file of the snapshot, refusing one larger than {@code limit} bytes; empty when absent. */
    public Optional<byte[]> read(String path, int limit) {
        Optional<File> f = file(path);
        if (f.isEmpty()) return Optional.empty();
        try (InputStream in = Files.newInputStream(f.get().real())) {
            byte[] bytes = in.readNBytes(limit + 1);
            if (bytes.length > limit) {
                throw new HubException(path + " is larger than " + limit + " bytes: refused (a model card or config is far smaller)");
            }
            return Optional.of(bytes);
        } catch (IOException e) {
            throw new HubException("cannot read " + path + ": " + e.getMessage());
        }
    }

    private static boolean isModelFolder(Path p) {
        Path name = p.getFileName();
        return name != null && name.toString().startsWith("models--") && Files.isDirectory(p.resolve("snapshots"));
    }

    /** {@code models--ORG--NAME} to ORG/NAME (the cache writes '/' as '--'; the Hub allows no '--' in names). */
    private static HubId repoOf(Path modelFolder) {
        String[] parts = modelFolder.getFileName().toString().split("--", -1);
        if (parts.length != 3) {
            throw new HubException("cache folder " + modelFolder.getFileName() + " does not name ORG/NAME"
                    + " (expected models--ORG--NAME)");
        }
        return new HubId(parts[1], parts[2], null);
    }

    /** A commit as is, or the commit a ref file {@code refs/NAME} holds. */
    private static String resolveRevision(Path modelFolder, String revision) {
        if (COMMIT.matcher(revision).matches()) return revision;
        if (!REF_NAME.matcher(revision).matches() || revision.contains("..")) {
            throw new HubException("invalid revision '" + revision + "': a commit hash or a ref name");
        }
        Path ref = modelFolder.resolve("refs").resolve(revision).normalize();
        if (!ref.startsWith(modelFolder.resolve("refs")) || Files.isSymbolicLink(ref)
                || !Files.isRegularFile(ref, LinkOption.NOFOLLOW_LINKS)) {
            throw new HubException("no ref '" + revision + "' in " + modelFolder.getFileName() + "/refs (refs present: "
                    + String.join(", ", children(modelFolder.resolve("refs"))) + "); name a commit instead");
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(ref, LinkOption.NOFOLLOW_LINKS)) {
            bytes = in.readNBytes(257);
        } catch (IOException e) {
            throw new HubException("cannot read refs/" + revision + ": " + e.getMessage());
        }
        String commit = new String(bytes, StandardCharsets.UTF_8).strip();
        if (bytes.length > 256 || !COMMIT.matcher(commit).matches()) {
            throw new HubException("refs/" + revision + " does not hold a commit hash (40 hex digits)");
        }
        return commit;
    }

    private static Path realOf(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            throw new HubException("cannot resolve " + p + ": " + e.getMessage());
        }
    }

    private static List<String> children(Path dir) {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return List.of("none");
        try (Stream<Path> s = Files.list(dir)) {
            List<String> names = s.map(c -> c.getFileName().toString()).sorted().limit(20).toList();
            return names.isEmpty() ? List.of("none") : names;
        } catch (IOException e) {
            return List.of("unreadable");
        }
    }

    /** Every file under {@code root}, links resolved and confined to {@code boundary}. */
    private static List<File> walk(Path root, Path boundary) {
        List<File> out = new ArrayList<>();
        int[] seen = {0};
        try (Stream<Path> s = Files.walk(root, MAX_DEPTH)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (++seen[0] > MAX_ENTRIES) {
                    throw new HubException(root + " has more than " + MAX_ENTRIES + " entries: refused");
                }
                if (p.equals(root)) continue;
                String rel = root.relativize(p).toString().replace('\\', '/');
                if (rel.equals(".git") || rel.startsWith(".git/") || rel.equals(".cache") || rel.startsWith(".cache/")) {
                    continue; // a clone's history; the Hub client's download metadata
                }
                if (Files.isSymbolicLink(p)) {
                    out.add(new File(rel, resolveLink(p, rel, boundary)));
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    if (root.relativize(p).getNameCount() >= MAX_DEPTH) {
                        throw new HubException(rel + ": folders nested deeper than " + MAX_DEPTH + " levels: refused");
                    }
                } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    out.add(new File(rel, realOf(p)));
                } else {
                    throw new HubException(rel + " is neither a file, a folder nor a link: refused");
                }
            }
        } catch (IOException e) {
            throw new HubException("cannot read " + root + ": " + e.getMessage());
        }
        out.sort(Comparator.comparing(File::path));
        return out;
    }

    private static Path resolveLink(Path link, String rel, Path boundary) {
        Path real;
        try {
            real = link.toRealPath();
        } catch (NoSuchFileException e) {
            throw new HubException(rel + " is a dangling link (its target does not exist): the cache is incomplete;"
                    + " download the revision again");
        } catch (FileSystemException e) {
            String why = e.getReason() == null ? e.getMessage() : e.getReason();
            throw new HubException(rel + " is a link that cannot be resolved (" + why + "): a loop is refused");
        } catch (IOException e) {
            throw new HubException(rel + ": cannot resolve its link: " + e.getMessage());
        }
        if (!real.startsWith(boundary)) {
            throw new HubException(rel + " links outside the model's folder " + boundary.getFileName()
                    + ": refused (a snapshot's links point into its own blobs/)");
        }
        if (!Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
            throw new HubException(rel + " links to a folder or a special file, not a file: refused");
        }
        return real;
    }
}

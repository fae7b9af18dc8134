package dev.amalgam.registry;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The registry's data directory: {@code db/}, {@code blobs/}, {@code ledger.git/}, {@code keys/}.
 * Plain Java so the {@code serve} command can check it before booting the server.
 */
public final class DataDirectory {
    /** Uploads are written here, one folder per request, and removed when the request ends. */
    public static final String STAGING = "staging";
    /** Where the HTTP layer writes multipart file parts while they arrive (inside staging, so a move is a rename). */
    public static final String UPLOADS = "uploads";
    private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");

    private DataDirectory() {
    }

    /**
     * Creates the layout where missing and proves the directory is writable.
     *
     * @throws IllegalStateException with a one-line explanation when it cannot be used
     */
    public static void prepare(ServerSettings s) {
        Path root = s.dataDir();
        try {
            if (Files.exists(root) && !Files.isDirectory(root)) {
                throw new IllegalStateException("data directory " + root + " exists but is not a directory");
            }
            for (Path p : new Path[] {root, s.dbDir(), s.blobsDir(), s.keysDir()}) {
                Files.createDirectories(p);
            }
            restrict(s.keysDir());
            Path probe = Files.createTempFile(root, ".write-probe", ".tmp");
            Files.delete(probe);
        } catch (AccessDeniedException e) {
            throw new IllegalStateException("data directory " + root + " is not writable (permission denied: "
                    + e.getFile() + "); set AMALGAM_DATA to a writable folder");
        } catch (FileSystemException e) {
            throw new IllegalStateException("data directory " + root + " cannot be used: "
                    + (e.getReason() == null ? e.getMessage() : e.getFile() + ": " + e.getReason())
                    + "; set AMALGAM_DATA to a writable folder");
        } catch (IOException e) {
            throw new IllegalStateException("data directory " + root + " cannot be used: " + e.getMessage());
        }
    }

    /**
     * Removes what requests in flight leave behind when the process dies: partial uploads in
     * {@code staging/} (our per-request folders and the HTTP layer's {@code staging/uploads/} parts) and reproduction scratch in {@code work/reproduce/}. Called at start-up, before
     * any request is served; merge jobs clear their own {@code work/merges/<id>} when they run again.
     *
     * @return how many entries were removed
     */
    public static int emptyScratch(Path dataDir) throws IOException {
        Path staging = dataDir.resolve(STAGING);
        int removed = 0;
        for (Path dir : new Path[] {staging, staging.resolve(UPLOADS), dataDir.resolve("work").resolve("reproduce")}) {
            if (!Files.isDirectory(dir)) continue;
            try (var entries = Files.list(dir)) {
                for (Path p : entries.toList()) {
                    if (p.equals(staging.resolve(UPLOADS))) continue; // the HTTP layer's folder: emptied, kept
                    Folders.deleteTree(p);
                    removed++;
                }
            }
        }
        return removed;
    }

    /** Health: the directory still exists and accepts writes. */
    public static boolean writable(Path root) {
        return Files.isDirectory(root) && Files.isWritable(root);
    }

    /** Makes a file or folder owner-only (0600 / 0700) where the file system supports it. */
    public static void restrict(Path p) throws IOException {
        if (!p.getFileSystem().supportedFileAttributeViews().contains("posix")) return;
        Files.setPosixFilePermissions(p, Files.isDirectory(p)
                ? OWNER_ONLY_DIR : PosixFilePermissions.fromString("rw-------"));
    }

    /** Writes a secret file atomically with mode 0600 from the start (never briefly world-readable). */
    public static void writeSecret(Path file, byte[] content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } else {
            Files.createFile(tmp);
        }
        Files.write(tmp, content);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }
}

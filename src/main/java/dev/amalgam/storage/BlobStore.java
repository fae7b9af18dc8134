package dev.amalgam.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Content-addressed file store: each blob lives at {@code sha256/ab/cd/<hex digest>} under the
 * root, written once (to a temporary file beside it, then renamed atomically) and never changed.
 * Identical content is stored once. Streams are hashed while written: nothing is held in memory.
 */
public final class BlobStore {
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");
    private static final int BUFFER = 1 << 20;

    private final Path root;

    public BlobStore(Path root) {
        this.root = root;
    }

    /** A stored blob: its SHA-256 (hex) and size. */
    public record Blob(String digest, long size) {
    }

    /** Thrown when a stream is longer than the limit given to {@link #put(InputStream, long)}. */
    public static final class TooLargeException extends IOException {
        public TooLargeException(long limit) {
            super("content exceeds the limit of " + limit + " bytes");
        }
    }

    public Path path(String digest) {
        if (digest == null || !HEX.matcher(digest).matches()) {
            throw new IllegalArgumentException("not a SHA-256 hex digest: " + digest);
        }
        return root.resolve("sha256").resolve(digest.substring(0, 2)).resolve(digest.substring(2, 4)).resolve(digest);
    }

    public boolean exists(String digest) {
        return Files.isRegularFile(path(digest));
    }

    /** Stores a stream of at most {@code maxBytes} bytes. */
    public Blob put(InputStream in, long maxBytes) throws IOException {
        Path tmp = temp();
        try {
            MessageDigest md = sha256();
            long n = 0;
            try (OutputStream out = Files.newOutputStream(tmp)) {
                byte[] buf = new byte[BUFFER];
                int r;
                while ((r = in.read(buf)) > 0) {
                    n += r;
                    if (n > maxBytes) throw new TooLargeException(maxBytes);
                    md.update(buf, 0, r);
                    out.write(buf, 0, r);
                }
            }
            return place(tmp, HexFormat.of().formatHex(md.digest()), n);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Stores a file. With {@code move}, a file on the same file system is hashed and renamed into
     * the store (no copy); otherwise it is copied while hashing.
     */
    public Blob putFile(Path file, boolean move) throws IOException {
        if (!move) {
            try (InputStream in = Files.newInputStream(file)) {
                return put(in, Long.MAX_VALUE);
            }
        }
        String digest = digest(file);
        long size = Files.size(file);
        Path target = path(digest);
        if (Files.exists(target)) {
            Files.delete(file);
            return new Blob(digest, size);
        }
        Files.createDirectories(target.getParent());
        try {
            Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Blob b = putFile(file, false);
            Files.delete(file);
            return b;
        } catch (FileAlreadyExistsException e) {
            Files.delete(file);
        }
        return new Blob(digest, size);
    }

    /** Thrown when a stored blob no longer hashes to its name: it is never served. */
    public static final class CorruptBlobException extends IOException {
        private final String digest;

        public CorruptBlobException(String digest, String actual) {
            super("stored blob " + digest + " no longer matches its digest (it hashes to " + actual + "); refusing to serve it");
            this.digest = digest;
        }

        public String digest() {
            return digest;
        }
    }

    /**
     * Opens a blob for reading after checking it still hashes to its name, on the same open file (a
     * rename of another file over it after the check does not change what is read).
     *
     * @throws CorruptBlobException when the content does not match
     */
    public InputStream open(String digest) throws IOException {
        FileChannel ch = FileChannel.open(path(digest), StandardOpenOption.READ);
        try {
            MessageDigest md = sha256();
            ByteBuffer buf = ByteBuffer.allocate(BUFFER);
            while (ch.read(buf) > 0) {
                md.update(buf.flip());
                buf.clear();
            }
            String actual = HexFormat.of().formatHex(md.digest());
            if (!actual.equals(digest)) throw new CorruptBlobException(digest, actual);
            ch.position(0);
            return Channels.newInputStream(ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Throws {@link CorruptBlobException} unless the blob hashes to its name. */
    public void requireIntact(String digest) throws IOException {
        String actual = digest(path(digest));
        if (!actual.equals(digest)) throw new CorruptBlobException(digest, actual);
    }

    /** Re-hashes a blob: true when its content still matches its name (for audits). */
    public boolean verify(String digest) throws IOException {
        Path p = path(digest);
        return Files.isRegularFile(p) && digest(p).equals(digest);
    }

    /** SHA-256 (hex) of a file, streamed. */
    public static String digest(Path file) throws IOException {
        MessageDigest md = sha256();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), md)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private Blob place(Path tmp, String digest, long size) throws IOException {
        Path target = path(digest);
        if (!Files.exists(target)) {
            Files.createDirectories(target.getParent());
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException e) {
                // a concurrent writer stored the same content first
            }
        }
        return new Blob(digest, size);
    }

    private Path temp() throws IOException {
        Path dir = root.resolve("tmp");
        Files.createDirectories(dir);
        return Files.createTempFile(dir, "blob-", ".tmp");
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}

package dev.amalgam.hub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.stream.Stream;

/**
 * Builds a Hugging Face cache model folder as huggingface_hub lays it out: each file's bytes in
 * {@code blobs/<sha256>}, the snapshot's entries relative symbolic links into it, {@code refs/main}
 * holding the commit.
 */
public final class HubCacheFixture {
    private HubCacheFixture() {
    }

    /** A fixed commit hash for tests. */
    public static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    /** Moves every file of {@code source} into {@code cache/models--ORG--NAME} at {@code commit}; returns the model folder. */
    public static Path cache(Path cache, String org, String name, String commit, Path source) throws IOException {
        Path model = cache.resolve("models--" + org + "--" + name);
        Path blobs = Files.createDirectories(model.resolve("blobs"));
        Path snapshot = Files.createDirectories(model.resolve("snapshots").resolve(commit));
        Files.createDirectories(model.resolve("refs"));
        Files.writeString(model.resolve("refs/main"), commit);
        try (Stream<Path> s = Files.walk(source)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                byte[] bytes = Files.readAllBytes(f);
                String hash = sha256(bytes);
                Path blob = blobs.resolve(hash);
                if (!Files.exists(blob)) Files.write(blob, bytes);
                Path link = snapshot.resolve(source.relativize(f).toString());
                Files.createDirectories(link.getParent());
                Files.createSymbolicLink(link, link.getParent().relativize(blob));
            }
        }
        return model;
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

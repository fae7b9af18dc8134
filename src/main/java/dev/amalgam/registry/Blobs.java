package dev.amalgam.registry;

import dev.amalgam.storage.BlobStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/** The registry's one blob store ({@code <data>/blobs}), and how a read that failed its integrity check is recognised. */
@ApplicationScoped
public class Blobs {
    @Inject
    RegistryConfig config;

    private volatile BlobStore store;

    public BlobStore store() {
        BlobStore s = store;
        if (s == null) {
            s = new BlobStore(config.settings().blobsDir());
            store = s;
        }
        return s;
    }

    /** A blob's bytes, after checking they still hash to its name. */
    public InputStream open(String digest) throws IOException {
        return store().open(digest);
    }

    /** What was wrong when {@code t}, or any of its causes, is a blob read refused for tampered content. */
    public static Optional<String> integrityFailure(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof BlobStore.CorruptBlobException e) return Optional.of(e.getMessage());
        }
        return Optional.empty();
    }
}

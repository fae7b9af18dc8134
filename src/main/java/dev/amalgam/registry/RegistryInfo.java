package dev.amalgam.registry;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;

/** Facts about the running registry for {@code /api/v1/info} and health checks. */
@ApplicationScoped
public class RegistryInfo {
    @Inject
    RegistryConfig config;

    public String databaseKind() {
        return config.settings().dbKind().id();
    }

    public Path dataDirectory() {
        return config.settings().dataDir();
    }

    /** The commit id at the tip of the ledger's {@code main}, empty before the first entry. */
    public Optional<String> ledgerHead() {
        try (Repository repo = new FileRepositoryBuilder().setGitDir(config.settings().ledgerDir().toFile())
                .setMustExist(true).build()) {
            ObjectId head = repo.resolve("refs/heads/main");
            return Optional.ofNullable(head).map(ObjectId::name);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the ledger repository", e);
        }
    }
}

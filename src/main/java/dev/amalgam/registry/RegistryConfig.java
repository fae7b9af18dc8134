package dev.amalgam.registry;

import io.quarkus.runtime.LaunchMode;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.Optional;

/**
 * The server's configuration in one place: the {@link ServerSettings} (data directory, database,
 * policies: one derivation shared with {@code amalgam serve}'s pre-flight checks) and every other
 * {@code amalgam.*} setting the registry and its API read (docs/operations.md lists them).
 */
@ApplicationScoped
public class RegistryConfig {
    @ConfigProperty(name = "amalgam.import-roots", defaultValue = " ")
    String importRoots;

    @ConfigProperty(name = "amalgam.max-upload-bytes", defaultValue = "107374182400")
    long maxUploadBytes;

    @ConfigProperty(name = "amalgam.ledger.origin", defaultValue = "amalgam/ledger")
    String ledgerOrigin;

    /** AMALGAM_LEDGER_REMOTE: a Git URL every append is pushed to. */
    @ConfigProperty(name = "amalgam.ledger.remote")
    Optional<String> ledgerRemote;

    /** AMALGAM_WITNESS_DIR: the witness's folder (key and cosigned checkpoint); default {@code <data>/witness}. */
    @ConfigProperty(name = "amalgam.witness.dir")
    Optional<String> witnessDir;

    @ConfigProperty(name = "amalgam.witness.name", defaultValue = "amalgam/witness")
    String witnessName;

    @ConfigProperty(name = "amalgam.merge.workers", defaultValue = "1")
    int mergeWorkers;

    @ConfigProperty(name = "amalgam.merge.threads", defaultValue = "0")
    int mergeThreads;

    private volatile ServerSettings settings;

    public ServerSettings settings() {
        ServerSettings s = settings;
        if (s == null) {
            var c = ConfigProvider.getConfig();
            boolean test = LaunchMode.current() == LaunchMode.TEST;
            s = ServerSettings.from(k -> c.getOptionalValue(k, String.class).orElse(null), ServerSettings.urlKey(test));
            settings = s;
        }
        return s;
    }

    /** AMALGAM_IMPORT_ROOTS: folders the server may register from its own disk (blank: none). */
    public String importRoots() {
        return importRoots;
    }

    /** AMALGAM_MAX_UPLOAD_BYTES: the largest upload, in bytes. */
    public long maxUploadBytes() {
        return maxUploadBytes;
    }

    public String ledgerOrigin() {
        return ledgerOrigin;
    }

    public Optional<String> ledgerRemote() {
        return ledgerRemote;
    }

    public Optional<String> witnessDir() {
        return witnessDir;
    }

    public String witnessName() {
        return witnessName;
    }

    /** Merge jobs run at once. */
    public int mergeWorkers() {
        return mergeWorkers;
    }

    /** Threads per merge; 0: all cores. */
    public int mergeThreads() {
        return mergeThreads;
    }
}

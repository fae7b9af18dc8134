package dev.amalgam.api.health;

import dev.amalgam.registry.DataDirectory;
import dev.amalgam.registry.RegistryConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import java.nio.file.Files;

/** Ready only while the data directory, blob store, keys and ledger are in place and writable. */
@Readiness
@ApplicationScoped
public class DataDirectoryHealthCheck implements HealthCheck {
    @Inject
    RegistryConfig config;

    @Override
    public HealthCheckResponse call() {
        var s = config.settings();
        boolean up = DataDirectory.writable(s.dataDir()) && DataDirectory.writable(s.blobsDir())
                && Files.isDirectory(s.keysDir()) && Files.isRegularFile(s.ledgerDir().resolve("HEAD"));
        // the path stays out of the response: health is unauthenticated
        return HealthCheckResponse.named("data-directory").status(up).build();
    }
}

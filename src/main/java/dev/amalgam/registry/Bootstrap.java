package dev.amalgam.registry;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;

/**
 * First-start set-up of the data directory: folders, the registry signing key and the initial
 * admin token (the ledger repository is created by {@link LedgerService}) (written to {@code keys/admin.token}, mode 0600).
 */
@ApplicationScoped
public class Bootstrap {
    private static final Logger LOG = Logger.getLogger(Bootstrap.class);
    public static final String ADMIN = "admin";
    public static final String ADMIN_TOKEN_FILE = "admin.token";

    @Inject
    RegistryConfig config;

    @Inject
    PrincipalService principals;

    void onStart(@Observes StartupEvent ev) throws IOException {
        ServerSettings s = config.settings();
        DataDirectory.prepare(s);
        int leftovers = DataDirectory.emptyScratch(s.dataDir());
        if (leftovers > 0) {
            LOG.warnf("Removed %d partial uploads or scratch folders an earlier run left behind (it did not stop cleanly)", leftovers);
        }
        if (RegistryKeys.ensureSigningKey(s.keysDir())) {
            LOG.infof("Created the registry signing key %s", s.keysDir().resolve(RegistryKeys.SIGNING_KEY));
        }
        if (!principals.exists(ADMIN)) {
            var created = principals.create(ADMIN, EnumSet.of(Role.ADMIN), "bootstrap");
            Path tokenFile = s.keysDir().resolve(ADMIN_TOKEN_FILE);
            DataDirectory.writeSecret(tokenFile, (created.token() + "\n").getBytes(StandardCharsets.US_ASCII));
            LOG.infof("Created the admin principal; its token is in %s (mode 0600)", tokenFile);
        }
        LOG.infof("Amalgam data directory %s, database %s", s.dataDir(), s.dbKind().id());
    }

}

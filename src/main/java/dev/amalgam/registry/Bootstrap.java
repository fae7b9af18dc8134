package dev.amalgam.registry;

import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
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
    /** Written by {@code amalgam admin reset-token}: one principal name a line, applied at the next start. */
    public static final String RESET_REQUEST = "reset-token.request";

    @Inject
    RegistryConfig config;

    @Inject
    PrincipalService principals;

    @Inject
    LedgerGuard guard;

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
        LOG.infof("Amalgam data directory %s, database %s", s.dataDir(), s.dbKind().id());
    }

    /**
     * After the ledger checks and the replay (principals are ledger facts): the first admin, a new admin
     * token when the database was rebuilt from the ledger (tokens are never in it), and token resets
     * asked for with {@code amalgam admin reset-token} (a request file only the data directory's owner can write).
     */
    void principals(@Observes @Priority(3600) StartupEvent ev) throws IOException {
        ServerSettings s = config.settings();
        if (!guard.intact()) {
            LOG.errorf("The ledger does not match the database; principals are left as they are until that is resolved");
            return;
        }
        if (!principals.exists(ADMIN)) {
            var created = principals.create(ADMIN, EnumSet.of(Role.ADMIN), "bootstrap");
            writeToken(s, ADMIN, created.token(), "Created the admin principal");
        } else if (principals.tokenLost(ADMIN)) {
            writeToken(s, ADMIN, principals.resetToken(ADMIN, "rebuilt").token(),
                    "The database was rebuilt from the ledger, which holds no tokens: the admin got a new token");
        }
        Path request = s.keysDir().resolve(RESET_REQUEST);
        if (Files.exists(request)) {
            for (String name : Files.readAllLines(request, StandardCharsets.UTF_8)) {
                if (name.isBlank()) continue;
                try {
                    writeToken(s, name.strip(), principals.resetToken(name.strip(), "requested").token(),
                            "Token reset requested with 'amalgam admin reset-token'");
                } catch (RegistryException e) {
                    LOG.errorf("Token reset for '%s' refused: %s", name.strip(), e.getMessage());
                }
            }
            Files.delete(request);
        }
    }

    /** The token file of a principal: {@code keys/admin.token} for the admin, {@code keys/<name>.token} otherwise. */
    public static String tokenFile(String name) {
        return name.equals(ADMIN) ? ADMIN_TOKEN_FILE : name + ".token";
    }

    private static void writeToken(ServerSettings s, String name, String token, String what) throws IOException {
        Path tokenFile = s.keysDir().resolve(tokenFile(name));
        DataDirectory.writeSecret(tokenFile, (token + "\n").getBytes(StandardCharsets.US_ASCII));
        LOG.infof("%s; the token of '%s' is in %s (mode 0600)", what, name, tokenFile);
    }

}

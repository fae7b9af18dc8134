package dev.amalgam.registry;

import java.nio.file.Path;
import java.util.Locale;
import java.util.function.UnaryOperator;

/**
 * Where the registry keeps its state and which database it talks to, derived from a handful of
 * settings ({@code amalgam.data}, {@code amalgam.db.url}, ...; as environment variables
 * {@code AMALGAM_DATA}, {@code AMALGAM_DB_URL}, ...). One derivation serves both the Quarkus
 * configuration and the {@code serve} command's pre-flight checks, so they never disagree.
 */
public record ServerSettings(Path dataDir, DatabaseKind dbKind, String jdbcUrl, String dbUser,
                             String dbPassword, Path policiesDir) {

    public static final String DEFAULT_DATA_DIR = "amalgam-data";
    public static final String DEFAULT_POLICIES_DIR = "policies";

    /** The two database kinds the one packaged application can run on. */
    public enum DatabaseKind {
        H2("h2"), POSTGRESQL("postgresql");

        private final String id;

        DatabaseKind(String id) {
            this.id = id;
        }

        /** The Quarkus db-kind id, also the name of the matching datasource ("h2" or "pg"). */
        public String id() {
            return id;
        }

        public String datasource() {
            return this == H2 ? "h2" : "pg";
        }
    }

    /**
     * Derives the settings from a property lookup (returns null when a key is unset).
     *
     * @param urlKey the key holding the JDBC URL: {@code amalgam.db.url} normally, a separate
     *               test-only key in the test profile so tests never touch a configured database
     * @throws IllegalArgumentException for a JDBC URL of an unsupported kind
     */
    public static ServerSettings from(UnaryOperator<String> lookup, String urlKey) {
        Path dataDir = Path.of(orDefault(lookup.apply("amalgam.data"), DEFAULT_DATA_DIR))
                .toAbsolutePath().normalize();
        String url = blankToNull(lookup.apply(urlKey));
        String user = blankToNull(lookup.apply(urlKey.replace(".url", ".user")));
        String password = blankToNull(lookup.apply(urlKey.replace(".url", ".password")));
        Path policies = Path.of(orDefault(lookup.apply("amalgam.policies"), DEFAULT_POLICIES_DIR))
                .toAbsolutePath().normalize();
        if (url == null) {
            // H2 wants an absolute path (or one starting with ./); the data dir is absolute here.
            // WRITE_DELAY=0: H2 otherwise writes commits to its file up to a second later (the MVStore's
            // background writer), so a kill -9 lost a merge job the client had been told was queued
            // (found by ChaosIT); with 0 every commit reaches the file (the OS) before it returns.
            String file = dataDir.resolve("db").resolve("amalgam").toString();
            return new ServerSettings(dataDir, DatabaseKind.H2,
                    "jdbc:h2:file:" + file + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0", user == null ? "sa" : user,
                    password == null ? "" : password, policies);
        }
        String lower = url.toLowerCase(Locale.ROOT);
        DatabaseKind kind;
        if (lower.startsWith("jdbc:h2:")) {
            kind = DatabaseKind.H2;
        } else if (lower.startsWith("jdbc:postgresql:")) {
            kind = DatabaseKind.POSTGRESQL;
        } else {
            throw new IllegalArgumentException("unsupported database URL '" + url
                    + "': expected jdbc:postgresql://HOST:PORT/DB (or jdbc:h2:...)");
        }
        return new ServerSettings(dataDir, kind, url, user, password, policies);
    }

    /**
     * The key holding the JDBC URL: in the test profile a separate one ({@code AMALGAM_TEST_PG_URL}),
     * so a test run (which cleans its schema) can never touch a database configured for real use.
     */
    public static String urlKey(boolean testProfile) {
        return testProfile ? "amalgam.test.pg.url" : "amalgam.db.url";
    }

    /** Settings from system properties, then environment variables (AMALGAM_DB_URL for amalgam.db.url). */
    public static ServerSettings fromEnvironment() {
        return from(ServerSettings::systemOrEnv, "amalgam.db.url");
    }

    static String systemOrEnv(String key) {
        String v = System.getProperty(key);
        if (v != null) return v;
        return System.getenv(key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_'));
    }

    public Path dbDir() {
        return dataDir.resolve("db");
    }

    public Path blobsDir() {
        return dataDir.resolve("blobs");
    }

    public Path ledgerDir() {
        return dataDir.resolve("ledger.git");
    }

    public Path keysDir() {
        return dataDir.resolve("keys");
    }

    private static String orDefault(String v, String def) {
        return v == null || v.isBlank() ? def : v;
    }

    private static String blankToNull(String v) {
        return v == null || v.isBlank() ? null : v;
    }
}

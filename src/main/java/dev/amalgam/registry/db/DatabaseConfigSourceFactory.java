package dev.amalgam.registry.db;

import dev.amalgam.registry.DataDirectory;
import dev.amalgam.registry.ServerSettings;
import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.PropertiesConfigSource;
import org.eclipse.microprofile.config.spi.ConfigSource;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Chooses the database at run time. Quarkus fixes a datasource's db-kind at build time, so the
 * application carries two datasources ({@code h2} and {@code pg}) and this factory activates the
 * one that {@code AMALGAM_DB_URL} asks for: the same jar runs on H2 or PostgreSQL without a
 * rebuild. In the test profile the URL comes from {@code AMALGAM_TEST_PG_URL} only, so a test run
 * can never clean a database configured for real use.
 */
public final class DatabaseConfigSourceFactory implements ConfigSourceFactory {

    /** Below environment variables (300) and system properties (400): explicit settings win. */
    static final int ORDINAL = 275;

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        boolean test = context.getProfiles().contains("test");
        ServerSettings s = ServerSettings.from(key -> value(context, key), ServerSettings.urlKey(test));
        return List.of(new PropertiesConfigSource(properties(s), "amalgam-database", ORDINAL));
    }

    /** The Quarkus properties that follow from the settings. */
    static Map<String, String> properties(ServerSettings s) {
        Map<String, String> p = new HashMap<>();
        boolean pg = s.dbKind() == ServerSettings.DatabaseKind.POSTGRESQL;
        String active = pg ? "pg" : "h2";
        String inactive = pg ? "h2" : "pg";
        p.put("quarkus.datasource." + active + ".active", "true");
        p.put("quarkus.datasource." + inactive + ".active", "false");
        // the persistence unit of the inactive datasource must be switched off with it
        p.put("quarkus.hibernate-orm." + active + ".active", "true");
        p.put("quarkus.hibernate-orm." + inactive + ".active", "false");
        p.put("quarkus.datasource." + active + ".jdbc.url", s.jdbcUrl());
        if (s.dbUser() != null) p.put("quarkus.datasource." + active + ".username", s.dbUser());
        if (s.dbPassword() != null) p.put("quarkus.datasource." + active + ".password", s.dbPassword());
        p.put("amalgam.data-dir", s.dataDir().toString());
        // uploads land beside the blob store, so registering them is a rename, not a copy
        p.put("quarkus.http.body.uploads-directory", s.dataDir().resolve(DataDirectory.STAGING).resolve(DataDirectory.UPLOADS).toString());
        p.put("amalgam.db.kind", s.dbKind().id());
        return p;
    }

    private static String value(ConfigSourceContext context, String key) {
        ConfigValue v = context.getValue(key);
        return v == null ? null : v.getValue();
    }

    @Override
    public OptionalInt getPriority() {
        return OptionalInt.of(ORDINAL);
    }
}

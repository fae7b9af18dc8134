package dev.amalgam.registry;

import dev.amalgam.registry.db.DatabaseConfigSourceFactoryAccess;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServerSettingsTest {

    private static ServerSettings of(Map<String, String> m, boolean test) {
        return ServerSettings.from(m::get, ServerSettings.urlKey(test));
    }

    @Test
    void defaultsToH2InsideAmalgamDataOfTheWorkingDirectory() {
        ServerSettings s = of(Map.of(), false);
        assertEquals(Path.of("amalgam-data").toAbsolutePath().normalize(), s.dataDir());
        assertEquals(ServerSettings.DatabaseKind.H2, s.dbKind());
        assertTrue(s.jdbcUrl().startsWith("jdbc:h2:file:" + s.dataDir().resolve("db").resolve("amalgam")), s.jdbcUrl());
        assertEquals(s.dataDir().resolve("ledger.git"), s.ledgerDir());
        assertEquals(s.dataDir().resolve("keys"), s.keysDir());
        assertEquals(s.dataDir().resolve("blobs"), s.blobsDir());
    }

    @Test
    void postgresUrlSelectsPostgres() {
        ServerSettings s = of(Map.of("amalgam.db.url", "jdbc:postgresql://db:5432/amalgam",
                "amalgam.db.user", "amalgam", "amalgam.db.password", "secret", "amalgam.data", "/srv/amalgam"), false);
        assertEquals(ServerSettings.DatabaseKind.POSTGRESQL, s.dbKind());
        assertEquals("amalgam", s.dbUser());
        assertEquals("secret", s.dbPassword());
        assertEquals(Path.of("/srv/amalgam"), s.dataDir());
    }

    @Test
    void testProfileIgnoresTheRealDatabaseUrl() {
        ServerSettings s = of(Map.of("amalgam.db.url", "jdbc:postgresql://prod:5432/amalgam"), true);
        assertEquals(ServerSettings.DatabaseKind.H2, s.dbKind(), "tests must never reach a configured database");
        ServerSettings pg = of(Map.of("amalgam.test.pg.url", "jdbc:postgresql://127.0.0.1:5432/test",
                "amalgam.test.pg.user", "postgres"), true);
        assertEquals(ServerSettings.DatabaseKind.POSTGRESQL, pg.dbKind());
        assertEquals("postgres", pg.dbUser());
    }

    @Test
    void unsupportedUrlIsRejectedWithTheExpectedForm() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> of(Map.of("amalgam.db.url", "jdbc:mysql://x/y"), false));
        assertTrue(e.getMessage().contains("jdbc:mysql://x/y") && e.getMessage().contains("jdbc:postgresql://"), e.getMessage());
    }

    @Test
    void factoryActivatesExactlyOneDatasourceAndPersistenceUnit() {
        Map<String, String> h2 = DatabaseConfigSourceFactoryAccess.properties(of(Map.of(), false));
        assertEquals("true", h2.get("quarkus.datasource.h2.active"));
        assertEquals("false", h2.get("quarkus.datasource.pg.active"));
        assertEquals("true", h2.get("quarkus.hibernate-orm.h2.active"));
        assertEquals("false", h2.get("quarkus.hibernate-orm.pg.active"));
        assertEquals("h2", h2.get("amalgam.db.kind"));

        Map<String, String> pg = DatabaseConfigSourceFactoryAccess.properties(
                of(Map.of("amalgam.db.url", "jdbc:postgresql://h/d", "amalgam.db.user", "u"), false));
        assertEquals("true", pg.get("quarkus.datasource.pg.active"));
        assertEquals("false", pg.get("quarkus.datasource.h2.active"));
        assertEquals("jdbc:postgresql://h/d", pg.get("quarkus.datasource.pg.jdbc.url"));
        assertEquals("u", pg.get("quarkus.datasource.pg.username"));
        assertEquals("postgresql", pg.get("amalgam.db.kind"));
    }

    @Test
    void rolesParseCaseInsensitivelyAndRejectUnknownOnes() {
        assertEquals(java.util.EnumSet.of(Role.SUBMITTER, Role.REVIEWER), Role.parseList("Submitter, reviewer"));
        var e = assertThrows(IllegalArgumentException.class, () -> Role.parseList("root"));
        assertTrue(e.getMessage().contains("root"));
        assertThrows(IllegalArgumentException.class, () -> Role.parseList(" , "));
        assertTrue(new Caller("a", java.util.Set.of(Role.ADMIN)).may(Role.DEPLOYER), "admin may do everything");
        assertTrue(!new Caller("r", java.util.Set.of(Role.READER)).may(Role.SUBMITTER));
    }
}

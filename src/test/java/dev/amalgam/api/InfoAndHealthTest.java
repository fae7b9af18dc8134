package dev.amalgam.api;

import dev.amalgam.registry.RegistryConfig;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.hibernate.Session;
import jakarta.transaction.Transactional;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@QuarkusTest
class InfoAndHealthTest {
    @Inject
    RegistryConfig config;

    @Inject
    Session session;

    @Test
    void infoReportsVersionDatabaseAndDataDirectory() {
        String expectedDb = System.getenv("AMALGAM_TEST_PG_URL") == null ? "h2" : "postgresql";
        given().auth().oauth2(ApiTestSupport.adminToken(config.settings().dataDir()))
                .when().get("/api/v1/info")
                .then().statusCode(200)
                .body("version", notNullValue())
                .body("commit", notNullValue())
                .body("database", equalTo(expectedDb))
                .body("dataDirectory", equalTo(config.settings().dataDir().toString()));
    }

    @Test
    void infoLinksTheServicesOwnSbomMadeAtBuildTime() throws Exception {
        String token = ApiTestSupport.adminToken(config.settings().dataDir());
        given().auth().oauth2(token).get("/api/v1/info").then().statusCode(200)
                .body("sbom", equalTo("/api/v1/info/sbom"));
        String sbom = given().auth().oauth2(token).get("/api/v1/info/sbom").then().statusCode(200)
                .contentType(org.hamcrest.Matchers.containsString("application/vnd.cyclonedx+json"))
                .body("specVersion", equalTo("1.6"))
                .body("metadata.component.name", equalTo("amalgam"))
                .body("components.name", hasItem("cyclonedx-core-java"))
                .extract().asString();
        org.junit.jupiter.api.Assertions.assertEquals(java.util.List.of(), dev.amalgam.bom.ModelBomTest.violations(sbom));
    }

    @Test
    void healthIsUpWithDatabaseAndDataDirectoryChecks() {
        given().when().get("/q/health")
                .then().statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.name", hasItem("data-directory"))
                .body("checks.name", hasItem("Database connections health check"));
        given().when().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        given().when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
    }

    @Test
    void openApiIsPublished() {
        given().when().get("/q/openapi?format=json").then().statusCode(200)
                .body("paths", notNullValue())
                .body("paths.'/api/v1/info'", notNullValue());
    }

    @Test
    @Transactional
    void migrationsWereApplied() {
        Long applied = session.createNativeQuery(
                "select count(*) from \"flyway_schema_history\" where \"success\" = true and \"version\" = '1'", Long.class)
                .getSingleResult();
        assertEquals(1, applied.intValue());
        for (String table : new String[] {"model", "model_file", "merge_job", "lineage_edge", "decision", "api_principal"}) {
            Long n = session.createNativeQuery("select count(*) from " + table, Long.class).getSingleResult();
            assertTrue(n.longValue() >= 0, table);
        }
    }

    @Test
    void firstStartCreatedKeysWithOwnerOnlyModes() throws Exception {
        var keys = config.settings().keysDir();
        for (String secret : new String[] {"admin.token", "registry-signing-key.pem"}) {
            assertEquals("rw-------", PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(keys.resolve(secret))), secret);
        }
        assertTrue(Files.readString(keys.resolve("registry-signing-key.pem")).startsWith("-----BEGIN PRIVATE KEY-----"));
        assertTrue(Files.isRegularFile(config.settings().ledgerDir().resolve("HEAD")), "bare ledger repository");
        assertTrue(Files.isDirectory(config.settings().blobsDir()));
    }
}

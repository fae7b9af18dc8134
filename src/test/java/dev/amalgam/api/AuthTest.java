package dev.amalgam.api;

import dev.amalgam.registry.PrincipalService;
import dev.amalgam.registry.RegistryConfig;
import dev.amalgam.registry.Role;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

@QuarkusTest
class AuthTest {
    @Inject
    PrincipalService principals;

    @Inject
    RegistryConfig config;

    @Inject
    Session session;

    @Test
    void missingTokenIs401Problem() {
        given().when().get("/api/v1/info")
                .then().statusCode(401)
                .contentType("application/problem+json")
                .header("WWW-Authenticate", containsString("Bearer"))
                .body("status", equalTo(401))
                .body("title", equalTo("Unauthorized"));
    }

    @Test
    void unknownTokenIs401() {
        given().auth().oauth2("amg_not-a-real-token").when().get("/api/v1/info")
                .then().statusCode(401).contentType("application/problem+json");
    }

    @Test
    void malformedAuthorizationHeaderIs401() {
        given().header("Authorization", "Basic dXNlcjpwYXNz").when().get("/api/v1/info")
                .then().statusCode(401);
    }

    @Test
    void wrongRoleIs403Problem() {
        String reader = ApiTestSupport.tokenWithRole(principals, Role.READER);
        given().auth().oauth2(reader).when().get("/api/v1/tokens")
                .then().statusCode(403)
                .contentType("application/problem+json")
                .body("status", equalTo(403))
                .body("detail", containsString("admin"));
    }

    @Test
    void rightRoleIs200() {
        String reader = ApiTestSupport.tokenWithRole(principals, Role.READER);
        given().auth().oauth2(reader).when().get("/api/v1/info").then().statusCode(200);
        given().auth().oauth2(ApiTestSupport.adminToken(config.settings().dataDir()))
                .when().get("/api/v1/tokens").then().statusCode(200);
    }

    @Test
    @Transactional
    void onlyTheTokenHashIsStored() {
        var created = principals.create("hash-check", java.util.EnumSet.of(Role.SUBMITTER), "test");
        String token = created.token();
        List<?> rows = session.createNativeQuery(
                "select name, roles, token_hash, created_by from api_principal where name = 'hash-check'",
                Object[].class).getResultList();
        assertEquals(1, rows.size());
        Object[] row = (Object[]) rows.get(0);
        assertEquals(PrincipalService.hash(token), row[2].toString().trim());
        for (Object col : row) {
            assertFalse(String.valueOf(col).contains(token), "the token itself must never be stored");
        }
        // no column anywhere in the table holds the token
        Long hits = session.createNativeQuery(
                "select count(*) from api_principal where name = ?1 or roles = ?1 or token_hash = ?1 or created_by = ?1",
                Long.class).setParameter(1, token).getSingleResult();
        assertEquals(0L, hits);
    }

    @Test
    void revokedTokenIs401() {
        String token = principals.create("to-revoke", java.util.EnumSet.of(Role.READER), "test").token();
        given().auth().oauth2(token).when().get("/api/v1/info").then().statusCode(200);
        principals.revoke("to-revoke");
        given().auth().oauth2(token).when().get("/api/v1/info").then().statusCode(401);
    }
}

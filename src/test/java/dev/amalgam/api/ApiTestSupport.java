package dev.amalgam.api;

import dev.amalgam.registry.PrincipalService;
import dev.amalgam.registry.Role;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.UUID;

/** Tokens for end-to-end tests: the bootstrap admin token, and fresh principals with given roles. */
public final class ApiTestSupport {
    private ApiTestSupport() {
    }

    public static String adminToken(Path dataDir) {
        try {
            return Files.readString(dataDir.resolve("keys").resolve("admin.token")).trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Polls a merge job (its URL) with a token until it has ended or a minute has passed; returns its state. */
    public static String awaitMerge(String location, String token) throws InterruptedException {
        String state = "queued";
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(60).toNanos();
        while (!java.util.List.of("succeeded", "failed", "cancelled").contains(state) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            state = io.restassured.RestAssured.given().auth().oauth2(token).get(location).then().statusCode(200)
                    .extract().path("state");
        }
        return state;
    }

    /** Creates a principal with a unique name and the given role; returns its token. */
    public static String tokenWithRole(PrincipalService principals, Role role) {
        String name = role.id() + "-" + UUID.randomUUID().toString().substring(0, 8);
        return principals.create(name, EnumSet.of(role), "test").token();
    }
}

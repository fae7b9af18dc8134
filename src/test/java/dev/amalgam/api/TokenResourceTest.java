package dev.amalgam.api;

import dev.amalgam.registry.RegistryConfig;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

@QuarkusTest
class TokenResourceTest {
    @Inject
    RegistryConfig config;

    private String admin() {
        return ApiTestSupport.adminToken(config.settings().dataDir());
    }

    @Test
    void createdTokenWorksOnceAndIsNeverListed() {
        String token = given().auth().oauth2(admin()).contentType("application/json")
                .body("{\"name\":\"release-bot\",\"roles\":[\"submitter\"]}")
                .when().post("/api/v1/tokens")
                .then().statusCode(201)
                .header("Location", containsString("/api/v1/tokens/release-bot"))
                .body("principal.roles", hasItem("submitter"))
                .body("token", startsWith("amg_"))
                .extract().path("token");
        given().auth().oauth2(token).when().get("/api/v1/info").then().statusCode(200);
        given().auth().oauth2(admin()).when().get("/api/v1/tokens")
                .then().statusCode(200)
                .body("name", hasItem("release-bot"))
                .body(not(containsString(token)));
    }

    @Test
    void duplicateNameIs409() {
        String body = "{\"name\":\"dup-bot\",\"roles\":[\"reader\"]}";
        given().auth().oauth2(admin()).contentType("application/json").body(body)
                .post("/api/v1/tokens").then().statusCode(201);
        given().auth().oauth2(admin()).contentType("application/json").body(body)
                .post("/api/v1/tokens").then().statusCode(409)
                .contentType("application/problem+json");
    }

    @Test
    void unknownRoleIs400WithTheRoleNamed() {
        given().auth().oauth2(admin()).contentType("application/json")
                .body("{\"name\":\"x-bot\",\"roles\":[\"superuser\"]}")
                .post("/api/v1/tokens").then().statusCode(400)
                .contentType("application/problem+json")
                .body("detail", containsString("superuser"));
    }

    @Test
    void malformedJsonIs400ProblemWithoutInternals() {
        given().auth().oauth2(admin()).contentType("application/json").body("{\"name\":")
                .post("/api/v1/tokens").then().statusCode(400)
                .contentType("application/problem+json")
                .body(not(containsString("Exception")))
                .body(not(containsString("at dev.amalgam")));
    }

    @Test
    void unknownPathIs404Problem() {
        given().auth().oauth2(admin()).get("/api/v1/no-such-thing").then().statusCode(404)
                .contentType("application/problem+json")
                .body("status", equalTo(404));
    }
}

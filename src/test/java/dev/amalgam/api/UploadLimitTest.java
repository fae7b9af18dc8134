package dev.amalgam.api;

import dev.amalgam.registry.RegistryConfig;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

/** An upload over the limit is refused with problem+json naming the limit, multipart or tar. */
@QuarkusTest
@TestProfile(UploadLimitTest.SmallUploads.class)
class UploadLimitTest {
    public static class SmallUploads implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("amalgam.max-upload-bytes", "4096");
        }
    }

    @jakarta.inject.Inject
    RegistryConfig config;

    @Test
    void multipartOverTheLimitIsAProblem() {
        // a multipart body with its length declared, as amalgam's CLI and curl -F send it
        String boundary = "amalgam-test-boundary";
        StringBuilder b = new StringBuilder();
        for (String[] f : new String[][]{{"name", "big"}, {"version", "1"}, {"license", "mit"}}) {
            b.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"").append(f[0])
                    .append("\"\r\n\r\n").append(f[1]).append("\r\n");
        }
        b.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"model.safetensors\";"
                + " filename=\"model.safetensors\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .append("x".repeat(10_000)).append("\r\n--").append(boundary).append("--\r\n");
        given().auth().oauth2(ApiTestSupport.adminToken(config.settings().dataDir()))
                .contentType("multipart/form-data; boundary=" + boundary)
                .body(b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .when().post("/api/v1/models")
                .then().statusCode(413).contentType("application/problem+json")
                .body("status", equalTo(413))
                .body("detail", containsString("upload limit of 4096 bytes"));
    }

    @Test
    void tarOverTheLimitIsAProblem() {
        given().auth().oauth2(ApiTestSupport.adminToken(config.settings().dataDir()))
                .contentType("application/x-tar").body(new byte[10_240])
                .queryParam("name", "big").queryParam("version", "1").queryParam("license", "mit")
                .when().post("/api/v1/models")
                .then().statusCode(413).contentType("application/problem+json");
    }

    @Test
    void smallRequestsPass() {
        given().auth().oauth2(ApiTestSupport.adminToken(config.settings().dataDir()))
                .get("/api/v1/models").then().statusCode(200);
    }
}

package dev.amalgam.api;

import dev.amalgam.merge.SampleModel;
import dev.amalgam.registry.PrincipalService;
import dev.amalgam.registry.RegistryConfig;
import dev.amalgam.registry.Role;
import dev.amalgam.safetensors.DType;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.stream.Stream;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

/**
 * Misuse over HTTP (issue 14, items 4, 6, 13, 14, 16): who may cancel a merge, a rejection that
 * blocks release everywhere, typed query parameters, {@code org/name} models, and the intake review
 * that lets a source model pass the review rule.
 */
@QuarkusTest
class MisuseOverHttpTest {
    static Path work;
    static int seed = 300;

    @Inject
    PrincipalService principals;

    @Inject
    RegistryConfig config;

    @BeforeAll
    static void folder() throws IOException {
        work = Files.createDirectories(Path.of("target/test-models").toAbsolutePath().resolve(UUID.randomUUID().toString()));
    }

    private String token(Role role) {
        return ApiTestSupport.tokenWithRole(principals, role);
    }

    private static String tag() {
        return UUID.randomUUID().toString().substring(0, 6);
    }

    /** Registers fresh content as name@1 with the given token; returns the model id. */
    private int register(String token, String name) throws IOException {
        Path dir = work.resolve(name.replace('/', '_'));
        SampleModel.write(dir, new SampleModel.Spec("llama", 1, 16, 32, 64, seed++, DType.BF16), null, 0);
        RequestSpecification r = given().auth().oauth2(token)
                .multiPart("name", name).multiPart("version", "1").multiPart("license", "apache-2.0");
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path f : s.filter(Files::isRegularFile).sorted().toList()) {
                r = r.multiPart(dir.relativize(f).toString(), f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        return r.post("/api/v1/models").then().statusCode(201).extract().path("id");
    }

    private int submitMerge(String token, String a, String b, String out) {
        String recipe = "merge_method: linear\nmodels:\n  - model: " + a + "\n    parameters: {weight: 0.5}\n"
                + "  - model: " + b + "\n    parameters: {weight: 0.5}\ndtype: bfloat16\n";
        return given().auth().oauth2(token).contentType("application/yaml").body(recipe.getBytes())
                .queryParam("name", out).queryParam("version", "1")
                .post("/api/v1/merges").then().statusCode(202).extract().path("id");
    }

    @Test
    void onlyTheSubmitterOrAnAdminCancelsAMerge() throws Exception {
        String alice = token(Role.SUBMITTER);
        String mallory = token(Role.SUBMITTER);
        String t = tag();
        register(alice, "ca-" + t);
        register(alice, "cb-" + t);
        int id = submitMerge(alice, "ca-" + t + "@1", "cb-" + t + "@1", "cm-" + t);
        given().auth().oauth2(mallory).delete("/api/v1/merges/" + id).then().statusCode(403)
                .contentType("application/problem+json").body("detail", containsString("only its submitter or an admin"));
        given().auth().oauth2(alice).delete("/api/v1/merges/" + id).then().statusCode(200);
        int other = submitMerge(alice, "ca-" + t + "@1", "cb-" + t + "@1", "cn-" + t);
        given().auth().oauth2(token(Role.ADMIN)).delete("/api/v1/merges/" + other).then().statusCode(200);
        ApiTestSupport.awaitMerge("/api/v1/merges/" + id, alice);
        ApiTestSupport.awaitMerge("/api/v1/merges/" + other, alice);
    }

    @Test
    void aRejectedMergeCannotBeReleasedAnywhere() throws Exception {
        String submitter = token(Role.SUBMITTER);
        String t = tag();
        register(submitter, "ra-" + t);
        register(submitter, "rb-" + t);
        int id = submitMerge(submitter, "ra-" + t + "@1", "rb-" + t + "@1", "rm-" + t);
        org.junit.jupiter.api.Assertions.assertEquals("succeeded", ApiTestSupport.awaitMerge("/api/v1/merges/" + id, submitter));
        given().auth().oauth2(token(Role.REVIEWER)).contentType("application/json")
                .body("{\"decision\":\"reject\",\"comment\":\"weights look wrong\"}")
                .post("/api/v1/merges/" + id + "/review").then().statusCode(200);
        String deployer = token(Role.DEPLOYER);
        for (String env : new String[] {"dev", "staging", "production"}) {
            given().auth().oauth2(deployer).queryParam("env", env).post("/api/v1/models/rm-" + t + "@1/releases")
                    .then().statusCode(422).body("errors", hasItem(containsString("rejection: rejected by")));
        }
        given().auth().oauth2(deployer).get("/api/v1/models/rm-" + t + "@1").then().body("status", equalTo("rejected"));
    }

    @Test
    void typedQueryParametersGiveBadRequestNamingTheParameter() throws Exception {
        String reader = token(Role.READER);
        int id = register(token(Role.SUBMITTER), "q-" + tag());
        given().auth().oauth2(reader).queryParam("depth", "abc").get("/api/v1/models/" + id + "/lineage")
                .then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("'depth'")).body("detail", containsString("'abc'"));
        given().auth().oauth2(reader).queryParam("depth", "0").get("/api/v1/models/" + id + "/lineage")
                .then().statusCode(400).body("detail", containsString("'depth'"));
        given().auth().oauth2(reader).queryParam("limit", "ten").get("/api/v1/models")
                .then().statusCode(400).body("detail", containsString("'limit'"));
        given().auth().oauth2(reader).queryParam("offset", "-1").get("/api/v1/merges")
                .then().statusCode(400).body("detail", containsString("'offset'"));
        given().auth().oauth2(reader).queryParam("from", "x").queryParam("to", "1").get("/api/v1/ledger/consistency")
                .then().statusCode(400).body("detail", containsString("'from'"));
        given().auth().oauth2(reader).queryParam("depth", "3").get("/api/v1/models/" + id + "/lineage")
                .then().statusCode(200);
    }

    @Test
    void orgSlashNameModelsAreReachedWithTheSlashPercentEncoded() throws Exception {
        String name = "acme-" + tag() + "/base";
        String reader = token(Role.READER);
        register(token(Role.SUBMITTER), name);
        String ref = name.replace("/", "%2F") + "@1";
        for (String path : new String[] {"", "/manifest", "/scan", "/lineage", "/signature", "/files/config.json"}) {
            given().urlEncodingEnabled(false).auth().oauth2(reader).get("/api/v1/models/" + ref + path)
                    .then().statusCode(200);
        }
        given().urlEncodingEnabled(false).auth().oauth2(reader).get("/api/v1/models/" + ref)
                .then().body("name", equalTo(name));
    }

    @Test
    void aSourceModelPassesTheReviewRuleThroughAnIntakeReview() throws Exception {
        String submitter = token(Role.SUBMITTER);
        String reviewer = token(Role.REVIEWER);
        String deployer = token(Role.DEPLOYER);
        String name = "intake-" + tag();
        register(submitter, name);
        String ref = name + "@1";
        given().auth().oauth2(deployer).queryParam("env", "staging").post("/api/v1/models/" + ref + "/gate")
                .then().statusCode(200)
                .body("rules.find { it.id == 'review' }.result", equalTo("fail"))
                .body("rules.find { it.id == 'review' }.message", containsString("intake review"))
                .body("rules.find { it.id == 'name' }.message", containsString("source model"));
        given().auth().oauth2(submitter).contentType("application/json").body("{\"decision\":\"approve\"}")
                .post("/api/v1/models/" + ref + "/review").then().statusCode(403);
        given().auth().oauth2(reviewer).contentType("application/json")
                .body("{\"decision\":\"approve\",\"comment\":\"license and card checked\"}")
                .post("/api/v1/models/" + ref + "/review").then().statusCode(200).body("outcome", equalTo("approve"));
        given().auth().oauth2(reviewer).contentType("application/json").body("{\"decision\":\"approve\"}")
                .post("/api/v1/models/" + ref + "/review").then().statusCode(409);
        given().auth().oauth2(deployer).queryParam("env", "staging").post("/api/v1/models/" + ref + "/gate")
                .then().statusCode(200)
                .body("rules.find { it.id == 'review' }.result", equalTo("pass"));
        int entry = given().auth().oauth2(reviewer).get("/api/v1/ledger/checkpoint").then().statusCode(200)
                .extract().asString().lines().skip(1).findFirst().map(Integer::parseInt).orElseThrow();
        boolean found = false;
        for (int n = entry - 1; n >= 0 && !found; n--) {
            String type = given().auth().oauth2(reviewer).get("/api/v1/ledger/entries/" + n).then().extract().path("type");
            found = "model.reviewed".equals(type);
        }
        org.junit.jupiter.api.Assertions.assertTrue(found, "a model.reviewed ledger entry records the intake review");
    }

    @Test
    void outOfRangeParametersAreRefusedAtSubmissionWithEveryProblem() throws Exception {
        String submitter = token(Role.SUBMITTER);
        String t = tag();
        register(submitter, "pa-" + t);
        register(submitter, "pb-" + t);
        String recipe = "merge_method: ties\nbase_model: pa-" + t + "@1\nmodels:\n"
                + "  - model: pb-" + t + "@1\n    parameters: {weight: 1e999, density: -3}\n"
                + "  - model: pa-" + t + "@1\n    parameters: {weight: [0.5, 1e400], density: 0.5}\ndtype: bfloat16\n";
        given().auth().oauth2(submitter).contentType("application/yaml").body(recipe.getBytes())
                .post("/api/v1/merges").then().log().ifValidationFails().statusCode(422).contentType("application/problem+json")
                .body("errors", hasItem(containsString("weight: must be a finite number")))
                .body("errors", hasItem(containsString("density: must be >= 0, got -3")))
                .body("errors", hasItem(containsString("gradient point must be a finite number")))
                .body("errors.size()", equalTo(3));
    }
}

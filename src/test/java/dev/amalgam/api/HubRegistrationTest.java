package dev.amalgam.api;

import dev.amalgam.hub.HubCacheFixture;
import dev.amalgam.merge.SampleModel;
import dev.amalgam.registry.RegistryConfig;
import dev.amalgam.safetensors.DType;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.nullValue;

/**
 * Models from Hugging Face repositories over HTTP: a Hub cache imported by the server (links into
 * blobs/ resolved), the card's license and base models, the source identity in the model, the
 * ledger and lineage, license disagreements, and recipes naming models by Hub id.
 */
@QuarkusTest
class HubRegistrationTest {
    static Path work;
    static final Object BASE = new Object();
    static String tag;

    @jakarta.inject.Inject
    RegistryConfig config;

    @BeforeAll
    static void folders() throws IOException {
        work = Files.createDirectories(Path.of("target/test-import").toAbsolutePath().resolve(UUID.randomUUID().toString()));
        tag = UUID.randomUUID().toString().substring(0, 6);
    }

    private String admin() {
        return ApiTestSupport.adminToken(config.settings().dataDir());
    }

    /** A sample model whose README.md is the given card. */
    private static Path model(String name, int seed, String card) throws IOException {
        Path dir = work.resolve(name);
        SampleModel.write(dir, new SampleModel.Spec("llama", 1, 16, 32, 64, seed, DType.BF16), null, 0);
        Files.writeString(dir.resolve("README.md"), card);
        return dir;
    }

    private RequestSpecification multipart(Path dir, Map<String, String> fields) throws IOException {
        RequestSpecification r = given().auth().oauth2(admin());
        for (var f : fields.entrySet()) r = r.multiPart(f.getKey(), f.getValue());
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                r = r.multiPart(dir.relativize(f).toString(), f.toFile(), "application/octet-stream");
            }
        }
        return r;
    }

    /** Imports acme/base-TAG from a cache; returns the commit it was registered at. */
    private String importBase() throws IOException {
        synchronized (BASE) {
            return importBaseOnce();
        }
    }

    private String importBaseOnce() throws IOException {
        Path cache = work.resolve("hub");
        Path modelFolder = cache.resolve("models--acme--base-" + tag);
        if (!Files.exists(modelFolder)) {
            Path src = model("base-src-" + tag, 11, "---\nlicense: apache-2.0\ntags: [llama]\n---\n# base\n");
            HubCacheFixture.cache(cache, "acme", "base-" + tag, HubCacheFixture.COMMIT, src);
        }
        given().auth().oauth2(admin()).contentType("application/json")
                .body(Map.of("path", modelFolder.toString()))
                .post("/api/v1/models/import").then().statusCode(org.hamcrest.Matchers.oneOf(200, 201))
                .body("name", equalTo("acme/base-" + tag))
                .body("version", equalTo(HubCacheFixture.COMMIT))
                .body("license", equalTo("Apache-2.0"))
                .body("source", equalTo("hf://acme/base-" + tag + "@" + HubCacheFixture.COMMIT));
        return HubCacheFixture.COMMIT;
    }

    @Test
    void aHubCacheImportsWithTheCardsLicenseAndItsSourceInTheLedger() throws IOException {
        importBase();
        String ref = java.net.URLEncoder.encode("hf://acme/base-" + tag + "@" + HubCacheFixture.COMMIT,
                java.nio.charset.StandardCharsets.UTF_8);
        int seq = given().urlEncodingEnabled(false).auth().oauth2(admin()).get("/api/v1/models/" + ref)
                .then().statusCode(200).extract().path("ledgerSeq");
        given().auth().oauth2(admin()).get("/api/v1/ledger/entries/" + seq).then().statusCode(200)
                .body("payload.hub.source", equalTo("hf://acme/base-" + tag + "@" + HubCacheFixture.COMMIT))
                .body("payload.hub.cardLicense", equalTo("Apache-2.0"))
                .body("payload.hub.tags", hasItem("llama"))
                .body("payload.hub.modelType", equalTo("llama"));
    }

    @Test
    void declaredBaseModelsBecomeLineageEdgesOrShowAsUnresolved() throws IOException {
        importBase();
        Path tuned = model("tuned-" + tag, 12, "---\nlicense: apache-2.0\nbase_model:\n- acme/base-" + tag
                + "\n- ghost/never-registered\nbase_model_relation: finetune\n---\n");
        int id = multipart(tuned, Map.of("name", "acme/tuned-" + tag, "version", "1",
                "source", "acme/tuned-" + tag + "@" + "a".repeat(40)))
                .post("/api/v1/models").then().statusCode(201)
                .body("license", equalTo("Apache-2.0"))
                .body("source", equalTo("hf://acme/tuned-" + tag + "@" + "a".repeat(40)))
                .extract().path("id");
        given().auth().oauth2(admin()).get("/api/v1/models/" + id + "/lineage").then().statusCode(200)
                .body("nodes.name", hasItem("acme/base-" + tag))
                .body("edges.role", hasItem("declared"))
                .body("edges.method", hasItem("finetune"))
                .body("declared.find { it.hubId == 'ghost/never-registered' }.resolved", nullValue())
                .body("declared.find { it.hubId == 'acme/base-" + tag + "' }.resolved", org.hamcrest.Matchers.notNullValue());
        given().auth().oauth2(admin()).get("/api/v1/models/" + id + "/lineage?format=mermaid").then().statusCode(200)
                .body(containsString("ghost/never-registered (not registered)"));
    }

    @Test
    void aLicenseThatDisagreesWithTheCardIsRefusedUnlessOverriddenWithAReason() throws IOException {
        Path dir = model("mismatch-" + tag, 13, "---\nlicense: mit\n---\n");
        multipart(dir, Map.of("name", "mismatch-" + tag, "version", "1", "license", "apache-2.0"))
                .post("/api/v1/models").then().statusCode(422)
                .body("detail", containsString("disagrees with the model card's license MIT"));
        int seq = multipart(dir, Map.of("name", "mismatch-" + tag, "version", "1", "license", "apache-2.0",
                        "licenseOverride", "relicensed to us in writing, contract 42"))
                .post("/api/v1/models").then().statusCode(201).body("license", equalTo("Apache-2.0"))
                .extract().path("ledgerSeq");
        given().auth().oauth2(admin()).get("/api/v1/ledger/entries/" + seq).then().statusCode(200)
                .body("payload.hub.cardLicense", equalTo("MIT"))
                .body("payload.hub.licenseOverride", equalTo("relicensed to us in writing, contract 42"));
    }

    @Test
    void licenseOtherIsResolvedByNameOrIsAClearProblem() throws IOException {
        Path known = model("other-known-" + tag, 14, "---\nlicense: other\nlicense_name: llama3.1\n---\n");
        multipart(known, Map.of("name", "other-known-" + tag, "version", "1"))
                .post("/api/v1/models").then().statusCode(201).body("license", containsString("3.1"));
        Path unknown = model("other-unknown-" + tag, 15, "---\nlicense: other\nlicense_name: acme-secret-license\n"
                + "license_link: https://acme.example/LICENSE\n---\n");
        multipart(unknown, Map.of("name", "other-unknown-" + tag, "version", "1"))
                .post("/api/v1/models").then().statusCode(422)
                .body("detail", containsString("license_name 'acme-secret-license', which the license catalogue does not know"));
    }

    @Test
    void badInputIsAClearClientError() throws IOException {
        Path bad = model("badcard-" + tag, 16, "---\nlicense: [mit\n---\n");
        multipart(bad, Map.of("name", "badcard-" + tag, "version", "1", "license", "mit"))
                .post("/api/v1/models").then().statusCode(400)
                .contentType("application/problem+json").body("detail", containsString("not valid YAML"));
        multipart(bad, Map.of("name", "badsource-" + tag, "version", "1", "license", "mit", "source", "acme/unpinned"))
                .post("/api/v1/models").then().statusCode(400);
        Path src = model("escape-src-" + tag, 17, "---\nlicense: mit\n---\n");
        Path modelFolder = HubCacheFixture.cache(work.resolve("hub-bad"), "acme", "escape-" + tag, HubCacheFixture.COMMIT, src);
        Path outside = Files.writeString(work.resolve("outside-" + tag + ".txt"), "secret");
        Files.createSymbolicLink(modelFolder.resolve("snapshots").resolve(HubCacheFixture.COMMIT).resolve("x.txt"), outside);
        given().auth().oauth2(admin()).contentType("application/json").body(Map.of("path", modelFolder.toString()))
                .post("/api/v1/models/import").then().statusCode(400).body("detail", containsString("links outside"));
        given().auth().oauth2(admin()).contentType("application/json")
                .body(Map.of("path", modelFolder.toString(), "revision", "f".repeat(40)))
                .post("/api/v1/models/import").then().statusCode(400).body("detail", containsString("missing snapshot"));
    }

    @Test
    void recipesNameModelsByHubIdWithRevisionAndUnpinnedIdsAreRefused() throws Exception {
        importBase();
        String pinned = "acme/base-" + tag + "@" + HubCacheFixture.COMMIT;
        given().auth().oauth2(admin()).contentType("application/yaml")
                .body(("merge_method: linear\nmodels:\n  - model: acme/base-" + tag + "\n    parameters: {weight: 0.5}\n"
                        + "  - model: " + pinned + "\n    parameters: {weight: 0.5}\ndtype: bfloat16\n").getBytes())
                .post("/api/v1/merges").then().statusCode(422)
                .body("errors", hasItem(containsString("is a Hub id without a revision")));
        String location = given().auth().oauth2(admin()).contentType("application/yaml")
                .body(("merge_method: linear\nmodels:\n  - model: hf://" + pinned + "\n    parameters: {weight: 0.5}\n"
                        + "  - model: " + pinned + "\n    parameters: {weight: 0.5}\ndtype: bfloat16\n").getBytes())
                .queryParam("name", "hub-merge-" + tag)
                .post("/api/v1/merges").then().statusCode(202).extract().header("Location");
        ApiTestSupport.awaitMerge(location, admin());
        given().auth().oauth2(admin()).get(location).then().statusCode(200).body("state", equalTo("succeeded"));
    }
}

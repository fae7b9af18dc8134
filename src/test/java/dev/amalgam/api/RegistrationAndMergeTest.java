package dev.amalgam.api;

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
import java.util.UUID;
import java.util.stream.Stream;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The registry over HTTP with real tiny models: upload (multipart and tar), server-side import,
 * identical content returning the existing model, then a merge job over registered models that
 * registers its output with lineage.
 */
@QuarkusTest
class RegistrationAndMergeTest {
    static Path base;
    static Path tuned;
    static Path work;

    @jakarta.inject.Inject
    RegistryConfig config;

    @BeforeAll
    static void models() throws IOException {
        work = Files.createDirectories(Path.of("target/test-import").toAbsolutePath().resolve(UUID.randomUUID().toString()));
        base = work.resolve("base");
        tuned = work.resolve("tuned");
        var spec = new SampleModel.Spec("llama", 2, 32, 64, 128, 1, DType.BF16);
        SampleModel.write(base, spec, null, 0);
        SampleModel.write(tuned, spec, base, 0.01);
    }

    private String admin() {
        return ApiTestSupport.adminToken(config.settings().dataDir());
    }

    /** Submits a merge recipe; returns the queued job's location. */
    private String submit(String recipe) {
        return given().auth().oauth2(admin()).contentType("application/yaml").body(recipe.getBytes())
                .post("/api/v1/merges").then().statusCode(202)
                .body("state", equalTo("queued")).extract().header("Location");
    }

    private RequestSpecification multipart(Path dir, String name, String version, String license) throws IOException {
        RequestSpecification r = given().auth().oauth2(admin())
                .multiPart("name", name).multiPart("version", version).multiPart("license", license);
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                r = r.multiPart(dir.relativize(f).toString(), f.toFile(), "application/octet-stream");
            }
        }
        return r;
    }

    @Test
    void uploadRegistersOnceAndIdenticalContentReturnsTheExistingModel() throws Exception {
        String name = "base-" + UUID.randomUUID().toString().substring(0, 6);
        Path copy = work.resolve(name);
        SampleModel.write(copy, new SampleModel.Spec("llama", 1, 16, 32, 64, 99, DType.BF16), null, 0);
        int id = multipart(copy, name, "1", "apache-2.0").when().post("/api/v1/models")
                .then().statusCode(201)
                .header("Location", containsString("/api/v1/models/"))
                .body("rootDigest", startsWith("sha256:"))
                .body("status", equalTo("registered"))
                .extract().path("id");
        multipart(copy, name, "1", "apache-2.0").when().post("/api/v1/models")
                .then().statusCode(200).body("id", equalTo(id));
        // under another name, version or license the same content is refused, naming the model it is
        for (String[] other : new String[][] {{name + "-again", "1", "apache-2.0"}, {name, "2", "apache-2.0"},
                {name, "1", "mit"}}) {
            multipart(copy, other[0], other[1], other[2]).when().post("/api/v1/models")
                    .then().statusCode(409).contentType("application/problem+json")
                    .body("detail", containsString("already registered as " + name + "@1 (id " + id))
                    .body("detail", containsString("nothing was registered as " + other[0] + "@" + other[1]));
        }
        given().auth().oauth2(admin()).get("/api/v1/models/" + name + "@1").then().statusCode(200)
                .body("fileCount", notNullValue());
    }

    @Test
    void sameNameAndVersionWithOtherContentIsAConflict() throws Exception {
        String name = "dup-" + UUID.randomUUID().toString().substring(0, 6);
        Path a = work.resolve(name + "-a");
        Path b = work.resolve(name + "-b");
        SampleModel.write(a, new SampleModel.Spec("llama", 1, 16, 32, 64, 5, DType.BF16), null, 0);
        SampleModel.write(b, new SampleModel.Spec("llama", 1, 16, 32, 64, 6, DType.BF16), null, 0);
        multipart(a, name, "1", "mit").post("/api/v1/models").then().statusCode(201);
        multipart(b, name, "1", "mit").post("/api/v1/models").then().statusCode(409)
                .contentType("application/problem+json").body("detail", containsString(name + "@1"));
    }

    @Test
    void badPathsAndMetadataAreRefusedWithEveryReason() {
        given().auth().oauth2(admin()).multiPart("name", "x").multiPart("version", "1").multiPart("license", "mit")
                .multiPart("../escape.bin", "escape.bin", "x".getBytes())
                .post("/api/v1/models").then().statusCode(400).body("detail", containsString("'..'"));
        given().auth().oauth2(admin()).multiPart("name", "bad name!").multiPart("version", "").multiPart("license", "")
                .multiPart("a.bin", "a.bin", "x".getBytes())
                .post("/api/v1/models").then().statusCode(400)
                .body("errors.size()", equalTo(3));
    }

    @Test
    void readersCannotRegister() {
        String reader = given().auth().oauth2(admin()).contentType("application/json")
                .body("{\"name\":\"reader-" + UUID.randomUUID().toString().substring(0, 6) + "\",\"roles\":[\"reader\"]}")
                .post("/api/v1/tokens").then().statusCode(201).extract().path("token");
        given().auth().oauth2(reader).multiPart("name", "x").multiPart("version", "1").multiPart("license", "mit")
                .multiPart("a.bin", "a.bin", "x".getBytes()).post("/api/v1/models").then().statusCode(403);
    }

    @Test
    void tarStreamRegisters() throws Exception {
        String name = "tar-" + UUID.randomUUID().toString().substring(0, 6);
        Path dir = work.resolve(name);
        SampleModel.write(dir, new SampleModel.Spec("llama", 1, 16, 32, 64, 7, DType.BF16), null, 0);
        Path tar = work.resolve(name + ".tar");
        Process p = new ProcessBuilder("tar", "-cf", tar.toString(), "-C", dir.toString(), ".").start();
        assertEquals(0, p.waitFor());
        given().auth().oauth2(admin()).contentType("application/x-tar").body(Files.readAllBytes(tar))
                .queryParam("name", name).queryParam("version", "1").queryParam("license", "apache-2.0")
                .post("/api/v1/models").then().statusCode(201).body("name", equalTo(name));
    }

    @Test
    void importIsConfinedToTheImportRoots() throws Exception {
        String name = "imp-" + UUID.randomUUID().toString().substring(0, 6);
        Path dir = work.resolve(name);
        SampleModel.write(dir, new SampleModel.Spec("llama", 1, 16, 32, 64, 8, DType.BF16), null, 0);
        given().auth().oauth2(admin()).contentType("application/json")
                .body("{\"path\":\"" + dir + "\",\"name\":\"" + name + "\",\"version\":\"1\",\"license\":\"mit\"}")
                .post("/api/v1/models/import").then().statusCode(201).body("name", equalTo(name));
        given().auth().oauth2(admin()).contentType("application/json")
                .body("{\"path\":\"/etc\",\"name\":\"etc\",\"version\":\"1\",\"license\":\"mit\"}")
                .post("/api/v1/models/import").then().statusCode(403)
                .body("detail", containsString("outside the configured import roots"));
    }

    @Test
    void mergeJobOverRegisteredModelsRegistersItsOutputWithLineage() throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 6);
        multipart(base, "llama-base-" + tag, "1", "apache-2.0").post("/api/v1/models").then().statusCode(201);
        multipart(tuned, "llama-tuned-" + tag, "1", "mit").post("/api/v1/models").then().statusCode(201);
        String recipe = """
                merge_method: linear
                models:
                  - model: llama-base-%1$s@1
                    parameters: {weight: 0.5}
                  - model: llama-tuned-%1$s@1
                    parameters: {weight: 0.5}
                dtype: bfloat16
                """.formatted(tag);
        String location = submit(recipe);
        ApiTestSupport.awaitMerge(location, admin());
        var job = given().auth().oauth2(admin()).get(location).then().statusCode(200)
                .body("state", equalTo("succeeded")).body("progress", equalTo(1.0f)).extract();
        int out = job.path("outputModelId");
        given().auth().oauth2(admin()).get("/api/v1/models/" + out).then().statusCode(200)
                .body("status", equalTo("pending-review"))
                .body("origin", equalTo("merge"))
                .body("license", equalTo("Apache-2.0 AND MIT"));
        given().auth().oauth2(admin()).get("/api/v1/models/" + out + "/lineage").then().statusCode(200)
                .body("nodes.name", containsInAnyOrder("llama-base-" + tag, "llama-tuned-" + tag))
                .body("edges.role", hasItem("input"));

        int jobId = job.path("id");
        given().auth().oauth2(admin()).post("/api/v1/merges/" + jobId + "/reproduce").then().statusCode(200)
                .body("identical", equalTo(true));
    }

    @Test
    void damMergeRecordsItsCoefficientsAsAnInputAndUnionTokenizerRuns() throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 6);
        // models of their own: identical content would return the other tests' registrations
        Path damBase = work.resolve("dam-base-" + tag), damTuned = work.resolve("dam-tuned-" + tag);
        var spec = new SampleModel.Spec("llama", 2, 32, 64, 128, 31, DType.BF16);
        SampleModel.write(damBase, spec, null, 0);
        SampleModel.write(damTuned, spec, damBase, 0.01);
        Path coef = work.resolve("dam-coef-" + tag);
        var rows = new java.util.LinkedHashMap<String, float[][]>();
        try (var m = dev.amalgam.safetensors.SafetensorsModel.open(damBase)) {
            for (String t : m.names()) {
                long[] shape = m.info(t).shape();
                float[][] c = new float[2][(int) shape[shape.length - 1]];
                java.util.Arrays.fill(c[0], 0.75f);
                java.util.Arrays.fill(c[1], 0.25f);
                rows.put(t, c);
            }
        }
        Files.createDirectories(coef);
        new dev.amalgam.dam.Coefficients(rows).write(coef);
        multipart(damBase, "dam-base-" + tag, "1", "apache-2.0").post("/api/v1/models").then().statusCode(201);
        multipart(damTuned, "dam-tuned-" + tag, "1", "apache-2.0").post("/api/v1/models").then().statusCode(201);
        multipart(coef, "dam-coef-" + tag, "1", "apache-2.0").post("/api/v1/models").then().statusCode(201);
        String recipe = """
                merge_method: dam
                models:
                  - model: dam-base-%1$s@1
                  - model: dam-tuned-%1$s@1
                parameters:
                  coefficients: dam-coef-%1$s@1
                tokenizer_source: union
                dtype: bfloat16
                """.formatted(tag);
        String location = submit(recipe);
        ApiTestSupport.awaitMerge(location, admin());
        int out = given().auth().oauth2(admin()).get(location).then().statusCode(200)
                .body("state", equalTo("succeeded")).extract().path("outputModelId");
        given().auth().oauth2(admin()).get("/api/v1/models/" + out + "/lineage").then().statusCode(200)
                .body("nodes.name", containsInAnyOrder("dam-base-" + tag, "dam-tuned-" + tag, "dam-coef-" + tag));
        String tokenizer = given().auth().oauth2(admin()).get("/api/v1/models/" + out + "/files/tokenizer.json")
                .then().statusCode(200).extract().asString();
        assertTrue(tokenizer.contains("\"BPE\""), tokenizer);
    }

    @Test
    void aTokenizerSourceOutsideTheMergeIsRecordedWithItsOwnRole() throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 6);
        var spec = new SampleModel.Spec("llama", 1, 16, 32, 64, 41, DType.BF16);
        Path a = work.resolve("tk-a-" + tag), b = work.resolve("tk-b-" + tag), tok = work.resolve("tk-tok-" + tag);
        SampleModel.write(a, spec, null, 0);
        SampleModel.write(b, spec, a, 0.01);
        SampleModel.write(tok, new SampleModel.Spec("llama", 1, 16, 32, 64, 42, DType.BF16), null, 0);
        multipart(a, "tk-a-" + tag, "1", "apache-2.0").post("/api/v1/models").then().statusCode(201);
        multipart(b, "tk-b-" + tag, "1", "apache-2.0").post("/api/v1/models").then().statusCode(201);
        multipart(tok, "tk-tok-" + tag, "1", "mit").post("/api/v1/models").then().statusCode(201);
        String recipe = """
                merge_method: linear
                models:
                  - model: tk-a-%1$s@1
                    parameters: {weight: 0.5}
                  - model: tk-b-%1$s@1
                    parameters: {weight: 0.5}
                tokenizer_source: model:tk-tok-%1$s@1
                """.formatted(tag);
        String location = submit(recipe);
        ApiTestSupport.awaitMerge(location, admin());
        int out = given().auth().oauth2(admin()).get(location).then().statusCode(200)
                .body("state", equalTo("succeeded")).extract().path("outputModelId");
        given().auth().oauth2(admin()).get("/api/v1/models/" + out).then().statusCode(200)
                .body("license", equalTo("Apache-2.0 AND Apache-2.0 AND MIT"));
        given().auth().oauth2(admin()).get("/api/v1/models/" + out + "/lineage").then().statusCode(200)
                .body("nodes.name", hasItem("tk-tok-" + tag))
                .body("edges.role", hasItem("tokenizer"));
        // an unknown tokenizer model is refused with the other reasons, before anything runs
        given().auth().oauth2(admin()).contentType("application/yaml")
                .body(recipe.replace("tk-tok-" + tag + "@1", "nobody-" + tag + "@1").getBytes())
                .post("/api/v1/merges").then().statusCode(422).body("errors[0]", containsString("nobody-" + tag));
    }

    @Test
    void manifestSignatureAndFilesAreServed() throws Exception {
        String name = "serve-" + UUID.randomUUID().toString().substring(0, 6);
        Path dir = work.resolve(name);
        SampleModel.write(dir, new SampleModel.Spec("llama", 1, 16, 32, 64, 21, DType.BF16), null, 0);
        String digest = multipart(dir, name, "1", "mit").post("/api/v1/models").then().statusCode(201)
                .extract().path("rootDigest");
        given().auth().oauth2(admin()).get("/api/v1/models/" + name + "@1/manifest").then().statusCode(200)
                .body("rootDigest", equalTo(digest))
                .body("files.path", hasItem("config.json"));
        byte[] bundle = given().auth().oauth2(admin()).get("/api/v1/models/" + digest + "/signature").then().statusCode(200)
                .extract().asByteArray();
        var registryKey = dev.amalgam.provenance.PemKeys.readPublicKey(config.settings().keysDir().resolve("registry-signing-key.pub.pem"));
        var signed = dev.amalgam.provenance.ModelVerifier.verifyBundle(bundle, new dev.amalgam.provenance.ModelVerifier.Trust.Key(registryKey));
        assertEquals(digest, "sha256:" + signed.rootDigest());
        // the folder as downloaded verifies against the registry's signature with the standard verifier
        dev.amalgam.provenance.ModelVerifier.verify(dir, bundle, "model.sig", new dev.amalgam.provenance.ModelVerifier.Trust.Key(registryKey),
                dev.amalgam.provenance.ModelVerifier.Options.defaults());
        byte[] config = given().auth().oauth2(admin()).get("/api/v1/models/" + name + "@1/files/config.json").then().statusCode(200)
                .extract().asByteArray();
        org.junit.jupiter.api.Assertions.assertArrayEquals(Files.readAllBytes(dir.resolve("config.json")), config);
        given().auth().oauth2(admin()).get("/api/v1/models/" + name + "@1/files/nope.bin").then().statusCode(404);
    }

    @Test
    void mergeOfUnknownModelsIsRefusedWithEveryReason() {
        String recipe = """
                merge_method: linear
                models:
                  - model: nobody@1
                    parameters: {weight: 0.5}
                  - model: nothing@2
                    parameters: {weight: 0.5}
                """;
        given().auth().oauth2(admin()).contentType("application/yaml").body(recipe.getBytes())
                .post("/api/v1/merges").then().statusCode(422)
                .contentType("application/problem+json")
                .body("errors.size()", equalTo(2))
                .body("errors[0]", containsString("nobody@1"));
        given().auth().oauth2(admin()).contentType("application/yaml").body("merge_method: [".getBytes())
                .post("/api/v1/merges").then().statusCode(422).body("detail", containsString("invalid recipe"));
    }
}

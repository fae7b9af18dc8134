package dev.amalgam.api;

import dev.amalgam.merge.SampleModel;
import dev.amalgam.registry.PrincipalService;
import dev.amalgam.registry.RegistryConfig;
import dev.amalgam.registry.Role;
import dev.amalgam.safetensors.DType;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.notNullValue;

/**
 * The compliance loop over HTTP with separate principals: a submitter merges, a reviewer (never the
 * submitter) approves, a deployer asks the gate, and license facts decide.
 */
@QuarkusTest
class ComplianceWorkflowTest {
    static Path models;

    @Inject
    PrincipalService principals;

    @Inject
    RegistryConfig config;

    String submitter;
    String reviewer;
    String deployer;
    String tag;

    static final SampleModel.Spec SPEC = new SampleModel.Spec("llama", 1, 16, 32, 64, 11, DType.BF16);
    static int seed = 100;

    @BeforeAll
    static void sampleModels() throws IOException {
        models = Files.createDirectories(Path.of("target/test-models").toAbsolutePath().resolve(UUID.randomUUID().toString()));
        SampleModel.write(models.resolve("base"), SPEC, null, 0);
    }

    @BeforeEach
    void principals() {
        submitter = ApiTestSupport.tokenWithRole(principals, Role.SUBMITTER);
        reviewer = ApiTestSupport.tokenWithRole(principals, Role.REVIEWER);
        deployer = ApiTestSupport.tokenWithRole(principals, Role.DEPLOYER);
        tag = UUID.randomUUID().toString().substring(0, 6);
    }

    /** Registers a fresh fine-tune-like variant of the base (distinct content) under name@1. */
    private String register(String folder, String name, String license) throws IOException {
        Path dir = models.resolve(name);
        var spec = new SampleModel.Spec(SPEC.arch(), SPEC.layers(), SPEC.hidden(), SPEC.intermediate(), SPEC.vocab(),
                seed++, SPEC.dtype());
        SampleModel.write(dir, spec, models.resolve("base"), 0.01);
        var r = given().auth().oauth2(submitter)
                .multiPart("name", name).multiPart("version", "1").multiPart("license", license);
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                r = r.multiPart(dir.relativize(f).toString(), f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        r.post("/api/v1/models").then().statusCode(201);
        return name + "@1";
    }

    /** Submits a linear merge of two registered models and waits for it; returns the job id. */
    private int merge(String a, String b, String outputName) throws InterruptedException {
        return merge(a, b, outputName, "1", 0.5);
    }

    private int merge(String a, String b, String outputName, String version, double weightA) throws InterruptedException {
        String recipe = "merge_method: linear\nmodels:\n  - model: " + a + "\n    parameters: {weight: " + weightA + "}\n"
                + "  - model: " + b + "\n    parameters: {weight: " + (1 - weightA) + "}\ndtype: bfloat16\n";
        int id = given().auth().oauth2(submitter).contentType("application/yaml").body(recipe.getBytes())
                .queryParam("name", outputName).queryParam("version", version)
                .post("/api/v1/merges").then().statusCode(202).extract().path("id");
        ApiTestSupport.awaitMerge("/api/v1/merges/" + id, submitter);
        var job = given().auth().oauth2(submitter).get("/api/v1/merges/" + id).then();
        job.body("failureReason", equalTo(null)).body("state", equalTo("succeeded"));
        return id;
    }

    private void approve(int mergeId) {
        given().auth().oauth2(reviewer).contentType("application/json")
                .body("{\"decision\":\"approve\",\"comment\":\"inputs and licenses checked\"}")
                .post("/api/v1/merges/" + mergeId + "/review").then().statusCode(200)
                .body("outcome", equalTo("approve"));
    }

    private ValidatableResponse gate(String model, String env) {
        return given().auth().oauth2(deployer).queryParam("env", env)
                .post("/api/v1/models/" + model + "/gate").then().statusCode(200)
                .body("decisionId", notNullValue())
                .body("policyDigest", notNullValue());
    }

    @Test
    void fourEyesReviewAndReviewPage() throws Exception {
        String a = register("a", "alpha-" + tag, "apache-2.0");
        String b = register("b", "beta-" + tag, "mit");
        int id = merge(a, b, "acme-" + tag);
        given().auth().oauth2(submitter).contentType("application/json").body("{\"decision\":\"approve\"}")
                .post("/api/v1/merges/" + id + "/review").then().statusCode(403);
        String both = ApiTestSupport.tokenWithRole(principals, Role.ADMIN);
        given().auth().oauth2(reviewer).contentType("application/json").body("{\"decision\":\"reject\"}")
                .post("/api/v1/merges/" + id + "/review").then().statusCode(400)
                .body("detail", containsString("comment"));
        approve(id);
        given().auth().oauth2(both).contentType("application/json").body("{\"decision\":\"approve\"}")
                .post("/api/v1/merges/" + id + "/review").then().statusCode(409);
        given().auth().oauth2(reviewer).get("/api/v1/merges/" + id + "/review").then().statusCode(200)
                .body("inputs", hasSize(2))
                .body("inputs.license", hasItem("Apache-2.0"))
                .body("reviews", hasSize(1))
                .body("outputStatus", equalTo("approved"));

        // a second version of the same output: the page diffs the recipes
        given().auth().oauth2(submitter).contentType("application/yaml")
                .body(("merge_method: linear\nmodels:\n  - model: " + a + "\n    parameters: {weight: 1}\n").getBytes())
                .queryParam("name", "acme-" + tag).queryParam("version", "1")
                .post("/api/v1/merges").then().statusCode(422)
                .body("errors", hasItem(containsString("already registered")));
        int second = merge(a, b, "acme-" + tag, "2", 0.7);
        given().auth().oauth2(reviewer).get("/api/v1/merges/" + second + "/review").then().statusCode(200)
                .body("previousMergeId", equalTo(id))
                .body("recipeDiff", hasItem(containsString("- ")));
    }

    @Test
    void apacheAndMitPassTheLicenseRuleForProduction() throws Exception {
        int id = merge(register("a", "ap-" + tag, "apache-2.0"), register("b", "mi-" + tag, "mit"), "ok-" + tag);
        approve(id);
        gate("ok-" + tag + "@1", "production")
                .body("rules.find { it.id == 'license' }.result", equalTo("pass"))
                .body("rules.find { it.id == 'review' }.result", equalTo("pass"))
                .body("license", equalTo("Apache-2.0 AND MIT"));
    }

    @Test
    void nonCommercialInputIsDeniedForProductionWithTheRuleNamed() throws Exception {
        int id = merge(register("a", "ap2-" + tag, "apache-2.0"), register("c", "nc-" + tag, "cc-by-nc-4.0"), "nc-out-" + tag);
        approve(id);
        gate("nc-out-" + tag + "@1", "production")
                .body("outcome", equalTo("deny"))
                .body("rules.find { it.id == 'license' }.result", equalTo("fail"))
                .body("rules.find { it.id == 'license' }.message", containsString("CC-BY-NC-4.0"));
    }

    @Test
    void noDerivativesInputIsDenied() throws Exception {
        int id = merge(register("a", "ap3-" + tag, "apache-2.0"), register("d", "nd-" + tag, "cc-by-nd-4.0"), "nd-out-" + tag);
        approve(id);
        gate("nd-out-" + tag + "@1", "production")
                .body("outcome", equalTo("deny"))
                .body("rules.find { it.id == 'license' }.result", equalTo("fail"));
    }

    @Test
    void llama31InputRequiresTheLlamaNamePrefix() throws Exception {
        String llama = register("b", "l31-" + tag, "llama3.1");
        String other = register("c", "ap4-" + tag, "apache-2.0");
        int bad = merge(llama, other, "acme-" + tag);
        approve(bad);
        gate("acme-" + tag + "@1", "production")
                .body("rules.find { it.id == 'name' }.result", equalTo("fail"))
                .body("rules.find { it.id == 'name' }.message", containsString("Llama"));
        int good = merge(llama, other, "Llama-acme-" + tag, "1", 0.7);
        approve(good);
        gate("Llama-acme-" + tag + "@1", "production")
                .body("rules.find { it.id == 'name' }.result", equalTo("pass"));
    }

    @Test
    void publisherSignaturesAreCheckedAgainstTrustedKeysAndTamperingIsCaught() throws Exception {
        var gen = java.security.KeyPairGenerator.getInstance("EC");
        gen.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        var publisher = gen.generateKeyPair();
        Path trusted = Files.createDirectories(Path.of("target/test-trusted-keys"));
        Files.writeString(trusted.resolve("acme-" + tag + ".pem"), dev.amalgam.provenance.PemKeys.publicKeyPem(publisher.getPublic()));

        Path signedDir = models.resolve("signed-" + tag);
        SampleModel.write(signedDir, new SampleModel.Spec("llama", 1, 16, 32, 64, seed++, DType.BF16), models.resolve("base"), 0.01);
        dev.amalgam.provenance.ModelSigner.sign(signedDir, signedDir.resolve("model.sig"), publisher.getPrivate(), List.of(),
                List.of(), new dev.amalgam.provenance.ModelHasher(1));
        String signedRef = registerFolder(signedDir, "signed-" + tag, "apache-2.0");
        gate(signedRef, "production")
                .body("rules.find { it.id == 'signatures' }.message", org.hamcrest.Matchers.not(containsString("source model")));

        var untrustedKey = gen.generateKeyPair();
        Path otherDir = models.resolve("untrusted-" + tag);
        SampleModel.write(otherDir, new SampleModel.Spec("llama", 1, 16, 32, 64, seed++, DType.BF16), models.resolve("base"), 0.01);
        dev.amalgam.provenance.ModelSigner.sign(otherDir, otherDir.resolve("model.sig"), untrustedKey.getPrivate(), List.of(),
                List.of(), new dev.amalgam.provenance.ModelHasher(1));
        String otherRef = registerFolder(otherDir, "untrusted-" + tag, "apache-2.0");
        given().auth().oauth2(deployer).get("/api/v1/models/" + signedRef).then()
                .body("publisherSignature", equalTo("trusted"));
        given().auth().oauth2(deployer).get("/api/v1/models/" + otherRef).then()
                .body("publisherSignature", equalTo("untrusted"));

        // tamper with a stored blob of the trusted model: its signature fact becomes invalid
        String digest = given().auth().oauth2(deployer).get("/api/v1/models/" + signedRef).then().extract().path("rootDigest");
        Path blobs = config.settings().blobsDir().resolve("sha256");
        String weights = dev.amalgam.provenance.ModelHasher.digest(signedDir.resolve("model-00001-of-00001.safetensors"), 0,
                Files.size(signedDir.resolve("model-00001-of-00001.safetensors")));
        Path blob = blobs.resolve(weights.substring(0, 2)).resolve(weights.substring(2, 4)).resolve(weights);
        byte[] bytes = Files.readAllBytes(blob);
        bytes[bytes.length - 1] ^= 1;
        Files.write(blob, bytes);
        gate(digest, "production")
                .body("outcome", equalTo("deny"))
                .body("rules.find { it.id == 'signatures' }.result", equalTo("fail"))
                .body("rules.find { it.id == 'signatures' }.message", containsString("does not verify"));
    }

    private String registerFolder(Path dir, String name, String license) throws IOException {
        var r = given().auth().oauth2(submitter).multiPart("name", name).multiPart("version", "1").multiPart("license", license);
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                r = r.multiPart(dir.relativize(f).toString(), f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        r.post("/api/v1/models").then().statusCode(201);
        return name + "@1";
    }

    /** Everything right: trusted publisher signatures, clean scans, review, reproduction: production allows. */
    @Test
    void aCompliantMergeIsAllowedAndReleasedToProduction() throws Exception {
        var gen = java.security.KeyPairGenerator.getInstance("EC");
        gen.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        var publisher = gen.generateKeyPair();
        Path trusted = Files.createDirectories(Path.of("target/test-trusted-keys"));
        Files.writeString(trusted.resolve("pub-" + tag + ".pem"), dev.amalgam.provenance.PemKeys.publicKeyPem(publisher.getPublic()));
        String[] refs = new String[2];
        for (int i = 0; i < 2; i++) {
            Path dir = models.resolve("pub" + i + "-" + tag);
            SampleModel.write(dir, new SampleModel.Spec("llama", 1, 16, 32, 64, seed++, DType.BF16), models.resolve("base"), 0.01);
            dev.amalgam.provenance.ModelSigner.sign(dir, dir.resolve("model.sig"), publisher.getPrivate(), List.of(), List.of(),
                    new dev.amalgam.provenance.ModelHasher(1));
            refs[i] = registerFolder(dir, "pub" + i + "-" + tag, i == 0 ? "apache-2.0" : "mit");
        }
        int id = merge(refs[0], refs[1], "prod-" + tag);
        approve(id);
        given().auth().oauth2(submitter).post("/api/v1/merges/" + id + "/reproduce").then().statusCode(200)
                .body("identical", equalTo(true));
        int decision = gate("prod-" + tag + "@1", "production").body("outcome", equalTo("allow"))
                .extract().path("decisionId");
        // the decision and the provenance are DSSE statements signed by the registry key
        var registryKey = dev.amalgam.provenance.PemKeys.readPublicKey(config.settings().keysDir().resolve("registry-signing-key.pub.pem"));
        for (String path : List.of("/api/v1/decisions/" + decision + "/statement", "/api/v1/merges/" + id + "/provenance")) {
            byte[] env = given().auth().oauth2(deployer).get(path).then().statusCode(200).extract().asByteArray();
            var e = new com.fasterxml.jackson.databind.ObjectMapper().readTree(env);
            byte[] payload = java.util.Base64.getDecoder().decode(e.get("payload").asText());
            byte[] sig = java.util.Base64.getDecoder().decode(e.get("signatures").get(0).get("sig").asText());
            var v = java.security.Signature.getInstance("SHA256withECDSA");
            v.initVerify(registryKey);
            v.update(dev.amalgam.provenance.Dsse.pae(dev.amalgam.provenance.Dsse.IN_TOTO, payload));
            org.junit.jupiter.api.Assertions.assertTrue(v.verify(sig), path);
            var st = new com.fasterxml.jackson.databind.ObjectMapper().readTree(payload);
            org.junit.jupiter.api.Assertions.assertEquals(path.contains("decisions") ? "https://slsa.dev/verification_summary/v1"
                    : "https://slsa.dev/provenance/v1", st.get("predicateType").asText());
            if (path.contains("decisions")) {
                org.junit.jupiter.api.Assertions.assertEquals("PASSED", st.get("predicate").get("verificationResult").asText());
            } else {
                org.junit.jupiter.api.Assertions.assertEquals(2, st.get("predicate").get("buildDefinition").get("resolvedDependencies").size());
            }
        }
        given().auth().oauth2(deployer).queryParam("env", "production")
                .post("/api/v1/models/prod-" + tag + "@1/releases").then().statusCode(200)
                .body("outcome", equalTo("released"));
        given().auth().oauth2(deployer).get("/api/v1/models/prod-" + tag + "@1").then()
                .body("status", equalTo("released"))
                .body("scanVerdict", equalTo("clean"))
                .body("finiteWeights", equalTo("passed"));
        given().auth().oauth2(deployer).get("/api/v1/models/" + refs[0] + "/impact").then()
                .body("name", hasItem("prod-" + tag));

        // the release download: files, model.sig, provenance, LICENSE/NOTICE, model card; and it verifies
        byte[] tar = given().auth().oauth2(deployer).get("/api/v1/models/prod-" + tag + "@1/archive").then().statusCode(200)
                .contentType("application/x-tar").extract().asByteArray();
        Path out = Files.createDirectories(models.resolve("download-" + tag));
        Process x = new ProcessBuilder("tar", "-xf", "-", "-C", out.toString()).start();
        x.getOutputStream().write(tar);
        x.getOutputStream().close();
        org.junit.jupiter.api.Assertions.assertEquals(0, x.waitFor(), new String(x.getErrorStream().readAllBytes()));
        Path folder = out.resolve("prod-" + tag + "-1");
        for (String f : List.of("model.sig", "config.json", "amalgam-release/provenance.intoto.json",
                "amalgam-release/LICENSE-Apache-2.0.txt", "amalgam-release/LICENSE-MIT.txt", "amalgam-release/NOTICE",
                "amalgam-release/MODEL_CARD.md")) {
            org.junit.jupiter.api.Assertions.assertTrue(Files.isRegularFile(folder.resolve(f)), f);
        }
        String card = Files.readString(folder.resolve("amalgam-release/MODEL_CARD.md"));
        org.junit.jupiter.api.Assertions.assertTrue(card.contains("Apache-2.0 AND MIT"));
        // the card loads as a Hub card: the inputs as base_model, merge, the expression as other + name + link
        var front = dev.amalgam.hub.HubCardAssertions.assertValidHubCard(card);
        org.junit.jupiter.api.Assertions.assertEquals("merge", front.get("base_model_relation"));
        org.junit.jupiter.api.Assertions.assertEquals("other", front.get("license"));
        org.junit.jupiter.api.Assertions.assertEquals("Apache-2.0 AND MIT", front.get("license_name"));
        org.junit.jupiter.api.Assertions.assertEquals("amalgam-release/LICENSES.md", front.get("license_link"));
        org.junit.jupiter.api.Assertions.assertEquals(List.of("merge", "amalgam"), front.get("tags"));
        org.junit.jupiter.api.Assertions.assertEquals(2, ((List<?>) front.get("base_model")).size(), card);
        org.junit.jupiter.api.Assertions.assertTrue(card.contains("## Recipe\n\nMethod: `"), card);
        org.junit.jupiter.api.Assertions.assertTrue(Files.isRegularFile(folder.resolve("amalgam-release/LICENSES.md")));
        // the release carries the model's ML-BOM, schema-valid, and its envelope signed by the registry key
        String bom = Files.readString(folder.resolve("amalgam-release/bom.cdx.json"));
        org.junit.jupiter.api.Assertions.assertEquals(List.of(), dev.amalgam.bom.ModelBomTest.violations(bom));
        org.junit.jupiter.api.Assertions.assertEquals(2, new com.fasterxml.jackson.databind.ObjectMapper().readTree(bom)
                .at("/metadata/component/pedigree/ancestors").size(), bom);
        HubRegistrationTest.assertBomEnvelope(Files.readAllBytes(folder.resolve("amalgam-release/bom.cdx.dsse.json")),
                given().auth().oauth2(deployer).get("/api/v1/signing-key").then().statusCode(200).extract().asString(), bom);
        // the card's instructions, followed literally: save the key beside the top folder, check its
        // fingerprint, run the commands of its sh block in the top folder, ask the gate with the digest
        String pem = given().auth().oauth2(deployer).get("/api/v1/signing-key").then().statusCode(200).extract().asString();
        Files.writeString(folder.resolveSibling("registry-signing-key.pub.pem"), pem);
        String fingerprint = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(pem.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        org.junit.jupiter.api.Assertions.assertTrue(card.contains("SHA-256 is `" + fingerprint + "`"), card);
        String block = card.substring(card.indexOf("```sh\n") + 6, card.indexOf("```", card.indexOf("```sh\n") + 6));
        List<String> printed = new java.util.ArrayList<>();
        for (String line : block.strip().split("\n")) {
            String[] words = line.strip().split(" +");
            org.junit.jupiter.api.Assertions.assertEquals("amalgam", words[0], line);
            String[] args = java.util.Arrays.stream(words).skip(1)
                    .map(w -> w.startsWith(".") ? folder.resolve(w).normalize().toString() : w).toArray(String[]::new);
            var buffer = new java.io.ByteArrayOutputStream();
            var stdout = System.out;
            System.setOut(new java.io.PrintStream(buffer, true, java.nio.charset.StandardCharsets.UTF_8));
            int code;
            try {
                code = dev.amalgam.cli.Amalgam.newCommandLine().execute(args);
            } finally {
                System.setOut(stdout);
            }
            String text = buffer.toString(java.nio.charset.StandardCharsets.UTF_8).strip();
            org.junit.jupiter.api.Assertions.assertEquals(0, code, line + ": " + text);
            printed.add(text);
        }
        String digest = given().auth().oauth2(deployer).get("/api/v1/models/prod-" + tag + "@1").then().extract().path("rootDigest");
        org.junit.jupiter.api.Assertions.assertTrue(printed.get(0).startsWith("valid: " + digest), printed.get(0));
        org.junit.jupiter.api.Assertions.assertEquals(digest, printed.get(1));
        given().auth().oauth2(deployer).contentType("application/json")
                .body("{\"digest\":\"" + printed.get(1) + "\",\"env\":\"production\"}")
                .post("/api/v1/gate").then().statusCode(200).body("outcome", equalTo("allow"))
                .body("rootDigest", equalTo(digest));
        given().auth().oauth2(deployer).get("/api/v1/models/" + refs[0] + "/archive").then().statusCode(409);
    }

    @Test
    void unknownLicenseIsDenied() throws Exception {
        String m = register("d", "mystery-" + tag, "other");
        gate(m, "production")
                .body("outcome", equalTo("deny"))
                .body("rules.find { it.id == 'license' }.result", equalTo("fail"));
    }

    @Test
    void releaseOnlyWhenTheGateAllowsAndGateByDigest() throws Exception {
        String m = register("a", "rel-" + tag, "apache-2.0");
        // not scanned (fail closed) and unsigned: production must deny, and so must the release
        given().auth().oauth2(deployer).queryParam("env", "production")
                .post("/api/v1/models/" + m + "/releases").then().statusCode(422)
                .contentType("application/problem+json")
                .body("errors", notNullValue());
        String digest = given().auth().oauth2(deployer).get("/api/v1/models/" + m).then().extract().path("rootDigest");
        given().auth().oauth2(deployer).contentType("application/json")
                .body("{\"digest\":\"" + digest + "\",\"env\":\"production\"}")
                .post("/api/v1/gate").then().statusCode(200)
                .body("outcome", equalTo("deny"))
                .body("rootDigest", equalTo(digest));
        given().auth().oauth2(deployer).contentType("application/json")
                .body("{\"digest\":\"sha256:" + "0".repeat(64) + "\",\"env\":\"production\"}")
                .post("/api/v1/gate").then().statusCode(404);
        given().auth().oauth2(submitter).queryParam("env", "production")
                .post("/api/v1/models/" + m + "/gate").then().statusCode(403);
        given().auth().oauth2(deployer).queryParam("env", "moon")
                .post("/api/v1/models/" + m + "/gate").then().statusCode(200).body("outcome", equalTo("deny"));
    }
}

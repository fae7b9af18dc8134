package dev.amalgam.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.ledger.event.ModelEvaluated;
import dev.amalgam.merge.SampleModel;
import dev.amalgam.provenance.Dsse;
import dev.amalgam.provenance.PemKeys;
import dev.amalgam.registry.LedgerService;
import dev.amalgam.registry.RegistryConfig;
import dev.amalgam.safetensors.DType;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.*;
import static org.junit.jupiter.api.Assertions.*;

/** Evaluations over HTTP: a job that runs amalgam eval in the registry and leaves signed evidence and a ledger entry. */
@QuarkusTest
class EvaluationApiTest {
    static Path work, base, tuned;

    @jakarta.inject.Inject
    RegistryConfig config;

    @jakarta.inject.Inject
    LedgerService ledger;

    @jakarta.inject.Inject
    dev.amalgam.registry.EvaluationService evaluations;

    @jakarta.inject.Inject
    dev.amalgam.registry.ModelService modelService;

    @BeforeAll
    static void models() throws IOException {
        work = Files.createDirectories(Path.of("target/test-eval").toAbsolutePath().resolve(UUID.randomUUID().toString()));
        base = work.resolve("base");
        tuned = work.resolve("tuned");
        var spec = new SampleModel.Spec("llama", 2, 64, 96, 64, 1, DType.BF16);
        SampleModel.write(base, spec, null, 0);
        SampleModel.write(tuned, spec, base, 0.5);
    }

    private String admin() {
        return ApiTestSupport.adminToken(config.settings().dataDir());
    }

    private String register(Path dir, String name) throws IOException {
        RequestSpecification r = given().auth().oauth2(admin()).multiPart("name", name).multiPart("version", "1")
                .multiPart("license", "apache-2.0");
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                r = r.multiPart(dir.relativize(f).toString(), f.toFile(), "application/octet-stream");
            }
        }
        r.when().post("/api/v1/models").then().statusCode(201);
        return name + "@1";
    }

    private static Map<String, Object> body(String dataset, String tokens, List<String> refs) {
        return refs == null ? Map.of("dataset", dataset, "tokens", tokens) : Map.of("dataset", dataset, "tokens", tokens, "references", refs);
    }

    /** Polls the evaluation until it leaves queued/running. */
    private JsonNode await(String location) throws Exception {
        for (int i = 0; i < 600; i++) {
            String json = given().auth().oauth2(admin()).get(location).then().statusCode(200).extract().asString();
            JsonNode n = new ObjectMapper().readTree(json);
            String status = n.get("status").asText();
            if (!status.equals("queued") && !status.equals("running")) return n;
            Thread.sleep(100);
        }
        fail("evaluation " + location + " did not finish in 60 s");
        return null;
    }

    @Test
    void anEvaluationRunsAsAJobAndLeavesSignedEvidence() throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 6);
        String b = register(base, "eval-base-" + tag), t = register(tuned, "eval-tuned-" + tag);
        String location = given().auth().oauth2(admin()).contentType("application/json")
                .body(body("heldout", "# held out\n1 5 9 13 2 7 40 63 0 11\n3 3 3 8\n", List.of(b)))
                .post("/api/v1/models/" + t + "/evaluations").then().statusCode(202)
                .body("status", equalTo("queued")).body("dataset", equalTo("heldout"))
                .body("dataDigest", startsWith("sha256:")).extract().header("Location");
        JsonNode done = await(location);
        assertEquals("done", done.get("status").asText(), done.toString());
        JsonNode metrics = done.get("result").get("metrics");
        assertEquals(14, metrics.get("tokens").asInt());
        assertEquals(12, metrics.get("predictedPositions").asInt());
        assertTrue(metrics.get("perplexity").asDouble() > 1, done.toString());
        assertEquals(0.0, metrics.get("nonFiniteFraction").asDouble());
        JsonNode ref = done.get("result").get("references").get(0);
        assertEquals(b, ref.get("name").asText());
        assertTrue(ref.get("kl").asDouble() > 0);

        given().auth().oauth2(admin()).get("/api/v1/models/" + t + "/evaluations").then().statusCode(200)
                .body("size()", equalTo(1)).body("[0].status", equalTo("done"));

        // the statement is signed by the registry key and names the model, the data and the metrics
        byte[] env = given().auth().oauth2(admin()).get(location + "/statement").then().statusCode(200).extract().asByteArray();
        JsonNode e = new ObjectMapper().readTree(env);
        byte[] payload = Base64.getDecoder().decode(e.get("payload").asText());
        var v = java.security.Signature.getInstance("SHA256withECDSA");
        v.initVerify(PemKeys.readPublicKey(config.settings().keysDir().resolve("registry-signing-key.pub.pem")));
        v.update(Dsse.pae(Dsse.IN_TOTO, payload));
        assertTrue(v.verify(Base64.getDecoder().decode(e.get("signatures").get(0).get("sig").asText())));
        JsonNode st = new ObjectMapper().readTree(payload);
        assertEquals("https://amalgam.dev/evaluation/v1", st.get("predicateType").asText());
        assertEquals(t, st.get("subject").get(0).get("name").asText());
        assertEquals(done.get("dataDigest").asText(), "sha256:" + st.get("predicate").get("configuration").get(0).get("digest").get("sha256").asText());
        assertEquals("PASSED", st.get("predicate").get("result").asText());
        assertEquals(metrics, st.get("predicate").get("metrics"));
        assertFalse(st.get("predicate").get("engine").get("version").asText().isEmpty());

        // and the ledger records it
        var l = ledger.ledger();
        ModelEvaluated recorded = null;
        for (long seq = l.size() - 1; seq >= 0 && recorded == null; seq--) {
            if (l.event(seq).orElseThrow().event() instanceof ModelEvaluated m && m.model().equals(t)) recorded = m;
        }
        assertNotNull(recorded, "a model.evaluated entry");
        assertEquals(done.get("statement").asText(), recorded.statement());
        assertEquals(done.get("dataDigest").asText(), recorded.dataDigest());

        // the gate's evidence is read back from the signed statement
        var evidence = evaluations.evidence(modelService.find(dev.amalgam.registry.ModelRef.parse(t)));
        assertEquals(1, evidence.size());
        assertEquals("heldout", evidence.getFirst().dataset());
        assertEquals(metrics.get("perplexity").asDouble(), evidence.getFirst().perplexity());
        assertEquals(ref.get("kl").asDouble(), evidence.getFirst().kl().get(b));
        // the gate gathers that evidence with the other facts (the default policy has no evaluated rule)
        given().auth().oauth2(admin()).queryParam("env", "dev").post("/api/v1/models/" + t + "/gate").then().statusCode(200)
                .body("outcome", anyOf(equalTo("allow"), equalTo("deny")));
    }

    @Test
    void badRequestsAreRefusedWithTheirReasons() throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 6);
        Path other = work.resolve("other");
        SampleModel.write(other, new SampleModel.Spec("llama", 1, 64, 96, 64, 7, DType.BF16), null, 0);
        String b = register(other, "eval-bad-" + tag);
        String url = "/api/v1/models/" + b + "/evaluations";
        given().auth().oauth2(admin()).contentType("application/json").body(body("d", "1 2 64\n", null)).post(url)
                .then().statusCode(422).body("detail", containsString("token id 64 is outside the vocabulary [0, 64)"));
        given().auth().oauth2(admin()).contentType("application/json").body(body("d", "Hello world\n", null)).post(url)
                .then().statusCode(422).body("detail", containsString("looks like plain text"));
        given().auth().oauth2(admin()).contentType("application/json").body(Map.of("tokens", "1 2\n", "seqLen", 1)).post(url)
                .then().statusCode(400).body(containsString("dataset")).body(containsString("seqLen"));
        given().auth().oauth2(admin()).contentType("application/json").body(body("d", "1 2\n", List.of("nothing@9"))).post(url)
                .then().statusCode(404);
        given().contentType("application/json").body(body("d", "1 2\n", null)).post(url).then().statusCode(401);
        given().auth().oauth2(admin()).get("/api/v1/models/" + b + "/evaluations/999999").then().statusCode(404);
    }
}

package dev.amalgam.api;

import dev.amalgam.merge.SampleModel;
import dev.amalgam.ledger.event.ModelRegistered;
import dev.amalgam.registry.LedgerService;
import dev.amalgam.registry.RegistryConfig;
import dev.amalgam.safetensors.DType;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Registration under concurrency and bad bodies (issue 14, items 7, 8, 12): the database's unique
 * constraints never surface as 500s, malformed multipart bodies are 400s, and a folder without
 * weights is not a model.
 */
@QuarkusTest
class RegistrationRacesTest {
    static Path work;

    @Inject
    RegistryConfig config;

    @Inject
    LedgerService ledger;

    @BeforeAll
    static void folder() throws IOException {
        work = Files.createDirectories(Path.of("target/test-models").toAbsolutePath().resolve(UUID.randomUUID().toString()));
    }

    private String admin() {
        return ApiTestSupport.adminToken(config.settings().dataDir());
    }

    private RequestSpecification multipart(Path dir, String name, String version) throws IOException {
        RequestSpecification r = given().auth().oauth2(admin())
                .multiPart("name", name).multiPart("version", version).multiPart("license", "apache-2.0");
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path f : s.filter(Files::isRegularFile).sorted().toList()) {
                r = r.multiPart(dir.relativize(f).toString(), f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        return r;
    }

    /** Runs the calls at the same moment (all released by one latch) and returns their responses. */
    private static List<Response> atOnce(List<Callable<Response>> calls) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(calls.size());
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<Response>> futures = new ArrayList<>();
            for (Callable<Response> c : calls) {
                futures.add(pool.submit(() -> {
                    go.await();
                    return c.call();
                }));
            }
            go.countDown();
            List<Response> out = new ArrayList<>();
            for (Future<Response> f : futures) out.add(f.get());
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void eightClientsRegisteringIdenticalContentGetOneModelAndNoErrors() throws Exception {
        String name = "same-" + UUID.randomUUID().toString().substring(0, 6);
        Path dir = work.resolve(name);
        SampleModel.write(dir, new SampleModel.Spec("llama", 1, 16, 32, 64, 71, DType.BF16), null, 0);
        List<Callable<Response>> calls = new ArrayList<>();
        for (int i = 0; i < 8; i++) calls.add(() -> multipart(dir, name, "1").post("/api/v1/models"));
        List<Response> rs = atOnce(calls);
        long created = rs.stream().filter(r -> r.statusCode() == 201).count();
        assertEquals(1, created, "exactly one registration creates the model");
        for (Response r : rs) {
            assertTrue(r.statusCode() == 201 || r.statusCode() == 200, r.statusCode() + " " + r.asString());
            assertEquals(rs.getFirst().jsonPath().getLong("id"), r.jsonPath().getLong("id"));
        }
        assertEquals(1, registrations(r -> r.rootDigest().equals(rs.getFirst().jsonPath().getString("rootDigest"))),
                "one ledger entry for one registration");
    }

    /** How many model.registered entries match (the other tests share this ledger, so count, do not audit). */
    private long registrations(java.util.function.Predicate<ModelRegistered> match) throws IOException {
        long n = 0;
        for (long seq = 0; seq < ledger.ledger().size(); seq++) {
            if (ledger.ledger().event(seq).orElseThrow().event() instanceof ModelRegistered r && match.test(r)) n++;
        }
        return n;
    }

    @Test
    void sixClientsRegisteringDifferentContentUnderOneNameGetOneModelAndConflicts() throws Exception {
        String name = "clash-" + UUID.randomUUID().toString().substring(0, 6);
        List<Callable<Response>> calls = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Path dir = work.resolve(name + "-" + i);
            SampleModel.write(dir, new SampleModel.Spec("llama", 1, 16, 32, 64, 80 + i, DType.BF16), null, 0);
            calls.add(() -> multipart(dir, name, "1").post("/api/v1/models"));
        }
        List<Response> rs = atOnce(calls);
        assertEquals(1, rs.stream().filter(r -> r.statusCode() == 201).count());
        for (Response r : rs) {
            if (r.statusCode() == 201) continue;
            assertEquals(409, r.statusCode(), r.asString());
            assertTrue(r.contentType().startsWith("application/problem+json"), r.contentType());
            assertTrue(r.jsonPath().getString("detail").contains(name + "@1"), r.asString());
        }
        assertEquals(1, registrations(r -> r.model().equals(name + "@1")), "the losers left no ledger entry");
    }

    @Test
    void malformedOrTruncatedMultipartBodiesAreBadRequests() {
        String boundary = "b0undary";
        String complete = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nx\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"w.safetensors\"; filename=\"w.safetensors\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n0123456789abcdef\r\n--" + boundary + "--\r\n";
        List<String> bodies = List.of(
                complete.substring(0, complete.length() / 2),                 // cut in a part's content
                complete.substring(0, complete.indexOf("\r\n\r\n") - 5),       // cut in the headers
                "no boundary at all",
                "--" + boundary + "\r\nContent-Disposition: form-data\r\n\r\nx\r\n--" + boundary + "--\r\n"); // part without a name
        for (String body : bodies) {
            given().auth().oauth2(admin()).contentType("multipart/form-data; boundary=" + boundary)
                    .body(body.getBytes(StandardCharsets.ISO_8859_1)).post("/api/v1/models")
                    .then().statusCode(400).contentType("application/problem+json");
        }
        given().auth().oauth2(admin()).contentType("multipart/form-data")
                .body("--x\r\n".getBytes(StandardCharsets.ISO_8859_1)).post("/api/v1/models")
                .then().statusCode(400).contentType("application/problem+json");
    }

    @Test
    void aFolderWithoutWeightsIsNotRegistered() {
        given().auth().oauth2(admin()).multiPart("name", "readme-only").multiPart("version", "1")
                .multiPart("license", "mit").multiPart("README.md", "README.md", "# a model\n".getBytes())
                .post("/api/v1/models").then().statusCode(422).contentType("application/problem+json")
                .body("detail", containsString("no weights"))
                .body("detail", containsString("README.md"));
        given().auth().oauth2(admin()).get("/api/v1/models/readme-only@1").then().statusCode(404);
    }
}

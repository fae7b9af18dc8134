package dev.amalgam.registry;

import dev.amalgam.api.ApiTestSupport;
import dev.amalgam.merge.SampleModel;
import dev.amalgam.registry.entity.MergeJob;
import dev.amalgam.safetensors.DType;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The ledger holds every fact the registry relies on: after the whole story (registrations, a merge,
 * its review, a reproduction, gate decisions with signed statements, a release, principals created and
 * revoked), the database is emptied and rebuilt from the ledger as a start-up does, and every API answer
 * about models, merges, decisions, statements, lineage and principals is byte-identical to before.
 */
@QuarkusTest
@TestProfile(RebuildTest.OwnRegistry.class)
class RebuildTest {
    /** A registry of its own: this test empties its database. */
    public static final class OwnRegistry implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("amalgam.data", "target/test-data/rebuild-" + UUID.randomUUID());
        }
    }

    @Inject
    RegistryConfig config;

    @Inject
    PrincipalService principals;

    @Inject
    LedgerReplay replay;

    @Inject
    Bootstrap bootstrap;

    @Inject
    Session session;

    @Test
    void afterLosingTheDatabaseEveryAnswerIsRebuiltByteForByte() throws Exception {
        String admin = ApiTestSupport.adminToken(config.settings().dataDir());
        String submitter = principals.create("sam", EnumSet.of(Role.SUBMITTER), "admin").token();
        String reviewer = principals.create("rita", EnumSet.of(Role.REVIEWER, Role.DEPLOYER), "admin").token();
        principals.create("gone", EnumSet.of(Role.SUBMITTER), "admin");
        principals.revoke("gone");
        Path models = Files.createDirectories(Path.of("target/test-models").toAbsolutePath().resolve("rebuild-" + UUID.randomUUID()));
        SampleModel.write(models.resolve("base"), new SampleModel.Spec("llama", 1, 16, 32, 64, 7, DType.BF16), null, 0);
        SampleModel.write(models.resolve("tuned"), new SampleModel.Spec("llama", 1, 16, 32, 64, 8, DType.BF16), models.resolve("base"), 0.01);
        SampleModel.write(models.resolve("wide"), new SampleModel.Spec("llama", 1, 32, 64, 64, 9, DType.BF16), null, 0);
        register(submitter, models.resolve("base"), "base");
        register(submitter, models.resolve("tuned"), "tuned");
        register(submitter, models.resolve("wide"), "wide");
        String recipe = "merge_method: linear\nmodels:\n  - model: base@1\n    parameters: {weight: 0.3}\n"
                + "  - model: tuned@1\n    parameters: {weight: 0.7}\ndtype: bfloat16\n";
        int merge = given().auth().oauth2(submitter).contentType("application/yaml").body(recipe.getBytes(StandardCharsets.UTF_8))
                .queryParam("name", "blend").queryParam("version", "1").post("/api/v1/merges").then().statusCode(202).extract().path("id");
        assertEquals("succeeded", ApiTestSupport.awaitMerge("/api/v1/merges/" + merge, submitter));
        given().auth().oauth2(reviewer).contentType("application/json").body("{\"decision\":\"approve\",\"comment\":\"checked\"}")
                .post("/api/v1/merges/" + merge + "/review").then().statusCode(200);
        given().auth().oauth2(submitter).post("/api/v1/merges/" + merge + "/reproduce").then().statusCode(200);
        // a merge that fails at run time (its inputs' shapes differ), one cancelled while queued, one still queued
        String mismatched = "merge_method: linear\nmodels:\n  - model: base@1\n    parameters: {weight: 0.5}\n"
                + "  - model: wide@1\n    parameters: {weight: 0.5}\ndtype: bfloat16\n";
        int failed = given().auth().oauth2(submitter).contentType("application/yaml").body(mismatched.getBytes(StandardCharsets.UTF_8))
                .post("/api/v1/merges").then().statusCode(202).extract().path("id");
        assertEquals("failed", ApiTestSupport.awaitMerge("/api/v1/merges/" + failed, submitter));
        long cancelled = queuedJob(recipe, "cancelled");
        given().auth().oauth2(submitter).delete("/api/v1/merges/" + cancelled).then().statusCode(200)
                .body("state", org.hamcrest.Matchers.equalTo("cancelled"));
        long queued = queuedJob(recipe, "later");
        long[] raced = jobsAppendedOutOfOrder(mismatched);
        int denied = given().auth().oauth2(reviewer).queryParam("env", "production").post("/api/v1/models/blend@1/gate")
                .then().statusCode(200).extract().path("decisionId");
        given().auth().oauth2(reviewer).queryParam("env", "dev").post("/api/v1/models/blend@1/releases").then().statusCode(200);
        int allowed = given().auth().oauth2(reviewer).queryParam("env", "dev").post("/api/v1/models/blend@1/gate")
                .then().statusCode(200).extract().path("decisionId");

        List<String> urls = new ArrayList<>(List.of("/api/v1/models", "/api/v1/tokens", "/api/v1/merges", "/api/v1/merges/" + merge,
                "/api/v1/merges/" + failed, "/api/v1/merges/" + cancelled, "/api/v1/merges/" + queued,
                "/api/v1/merges/" + raced[0], "/api/v1/merges/" + raced[1],
                "/api/v1/merges/" + failed + "/review", "/api/v1/merges?offset=1&limit=2", "/api/v1/models?offset=1&limit=2",
                "/api/v1/models/blend@1/archive", "/api/v1/models/base@1/files/config.json",
                "/api/v1/models/base@1/lineage?direction=down", "/api/v1/models/blend@1/lineage?format=dot",
                "/api/v1/models/blend@1/lineage?format=mermaid", "/api/v1/signing-key",
                "/api/v1/merges/" + merge + "/review", "/api/v1/merges/" + merge + "/provenance",
                "/api/v1/decisions/" + denied + "/statement", "/api/v1/decisions/" + allowed + "/statement"));
        for (String m : List.of("base@1", "tuned@1", "wide@1", "blend@1")) {
            for (String part : List.of("", "/lineage", "/manifest", "/signature", "/scan", "/impact")) urls.add("/api/v1/models/" + m + part);
        }
        String rulesBefore = rulesOfAGate(reviewer); // decision allowed + 1
        Map<String, String> before = answers(admin, urls);
        assertEquals("cancelled", given().auth().oauth2(admin).get("/api/v1/merges/" + cancelled).then().extract().path("state"));
        assertEquals("queued", given().auth().oauth2(admin).get("/api/v1/merges/" + queued).then().extract().path("state"));

        emptyTheDatabase();
        assertNotEquals(200, given().auth().oauth2(admin).get("/api/v1/models").statusCode(), "the old admin token is gone with the database");
        replay.replay();
        bootstrap.principals(null); // what a start-up does next: the admin gets a new token (tokens are never in the ledger)
        String newAdmin = ApiTestSupport.adminToken(config.settings().dataDir());
        assertNotEquals(admin, newAdmin);

        Map<String, String> after = answers(newAdmin, urls);
        for (String url : urls) assertEquals(before.get(url), after.get(url), url);
        assertEquals(List.of(), given().auth().oauth2(newAdmin).get("/api/v1/audit").then().statusCode(200)
                .extract().jsonPath().getList("problems", String.class));
        // new rows continue after the restored ids
        int next = given().auth().oauth2(newAdmin).queryParam("env", "dev").post("/api/v1/models/blend@1/gate")
                .then().statusCode(200).extract().path("decisionId");
        assertEquals(allowed + 2, next);
        // the facts the gate relies on (reviews, reproductions, releases, scans) came back: it decides the same
        String rita = given().auth().oauth2(newAdmin).contentType("application/json")
                .body("{\"name\":\"rita2\",\"roles\":[\"deployer\"]}").post("/api/v1/tokens").then().statusCode(201)
                .extract().path("token");
        assertEquals(rulesBefore, rulesOfAGate(rita));
        int nextJob = given().auth().oauth2(submitter(newAdmin)).contentType("application/yaml").body(mismatched.getBytes(StandardCharsets.UTF_8))
                .post("/api/v1/merges").then().statusCode(202).extract().path("id");
        assertEquals(raced[1] + 1, nextJob, "merge job ids continue after the restored ones");
        // what the start after a rebuild does next: the job that was queued when the database was lost runs
        jobs.resumeInterrupted();
        assertEquals("succeeded", ApiTestSupport.awaitMerge("/api/v1/merges/" + queued, newAdmin));
        assertEquals(List.of(), given().auth().oauth2(newAdmin).get("/api/v1/audit").then().statusCode(200)
                .extract().jsonPath().getList("problems", String.class));
    }

    @Inject
    MergeJobService jobs;

    @Inject
    MergeJobService.JobStateWriter states;

    /** A job accepted but not handed to a worker: it stays queued as long as the test needs. */
    private long queuedJob(String recipe, String output) {
        return states.create(recipe, MergeJobService.parse(recipe), output, "1", "sam").id;
    }

    /**
     * Two submissions that raced: ids handed out in one order, ledger entries appended in the other (as two
     * requests at once can leave them). A rebuild into a fresh database must still give each its id.
     */
    @Transactional
    long[] jobsAppendedOutOfOrder(String recipe) {
        var first = newJob(recipe, "race-a");
        var second = newJob(recipe, "race-b");
        session.flush();
        for (var j : List.of(second, first)) {
            var receipt = ledger.append("sam", MergeJobService.JobStateWriter.submitted(j));
            j.ledgerSeq = receipt.seq();
            j.ledgerHash = receipt.entryHash();
        }
        return new long[] {first.id, second.id};
    }

    private MergeJob newJob(String recipe, String output) {
        var j = new MergeJob();
        j.recipe = recipe;
        j.method = "linear";
        j.outputName = output;
        j.outputVersion = "1";
        j.state = "queued";
        j.submittedBy = "sam";
        j.submittedAt = OffsetDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.MICROS);
        session.persist(j);
        return j;
    }

    /** A new submitter (the old tokens went with the database). */
    private String submitter(String admin) {
        return given().auth().oauth2(admin).contentType("application/json")
                .body("{\"name\":\"sue\",\"roles\":[\"submitter\"]}").post("/api/v1/tokens").then().statusCode(201)
                .extract().path("token");
    }

    @Test
    void theLastAdminCannotRevokeItselfAndResetTokenRecoversALostToken() throws Exception {
        String admin = ApiTestSupport.adminToken(config.settings().dataDir());
        given().auth().oauth2(admin).delete("/api/v1/tokens/admin").then().statusCode(409)
                .contentType("application/problem+json").body("detail", org.hamcrest.Matchers.containsString("last admin"))
                .body("detail", org.hamcrest.Matchers.containsString("amalgam admin reset-token"));
        given().auth().oauth2(admin).get("/api/v1/tokens").then().statusCode(200);

        long size = ledgerSize();
        assertEquals(0, dev.amalgam.cli.Amalgam.run("admin", "reset-token", "--data", config.settings().dataDir().toString()));
        bootstrap.principals(null); // the next start applies the request
        String fresh = ApiTestSupport.adminToken(config.settings().dataDir());
        assertNotEquals(admin, fresh);
        given().auth().oauth2(admin).get("/api/v1/tokens").then().statusCode(401);
        given().auth().oauth2(fresh).get("/api/v1/tokens").then().statusCode(200);
        assertEquals("principal.token-reset", given().auth().oauth2(fresh).get("/api/v1/ledger/entries/" + size).then().statusCode(200)
                .extract().path("type"));
        assertEquals(false, Files.exists(config.settings().keysDir().resolve(Bootstrap.RESET_REQUEST)));
    }

    @Inject
    LedgerService ledger;

    private long ledgerSize() {
        return ledger.ledger().size();
    }

    /** Every answer's status, content type and bytes (archives and files are binary). */
    private static Map<String, String> answers(String token, List<String> urls) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String url : urls) {
            var r = given().auth().oauth2(token).urlEncodingEnabled(false).get(url);
            assertEquals(200, r.statusCode(), url + ": " + r.asString());
            out.put(url, r.contentType() + "\n" + java.util.HexFormat.of().formatHex(r.asByteArray()));
        }
        return out;
    }

    /** A production gate's outcome and rules (its decision id and time are new by design). */
    private static String rulesOfAGate(String deployer) {
        var r = given().auth().oauth2(deployer).queryParam("env", "production").post("/api/v1/models/blend@1/gate")
                .then().statusCode(200).extract();
        return r.path("outcome") + " " + r.jsonPath().getList("rules").toString();
    }

    private static void register(String token, Path dir, String name) throws Exception {
        var r = given().auth().oauth2(token).multiPart("name", name).multiPart("version", "1").multiPart("license", "apache-2.0");
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                r = r.multiPart(dir.relativize(f).toString(), f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        r.post("/api/v1/models").then().statusCode(201);
    }

    @Transactional
    void emptyTheDatabase() {
        for (String table : List.of("decision", "lineage_edge", "model_file", "merge_job", "model", "api_principal")) {
            session.createNativeMutationQuery("delete from " + table).executeUpdate();
        }
        // as a lost database comes back: new, its identities starting at 1
        for (String table : List.of("model", "merge_job", "decision")) {
            session.createNativeMutationQuery("alter table " + table + " alter column id restart with 1").executeUpdate();
        }
    }
}

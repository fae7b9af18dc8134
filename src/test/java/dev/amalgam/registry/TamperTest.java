package dev.amalgam.registry;

import dev.amalgam.api.ApiTestSupport;
import dev.amalgam.ledger.Checkpoint;
import dev.amalgam.ledger.LedgerKeys;
import dev.amalgam.merge.SampleModel;
import dev.amalgam.registry.entity.Decision;
import dev.amalgam.registry.entity.MergeJob;
import dev.amalgam.registry.entity.Model;
import dev.amalgam.registry.entity.ModelFile;
import dev.amalgam.safetensors.DType;
import dev.amalgam.storage.BlobStore;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One test per tamper class of issue 14, on a registry of its own (own data directory): each tampers
 * as an attacker with file-system access would, checks it is detected with a clear message (start-up
 * checks, readiness, refused writes, refused reads, the audit), and puts everything back.
 */
@QuarkusTest
@TestProfile(TamperTest.OwnRegistry.class)
class TamperTest {
    /** A fresh data directory, so the tampering never meets other tests' registries. */
    public static final class OwnRegistry implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("amalgam.data", "target/test-data/tamper-" + UUID.randomUUID());
        }
    }

    private static boolean told;
    private static String merged;
    private static int mergeId;
    private static long gateId;

    @Inject
    RegistryConfig config;

    @Inject
    LedgerService ledger;

    @Inject
    LedgerGuard guard;

    @Inject
    PrincipalService principals;

    @Inject
    Session session;

    String admin;

    /** The story once: two models, a merge, its review, a gate decision with its statement, a release. */
    @BeforeEach
    void story() throws Exception {
        admin = ApiTestSupport.adminToken(config.settings().dataDir());
        if (told) return;
        String submitter = ApiTestSupport.tokenWithRole(principals, Role.SUBMITTER);
        String reviewer = ApiTestSupport.tokenWithRole(principals, Role.REVIEWER);
        Path models = Files.createDirectories(Path.of("target/test-models").toAbsolutePath().resolve("tamper-" + UUID.randomUUID()));
        var spec = new SampleModel.Spec("llama", 1, 16, 32, 64, 5, DType.BF16);
        SampleModel.write(models.resolve("base"), spec, null, 0);
        SampleModel.write(models.resolve("tuned"), new SampleModel.Spec("llama", 1, 16, 32, 64, 6, DType.BF16), models.resolve("base"), 0.01);
        register(submitter, models.resolve("base"), "base");
        register(submitter, models.resolve("tuned"), "tuned");
        String recipe = "merge_method: linear\nmodels:\n  - model: base@1\n    parameters: {weight: 0.5}\n"
                + "  - model: tuned@1\n    parameters: {weight: 0.5}\ndtype: bfloat16\n";
        mergeId = given().auth().oauth2(submitter).contentType("application/yaml").body(recipe.getBytes(StandardCharsets.UTF_8))
                .queryParam("name", "blend").queryParam("version", "1").post("/api/v1/merges").then().statusCode(202).extract().path("id");
        assertEquals("succeeded", ApiTestSupport.awaitMerge("/api/v1/merges/" + mergeId, submitter));
        given().auth().oauth2(reviewer).contentType("application/json").body("{\"decision\":\"approve\",\"comment\":\"ok\"}")
                .post("/api/v1/merges/" + mergeId + "/review").then().statusCode(200);
        merged = "blend@1";
        given().auth().oauth2(admin).queryParam("env", "dev").post("/api/v1/models/" + merged + "/releases").then().statusCode(200);
        gateId = ((Number) given().auth().oauth2(admin).queryParam("env", "dev").post("/api/v1/models/" + merged + "/gate")
                .then().statusCode(200).extract().path("decisionId")).longValue();
        auditIsClean();
        told = true;
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

    private List<String> audit() {
        return given().auth().oauth2(admin).get("/api/v1/audit").then().statusCode(200).extract().jsonPath().getList("problems", String.class);
    }

    private void auditIsClean() {
        assertEquals(List.of(), audit());
    }

    private static void assertMentions(List<String> problems, String text) {
        assertTrue(problems.stream().anyMatch(p -> p.contains(text)), "no problem mentions '" + text + "': " + problems);
    }

    private LedgerSurgery surgery() throws Exception {
        return new LedgerSurgery(config.settings().ledgerDir());
    }

    /** Writes are refused (503, naming the problem) and readiness is DOWN. */
    private void writesRefusedAndNotReady(String text) {
        given().auth().oauth2(admin).contentType("application/json").body("{\"name\":\"x" + UUID.randomUUID().toString().substring(0, 6)
                + "\",\"roles\":[\"submitter\"]}").post("/api/v1/tokens").then().statusCode(503)
                .contentType("application/problem+json").body("detail", containsString("refuses writes")).body("detail", containsString(text));
        given().get("/q/health/ready").then().statusCode(503).body(containsString(text));
    }

    private void restore(LedgerSurgery s, String head) throws Exception {
        s.moveTo(head);
        ledger.reload();
        assertEquals(List.of(), guard.problems());
        given().get("/q/health/ready").then().statusCode(200);
        auditIsClean();
    }

    @Test
    void truncatingTheLedgerIsDetectedAtStartUpAndNoSequenceNumberIsReused() throws Exception {
        try (LedgerSurgery s = surgery()) {
            String head = s.head();
            long size = ledger.ledger().size();
            try {
                s.moveTo(s.back(1));
                ledger.reload(); // what a restart does
                assertMentions(guard.problems(), "the ledger is behind the database: decision " + gateId + " was recorded as ledger entry "
                        + (size - 1) + " but the ledger holds only " + (size - 1) + " entries");
                writesRefusedAndNotReady("the ledger is behind");
                assertEquals(size - 1, ledger.ledger().size(), "nothing was appended: entry " + (size - 1) + " is not handed out again");
                assertMentions(audit(), "the ledger is behind its witness: the witness cosigned a tree of " + size);
            } finally {
                restore(s, head);
            }
        }
    }

    @Test
    void rollingBackSeveralEntriesIsDetectedByTheDatabaseAndTheWitness() throws Exception {
        try (LedgerSurgery s = surgery()) {
            String head = s.head();
            try {
                s.moveTo(s.back(3));
                ledger.reload();
                assertMentions(guard.problems(), "the ledger is behind its witness");
                assertMentions(guard.problems(), "truncated or rolled back");
                writesRefusedAndNotReady("rolled back");
            } finally {
                restore(s, head);
            }
        }
    }

    @Test
    void rewritingAnEntryIsDetected() throws Exception {
        try (LedgerSurgery s = surgery()) {
            String head = s.head();
            try {
                long seq = 0;
                while (!new String(s.read(LedgerSurgery.path(seq)), StandardCharsets.UTF_8).contains("\"type\":\"model.registered\"")) seq++;
                String entry = new String(s.read(LedgerSurgery.path(seq)), StandardCharsets.UTF_8);
                String forged = entry.replace("\"license\":\"Apache-2.0\"", "\"license\":\"MIT\"");
                assertNotEquals(entry, forged);
                s.commit(Map.of(LedgerSurgery.path(seq), forged.getBytes(StandardCharsets.UTF_8)));
                ledger.reload();
                assertMentions(guard.problems(), "the ledger forked");
                writesRefusedAndNotReady("rewritten or reordered");
                List<String> problems = audit();
                assertMentions(problems, "does not match the entries (history rewritten?)");
                assertMentions(problems, "hash chain broken");
            } finally {
                restore(s, head);
            }
        }
    }

    @Test
    void reorderingEntriesIsDetected() throws Exception {
        try (LedgerSurgery s = surgery()) {
            String head = s.head();
            try {
                byte[] e1 = s.read(LedgerSurgery.path(1));
                byte[] e2 = s.read(LedgerSurgery.path(2));
                s.commit(Map.of(LedgerSurgery.path(1), e2, LedgerSurgery.path(2), e1));
                ledger.reload();
                List<String> problems = audit();
                assertMentions(problems, "entry 1: its seq field says 2");
                assertMentions(problems, "entry 2: its seq field says 1");
            } finally {
                restore(s, head);
            }
        }
    }

    @Test
    void deletingAnEntryIsDetected() throws Exception {
        try (LedgerSurgery s = surgery()) {
            String head = s.head();
            try {
                Map<String, byte[]> delete = new HashMap<>();
                delete.put(LedgerSurgery.path(2), null);
                s.commit(delete);
                ledger.reload();
                assertMentions(guard.problems(), "the ledger is behind");
                List<String> problems = audit();
                assertMentions(problems, "ledger has 2 entries but");
            } finally {
                restore(s, head);
            }
        }
    }

    @Test
    void aForgedCheckpointIsDetected() throws Exception {
        try (LedgerSurgery s = surgery()) {
            String head = s.head();
            try {
                // a checkpoint "signed" by a key of the same name that is not the ledger's
                var forger = LedgerKeys.loadOrCreate(Files.createTempDirectory("forger"), "amalgam/ledger");
                Checkpoint cp = new Checkpoint("amalgam/ledger", ledger.ledger().size(), ledger.ledger().root(ledger.ledger().size()));
                s.commit(Map.of("checkpoint", cp.sign(forger.name(), forger.privateKey(), forger.publicKey32()).getBytes(StandardCharsets.UTF_8)));
                ledger.reload();
                List<String> problems = audit();
                assertMentions(problems, "checkpoint signature by amalgam/ledger does not verify");
            } finally {
                restore(s, head);
            }
        }
    }

    @Test
    void aForgedWitnessCosignatureIsDetected() throws Exception {
        Path latest = config.settings().dataDir().resolve("witness").resolve("latest");
        String original = Files.readString(latest);
        try (LedgerSurgery s = surgery()) {
            String head = s.head();
            try {
                String line = original.lines().filter(l -> l.startsWith("\u2014 amalgam/witness ")).findFirst().orElseThrow();
                byte[] blob = java.util.Base64.getDecoder().decode(line.substring(line.lastIndexOf(' ') + 1));
                blob[20] ^= 0x40;
                Files.writeString(latest, original.replace(line, "\u2014 amalgam/witness " + java.util.Base64.getEncoder().encodeToString(blob)));
                ledger.reload();
                assertMentions(guard.problems(), "no valid cosignature by witness amalgam/witness");
                writesRefusedAndNotReady("cosignature");
            } finally {
                Files.writeString(latest, original);
                restore(s, head);
            }
        }
    }

    @Test
    void everyBlobKindIsAuditedAndNeverServedTampered() throws Exception {
        Model m = model(merged);
        MergeJob j = find(MergeJob.class, (long) mergeId);
        Decision d = find(Decision.class, gateId);
        ModelFile config = files(m.id).stream().filter(f -> f.path.equals("config.json")).findFirst().orElseThrow();
        tamperedBlob(config.blobDigest, "/api/v1/models/" + merged + "/files/config.json", "stored file config.json");
        tamperedBlob(m.scanReportDigest, "/api/v1/models/" + merged + "/scan", "scan report");
        tamperedBlob(m.signatureDigest, "/api/v1/models/" + merged + "/signature", "registry signature");
        tamperedBlob(j.provenanceDigest, "/api/v1/merges/" + mergeId + "/provenance", "provenance statement");
        tamperedBlob(d.statementDigest, "/api/v1/decisions/" + gateId + "/statement", "signed statement");
        tamperedBlob(config.blobDigest, "/api/v1/models/" + merged + "/archive", "stored file config.json");
    }

    private void tamperedBlob(String digest, String url, String auditText) throws Exception {
        Path blob = new BlobStore(this.config.settings().blobsDir()).path(digest);
        byte[] original = Files.readAllBytes(blob);
        try {
            byte[] forged = original.clone();
            forged[forged.length / 2] ^= 1;
            blob.toFile().setWritable(true);
            Files.write(blob, forged);
            given().auth().oauth2(admin).get(url).then().statusCode(500).contentType("application/problem+json")
                    .body("detail", containsString("failed its integrity check and was not served"))
                    .body("detail", containsString("error id"));
            List<String> problems = audit();
            assertMentions(problems, digest);
            assertMentions(problems, auditText);
        } finally {
            Files.write(blob, original);
        }
        auditIsClean();
    }

    @Test
    void anEditedOrDeletedDatabaseRowIsDetected() throws Exception {
        Model m = model(merged);
        String license = m.license;
        setLicense(m.id, "MIT");
        try {
            assertMentions(audit(), "license in the database is 'MIT', the ledger recorded '" + license + "'");
        } finally {
            setLicense(m.id, license);
        }
        Decision saved = find(Decision.class, gateId);
        long seq = saved.ledgerSeq;
        deleteDecision(gateId);
        try {
            assertMentions(audit(), "ledger entry " + seq + " (policy.decided): its decision is missing from the database");
        } finally {
            reinsert(saved);
        }
        auditIsClean();
    }

    @Inject
    MergeJobService.JobStateWriter states;

    @Test
    void anEditedMergeJobIsDetected() throws Exception {
        String recipe = "merge_method: linear\nmodels:\n  - model: base@1\n    parameters: {weight: 0.5}\n"
                + "  - model: tuned@1\n    parameters: {weight: 0.5}\n";
        long id = states.create(recipe, MergeJobService.parse(recipe), "never", "1", "admin").id; // queued, no worker
        given().auth().oauth2(admin).delete("/api/v1/merges/" + id).then().statusCode(200).body("state", equalTo("cancelled"));
        auditIsClean();
        editJob(id, "failed", "it broke", recipe);
        try {
            List<String> problems = audit();
            assertMentions(problems, "(merge.cancelled): merge " + id + " state in the database is 'failed', the ledger recorded 'cancelled'");
            assertMentions(problems, "merge " + id + " failure reason in the database is 'it broke'");
        } finally {
            editJob(id, "cancelled", "cancelled before it started", recipe);
        }
        editJob(id, "cancelled", "cancelled before it started", recipe + "# edited\n");
        try {
            assertMentions(audit(), "(merge.submitted): merge " + id + " recipe in the database is '" + recipe + "# edited");
        } finally {
            editJob(id, "cancelled", "cancelled before it started", recipe);
        }
        auditIsClean();
    }

    @Transactional
    void editJob(long id, String state, String reason, String recipe) {
        session.createMutationQuery("update MergeJob set state = :s, failureReason = :r, recipe = :y where id = :id")
                .setParameter("s", state).setParameter("r", reason).setParameter("y", recipe).setParameter("id", id).executeUpdate();
    }

    @Transactional
    Model model(String ref) {
        return session.createSelectionQuery("from Model where name || '@' || version = :r", Model.class).setParameter("r", ref).getSingleResult();
    }

    @Transactional
    <T> T find(Class<T> type, long id) {
        return session.find(type, id);
    }

    @Transactional
    List<ModelFile> files(long modelId) {
        return session.createSelectionQuery("from ModelFile where modelId = :id", ModelFile.class).setParameter("id", modelId).getResultList();
    }

    @Transactional
    void setLicense(long id, String license) {
        session.createMutationQuery("update Model set license = :l where id = :id").setParameter("l", license).setParameter("id", id).executeUpdate();
    }

    @Transactional
    void deleteDecision(long id) {
        session.createMutationQuery("delete from Decision where id = :id").setParameter("id", id).executeUpdate();
    }

    @Transactional
    void reinsert(Decision d) {
        Decision copy = new Decision();
        copy.kind = d.kind;
        copy.modelId = d.modelId;
        copy.mergeJobId = d.mergeJobId;
        copy.environment = d.environment;
        copy.outcome = d.outcome;
        copy.actor = d.actor;
        copy.reason = d.reason;
        copy.policyDigest = d.policyDigest;
        copy.statementDigest = d.statementDigest;
        copy.decidedAt = d.decidedAt;
        copy.ledgerSeq = d.ledgerSeq;
        copy.ledgerHash = d.ledgerHash;
        session.persist(copy);
    }
}

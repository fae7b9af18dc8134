package dev.amalgam.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.ledger.CanonicalJson;
import dev.amalgam.ledger.MerkleTree;
import dev.amalgam.merge.SampleModel;
import dev.amalgam.registry.RegistryConfig;
import dev.amalgam.safetensors.DType;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Registrations land in the ledger with proofs a client can check; the audit catches tampering. */
@QuarkusTest
class LedgerAndAuditTest {
    @Inject
    RegistryConfig config;

    @Inject
    Session session;

    @Test
    void registrationIsInTheLedgerWithAVerifiableInclusionProofAndTheAuditCatchesTampering() throws Exception {
        String admin = ApiTestSupport.adminToken(config.settings().dataDir());
        String name = "ledgered-" + UUID.randomUUID().toString().substring(0, 6);
        Path dir = Files.createDirectories(Path.of("target/test-models").toAbsolutePath().resolve(name));
        SampleModel.write(dir, new SampleModel.Spec("llama", 1, 16, 32, 64, 77, DType.BF16), null, 0);
        var r = given().auth().oauth2(admin).multiPart("name", name).multiPart("version", "1").multiPart("license", "mit");
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) r = r.multiPart(dir.relativize(f).toString(), f.getFileName().toString(), Files.readAllBytes(f));
        }
        var model = r.post("/api/v1/models").then().statusCode(201).extract();
        int seq = model.path("ledgerSeq");
        String digest = model.path("rootDigest");

        String entryJson = given().auth().oauth2(admin).get("/api/v1/ledger/entries/" + seq).then().statusCode(200)
                .body("type", equalTo("model.registered"))
                .body("payload.rootDigest", equalTo(digest)).extract().asString();
        String checkpoint = given().auth().oauth2(admin).get("/api/v1/ledger/checkpoint").then().statusCode(200)
                .extract().asString();
        String[] lines = checkpoint.split("\n");
        long size = Long.parseLong(lines[1]);
        byte[] root = Base64.getDecoder().decode(lines[2]);
        String proofText = given().auth().oauth2(admin).queryParam("size", size).get("/api/v1/ledger/entries/" + seq + "/proof")
                .then().statusCode(200).body(startsWith("c2sp.org/tlog-proof@v1")).extract().asString();
        List<byte[]> proof = new ArrayList<>();
        proofText.lines().skip(2).takeWhile(x -> !x.isEmpty()).forEach(l -> proof.add(Base64.getDecoder().decode(l)));
        JsonNode entry = new ObjectMapper().readTree(entryJson);
        assertTrue(MerkleTree.verifyInclusion(seq, size, MerkleTree.leafHash(CanonicalJson.bytes(entry)), proof, root),
                "the entry is provably in the signed checkpoint's tree");
        given().auth().oauth2(admin).queryParam("from", 1).queryParam("to", size).get("/api/v1/ledger/consistency")
                .then().statusCode(200).body("to", equalTo((int) size));

        var before = given().auth().oauth2(admin).get("/api/v1/audit").then().statusCode(200).extract();
        List<String> problems = before.path("problems");
        assertFalse(problems.stream().anyMatch(p -> p.contains(name)), problems.toString());

        // tamper: flip a byte of one of this model's blobs
        String weights = dev.amalgam.provenance.ModelHasher.digest(dir.resolve("model-00001-of-00001.safetensors"), 0,
                Files.size(dir.resolve("model-00001-of-00001.safetensors")));
        Path blob = config.settings().blobsDir().resolve("sha256").resolve(weights.substring(0, 2)).resolve(weights.substring(2, 4)).resolve(weights);
        byte[] bytes = Files.readAllBytes(blob);
        bytes[100] ^= 1;
        Files.write(blob, bytes);
        deleteFileRow(name, "config.json");
        List<String> after = given().auth().oauth2(admin).get("/api/v1/audit").then().statusCode(200)
                .body("clean", equalTo(false)).extract().path("problems");
        assertTrue(after.stream().anyMatch(p -> p.contains(name) && p.contains("config.json")), after.toString());
        given().auth().oauth2(ApiTestSupport.tokenWithRole(
                io.quarkus.arc.Arc.container().instance(dev.amalgam.registry.PrincipalService.class).get(),
                dev.amalgam.registry.Role.READER)).get("/api/v1/audit").then().statusCode(403);
    }

    @Transactional
    void deleteFileRow(String model, String path) {
        session.createMutationQuery("delete from ModelFile where path = :p and modelId = (select id from Model where name = :n)")
                .setParameter("p", path).setParameter("n", model).executeUpdate();
    }
}

package dev.amalgam.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.TestResources;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every transparency-dev/merkle vector in src/test/resources/vectors/merkle: happy paths verify, wantErr ones fail. */
class MerkleVectorsTest {
    static final Path MERKLE = TestResources.vectors("merkle");
    static final ObjectMapper JSON = new ObjectMapper();

    static List<Path> vectors(String kind) throws Exception {
        Path dir = MERKLE.resolve(kind);
        assertTrue(Files.isDirectory(dir), "test vectors missing: " + dir);
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
    }

    static byte[] b64(JsonNode n) {
        return n == null || n.isNull() ? null : Base64.getDecoder().decode(n.asText());
    }

    static List<byte[]> proof(JsonNode n) {
        List<byte[]> out = new ArrayList<>();
        if (n != null && !n.isNull()) n.forEach(x -> out.add(b64(x)));
        return out;
    }

    @TestFactory
    Stream<DynamicTest> inclusion() throws Exception {
        List<Path> files = vectors("inclusion");
        assertTrue(files.size() > 20, "expected the inclusion vectors");
        return files.stream().map(f -> DynamicTest.dynamicTest(MERKLE.relativize(f).toString(), () -> {
            JsonNode v = JSON.readTree(f.toFile());
            boolean ok = MerkleTree.verifyInclusion(v.get("leafIdx").asLong(), v.get("treeSize").asLong(),
                    b64(v.get("leafHash")), proof(v.get("proof")), b64(v.get("root")));
            assertEquals(!v.get("wantErr").asBoolean(), ok, v.get("desc").asText());
        }));
    }

    @TestFactory
    Stream<DynamicTest> consistency() throws Exception {
        List<Path> files = vectors("consistency");
        assertTrue(files.size() > 20, "expected the consistency vectors");
        return files.stream().map(f -> DynamicTest.dynamicTest(MERKLE.relativize(f).toString(), () -> {
            JsonNode v = JSON.readTree(f.toFile());
            boolean ok = MerkleTree.verifyConsistency(v.get("size1").asLong(), v.get("size2").asLong(),
                    b64(v.get("root1")), b64(v.get("root2")), proof(v.get("proof")));
            assertEquals(!v.get("wantErr").asBoolean(), ok, v.get("desc").asText());
        }));
    }

    /** Our own proofs, for every index and size pair up to 20 leaves, verify with the RFC algorithms. */
    @Test
    void ourProofsVerify() {
        List<byte[]> leaves = new ArrayList<>();
        for (int i = 0; i < 20; i++) leaves.add(MerkleTree.leafHash(("entry " + i).getBytes(StandardCharsets.UTF_8)));
        for (int n = 1; n <= 20; n++) {
            byte[] root = MerkleTree.root(leaves.subList(0, n));
            for (int i = 0; i < n; i++) {
                assertTrue(MerkleTree.verifyInclusion(i, n, leaves.get(i), MerkleTree.inclusionProof(leaves, i, n), root), i + "/" + n);
            }
            for (int m = 1; m <= n; m++) {
                assertTrue(MerkleTree.verifyConsistency(m, n, MerkleTree.root(leaves.subList(0, m)), root,
                        MerkleTree.consistencyProof(leaves, m, n)), m + "->" + n);
            }
        }
    }
}

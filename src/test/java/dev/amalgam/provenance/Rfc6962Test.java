package dev.amalgam.provenance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.TestResources;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The transparency-log inclusion check against every transparency-dev/merkle inclusion vector. */
class Rfc6962Test {
    private static final Path DIR = TestResources.vectors("merkle").resolve("inclusion");
    private static final ObjectMapper JSON = new ObjectMapper();

    private static byte[] b64(JsonNode n) {
        return n == null || n.isNull() ? null : Base64.getDecoder().decode(n.asText());
    }

    @TestFactory
    Stream<DynamicTest> inclusionVectors() throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.walk(DIR)) {
            files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        assertTrue(files.size() > 20, "expected the inclusion vectors");
        return files.stream().map(f -> DynamicTest.dynamicTest(DIR.relativize(f).toString(), () -> {
            JsonNode v = JSON.readTree(f.toFile());
            List<byte[]> proof = new ArrayList<>();
            if (v.get("proof") != null && !v.get("proof").isNull()) v.get("proof").forEach(x -> proof.add(b64(x)));
            boolean ok = Rfc6962.verifyInclusion(v.get("leafIdx").asLong(), v.get("treeSize").asLong(),
                    b64(v.get("leafHash")), proof, b64(v.get("root")));
            assertEquals(!v.get("wantErr").asBoolean(), ok, v.get("desc").asText());
        }));
    }
}

package dev.amalgam.ledger.event;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.ledger.CanonicalJson;
import dev.amalgam.ledger.Checkpoint;
import dev.amalgam.ledger.MerkleTree;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The ledger format as the untyped writers produced it (v1, before the typed events): 53 entries of a
 * real compliance workflow (every event type), with the signed checkpoint over them. Every entry must
 * still decode, and re-encoding the decoded event must give exactly the stored bytes.
 */
class LedgerV1GoldenTest {
    private static final Path DIR = Path.of("src/test/resources/ledger/v1");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyV1EntryDecodesAndReencodesToTheSameBytes() throws IOException {
        Set<String> types = new HashSet<>();
        long seq = 0;
        for (byte[] bytes : entries()) {
            JsonNode n = JSON.readTree(bytes);
            LedgerEntry e = EventCodec.decodeEntry(n);
            assertEquals(seq++, e.seq());
            assertEquals(n.get("type").asText(), e.type());
            types.add(e.type());
            ObjectNode again = JSON.createObjectNode();
            again.put("seq", e.seq()).put("type", e.type()).put("timestamp", e.timestamp()).put("actor", e.actor())
                    .put("prev", e.prev());
            again.set("payload", EventCodec.payload(e.event()));
            assertArrayEquals(bytes, CanonicalJson.bytes(again), "entry " + e.seq() + " (" + e.type() + ")");
        }
        // every type the v1 writers had; types added since (model.reviewed: intake reviews) are not in it
        java.util.Set<String> v1Types = EventCodec.types().stream().map(EventCodec::typeName)
                .filter(t -> !t.equals("model.reviewed")).collect(java.util.stream.Collectors.toSet());
        assertEquals(v1Types, types, "the fixture holds every event type of v1");
    }

    @Test
    void theFixtureIsTheSignedLedgerUnchanged() throws Exception {
        List<byte[]> leaves = new ArrayList<>();
        for (byte[] b : entries()) leaves.add(MerkleTree.leafHash(b));
        PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(Base64.getMimeDecoder()
                .decode(Files.readString(DIR.resolve("ledger-checkpoint-key.pub.pem")).replaceAll("-----[A-Z ]+-----", "").trim())));
        byte[] enc = key.getEncoded();
        Checkpoint cp = Checkpoint.verify(Files.readString(DIR.resolve("checkpoint")), "amalgam/ledger", key,
                Arrays.copyOfRange(enc, enc.length - 32, enc.length));
        assertEquals(leaves.size(), cp.size());
        assertArrayEquals(MerkleTree.root(leaves), cp.root());
    }

    @Test
    void decodedEventsCarryTheValuesTheWritersPut() throws IOException {
        List<byte[]> all = entries();
        LedgerEntry first = EventCodec.decodeEntry(JSON.readTree(all.getFirst()));
        ModelRegistered r = (ModelRegistered) first.event();
        assertEquals("0".repeat(64), first.prev());
        assertEquals("source", r.origin());
        assertEquals(JSON.readTree(all.getFirst()).at("/payload/files").size(), r.files().size());
        for (byte[] b : all) {
            if (EventCodec.decodeEntry(JSON.readTree(b)).event() instanceof MergeCompleted c) {
                assertEquals(JSON.readTree(b).at("/payload/seed").asLong(), c.seed());
                assertEquals(JSON.readTree(b).at("/payload/inputs").size(), c.inputs().size());
                return;
            }
        }
        throw new AssertionError("no merge.completed entry in the fixture");
    }

    static List<byte[]> entries() throws IOException {
        List<byte[]> out = new ArrayList<>();
        for (String line : Files.readAllLines(DIR.resolve("entries.jsonl"), StandardCharsets.UTF_8)) {
            if (!line.isEmpty()) out.add(line.getBytes(StandardCharsets.UTF_8));
        }
        return out;
    }
}

package dev.amalgam.ledger.event;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The codec's round trip, its defaults for old entries, and its refusals of malformed payloads. */
class EventCodecTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyEventTypeRoundTrips() {
        List<LedgerEvent> events = List.of(
                new ModelRegistered("a@1", "sha256:aa", "merge", "MIT", "clean", "passed", "verified", "k1",
                        "sha256:bb", "pending-review", "cc", List.of(new ModelRegistered.File("x.json", "dd", 12, "json")), 4L,
                        "2026-12-02T10:00:00.123456Z"),
                new MergeCompleted(7, "out", "1", "ties", "merge_method: ties\n", Long.MAX_VALUE, "0.1", "sha256:ee",
                        List.of(new MergeCompleted.Input("a@1", "sha256:aa", "MIT", "base")), "sha256:ff", "t1", "t2", "t3"),
                new MergeSubmitted(7, "out", "1", "ties", "merge_method: ties\n", null, "t0"),
                new MergeFailed(8, "model 'a@1': gone", 4200L, "t1", "t2"),
                new MergeCancelled(9, "cancelled before it started", null, null, "t3"),
                new MergeReviewed(7, "sha256:ee", "reject", "no", 9L, "t4"),
                new ModelReviewed("a@1", "sha256:aa", "approve", "", 12L, "t10"),
                new PolicyDecided("a@1", "sha256:aa", "prod", "deny", "sha256:11", "",
                        List.of(new RuleOutcome("r", "license", "enforce", "fail", "m", null)), 10L, "t5", List.of("why"), "sha256:22", "MIT"),
                new ModelReleased("a@1", "sha256:aa", "dev", "released", "sha256:11", "", List.of(), null, null, null, null, null),
                new MergeReproduced(7, "sha256:ee", "sha256:ee", true, "0.1", 11, "t6"),
                new PrincipalCreated("alice", "submitter,reviewer", "admin", "t7"),
                new PrincipalRevoked("alice", "t8"),
                new PrincipalTokenReset("admin", "requested", "t9"),
                new ModelEvaluated("a@1", "sha256:aa", "wiki", "sha256:33", "sha256:44", "{\"perplexity\":12.5}", 3L, "t11"));
        assertEquals(EventCodec.types().size(), events.size(), "one sample per event type");
        for (LedgerEvent e : events) {
            assertEquals(e, EventCodec.decode(EventCodec.typeName(e), EventCodec.payload(e)));
        }
    }

    @Test
    void optionalFieldsThatAreNullAreLeftOutOfThePayload() {
        var p = EventCodec.payload(new ModelReleased("a@1", "sha256:aa", "dev", "released", "sha256:11", "", List.of(),
                null, null, null, null, null));
        assertTrue(!p.has("id") && !p.has("decidedAt") && !p.has("reasons"), p.toString());
        assertTrue(p.has("statement"), "fields of v1 are always written, null or not");
    }

    @Test
    void absentFieldsOfOldRegistrationsTakeTheirDefaults() throws IOException {
        ModelRegistered r = (ModelRegistered) EventCodec.decode("model.registered",
                JSON.readTree("{\"model\":\"a@1\",\"rootDigest\":\"sha256:aa\",\"license\":\"MIT\"}"));
        assertEquals("source", r.origin());
        assertEquals("registered", r.status());
        assertEquals("missing", r.publisherSignature());
        assertEquals(List.of(), r.files());
    }

    @Test
    void anUnknownTypeIsRefusedWithTheKnownOnesListed() {
        var e = assertThrows(LedgerFormatException.class, () -> EventCodec.decode("model.deleted", JSON.createObjectNode()));
        assertTrue(e.getMessage().contains("model.deleted") && e.getMessage().contains("model.registered"), e.getMessage());
    }

    @Test
    void anUnknownFieldIsRefused() throws IOException {
        var e = assertThrows(LedgerFormatException.class, () -> EventCodec.decode("merge.reviewed",
                JSON.readTree("{\"merge\":1,\"output\":\"o\",\"decision\":\"approve\",\"comment\":\"\",\"extra\":1}")));
        assertTrue(e.getMessage().contains("extra"), e.getMessage());
    }

    @Test
    void aMissingNumberIsRefusedNamingTheField() throws IOException {
        var e = assertThrows(LedgerFormatException.class, () -> EventCodec.decode("merge.reviewed",
                JSON.readTree("{\"output\":\"o\",\"decision\":\"approve\",\"comment\":\"\"}")));
        assertTrue(e.getMessage().contains("merge.reviewed.merge"), e.getMessage());
    }

    @Test
    void aValueOfTheWrongJsonTypeIsRefusedNamingThePath() throws IOException {
        var e = assertThrows(LedgerFormatException.class, () -> EventCodec.decode("model.registered",
                JSON.readTree("{\"model\":\"a@1\",\"files\":[{\"path\":\"p\",\"sha256\":\"d\",\"size\":\"12\"}]}")));
        assertTrue(e.getMessage().contains("model.registered.files[0].size"), e.getMessage());
        e = assertThrows(LedgerFormatException.class, () -> EventCodec.decode("model.registered", JSON.readTree("{\"model\":5}")));
        assertTrue(e.getMessage().contains("model.registered.model must be text"), e.getMessage());
        e = assertThrows(LedgerFormatException.class, () -> EventCodec.decode("merge.reviewed", JSON.readTree("[]")));
        assertTrue(e.getMessage().contains("JSON object"), e.getMessage());
    }

    @Test
    void anEntryWithoutItsEnvelopeIsRefused() throws IOException {
        JsonNode n = JSON.readTree("{\"seq\":0,\"type\":\"merge.reviewed\",\"actor\":\"a\",\"payload\":{},\"prev\":\"0\"}");
        var e = assertThrows(LedgerFormatException.class, () -> EventCodec.decodeEntry(n));
        assertTrue(e.getMessage().contains("timestamp"), e.getMessage());
        JsonNode fractional = JSON.readTree("{\"seq\":1.5,\"type\":\"t\",\"timestamp\":\"t\",\"actor\":\"a\",\"payload\":{},\"prev\":\"0\"}");
        assertThrows(LedgerFormatException.class, () -> EventCodec.decodeEntry(fractional));
    }
}

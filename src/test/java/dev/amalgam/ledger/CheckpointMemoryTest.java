package dev.amalgam.ledger;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The client's memory of the last checkpoint it verified: growth needs a proof; shrinking, forks and key changes are refused. */
class CheckpointMemoryTest {
    @TempDir
    Path tmp;

    private Ledger open(String dir, String keys) throws Exception {
        return Ledger.open(tmp.resolve(dir), LedgerKeys.loadOrCreate(tmp.resolve(keys), "amalgam.test/ledger"), "amalgam.test/ledger");
    }

    private static void append(Ledger l, String v) throws Exception {
        l.append("test.event", "alice", JsonNodeFactory.instance.objectNode().put("v", v));
    }

    private static CheckpointMemory.Proofs proofs(Ledger l) {
        return (from, to) -> l.consistencyProof(from, to).stream().map(java.util.Base64.getDecoder()::decode).toList();
    }

    @Test
    void firstContactIsRememberedAndGrowthIsAcceptedWithAProof() throws Exception {
        CheckpointMemory memory = new CheckpointMemory(tmp.resolve("memory"));
        try (Ledger l = open("a.git", "keys")) {
            append(l, "1");
            append(l, "2");
            assertEquals(0, memory.verify("http://h:1", l.verifierKey(), l.checkpoint().orElseThrow(), proofs(l)).previousSize());
            append(l, "3");
            var v = memory.verify("http://h:1", l.verifierKey(), l.checkpoint().orElseThrow(), proofs(l));
            assertEquals(2, v.previousSize());
            assertEquals(3, v.checkpoint().size());
        }
    }

    @Test
    void aSmallerTreeIsARollBack() throws Exception {
        CheckpointMemory memory = new CheckpointMemory(tmp.resolve("memory"));
        try (Ledger l = open("a.git", "keys")) {
            append(l, "1");
            String small = l.checkpoint().orElseThrow();
            append(l, "2");
            memory.verify("http://h:1", l.verifierKey(), l.checkpoint().orElseThrow(), proofs(l));
            var e = assertThrows(CheckpointMemory.Rejected.class, () -> memory.verify("http://h:1", l.verifierKey(), small, proofs(l)));
            assertTrue(e.getMessage().contains("rolled back or truncated: it now has 1 entries, this client verified 2"), e.getMessage());
        }
    }

    @Test
    void anotherHistoryIsAFork() throws Exception {
        CheckpointMemory memory = new CheckpointMemory(tmp.resolve("memory"));
        try (Ledger a = open("a.git", "keys"); Ledger b = open("b.git", "keys")) {
            append(a, "1");
            append(b, "other");
            memory.verify("http://h:1", a.verifierKey(), a.checkpoint().orElseThrow(), proofs(a));
            var same = assertThrows(CheckpointMemory.Rejected.class,
                    () -> memory.verify("http://h:1", b.verifierKey(), b.checkpoint().orElseThrow(), proofs(b)));
            assertTrue(same.getMessage().contains("forked"), same.getMessage());
            append(b, "more");
            var grown = assertThrows(CheckpointMemory.Rejected.class,
                    () -> memory.verify("http://h:1", b.verifierKey(), b.checkpoint().orElseThrow(), proofs(b)));
            assertTrue(grown.getMessage().contains("consistency proof fails"), grown.getMessage());
        }
    }

    @Test
    void aChangedKeyOrABadSignatureIsRefused() throws Exception {
        CheckpointMemory memory = new CheckpointMemory(tmp.resolve("memory"));
        try (Ledger a = open("a.git", "keys"); Ledger other = open("c.git", "keys2")) {
            append(a, "1");
            append(other, "1");
            memory.verify("http://h:1", a.verifierKey(), a.checkpoint().orElseThrow(), proofs(a));
            var key = assertThrows(CheckpointMemory.Rejected.class,
                    () -> memory.verify("http://h:1", other.verifierKey(), other.checkpoint().orElseThrow(), proofs(other)));
            assertTrue(key.getMessage().contains("checkpoint key of http://h:1 changed"), key.getMessage());
            var sig = assertThrows(CheckpointMemory.Rejected.class,
                    () -> memory.verify("http://h:1", a.verifierKey(), other.checkpoint().orElseThrow(), (f, t) -> List.of()));
            assertTrue(sig.getMessage().contains("does not verify"), sig.getMessage());
        }
    }
}

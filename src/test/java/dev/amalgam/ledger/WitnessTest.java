package dev.amalgam.ledger;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The witness cosigns only extensions of what it holds; the ledger compared with it shows roll-backs and forks. */
class WitnessTest {
    @TempDir
    Path tmp;

    private LedgerKeys keys() throws Exception {
        return LedgerKeys.loadOrCreate(tmp.resolve("keys"), "amalgam.test/ledger");
    }

    private Ledger open() throws Exception {
        Ledger l = Ledger.open(tmp.resolve("ledger.git"), keys(), "amalgam.test/ledger");
        l.witnessedBy(Witness.open(tmp.resolve("witness"), "amalgam.test/witness", keys()));
        return l;
    }

    private static void append(Ledger l, int n) throws Exception {
        for (int i = 0; i < n; i++) l.append("test.event", "alice", JsonNodeFactory.instance.objectNode().put("n", i));
    }

    @Test
    void everyAppendIsCosignedAndTheCosignatureVerifies() throws Exception {
        try (Ledger l = open()) {
            append(l, 3);
            Witness w = l.witness().orElseThrow();
            String held = w.latest().orElseThrow();
            assertEquals(3, w.verifyCosigned(held).size());
            assertTrue(held.contains("\u2014 amalgam.test/witness "), held);
            assertEquals(List.of(), l.checkWitness());
            assertTrue(w.verifierKey().startsWith("amalgam.test/witness+"), w.verifierKey());
        }
    }

    @Test
    void aForgedCosignatureIsReported() throws Exception {
        try (Ledger l = open()) {
            append(l, 2);
            Path latest = tmp.resolve("witness").resolve(Witness.LATEST);
            String note = Files.readString(latest);
            String line = note.lines().filter(x -> x.startsWith("\u2014 amalgam.test/witness ")).findFirst().orElseThrow();
            byte[] blob = Base64.getDecoder().decode(line.substring(line.lastIndexOf(' ') + 1));
            blob[blob.length - 1] ^= 1;
            Files.writeString(latest, note.replace(line, line.substring(0, line.lastIndexOf(' ') + 1)
                    + Base64.getEncoder().encodeToString(blob)), StandardCharsets.UTF_8);
            List<String> problems = l.checkWitness();
            assertEquals(1, problems.size(), problems.toString());
            assertTrue(problems.getFirst().contains("no valid cosignature by witness amalgam.test/witness"), problems.getFirst());
        }
    }

    @Test
    void aTruncatedLedgerIsBehindItsWitness() throws Exception {
        try (Ledger l = open()) {
            append(l, 4);
        }
        rollBack(1);
        try (Ledger l = open()) {
            assertEquals(3, l.size());
            List<String> problems = l.checkWitness();
            assertTrue(problems.getFirst().contains("the ledger is behind its witness: the witness cosigned a tree of 4 entries, the ledger holds 3"),
                    problems.toString());
            // and the witness refuses to cosign anything that does not extend the 4 entries it saw
            var e = assertThrows(java.io.IOException.class, () -> append(l, 1));
            assertTrue(e.getMessage().contains("witness"), e.getMessage());
        }
    }

    @Test
    void aForkedLedgerDoesNotMatchTheWitnessRoot() throws Exception {
        try (Ledger l = open()) {
            append(l, 3);
        }
        rollBack(2);
        Path saved = tmp.resolve("latest.saved");
        Files.copy(tmp.resolve("witness").resolve(Witness.LATEST), saved);
        // rewrite history: new entries 1 and 2, then put the witness's view back as it was
        Files.delete(tmp.resolve("witness").resolve(Witness.LATEST));
        try (Ledger l = Ledger.open(tmp.resolve("ledger.git"), keys(), "amalgam.test/ledger")) {
            l.append("test.event", "mallory", JsonNodeFactory.instance.objectNode().put("n", "forged"));
            l.append("test.event", "mallory", JsonNodeFactory.instance.objectNode().put("n", "forged2"));
        }
        Files.copy(saved, tmp.resolve("witness").resolve(Witness.LATEST));
        try (Ledger l = open()) {
            List<String> problems = l.checkWitness();
            assertTrue(problems.getFirst().contains("the ledger forked: its first 3 entries are not the ones the witness cosigned"),
                    problems.toString());
        }
    }

    @Test
    void theWitnessRefusesAWrongOldSizeAndABadProof() throws Exception {
        try (Ledger l = open()) {
            append(l, 2);
            Witness w = l.witness().orElseThrow();
            var wrongSize = assertThrows(Witness.Refused.class, () -> w.add(l.checkpoint().orElseThrow(), 1, List.of()));
            assertEquals(2, wrongSize.knownSize());
            l.witnessedBy(null);
            append(l, 2);
            var badProof = assertThrows(Witness.Refused.class, () -> w.add(l.checkpoint().orElseThrow(), 2, List.of(new byte[32])));
            assertTrue(badProof.getMessage().contains("consistency proof"), badProof.getMessage());
            var unsigned = assertThrows(Witness.Refused.class, () -> w.add("amalgam.test/ledger\n9\nAAAA\n\n", 2, List.of()));
            assertTrue(unsigned.getMessage().contains("log signature"), unsigned.getMessage());
        }
    }

    private void rollBack(int n) throws Exception {
        try (Repository r = new FileRepositoryBuilder().setGitDir(tmp.resolve("ledger.git").toFile()).setBare().build();
             RevWalk walk = new RevWalk(r)) {
            var c = walk.parseCommit(r.resolve(Ledger.REF));
            for (int i = 0; i < n; i++) c = walk.parseCommit(c.getParent(0));
            RefUpdate u = r.updateRef(Ledger.REF);
            u.setNewObjectId(c);
            u.setForceUpdate(true);
            u.update(walk);
        }
    }
}

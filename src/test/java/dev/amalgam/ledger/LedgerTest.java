package dev.amalgam.ledger;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.eclipse.jgit.dircache.DirCache;
import org.eclipse.jgit.dircache.DirCacheEditor;
import org.eclipse.jgit.dircache.DirCacheEntry;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LedgerTest {
    @TempDir
    Path tmp;

    private Ledger open() throws Exception {
        return Ledger.open(tmp.resolve("ledger.git"), LedgerKeys.loadOrCreate(tmp.resolve("keys"), "amalgam.test"), "amalgam.test/ledger");
    }

    private static com.fasterxml.jackson.databind.node.ObjectNode payload(String k, String v) {
        return JsonNodeFactory.instance.objectNode().put(k, v);
    }

    @Test
    void appendsChainAndVerify() throws Exception {
        try (Ledger l = open()) {
            for (int i = 0; i < 5; i++) {
                Ledger.Receipt r = l.append("model.registered", "alice", payload("digest", "sha256:" + i));
                assertEquals(i, r.seq());
            }
            assertEquals(List.of(), l.verify());
            assertEquals(5, l.size());
            assertEquals(Ledger.ZERO, l.entry(0).orElseThrow().get("prev").asText());
            assertEquals(Ledger.sha256Hex(l.entryBytes(0).orElseThrow()), l.entry(1).orElseThrow().get("prev").asText());
            // the checkpoint verifies and its root proves every entry's inclusion
            var keys = LedgerKeys.loadOrCreate(tmp.resolve("keys"), "amalgam.test");
            Checkpoint cp = Checkpoint.verify(l.checkpoint().orElseThrow(), "amalgam.test", keys.publicKey(), keys.publicKey32());
            assertEquals(5, cp.size());
            List<byte[]> proof = new ArrayList<>();
            l.inclusionProof(3, 5).lines().skip(2).takeWhile(x -> !x.isEmpty()).forEach(s -> proof.add(Base64.getDecoder().decode(s)));
            assertTrue(MerkleTree.verifyInclusion(3, 5, MerkleTree.leafHash(l.entryBytes(3).orElseThrow()), proof, cp.root()));
            // the proof carries the signed checkpoint of the tree it proves against, here size 4
            String old = l.inclusionProof(1, 4);
            Checkpoint at4 = Checkpoint.verify(old.substring(old.indexOf("\n\n") + 2), "amalgam.test", keys.publicKey(), keys.publicKey32());
            assertEquals(4, at4.size());
            List<byte[]> cons = l.consistencyProof(2, 5).stream().map(s -> Base64.getDecoder().decode(s)).toList();
            assertTrue(MerkleTree.verifyConsistency(2, 5, l.root(2), cp.root(), cons));
        }
        try (Ledger again = open()) {
            assertEquals(5, again.size(), "reopening reads the history back");
            assertEquals(5, again.append("key.rotated", "admin", payload("k", "v")).seq());
        }
    }

    @Test
    void plainGitReadsTheLedger() throws Exception {
        try (Ledger l = open()) {
            l.append("model.registered", "alice", payload("a", "b"));
            l.append("merge.completed", "bob", payload("c", "d"));
        }
        Process p = new ProcessBuilder("git", "--git-dir", tmp.resolve("ledger.git").toString(), "log", "--format=%s", "main")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertEquals(List.of("merge.completed #1", "model.registered #0"), out.lines().toList());
        Process show = new ProcessBuilder("git", "--git-dir", tmp.resolve("ledger.git").toString(), "show",
                "main:" + Ledger.path(1)).redirectErrorStream(true).start();
        String entry = new String(show.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(entry.startsWith("{\"actor\":\"bob\",\"payload\":{\"c\":\"d\"},\"prev\":\""), entry);
        assertEquals(0, new ProcessBuilder("git", "--git-dir", tmp.resolve("ledger.git").toString(), "fsck", "--strict")
                .start().waitFor());
    }

    /** Every commit is SSH-signed, and plain git agrees (git verify-commit with the allowed_signers file). */
    @Test
    void plainGitVerifiesEveryCommitSignature() throws Exception {
        Path keys = tmp.resolve("keys");
        try (Ledger l = Ledger.open(tmp.resolve("ledger.git"), LedgerKeys.loadOrCreate(keys, "amalgam.test"),
                CommitSigning.loadOrCreate(keys), "amalgam.test/ledger")) {
            for (int i = 0; i < 3; i++) l.append("model.registered", "alice", payload("n", Integer.toString(i)));
        }
        Process list = new ProcessBuilder("git", "--git-dir", tmp.resolve("ledger.git").toString(), "rev-list", "main").start();
        List<String> commits = new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        assertEquals(3, commits.size());
        for (String c : commits) {
            Process v = new ProcessBuilder("git", "--git-dir", tmp.resolve("ledger.git").toString(),
                    "-c", "gpg.format=ssh", "-c", "gpg.ssh.allowedSignersFile=" + keys.resolve(CommitSigning.ALLOWED_SIGNERS),
                    "verify-commit", c).redirectErrorStream(true).start();
            String out = new String(v.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, v.waitFor(), c + ": " + out);
            assertTrue(out.contains("Good \"git\" signature for " + CommitSigning.PRINCIPAL), out);
        }
        try (Ledger l = Ledger.open(tmp.resolve("ledger.git"), LedgerKeys.loadOrCreate(keys, "amalgam.test"),
                CommitSigning.loadOrCreate(keys), "amalgam.test/ledger")) {
            assertEquals(List.of(), l.verify());
        }
        // a commit added without the key is reported
        rewrite("checkpoint", "x\n");
        try (Ledger l = Ledger.open(tmp.resolve("ledger.git"), LedgerKeys.loadOrCreate(keys, "amalgam.test"),
                CommitSigning.loadOrCreate(keys), "amalgam.test/ledger")) {
            assertTrue(l.verify().stream().anyMatch(p -> p.contains("not signed")), l.verify().toString());
        }
    }

    @Test
    void oneWriterAtATimeAndReplicationToAMirror() throws Exception {
        Path mirror = tmp.resolve("mirror.git");
        org.eclipse.jgit.api.Git.init().setBare(true).setGitDir(mirror.toFile()).call().close();
        try (Ledger l = open()) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, this::open);
            assertTrue(e.getMessage().contains("one writer at a time"), e.getMessage());
            l.replicateTo(mirror.toUri().toString());
            l.append("model.registered", "alice", payload("a", "1"));
            l.append("model.registered", "alice", payload("a", "2"));
            try (Repository m = new FileRepositoryBuilder().setGitDir(mirror.toFile()).build()) {
                assertEquals(l.head().orElseThrow(), m.resolve(Ledger.REF).name(), "the mirror has every commit");
            }
            // a mirror keeps its last checkpoint (size 1) and later checks the ledger only grew
            List<byte[]> cons = l.consistencyProof(1, 2).stream().map(s -> Base64.getDecoder().decode(s)).toList();
            assertTrue(MerkleTree.verifyConsistency(1, 2, l.root(1), l.root(2), cons));
        }
    }

    @Test
    void concurrentAppendsGetAGapFreeSequence() throws Exception {
        try (Ledger l = open()) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<Ledger.Receipt>> fs = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                int n = i;
                fs.add(pool.submit(() -> l.append("policy.decided", "t" + n, payload("n", Integer.toString(n)))));
            }
            List<Long> seqs = new ArrayList<>();
            for (var f : fs) seqs.add(f.get().seq());
            pool.shutdown();
            seqs.sort(Long::compare);
            for (int i = 0; i < 40; i++) assertEquals(i, seqs.get(i));
            assertEquals(List.of(), l.verify());
        }
    }

    @Test
    void rewrittenEntryAndForgedCheckpointAreDetected() throws Exception {
        try (Ledger l = open()) {
            for (int i = 0; i < 4; i++) l.append("model.registered", "alice", payload("n", Integer.toString(i)));
        }
        // an attacker with write access to the repository rewrites entry 1 in a new commit
        rewrite(Ledger.path(1), "{\"actor\":\"mallory\",\"payload\":{},\"prev\":\"" + Ledger.ZERO + "\",\"seq\":1,\"timestamp\":\"x\",\"type\":\"model.registered\"}");
        try (Ledger l = open()) {
            List<String> problems = l.verify();
            assertTrue(problems.stream().anyMatch(p -> p.contains("hash chain broken")), problems.toString());
            assertTrue(problems.stream().anyMatch(p -> p.contains("does not match the entries")), problems.toString());
        }
        rewrite("checkpoint", "amalgam.test/ledger\n5\nAAAA\n\n\u2014 amalgam.test AAAAAAA=\n");
        try (Ledger l = open()) {
            assertTrue(l.verify().stream().anyMatch(p -> p.contains("does not verify")), l.verify().toString());
        }
    }

    private void rewrite(String path, String content) throws Exception {
        try (Repository repo = new FileRepositoryBuilder().setGitDir(tmp.resolve("ledger.git").toFile()).build();
             ObjectInserter ins = repo.newObjectInserter(); RevWalk walk = new RevWalk(repo)) {
            ObjectId head = repo.resolve(Ledger.REF);
            DirCache dc = DirCache.read(repo.newObjectReader(), walk.parseCommit(head).getTree());
            ObjectId blob = ins.insert(Constants.OBJ_BLOB, content.getBytes(StandardCharsets.UTF_8));
            DirCacheEditor ed = dc.editor();
            ed.add(new DirCacheEditor.PathEdit(path) {
                @Override
                public void apply(DirCacheEntry ent) {
                    ent.setFileMode(FileMode.REGULAR_FILE);
                    ent.setObjectId(blob);
                }
            });
            ed.finish();
            CommitBuilder cb = new CommitBuilder();
            cb.setTreeId(dc.writeTree(ins));
            cb.setParentId(head);
            cb.setAuthor(new PersonIdent("mallory", "m@x"));
            cb.setCommitter(new PersonIdent("mallory", "m@x"));
            cb.setMessage("tamper");
            ObjectId c = ins.insert(cb);
            ins.flush();
            RefUpdate ru = repo.updateRef(Ledger.REF);
            ru.setNewObjectId(c);
            ru.setForceUpdate(true);
            ru.update();
        }
    }
}

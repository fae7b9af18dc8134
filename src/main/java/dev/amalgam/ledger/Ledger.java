package dev.amalgam.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.ledger.event.EventCodec;
import dev.amalgam.ledger.event.LedgerEntry;
import dev.amalgam.ledger.event.LedgerEvent;
import dev.amalgam.ledger.event.LedgerFormatException;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.dircache.DirCache;
import org.eclipse.jgit.dircache.DirCacheEditor;
import org.eclipse.jgit.dircache.DirCacheEntry;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.RemoteRefUpdate;
import org.eclipse.jgit.treewalk.TreeWalk;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The append-only ledger: a bare Git repository with one commit per entry on
 * {@code refs/heads/main}. Each entry is canonical JSON at {@code entries/AAA/BBB/<seq>.json}
 * (fan-out, so a commit never rewrites one huge folder) carrying the previous entry's hash; each
 * commit also holds {@code checkpoint}, a signed note over the RFC 6962 Merkle root of all entries.
 * One writer at a time; readers see whole commits only.
 */
public final class Ledger implements AutoCloseable {
    public static final String REF = "refs/heads/main";
    static final String ZERO = "0".repeat(64);

    private final Repository repo;
    private final LedgerKeys keys;
    private final CommitSigning signing;
    private final String origin;
    private final List<byte[]> leaves = new ArrayList<>();
    private final List<String> loadProblems = new ArrayList<>();
    private final FileChannel lockChannel;
    private final FileLock lock;
    private String remote;
    private Witness witness;
    private String lastHash = ZERO;

    /** What an append returns. */
    public record Receipt(long seq, String entryHash, String commit, String checkpoint) {
    }

    /** Open (creating the bare repository if needed) and load the entries' hashes. */
    public static Ledger open(Path gitDir, LedgerKeys keys, String origin) throws IOException {
        return open(gitDir, keys, null, origin);
    }

    /** With {@code signing}, every commit is SSH-signed (verifiable with {@code git verify-commit}). */
    public static Ledger open(Path gitDir, LedgerKeys keys, CommitSigning signing, String origin) throws IOException {
        Repository r = new FileRepositoryBuilder().setGitDir(gitDir.toFile()).setBare().build();
        if (!Files.exists(gitDir.resolve("HEAD"))) {
            r.create(true);
            RefUpdate head = r.getRefDatabase().newUpdate(Constants.HEAD, false);
            head.link(REF);
        }
        FileChannel ch = FileChannel.open(gitDir.resolve("amalgam-writer.lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            ch.close();
            r.close();
            throw new IOException("the ledger " + gitDir + " is open for writing in another process (one writer at a time)");
        }
        Ledger l = new Ledger(r, keys, signing, origin, ch, lock);
        l.load();
        return l;
    }

    private Ledger(Repository repo, LedgerKeys keys, CommitSigning signing, String origin,
                   FileChannel lockChannel, FileLock lock) {
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.repo = repo;
        this.keys = keys;
        this.signing = signing;
        this.origin = origin;
    }

    private void load() throws IOException {
        for (long seq = 0; ; seq++) {
            Optional<byte[]> e = entryBytes(seq);
            if (e.isEmpty()) break;
            JsonNode n = CanonicalJson.JSON.readTree(e.get());
            if (n.path("seq").asLong(-1) != seq || !n.path("prev").asText().equals(lastHash)) {
                loadProblems.add("entry " + seq + " does not follow entry " + (seq - 1) + " (its seq or prev hash is wrong: rewritten or reordered)");
            }
            leaves.add(MerkleTree.leafHash(e.get()));
            lastHash = sha256Hex(e.get());
        }
    }

    /** What opening found wrong with the hash chain (the full check is {@link #verify()}). */
    public synchronized List<String> loadProblems() {
        return List.copyOf(loadProblems);
    }

    public synchronized long size() {
        return leaves.size();
    }

    /** Commit id of the tip of {@code main}, empty before the first entry. */
    public Optional<String> head() throws IOException {
        ObjectId id = repo.resolve(REF);
        return Optional.ofNullable(id).map(ObjectId::name);
    }

    /** Appends a typed event; returns its receipt. Safe for concurrent callers. */
    public Receipt append(String actor, LedgerEvent event) throws IOException {
        return append(EventCodec.typeName(event), actor, EventCodec.payload(event));
    }

    /**
     * Appends an entry of any type and payload: the storage layer under {@link #append(String, LedgerEvent)},
     * which the registry uses; tests of the log itself write arbitrary entries with it.
     */
    public synchronized Receipt append(String type, String actor, JsonNode payload) throws IOException {
        long seq = leaves.size();
        ObjectNode e = JsonNodeFactory.instance.objectNode();
        e.put("seq", seq);
        e.put("type", type);
        e.put("timestamp", Instant.now().toString());
        e.put("actor", actor);
        e.set("payload", payload == null ? JsonNodeFactory.instance.objectNode() : payload);
        e.put("prev", lastHash);
        byte[] bytes = CanonicalJson.bytes(e);
        List<byte[]> next = new ArrayList<>(leaves);
        next.add(MerkleTree.leafHash(bytes));
        Checkpoint cp = new Checkpoint(origin, next.size(), MerkleTree.root(next));
        String note = cp.sign(keys.name(), keys.privateKey(), keys.publicKey32());
        ObjectId commit;
        try (ObjectInserter ins = repo.newObjectInserter(); ObjectReader reader = repo.newObjectReader();
             RevWalk walk = new RevWalk(reader)) {
            ObjectId parent = repo.resolve(REF);
            DirCache dc = parent == null ? DirCache.newInCore() : DirCache.read(reader, walk.parseCommit(parent).getTree());
            ObjectId entryBlob = ins.insert(Constants.OBJ_BLOB, bytes);
            ObjectId cpBlob = ins.insert(Constants.OBJ_BLOB, note.getBytes(StandardCharsets.UTF_8));
            DirCacheEditor ed = dc.editor();
            ed.add(put(path(seq), entryBlob));
            ed.add(put("checkpoint", cpBlob));
            ed.finish();
            ObjectId tree = dc.writeTree(ins);
            CommitBuilder cb = new CommitBuilder();
            PersonIdent who = new PersonIdent("amalgam ledger", "ledger@amalgam.invalid");
            cb.setAuthor(new PersonIdent(actor, "principal@amalgam.invalid"));
            cb.setCommitter(who);
            cb.setTreeId(tree);
            if (parent != null) cb.setParentId(parent);
            cb.setMessage(type + " #" + seq + "\n\nentry sha256:" + sha256Hex(bytes) + "\n");
            if (signing != null) signing.sign(repo, cb, who);
            commit = ins.insert(cb);
            ins.flush();
            RefUpdate ru = repo.updateRef(REF);
            ru.setNewObjectId(commit);
            ru.setExpectedOldObjectId(parent == null ? ObjectId.zeroId() : parent);
            RefUpdate.Result res = ru.update(walk);
            if (res != RefUpdate.Result.NEW && res != RefUpdate.Result.FAST_FORWARD) {
                throw new IOException("the ledger moved under us (" + res + "); refusing to overwrite history");
            }
        }
        leaves.add(next.getLast());
        lastHash = sha256Hex(bytes);
        if (remote != null) push();
        if (witness != null) note = cosign(note);
        return new Receipt(seq, lastHash, commit.name(), note);
    }

    /**
     * Replicates every append to a Git remote (any URL JGit can push to). A push never rewrites
     * the remote's history: a non-fast-forward is refused and reported.
     */
    public synchronized void replicateTo(String remoteUrl) {
        this.remote = remoteUrl == null || remoteUrl.isBlank() ? null : remoteUrl;
    }

    /**
     * Has every new checkpoint cosigned by {@code w}, and checks the ledger against the checkpoint the
     * witness already holds (see {@link #checkWitness()}).
     */
    public synchronized void witnessedBy(Witness w) {
        this.witness = w;
    }

    public synchronized Optional<Witness> witness() {
        return Optional.ofNullable(witness);
    }

    private String cosign(String note) throws IOException {
        long have = witness.size();
        if (have > leaves.size()) throw new IOException("the witness holds a larger tree (" + have + ") than the ledger (" + leaves.size() + ")");
        List<byte[]> proof = have == 0 ? List.of() : MerkleTree.consistencyProof(leaves, (int) have, leaves.size());
        try {
            return witness.add(note, have, proof);
        } catch (Witness.Refused e) {
            throw new IOException("the witness refused to cosign checkpoint " + leaves.size() + ": " + e.getMessage());
        }
    }

    /**
     * Compares the ledger with its witness's latest cosigned checkpoint: its cosignature must verify, its
     * tree must not be larger than the ledger (a truncation or roll-back) and its root must be the
     * ledger's root at that size (a fork). Empty when they agree or there is no witness.
     */
    public synchronized List<String> checkWitness() throws IOException {
        List<String> problems = new ArrayList<>();
        if (witness == null) return problems;
        Optional<String> held = witness.latest();
        if (held.isEmpty()) {
            if (!leaves.isEmpty()) problems.add("the witness " + witness.name() + " holds no checkpoint though the ledger has " + leaves.size() + " entries");
            return problems;
        }
        Checkpoint cp;
        try {
            cp = witness.verifyCosigned(held.get());
        } catch (IllegalArgumentException e) {
            problems.add("the witness's checkpoint does not verify: " + e.getMessage());
            return problems;
        }
        if (cp.size() > leaves.size()) {
            problems.add("the ledger is behind its witness: the witness cosigned a tree of " + cp.size() + " entries, the ledger holds "
                    + leaves.size() + " (truncated or rolled back)");
        } else if (!Arrays.equals(cp.root(), MerkleTree.root(leaves.subList(0, (int) cp.size())))) {
            problems.add("the ledger forked: its first " + cp.size() + " entries are not the ones the witness cosigned");
        }
        return problems;
    }

    private void push() throws IOException {
        try (Git git = Git.wrap(repo)) {
            for (var result : git.push().setRemote(remote).setRefSpecs(new RefSpec(REF + ":" + REF)).call()) {
                for (var u : result.getRemoteUpdates()) {
                    if (u.getStatus() != RemoteRefUpdate.Status.OK
                            && u.getStatus() != RemoteRefUpdate.Status.UP_TO_DATE) {
                        throw new IOException("replicating the ledger to " + remote + " failed: " + u.getStatus()
                                + (u.getMessage() == null ? "" : " (" + u.getMessage() + ")"));
                    }
                }
            }
        } catch (GitAPIException e) {
            throw new IOException("replicating the ledger to " + remote + " failed: " + e.getMessage(), e);
        }
    }

    /** The canonical bytes of entry {@code seq} on the current head. */
    public Optional<byte[]> entryBytes(long seq) throws IOException {
        return file(repo.resolve(REF), path(seq));
    }

    /** SHA-256 (hex) of entry {@code seq}'s bytes, as receipts and database rows record it. */
    public Optional<String> entryHash(long seq) throws IOException {
        return entryBytes(seq).map(Ledger::sha256Hex);
    }

    public Optional<JsonNode> entry(long seq) throws IOException {
        Optional<byte[]> b = entryBytes(seq);
        return b.isEmpty() ? Optional.empty() : Optional.of(CanonicalJson.JSON.readTree(b.get()));
    }

    /** Entry {@code seq} decoded into its typed event; a {@link LedgerFormatException} if it is not one. */
    public Optional<LedgerEntry> event(long seq) throws IOException {
        Optional<JsonNode> n = entry(seq);
        return n.isEmpty() ? Optional.empty() : Optional.of(EventCodec.decodeEntry(n.get()));
    }

    /** The C2SP verifier key of the checkpoint signatures ({@code name+keyhash+base64(0x01 || key)}). */
    public String verifierKey() {
        return CheckpointMemory.verifierKey(keys.name(), keys.publicKey32());
    }

    /** The latest signed checkpoint note. */
    public Optional<String> checkpoint() throws IOException {
        return file(repo.resolve(REF), "checkpoint").map(b -> new String(b, StandardCharsets.UTF_8));
    }

    /**
     * A C2SP tlog-proof of entry {@code seq}: header, {@code index}, the inclusion proof hashes, a
     * blank line, then the signed checkpoint of the tree of {@code size} entries it proves against.
     */
    public synchronized String inclusionProof(long seq, long size) throws IOException {
        if (size < 1 || size > leaves.size() || seq < 0 || seq >= size) {
            throw new IllegalArgumentException("need 0 <= entry < size <= " + leaves.size());
        }
        StringBuilder b = new StringBuilder("c2sp.org/tlog-proof@v1\nindex " + seq + "\n");
        for (byte[] h : MerkleTree.inclusionProof(leaves, (int) seq, (int) size)) b.append(Base64.getEncoder().encodeToString(h)).append('\n');
        return b.append('\n').append(checkpointAt(size)).toString();
    }

    /** The signed checkpoint written with the commit that made the tree {@code size} entries long. */
    public synchronized String checkpointAt(long size) throws IOException {
        try (RevWalk walk = new RevWalk(repo)) {
            RevCommit c = walk.parseCommit(repo.resolve(REF));
            for (long i = leaves.size(); i > size; i--) c = walk.parseCommit(c.getParent(0));
            return new String(file(c, "checkpoint").orElseThrow(() -> new IOException("commit without a checkpoint")),
                    StandardCharsets.UTF_8);
        }
    }

    /** Consistency proof between two tree sizes, one base64 hash a line. */
    public synchronized List<String> consistencyProof(long from, long to) {
        if (from < 1 || to < from || to > leaves.size()) throw new IllegalArgumentException("need 1 <= from <= to <= " + leaves.size());
        return MerkleTree.consistencyProof(leaves, (int) from, (int) to).stream().map(h -> Base64.getEncoder().encodeToString(h)).toList();
    }

    public synchronized byte[] root(long size) {
        return MerkleTree.root(leaves.subList(0, (int) size));
    }

    /** Re-checks everything: hash chain, sequence, Merkle roots against every commit's signed checkpoint. */
    public synchronized List<String> verify() throws IOException {
        List<String> problems = new ArrayList<>();
        ObjectId head = repo.resolve(REF);
        if (head == null) return problems;
        List<byte[]> hashes = new ArrayList<>();
        String prev = ZERO;
        for (long seq = 0; ; seq++) {
            Optional<byte[]> e = file(head, path(seq));
            if (e.isEmpty()) break;
            JsonNode n = CanonicalJson.JSON.readTree(e.get());
            if (n.path("seq").asLong(-1) != seq) problems.add("entry " + seq + ": its seq field says " + n.path("seq"));
            if (!n.path("prev").asText().equals(prev)) problems.add("entry " + seq + ": hash chain broken (prev does not match entry " + (seq - 1) + ")");
            if (!Arrays.equals(CanonicalJson.bytes(n), e.get())) problems.add("entry " + seq + ": not in canonical form");
            prev = sha256Hex(e.get());
            hashes.add(MerkleTree.leafHash(e.get()));
        }
        try (RevWalk walk = new RevWalk(repo)) {
            RevCommit c = walk.parseCommit(head);
            long commits = 0;
            while (c != null) {
                commits++;
                if (signing != null) {
                    String why = signing.check(repo, c);
                    if (why != null) problems.add("commit " + c.name() + ": " + why);
                }
                Optional<byte[]> note = file(c, "checkpoint");
                if (note.isEmpty()) {
                    problems.add("commit " + c.name() + ": no checkpoint");
                } else {
                    try {
                        Checkpoint cp = Checkpoint.verify(new String(note.get(), StandardCharsets.UTF_8), keys.name(),
                                keys.publicKey(), keys.publicKey32());
                        if (cp.size() > hashes.size()) {
                            problems.add("commit " + c.name() + ": checkpoint of size " + cp.size() + " but only " + hashes.size() + " entries exist");
                        } else if (!Arrays.equals(cp.root(), MerkleTree.root(hashes.subList(0, (int) cp.size())))) {
                            problems.add("commit " + c.name() + ": checkpoint root for size " + cp.size()
                                    + " does not match the entries (history rewritten?)");
                        }
                    } catch (IllegalArgumentException ex) {
                        problems.add("commit " + c.name() + ": " + ex.getMessage());
                    }
                }
                c = c.getParentCount() == 0 ? null : walk.parseCommit(c.getParent(0));
            }
            if (commits != hashes.size()) problems.add("ledger has " + hashes.size() + " entries but " + commits + " commits");
        }
        return problems;
    }

    private Optional<byte[]> file(ObjectId commitId, String path) throws IOException {
        if (commitId == null) return Optional.empty();
        try (RevWalk walk = new RevWalk(repo)) {
            RevCommit c = walk.parseCommit(commitId);
            try (TreeWalk tw = TreeWalk.forPath(repo, path, c.getTree())) {
                if (tw == null) return Optional.empty();
                return Optional.of(repo.open(tw.getObjectId(0)).getBytes());
            }
        }
    }

    static String path(long seq) {
        return String.format("entries/%03d/%03d/%012d.json", (seq / 1_000_000) % 1000, (seq / 1000) % 1000, seq);
    }

    private static DirCacheEditor.PathEdit put(String path, ObjectId blob) {
        return new DirCacheEditor.PathEdit(path) {
            @Override
            public void apply(DirCacheEntry ent) {
                ent.setFileMode(FileMode.REGULAR_FILE);
                ent.setObjectId(blob);
            }
        };
    }

    static String sha256Hex(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        repo.close();
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            // closing: nothing left to protect
        }
    }
}

package dev.amalgam.registry;

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
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.treewalk.TreeWalk;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * What an attacker with write access to {@code ledger.git} does, with plain JGit: move {@code main}
 * (truncate, roll back, restore), or commit a changed tree on top (rewrite, reorder, delete, forge).
 */
final class LedgerSurgery implements AutoCloseable {
    static final String REF = "refs/heads/main";
    private final Repository repo;

    LedgerSurgery(Path gitDir) throws IOException {
        repo = new FileRepositoryBuilder().setGitDir(gitDir.toFile()).setBare().build();
    }

    String head() throws IOException {
        return repo.resolve(REF).name();
    }

    /** Points main at a commit (a truncation or roll-back, or putting things back). */
    void moveTo(String commit) throws IOException {
        try (RevWalk walk = new RevWalk(repo)) {
            RefUpdate u = repo.updateRef(REF);
            u.setNewObjectId(ObjectId.fromString(commit));
            u.setForceUpdate(true);
            u.update(walk);
        }
    }

    /** The commit {@code n} before the head. */
    String back(int n) throws IOException {
        try (RevWalk walk = new RevWalk(repo)) {
            RevCommit c = walk.parseCommit(repo.resolve(REF));
            for (int i = 0; i < n; i++) c = walk.parseCommit(c.getParent(0));
            return c.name();
        }
    }

    byte[] read(String path) throws IOException {
        try (RevWalk walk = new RevWalk(repo); TreeWalk tw = TreeWalk.forPath(repo, path, walk.parseCommit(repo.resolve(REF)).getTree())) {
            return repo.open(tw.getObjectId(0)).getBytes();
        }
    }

    /** Commits a tree with these paths replaced ({@code null} content deletes the path) on top of main. */
    void commit(Map<String, byte[]> changes) throws IOException {
        try (ObjectInserter ins = repo.newObjectInserter(); RevWalk walk = new RevWalk(repo)) {
            RevCommit parent = walk.parseCommit(repo.resolve(REF));
            DirCache dc = DirCache.read(repo.newObjectReader(), parent.getTree());
            DirCacheEditor ed = dc.editor();
            for (var c : changes.entrySet()) {
                if (c.getValue() == null) {
                    ed.add(new DirCacheEditor.DeletePath(c.getKey()));
                } else {
                    ObjectId blob = ins.insert(Constants.OBJ_BLOB, c.getValue());
                    ed.add(new DirCacheEditor.PathEdit(c.getKey()) {
                        @Override
                        public void apply(DirCacheEntry ent) {
                            ent.setFileMode(FileMode.REGULAR_FILE);
                            ent.setObjectId(blob);
                        }
                    });
                }
            }
            ed.finish();
            CommitBuilder cb = new CommitBuilder();
            PersonIdent who = new PersonIdent("mallory", "mallory@example.invalid");
            cb.setAuthor(who);
            cb.setCommitter(who);
            cb.setTreeId(dc.writeTree(ins));
            cb.setParentId(parent);
            cb.setMessage("tampered\n");
            ObjectId id = ins.insert(cb);
            ins.flush();
            moveTo(id.name());
        }
    }

    static String path(long seq) {
        return String.format("entries/%03d/%03d/%012d.json", (seq / 1_000_000) % 1000, (seq / 1000) % 1000, seq);
    }

    @Override
    public void close() {
        repo.close();
    }
}

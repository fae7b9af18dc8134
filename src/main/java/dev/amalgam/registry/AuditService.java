package dev.amalgam.registry;

import dev.amalgam.ledger.event.LedgerEntry;
import dev.amalgam.ledger.event.LedgerEvent;
import dev.amalgam.ledger.event.LedgerFormatException;
import dev.amalgam.ledger.event.MergeCancelled;
import dev.amalgam.ledger.event.MergeCompleted;
import dev.amalgam.ledger.event.MergeFailed;
import dev.amalgam.ledger.event.MergeSubmitted;
import dev.amalgam.ledger.event.MergeReviewed;
import dev.amalgam.ledger.event.MergeReproduced;
import dev.amalgam.ledger.event.ModelReviewed;
import dev.amalgam.ledger.event.ModelRegistered;
import dev.amalgam.ledger.event.ModelEvaluated;
import dev.amalgam.ledger.event.ModelReleased;
import dev.amalgam.ledger.event.PolicyDecided;
import dev.amalgam.ledger.event.PrincipalCreated;
import dev.amalgam.ledger.event.PrincipalRevoked;
import dev.amalgam.ledger.event.PrincipalTokenReset;
import dev.amalgam.registry.entity.ApiPrincipal;
import dev.amalgam.registry.entity.Decision;
import dev.amalgam.registry.entity.MergeJob;
import dev.amalgam.registry.entity.Model;
import dev.amalgam.registry.entity.ModelFile;
import dev.amalgam.storage.BlobStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The audit: the ledger's hash chain and signed checkpoints, every stored blob against its digest,
 * every model's registry signature, and the database against the ledger (every model row points
 * at a ledger entry that names it).
 */
@ApplicationScoped
public class AuditService {
    @Inject
    Blobs blobs;

    @Inject
    Session session;

    @Inject
    LedgerService ledger;

    @Inject
    SigningService signing;

    @Inject
    LedgerGuard guard;

    @Inject
    RegistryConfig config;

    public record AuditReport(boolean clean, long ledgerEntries, int models, List<String> problems) {
    }

    @Transactional
    public AuditReport audit() throws IOException {
        List<String> problems = new ArrayList<>(ledger.ledger().verify().stream().map(p -> "ledger: " + p).toList());
        problems.addAll(guard.check(true).stream().map(p -> "ledger: " + p).toList());
        List<Model> models = session.createSelectionQuery("from Model order by id", Model.class).getResultList();
        for (Model m : models) {
            Map<String, String> files = new LinkedHashMap<>();
            for (ModelFile f : session.createSelectionQuery("from ModelFile where modelId = :id", ModelFile.class)
                    .setParameter("id", m.id).getResultList()) {
                files.put(f.path, f.blobDigest);
            }
            var integrity = signing.integrity(m.signatureDigest, files);
            if (!integrity.intact()) problems.add("model " + m.name + "@" + m.version + ": " + integrity.problem());
            if (m.ledgerSeq == null) {
                problems.add("model " + m.name + "@" + m.version + ": no ledger entry");
            } else {
                var entry = ledger.ledger().event(m.ledgerSeq);
                if (entry.isEmpty() || !m.rootDigest.equals(modelOf(entry.get().event()))) {
                    problems.add("model " + m.name + "@" + m.version + ": ledger entry " + m.ledgerSeq + " does not record it");
                }
            }
        }
        problems.addAll(blobProblems(models));
        // every entry that made a row must still have it, saying what the entry says
        long size = ledger.ledger().size();
        for (long seq = 0; seq < size; seq++) {
            LedgerEntry e;
            try {
                e = ledger.ledger().event(seq).orElseThrow();
            } catch (LedgerFormatException ex) {
                problems.add("ledger entry " + seq + ": " + ex.getMessage());
                continue;
            }
            if (ledger.inFlight(seq)) continue; // appended by a transaction that has not committed yet
            problems.addAll(rowProblems(e));
        }
        return new AuditReport(problems.isEmpty(), size, models.size(), problems);
    }

    /** What the database holds for one entry, compared with the entry. */
    private List<String> rowProblems(LedgerEntry e) {
        List<String> out = new ArrayList<>();
        String at = "ledger entry " + e.seq() + " (" + e.type() + ")";
        switch (e.event()) {
            case ModelRegistered r -> {
                Model m = session.createSelectionQuery("from Model where rootDigest = :d", Model.class)
                        .setParameter("d", r.rootDigest()).uniqueResult();
                if (m == null) {
                    out.add(at + ": model " + r.rootDigest() + " is missing from the database");
                    break;
                }
                String ref = m.name + "@" + m.version;
                differs(out, at, ref, "name@version", r.model(), ref);
                differs(out, at, ref, "license", r.license(), m.license);
                differs(out, at, ref, "origin", r.origin(), m.origin);
                differs(out, at, ref, "scan verdict", r.scan(), m.scanVerdict);
                differs(out, at, ref, "scan report", r.scanReport(), m.scanReportDigest);
                differs(out, at, ref, "finite weights", r.finiteWeights(), m.finiteWeights);
                differs(out, at, ref, "publisher signature", r.publisherSignature(), m.publisherSignature);
                differs(out, at, ref, "registry signature", r.registrySignature(), "sha256:" + m.signatureDigest);
                Map<String, String> files = new TreeMap<>();
                for (ModelFile f : session.createSelectionQuery("from ModelFile where modelId = :id", ModelFile.class)
                        .setParameter("id", m.id).getResultList()) {
                    files.put(f.path, f.blobDigest);
                }
                Map<String, String> recorded = new TreeMap<>();
                for (ModelRegistered.File f : r.files()) recorded.put(f.path(), f.sha256());
                if (!r.files().isEmpty() && !recorded.equals(files)) out.add(at + ": the files of " + ref + " in the database are not the ones recorded");
            }
            case MergeCompleted c -> {
                MergeJob j = session.createSelectionQuery("from MergeJob where ledgerSeq = :s", MergeJob.class)
                        .setParameter("s", e.seq()).uniqueResult();
                if (j == null) {
                    out.add(at + ": merge " + c.merge() + " is missing from the database");
                    break;
                }
                String what = "merge " + j.id;
                differs(out, at, what, "recipe", c.recipe(), j.recipe);
                differs(out, at, what, "method", c.method(), j.method);
                differs(out, at, what, "seed", Long.toString(c.seed()), j.seed == null ? null : Long.toString(j.seed));
                differs(out, at, what, "provenance", c.provenance(), j.provenanceDigest == null ? null : "sha256:" + j.provenanceDigest);
                differs(out, at, what, "output", c.output(), digestOf(j.outputModelId));
            }
            case MergeSubmitted s -> {
                // later entries of the job (its end) move the row's reference on: find it by id
                MergeJob j = session.find(MergeJob.class, s.merge());
                if (j == null) {
                    out.add(at + ": merge " + s.merge() + " is missing from the database");
                    break;
                }
                String what = "merge " + j.id;
                differs(out, at, what, "recipe", s.recipe(), j.recipe);
                differs(out, at, what, "method", s.method(), j.method);
                differs(out, at, what, "output name", s.outputName(), j.outputName);
                differs(out, at, what, "output version", s.outputVersion(), j.outputVersion);
                differs(out, at, what, "submitter", e.actor(), j.submittedBy);
            }
            case MergeFailed f -> endProblems(out, e, at, f.merge(), "failed", f.reason());
            case MergeCancelled c -> endProblems(out, e, at, c.merge(), "cancelled", c.reason());
            case MergeReviewed r -> decisionProblems(out, e, at, r.output(), r.decision(), null);
            case ModelReviewed r -> decisionProblems(out, e, at, r.rootDigest(), r.decision(), null);
            case PolicyDecided d -> decisionProblems(out, e, at, d.rootDigest(), d.outcome(), d.environment());
            case ModelReleased d -> decisionProblems(out, e, at, d.rootDigest(), d.outcome(), d.environment());
            case MergeReproduced r -> decisionProblems(out, e, at, r.output(), r.identical() ? "identical" : "different", null);
            case PrincipalCreated c -> principalProblems(out, e, at, c.name(), c.roles(), false);
            case PrincipalRevoked r -> principalProblems(out, e, at, r.name(), null, true);
            case PrincipalTokenReset r -> principalProblems(out, e, at, r.name(), null, false);
            case ModelEvaluated v -> evaluationProblems(out, e, at, v);
        }
        return out;
    }

    /** A failed or cancelled job: its row must still say how it ended, as the entry does. */
    private void endProblems(List<String> out, LedgerEntry e, String at, long merge, String state, String reason) {
        MergeJob j = session.find(MergeJob.class, merge);
        if (j == null) {
            out.add(at + ": merge " + merge + " is missing from the database");
            return;
        }
        String what = "merge " + merge;
        differs(out, at, what, "state", state, j.state);
        differs(out, at, what, "failure reason", reason, j.failureReason);
    }

    private void decisionProblems(List<String> out, LedgerEntry e, String at, String digest, String outcome, String environment) {
        Decision d = session.createSelectionQuery("from Decision where ledgerSeq = :s", Decision.class)
                .setParameter("s", e.seq()).uniqueResult();
        if (d == null) {
            out.add(at + ": its decision is missing from the database");
            return;
        }
        String what = "decision " + d.id;
        differs(out, at, what, "outcome", outcome, d.outcome);
        differs(out, at, what, "actor", e.actor(), d.actor);
        if (environment != null) differs(out, at, what, "environment", environment, d.environment);
        differs(out, at, what, "model", digest, digestOf(d.modelId));
    }

    /** The principal must exist with its roles; when this is its latest entry, revoked exactly when the entry revokes it. */
    private void principalProblems(List<String> out, LedgerEntry e, String at, String name, String roles, boolean revokes) {
        ApiPrincipal p = session.createSelectionQuery("from ApiPrincipal where name = :n", ApiPrincipal.class)
                .setParameter("n", name).uniqueResult();
        if (p == null) {
            out.add(at + ": principal '" + name + "' is missing from the database");
            return;
        }
        if (roles != null) differs(out, at, "principal " + name, "roles", roles, p.roles);
        if (Long.valueOf(e.seq()).equals(p.ledgerSeq) && revokes != (p.revokedAt != null)) {
            out.add(at + ": principal '" + name + "' is " + (p.revokedAt != null ? "revoked" : "active") + " in the database, the ledger says "
                    + (revokes ? "revoked" : "active"));
        }
    }

    private String digestOf(Long modelId) {
        if (modelId == null) return null;
        Model m = session.find(Model.class, modelId);
        return m == null ? null : m.rootDigest;
    }

    private static void differs(List<String> out, String at, String what, String field, String recorded, String stored) {
        if (!Objects.equals(recorded, stored)) {
            out.add(at + ": " + what + " " + field + " in the database is '" + stored + "', the ledger recorded '" + recorded + "'");
        }
    }

    /** The blobs besides model files: scan reports, SLSA provenance, signed decision statements. */
    private List<String> blobProblems(List<Model> models) throws IOException {
        List<String> problems = new ArrayList<>();
        BlobStore store = blobs.store();
        for (Model m : models) {
            check(store, m.scanReportDigest, "model " + m.name + "@" + m.version + ": scan report", problems);
        }
        for (Object[] r : session.createSelectionQuery("select id, provenanceDigest from MergeJob where provenanceDigest is not null order by id",
                Object[].class).getResultList()) {
            check(store, (String) r[1], "merge " + r[0] + ": provenance statement", problems);
        }
        for (Object[] r : session.createSelectionQuery("select id, statementDigest from Decision where statementDigest is not null order by id",
                Object[].class).getResultList()) {
            check(store, (String) r[1], "decision " + r[0] + ": signed statement", problems);
        }
        return problems;
    }

    private static void check(BlobStore blobs, String digest, String what, List<String> problems) throws IOException {
        if (digest == null || digest.isEmpty()) return;
        if (!blobs.exists(digest)) {
            problems.add(what + " blob " + digest + " is missing");
        } else if (!blobs.verify(digest)) {
            problems.add(what + " blob " + digest + " no longer matches its digest (tampered)");
        }
    }

    /** An evaluation entry: its row exists (by ledger sequence) with the same data digest, statement and result. */
    private void evaluationProblems(List<String> out, LedgerEntry e, String at, dev.amalgam.ledger.event.ModelEvaluated v) {
        var row = session.createSelectionQuery("from Evaluation where ledgerSeq = :s", dev.amalgam.registry.entity.Evaluation.class)
                .setParameter("s", e.seq()).uniqueResult();
        if (row == null) {
            out.add(at + ": evaluation " + v.id() + " of " + v.model() + " is missing from the database");
            return;
        }
        String ref = "evaluation " + row.id;
        differs(out, at, ref, "data digest", v.dataDigest(), row.dataDigest);
        differs(out, at, ref, "statement", v.statement(), "sha256:" + row.statementDigest);
        differs(out, at, ref, "result", v.result(), row.result);
    }

    /**
     * The model a model row's ledger entry must record: a registration names it, a merge names its output
     * (a row pointing at a merge entry is the merge's output); decisions record no model row of their own.
     */
    private static String modelOf(LedgerEvent event) {
        return switch (event) {
            case ModelRegistered r -> r.rootDigest();
            case MergeCompleted c -> c.output();
            case MergeSubmitted s -> null;
            case MergeFailed f -> null;
            case MergeCancelled c -> null;
            case MergeReviewed r -> null;
            case ModelReviewed r -> null;
            case PolicyDecided d -> null;
            case ModelReleased d -> null;
            case MergeReproduced r -> null;
            case PrincipalCreated c -> null;
            case PrincipalRevoked r -> null;
            case PrincipalTokenReset r -> null;
            case ModelEvaluated v -> null;
        };
    }
}

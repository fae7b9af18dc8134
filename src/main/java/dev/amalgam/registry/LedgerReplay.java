package dev.amalgam.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.amalgam.registry.entity.Decision;
import dev.amalgam.registry.entity.LineageEdge;
import dev.amalgam.registry.entity.MergeJob;
import dev.amalgam.registry.entity.Model;
import dev.amalgam.registry.entity.ModelFile;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.time.OffsetDateTime;

/**
 * The database is an index of the ledger. On start, entries the database has not seen (a crash
 * between the ledger append and the database commit) are applied; {@link #replay()} rebuilds an
 * empty database from the ledger alone.
 */
@ApplicationScoped
public class LedgerReplay {
    private static final Logger LOG = Logger.getLogger(LedgerReplay.class);

    @Inject
    Session session;

    @Inject
    LedgerService ledger;

    void onStart(@Observes @Priority(3500) StartupEvent ev) throws IOException {
        int n = reconcile();
        if (n > 0) LOG.warnf("Reconciled %d ledger entries the database had not recorded", n);
    }

    /** Applies every entry after the newest one the database records; returns how many. */
    @Transactional
    public int reconcile() throws IOException {
        long known = -1;
        for (String q : new String[] {"select max(ledgerSeq) from Model", "select max(ledgerSeq) from MergeJob",
                "select max(ledgerSeq) from Decision"}) {
            Long v = session.createSelectionQuery(q, Long.class).getSingleResult();
            if (v != null) known = Math.max(known, v);
        }
        int applied = 0;
        for (long seq = known + 1; seq < ledger.ledger().size(); seq++) {
            if (apply(seq, ledger.ledger().entry(seq).orElseThrow())) applied++;
        }
        return applied;
    }

    /** Rebuilds the database from the ledger; refused unless the registry's database holds no models yet. */
    @Transactional
    public int replay() throws IOException {
        Long models = session.createSelectionQuery("select count(*) from Model", Long.class).getSingleResult();
        if (models > 0) {
            throw new RegistryException(RegistryException.Kind.CONFLICT,
                    "replay rebuilds an empty database: this one already holds " + models + " models");
        }
        return reconcile();
    }

    private boolean apply(long seq, JsonNode e) {
        JsonNode p = e.path("payload");
        String actor = e.path("actor").asText();
        OffsetDateTime at = OffsetDateTime.parse(e.path("timestamp").asText());
        switch (e.path("type").asText()) {
            case "model.registered" -> {
                if (model(p.path("rootDigest").asText()) != null) return false;
                String ref = p.path("model").asText();
                Model m = new Model();
                m.name = ref.substring(0, ref.lastIndexOf('@'));
                m.version = ref.substring(ref.lastIndexOf('@') + 1);
                m.rootDigest = p.path("rootDigest").asText();
                m.license = p.path("license").asText();
                m.origin = p.path("origin").asText("source");
                m.status = p.path("status").asText("registered");
                m.scanVerdict = p.path("scan").asText(null);
                m.scanReportDigest = p.path("scanReport").asText(null);
                m.finiteWeights = p.path("finiteWeights").asText(null);
                m.publisherSignature = p.path("publisherSignature").asText("missing");
                m.publisherKey = p.path("publisherKey").asText(null);
                m.signatureDigest = p.path("registrySignature").asText("").replace("sha256:", "");
                m.registeredAt = at;
                m.registeredBy = actor;
                m.ledgerSeq = seq;
                session.persist(m);
                long size = 0;
                for (JsonNode f : p.path("files")) {
                    ModelFile mf = new ModelFile();
                    mf.modelId = m.id;
                    mf.path = f.path("path").asText();
                    mf.blobDigest = f.path("sha256").asText();
                    mf.sizeBytes = f.path("size").asLong();
                    session.persist(mf);
                    size += mf.sizeBytes;
                }
                m.sizeBytes = size;
                m.fileCount = p.path("files").size();
                return true;
            }
            case "merge.completed" -> {
                Model out = model(p.path("output").asText());
                if (out == null) return false;
                // the job the entry names may still be in the database (a crash between the append and
                // the commit): complete that row rather than adding a second job for one merge
                MergeJob j = p.hasNonNull("merge") ? session.find(MergeJob.class, p.path("merge").asLong()) : null;
                boolean existing = j != null && j.ledgerSeq == null;
                if (!existing) j = new MergeJob();
                j.recipe = p.path("recipe").asText();
                j.method = p.path("method").asText();
                j.outputName = p.path("outputName").asText(out.name);
                j.outputVersion = p.path("outputVersion").asText(out.version);
                j.state = "succeeded";
                j.progress = 1.0;
                j.seed = p.path("seed").asLong();
                j.submittedBy = actor;
                if (!existing) j.submittedAt = at;
                j.finishedAt = at;
                j.outputModelId = out.id;
                j.provenanceDigest = p.path("provenance").asText("").replace("sha256:", "");
                j.ledgerSeq = seq;
                if (!existing) session.persist(j);
                for (JsonNode in : p.path("inputs")) {
                    Model parent = model(in.path("rootDigest").asText());
                    if (parent == null) continue;
                    String role = in.path("role").asText("input");
                    if (session.createSelectionQuery("select count(*) from LineageEdge where childId = :c and parentId = :p"
                                    + " and role = :r", Long.class).setParameter("c", out.id).setParameter("p", parent.id)
                            .setParameter("r", role).getSingleResult() > 0) {
                        continue;
                    }
                    LineageEdge le = new LineageEdge();
                    le.childId = out.id;
                    le.parentId = parent.id;
                    le.role = in.path("role").asText("input");
                    le.method = j.method;
                    le.mergeJobId = j.id;
                    session.persist(le);
                }
                return true;
            }
            case "merge.reviewed", "model.reviewed", "policy.decided", "model.released" -> {
                Model m = model(p.path(e.path("type").asText().equals("merge.reviewed") ? "output" : "rootDigest").asText());
                if (m == null) return false;
                Decision d = new Decision();
                d.kind = switch (e.path("type").asText()) {
                    case "merge.reviewed", "model.reviewed" -> "review";
                    case "model.released" -> "release";
                    default -> "gate";
                };
                d.modelId = m.id;
                d.outcome = p.path(d.kind.equals("review") ? "decision" : "outcome").asText();
                d.environment = p.path("environment").asText(null);
                d.actor = actor;
                d.reason = d.kind.equals("review") ? p.path("comment").asText(null) : p.path("rules").toString();
                d.policyDigest = p.path("policyDigest").asText(null);
                d.decidedAt = at;
                d.ledgerSeq = seq;
                if (d.kind.equals("review")) {
                    m.status = d.outcome.equals("approve") ? "approved" : "rejected";
                    MergeJob j = session.createSelectionQuery("from MergeJob where outputModelId = :id", MergeJob.class)
                            .setParameter("id", m.id).setMaxResults(1).uniqueResult();
                    if (j != null) d.mergeJobId = j.id;
                }
                if (d.kind.equals("release")) m.status = "released";
                session.persist(d);
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    private Model model(String digest) {
        return session.createSelectionQuery("from Model where rootDigest = :d", Model.class)
                .setParameter("d", digest).uniqueResult();
    }
}
